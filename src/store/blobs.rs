//! Content-addressed blobs, stored whole or as deltas (issue 16).
//!
//! A blob is named by the SHA-256 of its full bytes, however it is stored, so every reader, the
//! snapshots that name it and the hash chain over payloads that reference it are unchanged by how
//! it is kept. A row holds either the bytes (`base` NULL, `depth` 0) or a delta against another
//! blob (`base`, the row's `depth` one more than the base's), in the format of [`super::delta`].
//! A file's snapshot is stored against the same file's previous snapshot: consecutive versions
//! of a file that an agent edits share almost every line.
//!
//! Reads stay fast because chains are short: a blob is stored whole when its base is already
//! [`MAX_DEPTH`] deltas from a whole copy, when the delta would not save at least half of the
//! text, or when the text is small. Reading a blob applies at most [`MAX_DEPTH`] deltas, each a
//! copy of the text's bytes.
//!
//! Every read goes through [`read`], the one function that rebuilds; `verify` rebuilds every
//! delta row and checks the result against the row's hash and size, like a whole row.

use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, Writer, delta};
use crate::model::ContentHash;

/// The most deltas between a blob and a whole copy: at most this many are applied per read.
pub(super) const MAX_DEPTH: i64 = 16;

/// Texts smaller than this are stored whole: a delta would save little and cost a read.
const MIN_DELTA_TEXT: usize = 1024;

/// A chain longer than this is not one prodcode wrote (a loop made by hand, say).
const MAX_CHAIN: usize = 4 * MAX_DEPTH as usize;

/// The environment variable that turns deltas off (`0`): every blob is then stored whole, as
/// before schema version 9. For comparisons (`benches/hook.rs` measures both ways in one run).
pub const DELTAS_ENV: &str = "PRODCODE_BLOB_DELTAS";

/// Whether new blobs may be stored as deltas, from [`DELTAS_ENV`].
pub(super) fn deltas_from_env() -> bool {
    std::env::var_os(DELTAS_ENV).is_none_or(|value| value != "0")
}

impl Writer<'_> {
    /// Stores `bytes` once under their SHA-256 and returns the hash; storing them again is free.
    /// The bytes are stored whole: [`Writer::put_blob_near`] stores a delta when it can.
    pub fn put_blob(&mut self, bytes: &[u8]) -> Result<ContentHash, StoreError> {
        self.put_blob_near(bytes, None)
    }

    /// [`Writer::put_blob`], stored as a delta against the blob `base` (a likely earlier version
    /// of the same text, such as the file's previous snapshot) when that saves space and keeps
    /// reads short (see the module documentation); otherwise whole.
    pub fn put_blob_near(
        &mut self,
        bytes: &[u8],
        base: Option<&ContentHash>,
    ) -> Result<ContentHash, StoreError> {
        self.put_blob_hashed(bytes, ContentHash::of(bytes), base)
    }

    /// [`Writer::put_blob_near`] for bytes whose SHA-256 the caller already computed (hashing a
    /// large file costs more than storing its delta): `hash` must be `ContentHash::of(bytes)`.
    pub(crate) fn put_blob_hashed(
        &mut self,
        bytes: &[u8],
        hash: ContentHash,
        base: Option<&ContentHash>,
    ) -> Result<ContentHash, StoreError> {
        debug_assert_eq!(hash, ContentHash::of(bytes));
        let known = self
            .tx
            .prepare_cached("SELECT 1 FROM blobs WHERE hash = ?1")?
            .query_row([hash.as_str()], |_| Ok(()))
            .optional()?
            .is_some();
        if known {
            return Ok(hash);
        }
        if let Some(base) = base.filter(|base| self.deltas && **base != hash)
            && bytes.len() >= MIN_DELTA_TEXT
            && let Some(depth) = self
                .tx
                .prepare_cached("SELECT depth FROM blobs WHERE hash = ?1")?
                .query_row([base.as_str()], |row| row.get::<_, i64>(0))
                .optional()?
            && (0..MAX_DEPTH).contains(&depth)
            && let Ok(Some(base_bytes)) = read(&self.tx, base)
        {
            let encoded = delta::encode(&base_bytes, bytes);
            if encoded.len() <= bytes.len() / 2 {
                self.tx
                    .prepare_cached(
                        "INSERT INTO blobs (hash, size, data, base, depth)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        hash.as_str(),
                        bytes.len() as i64,
                        encoded,
                        base.as_str(),
                        depth + 1,
                    ])?;
                return Ok(hash);
            }
        }
        self.tx
            .prepare_cached("INSERT INTO blobs (hash, size, data) VALUES (?1, ?2, ?3)")?
            .execute(params![hash.as_str(), bytes.len() as i64, bytes])?;
        Ok(hash)
    }

    /// The bytes stored under `hash`, read inside this transaction.
    pub fn read_blob(&mut self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
        read(&self.tx, hash)
    }
}

/// One stored row of `blobs`: the bytes, or a delta and its base.
struct Row {
    size: i64,
    base: Option<String>,
    data: Vec<u8>,
}

fn row(conn: &Connection, hash: &str) -> Result<Option<Row>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT size, base, data FROM blobs WHERE hash = ?1")?
        .query_row([hash], |row| {
            Ok(Row {
                size: row.get(0)?,
                base: row.get(1)?,
                data: row.get(2)?,
            })
        })
        .optional()?)
}

/// The bytes of the blob `hash` as `conn` sees it (a connection or an open transaction),
/// rebuilt through its deltas; `None` when no such blob is stored. A delta whose base is missing
/// or that does not fit it is [`StoreError::Corrupt`], naming the blob.
pub(super) fn read(conn: &Connection, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(first) = row(conn, hash.as_str())? else {
        return Ok(None);
    };
    let mut deltas = Vec::new();
    let mut current = first;
    let mut current_hash = hash.as_str().to_owned();
    while let Some(base) = current.base.take() {
        if deltas.len() >= MAX_CHAIN {
            return Err(corrupt(hash.as_str(), "its chain of deltas does not end"));
        }
        let Some(next) = row(conn, &base)? else {
            return Err(corrupt(
                hash.as_str(),
                &format!("the base {base} of blob {current_hash} is not stored"),
            ));
        };
        deltas.push((current_hash, current));
        current = next;
        current_hash = base;
    }
    let mut bytes = current.data;
    for (delta_hash, delta_row) in deltas.into_iter().rev() {
        bytes = rebuild(&bytes, &delta_row).map_err(|problem| {
            corrupt(
                hash.as_str(),
                &format!("the delta of blob {delta_hash} {problem}"),
            )
        })?;
    }
    Ok(Some(bytes))
}

/// The bytes of a delta row from its base's bytes.
fn rebuild(base: &[u8], row: &Row) -> Result<Vec<u8>, String> {
    let size = usize::try_from(row.size).map_err(|_| format!("has size {}", row.size))?;
    delta::apply(base, &row.data, size)
}

fn corrupt(hash: &str, problem: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "blob {hash} cannot be read: {problem}; run `prodcode verify` to list damaged rows"
    ))
}

/// Rebuilds blobs for `verify`, reusing the bytes of the rows just checked: rows are visited in
/// insertion order and a delta's base is usually the row before it, so each row costs one delta.
pub(super) struct Rebuilder {
    recent: Vec<(String, Vec<u8>)>,
}

/// Texts kept by [`Rebuilder`].
const REBUILDER_KEEPS: usize = 8;

impl Rebuilder {
    pub(super) fn new() -> Rebuilder {
        Rebuilder { recent: Vec::new() }
    }

    /// The full bytes of a row whose stored `size`, `base` and `data` are given; `None` when
    /// they cannot be rebuilt (a missing base, a delta that does not fit it).
    pub(super) fn bytes(
        &mut self,
        conn: &Connection,
        size: i64,
        base: Option<&str>,
        data: &[u8],
    ) -> Option<Vec<u8>> {
        let Some(base) = base else {
            return Some(data.to_vec());
        };
        let row = Row {
            size,
            base: None,
            data: data.to_vec(),
        };
        match self.recent.iter().find(|(recent, _)| recent == base) {
            Some((_, base_bytes)) => rebuild(base_bytes, &row).ok(),
            None => {
                let base_bytes = read(conn, &ContentHash::from_hex(base)?).ok()??;
                rebuild(&base_bytes, &row).ok()
            }
        }
    }

    /// Keeps `bytes`, checked to be the blob `hash`, for the rows that follow.
    pub(super) fn keep(&mut self, hash: String, bytes: Vec<u8>) {
        if self.recent.len() >= REBUILDER_KEEPS {
            self.recent.remove(0);
        }
        self.recent.push((hash, bytes));
    }
}
