//! What a shell command did to a work tree: a manifest of its files before and after.
//!
//! A manifest lists every file git would consider (tracked, plus untracked files that are not
//! ignored) with its size, times and inode, and its git object id. The id costs nothing for a
//! tracked file that matches the index (git already knows it); other files are read and hashed,
//! and their text is kept so that the state before the command can be restored for attribution.
//! After the command, a file whose size, times and inode are unchanged keeps its id without
//! being read again.
//!
//! The file list comes from [`git::list_worktree`]. Object ids are computed as git does
//! ([`git::object_id`]), so the ids of clean files read from the index and of files hashed here
//! compare directly.
//!
//! Bounds (a shell hook must stay fast on any repository): at most [`MAX_FILES`] files are
//! listed (the manifest says when it was cut short), a file larger than [`MAX_FILE_BYTES`] gets
//! no id (a change to it is not attributed), and at most [`MAX_TEXT_BYTES`] of text is kept per
//! scan.

use std::collections::BTreeMap;
use std::path::Path;

use crate::git::{self, Listing};

use serde::{Deserialize, Serialize};

/// Files listed per work tree.
pub const MAX_FILES: usize = 20_000;
/// Files larger than this are not hashed or attributed.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;
/// Text kept per scan (the contents of modified and untracked files).
pub const MAX_TEXT_BYTES: usize = 32 * 1024 * 1024;

/// The files of a work tree at one moment.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Work-tree root, absolute.
    pub root: String,
    /// Whether files were left out because there were more than [`MAX_FILES`].
    pub truncated: bool,
    /// By path relative to the root, `/`-separated.
    pub files: BTreeMap<String, Entry>,
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Entry {
    pub len: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
    /// Git object id (hex SHA-1); `None` when the file was too large or unreadable.
    pub oid: Option<String>,
    /// SHA-256 of the text as stored in the database's blobs, once stored (set when the
    /// manifest is saved with its bracket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

impl Entry {
    fn same_file(&self, other: &Entry) -> bool {
        self.len == other.len
            && self.mtime_ns == other.mtime_ns
            && self.ctime_ns == other.ctime_ns
            && self.ino == other.ino
    }
}

/// A manifest and the texts it read, by object id.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Scan {
    pub manifest: Manifest,
    pub texts: BTreeMap<String, String>,
}

/// Scans the work tree at `root`. `previous` (the manifest before the command) lets unchanged
/// files keep their ids unread. `None` when git cannot list the work tree.
pub fn scan(root: &Path, previous: Option<&Manifest>) -> Option<Scan> {
    let Listing { index, dirty } = git::list_worktree(root)?;
    let mut paths: Vec<&String> = index
        .keys()
        .chain(dirty.iter().filter(|p| !index.contains_key(*p)))
        .collect();
    paths.sort();
    let mut result = Scan {
        manifest: Manifest {
            root: root.to_string_lossy().into_owned(),
            truncated: paths.len() > MAX_FILES,
            files: BTreeMap::new(),
        },
        texts: BTreeMap::new(),
    };
    let mut text_bytes = 0;
    for relative in paths.into_iter().take(MAX_FILES) {
        let path = root.join(relative);
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue; // deleted in the work tree
        };
        if !metadata.is_file() {
            continue;
        }
        let mut entry = stat_entry(&metadata);
        let before = previous.and_then(|manifest| manifest.files.get(relative));
        if let Some(before) = before.filter(|before| before.same_file(&entry)) {
            entry.oid = before.oid.clone();
            entry.blob = before.blob.clone();
        } else if let Some(Some(oid)) = index.get(relative).filter(|_| !dirty.contains(relative)) {
            entry.oid = Some(oid.clone());
        } else if entry.len <= MAX_FILE_BYTES
            && let Ok(bytes) = std::fs::read(&path)
        {
            let oid = git::object_id(&bytes);
            if text_bytes + bytes.len() <= MAX_TEXT_BYTES
                && let Ok(text) = String::from_utf8(bytes)
            {
                text_bytes += text.len();
                result.texts.insert(oid.clone(), text);
            }
            entry.oid = Some(oid);
        }
        result.manifest.files.insert(relative.clone(), entry);
    }
    Some(result)
}

#[cfg(unix)]
fn stat_entry(metadata: &std::fs::Metadata) -> Entry {
    use std::os::unix::fs::MetadataExt;
    Entry {
        len: metadata.len(),
        mtime_ns: metadata
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(metadata.mtime_nsec()),
        ctime_ns: metadata
            .ctime()
            .saturating_mul(1_000_000_000)
            .saturating_add(metadata.ctime_nsec()),
        ino: metadata.ino(),
        oid: None,
        blob: None,
    }
}

#[cfg(not(unix))]
fn stat_entry(metadata: &std::fs::Metadata) -> Entry {
    let nanos = |time: std::io::Result<std::time::SystemTime>| {
        time.ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX)
            })
    };
    Entry {
        len: metadata.len(),
        mtime_ns: nanos(metadata.modified()),
        ctime_ns: nanos(metadata.created()),
        ino: 0,
        oid: None,
        blob: None,
    }
}
