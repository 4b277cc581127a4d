//! The workspace boundary every tool acts within, and the error type tools share.
//!
//! Agents pass paths; a tool must never read or write outside the workspace it serves (issue 5,
//! "Security"). [`Workspace::resolve`] is the one gate: it resolves a path the way the operating
//! system would, following symbolic links at every component (also dangling ones, which a later
//! write would follow), and refuses the path when the result lies outside the canonical root. The
//! not-yet-existing tail of a path is resolved lexically, so a file a tool is about to create
//! inside the workspace is still allowed.
//!
//! Invariant: every path a tool touches went through `resolve`, and every text a tool returns went
//! through a cap ([`cap_text`]) with a `truncated` flag.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Symbolic links followed while resolving one path before giving up, as Linux does (`ELOOP`).
const MAX_SYMLINKS: usize = 40;

/// What went wrong in a tool call; fronts map it to an error result (MCP `isError`, an LSP error,
/// a CLI exit status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolErrorKind {
    /// A path resolves outside the workspace.
    OutsideWorkspace,
    /// A path or named thing does not exist.
    NotFound,
    /// An argument is malformed: a bad regex, a NUL byte in a path, an empty path.
    InvalidArgument,
    /// The program the tool needs is not installed or not configured.
    Unavailable,
    /// The tool ran and failed.
    Failed,
    /// The tool ran out of its time budget.
    TimedOut,
}

impl ToolErrorKind {
    /// A stable snake_case name, for machine-readable error results.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolErrorKind::OutsideWorkspace => "outside_workspace",
            ToolErrorKind::NotFound => "not_found",
            ToolErrorKind::InvalidArgument => "invalid_argument",
            ToolErrorKind::Unavailable => "unavailable",
            ToolErrorKind::Failed => "failed",
            ToolErrorKind::TimedOut => "timed_out",
        }
    }
}

impl fmt::Display for ToolErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tool failure with a message for the agent or person who called the tool: it says what went
/// wrong and what to do instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    pub kind: ToolErrorKind,
    pub message: String,
}

impl ToolError {
    pub fn new(kind: ToolErrorKind, message: impl Into<String>) -> ToolError {
        ToolError {
            kind,
            message: message.into(),
        }
    }
}

/// The directory tree tools act in, by its canonical root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// Opens the workspace at `root`, which must be an existing directory; the root is kept in
    /// canonical form (absolute, no symbolic links).
    pub fn new(root: impl AsRef<Path>) -> Result<Workspace, ToolError> {
        let given = root.as_ref();
        let root = given.canonicalize().map_err(|err| {
            let kind = if err.kind() == io::ErrorKind::NotFound {
                ToolErrorKind::NotFound
            } else {
                ToolErrorKind::Failed
            };
            ToolError::new(
                kind,
                format!(
                    "cannot open the workspace {}: {err}; pass an existing directory",
                    given.display()
                ),
            )
        })?;
        if !root.is_dir() {
            return Err(ToolError::new(
                ToolErrorKind::InvalidArgument,
                format!(
                    "the workspace {} is not a directory; pass the project's root directory",
                    root.display()
                ),
            ));
        }
        Ok(Workspace { root })
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `path` (relative to the root, or absolute inside it) to an absolute path inside the
    /// workspace, following symbolic links. The file need not exist. Refuses paths that resolve
    /// outside the workspace (`..` escapes, absolute paths elsewhere, symbolic links pointing out),
    /// empty paths and paths with a NUL byte.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, ToolError> {
        if path.is_empty() {
            return Err(ToolError::new(
                ToolErrorKind::InvalidArgument,
                "the path is empty; pass a path relative to the workspace root (`.` for the root itself)",
            ));
        }
        if path.contains('\0') {
            return Err(ToolError::new(
                ToolErrorKind::InvalidArgument,
                format!(
                    "the path {path:?} contains a NUL byte; pass a plain path relative to the workspace root"
                ),
            ));
        }
        let resolved = resolve_lenient(&self.root.join(path)).map_err(|err| {
            ToolError::new(
                ToolErrorKind::Failed,
                format!(
                    "cannot resolve `{path}` in the workspace {}: {err}",
                    self.root.display()
                ),
            )
        })?;
        if resolved.starts_with(&self.root) {
            Ok(resolved)
        } else {
            Err(ToolError::new(
                ToolErrorKind::OutsideWorkspace,
                format!(
                    "`{path}` resolves outside the workspace {} (to {}); tools act only inside it: \
                     pass a path relative to the workspace root",
                    self.root.display(),
                    resolved.display()
                ),
            ))
        }
    }

    /// `path` relative to the root, with `/` separators (`.` for the root itself); `None` when
    /// `path` is not under the canonical root (pass paths as [`Workspace::resolve`] returns them).
    pub fn relative(&self, path: &Path) -> Option<String> {
        let rest = path.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> = rest
            .components()
            .map(|component| component.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.is_empty() {
            Some(".".to_owned())
        } else {
            Some(parts.join("/"))
        }
    }
}

/// Resolves an absolute `path` like `realpath`, except that components that do not exist are
/// appended lexically instead of failing. Every existing component is checked for being a
/// symbolic link, dangling ones included, and links are followed.
fn resolve_lenient(path: &Path) -> io::Result<PathBuf> {
    let mut pending: VecDeque<OsString> = VecDeque::new();
    let mut resolved = PathBuf::new();
    push_front_components(&mut pending, &mut resolved, path);
    let mut links_followed = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let next = resolved.join(&part);
        match std::fs::symlink_metadata(&next) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                links_followed += 1;
                if links_followed > MAX_SYMLINKS {
                    return Err(io::Error::other(format!(
                        "more than {MAX_SYMLINKS} symbolic links at {}",
                        next.display()
                    )));
                }
                let target = std::fs::read_link(&next)?;
                push_front_components(&mut pending, &mut resolved, &target);
            }
            Ok(_) => resolved = next,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                resolved = next;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(resolved)
}

/// Queues the components of `path` in front of `pending`. An absolute `path` restarts
/// `resolved` at its root; `.` components are dropped.
fn push_front_components(pending: &mut VecDeque<OsString>, resolved: &mut PathBuf, path: &Path) {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                resolved.push(component.as_os_str());
                parts.clear();
            }
            Component::CurDir => {}
            Component::ParentDir | Component::Normal(_) => {
                parts.push(component.as_os_str().to_owned())
            }
        }
    }
    for part in parts.into_iter().rev() {
        pending.push_front(part);
    }
}

/// Cuts `text` to at most `max_bytes` bytes at a character boundary; the flag is true when
/// something was cut.
pub fn cap_text(text: &str, max_bytes: usize) -> (String, bool) {
    if text.len() <= max_bytes {
        return (text.to_owned(), false);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn workspace() -> (tempfile::TempDir, tempfile::TempDir, Workspace) {
        let inside = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        fs::create_dir(inside.path().join("src")).expect("mkdir");
        fs::write(inside.path().join("src/lib.rs"), "fn main() {}\n").expect("write");
        fs::write(outside.path().join("secret"), "secret\n").expect("write");
        let ws = Workspace::new(inside.path()).expect("workspace");
        (inside, outside, ws)
    }

    fn refused(ws: &Workspace, path: &str) -> ToolError {
        match ws.resolve(path) {
            Ok(resolved) => panic!("`{path}` was accepted as {}", resolved.display()),
            Err(err) => err,
        }
    }

    #[test]
    fn relative_paths_inside_resolve_to_canonical_paths() {
        let (_inside, _outside, ws) = workspace();
        assert_eq!(ws.resolve("src/lib.rs"), Ok(ws.root().join("src/lib.rs")));
        assert_eq!(
            ws.resolve("./src/../src/lib.rs"),
            Ok(ws.root().join("src/lib.rs"))
        );
        assert_eq!(
            ws.relative(&ws.root().join("src/lib.rs")).as_deref(),
            Some("src/lib.rs")
        );
    }

    #[test]
    fn the_root_itself_is_inside() {
        let (_inside, _outside, ws) = workspace();
        assert_eq!(ws.resolve("."), Ok(ws.root().to_path_buf()));
        assert_eq!(ws.resolve("src/.."), Ok(ws.root().to_path_buf()));
        assert_eq!(ws.relative(ws.root()).as_deref(), Some("."));
    }

    #[test]
    fn a_file_that_does_not_exist_yet_inside_is_allowed() {
        let (_inside, _outside, ws) = workspace();
        assert_eq!(
            ws.resolve("src/new/module.rs"),
            Ok(ws.root().join("src/new/module.rs"))
        );
        assert_eq!(
            ws.resolve("missing/../src/lib.rs"),
            Ok(ws.root().join("src/lib.rs"))
        );
    }

    #[test]
    fn an_absolute_path_inside_is_allowed() {
        let (_inside, _outside, ws) = workspace();
        let absolute = ws.root().join("src/lib.rs");
        let absolute = absolute.to_str().expect("utf-8 temp path");
        assert_eq!(ws.resolve(absolute), Ok(ws.root().join("src/lib.rs")));
    }

    #[test]
    fn dot_dot_escapes_are_refused() {
        let (_inside, _outside, ws) = workspace();
        let err = refused(&ws, "../etc/passwd");
        assert_eq!(err.kind, ToolErrorKind::OutsideWorkspace);
        assert!(
            err.message
                .starts_with("`../etc/passwd` resolves outside the workspace"),
            "{err}"
        );
        assert!(
            err.message
                .contains("pass a path relative to the workspace root"),
            "{err}"
        );
        assert_eq!(
            refused(&ws, "src/../../x").kind,
            ToolErrorKind::OutsideWorkspace
        );
        assert_eq!(
            refused(&ws, "missing/../../x").kind,
            ToolErrorKind::OutsideWorkspace
        );
        assert_eq!(refused(&ws, "..").kind, ToolErrorKind::OutsideWorkspace);
    }

    #[test]
    fn absolute_paths_elsewhere_are_refused() {
        let (_inside, outside, ws) = workspace();
        assert_eq!(
            refused(&ws, "/etc/passwd").kind,
            ToolErrorKind::OutsideWorkspace
        );
        let secret = outside.path().join("secret");
        assert_eq!(
            refused(&ws, secret.to_str().expect("utf-8")).kind,
            ToolErrorKind::OutsideWorkspace
        );
    }

    #[test]
    fn a_sibling_directory_sharing_the_root_prefix_is_outside() {
        let (inside, _outside, ws) = workspace();
        let sibling = format!("{}-other/file", inside.path().display());
        assert_eq!(refused(&ws, &sibling).kind, ToolErrorKind::OutsideWorkspace);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_directory_pointing_outside_is_refused() {
        let (inside, outside, ws) = workspace();
        std::os::unix::fs::symlink(outside.path(), inside.path().join("out")).expect("symlink");
        assert_eq!(refused(&ws, "out").kind, ToolErrorKind::OutsideWorkspace);
        assert_eq!(
            refused(&ws, "out/secret").kind,
            ToolErrorKind::OutsideWorkspace
        );
        assert_eq!(
            refused(&ws, "out/not-yet-created").kind,
            ToolErrorKind::OutsideWorkspace
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_pointing_outside_is_refused() {
        let (inside, outside, ws) = workspace();
        std::os::unix::fs::symlink(
            outside.path().join("secret"),
            inside.path().join("src/secret"),
        )
        .expect("symlink");
        assert_eq!(
            refused(&ws, "src/secret").kind,
            ToolErrorKind::OutsideWorkspace
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_pointing_outside_is_refused() {
        let (inside, outside, ws) = workspace();
        std::os::unix::fs::symlink(outside.path().join("later"), inside.path().join("later"))
            .expect("symlink");
        assert_eq!(refused(&ws, "later").kind, ToolErrorKind::OutsideWorkspace);
    }

    #[cfg(unix)]
    #[test]
    fn a_relative_symlink_climbing_out_is_refused() {
        let (inside, _outside, ws) = workspace();
        std::os::unix::fs::symlink("../../..", inside.path().join("src/up")).expect("symlink");
        assert_eq!(
            refused(&ws, "src/up/etc").kind,
            ToolErrorKind::OutsideWorkspace
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_inside_pointing_inside_is_fine() {
        let (inside, _outside, ws) = workspace();
        std::os::unix::fs::symlink("src", inside.path().join("code")).expect("symlink");
        std::os::unix::fs::symlink("lib.rs", inside.path().join("src/alias.rs")).expect("symlink");
        assert_eq!(ws.resolve("code/lib.rs"), Ok(ws.root().join("src/lib.rs")));
        assert_eq!(
            ws.resolve("code/alias.rs"),
            Ok(ws.root().join("src/lib.rs"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_an_error_not_a_hang() {
        let (inside, _outside, ws) = workspace();
        std::os::unix::fs::symlink("b", inside.path().join("a")).expect("symlink");
        std::os::unix::fs::symlink("a", inside.path().join("b")).expect("symlink");
        assert_eq!(refused(&ws, "a/x").kind, ToolErrorKind::Failed);
    }

    #[test]
    fn a_nul_byte_is_refused() {
        let (_inside, _outside, ws) = workspace();
        let err = refused(&ws, "src/lib.rs\0/../../etc");
        assert_eq!(err.kind, ToolErrorKind::InvalidArgument);
        assert!(err.message.contains("NUL byte"), "{err}");
    }

    #[test]
    fn an_empty_path_is_refused() {
        let (_inside, _outside, ws) = workspace();
        assert_eq!(refused(&ws, "").kind, ToolErrorKind::InvalidArgument);
    }

    #[test]
    fn a_missing_root_is_not_found() {
        let (inside, _outside, _ws) = workspace();
        let err = Workspace::new(inside.path().join("nope")).expect_err("missing root");
        assert_eq!(err.kind, ToolErrorKind::NotFound);
    }

    #[test]
    fn relative_refuses_paths_outside_the_root() {
        let (_inside, outside, ws) = workspace();
        assert_eq!(ws.relative(outside.path()), None);
    }

    #[test]
    fn cap_text_cuts_at_a_char_boundary() {
        assert_eq!(cap_text("hello", 5), ("hello".to_owned(), false));
        assert_eq!(cap_text("hello", 3), ("hel".to_owned(), true));
        // "é" is two bytes; cutting inside it keeps the whole character out.
        assert_eq!(cap_text("aé", 2), ("a".to_owned(), true));
        assert_eq!(cap_text("é", 0), (String::new(), true));
    }
}
