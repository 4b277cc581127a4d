//! The `format` tool: the project's formatter (rustfmt through `cargo fmt`, `ruff format`,
//! prettier, gofmt), detected from the workspace or configured in `prodcode.toml`
//! (`[tools.format]`), on the given paths, writing or only checking.
//!
//! # Detection
//!
//! | marker | formatter | whole workspace | given paths |
//! |---|---|---|---|
//! | `Cargo.toml` | rustfmt | `cargo fmt --all [-- --check]` | `rustfmt --edition E [--check] files…` |
//! | a Python project and ruff installed | ruff | `ruff format [--check] .` | `ruff format [--check] paths…` |
//! | `node_modules/.bin/prettier` | prettier | `prettier --write\|--check .` | the same on the paths |
//! | `go.mod` | gofmt | `gofmt -l [-w] .` | `gofmt -l [-w] paths…` |
//!
//! A given file goes to the formatter of its extension (`.rs` to rustfmt even without a
//! `Cargo.toml`, when rustfmt is installed); a given directory goes to every detected formatter,
//! rustfmt getting the directory's `.rs` files (it takes no directories). rustfmt's edition is
//! the one of the nearest `Cargo.toml` above the file (`edition.workspace = true` reads the
//! workspace's), else 2021. Files nothing formats are listed in `skipped`.
//!
//! # Configuration
//!
//! ```toml
//! [tools.format]
//! command = ["black", "--quiet"]  # or a string: split on whitespace, or run by `sh -c` with shell
//! shell = false
//! check_args = ["--check"]        # added before the paths to only check; check_only needs them
//! name = "black"                  # the formatter's name in answers (default: the program's name)
//! inputs = ["*.py", "*.pyi"]      # globs of the files it may change (default: every file)
//! env = { BLACK_CACHE_DIR = "/tmp/black" }
//! timeout_s = 120
//! ```
//!
//! The given paths (workspace-relative) follow the arguments (with `shell`, as `$1`, `$2`, …);
//! with no paths the command runs as it is, from the workspace root.
//!
//! # What changed
//!
//! When writing, every file the formatter may touch under the paths (for rustfmt: every `.rs`
//! file under the given files' directories, where their out-of-line modules live, which rustfmt
//! formats too) is hashed before and after the run; `changed` lists the files whose content
//! differs. When only checking, nothing is written and `changed` lists the files the formatter
//! named as needing changes (rustfmt's `Diff in`, ruff's `Would reformat`/`-->`, prettier's
//! `[warn]`, gofmt's `-l` list; for a configured command, any token of its output that names a
//! file of its inputs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::diagnostics::checkers::{find_on_path, find_tool, is_python_project};
use super::diagnostics::raw::tail;
use super::diagnostics::snapshot::{self, Inputs};
use super::exec::{self, CommandSpec, ExecError};
use super::runner::CommandLine;
use super::workspace::{ToolError, ToolErrorKind, Workspace};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
const OUTPUT_CAP: usize = 4 << 20;
/// Bytes of a run's output kept in its `outputTail`.
const TAIL_BYTES: usize = 4000;
const DEFAULT_EDITION: &str = "2021";

/// `[tools.format]` in `prodcode.toml` (see the module documentation). Without `command`, the
/// formatters are detected and only `timeout_s` applies.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct FormatConfig {
    #[serde(default)]
    pub command: Option<CommandLine>,
    #[serde(default)]
    pub shell: bool,
    /// Arguments that make the command only check, added before the paths.
    #[serde(default)]
    pub check_args: Option<Vec<String>>,
    #[serde(default)]
    pub name: Option<String>,
    /// Glob patterns of the files the command may change (default: every file).
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds before a formatter run is killed (default 120).
    #[serde(default)]
    pub timeout_s: Option<u64>,
}

/// How one formatter ran.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormatRun {
    /// `rustfmt`, `ruff`, `prettier`, `gofmt`, or the configured name.
    pub formatter: String,
    /// The command, as argv.
    pub command: Vec<String>,
    /// `None` when it did not start or a signal ended it.
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// The end of its output (stdout, then stderr).
    pub output_tail: String,
    /// Output was dropped, at the start of the run or of `outputTail`.
    pub truncated: bool,
    /// Why it failed, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The answer of [`format`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormatReport {
    /// Nothing was written: `changed` lists the files that would change.
    pub check_only: bool,
    /// Files reformatted (or that would be), workspace-relative, sorted.
    pub changed: Vec<String>,
    /// One run per formatter that applied.
    pub runs: Vec<FormatRun>,
    /// Given files no formatter handles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

impl FormatReport {
    /// The readable text of the answer: a summary a person or model can act on.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let verb = if self.check_only {
            "would reformat"
        } else {
            "reformatted"
        };
        for path in &self.changed {
            text.push_str(&format!("{verb} {path}\n"));
        }
        for run in &self.runs {
            if let Some(problem) = &run.problem {
                text.push_str(&format!("{}: problem: {problem}\n", run.formatter));
            }
        }
        if !self.skipped.is_empty() {
            text.push_str(&format!(
                "skipped (no formatter for them): {}\n",
                self.skipped.join(", ")
            ));
        }
        let names: Vec<&str> = self.runs.iter().map(|run| run.formatter.as_str()).collect();
        let count = self.changed.len();
        let files = if count == 1 { "file" } else { "files" };
        let summary = match (self.check_only, count) {
            (true, 0) => "all files are formatted".to_owned(),
            (true, _) => format!("{count} {files} would be reformatted"),
            (false, 0) => "no file changed".to_owned(),
            (false, _) => format!("{count} {files} reformatted"),
        };
        text.push_str(&format!("{summary} ({})", names.join(", ")));
        text
    }
}

/// JSON Schema of a serialized [`FormatReport`] (the tool's MCP output schema).
pub fn output_schema() -> serde_json::Value {
    let strings = |description: &str| json!({ "type": "array", "items": { "type": "string" }, "description": description });
    json!({
        "type": "object",
        "properties": {
            "checkOnly": { "type": "boolean", "description": "Nothing was written: changed lists the files that would change." },
            "changed": strings("Files reformatted (or that would be), relative to the workspace root, sorted."),
            "runs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "formatter": { "type": "string" },
                        "command": strings("The command that ran, as argv."),
                        "exitCode": { "type": ["integer", "null"], "description": "null when it did not start or a signal ended it." },
                        "durationMs": { "type": "integer", "minimum": 0 },
                        "outputTail": { "type": "string", "description": "The end of its output (stdout, then stderr)." },
                        "truncated": { "type": "boolean", "description": "Output was dropped." },
                        "problem": { "type": "string", "description": "Why it failed, and what to do." }
                    },
                    "required": ["formatter", "command", "exitCode", "durationMs", "outputTail", "truncated"],
                    "additionalProperties": false
                }
            },
            "skipped": strings("Given files no formatter handles.")
        },
        "required": ["checkOnly", "changed", "runs"],
        "additionalProperties": false
    })
}

/// The formatter families prodcode knows.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Family {
    Rust,
    Python,
    Prettier,
    Go,
}

impl Family {
    const ALL: [Family; 4] = [Family::Rust, Family::Python, Family::Prettier, Family::Go];

    fn name(self) -> &'static str {
        match self {
            Family::Rust => "rustfmt",
            Family::Python => "ruff",
            Family::Prettier => "prettier",
            Family::Go => "gofmt",
        }
    }

    fn inputs(self) -> Inputs {
        match self {
            Family::Rust => Inputs::new(&["rs"], &[]),
            Family::Python => Inputs::new(&["py", "pyi"], &[]),
            Family::Prettier => Inputs::new(
                &[
                    "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "json", "css", "scss",
                    "less", "md", "yaml", "yml", "html", "vue", "graphql",
                ],
                &[],
            ),
            Family::Go => Inputs::new(&["go"], &[]),
        }
    }

    /// Detected from the workspace root.
    fn detected(self, root: &Path) -> bool {
        match self {
            Family::Rust => root.join("Cargo.toml").is_file(),
            Family::Python => is_python_project(root) && find_tool(root, "ruff").is_some(),
            Family::Prettier => root.join("node_modules/.bin/prettier").is_file(),
            Family::Go => root.join("go.mod").is_file(),
        }
    }

    /// The program, when installed.
    fn program(self, root: &Path) -> Option<String> {
        match self {
            Family::Rust => find_on_path("rustfmt").map(|_| "rustfmt".to_owned()),
            Family::Python => find_tool(root, "ruff"),
            Family::Prettier => {
                let prettier = root.join("node_modules/.bin/prettier");
                prettier.is_file().then(|| prettier.display().to_string())
            }
            Family::Go => find_on_path("gofmt").map(|_| "gofmt".to_owned()),
        }
    }

    fn install_hint(self) -> &'static str {
        match self {
            Family::Rust => "install it with `rustup component add rustfmt`",
            Family::Python => "install ruff (`pip install ruff`)",
            Family::Prettier => "install the project's dependencies (`npm install`)",
            Family::Go => "install Go (https://go.dev/dl)",
        }
    }
}

/// One command to run, and what it may change.
struct Plan {
    formatter: String,
    spec: CommandSpec,
    /// Files to hash before and after a writing run.
    candidates: Vec<(String, PathBuf)>,
    /// Which named files count as changed in check mode.
    inputs: Inputs,
    family: Option<Family>,
}

/// Formats `paths` (workspace-relative files or directories; the whole workspace when empty), or
/// with `check_only` reports which files would change without writing them.
pub fn format(
    ws: &Workspace,
    config: Option<&FormatConfig>,
    paths: &[String],
    check_only: bool,
) -> Result<FormatReport, ToolError> {
    let mut targets = Vec::new();
    for path in paths {
        let resolved = ws.resolve(path)?;
        if !resolved.exists() {
            return Err(ToolError::new(
                ToolErrorKind::NotFound,
                format!(
                    "`{path}` does not exist in the workspace; pass existing files or directories \
                     relative to the workspace root, or no paths to format the whole workspace"
                ),
            ));
        }
        let relative = ws.relative(&resolved).unwrap_or_else(|| ".".to_owned());
        targets.push((relative, resolved));
    }
    let timeout = config
        .and_then(|config| config.timeout_s)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let (plans, skipped) =
        match config.and_then(|config| config.command.as_ref().map(|command| (config, command))) {
            Some((config, command)) => (
                vec![configured_plan(ws, config, command, &targets, check_only)?],
                Vec::new(),
            ),
            None => detected_plans(ws, &targets, check_only),
        };
    if plans.is_empty() {
        let what = if skipped.is_empty() {
            "no formatter detected in the workspace (looked for Cargo.toml, a Python project with \
             ruff installed, node_modules/.bin/prettier, go.mod)"
                .to_owned()
        } else {
            format!("no installed formatter handles {}", skipped.join(", "))
        };
        return Err(ToolError::new(
            ToolErrorKind::Unavailable,
            format!(
                "{what}: add a [tools.format] command to prodcode.toml, e.g. command = \
                 [\"black\", \"--quiet\"] with check_args = [\"--check\"]"
            ),
        ));
    }

    let mut changed = BTreeSet::new();
    let mut runs = Vec::new();
    let mut started = 0;
    for plan in &plans {
        let before: Vec<Option<String>> = if check_only {
            Vec::new()
        } else {
            plan.candidates
                .iter()
                .map(|(_, path)| snapshot::hash_file(path))
                .collect()
        };
        let execution = exec::run(&plan.spec, timeout, OUTPUT_CAP);
        let execution = match execution {
            Ok(execution) => execution,
            Err(err) => {
                let problem = match (&err, plan.family) {
                    (ExecError::NotFound { program }, Some(family)) => {
                        format!("`{program}` was not found: {}", family.install_hint())
                    }
                    _ => err.to_string(),
                };
                runs.push(FormatRun {
                    formatter: plan.formatter.clone(),
                    command: plan.spec.argv(),
                    exit_code: None,
                    duration_ms: 0,
                    output_tail: String::new(),
                    truncated: false,
                    problem: Some(problem),
                });
                continue;
            }
        };
        started += 1;
        let stdout = String::from_utf8_lossy(&execution.stdout);
        let stderr = String::from_utf8_lossy(&execution.stderr);
        let combined = match (stdout.trim().is_empty(), stderr.trim().is_empty()) {
            (_, true) => stdout.trim_end().to_owned(),
            (true, false) => stderr.trim_end().to_owned(),
            (false, false) => format!("{}\n{}", stdout.trim_end(), stderr.trim_end()),
        };
        let mut found = BTreeSet::new();
        if check_only {
            for named in named_files(plan.family, &combined) {
                if let Some(relative) = existing_input(ws, &named, &plan.inputs) {
                    found.insert(relative);
                }
            }
        } else {
            for ((relative, path), before) in plan.candidates.iter().zip(before) {
                if snapshot::hash_file(path) != before {
                    found.insert(relative.clone());
                }
            }
        }
        let problem = if execution.timed_out {
            Some(format!(
                "timed out after {} s and was killed; raise timeout_s in [tools.format] in \
                 prodcode.toml",
                timeout.as_secs()
            ))
        } else {
            match execution.status {
                None => Some(format!(
                    "killed by signal {}: see outputTail",
                    execution.signal.unwrap_or_default()
                )),
                Some(0) => None,
                // Checkers exit non-zero when files would change; that is their answer.
                Some(_) if check_only && !found.is_empty() => None,
                Some(code) => Some(format!(
                    "exited with code {code}{}: see outputTail (a syntax error in a file stops \
                     most formatters)",
                    if check_only {
                        " without naming a file to reformat"
                    } else {
                        ""
                    }
                )),
            }
        };
        let output_tail = tail(&combined, TAIL_BYTES);
        runs.push(FormatRun {
            formatter: plan.formatter.clone(),
            command: plan.spec.argv(),
            exit_code: execution.status,
            duration_ms: execution.duration.as_millis() as u64,
            truncated: execution.stdout_truncated
                || execution.stderr_truncated
                || output_tail.len() < combined.len(),
            output_tail,
            problem,
        });
        changed.extend(found);
    }
    if started == 0 {
        let problems: Vec<String> = runs.iter().filter_map(|run| run.problem.clone()).collect();
        return Err(ToolError::new(
            ToolErrorKind::Unavailable,
            format!(
                "{}; or configure the formatter in [tools.format] in prodcode.toml",
                problems.join("; ")
            ),
        ));
    }
    Ok(FormatReport {
        check_only,
        changed: changed.into_iter().collect(),
        runs,
        skipped,
    })
}

fn configured_plan(
    ws: &Workspace,
    config: &FormatConfig,
    command: &CommandLine,
    targets: &[(String, PathBuf)],
    check_only: bool,
) -> Result<Plan, ToolError> {
    let mut words: Vec<String> = exec::command_words(command, config.shell);
    if words.is_empty() || words[0].trim().is_empty() {
        return Err(ToolError::new(
            ToolErrorKind::InvalidArgument,
            "the [tools.format] command in prodcode.toml is empty: give the formatter to run",
        ));
    }
    let program = words.remove(0);
    if check_only {
        let check_args = config.check_args.as_ref().ok_or_else(|| {
            ToolError::new(
                ToolErrorKind::InvalidArgument,
                "check_only needs to know how the configured formatter only checks: add \
                 check_args (e.g. [\"--check\"]) to [tools.format] in prodcode.toml, or call \
                 format without check_only",
            )
        })?;
        words.extend(check_args.iter().cloned());
    }
    words.extend(targets.iter().map(|(relative, _)| relative.clone()));
    let inputs = if config.inputs.is_empty() {
        Inputs::everything()
    } else {
        Inputs::from_globs(&config.inputs).map_err(|err| {
            ToolError::new(
                ToolErrorKind::InvalidArgument,
                format!(
                    "an `inputs` pattern in [tools.format] in prodcode.toml is not a glob: {err}"
                ),
            )
        })?
    };
    let roots: Vec<PathBuf> = if targets.is_empty() {
        vec![ws.root().to_path_buf()]
    } else {
        targets.iter().map(|(_, path)| path.clone()).collect()
    };
    let candidates = if check_only {
        Vec::new()
    } else {
        snapshot::walk(ws, &roots, &inputs)
    };
    let formatter = config
        .name
        .clone()
        .unwrap_or_else(|| exec::program_name(&program));
    Ok(Plan {
        formatter,
        spec: CommandSpec {
            program,
            args: words,
            cwd: ws.root().to_path_buf(),
            env: config
                .env
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            shell: config.shell,
            merge_stderr: false,
        },
        candidates,
        inputs,
        family: None,
    })
}

/// The detected formatters' commands for `targets` (the whole workspace when empty), and the
/// given files no formatter handles.
fn detected_plans(
    ws: &Workspace,
    targets: &[(String, PathBuf)],
    check_only: bool,
) -> (Vec<Plan>, Vec<String>) {
    let root = ws.root();
    let detected: Vec<Family> = Family::ALL
        .into_iter()
        .filter(|family| family.detected(root))
        .collect();
    let mut plans = Vec::new();
    if targets.is_empty() {
        for family in detected {
            let program = family
                .program(root)
                .unwrap_or_else(|| family.name().to_owned());
            let whole = vec![(".".to_owned(), root.to_path_buf())];
            plans.push(family_plan(ws, family, program, &whole, check_only, true));
        }
        return (plans, Vec::new());
    }
    let mut assigned: BTreeMap<Family, Vec<(String, PathBuf)>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for (relative, path) in targets {
        if path.is_dir() {
            for family in &detected {
                assigned
                    .entry(*family)
                    .or_default()
                    .push((relative.clone(), path.clone()));
            }
            continue;
        }
        let family = Family::ALL.into_iter().find(|family| {
            family.inputs().matches(relative)
                && (detected.contains(family) || family.program(root).is_some())
        });
        match family {
            Some(family) => assigned
                .entry(family)
                .or_default()
                .push((relative.clone(), path.clone())),
            None => skipped.push(relative.clone()),
        }
    }
    for (family, targets) in assigned {
        let program = family
            .program(root)
            .unwrap_or_else(|| family.name().to_owned());
        if family == Family::Rust {
            // rustfmt takes files, not directories, and each file needs its crate's edition.
            let files = rust_files(ws, &targets);
            let mut by_edition: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
            for file in files {
                by_edition
                    .entry(edition_for(ws, &file.1))
                    .or_default()
                    .push(file);
            }
            for (edition, files) in by_edition {
                let mut plan = family_plan(ws, family, program.clone(), &files, check_only, false);
                plan.spec
                    .args
                    .splice(0..0, ["--edition".to_owned(), edition]);
                plans.push(plan);
            }
        } else {
            plans.push(family_plan(
                ws, family, program, &targets, check_only, false,
            ));
        }
    }
    (plans, skipped)
}

/// The `.rs` files given or under the given directories.
fn rust_files(ws: &Workspace, targets: &[(String, PathBuf)]) -> Vec<(String, PathBuf)> {
    let inputs = Family::Rust.inputs();
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (relative, path) in targets {
        if path.is_dir() {
            files.extend(snapshot::walk(ws, std::slice::from_ref(path), &inputs));
        } else {
            files.push((relative.clone(), path.clone()));
        }
    }
    files.sort();
    files.dedup();
    files
}

fn family_plan(
    ws: &Workspace,
    family: Family,
    program: String,
    targets: &[(String, PathBuf)],
    check_only: bool,
    whole_workspace: bool,
) -> Plan {
    let paths: Vec<String> = targets
        .iter()
        .map(|(relative, _)| relative.clone())
        .collect();
    let mut args: Vec<String> = Vec::new();
    let mut program = program;
    match family {
        Family::Rust if whole_workspace => {
            program = "cargo".to_owned();
            args.extend(["fmt", "--all", "--", "--color", "never"].map(str::to_owned));
            if check_only {
                args.push("--check".to_owned());
            }
        }
        Family::Rust => {
            args.extend(["--color", "never"].map(str::to_owned));
            if check_only {
                args.push("--check".to_owned());
            }
            args.extend(paths);
        }
        Family::Python => {
            args.push("format".to_owned());
            if check_only {
                args.push("--check".to_owned());
            }
            args.extend(paths);
        }
        Family::Prettier => {
            args.push(if check_only { "--check" } else { "--write" }.to_owned());
            args.extend(paths);
        }
        Family::Go => {
            args.push("-l".to_owned());
            if !check_only {
                args.push("-w".to_owned());
            }
            args.extend(paths);
        }
    }
    let inputs = family.inputs();
    let candidates = if check_only {
        Vec::new()
    } else {
        // rustfmt also formats a file's out-of-line modules, which live under its directory.
        let roots: Vec<PathBuf> = targets
            .iter()
            .map(|(_, path)| match (family, whole_workspace, path.parent()) {
                (Family::Rust, false, Some(parent)) if path.is_file() => parent.to_path_buf(),
                _ => path.clone(),
            })
            .collect();
        snapshot::walk(ws, &roots, &inputs)
    };
    Plan {
        formatter: family.name().to_owned(),
        spec: CommandSpec {
            program,
            args,
            cwd: ws.root().to_path_buf(),
            env: Vec::new(),
            shell: false,
            merge_stderr: false,
        },
        candidates,
        inputs,
        family: Some(family),
    }
}

/// The edition of the nearest `Cargo.toml` above `file` inside the workspace, else 2021.
fn edition_for(ws: &Workspace, file: &Path) -> String {
    let manifests: Vec<PathBuf> = file
        .ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(ws.root()))
        .map(|dir| dir.join("Cargo.toml"))
        .filter(|manifest| manifest.is_file())
        .collect();
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
    };
    let Some(nearest) = manifests.first().and_then(|path| read(path)) else {
        return DEFAULT_EDITION.to_owned();
    };
    match nearest
        .get("package")
        .and_then(|package| package.get("edition"))
    {
        Some(toml::Value::String(edition)) => edition.clone(),
        Some(toml::Value::Table(inherited)) if inherited.get("workspace").is_some() => manifests
            .iter()
            .filter_map(|path| read(path))
            .find_map(|manifest| {
                manifest
                    .get("workspace")?
                    .get("package")?
                    .get("edition")?
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| DEFAULT_EDITION.to_owned()),
        _ => DEFAULT_EDITION.to_owned(),
    }
}

/// The paths a checking run's output names as needing changes, as printed.
fn named_files(family: Option<Family>, output: &str) -> Vec<String> {
    let mut named = Vec::new();
    let mut after_ruff_header = false;
    for line in output.lines() {
        let line = line.trim_end();
        match family {
            Some(Family::Rust) => {
                if let Some(rest) = line.strip_prefix("Diff in ") {
                    // `Diff in /w/src/main.rs:1:` or, older, `Diff in /w/src/main.rs at line 1:`.
                    let path = match rest.find(" at line ") {
                        Some(at) => &rest[..at],
                        None => strip_position(rest),
                    };
                    named.push(path.to_owned());
                }
            }
            Some(Family::Python) => {
                if let Some(path) = line.strip_prefix("Would reformat: ") {
                    named.push(path.trim().to_owned());
                } else if line.starts_with("unformatted:") {
                    after_ruff_header = true;
                    continue;
                } else if after_ruff_header
                    && let Some(rest) = line.trim_start().strip_prefix("--> ")
                {
                    named.push(strip_position(rest).to_owned());
                }
            }
            Some(Family::Prettier) => {
                if let Some(path) = line.strip_prefix("[warn] ") {
                    named.push(path.trim().to_owned());
                }
            }
            Some(Family::Go) => {
                if !line.trim().is_empty() {
                    named.push(line.trim().to_owned());
                }
            }
            None => {
                for token in line.split_whitespace() {
                    let token = token.trim_matches(|c: char| {
                        matches!(c, '"' | '\'' | '`' | '(' | ')' | '[' | ']' | ',' | ';')
                    });
                    named.push(strip_position(token).to_owned());
                }
            }
        }
        after_ruff_header = false;
    }
    named
}

/// `path:12:5:` → `path`.
fn strip_position(text: &str) -> &str {
    let mut text = text.trim_end_matches(':');
    while let Some((head, tail)) = text.rsplit_once(':') {
        if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        text = head;
    }
    text
}

/// The workspace-relative path of a file named in a formatter's output, when it is an existing
/// file inside the workspace that matches `inputs`.
fn existing_input(ws: &Workspace, named: &str, inputs: &Inputs) -> Option<String> {
    if named.is_empty() {
        return None;
    }
    let resolved = ws.resolve(named).ok()?;
    if !resolved.is_file() {
        return None;
    }
    let relative = ws.relative(&resolved)?;
    inputs.matches(&relative).then_some(relative)
}

#[cfg(test)]
mod tests;
