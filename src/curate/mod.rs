//! Curation: from the provenance log to execution-checked benchmark tasks (ProdCodeBench's
//! method). A task is a verbatim single-turn prompt, the change that landed on main, and tests
//! that fail without the change and pass with it, stable over several runs.
//!
//! The funnel, in order, with every candidate's fate recorded:
//! 1. **interactions** of the repository (since `--since`);
//! 2. **single turn**: one prompt, and the session over (its hook session closed, or idle);
//! 3. **landed**: its AI lines are in commits on main (by any route `link` follows);
//! 4. **one intent**: those commits carry no other interaction's AI lines, follow each other on
//!    main, and the interaction wrote at least `min_ai_share` of their added lines;
//! 5. **prompt filters** (`filters`): templates, a prompt naming the change by id or quoting the
//!    solution, a change to documentation, configuration or comments only, the optional
//!    classifier;
//! 6. **backs out**: the change is reverted (three-way, as `git revert`) on the head of main, or
//!    the landed commit's parent is used (`--base`), in a scratch clone (`git::Scratch`);
//! 7. **has tests**: a test runner is found and the suite reports tests;
//! 8. **stable F2P** (`stability`): the suite runs `runs` times before (base + test patch) and
//!    after (base + test patch + solution); at least one test fails in every run before and
//!    passes in every run after; then every task passes its own check, running exactly its F2P
//!    and P2P ids in both states.
//!
//! Kept candidates become task directories (`task`); each candidate's outcome is saved as it is
//! decided, so an interrupted run resumes, and `--jobs` candidates run at once, each in its own
//! scratch clone. Test discovery is the whole suite for now: exact, and affordable on the
//! small repositories the pipeline has been tried on.
//!
//! Invariants: the store is only read; git is written only through `git::Scratch`; every test
//! run has a timeout; a candidate's failure (a git error, a runner that cannot start) drops that
//! candidate with the error as its reason and never stops the others.

pub mod coverage;
pub mod discovery;
pub mod filters;
pub mod split;
pub mod stability;
pub mod task;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::git::{Backout, Repo, Scratch};
use crate::store::{CurationInteraction, MainCommitLines, RepoId, Store, StoreError};
use crate::tools::runner::{self, Runner, RunnerKind, TestRun, TestStatus};
use stability::{Outcomes, Verdict};

/// `[curate]` in `prodcode.toml`.
///
/// ```toml
/// [curate]
/// min_ai_share = 0.5                 # the interaction's share of the change's added lines
/// test_globs = ["qa/**"]             # more test files, beyond the built-in rules
/// templates = ["^/review"]           # prompts that are templates (regular expressions)
/// classifier = ["./label.py"]        # candidate JSON on stdin, labels JSON on stdout
/// idle_minutes = 30                  # a session without a closing hook is over after this
/// timeout_s = 900                    # the most one test run may take
/// tests = "auto"                     # all, related, or auto (all up to small_suite test files)
/// small_suite = 200
/// related = ["tests/smoke/**"]       # test files always run with the related ones
/// ```
#[derive(Clone, PartialEq, Debug, Deserialize)]
#[serde(default)]
pub struct CurateConfig {
    pub min_ai_share: f64,
    pub test_globs: Vec<String>,
    pub templates: Vec<String>,
    pub classifier: Option<crate::tools::runner::CommandLine>,
    pub idle_minutes: u64,
    pub timeout_s: u64,
    pub tests: TestScope,
    pub small_suite: usize,
    pub related: Vec<String>,
}

impl Default for CurateConfig {
    fn default() -> Self {
        CurateConfig {
            min_ai_share: 0.5,
            test_globs: Vec::new(),
            templates: Vec::new(),
            classifier: None,
            idle_minutes: 30,
            timeout_s: 900,
            tests: TestScope::Auto,
            small_suite: 200,
            related: Vec::new(),
        }
    }
}

/// Which tests a candidate's runs cover (`discovery`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestScope {
    /// The whole suite.
    All,
    /// The tests related to the change.
    Related,
    /// The whole suite when it has at most `small_suite` test files, else the related tests.
    Auto,
}

/// Where the base of a task comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BaseMode {
    /// The head of main with the change backed out (rolling).
    Head,
    /// The landed commit's parent.
    Parent,
    /// Head where the change backs out, the parent where it conflicts.
    Auto,
}

impl BaseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BaseMode::Head => "head",
            BaseMode::Parent => "parent",
            BaseMode::Auto => "auto",
        }
    }
}

pub struct Options {
    /// A directory in the repository.
    pub repo: PathBuf,
    pub out: PathBuf,
    /// prodcode's cache directory; scratch clones go under `curate/`.
    pub cache: PathBuf,
    pub since_ms: i64,
    pub runs: u32,
    pub jobs: usize,
    pub base: BaseMode,
    pub allow_p2p_only: bool,
    /// Overrides `[curate] timeout_s`.
    pub timeout: Option<Duration>,
    pub main: Option<String>,
}

/// The funnel's stages, in order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Stage {
    Interactions,
    SingleTurn,
    Landed,
    OneIntent,
    PromptFilters,
    BacksOut,
    HasTests,
    StableF2p,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Interactions,
        Stage::SingleTurn,
        Stage::Landed,
        Stage::OneIntent,
        Stage::PromptFilters,
        Stage::BacksOut,
        Stage::HasTests,
        Stage::StableF2p,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Interactions => "interactions",
            Stage::SingleTurn => "single_turn",
            Stage::Landed => "landed",
            Stage::OneIntent => "one_intent",
            Stage::PromptFilters => "prompt_filters",
            Stage::BacksOut => "backs_out",
            Stage::HasTests => "has_tests",
            Stage::StableF2p => "stable_f2p",
        }
    }

    fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == name)
    }
}

/// What became of one candidate: kept, or dropped at a stage with a reason code and words.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fate {
    /// The stage it failed; [`Stage::StableF2p`] when kept.
    pub stage: Stage,
    pub kept: bool,
    /// A stable code: `multi_turn`, `no_prompt`, `session_open`, `not_landed`,
    /// `several_interactions`, `scattered_commits`, `low_ai_share`, `template`, `names_change`,
    /// `leakage`, `untestable`, `classifier`, `conflict`, `no_test_runner`, `no_tests`,
    /// `no_f2p`, `self_check`, `error`; `kept` when kept.
    pub reason: String,
    pub detail: String,
}

impl Fate {
    fn drop(stage: Stage, reason: &str, detail: impl Into<String>) -> Fate {
        Fate {
            stage,
            kept: false,
            reason: reason.to_owned(),
            detail: detail.into(),
        }
    }
}

/// One interaction's way through the funnel.
#[derive(Clone, PartialEq, Debug)]
pub struct CandidateReport {
    pub interaction_id: String,
    pub prompt: Option<String>,
    /// Set once the candidate reached the stages that work on its change.
    pub instance_id: Option<String>,
    /// The main commits of its change, oldest first.
    pub landed: Vec<String>,
    pub ai_share: Option<f64>,
    pub fate: Fate,
    pub fail_to_pass: usize,
    pub pass_to_pass: usize,
    /// The outcome was read from an earlier run's saved state.
    pub resumed: bool,
}

/// What a run of curation did.
#[derive(Clone, PartialEq, Debug)]
pub struct Report {
    pub repo: PathBuf,
    pub main_ref: String,
    pub head: String,
    pub out: PathBuf,
    pub base: BaseMode,
    pub runs: u32,
    /// How many candidates reached each stage.
    pub funnel: Vec<(Stage, usize)>,
    pub candidates: Vec<CandidateReport>,
    /// The tasks written, by instance id.
    pub tasks: Vec<String>,
    /// Tasks of an earlier run that no longer hold, with why.
    pub retired: Vec<(String, String)>,
    /// The whole run's wall time, and the time spent in test runs summed over workers.
    pub wall_ms: u64,
    pub tests_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CurateError {
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Progress: how many candidates need the heavy stages, then each one's report as it is decided.
pub enum Progress<'a> {
    Started {
        total: usize,
    },
    Decided {
        done: usize,
        total: usize,
        candidate: &'a CandidateReport,
    },
}

/// Runs the funnel over the repository at `options.repo` and writes the tasks to `options.out`.
pub fn curate(
    store: &Store,
    options: &Options,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Report, CurateError> {
    let started = Instant::now();
    let repo = Repo::open(&options.repo)?;
    let root = repo.root().to_path_buf();
    let config = crate::config::load(&root)?;
    let curate_config = config.curate.clone();
    let templates =
        filters::Templates::new(&curate_config.templates).map_err(CurateError::Invalid)?;
    let test_files =
        split::TestFiles::new(&curate_config.test_globs).map_err(CurateError::Invalid)?;
    let configured_main = options.main.as_deref().or(config.link.main.as_deref());
    let (main_ref, head) = repo.main_branch(configured_main).ok_or_else(|| {
        CurateError::Invalid(format!(
            "no main branch in {}: set [link] main in prodcode.toml or pass --main",
            root.display()
        ))
    })?;
    let head_info = repo.commit(&head)?;
    let root_text = root.to_string_lossy().into_owned();
    let repo_id = store
        .repository_id(&root_text)?
        .map(|(id, _)| id)
        .ok_or_else(|| {
            CurateError::Invalid(format!(
                "prodcode has recorded nothing in {root_text}: capture some sessions and run `prodcode link` first"
            ))
        })?;
    let interactions = store.curation_interactions(repo_id, options.since_ms)?;
    let sessions_by_prompt = sessions_by_prompt(store)?;
    let now = crate::clock::now_ms();

    let mut reports: Vec<CandidateReport> = Vec::new();
    let mut heavy: Vec<Candidate> = Vec::new();
    for interaction in interactions {
        match early_stages(store, repo_id, &interaction, &curate_config, now)? {
            Ok(candidate) => heavy.push(candidate),
            Err(report) => reports.push(report),
        }
    }

    let context = Context {
        root: root.clone(),
        repo_name: repo_name(&root),
        head: head.clone(),
        head_seconds: head_info.committed_ms.div_euclid(1000),
        options,
        config: curate_config.clone(),
        runner_config: config.tools.tests.clone(),
        templates,
        test_files,
        sessions_by_prompt,
        key_salt: key_salt(options, &config),
        tests_ms: AtomicU64::new(0),
        coverage: OnceLock::new(),
        scratch_base: options.cache.join("curate").join(repo_key(&root)),
    };
    std::fs::create_dir_all(context.state_dir()).map_err(|source| CurateError::Write {
        path: context.state_dir(),
        source,
    })?;
    // Two runs on one repository would share scratch clones: a second one is refused.
    let _lock = lock(&context.scratch_base)?;
    progress(Progress::Started { total: heavy.len() });
    let decided = run_heavy(&context, heavy, progress);
    let mut tasks: Vec<task::Task> = Vec::new();
    for (report, built) in decided {
        if let Some(built) = built {
            tasks.push(built);
        }
        reports.push(report);
    }
    reports.sort_by(|a, b| a.interaction_id.cmp(&b.interaction_id));
    tasks.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    let retired = task::write_all(&options.out, &tasks, &reports)
        .map_err(|(path, source)| CurateError::Write { path, source })?;
    let report = Report {
        repo: root,
        main_ref,
        head,
        out: options.out.clone(),
        base: options.base,
        runs: options.runs,
        funnel: funnel(&reports),
        tasks: tasks.iter().map(|task| task.instance_id.clone()).collect(),
        candidates: reports,
        retired,
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        tests_ms: context.tests_ms.load(Ordering::Relaxed),
    };
    Ok(report)
}

/// How many candidates reached each stage: all interactions, then those past each stage.
fn funnel(reports: &[CandidateReport]) -> Vec<(Stage, usize)> {
    Stage::ALL
        .into_iter()
        .map(|stage| {
            let count = reports
                .iter()
                .filter(|report| {
                    stage == Stage::Interactions
                        || report.fate.stage > stage
                        || (report.fate.kept && report.fate.stage >= stage)
                })
                .count();
            (stage, count)
        })
        .collect()
}

/// An interaction past the stages the store decides.
struct Candidate {
    interaction_id: String,
    prompt: String,
    agent: Option<String>,
    model: Option<String>,
    commits: Vec<MainCommitLines>,
    ai_share: f64,
}

/// The stages the store answers: single turn, landed, one intent. `Err` is the dropped report.
fn early_stages(
    store: &Store,
    repo_id: RepoId,
    interaction: &CurationInteraction,
    config: &CurateConfig,
    now: i64,
) -> Result<Result<Candidate, CandidateReport>, StoreError> {
    let summary = &interaction.summary;
    let prompt = summary.prompts.first().map(|prompt| prompt.text.clone());
    let report = |fate: Fate, landed: Vec<String>, ai_share: Option<f64>| CandidateReport {
        interaction_id: summary.id.as_str().to_owned(),
        prompt: prompt.clone(),
        instance_id: None,
        landed,
        ai_share,
        fate,
        fail_to_pass: 0,
        pass_to_pass: 0,
        resumed: false,
    };
    let turns = summary.prompts.len().max(summary.turn_count as usize);
    if turns == 0 {
        let fate = Fate::drop(Stage::SingleTurn, "no_prompt", "no prompt was recorded");
        return Ok(Err(report(fate, Vec::new(), None)));
    }
    if turns > 1 {
        let fate = Fate::drop(
            Stage::SingleTurn,
            "multi_turn",
            format!("{turns} prompts: only single-turn interactions make tasks"),
        );
        return Ok(Err(report(fate, Vec::new(), None)));
    }
    let idle_ms = i64::try_from(config.idle_minutes).unwrap_or(i64::MAX / 60_000) * 60_000;
    let over = if interaction.hook_session {
        interaction.hook_closed
    } else {
        now.saturating_sub(summary.updated_ms) >= idle_ms
    };
    if !over {
        let fate = Fate::drop(
            Stage::SingleTurn,
            "session_open",
            "the session has not ended: a later prompt could still make it multi-turn",
        );
        return Ok(Err(report(fate, Vec::new(), None)));
    }
    let commits = store.main_commits_of(repo_id, summary.id.as_str())?;
    let landed: Vec<String> = commits.iter().map(|commit| commit.sha.clone()).collect();
    if commits.is_empty() {
        let fate = Fate::drop(
            Stage::Landed,
            "not_landed",
            "none of its AI lines are in a commit on main",
        );
        return Ok(Err(report(fate, landed, None)));
    }
    let own = summary.id.as_str();
    let others: Vec<&str> = commits
        .iter()
        .flat_map(|commit| &commit.ai_lines)
        .filter(|(id, lines)| id != own && *lines > 0)
        .map(|(id, _)| id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !others.is_empty() {
        let fate = Fate::drop(
            Stage::OneIntent,
            "several_interactions",
            format!("its change also carries AI lines of {}", others.join(", ")),
        );
        return Ok(Err(report(fate, landed, None)));
    }
    let consecutive = commits
        .windows(2)
        .all(|pair| pair[1].parents.first() == Some(&pair[0].sha));
    if !consecutive {
        let fate = Fate::drop(
            Stage::OneIntent,
            "scattered_commits",
            "its lines landed in main commits that do not follow each other",
        );
        return Ok(Err(report(fate, landed, None)));
    }
    let mine: u64 = commits
        .iter()
        .flat_map(|commit| &commit.ai_lines)
        .map(|(_, lines)| lines)
        .sum();
    let added: u64 = commits.iter().map(|commit| commit.lines_added).sum();
    let ai_share = if added == 0 {
        0.0
    } else {
        (mine as f64 / added as f64).min(1.0)
    };
    if ai_share < config.min_ai_share {
        let fate = Fate::drop(
            Stage::OneIntent,
            "low_ai_share",
            format!(
                "the interaction wrote {mine} of the change's {added} added lines ({:.0}%), below min_ai_share {:.0}%",
                ai_share * 100.0,
                config.min_ai_share * 100.0
            ),
        );
        return Ok(Err(report(fate, landed, Some(ai_share))));
    }
    Ok(Ok(Candidate {
        interaction_id: own.to_owned(),
        prompt: prompt.unwrap_or_default(),
        agent: summary.agent.clone(),
        model: summary.model.clone(),
        commits,
        ai_share,
    }))
}

/// Which interactions started with each (normalized) prompt.
fn sessions_by_prompt(store: &Store) -> Result<HashMap<String, HashSet<String>>, StoreError> {
    let mut by_prompt: HashMap<String, HashSet<String>> = HashMap::new();
    for (interaction, text) in store.first_prompts()? {
        by_prompt
            .entry(filters::normalized(&text))
            .or_default()
            .insert(interaction);
    }
    Ok(by_prompt)
}

/// Everything the heavy stages share.
struct Context<'a> {
    root: PathBuf,
    repo_name: String,
    head: String,
    head_seconds: i64,
    options: &'a Options,
    config: CurateConfig,
    runner_config: Option<runner::RunnerConfig>,
    templates: filters::Templates,
    test_files: split::TestFiles,
    sessions_by_prompt: HashMap<String, HashSet<String>>,
    /// Whatever else decides an outcome (options, configuration, prodcode's version), hashed.
    key_salt: String,
    scratch_base: PathBuf,
    /// Time spent in test runs, summed over workers.
    tests_ms: AtomicU64,
    /// Which tests run which lines at the head of main, measured once when a candidate first
    /// needs it (`coverage`).
    coverage: OnceLock<Option<coverage::CoverageMap>>,
}

impl Context<'_> {
    fn state_dir(&self) -> PathBuf {
        self.options.out.join(".state")
    }

    fn timeout(&self) -> Duration {
        self.options
            .timeout
            .unwrap_or(Duration::from_secs(self.config.timeout_s.max(1)))
    }
}

/// Runs the heavy stages of every candidate on `options.jobs` workers, each with its own scratch
/// clone.
fn run_heavy(
    context: &Context<'_>,
    candidates: Vec<Candidate>,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Vec<(CandidateReport, Option<task::Task>)> {
    let total = candidates.len();
    let queue = Mutex::new(
        candidates
            .into_iter()
            .collect::<std::collections::VecDeque<_>>(),
    );
    let results = Mutex::new(Vec::with_capacity(total));
    let jobs = context.options.jobs.clamp(1, total.max(1));
    std::thread::scope(|scope| {
        for job in 0..jobs {
            let (queue, results) = (&queue, &results);
            scope.spawn(move || {
                let workspace = Workspace::open(context, job);
                loop {
                    let next = queue.lock().map(|mut queue| queue.pop_front());
                    let Ok(Some(candidate)) = next else {
                        break;
                    };
                    let decided = match &workspace {
                        Ok(workspace) => decide(context, workspace, &candidate),
                        Err(error) => (
                            candidate_report(
                                context,
                                &candidate,
                                Fate::drop(
                                    Stage::BacksOut,
                                    "error",
                                    format!("cannot make a scratch clone: {error}"),
                                ),
                            ),
                            None,
                        ),
                    };
                    let Ok(mut results) = results.lock() else {
                        break;
                    };
                    results.push(decided);
                    let done = results.len();
                    if let Some((report, _)) = results.last() {
                        progress(Progress::Decided {
                            done,
                            total,
                            candidate: report,
                        });
                    }
                }
            });
        }
    });
    results.into_inner().unwrap_or_default()
}

/// One worker's scratch clone and build directory.
struct Workspace {
    scratch: Scratch,
    /// Build output kept between runs (`CARGO_TARGET_DIR`), outside the work tree so that
    /// checkouts never discard it.
    target_dir: PathBuf,
}

impl Workspace {
    fn open(context: &Context<'_>, job: usize) -> Result<Workspace, crate::git::GitError> {
        let dir = context.scratch_base.join(format!("job-{job}"));
        let scratch = Scratch::open(&context.root, &dir.join("repo"))?;
        Ok(Workspace {
            scratch,
            target_dir: dir.join("target"),
        })
    }
}

fn instance_id(context: &Context<'_>, candidate: &Candidate) -> String {
    let newest = candidate
        .commits
        .last()
        .map_or("", |commit| commit.sha.as_str());
    format!("{}__{}", context.repo_name, &newest[..newest.len().min(12)])
}

fn candidate_report(context: &Context<'_>, candidate: &Candidate, fate: Fate) -> CandidateReport {
    CandidateReport {
        interaction_id: candidate.interaction_id.clone(),
        prompt: Some(candidate.prompt.clone()),
        instance_id: Some(instance_id(context, candidate)),
        landed: candidate.commits.iter().map(|c| c.sha.clone()).collect(),
        ai_share: Some(candidate.ai_share),
        fate,
        fail_to_pass: 0,
        pass_to_pass: 0,
        resumed: false,
    }
}

/// The key under which a candidate's outcome is saved: everything that decides it.
fn candidate_key(context: &Context<'_>, candidate: &Candidate) -> String {
    let mut text = format!(
        "{}\n{}\n{}\n",
        context.key_salt, candidate.interaction_id, candidate.prompt
    );
    for commit in &candidate.commits {
        text.push_str(&commit.sha);
        text.push('\n');
    }
    // A rolling base depends on the head of main.
    if context.options.base != BaseMode::Parent {
        text.push_str(&context.head);
    }
    sha256_hex(text.as_bytes())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    crate::model::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Options and configuration that decide outcomes, as text.
fn key_salt(options: &Options, config: &crate::config::Config) -> String {
    format!(
        "{}|{}|{}|{}|{:?}|{:?}|{:?}",
        env!("CARGO_PKG_VERSION"),
        options.base.as_str(),
        options.runs,
        options.allow_p2p_only,
        options.timeout,
        config.curate,
        config.tools.tests,
    )
}

/// A saved outcome of the heavy stages, for resuming.
#[derive(serde::Serialize, Deserialize)]
struct Saved {
    key: String,
    stage: String,
    kept: bool,
    reason: String,
    detail: String,
    fail_to_pass: usize,
    pass_to_pass: usize,
    task: Option<task::Task>,
}

fn load_saved(context: &Context<'_>, id: &str, key: &str) -> Option<Saved> {
    let text = std::fs::read_to_string(context.state_dir().join(format!("{id}.json"))).ok()?;
    let saved: Saved = serde_json::from_str(&text).ok()?;
    (saved.key == key).then_some(saved)
}

fn save(context: &Context<'_>, id: &str, saved: &Saved) {
    let path = context.state_dir().join(format!("{id}.json"));
    let Ok(text) = serde_json::to_string_pretty(saved) else {
        return;
    };
    // Written whole and renamed, so a killed run never leaves half a state file.
    let partial = path.with_extension("json.partial");
    if std::fs::write(&partial, text).is_ok() {
        let _ = std::fs::rename(&partial, &path);
    }
}

/// The heavy stages of one candidate, or its saved outcome.
fn decide(
    context: &Context<'_>,
    workspace: &Workspace,
    candidate: &Candidate,
) -> (CandidateReport, Option<task::Task>) {
    let id = instance_id(context, candidate);
    let key = candidate_key(context, candidate);
    if let Some(saved) = load_saved(context, &id, &key)
        && let Some(stage) = Stage::parse(&saved.stage)
    {
        let mut report = candidate_report(
            context,
            candidate,
            Fate {
                stage,
                kept: saved.kept,
                reason: saved.reason,
                detail: saved.detail,
            },
        );
        report.fail_to_pass = saved.fail_to_pass;
        report.pass_to_pass = saved.pass_to_pass;
        report.resumed = true;
        return (report, saved.task);
    }
    let (fate, built) = match heavy_stages(context, workspace, candidate, &id) {
        Ok(outcome) => outcome,
        Err((stage, error)) => (Fate::drop(stage, "error", error), None),
    };
    let mut report = candidate_report(context, candidate, fate);
    if let Some(built) = &built {
        report.fail_to_pass = built.fail_to_pass.len();
        report.pass_to_pass = built.pass_to_pass.len();
    }
    save(
        context,
        &id,
        &Saved {
            key,
            stage: report.fate.stage.as_str().to_owned(),
            kept: report.fate.kept,
            reason: report.fate.reason.clone(),
            detail: report.fate.detail.clone(),
            fail_to_pass: report.fail_to_pass,
            pass_to_pass: report.pass_to_pass,
            task: built.clone(),
        },
    );
    (report, built)
}

/// A stage's answer, or the stage and words of an error that drops the candidate.
type StageResult<T> = Result<T, (Stage, String)>;

type Heavy = StageResult<(Fate, Option<task::Task>)>;

fn heavy_stages(
    context: &Context<'_>,
    workspace: &Workspace,
    candidate: &Candidate,
    instance_id: &str,
) -> Heavy {
    let scratch = &workspace.scratch;
    let git_error = |stage: Stage| move |error: crate::git::GitError| (stage, error.to_string());

    // Prompt filters.
    let prompt = candidate.prompt.as_str();
    let others = context
        .sessions_by_prompt
        .get(&filters::normalized(prompt))
        .map_or(0, |ids| {
            ids.iter()
                .filter(|id| **id != candidate.interaction_id)
                .count()
        });
    if let Some(why) = context.templates.check(prompt, others) {
        return Ok((Fate::drop(Stage::PromptFilters, "template", why), None));
    }
    if let Some(why) = filters::names_change(prompt, |word| {
        scratch
            .resolve(word)
            .is_ok_and(|sha| sha.starts_with(&word.to_lowercase()))
    }) {
        return Ok((Fate::drop(Stage::PromptFilters, "names_change", why), None));
    }
    let (Some(oldest), Some(newest)) = (candidate.commits.first(), candidate.commits.last()) else {
        return Err((Stage::Landed, "no landed commit".to_owned()));
    };
    let Some(parent) = oldest.parents.first().cloned() else {
        return Ok((
            Fate::drop(
                Stage::BacksOut,
                "conflict",
                "the change is the repository's first commit: there is nothing to back it out to",
            ),
            None,
        ));
    };
    let landed_paths = scratch
        .changed_paths(&parent, &newest.sha)
        .map_err(git_error(Stage::PromptFilters))?;
    let (landed_tests, landed_solution) = split_paths(context, scratch, &newest.sha, &landed_paths);
    let landed_solution_patch = scratch
        .diff(&parent, &newest.sha, &landed_solution)
        .map_err(git_error(Stage::PromptFilters))?;
    let solution_files = filters::parse_patch(&landed_solution_patch);
    let added: Vec<&str> = solution_files
        .iter()
        .flat_map(|file| file.added.iter().map(String::as_str))
        .collect();
    if let Some(why) = filters::leakage(prompt, &added) {
        return Ok((Fate::drop(Stage::PromptFilters, "leakage", why), None));
    }
    if let Some(why) = filters::untestable(&solution_files) {
        return Ok((Fate::drop(Stage::PromptFilters, "untestable", why), None));
    }
    let mut labels = BTreeMap::new();
    if let Some(classifier) = &context.config.classifier {
        match classify(
            context,
            classifier,
            candidate,
            &landed_solution_patch,
            &landed_tests,
        ) {
            Ok(found) => labels = found,
            Err(why) => return Err((Stage::PromptFilters, why)),
        }
        if labels.get("testable") == Some(&serde_json::Value::Bool(false)) {
            return Ok((
                Fate::drop(
                    Stage::PromptFilters,
                    "classifier",
                    "the classifier labelled the candidate not testable",
                ),
                None,
            ));
        }
    }

    // Back out.
    let shas: Vec<String> = candidate.commits.iter().map(|c| c.sha.clone()).collect();
    let mut backout = None;
    let mut conflict = Vec::new();
    if context.options.base != BaseMode::Parent {
        scratch
            .checkout(&context.head)
            .map_err(git_error(Stage::BacksOut))?;
        match scratch
            .back_out(&shas)
            .map_err(git_error(Stage::BacksOut))?
        {
            Backout::Clean => {
                let message = format!("prodcode: {instance_id} with its change backed out");
                let base = scratch
                    .commit_all(&message, context.head_seconds)
                    .map_err(git_error(Stage::BacksOut))?;
                backout = Some((BaseMode::Head, base, context.head.clone()));
            }
            Backout::Conflict(paths) => conflict = paths,
        }
    }
    if backout.is_none() && context.options.base != BaseMode::Head {
        backout = Some((BaseMode::Parent, parent.clone(), newest.sha.clone()));
    }
    let Some((mode, base, target)) = backout else {
        return Ok((
            Fate::drop(
                Stage::BacksOut,
                "conflict",
                format!(
                    "backing the change out of the head of main conflicts in {}",
                    conflict.join(", ")
                ),
            ),
            None,
        ));
    };
    let paths = scratch
        .changed_paths(&base, &target)
        .map_err(git_error(Stage::BacksOut))?;
    let (test_paths, solution_paths) = split_paths(context, scratch, &target, &paths);
    let solution_patch = scratch
        .diff(&base, &target, &solution_paths)
        .map_err(git_error(Stage::BacksOut))?;
    let test_patch = scratch
        .diff(&base, &target, &test_paths)
        .map_err(git_error(Stage::BacksOut))?;
    if solution_patch.is_empty() {
        return Ok((
            Fate::drop(
                Stage::BacksOut,
                "untestable",
                "backing the change out leaves no code outside tests to restore",
            ),
            None,
        ));
    }
    let backout_patch = if mode == BaseMode::Head {
        scratch
            .diff(&context.head, &base, &paths)
            .map_err(git_error(Stage::BacksOut))?
    } else {
        String::new()
    };

    // Has tests, and the stability runs.
    let state = States {
        scratch,
        base: &base,
        test_patch: &test_patch,
        solution_patch: &solution_patch,
    };
    state.after().map_err(git_error(Stage::HasTests))?;
    let Some(mut runner) = runner::detect(&context.root, context.runner_config.as_ref())
        .or_else(|| runner::detect(scratch.root(), context.runner_config.as_ref()))
    else {
        return Ok((
            Fate::drop(
                Stage::HasTests,
                "no_test_runner",
                "no test runner was detected: add a [tools.tests] command to prodcode.toml",
            ),
            None,
        ));
    };
    runner::isolate(&mut runner, workspace.scratch.root(), &workspace.target_dir);
    let change = ChangeFiles {
        tests: &test_paths,
        solution: &solution_paths,
        solution_patch: &solution_patch,
        // With a rolling base the solved state is the head, where coverage was measured.
        at_head: mode == BaseMode::Head,
    };
    let targets = match select_tests(context, scratch, &runner, &change) {
        discovery::Selection::All => Vec::new(),
        discovery::Selection::Targets(targets) => targets,
    };
    let timeout = context.timeout();
    let run = |names: &[String]| {
        let started = Instant::now();
        // Exact ids select by themselves; targets would only narrow them further.
        let targets: &[String] = if names.is_empty() { &targets } else { &[] };
        let result = runner::run_tests(scratch.root(), &runner, targets, names, timeout)
            .map_err(|error| (Stage::HasTests, error.to_string()));
        let spent = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        context.tests_ms.fetch_add(spent, Ordering::Relaxed);
        result
    };
    let mut outcomes = Outcomes::default();
    let mut runs: Vec<task::RunRecord> = Vec::new();
    let first = run(&[])?;
    if first.tests.is_empty() {
        let why = first
            .problem
            .clone()
            .unwrap_or_else(|| "the suite reported no tests".to_owned());
        return Ok((Fate::drop(Stage::HasTests, "no_tests", why), None));
    }
    let command = runner_command(&runner);
    record(&mut outcomes, &mut runs, true, &first);
    for _ in 1..context.options.runs {
        record(&mut outcomes, &mut runs, true, &run(&[])?);
    }
    state.before().map_err(git_error(Stage::StableF2p))?;
    let expected: BTreeSet<String> = outcomes.ids().into_iter().map(str::to_owned).collect();
    for _ in 0..context.options.runs {
        let mut before = run(&[])?;
        fill_by_binary(&runner, &mut before, &expected, &run)?;
        record(&mut outcomes, &mut runs, false, &before);
    }
    // A file, module or package that did not load is reported as an entry of its own; only
    // real tests make a task (jest and configured commands have no exact ids: all entries count).
    let exact = outcomes.ids().iter().any(|id| runner.is_test_id(id));
    let verdicts: BTreeMap<String, Verdict> = outcomes
        .verdicts()
        .into_iter()
        .filter(|(id, _)| !exact || runner.is_test_id(id))
        .collect();
    let pick = |wanted: Verdict| -> Vec<String> {
        verdicts
            .iter()
            .filter(|(_, verdict)| **verdict == wanted)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let fail_to_pass = pick(Verdict::FailToPass);
    let pass_to_pass = pick(Verdict::PassToPass);
    let p2p_only_allowed = context.options.allow_p2p_only && !pass_to_pass.is_empty();
    if fail_to_pass.is_empty() && !p2p_only_allowed {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for verdict in verdicts.values() {
            *counts.entry(verdict.as_str()).or_default() += 1;
        }
        let counts: Vec<String> = counts
            .iter()
            .map(|(verdict, count)| format!("{count} {verdict}"))
            .collect();
        return Ok((
            Fate::drop(
                Stage::StableF2p,
                "no_f2p",
                format!(
                    "no test failed in every run before and passed in every run after ({})",
                    counts.join(", ")
                ),
            ),
            None,
        ));
    }

    // The task's own check: exactly its tests, in both states.
    let mut selected = fail_to_pass.clone();
    selected.extend(pass_to_pass.iter().cloned());
    if runner.selects_exactly(&selected) {
        let before = run(&selected)?;
        state.after().map_err(git_error(Stage::StableF2p))?;
        let after = run(&selected)?;
        if let Some(why) = self_check(&before, &after, &fail_to_pass, &pass_to_pass) {
            return Ok((Fate::drop(Stage::StableF2p, "self_check", why), None));
        }
    }

    let excluded = verdicts
        .iter()
        .filter_map(|(id, verdict)| {
            verdict.exclusion().map(|reason| task::Excluded {
                id: id.clone(),
                verdict: verdict.as_str().to_owned(),
                reason: reason.to_owned(),
            })
        })
        .collect();
    let built = task::Task {
        instance_id: instance_id.to_owned(),
        repo: context.repo_name.clone(),
        repo_root: context.root.to_string_lossy().into_owned(),
        interaction_id: candidate.interaction_id.clone(),
        prompt: candidate.prompt.clone(),
        agent: candidate.agent.clone(),
        model: candidate.model.clone(),
        base: task::Base {
            mode: mode.as_str().to_owned(),
            commit: base.clone(),
            head: context.head.clone(),
            landed_commits: candidate.commits.iter().map(|c| c.sha.clone()).collect(),
            backout_patch,
        },
        solution_patch,
        test_patch,
        fail_to_pass,
        pass_to_pass,
        excluded,
        runner: runner.kind.name().to_owned(),
        test_command: command,
        test_targets: targets.clone(),
        language: language(&runner.kind, &solution_paths).to_owned(),
        runs,
        ai_share: candidate.ai_share,
        labels,
        created_at: crate::clock::format_rfc3339(newest.committed_ms),
        curated_at: crate::clock::format_rfc3339(crate::clock::now_ms()),
        prodcode_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let fate = Fate {
        stage: Stage::StableF2p,
        kept: true,
        reason: "kept".to_owned(),
        detail: format!(
            "{} fail-to-pass, {} pass-to-pass over {} runs each",
            built.fail_to_pass.len(),
            built.pass_to_pass.len(),
            context.options.runs
        ),
    };
    Ok((fate, Some(built)))
}

/// The before and after states of a candidate in a scratch clone.
struct States<'a> {
    scratch: &'a Scratch,
    base: &'a str,
    test_patch: &'a str,
    solution_patch: &'a str,
}

impl States<'_> {
    /// Base + test patch.
    fn before(&self) -> Result<(), crate::git::GitError> {
        self.scratch.checkout(self.base)?;
        self.scratch.apply(self.test_patch)
    }

    /// Base + test patch + solution.
    fn after(&self) -> Result<(), crate::git::GitError> {
        self.before()?;
        self.scratch.apply(self.solution_patch)
    }
}

/// Test and solution paths of a change, by the content each has at `sha`.
fn split_paths(
    context: &Context<'_>,
    scratch: &Scratch,
    sha: &str,
    paths: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut tests = Vec::new();
    let mut solution = Vec::new();
    for path in paths {
        let content = scratch.read(sha, path);
        let text = content.as_deref().map(String::from_utf8_lossy);
        if context.test_files.is_test(path, text.as_deref()) {
            tests.push(path.clone());
        } else {
            solution.push(path.clone());
        }
    }
    (tests, solution)
}

/// A candidate's changed files, as test discovery needs them.
struct ChangeFiles<'a> {
    tests: &'a [String],
    solution: &'a [String],
    solution_patch: &'a str,
    /// The solved state is the head of main.
    at_head: bool,
}

/// The tests a candidate runs, in its solved state (`discovery`, `coverage`).
fn select_tests(
    context: &Context<'_>,
    scratch: &Scratch,
    runner: &Runner,
    change_files: &ChangeFiles<'_>,
) -> discovery::Selection {
    let (test_paths, solution_paths) = (change_files.tests, change_files.solution);
    if context.config.tests == TestScope::All {
        return discovery::Selection::All;
    }
    let files = scratch.list_files().unwrap_or_default();
    // Test code only: data files under `tests/` are neither a suite's size nor a target.
    let all_tests: Vec<String> = files
        .iter()
        .filter(|path| context.test_files.is_test_code(path))
        .cloned()
        .collect();
    let test_paths: Vec<String> = test_paths
        .iter()
        .filter(|path| context.test_files.is_test_code(path))
        .cloned()
        .collect();
    if context.config.tests == TestScope::Auto && all_tests.len() <= context.config.small_suite {
        return discovery::Selection::All;
    }
    let manifests: Vec<String> = files
        .iter()
        .filter(|path| path.rsplit('/').next() == Some("Cargo.toml"))
        .cloned()
        .collect();
    let read = |path: &str| std::fs::read_to_string(scratch.root().join(path)).ok();
    let change = discovery::Change {
        solution: solution_paths,
        tests: &test_paths,
        all_tests: &all_tests,
        read: &read,
        manifests: &manifests,
    };
    let selection = discovery::related(&runner.kind, &change, &context.config.related);
    let discovery::Selection::Targets(mut targets) = selection else {
        return selection;
    };
    if change_files.at_head {
        let map = context
            .coverage
            .get_or_init(|| coverage::measure(scratch.root(), runner, context.timeout()));
        if let Some(map) = map {
            let changed = coverage::changed_lines(change_files.solution_patch);
            targets.extend(map.test_files_covering(&changed, &all_tests));
            targets.sort();
            targets.dedup();
        }
    }
    discovery::Selection::Targets(targets)
}

/// Cargo builds every test binary before it runs any: one binary that does not compile before
/// the solution (its test calls a function the solution adds) leaves the whole run empty. The
/// tests missing from such a run are run again binary by binary, so tests of binaries that do
/// compile get their real status instead of counting as failed.
fn fill_by_binary(
    runner: &Runner,
    run: &mut TestRun,
    expected: &BTreeSet<String>,
    again: &dyn Fn(&[String]) -> StageResult<TestRun>,
) -> Result<(), (Stage, String)> {
    if !matches!(
        runner.kind,
        RunnerKind::CargoTest | RunnerKind::CargoNextest
    ) {
        return Ok(());
    }
    let reported: HashSet<&str> = run.tests.iter().map(|test| test.id.as_str()).collect();
    let mut by_binary: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for id in expected {
        if !reported.contains(id.as_str()) {
            let binary = id.split_once(' ').map_or(id.as_str(), |(binary, _)| binary);
            by_binary.entry(binary).or_default().push(id.clone());
        }
    }
    if by_binary.len() < 2 {
        return Ok(());
    }
    let missing: HashSet<&String> = by_binary.values().flatten().collect();
    let mut filled: Vec<crate::tools::runner::TestCase> = run
        .tests
        .iter()
        .filter(|test| !missing.contains(&test.id))
        .cloned()
        .collect();
    for ids in by_binary.values() {
        let part = again(ids)?;
        filled.extend(part.tests.into_iter().filter(|test| ids.contains(&test.id)));
    }
    run.tests = filled;
    Ok(())
}

fn runner_command(runner: &Runner) -> Vec<String> {
    let mut command = vec![runner.program.clone()];
    command.extend(runner.args.iter().cloned());
    command
}

fn record(outcomes: &mut Outcomes, runs: &mut Vec<task::RunRecord>, after: bool, run: &TestRun) {
    outcomes.record(after, run);
    runs.push(task::RunRecord::of(after, run));
}

/// Why a task fails its own check: run with exactly its ids, every F2P test must not pass
/// before and every F2P and P2P test must pass after.
fn self_check(
    before: &TestRun,
    after: &TestRun,
    fail_to_pass: &[String],
    pass_to_pass: &[String],
) -> Option<String> {
    let status = |run: &TestRun, id: &str| {
        run.tests
            .iter()
            .find(|test| test.id == id)
            .map(|test| test.status)
    };
    for id in fail_to_pass {
        if status(before, id) == Some(TestStatus::Passed) {
            return Some(format!(
                "{id} passed before the solution when run on its own"
            ));
        }
    }
    for id in fail_to_pass.iter().chain(pass_to_pass) {
        if status(after, id) != Some(TestStatus::Passed) {
            return Some(format!(
                "{id} did not pass with the solution when run on its own ({:?})",
                status(after, id)
            ));
        }
    }
    None
}

/// Runs the configured classifier on a candidate: its JSON on stdin, labels JSON on stdout.
fn classify(
    context: &Context<'_>,
    classifier: &crate::tools::runner::CommandLine,
    candidate: &Candidate,
    solution_patch: &str,
    test_paths: &[String],
) -> Result<BTreeMap<String, serde_json::Value>, String> {
    use std::io::{Seek, Write};
    let words = crate::tools::exec::command_words(classifier, false);
    let Some((program, args)) = words.split_first() else {
        return Err("[curate] classifier is empty".to_owned());
    };
    let input = serde_json::json!({
        "interactionId": candidate.interaction_id,
        "prompt": candidate.prompt,
        "agent": candidate.agent,
        "model": candidate.model,
        "landedCommits": candidate.commits.iter().map(|c| &c.sha).collect::<Vec<_>>(),
        "solutionPatch": solution_patch,
        "testFiles": test_paths,
        "aiShare": candidate.ai_share,
    });
    let mut stdin = tempfile::tempfile().map_err(|error| error.to_string())?;
    stdin
        .write_all(input.to_string().as_bytes())
        .and_then(|()| stdin.rewind())
        .map_err(|error| error.to_string())?;
    let spec = crate::tools::exec::CommandSpec {
        program: program.clone(),
        args: args.to_vec(),
        cwd: context.root.clone(),
        env: Vec::new(),
        shell: false,
        merge_stderr: false,
    };
    let execution =
        crate::tools::exec::run_with_stdin(&spec, Some(stdin), Duration::from_secs(120), 1 << 20)
            .map_err(|error| format!("the classifier: {error}"))?;
    if !execution.success() {
        return Err(format!(
            "the classifier exited with {:?}: {}",
            execution.status,
            String::from_utf8_lossy(&execution.stderr).trim()
        ));
    }
    serde_json::from_slice(&execution.stdout)
        .map_err(|error| format!("the classifier's output is not a JSON object: {error}"))
}

/// The task's language: the runner's, else the most common source extension of the solution.
fn language(kind: &RunnerKind, solution_paths: &[String]) -> &'static str {
    match kind {
        RunnerKind::CargoNextest | RunnerKind::CargoTest => return "rust",
        RunnerKind::Pytest => return "python",
        RunnerKind::GoTest => return "go",
        RunnerKind::Jest | RunnerKind::Vitest => return "javascript",
        _ if kind.name() == "unittest" => return "python",
        _ => {}
    }
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for path in solution_paths {
        let language = match path.rsplit_once('.').map_or("", |(_, ext)| ext) {
            "rs" => "rust",
            "py" => "python",
            "go" => "go",
            "js" | "jsx" | "mjs" | "cjs" => "javascript",
            "ts" | "tsx" => "typescript",
            "java" => "java",
            "c" | "h" => "c",
            "cc" | "cpp" | "hpp" => "cpp",
            "rb" => "ruby",
            _ => continue,
        };
        *counts.entry(language).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map_or("unknown", |(language, _)| language)
}

/// An exclusive lock on the repository's scratch directory, held while the returned file is
/// open.
fn lock(scratch_base: &Path) -> Result<std::fs::File, CurateError> {
    let write_error = |source| CurateError::Write {
        path: scratch_base.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(scratch_base).map_err(write_error)?;
    try_lock(&scratch_base.join("lock"))
        .map_err(write_error)?
        .ok_or_else(|| {
            CurateError::Invalid(format!(
                "another `prodcode curate` is running on this repository (its scratch clones are in {}): wait for it to finish",
                scratch_base.display()
            ))
        })
}

/// An exclusive `flock` on `path` (created if missing), held while the returned file is open
/// and released by the kernel when the process ends, however it ends; `None` when another
/// process holds it.
pub(crate) fn try_lock(path: &Path) -> std::io::Result<Option<std::fs::File>> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    // SAFETY: flock on a descriptor this function owns; no memory is shared.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    Ok(locked.then_some(file))
}

/// The repository's directory name, as task ids use it.
fn repo_name(root: &Path) -> String {
    let name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".to_owned());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A directory name for a repository's scratch clones: its name and a hash of its path.
pub(crate) fn repo_key(root: &Path) -> String {
    let hash = sha256_hex(root.to_string_lossy().as_bytes());
    format!("{}-{}", repo_name(root), &hash[..12])
}

/// prodcode's cache directory: `PRODCODE_CACHE_DIR`, else `$XDG_CACHE_HOME/prodcode`, else
/// `~/.cache/prodcode`.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = var("PRODCODE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME").map(PathBuf::from)
        && dir.is_absolute()
    {
        return Some(dir.join("prodcode"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache/prodcode"))
}

/// Where tasks go without `--out`: `tasks/<repository>` next to the default database.
pub fn default_out(repo: &Path) -> Option<PathBuf> {
    let db = crate::store::default_path().ok()?;
    let root = crate::git::discover(repo)?.root;
    Some(db.parent()?.join("tasks").join(repo_key(&root)))
}
