//! Running a project's tests: detect the runner, run it through [`exec`](super::exec), parse its
//! machine-readable report into per-test results.
//!
//! One file per runner family builds the command and picks the parser (`cargo`, `python`, `go`,
//! `node`, `configured`); one file per report format parses it (`libtest`, `junit`, `go_json`,
//! `jest_json`). This is the one implementation of "run this project's tests": the `run_tests` tool,
//! curation and evaluation all call [`run_tests`].
//!
//! Invariants:
//! - Parsers are pure functions over arbitrary text. Whatever a runner prints, the answer is a
//!   [`TestRun`] (perhaps with no tests and a `problem`), never a panic.
//! - Counts are never lower than what the runner itself summarised: nextest does not list skipped
//!   tests in its JUnit report, so its summary line supplies them.
//! - Report files go to a temporary directory, never into the workspace.

mod cargo;
mod configured;
mod go;
pub mod go_json;
pub mod jest_json;
pub mod junit;
pub mod libtest;
mod node;
mod python;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::exec::{self, ExecError, Execution, find_on_path, is_executable};

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
    /// The name results and messages use: `cargo-nextest`, `cargo-test`, `pytest`, `go-test`,
    /// `jest`, `vitest`, `configured`.
    pub fn name(&self) -> &'static str {
        match self {
            RunnerKind::CargoNextest => "cargo-nextest",
            RunnerKind::CargoTest => "cargo-test",
            RunnerKind::Pytest => "pytest",
            RunnerKind::GoTest => "go-test",
            RunnerKind::Jest => "jest",
            RunnerKind::Vitest => "vitest",
            RunnerKind::Configured { .. } => "configured",
        }
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
    /// The test could not run: a fixture or setup error, a file that did not load, a package
    /// that did not build.
    Error,
}

/// Totals by status.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub errors: u64,
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
        }
    }

    fn max(self, other: Counts) -> Counts {
        Counts {
            passed: self.passed.max(other.passed),
            failed: self.failed.max(other.failed),
            skipped: self.skipped.max(other.skipped),
            errors: self.errors.max(other.errors),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(
        "no test runner detected in {}: add a [tools.tests] command to prodcode.toml",
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

/// Runs `runner` in `root` on `targets` (packages, paths or files, as the runner understands
/// them; all tests when empty) and `names` (test-name filters), killing it after `timeout`.
///
/// Failing tests are a successful call: the error cases are a runner that cannot start at all.
pub fn run_tests(
    root: &Path,
    runner: &Runner,
    targets: &[String],
    names: &[String],
    timeout: Duration,
) -> Result<TestRun, RunnerError> {
    let report_dir = tempfile::Builder::new()
        .prefix("prodcode-tests-")
        .tempdir()
        .map_err(RunnerError::TempDir)?;
    let invocation = Invocation {
        root,
        runner,
        targets,
        names,
        report_dir: report_dir.path(),
    };
    let spec = match &runner.kind {
        RunnerKind::CargoNextest | RunnerKind::CargoTest => cargo::command(&invocation),
        RunnerKind::Pytest => python::command(&invocation),
        RunnerKind::GoTest => go::command(&invocation),
        RunnerKind::Jest | RunnerKind::Vitest => node::command(&invocation),
        RunnerKind::Configured { .. } => configured::command(&invocation)?,
    };
    let name = runner.kind.name();
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
        RunnerKind::CargoNextest | RunnerKind::CargoTest => cargo::parse(&invocation, &stdout),
        RunnerKind::Pytest => (python::parse(&invocation), None),
        RunnerKind::GoTest => (go_json::parse(&stdout), None),
        RunnerKind::Jest | RunnerKind::Vitest => (node::parse(&invocation), None),
        RunnerKind::Configured { .. } => {
            configured::parse(&invocation, &execution, &stdout, &stderr)
        }
    };
    let counts = summary.map_or(Counts::of(&tests), |summary| {
        Counts::of(&tests).max(summary)
    });
    let combined = match (stdout.trim_end().is_empty(), stderr.trim_end().is_empty()) {
        (_, true) => stdout.trim_end().to_owned(),
        (true, false) => stderr.trim_end().to_owned(),
        (false, false) => format!("{}\n{}", stdout.trim_end(), stderr.trim_end()),
    };
    let run_tail = tail(&combined, 2 * TAIL_BYTES);
    let problem = problem(&runner.kind, &execution, counts, &combined, timeout);
    Ok(TestRun {
        runner: name.to_owned(),
        command: spec.argv(),
        passed: counts.passed,
        failed: counts.failed,
        skipped: counts.skipped,
        errors: counts.errors,
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

/// What a family needs to build its command and find its report.
struct Invocation<'a> {
    root: &'a Path,
    runner: &'a Runner,
    targets: &'a [String],
    names: &'a [String],
    report_dir: &'a Path,
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
    let failing = counts.failed + counts.errors;
    match execution.status {
        Some(0) if counts == Counts::default() => Some(
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
