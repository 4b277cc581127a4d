//! `prodcode doctor`.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(_db: anyhow::Result<std::path::PathBuf>, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
