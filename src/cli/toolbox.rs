//! Opening the [`Toolbox`] of a workspace for the `mcp`, `tool` and `lsp` fronts: its
//! `prodcode.toml` `[tools]` section, and a recorder that writes every call to the store with its
//! secrets redacted.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;

use crate::capture::privacy;
use crate::store::{NewToolCall, Store};
use crate::tools::toolbox::{CallRecord, CallRecorder, Toolbox};

/// The toolbox of `workspace` (default: the current directory), recording calls in the database
/// at `db` (the default location when `None`). A database that cannot be opened is logged and the
/// tools still work, unrecorded: an agent's check must not fail because of bookkeeping.
pub fn open(db: Option<PathBuf>, workspace: Option<&Path>) -> anyhow::Result<Toolbox> {
    let root = match workspace {
        Some(dir) => dir.to_owned(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let config = crate::config::load(&root)?;
    let recorder = match StoreRecorder::open(db) {
        Ok(recorder) => Some(Box::new(recorder) as Box<dyn CallRecorder>),
        Err(error) => {
            tracing::warn!("tool calls will not be recorded: {error:#}");
            None
        }
    };
    Ok(Toolbox::open(&root, config.tools, recorder)?)
}

/// Writes each call to `tool_calls` (and the event log) in its own transaction.
pub struct StoreRecorder {
    store: Mutex<Store>,
}

impl StoreRecorder {
    pub fn open(db: Option<PathBuf>) -> anyhow::Result<StoreRecorder> {
        let path = super::db_path(db)?;
        let store = Store::open(&path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        Ok(StoreRecorder {
            store: Mutex::new(store),
        })
    }
}

impl CallRecorder for StoreRecorder {
    /// Every front's tool calls (MCP over stdio and HTTP, `workspace/executeCommand`, `prodcode
    /// tool`) become rows here, so this is where `privacy` sees them: the arguments, and the tool
    /// name and error message, which may repeat an argument (issue 13).
    fn record(&self, call: &CallRecord<'_>) {
        let arguments = privacy::redact_json_text(&call.arguments.to_string()).0;
        let tool = privacy::redact(call.tool).0;
        let error = call.error.map(|error| privacy::redact(error).0);
        let workspace = call.workspace.to_string_lossy();
        let row = NewToolCall {
            tool: &tool,
            arguments: &arguments,
            duration_ms: call.duration_ms,
            outcome: call.outcome,
            error: error.as_deref(),
            interaction_id: call.context.interaction_id.as_deref(),
            run_id: call.context.run_id,
            front: call.context.front,
            client: call.context.client.as_deref(),
            workspace: &workspace,
            ts_ms: call.started_ms,
        };
        let mut store = self
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = store.write(|writer| writer.record_tool_call(&row)) {
            tracing::error!("cannot record the {} call: {error}", call.tool);
        }
    }
}
