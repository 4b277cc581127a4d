//! `prodcode import` on a generated Claude Code transcript: throughput, and peak memory against
//! a transcript a twentieth the size (flat memory means the two peaks are about the same).
//!
//! Run: `cargo bench --bench import` (`IMPORT_BENCH_MB=50` for a smaller file; the default is
//! 200 MB). It writes the transcript into a temporary directory and runs the release binary on
//! it, sampling the process's peak resident memory (`VmHWM`) every 2 ms. It then imports the same file again
//! (unchanged: nothing to read), and again after appending one turn (only the new lines are
//! read).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const SESSION: &str = "0b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

fn main() {
    let megabytes: u64 = std::env::var("IMPORT_BENCH_MB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let repo = root.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    git(&["init", "-q", "-b", "main"]);

    let small = root.join("small.jsonl");
    let large = root.join("large.jsonl");
    let small_lines = generate(&small, &repo, (megabytes / 20).max(1) << 20);
    let large_lines = generate(&large, &repo, megabytes << 20);
    let large_size = std::fs::metadata(&large).unwrap().len();
    println!(
        "transcripts: small {} lines, {:.1} MB; large {} lines, {:.1} MB",
        small_lines,
        std::fs::metadata(&small).unwrap().len() as f64 / 1e6,
        large_lines,
        large_size as f64 / 1e6
    );

    let small_run = import(&root.join("small.db"), &small);
    let large_run = import(&root.join("large.db"), &large);
    println!("small: {small_run}");
    println!("large: {large_run}");
    println!(
        "large: {:.1} MB/s, {:.0} lines/s; peak RSS {} KiB against {} KiB for the small file",
        large_size as f64 / 1e6 / large_run.elapsed.as_secs_f64(),
        large_lines as f64 / large_run.elapsed.as_secs_f64(),
        large_run.peak_rss_kib,
        small_run.peak_rss_kib
    );
    let again = import(&root.join("large.db"), &large);
    println!("large again (unchanged): {again}");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&large)
        .unwrap();
    let turn = Turn::new(&repo);
    turn.write(&mut file, large_lines as usize);
    let grown = import(&root.join("large.db"), &large);
    println!("large after one more turn: {grown}");

    // Records rather than bytes: short turns (a prompt, an edit and its result, an answer).
    let dense = root.join("dense.jsonl");
    let dense_lines = generate_dense(&dense, &repo, 50_000);
    let dense_run = import(&root.join("dense.db"), &dense);
    println!(
        "dense: {dense_lines} lines, {:.1} MB: {dense_run}; {:.0} records/s",
        std::fs::metadata(&dense).unwrap().len() as f64 / 1e6,
        (dense_lines / 2) as f64 / dense_run.elapsed.as_secs_f64()
    );
}

struct Run {
    elapsed: Duration,
    peak_rss_kib: u64,
    summary: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} s, peak RSS {} KiB: {}",
            self.elapsed.as_secs_f64(),
            self.peak_rss_kib,
            self.summary
        )
    }
}

/// Runs `prodcode import claude FILE` and samples its peak resident memory until it exits.
fn import(db: &Path, file: &Path) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodcode"))
        .args(["import", "claude"])
        .arg(file)
        .arg("--db")
        .arg(db)
        .env_remove("PRODCODE_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut peak = 0;
    loop {
        peak = peak.max(rss_kib(child.id()));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = start.elapsed();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    Run {
        elapsed,
        peak_rss_kib: peak,
        summary: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    }
}

/// The process's peak resident set size so far (`VmHWM`), in KiB; 0 once it has exited.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// Writes turns until the file holds `bytes` bytes; returns the number of lines.
fn generate(path: &Path, repo: &Path, bytes: u64) -> u64 {
    let mut out = BufWriter::new(File::create(path).unwrap());
    let turn = Turn::new(repo);
    let mut lines = 0;
    let mut written = 0;
    let mut n = 0;
    while written < bytes {
        let (count, size) = turn.write(&mut out, n);
        lines += count;
        written += size;
        n += 1;
    }
    out.flush().unwrap();
    lines
}

/// Writes `lines` lines of short turns; returns the number of lines.
fn generate_dense(path: &Path, repo: &Path, lines: u64) -> u64 {
    let mut out = BufWriter::new(File::create(path).unwrap());
    let turn = Turn::new(repo);
    let mut written = 0;
    let mut n = 0;
    while written < lines {
        written += turn.write_short(&mut out, n);
        n += 1;
    }
    out.flush().unwrap();
    written
}

/// One turn of a realistic session: a prompt, thinking, a file read (a long result), an edit
/// and its structured result (with the whole original file), a shell command, an answer.
struct Turn {
    repo: String,
    source: String,
}

impl Turn {
    fn new(repo: &Path) -> Turn {
        let source: String = (0..300)
            .map(|i| format!("    let value_{i} = compute({i}, \"some text on line {i}\");\n"))
            .collect();
        Turn {
            repo: repo.to_string_lossy().into_owned(),
            source,
        }
    }

    /// Writes turn `n`; returns (lines, bytes).
    fn write(&self, out: &mut impl Write, n: usize) -> (u64, u64) {
        let file = format!("{}/src/module_{}.rs", self.repo, n % 50);
        let common = |uuid: String, parent: String| {
            json!({
                "parentUuid": parent, "isSidechain": false, "userType": "external",
                "cwd": self.repo, "sessionId": SESSION, "version": "2.0.14", "gitBranch": "main",
                "uuid": uuid, "timestamp": "2025-10-02T09:14:03.118Z",
            })
        };
        let id = |k: usize| format!("{n:08}-0000-4000-8000-{k:012}");
        let mut lines = Vec::new();
        let mut line = |mut base: serde_json::Value, extra: serde_json::Value| {
            if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
                base.extend(extra.clone());
            }
            lines.push(base.to_string());
        };
        line(
            common(id(1), id(0)),
            json!({"type": "user", "message": {"role": "user", "content": format!("Turn {n}: refactor module_{} so that compute() takes a slice, and keep the tests passing.", n % 50)}}),
        );
        line(
            common(id(2), id(1)),
            json!({"type": "assistant", "message": {"role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [
                {"type": "thinking", "thinking": "Let me look at the module first. ".repeat(40), "signature": "EpYBCkYIBxgCKkB"},
                {"type": "tool_use", "id": format!("toolu_read_{n}"), "name": "Read", "input": {"file_path": file}}]}}),
        );
        line(
            common(id(3), id(2)),
            json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_read_{n}"), "content": self.source}]},
                   "toolUseResult": {"type": "text", "file": {"filePath": file, "content": self.source, "numLines": 300}}}),
        );
        line(
            common(id(4), id(3)),
            json!({"type": "assistant", "message": {"role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [
                {"type": "text", "text": "I'll change the signature."},
                {"type": "tool_use", "id": format!("toolu_edit_{n}"), "name": "Edit", "input": {"file_path": file, "old_string": "    let value_7 = compute(7, \"some text on line 7\");", "new_string": "    let value_7 = compute(&[7], \"some text on line 7\");\n    debug_assert!(value_7.is_ok());"}}]}}),
        );
        line(
            common(id(5), id(4)),
            json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_edit_{n}"), "content": "The file has been updated."}]},
                   "toolUseResult": {"filePath": file, "originalFile": self.source, "structuredPatch": [{"oldStart": 6, "oldLines": 3, "newStart": 6, "newLines": 4, "lines": [
                       "     let value_6 = compute(6, \"some text on line 6\");",
                       "-    let value_7 = compute(7, \"some text on line 7\");",
                       "+    let value_7 = compute(&[7], \"some text on line 7\");",
                       "+    debug_assert!(value_7.is_ok());",
                       "     let value_8 = compute(8, \"some text on line 8\");"]}], "userModified": false}}),
        );
        line(
            common(id(6), id(5)),
            json!({"type": "assistant", "message": {"role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [
                {"type": "tool_use", "id": format!("toolu_bash_{n}"), "name": "Bash", "input": {"command": "cargo test", "description": "Run tests"}}]}}),
        );
        line(
            common(id(7), id(6)),
            json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_bash_{n}"), "content": "test result: ok. 42 passed; 0 failed\n".repeat(20)}]}}),
        );
        line(
            common(id(8), id(7)),
            json!({"type": "assistant", "message": {"role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [{"type": "text", "text": "Done: compute() takes a slice and the tests pass."}]}}),
        );
        write_lines(out, &lines)
    }

    /// Writes a short turn `n` (4 lines, 2 records); returns the number of lines.
    fn write_short(&self, out: &mut impl Write, n: usize) -> u64 {
        let file = format!("{}/src/module_{}.rs", self.repo, n % 50);
        let common = |k: usize, kind: &str, message: serde_json::Value| {
            json!({
                "parentUuid": null, "isSidechain": false, "userType": "external",
                "cwd": self.repo, "sessionId": SESSION, "version": "2.0.14", "gitBranch": "main",
                "uuid": format!("{n:08}-1111-4000-8000-{k:012}"),
                "timestamp": "2025-10-02T09:14:03.118Z", "type": kind, "message": message,
            })
        };
        let mut result = common(
            3,
            "user",
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_short_{n}"), "content": "The file has been updated."}]}),
        );
        result["toolUseResult"] = json!({"filePath": file, "structuredPatch": [{"oldStart": 6, "oldLines": 1, "newStart": 6, "newLines": 2, "lines": ["-    let a = 1;", "+    let a = 2;", "+    let b = a;"]}]});
        let lines = [
            common(1, "user", json!({"role": "user", "content": format!("Short turn {n}: bump a.")})).to_string(),
            common(2, "assistant", json!({"role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [{"type": "tool_use", "id": format!("toolu_short_{n}"), "name": "Edit", "input": {"file_path": file, "old_string": "    let a = 1;", "new_string": "    let a = 2;\n    let b = a;"}}]})).to_string(),
            result.to_string(),
            common(4, "assistant", json!({"role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [{"type": "text", "text": "Done."}]})).to_string(),
        ];
        write_lines(out, &lines).0
    }
}

/// Writes `lines`, one per line; returns (lines, bytes).
fn write_lines(out: &mut impl Write, lines: &[String]) -> (u64, u64) {
    let mut bytes = 0;
    for text in lines {
        out.write_all(text.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
        bytes += text.len() as u64 + 1;
    }
    (lines.len() as u64, bytes)
}
