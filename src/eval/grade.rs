//! One run, from workspace to verdict: make the workspace, run the agent, read its trace, then
//! grade what it left.
//!
//! Grading cannot be talked into a pass: test files the agent changed, and test infrastructure
//! (`conftest.py`, `sitecustomize.py`, test runner configuration, `prodcode.toml`), are put back
//! to base + test patch before the tests run, and the run is flagged. Where the agent changed a
//! file the test patch also changes, the test patch's version is graded and that is recorded.

use std::path::Path;
use std::time::{Duration, Instant};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use super::agent::{AgentKind, Placeholders, TraceFormat};
use super::result::{Outcome, RunResult};
use super::{Context, Harness, Plan, Worker};
use crate::curate::task::Task;
use crate::git::RunWorkspace;
use crate::tools::exec::{self, CommandSpec, ExecError};
use crate::tools::runner::{self, TestStatus};

/// The most of an agent's stdout and of its stderr kept (the tail).
const AGENT_OUTPUT_CAP: usize = 64 << 20;

/// Files that decide how tests run, put back before grading (beside every test file).
pub(super) const TEST_INFRA: &[&str] = &[
    "**/conftest.py",
    "**/sitecustomize.py",
    "**/usercustomize.py",
    "**/*.pth",
    "pytest.ini",
    ".pytest.ini",
    "**/pytest.ini",
    "tox.ini",
    "noxfile.py",
    "setup.cfg",
    ".coveragerc",
    "prodcode.toml",
    ".cargo/**",
    ".config/nextest.toml",
    "**/.cargo/config.toml",
    "**/.cargo/config",
    "jest.config.*",
    "vitest.config.*",
    "**/jest.setup.*",
    "**/vitest.setup.*",
    "**/setupTests.*",
    "Makefile",
];

/// New files that look like leftovers of the agent's work.
const STRAY: &[&str] = &[
    "**/*.orig",
    "**/*.rej",
    "**/*.bak",
    "**/*~",
    "**/*.swp",
    "**/.DS_Store",
    "**/nohup.out",
];

/// The test infrastructure globs: the defaults and `[eval] test_infra`.
pub struct Infra {
    infra: GlobSet,
    stray: GlobSet,
}

impl Infra {
    pub fn new(extra: &[String]) -> Result<Infra, String> {
        let build = |patterns: &mut dyn Iterator<Item = &str>| {
            let mut builder = GlobSetBuilder::new();
            for pattern in patterns {
                let glob = Glob::new(pattern).map_err(|error| {
                    format!("[eval] test_infra: {pattern:?} is not a glob: {error}")
                })?;
                builder.add(glob);
            }
            builder.build().map_err(|error| error.to_string())
        };
        Ok(Infra {
            infra: build(
                &mut TEST_INFRA
                    .iter()
                    .copied()
                    .chain(extra.iter().map(String::as_str)),
            )?,
            stray: build(&mut STRAY.iter().copied())?,
        })
    }
}

/// `[eval] forbidden_commands`, compiled.
pub struct Forbidden(Vec<Regex>);

impl Forbidden {
    pub fn new(patterns: &[String]) -> Result<Forbidden, String> {
        patterns
            .iter()
            .map(|pattern| {
                Regex::new(pattern).map_err(|error| {
                    format!("[eval] forbidden_commands: {pattern:?} is not a regular expression: {error}")
                })
            })
            .collect::<Result<_, _>>()
            .map(Forbidden)
    }
}

/// Makes, runs and grades `plan`, filling `result`; an `Err` is an infrastructure error.
pub(super) fn run(
    context: &Context<'_>,
    worker: &mut Worker,
    plan: &Plan,
    run_dir: &Path,
    workspace_parent: &Path,
    result: &mut RunResult,
) -> Result<(), String> {
    let task = &plan.task;
    let setup_started = Instant::now();
    let (scratch, base) = worker.base(context, task, plan.context)?;
    let precheck_started = Instant::now();
    let checked = precheck(context, worker, plan, &scratch, &base);
    result.durations_ms.precheck = precheck_started.elapsed().as_millis() as u64;
    checked?;
    let workspace = super::workspace(
        &scratch,
        &base,
        &workspace_parent.join("work"),
        context.options.sealed,
    )?;
    let root = workspace.root().to_path_buf();
    let before_outside = listing(workspace_parent);
    result.durations_ms.setup =
        (setup_started.elapsed().as_millis() as u64).saturating_sub(result.durations_ms.precheck);

    // The agent.
    let agent_started = Instant::now();
    let store_run = start_store_run(context, plan);
    result.store_run_id = store_run;
    match &plan.agent.kind {
        AgentKind::Noop => {}
        AgentKind::Gold => workspace.apply(&task.solution_patch).map_err(|error| {
            format!("the task's own solution does not apply to its base: {error}")
        })?,
        AgentKind::Command { argv, env, trace } => {
            let prompt_file = run_dir.join("prompt.txt");
            std::fs::write(&prompt_file, &task.prompt)
                .map_err(|error| format!("cannot write {}: {error}", prompt_file.display()))?;
            let mcp = write_mcp_config(context, run_dir, &root, store_run)?;
            let text = |path: &Path| path.to_string_lossy().into_owned();
            let values = Placeholders {
                prompt: &task.prompt,
                prompt_file: &text(&prompt_file),
                workdir: &text(&root),
                mcp_config: &text(&mcp.json),
                mcp_config_toml: &text(&mcp.toml),
                task_id: &task.instance_id,
                run: plan.run,
                codex_overrides: &mcp.codex_overrides,
            };
            let words =
                super::agent::command_line(argv, *trace, plan.harness == Harness::Ide, &values);
            result.command = words.clone();
            let mut spec = CommandSpec::new(words[0].clone(), &[], &root);
            spec.args = words[1..].to_vec();
            spec.env = env.clone();
            spec.env
                .push(("PRODCODE_TASK_ID".to_owned(), task.instance_id.clone()));
            if let Some(id) = store_run {
                spec.env
                    .push((crate::tools::toolbox::RUN_ENV.to_owned(), id.to_string()));
            }
            if plan.harness == Harness::Ide {
                spec.env
                    .push(("PRODCODE_MCP_CONFIG".to_owned(), text(&mcp.json)));
            }
            let execution = exec::run(&spec, context.options.timeout, AGENT_OUTPUT_CAP).map_err(
                |error| match error {
                    ExecError::NotFound { program } => format!(
                        "the agent command `{program}` was not found: install it or fix --agent {}",
                        plan.agent.name
                    ),
                    other => format!("cannot run the agent: {other}"),
                },
            )?;
            let _ = std::fs::write(run_dir.join("agent.stdout"), &execution.stdout);
            let _ = std::fs::write(run_dir.join("agent.stderr"), &execution.stderr);
            result.exit_code = execution.status;
            result.timed_out = execution.timed_out;
            result.trace = super::trace::parse(*trace, &String::from_utf8_lossy(&execution.stdout));
            if *trace == TraceFormat::None {
                result.trace = None;
            }
        }
    }
    result.durations_ms.agent = agent_started.elapsed().as_millis() as u64;

    // Grading.
    let grading_started = Instant::now();
    let change = workspace
        .change()
        .map_err(|error| format!("cannot read the agent's change: {error}"))?;
    let _ = std::fs::write(run_dir.join("agent.diff"), &change);
    let changed = workspace
        .changed_paths()
        .map_err(|error| format!("cannot read the agent's change: {error}"))?;
    result.changed_files = changed
        .iter()
        .map(|path| format!("{} {}", path.status, path.path))
        .collect();
    checks(
        context,
        task,
        &root,
        workspace_parent,
        &before_outside,
        &changed,
        result,
    );

    let config = crate::config::load(&root).unwrap_or_default();
    let test_files = crate::curate::split::TestFiles::new(&config.curate.test_globs)
        .unwrap_or_else(|_| crate::curate::split::TestFiles::new(&[]).expect("no globs"));
    let patched = patch_paths(&task.test_patch);
    let mut restore = Vec::new();
    for path in &changed {
        let in_patch = patched.contains(&path.path);
        if in_patch {
            result.test_patch_overrode.push(path.path.clone());
        } else if context.infra.infra.is_match(&path.path) || test_files.is_test(&path.path, None) {
            result.restored.push(path.path.clone());
        } else {
            continue;
        }
        restore.push(path.path.clone());
    }
    // A `conftest.py` hidden by an ignore rule is no part of the change, yet pytest loads it.
    for path in workspace.ignored_files().unwrap_or_default() {
        if context.infra.infra.is_match(&path) || test_files.is_test(&path, None) {
            result.restored.push(path.clone());
            restore.push(path);
        }
    }
    if !result.restored.is_empty() {
        result.flags.push("tests_restored".to_owned());
    }
    workspace
        .restore(&restore)
        .map_err(|error| format!("cannot put test files back: {error}"))?;
    workspace.apply(&task.test_patch).map_err(|error| {
        format!("the test patch does not apply after the agent's change: {error}")
    })?;
    let tests_started = Instant::now();
    let run = run_tests(context, worker, task, &workspace)?;
    result.durations_ms.tests = tests_started.elapsed().as_millis() as u64;
    let _ = std::fs::write(
        run_dir.join("tests.json"),
        serde_json::to_string_pretty(&run).unwrap_or_default(),
    );
    let status = |id: &str| {
        run.tests
            .iter()
            .find(|test| test.id == id)
            .map_or(TestStatus::NotRun, |test| test.status)
    };
    let name = |status: TestStatus| {
        serde_json::to_value(status)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let mut resolved = true;
    for id in &task.fail_to_pass {
        resolved &= status(id) == TestStatus::Passed;
        result.fail_to_pass.insert(id.to_string(), name(status(id)));
    }
    for id in &task.pass_to_pass {
        resolved &= status(id) == TestStatus::Passed;
        result.pass_to_pass.insert(id.to_string(), name(status(id)));
    }
    result.outcome = if resolved {
        Outcome::Resolved
    } else {
        Outcome::Unresolved
    };
    if result.timed_out {
        result.flags.push("timed_out".to_owned());
    }
    result.prodcode_tool_calls = store_tool_calls(context, store_run);
    result.validated = result
        .trace
        .as_ref()
        .is_some_and(|trace| trace.tool_calls.iter().any(|call| call.kind.validates()))
        || result
            .prodcode_tool_calls
            .keys()
            .any(|tool| super::trace::prodcode_tool_kind(tool).validates());
    if let Some(rubric) = &context.options.config.rubric {
        result.rubric = rubric_score(rubric, task, &change, &root, context.options.timeout);
    }
    finish_store_run(context, store_run, resolved);
    result.durations_ms.grading = grading_started.elapsed().as_millis() as u64;
    Ok(())
}

/// The deterministic process checks: writes beside the workspace, edits outside it or reads of
/// the task's own repository in the trace, forbidden commands, leftover files.
fn checks(
    context: &Context<'_>,
    task: &Task,
    root: &Path,
    workspace_parent: &Path,
    before: &[String],
    changed: &[crate::git::ChangedPath],
    result: &mut RunResult,
) {
    for entry in listing(workspace_parent) {
        if !before.contains(&entry) {
            result
                .outside
                .push(workspace_parent.join(entry).to_string_lossy().into_owned());
        }
    }
    let source = task.repo_root.trim_end_matches('/');
    if let Some(trace) = &result.trace {
        for call in &trace.tool_calls {
            for path in &call.paths {
                let full = if Path::new(path).is_absolute() {
                    Path::new(path).to_path_buf()
                } else {
                    root.join(path)
                };
                let inside = normalize(&full).starts_with(root);
                let edits = call.kind == super::trace::ToolKind::Edit;
                if (edits && !inside) || (!source.is_empty() && path.starts_with(source)) {
                    result.outside.push(path.clone());
                }
            }
            if let Some(command) = &call.command {
                let names_source = !source.is_empty() && command.contains(source);
                if names_source
                    || context
                        .forbidden
                        .0
                        .iter()
                        .any(|regex| regex.is_match(command))
                {
                    result.forbidden.push(command.clone());
                }
            }
        }
    }
    result.outside.sort();
    result.outside.dedup();
    if !result.outside.is_empty() {
        result.flags.push("wrote_outside".to_owned());
    }
    if !result.forbidden.is_empty() {
        result.flags.push("forbidden_command".to_owned());
    }
    result.stray_files = changed
        .iter()
        .filter(|path| path.status == 'A' && context.infra.stray.is_match(&path.path))
        .map(|path| path.path.clone())
        .collect();
    if !result.stray_files.is_empty() {
        result.flags.push("stray_files".to_owned());
    }
}

/// `path` with `.` and `..` resolved lexically.
fn normalize(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The paths a patch changes (`diff --git a/X b/X` headers).
pub fn patch_paths(patch: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for line in patch.lines() {
        let Some(rest) = line.strip_prefix("diff --git a/") else {
            continue;
        };
        // `a/X b/X` with the same X on both sides (no renames in prodcode's patches).
        let half = (rest.len().saturating_sub(3)) / 2;
        if rest.is_char_boundary(half) && rest[half..].starts_with(" b/") {
            paths.push(rest[..half].to_owned());
        } else if let Some((path, _)) = rest.split_once(" b/") {
            paths.push(path.to_owned());
        }
    }
    paths
}

/// Runs the task's fail-to-pass and pass-to-pass tests, exactly, in `workspace`.
fn run_tests(
    context: &Context<'_>,
    worker: &Worker,
    task: &Task,
    workspace: &RunWorkspace,
) -> Result<runner::TestRun, String> {
    let root = workspace.root();
    let config = crate::config::load(root).map_err(|error| error.to_string())?;
    let mut runner = runner::detect(root, config.tools.tests.as_ref()).ok_or_else(|| {
        format!(
            "no test runner detected in the workspace (the task was curated with {})",
            task.runner
        )
    })?;
    runner::isolate(&mut runner, root, &worker.dir(context, task).join("target"));
    let ids: Vec<String> = task
        .fail_to_pass
        .iter()
        .chain(&task.pass_to_pass)
        .cloned()
        .collect();
    let timeout = context
        .options
        .test_timeout
        .unwrap_or(Duration::from_secs(config.curate.timeout_s.max(1)));
    runner::run_tests(root, &runner, &[], &ids, timeout).map_err(|error| error.to_string())
}

/// Checks once per task base that its pass-to-pass tests pass with the test patch before any
/// agent is judged on it.
fn precheck(
    context: &Context<'_>,
    worker: &Worker,
    plan: &Plan,
    scratch: &crate::git::Scratch,
    base: &str,
) -> Result<(), String> {
    let cell = {
        let Ok(mut prechecks) = context.prechecks.lock() else {
            return Err("a worker stopped while holding the precheck table".to_owned());
        };
        std::sync::Arc::clone(prechecks.entry(base.to_owned()).or_default())
    };
    cell.get_or_init(|| {
        let dir = context.cache.join("precheck").join(base).join("work");
        let workspace = super::workspace(scratch, base, &dir, true)?;
        let outcome = (|| {
            workspace
                .apply(&plan.task.test_patch)
                .map_err(|error| format!("the test patch does not apply to the base: {error}"))?;
            let run = run_tests(context, worker, &plan.task, &workspace)?;
            let broken: Vec<String> = plan
                .task
                .pass_to_pass
                .iter()
                .filter(|id| {
                    !run.tests
                        .iter()
                        .any(|test| &test.id == *id && test.status == TestStatus::Passed)
                })
                .cloned()
                .collect();
            if !broken.is_empty() {
                return Err(format!(
                    "the base does not pass its own pass-to-pass tests before any agent ran ({}{}){}",
                    broken.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                    if broken.len() > 3 { ", …" } else { "" },
                    run.problem
                        .as_deref()
                        .map(|problem| format!(": {problem}"))
                        .unwrap_or_default()
                ));
            }
            Ok(())
        })();
        if let Some(parent) = dir.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
        outcome
    })
    .clone()
}

struct McpConfig {
    json: std::path::PathBuf,
    toml: std::path::PathBuf,
    codex_overrides: Vec<String>,
}

/// The MCP server configuration of the `ide` harness, in Claude Code's JSON (`--mcp-config`) and
/// Codex's TOML (`[mcp_servers.prodcode]`), kept in the run's directory, outside the workspace.
fn write_mcp_config(
    context: &Context<'_>,
    run_dir: &Path,
    root: &Path,
    store_run: Option<i64>,
) -> Result<McpConfig, String> {
    let command = context.options.prodcode.to_string_lossy().into_owned();
    let args = vec![
        "mcp".to_owned(),
        "--workspace".to_owned(),
        root.to_string_lossy().into_owned(),
    ];
    let mut env = serde_json::Map::new();
    if let Some(db) = &context.options.db {
        env.insert(
            "PRODCODE_DB".to_owned(),
            db.to_string_lossy().into_owned().into(),
        );
    }
    if let Some(id) = store_run {
        env.insert(
            crate::tools::toolbox::RUN_ENV.to_owned(),
            id.to_string().into(),
        );
    }
    let json = serde_json::json!({
        "mcpServers": { "prodcode": { "type": "stdio", "command": command, "args": args, "env": env } }
    });
    // TOML basic strings take JSON's escapes.
    let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let toml_args = format!(
        "[{}]",
        args.iter()
            .map(|arg| quote(arg))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let toml_env = format!(
        "{{ {} }}",
        env.iter()
            .map(|(key, value)| format!("{key} = {}", quote(value.as_str().unwrap_or(""))))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let toml = format!(
        "[mcp_servers.prodcode]\ncommand = {}\nargs = {toml_args}\nenv = {toml_env}\n",
        quote(&command)
    );
    let paths = McpConfig {
        json: run_dir.join("mcp.json"),
        toml: run_dir.join("mcp.toml"),
        codex_overrides: vec![
            "-c".to_owned(),
            format!("mcp_servers.prodcode.command={}", quote(&command)),
            "-c".to_owned(),
            format!("mcp_servers.prodcode.args={toml_args}"),
            "-c".to_owned(),
            format!("mcp_servers.prodcode.env={toml_env}"),
        ],
    };
    std::fs::write(&paths.json, format!("{json:#}\n"))
        .and_then(|()| std::fs::write(&paths.toml, toml))
        .map_err(|error| {
            format!(
                "cannot write the MCP configuration in {}: {error}",
                run_dir.display()
            )
        })?;
    Ok(paths)
}

fn start_store_run(context: &Context<'_>, plan: &Plan) -> Option<i64> {
    let db = context.options.db.as_ref()?;
    let mut store = crate::store::Store::open(db)
        .map_err(|error| tracing::warn!("runs are not recorded in {}: {error}", db.display()))
        .ok()?;
    let detail = serde_json::json!({
        "runId": plan.run_id,
        "harness": plan.harness.name(),
        "contextFiles": plan.context.name(),
    })
    .to_string();
    store
        .write(|writer| {
            writer.start_eval_run(&crate::store::NewEvalRun {
                task_id: &plan.task.instance_id,
                agent: &plan.agent.name,
                attempt: plan.run as i64,
                started_ms: crate::clock::now_ms(),
                detail: &detail,
            })
        })
        .map_err(|error| tracing::warn!("cannot record the run in {}: {error}", db.display()))
        .ok()
}

fn finish_store_run(context: &Context<'_>, id: Option<i64>, resolved: bool) {
    let (Some(db), Some(id)) = (&context.options.db, id) else {
        return;
    };
    if let Ok(mut store) = crate::store::Store::open(db) {
        let _ = store
            .write(|writer| writer.finish_eval_run(id, crate::clock::now_ms(), Some(resolved)));
    }
}

fn store_tool_calls(
    context: &Context<'_>,
    id: Option<i64>,
) -> std::collections::BTreeMap<String, u64> {
    let (Some(db), Some(id)) = (&context.options.db, id) else {
        return Default::default();
    };
    crate::store::Store::open(db)
        .and_then(|store| store.eval_run_tool_calls(id))
        .map(|calls| calls.into_iter().collect())
        .unwrap_or_default()
}

/// Runs the configured rubric grader: `{ task, diff }` on stdin, a JSON score on stdout.
fn rubric_score(
    rubric: &crate::tools::runner::CommandLine,
    task: &Task,
    diff: &str,
    root: &Path,
    timeout: Duration,
) -> Option<serde_json::Value> {
    let words = exec::command_words(rubric, false);
    let (program, args) = words.split_first()?;
    let mut spec = CommandSpec::new(program.clone(), &[], root);
    spec.args = args.to_vec();
    let input = serde_json::json!({ "task": task, "diff": diff }).to_string();
    let mut file = tempfile::tempfile().ok()?;
    std::io::Write::write_all(&mut file, input.as_bytes()).ok()?;
    std::io::Seek::rewind(&mut file).ok()?;
    let execution = exec::run_with_stdin(&spec, Some(file), timeout, 1 << 20)
        .map_err(|error| tracing::warn!("the rubric grader did not run: {error}"))
        .ok()?;
    serde_json::from_slice(&execution.stdout)
        .map_err(|error| tracing::warn!("the rubric grader's answer is not JSON: {error}"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_paths_read_the_git_headers() {
        let patch = "diff --git a/tests/test a.py b/tests/test a.py\nindex 1..2\n--- a/x\n+++ b/x\ndiff --git a/b/c.rs b/b/c.rs\n";
        assert_eq!(patch_paths(patch), ["tests/test a.py", "b/c.rs"]);
    }

    #[test]
    fn infrastructure_and_leftovers_are_told_by_path() {
        let infra = Infra::new(&["ci/**".to_owned()]).unwrap();
        for path in [
            "conftest.py",
            "pkg/tests/conftest.py",
            "sitecustomize.py",
            "pytest.ini",
            "prodcode.toml",
            ".cargo/config.toml",
            "ci/x.py",
        ] {
            assert!(infra.infra.is_match(path), "{path}");
        }
        for path in ["src/calc.py", "pyproject.toml", "Cargo.toml"] {
            assert!(!infra.infra.is_match(path), "{path}");
        }
        assert!(infra.stray.is_match("calc.py.orig"));
        assert!(!infra.stray.is_match("calc.py"));
    }
}
