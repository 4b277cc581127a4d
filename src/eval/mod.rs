//! `prodcode eval`: runs agents on curated tasks and grades them by their tests
//! (`docs/eval.md`).
//!
//! For each task × agent × harness × context-files setting × run: a workspace of its own at the
//! task's base (sealed by default: a new repository whose one commit is the base tree, so the
//! solution is not in its history), the agent's command run there with the verbatim prompt and a
//! timeout, then grading: the agent's change, test infrastructure put back, the test patch
//! applied, the task's fail-to-pass and pass-to-pass tests run exactly with the curation runner.
//! Each run's `result.json` is written as it finishes, so an interrupted evaluation resumes.
//!
//! Before any agent runs on a task, its base + test patch is checked once: a base whose
//! pass-to-pass tests do not pass (a missing toolchain, a broken environment) makes every run of
//! the task an infrastructure error, never a wrong answer.
//!
//! Invariants: the developer's repository is only read (bases are built in `git::Scratch`
//! clones, workspaces are `git::RunWorkspace`s under the cache directory); every agent and test
//! command runs through `tools::exec` with a timeout that kills its process group; one run's
//! failure is that run's result, never the evaluation's.

pub mod agent;
mod grade;
pub mod harbor;
pub mod report;
pub mod result;
pub mod trace;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::curate::task::Task;
use crate::git::{RunWorkspace, Scratch};
use crate::tools::runner::CommandLine;
use agent::{Agent, AgentKind};
use result::{Durations, Outcome, RunResult};

/// `[eval]` in `prodcode.toml`.
///
/// ```toml
/// [eval]
/// test_infra = ["ci/pytest_plugins/**"]    # more files put back before grading
/// forbidden_commands = ["\\bgit\\s+(fetch|pull)\\b"]   # regular expressions over trace commands
/// rubric = ["./rubric.py"]                 # optional: task + diff JSON on stdin, score JSON out
/// timeout_s = 1800                         # the most one agent run may take
/// ```
#[derive(Clone, PartialEq, Debug, Deserialize)]
#[serde(default)]
pub struct EvalConfig {
    pub test_infra: Vec<String>,
    pub forbidden_commands: Vec<String>,
    pub rubric: Option<CommandLine>,
    pub timeout_s: u64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            test_infra: Vec::new(),
            forbidden_commands: Vec::new(),
            rubric: None,
            timeout_s: 1800,
        }
    }
}

/// With or without prodcode's tools.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Harness {
    /// The agent's own tools.
    Basic,
    /// Also prodcode's tools, through an MCP server configuration for `prodcode mcp`.
    Ide,
}

impl Harness {
    pub fn name(self) -> &'static str {
        match self {
            Harness::Basic => "basic",
            Harness::Ide => "ide",
        }
    }
}

/// Whether the agent sees the repository's context files (AGENTS.md, CLAUDE.md, …).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ContextFiles {
    Keep,
    Strip,
}

impl ContextFiles {
    pub fn name(self) -> &'static str {
        match self {
            ContextFiles::Keep => "keep",
            ContextFiles::Strip => "strip",
        }
    }
}

/// Files agents read as standing instructions, removed by `--context-files strip` (names at any
/// depth; directories whole).
pub const CONTEXT_FILES: &[&str] = &[
    "AGENTS.md",
    "AGENT.md",
    "CLAUDE.md",
    "CLAUDE.local.md",
    "GEMINI.md",
    ".cursorrules",
    ".windsurfrules",
    ".clinerules",
    ".github/copilot-instructions.md",
    ".cursor/rules",
    ".github/instructions",
];

pub struct Options {
    /// A `prodcode curate` output directory (or its `tasks/`).
    pub tasks: PathBuf,
    pub out: PathBuf,
    pub agents: Vec<Agent>,
    pub runs: usize,
    pub jobs: usize,
    pub harnesses: Vec<Harness>,
    pub contexts: Vec<ContextFiles>,
    /// The most one agent run may take.
    pub timeout: Duration,
    /// The most one test run may take; `None`: each task's repository's `[curate] timeout_s`.
    pub test_timeout: Option<Duration>,
    /// A new repository with the base as its only commit (default), or the whole history.
    pub sealed: bool,
    pub keep_workspaces: bool,
    /// Only these task ids (all when empty).
    pub only: Vec<String>,
    pub config: EvalConfig,
    /// The `prodcode` program the `ide` harness's MCP configuration starts.
    pub prodcode: PathBuf,
    /// The database runs and tool calls are recorded in, if one can be opened.
    pub db: Option<PathBuf>,
    /// prodcode's cache directory (scratch clones, workspaces).
    pub cache: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read tasks in {}: {message}", path.display())]
    Tasks { path: PathBuf, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the caller hears while an evaluation runs.
pub enum Progress<'a> {
    Planned {
        total: usize,
        done_before: usize,
    },
    Finished {
        done: usize,
        total: usize,
        result: &'a RunResult,
    },
}

/// One run to make.
#[derive(Clone)]
struct Plan {
    task: Arc<Task>,
    agent: Agent,
    harness: Harness,
    context: ContextFiles,
    run: usize,
    run_id: String,
    key: String,
}

/// What an evaluation did.
pub struct Summary {
    pub results: Vec<RunResult>,
    /// Runs whose saved result was reused.
    pub reused: usize,
    pub tasks: usize,
}

/// Reads the tasks of a curation output directory: `DIR/tasks/*/task.json`, or `DIR/*/task.json`.
pub fn load_tasks(dir: &Path) -> Result<Vec<Task>, EvalError> {
    let tasks_dir = if dir.join("tasks").is_dir() {
        dir.join("tasks")
    } else {
        dir.to_path_buf()
    };
    let error = |message: String| EvalError::Tasks {
        path: tasks_dir.clone(),
        message,
    };
    let entries = std::fs::read_dir(&tasks_dir).map_err(|e| error(e.to_string()))?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path().join("task.json"))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    let mut tasks = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| error(format!("{}: {e}", path.display())))?;
        let task: Task =
            serde_json::from_str(&text).map_err(|e| error(format!("{}: {e}", path.display())))?;
        tasks.push(task);
    }
    if tasks.is_empty() {
        return Err(error(
            "no tasks/<id>/task.json here: pass the output directory of `prodcode curate`"
                .to_owned(),
        ));
    }
    Ok(tasks)
}

/// Runs the evaluation `options` describes; results are in `options.out/runs/`.
pub fn eval(
    options: &Options,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Summary, EvalError> {
    let mut tasks = load_tasks(&options.tasks)?;
    if !options.only.is_empty() {
        let unknown: Vec<&String> = options
            .only
            .iter()
            .filter(|id| !tasks.iter().any(|task| &task.instance_id == *id))
            .collect();
        if !unknown.is_empty() {
            return Err(EvalError::Invalid(format!(
                "no task {}: see {}",
                unknown
                    .iter()
                    .map(|id| id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                options.tasks.display()
            )));
        }
        tasks.retain(|task| options.only.contains(&task.instance_id));
    }
    if options.agents.is_empty() {
        return Err(EvalError::Invalid("name at least one --agent".to_owned()));
    }
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EvalError::Write { path, source }
    };
    std::fs::create_dir_all(options.out.join("runs")).map_err(write_error(&options.out))?;
    let _lock = lock(&options.out)?;
    let forbidden =
        grade::Forbidden::new(&options.config.forbidden_commands).map_err(EvalError::Invalid)?;
    let infra = grade::Infra::new(&options.config.test_infra).map_err(EvalError::Invalid)?;

    let tasks: Vec<Arc<Task>> = tasks.into_iter().map(Arc::new).collect();
    let plans = plan(options, &tasks);
    let total = plans.len();
    let mut reused = Vec::new();
    let mut todo = Vec::new();
    for plan in plans {
        match saved(&options.out, &plan) {
            Some(result) => reused.push(result),
            None => todo.push(plan),
        }
    }
    progress(Progress::Planned {
        total,
        done_before: reused.len(),
    });
    let cache = options
        .cache
        .join("eval")
        .join(&crate::curate::sha256_hex(options.out.to_string_lossy().as_bytes())[..12]);
    let context = Context {
        options,
        cache,
        forbidden,
        infra,
        prechecks: Mutex::new(HashMap::new()),
        done: Mutex::new(reused.len()),
        total,
    };
    let finished = run_all(&context, todo, progress);
    let count = reused.len();
    let mut results = reused;
    results.extend(finished);
    results.sort_by(|a, b| a.run_id.cmp(&b.run_id));
    Ok(Summary {
        results,
        reused: count,
        tasks: tasks.len(),
    })
}

fn plan(options: &Options, tasks: &[Arc<Task>]) -> Vec<Plan> {
    let mut plans = Vec::new();
    for task in tasks {
        for agent in &options.agents {
            let builtin = matches!(agent.kind, AgentKind::Noop | AgentKind::Gold);
            for &harness in &options.harnesses {
                // The built-in agents use no tools: one harness is enough.
                if builtin && harness != options.harnesses[0] {
                    continue;
                }
                for &context in &options.contexts {
                    for run in 1..=options.runs.max(1) {
                        let run_id = format!(
                            "{}__{}__{}__{}__{run}",
                            task.instance_id,
                            agent.name,
                            harness.name(),
                            context.name()
                        );
                        let key = run_key(options, task, agent, harness, context);
                        plans.push(Plan {
                            task: Arc::clone(task),
                            agent: agent.clone(),
                            harness,
                            context,
                            run,
                            run_id,
                            key,
                        });
                    }
                }
            }
        }
    }
    plans
}

/// Everything that decides a run's outcome, hashed: a resumed evaluation reruns runs whose key
/// changed.
fn run_key(
    options: &Options,
    task: &Task,
    agent: &Agent,
    harness: Harness,
    context: ContextFiles,
) -> String {
    let material = serde_json::json!({
        "task": serde_json::to_value(task).unwrap_or_default(),
        "agent": format!("{:?}", agent.kind),
        "harness": harness.name(),
        "context": context.name(),
        "sealed": options.sealed,
        "timeoutMs": options.timeout.as_millis() as u64,
        "config": format!("{:?}", options.config),
        "version": env!("CARGO_PKG_VERSION"),
    });
    crate::curate::sha256_hex(material.to_string().as_bytes())
}

/// The saved result of `plan`, if it is there, is for the same inputs and says something about
/// the agent (infrastructure errors are tried again).
fn saved(out: &Path, plan: &Plan) -> Option<RunResult> {
    let text =
        std::fs::read_to_string(out.join("runs").join(&plan.run_id).join("result.json")).ok()?;
    let result: RunResult = serde_json::from_str(&text).ok()?;
    (result.key == plan.key && result.outcome != Outcome::InfraError).then_some(result)
}

/// A task base's check: `Err` says why no agent can be judged on it.
type Precheck = OnceLock<Result<(), String>>;

struct Context<'a> {
    options: &'a Options,
    /// This evaluation's part of the cache: scratch clones, build output, workspaces.
    cache: PathBuf,
    forbidden: grade::Forbidden,
    infra: grade::Infra,
    /// Each task base's check, made once (by whichever worker needs it first).
    prechecks: Mutex<HashMap<String, Arc<Precheck>>>,
    done: Mutex<usize>,
    total: usize,
}

fn run_all(
    context: &Context<'_>,
    plans: Vec<Plan>,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Vec<RunResult> {
    let count = plans.len();
    let queue = Mutex::new(plans.into_iter().collect::<std::collections::VecDeque<_>>());
    let results = Mutex::new(Vec::with_capacity(count));
    let jobs = context.options.jobs.clamp(1, count.max(1));
    std::thread::scope(|scope| {
        for job in 0..jobs {
            let (queue, results) = (&queue, &results);
            scope.spawn(move || {
                let mut worker = Worker {
                    job,
                    scratches: HashMap::new(),
                    bases: HashSet::new(),
                };
                loop {
                    let next = queue.lock().ok().and_then(|mut queue| queue.pop_front());
                    let Some(plan) = next else {
                        break;
                    };
                    let result = run_one(context, &mut worker, &plan);
                    let done = {
                        let Ok(mut done) = context.done.lock() else {
                            break;
                        };
                        *done += 1;
                        *done
                    };
                    progress(Progress::Finished {
                        done,
                        total: context.total,
                        result: &result,
                    });
                    if let Ok(mut results) = results.lock() {
                        results.push(result);
                    }
                }
            });
        }
    });
    results.into_inner().unwrap_or_default()
}

/// One worker's scratch clones (one per source repository) and the bases built in them.
struct Worker {
    job: usize,
    scratches: HashMap<PathBuf, Scratch>,
    bases: HashSet<String>,
}

impl Worker {
    fn dir(&self, context: &Context<'_>, task: &Task) -> PathBuf {
        let root = Path::new(&task.repo_root);
        context
            .cache
            .join(format!("job-{}", self.job))
            .join(crate::curate::repo_key(root))
    }

    fn scratch(&mut self, context: &Context<'_>, task: &Task) -> Result<Scratch, String> {
        let root = PathBuf::from(&task.repo_root);
        if let Some(scratch) = self.scratches.get(&root) {
            return Ok(scratch.clone());
        }
        if !root.join(".git").exists() {
            return Err(format!(
                "the task's repository {} is not there: tasks are evaluated from the repository they were curated in",
                root.display()
            ));
        }
        let scratch =
            Scratch::open(&root, &self.dir(context, task).join("repo")).map_err(|error| {
                format!("cannot make a scratch clone of {}: {error}", root.display())
            })?;
        self.scratches.insert(root, scratch.clone());
        Ok(scratch)
    }

    /// The ref of the task's base (context files stripped or not) in this worker's scratch
    /// clone, built on first use.
    fn base(
        &mut self,
        context: &Context<'_>,
        task: &Task,
        files: ContextFiles,
    ) -> Result<(Scratch, String), String> {
        let scratch = self.scratch(context, task)?;
        let name = format!(
            "eval-{}-{}-{}",
            task.instance_id,
            files.name(),
            if context.options.sealed {
                "sealed"
            } else {
                "history"
            }
        );
        if self.bases.contains(&name) {
            return Ok((scratch, name));
        }
        build_base(&scratch, task, files, context.options.sealed, &name)?;
        self.bases.insert(name.clone());
        Ok((scratch, name))
    }
}

/// A fixed date for the commits prodcode makes, so the same base is the same commit.
const BASE_SECONDS: i64 = 1_700_000_000;

fn build_base(
    scratch: &Scratch,
    task: &Task,
    files: ContextFiles,
    sealed: bool,
    name: &str,
) -> Result<(), String> {
    let git = |error: crate::git::GitError| {
        format!("cannot build the base of {}: {error}", task.instance_id)
    };
    let start = if task.base.mode == "parent" || task.base.backout_patch.is_empty() {
        &task.base.commit
    } else {
        &task.base.head
    };
    scratch.checkout(start).map_err(git)?;
    scratch.apply(&task.base.backout_patch).map_err(|error| {
        format!(
            "the task's back-out patch does not apply to {}: {error}",
            &start[..start.len().min(12)]
        )
    })?;
    if files == ContextFiles::Strip {
        for path in context_files(&scratch.list_files().map_err(git)?) {
            let full = scratch.root().join(&path);
            let _ = std::fs::remove_file(&full);
        }
    }
    let message = format!("base of {}", task.instance_id);
    if sealed {
        scratch
            .root_commit(name, &message, BASE_SECONDS)
            .map_err(git)?;
    } else {
        let sha = scratch.commit_all(&message, BASE_SECONDS).map_err(git)?;
        scratch.mark(name, &sha).map_err(git)?;
    }
    Ok(())
}

/// The files of `files` that [`CONTEXT_FILES`] names.
pub fn context_files(files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            CONTEXT_FILES.iter().any(|context| {
                if context.contains('/') {
                    *path == context
                        || path.starts_with(&format!("{context}/"))
                        || path.contains(&format!("/{context}/"))
                        || path.ends_with(&format!("/{context}"))
                } else {
                    name == *context
                }
            })
        })
        .cloned()
        .collect()
}

fn run_one(context: &Context<'_>, worker: &mut Worker, plan: &Plan) -> RunResult {
    let started = Instant::now();
    let started_ms = crate::clock::now_ms();
    let run_dir = context.options.out.join("runs").join(&plan.run_id);
    let _ = std::fs::remove_dir_all(&run_dir);
    let mut result = RunResult {
        run_id: plan.run_id.clone(),
        key: plan.key.clone(),
        task_id: plan.task.instance_id.clone(),
        agent: plan.agent.name.clone(),
        harness: plan.harness.name().to_owned(),
        context_files: plan.context.name().to_owned(),
        run: plan.run,
        outcome: Outcome::InfraError,
        infra_error: None,
        command: Vec::new(),
        exit_code: None,
        timed_out: false,
        durations_ms: Durations::default(),
        fail_to_pass: BTreeMap::new(),
        pass_to_pass: BTreeMap::new(),
        changed_files: Vec::new(),
        restored: Vec::new(),
        test_patch_overrode: Vec::new(),
        flags: Vec::new(),
        outside: Vec::new(),
        forbidden: Vec::new(),
        stray_files: Vec::new(),
        trace: None,
        prodcode_tool_calls: BTreeMap::new(),
        validated: false,
        rubric: None,
        store_run_id: None,
        started_at: crate::clock::format_rfc3339(started_ms),
        finished_at: String::new(),
        prodcode_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let workspace_parent = context.cache.join("ws").join(&plan.run_id);
    if let Err(error) = std::fs::create_dir_all(&run_dir) {
        result.infra_error = Some(format!("cannot create {}: {error}", run_dir.display()));
    } else if let Err(error) = grade::run(
        context,
        worker,
        plan,
        &run_dir,
        &workspace_parent,
        &mut result,
    ) {
        result.outcome = Outcome::InfraError;
        result.infra_error = Some(error);
    }
    if !context.options.keep_workspaces {
        let _ = std::fs::remove_dir_all(&workspace_parent);
    }
    result.durations_ms.total = started.elapsed().as_millis() as u64;
    result.finished_at = crate::clock::format_rfc3339(crate::clock::now_ms());
    let text = serde_json::to_string_pretty(&result).unwrap_or_default();
    if let Err((path, error)) = crate::curate::task::write_whole(
        &run_dir.join("result.json"),
        format!("{text}\n").as_bytes(),
    ) {
        tracing::warn!("cannot save {}: {error}", path.display());
    }
    result
}

/// An exclusive lock on the output directory while the evaluation runs.
fn lock(out: &Path) -> Result<std::fs::File, EvalError> {
    let path = out.join(".lock");
    crate::curate::try_lock(&path)
        .map_err(|source| EvalError::Write { path, source })?
        .ok_or_else(|| {
            EvalError::Invalid(format!(
                "another `prodcode eval` is writing to {}: wait for it, or pass another --out",
                out.display()
            ))
        })
}

/// Makes `dir` a workspace of `name` in `scratch`.
fn workspace(
    scratch: &Scratch,
    name: &str,
    dir: &Path,
    sealed: bool,
) -> Result<RunWorkspace, String> {
    let _ = std::fs::remove_dir_all(dir);
    RunWorkspace::create(scratch, name, dir, sealed)
        .map_err(|error| format!("cannot make the workspace {}: {error}", dir.display()))
}
