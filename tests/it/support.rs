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

/// `prodcode-hook`, the binary `prodcode install` writes into agents' hooks.
pub fn hook_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_prodcode-hook"))
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

// Linking commits to provenance (`tests/it/link.rs`, `tests/it/link_random.rs`): git with an
// isolated configuration, a Claude Code session driven through `prodcode hook claude`, a person
// editing through the daemon, and the `link` and `blame --rev` commands.

/// Runs `git ARGS…` in `dir` with `env`, ignoring the user's and the system's git configuration
/// (a global `merge.conflictStyle`, hooks or signing must not change what a test sees).
pub fn git_output(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new("git");
    command
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "merge.conflictStyle=merge",
        ])
        .args([
            "-c",
            "advice.detachedHead=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_EDITOR", "true")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// `git ARGS…` that must succeed, with extra environment variables; returns stdout.
pub fn git_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    match git_try_env(dir, env, args) {
        Ok(stdout) => stdout,
        Err(error) => panic!("git {args:?} in {}: {error}", dir.display()),
    }
}

/// `git ARGS…` that may fail (a merge that conflicts): stdout, or stdout and stderr on failure.
pub fn git_try(dir: &Path, args: &[&str]) -> Result<String, String> {
    git_try_env(dir, &[], args)
}

pub fn git_try_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Result<String, String> {
    let output = git_output(dir, env, args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{}{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The whole history, for assertion messages.
pub fn git_graph(dir: &Path) -> String {
    git_try(
        dir,
        &[
            "log",
            "--all",
            "--graph",
            "--oneline",
            "--decorate",
            "-n",
            "60",
        ],
    )
    .unwrap_or_else(|error| error)
}

/// A fixture of `tests/data/hooks/` with its `{{name}}` placeholders filled (values
/// JSON-escaped).
pub fn hook_fixture(name: &str, vars: &[(&str, &str)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hooks")
        .join(name);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    for (key, value) in vars {
        let escaped = serde_json::to_string(value).unwrap();
        text = text.replace(&format!("{{{{{key}}}}}"), &escaped[1..escaped.len() - 1]);
    }
    assert!(
        !text.contains("{{"),
        "unfilled placeholder in {name}: {text}"
    );
    text
}

/// What an agent must read on stdout: nothing, or `{}` for the agents that parse JSON.
pub fn expected_reply(agent: &str) -> &'static str {
    match agent {
        "cursor" | "gemini" => "{}\n",
        _ => "",
    }
}

/// Runs `prodcode hook --drain`: what hook calls spooled is recorded when it returns (hook
/// calls leave recording to a background drainer), so the database can be read directly.
pub fn drain_hooks(db: &Path) -> Output {
    Command::new(bin())
        .args(["hook", "--drain", "--db"])
        .arg(db)
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap()
}

/// The processes running `prodcode hook --drain` for the database at `db`.
#[cfg(target_os = "linux")]
pub fn drainers(db: &Path) -> Vec<i32> {
    let db = db.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|byte| *byte == 0)
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            (args.iter().any(|arg| arg == "--drain") && args.contains(&db)).then_some(pid)
        })
        .collect()
}

/// [`drain_hooks`], then waits (up to 10 s) for background drainers to exit, so that nothing
/// writes the database file afterwards (a drainer lets it go, checkpointing, once idle).
pub fn drain_hooks_and_wait(db: &Path) {
    drain_hooks(db);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    #[cfg(target_os = "linux")]
    while !drainers(db).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs `prodcode hook <agent>` in `cwd` with `payload` on stdin, and checks what every call
/// must do whatever happens: exit 0, the agent's harmless reply, nothing on stderr.
pub fn run_hook(db: &Path, cwd: &Path, agent: &str, payload: &str) -> Output {
    // What installed hooks run; `prodcode hook <agent>` is the same handler (durability.rs and
    // import.rs call it that way).
    let output = run_hook_program(&hook_bin(), db, cwd, agent, payload);
    assert!(
        output.status.success(),
        "hook {agent} exited {:?}",
        output.status
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        expected_reply(agent),
        "stdout of hook {agent}"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "stderr of hook {agent}"
    );
    output
}

/// Runs `program <agent> --db <db>` in `cwd` with `payload` on stdin, as an agent runs its hook.
pub fn run_hook_program(
    program: &Path,
    db: &Path,
    cwd: &Path,
    agent: &str,
    payload: &str,
) -> Output {
    let mut command = Command::new(program);
    command
        .args([agent, "--db"])
        .arg(db)
        .current_dir(cwd)
        .env_remove("PRODCODE_DB");
    output_with_stdin(&mut command, payload.as_bytes())
}

/// Runs `command` with `input` on its stdin and its output captured.
pub fn output_with_stdin(command: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A Claude Code session driven through `prodcode hook claude` with the fixtures of
/// `tests/data/hooks/claude/2.1/`. Its interaction is `claude:<session>`.
pub struct Claude {
    db: PathBuf,
    cwd: PathBuf,
    session: String,
    tool_calls: u32,
}

impl Claude {
    /// SessionStart, then a prompt (UserPromptSubmit), so that edits belong to an interaction.
    pub fn start(ws: &Workspace, session: &str) -> Claude {
        Claude::start_in(&ws.db, &ws.root, session)
    }

    pub fn start_in(db: &Path, cwd: &Path, session: &str) -> Claude {
        let claude = Claude {
            db: db.to_owned(),
            cwd: cwd.to_owned(),
            session: session.to_owned(),
            tool_calls: 0,
        };
        claude.send("session_start.json", &[]);
        claude.prompt(&format!("a task for {session}"));
        claude
    }

    /// SessionStart and one prompt of the test's choosing.
    pub fn start_with_prompt(ws: &Workspace, session: &str, prompt: &str) -> Claude {
        Claude::start_in_with_prompt(&ws.db, &ws.root, session, prompt)
    }

    /// SessionStart and one prompt of the test's choosing, in any database and directory.
    pub fn start_in_with_prompt(db: &Path, cwd: &Path, session: &str, prompt: &str) -> Claude {
        let claude = Claude {
            db: db.to_owned(),
            cwd: cwd.to_owned(),
            session: session.to_owned(),
            tool_calls: 0,
        };
        claude.send("session_start.json", &[]);
        claude.prompt(prompt);
        claude
    }

    /// The end of the agent's turn (`Stop`).
    pub fn stop(&self) {
        self.send("stop.json", &[]);
    }

    pub fn interaction(&self) -> String {
        format!("claude:{}", self.session)
    }

    pub fn prompt(&self, prompt: &str) {
        self.send("user_prompt_submit.json", &[("prompt", prompt)]);
    }

    fn send(&self, name: &str, vars: &[(&str, &str)]) {
        let cwd = self.cwd.to_string_lossy().into_owned();
        let mut all: Vec<(&str, &str)> = vec![
            ("session", &self.session),
            ("cwd", &cwd),
            ("home", "/home/dev"),
        ];
        all.extend_from_slice(vars);
        let payload = hook_fixture(&format!("claude/2.1/{name}"), &all);
        run_hook(&self.db, &self.cwd, "claude", &payload);
    }

    /// A `Write` of `content` to `file`: PreToolUse, the file written, PostToolUse.
    pub fn write(&mut self, file: &Path, content: &str) {
        self.tool_calls += 1;
        let id = format!("toolu_{}_{}", self.session, self.tool_calls);
        let original = std::fs::read_to_string(file).unwrap_or_default();
        let path = file.to_string_lossy().into_owned();
        let vars = [
            ("file", path.as_str()),
            ("content", content),
            ("tool_use_id", id.as_str()),
            ("original", original.as_str()),
        ];
        self.send("pre_tool_use_write.json", &vars);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(file, content).unwrap();
        self.send("post_tool_use_write.json", &vars);
    }
}

/// An AI edit: `session` writes `content` to `file` through its hooks.
pub fn ai_write(session: &mut Claude, file: &Path, content: &str) {
    session.write(file, content);
}

/// A person at an editor: each edit is one editor session of the real daemon over pipes (started,
/// initialized without workspace folders, the document opened, changed, saved and closed, then
/// shut down).
///
/// The daemon links commits by itself, when a document of a repository is opened and whenever
/// the repository's refs change. Keeping it down between edits, with nothing left to link when an
/// edit starts (run `link` first), keeps what each `prodcode link` of a test reports
/// deterministic: no daemon races it.
pub struct Editor {
    db: PathBuf,
    logs: PathBuf,
}

impl Editor {
    pub fn new(ws: &Workspace) -> Editor {
        Editor {
            db: ws.db.clone(),
            logs: ws.logs.clone(),
        }
    }

    fn start(&self) -> StdioClient {
        std::fs::create_dir_all(&self.logs).unwrap();
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.logs.join("daemon.log"))
            .unwrap();
        let db = self.db.to_string_lossy().into_owned();
        let mut client =
            StdioClient::spawn(&bin(), &["lsp", "--db", &db], &[], Stdio::from(log)).unwrap();
        let result = client
            .request(
                "initialize",
                json!({
                    "processId": std::process::id(),
                    "rootUri": null,
                    "capabilities": { "general": { "positionEncodings": ["utf-16"] } },
                }),
            )
            .unwrap();
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
        client.notify("initialized", json!({})).unwrap();
        client
    }

    /// Opens `file` as it is on disk, types `new` as one change, saves and closes it.
    pub fn edit(&mut self, file: &Path, new: &str) {
        self.edit_steps(file, &[new]);
    }

    /// Opens `file` as it is on disk, goes through `steps` (each one change from the previous
    /// text), writes the last to disk, saves and closes it; the daemon has committed all of it
    /// (an answer is sent only after earlier events are durable) and has exited on return.
    pub fn edit_steps(&mut self, file: &Path, steps: &[&str]) {
        let mut client = self.start();
        let uri = path_to_uri(file);
        let mut text = std::fs::read_to_string(file).unwrap_or_default();
        open(&mut client, &uri, &text);
        let mut version = 1;
        for step in steps {
            if let Some(edit) = text_change(&text, step) {
                version += 1;
                change(&mut client, &uri, version, edit.start, edit.end, &edit.text);
            }
            text = (*step).to_owned();
        }
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(file, &text).unwrap();
        for method in ["textDocument/didSave", "textDocument/didClose"] {
            client
                .notify(method, json!({ "textDocument": { "uri": uri } }))
                .unwrap();
        }
        let status = client.request("prodcode/status", Value::Null).unwrap();
        assert!(status.get("storeError").is_none(), "{status}");
        let exit = client.shutdown().unwrap();
        assert!(exit.success(), "the daemon exited with {exit}");
    }
}

/// A person edits `file` in the editor until it reads `new`.
pub fn human_edit(editor: &mut Editor, file: &Path, new: &str) {
    editor.edit(file, new);
}

/// One incremental change: replace `start..end` (line, UTF-16 column) with `text`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TextEdit {
    pub start: (u32, u32),
    pub end: (u32, u32),
    pub text: String,
}

/// The one incremental change an editor sends to turn `old` into `new`: whole lines inserted or
/// removed, or, when one line becomes one line, the edit inside that line (common prefix and
/// suffix trimmed). `None` when nothing changes.
pub fn text_change(old: &str, new: &str) -> Option<TextEdit> {
    if old == new {
        return None;
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let shorter = old_lines.len().min(new_lines.len());
    let prefix = (0..shorter)
        .take_while(|&i| old_lines[i] == new_lines[i])
        .count();
    let suffix = (0..shorter - prefix)
        .take_while(|&i| old_lines[old_lines.len() - 1 - i] == new_lines[new_lines.len() - 1 - i])
        .count();
    let old_middle = &old_lines[prefix..old_lines.len() - suffix];
    let new_middle = &new_lines[prefix..new_lines.len() - suffix];
    let line = u32::try_from(prefix).unwrap();
    if let ([old_line], [new_line]) = (old_middle, new_middle) {
        let old_chars: Vec<char> = old_line.chars().collect();
        let new_chars: Vec<char> = new_line.chars().collect();
        let shorter = old_chars.len().min(new_chars.len());
        let head = (0..shorter)
            .take_while(|&i| old_chars[i] == new_chars[i])
            .count();
        let tail = (0..shorter - head)
            .take_while(|&i| {
                old_chars[old_chars.len() - 1 - i] == new_chars[new_chars.len() - 1 - i]
            })
            .count();
        let column = |chars: &[char]| chars.iter().map(|c| c.len_utf16() as u32).sum::<u32>();
        return Some(TextEdit {
            start: (line, column(&old_chars[..head])),
            end: (line, column(&old_chars[..old_chars.len() - tail])),
            text: new_chars[head..new_chars.len() - tail].iter().collect(),
        });
    }
    let end = u32::try_from(old_lines.len() - suffix).unwrap();
    Some(TextEdit {
        start: (line, 0),
        end: (end, 0),
        text: new_middle.concat(),
    })
}

/// `prodcode link --repo <root> --json`.
pub fn link(ws: &Workspace) -> Value {
    link_repo(ws, &ws.root)
}

pub fn link_repo(ws: &Workspace, repo: &Path) -> Value {
    let repo = repo.to_string_lossy().into_owned();
    let output = ws.prodcode(&["link", "--repo", &repo, "--json"]);
    assert!(
        output.status.success(),
        "prodcode link failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        git_graph(Path::new(&repo))
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "prodcode link --json printed no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// `prodcode blame <file> --rev <rev> --json`, run in the file's repository (`file` is relative
/// to the workspace root).
pub fn blame_rev_json(ws: &Workspace, rev: &str, file: &str) -> Value {
    let path = ws.path(file);
    let output = Command::new(bin())
        .args(["blame", "--json", "--rev", rev, "--db"])
        .arg(&ws.db)
        .arg(&path)
        .current_dir(&ws.root)
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "prodcode blame {file} --rev {rev}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Each line of `file` as committed at `rev`: its class and interaction.
pub fn blame_rev(ws: &Workspace, rev: &str, file: &str) -> Vec<(String, Option<String>)> {
    blame_rev_json(ws, rev, file)["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("blame {file} --rev {rev}: no lines"))
        .iter()
        .map(|line| {
            (
                line["class"].as_str().unwrap_or_default().to_owned(),
                line["interactionId"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The contents of git objects by id, read with one `git cat-file --batch` in `dir` (a missing
/// object is left out).
pub fn git_blobs(dir: &Path, ids: &[String]) -> std::collections::HashMap<String, Vec<u8>> {
    use std::io::{Read, Write};
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let request: String = ids.iter().map(|id| format!("{id}\n")).collect();
    // Written from another thread: the answers may be larger than a pipe holds.
    let writer = std::thread::spawn(move || {
        stdin.write_all(request.as_bytes()).unwrap();
    });
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success(), "git cat-file --batch");
    let mut blobs = std::collections::HashMap::new();
    let mut at = 0;
    while at < out.len() {
        let end = at + out[at..].iter().position(|b| *b == b'\n').unwrap();
        let header = String::from_utf8_lossy(&out[at..end]).into_owned();
        at = end + 1;
        let fields: Vec<&str> = header.split(' ').collect();
        if fields.len() == 3 {
            let size: usize = fields[2].parse().unwrap();
            blobs.insert(fields[0].to_owned(), out[at..at + size].to_vec());
            at += size + 1;
        }
    }
    blobs
}

/// `prodcode export agent-trace <rev> --repo <root>` (a commit or a range): its records.
pub fn export_agent_trace(ws: &Workspace, rev: &str) -> Vec<Value> {
    let root = ws.root.to_string_lossy().into_owned();
    let output = ws.prodcode(&["export", "agent-trace", rev, "--repo", &root]);
    assert!(
        output.status.success(),
        "prodcode export agent-trace {rev}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// `program` on PATH, if installed.
pub fn tool_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A third-party program is missing: CI (`PRODCODE_REQUIRE_TOOLS=1`) fails, elsewhere the test
/// is skipped.
pub fn missing(program: &str) {
    assert!(
        !require_tools(),
        "{program} is not installed, and PRODCODE_REQUIRE_TOOLS=1"
    );
    eprintln!("skipped: {program} not installed");
}

pub fn require_tools() -> bool {
    std::env::var("PRODCODE_REQUIRE_TOOLS").is_ok_and(|value| value == "1")
}
