//! Tests of the store at its boundary: real SQLite files in temporary directories, changed
//! behind the store's back with raw SQL where a test needs tampering or an old schema.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};

use super::schema::{MIGRATIONS, migrate};
use super::*;
use crate::model::{LineClass, Provenance};

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/dir/prodcode.db");
    (dir, path)
}

fn event(n: usize) -> (String, String) {
    (format!("kind{}", n % 3), format!("{{\"n\":{n}}}"))
}

/// Appends `count` events in one transaction and returns their ids.
fn append(store: &mut Store, count: usize) -> Vec<EventId> {
    store
        .write(|writer| {
            (0..count)
                .map(|n| {
                    let (kind, payload) = event(n);
                    writer.append_event(&NewEvent {
                        ts_ms: 1_700_000_000_000 + n as i64,
                        source: "test",
                        kind: &kind,
                        payload: &payload,
                    })
                })
                .collect()
        })
        .expect("append")
}

/// Runs SQL on the file behind the store's back, as someone editing the history would: with the
/// append-only triggers dropped first.
fn tamper(path: &Path, sql: &str) {
    let conn = Connection::open(path).expect("open raw");
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;",
    )
    .expect("drop triggers");
    conn.execute_batch(sql).expect("tamper");
}

fn problem(store: &Store) -> Option<(EventId, ProblemKind)> {
    let verification = store.verify().expect("verify");
    verification
        .problem
        .map(|problem| (problem.event_id, problem.kind))
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    move |name| {
        vars.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| OsString::from(value))
    }
}

#[test]
fn default_path_prefers_prodcode_db_then_xdg_then_home() {
    let check = |vars: &[(&str, &str)]| default_path_from(env(vars)).ok();
    let all = [
        ("PRODCODE_DB", "/x/db.sqlite"),
        ("XDG_DATA_HOME", "/data"),
        ("HOME", "/home/u"),
    ];
    assert_eq!(check(&all), Some(PathBuf::from("/x/db.sqlite")));
    assert_eq!(
        check(&[
            ("PRODCODE_DB", ""),
            ("XDG_DATA_HOME", "/data"),
            ("HOME", "/home/u")
        ]),
        Some(PathBuf::from("/data/prodcode/prodcode.db"))
    );
    assert_eq!(
        check(&[("XDG_DATA_HOME", "relative"), ("HOME", "/home/u")]),
        Some(PathBuf::from("/home/u/.local/share/prodcode/prodcode.db"))
    );
    assert_eq!(
        check(&[("HOME", "/home/u")]),
        Some(PathBuf::from("/home/u/.local/share/prodcode/prodcode.db"))
    );
    assert!(matches!(
        default_path_from(env(&[("HOME", "")])),
        Err(StoreError::NoDefaultPath)
    ));
}

#[cfg(unix)]
#[test]
fn open_creates_parents_and_a_private_file() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;

    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).expect("open");
    assert_eq!(store.path(), path);
    append(&mut store, 3);
    assert_eq!(mode(&path), 0o600);
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert_eq!(
        mode(&wal),
        0o600,
        "SQLite gives the WAL the database's mode"
    );

    // A file that exists with a looser mode is tightened.
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&path).expect("reopen");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(store.event_count().unwrap(), 3);
}

#[test]
fn open_sets_wal_and_current_schema() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).expect("open");
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let foreign_keys: i64 = store
        .conn
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .unwrap();
    assert_eq!(foreign_keys, 1);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION as usize, MIGRATIONS.len());
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let (dir, _) = temp_db();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
    let error = Store::open(&path).err().expect("must fail");
    assert!(matches!(&error, StoreError::NotADatabase { path: p } if *p == path));
    assert!(error.to_string().contains(&path.display().to_string()));
    let error = Store::open_read_only(&path).err().expect("must fail");
    assert!(matches!(error, StoreError::NotADatabase { .. }));
}

/// Everything about the schema that matters to a reader, independent of the SQL text.
fn schema_description(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let names = |sql: &str, arg: &str| -> Vec<String> {
        let mut statement = conn.prepare(sql).unwrap();
        statement
            .query_map([arg], |row| row.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let tables = names(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND ?1 = ?1 ORDER BY name",
        "",
    );
    for table in tables {
        out.push(format!("table {table}"));
        let mut columns = conn
            .prepare(
                "SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
            )
            .unwrap();
        let columns = columns
            .query_map([&table], |row| {
                Ok(format!(
                    "  column {} {} {} notnull={} default={:?} pk={}",
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            })
            .unwrap();
        out.extend(columns.map(Result::unwrap));
        let mut keys = conn
            .prepare("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
            .unwrap();
        let keys = keys
            .query_map([&table], |row| {
                Ok(format!(
                    "  foreign key {} -> {}.{:?}",
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            })
            .unwrap();
        out.extend(keys.map(Result::unwrap));
        let mut indexes = conn
            .prepare(
                "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) ORDER BY name",
            )
            .unwrap();
        let indexes: Vec<(String, String)> = indexes
            .query_map([&table], |row| {
                let name: String = row.get(0)?;
                let line = format!(
                    "  index {name} unique={} origin={} partial={}",
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                );
                Ok((name, line))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (index, line) in indexes {
            out.push(line);
            out.extend(
                names(
                    "SELECT coalesce(name, '<expr>') FROM pragma_index_info(?1) ORDER BY seqno",
                    &index,
                )
                .into_iter()
                .map(|column| format!("    on {column}")),
            );
        }
    }
    out.extend(names(
        "SELECT 'trigger ' || name || ' on ' || tbl_name FROM sqlite_schema
             WHERE type = 'trigger' AND ?1 = ?1 ORDER BY name",
        "",
    ));
    out
}

#[test]
fn upgrading_from_every_version_gives_the_fresh_schema() {
    let (_dir, fresh_path) = temp_db();
    let fresh = Store::open(&fresh_path).expect("open fresh");
    let expected = schema_description(&fresh.conn);
    assert!(
        expected
            .iter()
            .any(|line| line == "table provenance_snapshots")
    );

    for k in 0..MIGRATIONS.len() as u32 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path, k).expect("partial migration");
        assert_eq!(super::schema::user_version(&conn).unwrap(), k);
        if k >= 1 {
            // The event log exists from version 1: history written then must survive.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .unwrap();
            let mut writer = Writer {
                tx,
                head: None,
                head_moved: false,
                deltas: true,
            };
            for n in 0..3 {
                writer
                    .append_event(&NewEvent {
                        ts_ms: n,
                        source: "old",
                        kind: "k",
                        payload: "{}",
                    })
                    .unwrap();
            }
            writer.save_head().unwrap();
            writer.tx.commit().unwrap();
        }
        drop(conn);

        let store = Store::open(&path).expect("upgrade");
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(
            schema_description(&store.conn),
            expected,
            "upgraded from version {k}"
        );
        let verification = store.verify().unwrap();
        assert!(verification.is_ok());
        assert_eq!(verification.events_checked, if k >= 1 { 3 } else { 0 });
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let (_dir, path) = temp_db();
    drop(Store::open(&path).unwrap());
    let newer = SCHEMA_VERSION + 1;
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    for result in [Store::open(&path), Store::open_read_only(&path)] {
        match result {
            Err(StoreError::NewerSchema {
                path: p,
                found,
                supported,
            }) => {
                assert_eq!(p, path);
                assert_eq!((found, supported), (newer, SCHEMA_VERSION));
            }
            Err(other) => panic!("expected NewerSchema, got {other}"),
            Ok(_) => panic!("expected NewerSchema, the newer database was opened"),
        }
    }
}

/// Pins the hash encoding that `docs/schema.md` describes, so external verifiers stay correct.
#[test]
fn event_hash_follows_the_documented_encoding() {
    assert_eq!(
        chain::event_hash(
            chain::GENESIS_HASH,
            1,
            1_700_000_000_000,
            "lsp",
            "didOpen",
            "{}"
        ),
        "021b5c5418ac608c221547ee35586323bdc0feacda946d5b953ac86645563a92"
    );
    // Moving bytes between fields changes the hash: the encoding is unambiguous.
    assert_ne!(
        chain::event_hash(chain::GENESIS_HASH, 1, 0, "ab", "c", "{}"),
        chain::event_hash(chain::GENESIS_HASH, 1, 0, "a", "bc", "{}")
    );
}

#[test]
fn events_are_chained_from_64_zeros() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(append(&mut store, 3), vec![1, 2, 3]);
    assert_eq!(append(&mut store, 2), vec![4, 5]);
    let events = store.events_after(0, 100).unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(events[0].prev_hash, "0".repeat(64));
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let verification = store.verify().unwrap();
    assert!(verification.is_ok());
    assert_eq!(verification.events_checked, 5);
    assert_eq!(
        (verification.head_id, &verification.head_hash),
        (5, &events[4].hash)
    );
    assert_eq!(store.event_count().unwrap(), 5);
    assert_eq!(
        store
            .events_after(3, 1)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        vec![4]
    );
}

#[test]
fn an_empty_log_verifies() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path).unwrap();
    let verification = store.verify().unwrap();
    assert!(verification.is_ok());
    assert_eq!((verification.events_checked, verification.head_id), (0, 0));
}

#[test]
fn the_log_refuses_ordinary_updates_and_deletes() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 2);
    let conn = Connection::open(&path).unwrap();
    assert!(
        conn.execute("UPDATE events SET payload = '{}' WHERE id = 1", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM events WHERE id = 2", []).is_err());
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn verify_finds_an_edited_payload() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 10);
    tamper(
        &path,
        "UPDATE events SET payload = '{\"n\":99}' WHERE id = 4",
    );
    assert_eq!(problem(&store), Some((4, ProblemKind::Tampered)));
    assert_eq!(store.verify().unwrap().events_checked, 3);
}

#[test]
fn verify_finds_an_edit_that_recomputed_its_hash() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 10);
    let original = store.events_after(3, 1).unwrap().remove(0);
    let forged = chain::event_hash(&original.prev_hash, 4, 0, "test", &original.kind, "{}");
    tamper(
        &path,
        &format!("UPDATE events SET ts_ms = 0, payload = '{{}}', hash = '{forged}' WHERE id = 4"),
    );
    assert_eq!(problem(&store), Some((5, ProblemKind::BrokenLink)));
}

#[test]
fn verify_finds_a_rewritten_last_event() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 3);
    let last = store.events_after(2, 1).unwrap().remove(0);
    let forged = chain::event_hash(&last.prev_hash, 3, 0, "test", &last.kind, "{}");
    tamper(
        &path,
        &format!("UPDATE events SET ts_ms = 0, payload = '{{}}', hash = '{forged}' WHERE id = 3"),
    );
    assert_eq!(problem(&store), Some((3, ProblemKind::Tampered)));
}

#[test]
fn verify_finds_a_deleted_middle_event() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 10);
    tamper(&path, "DELETE FROM events WHERE id = 6");
    assert_eq!(problem(&store), Some((6, ProblemKind::Missing)));
}

#[test]
fn verify_finds_deleted_last_events() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 10);
    tamper(&path, "DELETE FROM events WHERE id = 10");
    assert_eq!(problem(&store), Some((10, ProblemKind::Missing)));
    tamper(&path, "DELETE FROM events WHERE id >= 8");
    assert_eq!(problem(&store), Some((8, ProblemKind::Missing)));
    tamper(&path, "DELETE FROM events");
    assert_eq!(problem(&store), Some((1, ProblemKind::Missing)));
}

#[test]
fn verify_finds_events_added_behind_the_chains_back() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 3);
    let head = store.verify().unwrap().head_hash;
    let hash = chain::event_hash(&head, 4, 0, "x", "x", "{}");
    tamper(
        &path,
        &format!(
            "INSERT INTO events (id, ts_ms, source, kind, payload, prev_hash, hash)
             VALUES (4, 0, 'x', 'x', '{{}}', '{head}', '{hash}')"
        ),
    );
    assert_eq!(problem(&store), Some((4, ProblemKind::Tampered)));
}

#[test]
fn a_failed_write_keeps_nothing_and_the_chain_continues() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    append(&mut store, 2);
    let result: Result<(), StoreError> = store.write(|writer| {
        writer.append_event(&NewEvent {
            ts_ms: 0,
            source: "test",
            kind: "lost",
            payload: "{}",
        })?;
        writer.put_blob(b"lost")?;
        Err(StoreError::Corrupt(
            "the caller changed its mind".to_owned(),
        ))
    });
    assert!(matches!(result, Err(StoreError::Corrupt(_))));
    assert_eq!(store.event_count().unwrap(), 2);
    assert_eq!(store.blob(&ContentHash::of(b"lost")).unwrap(), None);
    assert_eq!(append(&mut store, 1), vec![3]);
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn a_bad_reference_fails_the_write_with_an_error() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let result = store.write(|writer| {
        writer.record_ai_edit(&NewAiEdit {
            interaction_id: "i",
            path: "/p",
            repo_id: None,
            rel_path: None,
            kind: "ranges",
            lines_added: 1,
            detail: None,
            ts_ms: 0,
            event_id: 42,
        })
    });
    assert!(matches!(result, Err(StoreError::Sqlite(_))));
    assert_eq!(store.counts().unwrap(), Counts::default());
}

/// Several processes (here: threads with their own connections) appending to one fresh file at
/// once, in small transactions, must neither fail with `database is locked` nor fork the chain.
#[test]
fn concurrent_writers_share_one_chain() {
    const THREADS: usize = 4;
    const EVENTS: usize = 2_000;
    const PER_TRANSACTION: usize = 5;
    let (_dir, path) = temp_db();
    let start = std::sync::Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (path, start) = (&path, &start);
            scope.spawn(move || {
                start.wait();
                // Every thread opens (and so migrates) the fresh file at the same moment.
                let mut store = Store::open(path).expect("open");
                for batch in 0..EVENTS / PER_TRANSACTION {
                    // Odd threads behave like hook processes: open, write once, close.
                    if thread % 2 == 1 {
                        store = Store::open(path).expect("reopen");
                    }
                    store
                        .write(|writer| {
                            for n in 0..PER_TRANSACTION {
                                let payload = format!("{{\"thread\":{thread},\"n\":{batch}.{n}}}");
                                writer.append_event(&NewEvent {
                                    ts_ms: 0,
                                    source: "test",
                                    kind: "concurrent",
                                    payload: &payload,
                                })?;
                            }
                            Ok(())
                        })
                        .expect("write");
                }
            });
        }
    });
    let store = Store::open(&path).unwrap();
    let verification = store.verify().unwrap();
    assert!(verification.is_ok(), "{verification:?}");
    assert_eq!(verification.events_checked, (THREADS * EVENTS) as u64);
    assert_eq!(store.event_count().unwrap(), (THREADS * EVENTS) as u64);
}

fn log_event(writer: &mut Writer<'_>, kind: &str) -> EventId {
    writer
        .append_event(&NewEvent {
            ts_ms: 1_000,
            source: "lsp",
            kind,
            payload: "{}",
        })
        .unwrap()
}

fn prompt<'a>(id: &'a str, text: &'a str, event_id: EventId, ts_ms: i64) -> NewPrompt<'a> {
    NewPrompt {
        interaction_id: id,
        prompt: text,
        agent: None,
        model: None,
        agent_version: None,
        source: "hook",
        session_id: None,
        repo_id: None,
        base_commit: None,
        branch: None,
        cwd: None,
        ts_ms,
        event_id,
    }
}

#[test]
fn prompts_with_one_id_are_turns_of_one_interaction() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let turns = store
        .write(|writer| {
            let repo = writer.upsert_repository("/work/repo")?;
            let first = log_event(writer, "prompt");
            let one = writer.record_prompt(&NewPrompt {
                agent: Some("claude-code"),
                repo_id: Some(repo),
                branch: Some("main"),
                ..prompt("i1", "add a flag", first, 1_000)
            })?;
            let second = log_event(writer, "prompt");
            let two = writer.record_prompt(&NewPrompt {
                agent: Some("other"),
                model: Some("opus"),
                ..prompt("i1", "now test it", second, 2_000)
            })?;
            Ok((one, two))
        })
        .unwrap();
    assert_eq!(turns, (1, 2));
    let interactions = store.recent_interactions(10).unwrap();
    assert_eq!(interactions.len(), 1);
    let interaction = &interactions[0];
    assert_eq!(interaction.id.as_str(), "i1");
    assert_eq!(interaction.turn_count, 2);
    assert_eq!(interaction.first_prompt.as_deref(), Some("add a flag"));
    // Known fields are kept; unknown ones are filled by later turns.
    assert_eq!(interaction.agent.as_deref(), Some("claude-code"));
    assert_eq!(interaction.model.as_deref(), Some("opus"));
    assert_eq!(interaction.repo_root.as_deref(), Some("/work/repo"));
    assert_eq!(interaction.branch.as_deref(), Some("main"));
    assert_eq!(
        (interaction.created_ms, interaction.updated_ms),
        (1_000, 2_000)
    );
    let prompts: Vec<(u32, &str)> = interaction
        .prompts
        .iter()
        .map(|p| (p.turn, p.text.as_str()))
        .collect();
    assert_eq!(prompts, vec![(1, "add a flag"), (2, "now test it")]);
}

#[test]
fn an_edit_before_its_prompt_makes_a_placeholder_the_prompt_completes() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    store
        .write(|writer| {
            let edit_event = log_event(writer, "aiEditApplied");
            writer.record_ai_edit(&NewAiEdit {
                interaction_id: "i2",
                path: "/work/repo/src/a.rs",
                repo_id: None,
                rel_path: Some("src/a.rs"),
                kind: "ranges",
                lines_added: 3,
                detail: Some("{\"ranges\":[]}"),
                ts_ms: 500,
                event_id: edit_event,
            })?;
            Ok(())
        })
        .unwrap();
    let placeholder = &store.recent_interactions(1).unwrap()[0];
    assert_eq!((placeholder.turn_count, placeholder.prompts.len()), (0, 0));
    assert_eq!(placeholder.source, "lsp");
    assert_eq!(placeholder.first_prompt, None);

    let turn = store
        .write(|writer| {
            let event = log_event(writer, "prompt");
            writer.record_prompt(&prompt("i2", "refactor a", event, 400))
        })
        .unwrap();
    assert_eq!(turn, 1);
    let interaction = &store.recent_interactions(1).unwrap()[0];
    assert_eq!(interaction.turn_count, 1);
    assert_eq!(interaction.source, "hook");
    assert_eq!(interaction.first_prompt.as_deref(), Some("refactor a"));
    assert_eq!((interaction.created_ms, interaction.updated_ms), (400, 500));
    assert_eq!(
        interaction.ai_edits,
        vec![AiEditRecord {
            path: "/work/repo/src/a.rs".to_owned(),
            rel_path: Some("src/a.rs".to_owned()),
            kind: "ranges".to_owned(),
            lines_added: 3,
            detail: Some("{\"ranges\":[]}".to_owned()),
            ts_ms: 500,
            event_id: 1,
        }]
    );
}

#[test]
fn line_tallies_accumulate_per_interaction_and_file() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    store
        .write(|writer| {
            let event = log_event(writer, "prompt");
            writer.record_prompt(&prompt("i3", "p", event, 1))?;
            writer.add_line_tally("i3", "/b.rs", 5, 0, 0)?;
            writer.add_line_tally("i3", "/a.rs", 2, 0, 0)?;
            writer.add_line_tally("i3", "/b.rs", 0, 2, 1)?;
            Ok(())
        })
        .unwrap();
    store
        .write(|writer| writer.add_line_tally("i3", "/b.rs", 1, 0, 0))
        .unwrap();
    let tallies = &store.recent_interactions(1).unwrap()[0].line_tallies;
    let tally = |path: &str, added, modified, deleted| LineTally {
        path: path.to_owned(),
        added,
        modified,
        deleted,
    };
    assert_eq!(
        tallies,
        &vec![tally("/a.rs", 2, 0, 0), tally("/b.rs", 6, 2, 1)]
    );
}

#[test]
fn recent_interactions_are_newest_first_and_limited() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    store
        .write(|writer| {
            for (n, id) in ["old", "middle", "new"].into_iter().enumerate() {
                let event = log_event(writer, "prompt");
                writer.record_prompt(&prompt(id, "p", event, n as i64 * 10))?;
            }
            Ok(())
        })
        .unwrap();
    let ids: Vec<String> = store
        .recent_interactions(2)
        .unwrap()
        .iter()
        .map(|i| i.id.to_string())
        .collect();
    assert_eq!(ids, ["new", "middle"]);
    assert_eq!(
        store.counts().unwrap(),
        Counts {
            events: 3,
            interactions: 3,
            prompts: 3,
            ..Counts::default()
        }
    );
}

#[test]
fn blobs_are_stored_once() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let (a, b) = store
        .write(|writer| {
            Ok((
                writer.put_blob(b"fn main() {}\n")?,
                writer.put_blob(b"fn main() {}\n")?,
            ))
        })
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a, ContentHash::of(b"fn main() {}\n"));
    assert_eq!(
        store.blob(&a).unwrap().as_deref(),
        Some(&b"fn main() {}\n"[..])
    );
    assert_eq!(store.blob(&ContentHash::of(b"other")).unwrap(), None);
    let rows: i64 = store
        .conn
        .query_row("SELECT count(*) FROM blobs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn repositories_are_upserted_by_root() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let ids = store
        .write(|writer| {
            Ok([
                writer.upsert_repository("/a")?,
                writer.upsert_repository("/b")?,
                writer.upsert_repository("/a")?,
            ])
        })
        .unwrap();
    assert_eq!(ids[0], ids[2]);
    assert_ne!(ids[0], ids[1]);
    let repositories = store.repositories().unwrap();
    let roots: Vec<&str> = repositories.iter().map(|r| r.root.as_str()).collect();
    assert_eq!(roots, ["/a", "/b"]);
    assert!(
        repositories
            .iter()
            .all(|r| r.first_seen_ms <= r.last_seen_ms && r.first_seen_ms > 0)
    );
}

fn runs_of(parts: &[(u32, u32, Provenance)]) -> Vec<ProvenanceRun> {
    parts
        .iter()
        .map(|(start, end, provenance)| ProvenanceRun {
            start: *start,
            end: *end,
            provenance: provenance.clone(),
        })
        .collect()
}

fn save(store: &mut Store, path: &str, text: &str, runs: &[ProvenanceRun], ts_ms: i64) {
    store
        .write(|writer| {
            let event = log_event(writer, "didClose");
            writer.save_snapshot(&NewSnapshot {
                path,
                repo_id: None,
                rel_path: None,
                text: text.as_bytes(),
                runs,
                ts_ms,
                event_id: event,
            })
        })
        .unwrap();
}

#[test]
fn the_latest_snapshot_comes_back_with_text_and_runs() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    assert!(store.latest_snapshot("/f.rs").unwrap().is_none());
    let first = runs_of(&[(0, 2, Provenance::Human)]);
    save(&mut store, "/f.rs", "a\nb\n", &first, 10);
    let second = runs_of(&[
        (0, 1, Provenance::Ai(InteractionId::new("i"))),
        (1, 2, Provenance::AiModified(InteractionId::new("i"))),
        (2, 3, Provenance::Human),
        (3, 4, Provenance::Untracked),
    ]);
    save(&mut store, "/f.rs", "a\nb\nc\nd\n", &second, 20);
    save(&mut store, "/other.rs", "x\n", &first, 30);

    let snapshot = store.latest_snapshot("/f.rs").unwrap().expect("snapshot");
    assert_eq!(snapshot.path, "/f.rs");
    assert_eq!(snapshot.ts_ms, 20);
    assert_eq!(snapshot.content_hash, ContentHash::of(b"a\nb\nc\nd\n"));
    assert_eq!(snapshot.text.as_deref(), Some(&b"a\nb\nc\nd\n"[..]));
    assert_eq!(snapshot.runs, second);
    assert_eq!(store.counts().unwrap().snapshots, 3);
}

#[test]
fn stored_runs_use_the_documented_json() {
    let runs = runs_of(&[
        (0, 3, Provenance::Ai(InteractionId::new("x"))),
        (3, 4, Provenance::Human),
    ]);
    assert_eq!(
        super::runs::encode(&runs),
        r#"[{"start":0,"end":3,"class":"ai","interactionId":"x"},{"start":3,"end":4,"class":"human"}]"#
    );
}

#[test]
fn unreadable_runs_are_a_corrupt_error_naming_the_snapshot() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    save(
        &mut store,
        "/f.rs",
        "a\n",
        &runs_of(&[(0, 1, Provenance::Human)]),
        10,
    );
    let check = |runs: &str| {
        tamper(
            &path,
            &format!("UPDATE provenance_snapshots SET runs = '{runs}'"),
        );
        store.latest_snapshot("/f.rs")
    };
    for bad in [
        "not json",
        r#"[{"start":2,"end":1,"class":"human"}]"#,
        r#"[{"start":0,"end":2,"class":"human"},{"start":1,"end":3,"class":"human"}]"#,
        r#"[{"start":-1,"end":2,"class":"human"}]"#,
    ] {
        match check(bad) {
            Err(StoreError::Corrupt(message)) => {
                assert!(
                    message.contains("provenance snapshot 1 of /f.rs"),
                    "{message}"
                )
            }
            Err(other) => panic!("{bad}: expected Corrupt, got {other}"),
            Ok(_) => panic!("{bad}: expected Corrupt, got a snapshot"),
        }
    }
    // A class this binary does not know, and AI without an interaction, are no evidence.
    let snapshot =
        check(r#"[{"start":0,"end":1,"class":"robot"},{"start":1,"end":2,"class":"ai"}]"#)
            .unwrap()
            .unwrap();
    assert_eq!(
        snapshot.runs,
        runs_of(&[(0, 1, Provenance::Untracked), (1, 2, Provenance::Untracked)])
    );
    let class = LineClass::parse("ai_modified");
    assert_eq!(class, Some(LineClass::AiModified));
}

#[test]
fn read_only_stores_read_but_never_create_or_write() {
    let (dir, path) = temp_db();
    let missing = dir.path().join("missing.db");
    assert!(matches!(
        Store::open_read_only(&missing),
        Err(StoreError::Io { .. })
    ));
    assert!(!missing.exists());

    let mut store = Store::open(&path).unwrap();
    append(&mut store, 4);
    let mut reader = Store::open_read_only(&path).unwrap();
    assert_eq!(reader.event_count().unwrap(), 4);
    assert!(reader.verify().unwrap().is_ok());
    assert!(append_fails(&mut reader));
    // The reader sees what the writer commits later.
    append(&mut store, 1);
    assert_eq!(reader.event_count().unwrap(), 5);
}

fn append_fails(store: &mut Store) -> bool {
    store
        .write(|writer| {
            writer.append_event(&NewEvent {
                ts_ms: 0,
                source: "test",
                kind: "k",
                payload: "{}",
            })
        })
        .is_err()
}

#[test]
fn a_read_only_open_upgrades_an_old_schema_first() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut conn = Connection::open(&path).unwrap();
    migrate(&mut conn, &path, 1).unwrap();
    drop(conn);
    let reader = Store::open_read_only(&path).unwrap();
    assert_eq!(reader.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(reader.counts().unwrap(), Counts::default());
}

/// `docs/schema.md` is read by the curation pipeline: every table and column must be in it.
#[test]
fn docs_schema_md_documents_every_table_and_column() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.md"))
        .expect("docs/schema.md");
    let (_dir, path) = temp_db();
    let store = Store::open(&path).unwrap();
    let mut missing = Vec::new();
    let tables: Vec<String> = store
        .conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in tables {
        let heading = format!("### `{table}`");
        let Some(start) = docs.find(&heading) else {
            missing.push(heading);
            continue;
        };
        let section = &docs[start + heading.len()..];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        let columns: Vec<String> = store
            .conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .unwrap()
            .query_map([&table], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for column in columns {
            if !section.contains(&format!("| `{column}` |")) {
                missing.push(format!("{table}.{column}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not documented in docs/schema.md: {missing:?}"
    );
}

#[test]
fn another_programs_database_is_left_alone() {
    let (dir, _) = temp_db();
    // A database with tables but no version: prodcode must not add its tables to it.
    let unmarked = dir.path().join("unmarked.db");
    Connection::open(&unmarked)
        .unwrap()
        .execute_batch("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        .unwrap();
    // A database another program marked as its own.
    let marked = dir.path().join("marked.db");
    Connection::open(&marked)
        .unwrap()
        .pragma_update(None, "application_id", 42)
        .unwrap();
    for path in [&unmarked, &marked] {
        let error = Store::open(path).err().expect("must refuse");
        assert!(
            matches!(&error, StoreError::ForeignDatabase { path: p } if p == path),
            "{error}"
        );
        assert!(matches!(
            Store::open_read_only(path),
            Err(StoreError::ForeignDatabase { .. })
        ));
    }
    let tables: i64 = Connection::open(&unmarked)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .unwrap();
    assert_eq!(tables, 1);
    // A prodcode database carries the mark.
    let (_dir, path) = temp_db();
    let store = Store::open(&path).unwrap();
    let id: i64 = store
        .conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .unwrap();
    assert_eq!(id, super::schema::APPLICATION_ID);
}

#[test]
fn tool_calls_are_events_and_counted_by_interaction() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let call = |tool: &'static str, outcome: &'static str, interaction: Option<&'static str>| {
        NewToolCall {
            tool,
            arguments: "{\"names\":[\"adds\"]}",
            duration_ms: 12,
            outcome,
            error: (outcome != "ok").then_some("it failed"),
            interaction_id: interaction,
            // No such evaluation run: kept in the event, NULL in the row.
            run_id: Some(99),
            front: "mcp",
            client: Some("tests 1"),
            workspace: "/w",
            ts_ms: 1_700_000_000_000,
        }
    };
    store
        .write(|writer| {
            writer.record_tool_call(&call("run_tests", "ok", Some("i1")))?;
            writer.record_tool_call(&call("run_tests", "ok", Some("i1")))?;
            writer.record_tool_call(&call("get_diagnostics", "unavailable", Some("i1")))?;
            writer.record_tool_call(&call("search", "ok", None))
        })
        .unwrap();
    let counts = store
        .tool_call_counts(ToolCallScope::Interaction("i1"))
        .unwrap();
    let summary: Vec<(&str, &str, u64, u64)> = counts
        .iter()
        .map(|count| {
            (
                count.tool.as_str(),
                count.outcome.as_str(),
                count.calls,
                count.total_ms,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("get_diagnostics", "unavailable", 1, 12),
            ("run_tests", "ok", 2, 24)
        ]
    );
    assert_eq!(store.tool_call_counts(ToolCallScope::All).unwrap().len(), 3);
    assert!(
        store
            .tool_call_counts(ToolCallScope::Run(99))
            .unwrap()
            .is_empty()
    );
    let events: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'tool_call'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(events, 4);
    assert!(store.verify().unwrap().problem.is_none());
}

/// A realistic source file of `lines` lines, with line `n` at `versions[n]` (0 when absent).
fn source_file(lines: usize, versions: &std::collections::HashMap<usize, usize>) -> String {
    (0..lines)
        .map(|n| {
            let version = versions.get(&n).copied().unwrap_or(0);
            format!(
                "    let value_{n:04} = compute(\"row {n}\", {version}) + offset; // keep the width realistic\n"
            )
        })
        .collect()
}

/// The database's size in bytes once its write-ahead log is folded in.
fn checkpointed_size(path: &Path) -> u64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .unwrap();
    (pages * page_size) as u64
}

/// Saves 20 edits of a 5,000-line file as snapshots; returns every version saved.
fn save_twenty_edits(store: &mut Store) -> Vec<String> {
    let mut versions = std::collections::HashMap::new();
    let mut texts = vec![source_file(5_000, &versions)];
    for edit in 1..=20 {
        versions.insert((edit * 241) % 5_000, edit);
        texts.push(source_file(5_000, &versions));
    }
    let runs = runs_of(&[(0, 5_000, Provenance::Human)]);
    for (n, text) in texts.iter().enumerate() {
        save(store, "/big.rs", text, &runs, n as i64);
    }
    texts
}

// Issue 16: 20 agent edits of a 5,000-line file grew the store by about 20 times the file.
#[test]
fn twenty_snapshots_of_a_large_file_are_stored_as_deltas() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let empty = checkpointed_size(&path);
    let texts = save_twenty_edits(&mut store);
    let file_size = texts[0].len() as u64;
    let growth = checkpointed_size(&path) - empty;
    assert!(
        growth <= 3 * file_size,
        "grew by {growth} bytes for a file of {file_size}"
    );
    // Every version reads back whole, the newest through the longest chain.
    for text in &texts {
        let hash = ContentHash::of(text.as_bytes());
        assert_eq!(store.blob(&hash).unwrap().as_deref(), Some(text.as_bytes()));
    }
    let latest = store.latest_snapshot("/big.rs").unwrap().unwrap();
    assert_eq!(latest.text.as_deref(), Some(texts[20].as_bytes()));
    let conn = Connection::open(&path).unwrap();
    let (whole, deepest): (i64, i64) = conn
        .query_row(
            "SELECT count(*) FILTER (WHERE base IS NULL), max(depth) FROM blobs",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((whole, deepest), (2, super::blobs::MAX_DEPTH));
    let verification = store.verify().unwrap();
    assert!(verification.is_ok(), "{:?}", verification.row_problems);
    assert_eq!(verification.blobs_checked, 21);

    // The same edits with deltas turned off: a whole copy each, as before version 9.
    let (_dir, full_path) = temp_db();
    let mut full = Store::open(&full_path).unwrap();
    full.deltas = false;
    let empty = checkpointed_size(&full_path);
    save_twenty_edits(&mut full);
    let full_growth = checkpointed_size(&full_path) - empty;
    assert!(full_growth > 20 * file_size, "{full_growth}");
}

#[test]
fn verify_finds_a_tampered_delta_and_reads_say_it_is_corrupt() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let texts = save_twenty_edits(&mut store);
    let target = ContentHash::of(texts[5].as_bytes());
    // Change one inserted byte of the fifth delta: it still applies, to the wrong text.
    let conn = Connection::open(&path).unwrap();
    let delta: Vec<u8> = conn
        .query_row(
            "SELECT data FROM blobs WHERE hash = ?1 AND base IS NOT NULL",
            [target.as_str()],
            |row| row.get(0),
        )
        .unwrap();
    let mut tampered = delta.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    conn.execute(
        "UPDATE blobs SET data = ?1 WHERE hash = ?2",
        rusqlite::params![tampered, target.as_str()],
    )
    .unwrap();
    let verification = store.verify().unwrap();
    let tampered_keys: Vec<&str> = verification
        .row_problems
        .iter()
        .filter(|problem| problem.kind == RowProblemKind::Tampered)
        .map(|problem| problem.key.as_str())
        .collect();
    assert!(
        tampered_keys.contains(&target.as_str()),
        "{tampered_keys:?}"
    );
    // Versions stored against it are damaged with it; those before it are not.
    assert!(!tampered_keys.contains(&ContentHash::of(texts[4].as_bytes()).as_str()));

    // A delta that does not fit its base is an error naming the blob, never a panic.
    conn.execute(
        "UPDATE blobs SET data = x'0100ffffff7f05' WHERE hash = ?1",
        [target.as_str()],
    )
    .unwrap();
    match store.blob(&target) {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains(target.as_str()), "{message}")
        }
        other => panic!(
            "expected Corrupt, got {:?}",
            other.map(|bytes| bytes.map(|b| b.len()))
        ),
    }
    // A loop of bases made by hand ends with an error too.
    conn.execute(
        "UPDATE blobs SET base = hash WHERE hash = ?1",
        [target.as_str()],
    )
    .unwrap();
    assert!(matches!(store.blob(&target), Err(StoreError::Corrupt(_))));
    assert!(!store.verify().unwrap().is_ok());
}
