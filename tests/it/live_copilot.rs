//! The real GitHub Copilot CLI (the pinned npm package `.ci/tools.sh` installs), its hooks
//! written by `prodcode install copilot` into a private HOME, run headless (`copilot -p`) with
//! its own-model provider pointed at a scripted Anthropic Messages API on loopback and offline
//! mode on (no GitHub sign-in, no GitHub traffic).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::live_claude::{
    assert_committed_as_the_sessions_lines, assert_scripted_lines_are_the_sessions,
    assert_scripted_turn_ran, respond, run_with_limit,
};
use crate::model_server::ModelServer;
use crate::support::{Workspace, bin, missing, tool_on_path};

fn scripted_turn(root: &Path) -> Vec<Vec<Value>> {
    let file = |name: &str| root.join(name).to_string_lossy().into_owned();
    let call = |id: &str, name: &str, input: Value| {
        vec![json!({ "type": "tool_use", "id": id, "name": name, "input": input })]
    };
    vec![
        call(
            "toolu_c",
            "create",
            json!({ "path": file("calc.py"),
            "file_text": "def add(a, b):\n    return a + b\n" }),
        ),
        call(
            "toolu_e",
            "edit",
            json!({ "path": file("calc.py"), "old_str": "    return a + b\n",
            "new_str": "    return a + b\n\n\ndef sub(a, b):\n    return a - b\n" }),
        ),
        call(
            "toolu_b",
            "bash",
            json!({ "command": "printf 'VERSION = 1\\n' > version.py",
            "description": "write version.py" }),
        ),
        call(
            "toolu_f",
            "bash",
            json!({ "command": "exit 3", "description": "fails" }),
        ),
        vec![json!({ "type": "text", "text": "Done: calc.py has add and sub." })],
    ]
}

#[test]
fn a_real_copilot_cli_turn_is_recorded_line_by_line() {
    let Some(copilot) = tool_on_path("copilot") else {
        missing("copilot (npm @github/copilot)");
        return;
    };
    let ws = Workspace::new();
    let home = ws.db.parent().unwrap().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let install = Command::new(bin())
        .args(["install", "copilot"])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let script = scripted_turn(&ws.root);
    let server = ModelServer::start(move |request| respond("create", &script, request));

    let prompt = "Write calc.py with add and sub, and record a version file";
    let mut command = Command::new(&copilot);
    command
        .args(["-p", prompt, "--allow-all-tools"])
        .current_dir(&ws.root)
        .env("HOME", &home)
        .env("PRODCODE_DB", &ws.db)
        .env("COPILOT_PROVIDER_BASE_URL", server.url())
        .env("COPILOT_PROVIDER_TYPE", "anthropic")
        .env("COPILOT_PROVIDER_API_KEY", "sk-ant-scripted")
        .env("COPILOT_MODEL", "claude-opus-4-5")
        .env("COPILOT_OFFLINE", "true")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN");
    let output = run_with_limit(command, Duration::from_secs(120));
    assert_scripted_turn_ran("copilot -p", &output, &ws);

    let log = ws.prodcode_json(&["log", "--json"]);
    let interactions = log["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 1, "{log:#}");
    assert_eq!(interactions[0]["prompts"][0]["text"], prompt);
    let id = interactions[0]["id"].as_str().unwrap().to_owned();
    assert_scripted_lines_are_the_sessions(&ws, &id);
    assert_committed_as_the_sessions_lines(&ws);
}
