//! Content snapshots: which source files a checker reads, and their SHA-256 hashes.
//!
//! The walk is the one `rg` does (the `ignore` crate: `.gitignore` inside a git repository,
//! `.ignore`, hidden files skipped), and it also skips directories no checker's answer depends
//! on even outside git: `node_modules`, `__pycache__`, build directories marked with a
//! `CACHEDIR.TAG` (Cargo's `target/`) and Python virtual environments (`pyvenv.cfg`).
//!
//! Hashing is what makes answers trustworthy, so the cache of hashes is careful: an entry is
//! reused only when size, modification time, change time and inode all match *and* the file was
//! last modified well before the entry was recorded. A file written in the same clock tick as
//! it was hashed can keep its size and times while its content changes (git's "racy clean"
//! problem); such files are hashed again on every call until their modification time is older
//! than [`RACY_MARGIN`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::super::workspace::Workspace;

/// How recent a modification must be for a cached hash to be distrusted.
const RACY_MARGIN: Duration = Duration::from_secs(2);

/// Which files a checker (or formatter) reads.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// File extensions, without the dot.
    pub extensions: BTreeSet<String>,
    /// Exact file names (manifests: `Cargo.toml`, `pyproject.toml`).
    pub names: BTreeSet<String>,
    /// Glob patterns over workspace-relative paths (`*` crosses `/`).
    pub globs: Option<GlobSet>,
    /// Every file the walk sees.
    pub all: bool,
}

impl Inputs {
    pub fn new(extensions: &[&str], names: &[&str]) -> Inputs {
        Inputs {
            extensions: extensions.iter().map(|ext| (*ext).to_owned()).collect(),
            names: names.iter().map(|name| (*name).to_owned()).collect(),
            globs: None,
            all: false,
        }
    }

    /// Files matching any of `patterns`; `Err` names the first pattern that is not a glob.
    pub fn from_globs(patterns: &[String]) -> Result<Inputs, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            builder.add(Glob::new(pattern).map_err(|err| format!("`{pattern}`: {err}"))?);
        }
        let globs = builder.build().map_err(|err| err.to_string())?;
        Ok(Inputs {
            globs: Some(globs),
            ..Inputs::default()
        })
    }

    pub fn everything() -> Inputs {
        Inputs {
            all: true,
            ..Inputs::default()
        }
    }

    /// Adds what `other` matches.
    pub fn merge(&mut self, other: &Inputs) {
        self.extensions.extend(other.extensions.iter().cloned());
        self.names.extend(other.names.iter().cloned());
        self.all |= other.all;
        self.globs = match (self.globs.take(), &other.globs) {
            (None, other) => other.clone(),
            (Some(mine), None) => Some(mine),
            // Two glob sets cannot be merged; keeping everything is the safe superset.
            (Some(_), Some(_)) => {
                self.all = true;
                None
            }
        };
    }

    pub fn matches(&self, relative: &str) -> bool {
        if self.all {
            return true;
        }
        let name = relative.rsplit('/').next().unwrap_or(relative);
        if self.names.contains(name) {
            return true;
        }
        if let Some((_, extension)) = name.rsplit_once('.')
            && self.extensions.contains(extension)
        {
            return true;
        }
        self.globs
            .as_ref()
            .is_some_and(|globs| globs.is_match(relative))
    }
}

/// The regular files under `roots` that match `inputs`, with workspace-relative paths, sorted
/// and without duplicates.
pub fn walk(ws: &Workspace, roots: &[PathBuf], inputs: &Inputs) -> Vec<(String, PathBuf)> {
    let Some((first, rest)) = roots.split_first() else {
        return Vec::new();
    };
    let mut builder = ignore::WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder.filter_entry(|entry| {
        !entry.file_type().is_some_and(|kind| kind.is_dir()) || !skipped_directory(entry.path())
    });
    let mut files: Vec<(String, PathBuf)> = builder
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .filter_map(|entry| {
            let path = entry.into_path();
            let relative = ws.relative(&path)?;
            inputs.matches(&relative).then_some((relative, path))
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

fn skipped_directory(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    matches!(name, "node_modules" | "__pycache__")
        || path.join("CACHEDIR.TAG").is_file()
        || path.join("pyvenv.cfg").is_file()
}

/// The hashed files of one moment and the id naming them all.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Snapshot {
    /// Hex SHA-256 over the sorted `path NUL sha256 LF` lines.
    pub id: String,
    /// Workspace-relative path → hex SHA-256 of its content.
    pub files: BTreeMap<String, String>,
}

impl Snapshot {
    fn from_files(files: BTreeMap<String, String>) -> Snapshot {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        for (path, sha) in &files {
            context.update(path.as_bytes());
            context.update(b"\0");
            context.update(sha.as_bytes());
            context.update(b"\n");
        }
        Snapshot {
            id: hex(context.finish().as_ref()),
            files,
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
    recorded_ns: i128,
    sha256: String,
}

/// Hashes of files by path, reused while a file's metadata says it is unchanged.
#[derive(Debug, Default)]
pub struct HashCache {
    entries: HashMap<PathBuf, Entry>,
}

impl HashCache {
    /// The snapshot of the files under the workspace root that match `inputs`. Entries for files
    /// that are gone are forgotten.
    pub fn snapshot(&mut self, ws: &Workspace, inputs: &Inputs) -> Snapshot {
        let files = walk(ws, &[ws.root().to_path_buf()], inputs);
        let mut hashes = BTreeMap::new();
        let mut seen = HashMap::with_capacity(files.len());
        for (relative, path) in files {
            if let Some(sha) = self.hash(&path) {
                hashes.insert(relative, sha);
            }
            if let Some(entry) = self.entries.remove(&path) {
                seen.insert(path, entry);
            }
        }
        self.entries = seen;
        Snapshot::from_files(hashes)
    }

    /// The hex SHA-256 of the file at `path`; `None` when it cannot be read.
    pub fn hash(&mut self, path: &Path) -> Option<String> {
        let metadata = std::fs::metadata(path).ok()?;
        let now_ns = nanos(SystemTime::now());
        let mtime_ns = metadata.mtime() as i128 * 1_000_000_000 + metadata.mtime_nsec() as i128;
        let ctime_ns = metadata.ctime() as i128 * 1_000_000_000 + metadata.ctime_nsec() as i128;
        if let Some(entry) = self.entries.get(path)
            && entry.size == metadata.len()
            && entry.mtime_ns == mtime_ns
            && entry.ctime_ns == ctime_ns
            && entry.inode == metadata.ino()
            && mtime_ns.max(ctime_ns) + (RACY_MARGIN.as_nanos() as i128) < entry.recorded_ns
        {
            return Some(entry.sha256.clone());
        }
        let sha256 = hash_file(path)?;
        self.entries.insert(
            path.to_owned(),
            Entry {
                size: metadata.len(),
                mtime_ns,
                ctime_ns,
                inode: metadata.ino(),
                recorded_ns: now_ns,
                sha256: sha256.clone(),
            },
        );
        Some(sha256)
    }
}

/// The hex SHA-256 of a file's content, read without the cache.
pub fn hash_file(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => context.update(&buffer[..read]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(hex(context.finish().as_ref()))
}

fn nanos(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    #[test]
    fn the_walk_keeps_inputs_and_skips_build_and_dependency_directories() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        write(root, "Cargo.toml", "[package]\n");
        write(root, "src/lib.rs", "");
        write(root, "src/notes.txt", "");
        write(
            root,
            "target/CACHEDIR.TAG",
            "Signature: 8a477f597d28d172789f06886806bc55",
        );
        write(root, "target/debug/build/out.rs", "");
        write(root, "node_modules/dep/index.rs", "");
        write(root, "venv/pyvenv.cfg", "");
        write(root, "venv/lib/site.rs", "");
        write(root, ".hidden/x.rs", "");
        let ws = Workspace::new(root).expect("workspace");
        let files: Vec<String> = walk(
            &ws,
            &[ws.root().to_path_buf()],
            &Inputs::new(&["rs"], &["Cargo.toml"]),
        )
        .into_iter()
        .map(|(relative, _)| relative)
        .collect();
        assert_eq!(files, vec!["Cargo.toml", "src/lib.rs"]);
        let globbed = Inputs::from_globs(&["*.txt".to_owned()]).expect("globs");
        assert!(globbed.matches("src/notes.txt"));
        assert!(!globbed.matches("src/lib.rs"));
        assert!(Inputs::from_globs(&["a[".to_owned()]).is_err());
    }

    #[test]
    fn a_same_size_rewrite_right_after_hashing_is_seen() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "a.rs", "fn a() {}\n");
        let ws = Workspace::new(dir.path()).expect("workspace");
        let inputs = Inputs::new(&["rs"], &[]);
        let mut cache = HashCache::default();
        let first = cache.snapshot(&ws, &inputs);
        assert_eq!(first.files.len(), 1);
        assert_eq!(cache.snapshot(&ws, &inputs), first);
        // Same size, written within the same clock tick as far as the test can tell.
        write(dir.path(), "a.rs", "fn b() {}\n");
        let second = cache.snapshot(&ws, &inputs);
        assert_ne!(second.id, first.id);
        assert_eq!(
            second.files["a.rs"],
            hash_file(&dir.path().join("a.rs")).expect("hash")
        );
        fs::remove_file(dir.path().join("a.rs")).expect("remove");
        let empty = cache.snapshot(&ws, &inputs);
        assert!(empty.files.is_empty());
        assert!(cache.entries.is_empty());
    }

    #[test]
    fn an_old_unchanged_file_is_not_read_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), "a.rs", "fn a() {}\n");
        let path = dir.path().join("a.rs");
        let old = SystemTime::now() - Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(old))
            .expect("set mtime");
        let mut cache = HashCache::default();
        let real = cache.hash(&path).expect("hash");
        // The ctime is recent (set_modified just changed it): the entry is still distrusted.
        cache.entries.get_mut(&path).expect("entry").sha256 = "stale".to_owned();
        assert_eq!(cache.hash(&path).as_deref(), Some(real.as_str()));
        // Pretend the entry was recorded long after the last change: now it is trusted.
        let entry = cache.entries.get_mut(&path).expect("entry");
        entry.recorded_ns += 10 * RACY_MARGIN.as_nanos() as i128;
        entry.sha256 = "trusted".to_owned();
        assert_eq!(cache.hash(&path).as_deref(), Some("trusted"));
    }
}
