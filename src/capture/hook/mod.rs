//! `prodcode hook <agent>`: record one agent hook payload, without ever hurting the agent.
//!
//! One call: parse the payload ([`agents`]) into a [`HookEvent`]; stop at once if the
//! repository opted out ([`crate::capture::privacy::opted_out`]); redact secrets; read what the
//! event needs from the world ([`observe`]); then, in one store transaction, record what earlier
//! calls had to spool ([`spool`]) followed by this call ([`record`]). When the database cannot
//! be written (locked past a short busy timeout, corrupt, unwritable) the observation goes to
//! the spool instead, and the next call that can write records it first, in order.
//!
//! When even the spool cannot be written (the database's filesystem and every fallback place
//! full or read-only), the payload is lost; then, and only then, the person is told, through
//! the channel their agent shows them (see [`Reply`]).
//!
//! Invariant: [`handle`] never panics, never blocks for long, and never answers anything the
//! agent could read as a decision or as context for the model: the agent always sees a harmless
//! reply and a zero exit. Failures go to the hook log next to the database (or in a fallback
//! place).

mod agents;
pub mod drain;
pub mod event;
mod marker;
pub mod observe;
mod record;
pub mod spool;
mod transcript;
pub mod worktree;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::capture::privacy;
use crate::model::ContentHash;
use crate::store::hooks as store_hooks;
use crate::store::{Store, StoreError};
use event::{Action, HookEvent, Target};
use observe::Observation;
use spool::{Entry, Head, Spool};
use worktree::Manifest;

/// How long a hook waits for another process's write before spooling instead.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(300);

/// Payloads larger than this are cut (an agent's hook payload is a few KB; a `Write` of a big
/// file is the largest).
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

pub struct Config {
    /// The database; `None` when no path could be found (nothing is recorded or spooled).
    pub db_path: Option<PathBuf>,
    pub busy_timeout: Duration,
}

/// One hook call as the command line received it.
pub struct Call<'a> {
    /// The agent named on the command line: `claude`, `codex`, `cursor`, `copilot`, `gemini`,
    /// `prodcode` (the generic format), `git`, or any other name (read as the generic format).
    pub agent: &'a str,
    /// The event name when the command line gives it (`--event`), for payloads that do not say.
    pub event: Option<&'a str>,
    /// stdin, as read.
    pub input: &'a [u8],
    /// The hook process's working directory (agents run hooks in the project).
    pub cwd: Option<PathBuf>,
    pub received_ms: i64,
}

pub use crate::clock::now_ms;

/// The name of the small binary installed beside `prodcode` for agent hooks (`src/bin`): it
/// runs [`handle`] and nothing else, so it starts in about half the time.
pub const HOOK_PROGRAM: &str = "prodcode-hook";

/// Set by `prodcode-hook`'s `main`: this process is the hook program, whatever its file is
/// called, and must never start itself in `prodcode`'s place (its command line differs).
static IS_HOOK_PROGRAM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Marks this process as [`HOOK_PROGRAM`] (see [`prodcode_program`]).
pub fn mark_hook_program() {
    IS_HOOK_PROGRAM.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The `prodcode` binary, for starting the drainer or `link` in the background: this process's
/// own binary, or the `prodcode` beside it when this is [`HOOK_PROGRAM`].
pub fn prodcode_program() -> std::io::Result<PathBuf> {
    let own = std::env::current_exe()?;
    if !IS_HOOK_PROGRAM.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(own);
    }
    let sibling = own.with_file_name(format!("prodcode{}", std::env::consts::EXE_SUFFIX));
    if sibling.is_file() && sibling != own {
        return Ok(sibling);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("{} has no prodcode beside it", own.display()),
    ))
}

/// What the agent must find on stdout: nothing for agents that read an empty answer as
/// "carry on" (Claude Code, Codex, Copilot CLI, git), an empty JSON object for those that parse
/// stdout as JSON (Cursor, Gemini CLI). Never a decision, never context for the model.
pub fn reply(agent: &str) -> &'static str {
    match agent {
        "cursor" | "gemini" => "{}\n",
        _ => "",
    }
}

/// What the hook prints: [`reply`]`(agent)` on stdout and nothing on stderr, unless the payload
/// was lost, when the person is warned: through `systemMessage` in the JSON on stdout for the
/// agents that show it to the person (Claude Code, Codex, Gemini CLI), on stderr for the others
/// (a hook's stderr is shown in Cursor's hook output, Copilot CLI's log and git's terminal).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reply {
    pub stdout: String,
    pub stderr: String,
}

impl Reply {
    fn quiet(agent: &str) -> Reply {
        Reply {
            stdout: reply(agent).to_owned(),
            stderr: String::new(),
        }
    }

    fn warning(agent: &str, why: &str) -> Reply {
        let message = format!(
            "prodcode: capture is failing, this {agent} event was not recorded: {why}. \
             Free space or make the database's directory, $XDG_RUNTIME_DIR or the temporary \
             directory writable; `prodcode doctor` checks the database."
        );
        match agent {
            "claude" | "codex" | "gemini" => Reply {
                stdout: format!("{}\n", serde_json::json!({ "systemMessage": message })),
                stderr: String::new(),
            },
            _ => Reply {
                stdout: reply(agent).to_owned(),
                stderr: format!("{message}\n"),
            },
        }
    }
}

/// Why a call did not record normally: a message for the log, and whether the payload is lost
/// (neither recorded nor spooled).
struct Failure {
    message: String,
    lost: bool,
    /// The database was busy (another process's write): trying again later may work.
    busy: bool,
}

impl Failure {
    fn kept(message: String) -> Failure {
        Failure {
            message,
            lost: false,
            busy: false,
        }
    }

    /// A failure after which the payload went to the spool, or nowhere.
    fn spooled(message: &str, spooled: Result<PathBuf, String>) -> Failure {
        match spooled {
            Ok(path) => Failure::kept(format!("{message}; payload spooled to {}", path.display())),
            Err(why) => Failure {
                message: format!("{message}; the payload could not be spooled either ({why})"),
                lost: true,
                busy: false,
            },
        }
    }
}

/// Records one hook call; returns what to print (see [`Reply`]).
pub fn handle(config: &Config, call: &Call<'_>) -> Reply {
    let db = config.db_path.as_deref();
    let outcome = catch_unwind(AssertUnwindSafe(|| run(config, call)));
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(failure),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            // A bug: keep the payload (without derived rows) so nothing is lost. Redacted again
            // rather than kept from before the panic: a copy of megabytes on every call for a
            // case that should not happen.
            // Should redaction itself be what panicked, the payload cannot be kept unredacted.
            let payload = catch_unwind(|| redact_payload(&String::from_utf8_lossy(call.input)))
                .unwrap_or_else(|_| {
                    serde_json::json!({ "unparsed": "[REDACTED:redaction failed]" }).to_string()
                });
            let entry = Entry::new(call.agent, call.received_ms, payload, None);
            let spooled = db
                .ok_or_else(|| "no database path".to_owned())
                .and_then(|db| Spool::for_db(db).push(&entry));
            Some(Failure::spooled(
                &format!("internal error ({message})"),
                spooled,
            ))
        }
    };
    let Some(failure) = failure else {
        return Reply::quiet(call.agent);
    };
    let logged = spool::log(db, call.agent, &failure.message);
    if failure.lost {
        let log_note = if logged {
            ""
        } else {
            "; the hook log cannot be written either"
        };
        return Reply::warning(call.agent, &format!("{}{log_note}", failure.message));
    }
    Reply::quiet(call.agent)
}

/// The whole call; `Err` carries a message for the log after the payload was taken care of.
fn run(config: &Config, call: &Call<'_>) -> Result<(), Failure> {
    // `str::from_utf8` checks valid input several times faster than the lossy conversion does
    // (a megabyte-sized payload is the common case on a big file); invalid input is replaced.
    let text = match std::str::from_utf8(call.input) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(call.input),
    };
    let (event, parsed) = parse(call, &text);
    if event.paths().iter().any(|path| {
        privacy::opted_out(if path.is_dir() {
            path
        } else {
            path.parent().unwrap_or(path)
        })
    }) {
        return Ok(());
    }
    // Borrowed from the input when nothing was redacted (see `Spool::push_deferred`).
    let payload: std::borrow::Cow<'_, str> = match event.action {
        Action::GitCommit => String::new().into(),
        // The log holds JSON: input that is not JSON is kept as a string inside some.
        Action::Unparsed => serde_json::json!({ "unparsed": privacy::redact(&text).0 })
            .to_string()
            .into(),
        // The document parsed once for the event and for redaction: a payload's strings (a
        // whole file in a post) are mostly escapes, and parsing them was a third of a call.
        _ => privacy::redact_json_document(&text, parsed).0,
    };
    let (event, redactions) = redact_prompt(event);
    let Some(db) = config.db_path.as_deref() else {
        return Err(Failure {
            message: "no database path (set PRODCODE_DB, XDG_DATA_HOME or HOME); nothing recorded"
                .to_owned(),
            lost: true,
            busy: false,
        });
    };
    let spool = Spool::for_db(db);
    if !drain::in_process() {
        let interaction = event.interaction();
        let waiting = interaction
            .as_deref()
            .map(|interaction| spool.heads(call.received_ms, interaction))
            .unwrap_or_default();
        let session = interaction
            .as_deref()
            .and_then(|interaction| session_without_store(db, interaction, &waiting, call));
        // Moved, not copied: on a big file each of these is megabytes.
        let answered = session
            .as_ref()
            .and_then(|session| Some((session, session.left_open(&event)?)));
        let observation = match answered {
            Some((session, left_open)) => {
                let saved = |path: &str, text: &str| {
                    session.seen.get(path).map(String::as_str)
                        == Some(spool::fingerprint(text).as_str())
                };
                observe::observe(
                    event,
                    redactions,
                    call.received_ms,
                    None,
                    &saved,
                    &left_open,
                )
            }
            None => {
                // What the store already knows (read-only: no write lock, no checkpoint on
                // close); nothing on a first call. Entries still in the spool are not in it
                // yet, which costs at most a re-read (see `drain`).
                let known = Store::open_read_only(db).ok();
                observe_with(known.as_ref(), &waiting, event, redactions, call)
            }
        };
        let payload = git_payload(&observation).map_or(payload, Into::into);
        let mut current = Entry::new(
            call.agent,
            call.received_ms,
            String::new(),
            Some(observation),
        );
        let mut head = Head::of(&current);
        if let Some(session) = &session {
            head.carry_seen(&session.seen);
        }
        let pushed = keep_marked(db, &head, || {
            spool.push_deferred(&mut current, &head, Some(&payload))
        });
        match pushed {
            Ok(_) => {
                drain::start_in_background(db);
                return Ok(());
            }
            // No spool place takes it: record it here and now, the agent waiting.
            Err(why) => {
                current.payload = payload.into_owned();
                let recorded =
                    keep_marked(db, &head, || record_now(config, db, &spool, &current, call));
                let note = format!("the spool could not take the payload ({why})");
                return match recorded {
                    Ok(()) => Err(Failure::kept(format!("{note}; recorded in-process"))),
                    Err(failure) => Err(Failure {
                        message: format!("{note}; {}", failure.message),
                        ..failure
                    }),
                };
            }
        }
    }
    let store = match open(db, config.busy_timeout) {
        Ok(store) => store,
        Err(error) => {
            let observation = observe_with(None, &[], event, redactions, call);
            let payload = git_payload(&observation).unwrap_or_else(|| payload.into_owned());
            let entry = Entry::new(call.agent, call.received_ms, payload, Some(observation));
            let spooled = keep_marked(db, &Head::of(&entry), || spool.push(&entry));
            return Err(Failure::spooled(
                &format!("cannot open the database: {error}"),
                spooled,
            ));
        }
    };
    let observation = observe_with(Some(&store), &[], event, redactions, call);
    let payload = git_payload(&observation).unwrap_or_else(|| payload.into_owned());
    let current = Entry::new(call.agent, call.received_ms, payload, Some(observation));
    keep_marked(db, &Head::of(&current), || {
        record_with(store, &spool, &current, call)
    })
}

/// Runs `keep`, which puts the entry whose head is `head` in the spool or the store, between
/// writing its session's marker as pending and confirming it, or clearing it when nothing kept
/// the entry (see [`marker`]). Events that do not close their session's brackets leave the
/// marker alone.
fn keep_marked<T, E>(db: &Path, head: &Head, keep: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let Some(interaction) = head.interaction.as_deref().filter(|_| head.closes_open) else {
        return keep();
    };
    marker::write(db, interaction, head, false);
    let kept = keep();
    match &kept {
        Ok(_) => marker::write(db, interaction, head, true),
        Err(_) => marker::clear(db, interaction, head.received_ms),
    }
    kept
}

/// What a file-edit call needs of the store, as the session's marker and the spool's heads tell
/// it (see [`marker`]).
struct Session {
    /// The newest event known to have closed the session's brackets, and those received after.
    chain: Vec<Head>,
    /// Fingerprints ([`spool::fingerprint`]) of the files' texts as last seen, by path.
    seen: BTreeMap<String, String>,
}

impl Session {
    /// The brackets `event` closes without a post of its own (see [`left_open`]), when this is
    /// all it needs of the store: a file edit (a shell post compares with its bracket's
    /// manifest, which only the store has), no shell bracket open (the same), and for a pre,
    /// files the session has seen (else their last snapshot is in the store).
    fn left_open(
        &self,
        event: &HookEvent,
    ) -> Option<Vec<(store_hooks::Bracket, Option<Manifest>)>> {
        let (tool_call, pre) = match &event.action {
            Action::PreTool(tool_call) => (tool_call, true),
            Action::PostTool(tool_call) => (tool_call, false),
            _ => return None,
        };
        let Target::Files(edits) = &tool_call.target else {
            return None;
        };
        let unseen = |edit: &event::FileEdit| {
            let path = observe::canonical(&edit.path);
            !self.seen.contains_key(path.to_string_lossy().as_ref())
        };
        if pre && edits.iter().any(unseen) {
            return None;
        }
        let left = left_open(None, &self.chain, event);
        let shell = left
            .iter()
            .any(|(bracket, _)| bracket.kind == store_hooks::BracketKind::Shell);
        (!shell).then_some(left)
    }
}

/// [`Session`] from the newest event that closed the session's brackets, the marker's or a
/// waiting head's, and the heads received after it; `None` when no such event is known
/// (then the store is asked).
fn session_without_store(
    db: &Path,
    interaction: &str,
    waiting: &[Head],
    call: &Call<'_>,
) -> Option<Session> {
    // Heads written before they carried their receipt time cannot be ordered.
    if waiting.iter().any(|head| head.received_ms == 0) {
        return None;
    }
    let marker = marker::read(db, interaction).filter(|marker| {
        marker.confirmed && marker.head.closes_open && marker.head.received_ms < call.received_ms
    });
    let newest_head = waiting.iter().rev().find(|head| head.closes_open);
    let start = match (marker.map(|marker| marker.head), newest_head) {
        (Some(marked), Some(head)) if marked.received_ms > head.received_ms => marked,
        (_, Some(head)) => head.clone(),
        (Some(marked), None) => marked,
        (None, None) => return None,
    };
    let since = start.received_ms;
    let after = waiting
        .iter()
        .filter(|head| head.received_ms > since)
        .cloned();
    let chain: Vec<Head> = std::iter::once(start).chain(after).collect();
    let seen = chain
        .iter()
        .flat_map(|head| &head.seen)
        .map(|file| (file.path.clone(), file.text.clone()))
        .collect();
    Some(Session { chain, seen })
}

/// The brackets `keys` name, as known from the spool or a marker: id 0 and no manifest, found
/// by tool call and path when recorded.
fn spool_brackets<'a>(
    interaction: &'a str,
    keys: &'a [spool::OpenKey],
) -> impl Iterator<Item = store_hooks::Bracket> + 'a {
    keys.iter().map(move |key| store_hooks::Bracket {
        id: 0,
        interaction_id: interaction.to_owned(),
        tool_use_id: key.tool_use_id.clone(),
        tool_name: key.tool.clone(),
        kind: if key.kind == "shell" {
            store_hooks::BracketKind::Shell
        } else {
            store_hooks::BracketKind::File
        },
        path: key.path.clone(),
        manifest: None,
        opened_ms: 0,
        open_event_id: 0,
    })
}

/// The observation of `event`, with what the store knows of it when there is a store: the
/// manifest a shell post event compares with, the files' saved snapshots, the brackets the
/// session left open, as the entries still `waiting` in the spool will leave them.
fn observe_with(
    store: Option<&Store>,
    waiting: &[spool::Head],
    event: HookEvent,
    redactions: Vec<(String, u32)>,
    call: &Call<'_>,
) -> Observation {
    let left_open = left_open(store, waiting, &event);
    let Some(store) = store else {
        return observe::observe(
            event,
            redactions,
            call.received_ms,
            None,
            &|_, _| false,
            &left_open,
        );
    };
    let previous = shell_manifest(store, &event);
    let saved = |path: &str, text: &str| {
        let latest = store
            .snapshot_ids_before(path, i64::MAX, 1)
            .unwrap_or_default();
        latest
            .first()
            .is_some_and(|(_, hash)| *hash == ContentHash::of(text.as_bytes()))
    };
    observe::observe(
        event,
        redactions,
        call.received_ms,
        previous.as_ref(),
        &saved,
        &left_open,
    )
}

/// Records `current` in the calling process, after what waits in the spool (the path when the
/// spool cannot take it).
fn record_now(
    config: &Config,
    db: &Path,
    spool: &Spool,
    current: &Entry,
    call: &Call<'_>,
) -> Result<(), Failure> {
    match open(db, config.busy_timeout) {
        Ok(store) => record_with(store, spool, current, call),
        Err(error) => Err(Failure {
            message: format!("cannot open the database: {error}"),
            lost: true,
            busy: false,
        }),
    }
}

fn record_with(
    mut store: Store,
    spool: &Spool,
    current: &Entry,
    call: &Call<'_>,
) -> Result<(), Failure> {
    let pending = spool.pending(call.received_ms);
    ingest(&mut store, spool, &pending, Some(current), call.received_ms).map(|_| ())
}

/// Records the `pending` spool entries, then `current` when a call records in-process, in one
/// transaction; removes the entries recorded. On failure, each alone (see
/// [`write_one_by_one`]). Returns how many spool entries were recorded.
fn ingest(
    store: &mut Store,
    spool: &Spool,
    pending: &[spool::Pending],
    current: Option<&Entry>,
    now_ms: i64,
) -> Result<usize, Failure> {
    let written = store.write(|writer| {
        for item in pending {
            if writer.spool_entry_ingested(&item.name)? {
                continue;
            }
            let event_id = write_entry(writer, item, true)?;
            writer.mark_spool_entry_ingested(&item.name, Some(event_id), now_ms)?;
        }
        match current {
            Some(current) => record_entry(writer, current, true).map(|_| ()),
            None => Ok(()),
        }
    });
    match written {
        Ok(()) => {
            for item in pending {
                spool.remove(item);
            }
            Ok(pending.len())
        }
        Err(error) => Err(write_one_by_one(
            store, spool, pending, current, now_ms, error,
        )),
    }
}

/// After a failed write of everything at once: each entry alone, with its derived rows, else
/// without them (a bug or odd data must not hold back the rest); the first entry the database
/// refuses outright stops the ingestion, and this call's payload (if any) then goes to the
/// spool. What went wrong, for the log.
fn write_one_by_one(
    store: &mut Store,
    spool: &Spool,
    pending: &[spool::Pending],
    current: Option<&Entry>,
    now_ms: i64,
    batch_error: StoreError,
) -> Failure {
    if is_busy(&batch_error) {
        // Another process holds the database: trying again would only keep the agent waiting.
        let message = format!("database busy ({batch_error})");
        let mut failure = match current {
            Some(current) => Failure::spooled(&message, spool.push(current)),
            None => Failure::kept(message),
        };
        failure.busy = true;
        return failure;
    }
    let mut problems = vec![format!("write failed: {batch_error}")];
    let mut refused = None;
    for item in pending {
        let result = store.write(|writer| {
            if writer.spool_entry_ingested(&item.name)? {
                return Ok(());
            }
            let event_id = write_entry(writer, item, true)?;
            writer.mark_spool_entry_ingested(&item.name, Some(event_id), now_ms)
        });
        let result = result.or_else(|error| {
            problems.push(format!(
                "spool entry {} recorded without derived rows: {error}",
                item.name
            ));
            store.write(|writer| {
                if writer.spool_entry_ingested(&item.name)? {
                    return Ok(());
                }
                let event_id = write_entry(writer, item, false)?;
                writer.mark_spool_entry_ingested(&item.name, Some(event_id), now_ms)
            })
        });
        match result {
            Ok(()) => spool.remove(item),
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    if refused.is_none() {
        let Some(current) = current else {
            return Failure::kept(problems.join("; "));
        };
        let result = store
            .write(|writer| record_entry(writer, current, true).map(|_| ()))
            .or_else(|error| {
                problems.push(format!("recorded without derived rows: {error}"));
                store.write(|writer| record_entry(writer, current, false).map(|_| ()))
            });
        match result {
            Ok(()) => return Failure::kept(problems.join("; ")),
            Err(error) => refused = Some(error),
        }
    }
    problems.push(format!(
        "the database refused the write ({})",
        refused.map(|error| error.to_string()).unwrap_or_default()
    ));
    match current {
        Some(current) => Failure::spooled(&problems.join("; "), spool.push(current)),
        None => Failure::kept(problems.join("; ")),
    }
}

fn is_busy(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Sqlite(error)
            if matches!(
                error.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
    )
}

fn write_entry(
    writer: &mut crate::store::Writer<'_>,
    item: &spool::Pending,
    derived: bool,
) -> Result<i64, StoreError> {
    match &item.entry {
        Ok(entry) => record_entry(writer, entry, derived),
        // An entry that does not parse (written by another version, or damaged) is still kept.
        Err(problem) => {
            let raw = std::fs::read(&item.path).unwrap_or_default();
            let payload = serde_json::json!({
                "spoolEntry": item.name,
                "error": problem,
                "raw": redact_payload(&String::from_utf8_lossy(&raw)),
            });
            writer.append_event(&crate::store::NewEvent {
                ts_ms: 0,
                source: "hook",
                kind: "hook.unreadableSpoolEntry",
                payload: &payload.to_string(),
            })
        }
    }
}

fn record_entry(
    writer: &mut crate::store::Writer<'_>,
    entry: &Entry,
    derived: bool,
) -> Result<i64, StoreError> {
    match &entry.observation {
        Some(observation) => record::record(writer, &entry.payload, observation, derived),
        None => {
            let observation = Observation {
                received_ms: entry.received_ms,
                event: agents::other(&entry.agent, "unobserved", None),
                redactions: Vec::new(),
                repo: None,
                files: Vec::new(),
                scan: None,
                left_open: Vec::new(),
            };
            record::record(writer, &entry.payload, &observation, false)
        }
    }
}

fn open(db: &Path, busy_timeout: Duration) -> Result<Store, StoreError> {
    let mut store = Store::open(db)?;
    store.set_busy_timeout(busy_timeout)?;
    Ok(store)
}

/// The event of the payload `text`, and the payload parsed (`None` when it is not JSON).
fn parse(call: &Call<'_>, text: &str) -> (HookEvent, Option<Value>) {
    let cwd = call.cwd.as_deref();
    if call.agent == "git" {
        let mut event = agents::other("git", "commit", cwd);
        event.action = Action::GitCommit;
        return (event, None);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => (
            agents::parse(call.agent, call.event, &value, cwd),
            Some(value),
        ),
        Err(_) => {
            let mut event = agents::other(call.agent, "unparsed", cwd);
            event.action = Action::Unparsed;
            (event, None)
        }
    }
}

/// The payload with secrets redacted ([`privacy::redact_json_text`]): the text the agent sent
/// unless a secret hid behind a JSON escape, in which case the payload re-serialized.
fn redact_payload(text: &str) -> String {
    privacy::redact_json_text(text).0
}

/// The event with its prompt redacted, and what was redacted.
fn redact_prompt(mut event: HookEvent) -> (HookEvent, Vec<(String, u32)>) {
    let mut redactions = Vec::new();
    if let Action::Prompt { text } = &mut event.action {
        let (redacted, found) = privacy::redact(text);
        *text = redacted;
        redactions = found
            .into_iter()
            .map(|redaction| (redaction.kind.to_owned(), redaction.count))
            .collect();
    }
    (event, redactions)
}

/// `prodcode hook git` has no payload: its event records what it saw.
fn git_payload(observation: &Observation) -> Option<String> {
    if observation.event.action != Action::GitCommit {
        return None;
    }
    let repo = observation.repo.as_ref();
    Some(
        serde_json::json!({
            "cwd": observation.event.cwd,
            "root": repo.map(|repo| &repo.root),
            "head": repo.and_then(|repo| repo.head.as_ref()),
            "branch": repo.and_then(|repo| repo.branch.as_ref()),
        })
        .to_string(),
    )
}

/// The manifest the shell bracket closed by a post event saved, so that the scan after the
/// command need not read unchanged files again.
fn shell_manifest(store: &Store, event: &HookEvent) -> Option<Manifest> {
    let Action::PostTool(call) = &event.action else {
        return None;
    };
    if !matches!(call.target, Target::Shell { .. }) {
        return None;
    }
    let bracket = store
        .open_shell_bracket(&event.interaction()?, call.tool_use_id.as_deref())
        .ok()??;
    let json = store.blob(bracket.manifest.as_ref()?).ok()??;
    serde_json::from_slice(&json).ok()
}

/// The brackets of the session that this event closes although no post event came for them: all
/// its open brackets, except the one a post event closes itself. Codex never sends a post event
/// for `apply_patch` run through the shell; any agent's post event may be lost (a crash, a hook
/// timeout). A session's events come in order, so a bracket still open at its next event is over.
///
/// The brackets are those open in the store, then as each entry still `waiting` for the
/// drainer changes them (an entry of the session closes what is open and opens its own), so a
/// pre event whose post never came is closed by the next event even before it is recorded.
/// Brackets known only from the spool have id 0 and no manifest (their work tree is read whole).
fn left_open(
    store: Option<&Store>,
    waiting: &[spool::Head],
    event: &HookEvent,
) -> Vec<(store_hooks::Bracket, Option<Manifest>)> {
    let closing = match &event.action {
        Action::PostTool(call) => Some(call),
        Action::PreTool(_) | Action::Prompt { .. } | Action::Stop | Action::SessionEnd => None,
        _ => return Vec::new(),
    };
    let Some(interaction) = event.interaction() else {
        return Vec::new();
    };
    let mut open = store
        .map(|store| store.open_brackets_of(&interaction).unwrap_or_default())
        .unwrap_or_default();
    for head in waiting
        .iter()
        .filter(|head| head.interaction.as_deref() == Some(interaction.as_str()))
    {
        if head.closes_open {
            open.clear();
        }
        open.extend(spool_brackets(&interaction, &head.opens));
    }
    open.into_iter()
        .filter(|bracket| closing.is_none_or(|call| !closes(call, bracket)))
        .map(|bracket| {
            let manifest = store.and_then(|store| {
                let json = store.blob(bracket.manifest.as_ref()?).ok()??;
                serde_json::from_slice(&json).ok()
            });
            (bracket, manifest)
        })
        .collect()
}

/// Whether the post event of `call` is the end of `bracket`: the same tool-call id, or, for
/// agents that send none, the same tool.
fn closes(call: &event::ToolCall, bracket: &store_hooks::Bracket) -> bool {
    match (&call.tool_use_id, &bracket.tool_use_id) {
        (Some(id), Some(open)) => id == open,
        _ => call.tool == bracket.tool_name,
    }
}

#[cfg(test)]
mod tests {
    use super::spool::{OpenKey, Seen, fingerprint};
    use super::*;

    const INTERACTION: &str = "claude:s1";

    /// A Claude `Edit` pre or post event of `tool_use_id` on `path`, received at `received_ms`.
    fn edit(post: bool, tool_use_id: &str, path: &Path) -> HookEvent {
        let payload = serde_json::json!({
            "session_id": "s1",
            "cwd": "/",
            "hook_event_name": if post { "PostToolUse" } else { "PreToolUse" },
            "tool_name": "Edit",
            "tool_use_id": tool_use_id,
            "tool_input": { "file_path": path, "old_string": "a", "new_string": "b" },
        })
        .to_string();
        let call = Call {
            agent: "claude",
            event: None,
            input: payload.as_bytes(),
            cwd: None,
            received_ms: 0,
        };
        parse(&call, &payload).0
    }

    fn call_at(received_ms: i64) -> Call<'static> {
        Call {
            agent: "claude",
            event: None,
            input: b"",
            cwd: None,
            received_ms,
        }
    }

    /// The head of an event received at `received_ms` that closes the session's brackets,
    /// opens `opens` (tool call id, kind, path) and saw `seen` (path, text).
    fn head(received_ms: i64, opens: &[(&str, &str, &Path)], seen: &[(&Path, &str)]) -> Head {
        Head {
            head: 2,
            interaction: Some(INTERACTION.to_owned()),
            closes_open: true,
            opens: opens
                .iter()
                .map(|(id, kind, path)| OpenKey {
                    kind: (*kind).to_owned(),
                    path: path.to_string_lossy().into_owned(),
                    tool: "Edit".to_owned(),
                    tool_use_id: Some((*id).to_owned()),
                })
                .collect(),
            received_ms,
            seen: seen
                .iter()
                .map(|(path, text)| Seen {
                    path: path.to_string_lossy().into_owned(),
                    text: fingerprint(text),
                })
                .collect(),
        }
    }

    /// When the session's marker and the spool's heads answer for the store, and when not.
    #[test]
    fn a_file_edit_skips_the_store_only_when_the_marker_and_heads_tell_everything() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let db = root.join("prodcode.db");
        let (a, b) = (root.join("a.rs"), root.join("b.rs"));
        let session = |waiting: &[Head], event: &HookEvent, at: i64| {
            session_without_store(&db, INTERACTION, waiting, &call_at(at))
                .filter(|session| session.left_open(event).is_some())
        };
        // The brackets open in a session's chain: all those a pre closes.
        let open = |known: &Session| left_open(None, &known.chain, &edit(false, "probe", &a)).len();
        // Nothing known: the store.
        assert!(session(&[], &edit(false, "t2", &a), 100).is_none());

        // The post of t1 saw a.rs; it is recorded and confirmed.
        marker::write(&db, INTERACTION, &head(10, &[], &[(&a, "text a")]), false);
        assert!(
            session(&[], &edit(false, "t2", &a), 100).is_none(),
            "a pending marker is not trusted"
        );
        marker::write(&db, INTERACTION, &head(10, &[], &[(&a, "text a")]), true);
        let known = session(&[], &edit(false, "t2", &a), 100).unwrap();
        assert_eq!(open(&known), 0);
        assert_eq!(known.seen[a.to_str().unwrap()], fingerprint("text a"));
        assert!(
            session(&[], &edit(false, "t2", &b), 100).is_none(),
            "a pre on a file the session has not seen asks the store for its snapshot"
        );
        assert!(session(&[], &edit(true, "t2", &b), 100).is_some());
        assert!(
            session(&[], &edit(false, "t2", &a), 5).is_none(),
            "a marker received after the call is not its past"
        );

        // The pre of t2 is still in the spool: its head opens t2 on a.rs.
        let pre = head(20, &[("t2", "file", &a)], &[(&a, "text a2")]);
        let known = session(std::slice::from_ref(&pre), &edit(true, "t2", &a), 100).unwrap();
        assert_eq!(open(&known), 1);
        assert_eq!(
            known.left_open(&edit(true, "t2", &a)).unwrap().len(),
            0,
            "the post closes its own bracket"
        );
        assert_eq!(known.seen[a.to_str().unwrap()], fingerprint("text a2"));
        // Its head written by an older prodcode, without a receipt time: the store.
        let old = Head {
            received_ms: 0,
            ..pre.clone()
        };
        assert!(session(&[old], &edit(true, "t2", &a), 100).is_none());

        // A newer marker wins over an older waiting head (recorded in-process meanwhile).
        marker::write(&db, INTERACTION, &head(30, &[], &[(&b, "text b")]), true);
        let known = session(std::slice::from_ref(&pre), &edit(false, "t3", &b), 100).unwrap();
        assert_eq!(open(&known), 0);
        assert!(!known.seen.contains_key(a.to_str().unwrap()));

        // A shell bracket open: its manifest is in the store.
        let shell = head(40, &[("t4", "shell", &root)], &[]);
        assert!(session(&[shell], &edit(false, "t5", &b), 100).is_none());

        // Not a file edit: the store.
        let prompt = HookEvent {
            action: Action::Stop,
            ..edit(false, "t6", &a)
        };
        assert!(session(&[], &prompt, 100).is_none());

        // A stop carries the files the session saw: the next turn's first pre on them needs no
        // store.
        let mut stop = head(50, &[], &[]);
        let known = session_without_store(&db, INTERACTION, &[], &call_at(45)).unwrap();
        stop.carry_seen(&known.seen);
        assert_eq!(stop.seen.len(), 1, "b.rs, from the marker written at 30");
        marker::write(&db, INTERACTION, &stop, true);
        assert!(session(&[], &edit(false, "t7", &b), 100).is_some());
    }
}
