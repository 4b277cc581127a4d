//! What one hook call means, whatever agent sent it: the normalized event every agent's payload
//! is converted to ([`HookEvent`]), and the helpers that read tool inputs (file paths, the
//! replacements an edit made, Codex patches).
//!
//! These types are serializable because a payload that cannot be recorded now is kept in the
//! spool as its [`super::observe::Observation`], which holds the event; they are not a wire
//! format anyone else reads.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One hook call, normalized.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct HookEvent {
    /// The agent as named on the command line (`claude`, `codex`, …, `git`).
    pub agent: String,
    /// The agent's name for the event (`PreToolUse`, `afterFileEdit`, …); the event log's kind
    /// is `hook.<name>`.
    pub name: String,
    /// The agent's own name, when the payload gives one (the generic format's `agent.name`).
    #[serde(default)]
    pub agent_name: Option<String>,
    /// The agent's session (Cursor: conversation) id.
    pub session_id: Option<String>,
    /// An interaction id the payload chose itself (the generic format's `interactionId`).
    pub interaction_id: Option<String>,
    pub model: Option<String>,
    pub agent_version: Option<String>,
    pub transcript_path: Option<String>,
    /// The agent's working directory, absolute.
    pub cwd: Option<PathBuf>,
    pub action: Action,
}

impl HookEvent {
    /// `<agent>:<session id>` (or the payload's own interaction id): the interaction every
    /// prompt and edit of the session belongs to. Transcript imports use the same ids.
    pub fn interaction(&self) -> Option<String> {
        if let Some(id) = self.interaction_id.as_ref().filter(|id| !id.is_empty()) {
            return Some(id.clone());
        }
        let session = self.session_id.as_ref().filter(|id| !id.is_empty())?;
        Some(format!("{}:{session}", self.agent))
    }

    /// The kind recorded in the event log.
    pub fn kind(&self) -> String {
        match &self.action {
            Action::GitCommit => "git.commit".to_owned(),
            _ => format!("hook.{}", self.name),
        }
    }

    /// Every file path the event names, for the opt-out check.
    pub fn paths(&self) -> Vec<&Path> {
        let mut paths: Vec<&Path> = self.cwd.iter().map(PathBuf::as_path).collect();
        if let Action::PreTool(call) | Action::PostTool(call) = &self.action {
            match &call.target {
                Target::Files(files) => paths.extend(files.iter().map(|file| file.path.as_path())),
                Target::Shell { cwd, .. } => paths.extend(cwd.as_deref()),
                Target::None => {}
            }
        }
        paths
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    SessionStart,
    /// A prompt was submitted; `text` is redacted before anything is stored.
    Prompt {
        text: String,
    },
    /// Before a tool runs.
    PreTool(ToolCall),
    /// After a tool ran (successfully or not).
    PostTool(ToolCall),
    /// The agent finished a turn.
    Stop,
    SessionEnd,
    /// `prodcode hook git`: git's post-commit hook.
    GitCommit,
    /// An event prodcode records but derives nothing from.
    Other,
    /// Input that is not JSON at all.
    Unparsed,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ToolCall {
    /// The tool as the agent names it.
    pub tool: String,
    /// The agent's id for this call, shared by its pre and post events (Claude, Codex).
    pub tool_use_id: Option<String>,
    pub target: Target,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A file-editing tool and the files it edits.
    Files(Vec<FileEdit>),
    /// A shell command.
    Shell {
        command: Option<String>,
        cwd: Option<PathBuf>,
    },
    /// Any other tool: nothing to attribute.
    None,
}

/// One file an edit tool changes, and what the payload says about the change.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FileEdit {
    /// Absolute path, as the agent gave it (resolved against the working directory).
    pub path: PathBuf,
    /// The file before the edit, when the payload carries it (Claude's `originalFile`).
    pub original: Option<String>,
    /// Whether the payload says the tool created the file (it did not exist before).
    pub created: bool,
    /// The `old → new` replacements the tool applied, in order; `None` when the payload does not
    /// describe the edit as replacements, or describes one that cannot be undone exactly
    /// (`replace_all`).
    pub replacements: Option<Vec<(String, String)>>,
}

/// Tools that edit files, lower-cased, across agents: Claude (`Edit`, `MultiEdit`, `Write`,
/// `NotebookEdit`), Codex (`apply_patch`), Copilot CLI (`edit`, `create`), Gemini CLI
/// (`write_file`, `replace`), and common names of other agents.
const EDIT_TOOLS: &[&str] = &[
    "edit",
    "multiedit",
    "write",
    "notebookedit",
    "apply_patch",
    "applypatch",
    "create",
    "str_replace",
    "str_replace_editor",
    "str_replace_based_edit_tool",
    "write_file",
    "replace",
    "smart_edit",
    "edit_file",
];

/// Tools that run shell commands, lower-cased: Claude and Codex `Bash`, Copilot `bash` and
/// `powershell`, Gemini `run_shell_command`, and common names of other agents.
const SHELL_TOOLS: &[&str] = &[
    "bash",
    "shell",
    "powershell",
    "run_shell_command",
    "exec_command",
    "local_shell",
    "shell_command",
    "unified_exec",
    "terminal",
];

/// Builds the target of a tool call from the tool's name and its input (and, after the call,
/// its response).
pub fn tool_target(
    tool: &str,
    input: &Value,
    response: Option<&Value>,
    cwd: Option<&Path>,
) -> Target {
    let lower = tool.to_ascii_lowercase();
    if SHELL_TOOLS.contains(&lower.as_str()) {
        let command = string(input, &["command", "cmd"]);
        let dir = string(input, &["dir_path", "directory", "workdir", "cwd"])
            .map(|dir| resolve(&dir, cwd))
            .or_else(|| cwd.map(Path::to_path_buf));
        // Codex without its `apply_patch` tool (a model outside its catalogue) edits through the
        // shell: `apply_patch <<'EOF'` with the patch as a here-document. That is a file edit.
        if let Some(patch) = command.as_deref().and_then(shell_patch) {
            let files = patch_files(patch, dir.as_deref());
            if !files.is_empty() {
                return Target::Files(files);
            }
        }
        return Target::Shell { command, cwd: dir };
    }
    if !EDIT_TOOLS.contains(&lower.as_str()) {
        return Target::None;
    }
    if let Some(patch) = patch_text(input) {
        return Target::Files(patch_files(&patch, cwd));
    }
    let Some(path) = string(
        input,
        &[
            "file_path",
            "filePath",
            "path",
            "notebook_path",
            "absolute_path",
            "target_file",
        ],
    ) else {
        return Target::None;
    };
    let original = response
        .and_then(|response| {
            response
                .get("originalFile")
                .or_else(|| response.get("original_file"))
        })
        .and_then(Value::as_str)
        .map(str::to_owned);
    let created = response
        .and_then(|response| response.get("type"))
        .and_then(Value::as_str)
        == Some("create");
    Target::Files(vec![FileEdit {
        path: resolve(&path, cwd),
        original,
        created,
        replacements: replacements(input),
    }])
}

/// The replacements an edit input describes: Claude `Edit` (`old_string`/`new_string`),
/// `MultiEdit` and Cursor (`edits: [{old_string, new_string}]`), Copilot (`old_str`/`new_str`).
pub fn replacements(input: &Value) -> Option<Vec<(String, String)>> {
    let pair = |value: &Value| -> Option<(String, String)> {
        if value.get("replace_all").and_then(Value::as_bool) == Some(true) {
            return None;
        }
        let old = string(value, &["old_string", "old_str", "oldString"])?;
        let new = string(value, &["new_string", "new_str", "newString"])?;
        Some((old, new))
    };
    if let Some(edits) = input.get("edits").and_then(Value::as_array) {
        return edits.iter().map(pair).collect();
    }
    pair(input).map(|one| vec![one])
}

/// The text of a Codex-style patch (`*** Begin Patch`), wherever the input carries it.
fn patch_text(input: &Value) -> Option<String> {
    let text = match input {
        Value::String(text) => Some(text.clone()),
        _ => string(input, &["command", "input", "patch"]),
    }?;
    text.contains("*** Begin Patch").then_some(text)
}

/// The patch of a shell command that is one `apply_patch` (or `applypatch`) call with its patch
/// as a here-document, the way Codex applies patches through the shell: `apply_patch <<'EOF'`,
/// the patch, `EOF`. `None` for any other command (a pipeline or a script that also runs other
/// programs is a shell command like any other).
pub fn shell_patch(command: &str) -> Option<&str> {
    let command = command.trim_start();
    let rest = command
        .strip_prefix("apply_patch")
        .or_else(|| command.strip_prefix("applypatch"))?;
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix("<<")?;
    let (_, body) = rest.split_once('\n')?;
    let start = body.find("*** Begin Patch")?;
    let end = body.rfind("*** End Patch")? + "*** End Patch".len();
    (start < end).then(|| &body[start..end])
}

/// The files a Codex patch adds, updates, deletes or moves to.
pub fn patch_files(patch: &str, cwd: Option<&Path>) -> Vec<FileEdit> {
    let mut files: Vec<FileEdit> = Vec::new();
    for line in patch.lines() {
        let (path, created) = if let Some(path) = line.strip_prefix("*** Add File: ") {
            (path, true)
        } else if let Some(path) = line
            .strip_prefix("*** Update File: ")
            .or_else(|| line.strip_prefix("*** Delete File: "))
            .or_else(|| line.strip_prefix("*** Move to: "))
        {
            (path, false)
        } else {
            continue;
        };
        let path = resolve(path.trim(), cwd);
        if !files.iter().any(|file| file.path == path) {
            files.push(FileEdit {
                path,
                original: None,
                created,
                replacements: None,
            });
        }
    }
    files
}

/// The first of `keys` that holds a string.
pub fn string(value: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|key| value.get(*key).and_then(Value::as_str))
        .map(str::to_owned)
}

/// `path` made absolute against `cwd` (left as given when relative and no cwd is known).
pub fn resolve(path: &str, cwd: Option<&Path>) -> PathBuf {
    let path = Path::new(path);
    match cwd {
        Some(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_path_buf(),
    }
}

/// `before` rebuilt from `after` by undoing `replacements` from the last to the first: each
/// replacement text must occur exactly once, else the edit cannot be undone exactly and the
/// answer is `None` (nothing is guessed).
pub fn undo_replacements(after: &str, replacements: &[(String, String)]) -> Option<String> {
    let mut text = after.to_owned();
    for (old, new) in replacements.iter().rev() {
        if new.is_empty() || text.matches(new.as_str()).count() != 1 {
            return None;
        }
        text = text.replacen(new.as_str(), old, 1);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codex_patches_name_their_files() {
        let patch = "*** Begin Patch\n*** Update File: src/lib.rs\n@@\n-a\n+b\n*** Add File: new.txt\n+x\n*** Delete File: old.txt\n*** End Patch";
        let target = tool_target(
            "apply_patch",
            &json!({ "command": patch }),
            None,
            Some(Path::new("/r")),
        );
        let Target::Files(files) = target else {
            panic!("{target:?}")
        };
        let paths: Vec<_> = files
            .iter()
            .map(|f| (f.path.to_str().unwrap(), f.created))
            .collect();
        assert_eq!(
            paths,
            [
                ("/r/src/lib.rs", false),
                ("/r/new.txt", true),
                ("/r/old.txt", false)
            ]
        );
    }

    #[test]
    fn codex_shell_apply_patch_is_a_file_edit() {
        // What Codex 0.171 sends when the model has no `apply_patch` tool.
        let command = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: calc.py\n+def add(a, b):\n+    return a + b\n*** End Patch\nEOF\n";
        let target = tool_target(
            "Bash",
            &json!({ "command": command }),
            Some(&json!("")),
            Some(Path::new("/r")),
        );
        let Target::Files(files) = target else {
            panic!("{target:?}")
        };
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, Path::new("/r/calc.py"));
        assert!(files[0].created);
        // The working directory the command names wins over the session's.
        let update = "apply_patch <<'PATCH'\n*** Begin Patch\n*** Update File: a.rs\n@@\n-x\n+y\n*** End Patch\nPATCH";
        let target = tool_target(
            "exec_command",
            &json!({ "cmd": update, "workdir": "/r/sub" }),
            None,
            Some(Path::new("/r")),
        );
        assert!(
            matches!(target, Target::Files(ref files) if files[0].path == Path::new("/r/sub/a.rs"))
        );
        // Anything else stays a shell command: other programs may change any file.
        for command in [
            "cat <<'EOF' > x\n*** Begin Patch\n*** Add File: y\n*** End Patch\nEOF",
            "apply_patch_helper <<EOF\n*** Begin Patch\n*** End Patch\nEOF",
            "apply_patch <<'EOF'\n*** Begin Patch\n*** End Patch\nEOF",
            "ls",
        ] {
            let target = tool_target("Bash", &json!({ "command": command }), None, None);
            assert!(
                matches!(target, Target::Shell { .. }),
                "{command}: {target:?}"
            );
        }
    }

    #[test]
    fn edits_are_undone_only_when_unambiguous() {
        let after = "fn a() {}\nfn b2() {}\n";
        let edits = vec![("fn b() {}".to_owned(), "fn b2() {}".to_owned())];
        assert_eq!(
            undo_replacements(after, &edits).as_deref(),
            Some("fn a() {}\nfn b() {}\n")
        );
        let twice = "x\nx\n";
        assert_eq!(
            undo_replacements(twice, &[("y".to_owned(), "x".to_owned())]),
            None
        );
        assert_eq!(
            undo_replacements("abc", &[("abc".to_owned(), String::new())]),
            None
        );
        // Several edits are undone last first.
        let edits = vec![
            ("a".to_owned(), "b".to_owned()),
            ("b".to_owned(), "c".to_owned()),
        ];
        assert_eq!(undo_replacements("c", &edits).as_deref(), Some("a"));
    }

    #[test]
    fn tools_are_classified_across_agents() {
        let shell = tool_target("run_shell_command", &json!({ "command": "ls" }), None, None);
        assert!(matches!(shell, Target::Shell { command: Some(ref c), .. } if c == "ls"));
        assert_eq!(
            tool_target("Read", &json!({ "file_path": "/a" }), None, None),
            Target::None
        );
        let edit = tool_target(
            "create",
            &json!({ "path": "/w/a.txt", "file_text": "x" }),
            None,
            None,
        );
        assert!(matches!(edit, Target::Files(ref files) if files[0].path == Path::new("/w/a.txt")));
        let all =
            replacements(&json!({ "old_string": "a", "new_string": "b", "replace_all": true }));
        assert_eq!(all, None);
    }
}
