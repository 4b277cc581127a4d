//! The tools as one catalogue with JSON in and JSON out: what the MCP, LSP and CLI fronts call.
//!
//! A front hands [`Toolbox::call`] a tool name and its JSON arguments and gets back a
//! [`ToolOutput`]: readable text, `structuredContent` that matches the tool's output schema, and an
//! error flag. The fronts only translate that into their protocol. Every call, failed or not, goes
//! to the [`CallRecorder`] the toolbox was opened with.
//!
//! Invariants:
//! - Tool names are snake_case (`[a-z0-9_]`); every line and column is 1-based and each schema says
//!   so.
//! - A call never panics on bad arguments: unknown tools, missing or mistyped arguments and tool
//!   failures are error outputs whose message says what to do.
//! - The schemas in [`specs`] describe exactly what [`Toolbox::call`] accepts and returns; the
//!   MCP tests validate real outputs against them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::diagnostics::{self, DiagnosticsCache, DiagnosticsConfig, Severity};
use super::format::{self, FormatConfig};
use super::index::Index;
use super::langserver::{LangServers, NavAnswer, NavRequest, ServerConfig};
use super::nav::{Location, Position, Symbol};
use super::runner::{self, RunnerConfig};
use super::search;
use super::workspace::{ToolError, ToolErrorKind, Workspace};

/// The `[tools]` section of `prodcode.toml`.
///
/// ```toml
/// [tools.tests]            # the test command (see `runner::RunnerConfig`)
/// [tools.diagnostics]      # the checkers (see `diagnostics::DiagnosticsConfig`)
/// [tools.format]           # the formatter (see `format::FormatConfig`)
/// [tools.servers.python]   # a language server (see `langserver::ServerConfig`)
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct ToolsConfig {
    #[serde(default)]
    pub tests: Option<RunnerConfig>,
    #[serde(default)]
    pub diagnostics: Option<DiagnosticsConfig>,
    #[serde(default)]
    pub format: Option<FormatConfig>,
    #[serde(default)]
    pub servers: BTreeMap<String, ServerConfig>,
}

/// Who is calling: recorded with every call.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CallContext {
    /// `mcp`, `lsp` or `cli`.
    pub front: &'static str,
    /// The client's name and version (MCP `clientInfo`, LSP `clientInfo`).
    pub client: Option<String>,
    /// The interaction (agent session) the call belongs to.
    pub interaction_id: Option<String>,
    /// The evaluation run the call belongs to.
    pub run_id: Option<i64>,
}

/// The environment variable naming the interaction a front's calls belong to.
pub const INTERACTION_ENV: &str = "PRODCODE_INTERACTION_ID";
/// The environment variable naming the evaluation run (`runs.id`) a front's calls belong to.
pub const RUN_ENV: &str = "PRODCODE_RUN_ID";

impl CallContext {
    /// A context for `front` from the process environment ([`INTERACTION_ENV`], [`RUN_ENV`]).
    pub fn from_env(front: &'static str) -> CallContext {
        let nonempty = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        CallContext {
            front,
            client: None,
            interaction_id: nonempty(INTERACTION_ENV),
            run_id: nonempty(RUN_ENV).and_then(|value| value.trim().parse().ok()),
        }
    }
}

/// One finished call, as the recorder receives it.
#[derive(Clone, Debug)]
pub struct CallRecord<'a> {
    pub tool: &'a str,
    pub arguments: &'a Value,
    /// Milliseconds since the Unix epoch when the call started.
    pub started_ms: i64,
    pub duration_ms: u64,
    /// `ok`, or the [`ToolErrorKind`] name of a failure (`unknown_tool` for a name not in the
    /// catalogue).
    pub outcome: &'a str,
    /// The error message of a failed call.
    pub error: Option<&'a str>,
    pub context: &'a CallContext,
    pub workspace: &'a Path,
}

/// Where calls are recorded (the store, in the binary). Recording must not fail the call: an
/// implementation logs its own errors.
pub trait CallRecorder: Send + Sync {
    fn record(&self, call: &CallRecord<'_>);
}

/// A tool's description, for MCP `tools/list`, LSP `executeCommandProvider` and `--help`.
#[derive(Clone, Debug)]
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments object.
    pub input_schema: Value,
    /// JSON Schema of `structuredContent`.
    pub output_schema: Value,
    /// The tool changes no file (everything but `format` without `check_only`).
    pub read_only: bool,
}

/// The answer of one call.
#[derive(Clone, PartialEq, Debug)]
pub struct ToolOutput {
    /// Readable text: a summary a person or model can act on.
    pub text: String,
    /// The typed result (matching the tool's output schema), or for errors
    /// `{ "error": { "kind", "message" } }`.
    pub structured: Value,
    pub is_error: bool,
}

impl ToolOutput {
    fn error(error: &ToolError) -> ToolOutput {
        ToolOutput {
            text: error.message.clone(),
            structured: json!({ "error": { "kind": error.kind.as_str(), "message": error.message } }),
            is_error: true,
        }
    }
}

/// How long a navigation request waits for a language server that is still starting or indexing.
const SERVER_BUDGET: Duration = Duration::from_secs(20);
/// The default and largest `timeout_s` of `run_tests`.
const DEFAULT_TEST_TIMEOUT_S: u64 = 600;
const MAX_TEST_TIMEOUT_S: u64 = 3600;
/// Results kept by navigation and search answers.
const DEFAULT_MAX_RESULTS: usize = 200;
const MAX_RESULTS: usize = 5000;
/// Bytes of matches a search answer carries.
const SEARCH_MAX_BYTES: usize = 256 << 10;

/// The tools of one workspace, with their state: the syntactic index, language servers and the
/// diagnostics cache.
pub struct Toolbox {
    ws: Workspace,
    config: ToolsConfig,
    index: Mutex<Option<Index>>,
    servers: LangServers,
    diagnostics: DiagnosticsCache,
    recorder: Option<Box<dyn CallRecorder>>,
}

impl Toolbox {
    /// The tools of the workspace at `root`, configured by `config` (the `[tools]` section of its
    /// `prodcode.toml`), recording calls to `recorder`.
    pub fn open(
        root: &Path,
        config: ToolsConfig,
        recorder: Option<Box<dyn CallRecorder>>,
    ) -> Result<Toolbox, ToolError> {
        let ws = Workspace::new(root)?;
        let servers = LangServers::new(ws.root(), &config.servers);
        Ok(Toolbox {
            ws,
            config,
            index: Mutex::new(None),
            servers,
            diagnostics: DiagnosticsCache::default(),
            recorder,
        })
    }

    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// Calls tool `name` with `arguments` (a JSON object; `null` counts as `{}`) and records it.
    pub fn call(&self, name: &str, arguments: &Value, context: &CallContext) -> ToolOutput {
        let started = Instant::now();
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64);
        // A bug in one tool must not take down the front (or leave an LSP request unanswered):
        // a panic becomes a `failed` result like any other failure, and is recorded.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.dispatch(name, arguments)
        }))
        .unwrap_or_else(|panic| {
            let cause = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!("tool {name} panicked: {cause}");
            Err(Failure::Tool(ToolError::new(
                ToolErrorKind::Failed,
                format!(
                    "prodcode's `{name}` failed on an internal error ({cause}); this is a bug in                      prodcode. The other tools still work, and calling `{name}` again may too"
                ),
            )))
        });
        let duration_ms = started.elapsed().as_millis() as u64;
        let (output, outcome) = match &result {
            Ok(output) => (output.clone(), "ok"),
            Err(Failure::UnknownTool(error)) => (ToolOutput::error(error), "unknown_tool"),
            Err(Failure::Tool(error)) => (ToolOutput::error(error), error.kind.as_str()),
        };
        if let Some(recorder) = &self.recorder {
            let error = output.is_error.then_some(output.text.as_str());
            recorder.record(&CallRecord {
                tool: name,
                arguments,
                started_ms,
                duration_ms,
                outcome,
                error,
                context,
                workspace: self.ws.root(),
            });
        }
        output
    }

    fn dispatch(&self, name: &str, arguments: &Value) -> Result<ToolOutput, Failure> {
        let empty = Map::new();
        let args = match arguments {
            Value::Null => &empty,
            Value::Object(map) => map,
            other => {
                return Err(invalid(format!(
                    "the arguments are {}, not an object; pass named arguments as a JSON object",
                    type_name(other)
                ))
                .into());
            }
        };
        let args = Args {
            tool: name,
            map: args,
        };
        let output = match name {
            "get_diagnostics" => self.get_diagnostics(&args),
            "run_tests" => self.run_tests(&args),
            "find_definition" => self.find_definition(&args),
            "find_references" => self.find_references(&args),
            "hover" => self.hover(&args),
            "document_symbols" => self.document_symbols(&args),
            "workspace_symbols" => self.workspace_symbols(&args),
            "format" => self.format(&args),
            "search" => self.search(&args),
            "lsp_status" => self.lsp_status(&args),
            _ => {
                let names: Vec<&str> = specs().iter().map(|spec| spec.name).collect();
                return Err(Failure::UnknownTool(ToolError::new(
                    ToolErrorKind::NotFound,
                    format!(
                        "there is no tool `{name}`; the tools are {}",
                        names.join(", ")
                    ),
                )));
            }
        }?;
        Ok(output)
    }

    fn get_diagnostics(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["paths", "min_severity"])?;
        let paths = args.strings("paths")?;
        let min_severity = match args.string("min_severity")? {
            None => Severity::Hint,
            Some(name) => serde_json::from_value(Value::String(name.clone())).map_err(|_| {
                invalid(format!(
                    "min_severity `{name}` is not one of error, warning, information, hint"
                ))
            })?,
        };
        let report = diagnostics::get_diagnostics(
            &self.ws,
            self.config.diagnostics.as_ref(),
            &paths,
            min_severity,
            &self.diagnostics,
        )?;
        Ok(output(report.render(), &report))
    }

    fn run_tests(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["targets", "names", "timeout_s"])?;
        let targets = args.strings("targets")?;
        let names = args.strings("names")?;
        let timeout_s = args
            .integer("timeout_s", 1, MAX_TEST_TIMEOUT_S)?
            .unwrap_or(DEFAULT_TEST_TIMEOUT_S);
        // Targets and names are checked by the runner's one gate (`runner::run_tests`), which
        // curation goes through too: never an option, never a place outside the workspace.
        let mut runner =
            runner::detect(self.ws.root(), self.config.tests.as_ref()).ok_or_else(|| {
                ToolError::new(
                    ToolErrorKind::Unavailable,
                    runner::RunnerError::NotDetected {
                        root: self.ws.root().to_owned(),
                    }
                    .to_string(),
                )
            })?;
        runner::import_from_root(&mut runner, self.ws.root());
        let run = runner::run_tests(
            self.ws.root(),
            &runner,
            &targets,
            &names,
            Duration::from_secs(timeout_s),
        )
        .map_err(|error| {
            let kind = match error {
                runner::RunnerError::NotInstalled { .. } => ToolErrorKind::Unavailable,
                runner::RunnerError::NotDetected { .. } => ToolErrorKind::Unavailable,
                runner::RunnerError::EmptyCommand => ToolErrorKind::InvalidArgument,
                runner::RunnerError::InvalidArgument(_) => ToolErrorKind::InvalidArgument,
                runner::RunnerError::OutsideWorkspace(_) => ToolErrorKind::OutsideWorkspace,
                _ => ToolErrorKind::Failed,
            };
            ToolError::new(kind, error.to_string())
        })?;
        Ok(output(render_test_run(&run), &run))
    }

    fn find_definition(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["path", "line", "column", "symbol"])?;
        let target = self.target(args)?;
        let answer = self.navigate(&target, NavRequest::Definition, |index, name| {
            index
                .definitions(name)
                .into_iter()
                .map(|symbol| symbol.location)
                .collect()
        })?;
        Ok(nav_output("definition", "definitions", answer))
    }

    fn find_references(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["path", "line", "column", "symbol", "max_results"])?;
        let limit = args.limit()?;
        let target = self.target(args)?;
        let mut answer = self.navigate(&target, NavRequest::References, |index, name| {
            index.references(name, limit + 1)
        })?;
        answer.truncated = answer.items.len() > limit;
        answer.items.truncate(limit);
        Ok(nav_output("reference", "references", answer))
    }

    fn hover(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["path", "line", "column", "symbol"])?;
        let target = self.target(args)?;
        let mut note = None;
        let mut answer = None;
        if let Some(path) = self.server_for(&target) {
            match self.ask_server(&path, &NavRequest::Hover(target.position()))? {
                Ok(NavAnswer::Hover(hover)) => {
                    answer = Some((server_source(&self.servers, &path), hover))
                }
                Ok(_) => answer = Some((server_source(&self.servers, &path), None)),
                Err(why) => note = Some(why),
            }
        }
        let (source, hover) = match answer {
            Some(answer) => answer,
            None => {
                let name = self.name_of(&target)?;
                (
                    "syntactic".to_owned(),
                    self.with_index(|index| index.hover_from(&name, target.relative())),
                )
            }
        };
        let syntactic = source == "syntactic";
        let text = match &hover {
            Some(hover) => hover.contents.clone(),
            None => "nothing to show at that position".to_owned(),
        };
        let mut structured = json!({ "source": source, "syntactic": syntactic, "hover": hover });
        let text = with_note(text, &mut structured, note);
        Ok(ToolOutput {
            text,
            structured,
            is_error: false,
        })
    }

    fn document_symbols(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["path"])?;
        let path = args.required_string("path")?;
        let absolute = self.ws.resolve(path)?;
        if !absolute.is_file() {
            return Err(ToolError::new(
                ToolErrorKind::NotFound,
                format!(
                    "`{path}` is not a file in the workspace; pass a source file's path relative to the workspace root"
                ),
            ));
        }
        let relative = self.ws.relative(&absolute).unwrap_or_else(|| path.clone());
        let mut note = None;
        let mut answer = None;
        if self.servers.language_for(&absolute).is_some() {
            match self.ask_server(&absolute, &NavRequest::DocumentSymbols)? {
                Ok(NavAnswer::Symbols(symbols)) => {
                    answer = Some((server_source(&self.servers, &absolute), symbols))
                }
                Ok(_) => answer = Some((server_source(&self.servers, &absolute), Vec::new())),
                Err(why) => note = Some(why),
            }
        }
        let (source, symbols) = match answer {
            Some(answer) => answer,
            None if Index::supports(&absolute) => {
                let symbols = self
                    .with_index(|index| index.document_symbols(&relative))
                    .unwrap_or_default();
                ("syntactic".to_owned(), symbols)
            }
            None => {
                return Err(ToolError::new(
                    ToolErrorKind::Unavailable,
                    format!(
                        "no language server or built-in grammar reads `{relative}`; the built-in index reads Rust, Python, TypeScript, JavaScript and Go, and [tools.servers.<language>] in prodcode.toml adds a server"
                    ),
                ));
            }
        };
        let text = render_symbols(&source, &symbols);
        let mut structured =
            json!({ "source": source, "syntactic": source == "syntactic", "symbols": symbols });
        let text = with_note(text, &mut structured, note);
        Ok(ToolOutput {
            text,
            structured,
            is_error: false,
        })
    }

    fn workspace_symbols(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["query", "max_results"])?;
        let query = args.required_string("query")?;
        let limit = args.limit()?;
        let mut symbols = self.with_index(|index| index.workspace_symbols(query, limit + 1));
        let mut sources = vec!["syntactic".to_owned()];
        let from_servers = self.servers.workspace_symbols(query, SERVER_BUDGET)?;
        if !from_servers.is_empty() {
            sources.insert(0, "language_server".to_owned());
            let mut seen: std::collections::HashSet<Location> = from_servers
                .iter()
                .map(|symbol| symbol.location.clone())
                .collect();
            let mut merged = from_servers;
            for symbol in symbols {
                if seen.insert(symbol.location.clone()) {
                    merged.push(symbol);
                }
            }
            symbols = merged;
        }
        let truncated = symbols.len() > limit;
        symbols.truncate(limit);
        let source = sources.join("+");
        let mut text = render_symbols(&source, &symbols);
        if truncated {
            text.push_str(&format!(
                "\n(only the first {limit}; narrow the query or raise max_results)"
            ));
        }
        let structured = json!({
            "source": source,
            "syntactic": sources.len() == 1,
            "symbols": symbols,
            "truncated": truncated,
        });
        Ok(ToolOutput {
            text,
            structured,
            is_error: false,
        })
    }

    fn format(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["paths", "check_only"])?;
        let paths = args.strings("paths")?;
        let check_only = args.boolean("check_only")?.unwrap_or(false);
        let report = format::format(&self.ws, self.config.format.as_ref(), &paths, check_only)?;
        Ok(output(report.render(), &report))
    }

    fn search(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&["pattern", "paths", "max_results"])?;
        let pattern = args.required_string("pattern")?;
        let paths = args.strings("paths")?;
        let limit = args.limit()?;
        let result = search::search(&self.ws, pattern, &paths, limit, SEARCH_MAX_BYTES)?;
        let mut text = String::new();
        for found in &result.matches {
            text.push_str(&format!(
                "{}:{}:{}: {}\n",
                found.path, found.line, found.column, found.text
            ));
        }
        text.push_str(&format!(
            "{} match{} in {} file{} searched{}",
            result.matches.len(),
            if result.matches.len() == 1 { "" } else { "es" },
            result.files_searched,
            if result.files_searched == 1 { "" } else { "s" },
            if result.truncated {
                " (truncated: narrow the pattern or paths, or raise max_results)"
            } else {
                ""
            }
        ));
        Ok(output(text, &result))
    }

    fn lsp_status(&self, args: &Args<'_>) -> Result<ToolOutput, ToolError> {
        args.only(&[])?;
        let servers = self.servers.status();
        let stats = self.with_index_if_built(|index| index.stats());
        let built = stats.is_some();
        let (files, symbols) = stats.unwrap_or((0, 0));
        let mut text = String::new();
        for server in &servers {
            text.push_str(&format!(
                "{}: {} ({})",
                server.language,
                server.state,
                server.command.join(" ")
            ));
            if let Some(message) = &server.message {
                text.push_str(&format!(" — {message}"));
            }
            text.push('\n');
        }
        if built {
            text.push_str(&format!(
                "built-in syntactic index: {files} files, {symbols} symbols"
            ));
        } else {
            text.push_str(
                "built-in syntactic index: not built yet (the first navigation call builds it)",
            );
        }
        let structured = json!({
            "servers": servers,
            "index": { "built": built, "files": files, "symbols": symbols },
        });
        Ok(ToolOutput {
            text,
            structured,
            is_error: false,
        })
    }

    /// What a navigation call is about: a position in a file, or a symbol name.
    fn target(&self, args: &Args<'_>) -> Result<Target, ToolError> {
        let symbol = args.string("symbol")?;
        let path = args.string("path")?;
        let line = args.integer("line", 1, u32::MAX as u64)?;
        let column = args.integer("column", 1, u32::MAX as u64)?;
        match (path, line, column, symbol) {
            (Some(path), Some(line), Some(column), _) => {
                let absolute = self.ws.resolve(path)?;
                if !absolute.is_file() {
                    return Err(ToolError::new(
                        ToolErrorKind::NotFound,
                        format!(
                            "`{path}` is not a file in the workspace; pass a source file's path relative to the workspace root"
                        ),
                    ));
                }
                let relative = self.ws.relative(&absolute).unwrap_or_else(|| path.clone());
                Ok(Target::At {
                    absolute,
                    relative,
                    position: Position {
                        line: line as u32,
                        column: column as u32,
                    },
                })
            }
            (_, _, _, Some(symbol)) if !symbol.trim().is_empty() => {
                Ok(Target::Named(symbol.trim().to_owned()))
            }
            _ => Err(invalid(
                "say what to look up: either `path`, `line` and `column` (1-based) of an identifier, or `symbol` (a name)",
            )),
        }
    }

    /// The file whose language server should answer `target`, when one is installed.
    fn server_for(&self, target: &Target) -> Option<std::path::PathBuf> {
        match target {
            Target::At { absolute, .. } if self.servers.language_for(absolute).is_some() => {
                Some(absolute.clone())
            }
            _ => None,
        }
    }

    /// The identifier a target is about.
    fn name_of(&self, target: &Target) -> Result<String, ToolError> {
        match target {
            Target::Named(name) => Ok(name.clone()),
            Target::At { relative, position, .. } => self
                .with_index(|index| index.identifier_at(relative, *position))
                .ok_or_else(|| {
                    ToolError::new(
                        ToolErrorKind::NotFound,
                        format!(
                            "there is no identifier at {relative}:{}:{} (1-based line and column); point at a name, or pass `symbol`",
                            position.line, position.column
                        ),
                    )
                }),
        }
    }

    /// Answers a location query from the file's language server, else from the syntactic index.
    fn navigate(
        &self,
        target: &Target,
        request: impl Fn(Position) -> NavRequest,
        syntactic: impl Fn(&Index, &str) -> Vec<Location>,
    ) -> Result<NavItems, ToolError> {
        let mut note = None;
        if let Some(path) = self.server_for(target) {
            match self.ask_server(&path, &request(target.position()))? {
                Ok(answer) => {
                    let items = match answer {
                        NavAnswer::Locations(locations) => locations,
                        _ => Vec::new(),
                    };
                    return Ok(NavItems {
                        source: server_source(&self.servers, &path),
                        items,
                        truncated: false,
                        note: None,
                    });
                }
                Err(why) => note = Some(why),
            }
        }
        let name = self.name_of(target)?;
        let items = self.with_index(|index| syntactic(index, &name));
        Ok(NavItems {
            source: "syntactic".to_owned(),
            items,
            truncated: false,
            note,
        })
    }

    /// The server's answer for `path`; `Ok(Err(why))` when the server cannot answer now (not
    /// installed properly, crashed, still indexing after the budget) and the syntactic index
    /// reads the file, so the caller answers from the index and says why.
    fn ask_server(
        &self,
        path: &Path,
        request: &NavRequest,
    ) -> Result<Result<NavAnswer, String>, ToolError> {
        match self.servers.request(path, request, SERVER_BUDGET) {
            Ok(answer) => Ok(Ok(answer)),
            Err(error)
                if error.kind == ToolErrorKind::InvalidArgument || !Index::supports(path) =>
            {
                Err(error)
            }
            Err(error) => Ok(Err(format!(
                "{} — so this answer comes from the built-in syntactic index",
                error.message
            ))),
        }
    }

    /// Runs `f` on the syntactic index, built on first use and refreshed before every use.
    fn with_index<T>(&self, f: impl FnOnce(&Index) -> T) -> T {
        let mut guard = lock(&self.index);
        match guard.as_mut() {
            Some(index) => index.refresh(&self.ws),
            None => *guard = Some(Index::build(&self.ws)),
        }
        f(guard.as_ref().expect("the index was just built"))
    }

    fn with_index_if_built<T>(&self, f: impl FnOnce(&Index) -> T) -> Option<T> {
        lock(&self.index).as_ref().map(f)
    }
}

impl Drop for Toolbox {
    fn drop(&mut self) {
        self.servers.shutdown();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum Failure {
    UnknownTool(ToolError),
    Tool(ToolError),
}

impl From<ToolError> for Failure {
    fn from(error: ToolError) -> Failure {
        Failure::Tool(error)
    }
}

enum Target {
    At {
        absolute: std::path::PathBuf,
        relative: String,
        position: Position,
    },
    Named(String),
}

impl Target {
    /// The file a position target is in.
    fn relative(&self) -> Option<&str> {
        match self {
            Target::At { relative, .. } => Some(relative),
            Target::Named(_) => None,
        }
    }

    fn position(&self) -> Position {
        match self {
            Target::At { position, .. } => *position,
            Target::Named(_) => Position { line: 1, column: 1 },
        }
    }
}

struct NavItems {
    source: String,
    items: Vec<Location>,
    truncated: bool,
    /// Why a language server did not answer, when the syntactic index did instead.
    note: Option<String>,
}

/// Adds `note` (why the syntactic index answered) to an answer's text and structure.
fn with_note(mut text: String, structured: &mut Value, note: Option<String>) -> String {
    if let Some(note) = note {
        text.push_str(&format!("\n(note: {note})"));
        structured["note"] = Value::String(note);
    }
    text
}

/// The name a server-backed answer gives as its source: the server's language and program.
fn server_source(servers: &LangServers, path: &Path) -> String {
    let language = servers.language_for(path).unwrap_or_default();
    servers
        .status()
        .into_iter()
        .find(|status| status.language == language)
        .and_then(|status| status.command.first().cloned())
        .map(|program| {
            Path::new(&program)
                .file_name()
                .map_or(program.clone(), |name| name.to_string_lossy().into_owned())
        })
        .unwrap_or(language)
}

fn nav_output(noun: &str, field: &str, answer: NavItems) -> ToolOutput {
    let syntactic = answer.source == "syntactic";
    let mut text = String::new();
    if answer.items.is_empty() {
        text.push_str(&format!("no {noun} found"));
    } else {
        for location in &answer.items {
            text.push_str(&format!(
                "{}:{}:{}",
                location.path, location.line, location.column
            ));
            if let Some(line) = &location.text {
                text.push_str(&format!(": {line}"));
            }
            text.push('\n');
        }
        text.pop();
    }
    text.push_str(&format!(
        "\n(source: {}{})",
        answer.source,
        if syntactic {
            ", by name, not by type: check the candidates"
        } else {
            ""
        }
    ));
    if answer.truncated {
        text.push_str("\n(truncated: raise max_results for more)");
    }
    let mut structured = json!({
        "source": answer.source,
        "syntactic": syntactic,
        "truncated": answer.truncated,
    });
    structured[field] = serde_json::to_value(&answer.items).unwrap_or(Value::Array(Vec::new()));
    let text = with_note(text, &mut structured, answer.note);
    ToolOutput {
        text,
        structured,
        is_error: false,
    }
}

fn render_symbols(source: &str, symbols: &[Symbol]) -> String {
    let mut text = String::new();
    for symbol in symbols {
        let kind = serde_json::to_value(symbol.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        text.push_str(&format!("{kind} {}", symbol.name));
        if let Some(container) = &symbol.container {
            text.push_str(&format!(" in {container}"));
        }
        text.push_str(&format!(
            " at {}:{}:{}\n",
            symbol.location.path, symbol.location.line, symbol.location.column
        ));
    }
    if symbols.is_empty() {
        text.push_str("no symbols found\n");
    }
    text.push_str(&format!("(source: {source})"));
    text
}

fn render_test_run(run: &runner::TestRun) -> String {
    let mut text = format!(
        "{}: {} passed, {} failed, {} skipped, {} errors",
        run.runner, run.passed, run.failed, run.skipped, run.errors
    );
    if run.not_run > 0 {
        text.push_str(&format!(", {} not run", run.not_run));
    }
    if run.did_not_compile > 0 {
        text.push_str(&format!(", {} did not compile", run.did_not_compile));
    }
    if run.timed_out {
        text.push_str(" (timed out)");
    }
    for test in &run.tests {
        let label = match test.status {
            runner::TestStatus::Failed => "FAILED",
            runner::TestStatus::Error => "ERROR",
            runner::TestStatus::NotRun => "NOT RUN",
            runner::TestStatus::DidNotCompile => "DID NOT COMPILE",
            runner::TestStatus::Passed | runner::TestStatus::Skipped => continue,
        };
        text.push_str(&format!("\n{label} {}", test.id));
        if let Some(message) = &test.message {
            text.push_str(&format!(": {message}"));
        }
    }
    if let Some(problem) = &run.problem {
        text.push_str(&format!("\n{problem}"));
    }
    text
}

/// A successful output: `text` and the result serialized as `structuredContent`.
fn output(text: String, result: &impl Serialize) -> ToolOutput {
    let structured = serde_json::to_value(result).unwrap_or_else(
        |error| json!({ "error": { "kind": "failed", "message": error.to_string() } }),
    );
    ToolOutput {
        text,
        structured,
        is_error: false,
    }
}

fn invalid(message: impl Into<String>) -> ToolError {
    ToolError::new(ToolErrorKind::InvalidArgument, message)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A call's arguments with typed, explained access.
struct Args<'a> {
    tool: &'a str,
    map: &'a Map<String, Value>,
}

impl Args<'_> {
    /// Refuses arguments the tool does not take (a misspelt name would otherwise be ignored).
    fn only(&self, known: &[&str]) -> Result<(), ToolError> {
        for key in self.map.keys() {
            if !known.contains(&key.as_str()) {
                let takes = if known.is_empty() {
                    "no arguments".to_owned()
                } else {
                    known.join(", ")
                };
                return Err(invalid(format!(
                    "{} has no argument `{key}`; it takes {takes}",
                    self.tool
                )));
            }
        }
        Ok(())
    }

    fn present(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|value| !value.is_null())
    }

    fn string(&self, name: &str) -> Result<Option<&String>, ToolError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(invalid(format!(
                "`{name}` is {}; pass a string",
                type_name(other)
            ))),
        }
    }

    fn required_string(&self, name: &str) -> Result<&String, ToolError> {
        self.string(name)?
            .ok_or_else(|| invalid(format!("{} needs `{name}`", self.tool)))
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, ToolError> {
        match self.present(name) {
            None => Ok(Vec::new()),
            Some(Value::String(text)) => Ok(vec![text.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text.clone()),
                    other => Err(invalid(format!(
                        "`{name}` holds {}; pass an array of strings",
                        type_name(other)
                    ))),
                })
                .collect(),
            Some(other) => Err(invalid(format!(
                "`{name}` is {}; pass an array of strings",
                type_name(other)
            ))),
        }
    }

    fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ToolError> {
        match self.present(name) {
            None => Ok(None),
            Some(value) => match value.as_u64().or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            }) {
                Some(number) if (min..=max).contains(&number) => Ok(Some(number)),
                _ => Err(invalid(format!(
                    "`{name}` must be an integer from {min} to {max}"
                ))),
            },
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, ToolError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(invalid(format!(
                "`{name}` is {}; pass true or false",
                type_name(other)
            ))),
        }
    }

    fn limit(&self) -> Result<usize, ToolError> {
        Ok(self
            .integer("max_results", 1, MAX_RESULTS as u64)?
            .map_or(DEFAULT_MAX_RESULTS, |n| n as usize))
    }
}

/// Every tool, in the order `tools/list` shows them.
pub fn specs() -> Vec<ToolSpec> {
    super::schemas::specs()
}
