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
pub mod event;
pub mod observe;
mod record;
pub mod spool;
mod transcript;
pub mod worktree;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::capture::privacy;
use crate::store::hooks as store_hooks;
use crate::store::{Store, StoreError};
use event::{Action, HookEvent, Target};
use observe::Observation;
use spool::{Entry, Spool};
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
}

impl Failure {
    fn kept(message: String) -> Failure {
        Failure {
            message,
            lost: false,
        }
    }

    /// A failure after which the payload went to the spool, or nowhere.
    fn spooled(message: &str, spooled: Result<PathBuf, String>) -> Failure {
        match spooled {
            Ok(path) => Failure::kept(format!("{message}; payload spooled to {}", path.display())),
            Err(why) => Failure {
                message: format!("{message}; the payload could not be spooled either ({why})"),
                lost: true,
            },
        }
    }
}

/// Records one hook call; returns what to print (see [`Reply`]).
pub fn handle(config: &Config, call: &Call<'_>) -> Reply {
    let db = config.db_path.as_deref();
    let mut payload: Option<String> = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| run(config, call, &mut payload)));
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(failure),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            // A bug: keep the payload (without derived rows) so nothing is lost.
            let payload = payload
                .take()
                .unwrap_or_else(|| redact_payload(&String::from_utf8_lossy(call.input)));
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
fn run(config: &Config, call: &Call<'_>, payload_out: &mut Option<String>) -> Result<(), Failure> {
    let text = String::from_utf8_lossy(call.input);
    let event = parse(call, &text);
    if event.paths().iter().any(|path| {
        privacy::opted_out(if path.is_dir() {
            path
        } else {
            path.parent().unwrap_or(path)
        })
    }) {
        return Ok(());
    }
    let payload = match event.action {
        Action::GitCommit => String::new(),
        // The log holds JSON: input that is not JSON is kept as a string inside some.
        Action::Unparsed => serde_json::json!({ "unparsed": privacy::redact(&text).0 }).to_string(),
        _ => redact_payload(&text),
    };
    *payload_out = Some(payload.clone());
    let (event, redactions) = redact_prompt(event);
    let Some(db) = config.db_path.as_deref() else {
        return Err(Failure {
            message: "no database path (set PRODCODE_DB, XDG_DATA_HOME or HOME); nothing recorded"
                .to_owned(),
            lost: true,
        });
    };
    let spool = Spool::for_db(db);
    let mut store = match open(db, config.busy_timeout) {
        Ok(store) => store,
        Err(error) => {
            let observation = observe::observe(
                event.clone(),
                redactions.clone(),
                call.received_ms,
                None,
                &|_| None,
                &[],
            );
            let payload = git_payload(&observation).unwrap_or(payload);
            let spooled = spool.push(&Entry::new(
                call.agent,
                call.received_ms,
                payload,
                Some(observation),
            ));
            return Err(Failure::spooled(
                &format!("cannot open the database: {error}"),
                spooled,
            ));
        }
    };
    let previous = shell_manifest(&store, &event);
    let saved = |path: &str| {
        let latest = store.snapshot_ids_before(path, i64::MAX, 1).ok()?;
        latest.into_iter().next().map(|(_, hash)| hash)
    };
    let left_open = left_open(&store, &event);
    let observation = observe::observe(
        event,
        redactions,
        call.received_ms,
        previous.as_ref(),
        &saved,
        &left_open,
    );
    let payload = git_payload(&observation).unwrap_or(payload);
    let current = Entry::new(call.agent, call.received_ms, payload, Some(observation));
    let pending = spool.pending(call.received_ms);
    let written = store.write(|writer| {
        for item in &pending {
            if writer.spool_entry_ingested(&item.name)? {
                continue;
            }
            let event_id = write_entry(writer, item, true)?;
            writer.mark_spool_entry_ingested(&item.name, Some(event_id), call.received_ms)?;
        }
        record_entry(writer, &current, true).map(|_| ())
    });
    match written {
        Ok(()) => {
            for item in &pending {
                spool.remove(item);
            }
            Ok(())
        }
        Err(error) => write_one_by_one(&mut store, &spool, &pending, &current, call, error),
    }
}

/// After a failed write of everything at once: each entry alone, with its derived rows, else
/// without them (a bug or odd data must not hold back the rest); the first entry the database
/// refuses outright stops the ingestion, and this call's payload then goes to the spool.
fn write_one_by_one(
    store: &mut Store,
    spool: &Spool,
    pending: &[spool::Pending],
    current: &Entry,
    call: &Call<'_>,
    batch_error: StoreError,
) -> Result<(), Failure> {
    if is_busy(&batch_error) {
        // Another process holds the database: trying again would only keep the agent waiting.
        let spooled = spool.push(current);
        return Err(Failure::spooled(
            &format!("database busy ({batch_error})"),
            spooled,
        ));
    }
    let mut problems = vec![format!("write failed: {batch_error}")];
    let mut refused = None;
    for item in pending {
        let result = store.write(|writer| {
            if writer.spool_entry_ingested(&item.name)? {
                return Ok(());
            }
            let event_id = write_entry(writer, item, true)?;
            writer.mark_spool_entry_ingested(&item.name, Some(event_id), call.received_ms)
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
                writer.mark_spool_entry_ingested(&item.name, Some(event_id), call.received_ms)
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
        let result = store
            .write(|writer| record_entry(writer, current, true).map(|_| ()))
            .or_else(|error| {
                problems.push(format!("recorded without derived rows: {error}"));
                store.write(|writer| record_entry(writer, current, false).map(|_| ()))
            });
        match result {
            Ok(()) => return Err(Failure::kept(problems.join("; "))),
            Err(error) => refused = Some(error),
        }
    }
    let spooled = spool.push(current);
    problems.push(format!(
        "the database refused the write ({})",
        refused.map(|error| error.to_string()).unwrap_or_default()
    ));
    Err(Failure::spooled(&problems.join("; "), spooled))
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

/// The event of one call.
fn parse(call: &Call<'_>, text: &str) -> HookEvent {
    let cwd = call.cwd.as_deref();
    if call.agent == "git" {
        let mut event = agents::other("git", "commit", cwd);
        event.action = Action::GitCommit;
        return event;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => agents::parse(call.agent, call.event, &value, cwd),
        Err(_) => {
            let mut event = agents::other(call.agent, "unparsed", cwd);
            event.action = Action::Unparsed;
            event
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
fn left_open(store: &Store, event: &HookEvent) -> Vec<(store_hooks::Bracket, Option<Manifest>)> {
    let closing = match &event.action {
        Action::PostTool(call) => Some(call),
        Action::PreTool(_) | Action::Prompt { .. } | Action::Stop | Action::SessionEnd => None,
        _ => return Vec::new(),
    };
    let Some(interaction) = event.interaction() else {
        return Vec::new();
    };
    let brackets = store.open_brackets_of(&interaction).unwrap_or_default();
    brackets
        .into_iter()
        .filter(|bracket| closing.is_none_or(|call| !closes(call, bracket)))
        .map(|bracket| {
            let manifest = bracket
                .manifest
                .as_ref()
                .and_then(|hash| store.blob(hash).ok()?)
                .and_then(|json| serde_json::from_slice(&json).ok());
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
