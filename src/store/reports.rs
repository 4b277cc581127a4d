//! Typed reads for the reports (`prodcode stats`, `blame`, `log --landed`, `export`): the commits
//! `link` recorded, the interactions behind their lines, and where their work landed on main.
//!
//! Everything here reads; `link` (through `commits.rs`) is the only writer of these tables. The
//! reports aggregate in Rust over these rows, so every report counts lines the same way.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{InteractionSummary, RepoId, Store, StoreError};
use crate::model::{InteractionId, LineClass};

/// A linked commit as the reports show it (`commits`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CommitReport {
    pub id: i64,
    pub sha: String,
    pub parents: Vec<String>,
    pub author: Option<String>,
    pub author_ms: Option<i64>,
    pub committed_ms: i64,
    pub summary: Option<String>,
    /// Reachable from the main branch.
    pub on_main: bool,
    /// The first main commit that carries this commit's work (itself when it is on main).
    pub landed_sha: Option<String>,
    pub landed_ms: Option<i64>,
    /// The commit this one was amended into.
    pub replaced_by: Option<String>,
    pub reverts_sha: Option<String>,
    /// Added lines outside excluded files.
    pub lines_added: u32,
    /// Added lines in excluded files (lockfiles, generated, vendored, ignored).
    pub lines_excluded: u32,
}

/// What the reports say about the interaction behind some lines.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InteractionInfo {
    pub id: InteractionId,
    pub source: String,
    pub agent: Option<String>,
    /// The interaction's model, else the one its hook session reported.
    pub model: Option<String>,
    pub session_id: Option<String>,
    pub first_prompt: Option<String>,
    /// The agent's transcript file, when a hook session reported it.
    pub transcript_path: Option<String>,
}

/// One row of `landings`: `commit_sha`'s work reached main in `main_sha`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Landing {
    pub commit_sha: String,
    pub main_sha: String,
    /// `reachable`, `patch_id` or `squash`.
    pub via: String,
    pub lines: u32,
    pub landed_ms: i64,
}

/// An interaction with AI lines in commits on main, and those commits.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LandedInteraction {
    pub interaction: InteractionSummary,
    /// Oldest commit first; one entry per main commit and way of landing.
    pub landed: Vec<LandedLines>,
}

/// The AI lines of one interaction in one commit on main.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LandedLines {
    pub repo_root: String,
    /// The commit on main.
    pub commit: String,
    pub summary: Option<String>,
    pub committed_ms: i64,
    /// How the lines got there: the `landings` row of the commit the lines were recorded in
    /// (`commit_lines.source_sha`), else `reachable` (recorded in the main commit itself).
    pub via: String,
    pub ai: u64,
    pub ai_modified: u64,
}

const COMMIT_COLUMNS: &str = "id, sha, parents, author, author_ms, coalesce(committed_ms, 0),
    summary, on_main, landed_sha, landed_ms, replaced_by, reverts_sha, lines_added,
    lines_excluded";

impl Store {
    /// Every linked commit of the repository that is on the main branch, oldest first.
    pub fn commits_on_main(&self, repo_id: RepoId) -> Result<Vec<CommitReport>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COMMIT_COLUMNS} FROM commits WHERE repo_id = ?1 AND on_main = 1
             ORDER BY coalesce(committed_ms, 0), id"
        ))?;
        let rows = statement.query_map([repo_id], commit_report_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The linked commit `sha` (a full id) of the repository, if it was linked.
    pub fn commit_report(
        &self,
        repo_id: RepoId,
        sha: &str,
    ) -> Result<Option<CommitReport>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {COMMIT_COLUMNS} FROM commits WHERE repo_id = ?1 AND sha = ?2"
            ))?
            .query_row(params![repo_id, sha], commit_report_row)
            .optional()?)
    }

    /// What is known of each of `ids` (ids never recorded in this database are left out).
    pub fn interaction_infos<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, InteractionInfo>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT i.id, i.source, i.agent, coalesce(i.model, h.model), i.session_id,
                i.first_prompt, h.transcript_path
             FROM interactions AS i LEFT JOIN hook_sessions AS h ON h.interaction_id = i.id
             WHERE i.id = ?1",
        )?;
        let mut infos = HashMap::new();
        for id in ids {
            if infos.contains_key(id) {
                continue;
            }
            let info = statement
                .query_row([id], |row| {
                    Ok(InteractionInfo {
                        id: InteractionId::new(&row.get::<_, String>(0)?),
                        source: row.get(1)?,
                        agent: row.get(2)?,
                        model: row.get(3)?,
                        session_id: row.get(4)?,
                        first_prompt: row.get(5)?,
                        transcript_path: row.get(6)?,
                    })
                })
                .optional()?;
            if let Some(info) = info {
                infos.insert(id.to_owned(), info);
            }
        }
        Ok(infos)
    }

    /// How `commit_sha`'s work reached main in `main_sha`, if it did.
    pub fn landing(
        &self,
        repo_id: RepoId,
        commit_sha: &str,
        main_sha: &str,
    ) -> Result<Option<Landing>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT commit_sha, main_sha, via, lines, landed_ms FROM landings
                 WHERE repo_id = ?1 AND commit_sha = ?2 AND main_sha = ?3",
            )?
            .query_row(params![repo_id, commit_sha, main_sha], |row| {
                Ok(Landing {
                    commit_sha: row.get(0)?,
                    main_sha: row.get(1)?,
                    via: row.get(2)?,
                    lines: row.get(3)?,
                    landed_ms: row.get(4)?,
                })
            })
            .optional()?)
    }

    /// The `limit` most recently created interactions with AI lines in commits on main (in any
    /// repository), newest first, each with its prompts, edits, tallies and those commits.
    /// Interactions named by `commit_lines` but recorded in another database are left out.
    pub fn landed_interactions(&self, limit: usize) -> Result<Vec<LandedInteraction>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let summaries = {
            let mut statement = tx.prepare_cached(
                "SELECT i.id, i.source, i.agent, i.model, i.agent_version, i.session_id,
                     i.repo_id, r.root, i.base_commit, i.branch, i.cwd, i.first_prompt,
                     i.turn_count, i.created_ms, i.updated_ms
                 FROM interactions AS i LEFT JOIN repositories AS r ON r.id = i.repo_id
                 WHERE i.id IN (
                     SELECT l.interaction_id FROM commit_lines AS l
                     JOIN commits AS c ON c.id = l.commit_id
                     WHERE c.on_main = 1 AND l.interaction_id IS NOT NULL
                         AND l.class IN ('ai', 'ai_modified'))
                 ORDER BY i.created_ms DESC, i.rowid DESC LIMIT ?1",
            )?;
            let rows = statement.query_map([limit], super::queries::summary_row)?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut landed = Vec::with_capacity(summaries.len());
        for mut interaction in summaries {
            super::queries::fill_details(&tx, &mut interaction)?;
            let commits = landed_lines(&tx, interaction.id.as_str())?;
            landed.push(LandedInteraction {
                interaction,
                landed: commits,
            });
        }
        drop(tx);
        Ok(landed)
    }
}

fn commit_report_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CommitReport> {
    Ok(CommitReport {
        id: row.get(0)?,
        sha: row.get(1)?,
        parents: row
            .get::<_, String>(2)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        author: row.get(3)?,
        author_ms: row.get(4)?,
        committed_ms: row.get(5)?,
        summary: row.get(6)?,
        on_main: row.get(7)?,
        landed_sha: row.get(8)?,
        landed_ms: row.get(9)?,
        replaced_by: row.get(10)?,
        reverts_sha: row.get(11)?,
        lines_added: row.get(12)?,
        lines_excluded: row.get(13)?,
    })
}

/// The AI lines of interaction `id` in commits on main, by commit (oldest first) and way of
/// landing.
fn landed_lines(conn: &Connection, id: &str) -> Result<Vec<LandedLines>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT r.root, c.sha, c.summary, coalesce(c.committed_ms, 0),
             coalesce(g.via, 'reachable') AS via, l.class,
             sum(l.end_line - l.start_line + 1)
         FROM commit_lines AS l
         JOIN commits AS c ON c.id = l.commit_id
         JOIN repositories AS r ON r.id = c.repo_id
         LEFT JOIN landings AS g
             ON g.repo_id = c.repo_id AND g.commit_sha = l.source_sha AND g.main_sha = c.sha
         WHERE l.interaction_id = ?1 AND c.on_main = 1 AND l.class IN ('ai', 'ai_modified')
         GROUP BY c.id, via, l.class
         ORDER BY 4, c.id, via",
    )?;
    let rows = statement.query_map([id], |row| {
        Ok((
            LandedLines {
                repo_root: row.get(0)?,
                commit: row.get(1)?,
                summary: row.get(2)?,
                committed_ms: row.get(3)?,
                via: row.get(4)?,
                ai: 0,
                ai_modified: 0,
            },
            row.get::<_, String>(5)?,
            row.get::<_, i64>(6)?,
        ))
    })?;
    let mut landed: Vec<LandedLines> = Vec::new();
    for row in rows {
        let (entry, class, lines) = row?;
        let lines = u64::try_from(lines).unwrap_or(0);
        let continues = landed.last().is_some_and(|last| {
            last.repo_root == entry.repo_root
                && last.commit == entry.commit
                && last.via == entry.via
        });
        if !continues {
            landed.push(entry);
        }
        let Some(target) = landed.last_mut() else {
            continue;
        };
        match LineClass::parse(&class) {
            Some(LineClass::Ai) => target.ai += lines,
            Some(LineClass::AiModified) => target.ai_modified += lines,
            _ => {}
        }
    }
    Ok(landed)
}
