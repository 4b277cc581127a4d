//! The `get_diagnostics` tool: the project's own checkers, detected from the workspace (Cargo:
//! `cargo check --message-format=json`; Python: ruff and pyright when installed; TS/JS:
//! `tsc --noEmit` and eslint when present; Go: `go vet`) or configured in `prodcode.toml`
//! (`[tools.diagnostics]`), parsed into one list of diagnostics.
//!
//! Invariants:
//! - Every answer names the snapshot it describes: SHA-256 content hashes of the files the
//!   checkers read. An answer is never older than the files: a cached answer is reused only when
//!   every hash still matches, and a file that changed while a checker ran makes the call run again.
//! - Parsers are pure functions over arbitrary text; odd output gives fewer diagnostics, never a
//!   panic.

use serde::{Deserialize, Serialize};

use super::workspace::{ToolError, ToolErrorKind, Workspace};

/// `[tools.diagnostics]` in `prodcode.toml`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct DiagnosticsConfig {}

/// How serious a diagnostic is, least serious first.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Hint,
    Information,
    #[default]
    Warning,
    Error,
}

/// The answer of [`get_diagnostics`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsReport {}

impl DiagnosticsReport {
    /// The readable text of the answer: a summary a person or model can act on.
    pub fn render(&self) -> String {
        String::new()
    }
}

/// JSON Schema of a serialized [`DiagnosticsReport`] (the tool's MCP output schema).
pub fn output_schema() -> serde_json::Value {
    serde_json::json!({ "type": "object" })
}

/// Remembers the last answer per request, keyed by content hashes.
#[derive(Default)]
pub struct DiagnosticsCache {}

/// Runs the workspace's checkers and returns their diagnostics on `paths` (workspace-relative;
/// all when empty) at `min_severity` or worse.
pub fn get_diagnostics(
    _ws: &Workspace,
    _config: Option<&DiagnosticsConfig>,
    _paths: &[String],
    _min_severity: Severity,
    _cache: &DiagnosticsCache,
) -> Result<DiagnosticsReport, ToolError> {
    Err(ToolError::new(
        ToolErrorKind::Unavailable,
        "get_diagnostics is not built yet",
    ))
}
