//! `go vet ./...`: findings on stderr, one per line, under a `# package` header per package.
//!
//! ```text
//! # example.com/m
//! # [example.com/m]
//! ./main.go:8:2: fmt.Printf format %d has arg name of wrong type string
//! # example.com/m/broken
//! vet: broken/broken.go:5:9: undefined: missing
//! ```
//!
//! Paths are relative to the working directory, lines 1-based, columns 1-based in bytes. A line
//! prefixed `vet: ` is a type-checking error (the package does not compile), so it is an error;
//! analyzer findings are warnings. Lines indented by a tab continue the previous finding.

use super::Severity;
use super::gcc::location_prefix;
use super::raw::{Parsed, RawDiagnostic};

pub fn parse(stderr: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut continuing = false;
    for line in stderr.lines() {
        let line = line.trim_end();
        if line.starts_with('\t') {
            if continuing && let Some(last) = parsed.diagnostics.last_mut() {
                last.notes.push(line.trim().to_owned());
            }
            continue;
        }
        continuing = false;
        if line.starts_with('#') {
            continue;
        }
        let (severity, located) = match line.strip_prefix("vet: ") {
            Some(rest) => (Severity::Error, rest),
            None => (Severity::Warning, line),
        };
        if let Some((path, row, column, message)) = location_prefix(located) {
            parsed
                .diagnostics
                .push(RawDiagnostic::at(path, row, column, severity, message));
            continuing = true;
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        super::super::raw::fixture("go-vet.stderr.txt")
    }

    #[test]
    fn the_documented_format_gives_findings_and_type_errors() {
        let parsed = parse(&fixture());
        assert!(parsed.messages.is_empty());
        assert_eq!(
            parsed.diagnostics,
            vec![
                RawDiagnostic::at(
                    "./main.go",
                    9,
                    2,
                    Severity::Warning,
                    "fmt.Printf format %d has arg name of wrong type string"
                ),
                RawDiagnostic::at("./main.go", 14, 2, Severity::Warning, "unreachable code"),
                RawDiagnostic::at(
                    "broken/broken.go",
                    5,
                    9,
                    Severity::Error,
                    "undefined: missing"
                ),
            ]
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
        for text in ["vet: ", "\tcontinued", "go: cannot find main module", "#"] {
            assert!(parse(text).diagnostics.is_empty());
        }
    }
}
