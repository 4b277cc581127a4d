//! Cargo projects: `cargo nextest run` when it is installed (JUnit report, per-test durations),
//! else `cargo test` (libtest's human output, which is all stable Rust offers).
//!
//! Targets are package names (`-p`); names are test-name filters, which both runners match as
//! substrings. stderr is merged into stdout so that cargo's `Running <binary>` lines precede the
//! results they introduce.

use std::time::Duration;

use super::exec::{self, CommandSpec};
use super::junit::{self, IdStyle};
use super::{Counts, Invocation, Runner, RunnerKind, TestCase, libtest};

/// The nextest profile prodcode adds through a tool config file, with its JUnit report in the
/// temporary store directory.
const PROFILE: &str = "prodcode";

pub(super) fn detect() -> Runner {
    let probe = CommandSpec::new("cargo", &["nextest", "--version"], std::env::temp_dir());
    let nextest = exec::run(&probe, Duration::from_secs(10), 4096).is_ok_and(|run| run.success());
    let (kind, args) = if nextest {
        (
            RunnerKind::CargoNextest,
            vec!["nextest".to_owned(), "run".to_owned()],
        )
    } else {
        (RunnerKind::CargoTest, vec!["test".to_owned()])
    };
    Runner {
        kind,
        program: "cargo".to_owned(),
        args,
        env: Vec::new(),
    }
}

pub(super) fn command(invocation: &Invocation) -> CommandSpec {
    let mut extra = vec!["--no-fail-fast".to_owned()];
    if invocation.runner.kind == RunnerKind::CargoNextest {
        let config = invocation.report_dir.join("nextest.toml");
        let store = invocation.report_dir.join("store");
        // A tool config file layers under the project's own `.config/nextest.toml`.
        let text = format!(
            "[store]\ndir = {store:?}\n\n[profile.{PROFILE}]\nfail-fast = false\n\n[profile.{PROFILE}.junit]\npath = \"junit.xml\"\n",
            store = store.display().to_string(),
        );
        // If the file cannot be written nextest says so, and the run reports that as its problem.
        let _ = std::fs::write(&config, text);
        extra.extend([
            "--tool-config-file".to_owned(),
            format!("prodcode:{}", config.display()),
            "--profile".to_owned(),
            PROFILE.to_owned(),
        ]);
    }
    for target in invocation.targets {
        extra.extend(["-p".to_owned(), target.clone()]);
    }
    if !invocation.names.is_empty() {
        if invocation.runner.kind == RunnerKind::CargoTest {
            extra.push("--".to_owned());
        }
        extra.extend(invocation.names.iter().cloned());
    }
    let mut spec = invocation.spec(extra);
    spec.env
        .push(("CARGO_TERM_COLOR".to_owned(), "never".to_owned()));
    spec.merge_stderr = true;
    spec
}

pub(super) fn parse(invocation: &Invocation, output: &str) -> (Vec<TestCase>, Option<Counts>) {
    if invocation.runner.kind == RunnerKind::CargoNextest {
        let report = invocation
            .report_dir
            .join("store")
            .join(PROFILE)
            .join("junit.xml");
        let tests = std::fs::read_to_string(report)
            .map(|xml| junit::parse(&xml, IdStyle::Nextest))
            .unwrap_or_default();
        return (tests, nextest_summary(output));
    }
    let parsed = libtest::parse(output);
    (parsed.tests, parsed.summary)
}

/// `Summary [   0.133s] 2 tests run: 1 passed, 1 failed, 1 skipped`, the only place nextest
/// counts skipped tests. Timed-out tests count as failed.
pub(super) fn nextest_summary(output: &str) -> Option<Counts> {
    let line = output
        .lines()
        .rev()
        .map(str::trim_start)
        .find(|line| line.starts_with("Summary ["))?;
    let (_, counts_text) = line.split_once(" run: ")?;
    let mut counts = Counts::default();
    for part in counts_text.split(',') {
        let part = part.split('(').next().unwrap_or_default();
        let mut words = part.split_whitespace();
        let (Some(number), Some(label)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        match label {
            "passed" => counts.passed += number,
            "failed" | "timed" => counts.failed += number,
            "skipped" => counts.skipped += number,
            _ => {}
        }
    }
    Some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextest_summary_line() {
        let path = format!(
            "{}/tests/data/tools/nextest.stderr.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        let stderr = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            nextest_summary(&stderr),
            Some(Counts {
                passed: 1,
                failed: 1,
                skipped: 1,
                errors: 0
            })
        );
        let busy = "     Summary [  1.0s] 7 tests run: 3 passed (1 flaky, 1 leaky), 2 failed, 1 timed out, 4 skipped";
        assert_eq!(
            nextest_summary(busy),
            Some(Counts {
                passed: 3,
                failed: 3,
                skipped: 4,
                errors: 0
            })
        );
        assert_eq!(nextest_summary(""), None);
        assert_eq!(
            nextest_summary("Summary [ run: x y, , 1"),
            Some(Counts::default())
        );
    }
}
