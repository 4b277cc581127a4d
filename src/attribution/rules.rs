//! The provenance rules: what a line becomes when someone writes it or changes it, and how those
//! transitions are counted in a [`Report`].

use super::Report;
use crate::model::{InteractionId, Origin, Provenance};

/// The provenance of a line written entirely by `origin`.
pub(crate) fn from_origin(origin: &Origin) -> Provenance {
    match origin {
        Origin::Human => Provenance::Human,
        Origin::Ai(id) => Provenance::Ai(id.clone()),
        Origin::Unknown => Provenance::Untracked,
    }
}

/// The provenance of a line that keeps part of its old text (`old`) and was changed by `origin`.
///
/// A person changing an AI line makes it `AiModified`, and a human line stays `Human`; an AI
/// changing any line makes it its own; a change nobody can name leaves no evidence, so the line
/// becomes `Untracked`. So does a person's change of an `Untracked` line: what it kept is
/// nobody's we know of, and may be an agent's whose evidence was lost (a line git restored), so
/// calling the result `Human` would be a guess (issue 10).
pub(crate) fn merge(old: &Provenance, origin: &Origin) -> Provenance {
    match (origin, old) {
        (Origin::Human, Provenance::Ai(id) | Provenance::AiModified(id)) => {
            Provenance::AiModified(id.clone())
        }
        (Origin::Human, Provenance::Human) => Provenance::Human,
        (Origin::Human, Provenance::Untracked) => Provenance::Untracked,
        (Origin::Ai(id), _) => Provenance::Ai(id.clone()),
        (Origin::Unknown, _) => Provenance::Untracked,
    }
}

/// Counts an old line that is gone: an AI line counts as deleted for its interaction.
pub(crate) fn count_removed(report: &mut Report, old: &Provenance) {
    if let Some(id) = old.interaction() {
        bump(&mut report.ai_lines_deleted, id);
    }
}

/// Counts an old line whose text lives on in a line that now has provenance `new`.
///
/// `Ai(i)` becoming `AiModified(i)` counts as modified. An AI line that no longer names its
/// interaction at all (another interaction rewrote it, or nobody knows who changed it) no longer
/// counts for that interaction, so it counts as deleted for it.
pub(crate) fn count_carried(report: &mut Report, old: &Provenance, new: &Provenance) {
    match (old, new) {
        (Provenance::Ai(was), Provenance::AiModified(now)) if was == now => {
            bump(&mut report.ai_lines_modified, was);
        }
        _ => {
            if let Some(was) = old.interaction()
                && new.interaction() != Some(was)
            {
                bump(&mut report.ai_lines_deleted, was);
            }
        }
    }
}

/// Counts a line of the result: it counts as added when it is `Ai(i)` and was not `Ai(i)`
/// before (`old` is `None` for a line that is entirely new).
pub(crate) fn count_result(report: &mut Report, old: Option<&Provenance>, new: &Provenance) {
    if let Provenance::Ai(id) = new
        && old != Some(new)
    {
        bump(&mut report.ai_lines_added, id);
    }
}

/// Adds one to the count of `id`, keeping one entry per interaction in first-seen order.
fn bump(counts: &mut Vec<(InteractionId, u32)>, id: &InteractionId) {
    match counts.iter_mut().find(|(seen, _)| seen == id) {
        Some((_, count)) => *count = count.saturating_add(1),
        None => counts.push((id.clone(), 1)),
    }
}
