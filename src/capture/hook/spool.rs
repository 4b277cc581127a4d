//! Where a hook keeps what it could not record, and where it says why.
//!
//! The spool is [`crate::spool`]'s `spool`: `<db file>.spool/` beside the database, else (a full
//! or read-only filesystem) the runtime directory, else the temporary directory; one file per
//! payload, read back from every place in receipt order. Since format version 2 a file holds two
//! JSON lines: a [`Head`] (what the next hook call must know of an entry not recorded yet: the
//! brackets it opens and closes), then the [`Entry`] (the agent, the receipt time, the redacted
//! payload and its observation). Version 1 files hold the entry alone. No two processes ever write the
//! same file, so no locks are needed, and a hook killed by its agent's timeout leaves at most a
//! temporary file behind. The store's `hook_spool_ingested` table makes ingestion exactly-once
//! even when two hooks find the same entry.
//!
//! The log (`<db file>.hook.log`, mode 0600, else `hook.log` in the first fallback directory that
//! takes it) gets one line per failure; it is rotated to `.old` past 1 MiB. A hook writes to
//! stderr or stdout only when nothing at all could be written (see `super::handle`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::observe::Observation;
use crate::spool::{fallback_dirs, private_dir, private_file, shared_root_is_safe, sibling};

/// The spool format's version, written in every entry.
const VERSION: u32 = 2;
/// Spool files whose heads a hook call reads, newest first.
const MAX_HEADS: usize = 256;
/// A head line longer than this is not read (heads are a few hundred bytes).
const MAX_HEAD_BYTES: u64 = 64 * 1024;

/// The first line of an entry's file: what recording the entry will do to its session's
/// brackets, so that a hook call that comes before it is recorded sees the brackets as they
/// will be (see `super::left_open`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Head {
    /// Always [`VERSION`]: tells a head line from a version 1 entry.
    pub head: u32,
    pub interaction: Option<String>,
    /// Recording the entry closes every bracket its session has open.
    pub closes_open: bool,
    /// The brackets recording it opens.
    pub opens: Vec<OpenKey>,
    /// When the hook call received it (0 in entries written before this field).
    #[serde(default)]
    pub received_ms: i64,
    /// The files it saw, as their text was (see [`fingerprint`]); absent and unreadable files
    /// are left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<Seen>,
}

/// Files carried in a head's `seen` beyond the entry's own, at most (in bytes of path and
/// fingerprint): heads are read whole, and one over [`MAX_HEAD_BYTES`] is not read at all.
const MAX_CARRIED_SEEN_BYTES: usize = 16 * 1024;

impl Head {
    /// Adds to `seen` the files `earlier` (the session's, as last seen) names that this entry
    /// did not see itself, up to [`MAX_CARRIED_SEEN_BYTES`]: so that a prompt or a stop does
    /// not make the session forget them.
    pub fn carry_seen(&mut self, earlier: &std::collections::BTreeMap<String, String>) {
        let mut budget = MAX_CARRIED_SEEN_BYTES;
        for (path, text) in earlier {
            if self.seen.iter().any(|seen| &seen.path == path) {
                continue;
            }
            let Some(left) = budget.checked_sub(path.len() + text.len()) else {
                break;
            };
            budget = left;
            self.seen.push(Seen {
                path: path.clone(),
                text: text.clone(),
            });
        }
    }
}

/// A file an entry saw and a fingerprint of its text.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Seen {
    pub path: String,
    pub text: String,
}

/// Length and CRC-32 of `text`: tells whether a file changed since an event saw it, to decide
/// whether git's index entry must be read (a collision only means it is not read).
pub fn fingerprint(text: &str) -> String {
    format!("{}-{:08x}", text.len(), crc32fast::hash(text.as_bytes()))
}

/// A bracket an entry opens once recorded.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenKey {
    /// `file` or `shell`, as in `hook_brackets.kind`.
    pub kind: String,
    pub path: String,
    pub tool: String,
    pub tool_use_id: Option<String>,
}

impl Head {
    /// The head of `entry`: the brackets `record` opens for it (a pre event's files, or its
    /// shell's work tree) and whether it closes the open ones (what `super::left_open` and
    /// `record` close).
    pub fn of(entry: &Entry) -> Head {
        use super::event::Action;
        let mut head = Head {
            head: VERSION,
            ..Head::default()
        };
        let Some(observation) = &entry.observation else {
            return head;
        };
        let event = &observation.event;
        head.interaction = event.interaction();
        head.received_ms = entry.received_ms;
        head.seen = observation
            .files
            .iter()
            .filter_map(|file| {
                Some(Seen {
                    path: file.path.clone(),
                    text: fingerprint(file.content.text()?),
                })
            })
            .collect();
        head.closes_open = matches!(
            event.action,
            Action::PreTool(_)
                | Action::PostTool(_)
                | Action::Prompt { .. }
                | Action::Stop
                | Action::SessionEnd
        );
        if let Action::PreTool(call) = &event.action {
            let key = |kind: &str, path: &str| OpenKey {
                kind: kind.to_owned(),
                path: path.to_owned(),
                tool: call.tool.clone(),
                tool_use_id: call.tool_use_id.clone(),
            };
            match &call.target {
                super::event::Target::Files(_) => {
                    head.opens = observation
                        .files
                        .iter()
                        .map(|file| key("file", &file.path))
                        .collect();
                }
                super::event::Target::Shell { .. } => {
                    head.opens = observation
                        .scan
                        .iter()
                        .map(|scan| key("shell", &scan.manifest.root))
                        .collect();
                }
                super::event::Target::None => {}
            }
        }
        head
    }
}
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
    /// Texts written raw after the entry's line rather than inside it, in this order (see
    /// [`Spool::push_deferred`]); empty when every text is inside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
}

/// A text of an entry written raw after its JSON line: escaping megabytes of source as JSON
/// strings was the largest part of a hook call on a big file.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Section {
    /// `payload`, a file's `content` or `before`, or `leftOpenContent`: the file of a bracket
    /// left open.
    pub part: String,
    /// The file's index in the observation's `files` (in its `left_open` for
    /// `leftOpenContent`).
    #[serde(default)]
    pub file: usize,
    /// Bytes.
    pub len: usize,
}

/// Texts shorter than this stay inside the JSON line.
const SECTION_MIN_BYTES: usize = 4096;

impl Entry {
    /// Moves the large texts out, leaving them empty, and lists them in `sections`.
    fn take_texts(&mut self) -> Vec<String> {
        use super::observe::{Content, FileSeen};
        let mut texts = Vec::new();
        let mut sections = Vec::new();
        let mut take = |part: &str, file: usize, text: &mut String| {
            if text.len() >= SECTION_MIN_BYTES {
                sections.push(Section {
                    part: part.to_owned(),
                    file,
                    len: text.len(),
                });
                texts.push(std::mem::take(text));
            }
        };
        take("payload", 0, &mut self.payload);
        if let Some(observation) = &mut self.observation {
            for (index, seen) in observation.files.iter_mut().enumerate() {
                if let Content::Text(text) = &mut seen.content {
                    take("content", index, text);
                }
                if let Some(before) = &mut seen.before {
                    take("before", index, before);
                }
            }
            // A bracket left open (Codex's `apply_patch` through the shell never has a post
            // event) carries its file as it is now: as big as any other.
            for (index, left) in observation.left_open.iter_mut().enumerate() {
                if let Some(FileSeen {
                    content: Content::Text(text),
                    ..
                }) = &mut left.file
                {
                    take("leftOpenContent", index, text);
                }
            }
        }
        self.sections = sections;
        texts
    }

    /// Puts back what [`Entry::take_texts`] moved out, or what `raw` (the bytes after the
    /// line) holds for `sections`.
    fn put_texts(&mut self, texts: Vec<String>) -> Result<(), String> {
        use super::observe::Content;
        let sections = std::mem::take(&mut self.sections);
        if texts.len() != sections.len() {
            return Err("the entry's raw texts do not match its sections".to_owned());
        }
        for (section, text) in sections.iter().zip(texts) {
            if section.part == "leftOpenContent" {
                let left = self
                    .observation
                    .as_mut()
                    .and_then(|observation| observation.left_open.get_mut(section.file))
                    .and_then(|left| left.file.as_mut())
                    .ok_or_else(|| format!("no bracket left open {}", section.file))?;
                left.content = Content::Text(text);
                continue;
            }
            let seen = self
                .observation
                .as_mut()
                .and_then(|observation| observation.files.get_mut(section.file));
            match (section.part.as_str(), seen) {
                ("payload", _) => self.payload = text,
                ("content", Some(seen)) => seen.content = Content::Text(text),
                ("before", Some(seen)) => seen.before = Some(text),
                (part, _) => {
                    return Err(format!("unknown section {part} of file {}", section.file));
                }
            }
        }
        Ok(())
    }

    /// The entry whose JSON line is `line` and raw texts follow in `raw`.
    fn read(line: &[u8], raw: &[u8]) -> Result<Entry, String> {
        let mut entry: Entry = serde_json::from_slice(line).map_err(|error| error.to_string())?;
        let mut texts = Vec::with_capacity(entry.sections.len());
        let mut at = 0;
        for section in &entry.sections {
            let bytes = raw
                .get(at..at + section.len)
                .ok_or_else(|| "the entry's raw texts are cut short".to_owned())?;
            texts.push(String::from_utf8(bytes.to_vec()).map_err(|error| error.to_string())?);
            at += section.len;
        }
        entry.put_texts(texts)?;
        Ok(entry)
    }
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
            sections: Vec::new(),
        }
    }
}

pub struct Spool {
    places: crate::spool::Spool,
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
    pub fn for_db(db: &Path) -> Spool {
        Spool {
            places: crate::spool::Spool::for_db(db, "spool"),
        }
    }

    /// Adds an entry; returns where it went, or why no place took it. Should the observation
    /// not serialize (a bug), the payload is still kept, without it.
    pub fn push(&self, entry: &Entry) -> Result<PathBuf, String> {
        self.push_entry(entry, true)
    }

    fn push_entry(&self, entry: &Entry, sync: bool) -> Result<PathBuf, String> {
        self.push_bytes(entry, &Head::of(entry), &[], sync)
    }

    /// Writes the head line, the entry's line, then `tail` (its sections' raw texts).
    fn push_bytes(
        &self,
        entry: &Entry,
        head: &Head,
        tail: &[&[u8]],
        sync: bool,
    ) -> Result<PathBuf, String> {
        let mut bytes = serde_json::to_vec(head).map_err(|error| error.to_string())?;
        bytes.push(b'\n');
        let line = match serde_json::to_vec(entry) {
            Ok(line) => line,
            Err(_) if entry.observation.is_some() => {
                let bare = Entry {
                    observation: None,
                    ..entry.clone()
                };
                serde_json::to_vec(&bare).map_err(|error| error.to_string())?
            }
            Err(error) => return Err(error.to_string()),
        };
        bytes.extend_from_slice(&line);
        bytes.push(b'\n');
        let mut parts: Vec<&[u8]> = vec![&bytes];
        parts.extend_from_slice(tail);
        self.places.push_parts(&parts, sync)
    }

    /// [`Spool::push`] without waiting for the disk, with `entry`'s [`Head::of`]: for the
    /// hook's normal path, where the drainer records the entry moments later (see
    /// [`crate::spool::Spool::push_with`] for what survives what).
    /// The large texts (the payload, the files' texts) are written raw after the entry's line
    /// instead of as JSON strings inside it; `entry` is unchanged afterwards.
    ///
    /// `payload`, when given, is the entry's payload, written from where it is instead of
    /// `entry.payload` (which is then empty, and stays so): a hook's payload is, unless a
    /// secret was redacted, the text it received, and copying a megabyte into the entry cost
    /// a page fault per 4 KB.
    pub fn push_deferred(
        &self,
        entry: &mut Entry,
        head: &Head,
        payload: Option<&str>,
    ) -> Result<PathBuf, String> {
        let apart = payload.filter(|payload| payload.len() >= SECTION_MIN_BYTES);
        if let Some(payload) = payload.filter(|_| apart.is_none()) {
            entry.payload = payload.to_owned();
        }
        let texts = entry.take_texts();
        let mut tail: Vec<&[u8]> = Vec::with_capacity(texts.len() + 1);
        if let Some(payload) = apart {
            entry.sections.insert(
                0,
                Section {
                    part: "payload".to_owned(),
                    file: 0,
                    len: payload.len(),
                },
            );
            tail.push(payload.as_bytes());
        }
        tail.extend(texts.iter().map(String::as_bytes));
        let result = self.push_bytes(entry, head, &tail, false);
        if apart.is_some() {
            entry.sections.remove(0);
        }
        if payload.is_some() {
            entry.payload.clear();
        }
        entry.put_texts(texts)?;
        result
    }

    /// How many entries wait, without reading them.
    pub fn waiting(&self, now_ms: i64) -> usize {
        self.places.items(now_ms).len()
    }

    /// The entries waiting, oldest first. Cheap when there are none (one failed `readdir` per
    /// place).
    pub fn pending(&self, now_ms: i64) -> Vec<Pending> {
        self.places
            .items(now_ms)
            .into_iter()
            .map(|item| {
                let entry = std::fs::read(&item.path)
                    .map_err(|error| error.to_string())
                    .and_then(|bytes| {
                        let (line, raw) = entry_line(&bytes);
                        Entry::read(line, raw)
                    });
                Pending {
                    name: item.name,
                    path: item.path,
                    entry,
                }
            })
            .collect()
    }

    /// The heads of the entries of `interaction` still waiting that decide its open brackets:
    /// from its newest entry that closes them on, oldest first. Read newest first, at most
    /// [`MAX_HEADS`] files (a spool that long belongs to a database that has been refusing
    /// writes for a while; older entries are then not looked at). Version 1 entries and
    /// unreadable heads are left out (written by an older prodcode, or damaged).
    pub fn heads(&self, now_ms: i64, interaction: &str) -> Vec<Head> {
        use std::io::BufRead;
        let mut heads = Vec::new();
        for item in self.places.items(now_ms).into_iter().rev().take(MAX_HEADS) {
            let Ok(file) = std::fs::File::open(&item.path) else {
                continue;
            };
            let mut line = Vec::new();
            let read = std::io::BufReader::new(std::io::Read::take(file, MAX_HEAD_BYTES))
                .read_until(b'\n', &mut line);
            let Some(head) = read
                .ok()
                .and_then(|_| serde_json::from_slice::<Head>(&line).ok())
                .filter(|head| head.head >= 2 && head.interaction.as_deref() == Some(interaction))
            else {
                continue;
            };
            let closes = head.closes_open;
            heads.push(head);
            if closes {
                break;
            }
        }
        heads.reverse();
        heads
    }

    pub fn remove(&self, pending: &Pending) {
        let _ = std::fs::remove_file(&pending.path);
    }
}

/// The entry's line in a spooled file and the raw texts after it: the second line of a version
/// 2 file, the whole of a version 1 file.
fn entry_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    let is_head =
        |line: &[u8]| serde_json::from_slice::<Head>(line).is_ok_and(|head| head.head >= 2);
    match memchr::memchr(b'\n', bytes) {
        Some(end) if end + 1 < bytes.len() && is_head(&bytes[..end]) => {
            let rest = &bytes[end + 1..];
            match memchr::memchr(b'\n', rest) {
                Some(line_end) => (&rest[..line_end], &rest[line_end + 1..]),
                None => (rest, &[]),
            }
        }
        _ => (bytes, &[]),
    }
}

/// The hook log of the database at `db`, beside it.
pub fn log_path(db: &Path) -> PathBuf {
    sibling(db, "hook.log")
}

/// Appends one line to the hook log, beside the database or else in a fallback directory;
/// returns whether any place took it.
pub fn log(db: Option<&Path>, agent: &str, message: &str) -> bool {
    let Some(db) = db else { return false };
    let now = crate::clock::format_rfc3339(crate::clock::now_ms());
    let message = message.replace('\n', " ");
    let line = format!("{now} pid={} hook {agent}: {message}\n", std::process::id());
    std::iter::once(log_path(db))
        .chain(
            fallback_dirs(db)
                .into_iter()
                .map(|dir| dir.join("hook.log")),
        )
        .any(|path| {
            path.parent()
                .is_some_and(|dir| shared_root_is_safe(dir, true))
                && append_log(&path, line.as_bytes()).is_ok()
        })
}

fn append_log(path: &Path, line: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        private_dir(parent)?;
    }
    if std::fs::metadata(path).is_ok_and(|metadata| metadata.len() > LOG_LIMIT) {
        let _ = std::fs::rename(path, path.with_extension("log.old"));
    }
    let mut file = private_file(path, true)?;
    file.write_all(line)?;
    // A full disk can take the open but not the bytes: only a flushed line counts.
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::capture::hook::event::{Action, FileEdit, HookEvent, Target, ToolCall};
    use crate::capture::hook::observe::{Content, FileSeen, LeftOpen, RepoSeen};
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

    /// Files carried from earlier heads never push a head line past what readers read.
    #[test]
    fn carried_files_stay_within_a_readable_head() {
        let earlier: std::collections::BTreeMap<String, String> = (0..10_000)
            .map(|n| (format!("/r/{n:05}/{}", "d".repeat(100)), fingerprint("x")))
            .collect();
        let mut head = Head {
            seen: vec![Seen {
                path: "/r/own.rs".to_owned(),
                text: fingerprint("own"),
            }],
            ..Head::default()
        };
        head.carry_seen(&earlier);
        assert!(head.seen.len() > 100 && head.seen.len() < 10_000);
        assert_eq!(head.seen[0].path, "/r/own.rs");
        let line = serde_json::to_vec(&head).unwrap();
        assert!((line.len() as u64) < MAX_HEAD_BYTES, "{} bytes", line.len());
    }

    /// Large texts written raw after the entry's line come back where they were, next to small
    /// ones kept inside it, and the entry pushed is unchanged.
    #[test]
    fn raw_sections_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::for_db(&dir.path().join("prodcode.db"));
        let big =
            |c: char| -> String { std::iter::repeat_n(c, 10_000).collect::<String>() + "\n\"é\"" };
        let file = |content: Content, before: Option<String>| FileSeen {
            path: "/r/a.rs".to_owned(),
            repo_root: None,
            rel_path: None,
            matches_git: false,
            content,
            before,
        };
        let observation = Observation {
            received_ms: 1,
            event: event(Action::Stop),
            redactions: Vec::new(),
            repo: None,
            files: vec![
                file(Content::Text(big('a')), Some(big('b'))),
                file(Content::Text("small".to_owned()), None),
                file(Content::Absent, Some(big('c'))),
            ],
            scan: None,
            left_open: vec![
                LeftOpen {
                    bracket_id: 0,
                    tool: "Bash".to_owned(),
                    tool_use_id: None,
                    file: None,
                    scan: None,
                },
                LeftOpen {
                    bracket_id: 7,
                    tool: "apply_patch".to_owned(),
                    tool_use_id: Some("call_1".to_owned()),
                    file: Some(file(Content::Text(big('e')), None)),
                    scan: None,
                },
            ],
        };
        let mut entry = Entry::new(
            "claude",
            1,
            format!("{{\"p\":\"{}\"}}", big('d')),
            Some(observation),
        );
        let pushed = entry.clone();
        let head = Head::of(&entry);
        let path = spool.push_deferred(&mut entry, &head, None).unwrap();
        assert_eq!(entry, pushed);
        let written = std::fs::read(&path).unwrap();
        assert!(
            written.len() < 5 * 10_100 + 2_000,
            "{} bytes",
            written.len()
        );
        for c in ['a', 'b', 'c', 'd', 'e'] {
            let raw = big(c);
            assert!(
                written
                    .windows(raw.len())
                    .any(|window| window == raw.as_bytes()),
                "the text of {c}s is written raw, not escaped"
            );
        }
        let read: Vec<Entry> = spool
            .pending(0)
            .into_iter()
            .map(|pending| pending.entry.unwrap())
            .collect();
        assert_eq!(read, std::slice::from_ref(&pushed));
        std::fs::remove_file(&path).unwrap();

        // The payload given apart, as a hook passes the text it received: a large one written
        // raw as the first section, a small one inside the line; read back the same either way,
        // and the entry pushed keeps its empty payload.
        for payload in [pushed.payload.clone(), "{\"small\":true}".to_owned()] {
            let mut apart = Entry {
                payload: String::new(),
                ..pushed.clone()
            };
            let path = spool
                .push_deferred(&mut apart, &head, Some(&payload))
                .unwrap();
            assert_eq!(apart.payload, "");
            assert_eq!(
                apart,
                Entry {
                    payload: String::new(),
                    ..pushed.clone()
                }
            );
            let read: Vec<Entry> = spool
                .pending(0)
                .into_iter()
                .map(|pending| pending.entry.unwrap())
                .collect();
            assert_eq!(
                read,
                [Entry {
                    payload,
                    ..pushed.clone()
                }]
            );
            std::fs::remove_file(&path).unwrap();
        }
    }

    /// Every shape an observation can take survives the spool unchanged, in receipt order.
    #[test]
    fn entries_round_trip_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::for_db(&dir.path().join("prodcode.db"));
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
