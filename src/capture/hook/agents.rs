//! The wire types of each agent's hook payload, and their conversion to a [`HookEvent`].
//!
//! Shapes come from the agents' public documentation (see `docs/hooks.md` for the sources):
//! Claude Code, Codex, Gemini CLI and Copilot CLI's VS Code-compatible format share one
//! snake_case shape (`session_id`, `hook_event_name`, `tool_name`, `tool_input`, …); Copilot
//! CLI's own format is camelCase and carries no event name; Cursor has its own event names and
//! fields; `prodcode` is the generic format documented in `docs/hooks.md`.
//!
//! Every field is optional and loosely typed ([`Text`] accepts a string or a number and turns
//! anything else into "absent"), unknown fields are ignored, and an event prodcode does not
//! know becomes [`Action::Other`]: a payload is never rejected.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::event::{
    Action, FileEdit, HookEvent, Target, ToolCall, replacements, resolve, tool_target,
};

/// A string field that tolerates the wrong type: numbers become their decimal text, anything
/// else (objects, arrays, `null`) is absent.
#[derive(Default, Debug)]
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        Ok(Text(match Value::deserialize(deserializer)? {
            Value::String(text) => Some(text),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }))
    }
}

impl Text {
    fn get(self) -> Option<String> {
        self.0.filter(|text| !text.is_empty())
    }
}

/// Claude Code, Codex, Gemini CLI, and Copilot CLI with PascalCase event names.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
struct SnakeCaseWire {
    hook_event_name: Text,
    session_id: Text,
    transcript_path: Text,
    cwd: Text,
    /// Codex sends the model with every event; Claude Code with `SessionStart` (a string, or an
    /// object with an `id` in some versions).
    model: Value,
    prompt: Text,
    tool_name: Text,
    // `tool_input`, `tool_response` and Copilot CLI's `tool_result` are read from the payload
    // by reference: they hold whole files (a `Write`'s content, an `Edit`'s `originalFile`),
    // which deserializing would copy.
    tool_use_id: Text,
}

/// Copilot CLI with camelCase event names (`preToolUse`, …): no event name in the payload.
#[derive(Deserialize, Default, Debug)]
#[serde(default, rename_all = "camelCase")]
struct CopilotWire {
    hook_event_name: Text,
    session_id: Text,
    cwd: Text,
    transcript_path: Text,
    prompt: Text,
    tool_name: Text,
    /// An object, or (in older versions) the arguments as a JSON string.
    tool_args: Value,
    tool_result: Value,
    error: Value,
    error_context: Value,
    reason: Text,
    source: Text,
    stop_reason: Text,
    agent_name: Text,
    notification_type: Text,
}

/// Cursor.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
struct CursorWire {
    hook_event_name: Text,
    conversation_id: Text,
    model: Text,
    cursor_version: Text,
    workspace_roots: Vec<Text>,
    transcript_path: Text,
    prompt: Text,
    file_path: Text,
    edits: Value,
    command: Text,
    cwd: Text,
}

/// The generic `prodcode` format (`docs/hooks.md`).
#[derive(Deserialize, Default, Debug)]
#[serde(default, rename_all = "camelCase")]
struct GenericWire {
    event: Text,
    session_id: Text,
    interaction_id: Text,
    agent: GenericAgent,
    cwd: Text,
    prompt: Text,
    files: Vec<Text>,
    tool: Text,
    tool_use_id: Text,
    command: Text,
    transcript_path: Text,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
struct GenericAgent {
    name: Text,
    model: Text,
    version: Text,
}

/// Converts one payload. `hint` is the event name given on the command line (`--event`), for
/// agents whose payload does not say it; `process_cwd` stands in when the payload has no cwd.
pub fn parse(
    agent: &str,
    hint: Option<&str>,
    value: &Value,
    process_cwd: Option<&Path>,
) -> HookEvent {
    if !value.is_object() {
        return other(agent, hint.unwrap_or("unknown"), process_cwd);
    }
    match agent {
        "claude" | "codex" | "gemini" => snake_case(agent, hint, value, process_cwd),
        "cursor" => cursor(agent, hint, value, process_cwd),
        "copilot" if value.get("hook_event_name").is_some() => {
            snake_case(agent, hint, value, process_cwd)
        }
        "copilot" => copilot(agent, hint, value, process_cwd),
        // Any other agent: its own hook_event_name says it speaks the common shape.
        _ if value.get("hook_event_name").is_some() => snake_case(agent, hint, value, process_cwd),
        _ => generic(agent, hint, value, process_cwd),
    }
}

/// An event with nothing to derive.
pub fn other(agent: &str, name: &str, process_cwd: Option<&Path>) -> HookEvent {
    HookEvent {
        agent: agent.to_owned(),
        name: name.to_owned(),
        agent_name: None,
        session_id: None,
        interaction_id: None,
        model: None,
        agent_version: None,
        transcript_path: None,
        cwd: process_cwd.map(Path::to_path_buf),
        action: Action::Other,
    }
}

fn cwd_or(cwd: Option<String>, process_cwd: Option<&Path>) -> Option<PathBuf> {
    match cwd {
        Some(cwd) => Some(resolve(&cwd, process_cwd)),
        None => process_cwd.map(Path::to_path_buf),
    }
}

fn model_name(model: &Value) -> Option<String> {
    match model {
        Value::String(name) if !name.is_empty() => Some(name.clone()),
        Value::Object(fields) => ["id", "name", "display_name"]
            .iter()
            .find_map(|key| fields.get(*key).and_then(Value::as_str))
            .map(str::to_owned),
        _ => None,
    }
}

fn snake_case(
    agent: &str,
    hint: Option<&str>,
    value: &Value,
    process_cwd: Option<&Path>,
) -> HookEvent {
    let wire = SnakeCaseWire::deserialize(value).unwrap_or_default();
    let name = wire
        .hook_event_name
        .get()
        .or_else(|| hint.map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let cwd = cwd_or(wire.cwd.get(), process_cwd);
    let field = |name: &str| value.get(name).unwrap_or(&Value::Null);
    let tool = || {
        let tool = wire.tool_name.0.clone().unwrap_or_default();
        let response = match field("tool_response") {
            Value::Null => field("tool_result"),
            response => response,
        };
        ToolCall {
            target: tool_target(&tool, field("tool_input"), Some(response), cwd.as_deref()),
            tool,
            tool_use_id: wire.tool_use_id.0.clone().filter(|id| !id.is_empty()),
        }
    };
    let action = match name.as_str() {
        "UserPromptSubmit" | "BeforeAgent" => match wire.prompt.0.clone() {
            Some(text) => Action::Prompt { text },
            None => Action::Other,
        },
        "PreToolUse" | "BeforeTool" => Action::PreTool(tool()),
        "PostToolUse" | "PostToolUseFailure" | "AfterTool" => Action::PostTool(tool()),
        "Stop" | "AfterAgent" => Action::Stop,
        "SessionEnd" => Action::SessionEnd,
        "SessionStart" => Action::SessionStart,
        _ => Action::Other,
    };
    HookEvent {
        agent: agent.to_owned(),
        name,
        agent_name: None,
        session_id: wire.session_id.get(),
        interaction_id: None,
        model: model_name(&wire.model),
        agent_version: None,
        transcript_path: wire.transcript_path.get(),
        cwd,
        action,
    }
}

/// Copilot CLI's camelCase payloads do not name their event: the command line may (`--event`),
/// else the fields tell (`toolResult` only after a tool, `prompt` only with a prompt, …).
fn copilot(
    agent: &str,
    hint: Option<&str>,
    value: &Value,
    process_cwd: Option<&Path>,
) -> HookEvent {
    let wire = CopilotWire::deserialize(value).unwrap_or_default();
    let has = |field: &Value| !field.is_null();
    let inferred = if has(&wire.tool_result) {
        "postToolUse"
    } else if wire.tool_name.0.is_some() && has(&wire.error) {
        "postToolUseFailure"
    } else if wire.tool_name.0.is_some() {
        "preToolUse"
    } else if wire.prompt.0.is_some() {
        "userPromptSubmitted"
    } else if has(&wire.error_context) || has(&wire.error) {
        "errorOccurred"
    } else if wire.notification_type.0.is_some() {
        "notification"
    } else if wire.stop_reason.0.is_some() && wire.agent_name.0.is_some() {
        "subagentStop"
    } else if wire.stop_reason.0.is_some() {
        "agentStop"
    } else if wire.reason.0.is_some() {
        "sessionEnd"
    } else if wire.source.0.is_some() {
        "sessionStart"
    } else {
        "unknown"
    };
    let name = hint
        .map(str::to_owned)
        .or_else(|| wire.hook_event_name.0.clone())
        .unwrap_or_else(|| inferred.to_owned());
    let cwd = cwd_or(wire.cwd.get(), process_cwd);
    let tool = || {
        let tool = wire.tool_name.0.clone().unwrap_or_default();
        let args = match &wire.tool_args {
            Value::String(json) => serde_json::from_str(json).unwrap_or(Value::Null),
            args => args.clone(),
        };
        ToolCall {
            target: tool_target(&tool, &args, None, cwd.as_deref()),
            tool,
            tool_use_id: None,
        }
    };
    let action = match name.as_str() {
        "userPromptSubmitted" | "UserPromptSubmit" => match wire.prompt.0.clone() {
            Some(text) => Action::Prompt { text },
            None => Action::Other,
        },
        "preToolUse" | "PreToolUse" => Action::PreTool(tool()),
        "postToolUse" | "postToolUseFailure" | "PostToolUse" | "PostToolUseFailure" => {
            Action::PostTool(tool())
        }
        "agentStop" | "Stop" => Action::Stop,
        "sessionEnd" | "SessionEnd" => Action::SessionEnd,
        "sessionStart" | "SessionStart" => Action::SessionStart,
        _ => Action::Other,
    };
    HookEvent {
        agent: agent.to_owned(),
        name,
        agent_name: None,
        session_id: wire.session_id.get(),
        interaction_id: None,
        model: None,
        agent_version: None,
        transcript_path: wire.transcript_path.get(),
        cwd,
        action,
    }
}

fn cursor(agent: &str, hint: Option<&str>, value: &Value, process_cwd: Option<&Path>) -> HookEvent {
    let wire = CursorWire::deserialize(value).unwrap_or_default();
    let name = wire
        .hook_event_name
        .get()
        .or_else(|| hint.map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let root = wire.workspace_roots.into_iter().find_map(Text::get);
    let cwd = cwd_or(wire.cwd.get().or(root), process_cwd);
    let shell = |command: Option<String>| ToolCall {
        tool: "shell".to_owned(),
        tool_use_id: None,
        target: Target::Shell {
            command,
            cwd: cwd.clone(),
        },
    };
    let action = match name.as_str() {
        "beforeSubmitPrompt" => match wire.prompt.0.clone() {
            Some(text) => Action::Prompt { text },
            None => Action::Other,
        },
        "afterFileEdit" => match wire.file_path.0.clone() {
            Some(path) => Action::PostTool(ToolCall {
                tool: "edit".to_owned(),
                tool_use_id: None,
                target: Target::Files(vec![FileEdit {
                    path: resolve(&path, cwd.as_deref()),
                    original: None,
                    created: false,
                    replacements: replacements(&serde_json::json!({ "edits": wire.edits })),
                }]),
            }),
            None => Action::Other,
        },
        "beforeShellExecution" => Action::PreTool(shell(wire.command.0.clone())),
        "afterShellExecution" => Action::PostTool(shell(wire.command.0.clone())),
        "stop" => Action::Stop,
        "sessionEnd" => Action::SessionEnd,
        "sessionStart" => Action::SessionStart,
        _ => Action::Other,
    };
    HookEvent {
        agent: agent.to_owned(),
        name,
        agent_name: None,
        session_id: wire.conversation_id.get(),
        interaction_id: None,
        model: wire.model.get(),
        agent_version: wire.cursor_version.get(),
        transcript_path: wire.transcript_path.get(),
        cwd,
        action,
    }
}

fn generic(
    agent: &str,
    hint: Option<&str>,
    value: &Value,
    process_cwd: Option<&Path>,
) -> HookEvent {
    let wire = GenericWire::deserialize(value).unwrap_or_default();
    let name = wire
        .event
        .get()
        .or_else(|| hint.map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let cwd = cwd_or(wire.cwd.get(), process_cwd);
    let tool_use_id = wire.tool_use_id.get();
    let files = || {
        Target::Files(
            wire.files
                .iter()
                .filter_map(|file| file.0.as_deref())
                .map(|path| FileEdit {
                    path: resolve(path, cwd.as_deref()),
                    original: None,
                    created: false,
                    replacements: None,
                })
                .collect(),
        )
    };
    let call = |target: Target, default_tool: &str| ToolCall {
        tool: wire
            .tool
            .0
            .clone()
            .unwrap_or_else(|| default_tool.to_owned()),
        tool_use_id: tool_use_id.clone(),
        target,
    };
    let shell = || Target::Shell {
        command: wire.command.0.clone(),
        cwd: cwd.clone(),
    };
    let action = match name.as_str() {
        "promptSubmitted" => match wire.prompt.0.clone() {
            Some(text) => Action::Prompt { text },
            None => Action::Other,
        },
        "preEdit" => Action::PreTool(call(files(), "edit")),
        "postEdit" => Action::PostTool(call(files(), "edit")),
        "preShell" => Action::PreTool(call(shell(), "shell")),
        "postShell" => Action::PostTool(call(shell(), "shell")),
        "stop" => Action::Stop,
        "sessionStart" => Action::SessionStart,
        "sessionEnd" => Action::SessionEnd,
        _ => Action::Other,
    };
    HookEvent {
        agent: agent.to_owned(),
        name,
        agent_name: wire.agent.name.get(),
        session_id: wire.session_id.get(),
        interaction_id: wire.interaction_id.get(),
        model: wire.agent.model.get(),
        agent_version: wire.agent.version.get(),
        transcript_path: wire.transcript_path.get(),
        cwd,
        action,
    }
}
