//! JUnit XML reports, as cargo nextest and pytest (`--junitxml`) write them.
//!
//! One `<testcase>` per test; a `<failure>` child makes it failed, `<error>` an error, `<skipped>`
//! skipped, none of them passed. nextest's `<flakyFailure>`/`<rerunFailure>` children describe
//! earlier attempts and do not change the outcome. Malformed XML ends the parse: the test cases
//! read so far are kept.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::{TestCase, TestStatus, output_tail};

/// How a report names its tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IdStyle {
    /// `<classname> <name>`: nextest's binary id, then the test name (`mycrate tests::adds`).
    Nextest,
    /// `<classname>::<name>`: pytest's dotted module (and class) path, then the test name.
    Pytest,
}

/// The test cases of a JUnit XML report.
pub fn parse(xml: &str, style: IdStyle) -> Vec<TestCase> {
    let mut reader = Reader::from_str(xml);
    let mut tests = Vec::new();
    let mut current: Option<Partial> = None;
    // The child element whose text is being collected, by kind.
    let mut collecting: Option<Child> = None;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(start) => match start.local_name().as_ref() {
                "testcase" => current = Some(Partial::new(&start)),
                other => {
                    if let Some(partial) = current.as_mut() {
                        collecting = Child::of(other);
                        if let Some(child) = collecting {
                            partial.open(child, &start);
                        }
                    }
                }
            },
            Event::Empty(start) => match start.local_name().as_ref() {
                "testcase" => tests.push(Partial::new(&start).finish(style)),
                other => {
                    if let (Some(partial), Some(child)) = (current.as_mut(), Child::of(other)) {
                        partial.open(child, &start);
                    }
                }
            },
            Event::End(end) => match end.local_name().as_ref() {
                "testcase" => {
                    if let Some(partial) = current.take() {
                        tests.push(partial.finish(style));
                    }
                    collecting = None;
                }
                _ => collecting = None,
            },
            Event::Text(text) => {
                if let (Some(partial), Some(child)) = (current.as_mut(), collecting) {
                    partial.text(child, &text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let (Some(partial), Some(child)) = (current.as_mut(), collecting) {
                    partial.text(child, &data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                if let (Some(partial), Some(child)) = (current.as_mut(), collecting) {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(character)) => character.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(&reference)
                            .unwrap_or_default()
                            .to_owned(),
                    };
                    partial.text(child, &resolved);
                }
            }
            _ => {}
        }
    }
    tests
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Child {
    Failure,
    Error,
    Skipped,
    SystemOut,
    SystemErr,
}

impl Child {
    fn of(name: &str) -> Option<Child> {
        match name {
            "failure" => Some(Child::Failure),
            "error" => Some(Child::Error),
            "skipped" => Some(Child::Skipped),
            "system-out" => Some(Child::SystemOut),
            "system-err" => Some(Child::SystemErr),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Partial {
    name: String,
    classname: String,
    time: Option<f64>,
    status: Option<TestStatus>,
    message: Option<String>,
    body: String,
    system_out: String,
    system_err: String,
}

fn attribute(start: &BytesStart, name: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|attribute| attribute.key.local_name().as_ref() == name)
        .and_then(|attribute| {
            attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|value| value.into_owned())
        })
}

impl Partial {
    fn new(start: &BytesStart) -> Self {
        Self {
            name: attribute(start, "name").unwrap_or_default(),
            classname: attribute(start, "classname").unwrap_or_default(),
            time: attribute(start, "time").and_then(|time| time.trim().parse().ok()),
            ..Self::default()
        }
    }

    fn open(&mut self, child: Child, start: &BytesStart) {
        let status = match child {
            Child::Failure => TestStatus::Failed,
            Child::Error => TestStatus::Error,
            Child::Skipped => TestStatus::Skipped,
            Child::SystemOut | Child::SystemErr => return,
        };
        // A failure outranks a skip; the first failure's message wins.
        if self.status.is_none() || self.status == Some(TestStatus::Skipped) {
            self.status = Some(status);
            self.message = attribute(start, "message").filter(|message| !message.trim().is_empty());
        }
    }

    fn text(&mut self, child: Child, text: &str) {
        match child {
            Child::Failure | Child::Error | Child::Skipped => self.body.push_str(text),
            Child::SystemOut => self.system_out.push_str(text),
            Child::SystemErr => self.system_err.push_str(text),
        }
    }

    fn finish(self, style: IdStyle) -> TestCase {
        let status = self.status.unwrap_or(TestStatus::Passed);
        let id = match (style, self.classname.is_empty()) {
            (_, true) => self.name.clone(),
            (IdStyle::Nextest, false) => format!("{} {}", self.classname, self.name),
            (IdStyle::Pytest, false) => format!("{}::{}", self.classname, self.name),
        };
        let message = match status {
            TestStatus::Passed => None,
            // A Rust panic in the body says more than the attribute's first line.
            _ => super::libtest::panic_message(&self.body)
                .or(self.message)
                .or_else(|| first_line(&self.body)),
        };
        let parts = [
            self.body.trim(),
            self.system_out.trim(),
            self.system_err.trim(),
        ];
        let joined = parts
            .iter()
            .filter(|part| !part.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        TestCase {
            id,
            name: self.name,
            status,
            duration_ms: self
                .time
                .filter(|time| time.is_finite() && *time >= 0.0)
                .map(|time| (time * 1000.0).round() as u64),
            message,
            output_tail: (matches!(status, TestStatus::Failed | TestStatus::Error)
                && !joined.is_empty())
            .then(|| output_tail(&joined)),
        }
    }
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/data/tools/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn nextest_report() {
        let tests = parse(&fixture("nextest-junit.xml"), IdStyle::Nextest);
        let summary: Vec<_> = tests
            .iter()
            .map(|test| (test.id.as_str(), test.status, test.duration_ms))
            .collect();
        assert_eq!(
            summary,
            [
                ("rcrate tests::adds", TestStatus::Passed, Some(12)),
                ("rcrate tests::fails", TestStatus::Failed, Some(132)),
            ]
        );
        let failed = &tests[1];
        assert_eq!(failed.name, "tests::fails");
        let message = failed.message.as_deref().unwrap();
        assert!(
            message.starts_with("thread 'tests::fails' (15919) panicked at src/lib.rs:11:9:\n"),
            "{message}"
        );
        assert!(
            message.ends_with("two and two\n  left: 4\n right: 5"),
            "{message}"
        );
        let tail = failed.output_tail.as_deref().unwrap();
        assert!(tail.contains("some output before failing"), "{tail}");
        assert_eq!(tests[0].message, None);
        assert_eq!(tests[0].output_tail, None);
    }

    #[test]
    fn pytest_report() {
        let tests = parse(&fixture("pytest-junit.xml"), IdStyle::Pytest);
        let summary: Vec<_> = tests
            .iter()
            .map(|test| (test.id.as_str(), test.status, test.message.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("test_sample::test_passes", TestStatus::Passed, None),
                (
                    "test_sample::test_fails",
                    TestStatus::Failed,
                    Some("AssertionError: two and two\nassert (2 + 2) == 5")
                ),
                (
                    "test_sample::test_skipped",
                    TestStatus::Skipped,
                    Some("not today")
                ),
                (
                    "test_sample::test_errors",
                    TestStatus::Error,
                    Some("failed on setup with \"RuntimeError: fixture exploded\"")
                ),
            ]
        );
        let tail = tests[1].output_tail.as_deref().unwrap();
        assert!(tail.contains(">       assert 2 + 2 == 5"), "{tail}");
    }

    #[test]
    fn odd_input_gives_what_it_can() {
        assert_eq!(parse("", IdStyle::Pytest), []);
        assert_eq!(parse("not xml at all <<<", IdStyle::Pytest), []);
        let cut = "<testsuite><testcase name=\"a\" time=\"x\"/><testcase name=\"b\"><failure>boom";
        let tests = parse(cut, IdStyle::Nextest);
        assert_eq!(tests.len(), 1);
        assert_eq!(
            (tests[0].id.as_str(), tests[0].status, tests[0].duration_ms),
            ("a", TestStatus::Passed, None)
        );
        let negative = "<testcase name=\"n\" time=\"-1\"><skipped/><failure message=\"\">line one\nline two</failure></testcase>";
        let tests = parse(negative, IdStyle::Nextest);
        assert_eq!(tests[0].status, TestStatus::Failed);
        assert_eq!(tests[0].duration_ms, None);
        assert_eq!(tests[0].message.as_deref(), Some("line one"));
    }
}
