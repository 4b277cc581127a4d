//! `prodcode-hook claude` as an agent runs it (what `prodcode install` writes): the release
//! binary started over a real pipe for `PreToolUse` + `PostToolUse` pairs of an `Edit` on a
//! 1,000-line and a 10,000-line file in a git repository, with a database in a temporary
//! directory. Prints p50 and p99 per call and per pair, next to two baselines measured in the
//! same loop: spawning `true` (the floor for any hook) and `git rev-parse --show-toplevel` (the
//! smallest real command; issue 16 asks the 1,000-line pair to take at most 3 times as long).
//! The same pairs run through `prodcode hook claude` (the whole binary, how hooks were
//! installed before) and recording in the hook process (`PRODCODE_HOOK_SYNC=1`, before the
//! drainer) as same-run baselines.
//!
//! Then the store's growth (issue 16): 20 agent edits (`Edit`, and a `Write` every fifth) of a
//! 5,000-line file through the same hook, with blobs stored as deltas and, as the same-run
//! baseline, whole (`PRODCODE_BLOB_DELTAS=0`, how every blob was stored before schema 9): bytes
//! the database grew by (page count times page size after a WAL checkpoint) against the file's
//! size, and the time of `prodcode blame` on the file afterwards.
//!
//! Run: `cargo bench --bench hook` (`-- hook-program growth` and so on for some parts only; see
//! `main`). A plain bench binary (no criterion): it measures separate
//! processes, and the figures that matter are percentiles per call.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const WARMUP: usize = 10;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// Runs `program args…` with `input` on stdin and waits; returns the wall time.
fn timed(program: &Path, args: &[&str], cwd: &Path, input: &[u8]) -> Duration {
    timed_with(program, args, &[], cwd, input)
}

/// [`timed`] with environment variables.
fn timed_with(
    program: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    cwd: &Path,
    input: &[u8],
) -> Duration {
    let cpu_before = children_cpu();
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        // `true` may exit before reading: a broken pipe is fine.
        let _ = stdin.write_all(input);
    }
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    LAST_CPU.set(children_cpu().saturating_sub(cpu_before));
    assert!(output.status.success(), "{} failed", program.display());
    elapsed
}

thread_local! {
    /// The CPU time (user + system) of the last command [`timed_with`] ran: its own, not that
    /// of a process it left running (the drainer is reparented, never waited for here). Less
    /// sensitive than wall time to what else the machine runs.
    static LAST_CPU: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

/// User plus system time of every child waited for so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid `rusage`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Prints p50 and p99 of `samples`; returns the p50.
fn report(label: &str, samples: &mut [Duration]) -> Duration {
    samples.sort();
    println!(
        "{label:<52} p50 {:>7.2} ms   p99 {:>7.2} ms   (n = {})",
        percentile(samples, 0.50).as_secs_f64() * 1000.0,
        percentile(samples, 0.99).as_secs_f64() * 1000.0,
        samples.len()
    );
    percentile(samples, 0.50)
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn line(n: usize, version: usize) -> String {
    format!(
        "    let value_{n:04} = compute(\"row {n}\", {version}) + offset; // keep the width realistic"
    )
}

fn main() {
    // `cargo bench --bench hook -- hook-program` runs only the parts named (`hook-program`,
    // `whole-binary`, `in-process`, `after-human-edit`, `growth`); cargo passes `--bench` too.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|name| name == part);
    for (lines, pairs) in [(1_000, 300), (10_000, 100)] {
        for mode in [Mode::HookProgram, Mode::WholeBinary, Mode::InProcess] {
            if wanted(mode.name()) {
                edit_latency(lines, pairs, mode);
            }
        }
    }
    if wanted(Mode::AfterHumanEdit.name()) {
        edit_latency(1_000, 100, Mode::AfterHumanEdit);
    }
    if wanted("growth") {
        store_growth();
    }
}

/// `prodcode hook --drain`: returns once everything the hook calls spooled is recorded.
fn drain(exe: &Path, db: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(exe)
        .args(["hook", "--drain", "--db"])
        .arg(db)
        .status()
        .unwrap();
    assert!(status.success());
    started.elapsed()
}

/// How the hook is run.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `prodcode-hook claude`, spooling for the background drainer: what installed hooks run.
    HookProgram,
    /// `prodcode hook claude`, spooling: the whole binary, how hooks were installed before.
    WholeBinary,
    /// `prodcode hook claude` with `PRODCODE_HOOK_SYNC=1`: recorded in the hook process, how
    /// every call worked before the drainer.
    InProcess,
    /// [`Mode::HookProgram`] with a person's edit of another line before each pre event: the
    /// file then differs from its last snapshot, and the pre call reads git's index entry for it
    /// (in-process now; `git ls-files -s`, timed in the same loop, before).
    AfterHumanEdit,
}

impl Mode {
    /// The name that selects it on the bench's command line.
    fn name(self) -> &'static str {
        match self {
            Mode::HookProgram => "hook-program",
            Mode::WholeBinary => "whole-binary",
            Mode::InProcess => "in-process",
            Mode::AfterHumanEdit => "after-human-edit",
        }
    }
}

/// `pairs` Pre+Post pairs of an `Edit` on a file of `lines` lines run as `mode` says, each pair
/// followed by the baselines, so that all see the same machine.
fn edit_latency(lines_count: usize, pairs: usize, mode: Mode) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("repo");
    std::fs::create_dir(&root).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    let file = root.join("big.rs");
    let mut lines: Vec<String> = (0..lines_count).map(|n| line(n, 0)).collect();
    let text = |lines: &[String]| lines.join("\n") + "\n";
    std::fs::write(&file, text(&lines)).unwrap();
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "big file"]);
    let db = base.join("bench.db");
    let exe = Path::new(env!("CARGO_BIN_EXE_prodcode"));
    let db_arg = db.to_str().unwrap();
    let (hook_exe, args): (&Path, &[&str]) = match mode {
        Mode::HookProgram | Mode::AfterHumanEdit => (
            Path::new(env!("CARGO_BIN_EXE_prodcode-hook")),
            &["claude", "--db", db_arg],
        ),
        Mode::WholeBinary | Mode::InProcess => (exe, &["hook", "claude", "--db", db_arg]),
    };
    let envs: &[(&str, &str)] = if mode == Mode::InProcess {
        &[("PRODCODE_HOOK_SYNC", "1")]
    } else {
        &[]
    };
    let session = "bench-session";
    let common = |event: &str| {
        json!({
            "session_id": session,
            "transcript_path": format!("/home/dev/.claude/projects/-repo/{session}.jsonl"),
            "cwd": root,
            "permission_mode": "default",
            "hook_event_name": event,
        })
    };
    let mut prompt = common("UserPromptSubmit");
    prompt["prompt"] = json!("Rename the values and bump their versions");
    timed_with(hook_exe, args, envs, &root, prompt.to_string().as_bytes());

    let mut pre_times = Vec::new();
    let mut post_times = Vec::new();
    let mut pair_times = Vec::new();
    let mut true_times = Vec::new();
    let mut toplevel_times = Vec::new();
    let mut pair_cpu = Vec::new();
    let mut toplevel_cpu = Vec::new();
    let mut payload_bytes = 0;
    let mut ls_files_times = Vec::new();
    let true_path = Path::new("true");
    let git_path = Path::new("git");
    for i in 0..WARMUP + pairs {
        let n = (i * 37) % lines_count;
        if mode == Mode::AfterHumanEdit {
            let other = (n + lines_count / 2) % lines_count;
            lines[other] = format!("{} // reviewed", line(other, i));
            std::fs::write(&file, text(&lines)).unwrap();
        }
        let original = text(&lines);
        let (old, new) = (lines[n].clone(), line(n, i + 1));
        let input = json!({ "file_path": file, "old_string": old, "new_string": new, "replace_all": false });
        let id = format!("toolu_bench_{i}");
        let mut pre = common("PreToolUse");
        pre["tool_name"] = json!("Edit");
        pre["tool_input"] = input.clone();
        pre["tool_use_id"] = json!(id);
        let pre_time = timed_with(hook_exe, args, envs, &root, pre.to_string().as_bytes());
        let pre_cpu = LAST_CPU.get();

        lines[n] = new.clone();
        std::fs::write(&file, text(&lines)).unwrap();

        let mut post = common("PostToolUse");
        post["tool_name"] = json!("Edit");
        post["tool_input"] = input;
        // Claude Code's Edit result carries the whole original file.
        post["tool_response"] = json!({
            "filePath": file, "oldString": old, "newString": new, "originalFile": original,
            "structuredPatch": [], "userModified": false, "replaceAll": false,
        });
        post["tool_use_id"] = json!(id);
        let post = post.to_string();
        payload_bytes = post.len();
        let post_time = timed_with(hook_exe, args, envs, &root, post.as_bytes());
        let post_cpu = LAST_CPU.get();
        let true_time = timed(true_path, &[], &root, b"{}");
        let toplevel_time = timed(git_path, &["rev-parse", "--show-toplevel"], &root, b"");
        if mode == Mode::AfterHumanEdit && i >= WARMUP {
            let args = ["ls-files", "-s", "-z", "--", ":(literal)big.rs"];
            ls_files_times.push(timed(git_path, &args, &root, b""));
        }
        if i >= WARMUP {
            pre_times.push(pre_time);
            post_times.push(post_time);
            pair_times.push(pre_time + post_time);
            true_times.push(true_time);
            toplevel_times.push(toplevel_time);
            pair_cpu.push(pre_cpu + post_cpu);
            toplevel_cpu.push(LAST_CPU.get());
        }
    }

    // What is still to record once the last call returned (the drainer runs beside the calls).
    let backlog = drain(exe, &db);
    let events: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        events as usize,
        1 + 2 * (WARMUP + pairs),
        "every call recorded"
    );
    let mode = match mode {
        Mode::HookProgram => {
            "spooled, recorded by the background drainer (what installed hooks run)"
        }
        Mode::WholeBinary => "spooled, through the whole binary (baseline: hooks installed before)",
        Mode::InProcess => "recorded in the hook process (PRODCODE_HOOK_SYNC=1, baseline)",
        Mode::AfterHumanEdit => "spooled, a person's edit of another line before each pre",
    };
    println!(
        "Edit on a {lines_count}-line file in a git repository, {pairs} pre/post pairs (post payload {:.0} KB), {mode}",
        payload_bytes as f64 / 1000.0
    );
    println!(
        "command: {} {} < payload.json",
        hook_exe.display(),
        args.join(" ")
    );
    let mut all: Vec<Duration> = pre_times.iter().chain(&post_times).copied().collect();
    report("hook PreToolUse (Edit)", &mut pre_times);
    report(
        "hook PostToolUse (Edit, payload with originalFile)",
        &mut post_times,
    );
    report("hook, any call (target p50 < 15 ms, p99 < 50 ms)", &mut all);
    let pair_p50 = report("hook pair, Pre + Post", &mut pair_times);
    if !ls_files_times.is_empty() {
        report(
            "baseline: `git ls-files -s` (what a pre asked before)",
            &mut ls_files_times,
        );
    }
    report("baseline: spawn `true` over a pipe", &mut true_times);
    let toplevel_p50 = report(
        "baseline: `git rev-parse --show-toplevel`",
        &mut toplevel_times,
    );
    println!(
        "pair p50 / `git rev-parse --show-toplevel` p50: {:.1}x",
        pair_p50.as_secs_f64() / toplevel_p50.as_secs_f64()
    );
    let pair_cpu_p50 = report("CPU time: hook pair, Pre + Post", &mut pair_cpu);
    let toplevel_cpu_p50 = report(
        "CPU time: `git rev-parse --show-toplevel`",
        &mut toplevel_cpu,
    );
    println!(
        "CPU time, pair p50 / `git rev-parse --show-toplevel` p50: {:.1}x",
        pair_cpu_p50.as_secs_f64() / toplevel_cpu_p50.as_secs_f64()
    );
    println!(
        "after the last call, `prodcode hook --drain` returned in {:.1} ms (all {events} events recorded)",
        backlog.as_secs_f64() * 1000.0
    );
    let size = std::fs::metadata(&db)
        .map(|metadata| metadata.len())
        .unwrap_or(0);
    println!(
        "database after the run: {:.1} MiB",
        size as f64 / (1024.0 * 1024.0)
    );
    println!();
}

/// The database's size once its write-ahead log is folded in: page count times page size.
fn checkpointed_size(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .unwrap();
    (pages * page_size) as u64
}

const GROWTH_LINES: usize = 5_000;
const GROWTH_EDITS: usize = 20;
const BLAME_RUNS: usize = 30;

/// What one way of storing blobs measured.
struct Growth {
    file_size: u64,
    growth: u64,
    post: Vec<Duration>,
    blame: Vec<Duration>,
}

/// 20 edits of a 5,000-line file through `prodcode hook claude`, with `deltas` or without.
fn growth_run(deltas: bool) -> Growth {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("repo");
    std::fs::create_dir(&root).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    let file = root.join("big.rs");
    let mut lines: Vec<String> = (0..GROWTH_LINES).map(|n| line(n, 0) + "\n").collect();
    std::fs::write(&file, lines.concat()).unwrap();
    let file_size = lines.concat().len() as u64;
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "big file"]);
    let db = base.join("growth.db");
    let exe = Path::new(env!("CARGO_BIN_EXE_prodcode"));
    let db_arg = db.to_str().unwrap();
    let envs = [("PRODCODE_BLOB_DELTAS", if deltas { "1" } else { "0" })];
    let run = |payload: &serde_json::Value| -> Duration {
        timed_with(
            exe,
            &["hook", "claude", "--db", db_arg],
            &envs,
            &root,
            payload.to_string().as_bytes(),
        )
    };
    let session = "growth-session";
    let common = |event: &str| {
        json!({
            "session_id": session,
            "transcript_path": format!("/home/dev/.claude/projects/-repo/{session}.jsonl"),
            "cwd": root,
            "permission_mode": "default",
            "hook_event_name": event,
        })
    };
    let mut prompt = common("UserPromptSubmit");
    prompt["prompt"] = json!("Bump the versions");
    run(&prompt);
    drain(exe, &db);
    let before = checkpointed_size(&db);
    let mut post = Vec::new();
    for edit in 1..=GROWTH_EDITS {
        let n = (edit * 241) % GROWTH_LINES;
        let original = lines.concat();
        let old = lines[n].clone();
        lines[n] = line(n, edit) + "\n";
        let after = lines.concat();
        let id = format!("toolu_growth_{edit}");
        let (tool, input, response) = if edit % 5 == 0 {
            (
                "Write",
                json!({ "file_path": file, "content": after }),
                json!({ "type": "update", "filePath": file, "content": after,
                        "structuredPatch": [], "originalFile": original }),
            )
        } else {
            let (old, new) = (old.trim_end(), lines[n].trim_end());
            (
                "Edit",
                json!({ "file_path": file, "old_string": old, "new_string": new, "replace_all": false }),
                json!({ "filePath": file, "oldString": old, "newString": new, "originalFile": original,
                        "structuredPatch": [], "userModified": false, "replaceAll": false }),
            )
        };
        let mut pre = common("PreToolUse");
        pre["tool_name"] = json!(tool);
        pre["tool_input"] = input.clone();
        pre["tool_use_id"] = json!(id);
        run(&pre);
        std::fs::write(&file, &after).unwrap();
        let mut post_payload = common("PostToolUse");
        post_payload["tool_name"] = json!(tool);
        post_payload["tool_input"] = input;
        post_payload["tool_response"] = response;
        post_payload["tool_use_id"] = json!(id);
        post.push(run(&post_payload));
    }
    drain(exe, &db);
    let growth = checkpointed_size(&db) - before;
    let mut blame = Vec::new();
    for _ in 0..BLAME_RUNS {
        let started = Instant::now();
        let output = Command::new(exe)
            .args(["blame", "--db", db_arg])
            .arg(&file)
            .current_dir(&root)
            .output()
            .unwrap();
        blame.push(started.elapsed());
        assert!(output.status.success());
        let shown = String::from_utf8_lossy(&output.stdout);
        let ai_lines = shown
            .lines()
            .filter(|line| line.split_whitespace().nth(1) == Some("ai"))
            .count();
        assert_eq!(ai_lines, GROWTH_EDITS, "{shown}");
    }
    Growth {
        file_size,
        growth,
        post,
        blame,
    }
}

fn store_growth() {
    println!(
        "store growth: {GROWTH_EDITS} agent edits (Edit, a Write every fifth) of a {GROWTH_LINES}-line file through prodcode hook claude"
    );
    println!(
        "baseline: the same edits with PRODCODE_BLOB_DELTAS=0 (every blob whole, as before schema 9)"
    );
    for (label, deltas) in [
        ("deltas (schema 9)", true),
        ("baseline: whole copies", false),
    ] {
        let mut run = growth_run(deltas);
        println!(
            "{label:<52} grew {:>9} bytes = {:>5.2} x the file ({} bytes)",
            run.growth,
            run.growth as f64 / run.file_size as f64,
            run.file_size
        );
        report("  hook PostToolUse", &mut run.post);
        report("  prodcode blame of the file", &mut run.blame);
    }
}
