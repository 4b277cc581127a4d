//! `eslint -f json .`: one JSON array of per-file results on stdout (ESLint's documented `json`
//! formatter).
//!
//! ```text
//! [{"filePath":"/w/src/a.js","messages":[{"ruleId":"no-unused-vars","severity":2,
//!   "message":"'x' is assigned a value but never used.","line":1,"column":7,
//!   "endLine":1,"endColumn":8}],"errorCount":1,…}]
//! ```
//!
//! Severity 2 is an error, 1 a warning; a `fatal` message (a parsing error) has no `ruleId`.
//! Lines and columns are 1-based, columns in UTF-16 code units.

use serde_json::Value;

use super::Severity;
use super::raw::{Parsed, RawDiagnostic, json_u32, tail};

pub fn parse(stdout: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let text = stdout.trim();
    if text.is_empty() {
        return parsed;
    }
    let results = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(results)) => results,
        _ => {
            parsed.messages.push(format!(
                "eslint's output is not its JSON results: {}",
                tail(text, 500)
            ));
            return parsed;
        }
    };
    for result in &results {
        let Some(path) = result.get("filePath").and_then(Value::as_str) else {
            continue;
        };
        let messages: &[Value] = result
            .get("messages")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        for message in messages {
            let fatal = message.get("fatal").and_then(Value::as_bool) == Some(true);
            let severity = match message.get("severity").and_then(Value::as_u64) {
                _ if fatal => Severity::Error,
                Some(2) => Severity::Error,
                Some(1) => Severity::Warning,
                _ => Severity::Information,
            };
            let mut diagnostic = RawDiagnostic::at(
                path,
                json_u32(message.get("line")),
                json_u32(message.get("column")),
                severity,
                message.get("message").and_then(Value::as_str).unwrap_or(""),
            );
            diagnostic.end_line = json_u32(message.get("endLine"));
            diagnostic.end_column = json_u32(message.get("endColumn"));
            diagnostic.code = message
                .get("ruleId")
                .and_then(Value::as_str)
                .map(str::to_owned);
            parsed.diagnostics.push(diagnostic);
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        super::super::raw::fixture("eslint.json")
    }

    #[test]
    fn the_documented_format_gives_every_message() {
        let parsed = parse(&fixture());
        assert!(parsed.messages.is_empty());
        let mut unused = RawDiagnostic::at(
            "/w/src/index.js",
            1,
            7,
            Severity::Error,
            "'unusedVar' is assigned a value but never used.",
        );
        unused.end_line = 1;
        unused.end_column = 16;
        unused.code = Some("no-unused-vars".to_owned());
        let mut semi = RawDiagnostic::at(
            "/w/src/index.js",
            2,
            26,
            Severity::Warning,
            "Missing semicolon.",
        );
        semi.end_line = 3;
        semi.end_column = 1;
        semi.code = Some("semi".to_owned());
        let fatal = RawDiagnostic::at(
            "/w/src/broken.js",
            3,
            9,
            Severity::Error,
            "Parsing error: Unexpected token )",
        );
        assert_eq!(parsed.diagnostics, vec![unused, semi, fatal]);
    }

    #[test]
    fn garbage_and_truncated_output_gives_no_panic() {
        let fixture = fixture();
        let parsed = parse(&fixture[..fixture.len() / 2]);
        assert!(parsed.diagnostics.is_empty());
        assert_eq!(parsed.messages.len(), 1);
        assert_eq!(parse("[]"), Parsed::default());
        for text in [
            "{}",
            "[{\"filePath\":\"a\",\"messages\":[1,{\"line\":\"x\"}]}]",
            "Oops! Something went wrong!",
        ] {
            parse(text);
        }
    }
}
