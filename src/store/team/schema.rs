//! The team store's schema in PostgreSQL: an add-only list of migrations, like the SQLite one.
//!
//! The team store is a per-device replica of each pushing store: every table has a `device`
//! column first, and each local key (integer ids, interaction ids, `(repo_id, sha)`, …) is unique
//! only together with it. Columns keep their SQLite names and meaning (`docs/schema.md`), so one
//! description serves both; the additions are the device, the identity of repositories (root
//! commit, remote URL), the hashes that stand in for prompts when a device sends none, and the
//! bookkeeping of pushes (`devices`, `sync_marks`).
//!
//! Migrations run under a transaction-scoped advisory lock, so two devices pushing to a new
//! database at once never apply the same one twice; the version is the row count of
//! `prodcode_migrations`.

use postgres::Transaction;

use super::TeamError;

/// The advisory lock key migrations hold ("prod" in ASCII, as the SQLite `application_id`).
const MIGRATION_LOCK: i64 = 0x7072_6f64;

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the event log of every device, the rows derived from it, and push bookkeeping.
    "
    CREATE TABLE prodcode_store (
        singleton  integer PRIMARY KEY CHECK (singleton = 0),
        store_id   text NOT NULL,
        created_ms bigint NOT NULL
    );
    INSERT INTO prodcode_store (singleton, store_id, created_ms)
    VALUES (0, md5(random()::text || clock_timestamp()::text),
            (extract(epoch FROM now()) * 1000)::bigint);

    CREATE TABLE devices (
        device        text PRIMARY KEY,
        first_push_ms bigint NOT NULL,
        last_push_ms  bigint NOT NULL,
        head_id       bigint NOT NULL DEFAULT 0,
        head_hash     text NOT NULL
            DEFAULT '0000000000000000000000000000000000000000000000000000000000000000'
    );

    CREATE TABLE sync_marks (
        device text NOT NULL REFERENCES devices (device),
        tbl    text NOT NULL,
        mark   bigint NOT NULL,
        PRIMARY KEY (device, tbl)
    );

    CREATE TABLE events (
        device    text NOT NULL,
        id        bigint NOT NULL,
        ts_ms     bigint NOT NULL,
        source    text NOT NULL,
        kind      text NOT NULL,
        payload   text,
        withheld  text,
        prev_hash text NOT NULL,
        hash      text NOT NULL,
        PRIMARY KEY (device, id)
    );

    CREATE TABLE repositories (
        device        text NOT NULL,
        id            bigint NOT NULL,
        root          text NOT NULL,
        root_commit   text,
        remote_url    text,
        first_seen_ms bigint NOT NULL,
        last_seen_ms  bigint NOT NULL,
        PRIMARY KEY (device, id)
    );
    CREATE INDEX repositories_by_root_commit ON repositories (root_commit);
    CREATE INDEX repositories_by_remote_url ON repositories (remote_url);

    CREATE TABLE interactions (
        device              text NOT NULL,
        id                  text NOT NULL,
        source              text NOT NULL,
        agent               text,
        model               text,
        agent_version       text,
        session_id          text,
        repo_id             bigint,
        base_commit         text,
        branch              text,
        cwd                 text,
        first_prompt        text,
        first_prompt_sha256 text,
        turn_count          bigint NOT NULL,
        created_ms          bigint NOT NULL,
        updated_ms          bigint NOT NULL,
        first_event_id      bigint,
        PRIMARY KEY (device, id)
    );
    CREATE INDEX interactions_by_repo ON interactions (device, repo_id);

    CREATE TABLE prompts (
        device         text NOT NULL,
        interaction_id text NOT NULL,
        turn           bigint NOT NULL,
        text           text,
        text_sha256    text,
        ts_ms          bigint NOT NULL,
        event_id       bigint NOT NULL,
        PRIMARY KEY (device, interaction_id, turn)
    );

    CREATE TABLE prompt_redactions (
        device         text NOT NULL,
        interaction_id text NOT NULL,
        turn           bigint NOT NULL,
        kind           text NOT NULL,
        count          bigint NOT NULL,
        PRIMARY KEY (device, interaction_id, turn, kind)
    );

    CREATE TABLE hook_sessions (
        device          text NOT NULL,
        interaction_id  text NOT NULL,
        agent           text NOT NULL,
        session_id      text NOT NULL,
        model           text,
        agent_version   text,
        transcript_path text,
        cwd             text,
        first_ms        bigint NOT NULL,
        last_ms         bigint NOT NULL,
        closed_ms       bigint,
        close_reason    text,
        first_event_id  bigint NOT NULL,
        last_event_id   bigint NOT NULL,
        PRIMARY KEY (device, interaction_id)
    );

    CREATE TABLE ai_edits (
        device         text NOT NULL,
        id             bigint NOT NULL,
        interaction_id text NOT NULL,
        path           text NOT NULL,
        repo_id        bigint,
        rel_path       text,
        kind           text NOT NULL,
        lines_added    bigint NOT NULL,
        detail         text,
        ts_ms          bigint NOT NULL,
        event_id       bigint NOT NULL,
        PRIMARY KEY (device, id)
    );
    CREATE INDEX ai_edits_by_interaction ON ai_edits (device, interaction_id);

    CREATE TABLE line_tally (
        device         text NOT NULL,
        interaction_id text NOT NULL,
        path           text NOT NULL,
        added          bigint NOT NULL,
        modified       bigint NOT NULL,
        deleted        bigint NOT NULL,
        PRIMARY KEY (device, interaction_id, path)
    );

    CREATE TABLE provenance_snapshots (
        device       text NOT NULL,
        id           bigint NOT NULL,
        path         text NOT NULL,
        repo_id      bigint,
        rel_path     text,
        content_hash text NOT NULL,
        runs         text NOT NULL,
        ts_ms        bigint NOT NULL,
        event_id     bigint NOT NULL,
        PRIMARY KEY (device, id)
    );

    CREATE TABLE tool_calls (
        device         text NOT NULL,
        id             bigint NOT NULL,
        tool           text NOT NULL,
        arguments      text,
        duration_ms    bigint,
        outcome        text,
        interaction_id text,
        run_id         bigint,
        ts_ms          bigint NOT NULL,
        event_id       bigint,
        front          text,
        client         text,
        workspace      text,
        error          text,
        PRIMARY KEY (device, id)
    );

    CREATE TABLE commits (
        device         text NOT NULL,
        id             bigint NOT NULL,
        repo_id        bigint NOT NULL,
        sha            text NOT NULL,
        parent_sha     text,
        author_ms      bigint,
        committed_ms   bigint,
        summary        text,
        on_main        bigint NOT NULL,
        landed_sha     text,
        seen_ms        bigint NOT NULL,
        event_id       bigint,
        parents        text NOT NULL,
        author         text,
        patch_id       text,
        reverts_sha    text,
        replaced_by    text,
        landed_ms      bigint,
        lines_added    bigint NOT NULL,
        lines_excluded bigint NOT NULL,
        stash          bigint NOT NULL,
        PRIMARY KEY (device, id)
    );
    CREATE INDEX commits_by_repo ON commits (device, repo_id, sha);

    CREATE TABLE commit_files (
        device    text NOT NULL,
        commit_id bigint NOT NULL,
        path      text NOT NULL,
        old_path  text,
        status    text NOT NULL,
        added     bigint NOT NULL,
        removed   bigint NOT NULL,
        excluded  text,
        PRIMARY KEY (device, commit_id, path)
    );

    CREATE TABLE commit_lines (
        device         text NOT NULL,
        commit_id      bigint NOT NULL,
        path           text NOT NULL,
        start_line     bigint NOT NULL,
        end_line       bigint NOT NULL,
        class          text NOT NULL,
        interaction_id text,
        evidence       text NOT NULL,
        source_sha     text,
        PRIMARY KEY (device, commit_id, path, start_line)
    );

    CREATE TABLE line_fingerprints (
        device         text NOT NULL,
        repo_id        bigint NOT NULL,
        fingerprint    bigint NOT NULL,
        commit_id      bigint NOT NULL,
        line           bigint NOT NULL,
        class          text NOT NULL,
        interaction_id text,
        PRIMARY KEY (device, commit_id, fingerprint, line)
    );

    CREATE TABLE landings (
        device     text NOT NULL,
        repo_id    bigint NOT NULL,
        commit_sha text NOT NULL,
        main_sha   text NOT NULL,
        via        text NOT NULL,
        lines      bigint NOT NULL,
        landed_ms  bigint NOT NULL,
        PRIMARY KEY (device, repo_id, commit_sha, main_sha)
    );
    ",
];

/// The schema version this prodcode writes.
pub const TEAM_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database to [`TEAM_SCHEMA_VERSION`]; refuses one that is newer. Returns the
/// store's id (random, made by the first migration), which names this database in the local
/// record of what was pushed where.
pub(super) fn migrate(client: &mut postgres::Client) -> Result<String, TeamError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS prodcode_migrations (
             version    integer PRIMARY KEY,
             applied_ms bigint NOT NULL
         )",
    )?;
    let found = version(&mut tx)?;
    if found > TEAM_SCHEMA_VERSION {
        return Err(TeamError::NewerSchema {
            found,
            supported: TEAM_SCHEMA_VERSION,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(migration)?;
        let version = index as i32 + 1;
        tx.execute(
            "INSERT INTO prodcode_migrations (version, applied_ms)
             VALUES ($1, (extract(epoch FROM now()) * 1000)::bigint)",
            &[&version],
        )?;
    }
    let store_id: String = tx
        .query_one("SELECT store_id FROM prodcode_store", &[])?
        .get(0);
    tx.commit()?;
    Ok(store_id)
}

/// The schema version of the team store, without changing it (0 when it has none).
pub(super) fn current_version(client: &mut postgres::Client) -> Result<u32, TeamError> {
    let mut tx = client.transaction()?;
    let exists: bool = tx
        .query_one("SELECT to_regclass('prodcode_migrations') IS NOT NULL", &[])?
        .get(0);
    let found = if exists { version(&mut tx)? } else { 0 };
    tx.commit()?;
    Ok(found)
}

/// Whether this build can read the team store: an error when it is empty (nothing pushed yet)
/// or its schema is newer than this build's.
pub(super) fn ensure_readable(client: &mut postgres::Client) -> Result<(), TeamError> {
    let version = current_version(client)?;
    if version == 0 {
        return Err(TeamError::Empty);
    }
    if version > TEAM_SCHEMA_VERSION {
        return Err(TeamError::NewerSchema {
            found: version,
            supported: TEAM_SCHEMA_VERSION,
        });
    }
    Ok(())
}

fn version(tx: &mut Transaction<'_>) -> Result<u32, TeamError> {
    let count: i64 = tx
        .query_one("SELECT count(*) FROM prodcode_migrations", &[])?
        .get(0);
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/schema.md` describes the team store: every table it makes is named there, and the
    /// tables of its own (not replicas of SQLite tables) have every column in their section.
    #[test]
    fn docs_schema_md_documents_the_team_store() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md"))
            .expect("docs/schema.md");
        let team = &docs[docs
            .find("## The team store (PostgreSQL)")
            .expect("a team section")..];
        let mut missing = Vec::new();
        for migration in MIGRATIONS {
            for chunk in migration.split("CREATE TABLE ").skip(1) {
                let name = chunk.split_whitespace().next().unwrap();
                if !team.contains(&format!("`{name}`")) {
                    missing.push(name.to_owned());
                }
                let heading = format!("#### team `{name}`");
                let Some(start) = team.find(&heading) else {
                    continue;
                };
                let section = &team[start..];
                let section = &section[..section[1..].find("\n#").unwrap_or(section.len() - 1)];
                let body = &chunk[chunk.find('(').unwrap() + 1..chunk.find(");").unwrap()];
                for line in body.lines() {
                    let Some(column) = line.split_whitespace().next() else {
                        continue;
                    };
                    if column.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        && !matches!(column, "primary" | "unique")
                        && !section.contains(&format!("| `{column}` |"))
                    {
                        missing.push(format!("{name}.{column}"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "not documented: {missing:?}");
    }
}
