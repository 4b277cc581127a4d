//! The generic line format many compilers and linters print (gcc, clang, mypy, shellcheck
//! `-f gcc`, …): `path:line:col: severity: message`, with the column and the severity optional.
//!
//! ```text
//! src/main.c:12:5: error: 'x' undeclared (first use in this function)
//! src/main.c:3: warning: unused parameter 'argc'
//! app.py:4: note: Revealed type is "builtins.int"
//! ```
//!
//! A line without a known severity word is a warning with the whole rest as its message. Lines
//! without a `path:line:` prefix or without a message are ignored (gcc's `In function …` and
//! `In file included from …` context, source excerpts); so are paths that name no file, which
//! the caller checks.

use super::Severity;
use super::raw::{Parsed, RawDiagnostic};

pub fn parse(output: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for line in output.lines() {
        let Some((path, row, column, rest)) = location_prefix(line.trim_end()) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        let (severity, message) = severity_prefix(rest).unwrap_or((Severity::Warning, rest));
        parsed
            .diagnostics
            .push(RawDiagnostic::at(path, row, column, severity, message));
    }
    parsed
}

/// Splits `path:line:col: rest` or `path:line: rest` (the path may itself hold colons).
pub fn location_prefix(line: &str) -> Option<(&str, u32, u32, &str)> {
    for (colon, _) in line.match_indices(':') {
        if colon == 0 {
            continue;
        }
        let after = &line[colon + 1..];
        let Some((row, rest)) = number_then_colon(after) else {
            continue;
        };
        let (column, rest) = number_then_colon(rest).unwrap_or((0, rest));
        return Some((&line[..colon], row, column, rest.trim_start()));
    }
    None
}

/// `123:rest` → (123, `rest`).
fn number_then_colon(text: &str) -> Option<(u32, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || text.as_bytes().get(digits) != Some(&b':') {
        return None;
    }
    let number = text[..digits].parse::<u32>().ok()?;
    Some((number, &text[digits + 1..]))
}

fn severity_prefix(text: &str) -> Option<(Severity, &str)> {
    let (word, message) = text.split_once(':')?;
    let severity = match word.trim().to_ascii_lowercase().as_str() {
        "error" | "fatal error" | "fatal" => Severity::Error,
        "warning" => Severity::Warning,
        "note" | "info" | "information" | "remark" => Severity::Information,
        "hint" | "help" | "style" => Severity::Hint,
        _ => return None,
    };
    Some((severity, message.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_severities_and_noise() {
        let parsed = parse(
            "src/main.c: In function 'main':\n\
             src/main.c:12:5: error: 'x' undeclared (first use in this function)\n\
             \x20  12 |     x = 1;\n\
             src/main.c:3: warning: unused parameter 'argc'\n\
             C:/proj/a.c:1:2: fatal error: stdio.h: No such file\n\
             app.py:4: note: Revealed type is \"builtins.int\"\n\
             lint.sh:7:1: SC2034 foo appears unused\n",
        );
        assert_eq!(
            parsed.diagnostics,
            vec![
                RawDiagnostic::at(
                    "src/main.c",
                    12,
                    5,
                    Severity::Error,
                    "'x' undeclared (first use in this function)"
                ),
                RawDiagnostic::at(
                    "src/main.c",
                    3,
                    0,
                    Severity::Warning,
                    "unused parameter 'argc'"
                ),
                RawDiagnostic::at(
                    "C:/proj/a.c",
                    1,
                    2,
                    Severity::Error,
                    "stdio.h: No such file"
                ),
                RawDiagnostic::at(
                    "app.py",
                    4,
                    0,
                    Severity::Information,
                    "Revealed type is \"builtins.int\""
                ),
                RawDiagnostic::at(
                    "lint.sh",
                    7,
                    1,
                    Severity::Warning,
                    "SC2034 foo appears unused"
                ),
            ]
        );
    }

    #[test]
    fn odd_lines_give_no_panic() {
        for text in [
            ":",
            "::",
            ":1:",
            "a:99999999999:1: error: x",
            "a:1:",
            "a:1:2:",
            "é:1:é",
        ] {
            parse(text);
        }
        assert!(parse("In file included from x.h:3:").diagnostics.is_empty());
    }
}
