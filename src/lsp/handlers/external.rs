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
use crate::lsp::state::{Document, GlobalState, Watch};
use crate::model::{ContentHash, expand_runs};
use crate::store::Snapshot;

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
    let watched: Vec<String> = state
        .documents
        .iter()
        .filter(|(uri, document)| paths.contains(&document.store_path(uri)))
        .map(|(uri, _)| uri.clone())
        .collect();
    for uri in watched {
        watch(state, &uri);
    }
}

/// Starts watching `uri` for the newest snapshot of it, and adopts it at once if it matches.
fn watch(state: &mut GlobalState, uri: &str) {
    let Some(document) = state.documents.get_mut(uri) else {
        return;
    };
    let Some(store) = state.recorder.store() else {
        return;
    };
    let path = document.store_path(uri);
    match store.latest_snapshot(&path) {
        Ok(Some(snapshot)) => {
            let bytes = snapshot.text.as_ref().map_or(usize::MAX, Vec::len);
            document.watch = Some(Watch {
                until: Instant::now() + WATCH_FOR,
                bytes,
            });
            adopt_if_same(document, uri, &snapshot);
        }
        Ok(None) => {}
        Err(error) => tracing::warn!("could not read the saved provenance of {path}: {error}"),
    }
}

/// After a change to a watched document: adopts the watched snapshot if the text now matches.
/// The size is compared first, so typing in a watched document costs no hashing.
pub fn try_adopt(state: &mut GlobalState, uri: &str) {
    let Some(document) = state.documents.get_mut(uri) else {
        return;
    };
    let Some(watch) = &document.watch else {
        return;
    };
    if Instant::now() > watch.until {
        document.watch = None;
        return;
    }
    if document.text.byte_len() != watch.bytes {
        return;
    }
    let Some(store) = state.recorder.store() else {
        return;
    };
    let path = document.store_path(uri);
    match store.latest_snapshot(&path) {
        Ok(Some(snapshot)) => adopt_if_same(document, uri, &snapshot),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!("could not read the saved provenance of {path}: {error}");
            document.watch = None;
        }
    }
}

fn adopt_if_same(document: &mut Document, uri: &str, snapshot: &Snapshot) {
    let text = document.text.text();
    if snapshot.content_hash != ContentHash::of(text.as_bytes()) {
        return;
    }
    document.text = TrackedText::with_provenance(&text, expand_runs(&snapshot.runs));
    document.watch = None;
    tracing::info!("{uri}: adopted provenance another channel saved");
}
