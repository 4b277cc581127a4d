//! `prodcode install <agent>`. STUB: being written.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// claude, codex, cursor, copilot, gemini or git
    pub agent: String,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`prodcode install` is not built yet")
}
