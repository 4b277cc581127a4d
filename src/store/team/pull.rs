//! Reading the team store: one repository's rows from every device, materialised into a local
//! SQLite file that the ordinary reads (`log`, `stats`, `curate`) then run on unchanged, so the
//! domain queries exist once (`docs/decisions.md`).
//!
//! The cache holds what one local store would hold had every device's sessions been recorded in
//! the clone being read:
//! - every device's repository with the same identity (root commit, or remote URL) becomes the
//!   one repository rooted at the local clone;
//! - interactions recorded there, or with lines in its commits, with their prompts, edits,
//!   tallies, hook sessions, redactions and tool calls (an interaction id that two devices both
//!   recorded keeps the first device's rows, in device order; prompts a device sent as hashes
//!   only stay out, as if never typed);
//! - commits merged by sha: the attribution of each file is the one of the device that
//!   attributed the most lines of it (the device whose sessions wrote them; the others saw the
//!   commit only as `untracked`), `on_main` and the landing are the first any device found;
//!   landings are the union. Integer ids are renumbered.
//!
//! Events, blobs and snapshots are not copied: the reads do not use them. The file is rebuilt
//! whole at each read, in one transaction, with foreign keys off for that connection (the
//! rows name events that stay on the server).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::params;

use super::super::Store;
use super::{RepoIdentity, TeamError, schema};

/// What a pull found.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PullReport {
    /// Devices with rows of the repository.
    pub devices: usize,
    pub interactions: u64,
    pub commits: u64,
}

/// Rebuilds the cache at `cache` with the team's rows of the repository `identity`, as the
/// repository rooted at `root`. Returns the report; open the cache to read it.
pub fn pull_repository(
    client: &mut postgres::Client,
    identity: &RepoIdentity,
    root: &str,
    cache: &Path,
) -> Result<PullReport, TeamError> {
    schema::ensure_readable(client)?;
    if identity.root_commit.is_none() && identity.remote_url.is_none() {
        return Err(TeamError::Url(format!(
            "{root} has neither a commit nor an `origin` remote: the team store knows repositories by their root commit or remote URL"
        )));
    }
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .start()?;
    tx.batch_execute(
        "CREATE TEMP TABLE pull_repos (device text, id bigint) ON COMMIT DROP;
         CREATE TEMP TABLE pull_interactions (device text, id text) ON COMMIT DROP;",
    )?;
    let repos = tx.execute(
        "INSERT INTO pull_repos SELECT device, id FROM repositories
         WHERE root_commit = $1 OR remote_url = $2",
        &[&identity.root_commit, &identity.remote_url],
    )?;
    let span = tx.query_one(
        "SELECT coalesce(min(first_seen_ms), 0), coalesce(max(last_seen_ms), 0),
             count(DISTINCT r.device)
         FROM repositories AS r JOIN pull_repos AS p USING (device, id)",
        &[],
    )?;
    let (first_seen, last_seen, devices): (i64, i64, i64) = (span.get(0), span.get(1), span.get(2));
    tx.execute(
        "INSERT INTO pull_interactions
         SELECT i.device, i.id FROM interactions AS i
         JOIN pull_repos AS p ON p.device = i.device AND p.id = i.repo_id
         UNION
         SELECT l.device, l.interaction_id FROM commit_lines AS l
         JOIN commits AS c ON c.device = l.device AND c.id = l.commit_id
         JOIN pull_repos AS p ON p.device = c.device AND p.id = c.repo_id
         WHERE l.interaction_id IS NOT NULL",
        &[],
    )?;

    for suffix in ["", "-wal", "-shm"] {
        let mut name = cache.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(TeamError::Local(super::super::StoreError::Io {
                    context: format!("cannot replace the team cache {}", cache.display()),
                    source,
                }));
            }
        }
    }
    let mut store = Store::open(cache)?;
    store.conn.pragma_update(None, "foreign_keys", "OFF")?;
    let mut report = PullReport {
        devices: usize::try_from(devices).unwrap_or(0),
        ..PullReport::default()
    };
    store.write(|writer| {
        let local = &writer.tx;
        if repos > 0 {
            local.execute(
                "INSERT INTO repositories (id, root, first_seen_ms, last_seen_ms)
                 VALUES (1, ?1, ?2, ?3)",
                params![root, first_seen, last_seen],
            )?;
        }
        let rows = query(
            &mut tx,
            "SELECT i.id, i.source, i.agent, i.model, i.agent_version, i.session_id,
                 (p.device IS NOT NULL), i.base_commit, i.branch, i.cwd, i.first_prompt,
                 i.turn_count, i.created_ms, i.updated_ms, i.device
             FROM interactions AS i
             JOIN pull_interactions AS w ON w.device = i.device AND w.id = i.id
             LEFT JOIN pull_repos AS p ON p.device = i.device AND p.id = i.repo_id
             ORDER BY i.device, i.id",
        )?;
        // Interaction id -> the device whose rows it keeps.
        let mut owner: HashMap<String, String> = HashMap::new();
        let mut insert = local.prepare(
            "INSERT OR IGNORE INTO interactions (id, source, agent, model, agent_version,
                 session_id, repo_id, base_commit, branch, cwd, first_prompt, turn_count,
                 created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        for row in &rows {
            let id: String = row.get(0);
            if owner.contains_key(&id) {
                continue;
            }
            owner.insert(id.clone(), row.get(14));
            let here: bool = row.get(6);
            insert.execute(params![
                id,
                row.get::<_, String>(1),
                row.get::<_, Option<String>>(2),
                row.get::<_, Option<String>>(3),
                row.get::<_, Option<String>>(4),
                row.get::<_, Option<String>>(5),
                here.then_some(1i64),
                row.get::<_, Option<String>>(7),
                row.get::<_, Option<String>>(8),
                row.get::<_, Option<String>>(9),
                row.get::<_, Option<String>>(10),
                row.get::<_, i64>(11),
                row.get::<_, i64>(12),
                row.get::<_, i64>(13),
            ])?;
        }
        report.interactions = owner.len() as u64;
        let owned = |row: &postgres::Row| {
            owner.get(&row.get::<_, String>(1)) == Some(&row.get::<_, String>(0))
        };

        // The rows of the interactions kept, each from the device that owns the interaction:
        // `(select, insert)`, the select's columns after `device` bound in order.
        let copies = [
            (
                "SELECT x.device, x.interaction_id, x.turn, x.text, x.ts_ms FROM prompts AS x
                 JOIN pull_interactions AS w ON w.device = x.device AND w.id = x.interaction_id
                 WHERE x.text IS NOT NULL ORDER BY x.device, x.interaction_id, x.turn",
                "INSERT OR IGNORE INTO prompts (interaction_id, turn, text, ts_ms, event_id)
                 VALUES (?1, ?2, ?3, ?4, 0)",
            ),
            (
                "SELECT x.device, x.interaction_id, x.turn, x.kind, x.count
                 FROM prompt_redactions AS x
                 JOIN pull_interactions AS w ON w.device = x.device AND w.id = x.interaction_id",
                "INSERT OR IGNORE INTO prompt_redactions (interaction_id, turn, kind, count)
                 VALUES (?1, ?2, ?3, ?4)",
            ),
            (
                "SELECT x.device, x.interaction_id, x.agent, x.session_id, x.model,
                     x.agent_version, x.transcript_path, x.cwd, x.first_ms, x.last_ms,
                     x.closed_ms, x.close_reason
                 FROM hook_sessions AS x
                 JOIN pull_interactions AS w ON w.device = x.device AND w.id = x.interaction_id",
                "INSERT OR IGNORE INTO hook_sessions (interaction_id, agent, session_id, model,
                     agent_version, transcript_path, cwd, first_ms, last_ms, closed_ms,
                     close_reason, first_event_id, last_event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0)",
            ),
            (
                // The one repository read is the cache's repository 1.
                "SELECT x.device, x.interaction_id, x.path,
                     CASE WHEN p.device IS NOT NULL THEN 1::int8 END, x.rel_path, x.kind,
                     x.lines_added, x.detail, x.ts_ms
                 FROM ai_edits AS x
                 JOIN pull_interactions AS w ON w.device = x.device AND w.id = x.interaction_id
                 LEFT JOIN pull_repos AS p ON p.device = x.device AND p.id = x.repo_id
                 ORDER BY x.ts_ms, x.device, x.id",
                "INSERT INTO ai_edits (interaction_id, path, repo_id, rel_path, kind, lines_added,
                     detail, ts_ms, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)",
            ),
            (
                "SELECT x.device, x.interaction_id, x.path, x.added, x.modified, x.deleted
                 FROM line_tally AS x
                 JOIN pull_interactions AS w ON w.device = x.device AND w.id = x.interaction_id",
                "INSERT OR IGNORE INTO line_tally (interaction_id, path, added, modified, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            ),
            (
                "SELECT x.device, x.interaction_id, x.tool, x.arguments, x.duration_ms,
                     x.outcome, x.ts_ms, x.front, x.client, x.workspace, x.error
                 FROM tool_calls AS x
                 JOIN pull_interactions AS w ON w.device = x.device AND w.id = x.interaction_id
                 ORDER BY x.ts_ms, x.device, x.id",
                "INSERT INTO tool_calls (interaction_id, tool, arguments, duration_ms, outcome,
                     ts_ms, front, client, workspace, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            ),
        ];
        for (select, insert) in copies {
            let mut insert = local.prepare(insert)?;
            for row in query(&mut tx, select)? {
                if owned(&row) {
                    let values = (1..row.len())
                        .map(|index| sqlite_value(&row, index))
                        .collect::<Result<Vec<_>, _>>()?;
                    insert.execute(rusqlite::params_from_iter(values))?;
                }
            }
        }

        report.commits = pull_commits(&mut tx, local)?;
        Ok(())
    })?;
    tx.commit()?;
    Ok(report)
}

/// The matched repositories' commits, merged by sha (see the module docs); returns how many.
fn pull_commits(
    tx: &mut postgres::Transaction<'_>,
    local: &rusqlite::Transaction<'_>,
) -> Result<u64, super::super::StoreError> {
    let commits = query(
        tx,
        "SELECT c.device, c.id, c.sha, c.parent_sha, c.author_ms, c.committed_ms, c.summary,
             c.on_main, c.landed_sha, c.seen_ms, c.parents, c.author, c.patch_id, c.reverts_sha,
             c.replaced_by, c.landed_ms, c.lines_added, c.lines_excluded, c.stash
         FROM commits AS c JOIN pull_repos AS p ON p.device = c.device AND p.id = c.repo_id
         ORDER BY c.sha, c.device",
    )?;
    // Per sha, the rows of every device, in device order.
    let mut by_sha: BTreeMap<String, Vec<&postgres::Row>> = BTreeMap::new();
    for row in &commits {
        by_sha.entry(row.get(2)).or_default().push(row);
    }
    // Per (device, commit id), its sha; per (sha, path, device), the attributed lines.
    let sha_of: HashMap<(String, i64), String> = commits
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect();
    let lines = query(
        tx,
        "SELECT l.device, l.commit_id, l.path, l.start_line, l.end_line, l.class,
             l.interaction_id, l.evidence, l.source_sha
         FROM commit_lines AS l
         JOIN commits AS c ON c.device = l.device AND c.id = l.commit_id
         JOIN pull_repos AS p ON p.device = c.device AND p.id = c.repo_id
         ORDER BY l.device, l.commit_id, l.path, l.start_line",
    )?;
    let mut attributed: HashMap<(String, String, String), i64> = HashMap::new();
    for row in &lines {
        let Some(sha) = sha_of.get(&(row.get(0), row.get(1))) else {
            continue;
        };
        let class: String = row.get(5);
        let count = if class == "ai" || class == "ai_modified" || class == "human" {
            row.get::<_, i64>(4) - row.get::<_, i64>(3) + 1
        } else {
            0
        };
        *attributed
            .entry((sha.clone(), row.get(2), row.get(0)))
            .or_default() += count;
    }
    // The device whose attribution of (sha, path) wins: the most attributed lines, then the
    // first device.
    let mut best: HashMap<(String, String), (i64, String)> = HashMap::new();
    for ((sha, path, device), count) in &attributed {
        let entry = best
            .entry((sha.clone(), path.clone()))
            .or_insert((*count, device.clone()));
        if *count > entry.0 || (*count == entry.0 && *device < entry.1) {
            *entry = (*count, device.clone());
        }
    }

    let mut new_id: HashMap<String, i64> = HashMap::new();
    let mut insert = local.prepare(
        "INSERT INTO commits (repo_id, sha, parent_sha, author_ms, committed_ms, summary,
             on_main, landed_sha, seen_ms, parents, author, patch_id, reverts_sha, replaced_by,
             landed_ms, lines_added, lines_excluded, stash)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         RETURNING id",
    )?;
    for (sha, rows) in &by_sha {
        let first = rows[0];
        let on_main = rows
            .iter()
            .map(|row| row.get::<_, i64>(7))
            .max()
            .unwrap_or(0);
        // The earliest landing any device found.
        let landed = rows
            .iter()
            .filter(|row| row.get::<_, Option<String>>(8).is_some())
            .min_by_key(|row| row.get::<_, Option<i64>>(15).unwrap_or(i64::MAX));
        let replaced_by = rows.iter().find_map(|row| row.get::<_, Option<String>>(14));
        let stash = rows
            .iter()
            .map(|row| row.get::<_, i64>(18))
            .min()
            .unwrap_or(0);
        let id: i64 = insert.query_row(
            params![
                sha,
                first.get::<_, Option<String>>(3),
                first.get::<_, Option<i64>>(4),
                first.get::<_, Option<i64>>(5),
                first.get::<_, Option<String>>(6),
                on_main,
                landed.and_then(|row| row.get::<_, Option<String>>(8)),
                rows.iter()
                    .map(|row| row.get::<_, i64>(9))
                    .min()
                    .unwrap_or(0),
                first.get::<_, String>(10),
                first.get::<_, Option<String>>(11),
                first.get::<_, Option<String>>(12),
                first.get::<_, Option<String>>(13),
                replaced_by,
                landed.and_then(|row| row.get::<_, Option<i64>>(15)),
                first.get::<_, i64>(16),
                first.get::<_, i64>(17),
                stash,
            ],
            |row| row.get(0),
        )?;
        new_id.insert(sha.clone(), id);
    }

    let mut insert = local.prepare(
        "INSERT OR IGNORE INTO commit_lines (commit_id, path, start_line, end_line, class,
             interaction_id, evidence, source_sha)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for row in &lines {
        let device: String = row.get(0);
        let Some(sha) = sha_of.get(&(device.clone(), row.get(1))) else {
            continue;
        };
        let path: String = row.get(2);
        let chosen = best
            .get(&(sha.clone(), path.clone()))
            .is_none_or(|(_, winner)| *winner == device);
        if !chosen {
            continue;
        }
        insert.execute(params![
            new_id[sha],
            path,
            row.get::<_, i64>(3),
            row.get::<_, i64>(4),
            row.get::<_, String>(5),
            row.get::<_, Option<String>>(6),
            row.get::<_, String>(7),
            row.get::<_, Option<String>>(8),
        ])?;
    }

    let mut insert = local.prepare(
        "INSERT OR IGNORE INTO commit_files (commit_id, path, old_path, status, added, removed,
             excluded)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for row in query(
        tx,
        "SELECT f.device, f.commit_id, f.path, f.old_path, f.status, f.added, f.removed,
             f.excluded
         FROM commit_files AS f
         JOIN commits AS c ON c.device = f.device AND c.id = f.commit_id
         JOIN pull_repos AS p ON p.device = c.device AND p.id = c.repo_id
         ORDER BY f.device",
    )? {
        let Some(sha) = sha_of.get(&(row.get(0), row.get(1))) else {
            continue;
        };
        insert.execute(params![
            new_id[sha],
            row.get::<_, String>(2),
            row.get::<_, Option<String>>(3),
            row.get::<_, String>(4),
            row.get::<_, i64>(5),
            row.get::<_, i64>(6),
            row.get::<_, Option<String>>(7),
        ])?;
    }

    let mut insert = local.prepare(
        "INSERT OR IGNORE INTO landings (repo_id, commit_sha, main_sha, via, lines, landed_ms)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
    )?;
    for row in query(
        tx,
        "SELECT l.commit_sha, l.main_sha, l.via, l.lines, l.landed_ms FROM landings AS l
         JOIN pull_repos AS p ON p.device = l.device AND p.id = l.repo_id
         ORDER BY l.landed_ms, l.device",
    )? {
        insert.execute(params![
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2),
            row.get::<_, i64>(3),
            row.get::<_, i64>(4),
        ])?;
    }
    Ok(by_sha.len() as u64)
}

/// Column `index` of a team-store row as the SQLite value it is copied as.
fn sqlite_value(
    row: &postgres::Row,
    index: usize,
) -> Result<rusqlite::types::Value, super::super::StoreError> {
    use postgres::types::Type;
    use rusqlite::types::Value;
    let column = &row.columns()[index];
    let value = match *column.type_() {
        Type::INT8 => row.get::<_, Option<i64>>(index).map(Value::Integer),
        Type::INT4 => row
            .get::<_, Option<i32>>(index)
            .map(|n| Value::Integer(n.into())),
        Type::BOOL => row
            .get::<_, Option<bool>>(index)
            .map(|b| Value::Integer(b.into())),
        Type::TEXT | Type::VARCHAR => row.get::<_, Option<String>>(index).map(Value::Text),
        Type::BYTEA => row.get::<_, Option<Vec<u8>>>(index).map(Value::Blob),
        ref other => {
            return Err(super::super::StoreError::Corrupt(format!(
                "the team store's column {} has type {other}, which the cache does not copy",
                column.name()
            )));
        }
    };
    Ok(value.unwrap_or(Value::Null))
}

/// A query on the team store inside the local write, whose error type is the local store's.
fn query(
    tx: &mut postgres::Transaction<'_>,
    sql: &str,
) -> Result<Vec<postgres::Row>, super::super::StoreError> {
    tx.query(sql, &[]).map_err(|error| {
        super::super::StoreError::Corrupt(format!(
            "cannot read the team store: {}",
            TeamError::from(error)
        ))
    })
}
