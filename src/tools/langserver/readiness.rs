//! When a server's answers can be trusted: a sans-IO state machine fed with what the server sent
//! and when documents were opened.
//!
//! A server answers requests long before it knows the workspace, and those early answers are
//! wrong rather than slow: pyright answers `workspace/symbol` with `[]` before it has received its
//! configuration, and typescript-language-server resolves an imported name to the `import` line
//! while its project is still loading. So a request waits until the server is *ready*:
//!
//! - every server: `initialize` has returned, and no `$/progress` token that began has ended;
//! - pyright (`pyright-langserver` 1.1.414): it first asks for `workspace/configuration`, then logs
//!   `Found N source files` (or `No source files found.`) through `window/logMessage` once it has
//!   enumerated the workspace. Only after that log line does it answer from the whole workspace.
//!   While it analyses files it reports `$/progress` ("N files to analyze"), but only for
//!   workspaces big enough to take a while. Fallback: ready [`PYRIGHT_FALLBACK`] after
//!   `initialized` when the log line never came (another version may word it differently);
//! - typescript-language-server (4.4 with TypeScript 5.9): nothing happens until a file is opened;
//!   about half a second after the first `didOpen` it begins a progress "Initializing JS/TS language
//!   features…" and ends it once tsserver has loaded the project. It is ready once a progress has
//!   begun and ended; fallback: [`TYPESCRIPT_FALLBACK`] after the first `didOpen` without any
//!   progress;
//! - rust-analyzer: when it sends `experimental/serverStatus`, `quiescent: true` is the signal;
//! - any other server (gopls, configured ones): no progress active [`SETTLE`] after `initialized`
//!   (servers begin their loading progress right after `initialized`).
//!
//! Measured on a 2-core machine with the two-file projects of the tests: pyright is ready and
//! answers the first definition 1.5 s after it was started, typescript-language-server 5 s
//! after (its progress runs about 3 s); once ready, a definition or references request takes
//! 2–8 ms, document sync included.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a server without a known readiness signal gets to begin a progress.
pub const SETTLE: Duration = Duration::from_millis(1000);
/// How long after the first `didOpen` typescript-language-server counts as ready without having
/// reported any progress.
pub const TYPESCRIPT_FALLBACK: Duration = Duration::from_secs(5);
/// How long after `initialized` pyright counts as ready without its "Found N source files" log.
pub const PYRIGHT_FALLBACK: Duration = Duration::from_secs(60);

/// Which readiness signal a server gives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Policy {
    Pyright,
    TypeScript,
    /// Progress only (and `experimental/serverStatus` when the server sends it).
    Generic,
}

/// Where a server is on its way to answering.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Phase {
    /// `initialize` has not returned.
    Starting,
    /// Initialized but still loading; the text says what it is doing.
    Indexing(String),
    Ready,
}

#[derive(Clone, Debug, Default)]
struct Progress {
    title: String,
    message: Option<String>,
    percentage: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Readiness {
    policy: Policy,
    initialized_at: Option<Instant>,
    first_open_at: Option<Instant>,
    active: BTreeMap<String, Progress>,
    progress_ended: bool,
    sources_found: bool,
    /// The last `experimental/serverStatus` `quiescent` flag.
    quiescent: Option<bool>,
}

impl Readiness {
    pub fn new(policy: Policy) -> Readiness {
        Readiness {
            policy,
            initialized_at: None,
            first_open_at: None,
            active: BTreeMap::new(),
            progress_ended: false,
            sources_found: false,
            quiescent: None,
        }
    }

    /// `initialize` returned (and `initialized` was sent).
    pub fn initialized(&mut self, now: Instant) {
        self.initialized_at.get_or_insert(now);
    }

    /// A document was opened.
    pub fn opened(&mut self, now: Instant) {
        self.first_open_at.get_or_insert(now);
    }

    /// A `$/progress` notification's params.
    pub fn progress(&mut self, params: &Value) {
        let Some(token) = params.get("token").map(token_key) else {
            return;
        };
        let value = params.get("value").unwrap_or(&Value::Null);
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        match value.get("kind").and_then(Value::as_str) {
            Some("begin") => {
                self.active.insert(
                    token,
                    Progress {
                        title: text("title").unwrap_or_default(),
                        message: text("message"),
                        percentage: value.get("percentage").and_then(Value::as_u64),
                    },
                );
            }
            Some("report") => {
                if let Some(progress) = self.active.get_mut(&token) {
                    if let Some(message) = text("message") {
                        progress.message = Some(message);
                    }
                    if let Some(percentage) = value.get("percentage").and_then(Value::as_u64) {
                        progress.percentage = Some(percentage);
                    }
                }
            }
            Some("end") => {
                let ended = self.active.remove(&token).is_some();
                self.progress_ended |= ended;
            }
            _ => {}
        }
    }

    /// A `window/logMessage` text.
    pub fn log(&mut self, message: &str) {
        if self.policy == Policy::Pyright
            && ((message.starts_with("Found ") && message.contains(" source file"))
                || message.starts_with("No source files found"))
        {
            self.sources_found = true;
        }
    }

    /// An `experimental/serverStatus` notification's params (rust-analyzer).
    pub fn server_status(&mut self, params: &Value) {
        if let Some(quiescent) = params.get("quiescent").and_then(Value::as_bool) {
            self.quiescent = Some(quiescent);
        }
    }

    /// The phase at `now`.
    pub fn phase(&self, now: Instant) -> Phase {
        let Some(initialized_at) = self.initialized_at else {
            return Phase::Starting;
        };
        if let Some(progress) = self.describe_active() {
            return Phase::Indexing(progress);
        }
        if self.quiescent == Some(false) {
            return Phase::Indexing("loading the workspace".to_owned());
        }
        let since = |at: Instant| now.saturating_duration_since(at);
        match self.policy {
            Policy::Pyright if !self.sources_found && since(initialized_at) < PYRIGHT_FALLBACK => {
                Phase::Indexing("looking for source files".to_owned())
            }
            Policy::TypeScript if !self.progress_ended => match self.first_open_at {
                Some(opened) if since(opened) >= TYPESCRIPT_FALLBACK => Phase::Ready,
                _ => Phase::Indexing("loading the project".to_owned()),
            },
            Policy::Generic
                if self.quiescent.is_none()
                    && !self.progress_ended
                    && since(initialized_at) < SETTLE =>
            {
                Phase::Indexing("loading the workspace".to_owned())
            }
            _ => Phase::Ready,
        }
    }

    fn describe_active(&self) -> Option<String> {
        let mut parts = self.active.values().map(|progress| {
            let mut text = progress.title.trim().to_owned();
            if let Some(message) = progress.message.as_deref().filter(|m| !m.trim().is_empty()) {
                if !text.is_empty() {
                    text.push_str(": ");
                }
                text.push_str(message.trim());
            }
            if let Some(percentage) = progress.percentage {
                text.push_str(&format!(" ({percentage}%)"));
            }
            text
        });
        let first = parts.next()?;
        let others = parts.count();
        Some(if others == 0 {
            first
        } else {
            format!("{first} (and {others} more)")
        })
    }
}

/// A progress token (a string or a number) as a map key.
fn token_key(token: &Value) -> String {
    match token {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn begin(token: Value, title: &str) -> Value {
        json!({ "token": token, "value": { "kind": "begin", "title": title } })
    }

    fn end(token: Value) -> Value {
        json!({ "token": token, "value": { "kind": "end" } })
    }

    fn indexing(readiness: &Readiness, now: Instant) -> String {
        match readiness.phase(now) {
            Phase::Indexing(text) => text,
            other => panic!("not indexing: {other:?}"),
        }
    }

    #[test]
    fn pyright_is_ready_once_it_found_its_source_files() {
        let t0 = Instant::now();
        let mut readiness = Readiness::new(Policy::Pyright);
        assert_eq!(readiness.phase(t0), Phase::Starting);
        readiness.initialized(t0);
        readiness.log("Pyright language server 1.1.414 starting");
        assert_eq!(indexing(&readiness, t0), "looking for source files");
        readiness.log("Found 2 source files");
        assert_eq!(readiness.phase(t0), Phase::Ready);
        readiness.progress(&begin(json!("a"), "files"));
        readiness.progress(&json!({ "token": "a", "value": { "kind": "report", "message": "3 files to analyze" } }));
        assert_eq!(indexing(&readiness, t0), "files: 3 files to analyze");
        readiness.progress(&end(json!("a")));
        assert_eq!(readiness.phase(t0), Phase::Ready);
    }

    #[test]
    fn pyright_without_its_log_line_is_ready_after_the_fallback() {
        let t0 = Instant::now();
        let mut readiness = Readiness::new(Policy::Pyright);
        readiness.initialized(t0);
        readiness.log("No source files found in the moon");
        assert_eq!(readiness.phase(t0 + PYRIGHT_FALLBACK), Phase::Ready);
        let mut empty = Readiness::new(Policy::Pyright);
        empty.initialized(t0);
        empty.log("No source files found.");
        assert_eq!(empty.phase(t0), Phase::Ready);
    }

    #[test]
    fn typescript_waits_for_its_project_progress() {
        let t0 = Instant::now();
        let mut readiness = Readiness::new(Policy::TypeScript);
        readiness.initialized(t0);
        readiness.opened(t0);
        assert_eq!(indexing(&readiness, t0), "loading the project");
        readiness.progress(&begin(json!(7), "Initializing JS/TS language features…"));
        readiness.progress(&json!({ "token": 7, "value": { "kind": "report", "percentage": 40 } }));
        assert_eq!(
            indexing(&readiness, t0 + TYPESCRIPT_FALLBACK),
            "Initializing JS/TS language features… (40%)"
        );
        readiness.progress(&end(json!(7)));
        assert_eq!(readiness.phase(t0), Phase::Ready);
    }

    #[test]
    fn typescript_without_progress_is_ready_after_the_fallback() {
        let t0 = Instant::now();
        let mut readiness = Readiness::new(Policy::TypeScript);
        readiness.initialized(t0);
        assert_eq!(
            indexing(&readiness, t0 + TYPESCRIPT_FALLBACK),
            "loading the project"
        );
        readiness.opened(t0);
        assert_eq!(readiness.phase(t0 + TYPESCRIPT_FALLBACK), Phase::Ready);
    }

    #[test]
    fn generic_servers_settle_then_follow_progress_and_server_status() {
        let t0 = Instant::now();
        let mut readiness = Readiness::new(Policy::Generic);
        readiness.initialized(t0);
        assert_eq!(indexing(&readiness, t0), "loading the workspace");
        assert_eq!(readiness.phase(t0 + SETTLE), Phase::Ready);
        readiness.progress(&begin(json!("x"), "Loading packages"));
        readiness.progress(&begin(json!("y"), "Indexing"));
        assert_eq!(
            indexing(&readiness, t0 + SETTLE),
            "Loading packages (and 1 more)"
        );
        readiness.progress(&end(json!("x")));
        readiness.progress(&end(json!("y")));
        readiness.progress(&end(json!("never began")));
        assert_eq!(readiness.phase(t0), Phase::Ready);
        readiness.server_status(&json!({ "health": "ok", "quiescent": false }));
        assert_eq!(indexing(&readiness, t0 + SETTLE), "loading the workspace");
        readiness.server_status(&json!({ "health": "ok", "quiescent": true }));
        assert_eq!(readiness.phase(t0), Phase::Ready);
    }

    #[test]
    fn odd_progress_params_are_ignored() {
        let mut readiness = Readiness::new(Policy::Generic);
        readiness.progress(&json!({}));
        readiness.progress(&json!({ "token": "t", "value": 3 }));
        readiness.progress(&json!({ "token": "t", "value": { "kind": "report" } }));
        readiness.initialized(Instant::now());
        assert_eq!(readiness.phase(Instant::now() + SETTLE), Phase::Ready);
    }
}
