//! `ruff check --output-format=json`: one JSON array of violations on stdout.
//!
//! ```text
//! [{"filename":"/w/pkg/app.py","code":"F401","message":"`os` imported but unused",
//!   "location":{"row":1,"column":8},"end_location":{"row":1,"column":10},
//!   "severity":"error","fix":{"message":"Remove unused import: `os`",…},…}]
//! ```
//!
//! Rows and columns are 1-based, columns in characters. `code` is null for syntax errors.
//! Ruff before 0.12 has no `severity`: every violation fails the check, so it counts as an
//! error.

use serde_json::Value;

use super::Severity;
use super::raw::{Parsed, RawDiagnostic, json_u32, tail};

pub fn parse(stdout: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let text = stdout.trim();
    if text.is_empty() {
        return parsed;
    }
    let items = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        _ => {
            parsed.messages.push(format!(
                "ruff's output is not a JSON array of violations: {}",
                tail(text, 500)
            ));
            return parsed;
        }
    };
    for item in &items {
        let Some(path) = item.get("filename").and_then(Value::as_str) else {
            continue;
        };
        let severity = match item.get("severity").and_then(Value::as_str) {
            Some("warning") => Severity::Warning,
            Some("info" | "information") => Severity::Information,
            Some("hint") => Severity::Hint,
            _ => Severity::Error,
        };
        let message = item.get("message").and_then(Value::as_str).unwrap_or("");
        let mut diagnostic = RawDiagnostic::at(
            path,
            json_u32(item.pointer("/location/row")),
            json_u32(item.pointer("/location/column")),
            severity,
            message,
        );
        diagnostic.end_line = json_u32(item.pointer("/end_location/row"));
        diagnostic.end_column = json_u32(item.pointer("/end_location/column"));
        diagnostic.code = item.get("code").and_then(Value::as_str).map(str::to_owned);
        if let Some(fix) = item.pointer("/fix/message").and_then(Value::as_str) {
            diagnostic.notes.push(format!("help: {fix}"));
        }
        parsed.diagnostics.push(diagnostic);
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        super::super::raw::fixture("ruff.json")
    }

    #[test]
    fn the_real_fixture_gives_every_violation() {
        let parsed = parse(&fixture());
        assert!(parsed.messages.is_empty());
        let app = "/tmp/fixture/py/pkg/app.py";
        let mut unused_os =
            RawDiagnostic::at(app, 1, 8, Severity::Error, "`os` imported but unused");
        unused_os.end_line = 1;
        unused_os.end_column = 10;
        unused_os.code = Some("F401".to_owned());
        unused_os.notes = vec!["help: Remove unused import: `os`".to_owned()];
        let mut unused_sys =
            RawDiagnostic::at(app, 2, 8, Severity::Error, "`sys` imported but unused");
        unused_sys.end_line = 2;
        unused_sys.end_column = 11;
        unused_sys.code = Some("F401".to_owned());
        unused_sys.notes = vec!["help: Remove unused import: `sys`".to_owned()];
        // After `"héllo 😀 日本"`: ruff counts characters (UTF-16 would say 31).
        let mut undefined = RawDiagnostic::at(
            app,
            6,
            30,
            Severity::Error,
            "Undefined name `undefined_name`",
        );
        undefined.end_line = 6;
        undefined.end_column = 44;
        undefined.code = Some("F821".to_owned());
        assert_eq!(parsed.diagnostics, vec![unused_os, unused_sys, undefined]);
    }

    #[test]
    fn an_empty_array_is_no_diagnostics_and_no_problem() {
        assert_eq!(parse("[]\n"), Parsed::default());
        assert_eq!(parse(""), Parsed::default());
    }

    #[test]
    fn garbage_and_truncated_output_gives_no_panic() {
        let fixture = fixture();
        let parsed = parse(&fixture[..fixture.len() / 2]);
        assert!(parsed.diagnostics.is_empty());
        assert_eq!(parsed.messages.len(), 1);
        for text in [
            "{}",
            "[1, null, {\"filename\": 3}]",
            "[{\"filename\":\"a.py\",\"location\":{\"row\":-4}}]",
            "error: oops",
        ] {
            parse(text);
        }
    }
}
