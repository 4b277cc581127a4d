//! A seeded randomized run of AI edits (through `prodcode hook claude`), a person's edits (through
//! the daemon, and without any editor), and git operations (commits, branches, fast-forward,
//! `--no-ff` and `--squash` merges, rebases, cherry-picks, amends, reverts, stashes, restores of a
//! file from an earlier commit), with `prodcode link` at random moments and sometimes not for
//! several steps; then every commit and every branch tip is checked against the ground truth.
//!
//! **Content.** Lines are drawn from a realistic distribution: about 62% from a pool of common
//! lines that real code repeats (blank lines and closing braces most, then `return 0`, `else:`,
//! imports, `#[test]`, …), the rest unique code-like lines. Agents insert blocks of 1–5 lines and
//! replace or delete single lines; a person types 1–3 lines, changes a line by appending a short
//! comment (so the daemon counts it as a change of that line: `ai_modified` of X when the line was
//! X's, `human` otherwise), or deletes one. A person also edits with no editor running (the file
//! written on disk: no daemon, no hook), typing fresh lines or deliberately re-typing a line an
//! agent wrote earlier in the same file (maybe one the person deleted); none of those may ever be
//! credited to an agent.
//!
//! **Truth by identity, carried by git.** Every line written gets a unique id with its truth (`ai`
//! or `ai_modified` of an interaction, `human`, `untracked` before capture). Beside each tracked
//! file `X.txt` the checker keeps `X.txt.truth`, one id per line of `X.txt`, written on disk
//! whenever it writes `X.txt` and committed, stashed, merged, rebased, reverted and restored with
//! it by the same git commands, so that git itself carries identities through every operation.
//! `prodcode.toml` (committed first) keeps `*.truth` out of linking (`[link] ignore`). A companion
//! is *in step* when the content recorded for the id of each line is that line; a 3-way merge may
//! align repeated lines differently in the two files: such a file is counted `desynced` at that
//! revision, printed and skipped (a desynced work tree is re-aligned, unmatched lines becoming
//! `unknown`, which any report may match).
//!
//! **Only knowable truth.** A diff that removes (or changes) a line while an equal line with
//! another truth is there before or after leaves git's own alignment to decide which of the two
//! is gone, and blame follows git, so no tool could tell from the text. The run never makes one:
//! a person or an agent changes or removes a line only when every equal line in the file has the
//! same truth; an edit that would make the pending change such a diff is preceded by a commit of
//! what is pending; a revert, a restore, a squash or a popped stash that would be one is not done.
//! Pure insertions of equal lines are made freely: the multisets below do not care which of the
//! equal lines is the new one. Commits whose diff is ambiguous anyway are counted and marked.
//!
//! **Checks.** At the end every branch is merged into main where it merges cleanly and `link`
//! runs (twice: the second must find nothing). Misattribution is defined over multisets, so that
//! *which* of several equal lines was added does not matter while crediting a person's new line to
//! an agent does:
//! - at **every commit** (`git rev-list --all`, the pre-capture root left out): R is the multiset
//!   of `(content, label)` of the lines `prodcode export agent-trace` reports the commit added
//!   (`ai:<interaction>`, `ai_modified:<interaction>`, `human`; untracked lines are left out),
//!   and T the multiset of `(content, truth)` over the ids of the commit's companion that are new
//!   against every parent's (a diff may show an unchanged line as removed and added again, a move
//!   among equal lines: when R holds more lines of a content than T, that many may match the
//!   truth of the commit's unchanged lines of that content; they are counted as `moved`);
//! - at **every branch tip**: R over every line `prodcode blame --rev` reports other than
//!   `untracked`, T over every line's truth;
//! - misattributions = Σ max(0, R(content, label) − T(content, label)), each printed with its kind
//!   (a human line credited to an agent, the wrong interaction, `ai` for an `ai_modified` line,
//!   …), and the test asserts there are none; **gaps** = the AI truth (`ai`, `ai_modified`) a
//!   report does not reproduce, counted as a share of all AI lines, allowed.
//!
//! One summary line per seed (`--nocapture` to see it). `PRODCODE_LINK_RANDOM_LOG=1` prints every
//! step. `randomized_history_many_seeds` runs one extra seed, or with `PRODCODE_LINK_RANDOM_SEEDS=N`
//! the seeds 1..=N (`PRODCODE_LINK_RANDOM_SEED=0x…` one given seed) and prints an aggregate line;
//! `PRODCODE_LINK_RANDOM_STEPS=M` sets the steps per seed (120);
//! `PRODCODE_LINK_RANDOM_CONTENT=unique` makes every line unique (the old, easy distribution);
//! `PRODCODE_LINK_RANDOM_KEEP=1` keeps each seed's repository and database for inspection:
//!
//! ```sh
//! PRODCODE_LINK_RANDOM_SEEDS=20 cargo test --locked --test it randomized_history_many_seeds -- --nocapture
//! ```
//!
//! Conflicts are avoided by giving each branch its own files; an operation that conflicts anyway
//! is aborted and the run goes on. Commits are chosen from lists in graph order (`--topo-order`),
//! not by date, so a seed fixes every operation; it does not fix the clock, and linking compares
//! commit times (whole seconds) with snapshot times, so a seed's figures may differ a little from
//! run to run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use crate::support::{
    Claude, Editor, Workspace, blame_rev, export_agent_trace, git_blobs, git_env, git_graph,
    git_try, human_edit, link,
};

const STEPS: usize = 120;
const SESSIONS: usize = 3;
/// The share of inserted lines drawn from [`COMMON`]; the rest are unique.
const COMMON_PERCENT: u64 = 62;
/// The seed of `randomized_history_many_seeds` when no count is given.
const EXTRA_SEED: u64 = 0x5EED_0004;

/// Lines real code repeats, with their relative weights: blank lines and braces most.
const COMMON: &[(&str, usize)] = &[
    ("", 14),
    ("}", 9),
    ("    }", 8),
    ("        }", 4),
    (");", 3),
    ("    ]", 2),
    ("return 0", 3),
    ("    return 0", 3),
    ("else:", 2),
    ("    else {", 2),
    ("    pass", 2),
    ("        break;", 2),
    ("    i += 1;", 2),
    ("import os", 2),
    ("from typing import List", 2),
    ("use std::io;", 2),
    ("#[test]", 2),
    ("#[derive(Debug)]", 1),
    ("    Ok(())", 2),
    ("    return None", 2),
    ("    return compute_total(items)", 2),
    ("    let mut out = Vec::new();", 1),
    ("if n < 0:", 2),
    ("    log(\"h\")", 2),
    ("fn main() {", 2),
    ("def f():", 2),
];

#[test]
fn randomized_history_seed_1() {
    assert_seed(0x5EED_0001);
}

#[test]
fn randomized_history_seed_2() {
    assert_seed(0x5EED_0002);
}

#[test]
fn randomized_history_seed_3() {
    assert_seed(0x5EED_0003);
}

/// One extra seed, or as many as `PRODCODE_LINK_RANDOM_SEEDS` says, with an aggregate line.
#[test]
fn randomized_history_many_seeds() {
    let seeds: Vec<u64> = if let Some(seed) = env("PRODCODE_LINK_RANDOM_SEED") {
        let seed = seed.trim_start_matches("0x");
        vec![u64::from_str_radix(seed, 16).expect("PRODCODE_LINK_RANDOM_SEED: a hex number")]
    } else if let Some(count) = env("PRODCODE_LINK_RANDOM_SEEDS") {
        let count: u64 = count.parse().expect("PRODCODE_LINK_RANDOM_SEEDS: a number");
        (0..count).map(|k| 0x5EED_0001 + k).collect()
    } else {
        vec![EXTRA_SEED]
    };
    let mut total = Summary::default();
    let mut failures = Vec::new();
    for seed in &seeds {
        let outcome = run_seed(*seed);
        total.add(&outcome.summary);
        if let Some(failure) = outcome.failure {
            failures.push(failure);
        }
    }
    eprintln!(
        "link_random aggregate: {} seeds, {} steps each, {} commits ({} lines, {} AI lines, {} gaps \
         = {:.1}%), {} tips ({} lines, {} AI lines, {} gaps = {:.1}%), misattributions {} at \
         commits + {} at tips {:?}, {} moved, desyncs {} ({} work-tree repairs), {} ambiguous \
         diffs, {} unlinked commits, {} panicked seeds, {:.1}s",
        seeds.len(),
        steps(),
        total.commits,
        total.commit.lines,
        total.commit.ai_lines,
        total.commit.gaps,
        percent(total.commit.gaps, total.commit.ai_lines),
        total.tips,
        total.tip.lines,
        total.tip.ai_lines,
        total.tip.gaps,
        percent(total.tip.gaps, total.tip.ai_lines),
        total.commit.misattributions,
        total.tip.misattributions,
        total.kinds,
        total.commit.moved,
        total.desyncs,
        total.repairs,
        total.ambiguous,
        total.unlinked,
        total.panicked,
        total.seconds,
    );
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed:\n{}",
        failures.len(),
        seeds.len(),
        failures.join("\n\n")
    );
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn steps() -> usize {
    env("PRODCODE_LINK_RANDOM_STEPS").map_or(STEPS, |steps| {
        steps.parse().expect("PRODCODE_LINK_RANDOM_STEPS: a number")
    })
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn assert_seed(seed: u64) {
    let outcome = run_seed(seed);
    if let Some(failure) = outcome.failure {
        panic!("{failure}");
    }
}

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, chance: u64) -> bool {
        self.next() % 100 < chance
    }

    /// An index into `weights`, each chosen in proportion to its weight.
    fn weighted(&mut self, weights: impl Iterator<Item = usize> + Clone) -> usize {
        let total: usize = weights.clone().sum();
        let mut roll = self.below(total);
        for (index, weight) in weights.enumerate() {
            if roll < weight {
                return index;
            }
            roll -= weight;
        }
        unreachable!()
    }
}

/// Where a line came from, or what a report says of it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Label {
    Ai(String),
    AiModified(String),
    Human,
    /// Before capture.
    Untracked,
    /// Truth lost to a re-alignment of a desynced work tree: any report matches it.
    Unknown,
}

impl Label {
    fn is_ai(&self) -> bool {
        matches!(self, Label::Ai(_) | Label::AiModified(_))
    }

    fn interaction(&self) -> Option<&str> {
        match self {
            Label::Ai(id) | Label::AiModified(id) => Some(id),
            _ => None,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            Label::Ai(_) => "ai",
            Label::AiModified(_) => "ai_modified",
            Label::Human => "human",
            Label::Untracked => "untracked",
            Label::Unknown => "unknown",
        }
    }

    fn from_report(class: &str, interaction: Option<&str>) -> Option<Label> {
        match (class, interaction) {
            ("ai", Some(id)) => Some(Label::Ai(id.to_owned())),
            ("ai_modified", Some(id)) => Some(Label::AiModified(id.to_owned())),
            ("human", _) => Some(Label::Human),
            ("untracked", _) => None,
            other => panic!("a report with no sense: {other:?}"),
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.interaction() {
            Some(id) => write!(f, "{}:{id}", self.class()),
            None => f.write_str(self.class()),
        }
    }
}

/// One line ever written, by its id.
#[derive(Clone, Debug)]
struct Line {
    content: String,
    label: Label,
    file: String,
    /// The step that wrote it.
    step: usize,
    /// How: `AI insert`, `typed`, `re-typed, no editor`, `person's change`, ….
    how: &'static str,
}

/// A file as it is: `(id, content)` per line.
type State = Vec<(usize, String)>;

/// Who writes a file.
#[derive(Clone, Copy)]
enum Writer {
    /// An agent session, through its hooks.
    Ai(usize),
    /// A person in the editor, through the daemon.
    Editor,
    /// A person with no editor running: the file on disk, nothing captured.
    Disk,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    AiInsert,
    AiReplace,
    HumanInsert,
    HumanModify,
    HumanDelete,
    HumanUnseen,
    Restore,
    Commit,
    CreateBranch,
    Switch,
    FastForward,
    MergeNoFf,
    MergeSquash,
    Rebase,
    CherryPick,
    Amend,
    Revert,
    Stash,
    Link,
}

/// Relative weights of the operations.
const WEIGHTS: [(Op, usize); 19] = [
    (Op::AiInsert, 18),
    (Op::AiReplace, 8),
    (Op::HumanInsert, 9),
    (Op::HumanModify, 12),
    (Op::HumanDelete, 5),
    (Op::HumanUnseen, 7),
    (Op::Restore, 3),
    (Op::Commit, 14),
    (Op::CreateBranch, 3),
    (Op::Switch, 6),
    (Op::FastForward, 4),
    (Op::MergeNoFf, 5),
    (Op::MergeSquash, 4),
    (Op::Rebase, 3),
    (Op::CherryPick, 3),
    (Op::Amend, 3),
    (Op::Revert, 3),
    (Op::Stash, 5),
    (Op::Link, 6),
];

struct Run {
    seed: u64,
    rng: Rng,
    ws: Workspace,
    editor: Editor,
    sessions: Vec<Claude>,
    /// Every line ever written, by id.
    lines: Vec<Line>,
    /// Per file, the content of agents' lines a person deleted.
    deleted_ai: HashMap<String, Vec<String>>,
    /// Every line unique (`PRODCODE_LINK_RANDOM_CONTENT=unique`).
    unique_only: bool,
    /// Live branches, main first.
    branches: Vec<String>,
    /// Branches ever made (names are never reused: files belong to a branch by name).
    branches_made: usize,
    current: String,
    next_unique: u64,
    step: usize,
    log: Vec<String>,
    /// No daemon runs before this step: nothing links, and the person does not edit in the
    /// editor.
    link_down_until: usize,
    link_runs: usize,
    /// Work-tree companions found out of step and re-aligned.
    repairs: usize,
}

/// One check's figures.
#[derive(Default, Clone)]
struct Tally {
    lines: usize,
    ai_lines: usize,
    gaps: usize,
    misattributions: usize,
    /// Reported lines matched only by `unknown` truth.
    unknown: usize,
    /// Reported added lines matched by an unchanged line of the same content and truth (a diff
    /// that moves a line among equal ones).
    moved: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.lines += other.lines;
        self.ai_lines += other.ai_lines;
        self.gaps += other.gaps;
        self.misattributions += other.misattributions;
        self.unknown += other.unknown;
        self.moved += other.moved;
    }
}

#[derive(Default)]
struct Summary {
    commits: usize,
    tips: usize,
    commit: Tally,
    tip: Tally,
    kinds: BTreeMap<String, usize>,
    desyncs: usize,
    /// Commits whose diff removes a line beside an equal one with another truth.
    ambiguous: usize,
    repairs: usize,
    unlinked: usize,
    link_runs: usize,
    panicked: usize,
    seconds: f64,
}

impl Summary {
    fn add(&mut self, other: &Summary) {
        self.commits += other.commits;
        self.tips += other.tips;
        self.commit.add(&other.commit);
        self.tip.add(&other.tip);
        for (kind, count) in &other.kinds {
            *self.kinds.entry(kind.clone()).or_default() += count;
        }
        self.desyncs += other.desyncs;
        self.ambiguous += other.ambiguous;
        self.repairs += other.repairs;
        self.unlinked += other.unlinked;
        self.link_runs += other.link_runs;
        self.panicked += other.panicked;
        self.seconds += other.seconds;
    }
}

/// What the final checks found.
#[derive(Default)]
struct Findings {
    summary: Summary,
    misattributions: Vec<String>,
    /// Desynced files and commits never linked (skipped), ambiguous diffs: printed.
    notes: Vec<String>,
    gaps: Vec<String>,
}

struct Outcome {
    summary: Summary,
    /// Why the seed failed, with everything needed to see why.
    failure: Option<String>,
}

fn run_seed(seed: u64) -> Outcome {
    let started = Instant::now();
    let steps = steps();
    let mut run = Run::new(seed);
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        for _ in 0..steps {
            run.step += 1;
            let op = run.pick();
            run.apply(op);
        }
        run.check()
    }));
    let mut findings = match outcome {
        Ok(findings) => findings,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_default();
            return Outcome {
                summary: Summary {
                    panicked: 1,
                    seconds: started.elapsed().as_secs_f64(),
                    ..Summary::default()
                },
                failure: Some(format!(
                    "link_random seed {seed:#x} panicked at step {}: {message}\nsteps:\n{}",
                    run.step,
                    run.log.join("\n")
                )),
            };
        }
    };
    let summary = &mut findings.summary;
    summary.repairs = run.repairs;
    summary.link_runs = run.link_runs;
    summary.seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "link_random seed {seed:#x}: {} steps; {} commits checked ({} lines, {} AI, gaps {} = \
         {:.1}%); {} tips ({} lines, {} AI, gaps {} = {:.1}%); misattributions {} at commits + {} \
         at tips {:?}; {} moved; desyncs {} ({} work-tree repairs); {} ambiguous diffs; {} unlinked \
         commits; {} link runs; {:.1}s",
        run.step,
        summary.commits,
        summary.commit.lines,
        summary.commit.ai_lines,
        summary.commit.gaps,
        percent(summary.commit.gaps, summary.commit.ai_lines),
        summary.tips,
        summary.tip.lines,
        summary.tip.ai_lines,
        summary.tip.gaps,
        percent(summary.tip.gaps, summary.tip.ai_lines),
        summary.commit.misattributions,
        summary.tip.misattributions,
        summary.kinds,
        summary.commit.moved,
        summary.desyncs,
        summary.repairs,
        summary.ambiguous,
        summary.unlinked,
        summary.link_runs,
        summary.seconds,
    );
    for note in &findings.notes {
        eprintln!("  {note}");
    }
    if env("PRODCODE_LINK_RANDOM_LOG").is_some() {
        eprintln!(
            "seed {seed:#x} steps:\n{}\ngaps:\n{}",
            run.log.join("\n"),
            findings.gaps.join("\n")
        );
    }
    let failure = (!findings.misattributions.is_empty()).then(|| {
        format!(
            "seed {seed:#x}: {} misattributions:\n{}\nsteps:\n{}\ngit log:\n{}",
            findings.misattributions.len(),
            findings.misattributions.join("\n"),
            run.log.join("\n"),
            git_graph(&run.ws.root)
        )
    });
    if env("PRODCODE_LINK_RANDOM_KEEP").is_some() {
        eprintln!(
            "seed {seed:#x}: repository kept at {}, database {}",
            run.ws.root.display(),
            run.ws.db.display()
        );
        std::mem::forget(run);
    }
    Outcome {
        summary: findings.summary,
        failure,
    }
}

impl Run {
    fn new(seed: u64) -> Run {
        let ws = Workspace::new();
        ws.write("prodcode.toml", "[link]\nignore = [\"*.truth\"]\n");
        git_env(&ws.root, &[], &["add", "prodcode.toml"]);
        git_env(&ws.root, &[], &["commit", "-q", "-m", "prodcode.toml"]);
        let editor = Editor::new(&ws);
        let sessions = (0..SESSIONS)
            .map(|k| Claude::start(&ws, &format!("r{k}")))
            .collect();
        Run {
            seed,
            rng: Rng(seed),
            ws,
            editor,
            sessions,
            lines: Vec::new(),
            deleted_ai: HashMap::new(),
            unique_only: env("PRODCODE_LINK_RANDOM_CONTENT").as_deref() == Some("unique"),
            branches: vec!["main".to_owned()],
            branches_made: 0,
            current: "main".to_owned(),
            next_unique: 0,
            step: 0,
            log: Vec::new(),
            link_down_until: 0,
            link_runs: 0,
            repairs: 0,
        }
    }

    fn pick(&mut self) -> Op {
        let index = self.rng.weighted(WEIGHTS.iter().map(|(_, weight)| *weight));
        WEIGHTS[index].0
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::AiInsert => self.ai_insert(),
            Op::AiReplace => self.ai_replace(),
            Op::HumanInsert => self.human_insert(),
            Op::HumanModify => self.human_modify(),
            Op::HumanDelete => self.human_delete(),
            Op::HumanUnseen => self.human_unseen(),
            Op::Restore => self.restore(),
            Op::Commit => {
                if !self.commit_pending() {
                    self.note("commit: nothing to commit");
                }
            }
            Op::CreateBranch => self.create_branch(),
            Op::Switch => self.switch(),
            Op::FastForward => self.fast_forward(),
            Op::MergeNoFf => self.merge_no_ff(),
            Op::MergeSquash => self.merge_squash(),
            Op::Rebase => self.rebase(),
            Op::CherryPick => self.cherry_pick(),
            Op::Amend => self.amend(),
            Op::Revert => self.revert(),
            Op::Stash => self.stash(),
            Op::Link => self.maybe_link(),
        }
    }

    fn note(&mut self, what: &str) {
        let entry = format!("{:>3} [{}] {what}", self.step, self.current);
        self.log.push(entry);
    }

    fn git(&self, args: &[&str]) -> String {
        git_env(&self.ws.root, &[], args)
    }

    fn try_git(&self, args: &[&str]) -> Result<String, String> {
        git_try(&self.ws.root, args)
    }

    // Content and identities.

    /// A line as code has them: mostly common lines that repeat, else a unique one.
    fn content(&mut self) -> String {
        if !self.unique_only && self.rng.percent(COMMON_PERCENT) {
            let index = self.rng.weighted(COMMON.iter().map(|(_, weight)| *weight));
            return COMMON[index].0.to_owned();
        }
        self.next_unique += 1;
        let n = self.next_unique;
        match n % 6 {
            0 => format!("let v{n} = compute({n});"),
            1 => format!("    total += weight({n});"),
            2 => format!("def helper_{n}(x):"),
            3 => format!("    print(\"value {n}\")"),
            4 => format!("fn step_{n}() -> u32 {{"),
            _ => format!("    assert_eq!(f({n}), {n});"),
        }
    }

    /// A new line id.
    fn remember(&mut self, file: &str, content: &str, label: Label, how: &'static str) -> usize {
        self.lines.push(Line {
            content: content.to_owned(),
            label,
            file: file.to_owned(),
            step: self.step,
            how,
        });
        self.lines.len() - 1
    }

    fn path(&self, file: &str) -> PathBuf {
        self.ws.path(file)
    }

    fn companion(file: &str) -> String {
        format!("{file}.truth")
    }

    fn read_lines(&self, file: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(file))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn parse_ids(text: &str) -> Vec<usize> {
        text.lines()
            .map(|token| {
                token
                    .strip_prefix('t')
                    .and_then(|id| id.parse().ok())
                    .unwrap_or_else(|| panic!("not a line id: {token:?}"))
            })
            .collect()
    }

    /// Whether `ids` name exactly `lines`.
    fn in_step(&self, ids: &[usize], lines: &[&str]) -> bool {
        ids.len() == lines.len()
            && ids.iter().zip(lines).all(|(id, line)| {
                self.lines
                    .get(*id)
                    .is_some_and(|known| known.content == *line)
            })
    }

    /// The file in the work tree with the id of each line; a companion out of step is
    /// re-aligned first (lines it cannot place become `unknown`).
    fn state(&mut self, file: &str) -> State {
        let lines = self.read_lines(file);
        let ids = std::fs::read_to_string(self.path(&Run::companion(file)))
            .map(|text| Run::parse_ids(&text))
            .unwrap_or_default();
        let borrowed: Vec<&str> = lines.iter().map(String::as_str).collect();
        if self.in_step(&ids, &borrowed) {
            return ids.into_iter().zip(lines).collect();
        }
        let state = self.realign(file, &ids, &lines);
        let unknown = state
            .iter()
            .filter(|(id, _)| self.lines[*id].label == Label::Unknown)
            .count();
        self.repairs += 1;
        self.note(&format!(
            "work-tree companion of {file} out of step: re-aligned, {unknown} lines unknown"
        ));
        self.write_companion(file, &state);
        state
    }

    /// The longest common subsequence of what `ids` say and `lines`: matched lines keep their id.
    fn realign(&mut self, file: &str, ids: &[usize], lines: &[String]) -> State {
        let said: Vec<Option<&str>> = ids
            .iter()
            .map(|id| self.lines.get(*id).map(|line| line.content.as_str()))
            .collect();
        let (n, m) = (said.len(), lines.len());
        let mut table = vec![vec![0usize; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                table[i][j] = if said[i] == Some(lines[j].as_str()) {
                    table[i + 1][j + 1] + 1
                } else {
                    table[i + 1][j].max(table[i][j + 1])
                };
            }
        }
        let mut matched = vec![None; m];
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if said[i] == Some(lines[j].as_str()) {
                matched[j] = Some(ids[i]);
                i += 1;
                j += 1;
            } else if table[i + 1][j] >= table[i][j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
        let mut state = State::new();
        for (line, matched) in lines.iter().zip(matched) {
            let id = match matched {
                Some(id) => id,
                None => self.remember(file, line, Label::Unknown, "re-aligned"),
            };
            state.push((id, line.clone()));
        }
        state
    }

    fn write_companion(&self, file: &str, state: &State) {
        let text: String = state.iter().map(|(id, _)| format!("t{id}\n")).collect();
        std::fs::write(self.path(&Run::companion(file)), text).unwrap();
    }

    fn text(state: &State) -> String {
        state.iter().map(|(_, line)| format!("{line}\n")).collect()
    }

    /// Writes `state` to `file` as `writer` does, and its companion on disk.
    fn put(&mut self, file: &str, state: &State, writer: Writer) {
        let after: Vec<usize> = state.iter().map(|(id, _)| *id).collect();
        if let Some(why) = self.ambiguous_change(&self.head_ids(file), &after) {
            // One commit would remove a line beside an equal one with another truth: git's
            // alignment would pick which one is gone. Two commits keep it plain.
            self.note(&format!(
                "commit first: with it, one diff would remove {why}"
            ));
            self.commit_pending();
        }
        let path = self.path(file);
        let text = Run::text(state);
        match writer {
            Writer::Ai(session) => self.sessions[session].write(&path, &text),
            Writer::Editor => human_edit(&mut self.editor, &path, &text),
            Writer::Disk => std::fs::write(&path, &text).unwrap(),
        }
        self.write_companion(file, state);
    }

    fn label(&self, id: usize) -> &Label {
        &self.lines[id].label
    }

    /// Lines that can be changed or removed without making "which one" a guess: known truth,
    /// and every equal line in the file with the same truth.
    fn unambiguous(&self, state: &State, keep: impl Fn(&str) -> bool) -> Vec<usize> {
        (0..state.len())
            .filter(|&k| {
                let (id, content) = &state[k];
                let label = self.label(*id);
                keep(content)
                    && *label != Label::Unknown
                    && state
                        .iter()
                        .all(|(other, line)| line != content || self.label(*other) == label)
            })
            .collect()
    }

    fn describe(&self, ids: &[usize]) -> String {
        let shown: Vec<String> = ids
            .iter()
            .map(|id| format!("t{id} {:?}", self.lines[*id].content))
            .collect();
        shown.join(", ")
    }

    // Edits. Each branch edits only its own two files.

    fn own_file(&mut self) -> String {
        format!("{}_{}.txt", self.current, self.rng.below(2))
    }

    fn ai_insert(&mut self) {
        let file = self.own_file();
        self.ai_insert_into(&file);
    }

    fn ai_insert_into(&mut self, file: &str) {
        let session = self.rng.below(SESSIONS);
        let mut state = self.state(file);
        let at = self.rng.below(state.len() + 1);
        let count = 1 + self.rng.below(5);
        let label = Label::Ai(self.sessions[session].interaction());
        let mut added = Vec::new();
        for offset in 0..count {
            let content = self.content();
            let id = self.remember(file, &content, label.clone(), "AI insert");
            state.insert(at + offset, (id, content));
            added.push(id);
        }
        self.put(file, &state, Writer::Ai(session));
        let shown = self.describe(&added);
        self.note(&format!(
            "AI r{session} inserts at {at} of {file}: [{shown}]"
        ));
    }

    fn ai_replace(&mut self) {
        let file = self.own_file();
        let mut state = self.state(&file);
        let candidates = self.unambiguous(&state, |_| true);
        if candidates.is_empty() {
            return self.ai_insert_into(&file);
        }
        let session = self.rng.below(SESSIONS);
        let at = candidates[self.rng.below(candidates.len())];
        let (old_id, old) = state[at].clone();
        if self.rng.percent(30) {
            state.remove(at);
            self.put(&file, &state, Writer::Ai(session));
            self.note(&format!(
                "AI r{session} deletes t{old_id} {old:?} at {at} of {file}"
            ));
            return;
        }
        let mut content = self.content();
        while content == old {
            content = self.content();
        }
        let label = Label::Ai(self.sessions[session].interaction());
        let id = self.remember(&file, &content, label, "AI replace");
        state[at] = (id, content.clone());
        self.put(&file, &state, Writer::Ai(session));
        self.note(&format!(
            "AI r{session} replaces t{old_id} {old:?} at {at} of {file} with t{id} {content:?}"
        ));
    }

    /// Whether the person can edit in the editor now: the daemon comes up and links what is new
    /// first.
    fn editor_up(&mut self) -> bool {
        if self.step < self.link_down_until {
            return false;
        }
        let answer = self.link();
        let linked = answer["linked"].as_array().map_or(0, Vec::len);
        let landed = answer["landed"].as_array().map_or(0, Vec::len);
        self.note(&format!(
            "daemon starts, links: {linked} linked, {landed} landed"
        ));
        true
    }

    /// The content of agents' lines ever written to `file`; often only those a person deleted.
    fn ai_contents(&mut self, file: &str) -> Vec<String> {
        let deleted = self.deleted_ai.get(file).cloned().unwrap_or_default();
        if !deleted.is_empty() && self.rng.percent(70) {
            return deleted;
        }
        let mut seen = HashSet::new();
        self.lines
            .iter()
            .filter(|line| line.file == file && line.label.is_ai())
            .filter(|line| seen.insert(line.content.clone()))
            .map(|line| line.content.clone())
            .collect()
    }

    /// Lines a person types into `file`: 1–3 drawn as usual, or (with `retype`) one that an
    /// agent wrote in this file before.
    fn typed(&mut self, file: &str, retype: bool) -> (Vec<String>, &'static str) {
        if retype && !self.unique_only {
            let contents = self.ai_contents(file);
            if !contents.is_empty() {
                let content = contents[self.rng.below(contents.len())].clone();
                return (vec![content], "re-typed");
            }
        }
        let count = 1 + self.rng.below(3);
        ((0..count).map(|_| self.content()).collect(), "typed")
    }

    fn human_insert(&mut self) {
        if !self.editor_up() {
            return self.ai_insert();
        }
        let file = self.own_file();
        let mut state = self.state(&file);
        let at = self.rng.below(state.len() + 1);
        let retype = self.rng.percent(25);
        let (contents, how) = self.typed(&file, retype);
        let mut added = Vec::new();
        for (offset, content) in contents.into_iter().enumerate() {
            let id = self.remember(&file, &content, Label::Human, how);
            state.insert(at + offset, (id, content));
            added.push(id);
        }
        self.put(&file, &state, Writer::Editor);
        let shown = self.describe(&added);
        self.note(&format!(
            "person ({how}, editor) inserts at {at} of {file}: [{shown}]"
        ));
    }

    fn human_modify(&mut self) {
        let file = self.own_file();
        let mut state = self.state(&file);
        // A blank line that gets text is a new line, not a change of one.
        let candidates = self.unambiguous(&state, |line| !line.is_empty());
        if candidates.is_empty() {
            return self.human_insert();
        }
        if !self.editor_up() {
            return self.ai_insert();
        }
        let at = candidates[self.rng.below(candidates.len())];
        let (old_id, old) = state[at].clone();
        self.next_unique += 1;
        let rusty = ["{", "}", ";", "#[", "fn ", "use ", "let ", ")"]
            .iter()
            .any(|mark| old.contains(mark));
        let marker = if rusty { "//" } else { "#" };
        let content = format!("{old} {marker} h{}", self.next_unique);
        let label = match self.label(old_id).clone() {
            Label::Ai(id) | Label::AiModified(id) => Label::AiModified(id),
            _ => Label::Human,
        };
        let id = self.remember(&file, &content, label, "person's change");
        state[at] = (id, content.clone());
        self.put(&file, &state, Writer::Editor);
        self.note(&format!(
            "person (editor) changes t{old_id} {old:?} at {at} of {file} to t{id} {content:?}"
        ));
    }

    fn human_delete(&mut self) {
        let file = self.own_file();
        let mut state = self.state(&file);
        let mut candidates = self.unambiguous(&state, |_| true);
        if candidates.is_empty() {
            return self.human_insert();
        }
        if !self.editor_up() {
            return self.ai_insert();
        }
        // Mostly an agent's line: what a person later re-types from memory.
        let ai: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&k| self.label(state[k].0).is_ai())
            .collect();
        if !ai.is_empty() && self.rng.percent(70) {
            candidates = ai;
        }
        let at = candidates[self.rng.below(candidates.len())];
        let (old_id, old) = state.remove(at);
        if self.label(old_id).is_ai() {
            self.deleted_ai
                .entry(file.clone())
                .or_default()
                .push(old.clone());
        }
        self.put(&file, &state, Writer::Editor);
        self.note(&format!(
            "person (editor) deletes t{old_id} {old:?} at {at} of {file}"
        ));
    }

    /// A person edits with no editor running: lines typed, or an agent's line of this file
    /// re-typed, straight to disk; often committed at once (a human commit with no session).
    fn human_unseen(&mut self) {
        let file = self.own_file();
        let mut state = self.state(&file);
        let at = self.rng.below(state.len() + 1);
        let retype = self.rng.percent(50);
        let (contents, how) = self.typed(&file, retype);
        let how = if how == "re-typed" {
            "re-typed, no editor"
        } else {
            "typed, no editor"
        };
        let mut added = Vec::new();
        for (offset, content) in contents.into_iter().enumerate() {
            let id = self.remember(&file, &content, Label::Human, how);
            state.insert(at + offset, (id, content));
            added.push(id);
        }
        self.put(&file, &state, Writer::Disk);
        let shown = self.describe(&added);
        self.note(&format!(
            "person ({how}) inserts at {at} of {file}: [{shown}]"
        ));
        if self.rng.percent(60) {
            self.commit_pending();
        }
    }

    /// `git checkout <an earlier commit of this branch> -- FILE FILE.truth`, committed.
    fn restore(&mut self) {
        self.commit_pending();
        let file = self.own_file();
        let now = self.try_git(&["rev-parse", "-q", "--verify", &format!("HEAD:{file}")]);
        let candidates: Vec<String> = self
            .git(&["rev-list", "--topo-order", "-n", "16", "HEAD"])
            .lines()
            .skip(1)
            .filter(|commit| {
                let then =
                    self.try_git(&["rev-parse", "-q", "--verify", &format!("{commit}:{file}")]);
                then.is_ok() && then != now
            })
            .map(str::to_owned)
            .collect();
        if candidates.is_empty() {
            return self.note(&format!("restore {file}: no earlier version"));
        }
        let commit = candidates[self.rng.below(candidates.len())].clone();
        let short = &commit[..8];
        let companion = Run::companion(&file);
        self.git(&["checkout", &commit, "--", &file, &companion]);
        if let Some(why) = self.ambiguous_pending() {
            self.git(&["reset", "-q", "--hard", "HEAD"]);
            return self.note(&format!(
                "checkout {short} -- {file}: would remove {why}, not done"
            ));
        }
        self.note(&format!("checkout {short} -- {file} {companion}"));
        self.commit_pending();
    }

    /// The ids of `file` as committed at HEAD.
    fn head_ids(&self, file: &str) -> Vec<usize> {
        self.try_git(&["show", &format!("HEAD:{}", Run::companion(file))])
            .map(|text| Run::parse_ids(&text))
            .unwrap_or_default()
    }

    /// Whether a change from `before` to `after` (ids of one file) removes a line while an
    /// equal line with another truth is there before or after: git then picks which of the equal
    /// lines is gone by its own alignment (and blame follows it), which no text can tell. Pure
    /// insertions of equal lines are never ambiguous: the multisets do not care which is new.
    fn ambiguous_change(&self, before: &[usize], after: &[usize]) -> Option<String> {
        let kept: HashSet<usize> = after.iter().copied().collect();
        for removed in before.iter().filter(|id| !kept.contains(id)) {
            let line = &self.lines[*removed];
            let other = before.iter().chain(after).find(|id| {
                let other = &self.lines[**id];
                other.content == line.content && other.label != line.label
            });
            if let Some(other) = other {
                return Some(format!(
                    "t{removed} {:?} ({}) beside t{other} ({})",
                    line.content, line.label, self.lines[*other].label
                ));
            }
        }
        None
    }

    /// Whether the pending change (a revert, a restore, a squash, a popped stash: not committed
    /// yet) is ambiguous in some file (see [`Run::ambiguous_change`]); the run does not commit
    /// such changes.
    fn ambiguous_pending(&self) -> Option<String> {
        self.ambiguous_since("HEAD")
    }

    /// Whether the work tree against `rev` is an ambiguous change in some file.
    fn ambiguous_since(&self, rev: &str) -> Option<String> {
        let mut changed = self.git(&["diff", "--name-only", rev]);
        changed.push_str(&self.git(&["ls-files", "--others", "--exclude-standard"]));
        for companion in changed.lines() {
            let Some(file) = companion.strip_suffix(".truth") else {
                continue;
            };
            let before = self
                .try_git(&["show", &format!("{rev}:{companion}")])
                .map(|text| Run::parse_ids(&text))
                .unwrap_or_default();
            let after = std::fs::read_to_string(self.path(companion))
                .map(|text| Run::parse_ids(&text))
                .unwrap_or_default();
            if let Some(why) = self.ambiguous_change(&before, &after) {
                return Some(format!("{why} in {file}"));
            }
        }
        None
    }

    // Git.

    fn dirty(&self) -> bool {
        !self.git(&["status", "--porcelain"]).trim().is_empty()
    }

    /// Commits whatever is pending; whether there was anything.
    fn commit_pending(&mut self) -> bool {
        if !self.dirty() {
            return false;
        }
        self.git(&["add", "-A"]);
        let message = format!("step {}", self.step);
        self.git(&["commit", "-q", "-m", &message]);
        let head = self.head();
        self.note(&format!("commit {head}"));
        true
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "--short", "HEAD"])
            .trim()
            .to_owned()
    }

    fn checkout(&mut self, branch: &str) {
        self.commit_pending();
        if self.current != branch {
            self.git(&["checkout", "-q", branch]);
            self.current = branch.to_owned();
            self.note(&format!("checkout {branch}"));
        }
    }

    /// A branch other than main, if there is one.
    fn some_branch(&mut self) -> Option<String> {
        let others: Vec<String> = self.branches[1..].to_vec();
        if others.is_empty() {
            return None;
        }
        Some(others[self.rng.below(others.len())].clone())
    }

    fn create_branch(&mut self) {
        if self.branches.len() > 3 {
            return self.switch();
        }
        self.commit_pending();
        self.branches_made += 1;
        let name = format!("b{}", self.branches_made);
        self.git(&["checkout", "-q", "-b", &name, "main"]);
        self.branches.push(name.clone());
        self.current = name.clone();
        self.note(&format!("branch {name} from main"));
    }

    fn switch(&mut self) {
        let others: Vec<String> = self
            .branches
            .iter()
            .filter(|branch| **branch != self.current)
            .cloned()
            .collect();
        if others.is_empty() {
            return self.create_branch();
        }
        let branch = others[self.rng.below(others.len())].clone();
        self.checkout(&branch);
    }

    fn fast_forward(&mut self) {
        let Some(branch) = self.some_branch() else {
            return;
        };
        self.checkout("main");
        match self.try_git(&["merge", "-q", "--ff-only", &branch]) {
            Ok(_) => {
                let head = self.head();
                self.note(&format!("merge --ff-only {branch}: main at {head}"));
            }
            Err(_) => self.note(&format!("merge --ff-only {branch}: not a fast-forward")),
        }
    }

    fn merge_no_ff(&mut self) {
        let Some(branch) = self.some_branch() else {
            return;
        };
        self.checkout("main");
        match self.try_git(&["merge", "-q", "--no-ff", "--no-edit", &branch]) {
            Ok(_) => {
                let head = self.head();
                self.note(&format!("merge --no-ff {branch}: {head}"));
            }
            Err(_) => {
                self.recover(&["merge", "--abort"]);
                self.note(&format!("merge --no-ff {branch}: conflict, aborted"));
            }
        }
    }

    fn merge_squash(&mut self) {
        let Some(branch) = self.some_branch() else {
            return;
        };
        self.checkout("main");
        if self.try_git(&["merge", "-q", "--squash", &branch]).is_err() {
            self.recover(&["merge", "--abort"]);
            self.note(&format!("merge --squash {branch}: conflict, abandoned"));
            return;
        }
        if self.try_git(&["diff", "--cached", "--quiet"]).is_ok() {
            self.note(&format!("merge --squash {branch}: nothing to squash"));
            return;
        }
        if let Some(why) = self.ambiguous_pending() {
            self.recover(&["merge", "--abort"]);
            self.note(&format!(
                "merge --squash {branch}: would remove {why}, abandoned"
            ));
            return;
        }
        let message = format!("step {} squash {branch}", self.step);
        self.git(&["commit", "-q", "-m", &message]);
        let head = self.head();
        self.note(&format!("merge --squash {branch}: {head}"));
        // As a server deletes a squashed pull request's branch: its commits live on in reflogs.
        if self.rng.percent(70) {
            self.git(&["branch", "-q", "-D", &branch]);
            self.branches.retain(|live| *live != branch);
            self.note(&format!("branch -D {branch}"));
        }
    }

    fn rebase(&mut self) {
        if self.current == "main" {
            let Some(branch) = self.some_branch() else {
                return;
            };
            self.checkout(&branch);
        }
        self.commit_pending();
        match self.try_git(&["rebase", "-q", "main"]) {
            Ok(_) => {
                let head = self.head();
                self.note(&format!("rebase onto main: {head}"));
            }
            Err(_) => {
                self.recover(&["rebase", "--abort"]);
                self.note("rebase onto main: conflict, aborted");
            }
        }
    }

    fn cherry_pick(&mut self) {
        let Some(branch) = self.some_branch() else {
            return;
        };
        self.checkout("main");
        let candidates: Vec<String> = self
            .git(&[
                "rev-list",
                "--topo-order",
                "--no-merges",
                &format!("main..{branch}"),
            ])
            .lines()
            .map(str::to_owned)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let commit = candidates[self.rng.below(candidates.len())].clone();
        let short = &commit[..8];
        match self.try_git(&["cherry-pick", &commit]) {
            Ok(_) => {
                let head = self.head();
                self.note(&format!("cherry-pick {short} from {branch}: {head}"));
            }
            Err(_) => {
                self.recover(&["cherry-pick", "--abort"]);
                self.note(&format!(
                    "cherry-pick {short} from {branch}: failed, aborted"
                ));
            }
        }
    }

    fn amend(&mut self) {
        let parents = self.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
        // Not a merge, and not the root commit.
        if parents.split_whitespace().count() != 2 {
            return;
        }
        // The amended commit's diff holds the amended one's and what is pending together.
        if let Some(why) = self.ambiguous_since("HEAD^") {
            self.note(&format!(
                "commit --amend would remove {why}: a new commit instead"
            ));
            self.commit_pending();
            return;
        }
        self.git(&["add", "-A"]);
        let message = format!("step {} (amended)", self.step);
        self.git(&["commit", "-q", "--amend", "-m", &message]);
        let head = self.head();
        self.note(&format!("commit --amend: {head}"));
    }

    fn revert(&mut self) {
        self.commit_pending();
        let own = format!("{}_", self.current);
        let candidates: Vec<String> = self
            .git(&[
                "rev-list",
                "--topo-order",
                "--no-merges",
                "-n",
                "12",
                "HEAD",
            ])
            .lines()
            .map(str::to_owned)
            .filter(|commit| {
                let files = self.git(&["diff-tree", "--no-commit-id", "--name-only", "-r", commit]);
                !files.trim().is_empty() && files.lines().all(|file| file.starts_with(&own))
            })
            .collect();
        if candidates.is_empty() {
            return;
        }
        let commit = candidates[self.rng.below(candidates.len())].clone();
        let short = &commit[..8];
        match self.try_git(&["revert", "--no-commit", &commit]) {
            Ok(_) => {
                if let Some(why) = self.ambiguous_pending() {
                    self.recover(&["revert", "--abort"]);
                    return self.note(&format!("revert {short}: would remove {why}, not done"));
                }
                if self.try_git(&["diff", "--cached", "--quiet"]).is_ok() {
                    self.recover(&["revert", "--abort"]);
                    return self.note(&format!("revert {short}: nothing to revert"));
                }
                self.git(&["commit", "-q", "--no-edit"]);
                let head = self.head();
                self.note(&format!("revert {short}: {head}"));
            }
            Err(_) => {
                self.recover(&["revert", "--abort"]);
                self.note(&format!("revert {short}: failed, aborted"));
            }
        }
    }

    /// Stashes what is pending, lets an agent edit and commit meanwhile, then pops the stash and
    /// commits (a pop that conflicts is dropped).
    fn stash(&mut self) {
        if !self.dirty() {
            return;
        }
        // Often the file the stash holds changes of, so that the popped lines were never on disk
        // together with what was committed meanwhile.
        let own = format!("{}_", self.current);
        let stashed: Vec<String> = self
            .git(&["diff", "--name-only", "HEAD"])
            .lines()
            .filter(|file| file.starts_with(&own) && !file.ends_with(".truth"))
            .map(str::to_owned)
            .collect();
        self.git(&["stash", "push", "-q", "-u"]);
        self.note("stash");
        match stashed.first() {
            Some(file) if self.rng.percent(60) => {
                let file = file.clone();
                self.ai_insert_into(&file);
            }
            _ => self.ai_insert(),
        }
        self.commit_pending();
        match self.try_git(&["stash", "pop", "-q"]) {
            Ok(_) => {
                if let Some(why) = self.ambiguous_pending() {
                    self.git(&["reset", "-q", "--hard", "HEAD"]);
                    self.git(&["clean", "-q", "-f", "-d"]);
                    self.note(&format!("stash pop: would remove {why}, dropped"));
                    return;
                }
                self.note("stash pop");
                self.commit_pending();
            }
            Err(_) => {
                self.git(&["reset", "-q", "--hard", "HEAD"]);
                self.git(&["stash", "drop", "-q"]);
                self.note("stash pop: conflict, dropped");
            }
        }
    }

    /// Undoes a failed operation: `abort`, and whatever it leaves behind. The work tree was clean
    /// before every operation that can fail.
    fn recover(&self, abort: &[&str]) {
        let _ = self.try_git(abort);
        for quit in [["cherry-pick", "--quit"], ["revert", "--quit"]] {
            let _ = self.try_git(&quit);
        }
        self.git(&["reset", "-q", "--hard", "HEAD"]);
    }

    fn maybe_link(&mut self) {
        if self.step < self.link_down_until {
            self.note("link: no daemon runs");
            return;
        }
        let answer = self.link();
        let linked = answer["linked"].as_array().map_or(0, Vec::len);
        let landed = answer["landed"].as_array().map_or(0, Vec::len);
        self.note(&format!("link: {linked} linked, {landed} landed"));
        if self.rng.percent(25) {
            self.link_down_until = self.step + 3 + self.rng.below(8);
            let until = self.link_down_until;
            self.note(&format!("no daemon runs until step {until}"));
        }
    }

    fn link(&mut self) -> Value {
        self.link_runs += 1;
        link(&self.ws)
    }

    // The final checks.

    /// Lands what merges cleanly, links, and checks every commit and every branch tip.
    fn check(&mut self) -> Findings {
        self.checkout("main");
        let branches = self.branches.clone();
        for branch in &branches[1..] {
            self.step += 1;
            self.merge_into_main(branch);
        }
        self.link();
        let again = self.link();
        assert_eq!(
            (
                again["linked"].as_array().map(Vec::len),
                again["landed"].as_array().map(Vec::len)
            ),
            (Some(0), Some(0)),
            "seed {:#x}: a second link found more: {again:#}",
            self.seed
        );
        let history = History::read(self);
        let mut findings = Findings::default();
        self.check_commits(&history, &mut findings);
        for branch in self.branches.clone() {
            self.check_tip(&history, &branch, &mut findings);
        }
        findings
    }

    fn merge_into_main(&mut self, branch: &str) {
        match self.try_git(&["merge", "-q", "--no-ff", "--no-edit", branch]) {
            Ok(_) => {
                let head = self.head();
                self.note(&format!("final merge --no-ff {branch}: {head}"));
            }
            Err(_) => {
                self.recover(&["merge", "--abort"]);
                self.note(&format!("final merge --no-ff {branch}: conflict, aborted"));
            }
        }
    }

    /// The truth of `file` at a commit: `None` when its companion is out of step (desynced);
    /// a file without one predates capture (every line `untracked`, no id).
    fn truth_at(
        &self,
        history: &History,
        commit: &str,
        file: &str,
        lines: &[&str],
    ) -> Option<Vec<Option<usize>>> {
        match history.text(commit, &Run::companion(file)) {
            None => Some(vec![None; lines.len()]),
            Some(text) => {
                let ids = Run::parse_ids(&text);
                self.in_step(&ids, lines)
                    .then(|| ids.into_iter().map(Some).collect())
            }
        }
    }

    fn truth_label(&self, id: Option<usize>) -> Label {
        id.map_or(Label::Untracked, |id| self.label(id).clone())
    }

    /// Every commit: what `export agent-trace` says it added against the ids new in it.
    fn check_commits(&self, history: &History, findings: &mut Findings) {
        // Lines added to companions, which linking must count as excluded.
        let (mut excluded, mut new_lines) = (0, 0);
        for commit in &history.commits {
            if commit.parents.is_empty() {
                continue; // The root commit predates capture.
            }
            let short = &commit.sha[..8];
            let place = format!("commit {short} ({})", commit.subject);
            let reported = match history.records.get(&commit.sha) {
                Some(record) => {
                    excluded += record["metadata"]["dev.prodcode"]["excluded"]
                        .as_u64()
                        .unwrap_or(0);
                    reported_lines(record)
                }
                None => {
                    findings.summary.unlinked += 1;
                    findings
                        .notes
                        .push(format!("{place}: never linked, not checked"));
                    continue;
                }
            };
            findings.summary.commits += 1;
            let mut parent_ids: HashSet<usize> = HashSet::new();
            for parent in &commit.parents {
                for file in history.files(parent) {
                    if file.ends_with(".truth")
                        && let Some(text) = history.text(parent, &file)
                    {
                        parent_ids.extend(Run::parse_ids(&text));
                    }
                }
            }
            for file in reported.keys() {
                assert!(
                    !file.ends_with(".truth") && history.text(&commit.sha, file).is_some(),
                    "seed {:#x}: {place} reports lines of {file}",
                    self.seed
                );
            }
            for file in history.files(&commit.sha) {
                if file.ends_with(".truth") {
                    continue;
                }
                let text = history.text(&commit.sha, &file).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let Some(ids) = self.truth_at(history, &commit.sha, &file, &lines) else {
                    findings.summary.desyncs += 1;
                    findings
                        .notes
                        .push(format!("desynced: {file} at {place}, skipped"));
                    continue;
                };
                // The run keeps such diffs out (see `ambiguous_change`); any left are said.
                let mut place = place.clone();
                if let [parent] = commit.parents.as_slice()
                    && let Some(text) = history.text(parent, &Run::companion(&file))
                {
                    let after: Vec<usize> = ids.iter().flatten().copied().collect();
                    if let Some(why) = self.ambiguous_change(&Run::parse_ids(&text), &after) {
                        findings.summary.ambiguous += 1;
                        findings
                            .notes
                            .push(format!("ambiguous diff: {file} at {place} removes {why}"));
                        place.push_str(" [ambiguous diff]");
                    }
                }
                let (truth, kept): (Vec<Entry>, Vec<Entry>) = ids
                    .iter()
                    .zip(&lines)
                    .map(|(id, line)| Entry {
                        content: (*line).to_owned(),
                        label: self.truth_label(*id),
                        id: *id,
                    })
                    .partition(|entry| entry.id.is_some_and(|id| !parent_ids.contains(&id)));
                let got: Vec<(String, Label)> = reported
                    .get(&file)
                    .map(|numbered| {
                        numbered
                            .iter()
                            .map(|(number, label)| {
                                let line = lines.get(number - 1).unwrap_or_else(|| {
                                    panic!("{place}: {file} has no line {number}")
                                });
                                ((*line).to_owned(), label.clone())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                new_lines += truth.len();
                if truth.is_empty() && got.is_empty() {
                    continue;
                }
                let mut tally = Tally::default();
                self.compare(&place, &file, &truth, &kept, &got, &mut tally, findings);
                findings.summary.commit.add(&tally);
            }
        }
        assert!(
            excluded > 0 || new_lines == 0,
            "seed {:#x}: no commit excluded a line: are the .truth files linked?",
            self.seed
        );
    }

    /// A branch tip: every line `blame --rev` reports against every line's truth.
    fn check_tip(&self, history: &History, branch: &str, findings: &mut Findings) {
        let tip = self.git(&["rev-parse", branch]).trim().to_owned();
        let place = format!("tip {branch} ({})", &tip[..8]);
        findings.summary.tips += 1;
        for file in history.files(&tip) {
            if file.ends_with(".truth") {
                continue;
            }
            let text = history.text(&tip, &file).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let blamed = blame_rev(&self.ws, &tip, &file);
            assert_eq!(
                lines.len(),
                blamed.len(),
                "seed {:#x}: blame of {file} --rev {branch} has {} lines, the file {}",
                self.seed,
                blamed.len(),
                lines.len()
            );
            let Some(ids) = self.truth_at(history, &tip, &file, &lines) else {
                findings.summary.desyncs += 1;
                findings
                    .notes
                    .push(format!("desynced: {file} at {place}, skipped"));
                continue;
            };
            let truth: Vec<Entry> = ids
                .iter()
                .zip(&lines)
                .map(|(id, line)| Entry {
                    content: (*line).to_owned(),
                    label: self.truth_label(*id),
                    id: *id,
                })
                .collect();
            let got: Vec<(String, Label)> = lines
                .iter()
                .zip(&blamed)
                .filter_map(|(line, (class, interaction))| {
                    Label::from_report(class, interaction.as_deref())
                        .map(|label| ((*line).to_owned(), label))
                })
                .collect();
            let mut tally = Tally::default();
            self.compare(&place, &file, &truth, &[], &got, &mut tally, findings);
            findings.summary.tip.add(&tally);
        }
    }

    /// Compares the multisets of `(content, label)`: reported beyond the truth is a
    /// misattribution, AI truth not reported a gap.
    ///
    /// `kept` (at a commit: the lines it did not add) answers for one thing only: a diff may
    /// show an unchanged line as removed and added again (a move among equal lines), so when a
    /// report says more lines of one content were added than are new, that many reported lines
    /// may carry the truth of old lines of that content. A new line credited wrongly is never
    /// excused so: its content is counted among the new ones.
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        place: &str,
        file: &str,
        truth: &[Entry],
        kept: &[Entry],
        got: &[(String, Label)],
        tally: &mut Tally,
        findings: &mut Findings,
    ) {
        let mut by_content: BTreeMap<&str, (Vec<&Entry>, BTreeMap<&Label, usize>)> =
            BTreeMap::new();
        for entry in truth {
            by_content.entry(&entry.content).or_default().0.push(entry);
        }
        let mut old: HashMap<&str, Vec<&Label>> = HashMap::new();
        for entry in kept {
            old.entry(&entry.content).or_default().push(&entry.label);
        }
        for (content, label) in got {
            *by_content
                .entry(content)
                .or_default()
                .1
                .entry(label)
                .or_default() += 1;
        }
        for (content, (entries, mut reported)) in by_content {
            let mut moved = reported
                .values()
                .sum::<usize>()
                .saturating_sub(entries.len());
            let mut old = old.get(content).cloned().unwrap_or_default();
            tally.lines += entries.len();
            tally.ai_lines += entries.iter().filter(|entry| entry.label.is_ai()).count();
            // Truth the report reproduces is matched; what is left on either side is not.
            let mut unmatched: Vec<&Entry> = Vec::new();
            let mut unknown = 0;
            for entry in entries {
                if entry.label == Label::Unknown {
                    unknown += 1;
                    continue;
                }
                match reported.get_mut(&entry.label) {
                    Some(count) if *count > 0 => *count -= 1,
                    _ => unmatched.push(entry),
                }
            }
            for entry in &unmatched {
                if entry.label.is_ai() {
                    tally.gaps += 1;
                    findings.gaps.push(format!(
                        "seed {:#x} {place} {file}: {content:?} truth {} (t{}, step {}) not \
                         reported",
                        self.seed,
                        entry.label,
                        entry.id.map_or(0, |id| id),
                        entry.id.map_or(0, |id| self.lines[id].step)
                    ));
                }
            }
            let candidates = self.entries(&unmatched);
            for (label, count) in reported {
                for _ in 0..count {
                    if unknown > 0 {
                        unknown -= 1;
                        tally.unknown += 1;
                        continue;
                    }
                    if moved > 0
                        && let Some(index) = old.iter().position(|truth| *truth == label)
                    {
                        old.remove(index);
                        moved -= 1;
                        tally.moved += 1;
                        continue;
                    }
                    // The unmatched truth it most likely stands for: same interaction, then AI.
                    let partner = unmatched
                        .iter()
                        .position(|entry| {
                            entry.label.interaction().is_some()
                                && entry.label.interaction() == label.interaction()
                        })
                        .or_else(|| unmatched.iter().position(|entry| entry.label.is_ai()))
                        .or(if unmatched.is_empty() { None } else { Some(0) })
                        .map(|index| unmatched.remove(index));
                    let kind = misattribution_kind(label, partner.map(|entry| &entry.label));
                    let at = if place.starts_with("tip") {
                        "tip"
                    } else {
                        "commit"
                    };
                    *findings
                        .summary
                        .kinds
                        .entry(format!("{at}: {kind}"))
                        .or_default() += 1;
                    tally.misattributions += 1;
                    let truth = match partner {
                        Some(entry) => self.entries(&[entry]),
                        None => "none: no such line new here".to_owned(),
                    };
                    // Which of several equal lines is "the" misattributed one is arbitrary:
                    // every unreproduced truth of this content is listed.
                    findings.misattributions.push(format!(
                        "seed {:#x} {place} {file}: {content:?} reported {label} beyond the \
                         truth [{kind}]; truth {truth}; all truth of this content not \
                         reproduced here: [{candidates}]; every line with this content written \
                         to {file}: {}",
                        self.seed,
                        self.written(file, content)
                    ));
                }
            }
        }
    }

    fn entries(&self, entries: &[&Entry]) -> String {
        let shown: Vec<String> = entries
            .iter()
            .map(|entry| match entry.id {
                Some(id) => {
                    let line = &self.lines[id];
                    format!("t{id} {} (step {}, {})", entry.label, line.step, line.how)
                }
                None => format!("{} (before capture)", entry.label),
            })
            .collect();
        shown.join("; ")
    }

    /// Every line with this content ever written to `file`: id, truth, step, how.
    fn written(&self, file: &str, content: &str) -> String {
        let all: Vec<String> = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.file == file && line.content == content)
            .map(|(id, line)| format!("t{id} {} step {} ({})", line.label, line.step, line.how))
            .collect();
        if all.len() > 10 {
            format!("{} of them, first: {}", all.len(), all[..10].join("; "))
        } else {
            all.join("; ")
        }
    }
}

/// One line of the truth multiset.
struct Entry {
    content: String,
    label: Label,
    /// `None` before capture.
    id: Option<usize>,
}

fn misattribution_kind(reported: &Label, truth: Option<&Label>) -> String {
    let Some(truth) = truth else {
        return format!("{} for a line that is not new here", reported.class());
    };
    let article = if truth.class().starts_with(['a', 'u']) {
        "an"
    } else {
        "a"
    };
    match (reported.interaction(), truth.interaction()) {
        (Some(got), Some(was)) if got != was => format!(
            "{} of the wrong interaction for {article} {} line",
            reported.class(),
            truth.class()
        ),
        _ => format!("{} for {article} {} line", reported.class(), truth.class()),
    }
}

/// What `export agent-trace` says one commit added: per file, `(line number, label)`.
fn reported_lines(record: &Value) -> HashMap<String, Vec<(usize, Label)>> {
    let mut files: HashMap<String, Vec<(usize, Label)>> = HashMap::new();
    for file in record["files"].as_array().into_iter().flatten() {
        let path = file["path"].as_str().unwrap().to_owned();
        for conversation in file["conversations"].as_array().into_iter().flatten() {
            let interaction = conversation["url"].as_str().map(|url| {
                let encoded = url
                    .strip_prefix("prodcode:interaction/")
                    .unwrap_or_else(|| panic!("an interaction url: {url}"));
                percent_decode(encoded)
            });
            let kind = conversation["contributor"]["type"].as_str().unwrap();
            for range in conversation["ranges"].as_array().into_iter().flatten() {
                let kind = range["contributor"]["type"].as_str().unwrap_or(kind);
                let label = match (kind, &interaction) {
                    ("ai", Some(id)) => Label::Ai(id.clone()),
                    ("mixed", Some(id)) => Label::AiModified(id.clone()),
                    ("human", None) => Label::Human,
                    other => panic!("a conversation with no sense: {other:?} in {record}"),
                };
                let start = range["start_line"].as_u64().unwrap() as usize;
                let end = range["end_line"].as_u64().unwrap() as usize;
                let entry = files.entry(path.clone()).or_default();
                for line in start..=end {
                    entry.push((line, label.clone()));
                }
            }
        }
    }
    files
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' && at + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// One commit of the final history.
struct Commit {
    sha: String,
    parents: Vec<String>,
    subject: String,
}

/// The final history, read once: every commit, its files' blobs, and the export records.
struct History {
    commits: Vec<Commit>,
    /// Per commit: path -> blob id.
    trees: HashMap<String, BTreeMap<String, String>>,
    blobs: HashMap<String, Vec<u8>>,
    records: HashMap<String, Value>,
}

impl History {
    fn read(run: &Run) -> History {
        let commits: Vec<Commit> = run
            .git(&["log", "--all", "--format=%H%x09%P%x09%s"])
            .lines()
            .map(|line| {
                let mut fields = line.splitn(3, '\t');
                let sha = fields.next().unwrap().to_owned();
                let parents = fields
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                let subject = fields.next().unwrap_or_default().to_owned();
                Commit {
                    sha,
                    parents,
                    subject,
                }
            })
            .collect();
        let listed: HashSet<String> = run
            .git(&["rev-list", "--all"])
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            listed.len(),
            commits.len(),
            "git log --all and rev-list --all"
        );
        let mut trees = HashMap::new();
        let mut wanted = HashSet::new();
        for commit in &commits {
            let mut tree = BTreeMap::new();
            for entry in run.git(&["ls-tree", "-r", &commit.sha]).lines() {
                let (meta, path) = entry.split_once('\t').unwrap();
                let blob = meta.split_whitespace().nth(2).unwrap().to_owned();
                wanted.insert(blob.clone());
                tree.insert(path.to_owned(), blob);
            }
            trees.insert(commit.sha.clone(), tree);
        }
        let wanted: Vec<String> = wanted.into_iter().collect();
        let blobs = git_blobs(&run.ws.root, &wanted);
        // Every commit but the root is reachable from a branch: one export per branch.
        let root = commits
            .iter()
            .find(|commit| commit.parents.is_empty())
            .map(|commit| commit.sha.clone())
            .unwrap();
        let mut records = HashMap::new();
        for branch in &run.branches {
            for record in export_agent_trace(&run.ws, &format!("{root}..{branch}")) {
                let sha = record["vcs"]["revision"].as_str().unwrap().to_owned();
                records.insert(sha, record);
            }
        }
        History {
            commits,
            trees,
            blobs,
            records,
        }
    }

    fn files(&self, commit: &str) -> Vec<String> {
        self.trees[commit].keys().cloned().collect()
    }

    fn text(&self, commit: &str, file: &str) -> Option<String> {
        let blob = self.trees.get(commit)?.get(file)?;
        Some(String::from_utf8_lossy(&self.blobs[blob]).into_owned())
    }
}
