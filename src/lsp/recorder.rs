//! The daemon's write queue: every accepted event waits here until it is committed or spooled.
//!
//! Events are batched: the main loop flushes when no message is waiting, when the batch is full,
//! and always before it answers a request. So a response is the acknowledgement that every event
//! received before its request is durable: committed, or, when the database refuses writes (a
//! full or read-only filesystem, a damaged or newer file, a lock held past the busy timeout),
//! written to the daemon's spool ([`crate::spool`], `lsp-spool`: beside the database, else the
//! runtime or temporary directory, so that the failing filesystem does not take it down too).
//!
//! The spool is replayed before anything newer is written: each entry (one refused batch: its
//! events in order, with their domain rows and the line tallies) in one transaction that also
//! lists it in `hook_spool_ingested` (as `lsp/<name>`), so an entry is recorded exactly once even
//! when two daemons find it, and the events take their place in the hash chain in the order they
//! were received. While something newer than the database waits in the spool, new events go to
//! the spool too, behind it. Only when neither the database nor any spool place can be written
//! do events wait in memory, retried at each flush; the recorder then says so (see [`Notice`]).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::capture::privacy;
use crate::clock::now_ms;
use crate::spool::Spool;

use crate::model::ProvenanceRun;
use crate::store::{
    NewAiEdit, NewEvent, NewPrompt, NewSnapshot, RepoId, Store, StoreError, Writer,
};

/// How many queued events trigger a flush even while messages keep arriving.
pub const BATCH: usize = 2048;

/// After a failed write, unforced flushes wait this long before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The spool format's version, written in every entry.
const SPOOL_VERSION: u32 = 1;

/// The domain rows an event implies, written in the same transaction as the event. Serialized
/// only into the daemon's own spool.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    None,
    /// Remember a repository the daemon saw.
    Repository {
        root: String,
    },
    /// Keep a document's full text as a blob (didOpen), as a delta against the latest snapshot
    /// of the file at `path` (its key in the store) when that is smaller.
    Blob {
        text: String,
        #[serde(default)]
        path: Option<String>,
    },
    Prompt(PromptRow),
    AiEdit(AiEditRow),
    Snapshot(SnapshotRow),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    #[serde(default)]
    pub redactions: Vec<(String, u32)>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiEditRow {
    pub interaction_id: String,
    pub path: String,
    pub repo_root: Option<String>,
    pub rel_path: Option<String>,
    pub kind: String,
    pub lines_added: u32,
    pub detail: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRow {
    pub path: String,
    pub repo_root: Option<String>,
    pub rel_path: Option<String>,
    pub text: String,
    #[serde(with = "runs_json")]
    pub runs: Vec<ProvenanceRun>,
}

/// Provenance runs in the spool, in the store's own JSON form.
mod runs_json {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::model::ProvenanceRun;

    pub fn serialize<S: Serializer>(runs: &[ProvenanceRun], to: S) -> Result<S::Ok, S::Error> {
        crate::store::encode_runs(runs).serialize(to)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Vec<ProvenanceRun>, D::Error> {
        let json = String::deserialize(from)?;
        crate::store::decode_runs(&json).map_err(serde::de::Error::custom)
    }
}

/// One spool entry: a batch the database refused, in the order it was received.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpoolEntry<E> {
    v: u32,
    events: Vec<E>,
    tallies: Vec<SpooledTally>,
}

/// One event on its way to the store or the spool.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventRef<'a> {
    ts_ms: i64,
    kind: &'a str,
    payload: &'a str,
    action: &'a Action,
}

/// One event read back from the spool.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpooledEvent {
    ts_ms: i64,
    kind: String,
    payload: String,
    action: Action,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpooledTally {
    interaction: String,
    path: String,
    added: u32,
    modified: u32,
    deleted: u32,
}

/// What the person should be told about recording, through the editor (`window/showMessage`):
/// once when it degrades, once when it gets worse, once when it recovers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Notice {
    pub level: NoticeLevel,
    pub message: String,
}

/// Where refused events went, for the notice.
enum SpoolState<'a> {
    /// Nothing needed spooling yet.
    Empty,
    /// They wait in this directory.
    In(&'a str),
    /// No spool place took them, for this reason.
    Failed(&'a str),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NoticeLevel {
    /// Events are neither committed nor spooled: a killed daemon loses them.
    Error,
    /// Events are spooled, not committed.
    Warning,
    /// Recording is back to normal.
    Info,
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
    /// Where refused batches wait; `None` without a database path.
    spool: Option<Spool>,
    /// Whether entries may be waiting in the spool (this daemon's or an earlier one's).
    spool_waiting: bool,
    /// Events this daemon put in the spool since it started.
    spooled: u64,
    /// How recording is degraded now, if it is.
    degraded: Option<NoticeLevel>,
    notices: Vec<Notice>,
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
        let spool = path.as_deref().map(|path| Spool::for_db(path, "lsp-spool"));
        let spool_waiting = spool
            .as_ref()
            .is_some_and(|spool| !spool.items(now_ms()).is_empty());
        let mut recorder = Recorder {
            store,
            spool,
            spool_waiting,
            spooled: 0,
            degraded: None,
            notices: Vec::new(),
            path,
            session: format!("{}-{}", std::process::id(), now_ms()),
            pending: Vec::new(),
            tallies: BTreeMap::new(),
            error,
            last_failure,
            durable: 0,
        };
        if let Some(error) = recorder.error.clone() {
            recorder.degrade(NoticeLevel::Warning, &error, SpoolState::Empty);
        }
        recorder
    }

    /// What the person should be told since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Events this daemon put in the spool since it started.
    pub fn spooled(&self) -> u64 {
        self.spooled
    }

    /// Whether entries may be waiting in the spool, to be replayed once the database is back.
    pub fn spool_waiting(&self) -> bool {
        self.spool_waiting
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
                .map(|redaction| (redaction.kind.to_owned(), redaction.count))
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

    /// Commits everything queued, after whatever waits in the spool; what the database refuses
    /// goes to the spool. `force` ignores the retry pause after a failure (used before answering
    /// a request, whose answer promises durability).
    pub fn flush(&mut self, force: bool) {
        if self.pending.is_empty() && self.tallies.is_empty() && !self.spool_waiting {
            return;
        }
        let paused = self
            .last_failure
            .is_some_and(|failed| failed.elapsed() < RETRY_AFTER);
        // A full queue is not left to grow while the database refuses: it goes to the spool.
        if paused && !force && !self.is_full() {
            return;
        }
        if self.store.is_none() && !self.reopen() {
            let error = self.error.clone().unwrap_or_default();
            self.spool_pending(&error);
            return;
        }
        let replayed = match self.replay() {
            Ok(replayed) => {
                self.durable += replayed;
                replayed
            }
            Err(error) => {
                self.refused(&error);
                self.spool_pending(&error.to_string());
                return;
            }
        };
        if self.pending.is_empty() && self.tallies.is_empty() {
            self.recovered(replayed);
            return;
        }
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let result = store.write(|writer| {
            let mut repos = HashMap::new();
            for event in &self.pending {
                write_event(writer, &mut repos, event.as_ref(), true)?;
            }
            write_tallies(writer, &self.tallies)
        });
        match result {
            Ok(()) => {
                self.durable += self.pending.len() as u64;
                self.pending.clear();
                self.tallies.clear();
                self.recovered(replayed);
            }
            Err(error) => match self.flush_one_by_one(error) {
                None => self.recovered(replayed),
                Some(refusal) => {
                    self.refused(&refusal);
                    self.spool_pending(&refusal.to_string());
                }
            },
        }
    }

    /// Records the database's refusal: unforced flushes pause for a while.
    fn refused(&mut self, error: &StoreError) {
        self.error = Some(error.to_string());
        self.last_failure = Some(Instant::now());
    }

    /// The database took everything: clears the error, and tells the person if recording had
    /// been degraded.
    fn recovered(&mut self, replayed: u64) {
        self.error = None;
        self.last_failure = None;
        if self.degraded.take().is_some() {
            let path = self.path_text();
            tracing::info!(
                "the database at {path} accepts writes again; {replayed} spooled events recorded"
            );
            self.notices.push(Notice {
                level: NoticeLevel::Info,
                message: format!(
                    "prodcode: recording resumed: the database at {path} accepts writes again \
                     ({replayed} spooled events recorded)."
                ),
            });
        }
    }

    /// Writes the queued events and tallies to the spool, after the database refused them
    /// (`why`). When no spool place takes them either they stay queued, in memory.
    fn spool_pending(&mut self, why: &str) {
        if self.pending.is_empty() && self.tallies.is_empty() {
            self.degrade(NoticeLevel::Warning, why, SpoolState::Empty);
            return;
        }
        let Some(spool) = &self.spool else {
            self.degrade(
                NoticeLevel::Error,
                why,
                SpoolState::Failed("no database path"),
            );
            return;
        };
        let entry = SpoolEntry {
            v: SPOOL_VERSION,
            events: self.pending.iter().map(Pending::as_ref).collect(),
            tallies: self
                .tallies
                .iter()
                .map(|((interaction, path), tally)| SpooledTally {
                    interaction: interaction.clone(),
                    path: path.clone(),
                    added: tally.added,
                    modified: tally.modified,
                    deleted: tally.deleted,
                })
                .collect(),
        };
        let pushed = serde_json::to_vec(&entry)
            .map_err(|error| error.to_string())
            .and_then(|bytes| spool.push(&bytes));
        match pushed {
            Ok(path) => {
                tracing::warn!(
                    "the database refused {} events ({why}); spooled them to {}",
                    self.pending.len(),
                    path.display()
                );
                self.spooled += self.pending.len() as u64;
                self.pending.clear();
                self.tallies.clear();
                self.spool_waiting = true;
                let place = path
                    .parent()
                    .map(|dir| dir.display().to_string())
                    .unwrap_or_default();
                self.degrade(NoticeLevel::Warning, why, SpoolState::In(&place));
            }
            Err(spool_error) => {
                tracing::error!(
                    "the database refused {} events ({why}) and the spool too ({spool_error}); \
                     keeping them in memory",
                    self.pending.len()
                );
                self.degrade(NoticeLevel::Error, why, SpoolState::Failed(&spool_error));
            }
        }
    }

    /// Notes that recording is degraded; tells the person when it was not, or was less so.
    fn degrade(&mut self, level: NoticeLevel, why: &str, spool: SpoolState<'_>) {
        let worse = match self.degraded {
            None => true,
            Some(NoticeLevel::Warning) => level == NoticeLevel::Error,
            Some(_) => level != NoticeLevel::Error,
        };
        self.degraded = Some(level);
        if !worse {
            return;
        }
        let path = self.path_text();
        let message = match spool {
            SpoolState::Empty => format!(
                "prodcode: recording is degraded: the database at {path} cannot be written \
                 ({why}). Events will be spooled and recorded, in order, once it can be \
                 written again."
            ),
            SpoolState::In(place) => format!(
                "prodcode: recording is degraded: the database at {path} cannot be written \
                 ({why}). Events are spooled in {place} and will be recorded, in order, once it \
                 can be written again."
            ),
            SpoolState::Failed(spool_error) => format!(
                "prodcode: recording is failing: the database at {path} cannot be written \
                 ({why}), and the spool cannot be written either ({spool_error}). Events are \
                 held in memory only and are lost if the editor session ends first."
            ),
        };
        self.notices.push(Notice { level, message });
    }

    fn path_text(&self) -> String {
        self.path
            .as_deref()
            .map_or_else(|| "(none)".to_owned(), |path| path.display().to_string())
    }

    /// Records what waits in the spool, oldest first; returns how many events it recorded. Stops
    /// at the first entry the database refuses outright.
    fn replay(&mut self) -> Result<u64, StoreError> {
        if !self.spool_waiting {
            return Ok(0);
        }
        let (Some(spool), Some(store)) = (&self.spool, self.store.as_mut()) else {
            return Ok(0);
        };
        let now = now_ms();
        let mut replayed = 0;
        for item in spool.items(now) {
            let name = format!("lsp/{}", item.name);
            let entry: Result<SpoolEntry<SpooledEvent>, String> = std::fs::read(&item.path)
                .map_err(|error| error.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice(&bytes).map_err(|error| error.to_string())
                });
            let written = match &entry {
                Ok(entry) => replay_entry(store, &name, entry, now),
                Err(problem) => store.write(|writer| {
                    if writer.spool_entry_ingested(&name)? {
                        return Ok(());
                    }
                    let raw = std::fs::read(&item.path).unwrap_or_default();
                    let payload = serde_json::json!({
                        "spoolEntry": item.name,
                        "error": problem,
                        "raw": String::from_utf8_lossy(&raw),
                    });
                    let event_id = writer.append_event(&NewEvent {
                        ts_ms: now,
                        source: "lsp",
                        kind: "lsp.unreadableSpoolEntry",
                        payload: &payload.to_string(),
                    })?;
                    writer.mark_spool_entry_ingested(&name, Some(event_id), now)
                }),
            };
            written?;
            if let Ok(entry) = &entry {
                replayed += entry.events.len() as u64;
            }
            let _ = std::fs::remove_file(&item.path);
        }
        self.spool_waiting = false;
        Ok(replayed)
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
    /// written at all, and returns why: then the database itself refuses, and the rest stays
    /// queued.
    fn flush_one_by_one(&mut self, batch_error: StoreError) -> Option<StoreError> {
        let store = self.store.as_mut()?;
        let mut written = 0;
        let mut refusal = None;
        for event in &self.pending {
            let event = event.as_ref();
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
        if let Some(error) = &refusal {
            tracing::warn!(
                "could not write {} events: {error} (batch: {batch_error})",
                self.pending.len()
            );
        }
        refusal
    }
}

impl Pending {
    fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            ts_ms: self.ts_ms,
            kind: self.kind,
            payload: &self.payload,
            action: &self.action,
        }
    }
}

/// Records one spool entry in one transaction (its events in order, their rows, its tallies),
/// unless it was recorded before; should its rows fail (a bug, odd data), the events alone.
fn replay_entry(
    store: &mut Store,
    name: &str,
    entry: &SpoolEntry<SpooledEvent>,
    now: i64,
) -> Result<(), StoreError> {
    let write = |writer: &mut Writer<'_>, derived: bool| {
        if writer.spool_entry_ingested(name)? {
            return Ok(());
        }
        let mut repos = HashMap::new();
        let mut first = None;
        for event in &entry.events {
            let spooled = EventRef {
                ts_ms: event.ts_ms,
                kind: &event.kind,
                payload: &event.payload,
                action: &event.action,
            };
            let id = write_event_id(writer, &mut repos, spooled, derived)?;
            first.get_or_insert(id);
        }
        if derived {
            for tally in &entry.tallies {
                writer.add_line_tally(
                    &tally.interaction,
                    &tally.path,
                    tally.added,
                    tally.modified,
                    tally.deleted,
                )?;
            }
        }
        writer.mark_spool_entry_ingested(name, first, now)
    };
    store.write(|writer| write(writer, true)).or_else(|error| {
        tracing::error!("recorded spool entry {name} without its derived rows: {error}");
        store.write(|writer| write(writer, false))
    })
}

/// Appends one event and, when `derived`, the domain rows it implies.
fn write_event(
    writer: &mut Writer<'_>,
    repos: &mut HashMap<String, RepoId>,
    event: EventRef<'_>,
    derived: bool,
) -> Result<(), StoreError> {
    write_event_id(writer, repos, event, derived).map(|_| ())
}

/// [`write_event`], returning the event's id.
fn write_event_id(
    writer: &mut Writer<'_>,
    repos: &mut HashMap<String, RepoId>,
    event: EventRef<'_>,
    derived: bool,
) -> Result<crate::store::EventId, StoreError> {
    let event_id = writer.append_event(&NewEvent {
        ts_ms: event.ts_ms,
        source: "lsp",
        kind: event.kind,
        payload: event.payload,
    })?;
    if !derived {
        return Ok(event_id);
    }
    match event.action {
        Action::None => {}
        Action::Repository { root } => {
            repo_id(writer, repos, Some(root))?;
        }
        Action::Blob { text, path } => {
            let near = match path {
                Some(path) => writer.latest_snapshot_hash(path)?,
                None => None,
            };
            writer.put_blob_near(text.as_bytes(), near.as_ref())?;
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
            let redactions: Vec<(&str, u32)> = row
                .redactions
                .iter()
                .map(|(kind, count)| (kind.as_str(), *count))
                .collect();
            writer.record_prompt_redactions(&row.interaction_id, turn, &redactions)?;
        }
        Action::AiEdit(row) => {
            let repo_id = repo_id(writer, repos, row.repo_root.as_deref())?;
            writer.record_ai_edit(&NewAiEdit {
                interaction_id: &row.interaction_id,
                path: &row.path,
                repo_id,
                rel_path: row.rel_path.as_deref(),
                kind: &row.kind,
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
    Ok(event_id)
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
