//! `prodcode import claude|codex [PATH]`. STUB: being written.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// claude or codex
    pub agent: String,
}

pub fn run(_db: &std::path::Path, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`prodcode import` is not built yet")
}
