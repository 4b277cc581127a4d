//! `prodcode mcp`: the tools as an MCP server, over stdio or streamable HTTP on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::tools::toolbox::CallContext;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workspace the tools act in [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Serve streamable HTTP at this loopback address (e.g. 127.0.0.1:8765) instead of stdio
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
}

pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(addr) = args.http {
        // Refuse before opening anything: the tools run commands, never serve them off loopback.
        crate::mcp::check_loopback(addr)?;
    }
    let toolbox = Arc::new(super::toolbox::open(db, args.workspace.as_deref())?);
    let context = CallContext::from_env("mcp");
    match args.http {
        Some(addr) => crate::mcp::serve_http(toolbox, context, addr)?,
        None => crate::mcp::serve_stdio(toolbox, context)?,
    }
    Ok(ExitCode::SUCCESS)
}
