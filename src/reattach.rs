//! Re-attaching saved provenance to a file as it is now.
//!
//! Used when the daemon reopens a document, by `prodcode blame` and by commit linking. Unchanged
//! content gets its saved provenance back; lines that changed while nothing watched become
//! `Untracked`, because nobody knows who changed them. A [`LineMemory`] of the file's older
//! snapshots can then give back lines that git restored (a revert, a stash pop, a checkout):
//! only a line with enough content to identify it, and only when every older snapshot holding
//! it agrees on its provenance.

use std::collections::HashMap;

use crate::attribution::TrackedText;
use crate::model::{ContentHash, Origin, Provenance, expand_runs};
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

/// Fewer alphanumeric characters than this and a line says nothing about where it came from
/// (`}`, `);`, a blank line).
const MIN_ALNUM: usize = 4;

/// Whether `line` has enough content to be recognised elsewhere.
pub fn identifies(line: &str) -> bool {
    line.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_ALNUM
}

/// What older snapshots of one file say about line contents.
#[derive(Default)]
pub struct LineMemory {
    /// Line content (whitespace-trimmed at the end) -> its one provenance, `None` when
    /// snapshots disagree.
    lines: HashMap<String, Option<Provenance>>,
}

impl LineMemory {
    pub fn from_snapshots<'a>(snapshots: impl IntoIterator<Item = &'a Snapshot>) -> LineMemory {
        let mut memory = LineMemory::default();
        for snapshot in snapshots {
            let Some(text) = snapshot.text.as_deref().map(String::from_utf8_lossy) else {
                continue;
            };
            let tracked = TrackedText::with_provenance(&text, expand_runs(&snapshot.runs));
            for (index, provenance) in tracked.provenance().iter().enumerate() {
                if *provenance == Provenance::Untracked {
                    continue;
                }
                let Some(content) = tracked.line_content(index as u32) else {
                    continue;
                };
                let content = content.trim_end_matches(['\r', '\n']);
                if !identifies(content) {
                    continue;
                }
                memory
                    .lines
                    .entry(content.to_owned())
                    .and_modify(|seen| {
                        if seen.as_ref() != Some(provenance) {
                            *seen = None;
                        }
                    })
                    .or_insert_with(|| Some(provenance.clone()));
            }
        }
        memory
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The one provenance recorded for a line with this content, if there is one.
    pub fn recall(&self, line: &str) -> Option<&Provenance> {
        self.lines
            .get(line.trim_end_matches(['\r', '\n']))
            .and_then(Option::as_ref)
    }

    /// `tracked` with its untracked lines filled from memory.
    pub fn fill(&self, tracked: TrackedText) -> TrackedText {
        if self.is_empty() || !tracked.provenance().contains(&Provenance::Untracked) {
            return tracked;
        }
        let mut provenance = tracked.provenance().to_vec();
        let mut changed = false;
        for (index, slot) in provenance.iter_mut().enumerate() {
            if *slot != Provenance::Untracked {
                continue;
            }
            if let Some(recalled) = tracked
                .line_content(index as u32)
                .and_then(|content| self.recall(content))
            {
                *slot = recalled.clone();
                changed = true;
            }
        }
        if !changed {
            return tracked;
        }
        TrackedText::with_provenance(&tracked.text(), provenance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InteractionId, ProvenanceRun};

    fn snapshot(text: &str, runs: &[(u32, u32, Provenance)]) -> Snapshot {
        Snapshot {
            path: "/r/a.rs".into(),
            content_hash: ContentHash::of(text.as_bytes()),
            text: Some(text.as_bytes().to_vec()),
            runs: runs
                .iter()
                .map(|(start, end, provenance)| ProvenanceRun {
                    start: *start,
                    end: *end,
                    provenance: provenance.clone(),
                })
                .collect(),
            ts_ms: 0,
        }
    }

    #[test]
    fn memory_restores_lines_older_snapshots_agree_on() {
        let ai = Provenance::Ai(InteractionId::new("x"));
        let older = snapshot("let kept = 1;\n}\n", &[(0, 2, ai.clone())]);
        let disagreeing = snapshot("let moot = 2;\n", &[(0, 1, Provenance::Human)]);
        let other = snapshot("let moot = 2;\n", &[(0, 1, ai.clone())]);
        let memory = LineMemory::from_snapshots([&older, &disagreeing, &other]);
        let tracked = TrackedText::new_untracked("let kept = 1;\n}\nlet moot = 2;\n");
        let filled = memory.fill(tracked);
        assert_eq!(
            filled.provenance()[..3],
            [ai, Provenance::Untracked, Provenance::Untracked],
            "`}}` identifies nothing; `moot` is ambiguous"
        );
    }
}
