//! The provenance store: the only code that speaks SQL.
//!
//! Everything prodcode records ends up in one SQLite file: an append-only event log (every
//! message a capture channel saw, verbatim, linked by a SHA-256 hash chain so that `prodcode
//! verify` detects edits to recorded history), content-addressed blobs, and domain tables
//! (repositories, interactions, prompts, AI edits, line tallies, provenance snapshots) that the
//! CLI and the curation pipeline read. `docs/schema.md` documents every table and column.
//!
//! Invariants:
//! - Only this module writes SQL; callers get plain structs (not `Serialize`: the CLI and the
//!   exports convert). The one `rusqlite` type that leaks is the source inside [`StoreError`].
//! - Migrations are add-only: `schema::MIGRATIONS` only ever grows, a shipped migration is never
//!   edited, and a database newer than the binary is refused rather than guessed at.
//! - The event chain is written only through [`Writer::append_event`], inside the
//!   `BEGIN IMMEDIATE` transaction that [`Store::write`] opens, so the chain head cannot move
//!   under a writer even when several processes share the file.
//! - Bad stored data is an error value or a reported problem, never a panic. Rows the callers
//!   depend on (a snapshot whose runs do not parse) are [`StoreError::Corrupt`] naming the row,
//!   not skipped: a caller that needs provenance must not mistake "unreadable" for "none". An
//!   edited event log is not an error but a [`Verification`] problem.
//!
//! API boundary: [`Store`] (open, typed reads, [`Store::verify`]) and [`Writer`] (every write,
//! one transaction per [`Store::write`] call). Reads never block writers (WAL).
//!
//! Files: `schema.rs` (migrations), `chain.rs` (the event log and its verification),
//! `integrity.rs` (what verification checks beyond the chain), `writes.rs`
//! (domain writes), `queries.rs` (typed reads), `reports.rs` (reads for `stats`, `blame`,
//! `log --landed` and `export`), `curation.rs` (reads for `curate`), `runs.rs` (the JSON of stored provenance runs).

mod blobs;
mod chain;
mod commits;
mod curation;
mod delta;
mod eval_runs;
pub mod hooks;
mod imports;
mod integrity;
mod queries;
mod reports;
mod runs;
mod schema;
pub mod team;
mod tool_calls;
mod writes;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::model::{ContentHash, InteractionId, ProvenanceRun};

pub use chain::{ChainProblem, ProblemKind, Verification};
pub use commits::{
    Evidence, FingerprintMatch, LineRange, LinkState, LinkedCommit, NewCommit, NewCommitFile,
    NewFingerprint,
};
pub use curation::{CurationInteraction, MainCommitLines};
pub use eval_runs::NewEvalRun;
pub use imports::{ImportFile, NewImportKey};
pub use integrity::{RowProblem, RowProblemKind};
pub use reports::{CommitReport, InteractionInfo, LandedInteraction, LandedLines, Landing};
pub use runs::{decode as decode_runs, encode as encode_runs};
pub use schema::SCHEMA_VERSION;
pub use tool_calls::{NewToolCall, ToolCallCount, ToolCallScope};

pub type RepoId = i64;
pub type EventId = i64;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database at {path} has schema version {found}, newer than this prodcode understands ({supported}); upgrade prodcode"
    )]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("cannot find a place for the database: set PRODCODE_DB, XDG_DATA_HOME or HOME")]
    NoDefaultPath,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error(
        "{path} is not a SQLite database (corrupt, or another kind of file); move it aside or choose another file with --db or PRODCODE_DB"
    )]
    NotADatabase { path: PathBuf },
    #[error(
        "{path} is a SQLite database of another program, not prodcode's; choose another file with --db or PRODCODE_DB"
    )]
    ForeignDatabase { path: PathBuf },
    #[error("cannot open the database at {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// Where the database lives when `--db` does not say: `$PRODCODE_DB` if set and non-empty, else
/// `$XDG_DATA_HOME/prodcode/prodcode.db`, else `~/.local/share/prodcode/prodcode.db`.
pub fn default_path() -> Result<PathBuf, StoreError> {
    default_path_from(|name| std::env::var_os(name))
}

/// [`default_path`] over any environment, so it can be tested without touching the process's.
fn default_path_from(
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<PathBuf, StoreError> {
    let non_empty = |name: &str| var(name).filter(|value| !value.is_empty());
    if let Some(path) = non_empty("PRODCODE_DB") {
        return Ok(PathBuf::from(path));
    }
    // The XDG base directory spec says relative values are invalid and must be ignored.
    if let Some(data_home) = non_empty("XDG_DATA_HOME").map(PathBuf::from)
        && data_home.is_absolute()
    {
        return Ok(data_home.join("prodcode").join("prodcode.db"));
    }
    match non_empty("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/prodcode/prodcode.db")),
        None => Err(StoreError::NoDefaultPath),
    }
}

/// An open database. Reads take `&self`; [`Store::write`] takes `&mut self` because it holds the
/// connection's one transaction.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Whether new blobs may be stored as deltas ([`blobs::DELTAS_ENV`]).
    deltas: bool,
}

/// One event for the append-only log. `payload` is JSON written by the channel that saw it.
pub struct NewEvent<'a> {
    pub ts_ms: i64,
    pub source: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
}

pub struct NewPrompt<'a> {
    pub interaction_id: &'a str,
    pub prompt: &'a str,
    pub agent: Option<&'a str>,
    pub model: Option<&'a str>,
    pub agent_version: Option<&'a str>,
    pub source: &'a str,
    pub session_id: Option<&'a str>,
    pub repo_id: Option<RepoId>,
    pub base_commit: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub cwd: Option<&'a str>,
    pub ts_ms: i64,
    pub event_id: EventId,
}

pub struct NewAiEdit<'a> {
    pub interaction_id: &'a str,
    pub path: &'a str,
    pub repo_id: Option<RepoId>,
    pub rel_path: Option<&'a str>,
    pub kind: &'a str,
    pub lines_added: u32,
    pub detail: Option<&'a str>,
    pub ts_ms: i64,
    pub event_id: EventId,
}

pub struct NewSnapshot<'a> {
    pub path: &'a str,
    pub repo_id: Option<RepoId>,
    pub rel_path: Option<&'a str>,
    pub text: &'a [u8],
    pub runs: &'a [ProvenanceRun],
    pub ts_ms: i64,
    pub event_id: EventId,
}

/// The provenance of one file as last saved, with its text when the blob is present.
pub struct Snapshot {
    pub path: String,
    pub content_hash: ContentHash,
    pub text: Option<Vec<u8>>,
    pub runs: Vec<ProvenanceRun>,
    pub ts_ms: i64,
}

/// One event as stored, for exports and inspection.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredEvent {
    pub id: EventId,
    pub ts_ms: i64,
    pub source: String,
    pub kind: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Repository {
    pub id: RepoId,
    pub root: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// One interaction with everything recorded about it, as `prodcode log` shows it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InteractionSummary {
    pub id: InteractionId,
    pub source: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub agent_version: Option<String>,
    pub session_id: Option<String>,
    pub repo_id: Option<RepoId>,
    pub repo_root: Option<String>,
    pub base_commit: Option<String>,
    pub branch: Option<String>,
    pub cwd: Option<String>,
    pub first_prompt: Option<String>,
    /// Prompts recorded so far; 0 for an interaction known only from its edits.
    pub turn_count: u32,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// In turn order.
    pub prompts: Vec<PromptRecord>,
    /// In the order they were recorded.
    pub ai_edits: Vec<AiEditRecord>,
    /// One per file, ordered by path.
    pub line_tallies: Vec<LineTally>,
}

/// An interaction's agent and prompts ([`Store::interaction_prompts`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InteractionPrompts {
    pub agent: Option<String>,
    pub model: Option<String>,
    /// Verbatim (secrets redacted), in turn order.
    pub prompts: Vec<String>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PromptRecord {
    /// 1 for the first prompt of an interaction.
    pub turn: u32,
    pub text: String,
    pub ts_ms: i64,
    pub event_id: EventId,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AiEditRecord {
    pub path: String,
    pub rel_path: Option<String>,
    pub kind: String,
    pub lines_added: u32,
    pub detail: Option<String>,
    pub ts_ms: i64,
    pub event_id: EventId,
}

/// What became of one interaction's AI lines in one file (see `docs/schema.md`, `line_tally`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LineTally {
    pub path: String,
    pub added: u64,
    pub modified: u64,
    pub deleted: u64,
}

/// Row counts, for `prodcode stats`, `prodcode/status` and `doctor`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Counts {
    pub events: u64,
    pub interactions: u64,
    pub prompts: u64,
    pub ai_edits: u64,
    pub snapshots: u64,
    pub repositories: u64,
}

/// The handle every write goes through; it lives for one transaction of [`Store::write`].
pub struct Writer<'a> {
    tx: rusqlite::Transaction<'a>,
    /// The chain head, read on the first append of this transaction and advanced by each one.
    head: Option<chain::Head>,
    /// Whether `head` moved and the `chain_head` row must be rewritten before commit.
    head_moved: bool,
    /// Whether new blobs may be stored as deltas.
    deltas: bool,
}

impl Store {
    /// Opens (creating it, its parent directories and its schema if needed) the database at
    /// `path` for reading and writing.
    ///
    /// A file is identified before anything about it changes: one that is not a SQLite
    /// database, belongs to another program, or has a newer schema is refused untouched (its
    /// mode, journal mode and contents as they were).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        check_header(path)?;
        create_private_file(path)?;
        let conn = Connection::open(path).map_err(|source| open_error(path, source))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|source| open_error(path, source))?;
        schema::identify(&conn, path)?;
        // SQLite gives the -wal and -shm files the database file's mode, so this covers them.
        restrict_mode(path)?;
        configure(&conn, path, true)?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            deltas: blobs::deltas_from_env(),
        };
        schema::migrate(&mut store.conn, path, SCHEMA_VERSION)?;
        Ok(store)
    }

    /// Opens an existing database for reading only: for commands that must not create a file.
    /// A database with an older schema is first upgraded through a read-write open, so reads
    /// always see the current tables.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if let Err(source) = std::fs::metadata(path) {
            return Err(StoreError::Io {
                context: format!("no database at {}", path.display()),
                source,
            });
        }
        check_header(path)?;
        let conn = open_reading(path)?;
        let found = schema::identify(&conn, path)?;
        if found < SCHEMA_VERSION {
            drop(conn);
            if let Err(error) = Store::open(path) {
                return Err(StoreError::Corrupt(format!(
                    "{} has schema version {found}, older than this prodcode reads ({SCHEMA_VERSION}), \
                     and could not be upgraded ({error}); run any prodcode command that records \
                     with write access to it once",
                    path.display()
                )));
            }
            return Store::open_read_only(path);
        }
        Ok(Store {
            conn,
            path: path.to_owned(),
            deltas: blobs::deltas_from_env(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file: [`SCHEMA_VERSION`] once opened.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(schema::user_version(&self.conn)?)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits; if `f` fails, nothing it wrote
    /// is kept and its error is returned. Another process's transaction is waited for (up to
    /// 10 s), never reported as `database is locked` while it lasts.
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut writer = Writer {
            tx,
            head: None,
            head_moved: false,
            deltas: self.deltas,
        };
        // On any error the transaction is dropped, which rolls it back.
        let value = f(&mut writer)?;
        writer.save_head()?;
        writer.tx.commit()?;
        Ok(value)
    }
}

/// Refuses, by its first bytes and without opening it through SQLite, a file at `path` that is
/// not a SQLite database or that another program marked as its own (`application_id`, bytes
/// 68..72 of the header). A missing or empty file passes: it becomes a new database. The
/// header's `application_id` can lag behind a write-ahead log that was never checkpointed, so
/// [`schema::identify`] asks SQLite again once the file is known to be a database.
fn check_header(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                context: format!("cannot read the database file {}", path.display()),
                source,
            });
        }
    };
    let mut header = Vec::with_capacity(100);
    file.by_ref()
        .take(100)
        .read_to_end(&mut header)
        .map_err(|source| StoreError::Io {
            context: format!("cannot read the database file {}", path.display()),
            source,
        })?;
    if header.is_empty() {
        return Ok(());
    }
    if header.len() < 100 || &header[..16] != MAGIC {
        return Err(StoreError::NotADatabase {
            path: path.to_owned(),
        });
    }
    let application_id = i64::from(u32::from_be_bytes([
        header[68], header[69], header[70], header[71],
    ]));
    if application_id != 0 && application_id != schema::APPLICATION_ID {
        return Err(StoreError::ForeignDatabase {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// A read-only connection to the database at `path`. On a read-only filesystem SQLite cannot
/// create the `-shm` file a WAL database is read through; such a file cannot change under the
/// reader, so it is then opened as immutable (SQLite's `immutable=1`), which needs no `-shm`.
fn open_reading(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let plain = Connection::open_with_flags(path, flags)
        .map_err(|source| open_error(path, source))
        .and_then(|conn| configure(&conn, path, false).map(|()| conn));
    let error = match plain {
        Ok(conn) => return Ok(conn),
        Err(error) => error,
    };
    let cannot_open = matches!(
        &error,
        StoreError::Open { source, .. }
            if matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
            )
    );
    if !cannot_open || !read_only_filesystem(path) {
        return Err(error);
    }
    let uri = immutable_uri(path);
    let conn = Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
        .map_err(|source| open_error(path, source))?;
    configure(&conn, path, false)?;
    Ok(conn)
}

/// Whether the directory of `path` is on a filesystem mounted read-only (`statvfs`'s `ST_RDONLY`).
fn read_only_filesystem(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(name) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `name` is a valid C string and `stat` is written by statvfs before being read.
        let result = unsafe { libc::statvfs(name.as_ptr(), stat.as_mut_ptr()) };
        // SAFETY: statvfs returned 0, so it filled `stat`.
        result == 0 && unsafe { stat.assume_init() }.f_flag & libc::ST_RDONLY != 0
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// `file:<path>?immutable=1`, with the bytes a URI reserves (and non-ASCII ones) percent-encoded.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b'%' | b'?' | b'#' | 0x80.. => uri.push_str(&format!("%{byte:02X}")),
            _ => uri.push(char::from(*byte)),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Creates `path` with mode 0600 (and missing parents with mode 0700) if it does not exist, so
/// the database is never readable by others, not even for a moment.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(|source| StoreError::Io {
            context: format!("cannot create the directory {}", parent.display()),
            source,
        })?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|source| StoreError::Io {
        context: format!("cannot create or open the database file {}", path.display()),
        source,
    })?;
    Ok(())
}

/// Sets the database file's mode to 0600 if it is anything else (a file made by an older
/// version, by hand, or by a copy).
fn restrict_mode(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let io_error = |source| StoreError::Io {
            context: format!("cannot set the mode of {} to 0600", path.display()),
            source,
        };
        let mode = std::fs::metadata(path)
            .map_err(io_error)?
            .permissions()
            .mode();
        if mode & 0o777 != 0o600 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(io_error)?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Per-connection settings. The busy timeout comes first so that every later statement,
/// including the switch to WAL, waits for other processes instead of failing.
fn configure(conn: &Connection, path: &Path, writable: bool) -> Result<(), StoreError> {
    let wrap = |source| open_error(path, source);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(wrap)?;
    conn.set_prepared_statement_cache_capacity(32);
    if writable {
        // WAL is persistent in the file; setting it again is a no-op. It is the first statement
        // that reads the file, so a file that is not a database is reported here. Switching a
        // fresh file to WAL needs an exclusive lock, and SQLite answers "busy" at once instead of
        // waiting when another connection is switching it too, so that case is retried here.
        let mode: String = retry_while_busy(|| {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        })
        .map_err(wrap)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                "{}: SQLite kept journal mode {mode} instead of WAL; readers may wait for writers",
                path.display()
            );
        }
    } else {
        // Read the header now so that a file that is not a database fails here, with its path.
        // Nothing else to set for reading (every statement costs a hook call time).
        schema::user_version(conn).map_err(wrap)?;
        return Ok(());
    }
    // NORMAL in WAL mode survives the process being killed at any point (what we promise); only
    // a power loss can drop the last transactions, never corrupt the file.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(wrap)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(wrap)?;
    Ok(())
}

/// Runs `f` again while SQLite reports the database busy, for up to [`BUSY_TIMEOUT`]: for the
/// few statements where SQLite does not call the busy handler (it would risk a deadlock).
fn retry_while_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match f() {
            Err(error)
                if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADatabase {
            path: path.to_owned(),
        },
        _ => StoreError::Open {
            path: path.to_owned(),
            source,
        },
    }
}
