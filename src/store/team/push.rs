//! `prodcode sync`: push what the local store gained since the last push.
//!
//! Two kinds of table, two kinds of change tracking, and nothing added to capture's writes:
//! - **Append-only tables** (the event log, prompts, AI edits, snapshots, tool calls, what a
//!   commit changed, fingerprints, landings) grow along a monotone column (`id`, `rowid`, or
//!   `commit_id` for the rows written once with their commit). The server keeps one high-water
//!   mark per device and table, moved in the same transaction as the batch it covers, so the
//!   server is the record of what arrived, and a push killed at any point resumes after the last
//!   committed batch. Rows are identified by their device and local key: sending one again does
//!   nothing (`ON CONFLICT DO NOTHING`), except an event whose hash differs from the one the
//!   server holds, which stops the push ([`TeamError::Diverged`]).
//! - **Tables updated in place** (repositories, interactions, hook sessions, line tallies,
//!   redaction counts, commits) are read whole and each row's digest compared with the digest
//!   recorded locally (`sync_pushed`, per team store) when it was last pushed; changed rows are
//!   upserted. Reading them costs a scan of tables that grow with sessions and commits, not with
//!   keystrokes; `docs/performance.md` has the figures. The local record is written after the
//!   server committed, so a crash in between only sends those rows again.
//!
//! Privacy happens here, on the way out: `prompts = false` sends prompts (`prompts.text`,
//! `interactions.first_prompt`) as SHA-256 hashes only and withholds the payload of the events
//! that carried them; rows of a repository that opted out (`.prodcode-ignore`, passed in as
//! `ignored_repos`) are not sent, and the payloads of their events are withheld. A withheld
//! event keeps its place in the chain (id, hashes), so the server still checks its links.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use rusqlite::types::Value;

use super::super::{EventId, RepoId, Store};
use super::{RepoIdentity, TeamError, schema};
use crate::model::hex;

/// What a push does beyond the defaults.
#[derive(Clone, Debug)]
pub struct PushOptions {
    /// Send prompt texts (`[sync] prompts`); when false, only their SHA-256.
    pub prompts: bool,
    /// Rows per server transaction.
    pub batch: usize,
    /// Repositories whose rows stay local (`.prodcode-ignore`).
    pub ignored_repos: HashSet<RepoId>,
}

impl Default for PushOptions {
    fn default() -> PushOptions {
        PushOptions {
            prompts: true,
            batch: 5000,
            ignored_repos: HashSet::new(),
        }
    }
}

/// Rows sent for one table.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TableCount {
    pub table: &'static str,
    pub rows: u64,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PushReport {
    pub device: String,
    /// Events sent by this push (0 when the server was up to date).
    pub events: u64,
    /// Events whose payload was withheld by this push (prompts, ignored repositories).
    pub withheld: u64,
    /// The device's last event on the server after the push.
    pub head_id: EventId,
    /// Other rows sent, by table (tables with none left out).
    pub tables: Vec<TableCount>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Int,
    Text,
    /// A prompt: sent as text only when prompts are sent; `<name>_sha256` always.
    Prompt,
}

struct Column {
    name: &'static str,
    /// The SQLite expression that reads it.
    expr: &'static str,
    kind: Kind,
}

const fn int(name: &'static str) -> Column {
    Column {
        name,
        expr: name,
        kind: Kind::Int,
    }
}

const fn text(name: &'static str) -> Column {
    Column {
        name,
        expr: name,
        kind: Kind::Text,
    }
}

enum Tracking {
    /// Append-only along this monotone SQLite expression.
    After(&'static str),
    /// Updated in place: compared by digest; the key columns name a row.
    Compare(&'static [&'static str]),
}

/// How a row belongs to a repository, to keep opted-out repositories' rows local.
#[derive(Clone, Copy)]
enum Scope {
    /// The column is a repository id.
    Repo(&'static str),
    /// The column is an interaction id (its interaction's repository).
    Interaction(&'static str),
    /// The column is a commit id (its commit's repository).
    Commit(&'static str),
}

struct Table {
    name: &'static str,
    from: &'static str,
    columns: &'static [Column],
    tracking: Tracking,
    scope: Scope,
}

/// Every table pushed besides `events`, parents before children. The column lists are the
/// SQLite columns (`docs/schema.md`); the team schema adds `device` and the `_sha256` columns.
const TABLES: &[Table] = &[
    Table {
        name: "repositories",
        from: "repositories AS r LEFT JOIN repository_identity AS ri ON ri.repo_id = r.id",
        columns: &[
            Column {
                name: "id",
                expr: "r.id",
                kind: Kind::Int,
            },
            text("root"),
            text("root_commit"),
            text("remote_url"),
            int("first_seen_ms"),
            int("last_seen_ms"),
        ],
        tracking: Tracking::Compare(&["id"]),
        scope: Scope::Repo("id"),
    },
    Table {
        name: "interactions",
        from: "interactions",
        columns: &[
            text("id"),
            text("source"),
            text("agent"),
            text("model"),
            text("agent_version"),
            text("session_id"),
            int("repo_id"),
            text("base_commit"),
            text("branch"),
            text("cwd"),
            Column {
                name: "first_prompt",
                expr: "first_prompt",
                kind: Kind::Prompt,
            },
            int("turn_count"),
            int("created_ms"),
            int("updated_ms"),
            int("first_event_id"),
        ],
        tracking: Tracking::Compare(&["id"]),
        scope: Scope::Repo("repo_id"),
    },
    Table {
        name: "prompts",
        from: "prompts",
        columns: &[
            text("interaction_id"),
            int("turn"),
            Column {
                name: "text",
                expr: "text",
                kind: Kind::Prompt,
            },
            int("ts_ms"),
            int("event_id"),
        ],
        tracking: Tracking::After("rowid"),
        scope: Scope::Interaction("interaction_id"),
    },
    Table {
        name: "prompt_redactions",
        from: "prompt_redactions",
        columns: &[
            text("interaction_id"),
            int("turn"),
            text("kind"),
            int("count"),
        ],
        tracking: Tracking::Compare(&["interaction_id", "turn", "kind"]),
        scope: Scope::Interaction("interaction_id"),
    },
    Table {
        name: "hook_sessions",
        from: "hook_sessions",
        columns: &[
            text("interaction_id"),
            text("agent"),
            text("session_id"),
            text("model"),
            text("agent_version"),
            text("transcript_path"),
            text("cwd"),
            int("first_ms"),
            int("last_ms"),
            int("closed_ms"),
            text("close_reason"),
            int("first_event_id"),
            int("last_event_id"),
        ],
        tracking: Tracking::Compare(&["interaction_id"]),
        scope: Scope::Interaction("interaction_id"),
    },
    Table {
        name: "ai_edits",
        from: "ai_edits",
        columns: &[
            int("id"),
            text("interaction_id"),
            text("path"),
            int("repo_id"),
            text("rel_path"),
            text("kind"),
            int("lines_added"),
            text("detail"),
            int("ts_ms"),
            int("event_id"),
        ],
        tracking: Tracking::After("id"),
        scope: Scope::Repo("repo_id"),
    },
    Table {
        name: "line_tally",
        from: "line_tally",
        columns: &[
            text("interaction_id"),
            text("path"),
            int("added"),
            int("modified"),
            int("deleted"),
        ],
        tracking: Tracking::Compare(&["interaction_id", "path"]),
        scope: Scope::Interaction("interaction_id"),
    },
    Table {
        name: "provenance_snapshots",
        from: "provenance_snapshots",
        columns: &[
            int("id"),
            text("path"),
            int("repo_id"),
            text("rel_path"),
            text("content_hash"),
            text("runs"),
            int("ts_ms"),
            int("event_id"),
        ],
        tracking: Tracking::After("id"),
        scope: Scope::Repo("repo_id"),
    },
    Table {
        name: "tool_calls",
        from: "tool_calls",
        columns: &[
            int("id"),
            text("tool"),
            text("arguments"),
            int("duration_ms"),
            text("outcome"),
            text("interaction_id"),
            int("run_id"),
            int("ts_ms"),
            int("event_id"),
            text("front"),
            text("client"),
            text("workspace"),
            text("error"),
        ],
        tracking: Tracking::After("id"),
        scope: Scope::Interaction("interaction_id"),
    },
    Table {
        name: "commits",
        from: "commits",
        columns: &[
            int("id"),
            int("repo_id"),
            text("sha"),
            text("parent_sha"),
            int("author_ms"),
            int("committed_ms"),
            text("summary"),
            int("on_main"),
            text("landed_sha"),
            int("seen_ms"),
            int("event_id"),
            text("parents"),
            text("author"),
            text("patch_id"),
            text("reverts_sha"),
            text("replaced_by"),
            int("landed_ms"),
            int("lines_added"),
            int("lines_excluded"),
            int("stash"),
        ],
        tracking: Tracking::Compare(&["id"]),
        scope: Scope::Repo("repo_id"),
    },
    Table {
        name: "commit_files",
        from: "commit_files",
        columns: &[
            int("commit_id"),
            text("path"),
            text("old_path"),
            text("status"),
            int("added"),
            int("removed"),
            text("excluded"),
        ],
        tracking: Tracking::After("commit_id"),
        scope: Scope::Commit("commit_id"),
    },
    Table {
        name: "commit_lines",
        from: "commit_lines",
        columns: &[
            int("commit_id"),
            text("path"),
            int("start_line"),
            int("end_line"),
            text("class"),
            text("interaction_id"),
            text("evidence"),
            text("source_sha"),
        ],
        tracking: Tracking::After("commit_id"),
        scope: Scope::Commit("commit_id"),
    },
    Table {
        name: "line_fingerprints",
        from: "line_fingerprints",
        columns: &[
            int("repo_id"),
            int("fingerprint"),
            int("commit_id"),
            int("line"),
            text("class"),
            text("interaction_id"),
        ],
        tracking: Tracking::After("rowid"),
        scope: Scope::Repo("repo_id"),
    },
    Table {
        name: "landings",
        from: "landings",
        columns: &[
            int("repo_id"),
            text("commit_sha"),
            text("main_sha"),
            text("via"),
            int("lines"),
            int("landed_ms"),
        ],
        tracking: Tracking::After("rowid"),
        scope: Scope::Repo("repo_id"),
    },
];

impl Store {
    /// This store's device id: made once (schema version 10), sent with every pushed row.
    pub fn device_id(&self) -> Result<String, super::super::StoreError> {
        Ok(self.conn.query_row(
            "SELECT device FROM sync_device WHERE singleton = 0",
            [],
            |row| row.get(0),
        )?)
    }

    /// Gives this store a new device id and forgets what it pushed: for a copy of a database
    /// file, which must not push as the device it was copied from.
    pub fn new_device_id(&mut self) -> Result<String, super::super::StoreError> {
        self.write(|writer| {
            writer.tx.execute(
                "UPDATE sync_device SET device = lower(hex(randomblob(16))) WHERE singleton = 0",
                [],
            )?;
            writer.tx.execute("DELETE FROM sync_pushed", [])?;
            Ok(())
        })?;
        self.device_id()
    }

    /// Repositories as `(id, root, identity known)`: `prodcode sync` finds the identity of those
    /// without one (root commit, remote URL) through git.
    pub fn repositories_for_sync(
        &self,
    ) -> Result<Vec<(RepoId, String, bool)>, super::super::StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT r.id, r.root, ri.repo_id IS NOT NULL FROM repositories AS r
             LEFT JOIN repository_identity AS ri ON ri.repo_id = r.id ORDER BY r.id",
        )?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records how a repository is known across machines (see [`RepoIdentity`]).
    pub fn set_repository_identity(
        &mut self,
        repo_id: RepoId,
        identity: &RepoIdentity,
        now_ms: i64,
    ) -> Result<(), super::super::StoreError> {
        self.write(|writer| {
            writer.tx.execute(
                "INSERT INTO repository_identity (repo_id, root_commit, remote_url, checked_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (repo_id) DO UPDATE SET root_commit = excluded.root_commit,
                     remote_url = excluded.remote_url, checked_ms = excluded.checked_ms",
                rusqlite::params![repo_id, identity.root_commit, identity.remote_url, now_ms],
            )?;
            Ok(())
        })
    }
}

/// What every part of one push shares: the server, the settings, this device, and the marks
/// and staging tables it moves along.
struct Push<'a> {
    client: &'a mut postgres::Client,
    options: &'a PushOptions,
    device: &'a str,
    /// The server database's id (what `sync_pushed` is keyed by).
    store_id: &'a str,
    scopes: &'a Scopes,
    marks: HashMap<String, i64>,
    stages: Stages,
}

/// Pushes everything the server lacks; see the module docs.
pub fn push(
    store: &mut Store,
    client: &mut postgres::Client,
    options: &PushOptions,
    now_ms: i64,
) -> Result<PushReport, TeamError> {
    let store_id = schema::migrate(client)?;
    let device = store.device_id()?;
    // Writes only when there is something to write: a push with nothing new commits nothing
    // on the server (each commit waits for the server's disk).
    let known = client
        .query_opt("SELECT 1 FROM devices WHERE device = $1", &[&device])?
        .is_some();
    if !known {
        client.execute(
            "INSERT INTO devices (device, first_push_ms, last_push_ms) VALUES ($1, $2, $2)
             ON CONFLICT (device) DO NOTHING",
            &[&device, &now_ms],
        )?;
    }
    let marks: HashMap<String, i64> = client
        .query(
            "SELECT tbl, mark FROM sync_marks WHERE device = $1",
            &[&device],
        )?
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let scopes = Scopes::load(store, &options.ignored_repos)?;
    let mut push = Push {
        client,
        options,
        device: &device,
        store_id: &store_id,
        scopes: &scopes,
        marks,
        stages: Stages::default(),
    };
    let (events, withheld, head_id) = push_events(&mut push, store, now_ms)?;
    let mut tables = Vec::new();
    for table in TABLES {
        let rows = match table.tracking {
            Tracking::After(expr) => push_appended(&mut push, store, table, expr)?,
            Tracking::Compare(key) => push_changed(&mut push, store, table, key)?,
        };
        if rows > 0 {
            tables.push(TableCount {
                table: table.name,
                rows,
            });
        }
    }
    if events > 0 || !tables.is_empty() {
        client.execute(
            "UPDATE devices SET last_push_ms = $2 WHERE device = $1",
            &[&device, &now_ms],
        )?;
    }
    Ok(PushReport {
        device,
        events,
        withheld,
        head_id,
        tables,
    })
}

/// Which rows stay local: those of opted-out repositories, found through their repository,
/// interaction or commit. Empty (and free) when no repository opted out.
struct Scopes {
    repos: HashSet<RepoId>,
    interactions: HashSet<String>,
    commits: HashSet<i64>,
    /// Events whose payload is not sent, because their rows are not.
    events: HashSet<EventId>,
}

impl Scopes {
    fn load(store: &Store, ignored: &HashSet<RepoId>) -> Result<Scopes, TeamError> {
        let mut scopes = Scopes {
            repos: ignored.clone(),
            interactions: HashSet::new(),
            commits: HashSet::new(),
            events: HashSet::new(),
        };
        if ignored.is_empty() {
            return Ok(scopes);
        }
        let conn = &store.conn;
        let mut interactions =
            conn.prepare("SELECT id, repo_id, first_event_id FROM interactions")?;
        let mut rows = interactions.query([])?;
        while let Some(row) = rows.next()? {
            if let Some(repo) = row.get::<_, Option<i64>>(1)?
                && ignored.contains(&repo)
            {
                scopes.interactions.insert(row.get(0)?);
                if let Some(event) = row.get::<_, Option<i64>>(2)? {
                    scopes.events.insert(event);
                }
            }
        }
        let mut commits = conn.prepare("SELECT id, repo_id FROM commits")?;
        let mut rows = commits.query([])?;
        while let Some(row) = rows.next()? {
            if ignored.contains(&row.get::<_, i64>(1)?) {
                scopes.commits.insert(row.get(0)?);
            }
        }
        for sql in [
            "SELECT event_id, repo_id FROM ai_edits",
            "SELECT event_id, repo_id FROM provenance_snapshots",
        ] {
            let mut statement = conn.prepare(sql)?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                if let Some(repo) = row.get::<_, Option<i64>>(1)?
                    && ignored.contains(&repo)
                {
                    scopes.events.insert(row.get(0)?);
                }
            }
        }
        for sql in [
            "SELECT event_id, interaction_id FROM prompts",
            "SELECT first_event_id, interaction_id FROM hook_sessions",
            "SELECT last_event_id, interaction_id FROM hook_sessions",
        ] {
            let mut statement = conn.prepare(sql)?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                if scopes.interactions.contains(&row.get::<_, String>(1)?) {
                    scopes.events.insert(row.get(0)?);
                }
            }
        }
        Ok(scopes)
    }

    /// Whether the row (its column values, by name) belongs to an opted-out repository.
    fn excludes(&self, scope: Scope, value: &Value) -> bool {
        if self.repos.is_empty() {
            return false;
        }
        match (scope, value) {
            (Scope::Repo(_), Value::Integer(id)) => self.repos.contains(id),
            (Scope::Interaction(_), Value::Text(id)) => self.interactions.contains(id),
            (Scope::Commit(_), Value::Integer(id)) => self.commits.contains(id),
            _ => false,
        }
    }
}

impl Scope {
    fn column(self) -> &'static str {
        match self {
            Scope::Repo(column) | Scope::Interaction(column) | Scope::Commit(column) => column,
        }
    }
}

/// The event log, in id order, after the server's mark for this device.
fn push_events(
    push: &mut Push<'_>,
    store: &Store,
    now_ms: i64,
) -> Result<(u64, u64, EventId), TeamError> {
    let (client, options, device) = (&mut *push.client, push.options, push.device);
    let (marks, scopes, stages) = (&mut push.marks, push.scopes, &mut push.stages);
    let row = client.query_one(
        "SELECT head_id, head_hash FROM devices WHERE device = $1",
        &[&device],
    )?;
    let (server_head, server_hash): (i64, String) = (row.get(0), row.get(1));
    let mark = marks.get("events").copied().unwrap_or(0).max(server_head);
    if mark > 0 {
        // The server's last event of this device must be ours: else this log is not the one
        // that pushed there (rewritten, or a copied database file with the same device id).
        let local: Option<String> = store
            .conn
            .query_row("SELECT hash FROM events WHERE id = ?1", [mark], |row| {
                row.get(0)
            })
            .map(Some)
            .or_else(|error| match error {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                error => Err(error),
            })?;
        if local.as_deref() != Some(server_hash.as_str()) && server_head == mark {
            return Err(TeamError::Diverged {
                device: device.to_owned(),
                event_id: mark,
            });
        }
    }
    let mut withheld_prompts = HashSet::new();
    if !options.prompts {
        let mut statement = store
            .conn
            .prepare("SELECT event_id FROM prompts WHERE event_id > ?1")?;
        let rows = statement.query_map([mark], |row| row.get::<_, i64>(0))?;
        for id in rows {
            withheld_prompts.insert(id?);
        }
    }
    let mut sent = 0;
    let mut withheld = 0;
    let mut after = mark;
    let mut statement = store.conn.prepare(
        "SELECT id, ts_ms, source, kind, payload, prev_hash, hash FROM events
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut buffer = Vec::with_capacity(1 << 20);
    loop {
        buffer.clear();
        let mut last: Option<(i64, String)> = None;
        let mut count = 0;
        let mut rows = statement.query(rusqlite::params![after, options.batch as i64])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let reason = if scopes.events.contains(&id) {
                Some("ignored")
            } else if withheld_prompts.contains(&id) {
                Some("prompt")
            } else {
                None
            };
            let hash = value_text(row.get::<_, Value>(6)?);
            let payload = value_text(row.get::<_, Value>(4)?);
            let cells = [
                Some(device.to_owned()),
                Some(id.to_string()),
                value_text(row.get::<_, Value>(1)?),
                value_text(row.get::<_, Value>(2)?),
                value_text(row.get::<_, Value>(3)?),
                if reason.is_some() { None } else { payload },
                reason.map(str::to_owned),
                value_text(row.get::<_, Value>(5)?),
                hash.clone(),
            ];
            copy_row(&mut buffer, &cells);
            withheld += u64::from(reason.is_some());
            count += 1;
            last = Some((id, hash.unwrap_or_default()));
        }
        drop(rows);
        let Some((last_id, last_hash)) = last else {
            break;
        };
        let mut tx = client.transaction()?;
        stages.ensure(&mut tx, "events")?;
        copy_in(
            &mut tx,
            "stage_events",
            &[
                "device",
                "id",
                "ts_ms",
                "source",
                "kind",
                "payload",
                "withheld",
                "prev_hash",
                "hash",
            ],
            &buffer,
        )?;
        let inserted = tx.execute(
            "INSERT INTO events SELECT * FROM stage_events ON CONFLICT DO NOTHING",
            &[],
        )?;
        if inserted < count {
            // Some were there already (another push of this device got there first, or the
            // marks were reset): they must be the same events. The staging table is analysed
            // first, or the planner, taking it for empty, may scan `events` once per row.
            tx.batch_execute("ANALYZE stage_events")?;
            let conflict = tx.query_opt(
                "SELECT s.id FROM stage_events AS s
                 JOIN events AS e ON e.device = s.device AND e.id = s.id
                 WHERE e.hash <> s.hash ORDER BY s.id LIMIT 1",
                &[],
            )?;
            if let Some(row) = conflict {
                return Err(TeamError::Diverged {
                    device: device.to_owned(),
                    event_id: row.get(0),
                });
            }
        }
        tx.execute(
            "UPDATE devices SET head_id = $2, head_hash = $3, last_push_ms = $4
             WHERE device = $1 AND head_id < $2",
            &[&device, &last_id, &last_hash, &now_ms],
        )?;
        set_mark(&mut tx, device, "events", last_id)?;
        tx.commit()?;
        marks.insert("events".to_owned(), last_id);
        sent += count;
        after = last_id;
    }
    Ok((sent, withheld, after))
}

/// An append-only table after its mark, in batches of whole mark values (all rows of one
/// commit go in one batch).
fn push_appended(
    push: &mut Push<'_>,
    store: &Store,
    table: &Table,
    expr: &str,
) -> Result<u64, TeamError> {
    let (client, options, device) = (&mut *push.client, push.options, push.device);
    let (marks, scopes, stages) = (&mut push.marks, push.scopes, &mut push.stages);
    let mut after = marks.get(table.name).copied().unwrap_or(0);
    let select = format!(
        "SELECT {expr}, {} FROM {} WHERE {expr} > ?1 AND {expr} <= ?2 ORDER BY {expr}",
        select_list(table),
        table.from
    );
    let upper = format!(
        "SELECT coalesce((SELECT {expr} FROM {from} WHERE {expr} > ?1 ORDER BY {expr}
             LIMIT 1 OFFSET ?2), (SELECT max({expr}) FROM {from} WHERE {expr} > ?1))",
        from = table.from
    );
    let scope_index = table
        .columns
        .iter()
        .position(|column| column.name == table.scope.column());
    let mut sent = 0;
    let mut buffer = Vec::new();
    loop {
        let upto: Option<i64> = store.conn.query_row(
            &upper,
            rusqlite::params![after, options.batch.saturating_sub(1) as i64],
            |row| row.get(0),
        )?;
        let Some(upto) = upto else {
            break;
        };
        buffer.clear();
        let mut statement = store.conn.prepare_cached(&select)?;
        let mut rows = statement.query(rusqlite::params![after, upto])?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            let values = (1..=table.columns.len())
                .map(|index| row.get::<_, Value>(index))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(index) = scope_index
                && scopes.excludes(table.scope, &values[index])
            {
                continue;
            }
            copy_row(&mut buffer, &cells(device, table, &values, options.prompts));
            count += 1;
        }
        drop(rows);
        let mut tx = client.transaction()?;
        if count > 0 {
            stages.ensure(&mut tx, table.name)?;
            copy_in(&mut tx, &stage(table.name), &pg_columns(table), &buffer)?;
            tx.execute(
                &format!(
                    "INSERT INTO {name} SELECT * FROM {stage} ON CONFLICT DO NOTHING",
                    name = table.name,
                    stage = stage(table.name)
                ),
                &[],
            )?;
        }
        set_mark(&mut tx, device, table.name, upto)?;
        tx.commit()?;
        marks.insert(table.name.to_owned(), upto);
        sent += count;
        after = upto;
    }
    Ok(sent)
}

/// A table updated in place: the rows whose digest differs from the one recorded when they were
/// last pushed to this team store.
fn push_changed(
    push: &mut Push<'_>,
    store: &mut Store,
    table: &Table,
    key: &[&str],
) -> Result<u64, TeamError> {
    let (client, options, device) = (&mut *push.client, push.options, push.device);
    let (store_id, scopes, stages) = (push.store_id, push.scopes, &mut push.stages);
    let pushed: HashMap<String, i64> = {
        let mut statement = store.conn.prepare_cached(
            "SELECT key, digest FROM sync_pushed WHERE store_id = ?1 AND tbl = ?2",
        )?;
        let rows =
            statement.query_map([store_id, table.name], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let key_indexes: Vec<usize> = key
        .iter()
        .map(|name| {
            table
                .columns
                .iter()
                .position(|column| column.name == *name)
                .expect("a key column is a column")
        })
        .collect();
    let scope_index = table
        .columns
        .iter()
        .position(|column| column.name == table.scope.column());
    let mut changed: Vec<(String, i64, Vec<Option<String>>)> = Vec::new();
    {
        let mut statement = store.conn.prepare_cached(&format!(
            "SELECT {} FROM {}",
            select_list(table),
            table.from
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let values = (0..table.columns.len())
                .map(|index| row.get::<_, Value>(index))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(index) = scope_index
                && scopes.excludes(table.scope, &values[index])
            {
                continue;
            }
            let cells = cells(device, table, &values, options.prompts);
            let digest = digest(&cells);
            let key = key_indexes
                .iter()
                .map(|&index| value_text(values[index].clone()).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\u{1f}");
            if pushed.get(&key) != Some(&digest) {
                changed.push((key, digest, cells));
            }
        }
    }
    if changed.is_empty() {
        return Ok(0);
    }
    let columns = pg_columns(table);
    let conflict_key = std::iter::once("device")
        .chain(key.iter().copied())
        .collect::<Vec<_>>()
        .join(", ");
    let updates = columns
        .iter()
        .filter(|column| **column != "device" && !key.contains(&column.as_str()))
        .map(|column| format!("{column} = EXCLUDED.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let upsert = format!(
        "INSERT INTO {name} SELECT * FROM {stage} ON CONFLICT ({conflict_key}) DO UPDATE SET {updates}",
        name = table.name,
        stage = stage(table.name)
    );
    let mut sent = 0;
    let mut buffer = Vec::new();
    for batch in changed.chunks(options.batch.max(1)) {
        buffer.clear();
        for (_, _, cells) in batch {
            copy_row(&mut buffer, cells);
        }
        let mut tx = client.transaction()?;
        stages.ensure(&mut tx, table.name)?;
        copy_in(&mut tx, &stage(table.name), &columns, &buffer)?;
        tx.execute(&upsert, &[])?;
        tx.commit()?;
        // Recorded after the server committed: a crash in between sends these rows again.
        store.write(|writer| {
            let mut statement = writer.tx.prepare_cached(
                "INSERT INTO sync_pushed (store_id, tbl, key, digest) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (store_id, tbl, key) DO UPDATE SET digest = excluded.digest",
            )?;
            for (key, digest, _) in batch {
                statement.execute(rusqlite::params![store_id, table.name, key, digest])?;
            }
            Ok(())
        })?;
        sent += batch.len() as u64;
    }
    Ok(sent)
}

fn select_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|column| column.expr)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The team table's columns in its order: `device`, then each column (and `<name>_sha256`
/// after a prompt).
fn pg_columns(table: &Table) -> Vec<String> {
    let mut columns = vec!["device".to_owned()];
    for column in table.columns {
        columns.push(column.name.to_owned());
        if column.kind == Kind::Prompt {
            columns.push(format!("{}_sha256", column.name));
        }
    }
    columns
}

/// One row as the team table's cells, prompts withheld as `pg_columns` says.
fn cells(device: &str, table: &Table, values: &[Value], prompts: bool) -> Vec<Option<String>> {
    let mut cells = Vec::with_capacity(values.len() + 2);
    cells.push(Some(device.to_owned()));
    for (column, value) in table.columns.iter().zip(values) {
        let text = value_text(value.clone());
        match column.kind {
            Kind::Int | Kind::Text => cells.push(text),
            Kind::Prompt => {
                let hash = text.as_deref().map(sha256);
                cells.push(if prompts { text } else { None });
                cells.push(hash);
            }
        }
    }
    cells
}

fn value_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Integer(number) => Some(number.to_string()),
        Value::Real(number) => Some(number.to_string()),
        Value::Text(text) => Some(text),
        Value::Blob(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn sha256(text: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

/// The first 8 bytes of SHA-256 over the cells (each length-prefixed, NULL distinct from "").
fn digest(cells: &[Option<String>]) -> i64 {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for cell in cells {
        match cell {
            None => context.update(&[0]),
            Some(text) => {
                context.update(&[1]);
                context.update(&(text.len() as u64).to_be_bytes());
                context.update(text.as_bytes());
            }
        }
    }
    let digest = context.finish();
    let mut first = [0; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    i64::from_be_bytes(first)
}

/// Appends one row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
/// A NUL character cannot be stored in PostgreSQL text; it is sent as U+FFFD.
fn copy_row(buffer: &mut Vec<u8>, cells: &[Option<String>]) {
    for (index, cell) in cells.iter().enumerate() {
        if index > 0 {
            buffer.push(b'\t');
        }
        match cell {
            None => buffer.extend_from_slice(b"\\N"),
            Some(text) => {
                for &byte in text.as_bytes() {
                    match byte {
                        b'\\' => buffer.extend_from_slice(b"\\\\"),
                        b'\t' => buffer.extend_from_slice(b"\\t"),
                        b'\n' => buffer.extend_from_slice(b"\\n"),
                        b'\r' => buffer.extend_from_slice(b"\\r"),
                        0 => buffer.extend_from_slice("\u{fffd}".as_bytes()),
                        _ => buffer.push(byte),
                    }
                }
            }
        }
    }
    buffer.push(b'\n');
}

fn stage(table: &str) -> String {
    format!("stage_{table}")
}

/// Session-private staging tables shaped like their tables, emptied at each commit: COPY fills
/// one, one `INSERT … SELECT` moves its rows with the conflict rule of the table. Made on first
/// use in a push (making one is a catalog write), inside the batch's transaction.
#[derive(Default)]
struct Stages {
    made: HashSet<&'static str>,
}

impl Stages {
    fn ensure(
        &mut self,
        tx: &mut postgres::Transaction<'_>,
        table: &'static str,
    ) -> Result<(), TeamError> {
        if self.made.insert(table) {
            tx.batch_execute(&format!(
                "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {table}) ON COMMIT DELETE ROWS",
                stage(table)
            ))?;
        }
        Ok(())
    }
}

fn copy_in<C: AsRef<str>>(
    tx: &mut postgres::Transaction<'_>,
    stage: &str,
    columns: &[C],
    buffer: &[u8],
) -> Result<(), TeamError> {
    let columns = columns
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    let mut writer = tx.copy_in(&format!("COPY {stage} ({columns}) FROM STDIN"))?;
    writer
        .write_all(buffer)
        .map_err(|error| TeamError::Postgres(format!("cannot send rows: {error}")))?;
    writer.finish()?;
    Ok(())
}

fn set_mark(
    tx: &mut postgres::Transaction<'_>,
    device: &str,
    table: &str,
    mark: i64,
) -> Result<(), TeamError> {
    tx.execute(
        "INSERT INTO sync_marks (device, tbl, mark) VALUES ($1, $2, $3)
         ON CONFLICT (device, tbl) DO UPDATE SET mark = GREATEST(sync_marks.mark, EXCLUDED.mark)",
        &[&device, &table, &mark],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_what_the_text_format_reserves() {
        let mut buffer = Vec::new();
        copy_row(
            &mut buffer,
            &[Some("a\tb\nc\\d\re".to_owned()), None, Some(String::new())],
        );
        assert_eq!(buffer, b"a\\tb\\nc\\\\d\\re\t\\N\t\n");
    }

    #[test]
    fn digests_tell_null_from_empty_and_cells_apart() {
        assert_ne!(digest(&[None]), digest(&[Some(String::new())]));
        assert_ne!(
            digest(&[Some("ab".into()), Some("c".into())]),
            digest(&[Some("a".into()), Some("bc".into())])
        );
    }
}
