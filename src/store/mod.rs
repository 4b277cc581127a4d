//! The provenance store: the only code that speaks SQL.
//!
//! STUB: the API below is fixed; the bodies are being written.

use std::path::{Path, PathBuf};

use crate::model::{ContentHash, ProvenanceRun};

pub type RepoId = i64;
pub type EventId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database at {path} has schema version {found}, newer than this prodcode understands ({supported}); upgrade prodcode"
    )]
    NewerSchema { path: PathBuf, found: u32, supported: u32 },
    #[error("cannot find a place for the database: set PRODCODE_DB, XDG_DATA_HOME or HOME")]
    NoDefaultPath,
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// Where the database lives when neither `--db` nor `PRODCODE_DB` says: `$XDG_DATA_HOME/prodcode/
/// prodcode.db`, else `~/.local/share/prodcode/prodcode.db`.
pub fn default_path() -> Result<PathBuf, StoreError> {
    todo!()
}

pub struct Store {}

/// One event for the append-only log. `payload` is JSON written by the channel that saw it.
pub struct NewEvent<'a> {
    pub ts_ms: i64,
    pub source: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
}

pub struct NewPrompt<'a> {
    pub interaction_id: &'a str,
    pub prompt: &'a str,
    pub agent: Option<&'a str>,
    pub model: Option<&'a str>,
    pub agent_version: Option<&'a str>,
    pub source: &'a str,
    pub session_id: Option<&'a str>,
    pub repo_id: Option<RepoId>,
    pub base_commit: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub cwd: Option<&'a str>,
    pub ts_ms: i64,
    pub event_id: EventId,
}

pub struct NewAiEdit<'a> {
    pub interaction_id: &'a str,
    pub path: &'a str,
    pub repo_id: Option<RepoId>,
    pub rel_path: Option<&'a str>,
    pub kind: &'a str,
    pub lines_added: u32,
    pub detail: Option<&'a str>,
    pub ts_ms: i64,
    pub event_id: EventId,
}

pub struct NewSnapshot<'a> {
    pub path: &'a str,
    pub repo_id: Option<RepoId>,
    pub rel_path: Option<&'a str>,
    pub text: &'a [u8],
    pub runs: &'a [ProvenanceRun],
    pub ts_ms: i64,
    pub event_id: EventId,
}

pub struct Snapshot {
    pub path: String,
    pub content_hash: ContentHash,
    pub text: Option<Vec<u8>>,
    pub runs: Vec<ProvenanceRun>,
    pub ts_ms: i64,
}

pub struct Writer<'a> {
    _tx: rusqlite::Transaction<'a>,
}

impl Store {
    pub fn open(_path: &Path) -> Result<Store, StoreError> {
        todo!()
    }

    pub fn path(&self) -> &Path {
        todo!()
    }

    pub fn write<T>(
        &mut self,
        _f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        todo!()
    }

    pub fn latest_snapshot(&self, _path: &str) -> Result<Option<Snapshot>, StoreError> {
        todo!()
    }
}

impl Writer<'_> {
    pub fn append_event(&mut self, _event: &NewEvent<'_>) -> Result<EventId, StoreError> {
        todo!()
    }

    pub fn upsert_repository(&mut self, _root: &str) -> Result<RepoId, StoreError> {
        todo!()
    }

    pub fn record_prompt(&mut self, _prompt: &NewPrompt<'_>) -> Result<u32, StoreError> {
        todo!()
    }

    pub fn record_ai_edit(&mut self, _edit: &NewAiEdit<'_>) -> Result<(), StoreError> {
        todo!()
    }

    pub fn save_snapshot(&mut self, _snapshot: &NewSnapshot<'_>) -> Result<(), StoreError> {
        todo!()
    }
}
