//! `textDocument/didOpen|didChange|didSave|didClose`: the text timeline of every open document.
//!
//! Changes are applied in exactly the order they arrive (the main loop is the only caller), and
//! every change outside an AI bracket is a person's typing.

use std::collections::VecDeque;

use lsp_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams,
};
use serde_json::json;

use crate::attribution::{ChangeShape, Report, TextChange, TrackedText};
use crate::git;
use crate::model::{ContentHash, Origin};

use super::HandlerResult;
use crate::lsp::conv;
use crate::lsp::recorder::{Action, SnapshotRow};
use crate::lsp::state::{Document, GlobalState, HISTORY};

pub fn did_open(state: &mut GlobalState, params: DidOpenTextDocumentParams) -> HandlerResult<()> {
    let document = params.text_document;
    let uri = document.uri.as_str().to_owned();
    let path = conv::uri_to_path(&uri);
    let repo_root = path.as_deref().and_then(|path| state.repo_root(path));
    let rel_path = match (&repo_root, &path) {
        (Some(root), Some(path)) => git::relative_path(root, path),
        _ => None,
    };
    let text = restore(state, path.as_deref(), &document.text);
    let hash = ContentHash::of(document.text.as_bytes());
    let store_path = match &path {
        Some(path) => path.to_string_lossy().into_owned(),
        None => uri.clone(),
    };
    let payload = json!({
        "textDocument": {
            "uri": uri,
            "languageId": document.language_id,
            "version": document.version,
        },
        "contentHash": hash.as_str(),
        "bytes": document.text.len(),
    });
    if let Some(root) = repo_root
        .as_ref()
        .filter(|root| state.seen_roots.insert((*root).clone()))
    {
        state.linker.watch(root);
        state.recorder.record(
            "lsp.repository",
            &json!({ "root": root }).to_string(),
            Action::Repository {
                root: root.to_string_lossy().into_owned(),
            },
        );
    }
    state.recorder.record(
        "lsp.didOpen",
        &payload.to_string(),
        Action::Blob {
            text: document.text,
            path: Some(store_path),
        },
    );
    state.documents.insert(
        uri,
        Document {
            path,
            repo_root,
            rel_path,
            version: document.version,
            text,
            history: VecDeque::new(),
            watch: None,
        },
    );
    Ok(())
}

/// A document opened again re-attaches to what was recorded for it: unchanged files get their
/// saved provenance back; lines that changed while nobody watched become untracked.
fn restore(state: &mut GlobalState, path: Option<&std::path::Path>, text: &str) -> TrackedText {
    let Some(path) = path else {
        return TrackedText::new_untracked(text);
    };
    // A snapshot of this path may still be queued (closed and reopened at once).
    state.flush(false);
    let Some(store) = state.recorder.store() else {
        return TrackedText::new_untracked(text);
    };
    let snapshot = match store.latest_snapshot(&path.to_string_lossy()) {
        Ok(Some(snapshot)) => snapshot,
        Ok(None) => return TrackedText::new_untracked(text),
        Err(error) => {
            tracing::warn!(
                "could not read the saved provenance of {}: {error}",
                path.display()
            );
            return TrackedText::new_untracked(text);
        }
    };
    // Lines the snapshot lacks are `untracked`, even when an older snapshot had the same text: a
    // person may have typed it again while nothing watched (issue 10). Lines git brought back
    // get their provenance from the commits that recorded them (`prodcode blame`, `link`). When
    // git changed the committed file since the snapshot, what the snapshot had only counts as far
    // as git's version still has it.
    match committed_since(path, &snapshot) {
        Some(committed) => crate::reattach::reattach_through(&snapshot, &committed, text),
        None => crate::reattach::reattach(Some(&snapshot), text),
    }
}

/// What HEAD holds of `path`, when the snapshot's version was committed and git has changed the
/// committed file since (a restore committed, another branch checked out, a reset).
fn committed_since(path: &std::path::Path, snapshot: &crate::store::Snapshot) -> Option<String> {
    let saved = snapshot.text.as_deref()?;
    let repo = crate::git::Repo::open(path).ok()?;
    let relative = crate::git::relative_path(repo.root(), path)?;
    let head = repo.resolve("HEAD").ok()?;
    String::from_utf8(repo.superseded(&head, &relative, saved, snapshot.ts_ms)?).ok()
}

pub fn did_change(
    state: &mut GlobalState,
    params: DidChangeTextDocumentParams,
    raw: &str,
) -> HandlerResult<()> {
    let uri = params.text_document.uri.as_str();
    state.recorder.record("lsp.didChange", raw, Action::None);
    let encoding = state.encoding;
    let Some(document) = state.documents.get_mut(uri) else {
        tracing::warn!("a change for {uri}, which is not open: recorded, not applied");
        return Ok(());
    };
    let before = document.version;
    let mut shapes = Vec::with_capacity(params.content_changes.len());
    let mut reports = Vec::new();
    for change in params.content_changes {
        let change = TextChange {
            range: change.range.map(conv::range),
            text: change.text,
        };
        let report = document
            .text
            .apply_change(&change, encoding, &Origin::Human);
        shapes.push(ChangeShape::of(&change, encoding));
        if !report_is_empty(&report) {
            reports.push(report);
        }
    }
    document.version = params.text_document.version;
    if document.history.len() == HISTORY {
        document.history.pop_front();
    }
    document
        .history
        .push_back((before, document.version, shapes));
    let watched = document.watch.is_some();
    let store_path = document.store_path(uri);
    for report in reports {
        apply_report(state, &store_path, uri, &report);
    }
    if watched {
        super::external::try_adopt(state, uri);
    }
    Ok(())
}

fn report_is_empty(report: &Report) -> bool {
    report.warnings.is_empty()
        && report.ai_lines_added.is_empty()
        && report.ai_lines_deleted.is_empty()
        && report.ai_lines_modified.is_empty()
}

/// Logs a report's warnings and adds its AI line counts to the retention figures.
pub fn apply_report(state: &mut GlobalState, store_path: &str, uri: &str, report: &Report) {
    for warning in &report.warnings {
        tracing::warn!("{uri}: {warning:?}");
    }
    for (id, count) in &report.ai_lines_added {
        state.recorder.tally(id.as_str(), store_path, *count, 0, 0);
    }
    for (id, count) in &report.ai_lines_modified {
        state.recorder.tally(id.as_str(), store_path, 0, *count, 0);
    }
    for (id, count) in &report.ai_lines_deleted {
        state.recorder.tally(id.as_str(), store_path, 0, 0, *count);
    }
}

pub fn did_save(
    state: &mut GlobalState,
    params: DidSaveTextDocumentParams,
    raw: &str,
) -> HandlerResult<()> {
    let uri = params.text_document.uri.as_str();
    let action = snapshot(state, uri);
    state.recorder.record("lsp.didSave", raw, action);
    Ok(())
}

pub fn did_close(
    state: &mut GlobalState,
    params: DidCloseTextDocumentParams,
    raw: &str,
) -> HandlerResult<()> {
    let uri = params.text_document.uri.as_str();
    let action = snapshot(state, uri);
    state.recorder.record("lsp.didClose", raw, action);
    state.documents.remove(uri);
    for documents in state.checkpoints.values_mut() {
        documents.retain(|(open, _)| open != uri);
    }
    state
        .checkpoints
        .retain(|_, documents| !documents.is_empty());
    Ok(())
}

/// The provenance of an open document as it stands, to be saved with the next write.
fn snapshot(state: &GlobalState, uri: &str) -> Action {
    let Some(document) = state.documents.get(uri) else {
        tracing::warn!("{uri} is not open: nothing to save");
        return Action::None;
    };
    if document.path.is_none() {
        return Action::None;
    }
    Action::Snapshot(SnapshotRow {
        path: document.store_path(uri),
        repo_root: document
            .repo_root
            .as_ref()
            .map(|root| root.to_string_lossy().into_owned()),
        rel_path: document.rel_path.clone(),
        text: document.text.text(),
        runs: document.text.runs(),
    })
}
