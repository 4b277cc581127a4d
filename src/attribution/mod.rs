//! Line provenance carried through edits: the pure core of prodcode.
//!
//! This module owns a tracked document ([`TrackedText`]): its text, split into lines exactly as
//! LSP counts them, and the [`Provenance`] of every line (`Ai`, `AiModified`, `Human` or
//! `Untracked`). It applies the three kinds of evidence the capture layer has: a described change
//! (`didChange`, [`TrackedText::apply_change`]), a statement that some ranges are AI text
//! (`prodcode/aiEditApplied`, [`TrackedText::mark_ai_ranges`]) and a change nobody described
//! (a checkpoint bracket, a full sync, a file changed on disk, [`TrackedText::observe`]). It also
//! carries ranges sent against an older version forward ([`ChangeShape`], [`transform_range`]).
//!
//! The rules, in short: a line written entirely by a change is the writer's (`Human`, `Ai(i)`,
//! or `Untracked` when nobody knows who wrote it). A line that keeps some of its old text is
//! merged: a person changing an AI line makes it `AiModified`, a person changing an untracked line
//! leaves it `Untracked` (what it kept is nobody's we know of), an AI changing any line makes it
//! its own, and a change nobody can name makes it `Untracked`. A line whose content is unchanged
//! keeps its provenance, whatever happened to its line ending.
//!
//! Invariant: no IO, no clock, no protocol types, and no panics on odd input. Positions out of
//! range, reversed ranges and columns inside a character are repaired, and every operation
//! returns a [`Report`] with what it did to AI lines plus a [`Warning`] for each repair. Missing
//! evidence gives `Untracked`, never a guess.
//!
//! API boundary: the types in this file. Columns are converted in exactly one place, the private
//! `text` module; the provenance rules live in `rules`, the incremental path in `splice`, and
//! the line diff in `diff`. The `lsp` module converts its protocol types to these at its edge.
//!
//! Cost: a change is proportional to the lines it touches plus at most one splice of the line
//! vectors; a change inside one line allocates nothing. Only `observe` and `text` look at the
//! whole document.

mod diff;
mod rules;
mod shape;
mod splice;
mod text;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use shape::{ChangeShape, transform_range};

use crate::model::{InteractionId, Origin, Provenance, ProvenanceRun};

/// How the `character` of a position counts: the LSP negotiated position encoding.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum PositionEncoding {
    Utf8,
    #[default]
    Utf16,
    Utf32,
}

/// A 0-based line and a column counted in the document's [`PositionEncoding`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// One content change as LSP `didChange` carries it: a range and its replacement, or the whole
/// text when `range` is `None`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TextChange {
    pub range: Option<Range>,
    pub text: String,
}

/// Something odd about the input that the engine repaired instead of failing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Warning {
    /// A position past the end of its line or of the document was moved to the nearest end.
    PositionClamped { given: Position, used: Position },
    /// A column fell inside a character (half a surrogate pair, inside a UTF-8 sequence).
    PositionInsideCharacter { given: Position },
    /// A range whose end comes before its start was swapped.
    RangeReversed { given: Range },
}

/// What one operation did to AI lines, for the retention figures, plus its warnings.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Report {
    pub warnings: Vec<Warning>,
    /// AI lines (`Ai` or `AiModified`) removed, per interaction. A line rewritten so that it no
    /// longer belongs to its interaction (another interaction changed it, or a change nobody can
    /// name) counts as removed for that interaction too.
    pub ai_lines_deleted: Vec<(InteractionId, u32)>,
    /// `Ai` lines that became `AiModified`, per interaction.
    pub ai_lines_modified: Vec<(InteractionId, u32)>,
    /// Lines that became `Ai`, per interaction.
    pub ai_lines_added: Vec<(InteractionId, u32)>,
}

/// The text of one tracked document with the provenance of each of its lines.
///
/// Lines are stored with their terminators (`"\n"`, `"\r\n"` or a lone `"\r"`); the last line
/// has none. There is always at least one line, and exactly one provenance per line.
#[derive(Clone, Debug)]
pub struct TrackedText {
    lines: Vec<String>,
    provenance: Vec<Provenance>,
}

impl TrackedText {
    /// A document first seen now: every line is `Untracked`.
    pub fn new_untracked(text: &str) -> TrackedText {
        TrackedText::with_provenance(text, Vec::new())
    }

    /// A document restored from a saved snapshot; provenance is padded with `Untracked` or
    /// truncated to the number of lines.
    pub fn with_provenance(text: &str, mut provenance: Vec<Provenance>) -> TrackedText {
        let lines: Vec<String> = text::lines(text).map(str::to_owned).collect();
        provenance.resize(lines.len(), Provenance::Untracked);
        TrackedText { lines, provenance }
    }

    /// The length of [`TrackedText::text`] in bytes, without building it.
    pub fn byte_len(&self) -> usize {
        self.lines.iter().map(String::len).sum()
    }

    pub fn text(&self) -> String {
        let mut text = String::with_capacity(self.byte_len());
        for line in &self.lines {
            text.push_str(line);
        }
        text
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    pub fn provenance(&self) -> &[Provenance] {
        &self.provenance
    }

    /// The content of line `line` without its terminator, `None` past the end.
    pub fn line_content(&self, line: u32) -> Option<&str> {
        let line = usize::try_from(line).ok()?;
        self.lines.get(line).map(|stored| text::content(stored))
    }

    /// Consecutive lines with equal provenance, covering the document in order.
    pub fn runs(&self) -> Vec<ProvenanceRun> {
        let mut runs: Vec<ProvenanceRun> = Vec::new();
        for (index, provenance) in self.provenance.iter().enumerate() {
            let end = u32::try_from(index + 1).unwrap_or(u32::MAX);
            match runs.last_mut() {
                Some(run) if run.provenance == *provenance => run.end = end,
                _ => runs.push(ProvenanceRun {
                    start: end - 1,
                    end,
                    provenance: provenance.clone(),
                }),
            }
        }
        runs
    }

    /// Length of line `line` without its terminator, in `encoding` units (0 past the end).
    pub fn line_len(&self, line: u32, encoding: PositionEncoding) -> u32 {
        self.line_content(line)
            .map_or(0, |content| text::len_in(content, encoding))
    }

    /// Applies one `didChange` content change made by `origin`.
    pub fn apply_change(
        &mut self,
        change: &TextChange,
        encoding: PositionEncoding,
        origin: &Origin,
    ) -> Report {
        let Some(range) = change.range else {
            return self.observe(&change.text, origin);
        };
        let mut report = Report::default();
        let (start, end) = self.resolve_range(range, encoding, &mut report.warnings);
        splice::apply(self, start, end, &change.text, origin, &mut report);
        report
    }

    /// `prodcode/aiEditApplied`: the text inside `ranges` (current document) was inserted by
    /// `interaction`; every line that range text touches becomes `Ai(interaction)`.
    ///
    /// A range touches the lines from its start line to its end line, except the end line when
    /// the range ends at its very beginning, and the start line when the range starts at the
    /// end of its content and goes on to later lines (the range then holds only that line's
    /// terminator: an AI completion appended after a line a person wrote). Empty ranges mark
    /// nothing.
    pub fn mark_ai_ranges(
        &mut self,
        ranges: &[Range],
        encoding: PositionEncoding,
        interaction: &InteractionId,
    ) -> Report {
        let mut report = Report::default();
        let ai = Provenance::Ai(interaction.clone());
        for range in ranges {
            let (start, end) = self.resolve_range(*range, encoding, &mut report.warnings);
            if start == end {
                continue;
            }
            let mut lines = start.line..end.line + 1;
            if end.line > start.line && end.byte == 0 {
                lines.end -= 1;
            }
            let start_len = self
                .lines
                .get(start.line)
                .map_or(0, |line| text::content(line).len());
            if end.line > start.line && start.byte == start_len {
                lines.start += 1;
            }
            for old in self.provenance.get_mut(lines).into_iter().flatten() {
                if *old != ai {
                    rules::count_carried(&mut report, old, &ai);
                    rules::count_result(&mut report, Some(old), &ai);
                    *old = ai.clone();
                }
            }
        }
        report
    }

    /// The document now reads `new_text`, changed by `origin` in ways nobody described: a line
    /// diff decides which lines are new or changed.
    pub fn observe(&mut self, new_text: &str, origin: &Origin) -> Report {
        let mut report = Report::default();
        diff::observe(self, new_text, origin, &mut report);
        report
    }

    /// Orders `range` and resolves both ends to places in the document, warning about every
    /// repair.
    fn resolve_range(
        &self,
        range: Range,
        encoding: PositionEncoding,
        warnings: &mut Vec<Warning>,
    ) -> (splice::Spot, splice::Spot) {
        let (first, second) = if range.start > range.end {
            warnings.push(Warning::RangeReversed { given: range });
            (range.end, range.start)
        } else {
            (range.start, range.end)
        };
        let start = self.resolve(first, encoding, warnings);
        if second == first {
            // An empty range: one position, repaired (and reported) once.
            return (start, start);
        }
        let end = self.resolve(second, encoding, warnings);
        (start, end.max(start))
    }

    /// The place `given` names: clamped to the end of its line or of the document, and rounded
    /// down to a character boundary, with a warning for each repair.
    fn resolve(
        &self,
        given: Position,
        encoding: PositionEncoding,
        warnings: &mut Vec<Warning>,
    ) -> splice::Spot {
        let last = self.lines.len().saturating_sub(1);
        let line = usize::try_from(given.line).unwrap_or(usize::MAX);
        let clamped = |line: usize, content: &str, warnings: &mut Vec<Warning>| {
            let used = Position {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                character: text::len_in(content, encoding),
            };
            warnings.push(Warning::PositionClamped { given, used });
            splice::Spot {
                line,
                byte: content.len(),
            }
        };
        let Some(stored) = self.lines.get(line) else {
            let content = self
                .lines
                .get(last)
                .map_or("", |stored| text::content(stored));
            return clamped(last, content, warnings);
        };
        let content = text::content(stored);
        match text::byte_offset(content, given.character, encoding) {
            text::Column::Exact(byte) => splice::Spot { line, byte },
            text::Column::PastEnd(_) => clamped(line, content, warnings),
            text::Column::InsideCharacter(byte) => {
                warnings.push(Warning::PositionInsideCharacter { given });
                splice::Spot { line, byte }
            }
        }
    }
}
