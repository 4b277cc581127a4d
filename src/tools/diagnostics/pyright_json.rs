//! `pyright --outputjson`: one JSON object on stdout.
//!
//! ```text
//! {"version":"1.1.414","generalDiagnostics":[{"file":"/w/pkg/app.py","severity":"error",
//!   "message":"\"x\" is not defined","range":{"start":{"line":5,"character":30},
//!   "end":{"line":5,"character":44}},"rule":"reportUndefinedVariable"}],"summary":{…}}
//! ```
//!
//! Lines and characters are 0-based and characters count UTF-16 code units (checked against a
//! line with an emoji: see `tests/data/tools/diagnostics/pyright.json`); this parser adds 1 and
//! the format declares the unit. A message's later lines (`\n  …`) elaborate the first and
//! become notes.

use serde_json::Value;

use super::Severity;
use super::raw::{Parsed, RawDiagnostic, json_u32, tail};

pub fn parse(stdout: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let text = stdout.trim();
    if text.is_empty() {
        return parsed;
    }
    // Anything printed before the JSON object (a warning from node) is skipped.
    let json = text.find('{').map_or(text, |start| &text[start..]);
    let report = match serde_json::from_str::<Value>(json) {
        Ok(report @ Value::Object(_)) => report,
        _ => {
            parsed.messages.push(format!(
                "pyright's output is not its JSON report: {}",
                tail(text, 500)
            ));
            return parsed;
        }
    };
    let items: &[Value] = report
        .get("generalDiagnostics")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    for item in items {
        let message = item.get("message").and_then(Value::as_str).unwrap_or("");
        let mut lines = message.lines();
        let first = lines.next().unwrap_or("");
        let Some(path) = item.get("file").and_then(Value::as_str) else {
            parsed.messages.push(message.to_owned());
            continue;
        };
        let severity = match item.get("severity").and_then(Value::as_str) {
            Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            Some("information") => Severity::Information,
            _ => Severity::Hint,
        };
        let position = |name: &str| {
            let line = json_u32(item.pointer(&format!("/range/{name}/line")));
            let character = json_u32(item.pointer(&format!("/range/{name}/character")));
            let present = item.pointer(&format!("/range/{name}/line")).is_some();
            if present {
                (line.saturating_add(1), character.saturating_add(1))
            } else {
                (0, 0)
            }
        };
        let (line, column) = position("start");
        let (end_line, end_column) = position("end");
        let mut diagnostic = RawDiagnostic::at(path, line, column, severity, first);
        diagnostic.end_line = end_line;
        diagnostic.end_column = end_column;
        diagnostic.code = item.get("rule").and_then(Value::as_str).map(str::to_owned);
        diagnostic.notes = lines
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
        parsed.diagnostics.push(diagnostic);
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        super::super::raw::fixture("pyright.json")
    }

    fn diagnostic(
        path: &str,
        (line, column, end_line, end_column): (u32, u32, u32, u32),
        rule: &str,
        message: &str,
        notes: &[&str],
    ) -> RawDiagnostic {
        RawDiagnostic {
            end_line,
            end_column,
            code: Some(rule.to_owned()),
            notes: notes.iter().map(|note| (*note).to_owned()).collect(),
            ..RawDiagnostic::at(path, line, column, Severity::Error, message)
        }
    }

    #[test]
    fn the_real_fixture_gives_every_diagnostic_one_based_in_utf16_units() {
        let parsed = parse(&fixture());
        assert!(parsed.messages.is_empty());
        let app = "/tmp/fixture/py/pkg/app.py";
        let types = "/tmp/fixture/py/pkg/types.py";
        assert_eq!(
            parsed.diagnostics,
            vec![
                // Character 30 in ruff's count: the emoji before it is two UTF-16 units.
                diagnostic(
                    app,
                    (6, 31, 6, 45),
                    "reportUndefinedVariable",
                    "\"undefined_name\" is not defined",
                    &[]
                ),
                diagnostic(
                    types,
                    (1, 10, 1, 13),
                    "reportAssignmentType",
                    "Type \"Literal['ä']\" is not assignable to declared type \"int\"",
                    &["\"Literal['ä']\" is not assignable to \"int\""]
                ),
                diagnostic(
                    types,
                    (1, 24, 1, 28),
                    "reportAssignmentType",
                    "Type \"Literal['😀']\" is not assignable to declared type \"int\"",
                    &["\"Literal['😀']\" is not assignable to \"int\""]
                ),
                diagnostic(
                    types,
                    (1, 39, 1, 42),
                    "reportAssignmentType",
                    "Type \"Literal['w']\" is not assignable to declared type \"int\"",
                    &["\"Literal['w']\" is not assignable to \"int\""]
                ),
            ]
        );
    }

    #[test]
    fn a_diagnostic_without_a_file_is_a_message() {
        let parsed = parse(
            r#"{"generalDiagnostics":[{"severity":"error","message":"Config file could not be parsed"}]}"#,
        );
        assert!(parsed.diagnostics.is_empty());
        assert_eq!(parsed.messages, vec!["Config file could not be parsed"]);
    }

    #[test]
    fn garbage_and_truncated_output_gives_no_panic() {
        let fixture = fixture();
        let parsed = parse(&fixture[..fixture.len() / 2]);
        assert!(parsed.diagnostics.is_empty());
        assert_eq!(parsed.messages.len(), 1);
        for text in [
            "[]",
            "{\"generalDiagnostics\": 5}",
            "{\"generalDiagnostics\": [1, {\"file\": \"a.py\", \"range\": {\"start\": {\"line\": 4294967295}}}]}",
            "No configuration file found.\n{}",
        ] {
            parse(text);
        }
    }
}
