//! `prodcode hook <agent>` through the real binary: payload sequences shaped as each agent
//! sends them (fixtures in `tests/data/hooks/<agent>/<version>/`) on stdin, real git
//! repositories, a real SQLite file; results read back through `prodcode log` and
//! `prodcode blame`, as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{Workspace, bin, git, hook_fixture as fixture, run_hook};

/// One agent session: fills the session, cwd and home placeholders of its fixtures.
struct Session {
    agent: &'static str,
    fixtures: &'static str,
    db: PathBuf,
    cwd: PathBuf,
    session: String,
    tool_calls: u32,
}

impl Session {
    fn new(ws: &Workspace, agent: &'static str, fixtures: &'static str, session: &str) -> Session {
        Session::in_dir(&ws.db, &ws.root, agent, fixtures, session)
    }

    fn in_dir(
        db: &Path,
        cwd: &Path,
        agent: &'static str,
        fixtures: &'static str,
        session: &str,
    ) -> Session {
        Session {
            agent,
            fixtures,
            db: db.to_owned(),
            cwd: cwd.to_owned(),
            session: session.to_owned(),
            tool_calls: 0,
        }
    }

    fn payload(&self, name: &str, vars: &[(&str, &str)]) -> String {
        let cwd = self.cwd.to_string_lossy().into_owned();
        let mut all: Vec<(&str, &str)> = vec![
            ("session", &self.session),
            ("cwd", &cwd),
            ("home", "/home/dev"),
            ("turn", "turn-1"),
            ("generation", "gen-1"),
        ];
        all.extend_from_slice(vars);
        fixture(&format!("{}/{name}", self.fixtures), &all)
    }

    fn send(&self, name: &str, vars: &[(&str, &str)]) {
        run_hook(&self.db, &self.cwd, self.agent, &self.payload(name, vars));
    }

    fn next_tool_use(&mut self) -> String {
        self.tool_calls += 1;
        format!("toolu_{}_{}", self.session, self.tool_calls)
    }

    /// A Claude `Edit` of `file`: the pre event, the edit on disk (`disk` is the file after it,
    /// which may differ from the proposal), the post event.
    fn claude_edit(&mut self, file: &Path, old: &str, new: &str, disk: &str) {
        let (pre, post) = self.claude_edit_split(file, old, new);
        pre(self);
        std::fs::write(file, disk).unwrap();
        post(self);
    }

    #[allow(clippy::type_complexity)]
    fn claude_edit_split(
        &mut self,
        file: &Path,
        old: &str,
        new: &str,
    ) -> (Box<dyn Fn(&Session)>, Box<dyn Fn(&Session)>) {
        let id = self.next_tool_use();
        let file = file.to_string_lossy().into_owned();
        let original = std::fs::read_to_string(&file).unwrap_or_default();
        let (old, new) = (old.to_owned(), new.to_owned());
        let pre = {
            let (id, file, old, new) = (id.clone(), file.clone(), old.clone(), new.clone());
            Box::new(move |session: &Session| {
                session.send(
                    "pre_tool_use_edit.json",
                    &[
                        ("file", &file),
                        ("old", &old),
                        ("new", &new),
                        ("tool_use_id", &id),
                    ],
                )
            })
        };
        let post = Box::new(move |session: &Session| {
            session.send(
                "post_tool_use_edit.json",
                &[
                    ("file", &file),
                    ("old", &old),
                    ("new", &new),
                    ("tool_use_id", &id),
                    ("original", &original),
                ],
            )
        });
        (pre, post)
    }
}

/// `prodcode blame FILE --json` as `class` or `class interaction` per line.
fn blame(db: &Path, file: &Path) -> Vec<String> {
    let output = Command::new(bin())
        .args(["blame", "--json", "--db"])
        .arg(db)
        .arg(file)
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "blame: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| match line["interactionId"].as_str() {
            Some(id) => format!("{} {id}", line["class"].as_str().unwrap()),
            None => line["class"].as_str().unwrap().to_owned(),
        })
        .collect()
}

fn log(ws: &Workspace) -> Vec<Value> {
    ws.prodcode_json(&["log", "--json"])["interactions"]
        .as_array()
        .unwrap()
        .clone()
}

fn interaction<'a>(log: &'a [Value], id: &str) -> &'a Value {
    log.iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no interaction {id} in {log:#?}"))
}

fn prompts(interaction: &Value) -> Vec<String> {
    interaction["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Rows of one text column, read with SQLite directly once the spool is recorded.
fn column(db: &Path, sql: &str) -> Vec<String> {
    crate::support::drain_hooks(db);
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    statement
        .query_map([], |row| {
            let value: rusqlite::types::Value = row.get(0)?;
            Ok(match value {
                rusqlite::types::Value::Text(text) => text,
                rusqlite::types::Value::Integer(n) => n.to_string(),
                rusqlite::types::Value::Null => "NULL".to_owned(),
                other => format!("{other:?}"),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn verify(ws: &Workspace) {
    let output = ws.prodcode(&["verify"]);
    assert!(
        output.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

fn commit_all(ws: &Workspace, message: &str) {
    git(&ws.root, &["add", "-A"]);
    git(&ws.root, &["commit", "-q", "-m", message]);
}

fn spool_entries(db: &Path) -> Vec<PathBuf> {
    let dir = db.with_file_name(format!(
        "{}.spool",
        db.file_name().unwrap().to_string_lossy()
    ));
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|listing| listing.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

#[test]
fn claude_a_human_edit_between_two_ai_edits_stays_human() {
    let ws = Workspace::new();
    let file = ws.write("lib.rs", "fn a() {}\n");
    commit_all(&ws, "lib");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-human");
    claude.send("session_start.json", &[]);
    claude.send("user_prompt_submit.json", &[("prompt", "add b and c")]);
    claude.claude_edit(
        &file,
        "fn a() {}",
        "fn a() {}\nfn b() {}",
        "fn a() {}\nfn b() {}\n",
    );
    // The developer types a line between the agent's two edits.
    std::fs::write(&file, "fn a() {}\nfn b() {}\n// checked by hand\n").unwrap();
    claude.claude_edit(
        &file,
        "// checked by hand",
        "// checked by hand\nfn c() {}",
        "fn a() {}\nfn b() {}\n// checked by hand\nfn c() {}\n",
    );
    claude.send("stop.json", &[]);
    assert_eq!(
        blame(&ws.db, &file),
        [
            "untracked",
            "ai claude:s-human",
            "human",
            "ai claude:s-human"
        ]
    );

    // A second prompt in the session is its second turn.
    claude.send(
        "user_prompt_submit.json",
        &[("prompt", "and make them public")],
    );
    let log = log(&ws);
    let session = interaction(&log, "claude:s-human");
    assert_eq!(session["turns"], 2);
    assert_eq!(prompts(session), ["add b and c", "and make them public"]);
    assert_eq!(session["agent"], "claude-code");
    assert_eq!(session["source"], "hook:claude");
    assert_eq!(session["sessionId"], "s-human");
    assert_eq!(
        session["model"], "claude-opus-4-5-20251101",
        "the model from SessionStart"
    );
    assert_eq!(session["branch"], "main");
    assert_eq!(session["repository"], ws.root.to_str().unwrap());
    assert_eq!(
        session["baseCommit"],
        git(&ws.root, &["rev-parse", "HEAD"]).trim()
    );
    let edits = session["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    assert!(edits.iter().all(|edit| edit["kind"] == "hook"
        && edit["relPath"] == "lib.rs"
        && edit["linesAdded"] == 1));
    assert_eq!(session["lines"][0]["added"], 2);
    verify(&ws);
}

#[test]
fn claude_an_edit_changed_in_the_approval_ui_is_attributed_as_on_disk() {
    let ws = Workspace::new();
    let file = ws.write("lib.rs", "fn a() {}\n");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-ui");
    claude.send("user_prompt_submit.json", &[("prompt", "add b")]);
    // The agent proposes `fn b() {}`; the developer edits the proposal before accepting it.
    claude.claude_edit(
        &file,
        "fn a() {}",
        "fn a() {}\nfn b() {}",
        "fn a() {}\nfn b_renamed() -> u32 {\n    1\n}\n",
    );
    assert_eq!(
        blame(&ws.db, &file),
        [
            "untracked",
            "ai claude:s-ui",
            "ai claude:s-ui",
            "ai claude:s-ui"
        ]
    );
    let log = log(&ws);
    assert_eq!(
        interaction(&log, "claude:s-ui")["edits"][0]["linesAdded"],
        3
    );
}

#[test]
fn claude_two_sessions_interleaved_in_one_repo() {
    let ws = Workspace::new();
    let shared = ws.write("shared.rs", "fn shared() {}\n");
    let a_file = ws.write("a.rs", "// a\n");
    let b_file = ws.write("b.rs", "// b\n");
    commit_all(&ws, "files");
    let mut a = Session::new(&ws, "claude", "claude/2.1", "session-a");
    let mut b = Session::new(&ws, "claude", "claude/2.1", "session-b");
    a.send("user_prompt_submit.json", &[("prompt", "task A")]);
    b.send("user_prompt_submit.json", &[("prompt", "task B")]);

    // Both edit shared.rs at once: A's change lands while B's bracket is open too.
    let (a_pre, a_post) =
        a.claude_edit_split(&shared, "fn shared() {}", "fn shared() {}\nfn from_a() {}");
    let (b_pre, b_post) =
        b.claude_edit_split(&shared, "fn from_a() {}", "fn from_a() {}\nfn from_b() {}");
    a_pre(&a);
    b_pre(&b);
    std::fs::write(&shared, "fn shared() {}\nfn from_a() {}\n").unwrap();
    a_post(&a);
    std::fs::write(&shared, "fn shared() {}\nfn from_a() {}\nfn from_b() {}\n").unwrap();
    b_post(&b);

    // On different files, interleaving does not matter.
    let (a_pre, a_post) = a.claude_edit_split(&a_file, "// a", "// a\nfn a() {}");
    let (b_pre, b_post) = b.claude_edit_split(&b_file, "// b", "// b\nfn b() {}");
    a_pre(&a);
    b_pre(&b);
    std::fs::write(&a_file, "// a\nfn a() {}\n").unwrap();
    std::fs::write(&b_file, "// b\nfn b() {}\n").unwrap();
    b_post(&b);
    a_post(&a);

    // A's line appeared while B's bracket was open: nobody can say whose it is. B's line came
    // after A's bracket closed.
    assert_eq!(
        blame(&ws.db, &shared),
        ["untracked", "untracked", "ai claude:session-b"]
    );
    assert_eq!(blame(&ws.db, &a_file), ["untracked", "ai claude:session-a"]);
    assert_eq!(blame(&ws.db, &b_file), ["untracked", "ai claude:session-b"]);
    let log = log(&ws);
    assert_eq!(interaction(&log, "claude:session-a")["turns"], 1);
    assert_eq!(interaction(&log, "claude:session-b")["turns"], 1);
    verify(&ws);
}

#[test]
fn claude_a_write_that_replaces_a_whole_file() {
    let ws = Workspace::new();
    let config = ws.write("config.toml", "[a]\nx = 1\n[b]\ny = 2\n");
    commit_all(&ws, "config");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-write");
    claude.send(
        "user_prompt_submit.json",
        &[("prompt", "rewrite the config")],
    );
    let content = "[server]\nx = 1\nport = 8080\nhost = \"::\"\n";
    for (target, previous) in [
        (&config, "[a]\nx = 1\n[b]\ny = 2\n".to_owned()),
        (&ws.path("new.toml"), String::new()),
    ] {
        let id = claude.next_tool_use();
        let file = target.to_string_lossy().into_owned();
        let vars = [
            ("file", file.as_str()),
            ("content", content),
            ("tool_use_id", id.as_str()),
            ("original", previous.as_str()),
        ];
        claude.send("pre_tool_use_write.json", &vars);
        std::fs::write(target, content).unwrap();
        claude.send("post_tool_use_write.json", &vars);
    }
    // The one line the rewrite kept keeps its provenance.
    assert_eq!(
        blame(&ws.db, &config),
        [
            "ai claude:s-write",
            "untracked",
            "ai claude:s-write",
            "ai claude:s-write"
        ]
    );
    assert_eq!(
        blame(&ws.db, &ws.path("new.toml")),
        vec!["ai claude:s-write"; 4]
    );
}

#[test]
fn claude_an_edit_to_a_file_outside_any_git_repo() {
    let ws = Workspace::new();
    let outside = ws.db.parent().unwrap().join("notes");
    std::fs::create_dir(&outside).unwrap();
    let file = outside.join("todo.md");
    std::fs::write(&file, "- one\n").unwrap();
    let mut claude = Session::in_dir(&ws.db, &outside, "claude", "claude/2.1", "s-outside");
    claude.send(
        "user_prompt_submit.json",
        &[("prompt", "add a second item")],
    );
    claude.claude_edit(&file, "- one", "- one\n- two", "- one\n- two\n");
    assert_eq!(blame(&ws.db, &file), ["untracked", "ai claude:s-outside"]);
    let log = log(&ws);
    let session = interaction(&log, "claude:s-outside");
    assert_eq!(session["repository"], Value::Null);
    assert_eq!(session["baseCommit"], Value::Null);
    assert_eq!(session["cwd"], outside.to_str().unwrap());
    assert_eq!(session["edits"][0]["path"], file.to_str().unwrap());
    assert_eq!(session["edits"][0]["relPath"], Value::Null);
}

#[test]
fn claude_a_shell_command_that_creates_changes_moves_and_ignores_files() {
    let ws = Workspace::new();
    ws.write(".gitignore", "target/\n");
    let generated = ws.write("gen.rs", "// generated\n");
    let kept = ws.write("kept.rs", "fn kept() {}\n");
    commit_all(&ws, "base");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-bash");
    claude.send(
        "user_prompt_submit.json",
        &[("prompt", "run the generator")],
    );
    // An AI edit first, so kept.rs has provenance to carry when the command moves it.
    claude.claude_edit(
        &kept,
        "fn kept() {}",
        "fn kept() {}\nfn more() {}",
        "fn kept() {}\nfn more() {}\n",
    );
    // The developer touches gen.rs before the command runs.
    std::fs::write(&generated, "// generated\n// by hand\n").unwrap();

    let id = claude.next_tool_use();
    let vars = [
        ("command", "./generate.sh && git mv kept.rs moved.rs"),
        ("tool_use_id", id.as_str()),
    ];
    claude.send("pre_tool_use_bash.json", &vars);
    std::fs::write(&generated, "// generated\n// by hand\nfn generated() {}\n").unwrap();
    std::fs::create_dir_all(ws.path("src")).unwrap();
    std::fs::write(ws.path("src/new.rs"), "fn new() {}\nfn newer() {}\n").unwrap();
    std::fs::create_dir_all(ws.path("target")).unwrap();
    std::fs::write(ws.path("target/out.txt"), "build output\n").unwrap();
    git(&ws.root, &["mv", "kept.rs", "moved.rs"]);
    claude.send("post_tool_use_bash.json", &vars);

    assert_eq!(
        blame(&ws.db, &generated),
        ["untracked", "untracked", "ai claude:s-bash"]
    );
    assert_eq!(
        blame(&ws.db, &ws.path("src/new.rs")),
        vec!["ai claude:s-bash"; 2]
    );
    assert_eq!(
        blame(&ws.db, &ws.path("target/out.txt")),
        ["untracked"],
        "ignored files are not tracked"
    );
    assert_eq!(
        blame(&ws.db, &ws.path("moved.rs")),
        ["untracked", "ai claude:s-bash"],
        "a move keeps provenance"
    );
    let log = log(&ws);
    let paths: Vec<&str> = interaction(&log, "claude:s-bash")["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edit| edit["relPath"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["kept.rs", "gen.rs", "src/new.rs"]);
    verify(&ws);
}

#[test]
fn claude_a_human_edit_before_a_shell_command_stays_human() {
    let ws = Workspace::new();
    let file = ws.write("lib.rs", "fn a() {}\n");
    commit_all(&ws, "lib");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-bash-human");
    claude.send("user_prompt_submit.json", &[("prompt", "format it")]);
    claude.claude_edit(
        &file,
        "fn a() {}",
        "fn a() {}\nfn b() {}",
        "fn a() {}\nfn b() {}\n",
    );
    std::fs::write(&file, "fn a() {}\nfn b() {}\n// mine\n").unwrap();
    let id = claude.next_tool_use();
    let vars = [
        ("command", "sed -i s/b/c/ lib.rs"),
        ("tool_use_id", id.as_str()),
    ];
    claude.send("pre_tool_use_bash.json", &vars);
    std::fs::write(&file, "fn a() {}\nfn c() {}\n// mine\n").unwrap();
    claude.send("post_tool_use_bash.json", &vars);
    assert_eq!(
        blame(&ws.db, &file),
        ["untracked", "ai claude:s-bash-human", "human"]
    );
}

#[test]
fn claude_stop_closes_the_brackets_and_unknown_events_are_kept() {
    let ws = Workspace::new();
    let file = ws.write("lib.rs", "fn a() {}\n");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-stop");
    claude.send("user_prompt_submit.json", &[("prompt", "try an edit")]);
    // The edit is rejected: a pre event and no post.
    let (pre, _post) = claude.claude_edit_split(&file, "fn a() {}", "fn a() {}\nfn b() {}");
    pre(&claude);
    claude.send("notification.json", &[]);
    claude.send("stop.json", &[]);
    claude.send("session_end.json", &[]);
    assert_eq!(
        column(&ws.db, "SELECT close_reason FROM hook_brackets"),
        ["next_event"],
        "the session's open bracket is closed by its next event"
    );
    // Nothing changed under it: nothing is the agent's.
    assert_eq!(blame(&ws.db, &file), ["untracked"]);
    assert_eq!(
        column(
            &ws.db,
            "SELECT (closed_ms IS NOT NULL) || ' ' || close_reason FROM hook_sessions"
        ),
        ["1 session_end"]
    );
    assert_eq!(
        column(
            &ws.db,
            "SELECT kind FROM events WHERE source = 'hook:claude' ORDER BY id"
        ),
        [
            "hook.UserPromptSubmit",
            "hook.PreToolUse",
            "hook.Notification",
            "hook.Stop",
            "hook.SessionEnd"
        ]
    );
    let notification = column(
        &ws.db,
        "SELECT payload FROM events WHERE kind = 'hook.Notification'",
    );
    assert!(
        notification[0].contains("a_field_from_the_future"),
        "the payload is stored verbatim"
    );
}

#[test]
fn codex_apply_patch_and_shell_commands() {
    let ws = Workspace::new();
    std::fs::create_dir(ws.path("src")).unwrap();
    let lib = ws.write("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n");
    commit_all(&ws, "lib");
    let codex = Session::new(&ws, "codex", "codex/0.130", "019a-codex");
    codex.send(
        "user_prompt_submit.json",
        &[("prompt", "add two() and a util module")],
    );
    let patch = "*** Begin Patch\n*** Update File: src/lib.rs\n@@\n pub fn one() -> u32 {\n     1\n }\n+\n+pub fn two() -> u32 {\n+    2\n+}\n*** Add File: src/util.rs\n+pub fn util() {}\n*** End Patch\n";
    let vars = [("patch", patch), ("tool_use_id", "call_patch_1")];
    codex.send("pre_tool_use_apply_patch.json", &vars);
    std::fs::write(
        &lib,
        "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n",
    )
    .unwrap();
    std::fs::write(ws.path("src/util.rs"), "pub fn util() {}\n").unwrap();
    codex.send("post_tool_use_apply_patch.json", &vars);
    let vars = [
        ("command", "cargo fmt && touch NOTES"),
        ("tool_use_id", "call_shell_1"),
    ];
    codex.send("pre_tool_use_bash.json", &vars);
    std::fs::write(ws.path("NOTES"), "formatted\n").unwrap();
    codex.send("post_tool_use_bash.json", &vars);
    codex.send("stop.json", &[]);

    let id = "codex:019a-codex";
    let ai = format!("ai {id}");
    // The patch's blank line is the agent's too: the file's old final empty line (after its
    // last line break) is not a line that could have been kept (issue 10).
    assert_eq!(
        blame(&ws.db, &lib),
        [
            "untracked",
            "untracked",
            "untracked",
            ai.as_str(),
            ai.as_str(),
            ai.as_str(),
            ai.as_str()
        ]
    );
    assert_eq!(blame(&ws.db, &ws.path("src/util.rs")), [ai.as_str()]);
    assert_eq!(blame(&ws.db, &ws.path("NOTES")), [ai.as_str()]);
    let log = log(&ws);
    let session = interaction(&log, id);
    assert_eq!(session["agent"], "codex");
    assert_eq!(session["model"], "gpt-5.1-codex");
    assert_eq!(session["edits"].as_array().unwrap().len(), 3);
}

/// A Codex patch applied through the shell, as Codex 0.171 runs it for a model without its
/// `apply_patch` tool.
fn shell_patch(patch: &str) -> String {
    format!("apply_patch <<'EOF'\n*** Begin Patch\n{patch}*** End Patch\nEOF\n")
}

#[test]
fn codex_apply_patch_through_the_shell_has_no_post_event_and_is_still_the_agents() {
    // The sequence Codex 0.171 really sends (tests/it/live_codex.rs): a PreToolUse (Bash) for
    // each patch and no PostToolUse; shell commands get both.
    let ws = Workspace::new();
    let codex = Session::new(&ws, "codex", "codex/0.171", "019b-shell");
    codex.send(
        "user_prompt_submit.json",
        &[("prompt", "calc with add and sub")],
    );
    let add = shell_patch("*** Add File: calc.py\n+def add(a, b):\n+    return a + b\n");
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", &add), ("tool_use_id", "call_1")],
    );
    let calc = ws.write("calc.py", "def add(a, b):\n    return a + b\n");
    let update = shell_patch(
        "*** Update File: calc.py\n@@\n def add(a, b):\n     return a + b\n+\n+def sub(a, b):\n+    return a - b\n",
    );
    // The next tool call closes the first patch's bracket.
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", &update), ("tool_use_id", "call_2")],
    );
    ws.write(
        "calc.py",
        "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n",
    );
    let printf = "printf 'VERSION = 1\\n' > version.py";
    let vars = [("command", printf), ("tool_use_id", "call_3")];
    codex.send("pre_tool_use_bash.json", &vars);
    ws.write("version.py", "VERSION = 1\n");
    codex.send("post_tool_use_bash.json", &vars);
    // A last patch, closed by Stop.
    let notes = shell_patch("*** Add File: NOTES\n+calc\n");
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", &notes), ("tool_use_id", "call_4")],
    );
    ws.write("NOTES", "calc\n");
    codex.send("stop.json", &[("message", "Done.")]);

    let ai = "ai codex:019b-shell";
    assert_eq!(blame(&ws.db, &calc), [ai; 5]);
    assert_eq!(blame(&ws.db, &ws.path("version.py")), [ai]);
    assert_eq!(blame(&ws.db, &ws.path("NOTES")), [ai]);
    assert_eq!(
        column(
            &ws.db,
            "SELECT tool_name || ' ' || kind || ' ' || close_reason FROM hook_brackets ORDER BY id"
        ),
        [
            "Bash file next_event",
            "Bash file next_event",
            "Bash shell post",
            "Bash file next_event"
        ]
    );
    let log = log(&ws);
    let session = interaction(&log, "codex:019b-shell");
    assert_eq!(session["model"], "scripted-model");
    assert_eq!(session["edits"].as_array().unwrap().len(), 4);
    verify(&ws);
}

#[test]
fn a_bracket_left_open_is_untracked_when_another_session_had_the_file() {
    let ws = Workspace::new();
    let file = ws.write("shared.py", "x = 1\n");
    commit_all(&ws, "shared");
    let codex = Session::new(&ws, "codex", "codex/0.171", "019b-left");
    codex.send("user_prompt_submit.json", &[("prompt", "change shared")]);
    let patch = shell_patch("*** Update File: shared.py\n@@\n-x = 1\n+x = 2\n");
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", &patch), ("tool_use_id", "call_1")],
    );
    // While Codex's bracket is open, a Claude session edits the same file.
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "c-other");
    claude.send(
        "user_prompt_submit.json",
        &[("prompt", "also change shared")],
    );
    claude.claude_edit(&file, "x = 1\n", "x = 2\ny = 3\n", "x = 2\ny = 3\n");
    codex.send("stop.json", &[("message", "Done.")]);
    // Who wrote what in between cannot be told: nobody's line is claimed by Codex.
    let lines = blame(&ws.db, &file);
    assert!(
        !lines.iter().any(|line| line.contains("codex")),
        "{lines:?}"
    );
}

#[test]
fn a_bracket_left_open_is_untracked_when_an_editor_changed_the_file() {
    let ws = Workspace::new();
    let file = ws.write("edited.py", "x = 1\n");
    commit_all(&ws, "edited");
    let codex = Session::new(&ws, "codex", "codex/0.171", "019b-editor");
    codex.send("user_prompt_submit.json", &[("prompt", "change edited")]);
    let patch = shell_patch("*** Update File: edited.py\n@@\n-x = 1\n+x = 2\n");
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", &patch), ("tool_use_id", "call_1")],
    );
    // The person types in an editor meanwhile (the language server records the change) and
    // saves over what the patch wrote.
    let mut daemon = ws.daemon();
    let uri = ws.uri("edited.py");
    crate::support::open(&mut daemon, &uri, "x = 1\n");
    crate::support::change(&mut daemon, &uri, 2, (1, 0), (1, 0), "z = 0\n");
    daemon.shutdown().unwrap();
    std::fs::write(&file, "x = 2\nz = 0\n").unwrap();
    codex.send("stop.json", &[("message", "Done.")]);
    let lines = blame(&ws.db, &file);
    assert!(
        !lines.iter().any(|line| line.contains("codex")),
        "{lines:?}"
    );
    // Without anyone else around, the same sequence is the agent's.
    let other = ws.write("alone.py", "x = 1\n");
    let patch = shell_patch("*** Update File: alone.py\n@@\n-x = 1\n+x = 2\n");
    codex.send("user_prompt_submit.json", &[("prompt", "change alone")]);
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", &patch), ("tool_use_id", "call_2")],
    );
    std::fs::write(&other, "x = 2\n").unwrap();
    codex.send("stop.json", &[("message", "Done.")]);
    assert_eq!(blame(&ws.db, &other), ["ai codex:019b-editor"]);
}

#[test]
fn cursor_file_edits_without_a_pre_event() {
    let ws = Workspace::new();
    let file = ws.write("lib.rs", "fn a() {}\n");
    commit_all(&ws, "lib");
    let cursor = Session::new(&ws, "cursor", "cursor/2.0", "conv-1");
    cursor.send("before_submit_prompt.json", &[("prompt", "add helpers")]);
    let path = file.to_string_lossy().into_owned();
    let edit = |old: &str, new: &str, disk: &str| {
        std::fs::write(&file, disk).unwrap();
        cursor.send(
            "after_file_edit.json",
            &[("file", &path), ("old", old), ("new", new)],
        );
    };
    // Cursor reports edits only after the fact; the file before is rebuilt from the edit.
    edit(
        "fn a() {}",
        "fn a() {}\nfn cursor() {}",
        "fn a() {}\nfn cursor() {}\n",
    );
    std::fs::write(&file, "fn a() {}\nfn cursor() {}\n// by hand\n").unwrap();
    edit(
        "// by hand",
        "// by hand\nfn cursor2() {}",
        "fn a() {}\nfn cursor() {}\n// by hand\nfn cursor2() {}\n",
    );
    // An edit that cannot be undone exactly (its text occurs twice) is credited to nobody.
    edit(
        "fn cursor2() {}",
        "fn x() {}",
        "fn a() {}\nfn cursor() {}\n// by hand\nfn x() {}\nfn x() {}\n",
    );
    let shell = [("command", "touch CHANGELOG && echo '- helpers' > CHANGELOG")];
    cursor.send("before_shell_execution.json", &shell);
    std::fs::write(ws.path("CHANGELOG"), "- helpers\n").unwrap();
    cursor.send("after_shell_execution.json", &shell);
    cursor.send("stop.json", &[]);

    assert_eq!(
        blame(&ws.db, &file),
        [
            "untracked",
            "ai cursor:conv-1",
            "human",
            "untracked",
            "untracked"
        ]
    );
    assert_eq!(blame(&ws.db, &ws.path("CHANGELOG")), ["ai cursor:conv-1"]);
    let log = log(&ws);
    let session = interaction(&log, "cursor:conv-1");
    assert_eq!(session["model"], "claude-4.5-sonnet");
    assert_eq!(session["agentVersion"], "2.0.77");
}

#[test]
fn copilot_camel_case_hooks_without_event_names() {
    let ws = Workspace::new();
    let file = ws.write("app.py", "def main():\n    pass\n");
    commit_all(&ws, "app");
    let copilot = Session::new(&ws, "copilot", "copilot/0.0.400", "cp-1");
    copilot.send(
        "user_prompt_submitted.json",
        &[("prompt", "print a greeting")],
    );
    let path = file.to_string_lossy().into_owned();
    let vars = [
        ("file", path.as_str()),
        ("old", "    pass"),
        ("new", "    print(\"hello\")"),
    ];
    // Older Copilot CLI versions send toolArgs as a JSON string.
    let mut pre: Value =
        serde_json::from_str(&copilot.payload("pre_tool_use_edit.json", &vars)).unwrap();
    pre["toolArgs"] = Value::String(pre["toolArgs"].to_string());
    run_hook(&ws.db, &ws.root, "copilot", &pre.to_string());
    std::fs::write(&file, "def main():\n    print(\"hello\")\n").unwrap();
    copilot.send("post_tool_use_edit.json", &vars);
    copilot.send("agent_stop.json", &[]);
    copilot.send("session_end.json", &[]);
    assert_eq!(blame(&ws.db, &file), ["untracked", "ai copilot:cp-1"]);
    let log = log(&ws);
    assert_eq!(interaction(&log, "copilot:cp-1")["agent"], "copilot-cli");
    assert_eq!(
        column(&ws.db, "SELECT kind FROM events ORDER BY id"),
        [
            "hook.userPromptSubmitted",
            "hook.preToolUse",
            "hook.postToolUse",
            "hook.agentStop",
            "hook.sessionEnd"
        ]
    );
}

#[test]
fn gemini_before_and_after_tool() {
    let ws = Workspace::new();
    let file = ws.write("main.go", "package main\nfunc main() {}\n");
    commit_all(&ws, "main");
    let gemini = Session::new(&ws, "gemini", "gemini/0.20", "gem-1");
    gemini.send("before_agent.json", &[("prompt", "add a version constant")]);
    let path = file.to_string_lossy().into_owned();
    let vars = [
        ("file", path.as_str()),
        ("old", "package main\n"),
        ("new", "package main\nconst Version = \"1.0\"\n"),
    ];
    gemini.send("before_tool_replace.json", &vars);
    std::fs::write(
        &file,
        "package main\nconst Version = \"1.0\"\nfunc main() {}\n",
    )
    .unwrap();
    gemini.send("after_tool_replace.json", &vars);
    gemini.send("after_agent.json", &[("prompt", "add a version constant")]);
    gemini.send("session_end.json", &[]);
    let ai = "ai gemini:gem-1";
    assert_eq!(blame(&ws.db, &file), ["untracked", ai, "untracked"]);
    let log = log(&ws);
    assert_eq!(interaction(&log, "gemini:gem-1")["agent"], "gemini-cli");
}

#[test]
fn the_generic_prodcode_format() {
    let ws = Workspace::new();
    let file = ws.write("README", "sample\n");
    let aider = Session::new(&ws, "prodcode", "prodcode/1", "aider-7");
    aider.send(
        "prompt_submitted.json",
        &[("prompt", "document the sample")],
    );
    let path = file.to_string_lossy().into_owned();
    let vars = [("file", path.as_str()), ("tool_use_id", "e1")];
    aider.send("pre_edit.json", &vars);
    std::fs::write(&file, "sample\n\nA sample repository.\n").unwrap();
    aider.send("post_edit.json", &vars);
    aider.send("stop.json", &[]);
    // The blank line is the agent's: the old final empty line is not a line it could keep.
    assert_eq!(
        blame(&ws.db, &file),
        ["untracked", "ai prodcode:aider-7", "ai prodcode:aider-7"]
    );
    let log = log(&ws);
    let session = interaction(&log, "prodcode:aider-7");
    assert_eq!(session["agent"], "aider");
    assert_eq!(session["model"], "deepseek-chat");
    assert_eq!(session["agentVersion"], "0.86.1");
}

#[test]
fn malformed_input_is_recorded_and_never_fails() {
    let ws = Workspace::new();
    for (agent, input) in [
        ("claude", "{\"session_id\": \"s\", \"hook_event_name\": "),
        ("cursor", ""),
        ("gemini", "[1, 2, 3]"),
        ("copilot", "\u{0}\u{1}binary"),
        ("some-new-agent", "{\"whatever\": true}"),
    ] {
        run_hook(&ws.db, &ws.root, agent, input);
    }
    assert_eq!(
        column(
            &ws.db,
            "SELECT source || ' ' || kind FROM events ORDER BY id"
        ),
        [
            "hook:claude hook.unparsed",
            "hook:cursor hook.unparsed",
            "hook:gemini hook.unknown",
            "hook:copilot hook.unparsed",
            "hook:some-new-agent hook.unknown",
        ]
    );
    let payload = column(&ws.db, "SELECT payload FROM events WHERE id = 1");
    let payload: Value = serde_json::from_str(&payload[0]).unwrap();
    assert_eq!(
        payload["unparsed"],
        "{\"session_id\": \"s\", \"hook_event_name\": "
    );
    verify(&ws);
}

#[test]
fn a_locked_database_keeps_the_calls_in_the_spool_until_it_is_free() {
    let ws = Workspace::new();
    let file = ws.write("lib.rs", "fn a() {}\n");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-locked");
    claude.send("user_prompt_submit.json", &[("prompt", "first")]);
    crate::support::drain_hooks(&ws.db);

    // Another process holds the write lock: the calls do not wait for it, their entries wait in
    // the spool (the drainer cannot write either).
    let lock = rusqlite::Connection::open(&ws.db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    claude.send("user_prompt_submit.json", &[("prompt", "second")]);
    let (pre, post) = claude.claude_edit_split(&file, "fn a() {}", "fn a() {}\nfn b() {}");
    pre(&claude);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "the calls waited for the lock: {:?}",
        started.elapsed()
    );
    let spooled = spool_entries(&ws.db);
    assert_eq!(spooled.len(), 2, "both calls spooled: {spooled:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&spooled[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);

    // The edit lands; the spool is recorded in receipt order (the prompt, then the pre event as
    // the file was then), then the post event.
    std::fs::write(&file, "fn a() {}\nfn b() {}\n").unwrap();
    post(&claude);
    let log = log(&ws);
    assert!(spool_entries(&ws.db).is_empty());
    assert_eq!(
        prompts(interaction(&log, "claude:s-locked")),
        ["first", "second"]
    );
    assert_eq!(blame(&ws.db, &file), ["untracked", "ai claude:s-locked"]);
    assert_eq!(
        column(&ws.db, "SELECT kind FROM events ORDER BY id"),
        [
            "hook.UserPromptSubmit",
            "hook.UserPromptSubmit",
            "hook.PreToolUse",
            "hook.PostToolUse"
        ]
    );
    assert_eq!(
        column(&ws.db, "SELECT count(*) FROM hook_spool_ingested"),
        ["4"]
    );
    verify(&ws);
}

#[test]
fn a_corrupt_database_spools_until_it_is_replaced() {
    let ws = Workspace::new();
    std::fs::write(
        &ws.db,
        "these are not the tables you are looking for\n".repeat(100),
    )
    .unwrap();
    let claude = Session::new(&ws, "claude", "claude/2.1", "s-corrupt");
    claude.send("user_prompt_submit.json", &[("prompt", "while broken")]);
    // The drainer cannot record it, and says so; the entry waits.
    let drained = crate::support::drain_hooks(&ws.db);
    assert!(!drained.status.success());
    let stderr = String::from_utf8_lossy(&drained.stderr);
    assert!(
        stderr.contains("1 hook event(s) wait in the spool"),
        "{stderr}"
    );
    assert_eq!(spool_entries(&ws.db).len(), 1);
    let log_file = std::fs::read_to_string(ws.db.with_file_name("prodcode.db.hook.log")).unwrap();
    assert!(log_file.contains("not a SQLite database"), "{log_file}");

    std::fs::rename(&ws.db, ws.db.with_file_name("corrupt.db")).unwrap();
    claude.send("user_prompt_submit.json", &[("prompt", "after the fix")]);
    let log = log(&ws);
    assert!(spool_entries(&ws.db).is_empty());
    assert_eq!(
        prompts(interaction(&log, "claude:s-corrupt")),
        ["while broken", "after the fix"]
    );
}

#[test]
fn an_opt_out_file_stops_all_capture_for_the_repo() {
    let ws = Workspace::new();
    ws.write(".prodcode-ignore", "");
    std::fs::create_dir(ws.path("sub")).unwrap();
    let file = ws.write("sub/lib.rs", "fn a() {}\n");
    let sub = ws.path("sub");
    let mut claude = Session::in_dir(&ws.db, &sub, "claude", "claude/2.1", "s-private");
    claude.send("user_prompt_submit.json", &[("prompt", "secret project")]);
    claude.claude_edit(
        &file,
        "fn a() {}",
        "fn a() {}\nfn b() {}",
        "fn a() {}\nfn b() {}\n",
    );
    run_hook(&ws.db, &ws.root, "git", "");
    // The post-commit hook starts no background link for the repository either (it used to,
    // and under load that link created the database before this check).
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!ws.db.exists(), "nothing recorded, not even an event");
    assert!(spool_entries(&ws.db).is_empty());

    // The same agent in another repository is recorded.
    let other = Workspace::new();
    Session::in_dir(&ws.db, &other.root, "claude", "claude/2.1", "s-public")
        .send("user_prompt_submit.json", &[("prompt", "public project")]);
    assert_eq!(
        column(&ws.db, "SELECT id FROM interactions"),
        ["claude:s-public"]
    );
}

#[test]
fn secrets_are_redacted_from_prompts_and_event_payloads() {
    let ws = Workspace::new();
    let claude = Session::new(&ws, "claude", "claude/2.1", "s-secret");
    let prompt = "deploy with AKIAIOSFODNN7EXAMPLE and ghp_16C7e42F292c6912E7710c838347Ae178B4a, \
                  db password: hunter2Xy9, then call https://ci:s3cr3tPa55@ci.example.com/api";
    claude.send("user_prompt_submit.json", &[("prompt", prompt)]);
    let log = log(&ws);
    assert_eq!(
        prompts(interaction(&log, "claude:s-secret")),
        [
            "deploy with [REDACTED:aws_access_key] and [REDACTED:github_token], db password: \
          [REDACTED:secret], then call https://ci:[REDACTED:url_password]@ci.example.com/api"
        ]
    );
    let payloads = column(&ws.db, "SELECT payload FROM events").join("\n");
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_16C7",
        "hunter2Xy9",
        "s3cr3tPa55",
    ] {
        assert!(!payloads.contains(secret), "{secret} is in the event log");
        assert!(
            !column(&ws.db, "SELECT text FROM prompts")
                .join("")
                .contains(secret)
        );
    }
    let payload: Value =
        serde_json::from_str(&column(&ws.db, "SELECT payload FROM events")[0]).unwrap();
    assert_eq!(
        payload["hook_event_name"], "UserPromptSubmit",
        "still the agent's JSON"
    );
    assert_eq!(
        column(
            &ws.db,
            "SELECT turn || ' ' || kind || ' ' || count FROM prompt_redactions ORDER BY kind"
        ),
        [
            "1 aws_access_key 1",
            "1 github_token 1",
            "1 secret 1",
            "1 url_password 1"
        ]
    );
    // `prodcode log --json` says what was redacted, with the prompt.
    assert_eq!(
        interaction(&log, "claude:s-secret")["prompts"][0]["redactions"],
        serde_json::json!([
            { "kind": "aws_access_key", "count": 1 },
            { "kind": "github_token", "count": 1 },
            { "kind": "secret", "count": 1 },
            { "kind": "url_password", "count": 1 },
        ])
    );
}

#[test]
fn git_post_commit_records_the_commit() {
    let ws = Workspace::new();
    ws.write("lib.rs", "fn a() {}\n");
    commit_all(&ws, "second");
    let output = Command::new(bin())
        .args(["hook", "git", "--db"])
        .arg(&ws.db)
        .current_dir(&ws.root)
        .env_remove("PRODCODE_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
    let rows = column(
        &ws.db,
        "SELECT source || ' ' || kind || ' ' || payload FROM events",
    );
    assert_eq!(rows.len(), 1);
    let (prefix, payload) = rows[0].split_at("hook:git git.commit ".len());
    assert_eq!(prefix, "hook:git git.commit ");
    let payload: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(
        payload["head"],
        git(&ws.root, &["rev-parse", "HEAD"]).trim()
    );
    assert_eq!(payload["branch"], "main");
    assert_eq!(payload["root"], ws.root.to_str().unwrap());
    assert_eq!(
        column(&ws.db, "SELECT root FROM repositories"),
        [ws.root.to_str().unwrap()]
    );
}

/// Agents send whole files in their payloads (Claude's `originalFile`): the event keeps a blob
/// reference instead, and the blob holds the text, so the log does not grow by a file per edit.
#[test]
fn whole_files_in_payloads_are_stored_once_as_blobs() {
    let ws = Workspace::new();
    let original: String = (0..400).map(|i| format!("let line_{i} = {i};\n")).collect();
    let file = ws.write("big.rs", &original);
    commit_all(&ws, "big");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-big");
    claude.send("user_prompt_submit.json", &[("prompt", "rename line_7")]);
    let edited = original.replacen("let line_7 ", "let seven ", 1);
    claude.claude_edit(&file, "let line_7 ", "let seven ", &edited);
    let payloads = column(
        &ws.db,
        "SELECT payload FROM events WHERE kind = 'hook.PostToolUse'",
    );
    assert_eq!(payloads.len(), 1);
    let payload: Value = serde_json::from_str(&payloads[0]).unwrap();
    let reference = &payload["tool_response"]["originalFile"];
    assert_eq!(reference["bytes"], original.len(), "{payload}");
    let hash = reference["$blob"].as_str().unwrap();
    let stored = column(
        &ws.db,
        &format!("SELECT CAST(data AS TEXT) FROM blobs WHERE hash = '{hash}'"),
    );
    assert_eq!(stored, [original]);
    assert!(payloads[0].len() < 4096, "{} bytes", payloads[0].len());
    verify(&ws);
}

/// The database's size once its write-ahead log is folded in: page count times page size.
fn checkpointed_size(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .unwrap();
    (pages * page_size) as u64
}

// Issue 16: every agent edit kept a full copy of the file (20 edits of a 5,000-line file grew
// the store by about 20 times the file); snapshots are now deltas against the previous one.
#[test]
fn twenty_agent_edits_of_a_large_file_grow_the_store_by_at_most_three_copies() {
    let ws = Workspace::new();
    let line = |n: usize, version: usize| {
        format!(
            "    let value_{n:04} = compute(\"row {n}\", {version}) + offset; // keep the width realistic\n"
        )
    };
    let mut lines: Vec<String> = (0..5_000).map(|n| line(n, 0)).collect();
    let file = ws.write("big.rs", &lines.concat());
    let file_size = lines.concat().len() as u64;
    commit_all(&ws, "big");
    let mut claude = Session::new(&ws, "claude", "claude/2.1", "s-deltas");
    claude.send(
        "user_prompt_submit.json",
        &[("prompt", "bump the versions")],
    );
    let before = checkpointed_size(&ws.db);
    let mut edited = Vec::new();
    for edit in 1..=20 {
        let n = (edit * 241) % 5_000;
        edited.push(n);
        let original = lines.concat();
        let old = lines[n].clone();
        lines[n] = line(n, edit);
        let after = lines.concat();
        if edit % 5 == 0 {
            // Every fifth edit rewrites the whole file, its text in the payload twice.
            let id = claude.next_tool_use();
            let path = file.to_string_lossy().into_owned();
            let vars = [
                ("file", path.as_str()),
                ("content", after.as_str()),
                ("tool_use_id", id.as_str()),
                ("original", original.as_str()),
            ];
            claude.send("pre_tool_use_write.json", &vars);
            std::fs::write(&file, &after).unwrap();
            claude.send("post_tool_use_write.json", &vars);
        } else {
            claude.claude_edit(&file, old.trim_end(), lines[n].trim_end(), &after);
        }
    }
    let growth = checkpointed_size(&ws.db) - before;
    assert!(
        growth <= 3 * file_size,
        "20 edits grew the store by {growth} bytes, {:.1} times the file ({file_size} bytes)",
        growth as f64 / file_size as f64
    );

    // Blame and log read the snapshots back: each edited line is the agent's, the rest as
    // committed before capture began.
    let classes = blame(&ws.db, &file);
    assert_eq!(classes.len(), 5_000);
    for (n, class) in classes.iter().enumerate() {
        let expected = if edited.contains(&n) {
            "ai claude:s-deltas"
        } else {
            "untracked"
        };
        assert_eq!(class, expected, "line {}", n + 1);
    }
    let log = log(&ws);
    let edits = interaction(&log, "claude:s-deltas")["edits"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(edits, 20);
    verify(&ws);

    // A tampered delta is found by verify, named by its hash.
    let deltas = column(
        &ws.db,
        "SELECT hash FROM blobs WHERE base IS NOT NULL ORDER BY rowid",
    );
    assert!(deltas.len() >= 15, "{deltas:?}");
    let target = &deltas[3];
    let conn = rusqlite::Connection::open(&ws.db).unwrap();
    conn.execute(
        "UPDATE blobs SET data = replace(data, CAST('compute' AS BLOB), CAST('comqute' AS BLOB))
         WHERE hash = ?1",
        [target],
    )
    .unwrap();
    drop(conn);
    let output = ws.prodcode(&["verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains(target.as_str()), "{stdout}");
}

/// The agent never waits for the database: calls return while another process holds its write
/// lock, their entries wait in the spool, a drainer killed while it waits loses nothing, and the
/// next report records everything in receipt order, exactly once.
#[cfg(target_os = "linux")]
#[test]
fn hook_calls_spool_and_a_killed_drainer_loses_nothing() {
    let ws = Workspace::new();
    let claude = Session::new(&ws, "claude", "claude/2.1", "s-drain");
    claude.send("user_prompt_submit.json", &[("prompt", "prompt 00")]);
    crate::support::drain_hooks(&ws.db);

    let lock = rusqlite::Connection::open(&ws.db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    for n in 1..20 {
        claude.send(
            "user_prompt_submit.json",
            &[("prompt", &format!("prompt {n:02}"))],
        );
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(3),
        "19 calls took {elapsed:?}: they waited for the lock"
    );
    assert_eq!(spool_entries(&ws.db).len(), 19);
    let running = crate::support::drainers(&ws.db);
    assert!(!running.is_empty(), "a drainer was started");
    for pid in running {
        // SAFETY: kill(2) on a pid just read from /proc; no memory is involved.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);

    let log = log(&ws);
    let expected: Vec<String> = (0..20).map(|n| format!("prompt {n:02}")).collect();
    assert_eq!(prompts(interaction(&log, "claude:s-drain")), expected);
    assert!(spool_entries(&ws.db).is_empty());
    assert_eq!(
        column(&ws.db, "SELECT count(*) FROM events"),
        ["20"],
        "each entry recorded once"
    );
    verify(&ws);
}

/// A pre event whose post never comes (Codex's `apply_patch` through the shell) is closed by the
/// session's next event even while neither is recorded yet: the next call reads the spool's
/// heads, so the file is read then, not when the drainer gets to it.
#[test]
fn a_bracket_still_in_the_spool_is_closed_by_the_next_event() {
    let ws = Workspace::new();
    let codex = Session::new(&ws, "codex", "codex/0.171", "019b-spooled");
    codex.send("user_prompt_submit.json", &[("prompt", "calc")]);
    crate::support::drain_hooks(&ws.db);

    // Nothing is recorded while the lock is held.
    let lock = rusqlite::Connection::open(&ws.db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let add = shell_patch("*** Add File: calc.py\n+def add(a, b):\n+    return a + b\n");
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", &add), ("tool_use_id", "call_1")],
    );
    let calc = ws.write("calc.py", "def add(a, b):\n    return a + b\n");
    // The next call closes the first patch's bracket, reading calc.py now.
    let printf = "printf 'x' > other.txt";
    codex.send(
        "pre_tool_use_bash.json",
        &[("command", printf), ("tool_use_id", "call_2")],
    );
    // Afterwards the person rewrites the file: not the agent's, and not read as the patch's.
    std::fs::write(&calc, "def add(a, b):\n    return a + b\n# mine\n").unwrap();
    assert_eq!(spool_entries(&ws.db).len(), 2);
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);

    let ai = "ai codex:019b-spooled";
    assert_eq!(blame(&ws.db, &calc), [ai, ai, "untracked"]);
    assert_eq!(
        column(
            &ws.db,
            "SELECT tool_name || ' ' || kind || ' ' || close_reason FROM hook_brackets ORDER BY id LIMIT 1"
        ),
        ["Bash file next_event"]
    );
}

/// `prodcode-hook` is what installed hooks run. Without a `prodcode` beside it (renamed or copied
/// alone) it still records the call into the spool, says in the hook log why no drainer started,
/// and never starts itself in `prodcode`'s place; any command line but `<agent> [--event]
/// [--db]` goes to `prodcode hook`.
#[cfg(target_os = "linux")]
#[test]
fn the_hook_program_alone_spools_and_hands_everything_else_to_prodcode() {
    let ws = Workspace::new();
    let alone = ws.db.with_file_name("elsewhere").join("agent-hook");
    std::fs::create_dir_all(alone.parent().unwrap()).unwrap();
    if std::fs::hard_link(crate::support::hook_bin(), &alone).is_err() {
        std::fs::copy(crate::support::hook_bin(), &alone).unwrap();
    }
    let claude = Session::new(&ws, "claude", "claude/2.1", "s-alone");
    let payload = claude.payload("user_prompt_submit.json", &[("prompt", "alone")]);
    let output = crate::support::run_hook_program(&alone, &ws.db, &ws.root, "claude", &payload);
    assert!(output.status.success());
    assert_eq!(output.stdout, b"");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert_eq!(spool_entries(&ws.db).len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        crate::support::drainers(&ws.db),
        Vec::<i32>::new(),
        "no drainer: there is no prodcode to run it"
    );
    let hook_log = std::fs::read_to_string(ws.db.with_file_name("prodcode.db.hook.log")).unwrap();
    assert!(hook_log.contains("has no prodcode beside it"), "{hook_log}");

    // The installed pair hands `--drain` to `prodcode hook`, which records the waiting call.
    let drained = Command::new(crate::support::hook_bin())
        .args(["--drain", "--db"])
        .arg(&ws.db)
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap();
    assert!(
        drained.status.success(),
        "{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    assert!(spool_entries(&ws.db).is_empty());
    assert_eq!(prompts(interaction(&log(&ws), "claude:s-alone")), ["alone"]);

    let version = Command::new(crate::support::hook_bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("prodcode-hook "));
}

/// `prodcode-hook` starts without Rust's runtime setup, so it opens the standard descriptors and
/// ignores SIGPIPE itself: with its stdout closed, the files it opens never take descriptor 1
/// (the reply would be written into one of them), and an agent that stops reading before the
/// reply gets a zero exit, not a hook killed by a signal. Gemini CLI's hook replies `{}`.
#[cfg(target_os = "linux")]
#[test]
fn the_hook_program_survives_a_closed_stdout_and_a_reader_that_left() {
    use std::os::unix::process::CommandExt;
    let ws = Workspace::new();
    let gemini = Session::new(&ws, "gemini", "gemini/0.20", "gem-closed");
    let prompts_sent = ["stdout closed", "reader gone"];
    for (round, prompt) in prompts_sent.iter().enumerate() {
        let payload = gemini.payload("before_agent.json", &[("prompt", prompt)]);
        let mut command = Command::new(crate::support::hook_bin());
        command
            .args(["gemini", "--db"])
            .arg(&ws.db)
            .current_dir(&ws.root)
            .env_remove("PRODCODE_DB")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped());
        if round == 0 {
            // SAFETY: close is async-signal-safe; the child closes its own stdout before exec.
            unsafe {
                command.pre_exec(|| {
                    libc::close(1);
                    Ok(())
                });
            }
        } else {
            command.stdout(Stdio::piped());
        }
        let mut child = command.spawn().unwrap();
        // The reader leaves before the hook writes its reply.
        drop(child.stdout.take());
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(payload.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "round {round}: {output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    }
    let drained = crate::support::drain_hooks(&ws.db);
    assert!(drained.status.success(), "{drained:?}");
    assert_eq!(
        prompts(interaction(&log(&ws), "gemini:gem-closed")),
        prompts_sent
    );
    // Nothing the hook wrote went into a file it had open as descriptor 1.
    for entry in std::fs::read_dir(ws.db.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let text = std::fs::read(&path).unwrap();
            assert!(!text.starts_with(b"{}\n"), "{}", path.display());
        }
    }
}
