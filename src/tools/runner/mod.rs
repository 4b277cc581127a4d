//! Running a project's tests: detect the runner, run it through [`exec`](super::exec), parse its
//! machine-readable report into per-test results.
//!
//! One file per runner family builds the command and picks the parser (`cargo`, `python`, `go`,
//! `node`, `configured`); one file per report format parses it (`libtest`, `junit`, `go_json`,
//! `jest_json`, `json_lines` for prodcode's own pytest plugin and unittest driver). This is the one
//! implementation of "run this project's tests": the `run_tests` tool, curation and evaluation all
//! call [`run_tests`].
//!
//! Ids ([`TestCase::id`]) are stable across runs and unique within one, and for cargo (both
//! kinds, the same ids), pytest, unittest and go test, passing them back as `names` selects
//! exactly those tests: [`Runner::selects_exactly`] says whether names will be taken as ids, and
//! [`Runner::is_test_id`] whether one string has the form of an id. An exact run answers every
//! requested id exactly once, as [`TestStatus::NotRun`] or [`TestStatus::DidNotCompile`] when it
//! has no result.
//!
//! Invariants:
//! - Parsers are pure functions over arbitrary text. Whatever a runner prints, the answer is a
//!   [`TestRun`] (perhaps with no tests and a `problem`), never a panic.
//! - Counts of a run without names are never lower than what the runner itself summarised
//!   (libtest's `test result:` lines, nextest's `Summary`).
//! - No project option changes a verdict: doctests never run, nothing stops early or retries
//!   (`--no-fail-fast`, nextest `--retries 0`, pytest `--maxfail=0`, go `-count=1`).
//! - Targets and names never become options, and never name a place outside the workspace: one
//!   gate ([`run_tests`]'s first step) refuses a leading `-` (and pytest's `@`), and a target,
//!   pytest id file or Go id package that resolves outside; pytest's positional arguments follow
//!   `--`.
//! - Report files go to a temporary directory, never into the workspace.

mod cargo;
mod configured;
mod go;
pub mod go_json;
pub mod jest_json;
pub mod json_lines;
pub mod junit;
pub mod libtest;
mod node;
mod python;

/// prodcode's pytest plugin and unittest driver, for exports that run tests where prodcode is not
/// (`eval::harbor`).
pub(crate) use python::{DRIVER as UNITTEST_DRIVER, PLUGIN as PYTEST_PLUGIN};

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::exec::{self, ExecError, Execution, find_on_path, is_executable};
use super::workspace::{ToolErrorKind, Workspace};

/// The most of a run's stdout and of its stderr kept while it runs (the tail).
const OUTPUT_CAP: usize = 16 << 20;
/// The most of one test's output (or of a whole run's, twice this) kept in a result.
const TAIL_BYTES: usize = 4096;

/// A `[tools.tests]` section of `prodcode.toml`: the command that runs the project's tests.
///
/// ```toml
/// [tools.tests]
/// command = ["make", "test"]      # or a string, split on whitespace (or run by `sh -c` with shell)
/// shell = false
/// format = "junit"                # exit_code (default), libtest, go_json, junit, jest_json
/// report = "build/junit.xml"      # where the command writes a junit or jest_json report
/// ```
///
/// Targets and names from the caller are appended to the command as arguments (with `shell`, as
/// `$1`, `$2`, …).
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
pub struct RunnerConfig {
    pub command: CommandLine,
    #[serde(default)]
    pub shell: bool,
    #[serde(default)]
    pub format: ReportFormat,
    /// The report file the command writes, relative to the workspace root.
    #[serde(default)]
    pub report: Option<PathBuf>,
    /// Variables added to the command's environment.
    #[serde(default)]
    pub env: Vec<(String, String)>,
}

#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(untagged)]
pub enum CommandLine {
    Line(String),
    Argv(Vec<String>),
}

/// How a configured command reports its results.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// Only the exit code: one result for the whole command.
    #[default]
    ExitCode,
    /// Rust's libtest human output on stdout (and stderr).
    Libtest,
    /// `go test -json` events on stdout.
    GoJson,
    /// A JUnit XML file at `report`.
    Junit,
    /// A jest or vitest JSON result file at `report`.
    JestJson,
}

/// A detected (or configured) test runner: what to run, before targets and names are added.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Runner {
    pub kind: RunnerKind,
    /// The program and its leading arguments (`cargo test`, `.venv/bin/python -m pytest`).
    pub program: String,
    pub args: Vec<String>,
    /// Variables added to the runner's environment.
    pub env: Vec<(String, String)>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RunnerKind {
    CargoNextest,
    CargoTest,
    Pytest,
    /// The standard library's unittest, for Python projects whose interpreter lacks pytest.
    Unittest,
    GoTest,
    Jest,
    Vitest,
    Configured {
        shell: bool,
        format: ReportFormat,
        report: Option<PathBuf>,
    },
}

impl RunnerKind {
    /// The name results and messages use: `cargo-nextest`, `cargo-test`, `pytest`, `unittest`,
    /// `go-test`, `jest`, `vitest`, `configured`.
    pub fn name(&self) -> &'static str {
        match self {
            RunnerKind::CargoNextest => "cargo-nextest",
            RunnerKind::CargoTest => "cargo-test",
            RunnerKind::Pytest => "pytest",
            RunnerKind::Unittest => "unittest",
            RunnerKind::GoTest => "go-test",
            RunnerKind::Jest => "jest",
            RunnerKind::Vitest => "vitest",
            RunnerKind::Configured { .. } => "configured",
        }
    }
}

impl Runner {
    /// Whether `text` has the form of one of this runner's test ids ([`TestCase::id`]): the
    /// runners with exact selection are cargo (both kinds), pytest, unittest and go test. An id
    /// never starts with `-`.
    pub fn is_test_id(&self, text: &str) -> bool {
        if text.is_empty() || text.starts_with('-') {
            return false;
        }
        match self.kind {
            RunnerKind::CargoNextest | RunnerKind::CargoTest => cargo::is_test_id(text),
            RunnerKind::Pytest => python::is_pytest_id(text),
            RunnerKind::Unittest => python::is_unittest_id(text),
            RunnerKind::GoTest => go::is_test_id(text),
            RunnerKind::Jest | RunnerKind::Vitest | RunnerKind::Configured { .. } => false,
        }
    }

    /// Whether [`run_tests`] treats `names` as exact ids: there is at least one and each is
    /// [`is_test_id`](Self::is_test_id).
    pub fn selects_exactly(&self, names: &[String]) -> bool {
        !names.is_empty() && names.iter().all(|name| self.is_test_id(name))
    }
}

/// The outcome of one test run.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRun {
    /// [`RunnerKind::name`].
    pub runner: String,
    /// The command that ran, as argv.
    pub command: Vec<String>,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub errors: u64,
    /// Requested tests the run never reported ([`TestStatus::NotRun`]).
    pub not_run: u64,
    /// Tests whose build or collection failed ([`TestStatus::DidNotCompile`]).
    pub did_not_compile: u64,
    pub tests: Vec<TestCase>,
    pub timed_out: bool,
    /// `None` when a signal ended the runner (after a timeout, `SIGKILL`).
    pub exit_code: Option<i32>,
    /// The end of the runner's output (stdout, then stderr).
    pub output_tail: String,
    /// Output was dropped, at the start of the run or of `outputTail`.
    pub output_truncated: bool,
    /// What went wrong beyond failing tests, and what to do about it: a timeout, a build error,
    /// a runner that is not installed properly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestCase {
    /// Unique within a run and stable across runs: the test's group (test binary, package,
    /// module, file) and its name, as each runner names them.
    pub id: String,
    /// The name the runner's filter accepts (`tests::adds`, `TestAdd`, `test_adds`).
    pub name: String,
    pub status: TestStatus,
    pub duration_ms: Option<u64>,
    /// Why the test failed, was skipped, or could not run.
    pub message: Option<String>,
    /// The end of the test's own output, for tests that did not pass.
    pub output_tail: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TestStatus {
    Passed,
    Failed,
    Skipped,
    /// The test could not run: a fixture or setup error, a class or module fixture that failed,
    /// a test that never finished because the run timed out or crashed while it ran.
    Error,
    /// A requested test (exact ids) that the run never reported: it does not exist, was
    /// deselected by the project's configuration, or the run timed out before reaching it.
    NotRun,
    /// The test's build or collection failed: cargo's `could not compile`, a pytest collection
    /// error in its file, a unittest module that does not import, a Go package that does not build.
    /// Also the status of the per-file (pytest), per-module (unittest) or per-package (Go) entry
    /// that reports such a failure.
    DidNotCompile,
}

/// Totals by status.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub errors: u64,
    pub not_run: u64,
    pub did_not_compile: u64,
}

impl Counts {
    pub fn of(tests: &[TestCase]) -> Counts {
        let mut counts = Counts::default();
        for test in tests {
            match test.status {
                TestStatus::Passed => counts.passed += 1,
                TestStatus::Failed => counts.failed += 1,
                TestStatus::Skipped => counts.skipped += 1,
                TestStatus::Error => counts.errors += 1,
                TestStatus::NotRun => counts.not_run += 1,
                TestStatus::DidNotCompile => counts.did_not_compile += 1,
            }
        }
        counts
    }

    fn plus(self, other: Counts) -> Counts {
        Counts {
            passed: self.passed.saturating_add(other.passed),
            failed: self.failed.saturating_add(other.failed),
            skipped: self.skipped.saturating_add(other.skipped),
            errors: self.errors.saturating_add(other.errors),
            not_run: self.not_run.saturating_add(other.not_run),
            did_not_compile: self.did_not_compile.saturating_add(other.did_not_compile),
        }
    }

    fn max(self, other: Counts) -> Counts {
        Counts {
            passed: self.passed.max(other.passed),
            failed: self.failed.max(other.failed),
            skipped: self.skipped.max(other.skipped),
            errors: self.errors.max(other.errors),
            not_run: self.not_run.max(other.not_run),
            did_not_compile: self.did_not_compile.max(other.did_not_compile),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(
        "no test runner detected in {}: looked for Cargo.toml (cargo), go.mod (go test), a \
         package.json naming jest or vitest, and a Python project (pyproject.toml, setup.cfg, \
         pytest.ini, tox.ini, conftest.py, or test*.py files at the root or in tests/). Add one, or \
         set the command in prodcode.toml: [tools.tests] command = \"make test\"",
        root.display()
    )]
    NotDetected { root: PathBuf },
    #[error("the configured test command is empty: set [tools.tests] command in prodcode.toml")]
    EmptyCommand,
    #[error("{runner} needs `{program}`, which was not found: {hint}")]
    NotInstalled {
        runner: &'static str,
        program: String,
        hint: &'static str,
    },
    #[error("cannot run {runner}: {source}")]
    Exec {
        runner: &'static str,
        #[source]
        source: ExecError,
    },
    #[error("cannot create a temporary directory for the test report: {0}")]
    TempDir(#[source] std::io::Error),
    #[error("{0}")]
    InvalidArgument(String),
    /// A target or id names a place outside the workspace.
    #[error("{0}")]
    OutsideWorkspace(String),
}

/// The project's test runner: a configured command wins; otherwise the first of Cargo
/// (`cargo nextest` when installed, else `cargo test`), Go, jest or vitest (named in
/// `package.json`), pytest, whose marker file is in `root`. `None` when there is none: the caller
/// answers with [`RunnerError::NotDetected`].
pub fn detect(root: &Path, config: Option<&RunnerConfig>) -> Option<Runner> {
    if let Some(config) = config {
        return configured::runner(config);
    }
    if root.join("Cargo.toml").is_file() {
        return Some(cargo::detect());
    }
    if root.join("go.mod").is_file() {
        return Some(go::detect());
    }
    if let Some(runner) = node::detect(root) {
        return Some(runner);
    }
    python::detect(root)
}

/// Sets `runner` up to run the work tree at `root` from a place of prodcode's: build output in
/// `target_dir` (outside the work tree, so checkouts never discard it), and the work tree's
/// Python code ahead of an installed copy of the same package.
pub fn isolate(runner: &mut Runner, root: &Path, target_dir: &Path) {
    match runner.kind {
        RunnerKind::CargoTest | RunnerKind::CargoNextest => runner.env.push((
            "CARGO_TARGET_DIR".to_owned(),
            target_dir.to_string_lossy().into_owned(),
        )),
        RunnerKind::Pytest | RunnerKind::Unittest => {
            import_from_root(runner, root);
            runner
                .env
                .push(("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()));
        }
        _ => {}
    }
}

/// Python tests import the project from the work tree (its root, and `src/` when there is one),
/// as `python -m pytest` run at the root would: a project with no `conftest.py` at its root and
/// no installed copy otherwise fails to collect (`No module named …`). The caller's own
/// `PYTHONPATH` comes after.
pub fn import_from_root(runner: &mut Runner, root: &Path) {
    if !matches!(runner.kind, RunnerKind::Pytest | RunnerKind::Unittest) {
        return;
    }
    let mut paths = vec![root.to_path_buf()];
    if root.join("src").is_dir() {
        paths.push(root.join("src"));
    }
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    if let Ok(joined) = std::env::join_paths(paths) {
        runner.env.push((
            "PYTHONPATH".to_owned(),
            joined.to_string_lossy().into_owned(),
        ));
    }
}

/// Runs `runner` in `root` on `targets` (packages, paths or files, as the runner understands
/// them; all tests when empty) and `names`, killing it after `timeout`.
///
/// When every name is one of the runner's test ids ([`Runner::selects_exactly`]), the run selects
/// exactly those tests (targets are then ignored: the ids carry them) and `tests` holds one entry
/// per distinct requested id, in the order requested: its result, or [`TestStatus::NotRun`] or
/// [`TestStatus::DidNotCompile`]; tests the runner ran besides are dropped. A pytest or unittest
/// id that names a class, file or module stands for the tests under it. Otherwise names are
/// test-name filters, as each runner applies them (mostly substrings).
///
/// Failing tests are a successful call: the error cases are a runner that cannot start at all,
/// and a target or name that starts with `-` (it would become an option).
pub fn run_tests(
    root: &Path,
    runner: &Runner,
    targets: &[String],
    names: &[String],
    timeout: Duration,
) -> Result<TestRun, RunnerError> {
    check_arguments(root, runner, targets, names)?;
    let report_dir = tempfile::Builder::new()
        .prefix("prodcode-tests-")
        .tempdir()
        .map_err(RunnerError::TempDir)?;
    let exact = runner.selects_exactly(names);
    let mut requested: Vec<String> = Vec::new();
    if exact {
        for name in names {
            if !requested.contains(name) {
                requested.push(name.clone());
            }
        }
    }
    let invocation = Invocation {
        root,
        runner,
        targets,
        names: if exact { &requested } else { names },
        exact,
        report_dir: report_dir.path(),
        timeout,
    };
    let cargo_targets = match runner.kind {
        RunnerKind::CargoTest => cargo::workspace_targets(&invocation),
        RunnerKind::CargoNextest if exact => cargo::workspace_targets(&invocation),
        _ => None,
    };
    let spec = match &runner.kind {
        RunnerKind::CargoNextest | RunnerKind::CargoTest => {
            cargo::command(&invocation, cargo_targets.as_deref())
        }
        RunnerKind::Pytest => python::pytest_command(&invocation),
        RunnerKind::Unittest => Some(python::unittest_command(&invocation)),
        RunnerKind::GoTest => Some(go::command(&invocation)),
        RunnerKind::Jest | RunnerKind::Vitest => Some(node::command(&invocation)),
        RunnerKind::Configured { .. } => Some(configured::command(&invocation)?),
    };
    let name = runner.kind.name();
    let Some(spec) = spec else {
        return Ok(nothing_to_run(&runner.kind, &requested));
    };
    let execution = exec::run(&spec, timeout, OUTPUT_CAP).map_err(|source| match source {
        ExecError::NotFound { program } => RunnerError::NotInstalled {
            runner: name,
            program,
            hint: install_hint(&runner.kind),
        },
        source => RunnerError::Exec {
            runner: name,
            source,
        },
    })?;
    let stdout = String::from_utf8_lossy(&execution.stdout);
    let stderr = String::from_utf8_lossy(&execution.stderr);
    let (tests, summary) = match &runner.kind {
        RunnerKind::CargoNextest | RunnerKind::CargoTest => {
            cargo::parse(&invocation, cargo_targets.as_deref(), &stdout)
        }
        RunnerKind::Pytest | RunnerKind::Unittest => (python::parse(&invocation), None),
        RunnerKind::GoTest => (go_json::parse(&stdout), None),
        RunnerKind::Jest | RunnerKind::Vitest => (node::parse(&invocation), None),
        RunnerKind::Configured { .. } => {
            configured::parse(&invocation, &execution, &stdout, &stderr)
        }
    };
    let combined = match (stdout.trim_end().is_empty(), stderr.trim_end().is_empty()) {
        (_, true) => stdout.trim_end().to_owned(),
        (true, false) => stderr.trim_end().to_owned(),
        (false, false) => format!("{}\n{}", stdout.trim_end(), stderr.trim_end()),
    };
    let failure = match runner.kind {
        RunnerKind::CargoNextest | RunnerKind::CargoTest => cargo::build_failure(&combined),
        RunnerKind::Pytest => python::build_failure(&combined),
        _ => None,
    };
    let (tests, counts) = if exact {
        let unreported = if let Some(message) = failure.clone() {
            Unreported::BuildFailed(message)
        } else if execution.timed_out {
            Unreported::TimedOut
        } else {
            Unreported::Absent
        };
        let tests = select_requested(&runner.kind, tests, &requested, &unreported);
        let counts = Counts::of(&tests);
        (tests, counts)
    } else {
        let counts = summary.map_or(Counts::of(&tests), |summary| {
            Counts::of(&tests).max(summary)
        });
        (tests, counts)
    };
    let run_tail = tail(&combined, 2 * TAIL_BYTES);
    let problem = match failure {
        Some(failure) if !execution.timed_out => Some(format!(
            "the build failed, so no test ran ({failure}): fix it and run again; see outputTail"
        )),
        _ => problem(&runner.kind, &execution, counts, &combined, timeout),
    };
    Ok(TestRun {
        runner: name.to_owned(),
        command: spec.argv(),
        passed: counts.passed,
        failed: counts.failed,
        skipped: counts.skipped,
        errors: counts.errors,
        not_run: counts.not_run,
        did_not_compile: counts.did_not_compile,
        tests,
        timed_out: execution.timed_out,
        exit_code: execution.status,
        output_truncated: execution.stdout_truncated
            || execution.stderr_truncated
            || combined.len() > 2 * TAIL_BYTES,
        output_tail: run_tail,
        problem,
    })
}

/// The one gate every target and name passes before a command is built: they are data, never
/// options of the runner, and what names a place stays inside the workspace at `root`.
/// - Nothing may start with `-` (it would become an option: `--manifest-path`, `--basetemp=`,
///   `-p plugin`) or hold a NUL byte.
/// - Every target, read as a path, resolves inside the workspace ([`Workspace::resolve`]):
///   package names resolve harmlessly inside, `../x` and `/elsewhere` are refused.
/// - pytest reads arguments from a file named after `@` (pytest 8.2, even after `--`): a pytest
///   target or id starting with `@` is refused.
/// - The file of a pytest id and the package of a Go id, which reach the command line, resolve
///   inside too; a cargo id's binary id has no part starting with `-` ([`Runner::is_test_id`]).
fn check_arguments(
    root: &Path,
    runner: &Runner,
    targets: &[String],
    names: &[String],
) -> Result<(), RunnerError> {
    for text in targets.iter().chain(names) {
        if text.trim_start().starts_with('-') {
            return Err(RunnerError::InvalidArgument(format!(
                "`{text}` starts with `-`: targets and names are never options; pass a path, \
                 package, test name or test id"
            )));
        }
        if text.contains('\0') {
            return Err(RunnerError::InvalidArgument(format!(
                "{text:?} contains a NUL byte: pass a plain path, package, test name or test id"
            )));
        }
    }
    let pytest = runner.kind == RunnerKind::Pytest;
    let exact = runner.selects_exactly(names);
    let mut places: Vec<&str> = targets.iter().map(String::as_str).collect();
    if exact {
        for name in names {
            match runner.kind {
                RunnerKind::Pytest => places.push(name.split("::").next().unwrap_or(name)),
                RunnerKind::GoTest => {
                    let package = name.split_once(' ').map_or(name.as_str(), |(p, _)| p);
                    if package.starts_with('.') || package.starts_with('/') {
                        places.push(package);
                    }
                }
                _ => {}
            }
        }
    }
    if places.is_empty() {
        return Ok(());
    }
    let ws = Workspace::new(root).map_err(|error| RunnerError::InvalidArgument(error.message))?;
    for place in places {
        if pytest && place.trim_start().starts_with('@') {
            return Err(RunnerError::InvalidArgument(format!(
                "`{place}` starts with `@`, which makes pytest read options from a file: pass \
                 `./{place}` for a file of that name"
            )));
        }
        ws.resolve(place).map_err(|error| match error.kind {
            ToolErrorKind::OutsideWorkspace => RunnerError::OutsideWorkspace(format!(
                "the target `{place}` resolves outside the workspace {}: tests run only inside \
                 it; pass a path relative to the workspace root, a package or a test id",
                ws.root().display()
            )),
            _ => RunnerError::InvalidArgument(error.message),
        })?;
    }
    Ok(())
}

/// The answer when exact ids name nothing the runner could select (no such file, package or
/// test target): every id is `notRun`, and nothing ran.
fn nothing_to_run(kind: &RunnerKind, requested: &[String]) -> TestRun {
    let tests: Vec<TestCase> = requested
        .iter()
        .map(|id| unreported_case(kind, id, TestStatus::NotRun, NOT_FOUND.to_owned()))
        .collect();
    TestRun {
        runner: kind.name().to_owned(),
        command: Vec::new(),
        passed: 0,
        failed: 0,
        skipped: 0,
        errors: 0,
        not_run: tests.len() as u64,
        did_not_compile: 0,
        tests,
        timed_out: false,
        exit_code: None,
        output_tail: String::new(),
        output_truncated: false,
        problem: Some(
            "none of the requested ids names a file, package or test target that exists, so \
             nothing ran: check the ids against a run without names"
                .to_owned(),
        ),
    }
}

const NOT_FOUND: &str = "the run did not report this test: no such test, or the project's \
                         configuration deselected it";

/// Why a run reported nothing for a requested id that has no reported ancestor.
enum Unreported {
    /// The build (cargo) or the loading of a `conftest.py` failed before any test ran.
    BuildFailed(String),
    TimedOut,
    Absent,
}

/// One entry per requested id, in order: its reported result; else the results of the tests
/// under it (pytest and unittest classes, files and modules); else a `notRun` or `didNotCompile`
/// entry, which takes the status and message of a reported ancestor that failed to build, errored
/// or was skipped (a pytest file, a unittest module or class, a Go package).
fn select_requested(
    kind: &RunnerKind,
    tests: Vec<TestCase>,
    requested: &[String],
    unreported: &Unreported,
) -> Vec<TestCase> {
    let mut taken = vec![false; tests.len()];
    let mut selected = Vec::with_capacity(requested.len());
    for id in requested {
        if let Some(position) = tests.iter().rposition(|test| test.id == *id) {
            if !std::mem::replace(&mut taken[position], true) {
                selected.push(tests[position].clone());
            }
            continue;
        }
        let descendants: Vec<usize> = if matches!(kind, RunnerKind::Pytest | RunnerKind::Unittest) {
            (0..tests.len())
                .filter(|&position| {
                    is_within(kind, id, &tests[position].id)
                        && tests[position].status != TestStatus::DidNotCompile
                })
                .collect()
        } else {
            Vec::new()
        };
        if !descendants.is_empty() {
            for position in descendants {
                if !std::mem::replace(&mut taken[position], true) {
                    selected.push(tests[position].clone());
                }
            }
            continue;
        }
        let ancestor = tests
            .iter()
            .filter(|test| {
                matches!(
                    test.status,
                    TestStatus::DidNotCompile | TestStatus::Error | TestStatus::Skipped
                ) && is_within(kind, &test.id, id)
            })
            .max_by_key(|test| test.id.len());
        let case = match (ancestor, unreported) {
            (Some(ancestor), _) => {
                let message = ancestor.message.as_deref().unwrap_or("no message");
                let mut case = unreported_case(
                    kind,
                    id,
                    ancestor.status,
                    format!("{}: {message}", ancestor.id),
                );
                case.output_tail = ancestor.output_tail.clone();
                case
            }
            (None, Unreported::BuildFailed(message)) => {
                unreported_case(kind, id, TestStatus::DidNotCompile, message.clone())
            }
            (None, Unreported::TimedOut) => unreported_case(
                kind,
                id,
                TestStatus::NotRun,
                "the run timed out before it reported this test".to_owned(),
            ),
            (None, Unreported::Absent) => {
                unreported_case(kind, id, TestStatus::NotRun, NOT_FOUND.to_owned())
            }
        };
        selected.push(case);
    }
    selected
}

/// Whether test id `id` lies under `ancestor`: a pytest file, directory, class or parametrized
/// function; a unittest module or class; a Go package or parent test.
fn is_within(kind: &RunnerKind, ancestor: &str, id: &str) -> bool {
    let Some(rest) = id.strip_prefix(ancestor) else {
        return false;
    };
    match kind {
        RunnerKind::Pytest => {
            rest.starts_with("::") || rest.starts_with('[') || rest.starts_with('/')
        }
        RunnerKind::Unittest => rest.starts_with('.'),
        RunnerKind::GoTest => rest.starts_with(' ') || rest.starts_with('/'),
        _ => false,
    }
}

fn unreported_case(kind: &RunnerKind, id: &str, status: TestStatus, message: String) -> TestCase {
    TestCase {
        id: id.to_owned(),
        name: short_name(kind, id),
        status,
        duration_ms: None,
        message: Some(message),
        output_tail: None,
    }
}

/// The test's own name within an id: after the binary or package (`mycrate tests::adds`,
/// `example.com/calc TestAdd`), the last `::` part (pytest) or dotted part (unittest).
fn short_name(kind: &RunnerKind, id: &str) -> String {
    match kind {
        RunnerKind::Pytest => {
            let head = id.split('[').next().unwrap_or(id);
            let start = head.rfind("::").map_or(0, |index| index + 2);
            id[start..].to_owned()
        }
        RunnerKind::Unittest => id.rsplit('.').next().unwrap_or(id).to_owned(),
        _ => id.split_once(' ').map_or(id, |(_, name)| name).to_owned(),
    }
}

/// What a family needs to build its command and find its report.
struct Invocation<'a> {
    root: &'a Path,
    runner: &'a Runner,
    targets: &'a [String],
    names: &'a [String],
    /// Every name is a test id of the runner: select exactly those tests.
    exact: bool,
    report_dir: &'a Path,
    timeout: Duration,
}

impl Invocation<'_> {
    /// The runner's command with `extra` arguments, in the workspace root.
    fn spec(&self, extra: Vec<String>) -> exec::CommandSpec {
        let mut args = self.runner.args.clone();
        args.extend(extra);
        exec::CommandSpec {
            program: self.runner.program.clone(),
            args,
            cwd: self.root.to_path_buf(),
            env: self.runner.env.clone(),
            shell: false,
            merge_stderr: false,
        }
    }
}

fn install_hint(kind: &RunnerKind) -> &'static str {
    match kind {
        RunnerKind::CargoNextest | RunnerKind::CargoTest => {
            "install Rust with rustup (https://rustup.rs)"
        }
        RunnerKind::Unittest => "install Python 3, or create a .venv in the workspace",
        RunnerKind::Pytest => {
            "install Python 3 and pytest (`python3 -m pip install pytest`), or create a .venv in the workspace"
        }
        RunnerKind::GoTest => "install Go (https://go.dev/dl)",
        RunnerKind::Jest | RunnerKind::Vitest => {
            "install Node.js and the project's dependencies (`npm install`)"
        }
        RunnerKind::Configured { .. } => {
            "install it, or fix [tools.tests] command in prodcode.toml"
        }
    }
}

fn problem(
    kind: &RunnerKind,
    execution: &Execution,
    counts: Counts,
    output: &str,
    timeout: Duration,
) -> Option<String> {
    if execution.timed_out {
        return Some(format!(
            "the run timed out after {} s and was killed; the results cover the tests that finished: \
             raise timeout_s or run fewer tests",
            timeout.as_secs_f64()
        ));
    }
    if *kind == RunnerKind::Pytest && output.contains("No module named pytest") {
        return Some(
            "pytest is not installed for this Python: `python3 -m pip install pytest`, or create a .venv \
             in the workspace with pytest in it"
                .to_owned(),
        );
    }
    let failing = counts.failed + counts.errors + counts.did_not_compile;
    let reported = counts.passed + counts.skipped + failing;
    match execution.status {
        Some(0) if reported == 0 => Some(
            "no tests ran: check the targets and names, or the runner's configuration".to_owned(),
        ),
        Some(code) if code != 0 && failing == 0 => Some(format!(
            "the runner exited with code {code} but reported no failing test (a build error, a bad \
             argument, or no tests matched): see outputTail"
        )),
        None if !execution.timed_out => Some(format!(
            "the runner was killed by signal {}: see outputTail",
            execution.signal.unwrap_or_default()
        )),
        _ => None,
    }
}

/// The last `max` bytes of `text` at a character boundary, marked with `…` when cut.
fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// The end of one test's output.
fn output_tail(text: &str) -> String {
    tail(text, TAIL_BYTES)
}

/// `text` without ANSI escape sequences (colours, cursor movement).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in `@`..=`~`.
            for next in chars.by_ref() {
                if ('@'..='~').contains(&next) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests;
