//! What a checker's output parser produces: diagnostics as the checker printed them (its paths,
//! its column unit), before they are tied to workspace files and converted to characters.
//!
//! Invariant: this is the one place columns change unit ([`char_column`]); parsers keep the
//! checker's numbers and the format says which unit they are in.

use serde::Deserialize;

use super::Severity;

/// How a checker counts columns.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnUnit {
    /// Unicode scalar values (rustc, ruff).
    Chars,
    /// UTF-8 bytes (go, clang).
    Bytes,
    /// UTF-16 code units (everything written in JavaScript: pyright, tsc, eslint).
    Utf16,
}

/// One diagnostic as the checker reported it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RawDiagnostic {
    /// The file as the checker printed it: absolute, or relative to its working directory (or to
    /// `base`).
    pub path: String,
    /// Another directory a relative `path` may be relative to, tried after the workspace root
    /// and then its parents (cargo prints paths relative to the Cargo workspace root, which may
    /// lie above the package's manifest directory).
    pub base: Option<String>,
    /// 1-based; 0 when the checker gave none.
    pub line: u32,
    /// 1-based, in the format's [`ColumnUnit`]; 0 when the checker gave none.
    pub column: u32,
    /// Where the range ends (exclusive); 0 when the checker gave only a point.
    pub end_line: u32,
    pub end_column: u32,
    pub severity: Severity,
    pub code: Option<String>,
    pub message: String,
    /// Further lines: help and notes (cargo's children, tsc's elaboration, ruff's fix).
    pub notes: Vec<String>,
}

impl RawDiagnostic {
    /// A diagnostic at a point, with no code and no notes.
    pub fn at(path: &str, line: u32, column: u32, severity: Severity, message: &str) -> Self {
        RawDiagnostic {
            path: path.to_owned(),
            base: None,
            line,
            column,
            end_line: 0,
            end_column: 0,
            severity,
            code: None,
            message: message.to_owned(),
            notes: Vec::new(),
        }
    }
}

/// What a parser got out of one run's output.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Parsed {
    pub diagnostics: Vec<RawDiagnostic>,
    /// Messages about no file (a configuration error, output that is not in the expected format):
    /// they become the checker's `problem`.
    pub messages: Vec<String>,
}

/// The 1-based character column of the 1-based `column` counted in `unit` on `line` (the text of
/// the line). A column past the end of the line counts the missing part as characters, and a
/// column inside a multi-unit character lands on that character.
pub fn char_column(line: &str, column: u32, unit: ColumnUnit) -> u32 {
    if column == 0 || unit == ColumnUnit::Chars {
        return column;
    }
    let target = (column - 1) as usize;
    let mut units = 0usize;
    let mut chars = 0u32;
    for c in line.chars() {
        let width = match unit {
            ColumnUnit::Bytes => c.len_utf8(),
            ColumnUnit::Utf16 => c.len_utf16(),
            ColumnUnit::Chars => 1,
        };
        if units + width > target {
            return chars + 1;
        }
        units += width;
        chars += 1;
    }
    let beyond = target.saturating_sub(units);
    (chars as usize + beyond + 1).min(u32::MAX as usize) as u32
}

/// A JSON number as a `u32`, 0 when absent or out of range.
pub fn json_u32(value: Option<&serde_json::Value>) -> u32 {
    value
        .and_then(serde_json::Value::as_u64)
        .map_or(0, |number| number.min(u32::MAX as u64) as u32)
}

/// The last `max` bytes of `text` at a character boundary, with `…` in front when cut.
pub fn tail(text: &str, max: usize) -> String {
    let text = text.trim_end();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// A file of `tests/data/tools/diagnostics/`, for the parser tests.
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/data/tools/diagnostics/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_convert_to_characters() {
        let line = "a😀é b";
        // `b` is the 5th character: byte 9 (1+4+2+1), UTF-16 unit 6 (1+2+1+1).
        assert_eq!(char_column(line, 9, ColumnUnit::Bytes), 5);
        assert_eq!(char_column(line, 6, ColumnUnit::Utf16), 5);
        assert_eq!(char_column(line, 5, ColumnUnit::Chars), 5);
        assert_eq!(char_column(line, 1, ColumnUnit::Utf16), 1);
        // Inside the emoji: lands on it.
        assert_eq!(char_column(line, 3, ColumnUnit::Utf16), 2);
        // Past the end of the line (the newline, an end column).
        assert_eq!(char_column(line, 7, ColumnUnit::Utf16), 6);
        assert_eq!(char_column(line, 9, ColumnUnit::Utf16), 8);
        assert_eq!(char_column("", 0, ColumnUnit::Bytes), 0);
        assert_eq!(char_column("", u32::MAX, ColumnUnit::Bytes), u32::MAX);
    }

    #[test]
    fn tail_cuts_at_a_character_boundary() {
        assert_eq!(tail("short\n", 10), "short");
        assert_eq!(tail("aéb", 2), "…b");
    }
}
