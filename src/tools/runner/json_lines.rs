//! The results prodcode's own pytest plugin and unittest driver write: one JSON object per line,
//! appended and flushed as each test moves on, so the lines written before a timeout's kill
//! survive it.
//!
//! ```text
//! {"id": "tests/test_x.py::test_p[a b]", "name": "test_p[a b]", "status": "started"}
//! {"id": "tests/test_x.py::test_p[a b]", "name": "test_p[a b]", "status": "failed", "durationMs": 3, "message": "AssertionError: …", "output": "…"}
//! {"id": "tests/test_bad.py", "name": "tests/test_bad.py", "status": "didNotCompile", "message": "ModuleNotFoundError: …"}
//! ```
//!
//! `status` is a [`TestStatus`] in camelCase, or `started` (the test began; a later line for the
//! same id ends it). The last line for an id wins; ids keep the order of their first line. A test
//! whose last line is `started` never finished: an `Error`. Lines that are not such objects (a
//! line cut short by a kill) are skipped.

use serde::Deserialize;

use super::{TestCase, TestStatus, output_tail};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    id: String,
    #[serde(default)]
    name: Option<String>,
    status: String,
    #[serde(default)]
    duration_ms: Option<f64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    output: Option<String>,
}

pub fn parse(text: &str) -> Vec<TestCase> {
    let mut tests: Vec<TestCase> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<Record>(line.trim()) else {
            continue;
        };
        if record.id.is_empty() {
            continue;
        }
        let (status, message) = match record.status.as_str() {
            "started" => (
                TestStatus::Error,
                Some(
                    "the test did not finish (the run timed out or crashed while it ran)"
                        .to_owned(),
                ),
            ),
            "passed" => (TestStatus::Passed, None),
            "failed" => (TestStatus::Failed, record.message),
            "skipped" => (TestStatus::Skipped, record.message),
            "error" => (TestStatus::Error, record.message),
            "didNotCompile" => (TestStatus::DidNotCompile, record.message),
            "notRun" => (TestStatus::NotRun, record.message),
            _ => continue,
        };
        let output = record
            .output
            .as_deref()
            .map(str::trim)
            .filter(|output| !output.is_empty() && status != TestStatus::Passed)
            .map(output_tail);
        let case = TestCase {
            name: record.name.unwrap_or_else(|| record.id.clone()),
            id: record.id,
            status,
            duration_ms: record
                .duration_ms
                .filter(|ms| ms.is_finite() && *ms >= 0.0)
                .map(|ms| ms.round() as u64),
            message: message.filter(|message| !message.trim().is_empty()),
            output_tail: output,
        };
        match index.get(&case.id) {
            Some(&position) => tests[position] = case,
            None => {
                index.insert(case.id.clone(), tests.len());
                tests.push(case);
            }
        }
    }
    tests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_of_an_id_wins_and_started_means_unfinished() {
        let text = r#"{"id": "a.py::t1", "name": "t1", "status": "started"}
{"id": "a.py::t2", "name": "t2", "status": "started"}
{"id": "a.py::t1", "name": "t1", "status": "failed", "durationMs": 2.6, "message": "boom", "output": "trace\n"}
{"id": "b.py", "status": "didNotCompile", "message": "ImportError: x"}
{"id": "a.py::t3", "status": "passed", "output": "ignored for a pass"}
{"id": "a.py::t4", "sta"#;
        let tests = parse(text);
        let summary: Vec<_> = tests
            .iter()
            .map(|test| {
                (
                    test.id.as_str(),
                    test.name.as_str(),
                    test.status,
                    test.duration_ms,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("a.py::t1", "t1", TestStatus::Failed, Some(3)),
                ("a.py::t2", "t2", TestStatus::Error, None),
                ("b.py", "b.py", TestStatus::DidNotCompile, None),
                ("a.py::t3", "a.py::t3", TestStatus::Passed, None),
            ]
        );
        assert_eq!(tests[0].message.as_deref(), Some("boom"));
        assert_eq!(tests[0].output_tail.as_deref(), Some("trace"));
        assert!(
            tests[1]
                .message
                .as_deref()
                .unwrap()
                .contains("did not finish")
        );
        assert_eq!(tests[3].output_tail, None);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for input in [
            "",
            "{}",
            "[1]",
            "{\"id\": \"\", \"status\": \"passed\"}",
            "{\"id\": \"x\", \"status\": \"sideways\"}",
            "{\"id\": \"x\", \"status\": \"passed\", \"durationMs\": -1}",
            "{\"id\": 3, \"status\": \"passed\"}",
        ] {
            let tests = parse(input);
            assert!(
                tests.iter().all(|test| test.duration_ms.is_none()),
                "{input}"
            );
        }
    }
}
