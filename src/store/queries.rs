//! Typed reads for the CLI, the daemon and the pipeline. Each one that reads several tables does
//! so in one read transaction, so it sees one consistent state while others write.

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    AiEditRecord, Counts, InteractionPrompts, InteractionSummary, LineTally, PromptRecord,
    Repository, Snapshot, Store, StoreError, runs,
};
use crate::model::{ContentHash, InteractionId};

impl Store {
    /// The newest saved provenance of the file at absolute path `path` (the last one saved, by
    /// insertion order), with its text. Stored runs that cannot be read are
    /// [`StoreError::Corrupt`], naming the snapshot, rather than a guess.
    pub fn latest_snapshot(&self, path: &str) -> Result<Option<Snapshot>, StoreError> {
        latest_snapshot_on(&self.conn, path, None)
    }

    /// The id of the newest provenance snapshot (0 when there is none): a cheap way for a
    /// long-running process to notice that another one saved provenance.
    pub fn snapshot_head(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT coalesce(max(id), 0) FROM provenance_snapshots")?
            .query_row([], |row| row.get(0))?)
    }

    /// The paths of the snapshots saved after snapshot `after`, with the newest id among them.
    pub fn snapshot_paths_since(&self, after: i64) -> Result<(i64, Vec<String>), StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT max(id), path FROM provenance_snapshots WHERE id > ?1 GROUP BY path",
        )?;
        let rows = statement.query_map([after], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut head = after;
        let mut paths = Vec::new();
        for row in rows {
            let (id, path) = row?;
            head = head.max(id);
            paths.push(path);
        }
        Ok((head, paths))
    }

    /// The bytes stored under `hash`, if any.
    /// A blob stored as a delta is rebuilt; one that cannot be is [`StoreError::Corrupt`].
    pub fn blob(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
        super::blobs::read(&self.conn, hash)
    }

    /// Every repository seen, by id.
    pub fn repositories(&self) -> Result<Vec<Repository>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, root, first_seen_ms, last_seen_ms FROM repositories ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(Repository {
                id: row.get(0)?,
                root: row.get(1)?,
                first_seen_ms: row.get(2)?,
                last_seen_ms: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Row counts of the main tables; `events` is [`Store::event_count`].
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let count = |table: &str| -> Result<u64, StoreError> {
            // Table names come from the fixed list below, never from input.
            let count: i64 = tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })?;
            Ok(non_negative(count))
        };
        let counts = Counts {
            events: self.event_count()?,
            interactions: count("interactions")?,
            prompts: count("prompts")?,
            ai_edits: count("ai_edits")?,
            snapshots: count("provenance_snapshots")?,
            repositories: count("repositories")?,
        };
        drop(tx);
        Ok(counts)
    }

    /// Who an interaction's agent was and its prompts in turn order, without its edits: what an
    /// editor shows beside a line the interaction wrote. `None` for an interaction not recorded.
    pub fn interaction_prompts(&self, id: &str) -> Result<Option<InteractionPrompts>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let agent = tx
            .prepare_cached("SELECT agent, model FROM interactions WHERE id = ?1")?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((agent, model)) = agent else {
            return Ok(None);
        };
        let prompts = prompts_of(&tx, id)?
            .into_iter()
            .map(|prompt| prompt.text)
            .collect();
        drop(tx);
        Ok(Some(InteractionPrompts {
            agent,
            model,
            prompts,
        }))
    }

    /// The `limit` most recently created interactions, newest first, each with its prompts, AI
    /// edits and line tallies.
    pub fn recent_interactions(&self, limit: usize) -> Result<Vec<InteractionSummary>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut interactions = {
            let mut statement = tx.prepare_cached(
                "SELECT i.id, i.source, i.agent, i.model, i.agent_version, i.session_id, i.repo_id,
                     r.root, i.base_commit, i.branch, i.cwd, i.first_prompt, i.turn_count,
                     i.created_ms, i.updated_ms
                 FROM interactions AS i LEFT JOIN repositories AS r ON r.id = i.repo_id
                 ORDER BY i.created_ms DESC, i.rowid DESC LIMIT ?1",
            )?;
            let rows = statement.query_map([limit], summary_row)?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        for interaction in &mut interactions {
            fill_details(&tx, interaction)?;
        }
        drop(tx);
        Ok(interactions)
    }
}

/// An interaction from the columns `i.id, i.source, i.agent, i.model, i.agent_version,
/// i.session_id, i.repo_id, r.root, i.base_commit, i.branch, i.cwd, i.first_prompt,
/// i.turn_count, i.created_ms, i.updated_ms`, without its details.
pub(super) fn summary_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<InteractionSummary> {
    Ok(InteractionSummary {
        id: InteractionId::new(&row.get::<_, String>(0)?),
        source: row.get(1)?,
        agent: row.get(2)?,
        model: row.get(3)?,
        agent_version: row.get(4)?,
        session_id: row.get(5)?,
        repo_id: row.get(6)?,
        repo_root: row.get(7)?,
        base_commit: row.get(8)?,
        branch: row.get(9)?,
        cwd: row.get(10)?,
        first_prompt: row.get(11)?,
        turn_count: row.get(12)?,
        created_ms: row.get(13)?,
        updated_ms: row.get(14)?,
        prompts: Vec::new(),
        ai_edits: Vec::new(),
        line_tallies: Vec::new(),
    })
}

/// Reads the prompts, AI edits and tallies of one interaction.
pub(super) fn fill_details(
    conn: &Connection,
    interaction: &mut InteractionSummary,
) -> Result<(), StoreError> {
    let id = interaction.id.as_str();
    interaction.prompts = prompts_of(conn, id)?;
    interaction.ai_edits = conn
        .prepare_cached(
            "SELECT path, rel_path, kind, lines_added, detail, ts_ms, event_id FROM ai_edits
             WHERE interaction_id = ?1 ORDER BY id",
        )?
        .query_map([id], |row| {
            Ok(AiEditRecord {
                path: row.get(0)?,
                rel_path: row.get(1)?,
                kind: row.get(2)?,
                lines_added: row.get(3)?,
                detail: row.get(4)?,
                ts_ms: row.get(5)?,
                event_id: row.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    interaction.line_tallies = conn
        .prepare_cached(
            "SELECT path, added, modified, deleted FROM line_tally
             WHERE interaction_id = ?1 ORDER BY path",
        )?
        .query_map(params![id], |row| {
            Ok(LineTally {
                path: row.get(0)?,
                added: non_negative(row.get(1)?),
                modified: non_negative(row.get(2)?),
                deleted: non_negative(row.get(3)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(())
}

/// The prompts of interaction `id`, in turn order.
pub(super) fn prompts_of(conn: &Connection, id: &str) -> Result<Vec<PromptRecord>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT turn, text, ts_ms, event_id FROM prompts WHERE interaction_id = ?1 ORDER BY turn",
        )?
        .query_map([id], |row| {
            Ok(PromptRecord {
                turn: row.get(0)?,
                text: row.get(1)?,
                ts_ms: row.get(2)?,
                event_id: row.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// A count as stored; a negative one (only a hand edit makes one) reads as 0.
fn non_negative(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

/// The newest snapshot of `path` as `conn` sees it (a connection or an open transaction).
/// The newest snapshot of `path` saved at or before `at_ms` (any time when `None`).
pub(super) fn latest_snapshot_on(
    conn: &Connection,
    path: &str,
    at_ms: Option<i64>,
) -> Result<Option<Snapshot>, StoreError> {
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM provenance_snapshots WHERE path = ?1 AND ts_ms <= ?2
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![path, at_ms.unwrap_or(i64::MAX)], |row| row.get(0))
        .optional()?;
    match id {
        Some(id) => snapshot_by_id(conn, id),
        None => Ok(None),
    }
}

/// One snapshot by id, with its text when the blob is present. Stored runs or hashes that
/// cannot be read are [`StoreError::Corrupt`], naming the snapshot.
pub(super) fn snapshot_by_id(conn: &Connection, id: i64) -> Result<Option<Snapshot>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT s.id, s.path, s.content_hash, s.runs, s.ts_ms
             FROM provenance_snapshots AS s WHERE s.id = ?1",
        )?
        .query_row([id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .optional()?;
    let Some((id, path, content_hash, runs_json, ts_ms)) = row else {
        return Ok(None);
    };
    let corrupt = |problem: String| {
        StoreError::Corrupt(format!("provenance snapshot {id} of {path}: {problem}"))
    };
    let content_hash = ContentHash::from_hex(&content_hash)
        .ok_or_else(|| corrupt(format!("content hash {content_hash:?} is not a SHA-256")))?;
    let runs = runs::decode(&runs_json).map_err(corrupt)?;
    let text = super::blobs::read(conn, &content_hash).map_err(|error| match error {
        StoreError::Corrupt(problem) => corrupt(problem),
        other => other,
    })?;
    Ok(Some(Snapshot {
        path,
        content_hash,
        text,
        runs,
        ts_ms,
    }))
}
