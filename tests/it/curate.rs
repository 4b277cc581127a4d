//! `prodcode curate` end to end: sessions recorded through the real Claude Code hooks, commits
//! landed on main, real test runners in scratch clones, tasks checked against what they claim.

use std::path::Path;

use serde_json::Value;

use crate::support::{Claude, Workspace, git, link};

/// One agent session of one prompt: the files it writes, then the end of its turn.
fn session(ws: &Workspace, name: &str, prompt: &str, files: &[(&str, &str)]) -> String {
    let mut claude = Claude::start_with_prompt(ws, name, prompt);
    for (path, content) in files {
        claude.write(&ws.path(path), content);
    }
    claude.stop();
    claude.interaction()
}

fn commit(ws: &Workspace, message: &str) -> String {
    git(&ws.root, &["add", "-A"]);
    git(&ws.root, &["commit", "-q", "-m", message]);
    git(&ws.root, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// `prodcode curate --json` into `out`, with scratch clones under the workspace.
fn curate(ws: &Workspace, out: &Path, extra: &[&str]) -> Value {
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

fn candidate<'a>(report: &'a Value, interaction: &str) -> &'a Value {
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

const LIB_WITH_CLAMP: &str = "/// Adds two numbers.\npub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n\n/// `value` limited to `low..=high`.\npub fn clamp(value: i64, low: i64, high: i64) -> i64 {\n    if value < low {\n        return low;\n    }\n    if value > high {\n        return high;\n    }\n    value\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n    }\n}\n";

/// Two integration-test binaries with a test of the same name, plus the change's own test file.
fn cargo_repo(ws: &Workspace) {
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
    assert_eq!(task["agent"], "claude");
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
