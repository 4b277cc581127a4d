//! A seeded randomized run of AI edits (through `prodcode hook claude`), a person's edits (through
//! the daemon) and git operations (commits, branches, fast-forward, `--no-ff` and `--squash`
//! merges, rebases, cherry-picks, amends, reverts), with `prodcode link` at random moments and
//! sometimes not for several steps.
//!
//! The daemon links whatever is new when it opens a document, so a person's edit is modelled as
//! the daemon coming up (a `link`), the edit, and the daemon going down again; while "no daemon
//! runs" (nothing links for several steps) the person does not edit, and the agents go on.
//!
//! Every line ever written is unique and remembers its ground truth: `ai` of the session that
//! wrote it, `human` when typed, `ai_modified` of X when a person changed a line that was X's,
//! `untracked` when it predates capture (the initial README). At the end every branch is merged
//! into main where it merges cleanly, and every line of every file at main (and at each branch
//! tip) is checked through `prodcode blame --rev`: a **misattribution** is a line reported with a
//! class or interaction that is neither its truth nor `untracked`, and there must be none; a
//! **gap** is a line reported `untracked` that is not, allowed but counted and printed (run with
//! `--nocapture` to see the rates; set `PRODCODE_LINK_RANDOM_LOG=1` to see every step and gap).
//!
//! Conflicts are avoided by giving each branch its own files; an operation that conflicts anyway
//! is aborted and the run goes on.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{
    Claude, Editor, Workspace, blame_rev, git_env, git_graph, git_try, human_edit, link,
};

const STEPS: usize = 120;
const SESSIONS: usize = 3;

#[test]
fn randomized_history_seed_1() {
    check_seed(0x5EED_0001);
}

#[test]
fn randomized_history_seed_2() {
    check_seed(0x5EED_0002);
}

#[test]
fn randomized_history_seed_3() {
    check_seed(0x5EED_0003);
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
}

/// Where a line came from.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Truth {
    class: &'static str,
    interaction: Option<String>,
    /// The step that wrote the line (0: before capture).
    step: usize,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    AiInsert,
    AiReplace,
    HumanInsert,
    HumanModify,
    HumanDelete,
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
const WEIGHTS: [(Op, usize); 17] = [
    (Op::AiInsert, 18),
    (Op::AiReplace, 8),
    (Op::HumanInsert, 9),
    (Op::HumanModify, 12),
    (Op::HumanDelete, 3),
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
    truth: HashMap<String, Truth>,
    /// Live branches, main first.
    branches: Vec<String>,
    /// Branches ever made (names are never reused: files belong to a branch by name).
    branches_made: usize,
    current: String,
    next_line: u64,
    step: usize,
    log: Vec<String>,
    /// No daemon runs before this step: nothing links, and the person does not edit.
    link_down_until: usize,
    link_runs: usize,
}

/// What the final check found.
#[derive(Default)]
struct Findings {
    /// Lines checked at main, and of them gaps.
    main_lines: usize,
    main_gaps: usize,
    /// Lines checked at every branch tip, main included, and of them gaps.
    lines: usize,
    gaps: Vec<String>,
    misattributions: Vec<String>,
}

fn check_seed(seed: u64) {
    let mut run = Run::new(seed);
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        for _ in 0..STEPS {
            run.step += 1;
            let op = run.pick();
            run.apply(op);
        }
        run.check()
    }));
    let findings = match outcome {
        Ok(findings) => findings,
        Err(panic) => {
            eprintln!(
                "link_random seed {seed:#x} panicked at step {}; steps:\n{}",
                run.step,
                run.log.join("\n")
            );
            std::panic::resume_unwind(panic);
        }
    };
    let rate = |gaps: usize, lines: usize| {
        if lines == 0 {
            0.0
        } else {
            100.0 * gaps as f64 / lines as f64
        }
    };
    eprintln!(
        "link_random seed {seed:#x}: main {} lines, {} gaps ({:.1}%); all branch tips {} lines, \
         {} gaps ({:.1}%); {} misattributions; {} link runs over {} steps",
        findings.main_lines,
        findings.main_gaps,
        rate(findings.main_gaps, findings.main_lines),
        findings.lines,
        findings.gaps.len(),
        rate(findings.gaps.len(), findings.lines),
        findings.misattributions.len(),
        run.link_runs,
        run.step
    );
    if std::env::var_os("PRODCODE_LINK_RANDOM_LOG").is_some() {
        eprintln!(
            "seed {seed:#x} steps:\n{}\ngaps:\n{}",
            run.log.join("\n"),
            findings.gaps.join("\n")
        );
    }
    assert!(
        findings.misattributions.is_empty(),
        "seed {seed:#x}: {} misattributions:\n{}\nsteps:\n{}\ngit log:\n{}",
        findings.misattributions.len(),
        findings.misattributions.join("\n"),
        run.log.join("\n"),
        git_graph(&run.ws.root)
    );
}

impl Run {
    fn new(seed: u64) -> Run {
        let ws = Workspace::new();
        let editor = Editor::new(&ws);
        let sessions = (0..SESSIONS)
            .map(|k| Claude::start(&ws, &format!("r{k}")))
            .collect();
        let mut truth = HashMap::new();
        truth.insert(
            "sample".to_owned(),
            Truth {
                class: "untracked",
                interaction: None,
                step: 0,
            },
        );
        Run {
            seed,
            rng: Rng(seed),
            ws,
            editor,
            sessions,
            truth,
            branches: vec!["main".to_owned()],
            branches_made: 0,
            current: "main".to_owned(),
            next_line: 0,
            step: 0,
            log: Vec::new(),
            link_down_until: 0,
            link_runs: 0,
        }
    }

    fn pick(&mut self) -> Op {
        let total: usize = WEIGHTS.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.rng.below(total);
        for (op, weight) in WEIGHTS {
            if roll < weight {
                return op;
            }
            roll -= weight;
        }
        unreachable!()
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::AiInsert => self.ai_insert(),
            Op::AiReplace => self.ai_replace(),
            Op::HumanInsert => self.human_insert(),
            Op::HumanModify => self.human_modify(),
            Op::HumanDelete => self.human_delete(),
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

    fn fresh(&mut self) -> u64 {
        self.next_line += 1;
        self.next_line
    }

    fn remember(&mut self, line: &str, class: &'static str, interaction: Option<String>) {
        let previous = self.truth.insert(
            line.to_owned(),
            Truth {
                class,
                interaction,
                step: self.step,
            },
        );
        assert!(previous.is_none(), "line {line:?} is not unique");
    }

    // Edits. Each branch edits only its own two files.

    fn own_file(&mut self) -> String {
        format!("{}_{}.txt", self.current, self.rng.below(2))
    }

    fn path(&self, file: &str) -> PathBuf {
        self.ws.path(file)
    }

    fn lines(&self, file: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(file))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn text(lines: &[String]) -> String {
        lines.iter().map(|line| format!("{line}\n")).collect()
    }

    fn ai_write(&mut self, session: usize, file: &str, lines: &[String]) {
        let path = self.path(file);
        self.sessions[session].write(&path, &Run::text(lines));
    }

    fn ai_insert(&mut self) {
        let file = self.own_file();
        self.ai_insert_into(&file);
    }

    fn ai_insert_into(&mut self, file: &str) {
        let session = self.rng.below(SESSIONS);
        let file = file.to_owned();
        let mut lines = self.lines(&file);
        let at = self.rng.below(lines.len() + 1);
        let count = 1 + self.rng.below(3);
        let interaction = self.sessions[session].interaction();
        for offset in 0..count {
            let line = format!("ai r{session} {}", self.fresh());
            self.remember(&line, "ai", Some(interaction.clone()));
            lines.insert(at + offset, line);
        }
        self.ai_write(session, &file, &lines);
        self.note(&format!(
            "AI r{session} inserts {count} lines at {at} of {file}"
        ));
    }

    fn ai_replace(&mut self) {
        let file = self.own_file();
        let mut lines = self.lines(&file);
        if lines.is_empty() {
            return self.ai_insert();
        }
        let session = self.rng.below(SESSIONS);
        let at = self.rng.below(lines.len());
        let old = lines[at].clone();
        if self.rng.percent(30) {
            lines.remove(at);
            self.ai_write(session, &file, &lines);
            self.note(&format!("AI r{session} deletes {old:?} from {file}"));
            return;
        }
        let line = format!("ai r{session} {}", self.fresh());
        let interaction = self.sessions[session].interaction();
        self.remember(&line, "ai", Some(interaction));
        lines[at] = line.clone();
        self.ai_write(session, &file, &lines);
        self.note(&format!(
            "AI r{session} replaces {old:?} with {line:?} in {file}"
        ));
    }

    fn human_write(&mut self, file: &str, lines: &[String]) {
        let path = self.path(file);
        human_edit(&mut self.editor, &path, &Run::text(lines));
    }

    /// Whether the person can edit now: the daemon comes up and links what is new first.
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

    fn human_insert(&mut self) {
        if !self.editor_up() {
            return self.ai_insert();
        }
        let file = self.own_file();
        let mut lines = self.lines(&file);
        let at = self.rng.below(lines.len() + 1);
        let line = format!("human {}", self.fresh());
        self.remember(&line, "human", None);
        lines.insert(at, line.clone());
        self.human_write(&file, &lines);
        self.note(&format!("person types {line:?} at {at} of {file}"));
    }

    fn human_modify(&mut self) {
        let file = self.own_file();
        let mut lines = self.lines(&file);
        if lines.is_empty() {
            return self.human_insert();
        }
        if !self.editor_up() {
            return self.ai_insert();
        }
        let at = self.rng.below(lines.len());
        let old = lines[at].clone();
        let line = format!("{old} ~h{}", self.fresh());
        let truth = self
            .truth
            .get(&old)
            .unwrap_or_else(|| panic!("no truth for {old:?}"))
            .clone();
        match truth.class {
            "ai" | "ai_modified" => self.remember(&line, "ai_modified", truth.interaction),
            _ => self.remember(&line, "human", None),
        }
        lines[at] = line.clone();
        self.human_write(&file, &lines);
        self.note(&format!("person changes {old:?} to {line:?} in {file}"));
    }

    fn human_delete(&mut self) {
        let file = self.own_file();
        let mut lines = self.lines(&file);
        if lines.is_empty() {
            return self.human_insert();
        }
        if !self.editor_up() {
            return self.ai_insert();
        }
        let at = self.rng.below(lines.len());
        let old = lines.remove(at);
        self.human_write(&file, &lines);
        self.note(&format!("person deletes {old:?} from {file}"));
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
            .git(&["rev-list", "--no-merges", &format!("main..{branch}")])
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
            .git(&["rev-list", "--no-merges", "-n", "12", "HEAD"])
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
        match self.try_git(&["revert", "--no-edit", &commit]) {
            Ok(_) => {
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
            .filter(|file| file.starts_with(&own))
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

    // The final check.

    /// Lands what merges cleanly, links, and checks every line of every branch tip.
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
        let mut findings = Findings::default();
        for branch in self.branches.clone() {
            let (lines, gaps) = self.check_ref(&branch, &mut findings);
            if branch == "main" {
                findings.main_lines = lines;
                findings.main_gaps = gaps;
            }
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

    /// Checks every line of every file at `rev`; how many lines, and how many were gaps.
    fn check_ref(&self, rev: &str, findings: &mut Findings) -> (usize, usize) {
        let (mut lines_seen, mut gaps_seen) = (0, 0);
        let files = self.git(&["ls-tree", "-r", "--name-only", rev]);
        for file in files.lines() {
            let committed = self.git(&["show", &format!("{rev}:{file}")]);
            let reported = blame_rev(&self.ws, rev, file);
            let lines: Vec<&str> = committed.lines().collect();
            assert_eq!(
                lines.len(),
                reported.len(),
                "seed {:#x}: blame of {file} --rev {rev} has {} lines, the file {}",
                self.seed,
                reported.len(),
                lines.len()
            );
            for (index, (line, (class, interaction))) in lines.iter().zip(&reported).enumerate() {
                let truth = self
                    .truth
                    .get(*line)
                    .unwrap_or_else(|| panic!("{rev}:{file}:{}: unknown line {line:?}", index + 1));
                lines_seen += 1;
                findings.lines += 1;
                if class == truth.class && *interaction == truth.interaction {
                    continue;
                }
                let finding = format!(
                    "seed {:#x} {rev}:{file}:{} {line:?}: truth {} {} (step {}), got {class} {}",
                    self.seed,
                    index + 1,
                    truth.class,
                    truth.interaction.as_deref().unwrap_or("-"),
                    truth.step,
                    interaction.as_deref().unwrap_or("-"),
                );
                if class == "untracked" {
                    gaps_seen += 1;
                    findings.gaps.push(finding);
                } else {
                    findings.misattributions.push(finding);
                }
            }
        }
        (lines_seen, gaps_seen)
    }
}
