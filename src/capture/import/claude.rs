//! Claude Code transcripts: `~/.claude/projects/<project dir>/<sessionId>.jsonl` (and the
//! subagent transcripts beside them).
//!
//! Each line is one JSON object. The ones that matter here:
//! - `{"type":"user", "sessionId", "uuid", "timestamp", "cwd", "gitBranch", "version",
//!   "message": {"role":"user", "content": "text" | [blocks]}}`: a prompt when the content is
//!   text a person typed. Not a prompt: tool results (`tool_result` blocks, with the tool's
//!   structured output in `toolUseResult`), meta messages (`isMeta`), subagent traffic
//!   (`isSidechain`), compaction summaries (`isCompactSummary`), slash commands and their output
//!   (`<command-name>`, `<local-command-stdout>`, …) and interruptions
//!   (`[Request interrupted by user]`).
//! - `{"type":"assistant", "message": {"model", "content": [blocks]}}`: the model, and
//!   `tool_use` blocks `{id, name, input}`. `Edit`, `MultiEdit`, `Write` and `NotebookEdit`
//!   calls wait for their `tool_result` (in a later `user` line, matched by `tool_use_id`):
//!   an error result means nothing changed; otherwise the edit is recorded, its line counts taken
//!   from `toolUseResult.structuredPatch` when present, else from the call's input.
//! - Everything else (`summary`, `system`, `file-history-snapshot`, `queue-operation`, kinds
//!   added later) is ignored.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::text::{count_lines, line_changes, rfc3339_ms, structured_patch_changes};
use super::{Edit, Item, Malformed, Prompt, Session, Transcript};

/// The tools whose calls change files.
const EDIT_TOOLS: [&str; 4] = ["Edit", "MultiEdit", "Write", "NotebookEdit"];

pub(super) struct Reader {
    /// The session id when lines do not carry one: the file's name.
    fallback_session: String,
    state: State,
}

#[derive(Default, Serialize, Deserialize)]
struct State {
    /// Edit tool calls waiting for their result, by `tool_use` id.
    #[serde(default)]
    pending: BTreeMap<String, PendingCall>,
    /// The model last seen per session.
    #[serde(default)]
    models: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct PendingCall {
    tool: String,
    input: Value,
    session: Session,
    ts_ms: Option<i64>,
    line: u64,
}

/// A transcript line; unknown fields are skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(rename = "type")]
    kind: Option<String>,
    session_id: Option<String>,
    uuid: Option<String>,
    timestamp: Option<String>,
    cwd: Option<String>,
    git_branch: Option<String>,
    version: Option<String>,
    is_meta: Option<bool>,
    is_sidechain: Option<bool>,
    is_compact_summary: Option<bool>,
    is_visible_in_transcript_only: Option<bool>,
    message: Option<Message>,
    tool_use_result: Option<Value>,
}

#[derive(Deserialize)]
struct Message {
    role: Option<String>,
    model: Option<String>,
    content: Option<Value>,
}

impl Reader {
    pub(super) fn new(file: &Path) -> Reader {
        Reader {
            fallback_session: file
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            state: State::default(),
        }
    }

    fn session_id(&self, line: &Line) -> String {
        line.session_id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| self.fallback_session.clone())
    }

    fn session(&self, line: &Line) -> Session {
        let session_id = self.session_id(line);
        let model = self.state.models.get(&session_id).cloned();
        Session {
            cwd: line.cwd.clone().filter(|cwd| !cwd.is_empty()),
            branch: line.git_branch.clone().filter(|branch| !branch.is_empty()),
            commit: None,
            version: line.version.clone().filter(|version| !version.is_empty()),
            model,
            session_id,
        }
    }

    fn user(&mut self, raw: &str, line: &Line, number: u64, out: &mut Vec<Item>) {
        let Some(message) = &line.message else {
            return;
        };
        let blocks = match &message.content {
            Some(Value::Array(blocks)) => blocks.as_slice(),
            _ => &[],
        };
        let results: Vec<&Value> = blocks
            .iter()
            .filter(|block| block_type(block) == Some("tool_result"))
            .collect();
        if !results.is_empty() {
            self.tool_results(line, &results, number, out);
        }
        let flagged = [
            line.is_meta,
            line.is_sidechain,
            line.is_compact_summary,
            line.is_visible_in_transcript_only,
        ]
        .into_iter()
        .any(|flag| flag == Some(true));
        if flagged || message.role.as_deref().is_some_and(|role| role != "user") {
            return;
        }
        let text = match &message.content {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(blocks)) => blocks
                .iter()
                .filter(|block| block_type(block) == Some("text"))
                .filter_map(|block| block.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => return,
        };
        if !is_typed_prompt(&text) {
            return;
        }
        let session = self.session(line);
        let key = match line.uuid.as_deref().filter(|uuid| !uuid.is_empty()) {
            Some(uuid) => format!("claude:msg:{uuid}"),
            None => format!("claude:{}:line:{number}", session.session_id),
        };
        // The typed struct skipped the fields it does not know; the event keeps the whole line.
        let payload = serde_json::from_str(raw).unwrap_or(Value::Null);
        out.push(Item::Prompt(Prompt {
            key,
            session,
            text,
            ts_ms: line.timestamp.as_deref().and_then(rfc3339_ms),
            payload,
        }));
    }

    fn assistant(&mut self, line: &Line, number: u64, out: &mut Vec<Item>) {
        let Some(message) = &line.message else {
            return;
        };
        let session_id = self.session_id(line);
        if let Some(model) = message
            .model
            .as_deref()
            .filter(|model| !model.is_empty() && !model.starts_with('<'))
            && self.state.models.get(&session_id).map(String::as_str) != Some(model)
        {
            self.state
                .models
                .insert(session_id.clone(), model.to_owned());
            out.push(Item::Model {
                session_id,
                model: model.to_owned(),
            });
        }
        let Some(Value::Array(blocks)) = &message.content else {
            return;
        };
        let session = self.session(line);
        for block in blocks {
            if block_type(block) != Some("tool_use") {
                continue;
            }
            let (Some(id), Some(name)) = (
                block.get("id").and_then(Value::as_str),
                block.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            if !EDIT_TOOLS.contains(&name) {
                continue;
            }
            self.state.pending.insert(
                id.to_owned(),
                PendingCall {
                    tool: name.to_owned(),
                    input: block.get("input").cloned().unwrap_or(Value::Null),
                    session: session.clone(),
                    ts_ms: line.timestamp.as_deref().and_then(rfc3339_ms),
                    line: number,
                },
            );
        }
    }

    fn tool_results(&mut self, line: &Line, results: &[&Value], number: u64, out: &mut Vec<Item>) {
        for result in results {
            let Some(id) = result.get("tool_use_id").and_then(Value::as_str) else {
                continue;
            };
            let Some(call) = self.state.pending.remove(id) else {
                continue;
            };
            let structured = line
                .tool_use_result
                .as_ref()
                .filter(|output| output.is_object())
                .filter(|output| results.len() == 1 || same_file(output, &call.input));
            let failed = result.get("is_error").and_then(Value::as_bool) == Some(true)
                || (results.len() == 1
                    && line
                        .tool_use_result
                        .as_ref()
                        .and_then(Value::as_str)
                        .is_some_and(|text| text.starts_with("Error")));
            if failed {
                out.push(Item::FailedEdit);
                continue;
            }
            if let Some(edit) = edit_of(id, call, structured, line, number) {
                out.push(Item::Edit(edit));
            }
        }
    }
}

impl Transcript for Reader {
    fn read_line(&mut self, raw: &str, number: u64, out: &mut Vec<Item>) -> Result<(), Malformed> {
        let line: Line = serde_json::from_str(raw).map_err(|error| Malformed(error.to_string()))?;
        match line.kind.as_deref() {
            Some("user") => self.user(raw, &line, number, out),
            Some("assistant") => self.assistant(&line, number, out),
            _ => {}
        }
        Ok(())
    }

    fn state(&self) -> Option<String> {
        if self.state.pending.is_empty() && self.state.models.is_empty() {
            return None;
        }
        serde_json::to_string(&self.state).ok()
    }

    fn restore(&mut self, state: &str) {
        if let Ok(state) = serde_json::from_str(state) {
            self.state = state;
        }
    }
}

fn block_type(block: &Value) -> Option<&str> {
    block.get("type").and_then(Value::as_str)
}

/// Whether the text of a `user` message is something a person typed as a prompt, rather than
/// what Claude Code writes into the same kind of message.
fn is_typed_prompt(text: &str) -> bool {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return false;
    }
    const GENERATED: [&str; 12] = [
        "<system-reminder>",
        "<command-name>",
        "<command-message>",
        "<command-args>",
        "<local-command-stdout>",
        "<local-command-stderr>",
        "<bash-input>",
        "<bash-stdout>",
        "<bash-stderr>",
        "<user-memory-input>",
        "[Request interrupted by user",
        "Caveat: The messages below were generated by the user while running local commands",
    ];
    !GENERATED.iter().any(|prefix| trimmed.starts_with(prefix))
}

/// Whether a `toolUseResult` is about the file the call named.
fn same_file(output: &Value, input: &Value) -> bool {
    let path_of = |value: &Value, keys: &[&str]| {
        keys.iter()
            .find_map(|key| value.get(*key).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let output_path = path_of(output, &["filePath", "notebook_path"]);
    output_path.is_some() && output_path == path_of(input, &["file_path", "notebook_path"])
}

/// The edit a finished call made, with line counts from the tool's structured output when it
/// has one, else from the call's input.
fn edit_of(
    id: &str,
    call: PendingCall,
    output: Option<&Value>,
    line: &Line,
    number: u64,
) -> Option<Edit> {
    let input = &call.input;
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let path = text(input, "file_path")
        .or_else(|| text(input, "notebook_path"))
        .or_else(|| output.and_then(|output| text(output, "filePath")))?;
    let patch = output
        .and_then(|output| output.get("structuredPatch"))
        .and_then(structured_patch_changes);
    let mut extra = Map::new();
    let (added, removed) = match call.tool.as_str() {
        "Edit" => patch.map(|(a, r)| (a, Some(r))).unwrap_or_else(|| {
            let (a, r) = line_changes(
                input
                    .get("old_string")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                input
                    .get("new_string")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            );
            (a, Some(r))
        }),
        "MultiEdit" => patch.map(|(a, r)| (a, Some(r))).unwrap_or_else(|| {
            let edits = input.get("edits").and_then(Value::as_array);
            let (a, r) = edits.into_iter().flatten().fold((0u32, 0u32), |sum, edit| {
                let (a, r) = line_changes(
                    edit.get("old_string").and_then(Value::as_str).unwrap_or(""),
                    edit.get("new_string").and_then(Value::as_str).unwrap_or(""),
                );
                (sum.0.saturating_add(a), sum.1.saturating_add(r))
            });
            (a, Some(r))
        }),
        "Write" => {
            let kind = output.and_then(|output| text(output, "type"));
            let content = input.get("content").and_then(Value::as_str).unwrap_or("");
            if let Some(kind) = &kind {
                extra.insert("operation".into(), Value::String(kind.clone()));
            }
            match (kind.as_deref(), patch) {
                (Some("create"), _) => (count_lines(content), Some(0)),
                (_, Some((a, r))) if kind.is_some() => (a, Some(r)),
                // Without the tool's output the old content is unknown: every line is the AI's,
                // and what it replaced is not said.
                _ => (count_lines(content), None),
            }
        }
        _ => {
            let mode = text(input, "edit_mode").unwrap_or_else(|| "replace".to_owned());
            extra.insert("editMode".into(), Value::String(mode.clone()));
            let source = input
                .get("new_source")
                .and_then(Value::as_str)
                .unwrap_or("");
            let added = if mode == "delete" {
                0
            } else {
                count_lines(source)
            };
            (added, None)
        }
    };
    if let Some(modified) = output
        .and_then(|output| output.get("userModified"))
        .and_then(Value::as_bool)
    {
        extra.insert("userModified".into(), Value::Bool(modified));
    }
    let mut result = output.cloned().unwrap_or(Value::Null);
    if let Some(result) = result.as_object_mut() {
        // The file as it was before: not the AI's work, and often large.
        result.remove("originalFile");
        result.remove("originalFileContents");
    }
    let payload = json!({
        "sessionId": call.session.session_id,
        "toolUse": { "id": id, "name": call.tool, "input": call.input, "line": call.line },
        "toolResult": {
            "line": number,
            "uuid": line.uuid,
            "timestamp": line.timestamp,
            "toolUseResult": result,
        },
    });
    Some(Edit {
        key: format!("claude:tool:{id}"),
        session: call.session,
        base: None,
        path,
        lines_added: added,
        lines_removed: removed,
        tool: call.tool,
        call_id: id.to_owned(),
        extra,
        ts_ms: line
            .timestamp
            .as_deref()
            .and_then(rfc3339_ms)
            .or(call.ts_ms),
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::import::render;

    fn reader() -> Reader {
        Reader::new(Path::new("/home/u/.claude/projects/-w/s1.jsonl"))
    }

    const PROMPT: &str = r#"{"type":"user","sessionId":"s1","uuid":"u1","timestamp":"1970-01-01T00:00:01Z","cwd":"/w","gitBranch":"main","version":"2.0.1","message":{"role":"user","content":"Fix the bug"},"newField":{"x":1}}"#;
    const CALL: &str = r#"{"type":"assistant","sessionId":"s1","uuid":"u2","cwd":"/w","message":{"role":"assistant","model":"claude-x","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"t1","name":"Edit","input":{"file_path":"/w/a.rs","old_string":"a\n","new_string":"a\nb\nc\n"}},{"type":"tool_use","id":"t2","name":"Read","input":{"file_path":"/w/a.rs"}}]}}"#;
    const RESULT: &str = r#"{"type":"user","sessionId":"s1","uuid":"u3","timestamp":"1970-01-01T00:00:02Z","cwd":"/w","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"updated"}]},"toolUseResult":{"filePath":"/w/a.rs","originalFile":"a\n","structuredPatch":[{"oldStart":1,"oldLines":1,"newStart":1,"newLines":3,"lines":[" a","+b","+c"]}]}}"#;

    #[test]
    fn prompts_edits_and_the_model() {
        assert_eq!(
            render(&mut reader(), &[PROMPT, CALL, RESULT]),
            [
                r#"prompt claude:msg:u1 "Fix the bug" at Some(1000) in Some("/w") on Some("main")"#,
                "model claude-x for s1",
                "edit claude:tool:t1 /w/a.rs (base None) +2 -0 by Edit",
            ]
        );
    }

    #[test]
    fn what_is_not_a_prompt() {
        let user = |extra: &str, content: &str| {
            format!(
                r#"{{"type":"user","sessionId":"s1","uuid":"u","message":{{"role":"user","content":{content}}}{extra}}}"#
            )
        };
        let lines = [
            user(r#","isMeta":true"#, r#""Caveat: local commands""#),
            user(r#","isSidechain":true"#, r#""Search the code for X""#),
            user(
                r#","isCompactSummary":true"#,
                r#""This session is being continued""#,
            ),
            user("", r#""<command-name>/model</command-name>""#),
            user("", r#""<local-command-stdout>ok</local-command-stdout>""#),
            user(
                "",
                r#"[{"type":"text","text":"[Request interrupted by user]"}]"#,
            ),
            user(
                "",
                r#"[{"type":"image","source":{"type":"base64","data":"AAAA"}}]"#,
            ),
            user("", r#""   ""#),
            r#"{"type":"summary","summary":"Title","leafUuid":"x"}"#.to_owned(),
            r#"{"type":"system","content":"note"}"#.to_owned(),
            r#"{"type":"something-new"}"#.to_owned(),
            // A tool result for a call that is not an edit.
            user(
                "",
                r#"[{"type":"tool_result","tool_use_id":"t9","content":"x"}]"#,
            ),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(render(&mut reader(), &lines), Vec::<String>::new());
    }

    #[test]
    fn text_blocks_make_one_prompt_and_the_file_names_a_missing_session() {
        let line = r#"{"type":"user","uuid":"u9","message":{"role":"user","content":[{"type":"text","text":"one"},{"type":"image","source":{}},{"type":"text","text":"two"}]}}"#;
        assert_eq!(
            render(&mut reader(), &[line]),
            [r#"prompt claude:msg:u9 "one\ntwo" at None in None on None"#]
        );
    }

    #[test]
    fn text_sent_along_with_a_tool_result_is_a_prompt() {
        let line = r#"{"type":"user","sessionId":"s1","uuid":"u5","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"updated"},{"type":"text","text":"<system-reminder>the file changed</system-reminder>"}]}}"#;
        let typed = r#"{"type":"user","sessionId":"s1","uuid":"u6","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t7","content":"x"},{"type":"text","text":"wait, use tabs"}]}}"#;
        assert_eq!(
            render(&mut reader(), &[CALL, line, typed]),
            [
                "model claude-x for s1",
                "edit claude:tool:t1 /w/a.rs (base None) +2 -0 by Edit",
                r#"prompt claude:msg:u6 "wait, use tabs" at None in None on None"#,
            ]
        );
    }

    #[test]
    fn a_failed_edit_changes_nothing() {
        let error = r#"{"type":"user","sessionId":"s1","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"<tool_use_error>not found</tool_use_error>","is_error":true}]},"toolUseResult":"Error: String to replace not found in file."}"#;
        assert_eq!(
            render(&mut reader(), &[CALL, error]),
            ["model claude-x for s1", "failed edit"]
        );
    }

    #[test]
    fn counts_from_the_input_when_the_result_has_no_structure() {
        let write = r#"{"type":"assistant","sessionId":"s1","message":{"content":[{"type":"tool_use","id":"w1","name":"Write","input":{"file_path":"/w/n.md","content":"1\n2\n3\n"}},{"type":"tool_use","id":"m1","name":"MultiEdit","input":{"file_path":"/w/a.rs","edits":[{"old_string":"x","new_string":"y"},{"old_string":"p","new_string":"p\nq"}]}},{"type":"tool_use","id":"n1","name":"NotebookEdit","input":{"notebook_path":"/w/b.ipynb","new_source":"import os\nprint(1)","edit_mode":"insert"}}]}}"#;
        let results = r#"{"type":"user","sessionId":"s1","message":{"content":[{"type":"tool_result","tool_use_id":"w1","content":"ok"},{"type":"tool_result","tool_use_id":"m1","content":"ok"},{"type":"tool_result","tool_use_id":"n1","content":"ok"}]}}"#;
        assert_eq!(
            render(&mut reader(), &[write, results]),
            [
                "edit claude:tool:w1 /w/n.md (base None) +3 -? by Write",
                "edit claude:tool:m1 /w/a.rs (base None) +2 -1 by MultiEdit",
                "edit claude:tool:n1 /w/b.ipynb (base None) +2 -? by NotebookEdit",
            ]
        );
    }

    #[test]
    fn a_call_waits_for_its_result_across_a_resumed_read() {
        let mut first = reader();
        render(&mut first, &[PROMPT, CALL]);
        let state = first.state().unwrap();
        let mut second = reader();
        second.restore(&state);
        assert_eq!(
            render(&mut second, &[RESULT]),
            ["edit claude:tool:t1 /w/a.rs (base None) +2 -0 by Edit"]
        );
        // The model is remembered too: it is not reported again.
        assert_eq!(render(&mut second, &[CALL]), Vec::<String>::new());
    }

    #[test]
    fn lines_that_are_not_json_objects_are_malformed() {
        assert_eq!(
            render(
                &mut reader(),
                &[
                    "not json",
                    "[1,2]",
                    r#"{"type":"user","isMeta":"yes"}"#,
                    "{}"
                ]
            ),
            ["malformed line 1", "malformed line 2", "malformed line 3"]
        );
    }
}
