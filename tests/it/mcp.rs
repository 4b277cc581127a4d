//! `prodcode mcp` end to end: the real binary driven by the official MCP Python SDK
//! (`tests/it/mcp/client.py`, which runs a JSON plan and prints what the server answered), and
//! raw pipes and sockets for what a well-behaved client never sends.
//!
//! The SDK tests need `python` on PATH with the `mcp` package (the CI venv); without it they
//! print `skipped: …` and pass, unless `PRODCODE_REQUIRE_TOOLS=1`, where they fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Workspace, bin, missing, require_tools, tool_on_path};

const TOOLS: [&str; 10] = [
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
];

/// How long one client session may take before the test gives up on it (a cargo build inside
/// takes seconds; a hang should fail the test, not the CI job).
const SESSION_TIMEOUT: Duration = Duration::from_secs(600);

#[test]
fn the_sdk_lists_the_tools_and_calls_are_recorded_with_the_client() {
    let Some(python) = sdk_python() else { return };
    let ws = Workspace::new();
    ws.write("notes.txt", "alpha\nneedle in a haystack\n");
    let plan = json!({
        "server": stdio_server(&ws, &ws.root, &[("PRODCODE_INTERACTION_ID", "env-interaction")]),
        "steps": [
            { "op": "list" },
            { "op": "call", "tool": "search", "arguments": { "pattern": "need(le)" } },
            {
                "op": "call", "tool": "search", "arguments": { "pattern": "alpha" },
                "meta": { "dev.prodcode/interactionId": "meta-interaction", "dev.prodcode/runId": 7 }
            },
            { "op": "call", "tool": "lsp_status", "arguments": {} },
        ]
    });
    let answer = run_client(&python, &plan);

    let init = &answer["initialize"];
    assert_eq!(init["serverInfo"]["name"], "prodcode");
    assert_eq!(init["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert!(
        init["instructions"].as_str().unwrap().contains("1-based"),
        "{init}"
    );

    let listed = step(&answer, 0);
    assert_eq!(
        listed["schemaErrors"],
        json!([]),
        "schemas that are not valid JSON Schema"
    );
    let tools = listed["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOLS);
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        assert!(!tool["title"].as_str().unwrap_or("").is_empty(), "{name}");
        assert!(
            !tool["description"].as_str().unwrap_or("").is_empty(),
            "{name}"
        );
        let hints = &tool["annotations"];
        assert_eq!(hints["readOnlyHint"], json!(name != "format"), "{name}");
        assert_eq!(hints["destructiveHint"], json!(false), "{name}");
        assert_eq!(hints["openWorldHint"], json!(false), "{name}");
    }
    for name in ["find_definition", "find_references", "hover"] {
        let tool = tools.iter().find(|t| t["name"] == name).unwrap();
        for property in ["line", "column"] {
            let description = tool["inputSchema"]["properties"][property]["description"]
                .as_str()
                .unwrap_or_default();
            assert!(
                description.contains("1-based"),
                "{name}.{property}: {description}"
            );
        }
    }

    let found = call_ok(&answer, 1);
    assert_eq!(
        found["structuredContent"]["matches"],
        json!([{ "path": "notes.txt", "line": 2, "column": 1, "text": "needle in a haystack" }])
    );
    assert!(
        found["text"]
            .as_str()
            .unwrap()
            .contains("notes.txt:2:1: needle")
    );
    call_ok(&answer, 2);
    let status = call_ok(&answer, 3);
    assert!(
        status["structuredContent"]["servers"].is_array(),
        "{status}"
    );

    // Every call is in the store, with the SDK's clientInfo and the interaction of the
    // environment, or of the call's `_meta`; the run id of `_meta` is in the event.
    let calls = recorded_calls(&ws.db);
    let rows: Vec<CallRow<'_>> = calls
        .iter()
        .map(|c| {
            (
                c.tool.as_str(),
                c.outcome.as_str(),
                c.front.as_str(),
                c.client.as_deref(),
                c.interaction.as_deref(),
            )
        })
        .collect();
    let client = Some("prodcode-tests 1");
    assert_eq!(
        rows,
        [
            ("search", "ok", "mcp", client, Some("env-interaction")),
            ("search", "ok", "mcp", client, Some("meta-interaction")),
            ("lsp_status", "ok", "mcp", client, Some("env-interaction")),
        ]
    );
    assert_eq!(calls[0].event["runId"], Value::Null);
    assert_eq!(calls[1].event["runId"], 7);
    assert_eq!(calls[1].event["arguments"], json!({ "pattern": "alpha" }));
}

#[test]
fn the_sdk_runs_the_tests_of_a_crate_with_one_failure() {
    let Some(python) = sdk_python() else { return };
    let ws = Workspace::new();
    write_crate(
        &ws,
        r#"pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

pub fn sub(a: i32, b: i32) -> i32 {
    a + b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 2), 4);
    }

    #[test]
    fn subtracts() {
        assert_eq!(sub(3, 1), 2, "subtraction is broken");
    }
}
"#,
    );
    let plan = json!({
        "server": stdio_server(&ws, &ws.root, &[("CARGO_TARGET_DIR", &cargo_target(&ws))]),
        "steps": [{ "op": "call", "tool": "run_tests", "arguments": { "timeout_s": 300 } }],
    });
    let started = Instant::now();
    let answer = run_client(&python, &plan);
    eprintln!(
        "run_tests over MCP (with the build): {:?}",
        started.elapsed()
    );

    let run = &call_ok(&answer, 0)["structuredContent"];
    assert_eq!(
        (run["passed"].as_u64(), run["failed"].as_u64()),
        (Some(1), Some(1)),
        "{run}"
    );
    assert_eq!(run["errors"], 0, "{run}");
    let tests = run["tests"].as_array().unwrap();
    let failed: Vec<&Value> = tests.iter().filter(|t| t["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{run}");
    assert!(
        failed[0]["name"].as_str().unwrap().ends_with("subtracts"),
        "{run}"
    );
    let why = format!("{} {}", failed[0]["message"], failed[0]["outputTail"]);
    assert!(why.contains("subtraction is broken"), "{why}");
    let passed: Vec<&Value> = tests.iter().filter(|t| t["status"] == "passed").collect();
    assert!(
        passed[0]["name"].as_str().unwrap().ends_with("adds"),
        "{run}"
    );
}

#[test]
fn the_sdk_gets_diagnostics_that_follow_each_edit() {
    let Some(python) = sdk_python() else { return };
    let ws = Workspace::new();
    let lib = ws.path("src/lib.rs");
    write_crate(&ws, "pub fn answer() -> u32 {\n    \"forty-two\"\n}\n");
    let fixed = "pub fn answer() -> u32 {\n    42\n}\n";
    let other = "pub fn answer() -> u32 {\n    42\n}\n\npub fn twice() -> u32 {\n    answer() * factor\n}\n";
    let diagnose = json!({ "op": "call", "tool": "get_diagnostics", "arguments": {} });
    let plan = json!({
        "server": stdio_server(&ws, &ws.root, &[("CARGO_TARGET_DIR", &cargo_target(&ws))]),
        "steps": [
            diagnose,
            { "op": "write", "path": lib, "text": fixed },
            diagnose,
            { "op": "write", "path": lib, "text": other },
            diagnose,
        ],
    });
    let answer = run_client(&python, &plan);

    let errors = |index: usize| -> Vec<(String, u64, u64, String)> {
        let report = &call_ok(&answer, index)["structuredContent"];
        report["diagnostics"]
            .as_array()
            .unwrap_or_else(|| panic!("no diagnostics array: {report}"))
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| {
                (
                    d["path"].as_str().unwrap_or_default().to_owned(),
                    d["line"].as_u64().unwrap_or(0),
                    d["column"].as_u64().unwrap_or(0),
                    d["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let first = errors(0);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(
        (first[0].0.as_str(), first[0].1, first[0].2),
        ("src/lib.rs", 2, 5)
    );
    assert!(first[0].3.contains("mismatched types"), "{first:?}");
    assert_eq!(errors(2), [], "the fixed file still has errors");
    let last = errors(4);
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(
        (last[0].0.as_str(), last[0].1, last[0].2),
        ("src/lib.rs", 6, 16)
    );
    assert!(last[0].3.contains("factor"), "{last:?}");
    // Each answer names the files it describes; they differ with each edit.
    let snapshot = |index: usize| call_ok(&answer, index)["structuredContent"]["snapshot"].clone();
    assert!(snapshot(0).is_object(), "{}", snapshot(0));
    assert_ne!(snapshot(0)["id"], snapshot(2)["id"]);
    assert_ne!(snapshot(2)["id"], snapshot(4)["id"]);
}

#[test]
fn the_sdk_navigates_rust_syntactically() {
    let Some(python) = sdk_python() else { return };
    let fixture = nav_fixture("rust");
    let nav = NavCase::read(&fixture);
    let ws = copy_of(&fixture);
    let answer = run_client(&python, &nav.plan(&ws));
    for (index, expected) in nav.expected.iter().enumerate() {
        let result = &call_ok(&answer, index)["structuredContent"];
        assert_eq!(result["syntactic"], true, "{}: {result}", expected.what);
        assert_eq!(result["source"], "syntactic", "{}: {result}", expected.what);
        expected.check(result);
    }
}

#[test]
fn the_sdk_navigates_python_through_pyright_when_installed() {
    let Some(python) = sdk_python() else { return };
    let pyright = tool_on_path("pyright-langserver");
    if pyright.is_none() {
        assert!(
            !require_tools(),
            "pyright-langserver is not installed, and PRODCODE_REQUIRE_TOOLS=1"
        );
        eprintln!("pyright-langserver not installed: checking the built-in index's answers only");
    }
    let fixture = nav_fixture("python");
    let nav = NavCase::read(&fixture);
    let ws = copy_of(&fixture);
    let answer = run_client(&python, &nav.plan(&ws));
    for (index, expected) in nav.expected.iter().enumerate() {
        let result = &call_ok(&answer, index)["structuredContent"];
        // workspace_symbols merges the servers' answers with the index's.
        if pyright.is_some() && expected.tool != "workspace_symbols" {
            assert_eq!(
                result["source"], "pyright-langserver",
                "{}: {result}",
                expected.what
            );
            assert_eq!(result["syntactic"], false, "{}: {result}", expected.what);
        } else if pyright.is_none() {
            assert_eq!(result["syntactic"], true, "{}: {result}", expected.what);
        }
        expected.check(result);
    }
}

#[test]
fn the_sdk_sees_bad_calls_as_error_results_and_the_server_carries_on() {
    let Some(python) = sdk_python() else { return };
    let ws = Workspace::new();
    ws.write("notes.txt", "needle\n");
    let call = |tool: &str, arguments: Value| json!({ "op": "call", "tool": tool, "arguments": arguments });
    let plan = json!({
        "server": stdio_server(&ws, &ws.root, &[]),
        "steps": [
            call("search", json!({ "pattern": "x", "paths": ["../x"] })),
            call("document_symbols", json!({ "path": "/etc/passwd" })),
            call("no_such_tool", json!({})),
            call("workspace_symbols", json!({})),
            call("search", json!({ "pattern": 3 })),
            call("find_definition", json!({})),
            call("search", json!({ "pattern": "needle" })),
        ],
    });
    let answer = run_client(&python, &plan);
    let expected = [
        ("outside_workspace", "outside the workspace"),
        ("outside_workspace", "outside the workspace"),
        ("not_found", "there is no tool `no_such_tool`"),
        ("invalid_argument", "workspace_symbols needs `query`"),
        ("invalid_argument", "`pattern` is a number; pass a string"),
        ("invalid_argument", "1-based"),
    ];
    for (index, (kind, says)) in expected.iter().enumerate() {
        let result = step(&answer, index);
        assert_eq!(result["isError"], true, "step {index}: {result}");
        let text = result["text"].as_str().unwrap();
        assert!(text.contains(says), "step {index}: {text}");
        assert_eq!(
            result["structuredContent"]["error"]["kind"], *kind,
            "step {index}: {result}"
        );
        assert_eq!(
            result["structuredContent"]["error"]["message"], text,
            "step {index}"
        );
    }
    let found = call_ok(&answer, 6);
    assert_eq!(
        found["structuredContent"]["matches"][0]["path"],
        "notes.txt"
    );
}

#[test]
fn the_sdk_talks_streamable_http_on_loopback() {
    let Some(python) = sdk_python() else { return };
    let ws = Workspace::new();
    ws.write("notes.txt", "needle\n");
    let mut server = HttpServer::start(&ws, "127.0.0.1:0");
    let plan = json!({
        "server": { "url": server.url },
        "steps": [
            { "op": "list" },
            { "op": "call", "tool": "search", "arguments": { "pattern": "needle" } },
        ],
    });
    let answer = run_client(&python, &plan);
    let names: Vec<&str> = step(&answer, 0)["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, TOOLS);
    let found = call_ok(&answer, 1);
    assert_eq!(
        found["structuredContent"]["matches"],
        json!([{ "path": "notes.txt", "line": 1, "column": 1, "text": "needle" }])
    );
    server.stop();
    let calls = recorded_calls(&ws.db);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].client.as_deref(), Some("prodcode-tests 1"));
}

#[test]
fn http_refuses_foreign_hosts_browser_origins_and_other_paths() {
    let ws = Workspace::new();
    let mut server = HttpServer::start(&ws, "127.0.0.1:0");
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;
    let host = server.addr.clone();
    let (status, _) = http_post(&server.addr, "/mcp", &host, None, initialize);
    assert_eq!(status, 200, "a plain loopback client is served");
    // DNS rebinding: a web page whose name resolves to 127.0.0.1 sends its own Host.
    let (status, body) = http_post(&server.addr, "/mcp", "evil.example", None, initialize);
    assert_eq!(status, 403, "{body}");
    // A web page on any origin, even a loopback one.
    for origin in ["http://evil.example", "http://localhost:3000"] {
        let (status, body) = http_post(&server.addr, "/mcp", &host, Some(origin), initialize);
        assert_eq!(status, 403, "{origin}: {body}");
    }
    let (status, body) = http_post(&server.addr, "/other", &host, None, initialize);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("/mcp"), "{body}");
    server.stop();
}

#[test]
fn http_refuses_an_address_beyond_loopback() {
    let ws = Workspace::new();
    let root = ws.root.to_string_lossy().into_owned();
    for addr in ["0.0.0.0:1234", "[::]:1234"] {
        let output = ws.prodcode(&["mcp", "--workspace", &root, "--http", addr]);
        assert_eq!(output.status.code(), Some(2), "{addr}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("refusing to serve MCP on {addr}")),
            "{stderr}"
        );
        assert!(stderr.contains("use a loopback address"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn stdio_skips_garbage_and_answers_the_next_request() {
    let ws = Workspace::new();
    let mut server = RawServer::start(&ws);
    server.send(b"this is not JSON");
    server.initialize();
    server.send(b"{\"unterminated\": ");
    server.send(b"\xff\xfe not UTF-8 \xc3\x28");
    server.send(br#"{"valid": "JSON", "but": "no JSON-RPC message"}"#);
    let invalid = server.next();
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    server.send(br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#);
    let listed = server.next();
    assert_eq!(listed["id"], 2, "{listed}");
    assert_eq!(
        listed["result"]["tools"].as_array().map(Vec::len),
        Some(10),
        "{listed}"
    );
    server.send(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"lsp_status","arguments":{}}}"#);
    let status = server.next();
    assert_eq!(status["id"], 3, "{status}");
    assert_eq!(status["result"]["isError"], false, "{status}");
    server.close_promptly();
}

#[test]
fn stdio_answers_other_calls_while_a_test_run_is_in_flight() {
    let ws = Workspace::new();
    ws.write(
        "prodcode.toml",
        "[tools.tests]\ncommand = [\"sleep\", \"3\"]\n",
    );
    ws.write("notes.txt", "needle\n");
    let mut server = RawServer::start(&ws);
    server.initialize();
    let started = Instant::now();
    server.send(br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_tests","arguments":{}}}"#);
    server.send(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search","arguments":{"pattern":"needle"}}}"#);
    let first = server.next();
    assert_eq!(
        first["id"], 3,
        "the search waited for the test run: {first}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let second = server.next();
    assert_eq!(second["id"], 2, "{second}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        second["result"]["structuredContent"].is_object(),
        "{second}"
    );
    server.close_promptly();
}

// Helpers.

/// `prodcode mcp` over raw pipes, for what a well-behaved client never sends.
/// `prodcode mcp` over raw pipes: one JSON-RPC message a line.
pub(crate) struct RawServer {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl RawServer {
    pub(crate) fn start(ws: &Workspace) -> RawServer {
        let mut child = Command::new(bin())
            .args(["--db"])
            .arg(&ws.db)
            .args(["mcp", "--workspace"])
            .arg(&ws.root)
            .env_remove("PRODCODE_DB")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let lines = line_reader(child.stdout.take().unwrap());
        RawServer {
            child,
            stdin,
            lines,
        }
    }

    /// Writes `bytes` and a newline.
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// The next message on stdout; every line must be a JSON-RPC message.
    pub(crate) fn next(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("no answer from the server");
        let message: Value = serde_json::from_str(&line).unwrap_or_else(|error| {
            panic!("stdout carried something else than MCP ({error}): {line}")
        });
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
        message
    }

    pub(crate) fn initialize(&mut self) {
        self.send(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#);
        let init = self.next();
        assert_eq!(init["id"], 1, "{init}");
        assert_eq!(init["result"]["serverInfo"]["name"], "prodcode", "{init}");
        self.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    }

    /// Closes stdin: the server must exit cleanly and promptly, with nothing more on stdout.
    fn close_promptly(mut self) {
        drop(self.stdin.take());
        let started = Instant::now();
        let exit = wait_for(&mut self.child, Duration::from_secs(10));
        assert!(exit.success(), "exit {exit}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(
            self.lines.recv_timeout(Duration::from_secs(1)).is_err(),
            "more output after the end"
        );
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `python` with the MCP SDK, or `None` (skip) when it is not installed.
fn sdk_python() -> Option<PathBuf> {
    let python = tool_on_path("python").filter(|python| {
        Command::new(python)
            .args(["-c", "import mcp, jsonschema, anyio"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if python.is_none() {
        missing("python with the mcp package");
    }
    python
}

/// The stdio server of a plan: `prodcode --db <db> mcp --workspace <root>` with extra env.
fn stdio_server(ws: &Workspace, root: &Path, env: &[(&str, &str)]) -> Value {
    let env: serde_json::Map<String, Value> = env
        .iter()
        .map(|(key, value)| ((*key).to_owned(), Value::from(*value)))
        .collect();
    json!({
        "command": bin(),
        "args": ["--db", ws.db, "mcp", "--workspace", root],
        "env": env,
    })
}

/// Runs `client.py` with `plan`; returns its answer. Fails on a client error or a hang.
fn run_client(python: &Path, plan: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/mcp/client.py");
    let mut child = Command::new(python)
        .arg(&script)
        .env_remove("PRODCODE_DB")
        .env_remove("PRODCODE_INTERACTION_ID")
        .env_remove("PRODCODE_RUN_ID")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(plan.to_string().as_bytes())
        .unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let exit = wait_for(&mut child, SESSION_TIMEOUT);
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    assert!(
        exit.success(),
        "the MCP client failed ({exit}):\n{stderr}\nstdout: {stdout}"
    );
    let answer: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("the client printed no JSON ({error}): {stdout}\n{stderr}"));
    assert_eq!(
        answer["results"].as_array().map(Vec::len),
        plan["steps"].as_array().map(Vec::len),
        "{answer}"
    );
    answer
}

fn step(answer: &Value, index: usize) -> &Value {
    let result = &answer["results"][index];
    assert!(
        result.get("exception").is_none(),
        "step {index} raised: {}\n{}",
        result["exception"],
        result["trace"].as_str().unwrap_or_default()
    );
    result
}

/// A call that succeeded, with structuredContent that matches the tool's output schema.
fn call_ok(answer: &Value, index: usize) -> &Value {
    let result = step(answer, index);
    assert_eq!(result["isError"], false, "step {index}: {}", result["text"]);
    assert_eq!(result["schemaErrors"], json!([]), "step {index}: {result}");
    result
}

/// A Cargo package with its own `[workspace]` at the workspace root, with `lib` as src/lib.rs.
fn write_crate(ws: &Workspace, lib: &str) {
    ws.write(
        "Cargo.toml",
        "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    std::fs::create_dir_all(ws.path("src")).unwrap();
    ws.write("src/lib.rs", lib);
}

/// Where a fixture crate builds: beside the workspace, not inside it.
fn cargo_target(ws: &Workspace) -> String {
    ws.root
        .parent()
        .unwrap()
        .join("target")
        .to_string_lossy()
        .into_owned()
}

/// (tool, outcome, front, client, interaction) of a recorded call.
type CallRow<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// One row of `tool_calls` and the payload of its event.
struct RecordedCall {
    tool: String,
    outcome: String,
    front: String,
    client: Option<String>,
    interaction: Option<String>,
    event: Value,
}

fn recorded_calls(db: &Path) -> Vec<RecordedCall> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT c.tool, c.outcome, c.front, c.client, c.interaction_id, e.payload
             FROM tool_calls c JOIN events e ON e.id = c.event_id ORDER BY c.id",
        )
        .unwrap();
    statement
        .query_map([], |row| {
            let payload: String = row.get(5)?;
            Ok(RecordedCall {
                tool: row.get(0)?,
                outcome: row.get(1)?,
                front: row.get(2)?,
                client: row.get(3)?,
                interaction: row.get(4)?,
                event: serde_json::from_str(&payload).unwrap_or(Value::Null),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// `prodcode mcp --http ADDR`, with its stdin held open (closing it stops the server).
struct HttpServer {
    child: Child,
    /// `host:port` as bound.
    addr: String,
    url: String,
}

impl HttpServer {
    fn start(ws: &Workspace, addr: &str) -> HttpServer {
        let mut child = Command::new(bin())
            .args(["--db"])
            .arg(&ws.db)
            .args(["mcp", "--workspace"])
            .arg(&ws.root)
            .args(["--http", addr])
            .env_remove("PRODCODE_DB")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = line_reader(child.stderr.take().unwrap());
        let prefix = "prodcode mcp: listening on ";
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix(prefix) {
                        break url.trim().to_owned();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the server never said it was listening");
                }
            }
        };
        // The rest of stderr is left to drain into the channel.
        std::thread::spawn(move || for _ in lines {});
        let addr = url
            .strip_prefix("http://")
            .and_then(|rest| rest.strip_suffix("/mcp"))
            .unwrap_or_else(|| panic!("unexpected URL {url}"))
            .to_owned();
        assert!(!addr.ends_with(":0"), "{addr}");
        HttpServer { child, addr, url }
    }

    /// Closes stdin; the server must exit cleanly and promptly.
    fn stop(&mut self) {
        drop(self.child.stdin.take());
        let exit = wait_for(&mut self.child, Duration::from_secs(10));
        assert!(exit.success(), "exit {exit}");
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        assert_eq!(stdout, "", "the HTTP server printed on stdout");
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 POST over a fresh connection: (status, body).
fn http_post(
    addr: &str,
    path: &str,
    host: &str,
    origin: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let origin = origin.map_or(String::new(), |origin| format!("Origin: {origin}\r\n"));
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // A 200 answer is an event stream that may stay open; its head is enough.
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status: {status_line:?}"));
    let mut rest = String::new();
    if status != 200 {
        let _ = reader.read_to_string(&mut rest);
    }
    (status, rest)
}

/// Lines of `pipe`, read on a thread.
fn line_reader(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child`, killing it after `timeout`.
fn wait_for(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not exit within {timeout:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A navigation fixture of `tests/data/tools/nav/`.
fn nav_fixture(language: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tools/nav")
        .join(language);
    assert!(dir.is_dir(), "missing fixture {}", dir.display());
    dir
}

/// A workspace holding a copy of `fixture` (the tools and language servers may write caches).
fn copy_of(fixture: &Path) -> Workspace {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let ws = Workspace::new();
    copy(fixture, &ws.root);
    ws
}

/// The navigation calls of a fixture, read from the positions documented in
/// `tests/data/tools/nav/README.md` (which the index's own test keeps true).
struct NavCase {
    expected: Vec<NavExpectation>,
}

struct NavExpectation {
    /// The README row, for messages.
    what: String,
    tool: &'static str,
    arguments: Value,
    check: NavCheck,
}

/// (kind, name, line, column, container) of a document symbol.
type SymbolRow = (String, String, u64, u64, Option<String>);

enum NavCheck {
    /// Exactly these locations (path, line, column), in any order.
    Locations(Vec<(String, u64, u64)>),
    /// Only the index promises all of them; a server answers with some of them.
    SyntacticLocations(Vec<(String, u64, u64)>),
    /// The hover contains each text.
    Hover(Vec<String>),
    /// The first symbol answered.
    FirstSymbol(String, (String, u64, u64)),
    /// The file's symbols (kind, name, line, column, container): all of them, in order, from the
    /// index; the same names at the same positions among a server's.
    Symbols(Vec<SymbolRow>),
}

impl NavCase {
    fn read(fixture: &Path) -> NavCase {
        let language = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let readme = std::fs::read_to_string(fixture.parent().unwrap().join("README.md")).unwrap();
        let mut expected = Vec::new();
        for line in readme.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, fixture, request, at, name, expect, _] = cells[..] else {
                continue;
            };
            if fixture != language {
                continue;
            }
            let what = format!("{request} at {at} ({name})");
            let expectation = match request {
                "definition" | "definition (syntactic)" | "references" => {
                    let locations = expect.split(", ").map(parse_location).collect();
                    let (tool, check) = match request {
                        "definition" => ("find_definition", NavCheck::Locations(locations)),
                        "references" => ("find_references", NavCheck::Locations(locations)),
                        _ => ("find_definition", NavCheck::SyntacticLocations(locations)),
                    };
                    NavExpectation {
                        what,
                        tool,
                        arguments: position(at),
                        check,
                    }
                }
                "hover" => {
                    let texts = expect.split('"').skip(1).step_by(2).map(str::to_owned);
                    NavExpectation {
                        what,
                        tool: "hover",
                        arguments: position(at),
                        check: NavCheck::Hover(texts.collect()),
                    }
                }
                "workspace_symbols" => NavExpectation {
                    what,
                    tool: "workspace_symbols",
                    arguments: json!({ "query": at }),
                    check: NavCheck::FirstSymbol(name.to_owned(), parse_location(expect)),
                },
                other => panic!("unknown request {other} in the navigation README"),
            };
            expected.push(expectation);
        }
        let (file, symbols) = document_symbols(&readme, &language);
        expected.push(NavExpectation {
            what: format!("document_symbols of {file}"),
            tool: "document_symbols",
            arguments: json!({ "path": file }),
            check: NavCheck::Symbols(symbols),
        });
        assert!(
            expected.len() > 5,
            "too few {language} rows in the navigation README"
        );
        NavCase { expected }
    }

    /// A plan that makes every call on `ws` (a copy of the fixture).
    fn plan(&self, ws: &Workspace) -> Value {
        let steps: Vec<Value> = self
            .expected
            .iter()
            .map(|e| json!({ "op": "call", "tool": e.tool, "arguments": e.arguments }))
            .collect();
        json!({ "server": stdio_server(ws, &ws.root, &[]), "steps": steps })
    }
}

/// `path:line:column` of the README.
fn parse_location(text: &str) -> (String, u64, u64) {
    let mut parts = text.trim().rsplitn(3, ':');
    let column = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    match (parts.next(), line, column) {
        (Some(path), Some(line), Some(column)) => (path.to_owned(), line, column),
        _ => panic!("not a path:line:column: {text}"),
    }
}

fn position(at: &str) -> Value {
    let (path, line, column) = parse_location(at);
    json!({ "path": path, "line": line, "column": column })
}

/// The README's `document_symbols` paragraph for `language`: the file (fixture-relative) and its
/// symbols, each written ``kind `name` line:column`` with an optional `` in `container` ``.
fn document_symbols(readme: &str, language: &str) -> (String, Vec<SymbolRow>) {
    let opening = format!("`document_symbols` of `{language}/");
    let start = readme
        .find(&opening)
        .unwrap_or_else(|| panic!("no document_symbols paragraph for {language}"));
    let paragraph = readme[start..]
        .split("\n\n")
        .next()
        .unwrap()
        .replace('\n', " ");
    let file = paragraph[opening.len()..]
        .split('`')
        .next()
        .unwrap()
        .to_owned();
    let pattern =
        regex::Regex::new(r"([a-z_]+) `([^`]+)` ([0-9]+):([0-9]+)(?: in `([^`]+)`)?").unwrap();
    let symbols = pattern
        .captures_iter(&paragraph)
        .map(|c| {
            (
                c[1].to_owned(),
                c[2].to_owned(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
                c.get(5).map(|m| m.as_str().to_owned()),
            )
        })
        .collect::<Vec<_>>();
    assert!(symbols.len() > 5, "{paragraph}");
    (file, symbols)
}

fn location_of(item: &Value) -> (String, u64, u64) {
    let location = item.get("location").unwrap_or(item);
    (
        location["path"].as_str().unwrap_or_default().to_owned(),
        location["line"].as_u64().unwrap_or(0),
        location["column"].as_u64().unwrap_or(0),
    )
}

impl NavExpectation {
    fn check(&self, result: &Value) {
        let what = &self.what;
        let syntactic = result["syntactic"] == true;
        let locations = |field: &str| -> Vec<(String, u64, u64)> {
            let items = result[field].as_array();
            let mut found: Vec<_> = items
                .unwrap_or_else(|| panic!("{what}: no {field}: {result}"))
                .iter()
                .map(location_of)
                .collect();
            found.sort();
            found
        };
        let field = if self.tool == "find_references" {
            "references"
        } else {
            "definitions"
        };
        match &self.check {
            NavCheck::Locations(expected) => {
                let mut expected = expected.clone();
                expected.sort();
                assert_eq!(locations(field), expected, "{what}: {result}");
            }
            NavCheck::SyntacticLocations(expected) => {
                let found = locations(field);
                if syntactic {
                    let mut expected = expected.clone();
                    expected.sort();
                    assert_eq!(found, expected, "{what}: {result}");
                } else {
                    assert!(!found.is_empty(), "{what}: {result}");
                    assert!(
                        found.iter().all(|l| expected.contains(l)),
                        "{what}: {result}"
                    );
                }
            }
            NavCheck::Hover(texts) => {
                let contents = result["hover"]["contents"].as_str().unwrap_or_default();
                for text in texts {
                    assert!(
                        contents.contains(text.as_str()),
                        "{what}: {text:?} not in {result}"
                    );
                }
            }
            NavCheck::FirstSymbol(name, location) => {
                let first = &result["symbols"][0];
                assert_eq!(first["name"], name.as_str(), "{what}: {result}");
                assert_eq!(location_of(first), *location, "{what}: {result}");
            }
            NavCheck::Symbols(expected) => {
                let symbols = result["symbols"].as_array();
                let symbols = symbols.unwrap_or_else(|| panic!("{what}: {result}"));
                if syntactic {
                    let found: Vec<SymbolRow> = symbols
                        .iter()
                        .map(|s| {
                            let (_, line, column) = location_of(s);
                            (
                                s["kind"].as_str().unwrap_or_default().to_owned(),
                                s["name"].as_str().unwrap_or_default().to_owned(),
                                line,
                                column,
                                s["container"].as_str().map(str::to_owned),
                            )
                        })
                        .collect();
                    assert_eq!(&found, expected, "{what}");
                } else {
                    for (_, name, line, column) in
                        expected.iter().map(|(k, n, l, c, _)| (k, n, *l, *c))
                    {
                        let present = symbols.iter().any(|s| {
                            s["name"] == name.as_str() && {
                                let (_, l, c) = location_of(s);
                                (l, c) == (line, column)
                            }
                        });
                        assert!(present, "{what}: {name} {line}:{column} not in {result}");
                    }
                }
            }
        }
    }
}
