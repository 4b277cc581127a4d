//! A tool call's own overhead over the command it runs (issue 5: under 20 ms).
//!
//! The tool is `run_tests` with a configured command that does nothing (`true`), so everything
//! above the cost of running `true` is prodcode's: argument checks, detection, the process
//! group, report parsing, JSON, and recording the call in SQLite. Measured three ways, next to
//! the baseline of spawning `true` directly in the same run:
//! - in process: `Toolbox::call` with the store recorder the binary uses;
//! - over MCP: a `tools/call` round trip to a running `prodcode mcp` over its stdio pipes;
//! - on the command line: a whole `prodcode tool run_tests` process.
//!
//! Run: `cargo bench --bench tools`. A plain bench binary: it prints p50 and p99 per call.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prodcode::cli::toolbox::StoreRecorder;
use prodcode::tools::toolbox::{CallContext, Toolbox};
use serde_json::{Value, json};

const CALLS: usize = 200;
const WARMUP: usize = 10;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, samples: &mut [Duration]) -> Duration {
    samples.sort();
    let p50 = percentile(samples, 0.50);
    println!(
        "{label:<58} p50 {:>7.2} ms   p99 {:>7.2} ms   (n = {})",
        p50.as_secs_f64() * 1000.0,
        percentile(samples, 0.99).as_secs_f64() * 1000.0,
        samples.len()
    );
    p50
}

fn sample(mut f: impl FnMut()) -> Vec<Duration> {
    (0..WARMUP + CALLS)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .skip(WARMUP)
        .collect()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("ws");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(
        root.join("prodcode.toml"),
        "[tools.tests]\ncommand = [\"true\"]\n",
    )
    .unwrap();
    let db = dir.path().join("bench.db");
    let exe = Path::new(env!("CARGO_BIN_EXE_prodcode"));
    let arguments = json!({ "timeout_s": 60 });

    let mut baseline = sample(|| {
        let status = Command::new("true").status().unwrap();
        assert!(status.success());
    });
    let floor = report("baseline: spawn `true` and wait", &mut baseline);

    let recorder = StoreRecorder::open(Some(db.clone())).unwrap();
    let config = prodcode::config::load(&root).unwrap();
    let toolbox = Toolbox::open(&root, config.tools, Some(Box::new(recorder))).unwrap();
    let context = CallContext::from_env("bench");
    let mut in_process = sample(|| {
        let output = toolbox.call("run_tests", &arguments, &context);
        assert!(!output.is_error, "{}", output.text);
    });
    let p50 = report(
        "Toolbox::call run_tests (`true`), recorded",
        &mut in_process,
    );
    println!(
        "{:<58} {:>7.2} ms",
        "  overhead over the baseline (p50)",
        (p50.saturating_sub(floor)).as_secs_f64() * 1000.0
    );

    let mut server = Command::new(exe)
        .args([
            "--db",
            db.to_str().unwrap(),
            "mcp",
            "--workspace",
            root.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut client = McpClient {
        stdin: server.stdin.take().unwrap(),
        stdout: BufReader::new(server.stdout.take().unwrap()),
        next_id: 0,
    };
    let initialized = client.request(
        "initialize",
        json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "bench", "version": "1" } }),
    );
    assert!(initialized.get("result").is_some(), "{initialized}");
    client.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
    let mut mcp = Vec::new();
    for i in 0..WARMUP + CALLS {
        let started = Instant::now();
        let answer = client.request(
            "tools/call",
            json!({ "name": "run_tests", "arguments": arguments }),
        );
        let elapsed = started.elapsed();
        assert_eq!(answer["result"]["isError"], json!(false), "{answer}");
        if i >= WARMUP {
            mcp.push(elapsed);
        }
    }
    let p50 = report("MCP tools/call run_tests (`true`) over stdio", &mut mcp);
    println!(
        "{:<58} {:>7.2} ms",
        "  overhead over the baseline (p50)",
        (p50.saturating_sub(floor)).as_secs_f64() * 1000.0
    );
    drop(client);
    let _ = server.kill();
    let _ = server.wait();

    let mut cli: Vec<Duration> = (0..WARMUP + 50)
        .map(|_| {
            let started = Instant::now();
            let output = Command::new(exe)
                .args([
                    "--db",
                    db.to_str().unwrap(),
                    "tool",
                    "run_tests",
                    "--workspace",
                    root.to_str().unwrap(),
                    "--json",
                ])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            started.elapsed()
        })
        .skip(WARMUP)
        .collect();
    let p50 = report("prodcode tool run_tests (`true`), whole process", &mut cli);
    println!(
        "{:<58} {:>7.2} ms",
        "  overhead over the baseline (p50)",
        (p50.saturating_sub(floor)).as_secs_f64() * 1000.0
    );
}

/// MCP over stdio as the 2025-06-18 transport defines it: one JSON-RPC message per line.
struct McpClient {
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    next_id: u64,
}

impl McpClient {
    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "prodcode mcp closed its stdout"
            );
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }
}
