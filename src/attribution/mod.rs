//! Line provenance carried through edits: the pure core of prodcode.
//!
//! Invariant: no IO, no clock, no protocol types, and no panics on odd input. Every operation
//! returns what it did plus warnings (clamped positions, stale versions) instead of failing.
//! Missing evidence gives `Untracked`, never a guess.
//!
//! STUB: the API below is fixed; the bodies are being written.

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
    /// AI lines (`Ai` or `AiModified`) removed, per interaction.
    pub ai_lines_deleted: Vec<(InteractionId, u32)>,
    /// `Ai` lines that became `AiModified`, per interaction.
    pub ai_lines_modified: Vec<(InteractionId, u32)>,
    /// Lines that became `Ai`, per interaction.
    pub ai_lines_added: Vec<(InteractionId, u32)>,
}

/// The text of one tracked document with the provenance of each of its lines.
#[derive(Clone, Debug)]
pub struct TrackedText {}

impl TrackedText {
    /// A document first seen now: every line is `Untracked`.
    pub fn new_untracked(_text: &str) -> TrackedText {
        todo!()
    }

    /// A document restored from a saved snapshot; provenance is padded with `Untracked` or
    /// truncated to the number of lines.
    pub fn with_provenance(_text: &str, _provenance: Vec<Provenance>) -> TrackedText {
        todo!()
    }

    pub fn text(&self) -> String {
        todo!()
    }

    pub fn line_count(&self) -> usize {
        todo!()
    }

    pub fn provenance(&self) -> &[Provenance] {
        todo!()
    }

    /// Consecutive lines with equal provenance, covering the document in order.
    pub fn runs(&self) -> Vec<ProvenanceRun> {
        todo!()
    }

    /// Length of line `line` without its terminator, in `encoding` units (0 past the end).
    pub fn line_len(&self, _line: u32, _encoding: PositionEncoding) -> u32 {
        todo!()
    }

    /// Applies one `didChange` content change made by `origin`.
    pub fn apply_change(
        &mut self,
        _change: &TextChange,
        _encoding: PositionEncoding,
        _origin: &Origin,
    ) -> Report {
        todo!()
    }

    /// `prodcode/aiEditApplied`: the text inside `ranges` (current document) was inserted by
    /// `interaction`; every line that range text touches becomes `Ai(interaction)`.
    pub fn mark_ai_ranges(
        &mut self,
        _ranges: &[Range],
        _encoding: PositionEncoding,
        _interaction: &InteractionId,
    ) -> Report {
        todo!()
    }

    /// The document now reads `new_text`, changed by `origin` in ways nobody described: a line
    /// diff decides which lines are new or changed.
    pub fn observe(&mut self, _new_text: &str, _origin: &Origin) -> Report {
        todo!()
    }
}

/// The shape of one applied change, kept so that ranges sent against an older version can be
/// carried forward to the current one.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ChangeShape {}

impl ChangeShape {
    pub fn of(_change: &TextChange, _encoding: PositionEncoding) -> ChangeShape {
        todo!()
    }
}

/// Carries `range` through `changes` (oldest first); `None` if the changes removed it entirely.
pub fn transform_range(_range: Range, _changes: &[ChangeShape]) -> Option<Range> {
    todo!()
}
