//! The real Gemini CLI (the pinned npm package `.ci/tools.sh` installs), its hooks written by
//! `prodcode install gemini` into a private HOME, run headless (`gemini -p`) against a scripted
//! Gemini API on loopback (`GOOGLE_GEMINI_BASE_URL`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::live_claude::{
    assert_committed_as_the_sessions_lines, assert_scripted_lines_are_the_sessions,
    assert_scripted_turn_ran, run_with_limit,
};
use crate::model_server::{ModelServer, Request, Response, gemini_chunk};
use crate::support::{Workspace, bin, missing, tool_on_path};

fn scripted_turn(root: &Path) -> Vec<Vec<Value>> {
    let file = |name: &str| root.join(name).to_string_lossy().into_owned();
    let call =
        |name: &str, args: Value| vec![json!({ "functionCall": { "name": name, "args": args } })];
    vec![
        call(
            "write_file",
            json!({ "file_path": file("calc.py"),
            "content": "def add(a, b):\n    return a + b\n" }),
        ),
        call(
            "replace",
            json!({ "file_path": file("calc.py"), "instruction": "add sub",
            "old_string": "    return a + b\n",
            "new_string": "    return a + b\n\n\ndef sub(a, b):\n    return a - b\n" }),
        ),
        call(
            "run_shell_command",
            json!({ "command": "printf 'VERSION = 1\\n' > version.py",
            "description": "write version.py" }),
        ),
        call(
            "run_shell_command",
            json!({ "command": "exit 3", "description": "fails" }),
        ),
        vec![json!({ "text": "Done: calc.py has add and sub." })],
    ]
}

/// The main conversation (requests offering tools) follows the script by the number of tool
/// results sent back; anything else (a next-speaker check, token counts) gets a short answer.
fn respond(script: &[Vec<Value>], request: &Request) -> Response {
    let body = &request.body;
    if request.path.contains(":countTokens") {
        return Response::Json(200, json!({ "totalTokens": 10 }));
    }
    let offers_tools = body["tools"]
        .as_array()
        .is_some_and(|tools| !tools.is_empty());
    let parts = if offers_tools {
        let results = body["contents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|content| content["parts"].as_array())
            .flatten()
            .filter(|part| part.get("functionResponse").is_some())
            .count();
        script[results.min(script.len() - 1)].clone()
    } else {
        vec![
            json!({ "text": "{\"reasoning\": \"the model finished\", \"next_speaker\": \"user\"}" }),
        ]
    };
    if request.path.contains(":streamGenerateContent") {
        gemini_chunk(&parts)
    } else {
        Response::Json(
            200,
            json!({ "candidates": [{ "content": { "role": "model", "parts": parts },
                     "finishReason": "STOP", "index": 0 }] }),
        )
    }
}

#[test]
fn a_real_gemini_cli_turn_is_recorded_line_by_line() {
    let Some(gemini) = tool_on_path("gemini") else {
        missing("gemini (npm @google/gemini-cli)");
        return;
    };
    let ws = Workspace::new();
    let home = ws.db.parent().unwrap().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let install = Command::new(bin())
        .args(["install", "gemini"])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    // What a person picks in Gemini CLI's first-run screens: an API key, this folder trusted,
    // no telemetry, no update checks. prodcode's hooks stay as `install` wrote them.
    let settings_path = home.join(".gemini/settings.json");
    let mut settings: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings_path).unwrap()).unwrap();
    settings["security"] = json!({ "auth": { "selectedType": "gemini-api-key" },
                                   "folderTrust": { "enabled": false } });
    settings["telemetry"] = json!({ "enabled": false });
    settings["privacy"] = json!({ "usageStatisticsEnabled": false });
    settings["general"] = json!({ "disableAutoUpdate": true, "disableUpdateNag": true });
    std::fs::write(&settings_path, settings.to_string()).unwrap();

    let script = scripted_turn(&ws.root);
    let server = ModelServer::start(move |request| respond(&script, request));
    let prompt = "Write calc.py with add and sub, and record a version file";
    let mut command = Command::new(&gemini);
    command
        .args(["-p", prompt, "--yolo", "-m", "gemini-2.5-pro"])
        .current_dir(&ws.root)
        .env("HOME", &home)
        .env("PRODCODE_DB", &ws.db)
        .env("GOOGLE_GEMINI_BASE_URL", server.url())
        .env("GEMINI_API_KEY", "scripted-key")
        .env("GEMINI_CLI_NO_RELAUNCH", "true")
        .env_remove("GOOGLE_API_KEY")
        .env_remove("GOOGLE_CLOUD_PROJECT");
    let output = run_with_limit(command, Duration::from_secs(120));
    assert_scripted_turn_ran("gemini -p", &output, &ws);
    assert!(
        server
            .requests()
            .iter()
            .all(|request| request.method == "POST")
    );

    let log = ws.prodcode_json(&["log", "--json"]);
    let interactions = log["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 1, "{log:#}");
    assert_eq!(interactions[0]["agent"], "gemini-cli");
    assert_eq!(interactions[0]["prompts"][0]["text"], prompt);
    let id = interactions[0]["id"].as_str().unwrap().to_owned();
    assert_scripted_lines_are_the_sessions(&ws, &id);
    assert_committed_as_the_sessions_lines(&ws);
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    let open: i64 = conn
        .query_row(
            "SELECT count(*) FROM hook_brackets WHERE closed_ms IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(open, 0);
}
