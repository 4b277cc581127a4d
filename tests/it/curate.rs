//! `prodcode curate` end to end: sessions recorded through the real Claude Code hooks, commits
//! landed on main, real test runners in scratch clones, tasks checked against what they claim.

use std::path::Path;

use serde_json::Value;

use crate::support::{Claude, Workspace, git, link};

/// One agent session of one prompt: the files it writes, then the end of its turn.
pub(crate) fn session(ws: &Workspace, name: &str, prompt: &str, files: &[(&str, &str)]) -> String {
    let mut claude = Claude::start_with_prompt(ws, name, prompt);
    for (path, content) in files {
        claude.write(&ws.path(path), content);
    }
    claude.stop();
    claude.interaction()
}

pub(crate) fn commit(ws: &Workspace, message: &str) -> String {
    git(&ws.root, &["add", "-A"]);
    git(&ws.root, &["commit", "-q", "-m", message]);
    git(&ws.root, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// `prodcode curate --json` into `out`, with scratch clones under the workspace.
pub(crate) fn curate(ws: &Workspace, out: &Path, extra: &[&str]) -> Value {
    let root = ws.root.to_string_lossy().into_owned();
    let out_text = out.to_string_lossy().into_owned();
    let cache = ws.db.parent().unwrap().join("cache");
    let mut args = vec!["curate", "--repo", &root, "--out", &out_text, "--json"];
    args.extend_from_slice(extra);
    let output = std::process::Command::new(crate::support::bin())
        .args(&args)
        .arg("--db")
        .arg(&ws.db)
        .env_remove("PRODCODE_DB")
        .env("PRODCODE_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "prodcode curate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

pub(crate) fn candidate<'a>(report: &'a Value, interaction: &str) -> &'a Value {
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|candidate| candidate["interactionId"] == interaction)
        .unwrap_or_else(|| panic!("no candidate {interaction} in {report:#}"))
}

fn task(out: &Path, id: &str) -> Value {
    let text = std::fs::read_to_string(out.join("tasks").join(id).join("task.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

const CARGO_TOML: &str =
    "[package]\nname = \"calc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

const LIB: &str = "/// Adds two numbers.\npub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n    }\n}\n";

pub(crate) const LIB_WITH_CLAMP: &str = "/// Adds two numbers.\npub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n\n/// `value` limited to `low..=high`.\npub fn clamp(value: i64, low: i64, high: i64) -> i64 {\n    if value < low {\n        return low;\n    }\n    if value > high {\n        return high;\n    }\n    value\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n    }\n}\n";

/// Two integration-test binaries with a test of the same name, plus the change's own test file.
pub(crate) fn cargo_repo(ws: &Workspace) {
    ws.write("Cargo.toml", CARGO_TOML);
    ws.write(".gitignore", "target/\n");
    std::fs::create_dir_all(ws.path("src")).unwrap();
    std::fs::create_dir_all(ws.path("tests")).unwrap();
    ws.write("src/lib.rs", LIB);
    ws.write(
        "tests/a.rs",
        "#[test]\nfn shared() {\n    assert_eq!(calc::add(1, 1), 2);\n}\n",
    );
    ws.write(
        "tests/b.rs",
        "#[test]\nfn shared() {\n    assert_eq!(calc::add(0, 0), 0);\n}\n",
    );
    commit(ws, "calc with add");
}

#[test]
fn a_cargo_change_with_its_tests_becomes_a_task_that_checks_itself() {
    let ws = Workspace::new();
    cargo_repo(&ws);
    link(&ws);
    let prompt =
        "Add a clamp function to the calc crate that limits a value to a range, with tests";
    let interaction = session(
        &ws,
        "clamp",
        prompt,
        &[
            ("src/lib.rs", LIB_WITH_CLAMP),
            (
                "tests/clamp.rs",
                "#[test]\nfn clamps_into_range() {\n    assert_eq!(calc::clamp(5, 0, 3), 3);\n    assert_eq!(calc::clamp(-1, 0, 3), 0);\n    assert_eq!(calc::clamp(2, 0, 3), 2);\n}\n",
            ),
        ],
    );
    let landed = commit(&ws, "clamp");
    // Main moves on after the change, near it: the rolling base still backs it out.
    let later = LIB_WITH_CLAMP.replace(
        "/// Adds two numbers.",
        "/// Adds two numbers (wrapping is the caller's problem).",
    );
    ws.write("src/lib.rs", &later);
    commit(&ws, "doc comment");
    let status_before = git(&ws.root, &["status", "--porcelain"]);
    let refs_before = git(&ws.root, &["for-each-ref"]);

    let out = ws.db.parent().unwrap().join("tasks");
    let report = curate(&ws, &out, &["--runs", "2"]);
    let kept = candidate(&report, &interaction);
    assert_eq!(kept["fate"], "kept", "{report:#}");
    let id = kept["instanceId"].as_str().unwrap();
    assert_eq!(kept["landed"][0], landed.as_str());
    let task = task(&out, id);
    assert_eq!(task["prompt"], prompt);
    assert_eq!(task["base"]["mode"], "head");
    assert_eq!(task["language"], "rust");
    assert_eq!(task["agent"], "claude-code");
    assert_eq!(task["model"], "claude-opus-4-5-20251101");
    let f2p = strings(&task["failToPass"]);
    assert_eq!(f2p.len(), 1, "{f2p:?}");
    assert!(f2p[0].ends_with("clamps_into_range"), "{f2p:?}");
    let p2p = strings(&task["passToPass"]);
    // The lib's unit test and both `shared` tests, told apart by their binaries.
    assert_eq!(p2p.len(), 3, "{p2p:?}");
    assert_eq!(
        p2p.iter().filter(|id| id.ends_with("shared")).count(),
        2,
        "{p2p:?}"
    );
    assert!(
        task["testPatch"]
            .as_str()
            .unwrap()
            .contains("tests/clamp.rs")
    );
    let solution = task["solutionPatch"].as_str().unwrap();
    assert!(solution.contains("+pub fn clamp"), "{solution}");
    assert!(!solution.contains("tests/clamp.rs"));
    // The later doc comment is part of the base, not of the solution.
    assert!(!solution.contains("wrapping"), "{solution}");
    assert_eq!(task["runs"].as_array().unwrap().len(), 4);

    // The SWE-bench row.
    let jsonl = std::fs::read_to_string(out.join("tasks.jsonl")).unwrap();
    let rows: Vec<Value> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["instance_id"], id);
    assert_eq!(rows[0]["problem_statement"], prompt);
    assert_eq!(rows[0]["FAIL_TO_PASS"], task["failToPass"]);
    assert_eq!(rows[0]["patch"], task["solutionPatch"]);

    // The task's own check, done again here by hand with git and cargo: base + test patch
    // fails, base + both passes.
    check_task_by_hand(&ws, &task);

    // The user's repository is as it was: no branch, no ref, no change in the work tree.
    assert_eq!(git(&ws.root, &["status", "--porcelain"]), status_before);
    assert_eq!(git(&ws.root, &["for-each-ref"]), refs_before);

    // A second run resumes every candidate from its saved state.
    let again = curate(&ws, &out, &["--runs", "2"]);
    assert_eq!(candidate(&again, &interaction)["resumed"], true);
    assert_eq!(again["tasks"], report["tasks"]);

    // A second curation of the same repository while one runs is refused, not interleaved.
    let lock = std::fs::read_dir(ws.db.parent().unwrap().join("cache/curate"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("lock");
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import fcntl, sys, time\nf = open(sys.argv[1], 'w')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)\n",
        ])
        .arg(&lock)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let refused = std::process::Command::new(crate::support::bin())
        .args([
            "curate",
            "--repo",
            ws.root.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .arg("--db")
        .arg(&ws.db)
        .env("PRODCODE_CACHE_DIR", ws.db.parent().unwrap().join("cache"))
        .output()
        .unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("another `prodcode curate` is running"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // A task whose candidate is gone is retired with why, not silently deleted.
    let later = curate(&ws, &out, &["--runs", "2", "--since", "2999-01-01"]);
    assert_eq!(later["tasks"], serde_json::json!([]));
    assert_eq!(later["retired"][0]["instanceId"], id);
    assert!(out.join("retired").join(id).join("task.json").is_file());
    assert!(out.join("retired").join(id).join("retired.json").is_file());
    assert!(!out.join("tasks").join(id).exists());
    assert_eq!(
        std::fs::read_to_string(out.join("tasks.jsonl")).unwrap(),
        ""
    );
}

/// Rebuilds the task's base in a fresh clone from the head and the back-out patch, applies the
/// patches and runs cargo: what a harness would do.
fn check_task_by_hand(ws: &Workspace, task: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("clone");
    let root = ws.root.to_string_lossy().into_owned();
    git(dir.path(), &["clone", "-q", &root, "clone"]);
    git(
        &clone,
        &["checkout", "-q", task["base"]["head"].as_str().unwrap()],
    );
    let apply = |patch: &str| {
        if patch.is_empty() {
            return;
        }
        let file = dir.path().join("patch.diff");
        std::fs::write(&file, patch).unwrap();
        git(&clone, &["apply", file.to_str().unwrap()]);
    };
    apply(task["base"]["backoutPatch"].as_str().unwrap());
    apply(task["testPatch"].as_str().unwrap());
    let cargo = |expect_success: bool| {
        let output = std::process::Command::new("cargo")
            .args(["test", "--tests", "-q"])
            .env("CARGO_TARGET_DIR", dir.path().join("target"))
            .current_dir(&clone)
            .output()
            .unwrap();
        assert_eq!(
            output.status.success(),
            expect_success,
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    cargo(false);
    apply(task["solutionPatch"].as_str().unwrap());
    cargo(true);
}

/// A Python package tested with the standard library's unittest only (its own `.venv` has no
/// pytest), with docstrings and subTests, and one session per way a candidate is dropped.
#[test]
fn each_drop_reason_is_recorded_and_only_the_good_candidate_is_kept() {
    let ws = Workspace::new();
    let venv = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip", ".venv"])
        .current_dir(&ws.root)
        .output()
        .unwrap();
    assert!(
        venv.status.success(),
        "{}",
        String::from_utf8_lossy(&venv.stderr)
    );
    ws.write(".gitignore", ".venv/\n__pycache__/\n");
    std::fs::create_dir_all(ws.path("mathlib")).unwrap();
    std::fs::create_dir_all(ws.path("tests")).unwrap();
    ws.write("mathlib/__init__.py", "");
    ws.write("tests/__init__.py", "");
    let modules = [
        "stats", "turns", "pair", "leak", "tmpl", "docs", "moved", "same", "coin", "broken",
        "open", "flag",
    ];
    for module in modules {
        ws.write(
            &format!("mathlib/{module}.py"),
            "def value(x):\n    return x\n",
        );
    }
    ws.write(
        "tests/test_base.py",
        "import unittest\n\nfrom mathlib import stats\n\n\nclass Base(unittest.TestCase):\n    def test_value(self):\n        \"\"\"A docstring that must never become the test's id.\"\"\"\n        self.assertEqual(stats.value(2), 2)\n",
    );
    commit(&ws, "mathlib");
    link(&ws);

    // Kept: the change makes the new test pass; its subTests report under it.
    let kept = session(
        &ws,
        "kept",
        "Make stats.mean return 0 for an empty list instead of raising ZeroDivisionError",
        &[
            (
                "mathlib/stats.py",
                "def value(x):\n    return x\n\n\ndef mean(values):\n    if not values:\n        return 0\n    return sum(values) / len(values)\n",
            ),
            (
                "tests/test_stats.py",
                "import unittest\n\nfrom mathlib import stats\n\n\nclass Mean(unittest.TestCase):\n    def test_empty(self):\n        \"\"\"An empty list has mean 0.\"\"\"\n        self.assertEqual(stats.mean([]), 0)\n\n    def test_values(self):\n        for values, expected in [([1], 1), ([1, 3], 2)]:\n            with self.subTest(values=values):\n                self.assertEqual(stats.mean(values), expected)\n",
            ),
        ],
    );
    commit(&ws, "mean of an empty list");

    // Two prompts.
    let mut claude = Claude::start_with_prompt(&ws, "turns", "Add turns.double");
    claude.write(
        &ws.path("mathlib/turns.py"),
        "def value(x):\n    return x\n\n\ndef double(x):\n    return 2 * x\n",
    );
    claude.prompt("Now add a test for it");
    claude.write(&ws.path("tests/test_turns.py"), "import unittest\n\nfrom mathlib import turns\n\n\nclass T(unittest.TestCase):\n    def test_double(self):\n        self.assertEqual(turns.double(2), 4)\n");
    claude.stop();
    let multi_turn = claude.interaction();
    commit(&ws, "double");

    // Two sessions in one commit.
    let first = session(
        &ws,
        "pair-a",
        "Add pair.first returning the first element",
        &[(
            "mathlib/pair.py",
            "def value(x):\n    return x\n\n\ndef first(pair):\n    return pair[0]\n",
        )],
    );
    let second = session(
        &ws,
        "pair-b",
        "Add a test for pair.first",
        &[(
            "tests/test_pair.py",
            "import unittest\n\nfrom mathlib import pair\n\n\nclass P(unittest.TestCase):\n    def test_first(self):\n        self.assertEqual(pair.first((1, 2)), 1)\n",
        )],
    );
    commit(&ws, "pair");

    // The prompt quotes the solution.
    let leak = session(
        &ws,
        "leak",
        "Add this to leak.py:\ndef triple(x):\n    return x * 3 if x is not None else None\nand a test",
        &[
            (
                "mathlib/leak.py",
                "def value(x):\n    return x\n\n\ndef triple(x):\n    return x * 3 if x is not None else None\n",
            ),
            (
                "tests/test_leak.py",
                "import unittest\n\nfrom mathlib import leak\n\n\nclass L(unittest.TestCase):\n    def test_triple(self):\n        self.assertEqual(leak.triple(2), 6)\n",
            ),
        ],
    );
    commit(&ws, "triple");

    // A template prompt.
    let template = session(
        &ws,
        "tmpl",
        "Write a commit message for these changes",
        &[(
            "mathlib/tmpl.py",
            "def value(x):\n    return x\n\n\ndef half(x):\n    return x / 2\n",
        )],
    );
    commit(&ws, "half");

    // Documentation only.
    let docs = session(
        &ws,
        "docs",
        "Document the value function in the README",
        &[("README", "sample\n\nvalue(x) returns x.\n")],
    );
    commit(&ws, "docs");

    // Changed again later by hand, so backing it out of head conflicts.
    let moved = session(
        &ws,
        "moved",
        "Make moved.value add one",
        &[
            ("mathlib/moved.py", "def value(x):\n    return x + 1\n"),
            (
                "tests/test_moved.py",
                "import unittest\n\nfrom mathlib import moved\n\n\nclass M(unittest.TestCase):\n    def test_value(self):\n        self.assertEqual(moved.value(1), 2)\n",
            ),
        ],
    );
    commit(&ws, "moved adds one");

    // A refactor: its test passes before and after.
    let same = session(
        &ws,
        "same",
        "Rename the parameter of same.value to number",
        &[
            ("mathlib/same.py", "def value(number):\n    return number\n"),
            (
                "tests/test_same.py",
                "import unittest\n\nfrom mathlib import same\n\n\nclass S(unittest.TestCase):\n    def test_value(self):\n        self.assertEqual(same.value(3), 3)\n",
            ),
        ],
    );
    commit(&ws, "rename");

    // A test that passes every other time it runs.
    let coin = session(
        &ws,
        "coin",
        "Add coin.flip and a test for it",
        &[
            (
                "mathlib/coin.py",
                "def value(x):\n    return x\n\n\ndef flip():\n    return True\n",
            ),
            // Its state is an untracked file of the work tree it runs in, so every checkout resets
            // it and runs in other scratch clones do not disturb it.
            (
                "tests/test_coin.py",
                "import os\nimport unittest\n\nfrom mathlib import coin\n\nSTATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'flip.state')\n\n\nclass C(unittest.TestCase):\n    def test_flip(self):\n        count = int(open(STATE).read()) if os.path.exists(STATE) else 0\n        open(STATE, 'w').write(str(count + 1))\n        self.assertTrue(coin.flip())\n        self.assertEqual(count % 2, 0)\n",
            ),
        ],
    );
    commit(&ws, "coin");

    // A test that fails with and without the change.
    let broken = session(
        &ws,
        "broken",
        "Add broken.inverse and a test for it",
        &[
            (
                "mathlib/broken.py",
                "def value(x):\n    return x\n\n\ndef inverse(x):\n    return -x\n",
            ),
            (
                "tests/test_broken.py",
                "import unittest\n\nfrom mathlib import broken\n\n\nclass B(unittest.TestCase):\n    def test_inverse(self):\n        self.assertEqual(broken.inverse(2), 0.5)\n",
            ),
        ],
    );
    commit(&ws, "inverse");

    // The configured classifier says this one cannot be tested.
    let classified = session(
        &ws,
        "classified",
        "Make coin.flip configurable later, nothing to test yet",
        &[(
            "mathlib/flag.py",
            "def value(x):\n    return x\n\n\nFLAG = None\n",
        )],
    );
    commit(&ws, "flag");
    ws.write(
        "label.py",
        "import json, sys\ncandidate = json.load(sys.stdin)\nprint(json.dumps({\"testable\": \"nothing to test\" not in candidate[\"prompt\"], \"task_type\": \"feature\"}))\n",
    );
    ws.write(
        "prodcode.toml",
        "[curate]\nclassifier = [\"python3\", \"label.py\"]\n",
    );

    // Still open: no Stop.
    let mut open = Claude::start_with_prompt(&ws, "open", "Add open.value2");
    open.write(
        &ws.path("mathlib/open.py"),
        "def value(x):\n    return x\n\n\ndef value2(x):\n    return x\n",
    );
    let session_open = open.interaction();
    commit(&ws, "value2");

    // Never lands: a branch.
    git(&ws.root, &["checkout", "-q", "-b", "side"]);
    let not_landed = session(
        &ws,
        "side",
        "Add a side function",
        &[("mathlib/side.py", "def side():\n    return 1\n")],
    );
    commit(&ws, "side");
    git(&ws.root, &["checkout", "-q", "main"]);

    // The later hand edit that makes `moved` conflict.
    ws.write("mathlib/moved.py", "def value(x):\n    return x + 2\n");
    commit(&ws, "moved adds two");

    let out = ws.db.parent().unwrap().join("tasks");
    let report = curate(&ws, &out, &["--runs", "2", "--jobs", "2"]);
    let fate = |interaction: &str| {
        let candidate = candidate(&report, interaction);
        (
            candidate["stage"].as_str().unwrap().to_owned(),
            candidate["reason"].as_str().unwrap().to_owned(),
        )
    };
    let expect = |interaction: &str, stage: &str, reason: &str| {
        assert_eq!(
            fate(interaction),
            (stage.to_owned(), reason.to_owned()),
            "{interaction}: {:#}",
            candidate(&report, interaction)
        );
    };
    expect(&kept, "stable_f2p", "kept");
    expect(&multi_turn, "single_turn", "multi_turn");
    expect(&first, "one_intent", "several_interactions");
    expect(&second, "one_intent", "several_interactions");
    expect(&leak, "prompt_filters", "leakage");
    expect(&template, "prompt_filters", "template");
    expect(&docs, "prompt_filters", "untestable");
    expect(&moved, "backs_out", "conflict");
    expect(&same, "stable_f2p", "no_f2p");
    expect(&coin, "stable_f2p", "no_f2p");
    expect(&broken, "stable_f2p", "no_f2p");
    expect(&session_open, "single_turn", "session_open");
    expect(&not_landed, "landed", "not_landed");
    expect(&classified, "prompt_filters", "classifier");
    assert!(
        candidate(&report, &coin)["detail"]
            .as_str()
            .unwrap()
            .contains("flaky")
    );
    assert!(
        candidate(&report, &broken)["detail"]
            .as_str()
            .unwrap()
            .contains("fail_to_fail")
    );
    assert!(
        candidate(&report, &same)["detail"]
            .as_str()
            .unwrap()
            .contains("pass_to_pass")
    );

    // The funnel counts what got past each stage.
    let funnel: Vec<(String, u64)> = report["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["stage"].as_str().unwrap().to_owned(),
                row["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(funnel[0], ("interactions".to_owned(), 14));
    assert_eq!(funnel[7], ("stable_f2p".to_owned(), 1));

    // The kept task: unittest's dotted ids, never the docstring; subTests under their test.
    let id = candidate(&report, &kept)["instanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept_task = task(&out, &id);
    assert_eq!(kept_task["runner"], "unittest");
    assert_eq!(kept_task["language"], "python");
    assert_eq!(
        strings(&kept_task["failToPass"]),
        [
            "tests.test_stats.Mean.test_empty",
            "tests.test_stats.Mean.test_values"
        ]
    );
    // The whole suite ran: every other test passing in both states is pass-to-pass.
    assert_eq!(
        strings(&kept_task["passToPass"]),
        [
            "tests.test_base.Base.test_value",
            "tests.test_leak.L.test_triple",
            "tests.test_pair.P.test_first",
            "tests.test_same.S.test_value",
            "tests.test_turns.T.test_double",
        ]
    );
    let excluded: Vec<(String, String)> = kept_task["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["id"].as_str().unwrap().to_owned(),
                row["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        excluded,
        [
            (
                "tests.test_broken.B.test_inverse".to_owned(),
                "fail_to_fail".to_owned()
            ),
            ("tests.test_coin.C.test_flip".to_owned(), "flaky".to_owned()),
            (
                "tests.test_moved.M.test_value".to_owned(),
                "fail_to_fail".to_owned()
            ),
        ]
    );

    assert_eq!(kept_task["labels"]["task_type"], "feature");

    // --explain says the same in words.
    let root = ws.root.to_string_lossy().into_owned();
    let out_text = out.to_string_lossy().into_owned();
    let output = std::process::Command::new(crate::support::bin())
        .args([
            "curate",
            "--repo",
            &root,
            "--out",
            &out_text,
            "--runs",
            "2",
            "--explain",
            "--db",
        ])
        .arg(&ws.db)
        .env("PRODCODE_CACHE_DIR", ws.db.parent().unwrap().join("cache"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("at backs_out (conflict)"), "{text}");
    assert!(text.contains("1 task(s)"), "{text}");

    // With --base auto, the change that conflicts on head is checked on its parent instead.
    let auto = curate(&ws, &out, &["--runs", "2", "--base", "auto"]);
    let moved_fate = candidate(&auto, &moved);
    assert_eq!(moved_fate["fate"], "kept", "{moved_fate:#}");
    let moved_task = task(&out, moved_fate["instanceId"].as_str().unwrap());
    assert_eq!(moved_task["base"]["mode"], "parent");
    assert_eq!(moved_task["base"]["backoutPatch"], "");
    assert_eq!(
        strings(&moved_task["failToPass"]),
        ["tests.test_moved.M.test_value"]
    );
    assert_eq!(candidate(&auto, &kept)["fate"], "kept");
    assert_eq!(auto["tasks"].as_array().unwrap().len(), 2);
}

/// A pytest package whose change landed through a squash merge, with a parametrized test whose
/// ids have spaces: the ids pytest accepts back, run by hand the way a harness would.
#[test]
fn a_squash_merged_pytest_change_keeps_parametrized_ids_with_spaces() {
    let Some(pytest) = crate::support::tool_on_path("pytest") else {
        crate::support::missing("pytest");
        return;
    };
    let ws = Workspace::new();
    ws.write("pyproject.toml", "[project]\nname = \"textkit\"\nversion = \"0.1.0\"\n\n[tool.pytest.ini_options]\naddopts = \"-x\"\n");
    ws.write(".gitignore", "__pycache__/\n.pytest_cache/\n");
    std::fs::create_dir_all(ws.path("textkit")).unwrap();
    std::fs::create_dir_all(ws.path("tests")).unwrap();
    ws.write("textkit/__init__.py", "");
    ws.write(
        "textkit/core.py",
        "def words(text):\n    return text.split()\n",
    );
    ws.write(
        "tests/test_core.py",
        "from textkit import core\n\n\ndef test_words():\n    assert core.words(\"a b\") == [\"a\", \"b\"]\n",
    );
    // A test of something else, which related-test discovery leaves out.
    ws.write(
        "tests/test_unrelated.py",
        "def test_arithmetic():\n    assert 1 + 1 == 2\n",
    );
    // A test that reaches the changed module only through another one: no import names it,
    // coverage finds it.
    ws.write(
        "textkit/api.py",
        "from textkit import core as _impl\n\n\ndef headline(text):\n    return _impl.title_case(text) + \"!\"\n",
    );
    ws.write(
        "tests/test_api.py",
        "from textkit import api\n\n\ndef test_headline():\n    assert api.headline(\"big news\") == \"Big News!\"\n",
    );
    ws.write("prodcode.toml", "[curate]\ntests = \"related\"\n");
    commit(&ws, "textkit");
    link(&ws);

    git(&ws.root, &["checkout", "-q", "-b", "title"]);
    let prompt = "Add title_case to textkit.core: capitalise every word, keep the spacing";
    let interaction = session(
        &ws,
        "title",
        prompt,
        &[
            (
                "textkit/core.py",
                "def words(text):\n    return text.split()\n\n\ndef title_case(text):\n    return \" \".join(word[:1].upper() + word[1:] for word in text.split(\" \"))\n",
            ),
            (
                "tests/test_title.py",
                "import pytest\n\nfrom textkit import core\n\n\n@pytest.mark.parametrize(\"text,expected\", [(\"hello world\", \"Hello World\"), (\"a  b\", \"A  B\")])\ndef test_title_case(text, expected):\n    assert core.title_case(text) == expected\n",
            ),
        ],
    );
    commit(&ws, "title_case");
    // Main moves on, then the branch is squash-merged.
    git(&ws.root, &["checkout", "-q", "main"]);
    ws.write("textkit/__init__.py", "\"\"\"Text helpers.\"\"\"\n");
    commit(&ws, "package docstring");
    git(&ws.root, &["merge", "-q", "--squash", "title"]);
    let squash = commit(&ws, "Add title_case (#12)");

    let out = ws.db.parent().unwrap().join("tasks");
    let report = curate(&ws, &out, &["--runs", "2"]);
    let kept = candidate(&report, &interaction);
    assert_eq!(kept["fate"], "kept", "{report:#}");
    assert_eq!(kept["landed"], serde_json::json!([squash]));
    let task = task(&out, kept["instanceId"].as_str().unwrap());
    assert_eq!(task["runner"], "pytest");
    let coverage = std::process::Command::new("python3")
        .args(["-c", "import coverage"])
        .status()
        .is_ok_and(|status| status.success());
    if !coverage {
        crate::support::missing("coverage.py");
    }
    let mut f2p = vec![
        "tests/test_title.py::test_title_case[a  b-A  B]",
        "tests/test_title.py::test_title_case[hello world-Hello World]",
    ];
    let mut targets = vec!["tests/test_core.py", "tests/test_title.py"];
    if coverage {
        f2p.insert(0, "tests/test_api.py::test_headline");
        targets.insert(0, "tests/test_api.py");
    }
    assert_eq!(strings(&task["failToPass"]), f2p);
    assert_eq!(
        strings(&task["passToPass"]),
        ["tests/test_core.py::test_words"]
    );
    assert_eq!(strings(&task["testTargets"]), targets);

    // By hand: the F2P ids, passed to pytest as they are, fail on base + tests and pass solved.
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("clone");
    let root = ws.root.to_string_lossy().into_owned();
    git(dir.path(), &["clone", "-q", &root, "clone"]);
    git(
        &clone,
        &["checkout", "-q", task["base"]["head"].as_str().unwrap()],
    );
    for patch in [&task["base"]["backoutPatch"], &task["testPatch"]] {
        std::fs::write(dir.path().join("p.diff"), patch.as_str().unwrap()).unwrap();
        git(
            &clone,
            &["apply", dir.path().join("p.diff").to_str().unwrap()],
        );
    }
    let run = |ids: &[String]| {
        std::process::Command::new(&pytest)
            .args(["-q", "-p", "no:cacheprovider", "-o", "addopts="])
            .args(ids)
            .current_dir(&clone)
            .env("PYTHONPATH", &clone)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap()
    };
    let f2p = strings(&task["failToPass"]);
    let before = run(&f2p);
    assert!(!before.status.success());
    assert!(
        String::from_utf8_lossy(&before.stdout).contains(&format!("{} failed", f2p.len())),
        "{}",
        String::from_utf8_lossy(&before.stdout)
    );
    std::fs::write(
        dir.path().join("p.diff"),
        task["solutionPatch"].as_str().unwrap(),
    )
    .unwrap();
    git(
        &clone,
        &["apply", dir.path().join("p.diff").to_str().unwrap()],
    );
    let after = run(&f2p);
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
    assert!(String::from_utf8_lossy(&after.stdout).contains(&format!("{} passed", f2p.len())));
}

/// Ctrl-C or SIGTERM stops curation and the test run in progress with it: runs have process
/// groups of their own, which a terminal's signal does not reach.
#[test]
fn an_interrupted_curation_leaves_no_test_running() {
    let ws = Workspace::new();
    ws.write(".gitignore", "__pycache__/\n");
    std::fs::create_dir_all(ws.path("tests")).unwrap();
    ws.write("slow.py", "def value():\n    return 1\n");
    commit(&ws, "slow");
    link(&ws);
    let pid_file = ws.db.parent().unwrap().join("test.pid");
    session(
        &ws,
        "slow",
        "Make slow.value return 2 and test it",
        &[
            ("slow.py", "def value():\n    return 2\n"),
            (
                "tests/test_slow.py",
                &format!(
                    "import os, time, unittest\n\nimport slow\n\n\nclass Slow(unittest.TestCase):\n    def test_value(self):\n        open({:?}, 'w').write(str(os.getpid()))\n        time.sleep(120)\n        self.assertEqual(slow.value(), 2)\n",
                    pid_file.to_string_lossy()
                ),
            ),
        ],
    );
    commit(&ws, "value 2");
    let out = ws.db.parent().unwrap().join("tasks");
    let mut curate = std::process::Command::new(crate::support::bin())
        .args([
            "curate",
            "--repo",
            ws.root.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .arg("--db")
        .arg(&ws.db)
        .env("PRODCODE_CACHE_DIR", ws.db.parent().unwrap().join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let pid = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file)
            && let Ok(pid) = text.trim().parse::<i32>()
        {
            break pid;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the test never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let alive = |pid: i32| std::path::Path::new(&format!("/proc/{pid}")).exists();
    assert!(alive(pid));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &curate.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = curate.wait().unwrap();
    assert_eq!(exit.code(), Some(130));
    let stopped = std::time::Instant::now();
    while alive(pid) && stopped.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!alive(pid), "the test run outlived curate");
}
