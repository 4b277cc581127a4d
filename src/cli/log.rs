//! `prodcode log`.

use std::process::ExitCode;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(_db: &std::path::Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
