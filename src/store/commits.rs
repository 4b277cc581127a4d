//! Commit linking (`commits`, `commit_files`, `commit_lines`, `line_fingerprints`, `landings`,
//! `link_state`): what `link` writes about each commit and reads back to follow commits to the
//! main branch. Linking is derived data (recomputable from git and the event log), so none of it
//! goes through the hash-chained event log.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, params};

use super::{RepoId, Snapshot, Store, StoreError, Writer};
use crate::model::{ContentHash, LineClass, Provenance};

/// One commit as `link` records it.
pub struct NewCommit<'a> {
    pub repo_id: RepoId,
    pub sha: &'a str,
    pub parents: &'a [String],
    pub author: &'a str,
    pub author_ms: i64,
    pub committed_ms: i64,
    pub summary: &'a str,
    pub patch_id: Option<&'a str>,
    /// The commit this one reverts, from git's `This reverts commit <sha>.` line.
    pub reverts: Option<&'a str>,
    /// Added lines counted in reports (not in excluded files).
    pub lines_added: u32,
    /// Added lines in excluded files (lockfiles, generated, vendored, ignored).
    pub lines_excluded: u32,
    pub seen_ms: i64,
    /// A commit `git stash` made (the stash, its index or untracked-files commit): evidence of
    /// what a pop brings back, never anyone's commit.
    pub stash: bool,
}

/// One file a commit changed.
pub struct NewCommitFile<'a> {
    pub path: &'a str,
    pub old_path: Option<&'a str>,
    /// `added`, `modified`, `renamed` or `deleted`.
    pub status: &'a str,
    pub added: u32,
    pub removed: u32,
    /// Why the file is kept out of the totals (`lockfile`, `generated`, `ignored`, `binary`).
    pub excluded: Option<&'a str>,
}

/// How the provenance of a committed line was found.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Evidence {
    /// From the provenance recorded for the file (a snapshot saved by a capture channel).
    Snapshot,
    /// Copied from an earlier commit with the same patch id (a rebased or cherry-picked copy).
    PatchId,
    /// From the one provenance recorded for the same content at the same path in other commits.
    Fingerprint,
    /// Nothing recorded: the line is untracked.
    None,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Snapshot => "snapshot",
            Evidence::PatchId => "patch_id",
            Evidence::Fingerprint => "fingerprint",
            Evidence::None => "none",
        }
    }

    pub fn parse(name: &str) -> Evidence {
        match name {
            "snapshot" => Evidence::Snapshot,
            "patch_id" => Evidence::PatchId,
            "fingerprint" => Evidence::Fingerprint,
            _ => Evidence::None,
        }
    }
}

/// Consecutive added lines of one file with one provenance (line numbers 1-based, inclusive).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LineRange {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub provenance: Provenance,
    pub evidence: Evidence,
    /// The commit the provenance was taken from (patch id or fingerprint evidence).
    pub source_sha: Option<String>,
}

/// The content fingerprint of one attributed line (see `link::fingerprint`).
pub struct NewFingerprint<'a> {
    pub fingerprint: i64,
    pub line: u32,
    pub provenance: &'a Provenance,
}

/// A commit already linked.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LinkedCommit {
    pub id: i64,
    pub sha: String,
    pub on_main: bool,
    pub landed_sha: Option<String>,
    pub patch_id: Option<String>,
    pub replaced_by: Option<String>,
    pub committed_ms: i64,
    pub parents: Vec<String>,
    pub stash: bool,
}

impl LinkedCommit {
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// A recorded line with the same fingerprint, in another commit.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FingerprintMatch {
    pub sha: String,
    pub provenance: Provenance,
}

/// Where linking stopped last time in one repository.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct LinkState {
    pub main_ref: Option<String>,
    pub main_tip: Option<String>,
    /// `(ref, sha)` of every tip linked.
    pub tips: Vec<(String, String)>,
    /// The newest reflog entry read.
    pub reflog_ms: i64,
}

impl Writer<'_> {
    /// Records a commit with its files, line ranges and fingerprints. Returns `None` (writing
    /// nothing) when the commit is already linked, so two linkers racing is harmless.
    pub fn insert_commit(
        &mut self,
        commit: &NewCommit<'_>,
        files: &[NewCommitFile<'_>],
        ranges: &[LineRange],
        fingerprints: &[NewFingerprint<'_>],
    ) -> Result<Option<i64>, StoreError> {
        let parents = commit.parents.join(" ");
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO commits (repo_id, sha, parent_sha, parents, author, author_ms,
                committed_ms, summary, patch_id, reverts_sha, lines_added, lines_excluded, seen_ms,
                stash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (repo_id, sha) DO NOTHING",
            )?
            .execute(params![
                commit.repo_id,
                commit.sha,
                commit.parents.first(),
                parents,
                commit.author,
                commit.author_ms,
                commit.committed_ms,
                commit.summary,
                commit.patch_id,
                commit.reverts,
                commit.lines_added,
                commit.lines_excluded,
                commit.seen_ms,
                commit.stash,
            ])?;
        if inserted == 0 {
            return Ok(None);
        }
        let id = self.tx.last_insert_rowid();
        let mut statement = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO commit_files
                (commit_id, path, old_path, status, added, removed, excluded)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for file in files {
            statement.execute(params![
                id,
                file.path,
                file.old_path,
                file.status,
                file.added,
                file.removed,
                file.excluded
            ])?;
        }
        let mut statement = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO commit_lines
                (commit_id, path, start_line, end_line, class, interaction_id, evidence, source_sha)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for range in ranges {
            statement.execute(params![
                id,
                range.path,
                range.start_line,
                range.end_line,
                range.provenance.class().as_str(),
                range.provenance.interaction().map(|id| id.as_str()),
                range.evidence.as_str(),
                range.source_sha,
            ])?;
        }
        let mut statement = self.tx.prepare_cached(
            "INSERT INTO line_fingerprints
                (repo_id, fingerprint, commit_id, line, class, interaction_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for fingerprint in fingerprints {
            statement.execute(params![
                commit.repo_id,
                fingerprint.fingerprint,
                id,
                fingerprint.line,
                fingerprint.provenance.class().as_str(),
                fingerprint.provenance.interaction().map(|id| id.as_str()),
            ])?;
        }
        Ok(Some(id))
    }

    /// Records that `commit_sha`'s work reached main in `main_sha`. Returns whether this landing
    /// is new. The commit's `landed_sha` is set the first time it lands.
    pub fn record_landing(
        &mut self,
        repo_id: RepoId,
        commit_sha: &str,
        main_sha: &str,
        via: &str,
        lines: u32,
        landed_ms: i64,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO landings (repo_id, commit_sha, main_sha, via, lines, landed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (repo_id, commit_sha, main_sha) DO NOTHING",
            )?
            .execute(params![
                repo_id, commit_sha, main_sha, via, lines, landed_ms
            ])?;
        self.tx
            .prepare_cached(
                "UPDATE commits SET landed_sha = ?3, landed_ms = ?4
                 WHERE repo_id = ?1 AND sha = ?2 AND landed_sha IS NULL",
            )?
            .execute(params![repo_id, commit_sha, main_sha, landed_ms])?;
        Ok(inserted > 0)
    }

    /// Marks a linked commit as reachable from the main branch.
    pub fn mark_on_main(&mut self, repo_id: RepoId, sha: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE commits SET on_main = 1 WHERE repo_id = ?1 AND sha = ?2")?
            .execute(params![repo_id, sha])?;
        Ok(())
    }

    /// Records that `sha` was amended into `by`.
    pub fn mark_replaced(
        &mut self,
        repo_id: RepoId,
        sha: &str,
        by: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE commits SET replaced_by = ?3
                 WHERE repo_id = ?1 AND sha = ?2 AND replaced_by IS NULL",
            )?
            .execute(params![repo_id, sha, by])?;
        Ok(())
    }

    pub fn save_link_state(
        &mut self,
        repo_id: RepoId,
        state: &LinkState,
    ) -> Result<(), StoreError> {
        let tips: serde_json::Map<String, serde_json::Value> = state
            .tips
            .iter()
            .map(|(name, sha)| (name.clone(), serde_json::Value::from(sha.as_str())))
            .collect();
        self.tx
            .prepare_cached(
                "INSERT INTO link_state (repo_id, main_ref, main_tip, tips, reflog_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (repo_id) DO UPDATE SET main_ref = excluded.main_ref,
                    main_tip = excluded.main_tip, tips = excluded.tips,
                    reflog_ms = max(reflog_ms, excluded.reflog_ms), updated_ms = excluded.updated_ms",
            )?
            .execute(params![
                repo_id,
                state.main_ref,
                state.main_tip,
                serde_json::Value::Object(tips).to_string(),
                state.reflog_ms,
                crate::clock::now_ms(),
            ])?;
        Ok(())
    }
}

impl Store {
    /// The id of the repository with work tree `root`, if it was ever seen.
    pub fn repository_id(&self, root: &str) -> Result<Option<(RepoId, i64)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, first_seen_ms FROM repositories WHERE root = ?1")?
            .query_row([root], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }

    pub fn link_state(&self, repo_id: RepoId) -> Result<Option<LinkState>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT main_ref, main_tip, tips, reflog_ms FROM link_state WHERE repo_id = ?1",
            )?
            .query_row([repo_id], |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            })
            .optional()?;
        let Some((main_ref, main_tip, tips, reflog_ms)) = row else {
            return Ok(None);
        };
        let tips: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&tips)
            .map_err(|error| {
                StoreError::Corrupt(format!("link_state of repository {repo_id}: {error}"))
            })?;
        Ok(Some(LinkState {
            main_ref,
            main_tip,
            tips: tips
                .into_iter()
                .filter_map(|(name, sha)| Some((name, sha.as_str()?.to_owned())))
                .collect(),
            reflog_ms,
        }))
    }

    /// Every commit of the repository already linked.
    pub fn linked_shas(&self, repo_id: RepoId) -> Result<HashSet<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT sha FROM commits WHERE repo_id = ?1")?;
        let rows = statement.query_map([repo_id], |row| row.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn linked_commit(
        &self,
        repo_id: RepoId,
        sha: &str,
    ) -> Result<Option<LinkedCommit>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, sha, on_main, landed_sha, patch_id, replaced_by,
                    coalesce(committed_ms, 0), parents, stash
                 FROM commits WHERE repo_id = ?1 AND sha = ?2",
            )?
            .query_row(params![repo_id, sha], linked_commit_row)
            .optional()?)
    }

    /// Linked commits with patch id `patch_id`, oldest link first.
    pub fn commits_with_patch_id(
        &self,
        repo_id: RepoId,
        patch_id: &str,
    ) -> Result<Vec<LinkedCommit>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, sha, on_main, landed_sha, patch_id, replaced_by,
                coalesce(committed_ms, 0), parents, stash
             FROM commits WHERE repo_id = ?1 AND patch_id = ?2 ORDER BY id",
        )?;
        let rows = statement.query_map(params![repo_id, patch_id], linked_commit_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The attributed line ranges of a linked commit, by path and line.
    pub fn commit_line_ranges(&self, commit_id: i64) -> Result<Vec<LineRange>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT path, start_line, end_line, class, interaction_id, evidence, source_sha
             FROM commit_lines WHERE commit_id = ?1 ORDER BY path, start_line",
        )?;
        let rows = statement.query_map([commit_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, u32>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut ranges = Vec::new();
        for row in rows {
            let (path, start_line, end_line, class, interaction, evidence, source_sha) = row?;
            let class = LineClass::parse(&class).ok_or_else(|| {
                StoreError::Corrupt(format!("commit_lines of commit {commit_id}: class {class}"))
            })?;
            ranges.push(LineRange {
                path,
                start_line,
                end_line,
                provenance: Provenance::from_parts(class, interaction.as_deref()),
                evidence: Evidence::parse(&evidence),
                source_sha,
            });
        }
        Ok(ranges)
    }

    /// The fingerprints of a linked commit's attributed lines, in line order.
    pub fn commit_fingerprints(&self, commit_id: i64) -> Result<Vec<i64>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT fingerprint FROM line_fingerprints WHERE commit_id = ?1 ORDER BY rowid",
        )?;
        let rows = statement.query_map([commit_id], |row| row.get::<_, i64>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// For each attributed line of commit `commit_id` (by fingerprint), the lines with the same
    /// fingerprint recorded by other commits that are not on main, were not amended away and
    /// are not stashes: the branch commits a squash commit may carry. One query, however many lines.
    pub fn branch_matches_of(
        &self,
        repo_id: RepoId,
        commit_id: i64,
    ) -> Result<HashMap<i64, Vec<FingerprintMatch>>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT own.fingerprint, c.sha, other.class, other.interaction_id
             FROM line_fingerprints AS own
             JOIN line_fingerprints AS other
                 ON other.repo_id = ?1 AND other.fingerprint = own.fingerprint
                 AND other.commit_id != own.commit_id
             JOIN commits AS c ON c.id = other.commit_id
             WHERE own.commit_id = ?2 AND c.on_main = 0 AND c.replaced_by IS NULL
                 AND c.stash = 0
             ORDER BY own.rowid, other.commit_id",
        )?;
        let rows = statement.query_map(params![repo_id, commit_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut found: HashMap<i64, Vec<FingerprintMatch>> = HashMap::new();
        for row in rows {
            let (fingerprint, sha, class, interaction) = row?;
            let Some(class) = LineClass::parse(&class) else {
                continue;
            };
            found
                .entry(fingerprint)
                .or_default()
                .push(FingerprintMatch {
                    sha,
                    provenance: Provenance::from_parts(class, interaction.as_deref()),
                });
        }
        Ok(found)
    }

    /// How many fingerprinted lines each of `shas` recorded (commits never linked are absent).
    pub fn fingerprint_totals(
        &self,
        repo_id: RepoId,
        shas: &[&str],
    ) -> Result<HashMap<String, u32>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT count(f.commit_id) FROM commits c
             LEFT JOIN line_fingerprints f ON f.commit_id = c.id
             WHERE c.repo_id = ?1 AND c.sha = ?2 GROUP BY c.id",
        )?;
        let mut totals = HashMap::new();
        for sha in shas {
            let count: Option<u32> = statement
                .query_row(params![repo_id, sha], |row| row.get(0))
                .optional()?;
            if let Some(count) = count {
                totals.insert((*sha).to_owned(), count);
            }
        }
        Ok(totals)
    }

    /// The recorded lines of other commits with each of `fingerprints`.
    pub fn fingerprint_matches(
        &self,
        repo_id: RepoId,
        fingerprints: &[i64],
    ) -> Result<HashMap<i64, Vec<FingerprintMatch>>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT c.sha, f.class, f.interaction_id
             FROM line_fingerprints f JOIN commits c ON c.id = f.commit_id
             WHERE f.repo_id = ?1 AND f.fingerprint = ?2 ORDER BY f.commit_id",
        )?;
        let mut found: HashMap<i64, Vec<FingerprintMatch>> = HashMap::new();
        let wanted: HashSet<i64> = fingerprints.iter().copied().collect();
        for fingerprint in wanted {
            let rows = statement.query_map(params![repo_id, fingerprint], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            })?;
            for row in rows {
                let (sha, class, interaction) = row?;
                let Some(class) = LineClass::parse(&class) else {
                    continue;
                };
                found
                    .entry(fingerprint)
                    .or_default()
                    .push(FingerprintMatch {
                        sha,
                        provenance: Provenance::from_parts(class, interaction.as_deref()),
                    });
            }
        }
        Ok(found)
    }

    /// Up to `limit` snapshots of `path` saved at or before `at_ms`, newest first, as their ids
    /// and content hashes (cheap: no text).
    pub fn snapshot_ids_before(
        &self,
        path: &str,
        at_ms: i64,
        limit: usize,
    ) -> Result<Vec<(i64, ContentHash)>, StoreError> {
        self.snapshot_ids(
            "SELECT id, content_hash FROM provenance_snapshots
             WHERE path = ?1 AND ts_ms <= ?2 ORDER BY id DESC LIMIT ?3",
            path,
            at_ms,
            limit,
        )
    }

    /// Up to `limit` snapshots of `path` saved after `at_ms`, oldest first, as their ids and
    /// content hashes.
    pub fn snapshot_ids_after(
        &self,
        path: &str,
        at_ms: i64,
        limit: usize,
    ) -> Result<Vec<(i64, ContentHash)>, StoreError> {
        self.snapshot_ids(
            "SELECT id, content_hash FROM provenance_snapshots
             WHERE path = ?1 AND ts_ms > ?2 ORDER BY id LIMIT ?3",
            path,
            at_ms,
            limit,
        )
    }

    fn snapshot_ids(
        &self,
        sql: &str,
        path: &str,
        at_ms: i64,
        limit: usize,
    ) -> Result<Vec<(i64, ContentHash)>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map(params![path, at_ms, limit as i64], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut found = Vec::new();
        for row in rows {
            let (id, hash) = row?;
            let hash = ContentHash::from_hex(&hash)
                .ok_or_else(|| StoreError::Corrupt(format!("snapshot {id}: hash {hash:?}")))?;
            found.push((id, hash));
        }
        Ok(found)
    }

    /// One snapshot by id, with its text when the blob is present.
    pub fn snapshot(&self, id: i64) -> Result<Option<Snapshot>, StoreError> {
        super::queries::snapshot_by_id(&self.conn, id)
    }
}

fn linked_commit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LinkedCommit> {
    Ok(LinkedCommit {
        id: row.get(0)?,
        sha: row.get(1)?,
        on_main: row.get(2)?,
        landed_sha: row.get(3)?,
        patch_id: row.get(4)?,
        replaced_by: row.get(5)?,
        committed_ms: row.get(6)?,
        parents: row
            .get::<_, String>(7)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        stash: row.get(8)?,
    })
}
