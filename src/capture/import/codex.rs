//! Codex rollouts: `~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`.
//!
//! Current rollouts (Codex CLI from about 0.30) wrap every line as
//! `{"timestamp", "type", "payload"}`:
//! - `session_meta` (the first line): `{id, timestamp, cwd, cli_version, instructions,
//!   git: {commit_hash, branch, repository_url}}`;
//! - `turn_context`: `{cwd, model, approval_policy, …}` at each turn;
//! - `event_msg`: `user_message {message, kind?}` is the prompt as the person typed it;
//!   `patch_apply_end {call_id, success}` says whether a patch applied;
//! - `response_item`: what the model saw and said: `message` (user messages here include
//!   instructions and environment context, so prompts are taken from `event_msg` instead),
//!   `function_call {name, arguments, call_id}`, `function_call_output {call_id, output}`,
//!   `custom_tool_call {name: "apply_patch", input, call_id}`, `custom_tool_call_output`,
//!   `local_shell_call`.
//!
//! Older rollouts have no envelope: the first line is the session (`{id, timestamp,
//! instructions, git?}`), the others are the response items themselves, and `{"record_type":
//! "state"}` lines mark saved state. There, prompts are the `message` items with role `user`,
//! less the instruction and environment blocks Codex adds.
//!
//! Edits are `apply_patch` calls, in any of their forms: the freeform `custom_tool_call`, a
//! `function_call` named `apply_patch`, or a shell call (`shell`, `container.exec`,
//! `local_shell_call`, …) whose command carries a `*** Begin Patch` block. A call waits for its
//! output; a patch that did not apply (a non-zero exit code, `success: false`, an error message)
//! records nothing.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::text::{PatchFile, embedded_patch, parse_apply_patch, rfc3339_ms};
use super::{Edit, Item, Malformed, Prompt, Session, Transcript};

pub(super) struct Reader {
    state: State,
}

#[derive(Default, Serialize, Deserialize)]
struct State {
    session: Session,
    /// The working directory of the current turn (relative patch paths resolve against it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    turn_cwd: Option<String>,
    /// When the session started, for lines without their own timestamp (older rollouts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started_ms: Option<i64>,
    /// Patch calls waiting for their output, by `call_id`.
    #[serde(default)]
    pending: BTreeMap<String, PendingPatch>,
    /// The last prompt taken and the turn it was in, so a rollout that says it twice (a
    /// `user_message` event and an `item_completed` one) gives one prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_prompt: Option<(Option<String>, String)>,
}

#[derive(Serialize, Deserialize)]
struct PendingPatch {
    /// The tool that ran `apply_patch`, when it was not the `apply_patch` tool itself (`shell`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    via: Option<String>,
    files: Vec<PendingFile>,
    base: Option<String>,
    ts_ms: Option<i64>,
    line: u64,
    call: Value,
}

#[derive(Serialize, Deserialize)]
struct PendingFile {
    op: String,
    path: String,
    move_to: Option<String>,
    added: u32,
    removed: u32,
}

impl From<PatchFile> for PendingFile {
    fn from(file: PatchFile) -> PendingFile {
        PendingFile {
            op: file.op.as_str().to_owned(),
            path: file.path,
            move_to: file.move_to,
            added: file.added,
            removed: file.removed,
        }
    }
}

impl Reader {
    pub(super) fn new(file: &Path) -> Reader {
        let mut state = State::default();
        state.session.session_id = session_id_from_name(file);
        Reader { state }
    }

    fn session_meta(&mut self, meta: &Value) {
        let text = |key: &str| {
            meta.get(key)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let session = &mut self.state.session;
        if let Some(id) = text("id") {
            session.session_id = id;
        }
        session.cwd = text("cwd").or(session.cwd.take());
        session.version = text("cli_version").or(session.version.take());
        let git = meta.get("git");
        let git_text = |key: &str| {
            git.and_then(|git| git.get(key))
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        session.commit = git_text("commit_hash").or(session.commit.take());
        session.branch = git_text("branch").or(session.branch.take());
        self.state.turn_cwd = session.cwd.clone();
        if let Some(ms) = text("timestamp").as_deref().and_then(rfc3339_ms) {
            self.state.started_ms = Some(ms);
        }
    }

    fn turn_context(&mut self, context: &Value, out: &mut Vec<Item>) {
        if let Some(cwd) = context.get("cwd").and_then(Value::as_str) {
            self.state.turn_cwd = Some(cwd.to_owned());
            if self.state.session.cwd.is_none() {
                self.state.session.cwd = Some(cwd.to_owned());
            }
        }
        if let Some(model) = context
            .get("model")
            .and_then(Value::as_str)
            .filter(|model| !model.is_empty())
            && self.state.session.model.as_deref() != Some(model)
        {
            self.state.session.model = Some(model.to_owned());
            out.push(Item::Model {
                session_id: self.state.session.session_id.clone(),
                model: model.to_owned(),
            });
        }
    }

    /// Whether `text` is not the prompt just taken in the same turn (`None`: a rollout that
    /// does not say the turn, where two equal prompts in a row are one).
    fn first_time(&mut self, turn: Option<&str>, text: &str) -> bool {
        let current = (turn.map(str::to_owned), text.to_owned());
        if self.state.last_prompt.as_ref() == Some(&current) {
            return false;
        }
        self.state.last_prompt = Some(current);
        true
    }

    fn prompt(&self, text: String, ts_ms: Option<i64>, number: u64, payload: Value) -> Item {
        Item::Prompt(Prompt {
            key: format!("codex:{}:line:{number}", self.state.session.session_id),
            session: self.state.session.clone(),
            text,
            ts_ms,
            payload,
        })
    }

    /// A response item (current rollouts' `response_item` payload, or an older rollout's line).
    fn response_item(
        &mut self,
        item: &Value,
        legacy: bool,
        ts_ms: Option<i64>,
        number: u64,
        raw: &Value,
        out: &mut Vec<Item>,
    ) {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "message" if item.get("role").and_then(Value::as_str) == Some("user") => {
                let text = item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|part| {
                        matches!(
                            part.get("type").and_then(Value::as_str),
                            Some("input_text" | "text")
                        )
                    })
                    .filter_map(|part| part.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n");
                if let Some(cwd) = environment_cwd(&text) {
                    // Older rollouts say where the session runs only here.
                    if self.state.session.cwd.is_none() {
                        self.state.session.cwd = Some(cwd.clone());
                    }
                    self.state.turn_cwd.get_or_insert(cwd);
                } else if legacy && is_typed_prompt(&text) {
                    out.push(self.prompt(text, ts_ms, number, raw.clone()));
                }
            }
            "custom_tool_call" | "function_call" | "local_shell_call" => {
                self.call(kind, item, ts_ms, number);
            }
            "function_call_output" | "custom_tool_call_output" => {
                let succeeded = item.get("output").is_some_and(output_succeeded);
                self.finish_call(item, succeeded, ts_ms, number, out);
            }
            _ => {}
        }
    }

    /// Remembers a call that applies a patch until its output says whether it applied.
    fn call(&mut self, kind: &str, item: &Value, ts_ms: Option<i64>, number: u64) {
        let Some(call_id) = item
            .get("call_id")
            .or_else(|| item.get("id"))
            .and_then(Value::as_str)
        else {
            return;
        };
        let name = item.get("name").and_then(Value::as_str).unwrap_or(kind);
        let (patch, workdir) = match kind {
            "custom_tool_call" if name == "apply_patch" => (
                item.get("input").and_then(Value::as_str).map(str::to_owned),
                None,
            ),
            "function_call" => {
                let raw = item.get("arguments").and_then(Value::as_str).unwrap_or("");
                let arguments: Value =
                    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
                let workdir = arguments
                    .get("workdir")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let patch = if name == "apply_patch" {
                    ["input", "patch"]
                        .iter()
                        .find_map(|key| arguments.get(*key).and_then(Value::as_str))
                        .or_else(|| arguments.as_str())
                        .map(str::to_owned)
                } else {
                    find_patch(&arguments)
                };
                (patch, workdir)
            }
            "local_shell_call" => {
                let action = item.get("action");
                let workdir = action
                    .and_then(|action| action.get("working_directory"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (action.and_then(find_patch), workdir)
            }
            _ => (None, None),
        };
        let Some(patch) = patch else {
            return;
        };
        let files = parse_apply_patch(embedded_patch(&patch).unwrap_or(&patch));
        if files.is_empty() {
            return;
        }
        let base = match workdir {
            Some(dir) => super::text::absolute(&dir, self.state.turn_cwd.as_deref())
                .map(|dir| dir.to_string_lossy().into_owned()),
            None => self.state.turn_cwd.clone(),
        };
        self.state.pending.insert(
            call_id.to_owned(),
            PendingPatch {
                via: (name != "apply_patch").then(|| name.to_owned()),
                files: files.into_iter().map(PendingFile::from).collect(),
                base,
                ts_ms,
                line: number,
                call: item.clone(),
            },
        );
    }

    fn finish_call(
        &mut self,
        result: &Value,
        succeeded: bool,
        ts_ms: Option<i64>,
        number: u64,
        out: &mut Vec<Item>,
    ) {
        let Some(call_id) = result.get("call_id").and_then(Value::as_str) else {
            return;
        };
        let Some(call) = self.state.pending.remove(call_id) else {
            return;
        };
        if !succeeded {
            out.extend(call.files.iter().map(|_| Item::FailedEdit));
            return;
        }
        let session = &self.state.session;
        for (index, file) in call.files.iter().enumerate() {
            let mut extra = Map::new();
            extra.insert("operation".into(), Value::String(file.op.clone()));
            if let Some(via) = &call.via {
                extra.insert("via".into(), Value::String(via.clone()));
            }
            if let Some(to) = &file.move_to {
                extra.insert("moveTo".into(), Value::String(to.clone()));
            }
            // A moved file ends up at its new path: that is the file the lines are in.
            let path = file.move_to.clone().unwrap_or_else(|| file.path.clone());
            out.push(Item::Edit(Edit {
                key: format!("codex:{}:call:{call_id}:{index}", session.session_id),
                session: session.clone(),
                path,
                base: call.base.clone(),
                lines_added: file.added,
                lines_removed: (file.op != "delete").then_some(file.removed),
                tool: "apply_patch".to_owned(),
                call_id: call_id.to_owned(),
                extra,
                ts_ms: ts_ms.or(call.ts_ms),
                payload: json!({
                    "sessionId": session.session_id,
                    "call": call.call,
                    "callLine": call.line,
                    "result": result,
                    "resultLine": number,
                    "file": index,
                }),
            }));
        }
    }
}

impl Transcript for Reader {
    fn read_line(&mut self, raw: &str, number: u64, out: &mut Vec<Item>) -> Result<(), Malformed> {
        let value: Value =
            serde_json::from_str(raw).map_err(|error| Malformed(error.to_string()))?;
        if !value.is_object() {
            return Err(Malformed("a rollout line is a JSON object".to_owned()));
        }
        let kind = value.get("type").and_then(Value::as_str);
        let ts_ms = value
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(rfc3339_ms)
            .or(self.state.started_ms);
        let Some(payload) = value.get("payload").filter(|payload| payload.is_object()) else {
            // An older rollout: the session on the first line, then bare response items.
            match kind {
                None if number == 1 && value.get("id").is_some() => self.session_meta(&value),
                Some(_) => self.response_item(&value, true, ts_ms, number, &value, out),
                None => {}
            }
            return Ok(());
        };
        match kind {
            Some("session_meta") => self.session_meta(payload),
            Some("turn_context") => self.turn_context(payload, out),
            Some("response_item") => self.response_item(payload, false, ts_ms, number, &value, out),
            Some("event_msg") => match payload.get("type").and_then(Value::as_str) {
                Some("user_message") => {
                    let plain = payload
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_none_or(|kind| kind == "plain");
                    let turn = payload.get("turn_id").and_then(Value::as_str);
                    if let Some(text) = payload.get("message").and_then(Value::as_str)
                        && plain
                        && is_typed_prompt(text)
                        && self.first_time(turn, text)
                    {
                        out.push(self.prompt(text.to_owned(), ts_ms, number, value.clone()));
                    }
                }
                // Codex 0.171 and later: no `user_message`, the prompt is the `UserMessage`
                // item the turn completed.
                Some("item_completed")
                    if payload.pointer("/item/type").and_then(Value::as_str)
                        == Some("UserMessage") =>
                {
                    let text = payload
                        .pointer("/item/content")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
                        .filter_map(|part| part.get("text").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let turn = payload.get("turn_id").and_then(Value::as_str);
                    if is_typed_prompt(&text) && self.first_time(turn, &text) {
                        out.push(self.prompt(text, ts_ms, number, value.clone()));
                    }
                }
                Some("patch_apply_end") => {
                    let succeeded = payload.get("success").and_then(Value::as_bool) == Some(true);
                    self.finish_call(payload, succeeded, ts_ms, number, out);
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }

    fn state(&self) -> Option<String> {
        serde_json::to_string(&self.state).ok()
    }

    fn restore(&mut self, state: &str) {
        if let Ok(state) = serde_json::from_str(state) {
            self.state = state;
        }
    }
}

/// The session id a rollout's name carries (`rollout-2025-10-28T18-59-38-<uuid>.jsonl`), else
/// the name itself; used until (or unless) the file says.
fn session_id_from_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let uuid_len = 36;
    if stem.len() > uuid_len && stem.is_char_boundary(stem.len() - uuid_len) {
        let tail = &stem[stem.len() - uuid_len..];
        if tail.bytes().filter(|b| *b == b'-').count() == 4
            && tail.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
        {
            return tail.to_owned();
        }
    }
    stem
}

/// A patch anywhere in a call's arguments (a shell command array or string).
fn find_patch(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => embedded_patch(text).map(str::to_owned),
        Value::Array(items) => items.iter().find_map(find_patch),
        Value::Object(map) => map.values().find_map(find_patch),
        _ => None,
    }
}

/// Whether a tool call's output says it succeeded: the exit code of `{"output", "metadata":
/// {"exit_code"}}` (or of an `Exit code: N` line), `success` of `{"content", "success"}`, or
/// apply_patch's own `Success. Updated the following files` message.
fn output_succeeded(output: &Value) -> bool {
    match output {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(parsed) if parsed.is_object() => output_succeeded(&parsed),
            _ => text_succeeded(text),
        },
        Value::Object(map) => {
            if let Some(code) = map
                .get("metadata")
                .and_then(|metadata| metadata.get("exit_code"))
                .and_then(Value::as_i64)
            {
                return code == 0;
            }
            if let Some(success) = map.get("success").and_then(Value::as_bool) {
                return success;
            }
            ["output", "content"]
                .iter()
                .find_map(|key| map.get(*key).and_then(Value::as_str))
                .is_some_and(text_succeeded)
        }
        _ => false,
    }
}

fn text_succeeded(text: &str) -> bool {
    let exit_code = text.lines().find_map(|line| {
        line.trim()
            .strip_prefix("Exit code:")
            .and_then(|code| code.trim().parse::<i64>().ok())
    });
    match exit_code {
        Some(code) => code == 0,
        None => text.contains("Success. Updated the following files"),
    }
}

/// The `<cwd>` of an `<environment_context>` block Codex adds to the conversation.
fn environment_cwd(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix("<environment_context>")?;
    let start = rest.find("<cwd>")? + "<cwd>".len();
    let end = start + rest[start..].find("</cwd>")?;
    let cwd = rest[start..end].trim();
    (!cwd.is_empty()).then(|| cwd.to_owned())
}

/// Whether a user message is a prompt a person typed rather than context Codex adds.
fn is_typed_prompt(text: &str) -> bool {
    let trimmed = text.trim_start();
    const GENERATED: [&str; 6] = [
        "<user_instructions>",
        "<environment_context>",
        "<user_shell_command>",
        "<turn_aborted>",
        "# AGENTS.md instructions",
        "<INSTRUCTIONS>",
    ];
    !trimmed.is_empty() && !GENERATED.iter().any(|prefix| trimmed.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn outputs_that_say_a_patch_applied() {
        let ok = json!(
            "{\"output\":\"Success. Updated the following files:\\nM a.rs\\n\",\"metadata\":{\"exit_code\":0,\"duration_seconds\":0.0}}"
        );
        let failed =
            json!("{\"output\":\"error: patch does not apply\",\"metadata\":{\"exit_code\":1}}");
        assert!(output_succeeded(&ok));
        assert!(!output_succeeded(&failed));
        assert!(output_succeeded(&json!(
            "Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following files:\nA x\n"
        )));
        assert!(!output_succeeded(&json!(
            "Exit code: 1\nOutput:\nverification failed"
        )));
        assert!(output_succeeded(&json!(
            "Success. Updated the following files:\nM b\n"
        )));
        assert!(!output_succeeded(&json!("apply_patch verification failed")));
        assert!(output_succeeded(
            &json!({ "content": "done", "success": true })
        ));
        assert!(!output_succeeded(
            &json!({ "content": "x", "success": false })
        ));
    }

    #[test]
    fn session_ids_from_rollout_names() {
        assert_eq!(
            session_id_from_name(Path::new(
                "rollout-2025-10-28T18-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl"
            )),
            "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"
        );
        assert_eq!(session_id_from_name(Path::new("odd.jsonl")), "odd");
    }
}

#[cfg(test)]
mod read_tests {
    use super::*;
    use crate::capture::import::render;

    fn reader() -> Reader {
        Reader::new(Path::new(
            "rollout-2025-10-28T18-59-38-019a2d7a-41c4-78b1-b7cc-a45d62a89cd5.jsonl",
        ))
    }

    const META: &str = r#"{"timestamp":"1970-01-01T00:00:01Z","type":"session_meta","payload":{"id":"s9","cwd":"/w","cli_version":"0.46.0","git":{"commit_hash":"abc","branch":"main"}}}"#;

    #[test]
    fn prompts_come_from_user_message_events() {
        let lines = [
            META,
            r#"{"timestamp":"1970-01-01T00:00:02Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n<cwd>/w</cwd>\n</environment_context>"}]}}"#,
            r#"{"timestamp":"1970-01-01T00:00:02Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"Do it"}]}}"#,
            r#"{"timestamp":"1970-01-01T00:00:02Z","type":"event_msg","payload":{"type":"user_message","message":"Do it","kind":"plain"}}"#,
            r#"{"timestamp":"1970-01-01T00:00:02Z","type":"event_msg","payload":{"type":"user_message","message":"<user_instructions>be nice</user_instructions>","kind":"user_instructions"}}"#,
            r#"{"timestamp":"1970-01-01T00:00:02Z","type":"turn_context","payload":{"cwd":"/w","model":"gpt-5-codex"}}"#,
            r#"{"timestamp":"1970-01-01T00:00:03Z","type":"event_msg","payload":{"type":"user_message","message":"And more"}}"#,
            r#"{"timestamp":"1970-01-01T00:00:03Z","type":"turn_context","payload":{"cwd":"/w","model":"gpt-5-codex"}}"#,
        ];
        assert_eq!(
            render(&mut reader(), &lines),
            [
                r#"prompt codex:s9:line:4 "Do it" at Some(2000) in Some("/w") on Some("main")"#,
                "model gpt-5-codex for s9",
                r#"prompt codex:s9:line:7 "And more" at Some(3000) in Some("/w") on Some("main")"#,
            ]
        );
    }

    /// Codex 0.171: the prompt is an `item_completed` `UserMessage`; a rollout that also has the
    /// older `user_message` event for the same turn gives one prompt.
    #[test]
    fn prompts_come_from_completed_user_message_items() {
        let item = |turn: &str, text: &str| {
            json!({"timestamp": "1970-01-01T00:00:02Z", "type": "event_msg", "payload": {
                "type": "item_completed", "turn_id": turn,
                "item": {"type": "UserMessage", "id": "u", "content": [
                    {"type": "text", "text": text, "text_elements": []}
                ]}
            }})
            .to_string()
        };
        let lines = [
            META.to_owned(),
            item("t1", "Write calc.py"),
            r#"{"timestamp":"1970-01-01T00:00:02Z","type":"event_msg","payload":{"type":"user_message","turn_id":"t1","message":"Write calc.py"}}"#.to_owned(),
            item("t1", "<environment_context>\n<cwd>/w</cwd>\n</environment_context>"),
            item("t2", "Write calc.py"),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(
            render(&mut reader(), &lines),
            [
                r#"prompt codex:s9:line:2 "Write calc.py" at Some(2000) in Some("/w") on Some("main")"#,
                r#"prompt codex:s9:line:5 "Write calc.py" at Some(2000) in Some("/w") on Some("main")"#,
            ]
        );
    }

    #[test]
    fn patches_in_all_their_forms() {
        let call = |payload: serde_json::Value| {
            json!({"timestamp": "1970-01-01T00:00:05Z", "type": "response_item", "payload": payload})
                .to_string()
        };
        let ok = "{\"output\":\"Success. Updated the following files:\\nM a\\n\",\"metadata\":{\"exit_code\":0}}";
        let patch = "*** Begin Patch\n*** Update File: src/a.rs\n@@\n-x\n+y\n+z\n*** End Patch\n";
        let lines = [
            META.to_owned(),
            call(json!({"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": patch})),
            call(json!({"type": "custom_tool_call_output", "call_id": "c1", "output": ok})),
            call(json!({"type": "function_call", "call_id": "c2", "name": "apply_patch", "arguments": json!({"input": patch}).to_string()})),
            r#"{"type":"event_msg","payload":{"type":"patch_apply_end","call_id":"c2","success":true}}"#.to_owned(),
            call(json!({"type": "function_call_output", "call_id": "c2", "output": ok})),
            call(json!({"type": "function_call", "call_id": "c3", "name": "shell", "arguments": json!({"command": ["apply_patch", patch], "workdir": "sub"}).to_string()})),
            call(json!({"type": "function_call_output", "call_id": "c3", "output": ok})),
            call(json!({"type": "function_call", "call_id": "c4", "name": "shell", "arguments": json!({"command": ["bash", "-lc", "ls"]}).to_string()})),
            call(json!({"type": "function_call_output", "call_id": "c4", "output": ok})),
            call(json!({"type": "custom_tool_call", "call_id": "c5", "name": "apply_patch", "input": patch})),
            call(json!({"type": "custom_tool_call_output", "call_id": "c5", "output": "{\"output\":\"verification failed\",\"metadata\":{\"exit_code\":1}}"})),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(
            render(&mut reader(), &lines),
            [
                r#"edit codex:s9:call:c1:0 src/a.rs (base Some("/w")) +2 -1 by apply_patch"#,
                r#"edit codex:s9:call:c2:0 src/a.rs (base Some("/w")) +2 -1 by apply_patch"#,
                r#"edit codex:s9:call:c3:0 src/a.rs (base Some("/w/sub")) +2 -1 by apply_patch"#,
                "failed edit",
            ]
        );
    }

    #[test]
    fn a_patch_waits_for_its_output_across_a_resumed_read() {
        let patch = "*** Begin Patch\n*** Add File: n.txt\n+1\n*** End Patch";
        let call = json!({"type": "response_item", "payload": {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": patch}}).to_string();
        let output = json!({"type": "response_item", "payload": {"type": "custom_tool_call_output", "call_id": "c1", "output": "Exit code: 0\nOutput:\nSuccess. Updated the following files:\nA n.txt\n"}}).to_string();
        let mut first = reader();
        assert_eq!(render(&mut first, &[META, &call]), Vec::<String>::new());
        let mut second = reader();
        second.restore(&first.state().unwrap());
        assert_eq!(
            render(&mut second, &[&output]),
            [r#"edit codex:s9:call:c1:0 n.txt (base Some("/w")) +1 -0 by apply_patch"#]
        );
    }

    #[test]
    fn older_rollouts_without_the_envelope() {
        let lines = [
            r#"{"id":"old1","timestamp":"1970-01-01T00:00:01Z","instructions":null,"git":{"branch":"dev"}}"#,
            r#"{"record_type":"state"}"#,
            r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n  <cwd>/old</cwd>\n</environment_context>"}]}"#,
            r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"Old prompt"}]}"#,
            r#"{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Done"}]}"#,
        ];
        assert_eq!(
            render(&mut reader(), &lines),
            [
                r#"prompt codex:old1:line:4 "Old prompt" at Some(1000) in Some("/old") on Some("dev")"#
            ]
        );
    }

    #[test]
    fn the_session_id_comes_from_the_name_until_the_file_says() {
        let line = r#"{"type":"event_msg","payload":{"type":"user_message","message":"hi"}}"#;
        assert_eq!(
            render(&mut reader(), &[line, "oops", "42"]),
            [
                r#"prompt codex:019a2d7a-41c4-78b1-b7cc-a45d62a89cd5:line:1 "hi" at None in None on None"#,
                "malformed line 2",
                "malformed line 3",
            ]
        );
    }
}
