//! The schema, as an add-only list of migrations keyed by `PRAGMA user_version`.
//!
//! Migration `i` takes a database from version `i` to `i + 1`. Each one runs in its own
//! `BEGIN IMMEDIATE` transaction that re-reads the version and bumps it, so two processes opening
//! a fresh file at once cannot both apply it. Never edit a migration that has shipped: add a new
//! one (and document the change in `docs/schema.md`).

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// The schema version this binary writes and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// `PRAGMA application_id` of a prodcode database ("prod" in ASCII), so that prodcode never adds
/// its tables to another program's SQLite file named by mistake.
pub(super) const APPLICATION_ID: i64 = 0x7072_6f64;

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the append-only event log with its hash chain, and content-addressed blobs.
    "
    PRAGMA application_id = 1886547812;

    CREATE TABLE events (
        id        INTEGER PRIMARY KEY,
        ts_ms     INTEGER NOT NULL,
        source    TEXT NOT NULL,
        kind      TEXT NOT NULL,
        payload   TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    );
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

    CREATE TABLE chain_head (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 0),
        id        INTEGER NOT NULL,
        hash      TEXT NOT NULL
    );
    INSERT INTO chain_head (singleton, id, hash)
    VALUES (0, 0, '0000000000000000000000000000000000000000000000000000000000000000');

    CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    ",
    // 2: the domain tables the CLI and the curation pipeline read.
    "
    CREATE TABLE repositories (
        id            INTEGER PRIMARY KEY,
        root          TEXT NOT NULL UNIQUE,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms  INTEGER NOT NULL
    );

    CREATE TABLE interactions (
        id             TEXT PRIMARY KEY,
        source         TEXT NOT NULL,
        agent          TEXT,
        model          TEXT,
        agent_version  TEXT,
        session_id     TEXT,
        repo_id        INTEGER REFERENCES repositories (id),
        base_commit    TEXT,
        branch         TEXT,
        cwd            TEXT,
        first_prompt   TEXT,
        turn_count     INTEGER NOT NULL DEFAULT 0,
        created_ms     INTEGER NOT NULL,
        updated_ms     INTEGER NOT NULL,
        first_event_id INTEGER REFERENCES events (id)
    );
    CREATE INDEX interactions_by_created ON interactions (created_ms);
    CREATE INDEX interactions_by_repo ON interactions (repo_id);

    CREATE TABLE prompts (
        interaction_id TEXT NOT NULL REFERENCES interactions (id),
        turn           INTEGER NOT NULL,
        text           TEXT NOT NULL,
        ts_ms          INTEGER NOT NULL,
        event_id       INTEGER NOT NULL REFERENCES events (id),
        PRIMARY KEY (interaction_id, turn)
    );

    CREATE TABLE ai_edits (
        id             INTEGER PRIMARY KEY,
        interaction_id TEXT NOT NULL REFERENCES interactions (id),
        path           TEXT NOT NULL,
        repo_id        INTEGER REFERENCES repositories (id),
        rel_path       TEXT,
        kind           TEXT NOT NULL,
        lines_added    INTEGER NOT NULL,
        detail         TEXT,
        ts_ms          INTEGER NOT NULL,
        event_id       INTEGER NOT NULL REFERENCES events (id)
    );
    CREATE INDEX ai_edits_by_interaction ON ai_edits (interaction_id);
    CREATE INDEX ai_edits_by_path ON ai_edits (path);

    CREATE TABLE line_tally (
        interaction_id TEXT NOT NULL,
        path           TEXT NOT NULL,
        added          INTEGER NOT NULL DEFAULT 0,
        modified       INTEGER NOT NULL DEFAULT 0,
        deleted        INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (interaction_id, path)
    );

    CREATE TABLE provenance_snapshots (
        id           INTEGER PRIMARY KEY,
        path         TEXT NOT NULL,
        repo_id      INTEGER REFERENCES repositories (id),
        rel_path     TEXT,
        content_hash TEXT NOT NULL REFERENCES blobs (hash),
        runs         TEXT NOT NULL,
        ts_ms        INTEGER NOT NULL,
        event_id     INTEGER NOT NULL REFERENCES events (id)
    );
    CREATE INDEX provenance_snapshots_by_path ON provenance_snapshots (path, id);
    ",
    // 3: reserved for commit linking, tool-call recording and evaluation runs.
    "
    CREATE TABLE commits (
        id           INTEGER PRIMARY KEY,
        repo_id      INTEGER NOT NULL REFERENCES repositories (id),
        sha          TEXT NOT NULL,
        parent_sha   TEXT,
        author_ms    INTEGER,
        committed_ms INTEGER,
        summary      TEXT,
        on_main      INTEGER NOT NULL DEFAULT 0,
        landed_sha   TEXT,
        seen_ms      INTEGER NOT NULL,
        event_id     INTEGER REFERENCES events (id),
        UNIQUE (repo_id, sha)
    );

    CREATE TABLE commit_lines (
        commit_id      INTEGER NOT NULL REFERENCES commits (id),
        path           TEXT NOT NULL,
        start_line     INTEGER NOT NULL,
        end_line       INTEGER NOT NULL,
        class          TEXT NOT NULL,
        interaction_id TEXT,
        PRIMARY KEY (commit_id, path, start_line)
    );
    CREATE INDEX commit_lines_by_interaction ON commit_lines (interaction_id);

    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        task_id     TEXT NOT NULL,
        agent       TEXT NOT NULL,
        attempt     INTEGER NOT NULL,
        started_ms  INTEGER NOT NULL,
        finished_ms INTEGER,
        resolved    INTEGER,
        detail      TEXT
    );
    CREATE INDEX runs_by_task ON runs (task_id, agent);

    CREATE TABLE tool_calls (
        id             INTEGER PRIMARY KEY,
        tool           TEXT NOT NULL,
        arguments      TEXT,
        duration_ms    INTEGER,
        outcome        TEXT,
        interaction_id TEXT,
        run_id         INTEGER REFERENCES runs (id),
        ts_ms          INTEGER NOT NULL,
        event_id       INTEGER REFERENCES events (id)
    );
    CREATE INDEX tool_calls_by_interaction ON tool_calls (interaction_id);
    CREATE INDEX tool_calls_by_run ON tool_calls (run_id);
    ",
    // 4: bookkeeping of `prodcode import` (transcript files read, records imported).
    "
    CREATE TABLE import_files (
        path        TEXT PRIMARY KEY,
        agent       TEXT NOT NULL,
        size        INTEGER NOT NULL,
        mtime_ms    INTEGER NOT NULL,
        byte_offset INTEGER NOT NULL,
        lines       INTEGER NOT NULL,
        records     INTEGER NOT NULL,
        check_hash  TEXT NOT NULL,
        state       TEXT,
        updated_ms  INTEGER NOT NULL
    );

    CREATE TABLE import_keys (
        key            TEXT PRIMARY KEY,
        interaction_id TEXT NOT NULL,
        kind           TEXT NOT NULL,
        text_hash      TEXT,
        outcome        TEXT NOT NULL,
        event_id       INTEGER REFERENCES events (id),
        ts_ms          INTEGER NOT NULL
    );
    CREATE INDEX import_keys_by_interaction ON import_keys (interaction_id, kind, text_hash, outcome);
    ",
    // 5: agent hooks: sessions, open edit and shell brackets, the spool entries ingested, and
    // the secrets redacted from prompts.
    "
    CREATE TABLE hook_sessions (
        interaction_id  TEXT PRIMARY KEY,
        agent           TEXT NOT NULL,
        session_id      TEXT NOT NULL,
        model           TEXT,
        agent_version   TEXT,
        transcript_path TEXT,
        cwd             TEXT,
        first_ms        INTEGER NOT NULL,
        last_ms         INTEGER NOT NULL,
        closed_ms       INTEGER,
        close_reason    TEXT,
        first_event_id  INTEGER NOT NULL REFERENCES events (id),
        last_event_id   INTEGER NOT NULL REFERENCES events (id)
    );

    CREATE TABLE hook_brackets (
        id             INTEGER PRIMARY KEY,
        interaction_id TEXT NOT NULL,
        tool_use_id    TEXT,
        tool_name      TEXT NOT NULL,
        kind           TEXT NOT NULL,
        path           TEXT NOT NULL,
        manifest_hash  TEXT REFERENCES blobs (hash),
        opened_ms      INTEGER NOT NULL,
        open_event_id  INTEGER NOT NULL REFERENCES events (id),
        closed_ms      INTEGER,
        close_reason   TEXT,
        close_event_id INTEGER REFERENCES events (id)
    );
    CREATE INDEX hook_brackets_open_by_path ON hook_brackets (path) WHERE closed_ms IS NULL;
    CREATE INDEX hook_brackets_open_by_interaction ON hook_brackets (interaction_id)
        WHERE closed_ms IS NULL;

    CREATE TABLE hook_spool_ingested (
        name        TEXT PRIMARY KEY,
        event_id    INTEGER REFERENCES events (id),
        ingested_ms INTEGER NOT NULL
    );

    CREATE TABLE prompt_redactions (
        interaction_id TEXT NOT NULL,
        turn           INTEGER NOT NULL,
        kind           TEXT NOT NULL,
        count          INTEGER NOT NULL,
        PRIMARY KEY (interaction_id, turn, kind)
    );
    ",
    // 6: commit linking: what each commit changed and where its lines came from, content
    // fingerprints of attributed lines, landings on the main branch, and each repository's
    // link cursor.
    "
    ALTER TABLE commits ADD COLUMN parents TEXT NOT NULL DEFAULT '';
    ALTER TABLE commits ADD COLUMN author TEXT;
    ALTER TABLE commits ADD COLUMN patch_id TEXT;
    ALTER TABLE commits ADD COLUMN reverts_sha TEXT;
    ALTER TABLE commits ADD COLUMN replaced_by TEXT;
    ALTER TABLE commits ADD COLUMN landed_ms INTEGER;
    ALTER TABLE commits ADD COLUMN lines_added INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE commits ADD COLUMN lines_excluded INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX commits_by_patch_id ON commits (repo_id, patch_id) WHERE patch_id IS NOT NULL;

    ALTER TABLE commit_lines ADD COLUMN evidence TEXT NOT NULL DEFAULT 'none';
    ALTER TABLE commit_lines ADD COLUMN source_sha TEXT;

    CREATE TABLE commit_files (
        commit_id INTEGER NOT NULL REFERENCES commits (id),
        path      TEXT NOT NULL,
        old_path  TEXT,
        status    TEXT NOT NULL,
        added     INTEGER NOT NULL,
        removed   INTEGER NOT NULL,
        excluded  TEXT,
        PRIMARY KEY (commit_id, path)
    );

    CREATE TABLE line_fingerprints (
        repo_id        INTEGER NOT NULL REFERENCES repositories (id),
        fingerprint    INTEGER NOT NULL,
        commit_id      INTEGER NOT NULL REFERENCES commits (id),
        line           INTEGER NOT NULL,
        class          TEXT NOT NULL,
        interaction_id TEXT
    );
    CREATE INDEX line_fingerprints_by_value ON line_fingerprints (repo_id, fingerprint);
    CREATE INDEX line_fingerprints_by_commit ON line_fingerprints (commit_id);

    CREATE TABLE landings (
        repo_id    INTEGER NOT NULL REFERENCES repositories (id),
        commit_sha TEXT NOT NULL,
        main_sha   TEXT NOT NULL,
        via        TEXT NOT NULL,
        lines      INTEGER NOT NULL,
        landed_ms  INTEGER NOT NULL,
        PRIMARY KEY (repo_id, commit_sha, main_sha)
    );
    CREATE INDEX landings_by_main ON landings (repo_id, main_sha);

    CREATE TABLE link_state (
        repo_id    INTEGER PRIMARY KEY REFERENCES repositories (id),
        main_ref   TEXT,
        main_tip   TEXT,
        tips       TEXT NOT NULL,
        reflog_ms  INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    ",
    // 7: tool calls as the tool fronts record them: which front and client called, in which
    // workspace, and the error message of a failed call.
    "
    ALTER TABLE tool_calls ADD COLUMN front TEXT;
    ALTER TABLE tool_calls ADD COLUMN client TEXT;
    ALTER TABLE tool_calls ADD COLUMN workspace TEXT;
    ALTER TABLE tool_calls ADD COLUMN error TEXT;
    CREATE INDEX tool_calls_by_ts ON tool_calls (ts_ms);
    ",
    // 8: stash commits, linked only as evidence of what a `git stash pop` brings back (issue
    // 10); never listed, counted or landed.
    "
    ALTER TABLE commits ADD COLUMN stash INTEGER NOT NULL DEFAULT 0;
    ",
    // 9: blobs stored as deltas against another blob (a file's previous snapshot), so that an
    // agent editing a large file does not add a full copy per edit (issue 16). `data` holds the
    // delta when `base` is set; rows written before keep `base` NULL and their bytes.
    "
    ALTER TABLE blobs ADD COLUMN base TEXT REFERENCES blobs (hash);
    ALTER TABLE blobs ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
    ",
    // 10: the team store (issue 17): this store's device id, the digest of every updated-in-place
    // row as last pushed to each team store, and how each repository is known across machines.
    // Nothing on the capture path writes these; `prodcode sync` does.
    "
    CREATE TABLE sync_device (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 0),
        device     TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    INSERT INTO sync_device (singleton, device, created_ms)
    VALUES (0, lower(hex(randomblob(16))),
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

    CREATE TABLE sync_pushed (
        store_id TEXT NOT NULL,
        tbl      TEXT NOT NULL,
        key      TEXT NOT NULL,
        digest   INTEGER NOT NULL,
        PRIMARY KEY (store_id, tbl, key)
    ) WITHOUT ROWID;

    CREATE TABLE repository_identity (
        repo_id     INTEGER PRIMARY KEY REFERENCES repositories (id),
        root_commit TEXT,
        remote_url  TEXT,
        checked_ms  INTEGER NOT NULL
    );
    ",
];

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Refuses a SQLite file that another program has marked as its own.
pub(super) fn check_application_id(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let application_id: i64 = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(StoreError::ForeignDatabase {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Checks, by reading only, that the database at `path` is prodcode's (or empty) and not newer
/// than this binary: what [`super::Store::open`] asks before it changes anything about the file.
/// Returns the file's schema version.
pub(super) fn identify(conn: &Connection, path: &Path) -> Result<u32, StoreError> {
    let wrap = |source| super::open_error(path, source);
    // One read transaction: another process may be applying the first migration meanwhile, and
    // its tables must not be seen with the version from before it.
    let tx = conn.unchecked_transaction().map_err(wrap)?;
    let found = user_version(&tx).map_err(wrap)?;
    check_application_id(&tx, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == 0 {
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .map_err(wrap)?;
        if tables != 0 {
            return Err(StoreError::ForeignDatabase {
                path: path.to_owned(),
            });
        }
    }
    Ok(found)
}

/// Brings the database at `path` to version `target` (at most `MIGRATIONS.len()`), one migration
/// per transaction. Refuses a database newer than this binary.
pub(super) fn migrate(conn: &mut Connection, path: &Path, target: u32) -> Result<(), StoreError> {
    debug_assert!(target <= SCHEMA_VERSION);
    let newer = |found: u32| StoreError::NewerSchema {
        path: path.to_owned(),
        found,
        supported: SCHEMA_VERSION,
    };
    let foreign = || StoreError::ForeignDatabase {
        path: path.to_owned(),
    };
    check_application_id(conn, path)?;
    // The common case (already current) costs one read and no write lock.
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(newer(found));
    }
    if found >= target {
        return Ok(());
    }
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let current = user_version(&tx)?;
        if current > SCHEMA_VERSION {
            return Err(newer(current));
        }
        if current >= target {
            return Ok(());
        }
        if current == 0 {
            // A file at version 0 with tables in it belongs to someone else.
            let tables: i64 =
                tx.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
            if tables != 0 {
                return Err(foreign());
            }
        }
        tx.execute_batch(MIGRATIONS[current as usize])?;
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
}
