//! The result file of `jest --json --outputFile=…` (jest's `AggregatedResult`); vitest's
//! `--reporter=json` writes the same shape.
//!
//! Each `testResults[]` entry is a test file; its `assertionResults[]` are the tests, with
//! `status` `passed`, `failed`, `pending`/`skipped`/`todo`/`disabled`. A file that failed to run
//! (a syntax error, a missing module) has no assertions: it becomes one `Error` case named after
//! the file, with jest's message. Unknown fields are ignored; a file that is not JSON gives no
//! cases.

use std::path::Path;

use serde::Deserialize;

use super::{TestCase, TestStatus, output_tail, strip_ansi};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Aggregated {
    test_results: Vec<FileResult>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct FileResult {
    name: String,
    status: String,
    message: String,
    assertion_results: Vec<Assertion>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Assertion {
    full_name: String,
    title: String,
    status: String,
    duration: Option<f64>,
    failure_messages: Vec<String>,
}

/// The test cases of a result file; ids are `<file relative to root> <full name>`.
pub fn parse(json: &str, root: &Path) -> Vec<TestCase> {
    let Ok(aggregated) = serde_json::from_str::<Aggregated>(json) else {
        return Vec::new();
    };
    let mut tests = Vec::new();
    for file in aggregated.test_results {
        let relative = Path::new(&file.name)
            .strip_prefix(root)
            .map(|path| path.display().to_string())
            .unwrap_or_else(|_| file.name.clone());
        if file.assertion_results.is_empty() {
            if file.status == "failed" {
                let message = strip_ansi(&file.message);
                let message = message.trim();
                tests.push(TestCase {
                    id: relative.clone(),
                    name: relative,
                    status: TestStatus::Error,
                    duration_ms: None,
                    message: Some(if message.is_empty() {
                        "the test file failed to run".to_owned()
                    } else {
                        message.to_owned()
                    }),
                    output_tail: None,
                });
            }
            continue;
        }
        for assertion in file.assertion_results {
            let status = match assertion.status.as_str() {
                "passed" => TestStatus::Passed,
                "failed" => TestStatus::Failed,
                _ => TestStatus::Skipped,
            };
            let name = if assertion.full_name.is_empty() {
                assertion.title
            } else {
                assertion.full_name
            };
            let failure = strip_ansi(&assertion.failure_messages.join("\n\n"));
            let failure = failure.trim();
            tests.push(TestCase {
                id: format!("{relative} {name}"),
                name,
                status,
                duration_ms: assertion
                    .duration
                    .filter(|duration| duration.is_finite() && *duration >= 0.0)
                    .map(|duration| duration.round() as u64),
                // The first line is the assertion; the rest is mostly stack.
                message: failure
                    .split("\n    at ")
                    .next()
                    .map(str::trim)
                    .filter(|message| !message.is_empty())
                    .map(str::to_owned),
                output_tail: (!failure.is_empty()).then(|| output_tail(failure)),
            });
        }
    }
    tests
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/data/tools/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn documented_result_file() {
        let tests = parse(&fixture("jest.json"), Path::new("/work/app"));
        let summary: Vec<_> = tests
            .iter()
            .map(|test| (test.id.as_str(), test.status, test.duration_ms))
            .collect();
        assert_eq!(
            summary,
            [
                ("src/calc.test.js calc adds", TestStatus::Passed, Some(2)),
                ("src/calc.test.js calc fails", TestStatus::Failed, Some(5)),
                ("src/calc.test.js calc skipped", TestStatus::Skipped, None),
                ("src/calc.test.js calc divides", TestStatus::Skipped, None),
                ("src/broken.test.js", TestStatus::Error, None),
            ]
        );
        assert_eq!(
            tests[1].message.as_deref(),
            Some(
                "Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: 5\nReceived: 4"
            )
        );
        assert!(
            tests[1]
                .output_tail
                .as_deref()
                .unwrap()
                .contains("calc.test.js:8:23")
        );
        assert!(
            tests[4]
                .message
                .as_deref()
                .unwrap()
                .contains("Cannot find module './missing'")
        );
    }

    #[test]
    fn colours_are_removed_and_odd_input_gives_nothing() {
        let json = r#"{"testResults":[{"name":"a.test.js","assertionResults":[
            {"fullName":"x","status":"failed","failureMessages":["\u001b[31mboom\u001b[39m"]}]}]}"#;
        let tests = parse(json, Path::new("/"));
        assert_eq!(tests[0].message.as_deref(), Some("boom"));
        assert_eq!(tests[0].id, "a.test.js x");
        for input in [
            "",
            "null",
            "[]",
            "{\"testResults\":7}",
            "{\"testResults\":[{}]}",
        ] {
            assert_eq!(parse(input, Path::new("/")), []);
        }
    }
}
