//! The domain writes: repositories, interactions and prompts, AI edits, line tallies, blobs and
//! provenance snapshots. Each row names the event that caused it, so the tables can be read as
//! a projection of the log.

use rusqlite::{OptionalExtension, params};

use super::{NewAiEdit, NewPrompt, NewSnapshot, RepoId, StoreError, Writer, runs};
use crate::clock::now_ms;
use crate::model::ContentHash;

impl Writer<'_> {
    /// Returns the id of the repository rooted at `root`, adding it on first sight.
    pub fn upsert_repository(&mut self, root: &str) -> Result<RepoId, StoreError> {
        let id = self
            .tx
            .prepare_cached(
                "INSERT INTO repositories (root, first_seen_ms, last_seen_ms) VALUES (?1, ?2, ?2)
                 ON CONFLICT (root) DO UPDATE
                 SET last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)
                 RETURNING id",
            )?
            .query_row(params![root, now_ms()], |row| row.get(0))?;
        Ok(id)
    }

    /// Records one prompt and returns its turn: 1 for a new interaction, one more than the last
    /// turn for a known one (a second prompt with the same id is a second turn). Agent, model and
    /// the other descriptive fields fill in what was unknown and never overwrite what was known.
    pub fn record_prompt(&mut self, prompt: &NewPrompt<'_>) -> Result<u32, StoreError> {
        let turn: u32 = self
            .tx
            .prepare_cached(
                "INSERT INTO interactions (id, source, agent, model, agent_version, session_id,
                     repo_id, base_commit, branch, cwd, first_prompt, turn_count, created_ms,
                     updated_ms, first_event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?12, ?13)
                 ON CONFLICT (id) DO UPDATE SET
                     source = CASE WHEN turn_count = 0 THEN excluded.source ELSE source END,
                     agent = coalesce(agent, excluded.agent),
                     model = coalesce(model, excluded.model),
                     agent_version = coalesce(agent_version, excluded.agent_version),
                     session_id = coalesce(session_id, excluded.session_id),
                     repo_id = coalesce(repo_id, excluded.repo_id),
                     base_commit = coalesce(base_commit, excluded.base_commit),
                     branch = coalesce(branch, excluded.branch),
                     cwd = coalesce(cwd, excluded.cwd),
                     first_prompt = coalesce(first_prompt, excluded.first_prompt),
                     turn_count = turn_count + 1,
                     created_ms = min(created_ms, excluded.created_ms),
                     updated_ms = max(updated_ms, excluded.updated_ms)
                 RETURNING turn_count",
            )?
            .query_row(
                params![
                    prompt.interaction_id,
                    prompt.source,
                    prompt.agent,
                    prompt.model,
                    prompt.agent_version,
                    prompt.session_id,
                    prompt.repo_id,
                    prompt.base_commit,
                    prompt.branch,
                    prompt.cwd,
                    prompt.prompt,
                    prompt.ts_ms,
                    prompt.event_id,
                ],
                |row| row.get(0),
            )?;
        self.tx
            .prepare_cached(
                "INSERT INTO prompts (interaction_id, turn, text, ts_ms, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                prompt.interaction_id,
                turn,
                prompt.prompt,
                prompt.ts_ms,
                prompt.event_id,
            ])?;
        Ok(turn)
    }

    /// Records one AI edit. An interaction not seen before gets a placeholder row (no prompt,
    /// turn count 0, the source of the edit's event) that its first prompt completes.
    pub fn record_ai_edit(&mut self, edit: &NewAiEdit<'_>) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO interactions (id, source, repo_id, turn_count, created_ms, updated_ms,
                     first_event_id)
                 VALUES (?1, coalesce((SELECT source FROM events WHERE id = ?4), 'unknown'), ?2, 0,
                     ?3, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET
                     repo_id = coalesce(repo_id, excluded.repo_id),
                     created_ms = min(created_ms, excluded.created_ms),
                     updated_ms = max(updated_ms, excluded.updated_ms)",
            )?
            .execute(params![
                edit.interaction_id,
                edit.repo_id,
                edit.ts_ms,
                edit.event_id,
            ])?;
        self.tx
            .prepare_cached(
                "INSERT INTO ai_edits (interaction_id, path, repo_id, rel_path, kind, lines_added,
                     detail, ts_ms, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                edit.interaction_id,
                edit.path,
                edit.repo_id,
                edit.rel_path,
                edit.kind,
                edit.lines_added,
                edit.detail,
                edit.ts_ms,
                edit.event_id,
            ])?;
        Ok(())
    }

    /// Adds to the retention figures of `interaction_id`'s AI lines in the file at `path`.
    pub fn add_line_tally(
        &mut self,
        interaction_id: &str,
        path: &str,
        added: u32,
        modified: u32,
        deleted: u32,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO line_tally (interaction_id, path, added, modified, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (interaction_id, path) DO UPDATE SET
                     added = added + excluded.added,
                     modified = modified + excluded.modified,
                     deleted = deleted + excluded.deleted",
            )?
            .execute(params![interaction_id, path, added, modified, deleted])?;
        Ok(())
    }

    /// Stores the text (as a blob, a delta against the file's previous snapshot when that is
    /// smaller) and the line provenance of one file.
    pub fn save_snapshot(&mut self, snapshot: &NewSnapshot<'_>) -> Result<(), StoreError> {
        self.save_snapshot_hashed(snapshot, ContentHash::of(snapshot.text))
    }

    /// [`Writer::save_snapshot`] of a text whose SHA-256 the caller already computed: `hash`
    /// must be `ContentHash::of(snapshot.text)`.
    pub(crate) fn save_snapshot_hashed(
        &mut self,
        snapshot: &NewSnapshot<'_>,
        hash: ContentHash,
    ) -> Result<(), StoreError> {
        let previous = self.latest_snapshot_hash(snapshot.path)?;
        let hash = self.put_blob_hashed(snapshot.text, hash, previous.as_ref())?;
        self.tx
            .prepare_cached(
                "INSERT INTO provenance_snapshots (path, repo_id, rel_path, content_hash, runs,
                     ts_ms, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                snapshot.path,
                snapshot.repo_id,
                snapshot.rel_path,
                hash.as_str(),
                runs::encode(snapshot.runs),
                snapshot.ts_ms,
                snapshot.event_id,
            ])?;
        Ok(())
    }

    /// The content hash of the newest snapshot of the file at `path`, without its text: the
    /// base a new version of the file is best stored against.
    pub fn latest_snapshot_hash(&mut self, path: &str) -> Result<Option<ContentHash>, StoreError> {
        let hash: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT content_hash FROM provenance_snapshots WHERE path = ?1
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([path], |row| row.get(0))
            .optional()?;
        Ok(hash.as_deref().and_then(ContentHash::from_hex))
    }
}
