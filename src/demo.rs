//! `prodcode demo`: the pipeline on a generated sample repository, end to end.
//!
//! It creates a small Python project in a fresh git repository, starts the real daemon
//! (`prodcode lsp`) over pipes, and plays a scripted editor session through it: a person types,
//! a prompt is submitted, an assistant's edit is applied and reported, the person adjusts one AI
//! line, and a second edit arrives as a before/after checkpoint. The assistant then looks a
//! definition up through the daemon's tools. The files are saved and committed. What prodcode
//! recorded is then shown with `blame` and `log`, and the commit is curated into a task.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::lsp::client::StdioClient;
use crate::lsp::conv::path_to_uri;

pub struct DemoConfig {
    /// Where to generate the sample repository (must not exist yet, or be empty).
    pub dir: PathBuf,
    /// The database the session is recorded into.
    pub db: PathBuf,
    /// The `prodcode` binary to run as the daemon.
    pub exe: PathBuf,
}

pub struct DemoOutcome {
    pub repo: PathBuf,
    pub files: Vec<PathBuf>,
    pub commit: String,
}

const CALC: &str = "\"\"\"A tiny calculator.\"\"\"\n\n\ndef add(a, b):\n    return a + b\n";

/// unittest style, so the demo's tests run with the standard library alone (pytest runs them too).
const TEST_CALC: &str = "import unittest\n\nfrom calc import add\n\n\nclass TestCalc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n";

/// The sample project's prodcode settings: its session is over as soon as it is committed.
const PRODCODE_TOML: &str = "[curate]\nidle_minutes = 0\n";

const PROMPT: &str = "Add a divide(a, b) function to calc.py that raises ValueError on division by zero, and test it.";

/// Runs the scripted session. Progress lines go to `say`.
pub fn run(config: &DemoConfig, say: &mut dyn FnMut(&str)) -> anyhow::Result<DemoOutcome> {
    let repo = &config.dir;
    std::fs::create_dir_all(repo).with_context(|| format!("cannot create {}", repo.display()))?;
    if std::fs::read_dir(repo)?.next().is_some() {
        bail!(
            "{} is not empty; give an empty or new directory",
            repo.display()
        );
    }
    let repo = repo.canonicalize()?;
    let calc = repo.join("calc.py");
    let test_calc = repo.join("test_calc.py");
    std::fs::write(&calc, CALC)?;
    std::fs::write(&test_calc, TEST_CALC)?;
    std::fs::write(repo.join("prodcode.toml"), PRODCODE_TOML)?;
    std::fs::write(repo.join(".gitignore"), "__pycache__/\n")?;
    git(&repo, &["init", "-q", "-b", "main"])?;
    git(&repo, &["add", "."])?;
    git(&repo, &["commit", "-q", "-m", "Start a calculator"])?;
    say(&format!(
        "generated a sample repository at {}",
        repo.display()
    ));

    let db = config.db.to_string_lossy().into_owned();
    let mut client = StdioClient::spawn(&config.exe, &["lsp", "--db", &db], &[], Stdio::inherit())
        .context("cannot start `prodcode lsp`")?;
    client.initialize(
        &repo,
        json!({ "general": { "positionEncodings": ["utf-16"] } }),
    )?;
    say("started `prodcode lsp` and initialized it over stdio");

    let calc_uri = path_to_uri(&calc);
    let mut editor = Buffer::open(&mut client, &calc_uri, CALC)?;

    // The person documents `add` by hand.
    editor.insert(
        &mut client,
        4,
        0,
        "    \"\"\"Return the sum of a and b.\"\"\"\n",
    )?;
    say("a person typed a docstring (textDocument/didChange)");

    // The prompt, then the assistant's edit, applied by the editor and reported as ranges.
    client.notify(
        "prodcode/promptSubmitted",
        json!({
            "interactionId": "demo-1",
            "prompt": PROMPT,
            "agent": { "name": "demo-assistant", "model": "scripted" },
            "contextUris": [calc_uri],
        }),
    )?;
    let divide = "\n\ndef divide(a, b):\n    if b == 0:\n        raise ValueError(\"b must not be zero\")\n    return a / b\n";
    let end_line = editor.line_count() - 1;
    let inserted = editor.insert(&mut client, end_line, 0, divide)?;
    client.notify(
        "prodcode/aiEditApplied",
        json!({
            "interactionId": "demo-1",
            "textDocument": { "uri": calc_uri, "version": editor.version },
            "ranges": [inserted],
        }),
    )?;
    say("the assistant inserted divide() (prodcode/aiEditApplied)");

    // The person rewords the assistant's error message: that line becomes ai_modified.
    let line = editor
        .find_line("raise ValueError")
        .context("the AI line is missing")?;
    let column = editor.lines()[line as usize].find("b must").unwrap_or(0);
    editor.replace(
        &mut client,
        line,
        column,
        "b must not be zero".len(),
        "cannot divide by zero",
    )?;
    say("a person reworded the assistant's error message");
    editor.save(&mut client, &calc)?;

    // The assistant's test arrives as a file rewrite bracketed by checkpoints.
    let test_uri = path_to_uri(&test_calc);
    let mut tests = Buffer::open(&mut client, &test_uri, TEST_CALC)?;
    client.notify(
        "prodcode/checkpoint",
        json!({ "interactionId": "demo-1", "phase": "before", "uris": [test_uri] }),
    )?;
    let new_tests = "import unittest\n\nfrom calc import add, divide\n\n\nclass TestCalc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_divide(self):\n        self.assertEqual(divide(6, 3), 2)\n        with self.assertRaises(ValueError):\n            divide(1, 0)\n";
    tests.replace_all(&mut client, new_tests)?;
    client.notify(
        "prodcode/checkpoint",
        json!({ "interactionId": "demo-1", "phase": "after", "uris": [test_uri] }),
    )?;
    say("the assistant rewrote test_calc.py between two checkpoints");
    tests.save(&mut client, &test_calc)?;
    tests.close(&mut client)?;
    editor.close(&mut client)?;

    // The assistant checks its work with the daemon's tools (recorded as its tool calls).
    let found = client.request(
        "workspace/executeCommand",
        json!({ "command": "prodcode.find_definition", "arguments": [{ "symbol": "divide" }] }),
    )?;
    let definition = &found["structuredContent"]["definitions"][0];
    say(&format!(
        "the assistant asked the daemon's tools where divide() is defined: {}:{} ({}, prodcode.find_definition)",
        definition["path"].as_str().unwrap_or("?"),
        definition["line"],
        found["structuredContent"]["source"].as_str().unwrap_or("?"),
    ));

    let status = client.request("prodcode/status", Value::Null)?;
    say(&format!(
        "the daemon acknowledged {} events as durable",
        status["counts"]["durableEvents"]
    ));
    client.shutdown()?;

    git(&repo, &["add", "."])?;
    git(&repo, &["commit", "-q", "-m", "Add divide()"])?;
    let commit = git(&repo, &["rev-parse", "--short", "HEAD"])?;
    say(&format!(
        "committed the session's work as {}",
        commit.trim()
    ));

    hook_session(config, &repo, say)?;
    Ok(DemoOutcome {
        repo: repo.clone(),
        files: vec![calc, test_calc],
        commit: commit.trim().to_owned(),
    })
}

const STATS_PROMPT: &str =
    "Add a stats.py module with mean(values) that raises ValueError for an empty list, with tests.";

const STATS: &str = "\"\"\"Statistics.\"\"\"\n\n\ndef mean(values):\n    if not values:\n        raise ValueError(\"mean of nothing\")\n    return sum(values) / len(values)\n";

const TEST_STATS: &str = "import unittest\n\nfrom stats import mean\n\n\nclass TestStats(unittest.TestCase):\n    def test_mean(self):\n        self.assertEqual(mean([1, 2, 3]), 2)\n        with self.assertRaises(ValueError):\n            mean([])\n";

/// A second session, through the agent hook path (`prodcode hook claude`, as Claude Code calls
/// it), on a branch that is then squash-merged into main.
fn hook_session(config: &DemoConfig, repo: &Path, say: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    git(repo, &["checkout", "-q", "-b", "stats"])?;
    let session = "demo-stats-session";
    let cwd = repo.to_string_lossy().into_owned();
    let hook = |payload: Value| -> anyhow::Result<()> {
        let mut child = Command::new(&config.exe)
            .args(["hook", "claude"])
            .env("PRODCODE_DB", &config.db)
            .current_dir(repo)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run `prodcode hook claude`")?;
        if let Some(mut stdin) = child.stdin.take() {
            std::io::Write::write_all(&mut stdin, payload.to_string().as_bytes())?;
        }
        child.wait()?;
        Ok(())
    };
    let common =
        |event: &str| json!({ "session_id": session, "cwd": cwd, "hook_event_name": event });
    let with = |mut value: Value, extra: Value| {
        if let (Some(map), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        value
    };
    hook(with(
        common("SessionStart"),
        json!({ "source": "startup", "model": "scripted" }),
    ))?;
    hook(with(
        common("UserPromptSubmit"),
        json!({ "prompt": STATS_PROMPT }),
    ))?;
    for (name, content) in [("stats.py", STATS), ("test_stats.py", TEST_STATS)] {
        let path = repo.join(name).to_string_lossy().into_owned();
        let input = json!({ "file_path": path, "content": content });
        let id = format!("toolu_demo_{name}");
        hook(with(
            common("PreToolUse"),
            json!({ "tool_name": "Write", "tool_input": input, "tool_use_id": id }),
        ))?;
        std::fs::write(repo.join(name), content)?;
        hook(with(
            common("PostToolUse"),
            json!({ "tool_name": "Write", "tool_input": input, "tool_use_id": id,
                    "tool_response": { "type": "create", "filePath": path, "content": content } }),
        ))?;
    }
    hook(with(common("Stop"), json!({ "stop_hook_active": false })))?;
    say(
        "an agent wrote stats.py and its tests on a branch (prodcode hook claude: prompt, writes, stop)",
    );
    git(repo, &["add", "."])?;
    git(repo, &["commit", "-q", "-m", "Add stats.mean"])?;
    git(repo, &["checkout", "-q", "main"])?;
    git(repo, &["merge", "-q", "--squash", "stats"])?;
    git(repo, &["commit", "-q", "-m", "Add stats.mean (#2)"])?;
    say("the branch landed on main as one squash commit");
    Ok(())
}

/// The demo's imperfect agent: it solves the divide task and gets the mean task wrong (it never
/// divides), so the evaluation has something to tell apart.
pub const DEMO_AGENT: &str = r#"import sys
prompt = sys.argv[1]
if "divide" in prompt:
    with open("calc.py", "a") as f:
        f.write("\n\ndef divide(a, b):\n    if b == 0:\n        raise ValueError(\"cannot divide by zero\")\n    return a / b\n")
else:
    with open("stats.py", "w") as f:
        f.write("def mean(values):\n    return sum(values)\n")
"#;

fn git(repo: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=prodcode demo",
            "-c",
            "user.email=demo@prodcode.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .current_dir(repo)
        .output()
        .context("cannot run git; the demo needs git installed")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// An editor buffer: the text, its version, and the LSP notifications that keep the daemon in
/// step. Positions are UTF-16 and the demo's text is ASCII, so columns are byte offsets.
struct Buffer {
    uri: String,
    text: String,
    version: i32,
}

impl Buffer {
    fn open(client: &mut StdioClient, uri: &str, text: &str) -> anyhow::Result<Buffer> {
        client.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "python", "version": 1, "text": text } }),
        )?;
        Ok(Buffer {
            uri: uri.to_owned(),
            text: text.to_owned(),
            version: 1,
        })
    }

    fn lines(&self) -> Vec<&str> {
        self.text.split('\n').collect()
    }

    fn line_count(&self) -> u32 {
        self.lines().len() as u32
    }

    fn find_line(&self, needle: &str) -> Option<u32> {
        self.lines()
            .iter()
            .position(|line| line.contains(needle))
            .map(|index| index as u32)
    }

    fn offset(&self, line: u32, column: usize) -> usize {
        let start: usize = self
            .lines()
            .iter()
            .take(line as usize)
            .map(|line| line.len() + 1)
            .sum();
        start + column
    }

    /// Inserts `text` at `line:column`; returns the LSP range the inserted text now covers.
    fn insert(
        &mut self,
        client: &mut StdioClient,
        line: u32,
        column: usize,
        text: &str,
    ) -> anyhow::Result<Value> {
        self.replace(client, line, column, 0, text)
    }

    fn replace(
        &mut self,
        client: &mut StdioClient,
        line: u32,
        column: usize,
        length: usize,
        text: &str,
    ) -> anyhow::Result<Value> {
        let offset = self.offset(line, column);
        self.text.replace_range(offset..offset + length, text);
        self.version += 1;
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": self.uri, "version": self.version },
                "contentChanges": [{
                    "range": {
                        "start": { "line": line, "character": column },
                        "end": { "line": line, "character": column + length },
                    },
                    "text": text,
                }],
            }),
        )?;
        let newlines = text.matches('\n').count() as u32;
        let end_column = match text.rfind('\n') {
            Some(last) => text.len() - last - 1,
            None => column + text.len(),
        };
        Ok(json!({
            "start": { "line": line, "character": column },
            "end": { "line": line + newlines, "character": end_column },
        }))
    }

    fn replace_all(&mut self, client: &mut StdioClient, text: &str) -> anyhow::Result<()> {
        self.text = text.to_owned();
        self.version += 1;
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": self.uri, "version": self.version },
                "contentChanges": [{ "text": text }],
            }),
        )?;
        Ok(())
    }

    fn save(&mut self, client: &mut StdioClient, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, &self.text)?;
        client.notify(
            "textDocument/didSave",
            json!({ "textDocument": { "uri": self.uri } }),
        )?;
        Ok(())
    }

    fn close(&mut self, client: &mut StdioClient) -> anyhow::Result<()> {
        client.notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": self.uri } }),
        )?;
        Ok(())
    }
}
