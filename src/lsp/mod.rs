//! `prodcode lsp`: the daemon an editor starts over stdio.
//!
//! One ordered message loop owns all state ([`state::GlobalState`]); every notification is handled
//! to completion before the next is read, so `didChange` events are applied in exactly the order
//! they arrive. Handlers are free functions, one file per family, wrapped so that a panic in one
//! becomes an error answer and the daemon keeps serving. Only this module knows LSP types.

pub mod client;
pub mod conv;
pub mod ext;
mod handlers;
mod linker;
mod recorder;
mod state;
pub mod transport;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use crossbeam_channel::{RecvTimeoutError, TryRecvError};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    DidChangeWorkspaceFoldersParams, ExecuteCommandOptions, InitializeParams, InitializeResult,
    SaveOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use handlers::{HandlerError, HandlerResult, extensions, external, text_sync, tools};
use recorder::Recorder;
use state::GlobalState;
pub use state::OpenToolbox;
use transport::{Incoming, Transport};

pub struct Config {
    /// The database to record into; `None` runs without one (nothing is written).
    pub db_path: Option<PathBuf>,
    /// Opens the tools of a workspace root for `workspace/executeCommand`.
    pub open_toolbox: state::OpenToolbox,
}

/// Serves LSP on stdin/stdout until the client says `exit` or closes the pipe. `true` when the
/// client asked for `shutdown` first (the LSP exit code is 0 then, else 1).
pub fn run(config: Config) -> bool {
    let transport = Transport::stdio();
    let clean = serve(config, &transport);
    transport.finish();
    clean
}

/// The message loop, over any transport; returns whether `shutdown` came before the end.
pub fn serve(config: Config, transport: &Transport) -> bool {
    let recorder = Recorder::open(config.db_path.clone());
    let mut state = GlobalState::new(
        transport.outgoing.clone(),
        recorder,
        config.db_path,
        config.open_toolbox,
    );
    while let Some(item) = next(&mut state, transport) {
        let exit = handle_item(&mut state, item);
        if state.last_poll.elapsed() >= external::POLL_EVERY {
            external::poll(&mut state);
        }
        if state.recorder.is_full() {
            state.flush(false);
        }
        if exit {
            break;
        }
    }
    state.flush(true);
    if state.recorder.pending() > 0 {
        tracing::error!(
            "exiting with {} events that the database did not accept: {}",
            state.recorder.pending(),
            state.recorder.error().unwrap_or("unknown error")
        );
    }
    state.shutdown_requested
}

/// The next message; flushes queued events whenever the client is quiet.
fn next(state: &mut GlobalState, transport: &Transport) -> Option<Incoming> {
    match transport.incoming.try_recv() {
        Ok(item) => return Some(item),
        Err(TryRecvError::Disconnected) => return None,
        Err(TryRecvError::Empty) => {}
    }
    state.flush(false);
    loop {
        // Wake up while there is something to retry or to watch; otherwise sleep until a
        // message comes.
        if state.recorder.pending() == 0
            && !state.recorder.spool_waiting()
            && state.documents.is_empty()
        {
            return transport.incoming.recv().ok();
        }
        match transport.incoming.recv_timeout(external::POLL_EVERY) {
            Ok(item) => return Some(item),
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => {
                state.flush(false);
                external::poll(state);
            }
        }
    }
}

/// Handles one incoming item; `true` when the client asked the daemon to exit.
fn handle_item(state: &mut GlobalState, item: Incoming) -> bool {
    match item {
        Incoming::Message(Message::Request(request)) => {
            let id = request.id.clone();
            let method = request.method.clone();
            match catch_unwind(AssertUnwindSafe(|| handle_request(state, request))) {
                Ok(Some(response)) => state.respond(response),
                Ok(None) => {}
                Err(panic) => {
                    let message = panic_message(&panic);
                    tracing::error!("handler for {method} panicked: {message}");
                    state.respond(Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        format!("internal error in {method}: {message}"),
                    ));
                }
            }
            false
        }
        Incoming::Message(Message::Notification(notification)) => {
            if notification.method == "exit" {
                return true;
            }
            let method = notification.method.clone();
            match catch_unwind(AssertUnwindSafe(|| {
                handle_notification(state, notification)
            })) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!("{method}: {}", error.message);
                    state.notify(
                        "window/logMessage",
                        json!({ "type": 2, "message": format!("prodcode: {method}: {}", error.message) }),
                    );
                }
                Err(panic) => {
                    tracing::error!("handler for {method} panicked: {}", panic_message(&panic));
                }
            }
            false
        }
        Incoming::Message(Message::Response(response)) => {
            tracing::debug!("ignoring a response to request {}", response.id);
            false
        }
        Incoming::Malformed { id, reason } => {
            tracing::warn!("skipped a malformed message: {reason}");
            match id {
                Some(id) => state.respond(Response::new_err(
                    id,
                    ErrorCode::InvalidRequest as i32,
                    reason,
                )),
                None => state.notify(
                    "window/logMessage",
                    json!({ "type": 2, "message": format!("prodcode: skipped a malformed message: {reason}") }),
                ),
            }
            false
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}

fn handle_request(state: &mut GlobalState, request: Request) -> Option<Response> {
    let Request { id, method, params } = request;
    if method == "initialize" {
        return Some(initialize(state, id, params));
    }
    if !state.initialized {
        return Some(Response::new_err(
            id,
            ErrorCode::ServerNotInitialized as i32,
            "the server is not initialized: send `initialize` first".to_owned(),
        ));
    }
    if state.shutdown_requested {
        return Some(Response::new_err(
            id,
            ErrorCode::InvalidRequest as i32,
            "the server is shutting down".to_owned(),
        ));
    }
    // Answers promise durability of every earlier event: write them before looking.
    state.flush(true);
    let result = match method.as_str() {
        "shutdown" => {
            state.shutdown_requested = true;
            Ok(serde_json::Value::Null)
        }
        ext::PROVENANCE => {
            parse(params).and_then(|params| to_value(extensions::provenance(state, params)))
        }
        ext::STATUS => to_value(extensions::status(state)),
        "workspace/executeCommand" => {
            // Answered later, from the tool's own thread.
            return match parse(params)
                .and_then(|params| tools::execute_command(state, id.clone(), params))
            {
                Ok(()) => None,
                Err(error) => Some(Response::new_err(id, error.code as i32, error.message)),
            };
        }
        _ => Err(HandlerError {
            code: ErrorCode::MethodNotFound,
            message: format!("unknown method {method}"),
        }),
    };
    Some(match result {
        Ok(value) => Response {
            id,
            response_result: Ok(value),
        },
        Err(error) => Response::new_err(id, error.code as i32, error.message),
    })
}

fn handle_notification(state: &mut GlobalState, notification: Notification) -> HandlerResult<()> {
    let Notification { method, params } = notification;
    if !state.initialized && method != "initialized" {
        return Ok(());
    }
    // The verbatim params go into the event log; render them once, before they are consumed.
    let recorded = matches!(
        method.as_str(),
        "textDocument/didChange"
            | "textDocument/didSave"
            | "textDocument/didClose"
            | ext::PROMPT_SUBMITTED
            | ext::AI_EDIT_APPLIED
            | ext::CHECKPOINT
    );
    let raw = if recorded {
        params.to_string()
    } else {
        String::new()
    };
    match method.as_str() {
        "initialized" | "$/cancelRequest" | "$/setTrace" => Ok(()),
        "textDocument/didOpen" => text_sync::did_open(state, parse(params)?),
        "textDocument/didChange" => text_sync::did_change(state, parse(params)?, &raw),
        "textDocument/didSave" => text_sync::did_save(state, parse(params)?, &raw),
        "textDocument/didClose" => text_sync::did_close(state, parse(params)?, &raw),
        "workspace/didChangeWorkspaceFolders" => {
            change_workspace_folders(state, parse(params)?);
            Ok(())
        }
        ext::PROMPT_SUBMITTED => extensions::prompt_submitted(state, parse(params)?, &raw),
        ext::AI_EDIT_APPLIED => extensions::ai_edit_applied(state, parse(params)?, &raw),
        ext::CHECKPOINT => extensions::checkpoint(state, parse(params)?, &raw),
        _ if method.starts_with("$/") => Ok(()),
        _ => {
            tracing::debug!("ignoring the notification {method}");
            Ok(())
        }
    }
}

fn parse<T: DeserializeOwned>(params: serde_json::Value) -> HandlerResult<T> {
    serde_json::from_value(params).map_err(|error| {
        HandlerError::invalid_params(format!("params of the wrong shape: {error}"))
    })
}

fn to_value<T: serde::Serialize>(result: HandlerResult<T>) -> HandlerResult<serde_json::Value> {
    result.and_then(|value| {
        serde_json::to_value(value).map_err(|error| HandlerError {
            code: ErrorCode::InternalError,
            message: error.to_string(),
        })
    })
}

fn initialize(state: &mut GlobalState, id: RequestId, params: serde_json::Value) -> Response {
    if state.initialized {
        return Response::new_err(
            id,
            ErrorCode::InvalidRequest as i32,
            "initialize was already received".to_owned(),
        );
    }
    let params: InitializeParams = match serde_json::from_value(params) {
        Ok(params) => params,
        Err(error) => {
            return Response::new_err(
                id,
                ErrorCode::InvalidParams as i32,
                format!("initialize params of the wrong shape: {error}"),
            );
        }
    };
    state.encoding = conv::negotiate_encoding(
        params
            .capabilities
            .general
            .as_ref()
            .and_then(|general| general.position_encodings.as_deref()),
    );
    #[allow(deprecated)]
    let root_uri = params.root_uri.as_ref().map(|uri| uri.as_str().to_owned());
    let folders: Vec<String> = match &params.workspace_folders {
        Some(folders) if !folders.is_empty() => folders
            .iter()
            .map(|folder| folder.uri.as_str().to_owned())
            .collect(),
        _ => root_uri.into_iter().collect(),
    };
    state.roots = folders
        .iter()
        .filter_map(|uri| conv::uri_to_path(uri))
        .collect();
    for root in state.roots.clone() {
        state.linker.watch(&root);
    }
    state.client = params.client_info.as_ref().map(|info| match &info.version {
        Some(version) => format!("{} {version}", info.name),
        None => info.name.clone(),
    });
    state.initialized = true;
    let capabilities = ServerCapabilities {
        position_encoding: Some(conv::encoding_kind(state.encoding)),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: tools::commands(),
            work_done_progress_options: Default::default(),
        }),
        experimental: Some(json!({
            "prodcode": {
                "notifications": [ext::PROMPT_SUBMITTED, ext::AI_EDIT_APPLIED, ext::CHECKPOINT],
                "requests": [ext::PROVENANCE, ext::STATUS],
            }
        })),
        ..ServerCapabilities::default()
    };
    let result = InitializeResult {
        capabilities,
        server_info: Some(ServerInfo {
            name: "prodcode".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    };
    Response::new_ok(id, result)
}

fn change_workspace_folders(state: &mut GlobalState, params: DidChangeWorkspaceFoldersParams) {
    for removed in &params.event.removed {
        if let Some(path) = conv::uri_to_path(removed.uri.as_str()) {
            state.roots.retain(|root| *root != path);
        }
    }
    for added in &params.event.added {
        if let Some(path) = conv::uri_to_path(added.uri.as_str())
            && !state.roots.contains(&path)
        {
            state.linker.watch(&path);
            state.roots.push(path);
        }
    }
}
