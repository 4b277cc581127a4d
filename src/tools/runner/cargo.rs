//! Cargo projects: `cargo nextest run` when it is installed (JUnit report and status lines,
//! per-test durations), else `cargo test` (libtest's human output, which is all stable Rust
//! offers). stderr is merged into stdout so that cargo's `Running <binary>` lines precede the
//! results they introduce.
//!
//! Ids are nextest's binary id, a space, then the test's path: `mycrate tests::adds` (the lib's
//! unit tests), `mycrate::bin/mybin tests::x`, `mycrate::a shared` (integration test `tests/a.rs`),
//! identical under both runners: for `cargo test` the `Running` line's source file and crate name
//! are matched against `cargo metadata`'s targets.
//!
//! Both runners select `--tests` (lib, bins and integration tests, as nextest does) so doctests
//! never run: their ids carry line numbers that move with every edit. nextest runs with
//! `--retries 0` whatever the project's profile says, so a flaky test shows as failed.
//!
//! Targets are package names (`-p`); names are test-name filters, which both runners match as
//! substrings. Exact ids select their targets (`-p mycrate --lib --test a`), then the tests:
//! `-- --exact tests::adds shared` for cargo test, one filterset per id
//! (`-E 'binary_id(=mycrate::a) & test(=shared)'`) for nextest.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::exec::{self, CommandSpec};
use super::junit::{self, IdStyle};
use super::{Counts, Invocation, Runner, RunnerKind, TestCase, TestStatus, libtest};

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

/// A test target of a workspace member, as `cargo metadata` describes it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) struct Target {
    package: String,
    kind: TargetKind,
    name: String,
    /// The target's source file (absolute, from `cargo metadata`).
    source: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TargetKind {
    Lib,
    Bin,
    Test,
    Bench,
    Example,
}

impl Target {
    /// nextest's binary id: `mycrate`, `mycrate::a`, `mycrate::bin/mybin`.
    fn binary_id(&self) -> String {
        match self.kind {
            TargetKind::Lib => self.package.clone(),
            TargetKind::Test => format!("{}::{}", self.package, self.name),
            TargetKind::Bin => format!("{}::bin/{}", self.package, self.name),
            TargetKind::Bench => format!("{}::bench/{}", self.package, self.name),
            TargetKind::Example => format!("{}::example/{}", self.package, self.name),
        }
    }

    /// The target read back from a binary id, for when `cargo metadata` could not run.
    fn from_binary_id(binary_id: &str) -> Option<Target> {
        let (package, kind, name) = match binary_id.split_once("::") {
            None => (binary_id, TargetKind::Lib, binary_id),
            Some((package, rest)) => match rest.split_once('/') {
                None => (package, TargetKind::Test, rest),
                Some(("bin", name)) => (package, TargetKind::Bin, name),
                Some(("bench", name)) => (package, TargetKind::Bench, name),
                Some(("example", name)) => (package, TargetKind::Example, name),
                Some(_) => return None,
            },
        };
        (!package.is_empty() && !name.is_empty()).then(|| Target {
            package: package.to_owned(),
            kind,
            name: name.to_owned(),
            source: PathBuf::new(),
        })
    }

    /// The cargo arguments that build this target's tests.
    fn selector(&self) -> Vec<String> {
        let flag = match self.kind {
            TargetKind::Lib => return vec!["--lib".to_owned()],
            TargetKind::Bin => "--bin",
            TargetKind::Test => "--test",
            TargetKind::Bench => "--bench",
            TargetKind::Example => "--example",
        };
        vec![flag.to_owned(), self.name.clone()]
    }
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetadataPackage>,
}

#[derive(Deserialize)]
struct MetadataPackage {
    name: String,
    targets: Vec<MetadataTarget>,
}

#[derive(Deserialize)]
struct MetadataTarget {
    name: String,
    kind: Vec<String>,
    src_path: PathBuf,
}

/// The workspace members' test targets, from one `cargo metadata --no-deps`; `None` when it fails
/// (ids then fall back to binary file stems).
pub(super) fn workspace_targets(invocation: &Invocation) -> Option<Vec<Target>> {
    let mut spec = CommandSpec::new(
        &invocation.runner.program,
        &["metadata", "--no-deps", "--format-version", "1"],
        invocation.root.to_path_buf(),
    );
    spec.env = invocation.runner.env.clone();
    let run = exec::run(
        &spec,
        invocation.timeout.min(Duration::from_secs(120)),
        super::OUTPUT_CAP,
    )
    .ok()
    .filter(|run| run.success() && !run.stdout_truncated)?;
    let metadata: Metadata = serde_json::from_slice(&run.stdout).ok()?;
    Some(targets_of(metadata))
}

fn targets_of(metadata: Metadata) -> Vec<Target> {
    let mut targets = Vec::new();
    for package in metadata.packages {
        for target in package.targets {
            let kind = target.kind.iter().find_map(|kind| match kind.as_str() {
                "lib" | "rlib" | "dylib" | "cdylib" | "staticlib" | "proc-macro" => {
                    Some(TargetKind::Lib)
                }
                "bin" => Some(TargetKind::Bin),
                "test" => Some(TargetKind::Test),
                "bench" => Some(TargetKind::Bench),
                "example" => Some(TargetKind::Example),
                _ => None,
            });
            if let Some(kind) = kind {
                targets.push(Target {
                    package: package.name.clone(),
                    kind,
                    name: target.name,
                    source: target.src_path,
                });
            }
        }
    }
    targets
}

/// The binary id of a libtest `Running` line: the target whose crate name is the binary's stem
/// and whose source file ends with the line's; the stem itself when none matches.
fn binary_id_of(targets: Option<&[Target]>, running: &libtest::Running) -> String {
    targets
        .into_iter()
        .flatten()
        .find(|target| {
            target.name.replace('-', "_") == running.stem
                && (target.kind != TargetKind::Test) == running.unittests
                && target.source.ends_with(running.source)
        })
        .map_or_else(|| running.stem.to_owned(), Target::binary_id)
}

/// A cargo test id: a binary id (`mycrate`, `my-crate::a`, `mycrate::bin/mybin`), one space,
/// then a test path of identifier characters and `::`.
pub(super) fn is_test_id(text: &str) -> bool {
    let Some((binary, test)) = text.split_once(' ') else {
        return false;
    };
    // No part of the binary id starts with `-`: it becomes `-p PACKAGE --test NAME`.
    let binary_ok = Target::from_binary_id(binary).is_some()
        && binary
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/'))
        && binary.split([':', '/']).all(|part| !part.starts_with('-'));
    let test_ok = !test.is_empty()
        && !test.starts_with(':')
        && test
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | ':'));
    binary_ok && test_ok
}

/// The command, or `None` when exact ids name no test target of the workspace.
pub(super) fn command(invocation: &Invocation, targets: Option<&[Target]>) -> Option<CommandSpec> {
    let nextest = invocation.runner.kind == RunnerKind::CargoNextest;
    let mut extra = vec!["--no-fail-fast".to_owned()];
    if nextest {
        let config = invocation.report_dir.join("nextest.toml");
        let store = invocation.report_dir.join("store");
        // A tool config file layers under the project's own `.config/nextest.toml`.
        let text = format!(
            "[store]\ndir = {store:?}\n\n[profile.{PROFILE}]\nfail-fast = false\nretries = 0\n\n[profile.{PROFILE}.junit]\npath = \"junit.xml\"\n",
            store = store.display().to_string(),
        );
        // If the file cannot be written nextest says so, and the run reports that as its problem.
        let _ = std::fs::write(&config, text);
        extra.extend([
            "--tool-config-file".to_owned(),
            format!("prodcode:{}", config.display()),
            "--profile".to_owned(),
            PROFILE.to_owned(),
            "--retries".to_owned(),
            "0".to_owned(),
            "--status-level".to_owned(),
            "all".to_owned(),
        ]);
    }
    if invocation.exact {
        extra.extend(exact_arguments(invocation.names, targets, nextest)?);
    } else {
        extra.push("--tests".to_owned());
        for target in invocation.targets {
            extra.extend(["-p".to_owned(), target.clone()]);
        }
        if !invocation.names.is_empty() {
            if !nextest {
                extra.push("--".to_owned());
            }
            extra.extend(invocation.names.iter().cloned());
        }
    }
    let mut spec = invocation.spec(extra);
    spec.env
        .push(("CARGO_TERM_COLOR".to_owned(), "never".to_owned()));
    spec.merge_stderr = true;
    Some(spec)
}

/// The packages and targets of `ids` that exist, then the tests: `None` when no id names a
/// target (the ids are then all `notRun`).
fn exact_arguments(
    ids: &[String],
    targets: Option<&[Target]>,
    nextest: bool,
) -> Option<Vec<String>> {
    let mut selected: Vec<Target> = Vec::new();
    let mut filters: Vec<String> = Vec::new();
    let mut tests: Vec<&str> = Vec::new();
    for id in ids {
        let Some((binary, test)) = id.split_once(' ') else {
            continue;
        };
        let target = match targets {
            Some(targets) => targets
                .iter()
                .find(|target| target.binary_id() == binary)
                .cloned(),
            None => Target::from_binary_id(binary),
        };
        let Some(target) = target else {
            continue;
        };
        if !selected.contains(&target) {
            selected.push(target);
        }
        filters.push(format!("binary_id(={binary}) & test(={test})"));
        if !tests.contains(&test) {
            tests.push(test);
        }
    }
    if selected.is_empty() {
        return None;
    }
    let mut arguments = Vec::new();
    let mut packages: Vec<&str> = Vec::new();
    for target in &selected {
        if !packages.contains(&target.package.as_str()) {
            packages.push(&target.package);
            arguments.extend(["-p".to_owned(), target.package.clone()]);
        }
    }
    for target in &selected {
        arguments.extend(target.selector());
    }
    if nextest {
        for filter in filters {
            arguments.extend(["-E".to_owned(), filter]);
        }
    } else {
        arguments.extend(["--".to_owned(), "--exact".to_owned()]);
        arguments.extend(tests.into_iter().map(str::to_owned));
    }
    Some(arguments)
}

pub(super) fn parse(
    invocation: &Invocation,
    targets: Option<&[Target]>,
    output: &str,
) -> (Vec<TestCase>, Option<Counts>) {
    if invocation.runner.kind == RunnerKind::CargoNextest {
        let report = invocation
            .report_dir
            .join("store")
            .join(PROFILE)
            .join("junit.xml");
        let mut tests = std::fs::read_to_string(report)
            .map(|xml| junit::parse(&xml, IdStyle::Nextest))
            .unwrap_or_default();
        // The status lines add the skipped tests (which JUnit leaves out) and, when a timeout
        // killed nextest before it wrote JUnit, the tests that finished. With substring filters
        // nextest also lists the tests it filtered out as `SKIP`: those are left out.
        let with_skips = invocation.exact || invocation.names.is_empty();
        let mut known: std::collections::HashSet<String> =
            tests.iter().map(|test| test.id.clone()).collect();
        for test in status_lines(output) {
            if (with_skips || test.status != TestStatus::Skipped) && known.insert(test.id.clone()) {
                tests.push(test);
            }
        }
        let summary = invocation
            .names
            .is_empty()
            .then(|| nextest_summary(output))
            .flatten();
        return (tests, summary);
    }
    let parsed = libtest::parse_with(output, &|running| binary_id_of(targets, running));
    (parsed.tests, parsed.summary)
}

/// nextest's status lines, `PASS [   0.004s] (1/6) mycrate tests::adds`, the last per test.
fn status_lines(output: &str) -> Vec<TestCase> {
    let mut tests: Vec<TestCase> = Vec::new();
    for line in output.lines() {
        let Some((word, rest)) = line.trim().split_once(' ') else {
            continue;
        };
        let status = match word {
            "PASS" | "LEAK" => TestStatus::Passed,
            "SKIP" => TestStatus::Skipped,
            "FAIL" | "TIMEOUT" | "ABORT" | "LEAK-FAIL" => TestStatus::Failed,
            word if word.starts_with("SIG") && word.len() > 3 => TestStatus::Failed,
            _ => continue,
        };
        let Some(rest) = rest.trim_start().strip_prefix('[') else {
            continue;
        };
        let Some((_, rest)) = rest.split_once(']') else {
            continue;
        };
        let mut rest = rest.trim_start();
        if let Some(counter) = rest.strip_prefix('(') {
            let Some((_, after)) = counter.split_once(')') else {
                continue;
            };
            rest = after.trim_start();
        }
        let Some((binary, name)) = rest.split_once(' ') else {
            continue;
        };
        let name = name.trim();
        if binary.is_empty() || name.is_empty() || Target::from_binary_id(binary).is_none() {
            continue;
        }
        let id = format!("{binary} {name}");
        let message = (status == TestStatus::Failed).then(|| format!("{word} (nextest)"));
        tests.retain(|test| test.id != id);
        tests.push(TestCase {
            id,
            name: name.to_owned(),
            status,
            duration_ms: None,
            message,
            output_tail: None,
        });
    }
    tests
}

/// cargo's `error: could not compile` (a build failure stops the whole run), with the first
/// compiler error.
pub(super) fn build_failure(output: &str) -> Option<String> {
    let failed = output
        .lines()
        .find(|line| line.trim_start().starts_with("error: could not compile"))?;
    let first_error = output.lines().find(|line| {
        let line = line.trim_start();
        line.starts_with("error") && !line.starts_with("error: could not compile")
    });
    Some(match first_error {
        Some(error) => format!("{}: {}", failed.trim(), error.trim()),
        None => failed.trim().to_owned(),
    })
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
    fn nextest_status_lines() {
        let output = "        SKIP [         ] (───) my-crate tests::ignored
        PASS [   0.005s] (1/6) my-crate tests::adds
        FAIL [   0.062s] (3/6) my-crate::b shared
     SIGSEGV [   0.010s] my-crate::bin/my-bin tests::x
        SLOW [> 60.000s] my-crate::a slow
        PASS [   0.004s] (4/6) my-crate::a shared
────────────
     Summary [   0.073s] 6 tests run: 4 passed, 2 failed, 1 skipped
        FAIL [   0.062s] (3/6) my-crate::b shared
        PASS [ odd
        PASS [ 1s ] (1/1)
        PASS [ 1s ] (1/1) x::odd/y t
";
        let tests = status_lines(output);
        let summary: Vec<_> = tests
            .iter()
            .map(|test| (test.id.as_str(), test.name.as_str(), test.status))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "my-crate tests::ignored",
                    "tests::ignored",
                    TestStatus::Skipped
                ),
                ("my-crate tests::adds", "tests::adds", TestStatus::Passed),
                (
                    "my-crate::bin/my-bin tests::x",
                    "tests::x",
                    TestStatus::Failed
                ),
                ("my-crate::a shared", "shared", TestStatus::Passed),
                ("my-crate::b shared", "shared", TestStatus::Failed),
            ]
        );
        assert_eq!(tests[2].message.as_deref(), Some("SIGSEGV (nextest)"));
    }

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
                errors: 0,
                ..Counts::default()
            })
        );
        let busy = "     Summary [  1.0s] 7 tests run: 3 passed (1 flaky, 1 leaky), 2 failed, 1 timed out, 4 skipped";
        assert_eq!(
            nextest_summary(busy),
            Some(Counts {
                passed: 3,
                failed: 3,
                skipped: 4,
                errors: 0,
                ..Counts::default()
            })
        );
        assert_eq!(nextest_summary(""), None);
        assert_eq!(
            nextest_summary("Summary [ run: x y, , 1"),
            Some(Counts::default())
        );
    }
}
