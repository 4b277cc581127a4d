//! The event stream of `go test -json` (`go doc test2json`): one JSON object per line,
//!
//! ```text
//! {"Time":"…","Action":"run","Package":"example.com/calc","Test":"TestAdd"}
//! {"Time":"…","Action":"output","Package":"example.com/calc","Test":"TestAdd","Output":"    calc_test.go:9: got 4\n"}
//! {"Time":"…","Action":"fail","Package":"example.com/calc","Test":"TestAdd","Elapsed":0.01}
//! ```
//!
//! Actions `pass`, `fail` and `skip` end a test (or, without `Test`, a package). A package that
//! fails with no failing test becomes one case named after the package, with its output as the
//! message: `DidNotCompile` when its build failed (`build-fail`, `FailedBuild`, `[build failed]`),
//! `Error` otherwise (a panic in `init` or `TestMain`). A test that never
//! ended (the run timed out or crashed) is an `Error`. Lines that are not JSON are kept as
//! package output; unknown actions and fields are ignored.

use std::collections::HashMap;

use serde::Deserialize;

use super::{TestCase, TestStatus, output_tail};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct GoEvent {
    action: String,
    package: String,
    test: Option<String>,
    elapsed: Option<f64>,
    output: Option<String>,
    import_path: Option<String>,
    failed_build: Option<String>,
}

#[derive(Default)]
struct PackageState {
    failed: bool,
    build_failed: bool,
    output: String,
}

pub fn parse(stream: &str) -> Vec<TestCase> {
    let mut tests: Vec<(TestCase, String, bool)> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut packages: Vec<(String, PackageState)> = Vec::new();
    let mut stray = String::new();
    for line in stream.lines() {
        let event = match serde_json::from_str::<GoEvent>(line.trim()) {
            Ok(event) if !event.action.is_empty() => event,
            _ => {
                if !line.trim().is_empty() {
                    stray.push_str(line);
                    stray.push('\n');
                }
                continue;
            }
        };
        // Build events name the package by import path: `example.com/calc [example.com/calc.test]`.
        let package = if event.package.is_empty() {
            event
                .import_path
                .as_deref()
                .and_then(|path| path.split_whitespace().next())
                .unwrap_or_default()
                .to_owned()
        } else {
            event.package.clone()
        };
        let Some(test) = event.test.filter(|test| !test.is_empty()) else {
            let position = match packages.iter().position(|(name, _)| *name == package) {
                Some(position) => position,
                None => {
                    packages.push((package.clone(), PackageState::default()));
                    packages.len() - 1
                }
            };
            let state = &mut packages[position].1;
            let output = event.output.as_deref().unwrap_or("");
            match event.action.as_str() {
                "output" | "build-output" => {
                    if output.contains("[build failed]") || output.contains("[setup failed]") {
                        state.build_failed = true;
                    }
                    state.output.push_str(output)
                }
                "build-fail" => {
                    state.failed = true;
                    state.build_failed = true;
                }
                "fail" => {
                    state.failed = true;
                    state.build_failed |= event.failed_build.is_some_and(|b| !b.is_empty());
                }
                _ => {}
            }
            continue;
        };
        let key = (package.clone(), test.clone());
        let position = *index.entry(key).or_insert_with(|| {
            tests.push((
                TestCase {
                    id: format!("{package} {test}"),
                    name: test.clone(),
                    status: TestStatus::Error,
                    duration_ms: None,
                    message: None,
                    output_tail: None,
                },
                String::new(),
                false,
            ));
            tests.len() - 1
        });
        let (case, output, ended) = &mut tests[position];
        let status = match event.action.as_str() {
            "output" => {
                output.push_str(event.output.as_deref().unwrap_or(""));
                continue;
            }
            "pass" => TestStatus::Passed,
            "fail" => TestStatus::Failed,
            "skip" => TestStatus::Skipped,
            _ => continue,
        };
        case.status = status;
        case.duration_ms = event
            .elapsed
            .filter(|elapsed| elapsed.is_finite() && *elapsed >= 0.0)
            .map(|elapsed| (elapsed * 1000.0).round() as u64);
        *ended = true;
    }

    let mut cases = Vec::with_capacity(tests.len());
    for (mut case, output, ended) in tests {
        if !ended {
            case.message =
                Some("the test did not finish (the run timed out or crashed)".to_owned());
        } else if case.status != TestStatus::Passed {
            case.message = test_message(&output);
        }
        if case.status != TestStatus::Passed && !output.trim().is_empty() {
            case.output_tail = Some(output_tail(output.trim_end()));
        }
        cases.push(case);
    }
    for (package, state) in packages {
        let has_failing_test = cases.iter().any(|case| {
            case.status != TestStatus::Passed
                && case.status != TestStatus::Skipped
                && case
                    .id
                    .strip_prefix(&package)
                    .is_some_and(|rest| rest.starts_with(' '))
        });
        if !state.failed || has_failing_test {
            continue;
        }
        let output = if state.output.trim().is_empty() {
            &stray
        } else {
            &state.output
        };
        cases.push(TestCase {
            id: package.clone(),
            name: package,
            status: if state.build_failed {
                TestStatus::DidNotCompile
            } else {
                TestStatus::Error
            },
            duration_ms: None,
            message: Some(
                package_message(output)
                    .unwrap_or_else(|| "the package failed without a failing test".to_owned()),
            ),
            output_tail: (!output.trim().is_empty()).then(|| output_tail(output.trim_end())),
        });
    }
    cases
}

/// What the test itself logged (`t.Errorf`, panics), without the `=== RUN`/`--- FAIL` framing.
fn test_message(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .filter(|line| {
            let trimmed = line.trim();
            !trimmed.is_empty()
                && !trimmed.starts_with("=== ")
                && !trimmed.starts_with("--- ")
                && trimmed != "FAIL"
                && trimmed != "PASS"
        })
        .map(str::trim)
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A package's failure output without the final `FAIL <package>` status lines.
fn package_message(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .filter(|line| {
            let trimmed = line.trim();
            !trimmed.is_empty()
                && trimmed != "FAIL"
                && !trimmed.starts_with("FAIL\t")
                && !trimmed.starts_with("ok ")
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/data/tools/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn documented_event_stream() {
        let tests = parse(&fixture("go-test.jsonl"));
        let summary: Vec<_> = tests
            .iter()
            .map(|test| (test.id.as_str(), test.status, test.duration_ms))
            .collect();
        assert_eq!(
            summary,
            [
                ("example.com/calc TestAdd", TestStatus::Passed, Some(0)),
                ("example.com/calc TestSub", TestStatus::Failed, Some(10)),
                ("example.com/calc TestTable", TestStatus::Failed, Some(0)),
                (
                    "example.com/calc TestTable/zero",
                    TestStatus::Passed,
                    Some(0)
                ),
                (
                    "example.com/calc TestTable/negative",
                    TestStatus::Failed,
                    Some(0)
                ),
                ("example.com/calc TestSlow", TestStatus::Skipped, Some(0)),
                ("example.com/broken", TestStatus::DidNotCompile, None),
            ]
        );
        assert_eq!(
            tests[1].message.as_deref(),
            Some("calc_test.go:14: Sub(3, 1) = 4, want 2")
        );
        assert_eq!(
            tests[5].message.as_deref(),
            Some("calc_test.go:30: slow test; use -long")
        );
        let broken = tests[6].message.as_deref().unwrap();
        assert!(broken.contains("undefined: Mul"), "{broken}");
        assert!(!broken.contains("[build failed]"), "{broken}");
    }

    #[test]
    fn unfinished_tests_are_errors() {
        let stream = "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestHang\"}\n\
                      {\"Action\":\"output\",\"Package\":\"p\",\"Test\":\"TestHang\",\"Output\":\"=== RUN   TestHang\\n\"}\n";
        let tests = parse(stream);
        assert_eq!(tests.len(), 1);
        assert_eq!(tests[0].status, TestStatus::Error);
        assert!(
            tests[0]
                .message
                .as_deref()
                .unwrap()
                .contains("did not finish")
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        for input in [
            "",
            "not json",
            "{}",
            "{\"Action\":7}",
            "{\"Action\":\"fail\"}",
            "{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"T\",\"Elapsed\":-3}",
            "[1,2]\n{\"Action\":\"output\",\"Test\":\"\"}",
        ] {
            let _ = parse(input);
        }
        let tests = parse("{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"T\",\"Elapsed\":-3}");
        assert_eq!(tests[0].duration_ms, None);
    }
}
