//! Re-attaching saved provenance to a file as it is now.
//!
//! Used when the daemon reopens a document and by `prodcode blame`. Unchanged content gets its
//! saved provenance back; lines that changed while nothing watched become `Untracked`, because
//! nobody knows who changed them.

use crate::attribution::TrackedText;
use crate::model::{ContentHash, Origin, expand_runs};
use crate::store::Snapshot;

pub fn reattach(snapshot: Option<&Snapshot>, current: &str) -> TrackedText {
    let Some(snapshot) = snapshot else {
        return TrackedText::new_untracked(current);
    };
    let provenance = expand_runs(&snapshot.runs);
    if snapshot.content_hash == ContentHash::of(current.as_bytes()) {
        return TrackedText::with_provenance(current, provenance);
    }
    match snapshot
        .text
        .as_deref()
        .and_then(|saved| std::str::from_utf8(saved).ok())
    {
        Some(saved) => {
            let mut tracked = TrackedText::with_provenance(saved, provenance);
            tracked.observe(current, &Origin::Unknown);
            tracked
        }
        None => TrackedText::new_untracked(current),
    }
}
