//! The daemon's one owner of mutable state: open documents, open checkpoints, the write queue.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;
use lsp_server::{Message, Response};

use crate::attribution::{ChangeShape, PositionEncoding, TrackedText};
use crate::git;
use crate::tools::toolbox::Toolbox;

use super::linker::Linker;
use super::recorder::{NoticeLevel, Recorder};

/// How many applied `didChange` events a document remembers, so that `prodcode/aiEditApplied`
/// naming a slightly older version can still be placed.
pub const HISTORY: usize = 256;

pub struct Document {
    pub path: Option<PathBuf>,
    pub repo_root: Option<PathBuf>,
    pub rel_path: Option<String>,
    pub version: i32,
    pub text: TrackedText,
    /// `(version before, version after, what changed)`, oldest first.
    pub history: VecDeque<(i32, i32, Vec<ChangeShape>)>,
    /// Provenance another channel saved for this document, not yet matched by its text (see
    /// `handlers::external`).
    pub watch: Option<Watch>,
}

impl Document {
    /// The key the store files this document under: its absolute path, or its URI when it has
    /// no path (an unsaved buffer).
    pub fn store_path(&self, uri: &str) -> String {
        match &self.path {
            Some(path) => path.to_string_lossy().into_owned(),
            None => uri.to_owned(),
        }
    }
}

/// A snapshot saved elsewhere that the document may be about to match.
pub struct Watch {
    pub until: Instant,
    /// The snapshot's size in bytes: a cheap test before hashing the document.
    pub bytes: usize,
}

pub struct GlobalState {
    pub sender: Sender<Message>,
    pub encoding: PositionEncoding,
    pub roots: Vec<PathBuf>,
    pub documents: HashMap<String, Document>,
    /// Per interaction, the documents as they were at its `before` checkpoint.
    pub checkpoints: HashMap<String, Vec<(String, TrackedText)>>,
    pub recorder: Recorder,
    pub db_path: Option<PathBuf>,
    pub initialized: bool,
    pub shutdown_requested: bool,
    /// The newest provenance snapshot id this daemon has looked at.
    pub snapshot_watermark: i64,
    pub last_poll: Instant,
    /// Repository roots already recorded by this daemon.
    pub seen_roots: HashSet<PathBuf>,
    /// Directory -> repository root, so that opening many files asks git once per directory.
    repo_roots: HashMap<PathBuf, Option<PathBuf>>,
    /// Watches the workspace's repositories and links their commits in the background.
    pub linker: Linker,
    /// The client's `clientInfo` as "name version", recorded with tool calls.
    pub client: Option<String>,
    /// The tools of each workspace root, opened on first use.
    pub toolboxes: HashMap<PathBuf, Arc<Toolbox>>,
    pub open_toolbox: OpenToolbox,
}

/// Opens the tools of a workspace root (with the store recorder the binary wires in).
pub type OpenToolbox = Box<dyn Fn(&Path) -> anyhow::Result<Toolbox>>;

impl GlobalState {
    pub fn new(
        sender: Sender<Message>,
        recorder: Recorder,
        db_path: Option<PathBuf>,
        open_toolbox: OpenToolbox,
    ) -> GlobalState {
        let snapshot_watermark = recorder
            .store()
            .and_then(|store| store.snapshot_head().ok())
            .unwrap_or(0);
        let linker = Linker::new(db_path.clone());
        GlobalState {
            snapshot_watermark,
            last_poll: Instant::now(),
            sender,
            encoding: PositionEncoding::Utf16,
            roots: Vec::new(),
            documents: HashMap::new(),
            checkpoints: HashMap::new(),
            recorder,
            db_path,
            initialized: false,
            shutdown_requested: false,
            seen_roots: HashSet::new(),
            repo_roots: HashMap::new(),
            linker,
            client: None,
            toolboxes: HashMap::new(),
            open_toolbox,
        }
    }

    /// Answers a request. Every event received before the request is committed first, so an
    /// answer is also the acknowledgement that those events are durable.
    pub fn respond(&mut self, response: Response) {
        self.flush(true);
        let _ = self.sender.send(Message::Response(response));
    }

    /// Commits (or spools) the queued events, then tells the person through the editor
    /// (`window/showMessage`) when recording degraded or recovered. Notices wait until the
    /// client is initialized: nothing but the answer may come before that.
    pub fn flush(&mut self, force: bool) {
        self.recorder.flush(force);
        if !self.initialized {
            return;
        }
        for notice in self.recorder.take_notices() {
            let kind = match notice.level {
                NoticeLevel::Error => 1,
                NoticeLevel::Warning => 2,
                NoticeLevel::Info => 3,
            };
            self.notify(
                "window/showMessage",
                serde_json::json!({ "type": kind, "message": notice.message }),
            );
        }
    }

    pub fn notify(&self, method: &str, params: serde_json::Value) {
        let notification = lsp_server::Notification::new(method.to_owned(), params);
        let _ = self.sender.send(Message::Notification(notification));
    }

    /// The repository root around `path`, cached per directory.
    pub fn repo_root(&mut self, path: &Path) -> Option<PathBuf> {
        let dir = path.parent()?.to_path_buf();
        self.repo_roots
            .entry(dir)
            .or_insert_with(|| git::discover(path).map(|info| info.root))
            .clone()
    }
}
