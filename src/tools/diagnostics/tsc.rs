//! `tsc --noEmit --pretty false`: one diagnostic per line on stdout, later lines of the same
//! diagnostic indented by two spaces.
//!
//! ```text
//! src/index.ts(5,7): error TS2322: Type 'Promise<string>' is not assignable to type 'Promise<number>'.
//!   Type 'string' is not assignable to type 'number'.
//! error TS5083: Cannot read file '/w/tsconfig.json'.
//! ```
//!
//! Paths are relative to the working directory; lines and columns are 1-based, columns in UTF-16
//! code units. A diagnostic without a location (a configuration error) is a message.

use super::Severity;
use super::raw::{Parsed, RawDiagnostic};

pub fn parse(stdout: &str) -> Parsed {
    let mut parsed = Parsed::default();
    // Whether the last line started a located diagnostic, which indented lines continue.
    let mut continuing = false;
    for line in stdout.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if continuing && let Some(last) = parsed.diagnostics.last_mut() {
                last.notes.push(line.trim().to_owned());
            }
            continue;
        }
        continuing = false;
        if let Some(diagnostic) = located(line) {
            parsed.diagnostics.push(diagnostic);
            continuing = true;
        } else if let Some((severity, _, _)) = category(line)
            && severity == Severity::Error
        {
            parsed.messages.push(line.to_owned());
        }
    }
    parsed
}

/// `path(line,col): error TS1234: message`.
fn located(line: &str) -> Option<RawDiagnostic> {
    for (close, _) in line.match_indices("): ") {
        let open = line[..close].rfind('(')?;
        let (row, column) = line[open + 1..close].split_once(',')?;
        let (Ok(row), Ok(column)) = (row.parse::<u32>(), column.parse::<u32>()) else {
            continue;
        };
        let Some((severity, code, message)) = category(&line[close + 3..]) else {
            continue;
        };
        let mut diagnostic =
            RawDiagnostic::at(&line[..open], row, column, severity, message.trim());
        diagnostic.code = code;
        return Some(diagnostic);
    }
    None
}

/// `error TS1234: message` → severity, code, message.
fn category(text: &str) -> Option<(Severity, Option<String>, &str)> {
    let (word, rest) = text.split_once(' ')?;
    let severity = match word {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "message" | "suggestion" => Severity::Information,
        _ => return None,
    };
    let (code, message) = rest.split_once(": ")?;
    if !code.starts_with("TS") || !code[2..].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((severity, Some(code.to_owned()), message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        super::super::raw::fixture("tsc.txt")
    }

    fn error(line: u32, column: u32, message: &str, notes: &[&str]) -> RawDiagnostic {
        RawDiagnostic {
            code: Some("TS2322".to_owned()),
            notes: notes.iter().map(|note| (*note).to_owned()).collect(),
            ..RawDiagnostic::at("src/index.ts", line, column, Severity::Error, message)
        }
    }

    #[test]
    fn the_real_fixture_gives_every_error_with_its_elaboration() {
        let parsed = parse(&fixture());
        assert!(parsed.messages.is_empty());
        let number = "Type 'string' is not assignable to type 'number'.";
        assert_eq!(
            parsed.diagnostics,
            vec![
                // After `"héllo 😀 日本"`: 47 UTF-16 units, 46 characters.
                error(1, 47, number, &[]),
                error(3, 10, number, &[]),
                error(
                    5,
                    7,
                    "Type 'Promise<string>' is not assignable to type 'Promise<number>'.",
                    &[number]
                ),
            ]
        );
    }

    #[test]
    fn paths_with_parentheses_and_global_errors() {
        let parsed = parse(
            "src/a (copy).ts(2,3): warning TS6133: 'x' is declared but its value is never read.\n\
             error TS5083: Cannot read file '/w/tsconfig.json'.\n\
             \x20 stray indented line\n\
             Found 2 errors.\n",
        );
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].path, "src/a (copy).ts");
        assert_eq!(parsed.diagnostics[0].severity, Severity::Warning);
        assert!(parsed.diagnostics[0].notes.is_empty());
        assert_eq!(
            parsed.messages,
            vec!["error TS5083: Cannot read file '/w/tsconfig.json'."]
        );
    }

    #[test]
    fn garbage_and_truncated_output_gives_no_panic() {
        let fixture = fixture();
        for cut in 0..fixture.len() {
            if fixture.is_char_boundary(cut) {
                parse(&fixture[..cut]);
            }
        }
        for text in [
            "(",
            "): ",
            "a(1,2): ",
            "a(x,y): error TS1: m",
            "a(1,2): error TSx: m",
            "error ",
            "(99999999999,1): error TS1: m",
        ] {
            parse(text);
        }
    }
}
