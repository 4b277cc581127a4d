//! `cargo check --message-format=json`: one JSON object per line on stdout. Diagnostics are the
//! `compiler-message` lines; their `message` is rustc's JSON diagnostic:
//!
//! ```text
//! {"reason":"compiler-message","manifest_path":"/w/Cargo.toml","target":{…},"message":{
//!   "level":"error","code":{"code":"E0308",…},"message":"mismatched types",
//!   "spans":[{"file_name":"src/lib.rs","line_start":5,"column_start":43,"line_end":5,
//!             "column_end":46,"is_primary":true,"label":"expected `i32`, found `&str`",
//!             "expansion":null,…}],
//!   "children":[{"level":"help","message":"…","spans":[{"suggested_replacement":"_x",…}]}],
//!   "rendered":"error[E0308]: mismatched types\n --> src/lib.rs:5:43\n…"}}
//! ```
//!
//! Lines and columns are 1-based, columns in characters (checked against a line with
//! multibyte characters: see `tests/data/tools/diagnostics/cargo-check.jsonl`). Paths of the
//! Cargo workspace's own files are relative to the Cargo workspace root; files elsewhere (the
//! standard library, registry crates) are absolute, so a primary span there is followed through
//! its macro expansions back to the call site in the user's code. With `--all-targets` the same
//! diagnostic comes once per target (lib and lib test); the caller drops duplicates.

use serde_json::Value;

use super::Severity;
use super::raw::{Parsed, RawDiagnostic, json_u32};

/// Notes kept per diagnostic (children and secondary labels).
const MAX_NOTES: usize = 8;

pub fn parse(stdout: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for line in stdout.lines() {
        let line = line.trim();
        if !line.starts_with('{') {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if value.get("reason").and_then(Value::as_str) != Some("compiler-message") {
            continue;
        }
        let Some(message) = value.get("message") else {
            continue;
        };
        let base = value
            .get("manifest_path")
            .and_then(Value::as_str)
            .and_then(|manifest| std::path::Path::new(manifest).parent())
            .map(|dir| dir.display().to_string());
        let src_path = value
            .pointer("/target/src_path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(mut diagnostic) = diagnostic(message, src_path) {
            diagnostic.base = base;
            parsed.diagnostics.push(diagnostic);
        }
    }
    parsed
}

fn diagnostic(message: &Value, src_path: &str) -> Option<RawDiagnostic> {
    let level = message.get("level").and_then(Value::as_str).unwrap_or("");
    let text = message.get("message").and_then(Value::as_str).unwrap_or("");
    let severity = severity(level)?;
    let spans: &[Value] = message
        .get("spans")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let primary = spans
        .iter()
        .find(|span| span.get("is_primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| spans.first());
    let mut diagnostic = match primary {
        Some(span) => {
            let span = user_span(span);
            let mut diagnostic = RawDiagnostic::at(
                span.get("file_name").and_then(Value::as_str).unwrap_or(""),
                json_u32(span.get("line_start")),
                json_u32(span.get("column_start")),
                severity,
                text,
            );
            diagnostic.end_line = json_u32(span.get("line_end"));
            diagnostic.end_column = json_u32(span.get("column_end"));
            diagnostic
        }
        None => {
            // Summaries ("aborting due to 1 previous error", "2 warnings emitted", "For more
            // information about this error, …") repeat what the other messages say.
            if level == "failure-note"
                || text.starts_with("aborting due to")
                || text.ends_with("emitted")
            {
                return None;
            }
            RawDiagnostic::at(src_path, 0, 0, severity, text)
        }
    };
    diagnostic.code = message
        .pointer("/code/code")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(label) = primary
        .and_then(|span| span.get("label"))
        .and_then(Value::as_str)
        .filter(|label| !label.is_empty())
    {
        diagnostic.notes.push(label.to_owned());
    }
    for span in spans {
        if Some(span) == primary {
            continue;
        }
        if let Some(label) = span.get("label").and_then(Value::as_str) {
            diagnostic.notes.push(format!(
                "{}:{}: {label}",
                json_u32(span.get("line_start")),
                json_u32(span.get("column_start"))
            ));
        }
    }
    for child in message
        .get("children")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        diagnostic.notes.push(child_note(child));
    }
    diagnostic.notes.truncate(MAX_NOTES);
    Some(diagnostic)
}

fn severity(level: &str) -> Option<Severity> {
    Some(match level {
        "warning" => Severity::Warning,
        "note" | "failure-note" => Severity::Information,
        "help" => Severity::Hint,
        level if level.starts_with("error") => Severity::Error,
        _ => return None,
    })
}

/// The span itself when it is in the user's code (a relative path), else the nearest macro call
/// site that is.
fn user_span(span: &Value) -> &Value {
    let mut current = span;
    for _ in 0..32 {
        let file = current
            .get("file_name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !file.starts_with('/') && !file.starts_with('<') {
            return current;
        }
        match current.pointer("/expansion/span") {
            Some(next) => current = next,
            None => break,
        }
    }
    span
}

/// `help: if this is intentional, prefix it with an underscore: `_unused``.
fn child_note(child: &Value) -> String {
    let level = child.get("level").and_then(Value::as_str).unwrap_or("note");
    let text = child.get("message").and_then(Value::as_str).unwrap_or("");
    let replacement = child
        .get("spans")
        .and_then(Value::as_array)
        .and_then(|spans| {
            spans
                .iter()
                .find_map(|span| span.get("suggested_replacement").and_then(Value::as_str))
        })
        .filter(|replacement| !replacement.is_empty());
    match replacement {
        Some(replacement) => format!("{level}: {text}: `{replacement}`"),
        None => format!("{level}: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        super::super::raw::fixture("cargo-check.jsonl")
    }

    #[test]
    fn the_real_fixture_gives_the_error_and_both_warnings() {
        let parsed = parse(&fixture());
        assert!(parsed.messages.is_empty());
        type Row<'a> = (
            &'a str,
            u32,
            u32,
            u32,
            u32,
            Severity,
            Option<&'a str>,
            &'a str,
        );
        let summary: Vec<Row> = parsed
            .diagnostics
            .iter()
            .map(|d| {
                (
                    d.path.as_str(),
                    d.line,
                    d.column,
                    d.end_line,
                    d.end_column,
                    d.severity,
                    d.code.as_deref(),
                    d.message.as_str(),
                )
            })
            .collect();
        let unused_import = (
            "src/lib.rs",
            1,
            5,
            1,
            30,
            Severity::Warning,
            Some("unused_imports"),
            "unused import: `std::collections::HashMap`",
        );
        let mismatch = (
            "src/lib.rs",
            5,
            43,
            5,
            46,
            Severity::Error,
            Some("E0308"),
            "mismatched types",
        );
        let unused_variable = (
            "src/lib.rs",
            10,
            9,
            10,
            15,
            Severity::Warning,
            Some("unused_variables"),
            "unused variable: `unused`",
        );
        // Once for the lib target, once for lib test.
        assert_eq!(
            summary,
            vec![
                unused_import,
                unused_import,
                mismatch,
                unused_variable,
                mismatch,
                unused_variable
            ]
        );
        let mismatch = &parsed.diagnostics[2];
        assert_eq!(mismatch.base.as_deref(), Some("/tmp/fixture/demo"));
        assert_eq!(
            mismatch.notes,
            vec![
                "expected `i32`, found `&str`".to_owned(),
                "5:37: expected due to this".to_owned()
            ]
        );
        assert_eq!(
            parsed.diagnostics[3].notes.last().map(String::as_str),
            Some("help: if this is intentional, prefix it with an underscore: `_unused`")
        );
    }

    #[test]
    fn a_macro_from_std_points_at_the_call_site() {
        let line = r#"{"reason":"compiler-message","manifest_path":"/w/Cargo.toml","target":{"src_path":"/w/src/main.rs"},"message":{"level":"error","message":"boom","code":null,"children":[],"spans":[{"file_name":"/rustc/abc/library/core/src/macros/mod.rs","line_start":10,"column_start":1,"line_end":10,"column_end":5,"is_primary":true,"label":null,"expansion":{"span":{"file_name":"src/main.rs","line_start":3,"column_start":5,"line_end":3,"column_end":20,"is_primary":false,"expansion":null}}}]}}"#;
        let parsed = parse(line);
        assert_eq!(parsed.diagnostics.len(), 1);
        let d = &parsed.diagnostics[0];
        assert_eq!((d.path.as_str(), d.line, d.column), ("src/main.rs", 3, 5));
    }

    #[test]
    fn a_spanless_message_lands_on_the_crate_root_and_summaries_are_dropped() {
        let text = concat!(
            r#"{"reason":"compiler-message","target":{"src_path":"/w/src/lib.rs"},"message":{"level":"error","message":"cannot find crate","spans":[],"children":[]}}"#,
            "\n",
            r#"{"reason":"compiler-message","target":{"src_path":"/w/src/lib.rs"},"message":{"level":"error","message":"aborting due to 1 previous error","spans":[],"children":[]}}"#,
            "\n",
            r#"{"reason":"build-finished","success":false}"#,
        );
        let parsed = parse(text);
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].path, "/w/src/lib.rs");
        assert_eq!(parsed.diagnostics[0].line, 0);
    }

    #[test]
    fn garbage_and_truncated_output_gives_no_panic() {
        let fixture = fixture();
        for cut in (0..fixture.len()).step_by(97) {
            if fixture.is_char_boundary(cut) {
                parse(&fixture[..cut]);
            }
        }
        for text in [
            "",
            "{",
            "not json\n{}\n[]",
            r#"{"reason":"compiler-message"}"#,
            r#"{"reason":"compiler-message","message":{"level":"warning","spans":[{"line_start":-1,"column_start":"x"}],"children":[1,{"spans":[{}]}]}}"#,
            r#"{"reason":"compiler-message","message":{"level":"error","spans":[{"file_name":"/a","expansion":{"span":{"file_name":"/b","expansion":{"span":7}}}}]}}"#,
        ] {
            parse(text);
        }
    }
}
