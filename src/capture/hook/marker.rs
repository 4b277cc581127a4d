//! A session's marker: the head of its latest event that closes its open brackets (a pre or
//! post, a prompt, a stop), kept in `<db>.sessions/` by the hook calls themselves. Such an
//! event leaves exactly its own brackets open, so with it and the spool's heads a file-edit call
//! knows the session's open brackets and the files' texts as last seen without opening SQLite,
//! which was a fifth of the call (issue 16; `docs/decisions.md`).
//!
//! The protocol keeps the marker from ever being older than what the store holds:
//! - A call writes its head as *pending* before its entry reaches the spool, and confirms it
//!   after; should the entry be lost, it clears the marker. A head is only written over an older
//!   one (by receipt time), under an exclusive `flock`.
//! - A reader trusts only a confirmed marker of an event received before its own; the caller
//!   also applies the spool's heads received after it. Anything else (no marker, a pending or
//!   cleared one, one it cannot parse) means asking the store, as before.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::spool::Head;

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Marker {
    pub interaction: String,
    /// The process that wrote it (with `head.received_ms`, which call).
    pub pid: u32,
    /// The entry reached the spool (or the store).
    pub confirmed: bool,
    pub head: Head,
}

/// Where `interaction`'s marker lives. Named by a CRC-32 of the id, not a cryptographic hash:
/// setting up SHA-256 detects CPU features, which is tens of microseconds where `cpuid` traps to
/// a hypervisor. Two sessions with the same name only overwrite each other's marker (each
/// marker names its session), and then ask the store.
fn path(db: &Path, interaction: &str) -> PathBuf {
    crate::spool::sibling(db, "sessions").join(format!(
        "{:08x}-{}.json",
        crc32fast::hash(interaction.as_bytes()),
        interaction.len()
    ))
}

/// The marker of `interaction`, when there is a readable one.
pub fn read(db: &Path, interaction: &str) -> Option<Marker> {
    let mut file = std::fs::File::open(path(db, interaction)).ok()?;
    lock(&file, libc::LOCK_SH).ok()?;
    let mut text = Vec::new();
    file.read_to_end(&mut text).ok()?;
    serde_json::from_slice::<Marker>(&text)
        .ok()
        .filter(|marker| marker.interaction == interaction)
}

/// Writes `head` as `interaction`'s marker, pending or confirmed, unless a newer event's is
/// there. When it cannot be written the marker is cleared, so no reader trusts an older one.
pub fn write(db: &Path, interaction: &str, head: &Head, confirmed: bool) {
    let marker = Marker {
        interaction: interaction.to_owned(),
        pid: std::process::id(),
        confirmed,
        head: head.clone(),
    };
    let _ = update(db, interaction, |existing| match existing {
        Some(existing)
            if (existing.head.received_ms, existing.pid)
                > (marker.head.received_ms, marker.pid) =>
        {
            None
        }
        _ => Some(Some(marker.clone())),
    });
}

/// Clears `interaction`'s marker if it is this call's (received at `received_ms`): its entry
/// was lost.
pub fn clear(db: &Path, interaction: &str, received_ms: i64) {
    let pid = std::process::id();
    let _ = update(db, interaction, |existing| match existing {
        Some(existing) if (existing.head.received_ms, existing.pid) == (received_ms, pid) => {
            Some(None)
        }
        _ => None,
    });
}

/// Reads the marker under an exclusive lock and writes what `decide` returns: `None` leaves it,
/// `Some(None)` clears it. On a write error the file is emptied or removed.
fn update(
    db: &Path,
    interaction: &str,
    decide: impl FnOnce(Option<Marker>) -> Option<Option<Marker>>,
) -> std::io::Result<()> {
    let path = path(db, interaction);
    if let Some(dir) = path.parent() {
        crate::spool::private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    lock(&file, libc::LOCK_EX)?;
    let mut text = Vec::new();
    file.read_to_end(&mut text)?;
    let existing = serde_json::from_slice::<Marker>(&text)
        .ok()
        .filter(|marker| marker.interaction == interaction);
    let Some(next) = decide(existing) else {
        return Ok(());
    };
    let bytes = match next {
        Some(marker) => serde_json::to_vec(&marker).map_err(std::io::Error::other)?,
        None => Vec::new(),
    };
    // Written over in place, then cut to length: truncating to zero first makes ext4 start
    // writing the file back when it is closed (`auto_da_alloc`, for programs that rewrite a
    // file without fsync), and the next call's truncate then waits for that write, about half
    // a millisecond per marker. The lock keeps readers from seeing the file half written.
    let written = file
        .rewind()
        .and_then(|()| file.write_all(&bytes))
        .and_then(|()| file.set_len(bytes.len() as u64));
    if written.is_err() && file.set_len(0).is_err() {
        let _ = std::fs::remove_file(&path);
    }
    written
}

/// Removes the markers not written for `idle`.
pub fn prune(db: &Path, idle: std::time::Duration) {
    let Ok(listing) = std::fs::read_dir(crate::spool::sibling(db, "sessions")) else {
        return;
    };
    for entry in listing.flatten() {
        let stale = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age >= idle);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn lock(file: &std::fs::File, operation: libc::c_int) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor `file` owns; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(received_ms: i64) -> Head {
        Head {
            head: 2,
            interaction: Some("claude:s".to_owned()),
            closes_open: true,
            received_ms,
            ..Head::default()
        }
    }

    #[test]
    fn a_marker_is_only_replaced_by_a_newer_event_and_cleared_by_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("prodcode.db");
        assert_eq!(read(&db, "claude:s"), None);
        write(&db, "claude:s", &head(10), false);
        let pending = read(&db, "claude:s").unwrap();
        assert!(!pending.confirmed);
        write(&db, "claude:s", &head(10), true);
        assert!(read(&db, "claude:s").unwrap().confirmed);
        // An older event's head, written late, does not replace it.
        write(&db, "claude:s", &head(5), true);
        assert_eq!(read(&db, "claude:s").unwrap().head.received_ms, 10);
        // Another event's loss does not clear it; its own does.
        clear(&db, "claude:s", 5);
        assert!(read(&db, "claude:s").is_some());
        clear(&db, "claude:s", 10);
        assert_eq!(read(&db, "claude:s"), None);
        // Sessions do not share markers.
        write(&db, "claude:s", &head(20), true);
        assert_eq!(read(&db, "claude:other"), None);
        // A damaged file is no marker.
        std::fs::write(path(&db, "claude:s"), "{\"interaction\":").unwrap();
        assert_eq!(read(&db, "claude:s"), None);
        write(&db, "claude:s", &head(30), true);
        assert_eq!(read(&db, "claude:s").unwrap().head.received_ms, 30);
        // Pruning keeps what was written lately.
        prune(&db, std::time::Duration::from_secs(3600));
        assert!(read(&db, "claude:s").is_some());
        prune(&db, std::time::Duration::ZERO);
        assert_eq!(read(&db, "claude:s"), None);
    }
}
