//! One ranged content change (the incremental `didChange` path): replace the text between two
//! places and decide the provenance of every line the replacement produced.
//!
//! The work is proportional to the lines the change touches plus one splice of the line and
//! provenance vectors; a change inside one line edits that line's `String` in place and
//! allocates nothing.

use std::ops::Range;

use super::rules::{count_carried, count_removed, count_result, from_origin, merge};
use super::text::{content, lines, split_terminator};
use super::{Report, TrackedText};
use crate::model::{Origin, Provenance};

/// A place in the document: a line index and a byte offset (a character boundary) in that
/// line's content.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct Spot {
    pub(crate) line: usize,
    pub(crate) byte: usize,
}

/// Where the provenance of one result line comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    /// The line is the old start line, unchanged in content: it keeps its provenance.
    KeepStart,
    /// The line is the old end line, unchanged in content: it keeps its provenance.
    KeepEnd,
    /// The line keeps a part of the old start line and was changed.
    MergeStart,
    /// The line keeps a part of the old end line and was changed.
    MergeEnd,
    /// The line holds only inserted text.
    New,
}

/// What the provenance decision needs to know about the replaced region.
struct Region {
    /// The change starts and ends on the same old line.
    same_line: bool,
    /// Byte offset of the change start in the start line's content.
    start_byte: usize,
    /// Length of the start line's content.
    start_len: usize,
    /// Byte offset of the change end in the end line's content.
    end_byte: usize,
    /// Length of the end line's content after the change end.
    suffix_len: usize,
}

impl Region {
    /// The source of the only result line, when the replacement produced one line.
    /// `inserted` says whether inserted text landed in its content; `unchanged` whether its
    /// content equals the old start line's (only meaningful on one line).
    fn single(&self, inserted: bool, unchanged: bool) -> Source {
        let prefix_empty = self.start_byte == 0;
        if !inserted && prefix_empty && self.end_byte == 0 {
            // Whole lines before the end line were removed; what is left is the end line.
            return Source::KeepEnd;
        }
        if !inserted && self.start_byte == self.start_len && self.suffix_len == 0 {
            // Everything after the start line's content was removed; the start line is left.
            return Source::KeepStart;
        }
        if unchanged && self.same_line {
            return Source::KeepStart;
        }
        match (prefix_empty, self.suffix_len == 0) {
            (true, true) => Source::New,
            (false, _) => Source::MergeStart,
            (true, false) => Source::MergeEnd,
        }
    }

    /// The source of the first of several result lines.
    fn first(&self, inserted: bool) -> Source {
        if !inserted && self.start_byte == self.start_len {
            Source::KeepStart
        } else if self.start_byte == 0 {
            Source::New
        } else {
            Source::MergeStart
        }
    }

    /// The source of the last of several result lines, given the first one's.
    fn last(&self, inserted: bool, first: Source) -> Source {
        if !inserted && self.end_byte == 0 {
            // One old line cannot be kept twice: the start line already kept it.
            if self.same_line && first == Source::KeepStart {
                Source::New
            } else {
                Source::KeepEnd
            }
        } else if self.suffix_len == 0 {
            Source::New
        } else {
            Source::MergeEnd
        }
    }
}

/// Replaces the text from `start` to `end` (ordered, resolved) with `text`, written by `origin`.
pub(crate) fn apply(
    doc: &mut TrackedText,
    start: Spot,
    end: Spot,
    text: &str,
    origin: &Origin,
    report: &mut Report,
) {
    if start.line >= doc.lines.len() || end.line >= doc.lines.len() || start > end {
        // Callers resolve positions first; this keeps the promise not to panic regardless.
        return;
    }
    if joins_lone_carriage_return(doc, start, end, text) {
        // The replacement would put a "\n" right after a line ending in a lone "\r", and the two
        // form one "\r\n" break. Replace that "\r" too (re-inserting it) so that the lines
        // are counted the way the editor counts them.
        let line = start.line - 1;
        let byte = content(&doc.lines[line]).len();
        let text = format!("\r{text}");
        return apply_across_lines(doc, Spot { line, byte }, end, &text, origin, report);
    }
    if start.line == end.line && !has_line_break(text) {
        apply_within_line(doc, start.line, start.byte..end.byte, text, origin, report);
    } else {
        apply_across_lines(doc, start, end, text, origin, report);
    }
}

/// Whether the replacement text begins with "\n" (counting what follows it when it is empty)
/// and lands right after a line that ends in a lone "\r".
fn joins_lone_carriage_return(doc: &TrackedText, start: Spot, end: Spot, text: &str) -> bool {
    if start.byte != 0 || start.line == 0 {
        return false;
    }
    let (end_content, end_terminator) = split_terminator(&doc.lines[end.line]);
    let suffix = end_content.get(end.byte..).unwrap_or("");
    let first = text
        .bytes()
        .chain(suffix.bytes())
        .chain(end_terminator.bytes())
        .next();
    first == Some(b'\n') && split_terminator(&doc.lines[start.line - 1]).1 == "\r"
}

fn has_line_break(text: &str) -> bool {
    text.bytes().any(|b| b == b'\n' || b == b'\r')
}

/// A change that stays inside one line and inserts no line break: edits the line in place.
fn apply_within_line(
    doc: &mut TrackedText,
    line: usize,
    bytes: Range<usize>,
    text: &str,
    origin: &Origin,
    report: &mut Report,
) {
    let stored = &mut doc.lines[line];
    let content_len = content(stored).len();
    let valid = bytes.start <= bytes.end
        && bytes.end <= content_len
        && stored.is_char_boundary(bytes.start)
        && stored.is_char_boundary(bytes.end);
    if !valid {
        return;
    }
    let unchanged = stored.get(bytes.clone()) == Some(text);
    let region = Region {
        same_line: true,
        start_byte: bytes.start,
        start_len: content_len,
        end_byte: bytes.end,
        suffix_len: content_len - bytes.end,
    };
    let source = region.single(!text.is_empty(), unchanged);
    if !unchanged {
        stored.replace_range(bytes, text);
    }
    let old = &mut doc.provenance[line];
    let new = match source {
        Source::KeepStart | Source::KeepEnd => return,
        Source::MergeStart | Source::MergeEnd => {
            let new = merge(old, origin);
            count_carried(report, old, &new);
            count_result(report, Some(old), &new);
            new
        }
        Source::New => {
            let new = from_origin(origin);
            count_removed(report, old);
            count_result(report, None, &new);
            new
        }
    };
    *old = new;
}

/// The general case: joins the start line's prefix, the text and the end line's suffix, splits
/// the result into lines and splices them in place of the old lines `start.line..=end.line`.
fn apply_across_lines(
    doc: &mut TrackedText,
    start: Spot,
    end: Spot,
    text: &str,
    origin: &Origin,
    report: &mut Report,
) {
    let start_content = content(&doc.lines[start.line]);
    let (end_content, end_terminator) = split_terminator(&doc.lines[end.line]);
    let (Some(prefix), Some(suffix)) =
        (start_content.get(..start.byte), end_content.get(end.byte..))
    else {
        return;
    };
    let region = Region {
        same_line: start.line == end.line,
        start_byte: start.byte,
        start_len: start_content.len(),
        end_byte: end.byte,
        suffix_len: suffix.len(),
    };

    let mut joined =
        String::with_capacity(prefix.len() + text.len() + suffix.len() + end_terminator.len());
    joined.push_str(prefix);
    joined.push_str(text);
    joined.push_str(suffix);
    joined.push_str(end_terminator);
    let inserted = prefix.len()..prefix.len() + text.len();

    // Each piece is one result line: its byte range in `joined` and its content's byte range.
    let mut pieces: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let mut at = 0;
    for line in lines(&joined) {
        let content_len = content(line).len();
        pieces.push((at..at + line.len(), at..at + content_len));
        at += line.len();
    }
    if !end_terminator.is_empty() && pieces.last().is_some_and(|(whole, _)| whole.is_empty()) {
        // The joined text ends with the end line's terminator: the empty piece after it is the
        // start of the next old line, which this change does not touch.
        pieces.pop();
    }
    let lands_in =
        |content: &Range<usize>| content.start.max(inserted.start) < content.end.min(inserted.end);

    let last = pieces.len().saturating_sub(1);
    let sources: Vec<Source> = if last == 0 {
        let content_range = pieces.first().map_or(0..0, |(_, content)| content.clone());
        let unchanged = joined.get(content_range.clone()) == Some(start_content);
        vec![region.single(lands_in(&content_range), unchanged)]
    } else {
        let first = region.first(pieces.first().is_some_and(|(_, c)| lands_in(c)));
        let final_source = region.last(pieces.last().is_some_and(|(_, c)| lands_in(c)), first);
        let mut sources = vec![Source::New; pieces.len()];
        sources[0] = first;
        sources[last] = final_source;
        sources
    };

    let provenance = settle_provenance(doc, start.line, end.line, &sources, origin, report);

    let rest: Vec<String> = pieces
        .iter()
        .skip(1)
        .map(|(whole, _)| joined.get(whole.clone()).unwrap_or("").to_owned())
        .collect();
    joined.truncate(pieces.first().map_or(0, |(whole, _)| whole.end));
    doc.lines
        .splice(start.line..=end.line, std::iter::once(joined).chain(rest));
    doc.provenance.splice(start.line..=end.line, provenance);
}

/// The provenance of each result line, counting in `report` what happened to the old lines
/// `start..=end` and to AI lines.
fn settle_provenance(
    doc: &TrackedText,
    start: usize,
    end: usize,
    sources: &[Source],
    origin: &Origin,
    report: &mut Report,
) -> Vec<Provenance> {
    let old_start = &doc.provenance[start];
    let old_end = &doc.provenance[end];
    let new: Vec<Provenance> = sources
        .iter()
        .map(|source| match source {
            Source::KeepStart => old_start.clone(),
            Source::KeepEnd => old_end.clone(),
            Source::MergeStart => merge(old_start, origin),
            Source::MergeEnd => merge(old_end, origin),
            Source::New => from_origin(origin),
        })
        .collect();

    // What became of each old line: carried into the first result line that keeps its text,
    // or removed.
    let carrier = |wanted: [Source; 2]| sources.iter().position(|s| wanted.contains(s));
    let start_carrier = carrier([Source::KeepStart, Source::MergeStart]);
    let end_carrier = carrier([Source::KeepEnd, Source::MergeEnd]);
    for line in start..=end {
        let old = &doc.provenance[line];
        let carried = match (line == start, line == end) {
            (true, true) => start_carrier.or(end_carrier),
            (true, false) => start_carrier,
            (false, true) => end_carrier,
            (false, false) => None,
        };
        match carried {
            Some(at) => count_carried(report, old, &new[at]),
            None => count_removed(report, old),
        }
    }
    for (source, provenance) in sources.iter().zip(&new) {
        let old = match source {
            Source::KeepStart | Source::MergeStart => Some(old_start),
            Source::KeepEnd | Source::MergeEnd => Some(old_end),
            Source::New => None,
        };
        count_result(report, old, provenance);
    }
    new
}
