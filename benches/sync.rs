//! `prodcode sync` to a local PostgreSQL server (issue 17): the throughput of a first push, and
//! the cost of a push with nothing new.
//!
//! Targets: >= 20,000 events/s; an incremental push with nothing new < 50 ms.
//!
//! Run: `eval "$(bash .ci/pg.sh start)"; cargo bench --bench sync`. It needs
//! `PRODCODE_TEST_PG_URL` (a role that may create databases; `.ci/pg.sh` prints one) and makes
//! and drops its own database. The local store is a real SQLite file in a temporary directory,
//! written through the library as capture writes it: 100,000 events of about 200 bytes (the
//! payload of the store benchmark), one prompt (a new interaction, with a line tally) in every
//! ten. A plain bench binary (no criterion): one first push cannot be repeated on one database.

use std::path::Path;
use std::time::{Duration, Instant};

use prodcode::store::team::{PushOptions, StoreUrl, push};
use prodcode::store::{NewEvent, NewPrompt, Store};

const EVENTS: usize = 100_000;

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

fn fill(db: &Path) {
    let mut store = Store::open(db).expect("open");
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(10_000) {
        store
            .write(|writer| {
                let repo = writer.upsert_repository("/home/dev/project")?;
                for &n in chunk {
                    let event_id = writer.append_event(&NewEvent {
                        ts_ms: 1_700_000_000_000 + n as i64,
                        source: "lsp",
                        kind: "lsp.didChange",
                        payload: &payload(n),
                    })?;
                    if n % 10 == 0 {
                        let id = format!("claude:session-{n}");
                        let prompt = format!("Add a clamp function number {n} with tests");
                        writer.record_prompt(&NewPrompt {
                            interaction_id: &id,
                            prompt: &prompt,
                            agent: Some("claude-code"),
                            model: Some("claude-opus-4-5"),
                            agent_version: Some("2.1.0"),
                            source: "hook",
                            session_id: Some(&id),
                            repo_id: Some(repo),
                            base_commit: None,
                            branch: Some("main"),
                            cwd: Some("/home/dev/project"),
                            ts_ms: 1_700_000_000_000 + n as i64,
                            event_id,
                        })?;
                        writer.add_line_tally(&id, "/home/dev/project/src/main.rs", 12, 1, 0)?;
                    }
                }
                Ok(())
            })
            .expect("write");
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let Some(admin) = std::env::var("PRODCODE_TEST_PG_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!(
            "sync bench skipped: set PRODCODE_TEST_PG_URL (eval \"$(bash .ci/pg.sh start)\")"
        );
        return;
    };
    let name = format!("prodcode_bench_{}", std::process::id());
    let mut admin_client = postgres::Client::connect(&admin, postgres::NoTls).expect("server");
    admin_client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("a URL").0);

    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    fill(&db);
    let mut store = Store::open(&db).expect("open");
    let team = StoreUrl::parse(&url).expect("url");
    let mut client = team.connect().expect("connect");
    let options = PushOptions::default();

    let started = Instant::now();
    let report = push(&mut store, &mut client, &options, 0).expect("push");
    let first = started.elapsed();
    assert_eq!(report.events, EVENTS as u64);
    let rows: u64 = report.tables.iter().map(|count| count.rows).sum();
    println!(
        "first push: {EVENTS} events and {rows} other rows in {:.2} s: {:.0} events/s (target >= 20,000)",
        first.as_secs_f64(),
        EVENTS as f64 / first.as_secs_f64()
    );

    let mut samples = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let report = push(&mut store, &mut client, &options, 0).expect("push");
        samples.push(started.elapsed());
        assert_eq!(report.events, 0);
    }
    println!(
        "push with nothing new, connection open: median {:.1} ms (target < 50 ms)",
        median(samples).as_secs_f64() * 1e3
    );

    let exe = Path::new(env!("CARGO_BIN_EXE_prodcode"));
    let mut samples = Vec::new();
    for _ in 0..11 {
        let started = Instant::now();
        let output = std::process::Command::new(exe)
            .args(["sync", "--to", &url, "--db"])
            .arg(&db)
            .output()
            .expect("prodcode sync");
        samples.push(started.elapsed());
        assert!(output.status.success(), "{output:?}");
    }
    println!(
        "`prodcode sync` with nothing new, whole process (connect, open, push): median {:.1} ms",
        median(samples).as_secs_f64() * 1e3
    );

    drop(client);
    let _ = admin_client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
