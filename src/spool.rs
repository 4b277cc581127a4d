//! Where captured data waits when the store cannot take it.
//!
//! A channel that acknowledged something (a hook that exited, a daemon that answered) must not
//! lose it because the database is momentarily unwritable: locked, damaged, newer than this
//! binary, or on a filesystem that is full or read-only. The last two take the directory beside
//! the database down with it, so a spool is a list of places tried in order:
//!
//! 1. beside the database: `<db file>.<name>/`;
//! 2. the runtime directory: `$XDG_RUNTIME_DIR/prodcode/<key>/<name>/`;
//! 3. the temporary directory: `<tmp>/prodcode-<uid>/<key>/<name>/`,
//!
//! where `<key>` is the first 16 hex digits of the SHA-256 of the database's absolute path, so
//! that the fallbacks of two databases never mix. Directories are made with mode 0700 and files
//! with mode 0600; in the shared temporary directory a `prodcode-<uid>` that is not a directory
//! owned by this user and closed to others is not used. An entry is one file, written under a
//! temporary name, synced and renamed into place, so readers never see half of one and writers
//! need no locks; it goes to the first place that takes it whole. Names begin with nanoseconds
//! since the epoch, so reading every place and sorting by name gives receipt order. The runtime
//! and temporary directories may be emptied by a reboot: the fallbacks keep what a killed
//! process acknowledged, not what a power cut interrupts.
//!
//! The callers (the hook spool, the daemon's spool) own their entries' format and the
//! exactly-once bookkeeping in the store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Temporary files older than this were left by a killed writer.
const STALE_TEMPORARY_MS: i64 = 60 * 60 * 1000;

/// The places of one spool, in the order they are tried.
#[derive(Clone, Debug)]
pub struct Spool {
    places: Vec<PathBuf>,
}

/// One entry waiting: its file name (unique across places) and where it is.
#[derive(Clone, Debug)]
pub struct Item {
    pub name: String,
    pub path: PathBuf,
}

impl Spool {
    /// The spool `name` of the database at `db` (see the module docs for its places).
    pub fn for_db(db: &Path, name: &str) -> Spool {
        let mut places = vec![sibling(db, name)];
        places.extend(fallback_dirs(db).into_iter().map(|dir| dir.join(name)));
        Spool { places }
    }

    /// A spool with exactly these places, for tests.
    pub fn with_places(places: Vec<PathBuf>) -> Spool {
        Spool { places }
    }

    pub fn places(&self) -> &[PathBuf] {
        &self.places
    }

    /// Writes one entry to the first place that takes it, synced to disk before it is renamed
    /// into place; returns where it went. The error says, for every place, why it did not.
    pub fn push(&self, bytes: &[u8]) -> Result<PathBuf, String> {
        self.push_with(bytes, true)
    }

    /// [`Spool::push`], with the sync left to the kernel when `sync` is false: the entry then
    /// survives the writer being killed at any point (the rename makes it whole or absent) but
    /// not a power cut, the promise of a SQLite commit in WAL mode with `synchronous=NORMAL`.
    /// For a writer that cannot wait for the disk (an agent's hook).
    pub fn push_with(&self, bytes: &[u8], sync: bool) -> Result<PathBuf, String> {
        self.push_parts(&[bytes], sync)
    }

    /// [`Spool::push_with`] of the concatenation of `parts`, written one after the other
    /// rather than copied together first (an entry of a big file is megabytes).
    pub fn push_parts(&self, parts: &[&[u8]], sync: bool) -> Result<PathBuf, String> {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        // Nanoseconds: one writer's entries are sequential, so this is their order even when
        // two arrive within a millisecond.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let name = format!(
            "{nanos:020}-{}-{}.json",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let mut failures = Vec::new();
        for place in &self.places {
            if !shared_root_is_safe(place, true) {
                failures.push(format!(
                    "{}: not a private directory of this user",
                    place.display()
                ));
                continue;
            }
            match write_entry(place, &name, parts, sync) {
                Ok(path) => return Ok(path),
                Err(error) => failures.push(format!("{}: {error}", place.display())),
            }
        }
        Err(failures.join("; "))
    }

    /// The entries waiting in every place, oldest first. Cheap when there are none (a failed
    /// `readdir` per place). Temporary files of killed writers are removed on the way.
    pub fn items(&self, now_ms: i64) -> Vec<Item> {
        let mut items = Vec::new();
        for place in &self.places {
            if !shared_root_is_safe(place, false) {
                continue;
            }
            let Ok(listing) = std::fs::read_dir(place) else {
                continue;
            };
            for item in listing.flatten() {
                let name = item.file_name().to_string_lossy().into_owned();
                if name.starts_with(".tmp-") {
                    let old = item
                        .metadata()
                        .ok()
                        .and_then(|metadata| metadata.modified().ok())
                        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                        .is_some_and(|since| {
                            (since.as_millis() as i64) < now_ms - STALE_TEMPORARY_MS
                        });
                    if old {
                        let _ = std::fs::remove_file(item.path());
                    }
                    continue;
                }
                if name.ends_with(".json") {
                    items.push(Item {
                        name,
                        path: item.path(),
                    });
                }
            }
        }
        items.sort_by(|a, b| a.name.cmp(&b.name));
        items
    }
}

/// Writes `bytes` as `<dir>/<name>` through a temporary file, synced first when `sync` is set.
fn write_entry(dir: &Path, name: &str, parts: &[&[u8]], sync: bool) -> std::io::Result<PathBuf> {
    private_dir(dir)?;
    let temporary = dir.join(format!(".tmp-{name}"));
    let result = (|| {
        let mut file = private_file(&temporary, false)?;
        for part in parts {
            file.write_all(part)?;
        }
        if sync {
            file.sync_all()?;
        }
        let path = dir.join(name);
        std::fs::rename(&temporary, &path)?;
        Ok(path)
    })();
    if result.is_err() {
        // A full disk leaves a partial temporary file: give its space back.
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// The places other than the database's own directory where a spool or a log may go: the
/// runtime directory, then the temporary directory (see the module docs).
pub fn fallback_dirs(db: &Path) -> Vec<PathBuf> {
    let key = key(db);
    let mut dirs = Vec::new();
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
    {
        dirs.push(runtime.join("prodcode").join(&key));
    }
    dirs.push(temp_root().join(&key));
    dirs
}

/// `<tmp>/prodcode-<uid>`: this user's corner of the shared temporary directory.
fn temp_root() -> PathBuf {
    #[cfg(unix)]
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    #[cfg(not(unix))]
    let uid = "user";
    std::env::temp_dir().join(format!("prodcode-{uid}"))
}

/// For a place under [`temp_root`] (which others could have made first), whether the root is a
/// real directory owned by this user that nobody else can enter; `create` makes it (mode 0700)
/// when missing. Other places are this user's own and always pass.
pub fn shared_root_is_safe(place: &Path, create: bool) -> bool {
    let root = temp_root();
    if !place.starts_with(&root) {
        return true;
    }
    if create {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        let _ = builder.create(&root);
    }
    let Ok(metadata) = std::fs::symlink_metadata(&root) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        metadata.is_dir() && metadata.uid() == uid && metadata.permissions().mode() & 0o077 == 0
    }
    #[cfg(not(unix))]
    metadata.is_dir()
}

/// The first 16 hex digits of SHA-256 over the database's absolute path (its directory resolved
/// when it exists, so two spellings of one path share a key).
fn key(db: &Path) -> String {
    let absolute = db
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .and_then(|parent| parent.canonicalize().ok())
        .zip(db.file_name())
        .map(|(parent, name)| parent.join(name))
        .or_else(|| std::path::absolute(db).ok())
        .unwrap_or_else(|| db.to_owned());
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        absolute.as_os_str().as_encoded_bytes(),
    );
    crate::model::hex(&digest.as_ref()[..8])
}

/// `<db file name>.<suffix>` beside the database.
pub fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let name = db
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "prodcode.db".to_owned());
    db.with_file_name(format!("{name}.{suffix}"))
}

/// Creates `dir` and its missing parents with mode 0700.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens `path` for writing with mode 0600 (when it is created), appending or truncating.
pub fn private_file(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    if append {
        options.append(true);
    } else {
        options.truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry goes to the first place that takes it, and reading merges every place in
    /// receipt order.
    #[test]
    fn entries_fall_back_and_merge_in_order() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the first place's directory should be: that place refuses.
        let blocked = dir.path().join("blocked");
        std::fs::write(&blocked, "").unwrap();
        let first = dir.path().join("first");
        let fallback = dir.path().join("fallback");
        let open = Spool::with_places(vec![first.clone(), fallback.clone()]);
        let refusing = Spool::with_places(vec![blocked.join("spool"), fallback.clone()]);
        let a = open.push(b"a").unwrap();
        let b = refusing.push(b"b").unwrap();
        let c = open.push(b"c").unwrap();
        assert!(a.starts_with(&first) && c.starts_with(&first));
        assert!(b.starts_with(&fallback));
        let read: Vec<Vec<u8>> = open
            .items(0)
            .iter()
            .map(|item| std::fs::read(&item.path).unwrap())
            .collect();
        assert_eq!(read, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        let nowhere = Spool::with_places(vec![blocked.join("x"), blocked.join("y")]);
        let error = nowhere.push(b"d").unwrap_err();
        assert!(
            error.contains("blocked/x") && error.contains("blocked/y"),
            "{error}"
        );
    }

    #[test]
    fn keys_do_not_depend_on_how_the_path_is_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("p.db");
        let dotted = dir.path().join(".").join("p.db");
        assert_eq!(key(&plain), key(&dotted));
        assert_ne!(key(&plain), key(&dir.path().join("q.db")));
    }
}
