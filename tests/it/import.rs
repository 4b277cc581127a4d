//! `prodcode import claude|codex` through the real binary, on the transcripts in
//! `tests/data/import/` copied into a temporary home (their `@REPO@`, `@OUTSIDE@` and `@OPTOUT@`
//! placeholders become a real git repository, a directory outside any repository, and a
//! repository that opted out of capture).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::{Workspace, bin, git};

const CLAUDE_A: &str = "5f0c1a2e-7b3d-4c1e-9a8f-1d2e3f4a5b6c";
const CLAUDE_B: &str = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const CLAUDE_GONE: &str = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a";
const CLAUDE_OPTED_OUT: &str = "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6";
const CODEX_E: &str = "019a2f10-5c3e-7b21-9d4a-0c1b2a3d4e5f";
const CODEX_LEGACY: &str = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e";
/// A rollout Codex 0.171 wrote in `tests/it/live_codex.rs`'s scripted turn.
const CODEX_171: &str = "01a244cf-8c8b-7f72-9cb9-08051ff920d6";

const CLAUDE_SUMMARY: &str = "3 sessions, 5 prompts, 7 edits, 4 skipped: 2 in opted-out repositories, 1 failed edit, 1 malformed line";
const CODEX_SUMMARY: &str =
    "2 sessions, 3 prompts, 4 edits, 2 skipped: 1 failed edit, 1 malformed line";

/// A workspace whose home holds the fixture transcripts of both agents.
struct Agents {
    ws: Workspace,
    base: PathBuf,
    outside: PathBuf,
}

impl Agents {
    fn new() -> Agents {
        let ws = Workspace::new();
        let base = ws.root.parent().unwrap().to_owned();
        let outside = base.join("outside");
        std::fs::create_dir(&outside).unwrap();
        let opted_out = base.join("private");
        std::fs::create_dir(&opted_out).unwrap();
        git(&opted_out, &["init", "-q", "-b", "main"]);
        std::fs::write(opted_out.join(".prodcode-ignore"), "").unwrap();
        std::fs::create_dir(base.join("home")).unwrap();
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import");
        let replacements = [
            ("@REPO@", ws.root.to_str().unwrap().to_owned()),
            ("@OUTSIDE@", outside.to_str().unwrap().to_owned()),
            ("@OPTOUT@", opted_out.to_str().unwrap().to_owned()),
        ];
        copy_tree(&data, &base.join("agents"), &replacements);
        Agents { ws, base, outside }
    }

    fn claude_dir(&self) -> PathBuf {
        self.base.join("agents/claude")
    }

    fn codex_dir(&self) -> PathBuf {
        self.base.join("agents/codex")
    }

    fn claude_session(&self, id: &str) -> PathBuf {
        self.claude_dir().join(format!("projects/-REPO/{id}.jsonl"))
    }

    fn codex_rollout(&self) -> PathBuf {
        self.codex_dir().join(format!(
            "sessions/2025/10/29/rollout-2025-10-29T10-15-00-{CODEX_E}.jsonl"
        ))
    }

    /// Runs `prodcode import ARGS…` with the agents' directories in their variables.
    fn import(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .arg("import")
            .args(args)
            .arg("--db")
            .arg(&self.ws.db)
            .env("HOME", self.base.join("home"))
            .env("CLAUDE_CONFIG_DIR", self.claude_dir())
            .env("CODEX_HOME", self.codex_dir())
            .env_remove("PRODCODE_DB")
            .env_remove("PRODCODE_LOG")
            .output()
            .unwrap()
    }

    /// Runs an import that must succeed and returns its summary line.
    fn summary(&self, args: &[&str]) -> String {
        let output = self.import(args);
        assert!(
            output.status.success(),
            "import {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .trim_end()
            .to_owned()
    }

    fn log(&self) -> Vec<Value> {
        let log = self.ws.prodcode_json(&["log", "--json", "--limit", "100"]);
        log["interactions"].as_array().unwrap().clone()
    }

    fn interaction(&self, id: &str) -> Value {
        self.log()
            .into_iter()
            .find(|interaction| interaction["id"] == id)
            .unwrap_or_else(|| panic!("no interaction {id} in the log"))
    }

    fn head(&self) -> Value {
        self.ws.prodcode_json(&["verify", "--json"])["headId"].clone()
    }
}

fn copy_tree(from: &Path, to: &Path, replacements: &[(&str, String)]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target, replacements);
        } else {
            let mut text = std::fs::read_to_string(entry.path()).unwrap();
            for (placeholder, value) in replacements {
                text = text.replace(placeholder, value);
            }
            std::fs::write(target, text).unwrap();
        }
    }
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn prompts(interaction: &Value) -> Vec<String> {
    interaction["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|prompt| prompt["text"].as_str().unwrap().to_owned())
        .collect()
}

/// `(relPath or path, kind, linesAdded)` of each edit, in order.
fn edits(interaction: &Value) -> Vec<(String, String, u64)> {
    interaction["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edit| {
            let path = edit["relPath"].as_str().or(edit["path"].as_str()).unwrap();
            (
                path.to_owned(),
                edit["kind"].as_str().unwrap().to_owned(),
                edit["linesAdded"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn edit(path: &str, lines: u64) -> (String, String, u64) {
    (path.to_owned(), "transcript".to_owned(), lines)
}

#[test]
fn claude_import_counts_sessions_prompts_edits_and_skips() {
    let agents = Agents::new();
    let output = agents.import(&["claude"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        CLAUDE_SUMMARY
    );
    // Not a terminal: no progress bar, nothing on stderr.
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn codex_import_counts_sessions_prompts_edits_and_skips() {
    let agents = Agents::new();
    assert_eq!(agents.summary(&["codex"]), CODEX_SUMMARY);
}

#[test]
fn log_shows_imported_claude_sessions_with_verbatim_prompts_and_edits() {
    let agents = Agents::new();
    agents.summary(&["claude"]);
    let root = agents.ws.root.to_str().unwrap();

    let a = agents.interaction(&format!("claude:{CLAUDE_A}"));
    assert_eq!(a["source"], "import:claude");
    assert_eq!(a["agent"], "claude-code");
    assert_eq!(a["agentVersion"], "2.0.14");
    assert_eq!(a["sessionId"], CLAUDE_A);
    // The first model the session used; later switches do not overwrite it.
    assert_eq!(a["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(a["branch"], "main");
    assert_eq!(
        a["baseCommit"],
        Value::Null,
        "Claude Code records no commit"
    );
    assert_eq!(a["cwd"], root);
    assert_eq!(a["repository"], root);
    assert_eq!(a["createdAt"], "2025-10-02T09:14:03.118Z");
    // Tool results, meta messages, slash commands, their output, the interruption and the
    // subagent's instructions are not turns.
    assert_eq!(a["turns"], 2);
    assert_eq!(
        prompts(&a),
        [
            "Add a `greet(name)` function to src/lib.rs that returns \"Hello, <name>!\", and a test for it in tests/greet.rs.",
            "Also make greet(\"\") say \"Hello, world!\"\n\nand keep the doc comment.",
        ]
    );
    // Edit (structuredPatch), Write (a new file), MultiEdit, and the subagent's Edit; the
    // failed Edit is not there.
    assert_eq!(
        edits(&a),
        [
            edit("src/lib.rs", 5),
            edit("tests/greet.rs", 6),
            edit("src/lib.rs", 2),
            edit("README", 4),
        ]
    );
    assert_eq!(a["edits"][0]["path"], format!("{root}/src/lib.rs"));
    assert_eq!(a["edits"][0]["at"], "2025-10-02T09:14:10.511Z");

    // An older Claude Code without structured tool output: counts from the call's input; a
    // file outside any repository keeps its absolute path and no relative one.
    let b = agents.interaction(&format!("claude:{CLAUDE_B}"));
    assert_eq!(b["turns"], 2);
    assert_eq!(b["model"], "claude-sonnet-4-20250514");
    assert_eq!(b["agentVersion"], "1.0.38");
    let notes = agents.outside.join("notes.md");
    assert_eq!(
        edits(&b),
        [edit("README", 2), edit(notes.to_str().unwrap(), 4)]
    );
    assert_eq!(b["edits"][1]["relPath"], Value::Null);

    // A project directory that no longer exists, with a recorded branch: the recorded directory
    // is the repository.
    let gone = agents.interaction(&format!("claude:{CLAUDE_GONE}"));
    assert_eq!(
        gone["repository"],
        "/nonexistent/prodcode-fixture/old-service"
    );
    assert_eq!(gone["branch"], "feature/rename-server");
    assert_eq!(edits(&gone), [edit("src/main.rs", 1)]);

    let ids: Vec<Value> = agents.log().iter().map(|i| i["id"].clone()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(!ids.contains(&json!(format!("claude:{CLAUDE_OPTED_OUT}"))));
}

/// Codex 0.171's rollouts have no `user_message` event: the prompt is the `UserMessage` item
/// of `item_completed` (issue 12). Patches went through the shell (`exec_command`).
#[test]
fn a_codex_0_171_rollout_gives_its_prompt_model_version_and_patches() {
    let agents = Agents::new();
    let rollout = agents.base.join(format!(
        "agents/codex-0.171/rollout-2026-12-05T06-06-22-{CODEX_171}.jsonl"
    ));
    assert_eq!(
        agents.summary(&["codex", rollout.to_str().unwrap()]),
        "1 sessions, 1 prompts, 2 edits, 0 skipped"
    );
    let session = agents.interaction(&format!("codex:{CODEX_171}"));
    assert_eq!(session["agent"], "codex");
    assert_eq!(session["agentVersion"], "0.171.0");
    assert_eq!(session["model"], "scripted-model");
    assert_eq!(session["sessionId"], CODEX_171);
    assert_eq!(session["cwd"], agents.ws.root.to_str().unwrap());
    assert_eq!(session["branch"], "main");
    assert_eq!(
        session["baseCommit"],
        "aa36e07f65e388499cbd0356d126a84be6aee10a"
    );
    assert_eq!(
        prompts(&session),
        ["Write calc.py with add, then add sub, and record a version file"]
    );
    assert_eq!(edits(&session), [edit("calc.py", 2), edit("calc.py", 4)]);
}

#[test]
fn log_shows_imported_codex_sessions_with_model_branch_and_commit() {
    let agents = Agents::new();
    agents.summary(&["codex"]);
    let root = agents.ws.root.to_str().unwrap();

    let e = agents.interaction(&format!("codex:{CODEX_E}"));
    assert_eq!(e["source"], "import:codex");
    assert_eq!(e["agent"], "codex");
    assert_eq!(e["agentVersion"], "0.46.0");
    assert_eq!(e["model"], "gpt-5-codex");
    assert_eq!(e["branch"], "main");
    assert_eq!(e["baseCommit"], "9fceb02d0ae598e95dc970b74767f19372d61af8");
    assert_eq!(e["repository"], root);
    assert_eq!(e["turns"], 2);
    assert_eq!(
        prompts(&e),
        [
            "Add a `--verbose` flag to the CLI in src/main.rs and document it in docs/usage.md.",
            "Now print the version with --version too.",
        ]
    );
    // One patch with two files, a patch that failed (absent), a patch run through the shell.
    assert_eq!(
        edits(&e),
        [
            edit("docs/usage.md", 3),
            edit("src/main.rs", 2),
            edit("src/main.rs", 4),
        ]
    );

    // An older rollout without the envelope: the cwd comes from the environment context.
    let legacy = agents.interaction(&format!("codex:{CODEX_LEGACY}"));
    assert_eq!(legacy["turns"], 1);
    assert_eq!(legacy["branch"], "fix/add");
    assert_eq!(
        legacy["baseCommit"],
        "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
    );
    assert_eq!(legacy["cwd"], root);
    assert_eq!(
        prompts(&legacy),
        ["Fix the off-by-one in add(): it should not add 1."]
    );
    assert_eq!(edits(&legacy), [edit("src/lib.rs", 1)]);
}

#[test]
fn importing_twice_adds_nothing() {
    let agents = Agents::new();
    assert_eq!(agents.summary(&["claude"]), CLAUDE_SUMMARY);
    let head = agents.head();
    let log = agents.log();
    assert_eq!(
        agents.summary(&["claude"]),
        "0 sessions, 0 prompts, 0 edits, 12 skipped: 12 already imported"
    );
    // A touched file is checked, not imported again.
    let session = agents.claude_session(CLAUDE_A);
    let text = std::fs::read_to_string(&session).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&session, &text).unwrap();
    assert_eq!(
        agents.summary(&["claude"]),
        "0 sessions, 0 prompts, 0 edits, 12 skipped: 12 already imported"
    );
    assert_eq!(agents.head(), head, "no event was added");
    assert_eq!(agents.log(), log);
}

#[test]
fn a_rewritten_transcript_is_read_again_without_duplicates() {
    let agents = Agents::new();
    agents.summary(&["codex"]);
    let head = agents.head();
    // The same records in a shorter file (the noise at the end dropped): read from the start,
    // every record is found to be imported already.
    let rollout = agents.codex_rollout();
    let text = std::fs::read_to_string(&rollout).unwrap();
    let kept: Vec<&str> = text.lines().take(24).collect();
    std::fs::write(&rollout, kept.join("\n") + "\n").unwrap();
    assert_eq!(
        agents.summary(&["codex"]),
        "0 sessions, 0 prompts, 0 edits, 9 skipped: 7 already imported, 1 failed edit, 1 malformed line"
    );
    assert_eq!(agents.head(), head);
}

#[test]
fn lines_appended_to_a_transcript_import_only_those() {
    let agents = Agents::new();
    assert_eq!(agents.summary(&["codex"]), CODEX_SUMMARY);
    let head = agents.head().as_u64().unwrap();
    let turn = [
        json!({"timestamp": "2025-10-29T10:20:00.000Z", "type": "event_msg", "payload": {"type": "user_message", "message": "And a --quiet flag.", "kind": "plain"}}),
        json!({"timestamp": "2025-10-29T10:20:00.001Z", "type": "turn_context", "payload": {"cwd": agents.ws.root, "model": "gpt-5-codex"}}),
        json!({"timestamp": "2025-10-29T10:20:05.000Z", "type": "response_item", "payload": {"type": "custom_tool_call", "call_id": "call_Quiet", "name": "apply_patch", "input": "*** Begin Patch\n*** Update File: src/main.rs\n@@\n+    let quiet = std::env::args().any(|arg| arg == \"--quiet\");\n*** End Patch\n"}}),
        json!({"timestamp": "2025-10-29T10:20:05.100Z", "type": "response_item", "payload": {"type": "custom_tool_call_output", "call_id": "call_Quiet", "output": "{\"output\":\"Success. Updated the following files:\\nM src/main.rs\\n\",\"metadata\":{\"exit_code\":0,\"duration_seconds\":0.0}}"}}),
    ];
    let lines: String = turn.iter().map(|line| format!("{line}\n")).collect();
    append(&agents.codex_rollout(), &lines);
    assert_eq!(
        agents.summary(&["codex"]),
        "1 sessions, 1 prompts, 1 edits, 7 skipped: 7 already imported"
    );
    // One event for the prompt and one for the edit.
    assert_eq!(agents.head().as_u64().unwrap(), head + 2);
    let e = agents.interaction(&format!("codex:{CODEX_E}"));
    assert_eq!(e["turns"], 3);
    assert_eq!(prompts(&e)[2], "And a --quiet flag.");
    assert_eq!(edits(&e).last().unwrap(), &edit("src/main.rs", 1));
}

#[test]
fn a_line_still_being_written_is_read_once_complete() {
    let agents = Agents::new();
    agents.summary(&["codex"]);
    let line = json!({"timestamp": "2025-10-29T10:30:00.000Z", "type": "event_msg", "payload": {"type": "user_message", "message": "Half-written prompt, then finished.", "kind": "plain"}}).to_string();
    let (first, rest) = line.split_at(40);
    append(&agents.codex_rollout(), first);
    assert_eq!(
        agents.summary(&["codex"]),
        "0 sessions, 0 prompts, 0 edits, 7 skipped: 7 already imported",
        "a line without its end is neither imported nor malformed"
    );
    append(&agents.codex_rollout(), &format!("{rest}\n"));
    assert_eq!(
        agents.summary(&["codex"]),
        "1 sessions, 1 prompts, 0 edits, 7 skipped: 7 already imported"
    );
}

#[test]
fn malformed_lines_are_skipped_and_counted() {
    let agents = Agents::new();
    let file = agents.base.join("noisy.jsonl");
    let prompt = |uuid: &str, text: &str| {
        json!({"type": "user", "sessionId": "noisy", "uuid": uuid, "cwd": agents.ws.root,
               "timestamp": "2025-10-02T10:00:00Z", "message": {"role": "user", "content": text}})
        .to_string()
    };
    let text = [
        prompt("n1", "first"),
        "this is not JSON".to_owned(),
        "[1, 2, 3]".to_owned(),
        "{\"type\": \"user\", \"message\": {\"content\": ".to_owned(),
        String::new(),
        prompt("n2", "second"),
    ]
    .join("\n")
        + "\n";
    std::fs::write(&file, text).unwrap();
    assert_eq!(
        agents.summary(&["claude", file.to_str().unwrap()]),
        "1 sessions, 2 prompts, 0 edits, 3 skipped: 3 malformed lines"
    );
    assert_eq!(
        prompts(&agents.interaction("claude:noisy")),
        ["first", "second"]
    );
}

#[test]
fn secrets_in_prompts_are_redacted_in_the_store() {
    let agents = Agents::new();
    agents.summary(&["claude"]);
    let b = agents.interaction(&format!("claude:{CLAUDE_B}"));
    let first = &prompts(&b)[0];
    assert!(
        first.starts_with("The deploy script needs our key: use [REDACTED:"),
        "{first}"
    );
    assert!(!first.contains("AKIAZ7QXJ4M2N5P8R3TW"), "{first}");
    assert!(
        !first.contains("8Jk2mQ9xL4vN7pR1tY6wZ3bC5dF0gH2jK4lM6nP8"),
        "{first}"
    );
    // Nowhere in the database, the event log included.
    for suffix in ["", "-wal"] {
        let path = PathBuf::from(format!("{}{suffix}", agents.ws.db.display()));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for secret in [
            "AKIAZ7QXJ4M2N5P8R3TW",
            "8Jk2mQ9xL4vN7pR1tY6wZ3bC5dF0gH2jK4lM6nP8",
        ] {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "{secret} is in {}",
                path.display()
            );
        }
    }
    // The redaction is recorded with the event.
    let connection = rusqlite::Connection::open(&agents.ws.db).unwrap();
    let payload: String = connection
        .query_row(
            "SELECT e.payload FROM prompts AS p JOIN events AS e ON e.id = p.event_id
             WHERE p.interaction_id = ?1 AND p.turn = 1",
            [format!("claude:{CLAUDE_B}")],
            |row| row.get(0),
        )
        .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    let kinds: Vec<&str> = payload["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|redaction| redaction["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"aws_access_key"), "{payload}");
}

#[test]
fn opted_out_repositories_are_skipped() {
    let agents = Agents::new();
    agents.summary(&["claude"]);
    assert!(
        agents
            .log()
            .iter()
            .all(|interaction| interaction["id"] != format!("claude:{CLAUDE_OPTED_OUT}"))
    );
    let bytes = std::fs::read(&agents.ws.db).unwrap();
    let secret = b"This is the private repo";
    assert!(!bytes.windows(secret.len()).any(|window| window == secret));
}

#[test]
fn a_session_captured_live_gets_no_duplicate_turns() {
    let agents = Agents::new();
    // The first prompt of session A was captured as it happened, under the shared id scheme.
    let first = "Add a `greet(name)` function to src/lib.rs that returns \"Hello, <name>!\", and a test for it in tests/greet.rs.";
    let mut client = agents.ws.daemon();
    client
        .notify(
            "prodcode/promptSubmitted",
            json!({
                "interactionId": format!("claude:{CLAUDE_A}"),
                "prompt": first,
                "agent": { "name": "claude-code" },
            }),
        )
        .unwrap();
    client.shutdown().unwrap();
    assert_eq!(
        agents.summary(&["claude"]),
        "3 sessions, 4 prompts, 7 edits, 5 skipped: 1 already captured, 2 in opted-out repositories, 1 failed edit, 1 malformed line"
    );
    let a = agents.interaction(&format!("claude:{CLAUDE_A}"));
    assert_eq!(a["turns"], 2);
    assert_eq!(prompts(&a)[0], first);
    // Importing again still adds nothing.
    assert_eq!(
        agents.summary(&["claude"]),
        "0 sessions, 0 prompts, 0 edits, 12 skipped: 12 already imported"
    );
}

#[test]
fn the_summary_as_json() {
    let agents = Agents::new();
    let output = agents.import(&["codex", "--json"]);
    assert!(output.status.success());
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        summary,
        json!({
            "files": 2, "sessions": 2, "prompts": 3, "edits": 4, "skipped": 2,
            "reasons": {
                "already_imported": 0, "already_captured": 0, "opted_out": 0,
                "failed_edit": 1, "malformed_line": 1, "unreadable_file": 0,
            },
        })
    );
}

#[test]
fn a_path_names_one_transcript_or_a_directory_of_them() {
    let agents = Agents::new();
    let session = agents.claude_session(CLAUDE_B);
    assert_eq!(
        agents.summary(&["claude", session.to_str().unwrap()]),
        "1 sessions, 2 prompts, 2 edits, 0 skipped"
    );
    let project = agents
        .claude_dir()
        .join("projects/-nonexistent-prodcode-fixture-old-service");
    assert_eq!(
        agents.summary(&["claude", project.to_str().unwrap()]),
        "1 sessions, 1 prompts, 1 edits, 0 skipped"
    );
    let missing = agents.base.join("no-such-dir");
    let output = agents.import(&["claude", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read") && stderr.contains("no-such-dir"),
        "{stderr}"
    );
}

#[test]
fn no_transcripts_at_the_default_location_is_not_an_error() {
    let agents = Agents::new();
    std::fs::remove_dir_all(agents.codex_dir()).unwrap();
    assert_eq!(
        agents.summary(&["codex"]),
        "0 sessions, 0 prompts, 0 edits, 0 skipped"
    );
}

#[test]
fn a_locked_database_is_waited_for() {
    let agents = Agents::new();
    // Create the database, then hold its write lock while the import starts.
    agents.summary(&["codex", agents.base.join("home").to_str().unwrap()]);
    let mut connection = rusqlite::Connection::open(&agents.ws.db).unwrap();
    let lock = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let db = agents.ws.db.clone();
    let base = agents.base.clone();
    let import = std::thread::spawn(move || {
        Command::new(bin())
            .args(["import", "codex", "--db"])
            .arg(&db)
            .env("HOME", base.join("home"))
            .env("CODEX_HOME", base.join("agents/codex"))
            .env_remove("PRODCODE_DB")
            .output()
            .unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    lock.commit().unwrap();
    let output = import.join().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        CODEX_SUMMARY
    );
}

#[test]
fn an_import_leaves_the_provenance_of_files_alone() {
    let agents = Agents::new();
    agents.summary(&["claude"]);
    agents.summary(&["codex"]);
    let connection = rusqlite::Connection::open(&agents.ws.db).unwrap();
    let (snapshots, tallies): (i64, i64) = connection
        .query_row(
            "SELECT (SELECT count(*) FROM provenance_snapshots), (SELECT count(*) FROM line_tally)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((snapshots, tallies), (0, 0));
    let verify = agents.ws.prodcode_json(&["verify", "--json"]);
    assert_eq!(verify["ok"], true);
}

#[test]
fn a_killed_import_continues_where_it_stopped() {
    let agents = Agents::new();
    let file = agents.base.join("long.jsonl");
    let turns = 2_000;
    let mut text = String::new();
    for n in 0..turns {
        let path = agents.ws.root.join(format!("src/f{}.rs", n % 7));
        let line = |kind: &str, uuid: String, message: Value, result: Option<Value>| {
            let mut line = json!({"type": kind, "sessionId": "long", "uuid": uuid,
                "cwd": agents.ws.root, "timestamp": "2025-10-02T10:00:00Z", "message": message});
            if let Some(result) = result {
                line["toolUseResult"] = result;
            }
            format!("{line}\n")
        };
        text += &line(
            "user",
            format!("p{n}"),
            json!({"role": "user", "content": format!("turn {n}")}),
            None,
        );
        text += &line(
            "assistant",
            format!("a{n}"),
            json!({"role": "assistant", "model": "m", "content": [
            {"type": "tool_use", "id": format!("t{n}"), "name": "Write", "input": {"file_path": path, "content": "x\n"}}]}),
            None,
        );
        text += &line(
            "user",
            format!("r{n}"),
            json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": format!("t{n}"), "content": "ok"}]}),
            Some(
                json!({"type": "create", "filePath": path, "content": "x\n", "structuredPatch": []}),
            ),
        );
    }
    std::fs::write(&file, text).unwrap();

    let mut child = Command::new(bin())
        .args(["import", "claude"])
        .arg(&file)
        .arg("--db")
        .arg(&agents.ws.db)
        .env_remove("PRODCODE_DB")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it has committed a batch (if it is not done by then).
    let started = std::time::Instant::now();
    loop {
        let committed: Option<i64> =
            rusqlite::Connection::open(&agents.ws.db)
                .ok()
                .and_then(|connection| {
                    connection
                        .query_row("SELECT records FROM import_files", [], |row| row.get(0))
                        .ok()
                });
        if committed.is_some_and(|records| records > 0)
            || child.try_wait().unwrap().is_some()
            || started.elapsed() > std::time::Duration::from_secs(60)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();

    let second = agents.summary(&["claude", file.to_str().unwrap()]);
    let counts: Vec<u64> = second
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap())
        .collect();
    // "S sessions, P prompts, E edits, K skipped[: K already imported]": every record is
    // imported by exactly one of the two runs.
    let (prompts, edits, skipped) = (counts[1], counts[2], counts[3]);
    assert_eq!(prompts + edits + skipped, 2 * turns, "{second}");
    let interaction = agents.interaction("claude:long");
    assert_eq!(interaction["turns"], turns);
    assert_eq!(interaction["edits"].as_array().unwrap().len() as u64, turns);
    assert_eq!(agents.ws.prodcode_json(&["verify", "--json"])["ok"], true);
}

#[test]
fn a_database_locked_for_too_long_stops_the_import_with_a_clear_error() {
    let agents = Agents::new();
    agents.summary(&["codex", agents.base.join("home").to_str().unwrap()]);
    let mut connection = rusqlite::Connection::open(&agents.ws.db).unwrap();
    let lock = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    // The store waits its busy timeout (10 s) before giving up.
    let output = agents.import(&["codex"]);
    drop(lock);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("locked by another process") && stderr.contains("Run the import again"),
        "{stderr}"
    );
    // Nothing was lost: the next run imports everything.
    assert_eq!(agents.summary(&["codex"]), CODEX_SUMMARY);
}

/// Runs `prodcode hook claude` in the workspace with `payload` on stdin.
fn claude_hook(agents: &Agents, payload: &Value) {
    let mut hook = Command::new(bin())
        .args(["hook", "claude", "--db"])
        .arg(&agents.ws.db)
        .current_dir(&agents.ws.root)
        .env_remove("PRODCODE_DB")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    hook.stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    assert!(hook.wait().unwrap().success());
}

#[test]
fn a_session_captured_by_the_claude_hook_gets_no_duplicate_turns_or_edits() {
    let agents = Agents::new();
    let first = "Add a `greet(name)` function to src/lib.rs that returns \"Hello, <name>!\", and a test for it in tests/greet.rs.";
    let common = json!({
        "session_id": CLAUDE_A,
        "transcript_path": agents.claude_session(CLAUDE_A),
        "cwd": agents.ws.root,
        "permission_mode": "default",
    });
    let event = |fields: Value| {
        let mut payload = common.clone();
        payload
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        payload
    };
    // The session as the hooks saw it: the first prompt, and the first Edit bracketed.
    claude_hook(
        &agents,
        &event(json!({"hook_event_name": "UserPromptSubmit", "prompt": first})),
    );
    let lib = agents.ws.path("src/lib.rs");
    std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
    let before = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
    std::fs::write(&lib, before).unwrap();
    let input = json!({"file_path": lib, "old_string": "    a + b\n}", "new_string": "    a + b\n}\n\npub fn greet() {}", "replace_all": false});
    claude_hook(
        &agents,
        &event(
            json!({"hook_event_name": "PreToolUse", "tool_name": "Edit", "tool_input": input, "tool_use_id": "toolu_01EditLib"}),
        ),
    );
    std::fs::write(&lib, format!("{before}\npub fn greet() {{}}\n")).unwrap();
    claude_hook(
        &agents,
        &event(
            json!({"hook_event_name": "PostToolUse", "tool_name": "Edit", "tool_input": input,
            "tool_response": {"filePath": lib, "originalFile": before, "structuredPatch": [], "userModified": false},
            "tool_use_id": "toolu_01EditLib"}),
        ),
    );
    let hooked = agents.interaction(&format!("claude:{CLAUDE_A}"));
    assert_eq!(prompts(&hooked), [first]);
    assert_eq!(hooked["edits"].as_array().unwrap().len(), 1, "{hooked}");

    let summary = agents.summary(&["claude"]);
    assert!(summary.contains("2 already captured"), "{summary}");
    let a = agents.interaction(&format!("claude:{CLAUDE_A}"));
    assert_eq!(a["turns"], 2);
    assert_eq!(prompts(&a)[0], first);
    let kinds: Vec<(&str, &str)> = a["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edit| {
            (
                edit["relPath"].as_str().unwrap(),
                edit["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("src/lib.rs", "hook"));
    assert_eq!(
        kinds.len(),
        4,
        "the hook's Edit and the other three imported: {kinds:?}"
    );
    assert!(kinds[1..].iter().all(|(_, kind)| *kind == "transcript"));
}
