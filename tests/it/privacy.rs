//! Issue 13: no secret in plain text, whichever way it arrives. Every secret shape of
//! `tests/data/secrets.json` goes through every capture channel (LSP prompts and
//! `workspace/executeCommand`, MCP `tools/call`, `prodcode tool`, agent hooks whose JSON escapes
//! its strings, transcript import); then every byte of the database, its WAL, the spool and the
//! logs is searched for each secret.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::mcp::RawServer;
use crate::support::{Workspace, bin, run_hook};

struct Shape {
    kind: String,
    text: String,
    secret: String,
}

fn shapes() -> Vec<Shape> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/secrets.json"),
    )
    .unwrap();
    let shapes: Vec<Value> = serde_json::from_str(&text).unwrap();
    shapes
        .iter()
        .map(|shape| Shape {
            kind: shape["kind"].as_str().unwrap().to_owned(),
            text: shape["text"].as_str().unwrap().to_owned(),
            secret: shape["secret"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// A JSON string as a cautious encoder writes it: `\/` for every slash and `\u00XX` for every
/// other ASCII punctuation character (PHP and Go write some of these; any encoder may).
fn escaped_json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '/' => out.push_str("\\/"),
            '"' | '\\' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if c.is_ascii_punctuation() || c.is_ascii_control() => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What must not appear anywhere: the secret, and each long run of letters and digits in it
/// (which no JSON escape changes, so an escaped copy is found too).
fn needles(secret: &str) -> Vec<String> {
    let mut needles = vec![secret.to_owned()];
    needles.extend(
        secret
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|run| run.len() >= 8)
            .map(str::to_owned),
    );
    needles
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_secret_is_stored_in_plain_text_whichever_way_it_arrives() {
    let ws = Workspace::new();
    let shapes = shapes();
    assert!(shapes.len() >= 19);
    let root = ws.root.to_string_lossy().into_owned();

    // LSP: prompts, and tool calls through workspace/executeCommand.
    let mut client = ws.daemon();
    for (index, shape) in shapes.iter().enumerate() {
        client
            .notify(
                "prodcode/promptSubmitted",
                json!({ "interactionId": format!("lsp-{index}"),
                        "prompt": format!("Please deploy with {}", shape.text) }),
            )
            .unwrap();
        let call = client
            .send_request(
                "workspace/executeCommand",
                json!({ "command": "prodcode.search", "arguments": [{ "pattern": shape.text }] }),
            )
            .unwrap();
        client.wait_response(call).unwrap();
    }
    assert!(client.shutdown().unwrap().success());

    // MCP over stdio: arguments, and a tool name that carries a secret.
    let mut server = RawServer::start(&ws);
    server.initialize();
    for (index, shape) in shapes.iter().enumerate() {
        let id = 100 + index;
        let call = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": "search", "arguments": { "pattern": shape.text } } });
        server.send(call.to_string().as_bytes());
        assert_eq!(server.next()["id"], id);
        let call = json!({ "jsonrpc": "2.0", "id": id + 1000, "method": "tools/call",
            "params": { "name": shape.text, "arguments": {} } });
        server.send(call.to_string().as_bytes());
        assert_eq!(server.next()["id"], id + 1000);
    }
    server.close_promptly();

    // `prodcode tool`.
    for shape in &shapes {
        let arguments = json!({ "pattern": shape.text }).to_string();
        ws.prodcode(&["tool", "search", "--workspace", &root, "--args", &arguments]);
    }

    // Agent hooks whose JSON escapes slashes and punctuation: a prompt and a shell command.
    for (index, shape) in shapes.iter().enumerate() {
        let session = escaped_json_string(&format!("s-escaped-{index}"));
        let cwd = escaped_json_string(&root);
        let prompt = escaped_json_string(&format!("Please deploy with {}", shape.text));
        let payload = format!(
            r#"{{"session_id":{session},"cwd":{cwd},"hook_event_name":"UserPromptSubmit","prompt":{prompt}}}"#
        );
        let parsed: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(
            parsed["prompt"],
            format!("Please deploy with {}", shape.text)
        );
        run_hook(&ws.db, &ws.root, "claude", &payload);
        let command = escaped_json_string(&format!("echo '{}' > /dev/null", shape.text));
        let payload = format!(
            r#"{{"session_id":{session},"cwd":{cwd},"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{{"command":{command}}}}}"#
        );
        run_hook(&ws.db, &ws.root, "claude", &payload);
    }

    // Transcript import.
    let transcripts = tempfile::tempdir().unwrap();
    let session = "7d1f0c2a-3b4c-4d5e-8f60-718293a4b5c6";
    let lines: Vec<String> = shapes
        .iter()
        .enumerate()
        .map(|(index, shape)| {
            json!({ "parentUuid": null, "isSidechain": false, "userType": "external",
                "cwd": root, "sessionId": session, "version": "1.0.80", "gitBranch": "main",
                "type": "user",
                "message": { "role": "user", "content": format!("Please deploy with {}", shape.text) },
                "uuid": format!("e5000000-0000-4000-8000-{index:012}"),
                "timestamp": format!("2025-08-11T08:{index:02}:00.000Z") })
            .to_string()
        })
        .collect();
    let transcript = transcripts.path().join(format!("{session}.jsonl"));
    std::fs::write(&transcript, lines.join("\n") + "\n").unwrap();
    let output = Command::new(bin())
        .args(["import", "claude"])
        .arg(&transcript)
        .arg("--db")
        .arg(&ws.db)
        .env_remove("PRODCODE_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Every channel recorded something: the test would prove nothing otherwise.
    let connection = rusqlite::Connection::open(&ws.db).unwrap();
    let count = |sql: &str| -> i64 { connection.query_row(sql, [], |row| row.get(0)).unwrap() };
    let n = shapes.len() as i64;
    let prompts = |like: &str| {
        count(&format!(
            "SELECT count(*) FROM prompts WHERE interaction_id LIKE '{like}'"
        ))
    };
    assert_eq!(prompts("lsp-%"), n);
    assert_eq!(prompts("claude:s-escaped-%"), n);
    assert_eq!(prompts(&format!("claude:{session}")), n);
    assert_eq!(
        count("SELECT count(*) FROM tool_calls WHERE front = 'lsp'"),
        n
    );
    assert_eq!(
        count("SELECT count(*) FROM tool_calls WHERE front = 'mcp'"),
        2 * n
    );
    assert_eq!(
        count("SELECT count(*) FROM tool_calls WHERE front = 'cli'"),
        n
    );
    assert_eq!(
        count("SELECT count(*) FROM prompts WHERE text LIKE '%[REDACTED:%'"),
        count("SELECT count(*) FROM prompts")
    );
    drop(connection);

    // No secret in any byte of the store, its WAL, the spool or the logs.
    let mut files = Vec::new();
    files_under(ws.db.parent().unwrap(), &mut files);
    files.retain(|path| !path.starts_with(&ws.root));
    assert!(files.iter().any(|path| path == &ws.db), "{files:?}");
    let mut leaks = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        for shape in &shapes {
            for needle in needles(&shape.secret) {
                if bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes())
                {
                    leaks.push(format!("{} ({needle}) in {}", shape.kind, path.display()));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "secrets stored in plain text:\n{}",
        leaks.join("\n")
    );
}
