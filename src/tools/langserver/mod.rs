//! Real language servers (pyright, typescript-language-server, gopls, rust-analyzer, or configured
//! ones) driven as an LSP client, for the navigation tools.
//!
//! A server starts lazily, on the first request for a file of its language, and is gated on
//! readiness: while it is still indexing, a request waits within its budget and then says the
//! server is not ready instead of answering `[]` (see `readiness.rs` for what each server sends
//! while it loads, and why its early answers cannot be trusted).
//!
//! It speaks LSP as raw JSON (`serde_json::Value`): `lsp` is the only module that knows
//! `lsp-types`, and the client needs only a handful of messages.
//!
//! # Servers and configuration
//!
//! | language | files | default command |
//! |---|---|---|
//! | `python` | `.py .pyi` | `pyright-langserver --stdio` |
//! | `typescript` | `.ts .tsx .mts .cts .js .jsx .mjs .cjs` | `typescript-language-server --stdio` |
//! | `go` | `.go` | `gopls` |
//! | `rust` | `.rs` | `rust-analyzer` |
//!
//! A default program is looked up in the workspace's `node_modules/.bin` (the node servers) and
//! on `PATH`, once, when it is first needed; rustup's `rust-analyzer` proxy without the component
//! counts as not installed. JavaScript files go to the `typescript` server;
//! `[tools.servers.javascript]` is read as `[tools.servers.typescript]` when the latter is absent.
//!
//! ```toml
//! [tools.servers.python]
//! command = ["basedpyright-langserver", "--stdio"]   # argv, no shell; relative paths are
//!                                                    # taken from the workspace root
//! initialization_options = { python = { pythonPath = ".venv/bin/python" } }
//!
//! [tools.servers.go]
//! enabled = false                                    # never start gopls here
//!
//! [tools.servers.ruby]                               # a language prodcode has no default for
//! command = ["solargraph", "stdio"]
//! extensions = ["rb"]
//! ```
//!
//! # Answers
//!
//! Positions are 1-based lines and columns in characters both ways; the conversion to and from
//! the server's UTF-16 (or UTF-8, UTF-32) code units uses the file's current text. Before every
//! request the file is opened (`didOpen`) or, when it changed on disk, sent again in full
//! (`didChange`), and so is every other document the server has open, so answers are never about
//! stale text. Result paths are workspace-relative; a result outside the workspace (typeshed
//! stubs, a library elsewhere) keeps its absolute path, and its columns are the server's code
//! units plus one (such files are never read). References include the declaration.
//!
//! # Failures
//!
//! A server that exits, refuses `initialize`, or answers nothing at all to two requests in a row
//! is marked `failed` (or `exited`, when it exited after working) with the tail of its stderr, and
//! [`LangServers::language_for`] says `None` so the tools fall back to the syntactic index. The
//! next request after [`RESTART_BACKOFF`] starts it again. A request that runs out of its budget
//! is cancelled (`$/cancelRequest`) and answered with [`ToolErrorKind::TimedOut`].
//! `workspace/symbol` asks only servers that are already running: starting one would cost more
//! than the syntactic index it is merged with.

mod convert;
mod framing;
mod readiness;
mod server;
mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use self::convert::Files;
use self::readiness::{Phase, Policy};
use self::server::{Gone, Launch, RequestError, Server};
use self::watch::Watch;
use super::exec::{self, CommandSpec};
use super::nav::{HoverInfo, Location, Position, Symbol};
use super::workspace::{ToolError, ToolErrorKind, Workspace};

/// The shortest time between two starts of one server.
pub const RESTART_BACKOFF: Duration = Duration::from_secs(30);
/// A request gets at least this long to be answered, even when waiting for readiness used up
/// the budget.
const MIN_REQUEST_TIME: Duration = Duration::from_secs(1);

/// `[tools.servers.<language>]` in `prodcode.toml`: the server for a language (`rust`, `python`,
/// `typescript`, `javascript`, `go`, or another one with `extensions`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct ServerConfig {
    /// The server's argv (no shell); replaces the default command.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// `false` turns the server off (the tools use the syntactic index instead).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Sent as `initializationOptions` in `initialize` (a TOML table becomes a JSON object).
    #[serde(default)]
    pub initialization_options: Option<Value>,
    /// File extensions (without the dot) the server reads; replaces the default ones.
    #[serde(default)]
    pub extensions: Vec<String>,
}

/// One navigation request, positions 1-based (characters).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NavRequest {
    Definition(Position),
    References(Position),
    Hover(Position),
    DocumentSymbols,
}

/// A server's answer.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NavAnswer {
    Locations(Vec<Location>),
    Symbols(Vec<Symbol>),
    Hover(Option<HoverInfo>),
}

/// A server's state, as `lsp_status` reports it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    pub language: String,
    pub command: Vec<String>,
    /// `not_installed`, `not_started`, `starting`, `indexing`, `ready`, `failed`, `exited`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A server prodcode knows without configuration.
struct Known {
    language: &'static str,
    extensions: &'static [&'static str],
    argv: &'static [&'static str],
    /// Also looked up in the workspace's `node_modules/.bin`.
    node: bool,
    install: &'static str,
}

const DEFAULTS: &[Known] = &[
    Known {
        language: "go",
        extensions: &["go"],
        argv: &["gopls"],
        node: false,
        install: "install it with `go install golang.org/x/tools/gopls@latest`",
    },
    Known {
        language: "python",
        extensions: &["py", "pyi"],
        argv: &["pyright-langserver", "--stdio"],
        node: true,
        install: "install it with `npm install -g pyright` or `pip install pyright`",
    },
    Known {
        language: "rust",
        extensions: &["rs"],
        argv: &["rust-analyzer"],
        node: false,
        install: "install it with `rustup component add rust-analyzer`",
    },
    Known {
        language: "typescript",
        extensions: &["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"],
        argv: &["typescript-language-server", "--stdio"],
        node: true,
        install: "install it with `npm install -g typescript typescript-language-server`",
    },
];

/// The language servers of one workspace.
pub struct LangServers {
    root: PathBuf,
    workspace: Option<Workspace>,
    entries: Vec<Entry>,
}

/// One language's server: how to start it and its current process.
struct Entry {
    language: String,
    extensions: Vec<String>,
    /// As configured or by default; the program is resolved by [`Entry::detect`].
    argv: Vec<String>,
    node: bool,
    enabled: bool,
    install: String,
    initialization_options: Option<Value>,
    detected: OnceLock<Result<Vec<String>, String>>,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    server: Option<Arc<Server>>,
    last_start: Option<Instant>,
    /// Why the last server is gone.
    gone: Option<Gone>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LangServers {
    pub fn new(root: &Path, config: &BTreeMap<String, ServerConfig>) -> LangServers {
        let mut entries = Vec::new();
        for default in DEFAULTS {
            let configured = config.get(default.language).or_else(|| {
                (default.language == "typescript")
                    .then(|| config.get("javascript"))
                    .flatten()
            });
            let argv = default.argv.iter().map(|arg| (*arg).to_owned()).collect();
            let extensions = default
                .extensions
                .iter()
                .map(|ext| (*ext).to_owned())
                .collect();
            entries.push(Entry::new(
                default.language,
                argv,
                extensions,
                default.node,
                default.install,
                configured,
            ));
        }
        for (language, configured) in config {
            if DEFAULTS.iter().any(|d| d.language == language) || language == "javascript" {
                continue;
            }
            let argv = configured.command.clone().unwrap_or_default();
            entries.push(Entry::new(
                language,
                argv,
                Vec::new(),
                false,
                "",
                Some(configured),
            ));
        }
        LangServers {
            root: root.to_owned(),
            workspace: Workspace::new(root).ok(),
            entries,
        }
    }

    fn entry_for(&self, path: &Path) -> Option<&Entry> {
        let extension = path.extension()?.to_str()?;
        self.entries
            .iter()
            .find(|entry| entry.extensions.iter().any(|ext| ext == extension))
    }

    /// The language of `path` when a server for it is installed or configured, enabled, and not
    /// failed (within [`RESTART_BACKOFF`] of its last start).
    pub fn language_for(&self, path: &Path) -> Option<String> {
        let entry = self.entry_for(path)?;
        if !entry.enabled || entry.detect(&self.root).is_err() {
            return None;
        }
        let mut slot = lock(&entry.slot);
        if slot.current().is_some() || slot.may_start(Instant::now()) {
            Some(entry.language.clone())
        } else {
            None
        }
    }

    /// Asks the server for `path`'s language (starting it when needed), waiting at most `budget`
    /// for it to be ready.
    pub fn request(
        &self,
        path: &Path,
        request: &NavRequest,
        budget: Duration,
    ) -> Result<NavAnswer, ToolError> {
        let deadline = Instant::now() + budget;
        let entry = self.entry_for(path).ok_or_else(|| {
            ToolError::new(
                ToolErrorKind::Unavailable,
                format!(
                    "no language server reads {}; add one as [tools.servers.<language>] in prodcode.toml, or use symbol-based lookup",
                    path.display()
                ),
            )
        })?;
        let server = self.ready_server(entry, Some(path), deadline)?;
        let language_id = language_id(&entry.language, path);
        let (method, position) = match request {
            NavRequest::Definition(at) => ("textDocument/definition", Some(*at)),
            NavRequest::References(at) => ("textDocument/references", Some(*at)),
            NavRequest::Hover(at) => ("textDocument/hover", Some(*at)),
            NavRequest::DocumentSymbols => ("textDocument/documentSymbol", None),
        };
        let uri = convert::path_to_uri(path);
        let shown = self.display(path);
        let params = |text: &str, encoding| {
            let mut params = json!({ "textDocument": { "uri": uri } });
            if let Some(at) = position {
                params["position"] = convert::to_lsp(text, at, encoding).ok_or_else(|| {
                    RequestError::Document(format!(
                        "line {} is past the end of {shown} ({} lines); pass a 1-based line inside the file",
                        at.line,
                        convert::lines(text).len()
                    ))
                })?;
            }
            if matches!(request, NavRequest::References(_)) {
                params["context"] = json!({ "includeDeclaration": true });
            }
            Ok(params)
        };
        let request_deadline = deadline.max(Instant::now() + MIN_REQUEST_TIME);
        let (text, value) = server
            .request_on(path, language_id, method, params, request_deadline)
            .map_err(|error| self.request_error(entry, &server, method, error))?;
        let files = WorkspaceFiles::new(self, path, text);
        let encoding = server.encoding();
        Ok(match request {
            NavRequest::Definition(_) | NavRequest::References(_) => {
                NavAnswer::Locations(convert::locations(&value, &files, encoding))
            }
            NavRequest::Hover(_) => {
                NavAnswer::Hover(convert::hover(&value, path, &files, encoding))
            }
            NavRequest::DocumentSymbols => {
                NavAnswer::Symbols(convert::document_symbols(&value, path, &files, encoding))
            }
        })
    }

    /// `workspace/symbol` on every running server, each waited for until it is ready within
    /// `budget`; a server that is not ready in time, or fails, adds nothing.
    pub fn workspace_symbols(
        &self,
        query: &str,
        budget: Duration,
    ) -> Result<Vec<Symbol>, ToolError> {
        let deadline = Instant::now() + budget;
        let running: Vec<(&Entry, Arc<Server>)> = self
            .entries
            .iter()
            .filter_map(|entry| lock(&entry.slot).current().map(|server| (entry, server)))
            .collect();
        let answers: Vec<Vec<Symbol>> = std::thread::scope(|scope| {
            let handles: Vec<_> = running
                .iter()
                .map(|(entry, server)| {
                    scope.spawn(move || self.server_symbols(entry, server, query, deadline))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or_default())
                .collect()
        });
        Ok(answers.into_iter().flatten().collect())
    }

    fn server_symbols(
        &self,
        entry: &Entry,
        server: &Arc<Server>,
        query: &str,
        deadline: Instant,
    ) -> Vec<Symbol> {
        // typescript-language-server knows a project only once one of its files is open.
        if !server.has_documents()
            && let Some(file) = self.project_file(entry)
        {
            let _ = server.sync(&file, language_id(&entry.language, &file));
        }
        match server.wait(deadline, |phase| *phase == Phase::Ready) {
            Ok(Phase::Ready) => {}
            other => {
                tracing::debug!(language = %entry.language, "workspace/symbol skipped: {other:?}");
                return Vec::new();
            }
        }
        let request_deadline = deadline.max(Instant::now() + MIN_REQUEST_TIME);
        match server.request(
            "workspace/symbol",
            json!({ "query": query }),
            request_deadline,
        ) {
            Ok(value) => {
                let files = WorkspaceFiles::new(self, Path::new(""), Arc::from(""));
                convert::workspace_symbols(&value, &files, server.encoding())
            }
            Err(error) => {
                let error = self.request_error(entry, server, "workspace/symbol", error);
                tracing::debug!(language = %entry.language, "workspace/symbol failed: {error}");
                Vec::new()
            }
        }
    }

    /// A file of `entry`'s language in the workspace (outside `node_modules` and ignored files).
    fn project_file(&self, entry: &Entry) -> Option<PathBuf> {
        let walk = ignore::WalkBuilder::new(&self.root)
            .max_depth(Some(8))
            .filter_entry(|dir| dir.file_name() != "node_modules")
            .build();
        walk.take(5000)
            .flatten()
            .map(|found| found.into_path())
            .find(|path| {
                path.is_file()
                    && path
                        .extension()
                        .and_then(|ext| ext.to_str())
                        .is_some_and(|ext| entry.extensions.iter().any(|known| known == ext))
            })
    }

    /// The running server of `entry` (started when needed) once it is ready, with `path` opened
    /// first (so that a server that loads its project on `didOpen` starts loading it).
    fn ready_server(
        &self,
        entry: &Entry,
        path: Option<&Path>,
        deadline: Instant,
    ) -> Result<Arc<Server>, ToolError> {
        let server = self.running(entry)?;
        let program = server.program().to_owned();
        let gone = |gone: Gone| {
            ToolError::new(
                ToolErrorKind::Failed,
                format!(
                    "the {} language server stopped: {}; prodcode starts it again on a later call (at most every {} s); meanwhile use symbol-based lookup",
                    entry.language,
                    gone.message,
                    RESTART_BACKOFF.as_secs()
                ),
            )
        };
        let seconds = || server.started.elapsed().as_secs();
        match server
            .wait(deadline, |phase| *phase != Phase::Starting)
            .map_err(gone)?
        {
            Phase::Starting => {
                return Err(ToolError::new(
                    ToolErrorKind::TimedOut,
                    format!(
                        "{program} is still starting ({} s so far); call again shortly or use symbol-based lookup",
                        seconds()
                    ),
                ));
            }
            Phase::Indexing(_) | Phase::Ready => {}
        }
        if let Some(path) = path {
            server
                .sync(path, language_id(&entry.language, path))
                .map_err(|error| {
                    self.request_error(entry, &server, "textDocument/didOpen", error)
                })?;
        }
        match server
            .wait(deadline, |phase| *phase == Phase::Ready)
            .map_err(gone)?
        {
            Phase::Ready => Ok(server),
            Phase::Indexing(doing) => Err(ToolError::new(
                ToolErrorKind::TimedOut,
                format!(
                    "{program} is still indexing the workspace ({} s so far: {doing}); call again shortly or use symbol-based lookup",
                    seconds()
                ),
            )),
            Phase::Starting => Err(ToolError::new(
                ToolErrorKind::TimedOut,
                format!(
                    "{program} is still starting ({} s so far); call again shortly or use symbol-based lookup",
                    seconds()
                ),
            )),
        }
    }

    /// The running server of `entry`, started when there is none and a start is allowed.
    fn running(&self, entry: &Entry) -> Result<Arc<Server>, ToolError> {
        if !entry.enabled {
            return Err(ToolError::new(
                ToolErrorKind::Unavailable,
                format!(
                    "the {} server is disabled (`enabled = false` in [tools.servers.{}] of prodcode.toml); use symbol-based lookup",
                    entry.language, entry.language
                ),
            ));
        }
        let argv = entry
            .detect(&self.root)
            .clone()
            .map_err(|message| ToolError::new(ToolErrorKind::Unavailable, message))?;
        let mut slot = lock(&entry.slot);
        if let Some(server) = slot.current() {
            return Ok(server);
        }
        let now = Instant::now();
        if !slot.may_start(now) {
            let wait = slot.last_start.map_or(Duration::ZERO, |at| {
                (at + RESTART_BACKOFF).saturating_duration_since(now)
            });
            let why = slot
                .gone
                .as_ref()
                .map_or_else(String::new, |gone| format!(": {}", gone.message));
            return Err(ToolError::new(
                ToolErrorKind::Unavailable,
                format!(
                    "the {} server is not running{why}; prodcode starts it again in {} s; meanwhile use symbol-based lookup",
                    entry.language,
                    wait.as_secs().max(1)
                ),
            ));
        }
        slot.last_start = Some(now);
        let launch = Launch {
            language: entry.language.clone(),
            policy: policy_for(&argv),
            watch: watch_for(&argv, &entry.extensions),
            argv,
            root: self.root.clone(),
            initialization_options: entry.initialization_options.clone(),
        };
        match Server::start(&launch) {
            Ok(server) => {
                tracing::info!(language = %entry.language, pid = server.pid(), "started {}", launch.argv.join(" "));
                let server = Arc::new(server);
                slot.server = Some(Arc::clone(&server));
                slot.gone = None;
                Ok(server)
            }
            Err(message) => {
                slot.gone = Some(Gone {
                    message: message.clone(),
                    failed: true,
                });
                Err(ToolError::new(
                    ToolErrorKind::Failed,
                    format!(
                        "{message}; fix [tools.servers.{}] in prodcode.toml or use symbol-based lookup",
                        entry.language
                    ),
                ))
            }
        }
    }

    /// A failed request as a tool error that says what to do.
    fn request_error(
        &self,
        entry: &Entry,
        server: &Server,
        method: &str,
        error: RequestError,
    ) -> ToolError {
        let program = server.program();
        match error {
            RequestError::Response(message) => ToolError::new(
                ToolErrorKind::Failed,
                format!("{program} answered {method} with an error: {message}"),
            ),
            RequestError::TimedOut => {
                let state = match server.phase() {
                    Err(_) => " and was stopped: it had stopped talking",
                    Ok(_) => " (the request was cancelled)",
                };
                ToolError::new(
                    ToolErrorKind::TimedOut,
                    format!(
                        "{program} did not answer {method} in time{state}; call again shortly or use symbol-based lookup"
                    ),
                )
            }
            RequestError::Gone(gone) => ToolError::new(
                ToolErrorKind::Failed,
                format!(
                    "the {} language server stopped: {}; prodcode starts it again on a later call (at most every {} s); meanwhile use symbol-based lookup",
                    entry.language,
                    gone.message,
                    RESTART_BACKOFF.as_secs()
                ),
            ),
            RequestError::Document(message) => {
                ToolError::new(ToolErrorKind::InvalidArgument, message)
            }
        }
    }

    /// Every known server, started or not.
    pub fn status(&self) -> Vec<ServerStatus> {
        self.entries
            .iter()
            .map(|entry| self.entry_status(entry))
            .collect()
    }

    fn entry_status(&self, entry: &Entry) -> ServerStatus {
        let status = |command: Vec<String>, state: &str, message: Option<String>| ServerStatus {
            language: entry.language.clone(),
            command,
            state: state.to_owned(),
            message,
        };
        if !entry.enabled {
            return status(
                entry.argv.clone(),
                "not_installed",
                Some(format!(
                    "disabled by `enabled = false` in [tools.servers.{}]",
                    entry.language
                )),
            );
        }
        let argv = match entry.detect(&self.root) {
            Ok(argv) => argv.clone(),
            Err(message) => {
                return status(entry.argv.clone(), "not_installed", Some(message.clone()));
            }
        };
        let mut slot = lock(&entry.slot);
        if let Some(server) = slot.current() {
            let seconds = server.started.elapsed().as_secs_f64();
            return match server.phase() {
                Ok(Phase::Starting) => status(
                    argv,
                    "starting",
                    Some(format!("pid {}, {seconds:.1} s so far", server.pid())),
                ),
                Ok(Phase::Indexing(doing)) => status(argv, "indexing", Some(doing)),
                Ok(Phase::Ready) => status(argv, "ready", Some(format!("pid {}", server.pid()))),
                Err(gone) => status(
                    argv,
                    if gone.failed { "failed" } else { "exited" },
                    Some(gone.message),
                ),
            };
        }
        match &slot.gone {
            Some(gone) => {
                let mut message = gone.message.clone();
                if slot.may_start(Instant::now()) {
                    message.push_str("; the next request starts it again");
                }
                status(
                    argv,
                    if gone.failed { "failed" } else { "exited" },
                    Some(message),
                )
            }
            None => status(argv, "not_started", None),
        }
    }

    /// Stops every running server (`shutdown`, `exit`, then kill).
    pub fn shutdown(&self) {
        let servers: Vec<Arc<Server>> = self
            .entries
            .iter()
            .filter_map(|entry| {
                let mut slot = lock(&entry.slot);
                slot.last_start = None;
                slot.gone = None;
                slot.server.take()
            })
            .collect();
        std::thread::scope(|scope| {
            for server in &servers {
                scope.spawn(move || server.shutdown());
            }
        });
    }

    /// How a result names `path`.
    fn display(&self, path: &Path) -> String {
        self.workspace
            .as_ref()
            .and_then(|ws| ws.relative(path))
            .unwrap_or_else(|| path.to_string_lossy().into_owned())
    }
}

impl Drop for LangServers {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Entry {
    fn new(
        language: &str,
        argv: Vec<String>,
        extensions: Vec<String>,
        node: bool,
        install: &str,
        configured: Option<&ServerConfig>,
    ) -> Entry {
        let mut entry = Entry {
            language: language.to_owned(),
            extensions,
            argv,
            node,
            enabled: true,
            install: install.to_owned(),
            initialization_options: None,
            detected: OnceLock::new(),
            slot: Mutex::new(Slot::default()),
        };
        if let Some(config) = configured {
            if let Some(command) = &config.command {
                entry.argv = command.clone();
                entry.node = false;
                entry.install = String::new();
            }
            if !config.extensions.is_empty() {
                entry.extensions = config
                    .extensions
                    .iter()
                    .map(|ext| ext.trim_start_matches('.').to_owned())
                    .collect();
            }
            entry.enabled = config.enabled != Some(false);
            entry.initialization_options = config.initialization_options.clone();
        }
        entry
    }

    /// The argv with its program resolved, or why it cannot run; looked up once.
    fn detect(&self, root: &Path) -> &Result<Vec<String>, String> {
        self.detected.get_or_init(|| {
            let program = self.argv.first().map(String::as_str).unwrap_or_default();
            if program.trim().is_empty() {
                return Err(format!(
                    "no command is configured: set `command = [\"program\", \"arg\"]` in [tools.servers.{}] of prodcode.toml",
                    self.language
                ));
            }
            let found = find_program(program, root, self.node).ok_or_else(|| {
                let hint = if self.install.is_empty() {
                    format!("check `command` in [tools.servers.{}] of prodcode.toml", self.language)
                } else {
                    format!(
                        "{}, or set `command` in [tools.servers.{}] of prodcode.toml",
                        self.install, self.language
                    )
                };
                format!("`{program}` is not installed (not found on PATH): {hint}")
            })?;
            let found = unwrap_rustup_proxy(&found, program, root)?;
            let mut argv = self.argv.clone();
            argv[0] = found.to_string_lossy().into_owned();
            Ok(argv)
        })
    }
}

impl Slot {
    /// The server, if it is still running; a gone one is dropped and remembered.
    fn current(&mut self) -> Option<Arc<Server>> {
        let server = self.server.as_ref()?;
        match server.phase() {
            Ok(_) => Some(Arc::clone(server)),
            Err(gone) => {
                self.gone = Some(gone);
                self.server = None;
                None
            }
        }
    }

    /// Whether a (re)start is allowed now: never started, or the last start is
    /// [`RESTART_BACKOFF`] ago.
    fn may_start(&self, now: Instant) -> bool {
        self.last_start
            .is_none_or(|at| now.saturating_duration_since(at) >= RESTART_BACKOFF)
    }
}

/// Which readiness signal the program gives, by its name.
fn policy_for(argv: &[String]) -> Policy {
    let name = argv
        .first()
        .map(|program| server::program_name(program))
        .unwrap_or_default();
    if name.contains("pyright") {
        Policy::Pyright
    } else if name.contains("typescript-language-server") {
        Policy::TypeScript
    } else {
        Policy::Generic
    }
}

/// Which file changes the program must be told about: none for servers that watch the disk
/// themselves (typescript-language-server's tsserver, rust-analyzer).
fn watch_for(argv: &[String], extensions: &[String]) -> Option<Watch> {
    let name = argv
        .first()
        .map(|program| server::program_name(program))
        .unwrap_or_default();
    if name.contains("typescript-language-server") || name.contains("rust-analyzer") {
        return None;
    }
    let names: &[&str] = if name.contains("pyright") {
        &["pyproject.toml", "pyrightconfig.json"]
    } else if name == "gopls" {
        &["go.mod", "go.sum", "go.work"]
    } else {
        &[]
    };
    Some(Watch {
        extensions: extensions.to_vec(),
        names: names.iter().map(|name| (*name).to_owned()).collect(),
    })
}

/// The LSP `languageId` of a file.
fn language_id<'a>(language: &'a str, path: &Path) -> &'a str {
    match path
        .extension()
        .and_then(|ext| ext.to_str())
        .unwrap_or_default()
    {
        "py" | "pyi" => "python",
        "ts" | "mts" | "cts" => "typescript",
        "tsx" => "typescriptreact",
        "js" | "mjs" | "cjs" => "javascript",
        "jsx" => "javascriptreact",
        "go" => "go",
        "rs" => "rust",
        _ => language,
    }
}

/// `program` as an executable path: as given when it has a `/` (relative to the workspace root),
/// else from the workspace's `node_modules/.bin` (when `node`) or `PATH`.
fn find_program(program: &str, root: &Path, node: bool) -> Option<PathBuf> {
    if program.contains('/') {
        let path = root.join(program);
        return is_executable(&path).then_some(path);
    }
    let local = node.then(|| root.join("node_modules/.bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    local
        .into_iter()
        .chain(std::env::split_paths(&path))
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

use super::exec::is_executable;

/// rustup installs a `rust-analyzer` proxy that fails unless the component is installed: ask
/// rustup where the real one is.
fn unwrap_rustup_proxy(found: &Path, program: &str, root: &Path) -> Result<PathBuf, String> {
    let target = std::fs::canonicalize(found).unwrap_or_else(|_| found.to_owned());
    if target.file_name().and_then(|name| name.to_str()) != Some("rustup") || program == "rustup" {
        return Ok(found.to_owned());
    }
    let spec = CommandSpec {
        // A toolchain file naming a toolchain that is not installed must not start a download.
        env: vec![("RUSTUP_AUTO_INSTALL".to_owned(), "0".to_owned())],
        ..CommandSpec::new(target.to_string_lossy(), &["which", program], root)
    };
    match exec::run(&spec, Duration::from_secs(10), 64 << 10) {
        Ok(run) if run.success() => {
            let path = String::from_utf8_lossy(&run.stdout).trim().to_owned();
            if is_executable(Path::new(&path)) {
                Ok(PathBuf::from(path))
            } else {
                Err(format!(
                    "rustup names `{path}` for `{program}`, which is not executable"
                ))
            }
        }
        _ => Err(format!(
            "`{program}` is only rustup's proxy, without the component: run `rustup component add {program}`, or set `command` in prodcode.toml"
        )),
    }
}

/// The files results point into: workspace-relative names, texts read (once) for files inside
/// the workspace only.
struct WorkspaceFiles<'a> {
    servers: &'a LangServers,
    texts: Mutex<HashMap<PathBuf, Option<Arc<str>>>>,
}

impl<'a> WorkspaceFiles<'a> {
    /// `known` is the text the server was just given for `path`.
    fn new(servers: &'a LangServers, path: &Path, known: Arc<str>) -> WorkspaceFiles<'a> {
        let mut texts = HashMap::new();
        texts.insert(path.to_owned(), Some(known));
        WorkspaceFiles {
            servers,
            texts: Mutex::new(texts),
        }
    }

    fn inside(&self, path: &Path) -> Option<PathBuf> {
        let ws = self.servers.workspace.as_ref()?;
        if ws.relative(path).is_some() {
            return Some(path.to_owned());
        }
        let canonical = std::fs::canonicalize(path).ok()?;
        ws.relative(&canonical).map(|_| canonical)
    }
}

impl Files for WorkspaceFiles<'_> {
    fn display(&self, path: &Path) -> Option<String> {
        Some(match self.inside(path) {
            Some(inside) => self.servers.display(&inside),
            None => path.to_string_lossy().into_owned(),
        })
    }

    fn text(&self, path: &Path) -> Option<Arc<str>> {
        let mut texts = lock(&self.texts);
        if let Some(text) = texts.get(path) {
            return text.clone();
        }
        let text = self.inside(path).and_then(|inside| {
            let ws = self.servers.workspace.as_ref()?;
            let bytes = ws.read(&inside, server::MAX_DOCUMENT_BYTES + 1).ok()?;
            (bytes.len() as u64 <= server::MAX_DOCUMENT_BYTES)
                .then(|| Arc::from(String::from_utf8_lossy(&bytes).into_owned()))
        });
        texts.insert(path.to_owned(), text.clone());
        text
    }
}

#[cfg(test)]
mod tests;
