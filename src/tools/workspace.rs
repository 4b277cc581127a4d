//! The workspace boundary every tool acts within, and the error type tools share.
//!
//! Agents pass paths; a tool must never read or write outside the workspace it serves (issue 5,
//! "Security"). [`Workspace::resolve`] is the one gate: it resolves a path the way the operating
//! system would, following symbolic links at every component (also dangling ones, which a later
//! write would follow), and refuses the path when the result lies outside the canonical root. The
//! not-yet-existing tail of a path is resolved lexically, so a file a tool is about to create
//! inside the workspace is still allowed.
//!
//! Resolving is not enough on its own: between `resolve` and the read, a file inside can be
//! swapped for a symbolic link pointing out (issue 13 measured 25 outside answers in 400 calls).
//! So tools never open a resolved path by name: [`Workspace::read`] and [`Workspace::replace`]
//! walk from the root one component at a time with `O_NOFOLLOW`, each directory opened by
//! descriptor from its parent, and check that the file they end at is a regular file. A link
//! anywhere on the way (a canonical path has none, so one there arrived after `resolve`) makes the
//! open fail instead of leaving the workspace. This is the guarantee of Linux's `openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, kept portable (docs/decisions.md).
//!
//! Invariant: every path a tool touches went through `resolve`, every file a tool reads or writes
//! is opened through [`Workspace::read`] / [`Workspace::replace`] (or [`open_beneath`]), and
//! every text a tool returns went through a cap ([`cap_text`]) with a `truncated` flag.

use std::collections::VecDeque;
use std::ffi::{CString, OsString};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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

    /// Reads at most `limit` bytes of the file at `path` (as [`Workspace::resolve`] returns it),
    /// opened without following any symbolic link ([`open_beneath`]). The error says why the
    /// file could not be opened; a link that appeared since `resolve` is one of the reasons.
    pub fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let file = open_beneath(&self.root, path)?;
        let mut bytes = Vec::new();
        file.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Replaces the content of the existing regular file at `path` (as [`Workspace::resolve`]
    /// returns it) with `bytes`: a new file in the same directory, with the old one's
    /// permissions, renamed over it. Every directory on the way is opened without following
    /// symbolic links, and the rename replaces the name itself, so neither a link swapped in
    /// since `resolve` nor a hard link to an outside file is ever written through.
    pub fn replace(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let (dir, name) = open_parent_beneath(&self.root, path)?;
        let old = openat(
            &dir,
            &name,
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
            0,
        )?;
        let mode = regular_file_mode(&old, path)?;
        drop(old);
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let temp = CString::new(format!(
            ".prodcode-{}-{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
        .map_err(io::Error::other)?;
        let written = openat(
            &dir,
            &temp,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
            mode,
        )
        .and_then(|fd| {
            let mut file = File::from(fd);
            file.write_all(bytes)?;
            // The creation mode went through the umask; give the file the old one's exactly.
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
            file.sync_all()
        })
        .and_then(|()| {
            // SAFETY: both names are NUL-terminated C strings and `dir` is an open directory.
            let renamed = unsafe {
                libc::renameat(
                    dir.as_raw_fd(),
                    temp.as_ptr(),
                    dir.as_raw_fd(),
                    name.as_ptr(),
                )
            };
            if renamed == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
        if written.is_err() {
            // SAFETY: as above; a failure to remove the temporary file leaves only that file.
            unsafe { libc::unlinkat(dir.as_raw_fd(), temp.as_ptr(), 0) };
        }
        written
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

/// Opens the regular file at `path`, which must lie under `root` (both canonical, as
/// [`Workspace::resolve`] returns them), for reading without following a symbolic link at any
/// component: each directory is opened from its parent's descriptor with `O_NOFOLLOW`, the file
/// too, and the file must be a regular file (a FIFO or device is refused before it is read).
/// The error is `ELOOP` ("too many levels of symbolic links") when a link is in the way.
pub fn open_beneath(root: &Path, path: &Path) -> io::Result<File> {
    let (dir, name) = open_parent_beneath(root, path)?;
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    let fd = openat(
        &dir,
        &name,
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
        0,
    )?;
    regular_file_mode(&fd, path)?;
    Ok(File::from(fd))
}

/// The directory holding `path`, opened component by component from `root` without following
/// links, and the file's name in it.
fn open_parent_beneath(root: &Path, path: &Path) -> io::Result<(OwnedFd, CString)> {
    let relative = path.strip_prefix(root).map_err(|_| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is not inside {}", path.display(), root.display()),
        )
    })?;
    let mut names = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(name) => {
                names.push(CString::new(name.as_bytes()).map_err(io::Error::other)?)
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a canonical path", path.display()),
                ));
            }
        }
    }
    let Some(name) = names.pop() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is the workspace root, not a file", path.display()),
        ));
    };
    let root = CString::new(root.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let directory = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    // SAFETY: `root` is a NUL-terminated C string.
    let fd = unsafe { libc::open(root.as_ptr(), directory | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let mut dir = unsafe { OwnedFd::from_raw_fd(fd) };
    for part in &names {
        dir = openat(&dir, part, directory, 0)?;
    }
    Ok((dir, name))
}

/// `openat(2)` relative to `dir`, close-on-exec.
fn openat(dir: &OwnedFd, name: &CString, flags: libc::c_int, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a NUL-terminated C string and `dir` an open descriptor.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The permission bits of the open file `fd`, which must be a regular file.
fn regular_file_mode(fd: &OwnedFd, path: &Path) -> io::Result<u32> {
    // SAFETY: `stat` is plain data that `fstat` fills in.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open and `stat` is a valid pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if stat.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    // `mode_t` is `u32` on Linux and `u16` on macOS.
    #[allow(clippy::useless_conversion)]
    let mode = u32::from(stat.st_mode);
    Ok(mode & 0o7777)
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
    fn read_and_replace_act_on_files_inside() {
        let (inside, _outside, ws) = workspace();
        let path = ws.resolve("src/lib.rs").expect("inside");
        assert_eq!(ws.read(&path, 1 << 20).expect("read"), b"fn main() {}\n");
        assert_eq!(ws.read(&path, 2).expect("read capped"), b"fn");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640))
            .expect("chmod");
        ws.replace(&path, b"fn main() {\n}\n").expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"fn main() {\n}\n");
        let mode = fs::metadata(&path).expect("stat").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o7777,
            0o640
        );
        let names: Vec<_> = fs::read_dir(inside.path().join("src"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["lib.rs"], "no temporary file is left behind");
    }

    #[test]
    fn a_link_swapped_in_after_resolve_is_never_followed() {
        let (inside, outside, ws) = workspace();
        let path = ws.resolve("src/lib.rs").expect("inside");
        // The race: `resolve` saw a file, then the file became a link pointing out.
        fs::remove_file(&path).expect("remove");
        std::os::unix::fs::symlink(outside.path().join("secret"), &path).expect("symlink");
        let error = ws.read(&path, 1 << 20).expect_err("a link is not followed");
        assert_eq!(error.raw_os_error(), Some(libc::ELOOP), "{error}");
        assert!(ws.replace(&path, b"overwritten").is_err());
        assert_eq!(
            fs::read(outside.path().join("secret")).expect("read"),
            b"secret\n"
        );
        // A directory on the way that became a link pointing out.
        fs::remove_file(&path).expect("remove");
        fs::rename(inside.path().join("src"), inside.path().join("old")).expect("rename");
        std::os::unix::fs::symlink(outside.path(), inside.path().join("src")).expect("symlink");
        let secret = ws.root().join("src/secret");
        assert!(ws.read(&secret, 1 << 20).is_err());
        assert!(ws.replace(&secret, b"overwritten").is_err());
        assert_eq!(
            fs::read(outside.path().join("secret")).expect("read"),
            b"secret\n"
        );
        // A path outside the root, and the root itself, are refused outright.
        assert!(ws.read(&outside.path().join("secret"), 10).is_err());
        assert!(ws.read(ws.root(), 10).is_err());
    }

    #[test]
    fn replace_never_writes_through_a_hard_link_and_a_fifo_is_not_opened() {
        let (inside, outside, ws) = workspace();
        let linked = inside.path().join("src/hard.rs");
        fs::hard_link(outside.path().join("secret"), &linked).expect("hard link");
        let linked = ws.resolve("src/hard.rs").expect("inside");
        ws.replace(&linked, b"new\n").expect("replace");
        assert_eq!(fs::read(&linked).expect("read"), b"new\n");
        assert_eq!(
            fs::read(outside.path().join("secret")).expect("read"),
            b"secret\n"
        );
        let fifo = inside.path().join("src/fifo");
        let name = CString::new(fifo.as_os_str().as_bytes()).expect("path");
        // SAFETY: `name` is a NUL-terminated C string.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let fifo = ws.resolve("src/fifo").expect("inside");
        let error = ws.read(&fifo, 10).expect_err("a FIFO is no regular file");
        assert!(error.to_string().contains("not a regular file"), "{error}");
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
