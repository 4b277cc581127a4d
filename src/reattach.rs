//! Re-attaching saved provenance to a file as it is now.
//!
//! Used when the daemon reopens a document, by `prodcode blame` and by commit linking. Unchanged
//! content gets its saved provenance back; lines that changed while nothing watched become
//! `Untracked`, because nobody knows who changed them. Older snapshots are not searched for a
//! line's text: equal text is no evidence of who wrote it (issue 10); lines git copies between
//! commits are traced through the commits instead (`link`).

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

/// As [`reattach`], through `committed` (what git committed of the file after the snapshot was
/// saved): lines the snapshot had that git's version lacks are gone, even if the same text is
/// back on disk now; someone typed it again, or git brought it from somewhere nobody recorded
/// (issue 10).
pub fn reattach_through(snapshot: &Snapshot, committed: &str, current: &str) -> TrackedText {
    let mut tracked = reattach(Some(snapshot), committed);
    tracked.observe(current, &Origin::Unknown);
    tracked
}

/// `snapshot`'s provenance on `text`, when `text` is exactly what it recorded.
pub fn exact(snapshot: &Snapshot, text: &[u8]) -> Option<TrackedText> {
    if snapshot.content_hash != ContentHash::of(text) {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    Some(TrackedText::with_provenance(
        text,
        expand_runs(&snapshot.runs),
    ))
}

/// Fewer alphanumeric characters than this and a line says nothing about where it came from
/// (`}`, `);`, a blank line).
const MIN_ALNUM: usize = 4;

/// Whether `line` has enough content to be recognised elsewhere.
pub fn identifies(line: &str) -> bool {
    line.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_ALNUM
}
