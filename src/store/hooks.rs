//! Bookkeeping for `prodcode hook`: agent sessions (`hook_sessions`), the open before/after
//! brackets around an agent's file edits and shell commands (`hook_brackets`), the spool entries
//! already ingested (`hook_spool_ingested`), and the secrets redacted from each prompt
//! (`prompt_redactions`). Also the reads a hook makes inside its own write transaction (the
//! latest snapshot of a file, a blob), so that what it reads and what it writes are one
//! consistent step even when several hook processes run at once.

use std::time::Duration;

use rusqlite::{OptionalExtension, params};

use super::{EventId, Snapshot, Store, StoreError, Writer};
use crate::model::ContentHash;

/// What a hook call knows about the agent session it belongs to.
pub struct NewHookSession<'a> {
    /// `<agent>:<session id>`, the id of the session's interaction.
    pub interaction_id: &'a str,
    /// The agent as named on the command line: `claude`, `codex`, `cursor`, …
    pub agent: &'a str,
    pub session_id: &'a str,
    pub model: Option<&'a str>,
    pub agent_version: Option<&'a str>,
    pub transcript_path: Option<&'a str>,
    pub cwd: Option<&'a str>,
    pub ts_ms: i64,
    pub event_id: EventId,
}

/// What a bracket surrounds: one file (an edit tool), or a whole work tree (a shell command).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BracketKind {
    File,
    Shell,
}

impl BracketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BracketKind::File => "file",
            BracketKind::Shell => "shell",
        }
    }

    fn parse(name: &str) -> BracketKind {
        match name {
            "shell" => BracketKind::Shell,
            _ => BracketKind::File,
        }
    }
}

pub struct NewBracket<'a> {
    pub interaction_id: &'a str,
    pub tool_use_id: Option<&'a str>,
    pub tool_name: &'a str,
    pub kind: BracketKind,
    /// The file (for [`BracketKind::File`]) or the work-tree root (for [`BracketKind::Shell`]).
    pub path: &'a str,
    /// For a shell bracket: the blob holding the work tree's manifest before the command.
    pub manifest: Option<&'a ContentHash>,
    pub ts_ms: i64,
    pub event_id: EventId,
}

/// An open bracket, as stored.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Bracket {
    pub id: i64,
    pub interaction_id: String,
    pub tool_use_id: Option<String>,
    pub tool_name: String,
    pub kind: BracketKind,
    pub path: String,
    pub manifest: Option<ContentHash>,
    pub opened_ms: i64,
    /// The event that opened it.
    pub open_event_id: EventId,
}

/// The secrets redacted from one prompt, one row per kind.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PromptRedaction {
    pub turn: u32,
    pub kind: String,
    pub count: u32,
}

const BRACKET_COLUMNS: &str = "id, interaction_id, tool_use_id, tool_name, kind, path, \
     manifest_hash, opened_ms, open_event_id";

fn bracket(row: &rusqlite::Row<'_>) -> rusqlite::Result<Bracket> {
    Ok(Bracket {
        id: row.get(0)?,
        interaction_id: row.get(1)?,
        tool_use_id: row.get(2)?,
        tool_name: row.get(3)?,
        kind: BracketKind::parse(&row.get::<_, String>(4)?),
        path: row.get(5)?,
        manifest: row
            .get::<_, Option<String>>(6)?
            .and_then(|hash| ContentHash::from_hex(&hash)),
        opened_ms: row.get(7)?,
        open_event_id: row.get(8)?,
    })
}

impl Store {
    /// Sets how long a write waits for another process's transaction. A hook uses a short one:
    /// it spools its payload rather than keep an agent waiting.
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<(), StoreError> {
        self.conn.busy_timeout(timeout)?;
        Ok(())
    }

    /// The secrets redacted from the prompts of `interaction_id`, by turn and kind.
    pub fn prompt_redactions(
        &self,
        interaction_id: &str,
    ) -> Result<Vec<PromptRedaction>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT turn, kind, count FROM prompt_redactions WHERE interaction_id = ?1
             ORDER BY turn, kind",
        )?;
        let rows = statement.query_map([interaction_id], |row| {
            Ok(PromptRedaction {
                turn: row.get(0)?,
                kind: row.get(1)?,
                count: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The open shell bracket of a tool call, read outside any write: a hook uses its manifest
    /// to skip re-reading files that did not change.
    pub fn open_shell_bracket(
        &self,
        interaction_id: &str,
        tool_use_id: Option<&str>,
    ) -> Result<Option<Bracket>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {BRACKET_COLUMNS} FROM hook_brackets
                 WHERE closed_ms IS NULL AND interaction_id = ?1 AND kind = 'shell'
                   AND (?2 IS NULL OR tool_use_id = ?2)
                 ORDER BY id DESC LIMIT 1"
            ))?
            .query_row(params![interaction_id, tool_use_id], bracket)
            .optional()?)
    }

    /// When a hook of `agent` (as named on `prodcode hook <agent>`) last recorded a session
    /// event (`hook_sessions.last_ms`), if ever.
    pub fn last_hook_session_ms(&self, agent: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT max(last_ms) FROM hook_sessions WHERE agent = ?1")?
            .query_row([agent], |row| row.get(0))?)
    }

    /// The open brackets of an interaction, oldest first, read outside any write: a hook reads
    /// the files of brackets its session left open (a pre event with no post) before recording.
    pub fn open_brackets_of(&self, interaction_id: &str) -> Result<Vec<Bracket>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {BRACKET_COLUMNS} FROM hook_brackets
             WHERE closed_ms IS NULL AND interaction_id = ?1 ORDER BY id"
        ))?;
        let rows = statement.query_map([interaction_id], bracket)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Writer<'_> {
    /// The bracket `id` if it is still open, read inside this transaction.
    pub fn bracket_if_open(&mut self, id: i64) -> Result<Option<Bracket>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(&format!(
                "SELECT {BRACKET_COLUMNS} FROM hook_brackets WHERE id = ?1 AND closed_ms IS NULL"
            ))?
            .query_row([id], bracket)
            .optional()?)
    }

    /// Whether anything but the event `since` itself touched the file at `path` after it: a
    /// provenance snapshot saved by a later event (an editor's save, another hook), or a later
    /// event of the language server naming the document's `uri` (an editor's change). The
    /// evidence that a change seen by a bracket left open may not be the agent's alone.
    ///
    /// "Since" is after the event `since` in the log, or later than `since_ms`: a hook's event is
    /// recorded by the drainer moments after it arrived, so an editor's change the daemon
    /// recorded meanwhile can sit before it in the log although it came after.
    pub fn file_touched_since(
        &mut self,
        path: &str,
        uri: &str,
        since: EventId,
        since_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM provenance_snapshots WHERE path = ?1
                                AND event_id != ?3 AND (event_id > ?3 OR ts_ms > ?4))
                     OR EXISTS (SELECT 1 FROM events WHERE source = 'lsp'
                                AND (id > ?3 OR ts_ms > ?4) AND instr(payload, ?2) > 0)",
            )?
            .query_row(params![path, uri, since, since_ms], |row| row.get(0))?)
    }

    /// Creates or refreshes the session row: fills what was unknown (never overwrites a known
    /// model or version) and reopens a session a `Stop` had closed.
    pub fn touch_hook_session(&mut self, session: &NewHookSession<'_>) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO hook_sessions (interaction_id, agent, session_id, model, agent_version,
                     transcript_path, cwd, first_ms, last_ms, first_event_id, last_event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9)
                 ON CONFLICT (interaction_id) DO UPDATE SET
                     model = coalesce(model, excluded.model),
                     agent_version = coalesce(agent_version, excluded.agent_version),
                     transcript_path = coalesce(transcript_path, excluded.transcript_path),
                     cwd = coalesce(cwd, excluded.cwd),
                     first_ms = min(first_ms, excluded.first_ms),
                     last_ms = max(last_ms, excluded.last_ms),
                     last_event_id = excluded.last_event_id",
            )?
            .execute(params![
                session.interaction_id,
                session.agent,
                session.session_id,
                session.model,
                session.agent_version,
                session.transcript_path,
                session.cwd,
                session.ts_ms,
                session.event_id,
            ])?;
        Ok(())
    }

    /// Marks the session closed (`stop` at the end of a turn, `session_end`); a later event
    /// reopens it with [`Writer::reopen_hook_session`].
    pub fn close_hook_session(
        &mut self,
        interaction_id: &str,
        reason: &str,
        ts_ms: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE hook_sessions SET closed_ms = ?2, close_reason = ?3
                 WHERE interaction_id = ?1",
            )?
            .execute(params![interaction_id, ts_ms, reason])?;
        Ok(())
    }

    /// Clears the closed mark of a session that goes on (a prompt after `Stop`).
    pub fn reopen_hook_session(&mut self, interaction_id: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE hook_sessions SET closed_ms = NULL, close_reason = NULL
                 WHERE interaction_id = ?1 AND closed_ms IS NOT NULL",
            )?
            .execute([interaction_id])?;
        Ok(())
    }

    /// The model and agent version an earlier event of the session reported (a session start
    /// names the model before any prompt).
    pub fn hook_session_model(
        &mut self,
        interaction_id: &str,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT model, agent_version FROM hook_sessions WHERE interaction_id = ?1",
            )?
            .query_row([interaction_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?
            .unwrap_or((None, None)))
    }

    pub fn open_bracket(&mut self, bracket: &NewBracket<'_>) -> Result<i64, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "INSERT INTO hook_brackets (interaction_id, tool_use_id, tool_name, kind, path,
                     manifest_hash, opened_ms, open_event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 RETURNING id",
            )?
            .query_row(
                params![
                    bracket.interaction_id,
                    bracket.tool_use_id,
                    bracket.tool_name,
                    bracket.kind.as_str(),
                    bracket.path,
                    bracket.manifest.map(ContentHash::as_str),
                    bracket.ts_ms,
                    bracket.event_id,
                ],
                |row| row.get(0),
            )?)
    }

    /// The open bracket a post event closes: the one with the agent's tool-call id when it sends
    /// one, else the newest open bracket of the interaction for the same tool and path.
    pub fn find_open_bracket(
        &mut self,
        interaction_id: &str,
        tool_use_id: Option<&str>,
        tool_name: &str,
        kind: BracketKind,
        path: &str,
    ) -> Result<Option<Bracket>, StoreError> {
        let sql = format!(
            "SELECT {BRACKET_COLUMNS} FROM hook_brackets
             WHERE closed_ms IS NULL AND interaction_id = ?1 AND kind = ?2 AND path = ?3
               AND (CASE WHEN ?4 IS NULL THEN tool_name = ?5 ELSE tool_use_id = ?4 END)
             ORDER BY id DESC LIMIT 1"
        );
        Ok(self
            .tx
            .prepare_cached(&sql)?
            .query_row(
                params![interaction_id, kind.as_str(), path, tool_use_id, tool_name],
                bracket,
            )
            .optional()?)
    }

    pub fn close_bracket(
        &mut self,
        id: i64,
        reason: &str,
        ts_ms: i64,
        event_id: EventId,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE hook_brackets SET closed_ms = ?2, close_reason = ?3, close_event_id = ?4
                 WHERE id = ?1 AND closed_ms IS NULL",
            )?
            .execute(params![id, ts_ms, reason, event_id])?;
        Ok(())
    }

    /// Closes every open bracket of the interaction (its session stopped); returns how many.
    pub fn close_brackets_of(
        &mut self,
        interaction_id: &str,
        reason: &str,
        ts_ms: i64,
        event_id: EventId,
    ) -> Result<usize, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "UPDATE hook_brackets SET closed_ms = ?2, close_reason = ?3, close_event_id = ?4
                 WHERE interaction_id = ?1 AND closed_ms IS NULL",
            )?
            .execute(params![interaction_id, ts_ms, reason, event_id])?)
    }

    /// Every open bracket whose edits could reach the file at `path`: file brackets on it, and
    /// shell brackets on a work tree that contains it.
    pub fn open_brackets_covering(&mut self, path: &str) -> Result<Vec<Bracket>, StoreError> {
        let sql = format!(
            "SELECT {BRACKET_COLUMNS} FROM hook_brackets
             WHERE closed_ms IS NULL
               AND ((kind = 'file' AND path = ?1)
                 OR (kind = 'shell' AND substr(?1, 1, length(path) + 1) = path || '/'))
             ORDER BY id"
        );
        let mut statement = self.tx.prepare_cached(&sql)?;
        let rows = statement.query_map([path], bracket)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest saved provenance of the file at `path`, read inside this transaction. Runs
    /// that cannot be read are [`StoreError::Corrupt`], as in [`Store::latest_snapshot`].
    pub fn current_snapshot(&mut self, path: &str) -> Result<Option<Snapshot>, StoreError> {
        super::queries::latest_snapshot_on(&self.tx, path, None)
    }

    /// Files under the directory `root` that have a saved provenance, most recently saved first,
    /// at most `limit` of them.
    pub fn snapshot_paths_under(
        &mut self,
        root: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = format!("{}/", root.trim_end_matches('/'));
        // `0` sorts right after `/`: the range is every path that starts with `prefix`.
        let upper = format!("{}0", root.trim_end_matches('/'));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut statement = self.tx.prepare_cached(
            "SELECT path FROM provenance_snapshots WHERE path >= ?1 AND path < ?2
             GROUP BY path ORDER BY max(id) DESC LIMIT ?3",
        )?;
        let rows = statement.query_map(params![prefix, upper, limit], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the spool entry `name` was already ingested (by this or another process).
    pub fn spool_entry_ingested(&mut self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM hook_spool_ingested WHERE name = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn mark_spool_entry_ingested(
        &mut self,
        name: &str,
        event_id: Option<EventId>,
        ts_ms: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO hook_spool_ingested (name, event_id, ingested_ms)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![name, event_id, ts_ms])?;
        Ok(())
    }

    /// Records what was redacted from the prompt of `turn`: `(kind, count)` pairs.
    pub fn record_prompt_redactions(
        &mut self,
        interaction_id: &str,
        turn: u32,
        redactions: &[(&str, u32)],
    ) -> Result<(), StoreError> {
        for (kind, count) in redactions {
            self.tx
                .prepare_cached(
                    "INSERT INTO prompt_redactions (interaction_id, turn, kind, count)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (interaction_id, turn, kind) DO UPDATE SET
                         count = count + excluded.count",
                )?
                .execute(params![interaction_id, turn, kind, count])?;
        }
        Ok(())
    }
}
