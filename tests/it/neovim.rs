//! A real LSP client: headless Neovim (Debian's 0.7 in CI) with the plugin from `editors/neovim`,
//! set up as the README says, drives `prodcode lsp` through a scripted session
//! (`tests/data/neovim_session.lua`); the store is then read back through the CLI.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Workspace, bin};

/// Runs the scripted session on `file` and returns what it wrote.
fn run_session(ws: &Workspace, file: &Path) -> Value {
    let out = ws.path("../nvim-out.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/neovim_session.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!("luafile {script}"))
        .env("PRODCODE_BIN", bin())
        .env("PRODCODE_TEST_DB", &ws.db)
        .env("PRODCODE_FILE", file)
        .env("PRODCODE_OUT", &out)
        .env(
            "PRODCODE_PLUGIN",
            concat!(env!("CARGO_MANIFEST_DIR"), "/editors/neovim"),
        )
        .env_remove("PRODCODE_DB")
        .env_remove("PRODCODE_INTERACTION_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nvim is not installed: `.ci/run` installs Debian's neovim");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("nvim did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

/// Issue 15: the README's setup records a session (its old snippet attached no buffer, so a new
/// user recorded nothing), with the prompt, the AI edits at the right UTF-16 columns, a
/// completion accept, signs on exactly the AI lines, the prompt on demand, the status, and a
/// tool call under its interaction.
#[test]
fn the_neovim_plugin_records_a_session_end_to_end() {
    let ws = Workspace::new();
    let file = ws.write("main.rs", "fn main() { let s = \"é😀\"; }\n");
    let answer = run_session(&ws, &file);
    assert_eq!(answer["ok"], true, "{answer}");
    let id = answer["interaction"].as_str().unwrap().to_owned();

    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "// typed by a person: café\nfn main() { let s = \"é😀\"; }\nfn helper() {}\n\
         fn hé😀() {} // ✓\nfn completed() {}\n"
    );

    // The store, through the CLI: typed line human, the AI's under the prompt's interaction,
    // the accepted completion under an interaction of its own.
    let blame = ws.prodcode_json(&["blame", file.to_str().unwrap(), "--json"]);
    let lines: Vec<(&str, Option<&str>)> = blame["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["class"].as_str().unwrap(),
                line["interactionId"].as_str(),
            )
        })
        .collect();
    let completion = lines[4].1.expect("the completion has an interaction");
    assert_ne!(completion, id);
    assert_eq!(
        lines,
        [
            ("human", None),
            ("untracked", None),
            ("ai", Some(id.as_str())),
            ("ai", Some(id.as_str())),
            ("ai", Some(completion)),
        ],
        "{blame}"
    );

    // Byte columns in Neovim, UTF-16 columns on the wire: `fn hé😀() {}` is 15 bytes and 12
    // UTF-16 units, ` // ✓` 7 bytes and 5 units.
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    let payloads: Vec<Value> = conn
        .prepare("SELECT payload FROM events WHERE kind = 'prodcode.aiEditApplied' ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|payload| serde_json::from_str(&payload.unwrap()).unwrap())
        .collect();
    let ranges: Vec<&Value> = payloads
        .iter()
        .map(|payload| &payload["params"]["ranges"])
        .collect();
    assert_eq!(
        ranges,
        [
            &json!([{ "start": { "line": 2, "character": 0 }, "end": { "line": 4, "character": 0 } }]),
            &json!([{ "start": { "line": 3, "character": 12 }, "end": { "line": 3, "character": 17 } }]),
        ]
    );

    // The log: the prompt, and the tool call the plugin made under it.
    let log = ws.prodcode_json(&["log", "--json"]);
    let interaction = log["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|interaction| interaction["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} is not in the log: {log}"));
    assert_eq!(interaction["prompts"][0]["text"], "add two helpers");
    assert_eq!(interaction["toolCalls"][0]["tool"], "search", "{log}");
    assert_eq!(interaction["toolCalls"][0]["outcome"], "ok", "{log}");
    assert_eq!(answer["tool"]["isError"], false, "{answer}");
    assert_eq!(
        answer["tool"]["structuredContent"]["matches"][0]["line"], 3,
        "{answer}"
    );

    // :ProdcodeBlame signed exactly the AI lines, and toggled them off again.
    assert_eq!(
        answer["signs"],
        json!([
            { "row": 2, "text": "AI" },
            { "row": 3, "text": "AI" },
            { "row": 4, "text": "AI" },
        ]),
        "{answer}"
    );
    assert_eq!(answer["signs_after_off"], 0);

    // The prompt on demand, for an AI line; a human line says so.
    let prompt = answer["prompt_float"][0].as_str().unwrap_or_default();
    assert!(prompt.contains("add two helpers"), "{answer}");
    assert!(prompt.contains(&id), "{answer}");
    let human = answer["human_float"][0].as_str().unwrap_or_default();
    assert!(human.contains("human"), "{answer}");
    assert!(!human.contains("add two helpers"), "{answer}");

    // :ProdcodeStatus answered from the daemon on the test's database.
    let status = answer["status_float"][0].as_str().unwrap_or_default();
    assert!(status.contains(ws.db.to_str().unwrap()), "{answer}");
    assert_eq!(answer["status"]["databasePath"], ws.db.to_str().unwrap());
    assert_eq!(answer["status"]["positionEncoding"], "utf-16");
    assert_eq!(
        answer["status"]["workspaceRoots"],
        json!([ws.root.to_str().unwrap()])
    );
    assert!(
        answer["status"]["counts"]["durableEvents"]
            .as_u64()
            .unwrap()
            > 5,
        "{answer}"
    );
}
