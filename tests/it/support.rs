//! Shared fixtures: a git repository in a temporary directory, the daemon, the CLI.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use prodcode::lsp::client::StdioClient;
use prodcode::lsp::conv::path_to_uri;
use serde_json::{Value, json};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_prodcode"))
}

pub struct Workspace {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub db: PathBuf,
    pub logs: PathBuf,
}

impl Workspace {
    /// A git repository with one commit, and a database beside it.
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("repo");
        std::fs::create_dir(&root).unwrap();
        git(&root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join("README"), "sample\n").unwrap();
        git(&root, &["add", "."]);
        git(&root, &["commit", "-q", "-m", "init"]);
        Workspace {
            db: base.join("prodcode.db"),
            logs: base.join("logs"),
            root,
            _dir: dir,
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn uri(&self, relative: &str) -> String {
        path_to_uri(&self.path(relative))
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts `prodcode lsp` on this workspace's database, initialized with UTF-16 positions.
    pub fn daemon(&self) -> StdioClient {
        let mut client = self.spawn_daemon();
        let result = client
            .initialize(
                &self.root,
                json!({ "general": { "positionEncodings": ["utf-16"] } }),
            )
            .unwrap();
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
        client
    }

    pub fn spawn_daemon(&self) -> StdioClient {
        std::fs::create_dir_all(&self.logs).unwrap();
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.logs.join("daemon.log"))
            .unwrap();
        let db = self.db.to_string_lossy().into_owned();
        StdioClient::spawn(&bin(), &["lsp", "--db", &db], &[], Stdio::from(log)).unwrap()
    }

    /// Runs `prodcode ARGS… --db <db>` and returns its output.
    pub fn prodcode(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .env_remove("PRODCODE_DB")
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed and prints JSON; returns the JSON.
    pub fn prodcode_json(&self, args: &[&str]) -> Value {
        let output = self.prodcode(args);
        assert!(
            output.status.success(),
            "prodcode {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn open(client: &mut StdioClient, uri: &str, text: &str) {
    client
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
        )
        .unwrap();
}

/// One incremental change: replace `start..end` (line, UTF-16 column) with `text`.
pub fn change(
    client: &mut StdioClient,
    uri: &str,
    version: i32,
    start: (u32, u32),
    end: (u32, u32),
    text: &str,
) {
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "range": range(start, end), "text": text }],
            }),
        )
        .unwrap();
}

/// `prodcode/aiEditApplied` for whole lines `first..end` (end exclusive) of `version`.
pub fn ai_lines(
    client: &mut StdioClient,
    interaction: &str,
    uri: &str,
    version: i32,
    first: u32,
    end: u32,
) {
    client
        .notify(
            "prodcode/aiEditApplied",
            json!({
                "interactionId": interaction,
                "textDocument": { "uri": uri, "version": version },
                "ranges": [range((first, 0), (end, 0))],
            }),
        )
        .unwrap();
}

pub fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({
        "start": { "line": start.0, "character": start.1 },
        "end": { "line": end.0, "character": end.1 },
    })
}

pub fn provenance(client: &mut StdioClient, uri: &str) -> Value {
    client
        .request(
            "prodcode/provenance",
            json!({ "textDocument": { "uri": uri } }),
        )
        .unwrap()
}

/// A provenance answer as compact `(first line, last line, class, interaction)` rows, for
/// readable assertions; lines are 0-based and the last line inclusive.
pub fn rows(provenance: &Value) -> Vec<(u64, u64, String, String)> {
    provenance["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|range| {
            let start = range["range"]["start"]["line"].as_u64().unwrap();
            let end = &range["range"]["end"];
            let last = if end["character"] == 0 {
                end["line"].as_u64().unwrap() - 1
            } else {
                end["line"].as_u64().unwrap()
            };
            (
                start,
                last,
                range["class"].as_str().unwrap().to_owned(),
                range["interactionId"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}
