//! The tools agents call to check and navigate their work — diagnostics, tests, navigation,
//! formatting, search — as plain functions with typed results. The MCP, LSP and CLI fronts call
//! these functions and only translate; curation and evaluation run tests through the same
//! [`runner`], so there is one implementation of "run this project's tests".
//!
//! Invariants:
//! - No protocol types here: results are plain structs (`Serialize` with camelCase field names,
//!   because the fronts hand them on as MCP `structuredContent` and `--json` output unchanged).
//! - Every external command goes through [`exec::run`]: no shell unless the configuration asks
//!   for one, a timeout that kills the whole process group, output capped to its tail with a
//!   `truncated` flag.
//! - Parsers of tool output are pure functions over arbitrary text: odd or truncated output gives
//!   fewer results, never a panic.
//! - Errors carry a message that tells the agent what to do next (install a tool, add a
//!   `[tools.tests]` command to `prodcode.toml`).

pub mod diagnostics;
pub mod exec;
pub mod format;
pub mod index;
pub mod langserver;
pub mod nav;
pub mod runner;
mod schemas;
pub mod search;
pub mod toolbox;
pub mod workspace;
