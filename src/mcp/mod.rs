//! The MCP front of [`tools`](crate::tools): an rmcp server over stdio or streamable HTTP on
//! loopback that lists the toolbox's tools and calls them.
//!
//! Invariants:
//! - Only translation: tool names, schemas and results come from [`Toolbox`] unchanged.
//! - stdout carries only the MCP stdio transport; logs go to stderr (tracing).
//! - A tool call runs on the blocking pool, so a long test run never stalls the protocol.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::tools::toolbox::{CallContext, Toolbox};

/// Serves `toolbox` over stdin/stdout until the client disconnects.
pub fn serve_stdio(_toolbox: Arc<Toolbox>, _context: CallContext) -> anyhow::Result<()> {
    anyhow::bail!("prodcode mcp is not built yet")
}

/// Serves `toolbox` over streamable HTTP at `addr` (loopback only) until interrupted.
pub fn serve_http(
    _toolbox: Arc<Toolbox>,
    _context: CallContext,
    _addr: SocketAddr,
) -> anyhow::Result<()> {
    anyhow::bail!("prodcode mcp --http is not built yet")
}
