//! Line splitting and column conversion: the only code that knows how a [`Position`]'s
//! `character` maps to bytes, and how a text breaks into lines.
//!
//! Lines break after `\n`, `\r\n` and a lone `\r`, exactly as LSP counts them. A stored line keeps
//! its terminator; the last line of a document has none, so a document that ends with a line
//! break has a final empty line, and an empty document is one empty line.
//!
//! [`Position`]: super::Position

use super::PositionEncoding;

/// The lines of `text`, each with its terminator. Always yields at least one (possibly empty)
/// line; the last one yielded has no terminator.
pub(crate) fn lines(text: &str) -> Lines<'_> {
    Lines { rest: Some(text) }
}

/// The iterator returned by [`lines`].
pub(crate) struct Lines<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let bytes = rest.as_bytes();
        let Some(at) = next_break(bytes) else {
            self.rest = None;
            return Some(rest);
        };
        let crlf = bytes.get(at) == Some(&b'\r') && bytes.get(at + 1) == Some(&b'\n');
        let end = if crlf { at + 2 } else { at + 1 };
        let (line, tail) = rest.split_at(end);
        self.rest = Some(tail);
        Some(line)
    }
}

/// The index of the first `\n` or `\r` in `bytes`.
///
/// Scans eight bytes at a time (most bytes of a text are not line breaks): a word holds a
/// break when `word ^ break_byte` has a zero byte, which the classic `(x - 0x01..) & !x & 0x80..`
/// test detects exactly, and then the word is searched byte by byte.
fn next_break(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS != 0;
    let is_break = |b: &u8| *b == b'\n' || *b == b'\r';
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if has_zero_byte(word ^ (ONES * u64::from(b'\n')))
            || has_zero_byte(word ^ (ONES * u64::from(b'\r')))
        {
            return chunk.iter().position(is_break).map(|found| at + found);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(is_break)
        .map(|found| at + found)
}

/// Splits one stored line into its content and its terminator (`""`, `"\n"`, `"\r\n"` or `"\r"`).
pub(crate) fn split_terminator(line: &str) -> (&str, &str) {
    let content_len = if line.ends_with("\r\n") {
        line.len() - 2
    } else if line.ends_with('\n') || line.ends_with('\r') {
        line.len() - 1
    } else {
        line.len()
    };
    line.split_at(content_len)
}

/// The content of one stored line, without its terminator.
pub(crate) fn content(line: &str) -> &str {
    split_terminator(line).0
}

/// Where a column falls in a line's content.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Column {
    /// The column is a character boundary at this byte offset.
    Exact(usize),
    /// The column is past the end of the content, which is this many bytes long.
    PastEnd(usize),
    /// The column falls inside a character, which starts at this byte offset.
    InsideCharacter(usize),
}

/// The byte offset of column `character` (counted in `encoding` units) in `content`.
pub(crate) fn byte_offset(content: &str, character: u32, encoding: PositionEncoding) -> Column {
    let wanted = usize::try_from(character).unwrap_or(usize::MAX);
    let bytes = content.as_bytes();
    // Before the first non-ASCII character every encoding counts one unit per byte, so the
    // common case of plain code needs no character walk.
    let ascii_run = bytes
        .iter()
        .take(wanted)
        .take_while(|b| b.is_ascii())
        .count();
    if ascii_run == wanted {
        return Column::Exact(wanted);
    }
    if ascii_run == bytes.len() {
        return Column::PastEnd(bytes.len());
    }
    if encoding == PositionEncoding::Utf8 {
        if wanted > bytes.len() {
            return Column::PastEnd(bytes.len());
        }
        return match (0..=wanted).rev().find(|&at| content.is_char_boundary(at)) {
            Some(at) if at == wanted => Column::Exact(at),
            Some(at) => Column::InsideCharacter(at),
            None => Column::Exact(0),
        };
    }
    // Walk the characters after the ASCII run (a character boundary, since it is all ASCII).
    let mut units = ascii_run;
    let rest = content.get(ascii_run..).unwrap_or("");
    for (at, ch) in rest.char_indices() {
        let at = ascii_run + at;
        if units == wanted {
            return Column::Exact(at);
        }
        let width = char_width(ch, encoding);
        if units + width > wanted {
            return Column::InsideCharacter(at);
        }
        units += width;
    }
    if units == wanted {
        Column::Exact(bytes.len())
    } else {
        Column::PastEnd(bytes.len())
    }
}

/// The length of `content` in `encoding` units, saturating at `u32::MAX`.
pub(crate) fn len_in(content: &str, encoding: PositionEncoding) -> u32 {
    let units = match encoding {
        PositionEncoding::Utf8 => content.len(),
        _ if content.is_ascii() => content.len(),
        PositionEncoding::Utf16 => content.chars().map(char::len_utf16).sum(),
        PositionEncoding::Utf32 => content.chars().count(),
    };
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// How many line breaks `text` holds, and the length (in `encoding` units) of its last line.
pub(crate) fn breaks_and_last_len(text: &str, encoding: PositionEncoding) -> (u32, u32) {
    let mut breaks = 0u32;
    let mut last = "";
    for line in lines(text) {
        breaks = breaks.saturating_add(1);
        last = line;
    }
    (breaks.saturating_sub(1), len_in(last, encoding))
}

fn char_width(ch: char, encoding: PositionEncoding) -> usize {
    match encoding {
        PositionEncoding::Utf8 => ch.len_utf8(),
        PositionEncoding::Utf16 => ch.len_utf16(),
        PositionEncoding::Utf32 => 1,
    }
}
