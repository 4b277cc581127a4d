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
//! # Confinement: a detected formatter never writes
//!
//! A formatter given a file follows it wherever it leads: rustfmt formats a file's out-of-line
//! modules, also a `mod m;` whose file is a symbolic link out or a `#[path = "/abs/m.rs"]`
//! module, and ruff, prettier and gofmt write through symbolic links (issue 13: 4 of 4 outside
//! files rewritten). So a detected formatter only ever runs in its checking mode, which writes
//! nothing and names the files that would change (`rustfmt --check -l`, `cargo fmt --all --
//! --check -l`, `ruff format --check`, `prettier --check`, `gofmt -l`). Each named file is then
//! resolved ([`Workspace::resolve`]): one outside the workspace is listed in `refused` and left
//! alone; one inside is read by descriptor ([`open_beneath`]), formatted through standard input
//! (`rustfmt --emit stdout` from the file's directory so its `rustfmt.toml` applies, `ruff
//! format --stdin-filename`, `prettier --stdin-filepath`, `gofmt`) and, when the text differs
//! and the file did not change meanwhile, written back by [`Workspace::replace`], which follows
//! no link. `changed` lists exactly the files written (or, checking, named and inside).
//!
//! A configured `[tools.format]` command is the project's own program, like a configured test
//! command: it runs as written, on workspace-resolved paths, and `changed` lists the files of its
//! inputs under the paths whose content hashes differ after the run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::diagnostics::checkers::{find_on_path, find_tool, is_python_project};
use super::diagnostics::raw::tail;
use super::diagnostics::snapshot::{self, Inputs};
use super::exec::{self, CommandSpec, ExecError};
use super::runner::CommandLine;
use super::workspace::{ToolError, ToolErrorKind, Workspace, open_beneath};

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
    /// Files a formatter reached outside the workspace (through a symbolic link or a
    /// `#[path]` module), as it named them: never written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<String>,
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
        if !self.refused.is_empty() {
            text.push_str(&format!(
                "left alone (outside the workspace, reached through a link or a #[path] \
                 module): {}\n",
                self.refused.join(", ")
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
            "skipped": strings("Given files no formatter handles."),
            "refused": strings("Files a formatter reached outside the workspace (a symbolic link, a #[path] module), as it named them: never written.")
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
    /// Files to hash before and after a writing run of a configured command.
    candidates: Vec<(String, PathBuf)>,
    /// Which named files count.
    inputs: Inputs,
    /// A detected formatter: `spec` only lists the files to change, which are then formatted
    /// one by one through standard input.
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
            None => detected_plans(ws, &targets),
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
    let mut refused = BTreeSet::new();
    let mut runs = Vec::new();
    let mut started = 0;
    for plan in &plans {
        let before: Vec<Option<String>> = if check_only || plan.family.is_some() {
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
        let mut listed = BTreeMap::new();
        let mut failures = Vec::new();
        if check_only || plan.family.is_some() {
            for named in named_files(plan.family, &combined) {
                match classify(ws, &named, &plan.inputs) {
                    Named::Inside(relative, path) => {
                        listed.insert(relative, path);
                    }
                    Named::Outside => {
                        refused.insert(named);
                    }
                    Named::Other => {}
                }
            }
        }
        match plan.family {
            Some(family) if !check_only => {
                for (relative, path) in &listed {
                    match format_one(ws, family, relative, path, timeout) {
                        Ok(true) => {
                            found.insert(relative.clone());
                        }
                        Ok(false) => {}
                        Err(why) => failures.push(format!("{relative}: {why}")),
                    }
                }
            }
            _ if check_only => found.extend(listed.into_keys()),
            _ => {
                for ((relative, path), before) in plan.candidates.iter().zip(before) {
                    if snapshot::hash_file(path) != before {
                        found.insert(relative.clone());
                    }
                }
            }
        }
        // A detected formatter's run only lists, and a non-zero exit is its way of listing.
        let listing = check_only || plan.family.is_some();
        let unreadable = plan.family == Some(Family::Rust) && stderr.contains("error");
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
                // Checkers exit non-zero when files would change; that is their answer. rustfmt
                // lists on stdout, so an error on stderr is a file it could not read.
                Some(_)
                    if listing && (!found.is_empty() || !failures.is_empty()) && !unreadable =>
                {
                    None
                }
                Some(code) => Some(format!(
                    "exited with code {code}{}: see outputTail (a syntax error in a file stops \
                     most formatters)",
                    if listing && found.is_empty() && failures.is_empty() {
                        " without naming a file to reformat"
                    } else {
                        ""
                    }
                )),
            }
        };
        let problem = match (problem, failures.is_empty()) {
            (problem, true) => problem,
            (None, false) => Some(format!("could not format {}", failures.join("; "))),
            (Some(problem), false) => Some(format!(
                "{problem}; could not format {}",
                failures.join("; ")
            )),
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
        refused: refused.into_iter().collect(),
    })
}

/// A file a formatter named, resolved.
enum Named {
    /// An existing file inside the workspace that matches the formatter's inputs: its
    /// workspace-relative and canonical paths.
    Inside(String, PathBuf),
    /// It resolves outside the workspace.
    Outside,
    /// Not a file of the formatter's inputs (a word of a message, a file that does not exist).
    Other,
}

fn classify(ws: &Workspace, named: &str, inputs: &Inputs) -> Named {
    if named.is_empty() {
        return Named::Other;
    }
    match ws.resolve(named) {
        Ok(resolved) if resolved.is_file() => match ws.relative(&resolved) {
            Some(relative) if inputs.matches(&relative) => Named::Inside(relative, resolved),
            _ => Named::Other,
        },
        Ok(_) => Named::Other,
        Err(error) if error.kind == ToolErrorKind::OutsideWorkspace => Named::Outside,
        Err(_) => Named::Other,
    }
}

/// Formats one file inside the workspace through the formatter's standard input and writes the
/// result back without following links; `Ok(true)` when the file was rewritten.
fn format_one(
    ws: &Workspace,
    family: Family,
    relative: &str,
    path: &Path,
    timeout: Duration,
) -> Result<bool, String> {
    let mut file =
        open_beneath(ws.root(), path).map_err(|error| format!("cannot open it: {error}"))?;
    let mut before = Vec::new();
    file.read_to_end(&mut before)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .map_err(|error| format!("cannot read it: {error}"))?;
    let spec = stdin_spec(ws, family, relative, path);
    let execution = exec::run_with_stdin(&spec, Some(file), timeout, OUTPUT_CAP)
        .map_err(|error| error.to_string())?;
    if execution.timed_out {
        return Err(format!(
            "timed out after {} s; raise timeout_s in [tools.format] in prodcode.toml",
            timeout.as_secs()
        ));
    }
    if !execution.success() || execution.stdout_truncated {
        let stderr = String::from_utf8_lossy(&execution.stderr);
        return Err(format!(
            "`{}` failed: {}",
            spec.argv().join(" "),
            tail(stderr.trim(), TAIL_BYTES / 4)
        ));
    }
    if execution.stdout == before {
        return Ok(false);
    }
    // An edit that landed while the formatter ran wins; the next format call catches up.
    let now = ws
        .read(path, before.len() as u64 + 1)
        .map_err(|error| format!("cannot read it again: {error}"))?;
    if now != before {
        return Err("it changed while it was being formatted; call format again".to_owned());
    }
    ws.replace(path, &execution.stdout)
        .map_err(|error| format!("cannot write it: {error}"))?;
    Ok(true)
}

/// The command that formats one file from standard input to standard output.
fn stdin_spec(ws: &Workspace, family: Family, relative: &str, path: &Path) -> CommandSpec {
    let root = ws.root();
    let program = family
        .program(root)
        .unwrap_or_else(|| family.name().to_owned());
    let mut cwd = root.to_path_buf();
    let args: Vec<String> = match family {
        Family::Rust => {
            // rustfmt looks for its configuration from the working directory when reading
            // standard input, and from the file's directory otherwise.
            if let Some(parent) = path.parent() {
                cwd = parent.to_path_buf();
            }
            let edition = edition_for(ws, path);
            [
                "--edition",
                &edition,
                "--color",
                "never",
                "--emit",
                "stdout",
            ]
            .map(str::to_owned)
            .into()
        }
        Family::Python => vec![
            "format".to_owned(),
            "--stdin-filename".to_owned(),
            relative.to_owned(),
            "-".to_owned(),
        ],
        Family::Prettier => vec!["--stdin-filepath".to_owned(), relative.to_owned()],
        Family::Go => Vec::new(),
    };
    CommandSpec {
        program,
        args,
        cwd,
        env: Vec::new(),
        shell: false,
        merge_stderr: false,
    }
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
    words.extend(targets.iter().map(|(relative, _)| as_operand(relative)));
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
fn detected_plans(ws: &Workspace, targets: &[(String, PathBuf)]) -> (Vec<Plan>, Vec<String>) {
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
            plans.push(family_plan(ws, family, program, &whole, true));
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
                let mut plan = family_plan(ws, family, program.clone(), &files, false);
                plan.spec
                    .args
                    .splice(0..0, ["--edition".to_owned(), edition]);
                plans.push(plan);
            }
        } else {
            plans.push(family_plan(ws, family, program, &targets, false));
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
    whole_workspace: bool,
) -> Plan {
    // Only the checking mode ever runs: it writes nothing and names the files to change
    // (see "Confinement" in the module documentation).
    let paths: Vec<String> = targets
        .iter()
        .map(|(relative, _)| as_operand(relative))
        .collect();
    let mut args: Vec<String> = Vec::new();
    let mut program = program;
    match family {
        Family::Rust if whole_workspace => {
            program = "cargo".to_owned();
            args.extend(
                ["fmt", "--all", "--", "--color", "never", "--check", "-l"].map(str::to_owned),
            );
        }
        Family::Rust => {
            args.extend(["--color", "never", "--check", "-l"].map(str::to_owned));
            args.extend(paths);
        }
        Family::Python => {
            args.extend(["format", "--check"].map(str::to_owned));
            args.extend(paths);
        }
        Family::Prettier => {
            args.push("--check".to_owned());
            args.extend(paths);
        }
        Family::Go => {
            args.push("-l".to_owned());
            args.extend(paths);
        }
    }
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
        candidates: Vec::new(),
        inputs: family.inputs(),
        family: Some(family),
    }
}

/// A workspace-relative path as a command-line operand: `./-x.py` for a file whose name starts
/// with `-`, which would otherwise be read as an option.
fn as_operand(relative: &str) -> String {
    if relative.starts_with('-') {
        format!("./{relative}")
    } else {
        relative.to_owned()
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
                } else if line.ends_with(".rs") && !line.starts_with(' ') {
                    // `-l`: one file per line.
                    named.push(line.to_owned());
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

#[cfg(test)]
mod tests;
