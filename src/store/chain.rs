//! The hash chain over the event log: appending and verifying.
//!
//! Each event's `hash` is SHA-256 over its `prev_hash`, `id`, `ts_ms`, `source`, `kind` and
//! `payload`, each encoded as an 8-byte big-endian length followed by its bytes (integers as
//! 8-byte big-endian two's complement), so no two different events encode alike. The first
//! event's `prev_hash` is 64 zeros. The `chain_head` row holds the last event's id and hash and
//! is rewritten in the same transaction as the appends, so deleting events from the end is
//! detected like deleting them from the middle.

use rusqlite::Connection;

use super::integrity::{self, RowProblem};
use super::{EventId, NewEvent, Store, StoreError, StoredEvent, Writer};
use crate::model::hex;

/// The `prev_hash` of the first event.
pub(super) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The last event of the chain: what the next event links to.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) struct Head {
    pub(super) id: EventId,
    pub(super) hash: String,
}

/// The result of walking the whole chain.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Verification {
    /// Events whose hash and link were checked and found intact, up to the first problem.
    pub events_checked: u64,
    /// The id and hash the `chain_head` row records. Keep a copy elsewhere to detect a rewrite
    /// of the whole file, which no chain inside the file can detect.
    pub head_id: EventId,
    pub head_hash: String,
    /// The first problem in id order; `None` when the chain is intact.
    pub problem: Option<ChainProblem>,
    /// Blobs whose content was hashed and compared with their key.
    pub blobs_checked: u64,
    /// Prompts compared with the event they were recorded from.
    pub prompts_checked: u64,
    /// Rows that disagree with what they are derived from (see `integrity`), the first 100.
    pub row_problems: Vec<RowProblem>,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none() && self.row_problems.is_empty()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ChainProblem {
    pub event_id: EventId,
    pub kind: ProblemKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProblemKind {
    /// The event's stored hash does not match its contents: the row was edited (or, for an id
    /// past the recorded head, inserted behind the chain's back).
    Tampered,
    /// The event is absent: deleted from the middle or the end of the log.
    Missing,
    /// The event's `prev_hash` is not the previous event's hash: the previous event was
    /// rewritten together with its hash, or this link was.
    BrokenLink,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Tampered => "tampered",
            ProblemKind::Missing => "missing",
            ProblemKind::BrokenLink => "broken_link",
        }
    }
}

/// The hash of one event; see the module docs for the encoding.
pub(super) fn event_hash(
    prev_hash: &str,
    id: EventId,
    ts_ms: i64,
    source: &str,
    kind: &str,
    payload: &str,
) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut field = |bytes: &[u8]| {
        context.update(&(bytes.len() as u64).to_be_bytes());
        context.update(bytes);
    };
    field(prev_hash.as_bytes());
    field(&id.to_be_bytes());
    field(&ts_ms.to_be_bytes());
    field(source.as_bytes());
    field(kind.as_bytes());
    field(payload.as_bytes());
    hex(context.finish().as_ref())
}

/// Checks one row against the event before it; on success it becomes the new previous event.
fn check_event(
    row: &rusqlite::Row<'_>,
    previous: &Head,
) -> rusqlite::Result<Result<Head, ChainProblem>> {
    let id: EventId = row.get(0)?;
    let problem = |event_id, kind| Ok(Err(ChainProblem { event_id, kind }));
    if id <= previous.id {
        // Only a hand-made row can have an id of 0 or less.
        return problem(id, ProblemKind::Tampered);
    }
    if id != previous.id + 1 {
        return problem(previous.id + 1, ProblemKind::Missing);
    }
    // A value of the wrong type (a tamperer's doing) is a hash mismatch, not an error.
    let text = |index| {
        row.get_ref(index)
            .ok()
            .and_then(|value| value.as_str().ok())
    };
    let (Ok(ts_ms), Some(source), Some(kind), Some(payload), Some(prev_hash), Some(hash)) = (
        row.get::<_, i64>(1),
        text(2),
        text(3),
        text(4),
        text(5),
        text(6),
    ) else {
        return problem(id, ProblemKind::Tampered);
    };
    Ok(check_fields(
        id,
        ts_ms,
        source,
        kind,
        Some(payload),
        prev_hash,
        hash,
        previous,
    ))
}

/// Checks one event's fields against the event before it. A `payload` of `None` (withheld by
/// the device that pushed it to a team store) cannot be hashed: only its link is checked.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_fields(
    id: EventId,
    ts_ms: i64,
    source: &str,
    kind: &str,
    payload: Option<&str>,
    prev_hash: &str,
    hash: &str,
    previous: &Head,
) -> Result<Head, ChainProblem> {
    let problem = |event_id, kind| Err(ChainProblem { event_id, kind });
    if id <= previous.id {
        return problem(id, ProblemKind::Tampered);
    }
    if id != previous.id + 1 {
        return problem(previous.id + 1, ProblemKind::Missing);
    }
    if let Some(payload) = payload
        && event_hash(prev_hash, id, ts_ms, source, kind, payload) != hash
    {
        return problem(id, ProblemKind::Tampered);
    }
    if prev_hash != previous.hash {
        return problem(id, ProblemKind::BrokenLink);
    }
    Ok(Head {
        id,
        hash: hash.to_owned(),
    })
}

/// Compares the last intact event with the recorded head, once every row checked out.
pub(super) fn check_end(last: &Head, head: &Head) -> Option<ChainProblem> {
    let (event_id, kind) = if last.id < head.id {
        // Events were removed from the end of the log.
        (last.id + 1, ProblemKind::Missing)
    } else if last.id > head.id {
        // Events were inserted without going through the chain.
        (head.id + 1, ProblemKind::Tampered)
    } else if last.hash != head.hash {
        // The last event was rewritten with a fresh hash.
        (head.id, ProblemKind::Tampered)
    } else {
        return None;
    };
    Some(ChainProblem { event_id, kind })
}

fn read_head(conn: &Connection) -> Result<Head, StoreError> {
    let head = conn
        .prepare_cached("SELECT id, hash FROM chain_head WHERE singleton = 0")?
        .query_row([], |row| {
            Ok(Head {
                id: row.get(0)?,
                hash: row.get(1)?,
            })
        });
    match head {
        Ok(head) => Ok(head),
        Err(rusqlite::Error::QueryReturnedNoRows) => Err(StoreError::Corrupt(
            "the chain_head row is missing; run `prodcode verify`".to_owned(),
        )),
        Err(error) => Err(error.into()),
    }
}

impl Writer<'_> {
    /// Appends one event to the log and returns its id.
    pub fn append_event(&mut self, event: &NewEvent<'_>) -> Result<EventId, StoreError> {
        let head = match &mut self.head {
            Some(head) => head,
            // Read once per transaction: BEGIN IMMEDIATE keeps other writers out until commit.
            None => self.head.insert(read_head(&self.tx)?),
        };
        let id = head.id + 1;
        let hash = event_hash(
            &head.hash,
            id,
            event.ts_ms,
            event.source,
            event.kind,
            event.payload,
        );
        self.tx
            .prepare_cached(
                "INSERT INTO events (id, ts_ms, source, kind, payload, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(rusqlite::params![
                id,
                event.ts_ms,
                event.source,
                event.kind,
                event.payload,
                head.hash,
                hash,
            ])?;
        *head = Head { id, hash };
        self.head_moved = true;
        Ok(id)
    }

    /// Records the new chain head; [`Store::write`] calls it just before commit.
    pub(super) fn save_head(&mut self) -> Result<(), StoreError> {
        let Some(head) = self.head.as_ref().filter(|_| self.head_moved) else {
            return Ok(());
        };
        let updated = self
            .tx
            .prepare_cached("UPDATE chain_head SET id = ?1, hash = ?2 WHERE singleton = 0")?
            .execute(rusqlite::params![head.id, head.hash])?;
        if updated != 1 {
            return Err(StoreError::Corrupt(
                "the chain_head row is missing; run `prodcode verify`".to_owned(),
            ));
        }
        self.head_moved = false;
        Ok(())
    }
}

impl Store {
    /// Walks the whole event log and reports the first event that was edited, removed or
    /// unlinked, then checks the rows that can be recomputed (blobs against their hashes, live
    /// prompts against their events). Reads one consistent snapshot, so it can run while others
    /// write.
    pub fn verify(&self) -> Result<Verification, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let head = read_head(&tx)?;
        let mut previous = Head {
            id: 0,
            hash: GENESIS_HASH.to_owned(),
        };
        let mut events_checked = 0;
        let mut problem = None;
        {
            let mut statement = tx.prepare(
                "SELECT id, ts_ms, source, kind, payload, prev_hash, hash FROM events ORDER BY id",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                match check_event(row, &previous)? {
                    Ok(event) => {
                        previous = event;
                        events_checked += 1;
                    }
                    Err(found) => {
                        problem = Some(found);
                        break;
                    }
                }
            }
        }
        let rows = integrity::check(&tx)?;
        drop(tx);
        let problem = problem.or_else(|| check_end(&previous, &head));
        Ok(Verification {
            events_checked,
            head_id: head.id,
            head_hash: head.hash,
            problem,
            blobs_checked: rows.blobs_checked,
            prompts_checked: rows.prompts_checked,
            row_problems: rows.problems,
        })
    }

    /// Events with ids greater than `after`, oldest first, at most `limit` of them: for exports
    /// that page through the whole log.
    pub fn events_after(
        &self,
        after: EventId,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, ts_ms, source, kind, payload, prev_hash, hash FROM events
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(rusqlite::params![after, limit], |row| {
            Ok(StoredEvent {
                id: row.get(0)?,
                ts_ms: row.get(1)?,
                source: row.get(2)?,
                kind: row.get(3)?,
                payload: row.get(4)?,
                prev_hash: row.get(5)?,
                hash: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many events have been appended: the id of the chain head, since ids run from 1 with
    /// no gaps. [`Store::verify`] checks that the rows agree.
    pub fn event_count(&self) -> Result<u64, StoreError> {
        let head = read_head(&self.conn)?;
        u64::try_from(head.id)
            .map_err(|_| StoreError::Corrupt(format!("the chain head id {} is negative", head.id)))
    }
}
