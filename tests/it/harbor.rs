//! `prodcode export harbor`: tasks curated from fixture repositories (Python, Rust, Go), written as
//! Harbor task directories, loaded and linted by the real `harbor` package from PyPI, and their
//! verifier and solution scripts run for real against the exported base with the real pytest,
//! cargo and go (without Docker: the paths the scripts use inside the container are moved by
//! environment variables).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::eval::{curated, ok, prodcode};
use crate::support::{Workspace, link};

/// The Python interpreter of the venv `.ci/tools.sh` installs `harbor` into.
fn harbor_python() -> Option<PathBuf> {
    let python = crate::support::tool_on_path("harbor-python");
    if python.is_none() {
        crate::support::missing("harbor-python (the harbor package, installed by .ci/tools.sh)");
    }
    python
}

/// Loads `dir` with Harbor's own task model and linter; what it read, as JSON.
fn harbor_load(python: &Path, dir: &Path) -> Value {
    const LOAD: &str = r#"
import json, sys
from pathlib import Path
from harbor.models.task.task import Task
from harbor.lint.task import lint_task
task = Task(sys.argv[1])
paths = task.paths
print(json.dumps({
    "name": task.name,
    "instruction": task.instruction,
    "validDir": Task.is_valid_dir(sys.argv[1]),
    "test": str(paths.discovered_test_path_for(task.config.environment.os)),
    "solve": str(paths.discovered_solve_path),
    "dockerfile": (paths.environment_dir / "Dockerfile").is_file(),
    "verifierTimeout": task.config.verifier.timeout_sec,
    "agentTimeout": task.config.agent.timeout_sec,
    "metadata": task.config.metadata,
    "lint": [f"{f.rule}: {f.path}: {f.message}" for f in lint_task(Path(sys.argv[1]))],
}))
"#;
    let output = Command::new(python)
        .args(["-c", LOAD])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "harbor could not load {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The exported base, unpacked as the Dockerfile's `ADD repo.tar /app/` does.
fn unpack(task: &Path, app: &Path) {
    std::fs::create_dir_all(app).unwrap();
    let status = Command::new("tar")
        .arg("-xf")
        .arg(task.join("environment/repo.tar"))
        .arg("-C")
        .arg(app)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs an exported script as Harbor does (directly, by its shebang), in `app`, with `env`
/// added (the container's `ENV` lines, moved).
fn script(path: &Path, app: &Path, logs: &Path, env: &[(&str, &Path)]) -> std::process::Output {
    Command::new(path)
        .env("PRODCODE_APP_DIR", app)
        .env("PRODCODE_VERIFIER_DIR", logs)
        .envs(env.iter().copied())
        .current_dir(app)
        .output()
        .unwrap()
}

/// test.sh's reward and results.json after one verifier run.
fn verify(task: &Path, app: &Path, logs: &Path) -> (String, Value) {
    verify_with(task, app, logs, &[])
}

fn verify_with(task: &Path, app: &Path, logs: &Path, env: &[(&str, &Path)]) -> (String, Value) {
    let _ = std::fs::remove_dir_all(logs);
    let output = script(&task.join("tests/test.sh"), app, logs, env);
    assert!(
        output.status.success(),
        "test.sh: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reward = std::fs::read_to_string(logs.join("reward.txt")).unwrap();
    let results = std::fs::read_to_string(logs.join("results.json")).unwrap_or_else(|_| {
        panic!(
            "no results.json: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (
        reward.trim().to_owned(),
        serde_json::from_str(&results).unwrap(),
    )
}

#[test]
fn exported_tasks_load_in_harbor_and_their_scripts_grade_the_base_and_the_gold_solution() {
    let Some(python) = harbor_python() else {
        return;
    };
    let Some((ws, tasks)) = curated() else {
        return;
    };
    let out = ws.db.parent().unwrap().join("harbor");
    let summary = ok(
        prodcode(
            &ws,
            &[
                "export",
                "harbor",
                out.to_str().unwrap(),
                "--tasks",
                tasks.to_str().unwrap(),
                "--json",
            ],
        ),
        "export harbor",
    );
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["skipped"], serde_json::json!([]), "{summary:#}");
    let exported = summary["exported"].as_array().unwrap();
    assert_eq!(exported.len(), 2, "{summary:#}");

    for entry in exported {
        let id = entry["instanceId"].as_str().unwrap();
        let dir = PathBuf::from(entry["dir"].as_str().unwrap());
        let task: Value = serde_json::from_str(
            &std::fs::read_to_string(tasks.join("tasks").join(id).join("task.json")).unwrap(),
        )
        .unwrap();

        // Harbor reads the directory as a task: the instruction is the prompt, verbatim.
        let loaded = harbor_load(&python, &dir);
        assert_eq!(loaded["instruction"], task["prompt"], "{loaded:#}");
        assert_eq!(loaded["name"], id);
        assert_eq!(loaded["validDir"], true, "{loaded:#}");
        assert!(loaded["test"].as_str().unwrap().ends_with("tests/test.sh"));
        assert!(
            loaded["solve"]
                .as_str()
                .unwrap()
                .ends_with("solution/solve.sh")
        );
        assert_eq!(loaded["dockerfile"], true);
        assert_eq!(loaded["metadata"]["fail_to_pass"], task["failToPass"]);
        assert_eq!(loaded["metadata"]["pass_to_pass"], task["passToPass"]);
        assert_eq!(loaded["agentTimeout"], 1800.0);
        // Harbor's linter finds nothing but the two choices docs/eval.md explains: the base image
        // is named by tag (a digest cannot be known offline) and the verifier shares the agent's
        // container (it grades the agent's files there, as SWE-bench does).
        for finding in loaded["lint"].as_array().unwrap() {
            let finding = finding.as_str().unwrap();
            assert!(
                finding.starts_with("unpinned-image:") || finding.starts_with("shared-verifier:"),
                "{loaded:#}"
            );
        }

        // The verifier, run for real on the exported base: unresolved before the gold solution,
        // resolved after it, and not fooled by a planted conftest.py.
        let scratch = tempfile::tempdir().unwrap();
        let app = scratch.path().join("app");
        let logs = scratch.path().join("logs");
        unpack(&dir, &app);
        assert!(app.join("calc/ops.py").is_file());
        assert!(
            !app.join(".git").exists(),
            "the archive holds the tree only"
        );
        let (reward, results) = verify(&dir, &app, &logs);
        assert_eq!(reward, "0", "{results:#}");
        let fail_to_pass = task["failToPass"].as_array().unwrap();
        assert!(!fail_to_pass.is_empty());
        for test in fail_to_pass {
            assert_ne!(
                results["failToPass"][test.as_str().unwrap()],
                "passed",
                "{results:#}"
            );
        }

        // A fresh base, then the gold solution.
        std::fs::remove_dir_all(&app).unwrap();
        unpack(&dir, &app);
        let solved = script(&dir.join("solution/solve.sh"), &app, &logs, &[]);
        assert!(
            solved.status.success(),
            "solve.sh: {}",
            String::from_utf8_lossy(&solved.stderr)
        );
        let (reward, results) = verify(&dir, &app, &logs);
        assert_eq!(reward, "1", "{results:#}");
        assert_eq!(results["resolved"], true);
        for test in fail_to_pass
            .iter()
            .chain(task["passToPass"].as_array().unwrap())
        {
            assert_eq!(
                results["failToPass"][test.as_str().unwrap()]
                    .as_str()
                    .or(results["passToPass"][test.as_str().unwrap()].as_str()),
                Some("passed"),
                "{results:#}"
            );
        }

        // No fix, a conftest.py that reports every test passed, and a test made trivially
        // true: both are put back before grading.
        std::fs::remove_dir_all(&app).unwrap();
        unpack(&dir, &app);
        std::fs::write(
            app.join("conftest.py"),
            "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
        )
        .unwrap();
        std::fs::write(
            app.join("tests/test_ops.py"),
            "def test_add():\n    assert True\n",
        )
        .unwrap();
        let (reward, results) = verify(&dir, &app, &logs);
        assert_eq!(reward, "0", "{results:#}");
        let restored: Vec<&str> = results["restored"]
            .as_array()
            .unwrap()
            .iter()
            .map(|path| path.as_str().unwrap())
            .collect();
        assert!(restored.contains(&"conftest.py"), "{results:#}");
        assert!(restored.contains(&"tests/test_ops.py"), "{results:#}");
        assert!(!app.join("conftest.py").exists());
    }

    // `[export.harbor]` in the repository's prodcode.toml reaches the Dockerfile and task.toml.
    ws.write(
        "prodcode.toml",
        "[export.harbor]\nimage = \"python:3.11-slim\"\ncpus = 2\nmemory_mb = 2048\n",
    );
    let first = PathBuf::from(exported[0]["dir"].as_str().unwrap());
    let first_id = exported[0]["instanceId"].as_str().unwrap();
    ok(
        prodcode(
            &ws,
            &[
                "export",
                "harbor",
                out.to_str().unwrap(),
                "--tasks",
                tasks.to_str().unwrap(),
                "--task",
                first_id,
            ],
        ),
        "export harbor with [export.harbor]",
    );
    let dockerfile = std::fs::read_to_string(first.join("environment/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("\nFROM python:3.11-slim\n"),
        "{dockerfile}"
    );
    let config = Command::new(&python)
        .args([
            "-c",
            "import sys; from harbor.models.task.task import Task; e = Task(sys.argv[1]).config.environment; print(e.cpus, e.memory_mb)",
        ])
        .arg(&first)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&config.stdout).trim(), "2 2048");

    // A task whose ids do not select tests exactly outside prodcode is skipped, named, and exit 1.
    let copied = ws.db.parent().unwrap().join("jest-tasks");
    let task_dir = copied.join("tasks").join(first_id);
    std::fs::create_dir_all(&task_dir).unwrap();
    let mut task: Value = serde_json::from_str(
        &std::fs::read_to_string(tasks.join("tasks").join(first_id).join("task.json")).unwrap(),
    )
    .unwrap();
    task["runner"] = "jest".into();
    std::fs::write(task_dir.join("task.json"), task.to_string()).unwrap();
    let other_out = ws.db.parent().unwrap().join("harbor-jest");
    let skipped = prodcode(
        &ws,
        &[
            "export",
            "harbor",
            other_out.to_str().unwrap(),
            "--tasks",
            copied.to_str().unwrap(),
        ],
    );
    assert_eq!(skipped.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&skipped.stdout);
    assert!(
        stdout.contains(&format!("skipped {first_id}: its runner is jest")),
        "{stdout}"
    );
    assert!(stdout.contains("exported 0 tasks"), "{stdout}");
    assert!(!other_out.join(first_id).exists());

    // Exporting again replaces the directories whole; an unknown --task is an error.
    ok(
        prodcode(
            &ws,
            &[
                "export",
                "harbor",
                out.to_str().unwrap(),
                "--tasks",
                tasks.to_str().unwrap(),
            ],
        ),
        "export harbor again",
    );
    let unknown = prodcode(
        &ws,
        &[
            "export",
            "harbor",
            out.to_str().unwrap(),
            "--tasks",
            tasks.to_str().unwrap(),
            "--task",
            "nope",
        ],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no task nope"));
}

/// Exports the one task curated into `tasks` and checks that Harbor loads it, that its linter
/// finds only the two findings docs/eval.md explains, and what the Dockerfile starts from; the
/// task's directory and its task.json.
fn export_one(ws: &Workspace, python: &Path, tasks: &Path, image: &str) -> (PathBuf, Value) {
    let out = ws.db.parent().unwrap().join("harbor");
    let summary = ok(
        prodcode(
            ws,
            &[
                "export",
                "harbor",
                out.to_str().unwrap(),
                "--tasks",
                tasks.to_str().unwrap(),
                "--json",
            ],
        ),
        "export harbor",
    );
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["skipped"], serde_json::json!([]), "{summary:#}");
    let exported = summary["exported"].as_array().unwrap();
    assert_eq!(exported.len(), 1, "{summary:#}");
    let id = exported[0]["instanceId"].as_str().unwrap();
    let dir = PathBuf::from(exported[0]["dir"].as_str().unwrap());
    let task: Value = serde_json::from_str(
        &std::fs::read_to_string(tasks.join("tasks").join(id).join("task.json")).unwrap(),
    )
    .unwrap();
    let loaded = harbor_load(python, &dir);
    assert_eq!(loaded["instruction"], task["prompt"], "{loaded:#}");
    assert_eq!(loaded["validDir"], true, "{loaded:#}");
    assert_eq!(loaded["metadata"]["runner"], task["runner"]);
    assert_eq!(loaded["metadata"]["fail_to_pass"], task["failToPass"]);
    for finding in loaded["lint"].as_array().unwrap() {
        let finding = finding.as_str().unwrap();
        assert!(
            finding.starts_with("unpinned-image:") || finding.starts_with("shared-verifier:"),
            "{loaded:#}"
        );
    }
    let dockerfile = std::fs::read_to_string(dir.join("environment/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("\nFROM {image}\n")),
        "{dockerfile}"
    );
    (dir, task)
}

fn statuses(results: &Value, tests: &Value) -> Vec<String> {
    tests
        .as_array()
        .unwrap()
        .iter()
        .map(|test| {
            let test = test.as_str().unwrap();
            results["failToPass"][test]
                .as_str()
                .or(results["passToPass"][test].as_str())
                .unwrap_or("absent")
                .to_owned()
        })
        .collect()
}

fn restored(results: &Value) -> Vec<String> {
    results["restored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| path.as_str().unwrap().to_owned())
        .collect()
}

const INTEGRATION_CLAMP: &str = "#[test]\nfn clamps_into_range() {\n    assert_eq!(calc::clamp(5, 0, 3), 3);\n    assert_eq!(calc::clamp(-1, 0, 3), 0);\n}\n";

#[test]
fn exported_cargo_tasks_grade_each_test_binary_with_real_cargo_offline() {
    let Some(python) = harbor_python() else {
        return;
    };
    let ws = Workspace::new();
    crate::curate::cargo_repo(&ws);
    link(&ws);
    let interaction = crate::curate::session(
        &ws,
        "clamp",
        "Add a clamp function to the calc crate that limits a value to a range, with tests",
        &[
            ("src/lib.rs", crate::curate::LIB_WITH_CLAMP),
            ("tests/clamp.rs", INTEGRATION_CLAMP),
        ],
    );
    crate::curate::commit(&ws, "clamp");
    let tasks = ws.db.parent().unwrap().join("tasks");
    let report = crate::curate::curate(&ws, &tasks, &["--runs", "1"]);
    assert_eq!(
        crate::curate::candidate(&report, &interaction)["fate"],
        "kept",
        "{report:#}"
    );
    let (dir, task) = export_one(&ws, &python, &tasks, "rust:1.90-slim");
    assert_eq!(
        task["failToPass"],
        serde_json::json!(["calc::clamp clamps_into_range"])
    );
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tests/config.json")).unwrap())
            .unwrap();
    let restore: Vec<&str> = config["restore"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    // The integration tests go back; src/lib.rs, with its unit tests, is the solution's.
    assert_eq!(restore, ["tests/a.rs", "tests/b.rs"], "{config:#}");

    // The container's ENV, moved: the verifier's own target directory, under the test's temp dir.
    let scratch = tempfile::tempdir().unwrap();
    let app = scratch.path().join("app");
    let logs = scratch.path().join("logs");
    let target = scratch.path().join("target");
    let env = [("PRODCODE_CARGO_TARGET_DIR", target.as_path())];

    // The base: the new test binary does not compile, which fails its test and no other.
    unpack(&dir, &app);
    let (reward, results) = verify_with(&dir, &app, &logs, &env);
    assert_eq!(reward, "0", "{results:#}");
    assert_eq!(
        statuses(&results, &task["failToPass"]),
        ["didNotCompile"],
        "{results:#}"
    );
    assert_eq!(
        statuses(&results, &task["passToPass"]),
        ["passed", "passed", "passed"],
        "{results:#}"
    );
    assert!(
        target.join("debug").is_dir(),
        "cargo built in the verifier's target"
    );
    assert!(!app.join("target").exists());
    let output = std::fs::read_to_string(logs.join("test-output.txt")).unwrap();
    assert!(output.contains("--offline"), "{output}");

    // The gold solution: resolved.
    std::fs::remove_dir_all(&app).unwrap();
    unpack(&dir, &app);
    let solved = script(&dir.join("solution/solve.sh"), &app, &logs, &[]);
    assert!(solved.status.success());
    let (reward, results) = verify_with(&dir, &app, &logs, &env);
    assert_eq!(reward, "1", "{results:#}");
    assert_eq!(statuses(&results, &task["failToPass"]), ["passed"]);

    // A wrong fix that weakens an integration test, plants cargo configuration and adds a unit
    // test module of its own under src/: the test and the configuration are put back, the
    // module (the solution's side of curation's split) stays, and the reward is 0.
    std::fs::remove_dir_all(&app).unwrap();
    unpack(&dir, &app);
    std::fs::write(
        app.join("src/lib.rs"),
        "pub fn add(a: i64, b: i64) -> i64 {\n    a - b\n}\n\npub fn clamp(value: i64, _low: i64, _high: i64) -> i64 {\n    value\n}\n\n#[cfg(test)]\nmod checks;\n",
    )
    .unwrap();
    std::fs::create_dir_all(app.join("src/checks")).unwrap();
    std::fs::write(app.join("src/checks/mod.rs"), "").unwrap();
    std::fs::create_dir_all(app.join("src/tests")).unwrap();
    std::fs::write(app.join("src/tests/extra.rs"), "").unwrap();
    std::fs::write(app.join("tests/a.rs"), "#[test]\nfn shared() {}\n").unwrap();
    std::fs::create_dir_all(app.join(".cargo")).unwrap();
    std::fs::write(app.join(".cargo/config.toml"), "[build]\nrustflags = []\n").unwrap();
    let (reward, results) = verify_with(&dir, &app, &logs, &env);
    assert_eq!(reward, "0", "{results:#}");
    let restored = restored(&results);
    assert!(restored.contains(&"tests/a.rs".to_owned()), "{results:#}");
    assert!(
        restored.contains(&".cargo/config.toml".to_owned()),
        "{results:#}"
    );
    assert!(!app.join(".cargo/config.toml").exists());
    assert!(app.join("src/tests/extra.rs").exists(), "{results:#}");
    assert_eq!(
        statuses(&results, &task["failToPass"]),
        ["failed"],
        "{results:#}"
    );
    let p2p = statuses(&results, &task["passToPass"]);
    assert!(p2p.iter().any(|status| status == "failed"), "{results:#}");
}

#[test]
fn exported_go_tasks_grade_each_package_with_real_go_offline() {
    let Some(python) = harbor_python() else {
        return;
    };
    if crate::support::tool_on_path("go").is_none() {
        crate::support::missing("go (Debian's golang-go, installed by .ci/run)");
        return;
    }
    let ws = Workspace::new();
    ws.write("go.mod", "module example.com/calc\n\ngo 1.19\n");
    ws.write(
        "calc.go",
        "package calc\n\n// Add adds two numbers.\nfunc Add(a, b int) int {\n\treturn a + b\n}\n",
    );
    ws.write(
        "calc_test.go",
        "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(\"2 + 3\")\n\t}\n}\n",
    );
    crate::curate::commit(&ws, "calc with Add");
    link(&ws);
    let interaction = crate::curate::session(
        &ws,
        "clamp",
        "Add a bounds package with Clamp(value, low, high) that limits a value to a range, with tests",
        &[
            (
                "bounds/bounds.go",
                "package bounds\n\n// Clamp limits value to low..high.\nfunc Clamp(value, low, high int) int {\n\tif value < low {\n\t\treturn low\n\t}\n\tif value > high {\n\t\treturn high\n\t}\n\treturn value\n}\n",
            ),
            (
                "bounds/bounds_test.go",
                "package bounds\n\nimport \"testing\"\n\nfunc TestClamp(t *testing.T) {\n\tif Clamp(5, 0, 3) != 3 || Clamp(-1, 0, 3) != 0 {\n\t\tt.Fatal(\"clamp\")\n\t}\n}\n",
            ),
        ],
    );
    crate::curate::commit(&ws, "clamp");
    let tasks = ws.db.parent().unwrap().join("tasks");
    let report = crate::curate::curate(&ws, &tasks, &["--runs", "1"]);
    assert_eq!(
        crate::curate::candidate(&report, &interaction)["fate"],
        "kept",
        "{report:#}"
    );
    let (dir, task) = export_one(&ws, &python, &tasks, "golang:1.23");
    assert_eq!(
        task["failToPass"],
        serde_json::json!(["example.com/calc/bounds TestClamp"])
    );
    assert_eq!(
        task["passToPass"],
        serde_json::json!(["example.com/calc TestAdd"])
    );

    // The container's ENV, moved: the verifier's own build cache, under the test's temp dir.
    let scratch = tempfile::tempdir().unwrap();
    let app = scratch.path().join("app");
    let logs = scratch.path().join("logs");
    let cache = scratch.path().join("go-build");
    let env = [("PRODCODE_GOCACHE", cache.as_path())];

    // The base: the package whose test does not build fails; the other passes.
    unpack(&dir, &app);
    let (reward, results) = verify_with(&dir, &app, &logs, &env);
    assert_eq!(reward, "0", "{results:#}");
    assert_eq!(
        statuses(&results, &task["failToPass"]),
        ["didNotCompile"],
        "{results:#}"
    );
    assert_eq!(
        statuses(&results, &task["passToPass"]),
        ["passed"],
        "{results:#}"
    );
    assert!(cache.is_dir(), "go built in the verifier's cache");

    // The gold solution: resolved.
    std::fs::remove_dir_all(&app).unwrap();
    unpack(&dir, &app);
    let solved = script(&dir.join("solution/solve.sh"), &app, &logs, &[]);
    assert!(solved.status.success());
    let (reward, results) = verify_with(&dir, &app, &logs, &env);
    assert_eq!(reward, "1", "{results:#}");

    // A wrong fix that rewrites the test to pass and plants a test file and a go.work: the
    // test is put back, the planted file deleted, go.work ignored (GOWORK=off), reward 0.
    std::fs::remove_dir_all(&app).unwrap();
    unpack(&dir, &app);
    std::fs::create_dir_all(app.join("bounds")).unwrap();
    std::fs::write(
        app.join("bounds/bounds.go"),
        "package bounds\n\nfunc Clamp(value, low, high int) int {\n\treturn value\n}\n",
    )
    .unwrap();
    std::fs::write(
        app.join("calc_test.go"),
        "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {}\n",
    )
    .unwrap();
    std::fs::write(
        app.join("bounds/planted_test.go"),
        "package bounds\n\nimport \"testing\"\n\nfunc TestPlanted(t *testing.T) {}\n",
    )
    .unwrap();
    std::fs::write(app.join("go.work"), "go 1.19\n\nuse ./nowhere\n").unwrap();
    let (reward, results) = verify_with(&dir, &app, &logs, &env);
    assert_eq!(reward, "0", "{results:#}");
    let restored = restored(&results);
    assert!(
        restored.contains(&"bounds/planted_test.go".to_owned()),
        "{results:#}"
    );
    assert!(!app.join("bounds/planted_test.go").exists());
    assert_eq!(
        statuses(&results, &task["failToPass"]),
        ["failed"],
        "{results:#}"
    );
    assert_eq!(
        statuses(&results, &task["passToPass"]),
        ["passed"],
        "{results:#}"
    );
}
