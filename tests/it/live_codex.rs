//! The real Codex CLI (the pinned npm package `.ci/tools.sh` installs), its hooks written by
//! `prodcode install codex` into a private `CODEX_HOME`, run headless (`codex exec`) against a
//! scripted OpenAI Responses API on loopback. What it sends is what prodcode must record.
//!
//! The model's name is outside Codex's bundled catalogue, so Codex offers no `apply_patch` tool
//! and the model applies patches through the shell (`apply_patch <<'EOF'`): Codex then sends a
//! `PreToolUse` (Bash) and never a `PostToolUse` (issue 12).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::live_claude::{
    assert_committed_as_the_sessions_lines, assert_scripted_lines_are_the_sessions,
    assert_scripted_turn_ran, run_with_limit,
};
use crate::model_server::{ModelServer, Request, Response, openai_response};
use crate::support::{Workspace, bin, missing, tool_on_path};

const MODEL: &str = "prodcode-scripted-model";
const KEY: &str = "sk-scripted-codex";

/// A shell call of Codex's `exec_command` tool.
fn exec(call: &str, cmd: &str) -> Vec<Value> {
    vec![json!({
        "type": "function_call", "id": format!("fc_{call}"), "call_id": call,
        "name": "exec_command", "arguments": json!({ "cmd": cmd }).to_string()
    })]
}

/// The scripted turn, one response per tool output received so far.
fn scripted_turn() -> Vec<Vec<Value>> {
    vec![
        exec(
            "call_add",
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: calc.py\n+def add(a, b):\n+    return a + b\n*** End Patch\nEOF\n",
        ),
        exec(
            "call_update",
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: calc.py\n@@\n def add(a, b):\n     return a + b\n+\n+\n+def sub(a, b):\n+    return a - b\n*** End Patch\nEOF\n",
        ),
        exec("call_printf", "printf 'VERSION = 1\\n' > version.py"),
        exec("call_fail", "exit 3"),
        vec![json!({
            "type": "message", "id": "msg_done", "role": "assistant",
            "content": [{ "type": "output_text", "text": "Done: calc.py has add and sub." }]
        })],
    ]
}

fn respond(script: &[Vec<Value>], request: &Request) -> Response {
    if request.method != "POST" || !request.path.ends_with("/responses") {
        return Response::Json(404, json!({ "error": { "message": "not scripted" } }));
    }
    let outputs = request.body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["type"] == "function_call_output")
        .count();
    let step = outputs.min(script.len() - 1);
    openai_response(&format!("resp_{step}"), &script[step])
}

/// A private `CODEX_HOME`: the scripted server as the model provider, nothing sent elsewhere.
fn write_config(codex_home: &Path, server: &ModelServer) {
    std::fs::create_dir_all(codex_home).unwrap();
    let config = format!(
        r#"model = "{MODEL}"
model_provider = "scripted"
check_for_update_on_startup = false

[model_providers.scripted]
name = "scripted"
base_url = "{}/v1"
wire_api = "responses"
env_key = "PRODCODE_SCRIPTED_KEY"

[analytics]
enabled = false
"#,
        server.url()
    );
    std::fs::write(codex_home.join("config.toml"), config).unwrap();
}

#[test]
fn a_real_codex_turn_is_recorded_line_by_line() {
    let Some(codex) = tool_on_path("codex") else {
        missing("codex (npm @openai/codex)");
        return;
    };
    let ws = Workspace::new();
    let home = ws.db.parent().unwrap().join("home");
    let codex_home = home.join(".codex");
    let script = scripted_turn();
    let server = ModelServer::start(move |request| respond(&script, request));
    write_config(&codex_home, &server);
    let install = Command::new(bin())
        .args(["install", "codex"])
        .env("HOME", &home)
        .env("CODEX_HOME", &codex_home)
        .env("PRODCODE_DB", &ws.db)
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    let prompt = "Write calc.py with an add function, then add sub, and record a version file";
    let mut command = Command::new(&codex);
    command
        .args(["exec", "--dangerously-bypass-approvals-and-sandbox"])
        .arg(prompt)
        .current_dir(&ws.root)
        .env("HOME", &home)
        .env("CODEX_HOME", &codex_home)
        .env("PRODCODE_DB", &ws.db)
        .env("PRODCODE_SCRIPTED_KEY", KEY)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("CODEX_API_KEY");
    let output = run_with_limit(command, Duration::from_secs(120));
    assert_scripted_turn_ran("codex exec", &output, &ws);
    // Everything went to the scripted server, with the test's key; the model had no
    // `apply_patch` tool, only the shell.
    let requests = server.requests();
    let turns: Vec<&Request> = requests
        .iter()
        .filter(|request| request.path.ends_with("/responses"))
        .collect();
    assert_eq!(turns.len(), 5, "{requests:#?}");
    for request in &turns {
        assert!(
            request
                .headers
                .iter()
                .any(|(name, value)| name == "authorization" && value == &format!("Bearer {KEY}")),
            "{:?}",
            request.headers
        );
        assert_eq!(request.body["model"], MODEL);
        let tools: Vec<&str> = request.body["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|tool| tool["name"].as_str())
            .collect();
        assert!(tools.contains(&"exec_command"), "{tools:?}");
        assert!(!tools.contains(&"apply_patch"), "{tools:?}");
    }

    // The hooks ran (their trust was recorded by `prodcode install codex`).
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM events WHERE source = 'hook:codex' ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Two patches through the shell: a PreToolUse each and no PostToolUse.
    assert_eq!(
        kinds,
        [
            "hook.UserPromptSubmit",
            "hook.PreToolUse",
            "hook.PreToolUse",
            "hook.PreToolUse",
            "hook.PostToolUse",
            "hook.PreToolUse",
            "hook.PostToolUse",
            "hook.Stop"
        ]
    );

    // The prompt, verbatim, as one turn of a Codex interaction.
    let log = ws.prodcode_json(&["log", "--json"]);
    let interactions = log["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 1, "{log:#}");
    let interaction = &interactions[0];
    assert_eq!(interaction["agent"], "codex");
    assert_eq!(interaction["model"], MODEL);
    // No hook payload names Codex's version; the rollout's first line does.
    assert_eq!(interaction["agentVersion"], "0.171.0");
    assert_eq!(interaction["turns"], 1);
    assert_eq!(interaction["prompts"][0]["text"], prompt);
    assert_eq!(interaction["branch"], "main");
    let id = interaction["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("codex:"), "{id}");

    // Every line the agent wrote (two patches through the shell, a shell command) is its own.
    assert_scripted_lines_are_the_sessions(&ws, &id);

    // The rollout Codex wrote, imported, is the same interaction: no second turn.
    let import = Command::new(bin())
        .args(["import", "codex", "--db"])
        .arg(&ws.db)
        .env("HOME", &home)
        .env("CODEX_HOME", &codex_home)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let log = ws.prodcode_json(&["log", "--json"]);
    assert_eq!(log["interactions"].as_array().unwrap().len(), 1, "{log:#}");
    assert_eq!(log["interactions"][0]["turns"], 1, "{log:#}");

    // Committed, the lines keep their provenance.
    assert_committed_as_the_sessions_lines(&ws);

    // Every bracket was closed: the patches' by the session's next event.
    let brackets: Vec<String> = conn
        .prepare("SELECT kind || ' ' || close_reason FROM hook_brackets ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        brackets,
        [
            "file next_event",
            "file next_event",
            "shell post",
            "shell post"
        ]
    );
}
