//! The command line through the real binary.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Workspace, ai_lines, bin, change, open};

const COMMANDS: [&str; 20] = [
    "lsp",
    "hook",
    "install",
    "import",
    "log",
    "blame",
    "verify",
    "sync",
    "doctor",
    "demo",
    "mcp",
    "tool",
    "link",
    "stats",
    "export",
    "curate",
    "eval",
    "report",
    "completions",
    "man",
];

#[test]
fn every_command_has_help() {
    for command in COMMANDS {
        let output = Command::new(bin())
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{command} --help");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: prodcode"));
    }
    let output = Command::new(bin()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in COMMANDS {
        assert!(help.contains(command), "{help}");
    }
}

/// Issue 16: completions for the usual shells and manual pages, from the same definitions as
/// `--help`.
#[test]
fn completions_and_manual_pages_come_from_the_command_definitions() {
    for (shell, marker) in [
        ("bash", "_prodcode()"),
        ("zsh", "#compdef prodcode"),
        ("fish", "complete -c prodcode"),
    ] {
        let output = Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && script.contains(marker),
            "{shell}: {script}"
        );
        assert!(
            script.contains("curate") && script.contains("harness"),
            "{shell}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(bin())
        .args(["man", "--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let page = std::fs::read_to_string(dir.path().join("prodcode-eval.1")).unwrap();
    assert!(
        page.contains(".TH PRODCODE-EVAL 1") && page.contains("prodcode eval"),
        "{page}"
    );
    assert!(dir.path().join("prodcode.1").is_file());
}

/// Records one interaction through the daemon: a prompt asked twice (two turns), an AI edit.
fn record_session(ws: &Workspace) {
    let uri = ws.uri("lib.rs");
    ws.write("lib.rs", "fn a() {}\n");
    let mut client = ws.daemon();
    open(&mut client, &uri, "fn a() {}\n");
    for prompt in ["add b", "and make it public"] {
        client
            .notify(
                "prodcode/promptSubmitted",
                json!({
                    "interactionId": "log-1",
                    "prompt": prompt,
                    "agent": { "name": "agent-x", "model": "model-y" },
                    "timestamp": "2026-01-02T04:04:05+01:00",
                }),
            )
            .unwrap();
    }
    change(&mut client, &uri, 2, (1, 0), (1, 0), "pub fn b() {}\n");
    ai_lines(&mut client, "log-1", &uri, 2, 1, 2);
    // A person deletes the AI line again.
    change(&mut client, &uri, 3, (1, 0), (2, 0), "");
    ws.write("lib.rs", "fn a() {}\n");
    client
        .notify(
            "textDocument/didSave",
            json!({ "textDocument": { "uri": uri } }),
        )
        .unwrap();
    client.shutdown().unwrap();
}

#[test]
fn log_lists_interactions_with_turns_edits_and_retention() {
    let ws = Workspace::new();
    record_session(&ws);
    let log = ws.prodcode_json(&["log", "--json"]);
    let interaction = &log["interactions"][0];
    assert_eq!(interaction["id"], "log-1");
    assert_eq!(interaction["agent"], "agent-x");
    assert_eq!(interaction["model"], "model-y");
    assert_eq!(interaction["turns"], 2);
    assert_eq!(interaction["branch"], "main");
    assert_eq!(interaction["repository"], ws.root.to_str().unwrap());
    let head = crate::support::git(&ws.root, &["rev-parse", "HEAD"]);
    assert_eq!(interaction["baseCommit"], head.trim());
    let prompts: Vec<&str> = interaction["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|prompt| prompt["text"].as_str().unwrap())
        .collect();
    assert_eq!(prompts, ["add b", "and make it public"]);
    // The client's timestamp, with its offset, is kept as the prompt's time.
    assert_eq!(interaction["prompts"][0]["at"], "2026-01-02T03:04:05Z");
    assert_eq!(interaction["edits"][0]["relPath"], "lib.rs");
    assert_eq!(interaction["edits"][0]["kind"], "ranges");
    assert_eq!(interaction["edits"][0]["linesAdded"], 1);
    assert_eq!(
        interaction["lines"],
        json!([{ "path": ws.path("lib.rs").to_str().unwrap(), "added": 1, "modified": 0, "deleted": 1 }])
    );
    let human = ws.prodcode(&["log"]);
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains("log-1") && human.contains("> add b"),
        "{human}"
    );
}

#[test]
fn blame_of_unrecorded_and_non_utf8_files_is_untracked() {
    let ws = Workspace::new();
    let plain = ws.write("plain.txt", "a\nb");
    let blame = ws.prodcode_json(&["blame", plain.to_str().unwrap(), "--json"]);
    assert_eq!(
        blame["lines"],
        json!([{ "line": 1, "class": "untracked" }, { "line": 2, "class": "untracked" }])
    );
    let binary = ws.path("latin1.txt");
    std::fs::write(&binary, b"caf\xe9\nok\n").unwrap();
    let blame = ws.prodcode_json(&["blame", binary.to_str().unwrap(), "--json"]);
    assert_eq!(blame["lines"].as_array().unwrap().len(), 2);
    // Old Mac line ends: blame counts lines as the daemon does.
    let lone_cr = ws.write("mac.txt", "one\rtwo\rthree\r");
    let blame = ws.prodcode_json(&["blame", lone_cr.to_str().unwrap(), "--json"]);
    assert_eq!(blame["lines"].as_array().unwrap().len(), 3, "{blame}");
    let human = ws.prodcode(&["blame", lone_cr.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("| three"));
    let missing = ws.prodcode(&["blame", "/no/such/file"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open /no/such/file"));
}

#[test]
fn verify_reports_the_first_tampered_event() {
    let ws = Workspace::new();
    record_session(&ws);
    let ok = ws.prodcode_json(&["verify", "--json"]);
    assert_eq!(ok["ok"], true);
    let checked = ok["eventsChecked"].as_u64().unwrap();
    assert!(checked >= 6, "{ok}");

    // Someone edits recorded history by hand, removing the append-only guard first.
    let connection = rusqlite::Connection::open(&ws.db).unwrap();
    let triggers: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for trigger in triggers {
        connection
            .execute(&format!("DROP TRIGGER {trigger}"), [])
            .unwrap();
    }
    connection
        .execute("UPDATE events SET payload = replace(payload, 'add b', 'add c') WHERE kind = 'prodcode.promptSubmitted'", [])
        .unwrap();
    let first_prompt: i64 = connection
        .query_row(
            "SELECT min(id) FROM events WHERE kind = 'prodcode.promptSubmitted'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    drop(connection);
    let output = ws.prodcode(&["verify", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["problem"],
        json!({ "eventId": first_prompt, "kind": "tampered" })
    );
    let human = ws.prodcode(&["verify"]);
    assert!(
        String::from_utf8_lossy(&human.stdout)
            .contains(&format!("event {first_prompt} is tampered")),
    );
}

#[test]
fn doctor_reports_the_database_and_repositories() {
    let ws = Workspace::new();
    record_session(&ws);
    let report = ws.prodcode_json(&["doctor", "--json"]);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["databasePath"], ws.db.to_str().unwrap());
    assert_eq!(report["writable"], true);
    assert_eq!(report["fileMode"], "0600");
    assert_eq!(report["schemaVersion"], report["binarySchemaVersion"]);
    assert_eq!(report["repositories"], json!([ws.root.to_str().unwrap()]));
    assert_eq!(report["counts"]["interactions"], 1);

    std::fs::write(
        &ws.db,
        b"not a database at all, just some text that is long enough",
    )
    .unwrap();
    let broken = ws.prodcode(&["doctor", "--json"]);
    assert_eq!(broken.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(!report["problems"][0].as_str().unwrap().is_empty());
}

#[test]
fn database_path_comes_from_flag_env_or_xdg() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    let doctor = |envs: &[(&str, &std::path::Path)], args: &[&str]| -> Value {
        let mut command = Command::new(bin());
        command
            .args(["doctor", "--json"])
            .args(args)
            .env_remove("PRODCODE_DB");
        for (key, value) in envs {
            command.env(key, value);
        }
        serde_json::from_slice(&command.output().unwrap().stdout).unwrap()
    };
    let from_xdg = doctor(&[("XDG_DATA_HOME", &xdg)], &[]);
    assert_eq!(
        from_xdg["databasePath"],
        xdg.join("prodcode/prodcode.db").to_str().unwrap()
    );
    let env_db = dir.path().join("env.db");
    let from_env = doctor(&[("XDG_DATA_HOME", &xdg), ("PRODCODE_DB", &env_db)], &[]);
    assert_eq!(from_env["databasePath"], env_db.to_str().unwrap());
    let flag_db = dir.path().join("flag.db");
    let from_flag = doctor(
        &[("PRODCODE_DB", &env_db)],
        &["--db", flag_db.to_str().unwrap()],
    );
    assert_eq!(from_flag["databasePath"], flag_db.to_str().unwrap());
}

#[test]
fn demo_runs_the_pipeline_on_a_generated_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("sample");
    let output = Command::new(bin())
        .args(["demo", "--dir", repo.to_str().unwrap()])
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("ai_modified demo-1"), "{stdout}");
    assert!(stdout.contains("> Add a divide(a, b) function"), "{stdout}");
    assert!(
        stdout.contains("where divide() is defined: calc.py:9 (syntactic"),
        "{stdout}"
    );
    // The session's commit became a task: its new test fails without divide() and passes
    // with it.
    assert!(stdout.contains("kept    sample__"), "{stdout}");
    // So did the hook session's, which landed by a squash merge.
    assert!(stdout.contains("2 task(s)"), "{stdout}");
    let tasks = std::fs::read_to_string(dir.path().join("sample.tasks/tasks.jsonl")).unwrap();
    let task: Value = tasks
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|task| {
            task["problem_statement"]
                .as_str()
                .unwrap()
                .contains("divide")
        })
        .unwrap();
    // Ids are unittest's or pytest's, whichever the machine runs the project's tests with.
    let f2p = task["FAIL_TO_PASS"].as_array().unwrap();
    assert!(
        f2p.iter().any(|id| {
            let id = id.as_str().unwrap();
            id == "test_calc.TestCalc.test_divide" || id == "test_calc.py::TestCalc::test_divide"
        }),
        "{task:#}"
    );
    let log = crate::support::git(&repo, &["log", "--oneline"]);
    assert_eq!(log.lines().count(), 3, "{log}");
    // The evaluation: noop solves nothing, gold everything, the scripted agent one task of two
    // in both of its runs.
    for row in [
        "| noop / basic / keep | 2 | 4 | 0 | 0.0% |",
        "| gold / basic / keep | 2 | 4 | 4 | 100.0% |",
        "| scripted / basic / keep | 2 | 4 | 2 | 50.0% |",
    ] {
        assert!(stdout.contains(row), "{row}\n{stdout}");
    }
    assert!(dir.path().join("sample.eval/report.html").is_file());
    assert!(stdout.contains("Next: prodcode stats"), "{stdout}");
    // The demo recorded into its own database, beside the repository.
    assert!(dir.path().join("sample.db").exists());
}

/// Issue 16: `prodcode link | head -2` (and any printing command) ends quietly when its reader
/// goes away, instead of panicking in `println!` with a backtrace.
#[test]
fn a_closed_pipe_ends_a_printing_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample");
    let script = format!(
        "'{}' demo --dir '{}' 2>'{}' | head -2 >/dev/null",
        bin().display(),
        sample.display(),
        dir.path().join("stderr").display()
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .env_remove("PRODCODE_DB")
        .status()
        .unwrap();
    assert!(status.success());
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}

/// Issue 16: a configured main branch that does not exist is an error, never a silent fall back
/// to another branch; an empty repository says it has no main branch yet; an error never
/// repeats itself; `demo` into a non-empty directory fails before printing anything.
#[test]
fn errors_say_what_is_wrong_once() {
    let ws = Workspace::new();
    let root = ws.root.to_string_lossy().into_owned();
    let output = ws.prodcode(&["link", "--repo", &root, "--main", "nosuch"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the main branch `nosuch`") && stderr.contains("does not exist"),
        "{stderr}"
    );

    let empty = tempfile::tempdir().unwrap();
    crate::support::git(empty.path(), &["init", "-q", "-b", "main"]);
    let output = ws.prodcode(&["link", "--repo", empty.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("no main branch yet") && !stdout.contains("main is no"),
        "{stdout}"
    );

    ws.write("a.txt", "a\n");
    let output = ws.prodcode(&[
        "blame",
        ws.path("a.txt").to_str().unwrap(),
        "--rev",
        "nosuchrev",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("cannot resolve nosuchrev").count(),
        1,
        "{stderr}"
    );

    let output = ws.prodcode(&["export", "agent-trace", "--repo", &root, "--out", &root]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.matches("os error 21").count() <= 1, "{stderr}");

    let output = Command::new(bin())
        .args(["demo", "--dir", &root])
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));
}

/// Issue 16: warnings written to a file or a pipe carry no terminal colour codes.
#[test]
fn logs_to_a_pipe_have_no_colours() {
    use std::io::Write;
    let ws = Workspace::new();
    let mut child = Command::new(bin())
        .args(["lsp", "--db"])
        .arg(&ws.db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A malformed frame: the daemon warns on stderr.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"Content-Length: +5\r\n\r\nhello").unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}
