//! Everything a hook call needs from the world, read once when the payload arrives: the
//! repository around the working directory, the text of each file an edit tool touches, and for
//! a shell command a manifest of the work tree.
//!
//! Recording ([`super::record`]) then works from this [`Observation`] alone (plus the store), so
//! a payload spooled because the database was unavailable is recorded later exactly as it would
//! have been: the files as they were when the agent called, not as they are when the spool is
//! read. The observation is what the spool keeps, with the prompt already redacted.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::event::{Action, HookEvent, Target, undo_replacements};
use super::worktree::{self, MAX_FILE_BYTES, Manifest, Scan};
use crate::git;
use crate::store::hooks::{Bracket, BracketKind};

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Observation {
    /// When the payload arrived (Unix ms): the event's time.
    pub received_ms: i64,
    /// The event, with its prompt redacted.
    pub event: HookEvent,
    /// What was redacted from the prompt: `(kind, count)`.
    #[serde(default)]
    pub redactions: Vec<(String, u32)>,
    /// The repository around the working directory.
    pub repo: Option<RepoSeen>,
    /// Edit tools: each file as it was when the payload arrived.
    #[serde(default)]
    pub files: Vec<FileSeen>,
    /// Shell tools: the work tree as it was when the payload arrived.
    pub scan: Option<Scan>,
    /// Brackets the session left open (a pre event whose post never came, as with Codex's
    /// `apply_patch` through the shell), with what they cover as it is now: this event closes
    /// them.
    #[serde(default)]
    pub left_open: Vec<LeftOpen>,
}

/// A bracket left open and what it covers, read when the payload arrived.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LeftOpen {
    /// The bracket's id in `hook_brackets`; 0 for a bracket whose pre event was still in the
    /// spool, found by its tool call and path when this one is recorded.
    pub bracket_id: i64,
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub tool_use_id: Option<String>,
    /// A file bracket: the file now.
    pub file: Option<FileSeen>,
    /// A shell bracket: the work tree now.
    pub scan: Option<Scan>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RepoSeen {
    pub root: String,
    pub head: Option<String>,
    pub branch: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FileSeen {
    /// Absolute path with symbolic links resolved: the key of the file's snapshots.
    pub path: String,
    pub repo_root: Option<String>,
    pub rel_path: Option<String>,
    pub content: Content,
    /// After an edit: the file before it, rebuilt from the payload (the original it carries, or
    /// the current text with the tool's replacements undone). `None` when the payload does not
    /// tell.
    pub before: Option<String>,
    /// Before an edit: the content is exactly what git's index holds for the path, so a git
    /// command (checkout, reset, merge, stash) may have written it rather than the person.
    #[serde(default)]
    pub matches_git: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "type", content = "text", rename_all = "snake_case")]
pub enum Content {
    /// The file does not exist.
    Absent,
    Text(String),
    /// Too large, not UTF-8, or unreadable: not attributed.
    Unreadable,
}

impl Content {
    pub fn text(&self) -> Option<&str> {
        match self {
            Content::Text(text) => Some(text),
            Content::Absent => Some(""),
            Content::Unreadable => None,
        }
    }
}

/// Reads what `event` needs. `previous` is the work-tree manifest of the shell bracket a post
/// event closes, when the store could give it (unchanged files are then not read again).
/// `saved(path, text)` tells whether `text` is the file's latest snapshot, so that git is asked
/// about a file's index entry only when the file changed since (the common case asks nothing).
/// `left_open` are the brackets of the session this event closes without a post of their own,
/// each with the manifest it saved (shell brackets).
pub fn observe(
    event: HookEvent,
    redactions: Vec<(String, u32)>,
    received_ms: i64,
    previous: Option<&Manifest>,
    saved: &dyn Fn(&str, &str) -> bool,
    left_open: &[(Bracket, Option<Manifest>)],
) -> Observation {
    let mut event = event;
    // Codex's hooks never say its version; the rollout's first line does.
    if event.agent == "codex"
        && event.agent_version.is_none()
        && matches!(event.action, Action::Prompt { .. })
        && let Some(path) = event.transcript_path.as_deref()
    {
        event.agent_version = codex_cli_version(Path::new(path));
    }
    let repo = event.cwd.as_deref().and_then(repo_seen);
    let mut observation = Observation {
        received_ms,
        redactions,
        repo,
        files: Vec::new(),
        scan: None,
        left_open: left_open
            .iter()
            .map(|(bracket, manifest)| see_left_open(bracket, manifest.as_ref()))
            .collect(),
        event,
    };
    // Each file's `before` takes the original the payload carried: the spooled observation
    // need not carry it twice (the payload itself keeps it, as the agent sent it).
    let mut originals: Vec<Option<String>> = match &mut observation.event.action {
        Action::PreTool(call) | Action::PostTool(call) => match &mut call.target {
            Target::Files(edits) => edits.iter_mut().map(|edit| edit.original.take()).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let (call, post) = match &observation.event.action {
        Action::PreTool(call) => (call, false),
        Action::PostTool(call) => (call, true),
        _ => return observation,
    };
    match &call.target {
        Target::Files(edits) => {
            for (index, edit) in edits.iter().enumerate() {
                let original = originals.get_mut(index).and_then(Option::take);
                let path = canonical(&edit.path);
                let content = read_text(&path);
                let before = if !post {
                    None
                } else if let Some(original) = original {
                    Some(original)
                } else if edit.created {
                    Some(String::new())
                } else {
                    match (&content, &edit.replacements) {
                        (Content::Text(after), Some(replacements)) => {
                            undo_replacements(after, replacements)
                        }
                        _ => None,
                    }
                };
                let repo = discover(&path);
                let rel_path = repo
                    .as_ref()
                    .and_then(|repo| git::relative_path(&repo.root, &path));
                let matches_git = match (&content, &repo, &rel_path) {
                    (Content::Text(text), Some(repo), Some(relative))
                        if !post && !saved(&path.to_string_lossy(), text) =>
                    {
                        git::index_id_quick(&repo.root, relative)
                            .is_some_and(|oid| oid == git::object_id(text.as_bytes()))
                    }
                    _ => false,
                };
                observation.files.push(FileSeen {
                    matches_git,
                    rel_path,
                    repo_root: repo.map(|repo| repo.root.to_string_lossy().into_owned()),
                    path: path.to_string_lossy().into_owned(),
                    content,
                    before,
                });
            }
        }
        Target::Shell { cwd, .. } => {
            let root = cwd
                .as_deref()
                .and_then(discover)
                .map(|repo| repo.root)
                .or_else(|| {
                    observation
                        .repo
                        .as_ref()
                        .map(|repo| PathBuf::from(&repo.root))
                });
            // Outside any repository there is no bounded set of files to compare: nothing is
            // attributed to shell commands there.
            observation.scan = root.and_then(|root| worktree::scan(&root, previous));
        }
        Target::None => {}
    }
    observation
}

/// What a bracket left open covers, as it is now: the file, or the work tree (compared with the
/// manifest saved when it opened, so unchanged files are not read again).
fn see_left_open(bracket: &Bracket, manifest: Option<&Manifest>) -> LeftOpen {
    match bracket.kind {
        BracketKind::File => {
            let path = PathBuf::from(&bracket.path);
            let repo = discover(&path);
            LeftOpen {
                bracket_id: bracket.id,
                tool: bracket.tool_name.clone(),
                tool_use_id: bracket.tool_use_id.clone(),
                file: Some(FileSeen {
                    rel_path: repo
                        .as_ref()
                        .and_then(|repo| git::relative_path(&repo.root, &path)),
                    repo_root: repo.map(|repo| repo.root.to_string_lossy().into_owned()),
                    content: read_text(&path),
                    path: bracket.path.clone(),
                    before: None,
                    matches_git: false,
                }),
                scan: None,
            }
        }
        BracketKind::Shell => LeftOpen {
            bracket_id: bracket.id,
            tool: bracket.tool_name.clone(),
            tool_use_id: bracket.tool_use_id.clone(),
            file: None,
            scan: worktree::scan(Path::new(&bracket.path), manifest),
        },
    }
}

/// The `cli_version` of a Codex rollout's `session_meta`, its first line (read up to 1 MiB: the
/// line carries the whole system prompt).
pub fn codex_cli_version(path: &Path) -> Option<String> {
    use std::io::{BufRead, Read};
    let file = std::fs::File::open(path).ok()?;
    let mut line = Vec::new();
    std::io::BufReader::new(file.take(1 << 20))
        .read_until(b'\n', &mut line)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&line).ok()?;
    let meta = value.get("payload").unwrap_or(&value);
    meta.get("cli_version")
        .and_then(serde_json::Value::as_str)
        .filter(|version| !version.is_empty())
        .map(str::to_owned)
}

fn repo_seen(path: &Path) -> Option<RepoSeen> {
    let repo = discover(path)?;
    Some(RepoSeen {
        root: repo.root.to_string_lossy().into_owned(),
        head: repo.head_commit,
        branch: repo.branch,
    })
}

thread_local! {
    /// The repositories this hook call found: the working directory and the files it touches
    /// are almost always in one, and opening it (its configuration, its refs) is a good part of a
    /// call. A hook call lives a few milliseconds, so HEAD is read once per call, as before.
    static FOUND: std::cell::RefCell<Vec<git::RepoInfo>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`git::discover_quick`], reusing a repository already found when `path` lies in its work tree
/// and no `.git` (a nested repository or submodule) stands between.
fn discover(path: &Path) -> Option<git::RepoInfo> {
    let start = if path.is_dir() { path } else { path.parent()? };
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let known = FOUND.with_borrow(|found| {
        for dir in start.ancestors() {
            if let Some(repo) = found.iter().find(|repo| repo.root == dir) {
                return Some(repo.clone());
            }
            if dir.join(".git").exists() {
                return None;
            }
        }
        None
    });
    if known.is_some() {
        return known;
    }
    let repo = git::discover_quick(path)?;
    FOUND.with_borrow_mut(|found| found.push(repo.clone()));
    Some(repo)
}

/// `path` with symbolic links resolved, also for a file that does not exist yet (its directory
/// is resolved).
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(resolved) = path.canonicalize() {
        return resolved;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map(|parent| parent.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

fn read_text(path: &Path) -> Content {
    match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Content::Absent,
        Err(_) => return Content::Unreadable,
        Ok(metadata) if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES => {
            return Content::Unreadable;
        }
        Ok(_) => {}
    }
    match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(text)) => Content::Text(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Content::Absent,
        _ => Content::Unreadable,
    }
}
