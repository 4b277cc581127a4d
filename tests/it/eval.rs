//! `prodcode eval` and `prodcode report` end to end: tasks curated from a fixture repository
//! (sessions through the real Claude Code hooks, commits on main, real pytest), then scripted
//! agents run in sealed workspaces and graded by the tasks' own tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{Claude, Workspace, git, link};

const OPS: &str = "def add(a, b):\n    return a + b\n";
const OPS_WITH_CLAMP: &str = "def add(a, b):\n    return a + b\n\n\ndef clamp(value, low, high):\n    return max(low, min(value, high))\n";
const STATS: &str = "def mean(values):\n    return sum(values) / len(values)\n";

/// The scripted agents: one Python file, the behaviour as its first argument, the prompt as
/// its second, run in the workspace.
const AGENT: &str = r#"
import os, subprocess, sys, time
behaviour, prompt = sys.argv[1], sys.argv[2]
run = int(os.environ.get("RUN", "1"))
clamp = "clamp" in prompt

def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

def solve():
    if clamp:
        write("calc/ops.py", OPS_WITH_CLAMP)
    else:
        write("calc/stats.py", STATS)

if behaviour == "half":
    if clamp:
        solve()
elif behaviour == "flaky":
    if sys.argv[3] in ("1", "3"):
        solve()
elif behaviour == "breaks":
    solve()
    text = open("calc/ops.py").read().replace("return a + b", "return a - b")
    write("calc/ops.py", text)
elif behaviour == "slow":
    time.sleep(60)
    solve()
elif behaviour == "tests":
    # No fix; the existing test is made trivially true instead.
    write("tests/test_ops.py", "def test_add():\n    assert True\n")
elif behaviour == "conftest":
    write("conftest.py", "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
elif behaviour == "history":
    # Looks for the solution in the history and applies it.
    log = subprocess.run(["git", "log", "--all", "--format=%H"], capture_output=True, text=True).stdout.split()
    for sha in log:
        show = subprocess.run(["git", "show", sha, "--", "calc"], capture_output=True, text=True).stdout
        if ("def clamp" if clamp else "def mean") in show:
            patch = subprocess.run(["git", "show", "--format=", sha, "--", "calc"], capture_output=True, text=True).stdout
            subprocess.run(["git", "apply", "-"], input=patch, text=True)
            break
elif behaviour == "outside":
    solve()
    write("../outside.txt", "escaped\n")
    write("calc/ops.py.orig", "leftover\n")
"#;

fn session(ws: &Workspace, name: &str, prompt: &str, files: &[(&str, &str)]) {
    let mut claude = Claude::start_with_prompt(ws, name, prompt);
    for (path, content) in files {
        claude.write(&ws.path(path), content);
    }
    claude.stop();
}

fn commit(ws: &Workspace, message: &str) {
    git(&ws.root, &["add", "-A"]);
    git(&ws.root, &["commit", "-q", "-m", message]);
}

pub(crate) fn prodcode(ws: &Workspace, args: &[&str]) -> Output {
    std::process::Command::new(crate::support::bin())
        .args(args)
        .arg("--db")
        .arg(&ws.db)
        .env_remove("PRODCODE_DB")
        .env("PRODCODE_CACHE_DIR", ws.db.parent().unwrap().join("cache"))
        .current_dir(ws.db.parent().unwrap())
        .output()
        .unwrap()
}

pub(crate) fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({:?}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A Python project with two landed single-turn sessions, curated into two tasks.
pub(crate) fn curated() -> Option<(Workspace, PathBuf)> {
    if crate::support::tool_on_path("pytest").is_none() {
        crate::support::missing("pytest");
        return None;
    }
    let ws = Workspace::new();
    ws.write(
        "pyproject.toml",
        "[project]\nname = \"calc\"\nversion = \"0.1.0\"\n",
    );
    ws.write(".gitignore", "__pycache__/\n.pytest_cache/\n");
    ws.write("AGENTS.md", "Run the tests with pytest.\n");
    std::fs::create_dir_all(ws.path("calc")).unwrap();
    std::fs::create_dir_all(ws.path("tests")).unwrap();
    ws.write("calc/__init__.py", "");
    ws.write("calc/ops.py", OPS);
    ws.write(
        "tests/test_ops.py",
        "from calc import ops\n\n\ndef test_add():\n    assert ops.add(2, 3) == 5\n",
    );
    commit(&ws, "calc");
    link(&ws);
    session(
        &ws,
        "clamp",
        "Add clamp(value, low, high) to calc.ops",
        &[
            ("calc/ops.py", OPS_WITH_CLAMP),
            (
                "tests/test_clamp.py",
                "from calc import ops\n\n\ndef test_clamp():\n    assert ops.clamp(5, 0, 3) == 3\n    assert ops.clamp(-1, 0, 3) == 0\n",
            ),
        ],
    );
    commit(&ws, "clamp");
    session(
        &ws,
        "mean",
        "Add a calc.stats module with mean(values)",
        &[
            ("calc/stats.py", STATS),
            (
                "tests/test_stats.py",
                "from calc import stats\n\n\ndef test_mean():\n    assert stats.mean([1, 2, 3]) == 2\n",
            ),
        ],
    );
    commit(&ws, "mean");
    let out = ws.db.parent().unwrap().join("tasks");
    let root = ws.root.to_string_lossy().into_owned();
    let report = ok(
        prodcode(
            &ws,
            &[
                "curate",
                "--repo",
                &root,
                "--out",
                out.to_str().unwrap(),
                "--runs",
                "1",
                "--json",
            ],
        ),
        "curate",
    );
    let report: Value = serde_json::from_str(&report).unwrap();
    let kept = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|candidate| candidate["fate"] == "kept")
        .count();
    assert_eq!(kept, 2, "{report:#}");
    let agent = ws.db.parent().unwrap().join("agent.py");
    let script = format!("OPS_WITH_CLAMP = {OPS_WITH_CLAMP:?}\nSTATS = {STATS:?}\n{AGENT}");
    std::fs::write(&agent, script).unwrap();
    Some((ws, out))
}

fn agent_arg(ws: &Workspace, behaviour: &str) -> String {
    let agent = ws.db.parent().unwrap().join("agent.py");
    format!(
        "{behaviour}=python3 {} {behaviour} {{prompt}} {{run}}",
        agent.display()
    )
}

fn results(dir: &Path) -> Vec<Value> {
    let mut results: Vec<Value> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .flatten()
        .map(|entry| {
            serde_json::from_str(
                &std::fs::read_to_string(entry.path().join("result.json")).unwrap(),
            )
            .unwrap()
        })
        .collect();
    results.sort_by_key(|result| result["runId"].as_str().unwrap().to_owned());
    results
}

fn resolved_by(results: &[Value], agent: &str) -> usize {
    results
        .iter()
        .filter(|result| result["agent"] == agent && result["outcome"] == "resolved")
        .count()
}

#[test]
fn scripted_agents_are_graded_by_the_tasks_tests_and_cannot_game_them() {
    let Some((ws, tasks)) = curated() else {
        return;
    };
    let out = ws.db.parent().unwrap().join("eval");
    let behaviours = [
        "half", "breaks", "slow", "tests", "conftest", "history", "outside",
    ];
    let mut args: Vec<String> = vec![
        "eval".into(),
        "--tasks".into(),
        tasks.to_string_lossy().into_owned(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
        "--runs".into(),
        "1".into(),
        "--jobs".into(),
        "2".into(),
        "--timeout".into(),
        "3".into(),
        "--agent".into(),
        "noop".into(),
        "--agent".into(),
        "gold".into(),
    ];
    for behaviour in behaviours {
        args.push("--agent".into());
        args.push(agent_arg(&ws, behaviour));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let summary = ok(prodcode(&ws, &argv), "eval");
    assert!(summary.contains("next: prodcode report"), "{summary}");
    let all = results(&out);
    assert_eq!(all.len(), 2 * 9, "{summary}");
    for (agent, expected) in [
        ("noop", 0),
        ("gold", 2),
        ("half", 1),
        ("breaks", 0),
        ("slow", 0),
        ("tests", 0),
        ("conftest", 0),
        ("history", 0),
        ("outside", 2),
    ] {
        assert_eq!(resolved_by(&all, agent), expected, "{agent}: {all:#?}");
    }
    assert!(
        all.iter().all(|result| result["outcome"] != "infra_error"),
        "{all:#?}"
    );
    let flagged = |agent: &str, flag: &str| {
        all.iter()
            .filter(|result| result["agent"] == agent)
            .all(|result| {
                result["flags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f == flag)
            })
    };
    assert!(flagged("slow", "timed_out"));
    assert!(flagged("tests", "tests_restored"));
    assert!(flagged("conftest", "tests_restored"));
    assert!(flagged("outside", "wrote_outside"));
    assert!(flagged("outside", "stray_files"));
    // The breaking agent fixed the task but broke a pass-to-pass test.
    let breaks = all
        .iter()
        .find(|result| result["agent"] == "breaks")
        .unwrap();
    assert!(
        breaks["failToPass"]
            .as_object()
            .unwrap()
            .values()
            .all(|s| s == "passed"),
        "{breaks:#}"
    );
    assert!(
        breaks["passToPass"]
            .as_object()
            .unwrap()
            .values()
            .any(|s| s == "failed"),
        "{breaks:#}"
    );
    // Each run kept its output, its diff and its test results.
    let gold = all
        .iter()
        .find(|result| result["agent"] == "half" && result["outcome"] == "resolved")
        .unwrap();
    let dir = out.join("runs").join(gold["runId"].as_str().unwrap());
    assert!(
        std::fs::read_to_string(dir.join("agent.diff"))
            .unwrap()
            .contains("+def clamp")
    );
    assert!(dir.join("tests.json").is_file() && dir.join("agent.stdout").is_file());
    // The store has a row per run.
    assert!(
        all.iter()
            .all(|result| result["storeRunId"].as_i64().is_some())
    );

    // Resuming reuses every result.
    let again = ok(prodcode(&ws, &argv), "eval again");
    assert!(again.contains("(18 from an earlier run)"), "{again}");

    // With the history kept, reading it finds the solution: the seal is what stopped it.
    let keep = ws.db.parent().unwrap().join("eval-keep");
    ok(
        prodcode(
            &ws,
            &[
                "eval",
                "--tasks",
                tasks.to_str().unwrap(),
                "--out",
                keep.to_str().unwrap(),
                "--runs",
                "1",
                "--history",
                "keep",
                "--agent",
                &agent_arg(&ws, "history"),
                "--agent",
                "missing=/nonexistent/agent {prompt}",
            ],
        ),
        "eval --history keep",
    );
    assert_eq!(resolved_by(&results(&keep), "history"), 2);
    // An agent command that is not installed is an infrastructure error, never a wrong answer.
    for result in results(&keep)
        .iter()
        .filter(|result| result["agent"] == "missing")
    {
        assert_eq!(result["outcome"], "infra_error", "{result:#}");
        assert!(
            result["infraError"]
                .as_str()
                .unwrap()
                .contains("was not found"),
            "{result:#}"
        );
    }
    // Against the sealed evaluation as a baseline, the history reader gains 100 points.
    let against: Value = serde_json::from_str(&ok(
        prodcode(
            &ws,
            &[
                "report",
                keep.to_str().unwrap(),
                "--baseline",
                out.to_str().unwrap(),
                "--format",
                "json",
            ],
        ),
        "report --baseline",
    ))
    .unwrap();
    let comparison = &against["baseline"][0];
    assert_eq!(comparison["label"], "history / basic / keep", "{against:#}");
    assert_eq!(comparison["difference"], 1.0);
    let interval = comparison["interval"].as_array().unwrap();
    assert!(
        interval[0].as_f64().unwrap() > 0.0 && interval[1].as_f64().unwrap() <= 1.0,
        "{comparison}"
    );

    // The report, in every format.
    let json: Value = serde_json::from_str(&ok(
        prodcode(&ws, &["report", out.to_str().unwrap(), "--format", "json"]),
        "report json",
    ))
    .unwrap();
    let group = |label: &str| {
        json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|group| group["label"] == label)
            .unwrap()
            .clone()
    };
    let half = group("half / basic / keep");
    assert_eq!(half["graded"], 2);
    assert_eq!(half["resolved"], 1);
    // Wilson 1 of 2: [0.0945, 0.9055].
    let interval = half["interval"].as_array().unwrap();
    assert!(
        (interval[0].as_f64().unwrap() - 0.0945).abs() < 1e-3,
        "{half:#}"
    );
    assert!(
        (interval[1].as_f64().unwrap() - 0.9055).abs() < 1e-3,
        "{half:#}"
    );
    assert_eq!(group("gold / basic / keep")["solveRate"], 1.0);
    let md = ok(
        prodcode(&ws, &["report", out.to_str().unwrap()]),
        "report md",
    );
    assert!(
        md.contains("| half / basic / keep | 2 | 2 | 1 | 50.0% |"),
        "{md}"
    );
    let html = out.join("report.html");
    ok(
        prodcode(
            &ws,
            &[
                "report",
                out.to_str().unwrap(),
                "--format",
                "html",
                "--output",
                html.to_str().unwrap(),
            ],
        ),
        "report html",
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("id=\"solve-rate\""), "{page}");
    // Self-contained: nothing is fetched when the page is opened.
    assert!(!page.contains("src=") && !page.contains("href="), "{page}");
    assert_renders_in_chromium(&html);
}

#[test]
fn pass_at_k_over_repeated_runs_and_validation_of_broken_tasks() {
    let Some((ws, tasks)) = curated() else {
        return;
    };
    let out = ws.db.parent().unwrap().join("eval");
    let ids: Vec<String> = std::fs::read_dir(tasks.join("tasks"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let clamp = ids
        .iter()
        .find(|id| {
            std::fs::read_to_string(tasks.join("tasks").join(id).join("task.json"))
                .unwrap()
                .contains("clamp(")
        })
        .unwrap()
        .clone();
    let rubric = ws.db.parent().unwrap().join("rubric.toml");
    std::fs::write(
        &rubric,
        "[eval]\nrubric = [\"python3\", \"-c\", \"import json, sys; d = json.load(sys.stdin); print(json.dumps({'score': int('def clamp' in d['diff']), 'task': d['task']['instanceId']}))\"]\n",
    )
    .unwrap();
    ok(
        prodcode(
            &ws,
            &[
                "eval",
                "--tasks",
                tasks.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--runs",
                "3",
                "--task",
                &clamp,
                "--agent",
                &agent_arg(&ws, "flaky"),
                "--config",
                rubric.to_str().unwrap(),
            ],
        ),
        "eval --runs 3",
    );
    // The rubric grader saw the task and the agent's diff of every run.
    for result in results(&out) {
        let solved = result["outcome"] == "resolved";
        assert_eq!(
            result["rubric"],
            serde_json::json!({ "score": if solved { 1 } else { 0 }, "task": clamp }),
            "{result:#}"
        );
    }
    let json: Value = serde_json::from_str(&ok(
        prodcode(&ws, &["report", out.to_str().unwrap(), "--format", "json"]),
        "report",
    ))
    .unwrap();
    let group = &json["groups"][0];
    assert_eq!(group["resolved"], 2, "{json:#}");
    // n = 3, c = 2: pass@1 = 2/3, pass@2 = 1, pass^2 = 1/3, pass^3 = 0.
    let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1e-9;
    assert!(close(&group["passAtK"]["1"], 2.0 / 3.0), "{group:#}");
    assert!(close(&group["passAtK"]["2"], 1.0), "{group:#}");
    assert!(close(&group["passHatK"]["2"], 1.0 / 3.0), "{group:#}");
    assert!(close(&group["passHatK"]["3"], 0.0), "{group:#}");
    assert_eq!(group["flipping"], serde_json::json!([clamp]));

    // Both tasks are valid; then one is broken by hand and --validate names it.
    let valid = prodcode(
        &ws,
        &[
            "eval",
            "--tasks",
            tasks.to_str().unwrap(),
            "--validate",
            "--out",
            ws.db.parent().unwrap().join("v1").to_str().unwrap(),
        ],
    );
    ok(valid, "validate");
    let path = tasks.join("tasks").join(&clamp).join("task.json");
    let mut task: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let p2p = task["passToPass"][0].clone();
    task["failToPass"].as_array_mut().unwrap().push(p2p);
    task["solutionPatch"] = Value::String(String::new());
    std::fs::write(&path, task.to_string()).unwrap();
    let invalid = prodcode(
        &ws,
        &[
            "eval",
            "--tasks",
            tasks.to_str().unwrap(),
            "--validate",
            "--out",
            ws.db.parent().unwrap().join("v2").to_str().unwrap(),
        ],
    );
    assert_eq!(invalid.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&invalid.stderr);
    assert!(
        stderr.contains(&clamp) && stderr.contains("gold"),
        "{stderr}"
    );
}

/// Counts the pixels of a PNG that have exactly `rgb` (8-bit RGB or RGBA, non-interlaced, as
/// Chromium writes screenshots), with Python's zlib: no image crate for one test.
const COUNT_PIXELS: &str = r#"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
rgb = bytes.fromhex(sys.argv[2])
pos, idat = 8, b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
assert depth == 8 and colour in (2, 6), (depth, colour)
channels = 3 if colour == 2 else 4
raw = zlib.decompress(idat)
stride = width * channels
prev = bytearray(stride)
count = 0
for y in range(height):
    start = y * (stride + 1)
    kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
    for i in range(stride):
        a = line[i - channels] if i >= channels else 0
        b = prev[i]
        c = prev[i - channels] if i >= channels else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 255
    count += sum(1 for x in range(width) if line[x * channels:x * channels + 3] == rgb)
    prev = line
print(count)
"#;

/// The HTML report opened in a real headless Chromium: the page loads without a script error and
/// its solve-rate chart is drawn (the bars' colour is on the screenshot).
fn assert_renders_in_chromium(html: &Path) {
    let Some(chromium) = crate::support::tool_on_path("chromium") else {
        crate::support::missing("chromium (Debian's chromium package)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("report.png");
    let output = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,900",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "chromium: {stderr}");
    assert!(
        !stderr.contains("Uncaught") && !stderr.contains("CONSOLE"),
        "{stderr}"
    );
    let count = std::process::Command::new("python3")
        .args(["-c", COUNT_PIXELS])
        .arg(&shot)
        .arg("4e79a7")
        .output()
        .unwrap();
    assert!(
        count.status.success(),
        "{}",
        String::from_utf8_lossy(&count.stderr)
    );
    let pixels: u64 = String::from_utf8_lossy(&count.stdout)
        .trim()
        .parse()
        .unwrap();
    // The bars of the solve-rate chart (and the first tool-use colour): thousands of pixels.
    assert!(pixels > 2000, "{pixels} pixels of the bars' colour");
}
