//! The real Claude Code CLI (the pinned npm package `.ci/tools.sh` installs), its hooks written
//! by `prodcode install claude` into a private HOME, run headless (`claude -p`) against a
//! scripted Anthropic Messages API on loopback. What it sends is what prodcode must record.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::model_server::{ModelServer, Request, Response, anthropic_message};
use crate::support::{Workspace, bin, git, missing, tool_on_path};

/// The scripted turn, one assistant message per tool result received so far.
fn scripted_turn(root: &Path) -> Vec<Vec<Value>> {
    let file = |name: &str| root.join(name).to_string_lossy().into_owned();
    vec![
        vec![
            json!({ "type": "tool_use", "id": "toolu_w", "name": "Write", "input": {
            "file_path": file("calc.py"), "content": "def add(a, b):\n    return a + b\n" } }),
        ],
        vec![
            json!({ "type": "tool_use", "id": "toolu_r", "name": "Read", "input": {
            "file_path": file("calc.py") } }),
        ],
        vec![
            json!({ "type": "tool_use", "id": "toolu_e", "name": "Edit", "input": {
            "file_path": file("calc.py"), "old_string": "    return a + b\n",
            "new_string": "    return a + b\n\n\ndef sub(a, b):\n    return a - b\n" } }),
        ],
        vec![
            json!({ "type": "tool_use", "id": "toolu_b", "name": "Bash", "input": {
            "command": "printf 'VERSION = 1\\n' > version.py", "description": "write version.py" } }),
        ],
        vec![
            json!({ "type": "tool_use", "id": "toolu_f", "name": "Bash", "input": {
            "command": "exit 3", "description": "a command that fails" } }),
        ],
        vec![json!({ "type": "text", "text": "Done: calc.py has add and sub." })],
    ]
}

/// Answers the main conversation (the request that offers `main_tool`) from the script, and
/// anything else the agent asks (titles, checks) with a short text: an Anthropic Messages API
/// for any client of it (Claude Code, Copilot CLI with an Anthropic provider).
pub fn respond(main_tool: &str, script: &[Vec<Value>], request: &Request) -> Response {
    let body = &request.body;
    let offers_write = body["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|tool| tool["name"] == main_tool));
    if !request.path.starts_with("/v1/messages") || body.is_null() {
        return Response::Json(404, json!({ "error": "not scripted" }));
    }
    let (blocks, stop) = if offers_write {
        let results = body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|message| message["role"] == "user")
            .filter_map(|message| message["content"].as_array())
            .flatten()
            .filter(|block| block["type"] == "tool_result")
            .count();
        let step = &script[results.min(script.len() - 1)];
        let stop = if step[0]["type"] == "tool_use" {
            "tool_use"
        } else {
            "end_turn"
        };
        (step.clone(), stop)
    } else {
        (vec![json!({ "type": "text", "text": "ok" })], "end_turn")
    };
    if body["stream"] == true {
        anthropic_message(&blocks, stop)
    } else {
        Response::Json(
            200,
            json!({ "id": "msg_plain", "type": "message", "role": "assistant",
                    "model": "claude-scripted", "content": blocks, "stop_reason": stop,
                    "stop_sequence": null, "usage": { "input_tokens": 1, "output_tokens": 1 } }),
        )
    }
}

/// The agent's run ended well, having said the script's last words, and what the script asked
/// for is on disk: the tools really ran.
pub fn assert_scripted_turn_ran(agent: &str, output: &Output, ws: &Workspace) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("Done: calc.py has add and sub."),
        "{agent}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("calc.py")).unwrap(),
        "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("version.py")).unwrap(),
        "VERSION = 1\n"
    );
}

/// Committed and linked, the scripted turn's seven lines are the session's.
pub fn assert_committed_as_the_sessions_lines(ws: &Workspace) {
    git(&ws.root, &["add", "-A"]);
    git(&ws.root, &["commit", "-q", "-m", "calc"]);
    let linked = crate::support::link(ws);
    let calc = linked["linked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|commit| commit["summary"] == "calc")
        .unwrap_or_else(|| panic!("{linked:#}"));
    assert_eq!(
        calc["lines"],
        json!({ "ai": 7, "ai_modified": 0, "human": 0, "untracked": 0 })
    );
}

/// Every line of the files the scripted turn of each live test writes (`calc.py` by a write and
/// an edit, `version.py` by a shell command) is `ai`, of interaction `id`.
pub fn assert_scripted_lines_are_the_sessions(ws: &Workspace, id: &str) {
    for (file, lines) in [("calc.py", 6), ("version.py", 1)] {
        let blame = ws.prodcode_json(&["blame", ws.path(file).to_str().unwrap(), "--json"]);
        let rows = blame["lines"].as_array().unwrap();
        assert_eq!(rows.len(), lines, "{blame:#}");
        for row in rows {
            assert_eq!(row["class"], "ai", "{file}: {blame:#}");
            assert_eq!(row["interactionId"], id, "{file}: {blame:#}");
        }
    }
}

/// Runs `command` to its end, killing it after `limit`.
pub fn run_with_limit(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_real_claude_code_turn_is_recorded_line_by_line() {
    let Some(claude) = tool_on_path("claude") else {
        missing("claude (npm @anthropic-ai/claude-code)");
        return;
    };
    let ws = Workspace::new();
    let home = ws.db.parent().unwrap().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let install = Command::new(bin())
        .args(["install", "claude"])
        .env("HOME", &home)
        .env("PRODCODE_DB", &ws.db)
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let script = scripted_turn(&ws.root);
    let server = ModelServer::start(move |request| respond("Write", &script, request));

    let prompt = "Write calc.py with an add function, then add sub, and record a version file";
    let mut command = Command::new(&claude);
    command
        .args(["-p", prompt, "--permission-mode", "acceptEdits"])
        .args([
            "--allowedTools",
            "Bash Write Edit Read",
            "--model",
            "claude-opus-4-5",
        ])
        .current_dir(&ws.root)
        .env("HOME", &home)
        .env("PRODCODE_DB", &ws.db)
        .env("ANTHROPIC_BASE_URL", server.url())
        .env("ANTHROPIC_API_KEY", "sk-ant-scripted")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_ERROR_REPORTING", "1");
    let output = run_with_limit(command, Duration::from_secs(120));
    assert_scripted_turn_ran("claude -p", &output, &ws);
    // Everything went to the scripted server, with the test's key.
    let requests = server.requests();
    assert!(requests.len() >= 6, "{} requests", requests.len());
    for request in &requests {
        assert_eq!(request.method, "POST", "{}", request.path);
        assert!(
            request
                .headers
                .iter()
                .any(|(name, value)| name == "x-api-key" && value == "sk-ant-scripted"),
            "{:?}",
            request.headers
        );
    }

    // The prompt, verbatim, as one turn of a Claude Code interaction.
    let log = ws.prodcode_json(&["log", "--json"]);
    let interactions = log["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 1, "{log:#}");
    let interaction = &interactions[0];
    assert_eq!(interaction["agent"], "claude-code");
    // No hook payload names the model; the transcript does, for every assistant message (the
    // model that answered, as the server said), and the CLI's version.
    assert_eq!(interaction["model"], "claude-scripted");
    assert_eq!(interaction["agentVersion"], "2.1.332");
    assert_eq!(interaction["turns"], 1);
    assert_eq!(interaction["prompts"][0]["text"], prompt);
    let id = interaction["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("claude:"), "{id}");

    // Every line the agent wrote (by Write, Edit, and a shell command) is its own.
    assert_scripted_lines_are_the_sessions(&ws, &id);

    // Committed, the lines keep their provenance.
    assert_committed_as_the_sessions_lines(&ws);

    // Every bracket the hooks opened was closed: nothing is left waiting.
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    let open: i64 = conn
        .query_row(
            "SELECT count(*) FROM hook_brackets WHERE closed_ms IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(open, 0);
    let failures: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE payload LIKE '%PostToolUseFailure%'",
            [],
            |row| row.get(0),
        )
        .unwrap_or(-1);
    assert_eq!(
        failures, 1,
        "the failed command's hook call is in the event log"
    );
}
