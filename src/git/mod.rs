//! Everything prodcode asks of git: which repository a path belongs to, where HEAD points, and
//! (`history`) the commits, reflogs and diffs that commit linking reads; `watch` notices ref
//! changes.
//!
//! Invariant: the only module that touches `gix` and `notify` or runs the `git` program
//! (`cli`). It reads the developer's repositories and never writes to them; the one writer is
//! `scratch`, and only to scratch clones under prodcode's cache directory. Answers are plain `model`-level values,
//! so callers never see gix types.
//! A repository in an odd state (mid-rebase, detached HEAD, unborn branch) still answers with
//! what is known and leaves the rest empty.

mod attributes;
mod changes;
mod cli;
mod history;
mod quick;
mod scratch;
#[cfg(test)]
mod testing;
mod watch;

pub use cli::{
    Listing, blame, hooks_dir, index_id, list_worktree, object_id, read_objects, rev_list,
};
pub use history::{
    BlameLine, ChangeKind, CommitChanges, CommitInfo, FileChange, GitError, ReflogEntry, Repo,
};
pub use quick::{discover_quick, index_id_quick};
pub use scratch::{Backout, ChangedPath, RunWorkspace, Scratch};
pub use watch::{RefWatcher, watch_refs};

use std::path::{Path, PathBuf};

/// What the rest of prodcode needs to know about the repository around a path.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RepoInfo {
    /// The working tree's top directory.
    pub root: PathBuf,
    /// The commit HEAD points at, as hex; `None` on an unborn branch.
    pub head_commit: Option<String>,
    /// The short branch name HEAD points at; `None` when HEAD is detached (as during a rebase).
    pub branch: Option<String>,
}

/// Finds the repository containing `path` (a file or a directory), if any.
///
/// Bare repositories and paths outside any working tree give `None`: there is nothing of theirs
/// a developer edits.
pub fn discover(path: &Path) -> Option<RepoInfo> {
    let start = if path.is_dir() { path } else { path.parent()? };
    let repo = gix::discover(start).ok()?;
    let root = repo.workdir()?.to_path_buf();
    let root = root.canonicalize().unwrap_or(root);
    let head_commit = repo.head_id().ok().map(|id| id.to_string());
    let branch = repo
        .head_name()
        .ok()
        .flatten()
        .map(|name| name.shorten().to_string());
    Some(RepoInfo {
        root,
        head_commit,
        branch,
    })
}

/// `path` relative to `root`, with `/` separators, if it lies inside.
pub fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<_> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect();
    Some(parts.join("/"))
}
