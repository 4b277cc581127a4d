//! Recording one observed hook call in the store: the event, and the domain rows it implies,
//! inside the caller's transaction.
//!
//! The rules (see `docs/hooks.md` and `docs/decisions.md`):
//! - A prompt is a turn of the interaction `<agent>:<session id>`.
//! - A pre-tool event brings the file's saved provenance up to date with the file on disk
//!   (whatever changed since the last snapshot is the person's, [`Origin::Human`], unless the
//!   file is exactly git's index version: then a git command may have written it and the change
//!   is nobody's, [`Origin::Unknown`]), saves it, and opens a bracket. The post-tool event attributes everything that changed since to the
//!   interaction ([`Origin::Ai`]) and closes the bracket. What is on disk is what counts, also
//!   when the person changed the proposed edit before accepting it.
//! - Without a pre event (Cursor's `afterFileEdit`), the file before the edit is rebuilt from
//!   the payload; when it cannot be, nothing is attributed to the AI (`untracked`).
//! - A change seen while another interaction's bracket covers the file is nobody's for sure:
//!   it becomes `untracked` rather than the person's or the wrong session's.
//! - A shell command is bracketed by work-tree manifests; each file that changed is attributed
//!   like an edit. A file that appears with the exact content of a file that was there before
//!   (a move or a copy) keeps that file's provenance.

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;

use super::event::{Action, HookEvent, Target, ToolCall};
use super::observe::{Content, FileSeen, Observation};
use super::worktree::{self, Manifest, Scan};
use crate::attribution::{Report, TrackedText};
use crate::model::{ContentHash, InteractionId, Origin, expand_runs};
use crate::store::hooks::{Bracket, BracketKind, NewBracket, NewHookSession};
use crate::store::{
    EventId, NewAiEdit, NewEvent, NewPrompt, NewSnapshot, RepoId, Snapshot, StoreError, Writer,
};

/// Files with saved provenance brought up to date before a shell command, at most.
const SHELL_SYNC_FILES: usize = 64;
/// Files attributed after one shell command, at most (a build or an install can touch
/// thousands; those are not edits anyone made).
const SHELL_CHANGED_FILES: usize = 500;

/// Strings in a payload longer than this are kept as blobs.
const INLINE_STRING_BYTES: usize = 4096;

/// The payload with every string longer than [`INLINE_STRING_BYTES`] (whole files that agents
/// send, such as Claude's `tool_response.originalFile` or a `Write`'s `content`) replaced by
/// `{"$blob": "<sha-256>", "bytes": n}`, its text stored once in the blobs table. The event stays
/// verifiable (the hash chain covers the blob's hash) and the log stops growing by whole files per
/// edit; the same text is usually already a blob as a provenance snapshot. A text that is not
/// (a `Write`'s new content, stored before the snapshot after it) is stored as a delta against
/// the edited file's latest snapshot, `near`, when that is smaller.
fn externalize_large_strings(
    writer: &mut Writer<'_>,
    payload: &str,
    near: Option<&str>,
) -> Result<String, StoreError> {
    if payload.len() <= INLINE_STRING_BYTES {
        return Ok(payload.to_owned());
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(payload) else {
        return Ok(payload.to_owned());
    };
    let base = match near {
        Some(path) => writer.latest_snapshot_hash(path)?,
        None => None,
    };
    let mut changed = false;
    externalize(writer, &mut value, base.as_ref(), &mut changed)?;
    Ok(if changed {
        value.to_string()
    } else {
        payload.to_owned()
    })
}

fn externalize(
    writer: &mut Writer<'_>,
    value: &mut serde_json::Value,
    base: Option<&ContentHash>,
    changed: &mut bool,
) -> Result<(), StoreError> {
    match value {
        serde_json::Value::String(text) if text.len() > INLINE_STRING_BYTES => {
            let hash = writer.put_blob_near(text.as_bytes(), base)?;
            *value = json!({ "$blob": hash.as_str(), "bytes": text.len() });
            *changed = true;
        }
        serde_json::Value::Array(items) => {
            for item in items {
                externalize(writer, item, base, changed)?;
            }
        }
        serde_json::Value::Object(fields) => {
            for field in fields.values_mut() {
                externalize(writer, field, base, changed)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Appends the event and, when `derived`, writes the rows it implies. Returns the event id.
pub fn record(
    writer: &mut Writer<'_>,
    payload: &str,
    observation: &Observation,
    derived: bool,
) -> Result<EventId, StoreError> {
    let event = &observation.event;
    let source = format!("hook:{}", event.agent);
    let edited = observation.files.first().map(|file| file.path.as_str());
    let payload = externalize_large_strings(writer, payload, edited)?;
    let event_id = writer.append_event(&NewEvent {
        ts_ms: observation.received_ms,
        source: &source,
        kind: &event.kind(),
        payload: &payload,
    })?;
    if !derived {
        return Ok(event_id);
    }
    let mut step = Step {
        writer,
        observation,
        event_id,
        ts_ms: observation.received_ms,
        repos: HashMap::new(),
        late: None,
    };
    step.derive()?;
    Ok(event_id)
}

struct Step<'w, 'a, 'o> {
    writer: &'w mut Writer<'a>,
    observation: &'o Observation,
    event_id: EventId,
    ts_ms: i64,
    repos: HashMap<String, RepoId>,
    /// While closing a bracket left open: the event that opened it. Anything else that touched
    /// a file since (an editor, another hook) makes the change there `untracked`.
    late: Option<(EventId, i64)>,
}

impl Step<'_, '_, '_> {
    fn derive(&mut self) -> Result<(), StoreError> {
        let event: &HookEvent = &self.observation.event;
        let repo_root = self.observation.repo.as_ref().map(|repo| repo.root.clone());
        let repo_id = self.repo_id(repo_root.as_deref())?;
        let interaction = event.interaction();
        if let (Some(interaction), Some(session)) = (&interaction, &event.session_id) {
            self.writer.touch_hook_session(&NewHookSession {
                interaction_id: interaction,
                agent: &event.agent,
                session_id: session,
                model: event.model.as_deref(),
                agent_version: event.agent_version.as_deref(),
                transcript_path: event.transcript_path.as_deref(),
                cwd: event.cwd.as_deref().and_then(Path::to_str),
                ts_ms: self.ts_ms,
                event_id: self.event_id,
            })?;
        }
        let Some(interaction) = interaction else {
            // Without a session there is no interaction to credit: the event is all there is.
            return Ok(());
        };
        self.close_left_open(&interaction)?;
        match &event.action {
            Action::Prompt { text } => self.prompt(&interaction, text, repo_id),
            Action::PreTool(call) => self.pre_tool(&interaction, call),
            Action::PostTool(call) => self.post_tool(&interaction, call),
            Action::Stop => self.stop(&interaction, "stop"),
            Action::SessionEnd => self.stop(&interaction, "session_end"),
            Action::SessionStart | Action::GitCommit | Action::Other | Action::Unparsed => Ok(()),
        }
    }

    fn repo_id(&mut self, root: Option<&str>) -> Result<Option<RepoId>, StoreError> {
        let Some(root) = root else { return Ok(None) };
        if let Some(id) = self.repos.get(root) {
            return Ok(Some(*id));
        }
        let id = self.writer.upsert_repository(root)?;
        self.repos.insert(root.to_owned(), id);
        Ok(Some(id))
    }

    fn prompt(
        &mut self,
        interaction: &str,
        text: &str,
        repo_id: Option<RepoId>,
    ) -> Result<(), StoreError> {
        let event = &self.observation.event;
        let (known_model, known_version) = self.writer.hook_session_model(interaction)?;
        let repo = self.observation.repo.as_ref();
        let turn = self.writer.record_prompt(&NewPrompt {
            interaction_id: interaction,
            prompt: text,
            agent: Some(
                event
                    .agent_name
                    .as_deref()
                    .unwrap_or(agent_name(&event.agent)),
            ),
            model: event.model.as_deref().or(known_model.as_deref()),
            agent_version: event.agent_version.as_deref().or(known_version.as_deref()),
            source: &format!("hook:{}", event.agent),
            session_id: event.session_id.as_deref(),
            repo_id,
            base_commit: repo.and_then(|repo| repo.head.as_deref()),
            branch: repo.and_then(|repo| repo.branch.as_deref()),
            cwd: event.cwd.as_deref().and_then(Path::to_str),
            ts_ms: self.ts_ms,
            event_id: self.event_id,
        })?;
        let redactions: Vec<(&str, u32)> = self
            .observation
            .redactions
            .iter()
            .map(|(kind, count)| (kind.as_str(), *count))
            .collect();
        self.writer
            .record_prompt_redactions(interaction, turn, &redactions)?;
        self.writer.reopen_hook_session(interaction)
    }

    fn stop(&mut self, interaction: &str, reason: &str) -> Result<(), StoreError> {
        // The hooks of some agents never name the model; their transcript does.
        let event = &self.observation.event;
        if event.model.is_none()
            && let Some(path) = event.transcript_path.as_deref()
        {
            let facts = super::transcript::facts(Path::new(path));
            if let Some(model) = &facts.model {
                self.writer.fill_interaction_model(interaction, model)?;
            }
            if let Some(version) = &facts.version {
                self.writer
                    .fill_interaction_agent_version(interaction, version)?;
            }
        }
        self.writer
            .close_brackets_of(interaction, "stop", self.ts_ms, self.event_id)?;
        self.writer
            .close_hook_session(interaction, reason, self.ts_ms)
    }

    /// Closes the brackets the session left open (a pre event whose post never came) and
    /// attributes what changed under them since: the agent's, unless something else could have
    /// made the change (another session's open bracket, an editor's change or save, another
    /// hook's snapshot), then `untracked`.
    fn close_left_open(&mut self, interaction: &str) -> Result<(), StoreError> {
        let observation = self.observation;
        for left in &observation.left_open {
            let bracket = if left.bracket_id > 0 {
                self.writer.bracket_if_open(left.bracket_id)?
            } else {
                // Opened by an event that was still in the spool when this one was observed.
                let (kind, path) = match (&left.file, &left.scan) {
                    (Some(file), _) => (BracketKind::File, file.path.as_str()),
                    (None, Some(scan)) => (BracketKind::Shell, scan.manifest.root.as_str()),
                    (None, None) => continue,
                };
                self.writer.find_open_bracket(
                    interaction,
                    left.tool_use_id.as_deref(),
                    &left.tool,
                    kind,
                    path,
                )?
            };
            let Some(bracket) = bracket else {
                continue; // closed meanwhile by another hook process
            };
            if bracket.interaction_id != interaction {
                continue;
            }
            self.writer
                .close_bracket(bracket.id, "next_event", self.ts_ms, self.event_id)?;
            let target = match bracket.kind {
                BracketKind::File => Target::Files(Vec::new()),
                BracketKind::Shell => Target::Shell {
                    command: None,
                    cwd: None,
                },
            };
            let call = ToolCall {
                tool: bracket.tool_name.clone(),
                tool_use_id: bracket.tool_use_id.clone(),
                target,
            };
            self.late = Some((bracket.open_event_id, bracket.opened_ms));
            let result = match (&left.file, &left.scan) {
                (Some(file), _) => match file.content.text() {
                    Some(after) => {
                        self.attribute(interaction, &call, file, Before::Bracketed, after)
                    }
                    None => Ok(()),
                },
                (None, Some(scan)) => self.shell_changes(interaction, &call, &bracket, scan),
                (None, None) => Ok(()),
            };
            self.late = None;
            result?;
        }
        Ok(())
    }

    fn pre_tool(&mut self, interaction: &str, call: &ToolCall) -> Result<(), StoreError> {
        match &call.target {
            Target::Files(_) => {
                for file in &self.observation.files {
                    // A file too large or not text is not tracked; its bracket is still opened
                    // so that other sessions know it is being edited.
                    if let Some(text) = file.content.text() {
                        // What git wrote (a checkout, a stash, a merge) is nobody's we know of.
                        let origin = if file.matches_git {
                            Origin::Unknown
                        } else {
                            self.gap_origin(&file.path, None)?
                        };
                        self.sync(file, text, &origin)?;
                    }
                    self.writer.open_bracket(&NewBracket {
                        interaction_id: interaction,
                        tool_use_id: call.tool_use_id.as_deref(),
                        tool_name: &call.tool,
                        kind: BracketKind::File,
                        path: &file.path,
                        manifest: None,
                        ts_ms: self.ts_ms,
                        event_id: self.event_id,
                    })?;
                }
                Ok(())
            }
            Target::Shell { .. } => self.pre_shell(interaction, call),
            Target::None => Ok(()),
        }
    }

    fn post_tool(&mut self, interaction: &str, call: &ToolCall) -> Result<(), StoreError> {
        match &call.target {
            Target::Files(_) => {
                for file in &self.observation.files {
                    let bracket = self.writer.find_open_bracket(
                        interaction,
                        call.tool_use_id.as_deref(),
                        &call.tool,
                        BracketKind::File,
                        &file.path,
                    )?;
                    if let Some(bracket) = &bracket {
                        self.writer
                            .close_bracket(bracket.id, "post", self.ts_ms, self.event_id)?;
                    }
                    let Some(after) = file.content.text() else {
                        continue;
                    };
                    let before = match (&bracket, &file.before) {
                        (Some(_), _) => Before::Bracketed,
                        (None, Some(before)) => Before::Known(before.clone(), "payload"),
                        (None, None) => Before::Unknown,
                    };
                    self.attribute(interaction, call, file, before, after)?;
                }
                Ok(())
            }
            Target::Shell { .. } => self.post_shell(interaction, call),
            Target::None => Ok(()),
        }
    }

    /// Who made a change seen now that nobody described: the person, unless a bracket other
    /// than `own` (a bracket of the interaction itself) covers the file.
    fn gap_origin(&mut self, path: &str, own: Option<&str>) -> Result<Origin, StoreError> {
        let covering = self.writer.open_brackets_covering(path)?;
        let contested = covering
            .iter()
            .any(|bracket| own.is_none_or(|own| bracket.interaction_id != own));
        Ok(if contested {
            Origin::Unknown
        } else {
            Origin::Human
        })
    }

    /// The file's saved provenance, as a tracked text; `None` when there is none (or it cannot
    /// be read: then nothing is known about its lines).
    fn saved(&mut self, path: &str) -> Result<Option<(TrackedText, ContentHash)>, StoreError> {
        let snapshot = match self.writer.current_snapshot(path) {
            Ok(snapshot) => snapshot,
            Err(StoreError::Corrupt(_)) => None,
            Err(error) => return Err(error),
        };
        Ok(snapshot
            .and_then(|snapshot| tracked_from(&snapshot).map(|text| (text, snapshot.content_hash))))
    }

    /// Brings the file's provenance up to `text` (changes since the last snapshot are
    /// `origin`'s) and saves it when anything changed.
    fn sync(&mut self, file: &FileSeen, text: &str, origin: &Origin) -> Result<(), StoreError> {
        let text_hash = ContentHash::of(text.as_bytes());
        let tracked = match self.saved(&file.path)? {
            Some((_, hash)) if hash == text_hash => return Ok(()),
            Some((mut tracked, _)) => {
                let report = tracked.observe(text, origin);
                self.tally(&file.path, &report)?;
                tracked
            }
            None => TrackedText::new_untracked(text),
        };
        self.save_hashed(file, text, text_hash, &tracked)
    }

    /// Attributes the change from `before` to `after` in one file to the interaction, saves the
    /// result and records the AI edit.
    fn attribute(
        &mut self,
        interaction: &str,
        call: &ToolCall,
        file: &FileSeen,
        before: Before,
        after: &str,
    ) -> Result<(), StoreError> {
        let id = InteractionId::new(interaction);
        // Another interaction's open bracket on the file contests every change seen now.
        let mut gap = self.gap_origin(&file.path, Some(interaction))?;
        // So does, for a bracket left open, anything else that touched the file meanwhile.
        if let Some((since, since_ms)) = self.late
            && matches!(gap, Origin::Human)
            && self
                .writer
                .file_touched_since(&file.path, &file_uri(&file.path), since, since_ms)?
        {
            gap = Origin::Unknown;
        }
        let mut origin = match gap {
            Origin::Human => Origin::Ai(id.clone()),
            _ => Origin::Unknown,
        };
        let saved = self.saved(&file.path)?;
        let after_hash = ContentHash::of(after.as_bytes());
        let unchanged = saved.as_ref().is_some_and(|(_, hash)| *hash == after_hash);
        let (mut tracked, source) = match before {
            Before::Bracketed if unchanged => return Ok(()),
            Before::Bracketed => match saved {
                Some((tracked, _)) => (tracked, "bracket"),
                None => (TrackedText::new_untracked(after), "none"),
            },
            Before::Known(before, source) => {
                let tracked = match saved {
                    Some((mut tracked, _)) => {
                        let report = tracked.observe(&before, &gap);
                        self.tally(&file.path, &report)?;
                        tracked
                    }
                    None => TrackedText::new_untracked(&before),
                };
                (tracked, source)
            }
            Before::Unknown if unchanged => return Ok(()),
            Before::Unknown => {
                origin = Origin::Unknown;
                match saved {
                    Some((tracked, _)) => (tracked, "none"),
                    None => (TrackedText::new_untracked(after), "none"),
                }
            }
        };
        let changed = tracked.text() != after;
        let report = tracked.observe(after, &origin);
        self.tally(&file.path, &report)?;
        self.save_hashed(file, after, after_hash, &tracked)?;
        if changed && matches!(origin, Origin::Ai(_)) {
            let lines_added = report
                .ai_lines_added
                .iter()
                .filter(|(owner, _)| *owner == id)
                .map(|(_, count)| count)
                .sum();
            let repo_id = self.repo_id(file.repo_root.as_deref())?;
            let mut detail = json!({ "tool": call.tool, "before": source });
            if let Some(tool_use_id) = &call.tool_use_id {
                detail["toolUseId"] = json!(tool_use_id);
            }
            if let Target::Shell {
                command: Some(command),
                ..
            } = &call.target
            {
                detail["command"] = json!(crate::capture::privacy::redact(command).0);
            }
            self.writer.record_ai_edit(&NewAiEdit {
                interaction_id: interaction,
                path: &file.path,
                repo_id,
                rel_path: file.rel_path.as_deref(),
                kind: "hook",
                lines_added,
                detail: Some(&detail.to_string()),
                ts_ms: self.ts_ms,
                event_id: self.event_id,
            })?;
        }
        Ok(())
    }

    fn save(
        &mut self,
        file: &FileSeen,
        text: &str,
        tracked: &TrackedText,
    ) -> Result<(), StoreError> {
        self.save_hashed(file, text, ContentHash::of(text.as_bytes()), tracked)
    }

    /// [`Step::save`] of a text already hashed (`hash` is its SHA-256): a whole file is hashed
    /// once per call, not once per use.
    fn save_hashed(
        &mut self,
        file: &FileSeen,
        text: &str,
        hash: ContentHash,
        tracked: &TrackedText,
    ) -> Result<(), StoreError> {
        let repo_id = self.repo_id(file.repo_root.as_deref())?;
        self.writer.save_snapshot_hashed(
            &NewSnapshot {
                path: &file.path,
                repo_id,
                rel_path: file.rel_path.as_deref(),
                text: text.as_bytes(),
                runs: &tracked.runs(),
                ts_ms: self.ts_ms,
                event_id: self.event_id,
            },
            hash,
        )
    }

    fn tally(&mut self, path: &str, report: &Report) -> Result<(), StoreError> {
        for (id, count) in &report.ai_lines_added {
            self.writer
                .add_line_tally(id.as_str(), path, *count, 0, 0)?;
        }
        for (id, count) in &report.ai_lines_modified {
            self.writer
                .add_line_tally(id.as_str(), path, 0, *count, 0)?;
        }
        for (id, count) in &report.ai_lines_deleted {
            self.writer
                .add_line_tally(id.as_str(), path, 0, 0, *count)?;
        }
        Ok(())
    }

    /// Before a shell command: keeps the texts the manifest read (the state to compare with
    /// afterwards), brings the provenance of tracked files up to date, opens the bracket.
    fn pre_shell(&mut self, interaction: &str, call: &ToolCall) -> Result<(), StoreError> {
        let Some(scan) = &self.observation.scan else {
            return Ok(());
        };
        let mut manifest = scan.manifest.clone();
        let mut stored: HashMap<&str, ContentHash> = HashMap::new();
        for (oid, text) in &scan.texts {
            stored.insert(oid, self.writer.put_blob(text.as_bytes())?);
        }
        for entry in manifest.files.values_mut() {
            if let Some(hash) = entry.oid.as_deref().and_then(|oid| stored.get(oid)) {
                entry.blob = Some(hash.as_str().to_owned());
            }
        }
        let root = manifest.root.clone();
        self.sync_tracked_files(&root, scan)?;
        let json = serde_json::to_vec(&manifest).unwrap_or_default();
        let manifest_hash = self.writer.put_blob(&json)?;
        self.writer.open_bracket(&NewBracket {
            interaction_id: interaction,
            tool_use_id: call.tool_use_id.as_deref(),
            tool_name: &call.tool,
            kind: BracketKind::Shell,
            path: &root,
            manifest: Some(&manifest_hash),
            ts_ms: self.ts_ms,
            event_id: self.event_id,
        })?;
        Ok(())
    }

    /// The files under `root` with saved provenance whose content differs from the scan are
    /// brought up to date, as a pre-edit event would.
    fn sync_tracked_files(&mut self, root: &str, scan: &Scan) -> Result<(), StoreError> {
        let paths = self.writer.snapshot_paths_under(root, SHELL_SYNC_FILES)?;
        let mut stale = Vec::new();
        for path in paths {
            let Some(relative) = path
                .strip_prefix(root)
                .map(|rest| rest.trim_start_matches('/').to_owned())
            else {
                continue;
            };
            let Some(oid) = scan
                .manifest
                .files
                .get(&relative)
                .and_then(|entry| entry.oid.clone())
            else {
                continue;
            };
            let saved_oid = match self.writer.current_snapshot(&path) {
                Ok(Some(snapshot)) => snapshot.text.as_deref().map(crate::git::object_id),
                _ => None,
            };
            if saved_oid.as_deref() != Some(oid.as_str()) {
                stale.push((path, relative, oid));
            }
        }
        let missing: Vec<String> = stale
            .iter()
            .filter(|(_, _, oid)| !scan.texts.contains_key(oid))
            .map(|(_, _, oid)| oid.clone())
            .collect();
        let objects = crate::git::read_objects(Path::new(root), &missing);
        for (path, relative, oid) in stale {
            let text = match scan.texts.get(&oid) {
                Some(text) => text.clone(),
                None => match objects
                    .get(&oid)
                    .map(|bytes| String::from_utf8(bytes.clone()))
                {
                    Some(Ok(text)) => text,
                    _ => continue,
                },
            };
            let file = self.file_in(root, &path, &relative);
            let origin = self.gap_origin(&path, None)?;
            self.sync(&file, &text, &origin)?;
        }
        Ok(())
    }

    fn file_in(&self, root: &str, path: &str, relative: &str) -> FileSeen {
        FileSeen {
            path: path.to_owned(),
            repo_root: Some(root.to_owned()),
            rel_path: Some(relative.to_owned()),
            content: Content::Unreadable,
            before: None,
            matches_git: false,
        }
    }

    /// After a shell command: every file whose content differs from the manifest taken before
    /// is attributed to the interaction.
    fn post_shell(&mut self, interaction: &str, call: &ToolCall) -> Result<(), StoreError> {
        let Some(scan) = &self.observation.scan else {
            return Ok(());
        };
        let root = scan.manifest.root.clone();
        let Some(bracket) = self.writer.find_open_bracket(
            interaction,
            call.tool_use_id.as_deref(),
            &call.tool,
            BracketKind::Shell,
            &root,
        )?
        else {
            // No manifest from before the command: what it changed cannot be told apart from
            // what was already changed.
            return Ok(());
        };
        self.writer
            .close_bracket(bracket.id, "post", self.ts_ms, self.event_id)?;
        self.shell_changes(interaction, call, &bracket, scan)
    }

    /// Attributes every file whose content differs between the manifest `bracket` saved before
    /// a shell command and `scan`, taken after it.
    fn shell_changes(
        &mut self,
        interaction: &str,
        call: &ToolCall,
        bracket: &Bracket,
        scan: &Scan,
    ) -> Result<(), StoreError> {
        let root = scan.manifest.root.clone();
        let before: Manifest = match &bracket.manifest {
            Some(hash) => match self.writer.read_blob(hash)? {
                Some(json) => serde_json::from_slice(&json).unwrap_or_default(),
                None => return Ok(()),
            },
            None => return Ok(()),
        };
        let after = &scan.manifest;
        let mut changed: Vec<&String> = before
            .files
            .keys()
            .chain(after.files.keys())
            .filter(|path| {
                let old = before.files.get(*path).map(|entry| &entry.oid);
                let new = after.files.get(*path).map(|entry| &entry.oid);
                old != new
            })
            .collect();
        changed.sort();
        changed.dedup();
        changed.truncate(SHELL_CHANGED_FILES);
        // Texts not kept by either scan come from git's object store.
        let mut wanted = Vec::new();
        for path in &changed {
            for manifest in [&before, after] {
                if let Some(entry) = manifest.files.get(*path)
                    && let Some(oid) = &entry.oid
                    && entry.blob.is_none()
                    && !scan.texts.contains_key(oid)
                {
                    wanted.push(oid.clone());
                }
            }
        }
        let objects = crate::git::read_objects(Path::new(&root), &wanted);
        let mut texts = TextSource {
            writer_blobs: HashMap::new(),
            scan,
            objects: &objects,
        };
        // A file that appears with the content of one that was there before was moved or copied.
        let mut by_oid: HashMap<&str, &String> = HashMap::new();
        for (path, entry) in &before.files {
            if let Some(oid) = &entry.oid {
                by_oid.entry(oid).or_insert(path);
            }
        }
        // A file moved away (its content reappears elsewhere) is not an AI deletion.
        let moved_away: Vec<&String> = changed
            .iter()
            .filter(|path| !after.files.contains_key(**path))
            .filter(|path| {
                let oid = before
                    .files
                    .get(**path)
                    .and_then(|entry| entry.oid.as_deref());
                after.files.iter().any(|(other, entry)| {
                    !before.files.contains_key(other)
                        && oid.is_some()
                        && entry.oid.as_deref() == oid
                })
            })
            .copied()
            .collect();
        for relative in changed {
            if moved_away.contains(&relative) {
                continue;
            }
            let path = format!("{}/{}", root.trim_end_matches('/'), relative);
            let old = before.files.get(relative);
            let new = after.files.get(relative);
            let after_text = match new {
                None => Some(String::new()),
                Some(entry) => texts.text(self.writer, entry)?,
            };
            let Some(after_text) = after_text else {
                continue; // too large or not text
            };
            let mut file = self.file_in(&root, &path, relative);
            file.content = Content::Text(after_text.clone());
            let source = match old {
                None => new
                    .and_then(|entry| entry.oid.as_deref())
                    .and_then(|oid| by_oid.get(oid).copied()),
                Some(_) => None,
            };
            if let Some(origin) = source {
                let origin_path = format!("{}/{}", root.trim_end_matches('/'), origin);
                self.carry(&file, &origin_path, &after_text)?;
                continue;
            }
            let before_text = match old {
                None => Some(String::new()),
                Some(entry) => texts.text(self.writer, entry)?,
            };
            let before = match before_text {
                Some(text) => Before::Known(text, "manifest"),
                None => Before::Unknown,
            };
            self.attribute_shell(interaction, call, &file, before, &after_text)?;
        }
        Ok(())
    }

    /// Like [`Step::attribute`] for a shell command, whose "before" comes from the manifest; a
    /// gap between the last snapshot and it was seen by nobody, so it is `untracked`.
    fn attribute_shell(
        &mut self,
        interaction: &str,
        call: &ToolCall,
        file: &FileSeen,
        before: Before,
        after: &str,
    ) -> Result<(), StoreError> {
        let Before::Known(before_text, _) = &before else {
            return self.attribute(interaction, call, file, Before::Unknown, after);
        };
        // Reuse the edit path with the gap made explicit: the snapshot, then the manifest's
        // text (changes in between unknown), then the command's result.
        if let Some((mut tracked, hash)) = self.saved(&file.path)?
            && hash != ContentHash::of(before_text.as_bytes())
        {
            let report = tracked.observe(before_text, &Origin::Unknown);
            self.tally(&file.path, &report)?;
            self.save(file, before_text, &tracked)?;
        }
        self.attribute(
            interaction,
            call,
            file,
            Before::Known(before_text.clone(), "manifest"),
            after,
        )
    }

    /// `file` is a move or copy of `origin`: it gets `origin`'s provenance.
    fn carry(&mut self, file: &FileSeen, origin: &str, text: &str) -> Result<(), StoreError> {
        let tracked = match self.saved(origin)? {
            Some((mut tracked, _)) => {
                tracked.observe(text, &Origin::Unknown);
                tracked
            }
            None => TrackedText::new_untracked(text),
        };
        self.save(file, text, &tracked)
    }
}

/// What is known about a file before an edit.
enum Before {
    /// A pre event saved it: the latest snapshot is the state before.
    Bracketed,
    /// Rebuilt from the payload or a manifest (the name says which).
    Known(String, &'static str),
    Unknown,
}

/// Texts of manifest entries: kept by the scan, stored as blobs, or in git's object store.
struct TextSource<'s> {
    writer_blobs: HashMap<String, Option<String>>,
    scan: &'s Scan,
    objects: &'s HashMap<String, Vec<u8>>,
}

impl TextSource<'_> {
    fn text(
        &mut self,
        writer: &mut Writer<'_>,
        entry: &worktree::Entry,
    ) -> Result<Option<String>, StoreError> {
        let Some(oid) = &entry.oid else {
            return Ok(None);
        };
        if let Some(text) = self.scan.texts.get(oid) {
            return Ok(Some(text.clone()));
        }
        if let Some(blob) = &entry.blob {
            if let Some(text) = self.writer_blobs.get(blob) {
                return Ok(text.clone());
            }
            let text = match ContentHash::from_hex(blob) {
                Some(hash) => writer
                    .read_blob(&hash)?
                    .and_then(|bytes| String::from_utf8(bytes).ok()),
                None => None,
            };
            self.writer_blobs.insert(blob.clone(), text.clone());
            return Ok(text);
        }
        Ok(self
            .objects
            .get(oid)
            .and_then(|bytes| String::from_utf8(bytes.clone()).ok()))
    }
}

/// A snapshot as a tracked text, `None` when its text is not stored or not UTF-8.
fn tracked_from(snapshot: &Snapshot) -> Option<TrackedText> {
    let text = std::str::from_utf8(snapshot.text.as_deref()?).ok()?;
    Some(TrackedText::with_provenance(
        text,
        expand_runs(&snapshot.runs),
    ))
}

/// The `file://` URI an editor gives the file at `path`, as the language server records it
/// (`lsp::conv::path_to_uri`'s encoding).
fn file_uri(path: &str) -> String {
    let mut uri = String::from("file://");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// The agent names `interactions.agent` uses.
fn agent_name(agent: &str) -> &str {
    match agent {
        "claude" => "claude-code",
        "copilot" => "copilot-cli",
        "gemini" => "gemini-cli",
        other => other,
    }
}
