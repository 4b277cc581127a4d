//! The MCP front of [`tools`](crate::tools): an rmcp server over stdio or streamable HTTP on
//! loopback that lists the toolbox's tools and calls them.
//!
//! - [`server`]: the `ServerHandler` (initialize, `tools/list`, `tools/call`) and the translation
//!   of a [`ToolOutput`](crate::tools::toolbox::ToolOutput) into a `CallToolResult`.
//! - [`http`]: the loopback check and the HTTP/1 listener that serves rmcp's streamable HTTP
//!   service at `/mcp`.
//! - [`stdio`]: the stdio transport, rmcp's line protocol with [`screen`] in front.
//! - [`screen`]: answers, with their ids, the requests rmcp cannot deserialize.
//!
//! Who is calling ([`CallContext`]) comes from the process environment (`PRODCODE_INTERACTION_ID`,
//! `PRODCODE_RUN_ID`) and the client's `initialize` `clientInfo`; a call's `_meta` may name its own
//! interaction and run (`dev.prodcode/interactionId`, `dev.prodcode/runId`, see
//! [`server::INTERACTION_META`]), which then win for that call.
//!
//! Invariants:
//! - Only translation: tool names, schemas and results come from [`Toolbox`] unchanged.
//! - stdout carries only the MCP stdio transport; logs go to stderr (tracing).
//! - A tool call runs on the blocking pool, so a long test run never stalls the protocol; a panic
//!   in a tool is an error result of that call, not the end of the server.
//! - Bad input never stops the server: lines that are not JSON are skipped; every request with a
//!   usable id is answered with that id, a request whose params do not fit with `-32602 Invalid
//!   params` (a missing tool name, `arguments` that are not an object), on stdio and HTTP alike.
//! - HTTP is served on loopback addresses only: the tools run the project's commands, so exposing
//!   them on a network would be remote code execution.

mod http;
mod screen;
mod server;
mod stdio;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rmcp::ServiceExt;

use crate::tools::toolbox::{CallContext, Toolbox};

pub use http::check_loopback;
pub use server::{INTERACTION_META, RUN_META};

/// How long the runtime waits at exit for tool calls still running on the blocking pool (a test
/// run the client gave up on) before the process leaves them behind.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Serves `toolbox` over stdin/stdout until the client disconnects.
pub fn serve_stdio(toolbox: Arc<Toolbox>, context: CallContext) -> anyhow::Result<()> {
    let server = server::Server::new(toolbox, context);
    run(async move {
        let running = match server.serve(stdio::Stdio::new()).await {
            Ok(running) => running,
            // A client that leaves before `initialize` (a probe, `</dev/null`) is not a failure.
            Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
            Err(error) => return Err(error).context("the MCP client's handshake failed"),
        };
        running
            .waiting()
            .await
            .context("the MCP stdio service stopped abnormally")?;
        Ok(())
    })
}

/// Serves `toolbox` over streamable HTTP at `addr` (loopback only) until interrupted.
pub fn serve_http(
    toolbox: Arc<Toolbox>,
    context: CallContext,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    http::check_loopback(addr)?;
    let server = server::Server::new(toolbox, context);
    run(http::serve(server, addr))
}

/// Runs `future` on a one-thread runtime (tool calls go to its blocking pool).
fn run(future: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the MCP server's runtime")?;
    let result = runtime.block_on(future);
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    result
}
