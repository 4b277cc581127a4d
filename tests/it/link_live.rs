//! Linking without anybody running `prodcode link`: the daemon watching its workspace's refs,
//! and the `post-commit` hook that `prodcode install git` writes. Both work after git is done,
//! so these tests wait (up to a deadline) for the commit to show up in `prodcode stats`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Workspace, git, git_env, open};

/// Waits until `prodcode stats` of `rev` reports a linked commit; its JSON, or a panic saying
/// what the last answer was.
fn wait_linked(ws: &Workspace, rev: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    let root = ws.root.to_string_lossy().into_owned();
    loop {
        let output = ws.prodcode(&["stats", rev, "--repo", &root, "--json"]);
        let json: Option<Value> = serde_json::from_slice(&output.stdout).ok();
        if let Some(json) = &json
            && json["commits"] == 1
            && json["unlinked"] == 0
        {
            return json.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{rev} was never linked: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_daemon_links_a_commit_made_while_it_watches() {
    let ws = Workspace::new();
    let mut daemon = ws.daemon();
    let status = daemon.request("prodcode/status", Value::Null).unwrap();
    assert_eq!(
        status["linkedRepositories"],
        serde_json::json!([ws.root.to_str().unwrap()]),
        "{status}"
    );
    // A person types two lines in the editor and saves; then commits from a terminal.
    let file = ws.write("notes.txt", "");
    let uri = ws.uri("notes.txt");
    open(&mut daemon, &uri, "");
    crate::support::change(
        &mut daemon,
        &uri,
        2,
        (0, 0),
        (0, 0),
        "typed one\ntyped two\n",
    );
    std::fs::write(&file, "typed one\ntyped two\n").unwrap();
    daemon
        .notify(
            "textDocument/didSave",
            serde_json::json!({ "textDocument": { "uri": uri } }),
        )
        .unwrap();
    daemon
        .notify(
            "textDocument/didClose",
            serde_json::json!({ "textDocument": { "uri": uri } }),
        )
        .unwrap();
    daemon.request("prodcode/status", Value::Null).unwrap();
    git(&ws.root, &["add", "notes.txt"]);
    git(&ws.root, &["commit", "-q", "-m", "notes"]);
    let stats = wait_linked(&ws, "HEAD");
    assert_eq!(stats["lines"]["human"], 2, "{stats}");
    assert_eq!(stats["lines"]["added"], 2, "{stats}");
    daemon.shutdown().unwrap();
}

#[test]
fn the_post_commit_hook_links_in_the_background() {
    let ws = Workspace::new();
    let output = std::process::Command::new(crate::support::bin())
        .args(["install", "git", "--project-dir"])
        .arg(&ws.root)
        .env("PRODCODE_DB", &ws.db)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    ws.write("a.txt", "one line\n");
    let db = ws.db.to_string_lossy().into_owned();
    let env = [("PRODCODE_DB", db.as_str())];
    git_env(&ws.root, &env, &["add", "a.txt"]);
    git_env(&ws.root, &env, &["commit", "-q", "-m", "a"]);
    let stats = wait_linked(&ws, "HEAD");
    // Nothing recorded the file: linked, and honestly untracked.
    assert_eq!(stats["lines"]["untracked"], 1, "{stats}");
    assert!(Path::new(&ws.db).exists());
}
