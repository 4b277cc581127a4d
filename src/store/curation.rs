//! Typed reads for `prodcode curate`: a repository's interactions with their prompts and whether
//! their session ended, and who owns the lines of the main commits their work landed in.
//!
//! Curation only reads the store; what it decides goes to its output directory.

use rusqlite::params;

use super::{InteractionSummary, RepoId, Store, StoreError};

/// An interaction as curation sees it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CurationInteraction {
    /// With its prompts (AI edits and tallies are not read).
    pub summary: InteractionSummary,
    /// The interaction's hook session was closed (a `Stop` or session end) and not reopened.
    pub hook_closed: bool,
    /// A hook session was recorded for it at all.
    pub hook_session: bool,
}

/// One main commit and the AI lines in it, by interaction.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MainCommitLines {
    pub sha: String,
    pub parents: Vec<String>,
    pub committed_ms: i64,
    /// Added lines outside excluded files.
    pub lines_added: u64,
    /// `(interaction, ai + ai_modified lines)`, by interaction id.
    pub ai_lines: Vec<(String, u64)>,
}

impl Store {
    /// The interactions recorded in the repository (or with lines in its commits) created at or
    /// after `since_ms`, oldest first, each with its prompts.
    pub fn curation_interactions(
        &self,
        repo_id: RepoId,
        since_ms: i64,
    ) -> Result<Vec<CurationInteraction>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let rows = {
            let mut statement = tx.prepare_cached(
                "SELECT i.id, i.source, i.agent, coalesce(i.model, h.model), i.agent_version,
                     i.session_id, i.repo_id, r.root, i.base_commit, i.branch, i.cwd,
                     i.first_prompt, i.turn_count, i.created_ms, i.updated_ms,
                     h.interaction_id IS NOT NULL, h.closed_ms IS NOT NULL
                 FROM interactions AS i
                 LEFT JOIN repositories AS r ON r.id = i.repo_id
                 LEFT JOIN hook_sessions AS h ON h.interaction_id = i.id
                 WHERE i.created_ms >= ?2 AND (i.repo_id = ?1 OR i.id IN (
                     SELECT l.interaction_id FROM commit_lines AS l
                     JOIN commits AS c ON c.id = l.commit_id
                     WHERE c.repo_id = ?1 AND l.interaction_id IS NOT NULL))
                 ORDER BY i.created_ms, i.rowid",
            )?;
            let rows = statement.query_map(params![repo_id, since_ms], |row| {
                Ok((
                    super::queries::summary_row(row)?,
                    row.get::<_, bool>(15)?,
                    row.get::<_, bool>(16)?,
                ))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut interactions = Vec::with_capacity(rows.len());
        for (mut summary, hook_session, hook_closed) in rows {
            summary.prompts = super::queries::prompts_of(&tx, summary.id.as_str())?;
            interactions.push(CurationInteraction {
                summary,
                hook_closed,
                hook_session,
            });
        }
        drop(tx);
        Ok(interactions)
    }

    /// The main commits of the repository that carry AI lines of `interaction`, oldest first,
    /// each with every interaction's AI lines in it. Replaced and stash commits are left out.
    pub fn main_commits_of(
        &self,
        repo_id: RepoId,
        interaction: &str,
    ) -> Result<Vec<MainCommitLines>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let commits = {
            let mut statement = tx.prepare_cached(
                "SELECT c.id, c.sha, c.parents, coalesce(c.committed_ms, 0), c.lines_added
                 FROM commits AS c
                 WHERE c.repo_id = ?1 AND c.on_main = 1 AND c.stash = 0
                     AND c.replaced_by IS NULL
                     AND c.id IN (SELECT l.commit_id FROM commit_lines AS l
                         WHERE l.interaction_id = ?2 AND l.class IN ('ai', 'ai_modified'))
                 ORDER BY coalesce(c.committed_ms, 0), c.id",
            )?;
            let rows = statement.query_map(params![repo_id, interaction], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut out = Vec::with_capacity(commits.len());
        for (id, sha, parents, committed_ms, lines_added) in commits {
            let ai_lines = tx
                .prepare_cached(
                    "SELECT interaction_id, sum(end_line - start_line + 1) FROM commit_lines
                     WHERE commit_id = ?1 AND interaction_id IS NOT NULL
                         AND class IN ('ai', 'ai_modified')
                     GROUP BY interaction_id ORDER BY interaction_id",
                )?
                .query_map([id], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
                    ))
                })?
                .collect::<Result<_, _>>()?;
            out.push(MainCommitLines {
                sha,
                parents: parents.split_whitespace().map(str::to_owned).collect(),
                committed_ms,
                lines_added: u64::try_from(lines_added).unwrap_or(0),
                ai_lines,
            });
        }
        drop(tx);
        Ok(out)
    }

    /// The first prompt of every interaction recorded, as `(interaction, text)`: curation's
    /// template filter counts the same prompt across sessions.
    pub fn first_prompts(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT interaction_id, text FROM prompts WHERE turn = 1")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
