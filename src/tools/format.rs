//! The `format` tool: the project's formatter (rustfmt through `cargo fmt`, `ruff format`,
//! prettier, gofmt), detected from the workspace or configured in `prodcode.toml`
//! (`[tools.format]`), on the given paths, writing or only checking.

use serde::{Deserialize, Serialize};

use super::workspace::{ToolError, ToolErrorKind, Workspace};

/// `[tools.format]` in `prodcode.toml`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct FormatConfig {}

/// The answer of [`format`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormatReport {}

impl FormatReport {
    /// The readable text of the answer: a summary a person or model can act on.
    pub fn render(&self) -> String {
        String::new()
    }
}

/// JSON Schema of a serialized [`FormatReport`] (the tool's MCP output schema).
pub fn output_schema() -> serde_json::Value {
    serde_json::json!({ "type": "object" })
}

/// Formats `paths` (workspace-relative files or directories; the whole workspace when empty), or
/// with `check_only` reports which files would change without writing them.
pub fn format(
    _ws: &Workspace,
    _config: Option<&FormatConfig>,
    _paths: &[String],
    _check_only: bool,
) -> Result<FormatReport, ToolError> {
    Err(ToolError::new(
        ToolErrorKind::Unavailable,
        "format is not built yet",
    ))
}
