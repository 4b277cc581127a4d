//! What `verify` checks beyond the event chain: rows whose truth can be recomputed.
//!
//! The chain proves the event log unedited, but other rows can be edited without touching it.
//! Two kinds can be checked from what the store itself holds:
//! - **Blobs** are content-addressed: each blob's bytes must hash (SHA-256) to its `hash` and
//!   have its `size`, and every snapshot's `content_hash` must name a blob that exists. A blob
//!   stored as a delta is rebuilt through its base first, so a tampered delta (or a tampered
//!   base under it) is found like a tampered whole copy.
//! - **Prompts** captured live are copies of a string their event carries: a `prompts` row whose
//!   event came from `lsp` or `hook:*` must equal a string in that event's payload (a `{"$blob":
//!   hash}` reference read through the blob it names), and the event must exist. Imported prompts
//!   are assembled from transcript records (joined blocks, stripped wrappers), so their text is
//!   not a copy of one string and is not checked.
//!
//! Other derived rows (edits, tallies, snapshots' runs) are results of the attribution engine
//! over many events and are not recomputed here.

use rusqlite::Connection;
use serde_json::Value;

use super::StoreError;
use crate::model::ContentHash;

/// At most this many row problems are reported; the count of checked rows is always complete.
const MAX_PROBLEMS: usize = 100;

/// A derived row that disagrees with what it is derived from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RowProblem {
    /// `blobs`, `prompts` or `provenance_snapshots`.
    pub table: &'static str,
    /// The row: a blob's hash, `<interaction id>#<turn>`, a snapshot's id.
    pub key: String,
    pub kind: RowProblemKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RowProblemKind {
    /// A blob's content does not hash to its key, or its size is wrong.
    Tampered,
    /// A prompt's text is not what its event carries.
    DiffersFromEvent,
    /// A prompt's event is not in the log.
    MissingEvent,
    /// A snapshot names a blob that is not stored.
    MissingBlob,
}

impl RowProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RowProblemKind::Tampered => "tampered",
            RowProblemKind::DiffersFromEvent => "differs_from_event",
            RowProblemKind::MissingEvent => "missing_event",
            RowProblemKind::MissingBlob => "missing_blob",
        }
    }
}

/// What [`check`] found.
#[derive(Default)]
pub(super) struct RowChecks {
    pub blobs_checked: u64,
    pub prompts_checked: u64,
    pub problems: Vec<RowProblem>,
}

impl RowChecks {
    fn problem(&mut self, table: &'static str, key: String, kind: RowProblemKind) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(RowProblem { table, key, kind });
        }
    }
}

/// Checks blobs, snapshots' blobs and live prompts, in the caller's read transaction.
pub(super) fn check(conn: &Connection) -> Result<RowChecks, StoreError> {
    let mut checks = RowChecks::default();
    {
        // Insertion order: a delta's base is usually the row just before it.
        let mut statement =
            conn.prepare("SELECT hash, size, base, data FROM blobs ORDER BY rowid")?;
        let mut rows = statement.query([])?;
        let mut rebuilder = super::blobs::Rebuilder::new();
        while let Some(row) = rows.next()? {
            // A value of the wrong type (a tamperer's doing) is a mismatch, not an error.
            let hash = row
                .get_ref(0)?
                .as_str()
                .map(str::to_owned)
                .unwrap_or_default();
            let size = row.get_ref(1)?.as_i64().ok();
            let base = row
                .get_ref(2)?
                .as_str_or_null()
                .ok()
                .flatten()
                .map(str::to_owned);
            let data = row.get_ref(3)?;
            let stored = data.as_blob().or_else(|_| data.as_bytes()).ok();
            checks.blobs_checked += 1;
            let bytes = stored
                .zip(size)
                .and_then(|(stored, size)| rebuilder.bytes(conn, size, base.as_deref(), stored));
            let intact = bytes.as_ref().is_some_and(|bytes| {
                ContentHash::of(bytes).as_str() == hash && size == Some(bytes.len() as i64)
            });
            match bytes {
                Some(bytes) if intact => rebuilder.keep(hash, bytes),
                _ => checks.problem("blobs", hash, RowProblemKind::Tampered),
            }
        }
    }
    {
        let mut statement = conn.prepare(
            "SELECT id FROM provenance_snapshots
             WHERE content_hash NOT IN (SELECT hash FROM blobs) ORDER BY id",
        )?;
        let missing = statement.query_map([], |row| row.get::<_, i64>(0))?;
        for id in missing {
            checks.problem(
                "provenance_snapshots",
                id?.to_string(),
                RowProblemKind::MissingBlob,
            );
        }
    }
    {
        let mut statement = conn.prepare(
            "SELECT p.interaction_id, p.turn, p.text, e.payload
             FROM prompts p
             LEFT JOIN events e ON e.id = p.event_id
             WHERE e.id IS NULL OR e.source = 'lsp' OR e.source LIKE 'hook:%'
             ORDER BY p.event_id",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let interaction: String = row.get(0)?;
            let turn: i64 = row.get(1)?;
            let text = row.get_ref(2)?.as_str().ok().map(str::to_owned);
            let payload = row.get_ref(3)?.as_str().ok().map(str::to_owned);
            checks.prompts_checked += 1;
            let key = format!("{interaction}#{turn}");
            let Some(payload) = payload else {
                checks.problem("prompts", key, RowProblemKind::MissingEvent);
                continue;
            };
            let carried = text.is_some_and(|text| payload_carries(conn, &payload, &text));
            if !carried {
                checks.problem("prompts", key, RowProblemKind::DiffersFromEvent);
            }
        }
    }
    Ok(checks)
}

/// Whether `text` is one of the strings of the JSON `payload`, reading `{"$blob": hash}`
/// references through the blobs they name.
fn payload_carries(conn: &Connection, payload: &str, text: &str) -> bool {
    let Ok(value) = serde_json::from_str::<Value>(payload) else {
        return false;
    };
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::String(string) if string == text => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(mut fields) => {
                if let Some(Value::String(hash)) = fields.get("$blob") {
                    let blob = ContentHash::from_hex(hash)
                        .and_then(|hash| super::blobs::read(conn, &hash).ok().flatten());
                    if blob.is_some_and(|blob| blob == text.as_bytes()) {
                        return true;
                    }
                    fields.remove("$blob");
                }
                stack.extend(fields.into_iter().map(|(_, value)| value));
            }
            _ => {}
        }
    }
    false
}
