//! One running language server: the child process, its threads, the requests in flight and the
//! documents it has open.
//!
//! Four threads serve a server, none of them ever blocked by a tool call:
//! - the *reader* parses stdout, hands responses to the waiting request (id → channel), answers
//!   the server's own requests and feeds notifications to [`Readiness`];
//! - the *writer* owns stdin and writes frames in the order they were queued, so a `didChange`
//!   queued before a request reaches the server before it, and the reader never blocks on a full
//!   pipe;
//! - the *waiter* owns the [`Child`], reaps it when it exits, kills what is left of its process
//!   group and records how it ended;
//! - the *stderr* reader keeps the last [`STDERR_BYTES`] for messages.
//!
//! Invariants: the process leads its own process group, and the group is killed when the server
//! exits, is shut down or is dropped, so nothing it started outlives it; every request has a
//! deadline and a timed-out one is cancelled with `$/cancelRequest`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use serde_json::{Value, json};

use super::convert::{self, Encoding};
use super::framing::{self, Frame};
use super::readiness::{Phase, Policy, Readiness};
use super::watch::{self, Snapshot, Watch};

/// The stderr bytes kept for messages.
pub const STDERR_BYTES: usize = 8 << 10;
/// How long `shutdown` waits for the `shutdown` answer, then for the process to exit after `exit`.
const SHUTDOWN_ANSWER: Duration = Duration::from_secs(1);
const EXIT_GRACE: Duration = Duration::from_millis(500);
/// The largest file sent to a server.
pub const MAX_DOCUMENT_BYTES: u64 = 16 << 20;

/// What to start.
#[derive(Clone, Debug)]
pub struct Launch {
    pub language: String,
    /// The program (resolved) and its arguments.
    pub argv: Vec<String>,
    pub root: PathBuf,
    pub initialization_options: Option<Value>,
    pub policy: Policy,
    /// Report changes to files the server has not open (see [`watch`]).
    pub watch: Option<Watch>,
}

/// Why a server is no longer running.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Gone {
    pub message: String,
    /// It never became usable (could not start, died while starting, hung); otherwise it exited
    /// after working, or was shut down.
    pub failed: bool,
}

/// How a request failed.
#[derive(Debug)]
pub enum RequestError {
    /// The server answered with an error.
    Response(String),
    /// No answer before the deadline; the request was cancelled.
    TimedOut,
    /// The server is gone.
    Gone(Gone),
    /// The document could not be read.
    Document(String),
}

/// The state the reader, the waiter and the callers share.
struct State {
    readiness: Readiness,
    encoding: Encoding,
    gone: Option<Gone>,
    /// The process has exited (the waiter reaped it).
    exited: bool,
    last_heard: Instant,
    /// Requests in a row that timed out while the server said nothing at all.
    silent_timeouts: u32,
    /// The stderr reader reached the end.
    stderr_closed: bool,
    shutting_down: bool,
}

struct Shared {
    language: String,
    program: String,
    state: Mutex<State>,
    changed: Condvar,
    pending: Mutex<HashMap<i64, Pending>>,
    stderr: Mutex<VecDeque<u8>>,
}

enum Pending {
    /// The `initialize` request: its answer sends `initialized`.
    Initialize,
    Waiter(Sender<Result<Value, String>>),
}

/// What the server knows of the files: the open documents, and the snapshot of the watched
/// files it was last told about.
#[derive(Default)]
struct Documents {
    open: BTreeMap<PathBuf, Document>,
    watched: Option<(Watch, Snapshot)>,
}

/// An open document: what the server was last told.
struct Document {
    version: i64,
    text: Arc<str>,
}

pub struct Server {
    shared: Arc<Shared>,
    outgoing: Sender<Vec<u8>>,
    next_id: AtomicI64,
    documents: Mutex<Documents>,
    pid: u32,
    pub started: Instant,
    root: PathBuf,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Server {
    /// Starts the server and sends `initialize`; the answer is awaited by [`Server::wait`].
    pub fn start(launch: &Launch) -> Result<Server, String> {
        let program = launch
            .argv
            .first()
            .ok_or_else(|| "the command is empty".to_owned())?;
        // Before the start: whatever changes from here on is reported.
        let watched = launch.watch.clone().map(|watch| {
            let snapshot = watch.snapshot(&launch.root);
            (watch, snapshot)
        });
        let mut command = Command::new(program);
        command
            .args(&launch.argv[1..])
            .current_dir(&launch.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start `{program}`: {error}"))?;
        let pid = child.id();
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            kill_group(pid);
            let _ = child.wait();
            return Err(format!("`{program}` started without pipes"));
        };
        let now = Instant::now();
        let shared = Arc::new(Shared {
            language: launch.language.clone(),
            program: program_name(program),
            state: Mutex::new(State {
                readiness: Readiness::new(launch.policy),
                encoding: Encoding::Utf16,
                gone: None,
                exited: false,
                last_heard: now,
                silent_timeouts: 0,
                stderr_closed: false,
                shutting_down: false,
            }),
            changed: Condvar::new(),
            pending: Mutex::new(HashMap::new()),
            stderr: Mutex::new(VecDeque::new()),
        });
        let (outgoing, queue) = crossbeam_channel::unbounded::<Vec<u8>>();
        let spawned = spawn_threads(&shared, child, stdin, stdout, stderr, queue, &outgoing);
        if let Err(error) = spawned {
            kill_group(pid);
            return Err(format!("cannot start the threads for `{program}`: {error}"));
        }
        let server = Server {
            shared,
            outgoing,
            next_id: AtomicI64::new(1),
            documents: Mutex::new(Documents {
                open: BTreeMap::new(),
                watched,
            }),
            pid,
            started: now,
            root: launch.root.clone(),
        };
        lock(&server.shared.pending).insert(0, Pending::Initialize);
        server.send(&json!({
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": initialize_params(
                &launch.root,
                launch.initialization_options.as_ref(),
                launch.watch.is_some(),
            ),
        }));
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The program's file name (`pyright-langserver`), for messages.
    pub fn program(&self) -> &str {
        &self.shared.program
    }

    pub fn encoding(&self) -> Encoding {
        lock(&self.shared.state).encoding
    }

    /// The phase now, or why the server is gone.
    pub fn phase(&self) -> Result<Phase, Gone> {
        let state = lock(&self.shared.state);
        match &state.gone {
            Some(gone) => Err(self.with_stderr(gone)),
            None => Ok(state.readiness.phase(Instant::now())),
        }
    }

    /// Waits until `until` holds for the phase, the server is gone, or `deadline` passes; returns
    /// the last phase seen.
    pub fn wait(&self, deadline: Instant, until: impl Fn(&Phase) -> bool) -> Result<Phase, Gone> {
        let mut state = lock(&self.shared.state);
        loop {
            if let Some(gone) = &state.gone {
                return Err(self.with_stderr(gone));
            }
            let now = Instant::now();
            let phase = state.readiness.phase(now);
            if until(&phase) || now >= deadline {
                return Ok(phase);
            }
            // Time alone can change the phase (the fallbacks), so wake up now and then.
            let wait = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(100));
            state = self
                .shared
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// A gone server's message with the tail of its stderr.
    fn with_stderr(&self, gone: &Gone) -> Gone {
        let tail = self.stderr_tail(1500);
        let mut message = gone.message.clone();
        if !tail.is_empty() {
            message.push_str(&format!("; its stderr ends with: {tail}"));
        }
        Gone {
            message,
            failed: gone.failed,
        }
    }

    /// The last `max_chars` characters of stderr, on one line.
    pub fn stderr_tail(&self, max_chars: usize) -> String {
        let bytes: Vec<u8> = lock(&self.shared.stderr).iter().copied().collect();
        let text = String::from_utf8_lossy(&bytes);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let count = text.chars().count();
        text.chars().skip(count.saturating_sub(max_chars)).collect()
    }

    /// Opens `path` (or tells the server its new text); every other open document that changed
    /// on disk is updated too, and one that was deleted is closed. Returns the text the server
    /// now has for `path`.
    pub fn sync(&self, path: &Path, language_id: &str) -> Result<Arc<str>, RequestError> {
        let mut documents = lock(&self.documents);
        self.sync_locked(&mut documents, path, language_id)
    }

    fn sync_locked(
        &self,
        documents: &mut Documents,
        path: &Path,
        language_id: &str,
    ) -> Result<Arc<str>, RequestError> {
        if let Some((watch, before)) = &mut documents.watched {
            let after = watch.snapshot(&self.root);
            let open = &documents.open;
            let changes = watch::changes(before, &after, |changed| {
                open.contains_key(changed) || changed == path
            });
            *before = after;
            if !changes.is_empty() {
                self.notify(
                    "workspace/didChangeWatchedFiles",
                    json!({ "changes": changes }),
                );
            }
        }
        let documents = &mut documents.open;
        let others: Vec<PathBuf> = documents
            .keys()
            .filter(|other| other.as_path() != path)
            .cloned()
            .collect();
        for other in others {
            match read_document(&self.root, &other) {
                Ok(text) => self.update(documents, &other, text),
                Err(_) => {
                    documents.remove(&other);
                    self.notify(
                        "textDocument/didClose",
                        json!({ "textDocument": { "uri": convert::path_to_uri(&other) } }),
                    );
                }
            }
        }
        let text = read_document(&self.root, path).map_err(RequestError::Document)?;
        if documents.contains_key(path) {
            self.update(documents, path, text.clone());
        } else {
            self.notify(
                "textDocument/didOpen",
                json!({ "textDocument": {
                    "uri": convert::path_to_uri(path),
                    "languageId": language_id,
                    "version": 1,
                    "text": &*text,
                } }),
            );
            documents.insert(
                path.to_owned(),
                Document {
                    version: 1,
                    text: text.clone(),
                },
            );
            lock(&self.shared.state).readiness.opened(Instant::now());
        }
        Ok(text)
    }

    /// Sends the whole new text of an open document when it changed.
    fn update(&self, documents: &mut BTreeMap<PathBuf, Document>, path: &Path, text: Arc<str>) {
        let Some(document) = documents.get_mut(path) else {
            return;
        };
        if document.text == text {
            return;
        }
        document.version += 1;
        document.text = text;
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": convert::path_to_uri(path), "version": document.version },
                "contentChanges": [{ "text": &*document.text }],
            }),
        );
    }

    /// Whether any document is open.
    pub fn has_documents(&self) -> bool {
        !lock(&self.documents).open.is_empty()
    }

    /// Syncs `path` and sends `method` with the params `params` builds from the synced text, in
    /// one step (no other sync can come between), then waits for the answer until `deadline`.
    /// Returns the text the answer is about and the answer.
    pub fn request_on(
        &self,
        path: &Path,
        language_id: &str,
        method: &str,
        params: impl FnOnce(&str, Encoding) -> Result<Value, RequestError>,
        deadline: Instant,
    ) -> Result<(Arc<str>, Value), RequestError> {
        let (text, id, answer) = {
            let mut documents = lock(&self.documents);
            let text = self.sync_locked(&mut documents, path, language_id)?;
            let params = params(&text, self.encoding())?;
            let (id, answer) = self.send_request(method, params);
            (text, id, answer)
        };
        let value = self.await_answer(id, &answer, deadline)?;
        Ok((text, value))
    }

    /// Sends `method` and waits for the answer until `deadline`.
    pub fn request(
        &self,
        method: &str,
        params: Value,
        deadline: Instant,
    ) -> Result<Value, RequestError> {
        let (id, answer) = self.send_request(method, params);
        self.await_answer(id, &answer, deadline)
    }

    fn send_request(&self, method: &str, params: Value) -> (i64, Receiver<Result<Value, String>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = crossbeam_channel::bounded(1);
        lock(&self.shared.pending).insert(id, Pending::Waiter(sender));
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        (id, receiver)
    }

    fn await_answer(
        &self,
        id: i64,
        answer: &Receiver<Result<Value, String>>,
        deadline: Instant,
    ) -> Result<Value, RequestError> {
        let sent = Instant::now();
        loop {
            // Slices, so a request sent just as the server died does not wait for its deadline.
            let slice = deadline.min(Instant::now() + Duration::from_millis(200));
            match answer.recv_deadline(slice) {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(message)) => return Err(RequestError::Response(message)),
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Err(gone) = self.phase() {
                        lock(&self.shared.pending).remove(&id);
                        return Err(RequestError::Gone(gone));
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    lock(&self.shared.pending).remove(&id);
                    self.notify("$/cancelRequest", json!({ "id": id }));
                    self.count_silence(sent);
                    return Err(RequestError::TimedOut);
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(RequestError::Gone(self.phase().err().unwrap_or_else(
                        || Gone {
                            message: "the connection closed".to_owned(),
                            failed: true,
                        },
                    )));
                }
            }
        }
    }

    /// After a timed-out request: a server that said nothing at all since `sent`, for the second
    /// request in a row, is hung and is stopped. One silent timeout is not enough: pyright
    /// computes references in a big workspace without a word for longer than a budget, and
    /// killing it would throw its index away.
    fn count_silence(&self, sent: Instant) {
        let hung = {
            let mut state = lock(&self.shared.state);
            if state.last_heard < sent {
                state.silent_timeouts += 1;
            }
            state.silent_timeouts >= 2
        };
        if hung {
            self.fail(format!(
                "`{}` answered nothing to two requests in a row, so it was stopped",
                self.shared.program
            ));
        }
    }

    /// Marks the server failed and kills it.
    pub fn fail(&self, message: String) {
        {
            let mut state = lock(&self.shared.state);
            if state.gone.is_none() {
                state.gone = Some(Gone {
                    message,
                    failed: true,
                });
            }
        }
        self.shared.changed.notify_all();
        kill_group(self.pid);
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn send(&self, message: &Value) {
        // A closed queue means the server is gone; the waiting side notices that.
        let _ = self.outgoing.send(framing::frame(message));
    }

    /// `shutdown` (answered within a second), `exit`, a short grace, then `SIGKILL` to the group;
    /// returns once the process has been reaped (or after a few seconds, if it cannot be).
    pub fn shutdown(&self) {
        {
            let mut state = lock(&self.shared.state);
            if state.exited {
                return;
            }
            state.shutting_down = true;
        }
        let _ = self.request("shutdown", Value::Null, Instant::now() + SHUTDOWN_ANSWER);
        self.notify("exit", Value::Null);
        if !self.wait_exited(Instant::now() + EXIT_GRACE) {
            kill_group(self.pid);
            self.wait_exited(Instant::now() + Duration::from_secs(3));
        }
    }

    fn wait_exited(&self, deadline: Instant) -> bool {
        let mut state = lock(&self.shared.state);
        while !state.exited {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }

    /// Whether the process has exited and been reaped.
    pub fn exited(&self) -> bool {
        lock(&self.shared.state).exited
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.exited() {
            kill_group(self.pid);
        }
    }
}

/// The file name of a program path.
pub fn program_name(program: &str) -> String {
    Path::new(program).file_name().map_or_else(
        || program.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// A file's text as a server gets it: invalid UTF-8 replaced, at most [`MAX_DOCUMENT_BYTES`].
/// Opened without following symbolic links under `root`, so a file swapped for a link pointing
/// out is never sent to a server.
fn read_document(root: &Path, path: &Path) -> Result<Arc<str>, String> {
    let file = crate::tools::workspace::open_beneath(root, path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "{} is larger than {} MB; language servers are not asked about files that big",
            path.display(),
            MAX_DOCUMENT_BYTES >> 20
        ));
    }
    Ok(Arc::from(String::from_utf8_lossy(&bytes).into_owned()))
}

fn initialize_params(
    root: &Path,
    initialization_options: Option<&Value>,
    watch_files: bool,
) -> Value {
    let uri = convert::path_to_uri(root);
    let name = root.file_name().map_or_else(
        || "workspace".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let mut params = json!({
        "processId": std::process::id(),
        "clientInfo": { "name": "prodcode", "version": env!("CARGO_PKG_VERSION") },
        "rootUri": uri,
        "rootPath": root.to_string_lossy(),
        "workspaceFolders": [{ "uri": uri, "name": name }],
        "capabilities": {
            "general": { "positionEncodings": ["utf-16"] },
            "window": { "workDoneProgress": true },
            "workspace": {
                "configuration": true,
                "symbol": { "dynamicRegistration": false },
            },
            "textDocument": {
                "synchronization": { "dynamicRegistration": false, "didSave": false },
                "hover": { "contentFormat": ["markdown", "plaintext"] },
                "definition": { "linkSupport": true },
                "references": {},
                "documentSymbol": { "hierarchicalDocumentSymbolSupport": true },
            },
            // rust-analyzer: `experimental/serverStatus` says when it is quiescent.
            "experimental": { "serverStatusNotification": true },
        },
    });
    if watch_files {
        params["capabilities"]["workspace"]["didChangeWatchedFiles"] =
            json!({ "dynamicRegistration": true });
    }
    if let Some(options) = initialization_options {
        params["initializationOptions"] = options.clone();
    }
    params
}

fn spawn_threads(
    shared: &Arc<Shared>,
    child: Child,
    stdin: std::process::ChildStdin,
    stdout: std::process::ChildStdout,
    stderr: std::process::ChildStderr,
    queue: Receiver<Vec<u8>>,
    outgoing: &Sender<Vec<u8>>,
) -> std::io::Result<()> {
    let pid = child.id();
    let name = |role: &str| format!("prodcode-{}-{role}", shared.language);
    {
        let shared = Arc::clone(shared);
        thread::Builder::new()
            .name(name("wait"))
            .spawn(move || wait_child(&shared, child))?;
    }
    thread::Builder::new()
        .name(name("write"))
        .spawn(move || write_frames(stdin, &queue))?;
    {
        let shared = Arc::clone(shared);
        thread::Builder::new()
            .name(name("stderr"))
            .spawn(move || read_stderr(&shared, stderr))?;
    }
    let shared = Arc::clone(shared);
    let outgoing = outgoing.clone();
    thread::Builder::new()
        .name(name("read"))
        .spawn(move || read_messages(&shared, stdout, &outgoing, pid))?;
    Ok(())
}

fn wait_child(shared: &Shared, mut child: Child) {
    let status = child.wait();
    // Whatever the server started (tsserver, pyright's workers) goes with it.
    kill_group(child.id());
    let mut state = lock(&shared.state);
    // The last words on stderr explain the exit: let the reader take them in first.
    let deadline = Instant::now() + Duration::from_millis(500);
    while !state.stderr_closed && Instant::now() < deadline {
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(20))
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
    state.exited = true;
    if state.gone.is_none() {
        let how = match status {
            Ok(status) => match (status.code(), status.signal()) {
                (Some(code), _) => format!("exited with status {code}"),
                (None, Some(signal)) => format!("was killed by signal {signal}"),
                (None, None) => "exited".to_owned(),
            },
            Err(error) => format!("could not be waited for: {error}"),
        };
        let initialized = !matches!(state.readiness.phase(Instant::now()), Phase::Starting);
        state.gone = Some(if state.shutting_down {
            Gone {
                message: "shut down".to_owned(),
                failed: false,
            }
        } else if initialized {
            Gone {
                message: format!("`{}` {how}", shared.program),
                failed: false,
            }
        } else {
            Gone {
                message: format!("`{}` {how} before answering `initialize`", shared.program),
                failed: true,
            }
        });
    }
    drop(state);
    // Waiting requests learn that nobody will answer.
    lock(&shared.pending).clear();
    shared.changed.notify_all();
}

fn write_frames(mut stdin: std::process::ChildStdin, queue: &Receiver<Vec<u8>>) {
    for frame in queue {
        if stdin
            .write_all(&frame)
            .and_then(|()| stdin.flush())
            .is_err()
        {
            return;
        }
    }
}

fn read_stderr(shared: &Shared, stderr: std::process::ChildStderr) {
    read_stderr_until_end(shared, stderr);
    lock(&shared.state).stderr_closed = true;
    shared.changed.notify_all();
}

fn read_stderr_until_end(shared: &Shared, mut stderr: std::process::ChildStderr) {
    let mut chunk = [0u8; 4096];
    loop {
        match stderr.read(&mut chunk) {
            Ok(0) => return,
            Ok(read) => {
                let mut tail = lock(&shared.stderr);
                tail.extend(&chunk[..read]);
                let excess = tail.len().saturating_sub(STDERR_BYTES);
                tail.drain(..excess);
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

fn read_messages(
    shared: &Shared,
    stdout: std::process::ChildStdout,
    outgoing: &Sender<Vec<u8>>,
    pid: u32,
) {
    let mut reader = BufReader::new(stdout);
    let end = loop {
        match framing::read_frame(&mut reader) {
            Ok(Frame::Message(message)) => {
                {
                    let mut state = lock(&shared.state);
                    state.last_heard = Instant::now();
                    state.silent_timeouts = 0;
                }
                handle_message(shared, message, outgoing);
            }
            Ok(Frame::Garbled(error)) => {
                tracing::debug!(language = %shared.language, "skipped a message that is not JSON: {error}");
            }
            Ok(Frame::End) => break "closed its output".to_owned(),
            Err(error) => break format!("sent a malformed message ({error})"),
        }
    };
    // Give the waiter a moment to record the real exit status before forcing the matter.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut state = lock(&shared.state);
    while !state.exited && Instant::now() < deadline {
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(50))
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
    if !state.exited && state.gone.is_none() {
        state.gone = Some(Gone {
            message: format!("`{}` {end}", shared.program),
            failed: true,
        });
    }
    drop(state);
    kill_group(pid);
    lock(&shared.pending).clear();
    shared.changed.notify_all();
}

fn handle_message(shared: &Shared, message: Value, outgoing: &Sender<Vec<u8>>) {
    let method = message.get("method").and_then(Value::as_str);
    let id = message.get("id").filter(|id| !id.is_null());
    match (method, id) {
        (Some(method), Some(id)) => {
            tracing::debug!(language = %shared.language, "server request {method}");
            let reply = answer_server_request(method, message.get("params"));
            let mut response = json!({ "jsonrpc": "2.0", "id": id });
            match reply {
                Ok(result) => response["result"] = result,
                Err((code, text)) => response["error"] = json!({ "code": code, "message": text }),
            }
            let _ = outgoing.send(framing::frame(&response));
        }
        (Some(method), None) => {
            let params = message.get("params").unwrap_or(&Value::Null);
            let mut state = lock(&shared.state);
            match method {
                "$/progress" => {
                    tracing::debug!(language = %shared.language, "progress {params}");
                    state.readiness.progress(params);
                }
                "window/logMessage" | "window/showMessage" => {
                    let text = params
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    tracing::debug!(language = %shared.language, "log: {text}");
                    state.readiness.log(text);
                }
                "experimental/serverStatus" => state.readiness.server_status(params),
                _ => return,
            }
            drop(state);
            shared.changed.notify_all();
        }
        (None, Some(id)) => {
            let Some(id) = id.as_i64() else {
                return;
            };
            let Some(pending) = lock(&shared.pending).remove(&id) else {
                return;
            };
            let outcome = match message.get("error") {
                Some(error) => Err(format!(
                    "{} (code {})",
                    error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("an error"),
                    error.get("code").and_then(Value::as_i64).unwrap_or(0)
                )),
                None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
            };
            match pending {
                Pending::Waiter(sender) => {
                    let _ = sender.send(outcome);
                }
                Pending::Initialize => initialized(shared, outcome, outgoing),
            }
        }
        (None, None) => {}
    }
}

/// The answer to `initialize`: pick up the encoding, send `initialized`, or fail.
fn initialized(shared: &Shared, outcome: Result<Value, String>, outgoing: &Sender<Vec<u8>>) {
    let mut state = lock(&shared.state);
    match outcome {
        Ok(result) => {
            let name = result
                .pointer("/capabilities/positionEncoding")
                .and_then(Value::as_str);
            state.encoding = Encoding::from_name(name);
            let _ = outgoing.send(framing::frame(
                &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }),
            ));
            state.readiness.initialized(Instant::now());
        }
        Err(error) => {
            state.gone = Some(Gone {
                message: format!("`{}` refused `initialize`: {error}", shared.program),
                failed: true,
            });
        }
    }
    drop(state);
    shared.changed.notify_all();
}

/// What the client answers to a server's request.
fn answer_server_request(method: &str, params: Option<&Value>) -> Result<Value, (i64, String)> {
    match method {
        // No settings of our own: `null` asks the server to use its defaults for each item.
        "workspace/configuration" => {
            let items = params
                .and_then(|params| params.get("items"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            Ok(Value::Array(vec![Value::Null; items]))
        }
        "window/workDoneProgress/create"
        | "client/registerCapability"
        | "client/unregisterCapability"
        | "window/showMessageRequest" => Ok(Value::Null),
        _ => Err((-32601, format!("prodcode does not handle `{method}`"))),
    }
}

pub fn kill_group(pid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pid)
        && pgid > 1
    {
        // SAFETY: `kill` has no memory-safety preconditions; a group that is gone yields ESRCH.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_requests_get_the_answers_servers_expect() {
        let items = json!({ "items": [{ "section": "python" }, { "section": "pyright" }] });
        assert_eq!(
            answer_server_request("workspace/configuration", Some(&items)),
            Ok(json!([null, null]))
        );
        assert_eq!(
            answer_server_request("workspace/configuration", None),
            Ok(json!([]))
        );
        assert_eq!(
            answer_server_request("window/workDoneProgress/create", None),
            Ok(Value::Null)
        );
        assert_eq!(
            answer_server_request("client/registerCapability", None),
            Ok(Value::Null)
        );
        let (code, _) = answer_server_request("workspace/applyEdit", None).unwrap_err();
        assert_eq!(code, -32601);
    }
}
