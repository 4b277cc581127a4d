//! The import loop: find transcript files, decide where each one resumes, stream its lines
//! through the agent's reader, and write what they hold in batches.
//!
//! Each batch is one transaction holding its records (an event per prompt and per edit, the
//! domain rows, the idempotency keys) together with the file's new position in
//! `import_files`, so a run that stops at any point (killed, a locked database) leaves the store
//! and the bookkeeping in step, and the next run continues from the last committed line.
//! Repositories are looked up, and texts redacted, before the transaction opens, so a write
//! lock is held only for the inserts.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::text::absolute;
use super::{Agent, Edit, Item, Malformed, Prompt, Session, SkipReason, Summary, Transcript};
use crate::capture::privacy::{self, Redaction, merge_redactions, redact_json};
use crate::git;
use crate::model::ContentHash;
use crate::store::{
    ImportFile, NewAiEdit, NewEvent, NewImportKey, NewPrompt, Store, StoreError, Writer,
};

/// How many records a transaction holds at most.
const BATCH_RECORDS: usize = 256;
/// How many bytes of payload a transaction holds at most.
const BATCH_BYTES: usize = 8 << 20;
/// After reading this much without a record, the position is saved anyway.
const COMMIT_EVERY_BYTES: u64 = 64 << 20;
/// How much of the file before the saved position is hashed to notice a rewrite.
const CHECK_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}", path.display())]
    Path {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot record what {} holds", file.display())]
    Store { file: PathBuf, source: StoreError },
}

/// Reports how far an import has come (a progress bar, or nothing).
pub trait Progress {
    /// The import reads `bytes` bytes from `files` files.
    fn start(&mut self, files: u64, bytes: u64);
    /// Starts on a file.
    fn file(&mut self, path: &Path);
    /// `bytes` more bytes were read.
    fn advance(&mut self, bytes: u64);
}

/// The transcripts at `path`: the file itself, or every `*.jsonl` file below the directory, in
/// path order. Subdirectories that cannot be read are skipped with a warning; symbolic links to
/// directories are not followed.
pub fn find_transcripts(path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let wrap = |source| ImportError::Path {
        path: path.to_owned(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(wrap)?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut found = Vec::new();
    let mut stack = vec![path.to_owned()];
    let mut top = true;
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(source) if top => return Err(wrap(source)),
            Err(error) => {
                tracing::warn!("skipping {}: {error}", dir.display());
                continue;
            }
        };
        top = false;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "jsonl")
                && (kind.is_file() || path.is_file())
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Imports `files` (transcripts of `agent`) into `store`.
///
/// Records already imported are skipped and counted; files unchanged since the last import are
/// not read again. The only error is a database that refuses a write (after its busy timeout):
/// everything committed before it stays, and the next run continues from there.
pub fn import(
    store: &mut Store,
    agent: Agent,
    files: &[PathBuf],
    progress: &mut dyn Progress,
) -> Result<Summary, ImportError> {
    let mut importer = Importer {
        store,
        agent,
        summary: Summary::default(),
        sessions: HashSet::new(),
        places: HashMap::new(),
        opted_out: HashMap::new(),
        imported_prompts: HashMap::new(),
    };
    let mut plans = Vec::with_capacity(files.len());
    for path in files {
        match importer.plan(path) {
            Ok(plan) => plans.push(plan),
            Err(error) => {
                tracing::warn!("skipping {}: {error}", path.display());
                importer.summary.skip(SkipReason::UnreadableFile, 1);
            }
        }
    }
    importer.summary.files = files.len() as u64;
    let bytes = plans
        .iter()
        .map(|plan| match &plan.start {
            Start::Unchanged { .. } => 0,
            Start::Resume(resume) => plan.size.saturating_sub(resume.saved.byte_offset),
            Start::Beginning => plan.size,
        })
        .sum();
    progress.start(plans.len() as u64, bytes);
    for plan in &plans {
        progress.file(&plan.path);
        importer.import_file(plan, progress)?;
    }
    importer.summary.sessions = importer.sessions.len() as u64;
    Ok(importer.summary)
}

struct Importer<'a> {
    store: &'a mut Store,
    agent: Agent,
    summary: Summary,
    /// Interactions that gained a record in this run.
    sessions: HashSet<String>,
    /// What is at each directory a transcript names, looked up once.
    places: HashMap<PathBuf, Place>,
    opted_out: HashMap<PathBuf, bool>,
    /// Prompts imported into each interaction, in the store (see [`write_record`]).
    imported_prompts: HashMap<String, u64>,
}

#[derive(Clone)]
enum Place {
    /// The directory does not exist (any more).
    Missing,
    /// It exists, in no git work tree.
    NoRepository,
    /// It is in the work tree rooted here.
    Repository(PathBuf),
}

struct Plan {
    path: PathBuf,
    /// The path as stored in `import_files`.
    key: String,
    size: u64,
    mtime_ms: i64,
    start: Start,
}

enum Start {
    Beginning,
    /// The file grew since the last import and starts the same: continue after `saved`.
    Resume(Box<Resume>),
    /// Same size and time as when last read: nothing new.
    Unchanged {
        records: u64,
    },
}

struct Resume {
    saved: ImportFile,
    /// The bytes just before the saved position, as they are now.
    tail: Vec<u8>,
}

/// Where reading a file stands.
struct Cursor {
    offset: u64,
    lines: u64,
    records: u64,
    tail: Tail,
    /// `offset` at the last commit.
    committed_at: u64,
}

/// The last [`CHECK_BYTES`] bytes read.
#[derive(Default)]
struct Tail(Vec<u8>);

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        if bytes.len() >= CHECK_BYTES {
            self.0.clear();
            self.0
                .extend_from_slice(&bytes[bytes.len() - CHECK_BYTES..]);
            return;
        }
        self.0.extend_from_slice(bytes);
        if self.0.len() > 2 * CHECK_BYTES {
            self.0.drain(..self.0.len() - CHECK_BYTES);
        }
    }

    fn hash(&self) -> String {
        let start = self.0.len().saturating_sub(CHECK_BYTES);
        ContentHash::of(&self.0[start..]).as_str().to_owned()
    }
}

/// A record ready to write: resolved, redacted and serialized.
enum Ready {
    Prompt(ReadyPrompt),
    Edit(ReadyEdit),
    Model { interaction: String, model: String },
}

struct ReadyPrompt {
    key: String,
    interaction: String,
    session: Session,
    text: String,
    text_hash: String,
    ts_ms: Option<i64>,
    repo_root: Option<String>,
    payload: String,
}

struct ReadyEdit {
    key: String,
    interaction: String,
    /// The tool call's id, as hooks record it too.
    tool_use_id: String,
    path: String,
    rel_path: Option<String>,
    repo_root: Option<String>,
    lines_added: u32,
    detail: String,
    ts_ms: Option<i64>,
    payload: String,
}

#[derive(Default)]
struct Batch {
    records: Vec<Ready>,
    bytes: usize,
}

/// What one committed batch did.
#[derive(Default)]
struct Tally {
    prompts: u64,
    edits: u64,
    /// Records of the batch that are in the store (new or from before).
    in_store: u64,
    skipped: Vec<SkipReason>,
    sessions: Vec<String>,
}

impl Importer<'_> {
    fn plan(&self, path: &Path) -> Result<Plan, std::io::Error> {
        let metadata = std::fs::metadata(path)?;
        let size = metadata.len();
        let mtime_ms = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            });
        let key = path
            .canonicalize()
            .unwrap_or_else(|_| path.to_owned())
            .to_string_lossy()
            .into_owned();
        let saved = match self.store.import_file(&key) {
            Ok(saved) => saved.filter(|saved| saved.agent == self.agent.name()),
            Err(error) => {
                tracing::warn!("cannot read what is known about {key}: {error}; reading it whole");
                None
            }
        };
        let start = match saved {
            None => Start::Beginning,
            Some(saved) => match decide(&saved, size, mtime_ms) {
                Decision::Beginning => Start::Beginning,
                Decision::Unchanged => Start::Unchanged {
                    records: saved.records,
                },
                Decision::Resume => match bytes_before(path, saved.byte_offset) {
                    Ok(tail) if ContentHash::of(&tail).as_str() == saved.check => {
                        Start::Resume(Box::new(Resume { saved, tail }))
                    }
                    _ => Start::Beginning,
                },
            },
        };
        Ok(Plan {
            path: path.to_owned(),
            key,
            size,
            mtime_ms,
            start,
        })
    }

    fn import_file(&mut self, plan: &Plan, progress: &mut dyn Progress) -> Result<(), ImportError> {
        let mut reader = self.agent.reader(&plan.path);
        let mut cursor = Cursor {
            offset: 0,
            lines: 0,
            records: 0,
            tail: Tail::default(),
            committed_at: 0,
        };
        match &plan.start {
            Start::Unchanged { records } => {
                self.summary.skip(SkipReason::AlreadyImported, *records);
                return Ok(());
            }
            Start::Resume(resume) => {
                let saved = &resume.saved;
                cursor.offset = saved.byte_offset;
                cursor.committed_at = saved.byte_offset;
                cursor.lines = saved.lines;
                cursor.records = saved.records;
                cursor.tail.push(&resume.tail);
                if let Some(state) = &saved.state {
                    reader.restore(state);
                }
                // What the earlier runs imported from this file is part of this file's account.
                self.summary
                    .skip(SkipReason::AlreadyImported, saved.records);
            }
            Start::Beginning => {}
        }
        let file = File::open(&plan.path).and_then(|mut file| {
            file.seek(SeekFrom::Start(cursor.offset))?;
            Ok(file)
        });
        let file = match file {
            Ok(file) => file,
            Err(error) => {
                tracing::warn!("skipping {}: {error}", plan.path.display());
                self.summary.skip(SkipReason::UnreadableFile, 1);
                return Ok(());
            }
        };
        let mut lines = BufReader::with_capacity(1 << 16, file);
        let mut line = Vec::new();
        let mut items = Vec::new();
        let mut batch = Batch::default();
        loop {
            line.clear();
            let read = match lines.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) => {
                    tracing::warn!(
                        "stopped reading {} after line {}: {error}",
                        plan.path.display(),
                        cursor.lines
                    );
                    self.summary.skip(SkipReason::UnreadableFile, 1);
                    break;
                }
            };
            let complete = line.last() == Some(&b'\n');
            let number = cursor.lines + 1;
            let outcome = read_line(reader.as_mut(), &line, number, &mut items);
            if let Err(Malformed(why)) = outcome {
                if !complete {
                    // The agent may still be writing this line: read it again next time.
                    break;
                }
                tracing::debug!(
                    "{}:{number}: skipping a malformed line: {why}",
                    plan.path.display()
                );
                self.summary.skip(SkipReason::MalformedLine, 1);
            }
            cursor.offset += read as u64;
            cursor.lines = number;
            cursor.tail.push(&line);
            progress.advance(read as u64);
            for item in items.drain(..) {
                self.prepare(item, plan, number, &mut batch);
            }
            if batch.records.len() >= BATCH_RECORDS
                || batch.bytes >= BATCH_BYTES
                || cursor.offset - cursor.committed_at >= COMMIT_EVERY_BYTES
            {
                self.commit(plan, &mut cursor, reader.as_ref(), &mut batch)?;
            }
        }
        self.commit(plan, &mut cursor, reader.as_ref(), &mut batch)
    }

    /// Resolves, filters and redacts one item into the batch.
    fn prepare(&mut self, item: Item, plan: &Plan, line: u64, batch: &mut Batch) {
        match item {
            Item::Prompt(prompt) => {
                if let Some(ready) = self.prepare_prompt(prompt, plan, line) {
                    batch.bytes += ready.payload.len();
                    batch.records.push(Ready::Prompt(ready));
                }
            }
            Item::Edit(edit) => {
                if let Some(ready) = self.prepare_edit(edit, plan, line) {
                    batch.bytes += ready.payload.len() + ready.detail.len();
                    batch.records.push(Ready::Edit(ready));
                }
            }
            Item::Model { session_id, model } => batch.records.push(Ready::Model {
                interaction: self.interaction_id(&session_id),
                model,
            }),
            Item::FailedEdit => self.summary.skip(SkipReason::FailedEdit, 1),
        }
    }

    fn interaction_id(&self, session_id: &str) -> String {
        format!("{}:{session_id}", self.agent.name())
    }

    fn prepare_prompt(&mut self, prompt: Prompt, plan: &Plan, line: u64) -> Option<ReadyPrompt> {
        let repo = self.session_repository(&prompt.session);
        if self.session_opted_out(&prompt.session, repo.as_deref()) {
            self.summary.skip(SkipReason::OptedOut, 1);
            return None;
        }
        let (text, mut redactions) = privacy::redact(&prompt.text);
        let mut record = prompt.payload;
        merge_redactions(&mut redactions, redact_json(&mut record));
        Some(ReadyPrompt {
            interaction: self.interaction_id(&prompt.session.session_id),
            key: prompt.key,
            text_hash: ContentHash::of(text.as_bytes()).as_str().to_owned(),
            text,
            ts_ms: prompt.ts_ms,
            repo_root: repo.map(|root| root.to_string_lossy().into_owned()),
            payload: event_payload(plan, line, record, &redactions),
            session: prompt.session,
        })
    }

    fn prepare_edit(&mut self, edit: Edit, plan: &Plan, line: u64) -> Option<ReadyEdit> {
        let session_repo = self.session_repository(&edit.session);
        let base = edit.base.as_deref().or(edit.session.cwd.as_deref());
        let path = absolute(&edit.path, base);
        let repo = match &path {
            Some(path) => match &session_repo {
                Some(root) if path.starts_with(root) => Some(root.clone()),
                _ => path.parent().and_then(|dir| match self.place(dir) {
                    Place::Repository(root) => Some(root),
                    Place::Missing | Place::NoRepository => None,
                }),
            },
            None => None,
        };
        let edit_opted_out = repo.as_deref().is_some_and(|root| self.opted_out(root));
        if edit_opted_out || self.session_opted_out(&edit.session, session_repo.as_deref()) {
            self.summary.skip(SkipReason::OptedOut, 1);
            return None;
        }
        let rel_path = match (&repo, &path) {
            (Some(root), Some(path)) => relative_path(root, path),
            _ => None,
        };
        let mut detail = Map::new();
        detail.insert("tool".into(), Value::String(edit.tool));
        detail.insert("toolUseId".into(), Value::String(edit.call_id.clone()));
        detail.insert(
            "linesRemoved".into(),
            edit.lines_removed.map_or(Value::Null, Value::from),
        );
        detail.extend(edit.extra);
        let mut record = edit.payload;
        let redactions = redact_json(&mut record);
        Some(ReadyEdit {
            interaction: self.interaction_id(&edit.session.session_id),
            tool_use_id: edit.call_id,
            key: edit.key,
            path: path.map_or(edit.path, |path| path.to_string_lossy().into_owned()),
            rel_path,
            repo_root: repo.map(|root| root.to_string_lossy().into_owned()),
            lines_added: edit.lines_added,
            detail: Value::Object(detail).to_string(),
            ts_ms: edit.ts_ms,
            payload: event_payload(plan, line, record, &redactions),
        })
    }

    /// The repository a session ran in: the work tree around its directory when that still
    /// exists; else the directory itself when the transcript says it was a git repository (a
    /// branch or commit was recorded); else none.
    fn session_repository(&mut self, session: &Session) -> Option<PathBuf> {
        let cwd = PathBuf::from(session.cwd.as_deref()?);
        if !cwd.is_absolute() {
            return None;
        }
        match self.place(&cwd) {
            Place::Repository(root) => Some(root),
            Place::NoRepository => None,
            Place::Missing => session.recorded_git().then_some(cwd),
        }
    }

    fn session_opted_out(&mut self, session: &Session, repo: Option<&Path>) -> bool {
        match (repo, session.cwd.as_deref()) {
            (Some(root), _) => self.opted_out(root),
            (None, Some(cwd)) => self.opted_out(Path::new(cwd)),
            (None, None) => false,
        }
    }

    fn place(&mut self, dir: &Path) -> Place {
        if let Some(place) = self.places.get(dir) {
            return place.clone();
        }
        let place = if !dir.is_dir() {
            Place::Missing
        } else {
            match git::discover(dir) {
                Some(repo) => Place::Repository(repo.root),
                None => Place::NoRepository,
            }
        };
        self.places.insert(dir.to_owned(), place.clone());
        place
    }

    fn opted_out(&mut self, root: &Path) -> bool {
        *self
            .opted_out
            .entry(root.to_owned())
            .or_insert_with(|| privacy::opted_out(root))
    }

    /// Writes the batch and the file's new position in one transaction.
    fn commit(
        &mut self,
        plan: &Plan,
        cursor: &mut Cursor,
        reader: &dyn Transcript,
        batch: &mut Batch,
    ) -> Result<(), ImportError> {
        let agent = self.agent;
        let records = std::mem::take(&mut batch.records);
        batch.bytes = 0;
        let state = reader.state();
        let check = cursor.tail.hash();
        let imported_prompts = &mut self.imported_prompts;
        let written = self.store.write(|writer| {
            let mut tally = Tally::default();
            for record in &records {
                write_record(writer, agent, record, &mut tally, imported_prompts)?;
            }
            writer.save_import_file(&ImportFile {
                path: plan.key.clone(),
                agent: agent.name().to_owned(),
                size: plan.size.max(cursor.offset),
                mtime_ms: plan.mtime_ms,
                byte_offset: cursor.offset,
                lines: cursor.lines,
                records: cursor.records + tally.in_store,
                check,
                state,
            })?;
            Ok(tally)
        });
        let tally = written.map_err(|source| ImportError::Store {
            file: plan.path.clone(),
            source,
        })?;
        cursor.records += tally.in_store;
        cursor.committed_at = cursor.offset;
        self.summary.prompts += tally.prompts;
        self.summary.edits += tally.edits;
        for reason in tally.skipped {
            self.summary.skip(reason, 1);
        }
        self.sessions.extend(tally.sessions);
        Ok(())
    }
}

/// How to read a file that was read before.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Decision {
    /// Read it all again (the keys tell what is imported already).
    Beginning,
    /// Everything was read and nothing changed.
    Unchanged,
    /// Continue from the saved offset, if the bytes before it are still the same.
    Resume,
}

/// What to do with a file now `size` bytes long and modified at `mtime_ms`, given what was saved
/// when it was last read. A file only ever grows while its agent writes it; one that shrank or
/// went back in time was replaced. A run that stopped part-way saved an offset short of the end
/// with the size and time it saw: that file is resumed, not taken as unchanged.
fn decide(saved: &ImportFile, size: u64, mtime_ms: i64) -> Decision {
    if saved.size == size && saved.mtime_ms == mtime_ms && saved.byte_offset >= size {
        Decision::Unchanged
    } else if size >= saved.byte_offset && mtime_ms >= saved.mtime_ms {
        Decision::Resume
    } else {
        Decision::Beginning
    }
}

/// Parses one line (without its terminator); blank lines hold nothing.
fn read_line(
    reader: &mut dyn Transcript,
    line: &[u8],
    number: u64,
    items: &mut Vec<Item>,
) -> Result<(), Malformed> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let text = std::str::from_utf8(line).map_err(|error| Malformed(error.to_string()))?;
    let before = items.len();
    let result = reader.read_line(text, number, items);
    if result.is_err() {
        items.truncate(before);
    }
    result
}

/// Writes one record. `imported_prompts` counts, per interaction, the prompts imported into it
/// (read from the store on first use, then kept up to date).
fn write_record(
    writer: &mut Writer<'_>,
    agent: Agent,
    record: &Ready,
    tally: &mut Tally,
    imported_prompts: &mut HashMap<String, u64>,
) -> Result<(), StoreError> {
    let now = crate::clock::now_ms();
    match record {
        Ready::Prompt(prompt) => {
            if writer.import_key_exists(&prompt.key)? {
                tally.skipped.push(SkipReason::AlreadyImported);
                tally.in_store += 1;
                return Ok(());
            }
            // Its turns less the prompts imported into it: what other channels recorded. Most
            // sessions were never captured live, and then no prompt's text need be compared.
            let imported = match imported_prompts.get(&prompt.interaction) {
                Some(count) => *count,
                None => {
                    let count = writer.imported_prompt_count(&prompt.interaction)?;
                    imported_prompts.insert(prompt.interaction.clone(), count);
                    count
                }
            };
            let live = writer
                .turn_count(&prompt.interaction)?
                .saturating_sub(imported);
            let elsewhere = if live == 0 {
                0
            } else {
                writer.prompts_from_other_channels(&prompt.interaction, &prompt.text)?
            };
            if elsewhere > 0
                && writer.imported_prompts_with_text(&prompt.interaction, &prompt.text_hash)?
                    < elsewhere
            {
                // A hook recorded this turn already: remember that this occurrence is it.
                writer.insert_import_key(&NewImportKey {
                    key: &prompt.key,
                    interaction_id: &prompt.interaction,
                    kind: "prompt",
                    text_hash: Some(&prompt.text_hash),
                    outcome: "duplicate",
                    event_id: None,
                })?;
                tally.skipped.push(SkipReason::AlreadyCaptured);
                tally.in_store += 1;
                return Ok(());
            }
            let event_id = writer.append_event(&NewEvent {
                ts_ms: now,
                source: agent.source(),
                kind: "import.prompt",
                payload: &prompt.payload,
            })?;
            let repo_id = match &prompt.repo_root {
                Some(root) => Some(writer.upsert_repository(root)?),
                None => None,
            };
            let session = &prompt.session;
            writer.record_prompt(&NewPrompt {
                interaction_id: &prompt.interaction,
                prompt: &prompt.text,
                agent: Some(agent.agent_name()),
                model: session.model.as_deref(),
                agent_version: session.version.as_deref(),
                source: agent.source(),
                session_id: Some(&session.session_id),
                repo_id,
                base_commit: session.commit.as_deref(),
                branch: session.branch.as_deref(),
                cwd: session.cwd.as_deref(),
                ts_ms: prompt.ts_ms.unwrap_or(now),
                event_id,
            })?;
            writer.insert_import_key(&NewImportKey {
                key: &prompt.key,
                interaction_id: &prompt.interaction,
                kind: "prompt",
                text_hash: Some(&prompt.text_hash),
                outcome: "imported",
                event_id: Some(event_id),
            })?;
            *imported_prompts
                .entry(prompt.interaction.clone())
                .or_default() += 1;
            tally.prompts += 1;
            tally.in_store += 1;
            tally.sessions.push(prompt.interaction.clone());
        }
        Ready::Edit(edit) => {
            if writer.import_key_exists(&edit.key)? {
                tally.skipped.push(SkipReason::AlreadyImported);
                tally.in_store += 1;
                return Ok(());
            }
            if writer.edit_captured_elsewhere(&edit.interaction, &edit.path, &edit.tool_use_id)? {
                // A hook bracketed this tool call as it ran: its record is the better one.
                writer.insert_import_key(&NewImportKey {
                    key: &edit.key,
                    interaction_id: &edit.interaction,
                    kind: "edit",
                    text_hash: None,
                    outcome: "duplicate",
                    event_id: None,
                })?;
                tally.skipped.push(SkipReason::AlreadyCaptured);
                tally.in_store += 1;
                return Ok(());
            }
            let event_id = writer.append_event(&NewEvent {
                ts_ms: now,
                source: agent.source(),
                kind: "import.edit",
                payload: &edit.payload,
            })?;
            let repo_id = match &edit.repo_root {
                Some(root) => Some(writer.upsert_repository(root)?),
                None => None,
            };
            writer.record_ai_edit(&NewAiEdit {
                interaction_id: &edit.interaction,
                path: &edit.path,
                repo_id,
                rel_path: edit.rel_path.as_deref(),
                kind: "transcript",
                lines_added: edit.lines_added,
                detail: Some(&edit.detail),
                ts_ms: edit.ts_ms.unwrap_or(now),
                event_id,
            })?;
            writer.insert_import_key(&NewImportKey {
                key: &edit.key,
                interaction_id: &edit.interaction,
                kind: "edit",
                text_hash: None,
                outcome: "imported",
                event_id: Some(event_id),
            })?;
            tally.edits += 1;
            tally.in_store += 1;
            tally.sessions.push(edit.interaction.clone());
        }
        Ready::Model { interaction, model } => {
            writer.fill_interaction_model(interaction, model)?;
        }
    }
    Ok(())
}

/// The event payload of an imported record: where it came from, the source JSON (redacted), and
/// what redaction replaced.
fn event_payload(plan: &Plan, line: u64, record: Value, redactions: &[Redaction]) -> String {
    let redactions: Vec<Value> = redactions
        .iter()
        .map(|redaction| json!({ "kind": redaction.kind, "count": redaction.count }))
        .collect();
    json!({
        "file": plan.key,
        "line": line,
        "record": record,
        "redactions": redactions,
    })
    .to_string()
}

/// `path` relative to `root`; when a symbolic link in either stands between them, compared by
/// their real paths.
fn relative_path(root: &Path, path: &Path) -> Option<String> {
    git::relative_path(root, path).or_else(|| {
        let dir = path.parent()?.canonicalize().ok()?;
        let real = dir.join(path.file_name()?);
        git::relative_path(&root.canonicalize().ok()?, &real)
    })
}

/// The up to [`CHECK_BYTES`] bytes of the file before `offset`.
fn bytes_before(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let length = offset.min(CHECK_BYTES as u64);
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset - length))?;
    let mut bytes = vec![0; length as usize];
    file.read_exact(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(size: u64, mtime_ms: i64, byte_offset: u64) -> ImportFile {
        ImportFile {
            path: "/t.jsonl".to_owned(),
            agent: "claude".to_owned(),
            size,
            mtime_ms,
            byte_offset,
            lines: 10,
            records: 3,
            check: String::new(),
            state: None,
        }
    }

    #[test]
    fn where_a_file_read_before_starts() {
        let read_whole = saved(1000, 50, 1000);
        assert_eq!(decide(&read_whole, 1000, 50), Decision::Unchanged);
        assert_eq!(decide(&read_whole, 1500, 60), Decision::Resume, "grew");
        assert_eq!(decide(&read_whole, 1000, 60), Decision::Resume, "touched");
        assert_eq!(decide(&read_whole, 900, 60), Decision::Beginning, "shrank");
        assert_eq!(decide(&read_whole, 1500, 40), Decision::Beginning, "older");
        // A run stopped part-way (killed, a locked database), or a last line still being
        // written: the same size and time, but not read to the end.
        let stopped = saved(1000, 50, 600);
        assert_eq!(decide(&stopped, 1000, 50), Decision::Resume);
        assert_eq!(decide(&stopped, 500, 50), Decision::Beginning);
    }

    #[test]
    fn the_tail_keeps_the_last_bytes_read() {
        let mut tail = Tail::default();
        tail.push(b"abc");
        tail.push(b"def");
        assert_eq!(tail.hash(), ContentHash::of(b"abcdef").as_str());
        let long = vec![7u8; CHECK_BYTES + 10];
        tail.push(&long);
        assert_eq!(tail.hash(), ContentHash::of(&long[10..]).as_str());
        for _ in 0..3 * CHECK_BYTES {
            tail.push(b"x");
        }
        assert!(tail.0.len() <= 2 * CHECK_BYTES);
        assert_eq!(tail.hash(), ContentHash::of(&[b'x'; CHECK_BYTES]).as_str());
    }
}
