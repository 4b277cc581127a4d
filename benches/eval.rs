//! The evaluation harness's own overhead per run: on a Python repository of 2,000 source files
//! with 10 tasks (each a function and its unittest test added by one commit), `prodcode eval`
//! with the `noop` and `gold` agents, 3 runs each (60 runs), sealed workspaces.
//!
//! Overhead per run = total − agent − test run − the base's check (`durationsMs` of each
//! `result.json`): making the workspace, reading the change, putting test files back, applying
//! the test patch, bookkeeping. The baselines in the same run are what a harness that copies
//! would pay for the workspace alone: `cp -a` of the work tree, and `git clone --no-local` of the
//! repository with a checkout.
//!
//! Run: `cargo bench --bench eval`. A plain bench binary; it takes about a minute.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const FILLER: usize = 2000;
const TASKS: usize = 10;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=b", "-c", "user.email=b@example.invalid"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn function(i: usize) -> String {
    format!("\n\ndef f{i}(x):\n    return x * {i} + 1\n")
}

fn test_file(i: usize) -> String {
    format!(
        "import unittest\n\nfrom calc import f{i}\n\n\nclass TestF{i}(unittest.TestCase):\n    def test_f{i}(self):\n        self.assertEqual(f{i}(2), {})\n",
        2 * i + 1
    )
}

/// The ids the project's runner gives the tests of `file`, from a run at the head.
fn ids_by_file(repo: &Path) -> Vec<(String, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_prodcode"))
        .args(["tool", "run_tests", "--json", "--workspace"])
        .arg(repo)
        .env_remove("PRODCODE_DB")
        .env("PRODCODE_DB", repo.parent().unwrap().join("tool.db"))
        .output()
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    answer["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| {
            let id = test["id"].as_str().unwrap().to_owned();
            (id.clone(), test["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    for i in 0..FILLER {
        let body: String = (0..40)
            .map(|line| format!("VALUE_{line} = {i} + {line}\n"))
            .collect();
        write(&repo.join(format!("pkg{}/mod{i}.py", i % 20)), &body);
    }
    write(
        &repo.join("calc/__init__.py"),
        "def base(x):\n    return x\n",
    );
    write(
        &repo.join("tests/test_base.py"),
        "import unittest\n\nfrom calc import base\n\n\nclass TestBase(unittest.TestCase):\n    def test_base(self):\n        self.assertEqual(base(1), 1)\n",
    );
    write(&repo.join(".gitignore"), "__pycache__/\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "start"]);
    let mut commits = Vec::new();
    for i in 0..TASKS {
        let parent = git(&repo, &["rev-parse", "HEAD"]).trim().to_owned();
        let mut calc = std::fs::read_to_string(repo.join("calc/__init__.py")).unwrap();
        calc.push_str(&function(i));
        write(&repo.join("calc/__init__.py"), &calc);
        write(&repo.join(format!("tests/test_f{i}.py")), &test_file(i));
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", &format!("f{i}")]);
        commits.push((parent, git(&repo, &["rev-parse", "HEAD"]).trim().to_owned()));
    }
    let ids = ids_by_file(&repo);
    assert!(ids.iter().all(|(_, status)| status == "passed"), "{ids:?}");
    let base_id = ids
        .iter()
        .find(|(id, _)| id.contains("test_base"))
        .unwrap()
        .0
        .clone();

    // Tasks written as `prodcode curate` writes them, with the parent of each change as base.
    let tasks = dir.path().join("tasks");
    for (i, (parent, commit)) in commits.iter().enumerate() {
        let id = format!("repo__{i:02}");
        let diff = |paths: &[&str]| {
            git(
                &repo,
                &[
                    &["diff", "--binary", "--full-index", parent, commit, "--"][..],
                    paths,
                ]
                .concat(),
            )
        };
        let f2p = ids
            .iter()
            .find(|(id, _)| id.contains(&format!("test_f{i}")))
            .unwrap()
            .0
            .clone();
        let task = serde_json::json!({
            "instanceId": id, "repo": "repo", "repoRoot": repo, "interactionId": format!("claude:{i}"),
            "prompt": format!("Add f{i}"), "agent": "claude", "model": null,
            "base": { "mode": "parent", "commit": parent, "head": commit, "landedCommits": [commit], "backoutPatch": "" },
            "solutionPatch": diff(&["calc/__init__.py"]),
            "testPatch": diff(&[&format!("tests/test_f{i}.py")]),
            "failToPass": [f2p], "passToPass": [base_id], "excluded": [],
            "runner": "unittest", "testCommand": [], "testTargets": [], "language": "python",
            "runs": [], "aiShare": 1.0, "createdAt": "2026-12-05T00:00:00Z",
            "curatedAt": "2026-12-05T00:00:00Z", "prodcodeVersion": "0.1.0"
        });
        write(
            &tasks.join("tasks").join(&id).join("task.json"),
            &task.to_string(),
        );
    }

    let out = dir.path().join("eval");
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_prodcode"))
        .args(["eval", "--tasks"])
        .arg(&tasks)
        .arg("--out")
        .arg(&out)
        .args(["--agent", "noop", "--agent", "gold", "--runs", "3"])
        .env("PRODCODE_CACHE_DIR", dir.path().join("cache"))
        .env("PRODCODE_DB", dir.path().join("prodcode.db"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let wall = started.elapsed();
    let (results, problems) = prodcode::eval::result::read_all(&out);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(results.len(), 2 * TASKS * 3);
    let resolved = results.iter().filter(|result| result.resolved()).count();
    assert_eq!(resolved, TASKS * 3, "gold resolves every task, noop none");
    let ms = |value: u64| value as f64;
    let overhead: Vec<f64> = results
        .iter()
        .map(|r| ms(r.durations_ms.overhead()))
        .collect();
    let setup: Vec<f64> = results.iter().map(|r| ms(r.durations_ms.setup)).collect();
    let tests: Vec<f64> = results.iter().map(|r| ms(r.durations_ms.tests)).collect();
    let share: Vec<f64> = results
        .iter()
        .map(|r| 100.0 * ms(r.durations_ms.overhead()) / ms(r.durations_ms.total.max(1)))
        .collect();
    let max_overhead = overhead.iter().copied().fold(0.0, f64::max);

    // Baselines: a workspace by copying the work tree, and by a full clone with checkout.
    let mut copies = Vec::new();
    let mut clones = Vec::new();
    for round in 0..5 {
        let target = dir.path().join(format!("copy{round}"));
        let started = Instant::now();
        let status = Command::new("cp")
            .arg("-a")
            .arg(&repo)
            .arg(&target)
            .status()
            .unwrap();
        assert!(status.success());
        copies.push(started.elapsed().as_secs_f64() * 1000.0);
        let target = dir.path().join(format!("clone{round}"));
        let started = Instant::now();
        git(
            dir.path(),
            &[
                "clone",
                "-q",
                "--no-local",
                repo.to_str().unwrap(),
                target.to_str().unwrap(),
            ],
        );
        clones.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "eval: {} runs on {TASKS} tasks of a {FILLER}-file repository in {:.1} s",
        results.len(),
        wall.as_secs_f64()
    );
    println!(
        "  harness overhead per run: median {:.0} ms, max {max_overhead:.0} ms, median {:.1}% of a run",
        median(overhead),
        median(share)
    );
    println!("  of which workspace setup: median {:.0} ms", median(setup));
    println!(
        "  test run per run (not overhead): median {:.0} ms",
        median(tests)
    );
    println!(
        "  baseline, workspace by `cp -a` of the work tree: median {:.0} ms",
        median(copies)
    );
    println!(
        "  baseline, workspace by `git clone --no-local`: median {:.0} ms",
        median(clones)
    );
}
