//! The `get_diagnostics` tool: the project's own checkers, detected from the workspace (Cargo:
//! `cargo check --message-format=json`; Python: ruff and pyright when installed; TS/JS:
//! `tsc --noEmit` and eslint when present; Go: `go vet`) or configured in `prodcode.toml`
//! (`[tools.diagnostics]`), parsed into one list of diagnostics.
//!
//! Invariants:
//! - Every answer names the snapshot it describes: SHA-256 content hashes of the files the
//!   checkers read. An answer is never older than the files: a cached answer is reused only when
//!   every hash still matches, and a file that changed while a checker ran makes the call run again.
//! - Parsers are pure functions over arbitrary text; odd output gives fewer diagnostics, never a
//!   panic.
//! - Positions are 1-based, columns in characters; each format declares how its checker counts
//!   columns and [`raw::char_column`] is the one place they are converted.
//!
//! # Detection
//!
//! Every checker whose marker is at the workspace root runs, concurrently:
//!
//! | marker | checker | command |
//! |---|---|---|
//! | `Cargo.toml` | cargo check | `cargo check --workspace --all-targets --message-format=json` |
//! | `pyproject.toml`, `setup.py`, `setup.cfg`, `requirements.txt` or a `*.py` file | ruff (when installed) | `ruff check --output-format=json --no-fix .` |
//! | the same | pyright (when installed) | `pyright --outputjson` |
//! | `tsconfig.json` | tsc (`node_modules/.bin/tsc`, else on `PATH`) | `tsc --noEmit --pretty false` |
//! | `node_modules/.bin/eslint` | eslint | `eslint -f json .` |
//! | `go.mod` | go vet | `go vet ./...` |
//!
//! ruff and pyright are looked up in the workspace's `node_modules/.bin`, `.venv/bin` and
//! `venv/bin` before `PATH`. `--all-targets` makes cargo check tests, examples and benches too:
//! agents edit tests, and an error there is as real as one in the library.
//!
//! # Configuration
//!
//! ```toml
//! [tools.diagnostics]
//! command = ["make", "lint"]  # or a string: split on whitespace, or run by `sh -c` with shell
//! shell = false
//! format = "gcc"              # cargo_json, ruff_json, pyright_json, tsc, eslint_json, go_vet, gcc
//! name = "make lint"          # the checker's name in answers (default: the program's name)
//! inputs = ["*.c", "*.h", "Makefile"]  # globs of the files it reads (default: by format)
//! columns = "bytes"           # how its columns count: chars, bytes, utf16 (default: by format)
//! env = { CFLAGS = "-Wall" }  # variables added to its environment
//! detect = false              # also run the detected checkers (default: only when none is configured)
//! timeout_s = 600             # per checker run
//!
//! # More checkers, each with the same keys as above except detect and timeout_s:
//! [[tools.diagnostics.checkers]]
//! command = "mypy --show-column-numbers --no-error-summary ."
//! format = "gcc"
//! columns = "chars"
//! inputs = ["*.py", "pyproject.toml"]
//! ```
//!
//! `gcc` is the generic `path:line[:col]: [severity:] message` line format (gcc, clang, mypy,
//! shellcheck `-f gcc`); without `inputs`, a `gcc` checker's snapshot covers every file the walk
//! sees. Relative paths in a checker's output are relative to the workspace root, where every
//! checker runs.
//!
//! # Freshness
//!
//! Before running anything, the call takes a snapshot of the checkers' input files (walked like
//! `rg` does; see [`snapshot`]). When the last answer for the same checkers has the same snapshot
//! id, it is answered again (`cached: true`) without running anything. Otherwise the checkers
//! run and the files are hashed again: when the snapshot changed meanwhile, the checkers run
//! again (at most three runs in all), and an answer whose files kept changing says `stale: true`
//! with a note. Files that the walk does not see (outside the workspace, ignored by git) are not
//! part of the snapshot.

mod cargo_json;
pub(crate) mod checkers;
mod eslint_json;
mod gcc;
mod go_vet;
mod pyright_json;
pub(crate) mod raw;
mod ruff_json;
pub(crate) mod snapshot;
mod tsc;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::exec::{self, ExecError, Execution};
use super::runner::CommandLine;
use super::workspace::{ToolError, ToolErrorKind, Workspace};
use checkers::Checker;
use raw::{ColumnUnit, Parsed, RawDiagnostic, char_column, tail};
use snapshot::{HashCache, Inputs, Snapshot};

/// Diagnostics an answer lists at most.
pub const MAX_DIAGNOSTICS: usize = 1000;
/// How many times one call runs the checkers while the files keep changing.
const MAX_RUNS: u32 = 3;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The most of a checker's stdout and of its stderr kept while it runs (the tail).
const OUTPUT_CAP: usize = 32 << 20;
const MAX_MESSAGE_CHARS: usize = 2000;
const MAX_NOTE_CHARS: usize = 500;
const MAX_NOTES: usize = 8;
/// Bytes of a checker's output quoted in its `problem`.
const PROBLEM_TAIL: usize = 1500;

/// `[tools.diagnostics]` in `prodcode.toml` (see the module documentation).
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct DiagnosticsConfig {
    /// One checker's command (the keys below, up to `checkers`, describe it).
    #[serde(default)]
    pub command: Option<CommandLine>,
    #[serde(default)]
    pub shell: bool,
    #[serde(default)]
    pub format: Option<OutputFormat>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub columns: Option<ColumnUnit>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// More checkers.
    #[serde(default)]
    pub checkers: Vec<CheckerConfig>,
    /// Also run the detected checkers; default: only when no checker is configured.
    #[serde(default)]
    pub detect: Option<bool>,
    /// Seconds before a checker run is killed (default 600).
    #[serde(default)]
    pub timeout_s: Option<u64>,
}

/// One configured checker: `[[tools.diagnostics.checkers]]`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
pub struct CheckerConfig {
    pub command: CommandLine,
    #[serde(default)]
    pub shell: bool,
    /// How the command reports diagnostics (default `gcc`).
    #[serde(default)]
    pub format: Option<OutputFormat>,
    #[serde(default)]
    pub name: Option<String>,
    /// Glob patterns of the files the checker reads (default: by format).
    #[serde(default)]
    pub inputs: Vec<String>,
    /// How the output counts columns (default: by format).
    #[serde(default)]
    pub columns: Option<ColumnUnit>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// The output formats a checker may print.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    CargoJson,
    RuffJson,
    PyrightJson,
    Tsc,
    EslintJson,
    GoVet,
    Gcc,
}

/// How serious a diagnostic is, least serious first.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Hint,
    Information,
    #[default]
    Warning,
    Error,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Hint => "hint",
            Severity::Information => "information",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One diagnostic in a workspace file.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// Workspace-relative, `/` separators.
    pub path: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// Where the range ends, exclusive (the position after its last character); the start when
    /// the checker gave only a point.
    pub end_line: u32,
    pub end_column: u32,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The checker's name.
    pub source: String,
    pub message: String,
    /// Labels, help and notes the checker added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How one checker ran.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckerRun {
    pub name: String,
    /// The command, as argv.
    pub command: Vec<String>,
    /// `None` when it did not start or a signal ended it.
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// Diagnostics it reported in workspace files, before filters.
    pub diagnostics: u64,
    /// Why its answer is missing or incomplete, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The snapshot an answer describes.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// Hex SHA-256 over the sorted (path, content SHA-256) list of the checkers' input files.
    pub id: String,
    /// How many files it covers.
    pub files: u64,
}

/// A file's content hash.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileHash {
    pub path: String,
    pub sha256: String,
}

/// The answer of [`get_diagnostics`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsReport {
    /// Errors first, then by path and position; at most [`MAX_DIAGNOSTICS`].
    pub diagnostics: Vec<Diagnostic>,
    /// Counts of everything that matched the filters, listed or not.
    pub errors: u64,
    pub warnings: u64,
    pub information: u64,
    pub hints: u64,
    /// More diagnostics matched than are listed.
    pub truncated: bool,
    pub checkers: Vec<CheckerRun>,
    pub snapshot: SnapshotInfo,
    /// The content hash of every file that has a listed diagnostic.
    pub files: Vec<FileHash>,
    /// Answered from the cache: no file changed since the checkers last ran.
    pub cached: bool,
    /// The files kept changing while the checkers ran: the diagnostics may mix old and new.
    pub stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl DiagnosticsReport {
    /// The readable text of the answer: a summary a person or model can act on.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let with_notes = self.diagnostics.len() <= 200;
        for diagnostic in &self.diagnostics {
            text.push_str(&format!(
                "{}:{}:{}: {}",
                diagnostic.path,
                diagnostic.line,
                diagnostic.column,
                diagnostic.severity.as_str()
            ));
            if let Some(code) = &diagnostic.code {
                text.push_str(&format!("[{code}]"));
            }
            text.push_str(&format!(": {}\n", diagnostic.message));
            if with_notes {
                for note in diagnostic.notes.iter().take(4) {
                    text.push_str(&format!("    {note}\n"));
                }
            }
        }
        for checker in &self.checkers {
            if let Some(problem) = &checker.problem {
                text.push_str(&format!("{}: problem: {problem}\n", checker.name));
            }
        }
        if self.truncated {
            let total = self.errors + self.warnings + self.information + self.hints;
            text.push_str(&format!(
                "(truncated: {} of {total} diagnostics listed; pass paths or min_severity to narrow)\n",
                self.diagnostics.len()
            ));
        }
        if let Some(note) = &self.note {
            text.push_str(&format!("note: {note}\n"));
        }
        let plural =
            |count: u64, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
        text.push_str(&format!(
            "{}, {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning")
        ));
        if self.information > 0 {
            text.push_str(&format!(", {} information", self.information));
        }
        if self.hints > 0 {
            text.push_str(&format!(", {}", plural(self.hints, "hint")));
        }
        let names: Vec<&str> = self.checkers.iter().map(|c| c.name.as_str()).collect();
        let short_id: String = self.snapshot.id.chars().take(12).collect();
        text.push_str(&format!(
            " ({}) · snapshot {short_id}… ({} files)",
            names.join(", "),
            self.snapshot.files
        ));
        if self.cached {
            text.push_str(" · cached: no file changed since the last run");
        }
        if self.stale {
            text.push_str(" · stale");
        }
        text
    }
}

/// JSON Schema of a serialized [`DiagnosticsReport`] (the tool's MCP output schema).
pub fn output_schema() -> serde_json::Value {
    let count =
        |description: &str| json!({ "type": "integer", "minimum": 0, "description": description });
    let position =
        |description: &str| json!({ "type": "integer", "minimum": 1, "description": description });
    let diagnostic = json!({
        "type": "object",
        "properties": {
            "path": { "type": "string", "description": "The file, relative to the workspace root, with / separators." },
            "line": position("1-based line number"),
            "column": position("1-based column, counted in characters (Unicode scalar values)"),
            "endLine": position("1-based line where the range ends"),
            "endColumn": position("1-based column just after the range's last character (exclusive), in characters; equal to column when the checker gave only a point"),
            "severity": { "type": "string", "enum": ["error", "warning", "information", "hint"] },
            "code": { "type": "string", "description": "The rule or error code (E0308, F401, TS2322, reportUndefinedVariable)." },
            "source": { "type": "string", "description": "The checker that reported it." },
            "message": { "type": "string" },
            "notes": { "type": "array", "items": { "type": "string" }, "description": "Labels, help and notes the checker added." }
        },
        "required": ["path", "line", "column", "endLine", "endColumn", "severity", "source", "message"],
        "additionalProperties": false
    });
    let checker = json!({
        "type": "object",
        "properties": {
            "name": { "type": "string" },
            "command": { "type": "array", "items": { "type": "string" }, "description": "The command that ran, as argv." },
            "exitCode": { "type": ["integer", "null"], "description": "null when it did not start or a signal ended it." },
            "durationMs": count("How long it ran, in milliseconds."),
            "diagnostics": count("Diagnostics it reported in workspace files, before filters."),
            "problem": { "type": "string", "description": "Why its answer is missing or incomplete, and what to do." }
        },
        "required": ["name", "command", "exitCode", "durationMs", "diagnostics"],
        "additionalProperties": false
    });
    json!({
        "type": "object",
        "properties": {
            "diagnostics": { "type": "array", "items": diagnostic, "description": "Errors first, then by path and position." },
            "errors": count("Errors matching the filters, listed or not."),
            "warnings": count("Warnings matching the filters, listed or not."),
            "information": count("Information diagnostics matching the filters, listed or not."),
            "hints": count("Hints matching the filters, listed or not."),
            "truncated": { "type": "boolean", "description": "More diagnostics matched than are listed." },
            "checkers": { "type": "array", "items": checker },
            "snapshot": {
                "type": "object",
                "properties": {
                    "id": { "type": "string", "description": "Hex SHA-256 over the sorted (path, content SHA-256) list of the checkers' input files." },
                    "files": count("How many files the snapshot covers.")
                },
                "required": ["id", "files"],
                "additionalProperties": false
            },
            "files": {
                "type": "array",
                "description": "The content SHA-256 of every file with a listed diagnostic.",
                "items": {
                    "type": "object",
                    "properties": { "path": { "type": "string" }, "sha256": { "type": "string" } },
                    "required": ["path", "sha256"],
                    "additionalProperties": false
                }
            },
            "cached": { "type": "boolean", "description": "Answered from the cache: no input file changed since the checkers last ran." },
            "stale": { "type": "boolean", "description": "Files kept changing while the checkers ran; the diagnostics may mix old and new content." },
            "note": { "type": "string" }
        },
        "required": ["diagnostics", "errors", "warnings", "information", "hints", "truncated", "checkers", "snapshot", "files", "cached", "stale"],
        "additionalProperties": false
    })
}

/// Remembers file hashes and the last answer per checker set, keyed by snapshot id.
#[derive(Default)]
pub struct DiagnosticsCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    hashes: HashCache,
    runs: HashMap<String, Run>,
}

impl DiagnosticsCache {
    fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Everything the checkers said about one snapshot, before filters.
#[derive(Clone, Debug)]
struct Run {
    snapshot: Snapshot,
    diagnostics: Vec<Diagnostic>,
    checkers: Vec<CheckerRun>,
}

/// Runs the workspace's checkers and returns their diagnostics on `paths` (workspace-relative;
/// all when empty) at `min_severity` or worse.
pub fn get_diagnostics(
    ws: &Workspace,
    config: Option<&DiagnosticsConfig>,
    paths: &[String],
    min_severity: Severity,
    cache: &DiagnosticsCache,
) -> Result<DiagnosticsReport, ToolError> {
    let scope = resolve_scope(ws, paths)?;
    let checkers = checkers::checkers(ws.root(), config)
        .map_err(|message| ToolError::new(ToolErrorKind::InvalidArgument, message))?;
    if checkers.is_empty() {
        return Err(ToolError::new(
            ToolErrorKind::Unavailable,
            format!(
                "no checker detected in {} (looked for Cargo.toml, a Python project with ruff or \
                 pyright installed, tsconfig.json, node_modules/.bin/eslint, go.mod): add a \
                 [tools.diagnostics] command to prodcode.toml, e.g. command = [\"make\", \"lint\"] \
                 with format = \"gcc\"",
                ws.root().display()
            ),
        ));
    }
    let timeout = config
        .and_then(|config| config.timeout_s)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let key: Vec<String> = checkers.iter().map(Checker::key).collect();
    let key = key.join("\n");
    let mut inputs = Inputs::default();
    for checker in &checkers {
        inputs.merge(&checker.inputs);
    }

    let mut before = {
        let mut state = cache.lock();
        let snapshot = state.hashes.snapshot(ws, &inputs);
        if let Some(run) = state
            .runs
            .get(&key)
            .filter(|run| run.snapshot.id == snapshot.id)
        {
            return Ok(report(ws, run, &scope, min_severity, true, None));
        }
        snapshot
    };
    let mut runs = 0;
    loop {
        runs += 1;
        let (diagnostics, checker_runs) = run_checkers(ws, &checkers, timeout);
        let after = cache.lock().hashes.snapshot(ws, &inputs);
        let settled = after.id == before.id;
        let run = Run {
            snapshot: after,
            diagnostics,
            checkers: checker_runs,
        };
        if settled {
            if run.checkers.iter().all(|checker| checker.problem.is_none()) {
                cache.lock().runs.insert(key, run.clone());
            }
            return Ok(report(ws, &run, &scope, min_severity, false, None));
        }
        if runs >= MAX_RUNS {
            let note = format!(
                "files changed while the checkers ran, {runs} runs in a row: these diagnostics may \
                 mix old and new content; call again when the edits are done"
            );
            return Ok(report(ws, &run, &scope, min_severity, false, Some(note)));
        }
        before = run.snapshot;
    }
}

/// The caller's paths as workspace-relative prefixes; empty for the whole workspace.
fn resolve_scope(ws: &Workspace, paths: &[String]) -> Result<Vec<String>, ToolError> {
    let mut scope = Vec::new();
    for path in paths {
        let resolved = ws.resolve(path)?;
        if !resolved.exists() {
            return Err(ToolError::new(
                ToolErrorKind::NotFound,
                format!(
                    "`{path}` does not exist in the workspace; pass existing files or directories \
                     relative to the workspace root, or no paths for all diagnostics"
                ),
            ));
        }
        match ws.relative(&resolved) {
            Some(relative) if relative == "." => return Ok(Vec::new()),
            Some(relative) => scope.push(relative),
            None => {}
        }
    }
    Ok(scope)
}

fn in_scope(path: &str, scope: &[String]) -> bool {
    scope.is_empty()
        || scope.iter().any(|prefix| {
            path == prefix
                || path
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}

fn report(
    ws: &Workspace,
    run: &Run,
    scope: &[String],
    min_severity: Severity,
    cached: bool,
    note: Option<String>,
) -> DiagnosticsReport {
    let matching: Vec<&Diagnostic> = run
        .diagnostics
        .iter()
        .filter(|diagnostic| {
            diagnostic.severity >= min_severity && in_scope(&diagnostic.path, scope)
        })
        .collect();
    let count = |severity: Severity| {
        matching
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count() as u64
    };
    let diagnostics: Vec<Diagnostic> = matching
        .iter()
        .take(MAX_DIAGNOSTICS)
        .map(|diagnostic| (*diagnostic).clone())
        .collect();
    let paths: BTreeSet<&str> = diagnostics.iter().map(|d| d.path.as_str()).collect();
    let files = paths
        .into_iter()
        .filter_map(|path| {
            let sha256 = match run.snapshot.files.get(path) {
                Some(sha) => sha.clone(),
                None => snapshot::hash_file(&ws.root().join(path))?,
            };
            Some(FileHash {
                path: path.to_owned(),
                sha256,
            })
        })
        .collect();
    DiagnosticsReport {
        truncated: matching.len() > diagnostics.len(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        information: count(Severity::Information),
        hints: count(Severity::Hint),
        diagnostics,
        checkers: run.checkers.clone(),
        snapshot: SnapshotInfo {
            id: run.snapshot.id.clone(),
            files: run.snapshot.files.len() as u64,
        },
        files,
        cached,
        stale: note.is_some(),
        note,
    }
}

/// Runs every checker (concurrently) and ties their diagnostics to workspace files.
fn run_checkers(
    ws: &Workspace,
    checkers: &[Checker],
    timeout: Duration,
) -> (Vec<Diagnostic>, Vec<CheckerRun>) {
    let outcomes: Vec<(Result<Execution, ExecError>, Parsed)> = std::thread::scope(|scope| {
        let handles: Vec<_> = checkers
            .iter()
            .map(|checker| {
                scope.spawn(move || {
                    let execution = exec::run(&checker.spec, timeout, OUTPUT_CAP);
                    let parsed = match &execution {
                        Ok(execution) => checker.parse(
                            &String::from_utf8_lossy(&execution.stdout),
                            &String::from_utf8_lossy(&execution.stderr),
                        ),
                        Err(_) => Parsed::default(),
                    };
                    (execution, parsed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    (
                        Err(ExecError::EmptyProgram),
                        Parsed {
                            diagnostics: Vec::new(),
                            messages: vec!["the output parser failed".to_owned()],
                        },
                    )
                })
            })
            .collect()
    });
    let mut locator = Locator::new(ws);
    let mut all = Vec::new();
    let mut runs = Vec::new();
    for (checker, (execution, mut parsed)) in checkers.iter().zip(outcomes) {
        let mut diagnostics = Vec::new();
        for raw in &parsed.diagnostics {
            if raw.path.is_empty() {
                parsed.messages.push(raw.message.clone());
                continue;
            }
            if let Some(diagnostic) = locator.diagnostic(raw, checker) {
                diagnostics.push(diagnostic);
            }
        }
        diagnostics.sort();
        diagnostics.dedup();
        let problem = problem(checker, &execution, &parsed, &diagnostics, timeout);
        runs.push(CheckerRun {
            name: checker.name.clone(),
            command: checker.spec.argv(),
            exit_code: execution
                .as_ref()
                .ok()
                .and_then(|execution| execution.status),
            duration_ms: execution
                .as_ref()
                .map_or(0, |execution| execution.duration.as_millis() as u64),
            diagnostics: diagnostics.len() as u64,
            problem,
        });
        all.extend(diagnostics);
    }
    all.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.cmp(b)));
    (all, runs)
}

fn problem(
    checker: &Checker,
    execution: &Result<Execution, ExecError>,
    parsed: &Parsed,
    diagnostics: &[Diagnostic],
    timeout: Duration,
) -> Option<String> {
    let execution = match execution {
        Ok(execution) => execution,
        Err(ExecError::NotFound { program }) => {
            return Some(format!(
                "`{program}` was not found: {}; or configure the checker in [tools.diagnostics] \
                 in prodcode.toml",
                checkers::install_hint(checker.format)
            ));
        }
        Err(err) => return Some(err.to_string()),
    };
    let mut parts: Vec<String> = parsed
        .messages
        .iter()
        .take(5)
        .map(|message| truncate_chars(message, MAX_NOTE_CHARS))
        .collect();
    let output = || {
        let stderr = String::from_utf8_lossy(&execution.stderr);
        let stdout = String::from_utf8_lossy(&execution.stdout);
        let text = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        tail(&text, PROBLEM_TAIL)
    };
    if execution.timed_out {
        parts.push(format!(
            "{} timed out after {} s and was killed; raise timeout_s in [tools.diagnostics] in \
             prodcode.toml",
            checker.name,
            timeout.as_secs()
        ));
    } else if execution.status.is_none() {
        parts.push(format!(
            "{} was killed by signal {}: {}",
            checker.name,
            execution.signal.unwrap_or_default(),
            output()
        ));
    } else if let Some(code) = execution.status.filter(|code| *code != 0) {
        let explained = diagnostics
            .iter()
            .any(|diagnostic| diagnostic.severity >= checker.format.failing_severity());
        if checker.format.fatal_exit(code) || !explained {
            parts.push(format!(
                "{} failed (exit code {code}) without reporting {}; its output ends: {}",
                checker.name,
                if checker.format.failing_severity() == Severity::Error {
                    "a compiler error (a build script, the manifest or a dependency failed?)"
                } else {
                    "diagnostics in the expected format"
                },
                output()
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// A path as a checker printed it, and the other directory it may be relative to.
type RawLocation = (String, Option<String>);
/// A workspace-relative path and the absolute path it names.
type Located = (String, PathBuf);

/// Ties raw diagnostics to workspace files, reading each file's text once for column
/// conversions.
struct Locator<'a> {
    ws: &'a Workspace,
    /// (path as printed, base) → (workspace-relative path, absolute path), or `None` outside.
    paths: HashMap<RawLocation, Option<Located>>,
    texts: HashMap<PathBuf, Vec<String>>,
}

impl<'a> Locator<'a> {
    fn new(ws: &'a Workspace) -> Self {
        Locator {
            ws,
            paths: HashMap::new(),
            texts: HashMap::new(),
        }
    }

    fn diagnostic(&mut self, raw: &RawDiagnostic, checker: &Checker) -> Option<Diagnostic> {
        let (relative, absolute) = self.locate(raw)?;
        let line = raw.line.max(1);
        let (end_line, raw_end_column) = if raw.end_line == 0 {
            (line, raw.column)
        } else {
            (raw.end_line.max(line), raw.end_column)
        };
        let mut column = raw.column;
        let mut end_column = raw_end_column;
        if checker.columns != ColumnUnit::Chars {
            column = self.convert(&absolute, line, column, checker.columns);
            end_column = self.convert(&absolute, end_line, end_column, checker.columns);
        }
        let column = column.max(1);
        let end_column = if end_line == line {
            end_column.max(column)
        } else {
            end_column.max(1)
        };
        Some(Diagnostic {
            path: relative,
            line,
            column,
            end_line,
            end_column,
            severity: raw.severity,
            code: raw.code.clone().filter(|code| !code.is_empty()),
            source: checker.name.clone(),
            message: truncate_chars(&raw.message, MAX_MESSAGE_CHARS),
            notes: raw
                .notes
                .iter()
                .take(MAX_NOTES)
                .map(|note| truncate_chars(note, MAX_NOTE_CHARS))
                .collect(),
        })
    }

    fn convert(&mut self, path: &Path, line: u32, column: u32, unit: ColumnUnit) -> u32 {
        let lines = self.texts.entry(path.to_owned()).or_insert_with(|| {
            std::fs::read(path)
                .map(|bytes| {
                    String::from_utf8_lossy(&bytes)
                        .lines()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        });
        match lines.get(line.saturating_sub(1) as usize) {
            Some(text) => char_column(text, column, unit),
            None => column,
        }
    }

    /// The workspace-relative and absolute path of a raw diagnostic's file; `None` when it is
    /// outside the workspace or not a file.
    fn locate(&mut self, raw: &RawDiagnostic) -> Option<Located> {
        let key = (raw.path.clone(), raw.base.clone());
        if let Some(found) = self.paths.get(&key) {
            return found.clone();
        }
        let found = self.find(raw);
        self.paths.insert(key, found.clone());
        found
    }

    fn find(&self, raw: &RawDiagnostic) -> Option<Located> {
        let given = Path::new(&raw.path);
        let mut candidates = vec![self.ws.root().join(given)];
        if given.is_relative()
            && let Some(base) = &raw.base
        {
            candidates.extend(Path::new(base).ancestors().map(|dir| dir.join(given)));
        }
        // A diagnostic about a file that is not there (deleted meanwhile, or a line that only
        // looks like a location) is dropped.
        let chosen = candidates.iter().find(|candidate| candidate.is_file())?;
        let resolved = self.ws.resolve(chosen.to_str()?).ok()?;
        let relative = self.ws.relative(&resolved)?;
        (relative != ".").then_some((relative, resolved))
    }
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
