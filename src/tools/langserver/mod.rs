//! Real language servers (pyright, typescript-language-server, gopls, rust-analyzer, or configured
//! ones) driven as an LSP client, for the navigation tools.
//!
//! A server starts lazily, on the first request for a file of its language, and is gated on
//! readiness: while it is still indexing, a request waits within its budget and then says the
//! server is not ready instead of answering `[]`.
//!
//! It speaks LSP as raw JSON (`serde_json::Value`): `lsp` is the only module that knows
//! `lsp-types`, and the client needs only a handful of messages.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::nav::{HoverInfo, Location, Position, Symbol};
use super::workspace::{ToolError, ToolErrorKind};

/// `[tools.servers.<language>]` in `prodcode.toml`: the server for a language (`rust`, `python`,
/// `typescript`, `javascript`, `go`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct ServerConfig {}

/// One navigation request, positions 1-based (characters).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NavRequest {
    Definition(Position),
    References(Position),
    Hover(Position),
    DocumentSymbols,
}

/// A server's answer.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NavAnswer {
    Locations(Vec<Location>),
    Symbols(Vec<Symbol>),
    Hover(Option<HoverInfo>),
}

/// A server's state, as `lsp_status` reports it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    pub language: String,
    pub command: Vec<String>,
    /// `not_installed`, `not_started`, `starting`, `indexing`, `ready`, `failed`, `exited`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The language servers of one workspace.
pub struct LangServers {}

impl LangServers {
    pub fn new(_root: &Path, _config: &BTreeMap<String, ServerConfig>) -> LangServers {
        LangServers {}
    }

    /// The language of `path` when a server for it is installed or configured.
    pub fn language_for(&self, _path: &Path) -> Option<String> {
        None
    }

    /// Asks the server for `path`'s language (starting it when needed), waiting at most `budget`
    /// for it to be ready.
    pub fn request(
        &self,
        _path: &Path,
        _request: &NavRequest,
        _budget: Duration,
    ) -> Result<NavAnswer, ToolError> {
        Err(ToolError::new(
            ToolErrorKind::Unavailable,
            "language servers are not built yet",
        ))
    }

    /// `workspace/symbol` on every running server.
    pub fn workspace_symbols(
        &self,
        _query: &str,
        _budget: Duration,
    ) -> Result<Vec<Symbol>, ToolError> {
        Ok(Vec::new())
    }

    /// Every known server, started or not.
    pub fn status(&self) -> Vec<ServerStatus> {
        Vec::new()
    }

    /// Stops every running server (`shutdown`, `exit`, then kill).
    pub fn shutdown(&self) {}
}
