//! Reading what an agent printed: Claude Code's `--output-format stream-json` and
//! `codex exec --json`, into tool calls by kind, turns, tokens and cost.
//!
//! Both are JSON lines. Lines that are not JSON, or events of kinds not known here, are skipped:
//! a newer CLI adds events, and the trace stays what could be read. Claude's stream repeats an
//! assistant message's `usage` on every content block of the message, so usage is counted once per
//! message id. Codex reports usage per turn (`turn.completed`).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::agent::TraceFormat;

/// What kind of work a tool call was, as ProdCodeBench's tool-use table counts it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    Read,
    Search,
    Edit,
    Shell,
    RunTests,
    /// Diagnostics, linters, type checkers, `cargo check`.
    Validate,
    Navigation,
    Todo,
    /// A tool of an MCP server other than prodcode's.
    Mcp,
    Web,
    /// A sub-agent, or a tool of no kind above.
    Other,
}

impl ToolKind {
    pub const ALL: [ToolKind; 11] = [
        ToolKind::Read,
        ToolKind::Search,
        ToolKind::Edit,
        ToolKind::Shell,
        ToolKind::RunTests,
        ToolKind::Validate,
        ToolKind::Navigation,
        ToolKind::Todo,
        ToolKind::Mcp,
        ToolKind::Web,
        ToolKind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ToolKind::Read => "read",
            ToolKind::Search => "search",
            ToolKind::Edit => "edit",
            ToolKind::Shell => "shell",
            ToolKind::RunTests => "run_tests",
            ToolKind::Validate => "validate",
            ToolKind::Navigation => "navigation",
            ToolKind::Todo => "todo",
            ToolKind::Mcp => "mcp",
            ToolKind::Web => "web",
            ToolKind::Other => "other",
        }
    }

    /// Whether a call of this kind checks the work (the paper's "validation").
    pub fn validates(self) -> bool {
        matches!(self, ToolKind::RunTests | ToolKind::Validate)
    }
}

/// One tool call of a trace.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    pub kind: ToolKind,
    /// The agent's own name for the tool (`Edit`, `command_execution`, `mcp__prodcode__run_tests`).
    pub tool: String,
    /// The shell command, for shell-like calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Files the call named (edits and reads), as the agent wrote them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub input: u64,
    /// Input tokens read from a prompt cache (also counted in `input` for Codex; for Claude,
    /// `cache_read_input_tokens`, and `input` is the uncached rest plus cache writes).
    pub cached: u64,
    pub output: u64,
}

/// What one run's trace says.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    pub format: String,
    pub tool_calls: Vec<ToolCall>,
    /// Model turns: assistant messages (Claude), turns (Codex).
    pub turns: u64,
    pub tokens: Tokens,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The agent's own account of how it ended (Claude's result `subtype`, Codex `turn.failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// Lines that were not JSON.
    pub skipped_lines: u64,
}

impl Trace {
    /// Calls per kind.
    pub fn by_kind(&self) -> BTreeMap<ToolKind, u64> {
        let mut counts = BTreeMap::new();
        for call in &self.tool_calls {
            *counts.entry(call.kind).or_insert(0) += 1;
        }
        counts
    }
}

/// Reads `stdout` as `format`; `None` for [`TraceFormat::None`].
pub fn parse(format: TraceFormat, stdout: &str) -> Option<Trace> {
    match format {
        TraceFormat::Claude => Some(parse_claude(stdout)),
        TraceFormat::Codex => Some(parse_codex(stdout)),
        TraceFormat::None => None,
    }
}

fn json_lines(text: &str, trace: &mut Trace) -> Vec<serde_json::Value> {
    let mut values = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(value) if value.is_object() => values.push(value),
            _ => trace.skipped_lines += 1,
        }
    }
    values
}

fn u64_at(value: &serde_json::Value, key: &str) -> u64 {
    value
        .get(key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

fn str_at<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(serde_json::Value::as_str)
}

/// Claude Code's stream-json: `system` (init), `assistant` messages whose content holds
/// `tool_use` blocks, `user` messages with tool results, and a final `result` with the cost.
pub fn parse_claude(text: &str) -> Trace {
    let mut trace = Trace {
        format: "claude".to_owned(),
        ..Trace::default()
    };
    let mut messages: HashSet<String> = HashSet::new();
    let mut result_usage = None;
    for event in json_lines(text, &mut trace) {
        match str_at(&event, "type") {
            Some("system") => {
                if let Some(model) = str_at(&event, "model") {
                    trace.model = Some(model.to_owned());
                }
            }
            Some("assistant") => {
                let Some(message) = event.get("message") else {
                    continue;
                };
                let id = str_at(message, "id").map(str::to_owned);
                let first = match &id {
                    Some(id) => messages.insert(id.clone()),
                    None => true,
                };
                if first {
                    trace.turns += 1;
                    if let Some(usage) = message.get("usage") {
                        trace.tokens.input += u64_at(usage, "input_tokens")
                            + u64_at(usage, "cache_creation_input_tokens");
                        trace.tokens.cached += u64_at(usage, "cache_read_input_tokens");
                        trace.tokens.output += u64_at(usage, "output_tokens");
                    }
                    if let Some(model) = str_at(message, "model") {
                        trace.model = Some(model.to_owned());
                    }
                }
                let blocks = message
                    .get("content")
                    .and_then(serde_json::Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for block in blocks {
                    if str_at(&block, "type") != Some("tool_use") {
                        continue;
                    }
                    let name = str_at(&block, "name").unwrap_or("").to_owned();
                    let input = block.get("input").cloned().unwrap_or_default();
                    trace.tool_calls.push(claude_call(name, &input));
                }
            }
            Some("result") => {
                if let Some(cost) = event
                    .get("total_cost_usd")
                    .and_then(serde_json::Value::as_f64)
                {
                    trace.cost_usd = Some(cost);
                }
                if let Some(subtype) = str_at(&event, "subtype") {
                    trace.ended = Some(subtype.to_owned());
                }
                result_usage = event.get("usage").cloned();
            }
            _ => {}
        }
    }
    // The result's usage is the whole session's; prefer it when the stream had no usage at all.
    if trace.tokens == Tokens::default()
        && let Some(usage) = result_usage
    {
        trace.tokens.input =
            u64_at(&usage, "input_tokens") + u64_at(&usage, "cache_creation_input_tokens");
        trace.tokens.cached = u64_at(&usage, "cache_read_input_tokens");
        trace.tokens.output = u64_at(&usage, "output_tokens");
    }
    trace
}

fn claude_call(name: String, input: &serde_json::Value) -> ToolCall {
    let path = ["file_path", "notebook_path", "path"]
        .iter()
        .find_map(|key| str_at(input, key))
        .map(str::to_owned);
    let command = str_at(input, "command").map(str::to_owned);
    let kind = match name.as_str() {
        "Read" | "NotebookRead" => ToolKind::Read,
        "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => ToolKind::Edit,
        "Glob" | "Grep" | "LS" => ToolKind::Search,
        "Bash" | "BashOutput" | "KillShell" | "KillBash" => {
            command.as_deref().map_or(ToolKind::Shell, shell_kind)
        }
        "TodoWrite" | "TodoRead" => ToolKind::Todo,
        "WebFetch" | "WebSearch" => ToolKind::Web,
        "LSP" => ToolKind::Navigation,
        other => match other.strip_prefix("mcp__") {
            Some(rest) => mcp_kind(
                rest.split_once("__")
                    .map_or(("", rest), |(server, tool)| (server, tool)),
            ),
            None => ToolKind::Other,
        },
    };
    ToolCall {
        kind,
        tool: name,
        command,
        paths: path.into_iter().collect(),
    }
}

/// Codex's `exec --json`: `item.completed` events whose item is a `command_execution`,
/// `file_change`, `mcp_tool_call`, `web_search` or `todo_list`, and `turn.completed` with usage.
pub fn parse_codex(text: &str) -> Trace {
    let mut trace = Trace {
        format: "codex".to_owned(),
        ..Trace::default()
    };
    for event in json_lines(text, &mut trace) {
        match str_at(&event, "type") {
            Some("turn.completed") => {
                trace.turns += 1;
                if let Some(usage) = event.get("usage") {
                    trace.tokens.input += u64_at(usage, "input_tokens");
                    trace.tokens.cached += u64_at(usage, "cached_input_tokens");
                    trace.tokens.output += u64_at(usage, "output_tokens");
                }
            }
            Some("turn.failed") => {
                trace.turns += 1;
                trace.ended = Some("turn_failed".to_owned());
            }
            Some("item.completed") => {
                let Some(item) = event.get("item") else {
                    continue;
                };
                let call = match str_at(item, "type") {
                    Some("command_execution") => {
                        let command = str_at(item, "command").unwrap_or("").to_owned();
                        Some(ToolCall {
                            kind: shell_kind(&command),
                            tool: "command_execution".to_owned(),
                            command: Some(command),
                            paths: Vec::new(),
                        })
                    }
                    Some("file_change") => Some(ToolCall {
                        kind: ToolKind::Edit,
                        tool: "file_change".to_owned(),
                        command: None,
                        paths: item
                            .get("changes")
                            .and_then(serde_json::Value::as_array)
                            .map(|changes| {
                                changes
                                    .iter()
                                    .filter_map(|change| str_at(change, "path").map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }),
                    Some("mcp_tool_call") => Some(ToolCall {
                        kind: mcp_kind((
                            str_at(item, "server").unwrap_or(""),
                            str_at(item, "tool").unwrap_or(""),
                        )),
                        tool: format!(
                            "mcp__{}__{}",
                            str_at(item, "server").unwrap_or(""),
                            str_at(item, "tool").unwrap_or("")
                        ),
                        command: None,
                        paths: Vec::new(),
                    }),
                    Some("web_search") => Some(ToolCall {
                        kind: ToolKind::Web,
                        tool: "web_search".to_owned(),
                        command: None,
                        paths: Vec::new(),
                    }),
                    Some("todo_list") => Some(ToolCall {
                        kind: ToolKind::Todo,
                        tool: "todo_list".to_owned(),
                        command: None,
                        paths: Vec::new(),
                    }),
                    _ => None,
                };
                trace.tool_calls.extend(call);
            }
            _ => {}
        }
    }
    trace
}

/// prodcode's own tools by what they do; other servers' tools are `mcp`.
fn mcp_kind((server, tool): (&str, &str)) -> ToolKind {
    if server != "prodcode" {
        return ToolKind::Mcp;
    }
    prodcode_tool_kind(tool)
}

/// The kind of one of prodcode's tools.
pub fn prodcode_tool_kind(tool: &str) -> ToolKind {
    match tool {
        "run_tests" => ToolKind::RunTests,
        "get_diagnostics" => ToolKind::Validate,
        "find_definition" | "find_references" | "hover" | "document_symbols"
        | "workspace_symbols" => ToolKind::Navigation,
        "search" => ToolKind::Search,
        "format" => ToolKind::Edit,
        _ => ToolKind::Other,
    }
}

/// What a shell command does, by the programs it runs: tests, checks, reading, searching.
pub fn shell_kind(command: &str) -> ToolKind {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '\'' | '"'))
        .filter(|word| !word.is_empty())
        .collect();
    let has = |pair: &[&str]| words.windows(pair.len()).any(|window| window == pair);
    let program = |name: &str| {
        words
            .iter()
            .any(|word| *word == name || word.ends_with(&format!("/{name}")))
    };
    let tests = program("pytest")
        || has(&["cargo", "test"])
        || has(&["cargo", "nextest"])
        || has(&["go", "test"])
        || has(&["-m", "unittest"])
        || has(&["-m", "pytest"])
        || has(&["npm", "test"])
        || has(&["npm", "run", "test"])
        || has(&["yarn", "test"])
        || has(&["pnpm", "test"])
        || program("jest")
        || program("vitest")
        || program("tox")
        || program("nox")
        || has(&["make", "test"])
        || has(&["make", "check"]);
    if tests {
        return ToolKind::RunTests;
    }
    let checks = [
        "ruff",
        "pyright",
        "mypy",
        "flake8",
        "pylint",
        "eslint",
        "tsc",
        "clippy",
        "golangci-lint",
    ]
    .iter()
    .any(|name| program(name))
        || has(&["cargo", "check"])
        || has(&["cargo", "clippy"])
        || has(&["cargo", "build"])
        || has(&["go", "vet"])
        || has(&["go", "build"])
        || has(&["-m", "py_compile"])
        || has(&["-m", "compileall"]);
    if checks {
        return ToolKind::Validate;
    }
    // The first word that is a program, past shell wrappers (`/bin/bash -lc '…'`), `cd`,
    // `env` and variable assignments.
    let first = words
        .iter()
        .map(|word| word.rsplit('/').next().unwrap_or(word))
        .find(|word| {
            !word.contains('=')
                && !matches!(
                    *word,
                    "bash" | "sh" | "zsh" | "-lc" | "-c" | "-l" | "cd" | "env"
                )
        })
        .unwrap_or("");
    match first {
        "cat" | "head" | "tail" | "less" | "more" | "nl" | "wc" | "bat" => ToolKind::Read,
        "sed" if has(&["-n"]) => ToolKind::Read,
        "grep" | "rg" | "ag" | "find" | "fd" | "ls" | "tree" | "git"
            if first != "git" || has(&["git", "grep"]) || has(&["git", "ls-files"]) =>
        {
            ToolKind::Search
        }
        "apply_patch" | "applypatch" => ToolKind::Edit,
        _ => ToolKind::Shell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_commands_are_told_apart_by_what_they_run() {
        for (command, kind) in [
            ("python -m pytest tests/test_a.py -q", ToolKind::RunTests),
            ("bash -lc 'cd /w && cargo test --lib'", ToolKind::RunTests),
            ("go test ./...", ToolKind::RunTests),
            ("ruff check .", ToolKind::Validate),
            ("cargo check", ToolKind::Validate),
            ("cat src/lib.rs", ToolKind::Read),
            ("sed -n 1,20p a.py", ToolKind::Read),
            ("rg -n clamp", ToolKind::Search),
            ("git grep clamp", ToolKind::Search),
            ("git log -p", ToolKind::Shell),
            ("/bin/bash -lc 'cat calc/ops.py'", ToolKind::Read),
            ("python3 script.py", ToolKind::Shell),
        ] {
            assert_eq!(shell_kind(command), kind, "{command}");
        }
    }

    #[test]
    fn claude_usage_counts_once_per_message_id() {
        let stream = r#"{"type":"system","subtype":"init","model":"claude-x"}
{"type":"assistant","message":{"id":"m1","model":"claude-x","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":5,"output_tokens":7}}}
{"type":"assistant","message":{"id":"m1","model":"claude-x","content":[{"type":"tool_use","name":"Edit","input":{"file_path":"/w/a.py"}}],"usage":{"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":5,"output_tokens":7}}}
{"type":"user","message":{"content":[{"type":"tool_result"}]}}
not json
{"type":"assistant","message":{"id":"m2","content":[{"type":"tool_use","name":"Bash","input":{"command":"pytest -q"}},{"type":"tool_use","name":"mcp__prodcode__get_diagnostics","input":{}}],"usage":{"input_tokens":1,"output_tokens":2}}}
{"type":"result","subtype":"success","total_cost_usd":0.25,"num_turns":2}"#;
        let trace = parse_claude(stream);
        assert_eq!(trace.turns, 2);
        assert_eq!(
            trace.tokens,
            Tokens {
                input: 16,
                cached: 100,
                output: 9
            }
        );
        assert_eq!(trace.cost_usd, Some(0.25));
        assert_eq!(trace.skipped_lines, 1);
        let kinds: Vec<ToolKind> = trace.tool_calls.iter().map(|call| call.kind).collect();
        assert_eq!(
            kinds,
            [ToolKind::Edit, ToolKind::RunTests, ToolKind::Validate]
        );
        assert_eq!(trace.tool_calls[0].paths, ["/w/a.py"]);
    }

    #[test]
    fn codex_items_and_turn_usage() {
        let stream = r#"{"type":"thread.started","thread_id":"t"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"i0","type":"reasoning","text":"x"}}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"bash -lc 'rg clamp'","status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"file_change","changes":[{"path":"/w/calc.py","kind":"update"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"i3","type":"mcp_tool_call","server":"prodcode","tool":"run_tests","status":"completed"}}
{"type":"turn.completed","usage":{"input_tokens":120,"cached_input_tokens":100,"output_tokens":30}}"#;
        let trace = parse_codex(stream);
        assert_eq!(trace.turns, 1);
        assert_eq!(
            trace.tokens,
            Tokens {
                input: 120,
                cached: 100,
                output: 30
            }
        );
        let kinds: Vec<ToolKind> = trace.tool_calls.iter().map(|call| call.kind).collect();
        assert_eq!(
            kinds,
            [ToolKind::Search, ToolKind::Edit, ToolKind::RunTests]
        );
    }
}
