//! Who an evaluation runs: the built-in `noop` and `gold`, the `claude` and `codex` presets, a
//! command given on the command line (`NAME=COMMAND`), and named configurations in
//! `prodcode.toml` (`[agents.NAME]`), so an A/B of models or settings is one flag.
//!
//! A command is a list of words, never a shell line: `{prompt}` and the other placeholders are
//! replaced inside words, so a prompt with quotes, `$(…)` or newlines reaches the agent as one
//! argument, unchanged.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::tools::runner::CommandLine;

/// `[agents.NAME]` in `prodcode.toml`.
///
/// ```toml
/// [agents.opus]
/// command = ["claude", "-p", "--model", "opus", "--output-format", "stream-json", "--verbose", "{prompt}"]
/// env = { ANTHROPIC_BASE_URL = "http://127.0.0.1:8080" }
/// trace = "claude"        # how to read its stdout: claude, codex, none (default: by program name)
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
pub struct AgentConfig {
    pub command: CommandLine,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub trace: Option<TraceFormat>,
}

/// The machine-readable stream an agent prints, which [`super::trace`] reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceFormat {
    /// Claude Code's `--output-format stream-json`.
    Claude,
    /// `codex exec --json`.
    Codex,
    /// Nothing to read.
    None,
}

impl TraceFormat {
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Claude => "claude",
            TraceFormat::Codex => "codex",
            TraceFormat::None => "none",
        }
    }
}

/// One agent configuration of an evaluation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Agent {
    /// The name runs and reports use.
    pub name: String,
    pub kind: AgentKind,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum AgentKind {
    /// Changes nothing: every task must come out unresolved.
    Noop,
    /// Applies the task's own solution: every task must come out resolved.
    Gold,
    Command {
        /// Words with placeholders (`{prompt}`, `{prompt_file}`, `{workdir}`, `{mcp_config}`,
        /// `{mcp_config_toml}`, `{task_id}`, `{run}`).
        argv: Vec<String>,
        env: Vec<(String, String)>,
        trace: TraceFormat,
    },
}

const CLAUDE: &[&str] = &[
    "claude",
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    // Edits, the shell and prodcode's tools are allowed; nothing is bypassed (Claude Code
    // refuses `bypassPermissions` to root, and an evaluation needs no more than this).
    "--permission-mode",
    "acceptEdits",
    "--allowedTools",
    "Bash Edit Write MultiEdit NotebookEdit Read Glob Grep LS TodoWrite mcp__prodcode",
    // `--mcp-config` and `--allowedTools` take several values: `--` ends them.
    "--",
    "{prompt}",
];

const CODEX: &[&str] = &[
    "codex",
    "exec",
    "--json",
    "--skip-git-repo-check",
    "--dangerously-bypass-approvals-and-sandbox",
    "{prompt}",
];

/// Reads an `--agent` value: `NAME=COMMAND`, or a `NAME` that `configs` defines, or a built-in
/// (`noop`, `gold`, `claude`, `codex`), in that order.
pub fn parse(spec: &str, configs: &BTreeMap<String, AgentConfig>) -> Result<Agent, String> {
    if let Some((name, command)) = spec.split_once('=') {
        let name = checked_name(name)?;
        let argv = shlex::split(command)
            .filter(|words| !words.is_empty())
            .ok_or_else(|| {
                format!("--agent {name}=…: the command is empty or its quotes do not close")
            })?;
        let trace = trace_by_program(&argv[0]);
        return Ok(Agent {
            name,
            kind: AgentKind::Command {
                argv,
                env: Vec::new(),
                trace,
            },
        });
    }
    let name = checked_name(spec)?;
    if let Some(config) = configs.get(&name) {
        let argv = match &config.command {
            CommandLine::Line(line) => shlex::split(line).unwrap_or_default(),
            CommandLine::Argv(argv) => argv.clone(),
        };
        if argv.is_empty() {
            return Err(format!("[agents.{name}] command is empty"));
        }
        let trace = config.trace.unwrap_or_else(|| trace_by_program(&argv[0]));
        return Ok(Agent {
            name,
            kind: AgentKind::Command {
                argv,
                env: config.env.clone().into_iter().collect(),
                trace,
            },
        });
    }
    let preset = |words: &[&str], trace| AgentKind::Command {
        argv: words.iter().map(|word| (*word).to_owned()).collect(),
        env: Vec::new(),
        trace,
    };
    let kind = match name.as_str() {
        "noop" => AgentKind::Noop,
        "gold" => AgentKind::Gold,
        "claude" => preset(CLAUDE, TraceFormat::Claude),
        "codex" => preset(CODEX, TraceFormat::Codex),
        _ => {
            return Err(format!(
                "unknown agent `{name}`: use noop, gold, claude, codex, a [agents.{name}] section \
                 in prodcode.toml, or {name}=COMMAND"
            ));
        }
    };
    Ok(Agent { name, kind })
}

fn checked_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.starts_with('.')
    {
        return Err(format!(
            "agent name {name:?}: use letters, digits, `-`, `_` and `.` (it names run directories)"
        ));
    }
    Ok(name.to_owned())
}

fn trace_by_program(program: &str) -> TraceFormat {
    match crate::tools::exec::program_name(program).as_str() {
        "claude" => TraceFormat::Claude,
        "codex" => TraceFormat::Codex,
        _ => TraceFormat::None,
    }
}

/// What the placeholders of a command stand for in one run.
pub struct Placeholders<'a> {
    pub prompt: &'a str,
    pub prompt_file: &'a str,
    pub workdir: &'a str,
    pub mcp_config: &'a str,
    pub mcp_config_toml: &'a str,
    pub task_id: &'a str,
    pub run: usize,
    /// Codex reads its MCP servers from `config.toml`; these `-c key=value` overrides set the
    /// same keys on the command line, so the user's own configuration (and login) stays as it is.
    pub codex_overrides: &'a [String],
}

/// The command of one run: placeholders replaced, and, in the `ide` harness, the flags that make
/// Claude Code or Codex load prodcode's MCP server when the command does not place the
/// configuration itself.
pub fn command_line(
    argv: &[String],
    trace: TraceFormat,
    ide: bool,
    values: &Placeholders<'_>,
) -> Vec<String> {
    let placed = argv
        .iter()
        .any(|word| word.contains("{mcp_config}") || word.contains("{mcp_config_toml}"));
    let mut words: Vec<String> = argv.iter().map(|word| fill(word, values)).collect();
    if ide && !placed {
        let extra: Vec<String> = match trace {
            TraceFormat::Claude => vec!["--mcp-config".to_owned(), values.mcp_config.to_owned()],
            TraceFormat::Codex => values.codex_overrides.to_vec(),
            TraceFormat::None => Vec::new(),
        };
        // Before the prompt when it is the last word (and before a `--` that ends the
        // options), so option parsers still see the flags.
        let mut at = if argv.last().is_some_and(|word| word.contains("{prompt}")) {
            words.len() - 1
        } else {
            words.len()
        };
        if at > 0 && argv.get(at - 1).is_some_and(|word| word == "--") {
            at -= 1;
        }
        words.splice(at..at, extra);
    }
    words
}

fn fill(word: &str, values: &Placeholders<'_>) -> String {
    // One pass, so a prompt that contains `{workdir}` stays as the developer wrote it.
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let Some(end) = tail.find('}') else {
            out.push_str(tail);
            rest = "";
            break;
        };
        let key = &tail[1..end];
        let run = values.run.to_string();
        let value = match key {
            "prompt" => Some(values.prompt),
            "prompt_file" => Some(values.prompt_file),
            "workdir" => Some(values.workdir),
            "mcp_config" => Some(values.mcp_config),
            "mcp_config_toml" => Some(values.mcp_config_toml),
            "task_id" => Some(values.task_id),
            "run" => Some(run.as_str()),
            _ => None,
        };
        match value {
            Some(value) => out.push_str(value),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>() -> Placeholders<'a> {
        Placeholders {
            prompt: "fix {workdir} \"now\" $(rm -rf /)",
            prompt_file: "/r/prompt.txt",
            workdir: "/w",
            mcp_config: "/r/mcp.json",
            mcp_config_toml: "/nonexistent/mcp.toml",
            task_id: "t1",
            run: 2,
            codex_overrides: &[],
        }
    }

    #[test]
    fn placeholders_fill_words_once_and_the_prompt_stays_one_argument() {
        let argv: Vec<String> = [
            "sh",
            "-c",
            "x",
            "{prompt}",
            "--in={workdir}/{task_id}#{run}",
            "{other}",
        ]
        .map(str::to_owned)
        .to_vec();
        let words = command_line(&argv, TraceFormat::None, true, &values());
        assert_eq!(
            words,
            [
                "sh",
                "-c",
                "x",
                "fix {workdir} \"now\" $(rm -rf /)",
                "--in=/w/t1#2",
                "{other}"
            ]
        );
    }

    #[test]
    fn the_ide_harness_adds_claudes_mcp_flag_before_the_prompt() {
        let agent = parse("claude", &BTreeMap::new()).unwrap();
        let AgentKind::Command { argv, trace, .. } = agent.kind else {
            panic!("claude is a command");
        };
        let words = command_line(&argv, trace, true, &values());
        let at = words
            .iter()
            .position(|word| word == "--mcp-config")
            .unwrap();
        assert_eq!(words[at + 1], "/r/mcp.json");
        assert_eq!(words[at + 2], "--");
        assert_eq!(words.last().unwrap(), values().prompt);
        let basic = command_line(&argv, trace, false, &values());
        assert!(!basic.contains(&"--mcp-config".to_owned()));
    }

    #[test]
    fn specs_name_builtins_configs_and_commands() {
        let mut configs = BTreeMap::new();
        configs.insert(
            "opus".to_owned(),
            AgentConfig {
                command: CommandLine::Line("claude -p --model opus {prompt}".to_owned()),
                env: BTreeMap::from([("A".to_owned(), "1".to_owned())]),
                trace: None,
            },
        );
        assert_eq!(parse("noop", &configs).unwrap().kind, AgentKind::Noop);
        let opus = parse("opus", &configs).unwrap();
        assert!(matches!(
            opus.kind,
            AgentKind::Command { trace: TraceFormat::Claude, ref env, .. } if env == &[("A".to_owned(), "1".to_owned())]
        ));
        let mine = parse("mine=./agent.sh --fast '{prompt}'", &configs).unwrap();
        assert_eq!(mine.name, "mine");
        assert!(
            matches!(mine.kind, AgentKind::Command { ref argv, trace: TraceFormat::None, .. } if argv == &["./agent.sh", "--fast", "{prompt}"])
        );
        assert!(
            parse("nosuch", &configs)
                .unwrap_err()
                .contains("unknown agent")
        );
        assert!(parse("../x=true", &configs).is_err());
        assert!(parse("x='unclosed", &configs).is_err());
    }
}
