//! Provenance saved by other channels while a document is open here.
//!
//! A terminal agent edits files on disk, and its hook saves the attributed result to the store.
//! The editor then reloads the file, which reaches the daemon as ordinary `didChange` events that
//! would read as human typing. So the daemon watches the store for snapshots saved by anyone:
//! when a document it has open gets a newer snapshot whose content is exactly the document's
//! text, the daemon adopts that snapshot's provenance. The reload and the hook's snapshot may
//! arrive in either order, so a document stays watched for a short while after a new snapshot
//! of it appears.

use std::time::{Duration, Instant};

use crate::attribution::TrackedText;
use crate::lsp::state::GlobalState;
use crate::model::{ContentHash, expand_runs};

/// How often the store is asked whether anyone saved provenance.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// How long a document stays watched after a snapshot of it appeared.
const WATCH_FOR: Duration = Duration::from_secs(10);

/// Notices snapshots saved since the last look and marks their open documents as watched.
pub fn poll(state: &mut GlobalState) {
    state.last_poll = Instant::now();
    if state.documents.is_empty() {
        return;
    }
    let Some(store) = state.recorder.store() else {
        return;
    };
    let (head, paths) = match store.snapshot_paths_since(state.snapshot_watermark) {
        Ok(found) => found,
        Err(error) => {
            tracing::debug!("could not look for new snapshots: {error}");
            return;
        }
    };
    state.snapshot_watermark = head;
    if paths.is_empty() {
        return;
    }
    let until = Instant::now() + WATCH_FOR;
    let watched: Vec<String> = state
        .documents
        .iter_mut()
        .filter(|(uri, document)| paths.contains(&document.store_path(uri)))
        .map(|(uri, document)| {
            document.watch_until = Some(until);
            uri.clone()
        })
        .collect();
    for uri in watched {
        try_adopt(state, &uri);
    }
}

/// Adopts the stored provenance of `uri` if the newest snapshot has exactly its text.
pub fn try_adopt(state: &mut GlobalState, uri: &str) {
    let Some(document) = state.documents.get_mut(uri) else {
        return;
    };
    let Some(until) = document.watch_until else {
        return;
    };
    if Instant::now() > until {
        document.watch_until = None;
        return;
    }
    let Some(store) = state.recorder.store() else {
        return;
    };
    let path = document.store_path(uri);
    let snapshot = match store.latest_snapshot(&path) {
        Ok(Some(snapshot)) => snapshot,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!("could not read the saved provenance of {path}: {error}");
            document.watch_until = None;
            return;
        }
    };
    let text = document.text.text();
    if snapshot.content_hash != ContentHash::of(text.as_bytes()) {
        return;
    }
    document.text = TrackedText::with_provenance(&text, expand_runs(&snapshot.runs));
    document.watch_until = None;
    tracing::info!("{uri}: adopted provenance another channel saved");
}
