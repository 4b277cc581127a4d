//! Store write speed: hash-chained ingest in batches, the latency of one acknowledged event, and
//! a plain rusqlite baseline with the same rows and settings but no chain.
//!
//! Targets: batched ingest >= 100,000 events/s; one event in its own transaction < 1 ms median.
//! Run with `cargo bench --bench store`. Every database is a real file in a temporary directory.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prodcode::store::{NewEvent, Store};

const BATCH: usize = 1_000;

/// About 200 bytes of JSON, shaped like the payload the daemon logs for one `didChange`.
fn payload(n: usize) -> String {
    format!(
        concat!(
            r#"{{"session":"7f3a9c2e","params":{{"textDocument":{{"uri":"file:///home/dev/project/src/"#,
            r#"main.rs","version":{}}},"contentChanges":[{{"range":{{"start":{{"line":41,"character":8}},"#,
            r#""end":{{"line":41,"character":8}}}},"text":"x"}}]}}}}"#
        ),
        n
    )
}

fn payloads() -> Vec<String> {
    (0..BATCH).map(payload).collect()
}

fn hash_chained_ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("ingest.db")).expect("open");
    let payloads = payloads();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("ingest_batch_1000", |b| {
        b.iter(|| {
            store
                .write(|writer| {
                    for (n, payload) in payloads.iter().enumerate() {
                        black_box(writer.append_event(&NewEvent {
                            ts_ms: 1_700_000_000_000 + n as i64,
                            source: "lsp",
                            kind: "lsp.didChange",
                            payload,
                        })?);
                    }
                    Ok(())
                })
                .expect("write")
        })
    });
    group.finish();
}

fn single_event_latency(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("single.db")).expect("open");
    let payload = payload(1);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));
    group.bench_function("single_event_transaction", |b| {
        b.iter(|| {
            store
                .write(|writer| {
                    writer.append_event(&NewEvent {
                        ts_ms: 1_700_000_000_000,
                        source: "lsp",
                        kind: "lsp.didChange",
                        payload: &payload,
                    })
                })
                .expect("write")
        })
    });
    group.finish();
}

/// The floor: the same rows, file and pragmas, inserted with plain rusqlite and no hash chain.
fn plain_rusqlite_baseline(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut conn = rusqlite::Connection::open(dir.path().join("baseline.db")).expect("open");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy");
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        .expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous");
    conn.execute_batch(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,
             source TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL)",
    )
    .expect("schema");
    let payloads = payloads();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("baseline_plain_insert_batch_1000", |b| {
        b.iter(|| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .expect("begin");
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO events (ts_ms, source, kind, payload) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .expect("prepare");
                for (n, payload) in payloads.iter().enumerate() {
                    insert
                        .execute(rusqlite::params![
                            1_700_000_000_000 + n as i64,
                            "lsp",
                            "lsp.didChange",
                            payload
                        ])
                        .expect("insert");
                }
            }
            tx.commit().expect("commit");
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    hash_chained_ingest,
    single_event_latency,
    plain_rusqlite_baseline
);
criterion_main!(benches);
