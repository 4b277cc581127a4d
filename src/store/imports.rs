//! Bookkeeping for `prodcode import`: how far each transcript file has been read
//! (`import_files`), and one key per imported record (`import_keys`) so that reading a file again
//! adds nothing. Also the two questions the importer asks of the domain tables: whether another
//! channel (a hook) already recorded a prompt, and filling in an interaction's model once the
//! transcript names it.

use rusqlite::{OptionalExtension, params};

use super::{EventId, Store, StoreError, Writer};
use crate::clock::now_ms;

/// What `import_files` remembers about one transcript file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ImportFile {
    /// Absolute path of the transcript.
    pub path: String,
    /// The importer that read it (`claude`, `codex`).
    pub agent: String,
    /// The file's size in bytes when it was last read.
    pub size: u64,
    /// Its modification time then (Unix ms).
    pub mtime_ms: i64,
    /// Byte offset just after the last line whose records are all in the store.
    pub byte_offset: u64,
    /// Lines before `byte_offset`.
    pub lines: u64,
    /// Prompts and edits before `byte_offset` that are in the store (imported by any run).
    pub records: u64,
    /// SHA-256 of the (up to 4 KiB of) bytes just before `byte_offset`, to notice a rewritten file.
    pub check: String,
    /// The reader's session context at `byte_offset`, as JSON it wrote.
    pub state: Option<String>,
}

/// One imported (or deliberately not imported) record.
pub struct NewImportKey<'a> {
    pub key: &'a str,
    pub interaction_id: &'a str,
    /// `prompt` or `edit`.
    pub kind: &'a str,
    /// SHA-256 of the redacted prompt text, for prompts.
    pub text_hash: Option<&'a str>,
    /// `imported`, or `duplicate` (a prompt another channel had already recorded).
    pub outcome: &'a str,
    /// The event that imported it; `None` when it was not imported.
    pub event_id: Option<EventId>,
}

impl Store {
    /// What is remembered about the transcript at `path`, if it was read before.
    pub fn import_file(&self, path: &str) -> Result<Option<ImportFile>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT path, agent, size, mtime_ms, byte_offset, lines, records, check_hash, state
                 FROM import_files WHERE path = ?1",
            )?
            .query_row([path], |row| {
                Ok(ImportFile {
                    path: row.get(0)?,
                    agent: row.get(1)?,
                    size: unsigned(row.get(2)?),
                    mtime_ms: row.get(3)?,
                    byte_offset: unsigned(row.get(4)?),
                    lines: unsigned(row.get(5)?),
                    records: unsigned(row.get(6)?),
                    check: row.get(7)?,
                    state: row.get(8)?,
                })
            })
            .optional()?)
    }
}

impl Writer<'_> {
    /// Remembers how far the transcript at `file.path` has been read.
    pub fn save_import_file(&mut self, file: &ImportFile) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO import_files (path, agent, size, mtime_ms, byte_offset, lines, records,
                     check_hash, state, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (path) DO UPDATE SET
                     agent = excluded.agent, size = excluded.size, mtime_ms = excluded.mtime_ms,
                     byte_offset = excluded.byte_offset, lines = excluded.lines, records = excluded.records,
                     check_hash = excluded.check_hash, state = excluded.state,
                     updated_ms = excluded.updated_ms",
            )?
            .execute(params![
                file.path,
                file.agent,
                signed(file.size),
                file.mtime_ms,
                signed(file.byte_offset),
                signed(file.lines),
                signed(file.records),
                file.check,
                file.state,
                now_ms(),
            ])?;
        Ok(())
    }

    /// Whether a record with this key was handled by an earlier import.
    pub fn import_key_exists(&mut self, key: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM import_keys WHERE key = ?1")?
            .query_row([key], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn insert_import_key(&mut self, key: &NewImportKey<'_>) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO import_keys (key, interaction_id, kind, text_hash, outcome, event_id,
                     ts_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                key.key,
                key.interaction_id,
                key.kind,
                key.text_hash,
                key.outcome,
                key.event_id,
                now_ms(),
            ])?;
        Ok(())
    }

    /// How many prompts with this text hash the importer has already handled for the
    /// interaction (imported or found recorded by another channel).
    pub fn imported_prompts_with_text(
        &mut self,
        interaction_id: &str,
        text_hash: &str,
    ) -> Result<u64, StoreError> {
        let count: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM import_keys
                 WHERE interaction_id = ?1 AND kind = 'prompt' AND text_hash = ?2",
            )?
            .query_row([interaction_id, text_hash], |row| row.get(0))?;
        Ok(unsigned(count))
    }

    /// How many prompts with exactly `text` the interaction has from channels other than the
    /// transcript importers (an agent hook, an editor): the turns a transcript must not repeat.
    pub fn prompts_from_other_channels(
        &mut self,
        interaction_id: &str,
        text: &str,
    ) -> Result<u64, StoreError> {
        let count: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM prompts AS p JOIN events AS e ON e.id = p.event_id
                 WHERE p.interaction_id = ?1 AND p.text = ?2 AND e.source NOT LIKE 'import:%'",
            )?
            .query_row([interaction_id, text], |row| row.get(0))?;
        Ok(unsigned(count))
    }

    /// How many prompts were imported into the interaction (by any run).
    pub fn imported_prompt_count(&mut self, interaction_id: &str) -> Result<u64, StoreError> {
        let count: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM import_keys
                 WHERE interaction_id = ?1 AND kind = 'prompt' AND outcome = 'imported'",
            )?
            .query_row([interaction_id], |row| row.get(0))?;
        Ok(unsigned(count))
    }

    /// The interaction's recorded turns (prompts); 0 when it does not exist.
    pub fn turn_count(&mut self, interaction_id: &str) -> Result<u64, StoreError> {
        let count: Option<i64> = self
            .tx
            .prepare_cached("SELECT turn_count FROM interactions WHERE id = ?1")?
            .query_row([interaction_id], |row| row.get(0))
            .optional()?;
        Ok(count.map_or(0, unsigned))
    }

    /// Whether another channel (an agent hook) recorded an edit of the file at `path` by the
    /// same tool call (`toolUseId` in its `detail`) for the interaction.
    pub fn edit_captured_elsewhere(
        &mut self,
        interaction_id: &str,
        path: &str,
        tool_use_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT 1 FROM ai_edits
                 WHERE interaction_id = ?1 AND path = ?2 AND kind <> 'transcript'
                     AND CASE WHEN json_valid(detail) THEN json_extract(detail, '$.toolUseId') END
                         = ?3
                 LIMIT 1",
            )?
            .query_row([interaction_id, path, tool_use_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Sets the interaction's model if it has none yet (a transcript names the model after the
    /// prompt). Known values are never overwritten.
    pub fn fill_interaction_model(
        &mut self,
        interaction_id: &str,
        model: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE interactions SET model = ?2 WHERE id = ?1 AND model IS NULL")?
            .execute([interaction_id, model])?;
        Ok(())
    }

    /// Sets the interaction's agent version if none is recorded yet.
    pub fn fill_interaction_agent_version(
        &mut self,
        interaction_id: &str,
        version: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE interactions SET agent_version = ?2 WHERE id = ?1 AND agent_version IS NULL",
            )?
            .execute([interaction_id, version])?;
        Ok(())
    }
}

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl StoreError {
    /// Whether another process kept the database locked for longer than the busy timeout.
    pub fn is_busy(&self) -> bool {
        let code = match self {
            StoreError::Sqlite(source) | StoreError::Open { source, .. } => {
                source.sqlite_error_code()
            }
            _ => None,
        };
        matches!(
            code,
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}
