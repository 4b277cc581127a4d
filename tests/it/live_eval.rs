//! The `claude` and `codex` presets of `prodcode eval` with the real CLIs (the pinned npm
//! packages) against a scripted model server on loopback: their real output is read into the
//! right tool calls, turns and tokens, and the `ide` harness's MCP configuration is really loaded
//! (the model is offered prodcode's tools and a call reaches the store under the run).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::live_claude::run_with_limit;
use crate::model_server::{ModelServer, Request, Response, anthropic_message};
use crate::support::{Workspace, bin, missing, tool_on_path};

const CLAMP: &str = "printf '\\n\\ndef clamp(value, low, high):\\n    return max(low, min(value, high))\\n' >> calc/ops.py";

/// The id of the task whose prompt asks for `clamp`.
fn clamp_task(tasks: &Path) -> String {
    std::fs::read_dir(tasks.join("tasks"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|id| {
            std::fs::read_to_string(tasks.join("tasks").join(id).join("task.json"))
                .unwrap()
                .contains("clamp(")
        })
        .unwrap()
}

fn eval(ws: &Workspace, tasks: &Path, out: &Path, agent: &str, env: &[(&str, String)]) -> Value {
    let task = clamp_task(tasks);
    let mut command = Command::new(bin());
    command
        .args(["eval", "--tasks"])
        .arg(tasks)
        .arg("--out")
        .arg(out)
        .args([
            "--runs",
            "1",
            "--harness",
            "ide",
            "--timeout",
            "120",
            "--task",
            &task,
            "--agent",
            agent,
        ])
        .arg("--db")
        .arg(&ws.db)
        .env_remove("PRODCODE_DB")
        .env("PRODCODE_CACHE_DIR", ws.db.parent().unwrap().join("cache"));
    for (name, value) in env {
        command.env(name, value);
    }
    let output = run_with_limit(command, Duration::from_secs(300));
    assert!(
        output.status.success(),
        "eval: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    let run = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap()).unwrap()
}

fn kinds(result: &Value) -> Vec<String> {
    result["trace"]["toolCalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn claude_respond(request: &Request) -> Response {
    let body = &request.body;
    if !request.path.starts_with("/v1/messages") || body.is_null() {
        return Response::Json(404, json!({ "error": "not scripted" }));
    }
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    if !tools.contains(&"Bash") {
        return anthropic_message(&[json!({ "type": "text", "text": "ok" })], "end_turn");
    }
    let results = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|message| message["role"] == "user")
        .filter_map(|message| message["content"].as_array())
        .flatten()
        .filter(|block| block["type"] == "tool_result")
        .count();
    let bash = |id: &str, command: &str| json!({ "type": "tool_use", "id": id, "name": "Bash", "input": { "command": command, "description": "step" } });
    let step = match results {
        0 => bash("toolu_cat", "cat calc/ops.py"),
        1 => bash("toolu_fix", CLAMP),
        2 => bash("toolu_test", "python3 -m pytest -q"),
        // Offered only when the MCP configuration was loaded.
        3 => {
            json!({ "type": "tool_use", "id": "toolu_mcp", "name": "mcp__prodcode__run_tests", "input": {} })
        }
        _ => json!({ "type": "text", "text": format!("Done. Tools offered: {}", tools.join(",")) }),
    };
    let stop = if step["type"] == "tool_use" {
        "tool_use"
    } else {
        "end_turn"
    };
    anthropic_message(&[step], stop)
}

#[test]
fn the_claude_preset_runs_the_real_cli_with_prodcodes_tools_and_its_trace_is_read() {
    let Some(_claude) = tool_on_path("claude") else {
        missing("claude (npm @anthropic-ai/claude-code)");
        return;
    };
    let Some((ws, tasks)) = crate::eval::curated() else {
        return;
    };
    let home = ws.db.parent().unwrap().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let server = ModelServer::start(claude_respond);
    let out = ws.db.parent().unwrap().join("eval-claude");
    let result = eval(
        &ws,
        &tasks,
        &out,
        "claude",
        &[
            ("HOME", home.to_string_lossy().into_owned()),
            ("ANTHROPIC_BASE_URL", server.url()),
            ("ANTHROPIC_API_KEY", "sk-ant-scripted".to_owned()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_owned()),
            ("DISABLE_TELEMETRY", "1".to_owned()),
            ("DISABLE_AUTOUPDATER", "1".to_owned()),
        ],
    );
    assert_eq!(result["outcome"], "resolved", "{result:#}");
    let trace = &result["trace"];
    // Five assistant messages: four tool calls and the closing text.
    assert_eq!(trace["turns"], 5, "{trace:#}");
    assert_eq!(trace["model"], "claude-scripted");
    assert_eq!(trace["ended"], "success");
    // The scripted server's usage, once per message: 10 input and 1 output token each.
    assert_eq!(
        trace["tokens"],
        json!({ "input": 50, "cached": 0, "output": 5 })
    );
    assert!(trace["costUsd"].as_f64().unwrap() > 0.0);
    assert_eq!(kinds(&result), ["read", "shell", "run_tests", "run_tests"]);
    // prodcode's tool was loaded from the ide harness's configuration and recorded under the run.
    assert_eq!(
        result["prodcodeToolCalls"],
        json!({ "run_tests": 1 }),
        "{result:#}"
    );
    assert_eq!(result["validated"], true);
    let command: Vec<&str> = result["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(command.contains(&"--mcp-config"), "{command:?}");
}

const CODEX_MODEL: &str = "prodcode-scripted-model";

fn codex_exec(call: &str, cmd: &str) -> Value {
    json!({
        "type": "function_call", "id": format!("fc_{call}"), "call_id": call,
        "name": "exec_command", "arguments": json!({ "cmd": cmd }).to_string()
    })
}

fn codex_respond(request: &Request) -> Response {
    if request.method != "POST" || !request.path.ends_with("/responses") {
        return Response::Json(404, json!({ "error": { "message": "not scripted" } }));
    }
    let tools: Vec<String> = request.body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tool| {
            tool["name"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| tool.to_string())
        })
        .collect();
    let outputs = request.body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["type"] == "function_call_output")
        .count();
    let item = match outputs {
        0 => codex_exec("call_cat", "cat calc/ops.py"),
        1 => codex_exec("call_fix", CLAMP),
        2 => codex_exec("call_test", "python3 -m pytest -q"),
        // Codex offers an MCP server's tools as one namespace tool, `mcp__<server>`.
        3 => json!({
            "type": "function_call", "id": "fc_call_mcp", "call_id": "call_mcp",
            "namespace": "mcp__prodcode", "name": "run_tests", "arguments": "{}"
        }),
        _ => json!({
            "type": "message", "id": "msg_done", "role": "assistant",
            "content": [{ "type": "output_text", "text": format!("Done. Tools offered: {}", tools.join(",")) }]
        }),
    };
    crate::model_server::openai_response(&format!("resp_{outputs}"), &[item])
}

#[test]
fn the_codex_preset_runs_the_real_cli_with_prodcodes_tools_and_its_trace_is_read() {
    let Some(_codex) = tool_on_path("codex") else {
        missing("codex (npm @openai/codex)");
        return;
    };
    let Some((ws, tasks)) = crate::eval::curated() else {
        return;
    };
    let home = ws.db.parent().unwrap().join("home");
    let codex_home = home.join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let server = ModelServer::start(codex_respond);
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            "model = \"{CODEX_MODEL}\"\nmodel_provider = \"scripted\"\ncheck_for_update_on_startup = false\n\n[model_providers.scripted]\nname = \"scripted\"\nbase_url = \"{}/v1\"\nwire_api = \"responses\"\nenv_key = \"PRODCODE_SCRIPTED_KEY\"\n\n[analytics]\nenabled = false\n",
            server.url()
        ),
    )
    .unwrap();
    let out = ws.db.parent().unwrap().join("eval-codex");
    let result = eval(
        &ws,
        &tasks,
        &out,
        "codex",
        &[
            ("HOME", home.to_string_lossy().into_owned()),
            ("CODEX_HOME", codex_home.to_string_lossy().into_owned()),
            ("PRODCODE_SCRIPTED_KEY", "sk-scripted-codex".to_owned()),
        ],
    );
    assert_eq!(result["outcome"], "resolved", "{result:#}");
    let trace = &result["trace"];
    assert_eq!(trace["format"], "codex");
    assert_eq!(trace["turns"], 1, "{trace:#}");
    // Codex adds up the scripted server's usage over the turn's five responses.
    assert_eq!(
        trace["tokens"],
        json!({ "input": 50, "cached": 0, "output": 25 })
    );
    assert_eq!(kinds(&result), ["read", "shell", "run_tests", "run_tests"]);
    assert_eq!(
        result["prodcodeToolCalls"],
        json!({ "run_tests": 1 }),
        "{result:#}"
    );
    assert_eq!(result["validated"], true);
    let command = result["command"].to_string();
    assert!(
        command.contains("mcp_servers.prodcode.command="),
        "{command}"
    );
}
