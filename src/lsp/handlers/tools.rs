//! `workspace/executeCommand` with the commands `prodcode.<tool>`: the toolbox's tools for an
//! editor or an agent that already speaks LSP to the daemon.
//!
//! `arguments[0]` is the tool's arguments object (absent: none); `arguments[1]` may be
//! `{ "workspaceFolder": uri }` to pick a workspace root other than the first. The answer is
//! `{ "isError", "text", "structuredContent" }`, the same result the MCP front gives.
//!
//! An editor serves many interactions through one daemon, so the daemon's environment
//! (`PRODCODE_INTERACTION_ID`) cannot say which one a call belongs to: the caller names it with
//! an optional `interactionId` in `arguments[0]` (issue 15). The front takes it out before the
//! tool sees the object, because tools refuse arguments they do not take; no tool has an argument
//! of that name.
//!
//! Invariant: a tool call runs on its own thread and answers through the connection's sender, so
//! a test run never holds up the ordered message loop (`didChange` keeps flowing while it runs).

use std::path::PathBuf;
use std::sync::Arc;

use lsp_server::{ErrorCode, Message, RequestId, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{HandlerError, HandlerResult};
use crate::lsp::conv;
use crate::lsp::state::GlobalState;
use crate::tools::toolbox::{self, CallContext};

/// The prefix of every tool command.
pub const PREFIX: &str = "prodcode.";

/// The command names the daemon advertises in `executeCommandProvider`.
pub fn commands() -> Vec<String> {
    toolbox::specs()
        .iter()
        .map(|spec| format!("{PREFIX}{}", spec.name))
        .collect()
}

#[derive(Deserialize)]
pub struct ExecuteCommandParams {
    pub command: String,
    #[serde(default)]
    pub arguments: Vec<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Options {
    #[serde(default)]
    workspace_folder: Option<String>,
}

/// Starts the call and answers later; `Err` when the request cannot name a tool call at all.
pub fn execute_command(
    state: &mut GlobalState,
    id: RequestId,
    params: ExecuteCommandParams,
) -> HandlerResult<()> {
    let Some(tool) = params.command.strip_prefix(PREFIX) else {
        return Err(HandlerError::invalid_params(format!(
            "unknown command `{}`; the daemon's commands are {}",
            params.command,
            commands().join(", ")
        )));
    };
    let mut arguments = params.arguments.first().cloned().unwrap_or(Value::Null);
    let interaction_id = take_interaction_id(&mut arguments)?;
    let options: Options = match params.arguments.get(1) {
        Some(value) => serde_json::from_value(value.clone()).map_err(|error| {
            HandlerError::invalid_params(format!(
                "arguments[1] must be {{\"workspaceFolder\": uri}}: {error}"
            ))
        })?,
        None => Options::default(),
    };
    let root = workspace_root(state, options.workspace_folder.as_deref())?;
    let toolbox = match state.toolboxes.get(&root) {
        Some(toolbox) => Arc::clone(toolbox),
        None => {
            let toolbox = Arc::new((state.open_toolbox)(&root).map_err(|error| HandlerError {
                code: ErrorCode::RequestFailed,
                message: format!("cannot open the tools of {}: {error:#}", root.display()),
            })?);
            state.toolboxes.insert(root, Arc::clone(&toolbox));
            toolbox
        }
    };
    let mut context = CallContext::from_env("lsp");
    context.client = state.client.clone();
    if interaction_id.is_some() {
        context.interaction_id = interaction_id;
    }
    let tool = tool.to_owned();
    let sender = state.sender.clone();
    std::thread::Builder::new()
        .name(format!("tool {tool}"))
        .spawn(move || {
            let output = toolbox.call(&tool, &arguments, &context);
            let result = json!({
                "isError": output.is_error,
                "text": output.text,
                "structuredContent": output.structured,
            });
            let _ = sender.send(Message::Response(Response::new_ok(id, result)));
        })
        .map_err(|error| HandlerError {
            code: ErrorCode::InternalError,
            message: format!("cannot start a thread for the tool call: {error}"),
        })?;
    Ok(())
}

/// The field of `arguments[0]` that names the interaction a call belongs to.
pub const INTERACTION_ARGUMENT: &str = "interactionId";

/// Removes `interactionId` from the tool's arguments and returns it; `Err` when it is not a
/// non-empty string (a call recorded under a garbled id would be lost to its interaction).
fn take_interaction_id(arguments: &mut Value) -> HandlerResult<Option<String>> {
    let Some(object) = arguments.as_object_mut() else {
        return Ok(None);
    };
    match object.remove(INTERACTION_ARGUMENT) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) if !id.is_empty() => Ok(Some(id)),
        Some(other) => Err(HandlerError::invalid_params(format!(
            "arguments[0].{INTERACTION_ARGUMENT} must be a non-empty string naming the \
             interaction (as in prodcode/promptSubmitted), not {other}"
        ))),
    }
}

/// The workspace root named by `folder` (a URI among the workspace folders), else the first root.
fn workspace_root(state: &GlobalState, folder: Option<&str>) -> HandlerResult<PathBuf> {
    match folder {
        Some(uri) => {
            let path = conv::uri_to_path(uri).ok_or_else(|| {
                HandlerError::invalid_params(format!("workspaceFolder `{uri}` is not a file URI"))
            })?;
            if state.roots.contains(&path) {
                Ok(path)
            } else {
                Err(HandlerError::invalid_params(format!(
                    "`{uri}` is not one of the workspace folders; tools act only inside those"
                )))
            }
        }
        None => state.roots.first().cloned().ok_or_else(|| HandlerError {
            code: ErrorCode::RequestFailed,
            message: "the client opened no workspace folder: send rootUri or workspaceFolders \
                      in initialize, the tools act only inside one"
                .to_owned(),
        }),
    }
}
