//! The daemon's write queue: every accepted event waits here until it is committed.
//!
//! Events are batched: the main loop flushes when no message is waiting, when the batch is full,
//! and always before it answers a request. So a response is the acknowledgement that every event
//! received before its request is durable. When the database refuses writes (read-only, corrupt,
//! locked for longer than the busy timeout) events stay queued and are retried; nothing accepted is
//! dropped while the process lives.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::capture::privacy;
use crate::clock::now_ms;

use crate::model::ProvenanceRun;
use crate::store::{
    NewAiEdit, NewEvent, NewPrompt, NewSnapshot, RepoId, Store, StoreError, Writer,
};

/// How many queued events trigger a flush even while messages keep arriving.
pub const BATCH: usize = 2048;

/// After a failed write, unforced flushes wait this long before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The domain rows an event implies, written in the same transaction as the event.
pub enum Action {
    None,
    /// Remember a repository the daemon saw.
    Repository {
        root: String,
    },
    /// Keep a document's full text as a blob (didOpen).
    Blob {
        text: String,
    },
    Prompt(PromptRow),
    AiEdit(AiEditRow),
    Snapshot(SnapshotRow),
}

pub struct PromptRow {
    pub interaction_id: String,
    pub prompt: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub agent_version: Option<String>,
    pub repo_root: Option<String>,
    pub base_commit: Option<String>,
    pub branch: Option<String>,
    pub cwd: Option<String>,
    /// When the client says the prompt was given; else the time the daemon received it.
    pub submitted_ms: Option<i64>,
    /// What [`Recorder::record`] redacted from `prompt`: `(kind, count)`.
    pub redactions: Vec<(&'static str, u32)>,
}

pub struct AiEditRow {
    pub interaction_id: String,
    pub path: String,
    pub repo_root: Option<String>,
    pub rel_path: Option<String>,
    pub kind: &'static str,
    pub lines_added: u32,
    pub detail: Option<String>,
}

pub struct SnapshotRow {
    pub path: String,
    pub repo_root: Option<String>,
    pub rel_path: Option<String>,
    pub text: String,
    pub runs: Vec<ProvenanceRun>,
}

struct Pending {
    ts_ms: i64,
    kind: &'static str,
    payload: String,
    action: Action,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    added: u32,
    modified: u32,
    deleted: u32,
}

pub struct Recorder {
    store: Option<Store>,
    /// Where the store lives, to open it again when it could not be opened before.
    path: Option<PathBuf>,
    session: String,
    pending: Vec<Pending>,
    tallies: BTreeMap<(String, String), Tally>,
    error: Option<String>,
    last_failure: Option<Instant>,
    durable: u64,
}

impl Recorder {
    /// Opens the database at `path`. When it cannot be opened (no path, corrupt, newer, locked)
    /// the recorder queues events and tries again at each flush, at most once a second.
    pub fn open(path: Option<PathBuf>) -> Recorder {
        let store = match &path {
            Some(path) => Store::open(path),
            None => Err(StoreError::NoDefaultPath),
        };
        let (store, error, last_failure) = match store {
            Ok(store) => (Some(store), None, None),
            Err(error) => {
                tracing::error!("recording is paused until the database can be opened: {error}");
                (None, Some(error.to_string()), Some(Instant::now()))
            }
        };
        Recorder {
            store,
            path,
            session: format!("{}-{}", std::process::id(), now_ms()),
            pending: Vec::new(),
            tallies: BTreeMap::new(),
            error,
            last_failure,
            durable: 0,
        }
    }

    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn durable(&self) -> u64 {
        self.durable
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Queues one event. `params` is the JSON the client sent, kept verbatim except for
    /// secrets: every LSP event becomes a row here, so this is where `privacy` sees the params
    /// and a prompt before anything is stored (issue 13).
    pub fn record(&mut self, kind: &'static str, params: &str, mut action: Action) {
        let params = privacy::redact_json_text(params).0;
        if let Action::Prompt(row) = &mut action {
            let (prompt, found) = privacy::redact(&row.prompt);
            row.prompt = prompt;
            row.redactions = found
                .into_iter()
                .map(|redaction| (redaction.kind, redaction.count))
                .collect();
        }
        let payload = format!(
            "{{\"session\":\"{}\",\"params\":{}}}",
            self.session,
            if params.is_empty() { "null" } else { &params }
        );
        self.pending.push(Pending {
            ts_ms: now_ms(),
            kind,
            payload,
            action,
        });
    }

    /// Adds to the retention figures of `interaction` in the file at `path`.
    pub fn tally(
        &mut self,
        interaction: &str,
        path: &str,
        added: u32,
        modified: u32,
        deleted: u32,
    ) {
        let entry = self
            .tallies
            .entry((interaction.to_owned(), path.to_owned()))
            .or_default();
        entry.added += added;
        entry.modified += modified;
        entry.deleted += deleted;
    }

    pub fn is_full(&self) -> bool {
        self.pending.len() >= BATCH
    }

    /// Commits everything queued. `force` ignores the retry pause after a failure (used before
    /// answering a request, whose answer promises durability).
    pub fn flush(&mut self, force: bool) {
        if self.pending.is_empty() && self.tallies.is_empty() {
            return;
        }
        let paused = self
            .last_failure
            .is_some_and(|failed| failed.elapsed() < RETRY_AFTER);
        if paused && !force {
            return;
        }
        if self.store.is_none() && !self.reopen() {
            return;
        }
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let result = store.write(|writer| {
            let mut repos = HashMap::new();
            for event in &self.pending {
                write_event(writer, &mut repos, event, true)?;
            }
            write_tallies(writer, &self.tallies)
        });
        match result {
            Ok(()) => {
                self.durable += self.pending.len() as u64;
                self.pending.clear();
                self.tallies.clear();
                self.error = None;
                self.last_failure = None;
            }
            Err(error) => self.flush_one_by_one(error),
        }
    }

    /// Tries to open the database that could not be opened before; `true` when it now is.
    fn reopen(&mut self) -> bool {
        let Some(path) = &self.path else {
            return false;
        };
        match Store::open(path) {
            Ok(store) => {
                tracing::info!("the database at {} can be written again", path.display());
                self.store = Some(store);
                true
            }
            Err(error) => {
                self.error = Some(error.to_string());
                self.last_failure = Some(Instant::now());
                false
            }
        }
    }

    /// After a failed batch: writes the events one at a time, so that one event whose derived
    /// rows cannot be written (a bug, bad data) does not hold back every event after it. Such an
    /// event is still written, without its derived rows. Stops at the first event that cannot be
    /// written at all: then the database itself refuses, and the rest stays queued.
    fn flush_one_by_one(&mut self, batch_error: StoreError) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let mut written = 0;
        let mut refusal = None;
        for event in &self.pending {
            let full = store.write(|writer| write_event(writer, &mut HashMap::new(), event, true));
            let Err(error) = full else {
                written += 1;
                continue;
            };
            match store.write(|writer| write_event(writer, &mut HashMap::new(), event, false)) {
                Ok(()) => {
                    tracing::error!(
                        "recorded a {} event without its derived rows: {error}",
                        event.kind
                    );
                    written += 1;
                }
                Err(error) => {
                    refusal = Some(error);
                    break;
                }
            }
        }
        self.durable += written as u64;
        self.pending.drain(..written);
        if refusal.is_none() {
            match store.write(|writer| write_tallies(writer, &self.tallies)) {
                Ok(()) => self.tallies.clear(),
                Err(error) => refusal = Some(error),
            }
        }
        match refusal {
            None => {
                self.error = None;
                self.last_failure = None;
            }
            Some(error) => {
                tracing::warn!(
                    "could not write {} events, keeping them queued: {error} (batch: {batch_error})",
                    self.pending.len()
                );
                self.error = Some(error.to_string());
                self.last_failure = Some(Instant::now());
            }
        }
    }
}

/// Appends one event and, when `derived`, the domain rows it implies.
fn write_event(
    writer: &mut Writer<'_>,
    repos: &mut HashMap<String, RepoId>,
    event: &Pending,
    derived: bool,
) -> Result<(), StoreError> {
    let event_id = writer.append_event(&NewEvent {
        ts_ms: event.ts_ms,
        source: "lsp",
        kind: event.kind,
        payload: &event.payload,
    })?;
    if !derived {
        return Ok(());
    }
    match &event.action {
        Action::None => {}
        Action::Repository { root } => {
            repo_id(writer, repos, Some(root))?;
        }
        Action::Blob { text } => {
            writer.put_blob(text.as_bytes())?;
        }
        Action::Prompt(row) => {
            let repo_id = repo_id(writer, repos, row.repo_root.as_deref())?;
            let turn = writer.record_prompt(&NewPrompt {
                interaction_id: &row.interaction_id,
                prompt: &row.prompt,
                agent: row.agent.as_deref(),
                model: row.model.as_deref(),
                agent_version: row.agent_version.as_deref(),
                source: "lsp",
                session_id: None,
                repo_id,
                base_commit: row.base_commit.as_deref(),
                branch: row.branch.as_deref(),
                cwd: row.cwd.as_deref(),
                ts_ms: row.submitted_ms.unwrap_or(event.ts_ms),
                event_id,
            })?;
            writer.record_prompt_redactions(&row.interaction_id, turn, &row.redactions)?;
        }
        Action::AiEdit(row) => {
            let repo_id = repo_id(writer, repos, row.repo_root.as_deref())?;
            writer.record_ai_edit(&NewAiEdit {
                interaction_id: &row.interaction_id,
                path: &row.path,
                repo_id,
                rel_path: row.rel_path.as_deref(),
                kind: row.kind,
                lines_added: row.lines_added,
                detail: row.detail.as_deref(),
                ts_ms: event.ts_ms,
                event_id,
            })?;
        }
        Action::Snapshot(row) => {
            let repo_id = repo_id(writer, repos, row.repo_root.as_deref())?;
            writer.save_snapshot(&NewSnapshot {
                path: &row.path,
                repo_id,
                rel_path: row.rel_path.as_deref(),
                text: row.text.as_bytes(),
                runs: &row.runs,
                ts_ms: event.ts_ms,
                event_id,
            })?;
        }
    }
    Ok(())
}

fn write_tallies(
    writer: &mut Writer<'_>,
    tallies: &BTreeMap<(String, String), Tally>,
) -> Result<(), StoreError> {
    for ((interaction, path), tally) in tallies {
        writer.add_line_tally(
            interaction,
            path,
            tally.added,
            tally.modified,
            tally.deleted,
        )?;
    }
    Ok(())
}

/// The id of the repository at `root`, asked of the store once per flush.
fn repo_id(
    writer: &mut Writer<'_>,
    known: &mut HashMap<String, RepoId>,
    root: Option<&str>,
) -> Result<Option<RepoId>, StoreError> {
    let Some(root) = root else { return Ok(None) };
    if let Some(id) = known.get(root) {
        return Ok(Some(*id));
    }
    let id = writer.upsert_repository(root)?;
    known.insert(root.to_owned(), id);
    Ok(Some(id))
}
