//! Where a hook keeps what it could not record, and where it says why.
//!
//! The spool is a directory next to the database (`<db file>.spool/`, mode 0700) with one file
//! per payload (`<ns since the epoch>-<pid>-<n>.json`, mode 0600, one JSON line: the agent, the
//! receipt time, the redacted payload and its observation). Each entry is written under a
//! temporary name and renamed into place, so a reader never sees half an entry, and no two
//! processes ever write the same file: no locks are needed, and a hook killed by its agent's
//! timeout leaves at most a temporary file behind. Entries are read in name order, which is
//! receipt order. The store's `hook_spool_ingested` table makes ingestion exactly-once even when
//! two hooks find the same entry.
//!
//! The log (`<db file>.hook.log`, mode 0600) gets one line per failure; a hook never writes to
//! stderr or stdout, which belong to the agent. It is rotated to `.old` past 1 MiB.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use super::observe::Observation;

/// The spool format's version, written in every entry.
const VERSION: u32 = 1;
/// Temporary files older than this were left by a killed hook.
const STALE_TEMPORARY_MS: i64 = 60 * 60 * 1000;
const LOG_LIMIT: u64 = 1024 * 1024;

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub v: u32,
    pub agent: String,
    pub received_ms: i64,
    /// The payload as received, after redaction (what the event log stores).
    pub payload: String,
    /// What the hook observed; `None` when it failed before observing (then only the event is
    /// recorded).
    pub observation: Option<Observation>,
}

impl Entry {
    pub fn new(
        agent: &str,
        received_ms: i64,
        payload: String,
        observation: Option<Observation>,
    ) -> Entry {
        Entry {
            v: VERSION,
            agent: agent.to_owned(),
            received_ms,
            payload,
            observation,
        }
    }
}

pub struct Spool {
    dir: PathBuf,
}

/// One entry found in the spool: its file name (the key of `hook_spool_ingested`) and contents
/// (`None` when the file does not parse).
pub struct Pending {
    pub name: String,
    pub path: PathBuf,
    pub entry: Result<Entry, String>,
}

impl Spool {
    /// The spool of the database at `db`.
    pub fn beside(db: &Path) -> Spool {
        Spool {
            dir: sibling(db, "spool"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds an entry; returns its file name. Should the observation not serialize (a bug), the
    /// payload is still kept, without it.
    pub fn push(&self, entry: &Entry) -> std::io::Result<String> {
        match self.push_exactly(entry) {
            Err(error)
                if error.kind() == std::io::ErrorKind::InvalidData
                    && entry.observation.is_some() =>
            {
                let bare = Entry {
                    observation: None,
                    ..entry.clone()
                };
                self.push_exactly(&bare)
            }
            result => result,
        }
    }

    fn push_exactly(&self, entry: &Entry) -> std::io::Result<String> {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir)?;
        // Nanoseconds: one session's calls are sequential, so this is their order even when
        // two arrive within a millisecond.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let name = format!(
            "{nanos:020}-{}-{}.json",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let temporary = self.dir.join(format!(".tmp-{name}"));
        let mut line = serde_json::to_vec(entry)
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
        line.push(b'\n');
        let mut file = private_file(&temporary, false)?;
        file.write_all(&line)?;
        file.sync_all()?;
        std::fs::rename(&temporary, self.dir.join(&name))?;
        Ok(name)
    }

    /// The entries waiting, oldest first. Cheap when there are none (one failed `readdir`).
    pub fn pending(&self, now_ms: i64) -> Vec<Pending> {
        let Ok(listing) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<(String, PathBuf)> = Vec::new();
        for item in listing.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                let old = item
                    .metadata()
                    .ok()
                    .and_then(|metadata| metadata.modified().ok())
                    .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                    .is_some_and(|since| (since.as_millis() as i64) < now_ms - STALE_TEMPORARY_MS);
                if old {
                    let _ = std::fs::remove_file(item.path());
                }
                continue;
            }
            if name.ends_with(".json") {
                names.push((name, item.path()));
            }
        }
        names.sort();
        names
            .into_iter()
            .map(|(name, path)| {
                let entry = std::fs::read(&path)
                    .map_err(|error| error.to_string())
                    .and_then(|bytes| {
                        serde_json::from_slice(&bytes).map_err(|error| error.to_string())
                    });
                Pending { name, path, entry }
            })
            .collect()
    }

    pub fn remove(&self, pending: &Pending) {
        let _ = std::fs::remove_file(&pending.path);
    }
}

/// `<db file name>.<suffix>` beside the database.
fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let name = db
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "prodcode.db".to_owned());
    db.with_file_name(format!("{name}.{suffix}"))
}

fn private_file(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
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

/// The hook log of the database at `db`.
pub fn log_path(db: &Path) -> PathBuf {
    sibling(db, "hook.log")
}

/// Appends one line to the hook log; failures to log are ignored (there is nowhere else to say
/// them).
pub fn log(db: Option<&Path>, agent: &str, message: &str) {
    let Some(db) = db else { return };
    let path = log_path(db);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if std::fs::metadata(&path).is_ok_and(|metadata| metadata.len() > LOG_LIMIT) {
        let _ = std::fs::rename(&path, path.with_extension("log.old"));
    }
    let Ok(mut file) = private_file(&path, true) else {
        return;
    };
    let now = crate::clock::format_rfc3339(crate::clock::now_ms());
    let message = message.replace('\n', " ");
    let _ = writeln!(
        file,
        "{now} pid={} hook {agent}: {message}",
        std::process::id()
    );
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::capture::hook::event::{Action, FileEdit, HookEvent, Target, ToolCall};
    use crate::capture::hook::observe::{Content, FileSeen, RepoSeen};
    use crate::capture::hook::worktree::{Entry as FileEntry, Manifest, Scan};

    fn event(action: Action) -> HookEvent {
        HookEvent {
            agent: "claude".to_owned(),
            name: "PreToolUse".to_owned(),
            agent_name: None,
            session_id: Some("s".to_owned()),
            interaction_id: None,
            model: Some("m".to_owned()),
            agent_version: None,
            transcript_path: None,
            cwd: Some(PathBuf::from("/r")),
            action,
        }
    }

    /// Every shape an observation can take survives the spool unchanged, in receipt order.
    #[test]
    fn entries_round_trip_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::beside(&dir.path().join("prodcode.db"));
        let files = Target::Files(vec![FileEdit {
            path: PathBuf::from("/r/a.rs"),
            original: Some("x\n".to_owned()),
            created: false,
            replacements: Some(vec![("a".to_owned(), "b".to_owned())]),
        }]);
        let shell = Target::Shell {
            command: Some("make".to_owned()),
            cwd: None,
        };
        let mut manifest = Manifest::default();
        manifest
            .files
            .insert("a.rs".to_owned(), FileEntry::default());
        let actions = [
            Action::Prompt {
                text: "hi".to_owned(),
            },
            Action::PreTool(ToolCall {
                tool: "Edit".to_owned(),
                tool_use_id: Some("t".to_owned()),
                target: files,
            }),
            Action::PostTool(ToolCall {
                tool: "Bash".to_owned(),
                tool_use_id: None,
                target: shell,
            }),
            Action::PostTool(ToolCall {
                tool: "Read".to_owned(),
                tool_use_id: None,
                target: Target::None,
            }),
            Action::Stop,
            Action::SessionEnd,
            Action::SessionStart,
            Action::GitCommit,
            Action::Other,
            Action::Unparsed,
        ];
        let mut pushed = Vec::new();
        for (n, action) in actions.into_iter().enumerate() {
            let observation = Observation {
                received_ms: n as i64,
                event: event(action),
                redactions: vec![("jwt".to_owned(), 2)],
                repo: Some(RepoSeen {
                    root: "/r".to_owned(),
                    head: None,
                    branch: Some("main".to_owned()),
                }),
                files: vec![FileSeen {
                    path: "/r/a.rs".to_owned(),
                    repo_root: Some("/r".to_owned()),
                    rel_path: Some("a.rs".to_owned()),
                    matches_git: false,
                    content: if n % 2 == 0 {
                        Content::Text("t\n".to_owned())
                    } else {
                        Content::Absent
                    },
                    before: None,
                }],
                scan: Some(Scan {
                    manifest: manifest.clone(),
                    texts: Default::default(),
                }),
                left_open: Vec::new(),
            };
            let entry = Entry::new(
                "claude",
                n as i64,
                format!("{{\"n\":{n}}}"),
                Some(observation),
            );
            spool.push(&entry).unwrap();
            pushed.push(entry);
        }
        let read: Vec<Entry> = spool
            .pending(0)
            .into_iter()
            .map(|pending| pending.entry.unwrap())
            .collect();
        assert_eq!(read, pushed);
    }
}
