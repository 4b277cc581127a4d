//! What a shell command did to a work tree: a manifest of its files before and after.
//!
//! A manifest lists every file git would consider (tracked, plus untracked files that are not
//! ignored) with its size, times and inode, and its git object id. The id costs nothing for a
//! tracked file that matches the index (git already knows it); other files are read and hashed,
//! and their text is kept so that the state before the command can be restored for attribution.
//! After the command, a file whose size, times and inode are unchanged keeps its id without
//! being read again.
//!
//! The file list comes from the `git` program (`ls-files -s` and `status --porcelain`, run with
//! `--no-optional-locks` so they never take the index lock away from the agent), because gix's
//! directory walk would add compile time for this one use. Object ids are computed as git does
//! (SHA-1 of `blob <size>\0<content>`), so the ids of clean files read from the index and of
//! files hashed here compare directly.
//!
//! Bounds (a shell hook must stay fast on any repository): at most [`MAX_FILES`] files are
//! listed (the manifest says when it was cut short), a file larger than [`MAX_FILE_BYTES`] gets
//! no id (a change to it is not attributed), and at most [`MAX_TEXT_BYTES`] of text is kept per
//! scan.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

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

/// The git object id of `bytes`.
pub fn object_id(bytes: &[u8]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(format!("blob {}\0", bytes.len()).as_bytes());
    context.update(bytes);
    crate::model::hex(context.finish().as_ref())
}

fn git(root: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(root)
        .args(["--no-optional-locks", "-c", "core.quotepath=off"])
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn git_output(root: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let output = git(root).args(args).output().ok()?;
    output.status.success().then_some(output.stdout)
}

/// Scans the work tree at `root`. `previous` (the manifest before the command) lets unchanged
/// files keep their ids unread. `None` when git cannot list the work tree.
pub fn scan(root: &Path, previous: Option<&Manifest>) -> Option<Scan> {
    // Tracked files with their index ids: `<mode> <oid> <stage>\t<path>\0`.
    let listed = git_output(root, &["ls-files", "-s", "-z"])?;
    let mut index: HashMap<String, Option<String>> = HashMap::new();
    for record in listed.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let mut parts = meta.split(' ');
        let (mode, oid, stage) = (parts.next(), parts.next(), parts.next());
        if mode == Some("160000") {
            continue; // a submodule: not a file of this work tree
        }
        // A conflicted path (stage 1–3) has no single index id: hash the file.
        let oid = (stage == Some("0"))
            .then(|| oid.map(str::to_owned))
            .flatten();
        index.insert(path.to_owned(), oid);
    }
    // Modified and untracked (not ignored) files: `XY <path>\0`.
    let status = git_output(
        root,
        &[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
            "--ignore-submodules=all",
        ],
    )?;
    let mut dirty: HashSet<String> = HashSet::new();
    for record in status.split(|b| *b == 0).filter(|r| r.len() > 3) {
        dirty.insert(String::from_utf8_lossy(&record[3..]).into_owned());
    }
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
            let oid = object_id(&bytes);
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

/// Reads git objects by id (`git cat-file --batch`); ids git does not have are left out.
pub fn read_objects(root: &Path, oids: &[String]) -> HashMap<String, Vec<u8>> {
    let mut found = HashMap::new();
    if oids.is_empty() {
        return found;
    }
    let Ok(mut child) = git(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        return found;
    };
    let mut request = String::new();
    for oid in oids {
        request.push_str(oid);
        request.push('\n');
    }
    // Writing everything first could deadlock on a full pipe: write from a thread.
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            let _ = stdin.write_all(request.as_bytes());
        }
    });
    let mut output = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_end(&mut output);
    }
    let _ = writer.join();
    let _ = child.wait();
    // `<oid> blob <size>\n<content>\n`, or `<oid> missing\n`.
    let mut at = 0;
    while at < output.len() {
        let Some(newline) = output[at..].iter().position(|b| *b == b'\n') else {
            break;
        };
        let header = String::from_utf8_lossy(&output[at..at + newline]).into_owned();
        at += newline + 1;
        let mut parts = header.split(' ');
        let (Some(oid), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(size) = size.parse::<usize>() else {
            continue;
        };
        let end = (at + size).min(output.len());
        if kind == "blob" {
            found.insert(oid.to_owned(), output[at..end].to_vec());
        }
        at = end + 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            object_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(object_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}
