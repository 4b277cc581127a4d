//! The tool fronts other than MCP: `prodcode tool` on the command line and
//! `workspace/executeCommand` in the daemon. Real binary, real pipes, real SQLite file.

use std::time::Instant;

use serde_json::{Value, json};

use crate::support::{Workspace, open, provenance};

/// A row of `tool_calls`: tool, outcome, front, client, interaction.
type CallRow = (String, String, String, Option<String>, Option<String>);

fn tool_calls(ws: &Workspace) -> Vec<CallRow> {
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    let mut statement = conn
        .prepare("SELECT tool, outcome, front, client, interaction_id FROM tool_calls ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_cli_calls_a_tool_prints_json_and_records_the_call() {
    let ws = Workspace::new();
    ws.write("notes.txt", "alpha\nneedle in a haystack\n");
    let root = ws.root.to_string_lossy().into_owned();
    let answer = ws.prodcode_json(&[
        "tool",
        "search",
        "pattern=need(le)",
        "--workspace",
        &root,
        "--json",
    ]);
    assert_eq!(
        answer["matches"],
        json!([{ "path": "notes.txt", "line": 2, "column": 1, "text": "needle in a haystack" }])
    );

    // Human output, and a failure with a message and exit status 1.
    let output = ws.prodcode(&["tool", "search", "pattern=haystack", "--workspace", &root]);
    assert!(output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with("notes.txt:2:13: needle in a haystack\n")
    );
    let output = ws.prodcode(&[
        "tool",
        "search",
        "pattern=x",
        "paths=../",
        "--workspace",
        &root,
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["error"]["kind"], "outside_workspace");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("resolves outside the workspace")
    );
    let output = ws.prodcode(&[
        "tool",
        "search",
        "--args",
        "{\"pattern\": 3}",
        "--workspace",
        &root,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("`pattern` is a number; pass a string")
    );

    let calls = tool_calls(&ws);
    let summary: Vec<(&str, &str, &str)> = calls
        .iter()
        .map(|(tool, outcome, front, _, _)| (tool.as_str(), outcome.as_str(), front.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("search", "ok", "cli"),
            ("search", "ok", "cli"),
            ("search", "outside_workspace", "cli"),
            ("search", "invalid_argument", "cli"),
        ]
    );
}

#[test]
fn the_cli_lists_the_tools() {
    let ws = Workspace::new();
    let tools = ws.prodcode_json(&["tool", "--list", "--json"]);
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "get_diagnostics",
            "run_tests",
            "find_definition",
            "find_references",
            "hover",
            "document_symbols",
            "workspace_symbols",
            "format",
            "search",
            "lsp_status",
        ]
    );
    for tool in tools.as_array().unwrap() {
        assert_eq!(tool["inputSchema"]["type"], "object", "{}", tool["name"]);
        assert_eq!(tool["outputSchema"]["type"], "object", "{}", tool["name"]);
    }
}

#[test]
fn the_daemon_runs_tools_as_commands_without_holding_up_edits() {
    let ws = Workspace::new();
    // A test command that takes a while: the daemon must keep serving meanwhile.
    ws.write(
        "prodcode.toml",
        "[tools.tests]\ncommand = [\"sleep\", \"2\"]\n",
    );
    let text = "fn main() {}\n";
    ws.write("main.rs", text);
    let uri = ws.uri("main.rs");
    let mut client = ws.spawn_daemon();
    let initialized = client
        .request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": ws.uri(""),
                "clientInfo": { "name": "tool-test", "version": "7" },
                "capabilities": {},
            }),
        )
        .unwrap();
    client.notify("initialized", json!({})).unwrap();
    let commands = initialized["capabilities"]["executeCommandProvider"]["commands"].clone();
    assert!(
        commands
            .as_array()
            .unwrap()
            .contains(&json!("prodcode.run_tests")),
        "{commands}"
    );
    assert_eq!(commands.as_array().unwrap().len(), 10);
    open(&mut client, &uri, text);

    let started = Instant::now();
    let slow = client
        .send_request(
            "workspace/executeCommand",
            json!({ "command": "prodcode.run_tests", "arguments": [{ "timeout_s": 30 }] }),
        )
        .unwrap();
    // Answered while the test command still sleeps.
    provenance(&mut client, &uri);
    assert!(
        started.elapsed().as_secs_f64() < 1.5,
        "provenance waited for the tool"
    );
    assert!(
        !client
            .notifications
            .iter()
            .any(|message| message["id"] == json!(slow)),
        "the tool answered before it could have finished"
    );
    let response = client.wait_response(slow).unwrap();
    let result = &response["result"];
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["runner"], "configured");
    assert_eq!(result["structuredContent"]["passed"], 1);

    let search = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "prodcode.search", "arguments": [{ "pattern": "fn main" }] }),
        )
        .unwrap();
    assert_eq!(search["structuredContent"]["matches"][0]["path"], "main.rs");
    let refused = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "prodcode.document_symbols", "arguments": [{ "path": "/etc/passwd" }] }),
        )
        .unwrap();
    assert_eq!(refused["isError"], true);
    assert_eq!(
        refused["structuredContent"]["error"]["kind"],
        "outside_workspace"
    );
    let unknown = client.request(
        "workspace/executeCommand",
        json!({ "command": "editor.format", "arguments": [] }),
    );
    assert!(
        format!("{unknown:?}").contains("unknown command"),
        "{unknown:?}"
    );
    client.shutdown().unwrap();

    let calls = tool_calls(&ws);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls
            .iter()
            .all(|call| call.2 == "lsp" && call.3.as_deref() == Some("tool-test 7")),
        "{calls:?}"
    );
    assert_eq!(calls[0].0, "run_tests");
}

#[test]
fn tool_calls_show_up_under_their_interaction_in_the_log() {
    let ws = Workspace::new();
    ws.write("a.txt", "needle\n");
    let claude = crate::support::Claude::start(&ws, "tools-log");
    let root = ws.root.to_string_lossy().into_owned();
    for args in [
        ["tool", "search", "pattern=needle", "--workspace", &root],
        ["tool", "search", "pattern=needle", "--workspace", &root],
        ["tool", "search", "pattern=(", "--workspace", &root],
    ] {
        std::process::Command::new(crate::support::bin())
            .args(args)
            .arg("--db")
            .arg(&ws.db)
            .env("PRODCODE_INTERACTION_ID", claude.interaction())
            .output()
            .unwrap();
    }
    let log = ws.prodcode_json(&["log", "--json"]);
    assert_eq!(log["interactions"][0]["id"], claude.interaction().as_str());
    assert_eq!(
        log["interactions"][0]["toolCalls"],
        json!([
            { "tool": "search", "outcome": "invalid_argument", "calls": 1, "totalMs": log["interactions"][0]["toolCalls"][0]["totalMs"] },
            { "tool": "search", "outcome": "ok", "calls": 2, "totalMs": log["interactions"][0]["toolCalls"][1]["totalMs"] },
        ])
    );
    let text = String::from_utf8(ws.prodcode(&["log"]).stdout).unwrap();
    assert!(
        text.contains("tools: search ×1 (invalid_argument), search ×2"),
        "{text}"
    );
}

/// Issue 15: an editor's daemon serves many interactions, so its environment cannot name the one
/// a tool call belongs to; the call names it with `interactionId` in `arguments[0]`.
#[test]
fn an_editor_tool_call_is_recorded_under_the_interaction_it_names() {
    let ws = Workspace::new();
    ws.write("a.txt", "needle\n");
    let mut client = ws.daemon();
    client
        .notify(
            "prodcode/promptSubmitted",
            json!({ "interactionId": "editor-1", "prompt": "find the needle" }),
        )
        .unwrap();
    let found = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "prodcode.search",
                    "arguments": [{ "pattern": "needle", "interactionId": "editor-1" }] }),
        )
        .unwrap();
    // The tool never saw the field: it refuses arguments it does not take.
    assert_eq!(found["isError"], false, "{found}");
    assert_eq!(found["structuredContent"]["matches"][0]["path"], "a.txt");
    // A call without one belongs to no interaction, as before.
    let plain = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "prodcode.search", "arguments": [{ "pattern": "needle" }] }),
        )
        .unwrap();
    assert_eq!(plain["isError"], false, "{plain}");
    // An id that is not a string is refused, not recorded under a garbled id.
    let refused = client.request(
        "workspace/executeCommand",
        json!({ "command": "prodcode.search",
                "arguments": [{ "pattern": "needle", "interactionId": 7 }] }),
    );
    assert!(
        format!("{refused:?}").contains("interactionId must be a non-empty string"),
        "{refused:?}"
    );
    client.shutdown().unwrap();

    let log = ws.prodcode_json(&["log", "--json"]);
    let interaction = &log["interactions"][0];
    assert_eq!(interaction["id"], "editor-1", "{log}");
    assert_eq!(
        interaction["toolCalls"],
        json!([{ "tool": "search", "outcome": "ok", "calls": 1, "totalMs": interaction["toolCalls"][0]["totalMs"] }]),
        "{log}"
    );
    let calls: Vec<Option<String>> = tool_calls(&ws).into_iter().map(|call| call.4).collect();
    assert_eq!(calls, [Some("editor-1".to_owned()), None]);
    // The recorded arguments are the tool's own.
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    let arguments: String = conn
        .query_row(
            "SELECT arguments FROM tool_calls ORDER BY id LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(arguments, r#"{"pattern":"needle"}"#);
}

/// pytest is on `PATH`; when it is not, the test is skipped, or fails under
/// `PRODCODE_REQUIRE_TOOLS=1`.
fn pytest_installed() -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("pytest").is_file()));
    if !found {
        assert!(
            std::env::var("PRODCODE_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "pytest is not installed, and PRODCODE_REQUIRE_TOOLS=1"
        );
        eprintln!("skipped: pytest is not installed");
    }
    found
}

#[test]
fn run_tests_ids_pass_back_through_the_cli_and_options_are_refused() {
    let ws = Workspace::new();
    std::fs::create_dir(ws.path("tests")).unwrap();
    ws.write("pytest.ini", "[pytest]\naddopts = -x\n");
    ws.write(
        "tests/test_p.py",
        "import pytest\n\n@pytest.mark.parametrize(\"x\", [\"a b\", \"c\"])\n\
         def test_p(x):\n    assert x != \"a b\"\n\ndef test_after():\n    pass\n",
    );
    let root = ws.root.to_string_lossy().into_owned();
    // An option in names or targets is refused before anything runs.
    for args in [r#"{"names": ["--co"]}"#, r#"{"targets": ["-p", "x"]}"#] {
        let output = ws.prodcode(&[
            "tool",
            "run_tests",
            "--args",
            args,
            "--workspace",
            &root,
            "--json",
        ]);
        assert!(!output.status.success());
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(answer["error"]["kind"], "invalid_argument", "{answer}");
    }
    if !pytest_installed() {
        return;
    }

    let whole = ws.prodcode_json(&["tool", "run_tests", "--workspace", &root, "--json"]);
    let statuses = |answer: &Value| -> Vec<(String, String)> {
        answer["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|test| {
                (
                    test["id"].as_str().unwrap().to_owned(),
                    test["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let expected = [
        ("tests/test_p.py::test_p[a b]", "failed"),
        ("tests/test_p.py::test_p[c]", "passed"),
        ("tests/test_p.py::test_after", "passed"),
    ]
    .map(|(id, status)| (id.to_owned(), status.to_owned()));
    assert_eq!(statuses(&whole), expected, "{whole}");
    assert_eq!(whole["runner"], "pytest");

    // The ids, passed back with one that does not exist: exactly those, in order.
    let mut names: Vec<&str> = expected.iter().rev().map(|(id, _)| id.as_str()).collect();
    names.push("tests/test_p.py::test_gone");
    let args = json!({ "names": names }).to_string();
    let answer = ws.prodcode_json(&[
        "tool",
        "run_tests",
        "--args",
        &args,
        "--workspace",
        &root,
        "--json",
    ]);
    let mut reversed: Vec<(String, String)> = expected.iter().rev().cloned().collect();
    reversed.push(("tests/test_p.py::test_gone".to_owned(), "notRun".to_owned()));
    assert_eq!(statuses(&answer), reversed, "{answer}");
    assert_eq!(
        (answer["notRun"].as_u64(), answer["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let text = ws.prodcode(&["tool", "run_tests", "--args", &args, "--workspace", &root]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("1 not run"), "{text}");
    assert!(
        text.contains("NOT RUN tests/test_p.py::test_gone"),
        "{text}"
    );
}

/// Found by `prodcode eval`'s live Codex test: an agent calling `run_tests` on a project whose
/// package sits at the root (no `conftest.py`, not installed) got "No module named calc" for
/// every test, where `python -m pytest` at the root passes.
#[test]
fn run_tests_imports_a_root_package_as_python_m_pytest_would() {
    if !pytest_installed() {
        return;
    }
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path("calc")).unwrap();
    std::fs::create_dir_all(ws.path("tests")).unwrap();
    ws.write(
        "pyproject.toml",
        "[project]\nname = \"calc\"\nversion = \"0.1.0\"\n",
    );
    ws.write("calc/__init__.py", "def add(a, b):\n    return a + b\n");
    ws.write(
        "tests/test_calc.py",
        "import calc\n\n\ndef test_add():\n    assert calc.add(2, 3) == 5\n",
    );
    let root = ws.root.to_string_lossy().into_owned();
    let answer = ws.prodcode_json(&["tool", "run_tests", "--workspace", &root, "--json"]);
    assert_eq!(answer["passed"], 1, "{answer:#}");
    assert_eq!(answer["didNotCompile"], 0, "{answer:#}");
}
