//! The human output of Rust's built-in test harness (libtest), as `cargo test` prints it.
//!
//! ```text
//!      Running unittests src/lib.rs (target/debug/deps/mycrate-0123456789abcdef)   <- stderr
//! running 3 tests
//! test tests::adds ... ok
//! test tests::ignored ... ignored
//! test tests::fails ... FAILED
//!
//! failures:
//!
//! ---- tests::fails stdout ----
//! thread 'tests::fails' (13282) panicked at src/lib.rs:11:9:
//! assertion `left == right` failed
//!
//! test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.12s
//! ```
//!
//! With stderr merged into stdout, the `Running` lines name the test binary, which prefixes test
//! ids (`mycrate tests::adds`), so equal names in two binaries stay apart. [`parse`] names a
//! binary by its file stem; the cargo runner names it with nextest's binary id through
//! [`parse_with`]. Lines that match nothing are skipped.

use super::{Counts, TestCase, TestStatus, output_tail};

/// Test cases and the totals of the `test result:` lines (`None` when there were none).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Parsed {
    pub tests: Vec<TestCase>,
    pub summary: Option<Counts>,
}

/// A `Running` line: `unittests src/lib.rs (target/debug/deps/mycrate-0123456789abcdef)` or
/// `tests/a.rs (target/debug/deps/a-0123456789abcdef)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Running<'a> {
    /// cargo says `unittests` for the tests inside a lib, bin, bench or example target (not an
    /// integration test).
    pub unittests: bool,
    /// The target's source file, relative to its package's root (`src/lib.rs`, `tests/a.rs`).
    pub source: &'a str,
    /// The test binary's file name without its hash: the target's crate name (`mycrate`).
    pub stem: &'a str,
}

/// Test ids prefixed by the binary's file stem.
pub fn parse(output: &str) -> Parsed {
    parse_with(output, &|running| running.stem.to_owned())
}

/// Test ids prefixed by `binary_id` of each `Running` line.
pub fn parse_with(output: &str, binary_id: &dyn Fn(&Running) -> String) -> Parsed {
    let mut parsed = Parsed::default();
    let mut binary: Option<String> = None;
    // The test whose `---- name stdout ----` section is being read, and the section's lines.
    let mut section: Option<(String, Vec<&str>)> = None;
    for line in output.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(name) = section_header(line) {
            finish_section(&mut parsed.tests, binary.as_deref(), section.take());
            section = Some((name.to_owned(), Vec::new()));
            continue;
        }
        if section.is_some()
            && (line == "failures:" || line == "successes:" || line.starts_with("test result: "))
        {
            finish_section(&mut parsed.tests, binary.as_deref(), section.take());
        }
        if let Some((_, lines)) = section.as_mut() {
            lines.push(line);
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            binary = running_line(rest).map(|running| binary_id(&running));
        } else if let Some(krate) = trimmed.strip_prefix("Doc-tests ") {
            binary = Some(format!("{} doctest", krate.trim()));
        } else if let Some(rest) = line.strip_prefix("test result: ") {
            let counts = summary_counts(rest);
            let total = parsed.summary.get_or_insert_with(Counts::default);
            *total = total.plus(counts);
        } else if let Some(rest) = line.strip_prefix("test ")
            && let Some(test) = test_line(rest, binary.as_deref())
        {
            parsed.tests.push(test);
        }
    }
    finish_section(&mut parsed.tests, binary.as_deref(), section.take());
    parsed
}

/// `tests::fails` from `---- tests::fails stdout ----`.
fn section_header(line: &str) -> Option<&str> {
    line.strip_prefix("---- ")?
        .strip_suffix(" ----")?
        .strip_suffix(" stdout")
}

fn finish_section(
    tests: &mut [TestCase],
    binary: Option<&str>,
    section: Option<(String, Vec<&str>)>,
) {
    let Some((name, lines)) = section else {
        return;
    };
    let id = test_id(binary, &name);
    let Some(test) = tests.iter_mut().rev().find(|test| test.id == id) else {
        return;
    };
    let text = lines.join("\n");
    let text = text.trim_matches('\n');
    if text.trim().is_empty() {
        return;
    }
    if test.status != TestStatus::Passed {
        test.message = panic_message(text).or_else(|| last_lines(text, 5));
    }
    test.output_tail = Some(output_tail(text));
}

/// The parts of `unittests src/lib.rs (target/debug/deps/mycrate-0123456789abcdef)`.
fn running_line(rest: &str) -> Option<Running<'_>> {
    let (source, path) = rest.trim_end().rsplit_once('(')?;
    let path = path.strip_suffix(')')?;
    let source = source.trim();
    let (unittests, source) = match source.strip_prefix("unittests ") {
        Some(source) => (true, source.trim()),
        None => (false, source),
    };
    let file = path.rsplit('/').next()?;
    let file = file.strip_suffix(".exe").unwrap_or(file);
    let stem = match file.rsplit_once('-') {
        Some((stem, hash)) if !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            stem
        }
        _ => file,
    };
    (!stem.is_empty()).then_some(Running {
        unittests,
        source,
        stem,
    })
}

fn test_id(binary: Option<&str>, name: &str) -> String {
    match binary {
        Some(binary) => format!("{binary} {name}"),
        None => name.to_owned(),
    }
}

/// `tests::adds ... ok` (after `test `).
fn test_line(rest: &str, binary: Option<&str>) -> Option<TestCase> {
    let (name, outcome) = rest.split_once(" ... ")?;
    let outcome = outcome.trim();
    let status = if outcome.starts_with("ok") {
        TestStatus::Passed
    } else if outcome.starts_with("FAILED") {
        TestStatus::Failed
    } else if outcome.starts_with("ignored") {
        TestStatus::Skipped
    } else {
        return None;
    };
    let name = name.strip_suffix(" - should panic").unwrap_or(name).trim();
    if name.is_empty() {
        return None;
    }
    let message = outcome
        .strip_prefix("ignored, ")
        .filter(|reason| !reason.is_empty())
        .map(str::to_owned);
    Some(TestCase {
        id: test_id(binary, name),
        name: name.to_owned(),
        status,
        duration_ms: None,
        message,
        output_tail: None,
    })
}

/// `FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.12s`.
fn summary_counts(rest: &str) -> Counts {
    let mut counts = Counts::default();
    for part in rest.split(';') {
        let mut words = part.split_whitespace().rev();
        let (Some(label), Some(number)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        match label {
            "passed" => counts.passed += number,
            "failed" => counts.failed += number,
            "ignored" => counts.skipped += number,
            _ => {}
        }
    }
    counts
}

/// The panic of a Rust test: from `thread '…' panicked at …` up to the backtrace or the note
/// about it. Also used for nextest's JUnit failure bodies.
pub(crate) fn panic_message(text: &str) -> Option<String> {
    let start = text
        .lines()
        .position(|line| line.starts_with("thread '") && line.contains("panicked at"))?;
    let message: Vec<&str> = text
        .lines()
        .skip(start)
        .take_while(|line| !line.starts_with("stack backtrace:") && !line.starts_with("note: "))
        .collect();
    let message = message.join("\n");
    let message = message.trim_end();
    (!message.is_empty()).then(|| message.to_owned())
}

fn last_lines(text: &str, count: usize) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let start = lines.len().saturating_sub(count);
    let joined = lines[start..].join("\n");
    (!joined.is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/data/tools/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap()
    }

    fn statuses(parsed: &Parsed) -> Vec<(&str, TestStatus)> {
        parsed
            .tests
            .iter()
            .map(|test| (test.id.as_str(), test.status))
            .collect()
    }

    #[test]
    fn real_cargo_test_output() {
        let parsed = parse(&fixture("libtest.txt"));
        assert_eq!(
            statuses(&parsed),
            [
                ("tests::adds", TestStatus::Passed),
                ("tests::ignored", TestStatus::Skipped),
                ("tests::fails", TestStatus::Failed),
            ]
        );
        assert_eq!(
            parsed.summary,
            Some(Counts {
                passed: 1,
                failed: 1,
                skipped: 1,
                errors: 0,
                ..Counts::default()
            })
        );
        let failed = &parsed.tests[2];
        assert_eq!(
            failed.message.as_deref(),
            Some(
                "thread 'tests::fails' (13282) panicked at src/lib.rs:11:9:\n\
                 assertion `left == right` failed: two and two\n  left: 4\n right: 5"
            )
        );
        let tail = failed.output_tail.as_deref().unwrap();
        assert!(tail.starts_with("some output before failing\n"), "{tail}");
        assert!(tail.contains("stack backtrace:"), "{tail}");
    }

    #[test]
    fn binaries_prefix_ids_when_stderr_is_merged() {
        let output = "\
   Compiling mycrate v0.1.0 (/tmp/mycrate)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.49s
     Running unittests src/lib.rs (target/debug/deps/mycrate-69d8cb0314e49b4a)

running 1 test
test tests::same ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/it/main.rs (target/debug/deps/it-0123456789abcdef)

running 2 tests
test tests::same ... FAILED
test slow - should panic ... ignored, takes a minute

failures:

---- tests::same stdout ----
thread 'tests::same' panicked at 'old style message', tests/it/main.rs:3:5
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

failures:
    tests::same

test result: FAILED. 0 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests mycrate

running 1 test
test src/lib.rs - add (line 3) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s
";
        let parsed = parse(output);
        assert_eq!(
            statuses(&parsed),
            [
                ("mycrate tests::same", TestStatus::Passed),
                ("it tests::same", TestStatus::Failed),
                ("it slow", TestStatus::Skipped),
                (
                    "mycrate doctest src/lib.rs - add (line 3)",
                    TestStatus::Passed
                ),
            ]
        );
        assert_eq!(
            parsed.tests[1].message.as_deref(),
            Some("thread 'tests::same' panicked at 'old style message', tests/it/main.rs:3:5")
        );
        assert_eq!(parsed.tests[2].message.as_deref(), Some("takes a minute"));
        assert_eq!(
            parsed.summary,
            Some(Counts {
                passed: 2,
                failed: 1,
                skipped: 1,
                errors: 0,
                ..Counts::default()
            })
        );
    }

    #[test]
    fn a_failure_without_panic_keeps_its_last_lines() {
        let output = "test t ... FAILED\n\nfailures:\n\n---- t stdout ----\nError: \"bad\"\n\nfailures:\n    t\n";
        let parsed = parse(output);
        assert_eq!(parsed.tests[0].message.as_deref(), Some("Error: \"bad\""));
        assert_eq!(parsed.summary, None);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for input in [
            "",
            "test ",
            "test  ... ",
            "test x ... maybe",
            "---- ----",
            "---- x stdout ----",
            "test result: ",
            "test result: a; b c; 99999999999999999999999 passed",
            "     Running (",
            "     Running )(",
            "     Running x (-)",
            "thread 'a' panicked at",
        ] {
            let parsed = parse(input);
            assert!(parsed.tests.is_empty(), "{input}: {parsed:?}");
        }
    }
}
