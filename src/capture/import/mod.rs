//! Transcript import: backfills prompts and AI edits from the session logs coding agents keep
//! (Claude Code's `~/.claude/projects/**/<session>.jsonl`, Codex's
//! `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`).
//!
//! Each agent's format has one reader behind the [`Transcript`] trait (`claude.rs`,
//! `codex.rs`): it turns one JSONL line at a time into [`Item`]s (a prompt, an edit, a model
//! name) and keeps what little it must remember between lines (the session context, tool calls
//! waiting for their result) in a state it can save and restore. `driver.rs` does everything
//! else: finding the files, resuming where the last run stopped, resolving repositories,
//! redaction and opt-out, and writing each batch of records with its bookkeeping in one
//! transaction. `text.rs` holds the pure helpers (line counts, the `apply_patch` format).
//!
//! Invariants: files are read line by line, never whole, so memory does not grow with a
//! transcript's size. A line that is not JSON is counted and skipped, never fatal. Nothing is
//! stored before `privacy` has seen it. The transcript is history: an import records prompts,
//! interactions and edits, and never touches the provenance of files as they are now.
//! Importing a file again adds nothing: every record has a key (`import_keys`).

mod claude;
mod codex;
mod driver;
mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use driver::{ImportError, Progress, find_transcripts, import};

/// The agents whose transcripts can be imported.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Agent {
    Claude,
    Codex,
}

impl Agent {
    /// The name on the command line and in interaction ids: `claude`, `codex`.
    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
        }
    }

    /// The agent as `interactions.agent` names it (the same names the hooks use).
    pub fn agent_name(self) -> &'static str {
        match self {
            Agent::Claude => "claude-code",
            Agent::Codex => "codex",
        }
    }

    /// `events.source` of everything this importer records.
    pub fn source(self) -> &'static str {
        match self {
            Agent::Claude => "import:claude",
            Agent::Codex => "import:codex",
        }
    }

    /// Where the agent keeps its transcripts: `$CLAUDE_CONFIG_DIR/projects` (else
    /// `~/.claude/projects`), `$CODEX_HOME/sessions` (else `~/.codex/sessions`).
    pub fn default_root(self) -> Option<PathBuf> {
        self.default_root_from(|name| std::env::var_os(name))
    }

    fn default_root_from(
        self,
        var: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Option<PathBuf> {
        let non_empty = |name: &str| var(name).filter(|value| !value.is_empty());
        let (home_var, dot_dir, sub) = match self {
            Agent::Claude => ("CLAUDE_CONFIG_DIR", ".claude", "projects"),
            Agent::Codex => ("CODEX_HOME", ".codex", "sessions"),
        };
        let base = match non_empty(home_var) {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(non_empty("HOME")?).join(dot_dir),
        };
        Some(base.join(sub))
    }

    fn reader(self, file: &Path) -> Box<dyn Transcript> {
        match self {
            Agent::Claude => Box::new(claude::Reader::new(file)),
            Agent::Codex => Box::new(codex::Reader::new(file)),
        }
    }
}

/// One agent's transcript format, read one line at a time.
pub(crate) trait Transcript {
    /// Reads line `number` (1-based) and pushes what it holds. A line that is not JSON, or
    /// whose known parts have the wrong shape, is [`Malformed`]; a line of a kind the reader
    /// does not know is not an error and yields nothing.
    fn read_line(&mut self, line: &str, number: u64, out: &mut Vec<Item>) -> Result<(), Malformed>;

    /// What the reader must remember to continue after the last line read (the session context,
    /// tool calls still waiting for their result), as JSON; `None` when nothing.
    fn state(&self) -> Option<String>;

    /// Continues from a state [`Transcript::state`] returned. A state it cannot read is ignored.
    fn restore(&mut self, state: &str);
}

/// A line that could not be read.
#[derive(Debug)]
pub(crate) struct Malformed(pub String);

/// What a transcript line holds that prodcode records.
#[derive(Debug)]
pub(crate) enum Item {
    Prompt(Prompt),
    Edit(Edit),
    /// The session's model, once the transcript names it (often after the first prompt).
    Model {
        session_id: String,
        model: String,
    },
    /// An edit tool call that failed (its result is an error): nothing changed.
    FailedEdit,
}

/// The session a record belongs to, as the transcript describes it.
#[derive(Clone, Default, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct Session {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The agent's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Session {
    /// Whether the transcript says the session ran in a git repository.
    fn recorded_git(&self) -> bool {
        self.branch.is_some() || self.commit.is_some()
    }
}

/// A prompt a person typed, verbatim (not yet redacted).
#[derive(Debug)]
pub(crate) struct Prompt {
    /// The record's idempotency key (`claude:msg:<uuid>`, `codex:<session>:line:<n>`).
    pub key: String,
    pub session: Session,
    pub text: String,
    pub ts_ms: Option<i64>,
    /// The source line's relevant JSON, for the event log (redacted by the driver).
    pub payload: Value,
}

/// One file an AI edit changed.
#[derive(Debug)]
pub(crate) struct Edit {
    /// The record's idempotency key (`claude:tool:<id>`, `codex:<session>:call:<id>:<i>`).
    pub key: String,
    pub session: Session,
    /// The path as the transcript names it.
    pub path: String,
    /// The directory a relative `path` is relative to (the call's working directory).
    pub base: Option<String>,
    pub lines_added: u32,
    /// `None` when the transcript does not say (a whole-file write without a diff).
    pub lines_removed: Option<u32>,
    /// The tool: `Edit`, `MultiEdit`, `Write`, `NotebookEdit`, `apply_patch`.
    pub tool: String,
    /// The tool call's id (`tool_use` id, `call_id`).
    pub call_id: String,
    /// More for `ai_edits.detail` (operation, `userModified`, …).
    pub extra: serde_json::Map<String, Value>,
    pub ts_ms: Option<i64>,
    /// The call and its result, for the event log (redacted by the driver).
    pub payload: Value,
}

/// Why a record was not imported.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum SkipReason {
    /// An earlier import recorded it.
    AlreadyImported,
    /// Another channel (an agent hook) recorded the same prompt, or the same tool call's edit,
    /// for the session.
    AlreadyCaptured,
    /// The repository (or directory) opted out of capture.
    OptedOut,
    /// The edit tool call failed, so nothing changed.
    FailedEdit,
    /// A line that is not JSON, or not the shape its type promises.
    MalformedLine,
    /// A file that could not be opened or read (counted once per file).
    UnreadableFile,
}

impl SkipReason {
    pub const ALL: [SkipReason; 6] = [
        SkipReason::AlreadyImported,
        SkipReason::AlreadyCaptured,
        SkipReason::OptedOut,
        SkipReason::FailedEdit,
        SkipReason::MalformedLine,
        SkipReason::UnreadableFile,
    ];

    /// A stable identifier, for JSON output.
    pub fn id(self) -> &'static str {
        match self {
            SkipReason::AlreadyImported => "already_imported",
            SkipReason::AlreadyCaptured => "already_captured",
            SkipReason::OptedOut => "opted_out",
            SkipReason::FailedEdit => "failed_edit",
            SkipReason::MalformedLine => "malformed_line",
            SkipReason::UnreadableFile => "unreadable_file",
        }
    }
}

/// What one import did.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Summary {
    /// Transcript files looked at.
    pub files: u64,
    /// Sessions that gained at least one prompt or edit.
    pub sessions: u64,
    pub prompts: u64,
    pub edits: u64,
    /// Records not imported (and unreadable files), by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
}

impl Summary {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn skip(&mut self, reason: SkipReason, count: u64) {
        if count > 0 {
            *self.skipped.entry(reason).or_default() += count;
        }
    }
}

/// Renders what a reader yields for `lines` as one short line per item, for readable tests.
#[cfg(test)]
fn render(reader: &mut dyn Transcript, lines: &[&str]) -> Vec<String> {
    let mut items = Vec::new();
    let mut out = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if let Err(Malformed(_)) = reader.read_line(line, index as u64 + 1, &mut items) {
            out.push(format!("malformed line {}", index + 1));
        }
        for item in items.drain(..) {
            out.push(match item {
                Item::Prompt(prompt) => format!(
                    "prompt {} {:?} at {:?} in {:?} on {:?}",
                    prompt.key,
                    prompt.text,
                    prompt.ts_ms,
                    prompt.session.cwd,
                    prompt.session.branch
                ),
                Item::Edit(edit) => format!(
                    "edit {} {} (base {:?}) +{} -{} by {}",
                    edit.key,
                    edit.path,
                    edit.base,
                    edit.lines_added,
                    edit.lines_removed
                        .map_or_else(|| "?".to_owned(), |removed| removed.to_string()),
                    edit.tool
                ),
                Item::Model { session_id, model } => format!("model {model} for {session_id}"),
                Item::FailedEdit => "failed edit".to_owned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    #[test]
    fn default_roots_follow_the_agents_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        let home = env(&[("HOME", "/home/u")]);
        assert_eq!(
            Agent::Claude.default_root_from(home),
            Some(PathBuf::from("/home/u/.claude/projects"))
        );
        assert_eq!(
            Agent::Codex.default_root_from(home),
            Some(PathBuf::from("/home/u/.codex/sessions"))
        );
        let custom = env(&[
            ("HOME", "/home/u"),
            ("CLAUDE_CONFIG_DIR", "/cfg/claude"),
            ("CODEX_HOME", "/cfg/codex"),
        ]);
        assert_eq!(
            Agent::Claude.default_root_from(custom),
            Some(PathBuf::from("/cfg/claude/projects"))
        );
        assert_eq!(
            Agent::Codex.default_root_from(custom),
            Some(PathBuf::from("/cfg/codex/sessions"))
        );
        assert_eq!(Agent::Codex.default_root_from(env(&[])), None);
    }
}
