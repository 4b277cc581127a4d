//! What changed on disk among the files a server reads but has not open, for servers that learn
//! about such changes only from their client (`workspace/didChangeWatchedFiles`).
//!
//! pyright 1.1.414 keeps the text of every file it has read (the modules an open file imports)
//! and does not watch the disk itself: after an edit to such a file it answers with positions in
//! the old text. So before every request the client compares a snapshot of the workspace's source
//! files (modification time and size) with the disk and reports the differences. tsserver and
//! rust-analyzer watch files themselves and are not sent these events.
//!
//! Invariant: the walk honours ignore files, skips `.git` and `node_modules`, and stops after
//! [`MAX_FILES`] files, so a huge tree costs a bounded time per request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

use super::convert;

/// The most files one snapshot holds.
pub const MAX_FILES: usize = 20_000;

/// Which files a server wants to hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watch {
    pub extensions: Vec<String>,
    /// Whole file names (`pyproject.toml`, `go.mod`).
    pub names: Vec<String>,
}

/// Modification time and size per file.
pub type Snapshot = HashMap<PathBuf, (Option<SystemTime>, u64)>;

impl Watch {
    fn wants(&self, path: &Path) -> bool {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let extension = path
            .extension()
            .and_then(|ext| ext.to_str())
            .unwrap_or_default();
        self.names.iter().any(|known| known == name)
            || self.extensions.iter().any(|known| known == extension)
    }

    /// The watched files under `root` now.
    pub fn snapshot(&self, root: &Path) -> Snapshot {
        let walk = ignore::WalkBuilder::new(root)
            .hidden(false)
            .filter_entry(|entry| {
                let name = entry.file_name();
                name != ".git" && name != "node_modules"
            })
            .build();
        let mut snapshot = Snapshot::new();
        for entry in walk.flatten() {
            if snapshot.len() >= MAX_FILES {
                break;
            }
            if !entry.file_type().is_some_and(|kind| kind.is_file()) || !self.wants(entry.path()) {
                continue;
            }
            if let Ok(metadata) = entry.metadata() {
                snapshot.insert(
                    entry.into_path(),
                    (metadata.modified().ok(), metadata.len()),
                );
            }
        }
        snapshot
    }
}

/// The `FileEvent`s (1 created, 2 changed, 3 deleted) that turn `before` into `after`, leaving out
/// the files `skip` says the server has open (it hears about those through `didChange`).
pub fn changes(before: &Snapshot, after: &Snapshot, skip: impl Fn(&Path) -> bool) -> Vec<Value> {
    let mut events: Vec<(PathBuf, u8)> = Vec::new();
    for (path, stamp) in after {
        match before.get(path) {
            None => events.push((path.clone(), 1)),
            Some(old) if old != stamp => events.push((path.clone(), 2)),
            Some(_) => {}
        }
    }
    for path in before.keys() {
        if !after.contains_key(path) {
            events.push((path.clone(), 3));
        }
    }
    events.sort();
    events
        .into_iter()
        .filter(|(path, _)| !skip(path))
        .map(|(path, kind)| json!({ "uri": convert::path_to_uri(&path), "type": kind }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_changed_and_deleted_files_but_not_open_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical");
        let watch = Watch {
            extensions: vec!["py".to_owned()],
            names: vec!["pyproject.toml".to_owned()],
        };
        for name in [
            "a.py",
            "b.py",
            "c.py",
            "open.py",
            "notes.txt",
            "pyproject.toml",
        ] {
            std::fs::write(root.join(name), "x = 1\n").expect("write");
        }
        std::fs::create_dir(root.join("node_modules")).expect("mkdir");
        std::fs::write(root.join("node_modules/skip.py"), "").expect("write");
        let before = watch.snapshot(&root);
        assert_eq!(before.len(), 5);
        std::fs::write(root.join("a.py"), "x = 22\n").expect("write");
        std::fs::write(root.join("open.py"), "x = 22\n").expect("write");
        std::fs::remove_file(root.join("b.py")).expect("remove");
        std::fs::write(root.join("d.py"), "").expect("write");
        let after = watch.snapshot(&root);
        let open = root.join("open.py");
        let events = changes(&before, &after, |path| path == open);
        let uri = |name: &str| convert::path_to_uri(&root.join(name));
        assert_eq!(
            events,
            [
                json!({ "uri": uri("a.py"), "type": 2 }),
                json!({ "uri": uri("b.py"), "type": 3 }),
                json!({ "uri": uri("d.py"), "type": 1 }),
            ]
        );
        assert!(changes(&after, &after, |_| false).is_empty());
    }
}
