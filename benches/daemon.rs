//! The daemon as a process: resident memory when idle, and the round trip of one acknowledged
//! change (a `didChange` followed by a request, whose answer means the change is durable).
//!
//! Run: `cargo bench --bench daemon`. It starts the release binary over real pipes with a
//! database in a temporary directory, and measures `cat` (a process doing nothing) as the
//! memory baseline in the same run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prodcode::lsp::client::StdioClient;
use prodcode::lsp::conv::path_to_uri;
use serde_json::{Value, json};

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn main() {
    // `cargo bench` passes `--bench`; this binary takes no other arguments.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let root = dir.path().canonicalize().unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_prodcode"));

    let mut baseline = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let baseline_rss = rss_kib(baseline.id());
    let _ = baseline.kill();
    let _ = baseline.wait();

    let mut client = StdioClient::spawn(
        exe,
        &["lsp", "--db", db.to_str().unwrap()],
        &[],
        Stdio::null(),
    )
    .unwrap();
    client.initialize(&root, json!({})).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started_rss = rss_kib(client.pid());

    // A realistic working set: a 10,000-line document open.
    let uri = path_to_uri(&root.join("big.rs"));
    let text: String = (0..10_000)
        .map(|i| format!("    let value_{i} = compute(input, {i}); // line {i}\n"))
        .collect();
    client
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
        )
        .unwrap();
    client.request("prodcode/status", Value::Null).unwrap();

    let mut round_trips = Vec::new();
    for version in 2..1_002 {
        let started = Instant::now();
        client
            .notify(
                "textDocument/didChange",
                json!({
                    "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{
                        "range": { "start": { "line": 5000, "character": 4 }, "end": { "line": 5000, "character": 4 } },
                        "text": "x",
                    }],
                }),
            )
            .unwrap();
        client.request("prodcode/status", Value::Null).unwrap();
        round_trips.push(started.elapsed());
    }
    round_trips.sort();
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = rss_kib(client.pid());
    client.shutdown().unwrap();

    println!(
        "daemon/idle_rss_after_start      {:>8.1} MiB",
        started_rss as f64 / 1024.0
    );
    println!(
        "daemon/idle_rss_10k_line_doc     {:>8.1} MiB  (after 1,000 acknowledged changes)",
        idle_rss as f64 / 1024.0
    );
    println!(
        "baseline/idle_rss_cat            {:>8.1} MiB",
        baseline_rss as f64 / 1024.0
    );
    println!(
        "daemon/acknowledged_change       p50 {:>7.1} µs  p99 {:>7.1} µs  (didChange + request round trip, committed)",
        percentile(&round_trips, 0.5).as_secs_f64() * 1e6,
        percentile(&round_trips, 0.99).as_secs_f64() * 1e6
    );
}
