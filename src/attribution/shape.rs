//! The shapes of applied changes, and ranges carried through them.
//!
//! `prodcode/aiEditApplied` may name an older document version than the current one. The
//! capture layer keeps the [`ChangeShape`] of every change applied since, and
//! [`transform_range`] moves the ranges forward through them.

use super::text::breaks_and_last_len;
use super::{Position, PositionEncoding, Range, TextChange};

/// The shape of one applied change, kept so that ranges sent against an older version can be
/// carried forward to the current one.
///
/// Positions are recorded as the change gave them (a reversed range is put in order); a change
/// made with positions the engine had to clamp moves later ranges as if it had been valid.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ChangeShape {
    edit: Option<Edit>,
}

/// A ranged change: `start..end` (old document) became `start..inserted_end` (new document).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Edit {
    start: Position,
    end: Position,
    inserted_end: Position,
}

impl ChangeShape {
    pub fn of(change: &TextChange, encoding: PositionEncoding) -> ChangeShape {
        let Some(range) = change.range else {
            return ChangeShape { edit: None };
        };
        let (start, end) = if range.start > range.end {
            (range.end, range.start)
        } else {
            (range.start, range.end)
        };
        let (breaks, last_len) = breaks_and_last_len(&change.text, encoding);
        let inserted_end = if breaks == 0 {
            Position {
                line: start.line,
                character: start.character.saturating_add(last_len),
            }
        } else {
            Position {
                line: start.line.saturating_add(breaks),
                character: last_len,
            }
        };
        ChangeShape {
            edit: Some(Edit {
                start,
                end,
                inserted_end,
            }),
        }
    }

    /// Whether the change replaced the whole document, after which no older range can be placed.
    pub fn is_full_replacement(&self) -> bool {
        self.edit.is_none()
    }
}

/// Carries `range` through `changes` (oldest first); `None` if the changes removed it entirely.
///
/// A range never grows to take in text inserted at its edges: its start moves past text
/// inserted where it starts, its end stays before text inserted where it ends. A range that is
/// or becomes empty, or that a full replacement passed over, gives `None`.
pub fn transform_range(range: Range, changes: &[ChangeShape]) -> Option<Range> {
    let (mut start, mut end) = if range.start > range.end {
        (range.end, range.start)
    } else {
        (range.start, range.end)
    };
    for change in changes {
        let edit = change.edit?;
        start = edit.carry(start, Side::Start);
        end = edit.carry(end, Side::End);
        if start >= end {
            return None;
        }
    }
    (start < end).then_some(Range { start, end })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Start,
    End,
}

impl Edit {
    /// Where `position` (old document) is in the new document, for the given end of a range.
    fn carry(self, position: Position, side: Side) -> Position {
        let before = match side {
            Side::Start => position < self.start,
            Side::End => position <= self.start,
        };
        if before {
            position
        } else if position >= self.end {
            self.shift(position)
        } else {
            // Inside the replaced text, which is gone: shrink the range to what is left.
            match side {
                Side::Start => self.inserted_end,
                Side::End => self.start,
            }
        }
    }

    /// A position at or after the change end, moved by the change.
    fn shift(self, position: Position) -> Position {
        if position.line == self.end.line {
            Position {
                line: self.inserted_end.line,
                character: self
                    .inserted_end
                    .character
                    .saturating_add(position.character.saturating_sub(self.end.character)),
            }
        } else {
            let line = i64::from(position.line) + i64::from(self.inserted_end.line)
                - i64::from(self.end.line);
            Position {
                line: u32::try_from(line.max(0)).unwrap_or(u32::MAX),
                character: position.character,
            }
        }
    }
}
