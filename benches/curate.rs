//! Curation on a 20-candidate fixture: a Python package tested with unittest, whose 20 changes
//! were each made by one recorded Claude Code session (through the real `prodcode hook`) and
//! committed on main, every one a task with fail-to-pass tests.
//!
//! Measured for `--jobs 1` and `--jobs 2` (3 runs per state, from fresh output and scratch
//! directories each time): the wall time, the time spent in test runs (summed over workers),
//! and curation's own share (wall − tests, with one job). The baseline in the same run is the
//! fixture's suite run once by the same runner (`tools::runner::run_tests`) in the fixture.
//!
//! Run: `cargo bench --bench curate`. A plain bench binary: each case takes tens of seconds.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prodcode::curate::{BaseMode, Options, curate};
use prodcode::git::Repo;
use prodcode::link::link;
use prodcode::store::Store;

const CANDIDATES: usize = 20;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=b", "-c", "user.email=b@example.invalid"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn hook(db: &Path, cwd: &Path, payload: serde_json::Value) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_prodcode"))
        .args(["hook", "claude", "--db"])
        .arg(db)
        .current_dir(cwd)
        .env_remove("PRODCODE_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// One session: a prompt, `Write`s through the hooks, the end of the turn.
fn session(db: &Path, root: &Path, id: &str, prompt: &str, files: &[(String, String)]) {
    let base = serde_json::json!({
        "session_id": id,
        "transcript_path": format!("/home/dev/.claude/projects/x/{id}.jsonl"),
        "cwd": root,
    });
    let with = |extra: serde_json::Value| {
        let mut payload = base.clone();
        for (key, value) in extra.as_object().unwrap() {
            payload[key] = value.clone();
        }
        payload
    };
    hook(
        db,
        root,
        with(
            serde_json::json!({"hook_event_name": "SessionStart", "source": "startup", "model": "claude-opus-4-5-20251101"}),
        ),
    );
    hook(
        db,
        root,
        with(serde_json::json!({"hook_event_name": "UserPromptSubmit", "prompt": prompt})),
    );
    for (n, (path, content)) in files.iter().enumerate() {
        let file = root.join(path);
        let tool = serde_json::json!({
            "hook_event_name": "PreToolUse",
            "tool_name": "Write",
            "tool_use_id": format!("toolu_{id}_{n}"),
            "tool_input": { "file_path": file, "content": content },
        });
        hook(db, root, with(tool.clone()));
        std::fs::write(&file, content).unwrap();
        let mut post = tool;
        post["hook_event_name"] = "PostToolUse".into();
        post["tool_response"] =
            serde_json::json!({ "type": "create", "filePath": file, "content": content });
        hook(db, root, with(post));
    }
    hook(
        db,
        root,
        with(serde_json::json!({"hook_event_name": "Stop", "stop_hook_active": false})),
    );
}

/// A module and its test file per candidate, and a shared suite that does some real work, so a
/// run of the whole suite takes what a small project's does.
fn fixture(root: &Path, db: &Path) {
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(root.join("tests/__init__.py"), "").unwrap();
    std::fs::write(root.join(".gitignore"), "__pycache__/\n").unwrap();
    let mut shared = String::from(
        "import unittest\n\n\ndef primes(limit):\n    sieve = [True] * limit\n    found = []\n    for n in range(2, limit):\n        if sieve[n]:\n            found.append(n)\n            for m in range(n * n, limit, n):\n                sieve[m] = False\n    return found\n\n\nclass Shared(unittest.TestCase):\n",
    );
    for n in 0..20 {
        shared.push_str(&format!(
            "    def test_primes_{n}(self):\n        self.assertEqual(len(primes(30000 + {n})) > 3000, True)\n\n"
        ));
    }
    std::fs::write(root.join("tests/test_shared.py"), shared).unwrap();
    for n in 0..CANDIDATES {
        std::fs::write(
            root.join(format!("pkg/m{n}.py")),
            "def base(x):\n    return x\n",
        )
        .unwrap();
    }
    git(root, &["init", "-q"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "fixture"]);
    for n in 0..CANDIDATES {
        let module = format!("pkg/m{n}.py");
        let test = format!("tests/test_m{n}.py");
        let files = [
            (
                module,
                format!(
                    "def base(x):\n    return x\n\n\ndef scaled_{n}(values):\n    return [value * {k} for value in values]\n",
                    k = n + 2
                ),
            ),
            (
                test,
                format!(
                    "import unittest\n\nfrom pkg import m{n}\n\n\nclass Scaled(unittest.TestCase):\n    def test_scaled(self):\n        self.assertEqual(m{n}.scaled_{n}([1, 2]), [{a}, {b}])\n\n    def test_empty(self):\n        self.assertEqual(m{n}.scaled_{n}([]), [])\n",
                    a = n + 2,
                    b = 2 * (n + 2)
                ),
            ),
        ];
        let prompt = format!(
            "Add a function to module m{n} that multiplies every value of a list by {}",
            n + 2
        );
        session(db, root, &format!("bench-{n}"), &prompt, &files);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", &format!("m{n}: scaled")]);
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("fixture");
    std::fs::create_dir_all(&root).unwrap();
    let db = dir.path().join("prodcode.db");
    fixture(&root, &db);
    let mut store = Store::open(&db).unwrap();
    let repo = Repo::open(&root).unwrap();
    link(
        &mut store,
        &repo,
        &prodcode::link::Options::default(),
        &mut |_, _| {},
    )
    .unwrap();

    // The baseline: the suite run once by the runner curation uses, in the fixture itself.
    let runner = prodcode::tools::runner::detect(&root, None).expect("a Python runner");
    let suite: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let run = prodcode::tools::runner::run_tests(
                &root,
                &runner,
                &[],
                &[],
                Duration::from_secs(300),
            )
            .unwrap();
            assert_eq!(run.failed, 0);
            started.elapsed()
        })
        .collect();
    let mut suite = suite;
    suite.sort();
    let suite = suite[suite.len() / 2];
    println!(
        "baseline: the fixture's suite once through prodcode's {} runner: {:.2} s (median of 5)",
        runner.kind.name(),
        suite.as_secs_f64()
    );

    let mut walls = Vec::new();
    for jobs in [1, 2] {
        let options = Options {
            repo: root.clone(),
            out: dir.path().join(format!("out-{jobs}")),
            cache: dir.path().join(format!("cache-{jobs}")),
            since_ms: i64::MIN,
            runs: 3,
            jobs,
            base: BaseMode::Head,
            allow_p2p_only: false,
            timeout: Some(Duration::from_secs(300)),
            main: None,
        };
        let report = curate(&store, &options, &|_| {}).unwrap();
        assert_eq!(report.tasks.len(), CANDIDATES, "every candidate is a task");
        let wall = report.wall_ms as f64 / 1000.0;
        let tests = report.tests_ms as f64 / 1000.0;
        println!(
            "curate --jobs {jobs}: {CANDIDATES} tasks, wall {wall:.1} s, test runs {tests:.1} s (summed over workers)"
        );
        if jobs == 1 {
            let own = wall - tests;
            println!(
                "  curation's own work: {own:.2} s = {:.1}% of the total",
                100.0 * own / wall
            );
        }
        walls.push(wall);
    }
    println!(
        "  --jobs 2 against --jobs 1: {:.2}× the wall time",
        walls[1] / walls[0]
    );
}
