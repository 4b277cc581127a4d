//! A change nobody described (a full `didChange`, a checkpoint bracket, a file changed on disk):
//! a line diff decides which lines are unchanged, changed or new.
//!
//! Lines are compared by content without their terminators, so a line whose only change is its
//! line ending counts as unchanged. The alignment is `crate::linediff`'s, the rule that also
//! counts a commit's added lines, so an insertion among equal lines is placed where the commit
//! will count it. Within a changed hunk, old and new lines are paired in order; a pair that still
//! shares most of its text is the old line changed, anything else is new.
//!
//! The empty last line after a final line break (LSP counts it, git does not) takes no part in
//! the alignment: matched with a new blank line it would hand that line its provenance, so an
//! agent's blank line came out `untracked` and a person's appended blank line the agent's
//! (issue 10). It keeps its own provenance, and is never anybody's new line.

use std::ops::Range;

use super::rules::{count_carried, count_removed, count_result, from_origin, merge};
use super::text::{content, lines};
use super::{Report, TrackedText};
use crate::model::{Origin, Provenance};

/// Replaces the document's text with `new_text`, changed by `origin`.
pub(crate) fn observe(doc: &mut TrackedText, new_text: &str, origin: &Origin, report: &mut Report) {
    let new_lines: Vec<&str> = lines(new_text).collect();
    let old_real = real_len(&doc.lines);
    let new_real = real_len(&new_lines);
    let hunks = line_hunks(&doc.lines[..old_real], &new_lines[..new_real]);

    // The empty last line, aside until the real lines are done.
    let old_last = (old_real < doc.lines.len()).then(|| doc.provenance[old_real].clone());
    doc.lines.truncate(old_real);
    doc.provenance.truncate(old_real);

    // Lines before the first hunk and after the last are unchanged: only a terminator may
    // differ, and the line keeps its provenance. Only the middle is rebuilt.
    let (old_middle, new_middle) = match (hunks.first(), hunks.last()) {
        (Some(first), Some(last)) => (
            range_of(&first.before).start..range_of(&last.before).end,
            range_of(&first.after).start..range_of(&last.after).end,
        ),
        _ => (old_real..old_real, new_real..new_real),
    };
    let (head, rest) = doc.lines.split_at_mut(old_middle.start);
    let tail = &mut rest[old_middle.len()..];
    let unchanged = head
        .iter_mut()
        .zip(&new_lines[..new_middle.start])
        .chain(tail.iter_mut().zip(&new_lines[new_middle.end..new_real]));
    for (old, new) in unchanged {
        if old != new {
            old.clear();
            old.push_str(new);
        }
    }

    if !hunks.is_empty() {
        let mut rebuild = Rebuild {
            old_lines: &mut doc.lines[old_middle.clone()],
            old_provenance: &doc.provenance[old_middle.clone()],
            new_lines: &new_lines[new_middle.clone()],
            lines: Vec::with_capacity(new_middle.len()),
            provenance: Vec::with_capacity(new_middle.len()),
        };
        let (mut old_at, mut new_at) = (0, 0);
        for hunk in &hunks {
            let before = shift(range_of(&hunk.before), old_middle.start);
            let after = shift(range_of(&hunk.after), new_middle.start);
            rebuild.keep(old_at, new_at..after.start);
            rebuild.replace(before.clone(), after.clone(), origin, report);
            (old_at, new_at) = (before.end, after.end);
        }
        let (lines, provenance) = (rebuild.lines, rebuild.provenance);
        doc.lines.splice(old_middle.clone(), lines);
        doc.provenance.splice(old_middle, provenance);
    }

    if new_real < new_lines.len() {
        doc.lines.push(String::new());
        doc.provenance
            .push(old_last.unwrap_or(Provenance::Untracked));
    }
}

/// How many of `lines` take part in alignment: all but an empty last line.
fn real_len<T: AsRef<str>>(lines: &[T]) -> usize {
    match lines.last() {
        Some(last) if last.as_ref().is_empty() => lines.len() - 1,
        _ => lines.len(),
    }
}

fn shift(range: Range<usize>, by: usize) -> Range<usize> {
    range.start - by..range.end - by
}

/// The new lines and provenance of the changed middle of the document, built hunk by hunk from
/// the old ones. Indexes are relative to the middle.
struct Rebuild<'a> {
    old_lines: &'a mut [String],
    old_provenance: &'a [Provenance],
    new_lines: &'a [&'a str],
    lines: Vec<String>,
    provenance: Vec<Provenance>,
}

impl Rebuild<'_> {
    /// Unchanged lines: new lines `new`, matching old lines from `old_start` on, keep their
    /// provenance, and their buffer when even the terminator is the same.
    fn keep(&mut self, old_start: usize, new: Range<usize>) {
        for (offset, new_at) in new.enumerate() {
            let old_at = old_start + offset;
            let new_line = self.new_lines.get(new_at).copied().unwrap_or("");
            let reused = self
                .old_lines
                .get_mut(old_at)
                .filter(|line| line.as_str() == new_line)
                .map(std::mem::take);
            self.lines
                .push(reused.unwrap_or_else(|| new_line.to_owned()));
            let provenance = self.old_provenance.get(old_at).cloned();
            self.provenance
                .push(provenance.unwrap_or(Provenance::Untracked));
        }
    }

    /// A hunk: old lines `before` became new lines `after`. Lines are paired in order; a similar
    /// pair is the old line changed by `origin`, every other new line is entirely `origin`'s.
    fn replace(
        &mut self,
        before: Range<usize>,
        after: Range<usize>,
        origin: &Origin,
        report: &mut Report,
    ) {
        for offset in 0..before.len().max(after.len()) {
            let old_at = (offset < before.len()).then_some(before.start + offset);
            let new_at = (offset < after.len()).then_some(after.start + offset);
            let was = old_at.and_then(|at| self.old_provenance.get(at));
            let Some(new_at) = new_at else {
                if let Some(was) = was {
                    count_removed(report, was);
                }
                continue;
            };
            let new_line = self.new_lines.get(new_at).copied().unwrap_or("");
            let old_line = old_at.and_then(|at| self.old_lines.get(at));
            let changed_from = was.filter(|_| {
                old_line.is_some_and(|old_line| similar(content(old_line), content(new_line)))
            });
            let now = match changed_from {
                Some(was) => {
                    let now = merge(was, origin);
                    count_carried(report, was, &now);
                    count_result(report, Some(was), &now);
                    now
                }
                None => {
                    if let Some(was) = was {
                        count_removed(report, was);
                    }
                    let now = from_origin(origin);
                    count_result(report, None, &now);
                    now
                }
            };
            self.lines.push(new_line.to_owned());
            self.provenance.push(now);
        }
    }
}

/// The changed hunks between two line lists, compared by content.
fn line_hunks(old: &[String], new: &[&str]) -> Vec<crate::linediff::Hunk> {
    let old: Vec<&str> = old.iter().map(|line| content(line)).collect();
    let new: Vec<&str> = new.iter().map(|line| content(line)).collect();
    crate::linediff::hunks(&old, &new)
}

fn range_of(range: &Range<u32>) -> Range<usize> {
    let index = |at: u32| usize::try_from(at).unwrap_or(usize::MAX);
    index(range.start)..index(range.end).max(index(range.start))
}

/// Whether `new` is `old` changed rather than replaced: their common prefix and common suffix
/// (not overlapping) cover at least half of the longer one, which is not empty.
pub(crate) fn similar(old: &str, new: &str) -> bool {
    let (old, new) = (old.as_bytes(), new.as_bytes());
    let longer = old.len().max(new.len());
    if longer == 0 {
        return false;
    }
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let room = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    2 * (prefix + suffix) >= longer
}
