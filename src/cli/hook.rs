//! `prodcode hook <agent>`: record one hook payload. STUB: being written.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent whose hook payload is on stdin
    pub agent: String,
}

pub fn run(_db: Option<PathBuf>, _args: Args) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
