//! Detection on temporary workspaces, and whole runs of real runners (cargo, nextest, shell
//! commands) through [`run_tests`].

use std::path::Path;
use std::time::Duration;

use super::*;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn configured(command: &str, shell: bool, format: ReportFormat) -> RunnerConfig {
    RunnerConfig {
        command: CommandLine::Line(command.to_owned()),
        shell,
        format,
        report: None,
        env: Vec::new(),
    }
}

#[test]
fn nothing_detected_says_what_to_configure() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(detect(dir.path(), None), None);
    let message = RunnerError::NotDetected {
        root: dir.path().to_path_buf(),
    }
    .to_string();
    assert!(
        message.contains("add a [tools.tests] command to prodcode.toml"),
        "{message}"
    );
    // A package.json without jest or vitest is no runner either.
    write(
        dir.path(),
        "package.json",
        r#"{"devDependencies": {"mocha": "1"}}"#,
    );
    assert_eq!(detect(dir.path(), None), None);
    write(dir.path(), "package.json", "not json");
    assert_eq!(detect(dir.path(), None), None);
}

#[test]
fn a_configured_command_wins() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    let config = configured("make  test  V=1", false, ReportFormat::ExitCode);
    let runner = detect(dir.path(), Some(&config)).unwrap();
    assert_eq!(runner.program, "make");
    assert_eq!(runner.args, ["test", "V=1"]);
    assert_eq!(runner.kind.name(), "configured");
    assert_eq!(
        detect(
            dir.path(),
            Some(&configured("  ", false, ReportFormat::ExitCode))
        ),
        None
    );
    let config: RunnerConfig = toml::from_str(
        "command = [\"just\", \"test\"]\nformat = \"junit\"\nreport = \"out/junit.xml\"\n",
    )
    .unwrap();
    assert_eq!(
        config.command,
        CommandLine::Argv(vec!["just".to_owned(), "test".to_owned()])
    );
    assert_eq!(config.format, ReportFormat::Junit);
}

#[test]
fn marker_files_pick_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "conftest.py", "");
    let python = root.join(".venv/bin/python");
    write(root, ".venv/bin/python", "#!/bin/sh\n");
    make_executable(&python);
    let runner = detect(root, None).unwrap();
    assert_eq!(runner.kind, RunnerKind::Pytest);
    assert_eq!(runner.program, python.display().to_string());
    assert_eq!(runner.args, ["-m", "pytest"]);

    write(
        root,
        "package.json",
        r#"{"devDependencies": {"jest": "^29"}}"#,
    );
    let runner = detect(root, None).unwrap();
    assert_eq!(
        (runner.kind, runner.program.as_str()),
        (RunnerKind::Jest, "npx")
    );
    assert_eq!(runner.args, ["--no", "jest"]);
    write(root, "package.json", r#"{"scripts": {"test": "vitest"}}"#);
    let vitest = root.join("node_modules/.bin/vitest");
    write(root, "node_modules/.bin/vitest", "#!/bin/sh\n");
    make_executable(&vitest);
    let runner = detect(root, None).unwrap();
    assert_eq!(runner.kind, RunnerKind::Vitest);
    assert_eq!(runner.program, vitest.display().to_string());
    assert_eq!(runner.args, ["run"]);

    write(root, "go.mod", "module example.com/x\n");
    let runner = detect(root, None).unwrap();
    assert_eq!(
        (runner.kind, runner.program.as_str()),
        (RunnerKind::GoTest, "go")
    );

    write(root, "Cargo.toml", "[package]\nname = \"x\"\n");
    let runner = detect(root, None).unwrap();
    assert!(
        matches!(
            runner.kind,
            RunnerKind::CargoNextest | RunnerKind::CargoTest
        ),
        "{runner:?}"
    );
    assert_eq!(runner.program, "cargo");
}

/// A crate with one passing, one failing (with output) and one ignored test.
fn fixture_crate(root: &Path) {
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(
        root,
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 { a + b }\n\
         #[cfg(test)]\nmod tests {\n    use super::*;\n\
         #[test]\n    fn adds() { assert_eq!(add(1, 2), 3); }\n\
         #[test]\n    fn fails() {\n        println!(\"output before failing\");\n        assert_eq!(add(2, 2), 5, \"two and two\");\n    }\n\
         #[test]\n    #[ignore]\n    fn ignored() {}\n}\n",
    );
}

fn cargo_runner(kind: RunnerKind, args: &[&str], target: &Path) -> Runner {
    Runner {
        kind,
        program: "cargo".to_owned(),
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        env: vec![
            ("CARGO_TARGET_DIR".to_owned(), target.display().to_string()),
            ("RUST_BACKTRACE".to_owned(), "0".to_owned()),
        ],
    }
}

fn statuses(run: &TestRun) -> Vec<(&str, TestStatus)> {
    run.tests
        .iter()
        .map(|test| (test.id.as_str(), test.status))
        .collect()
}

#[test]
fn real_cargo_test_and_nextest_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("fixture");
    fixture_crate(&root);
    let target = dir.path().join("target");
    let timeout = Duration::from_secs(120);

    let runner = cargo_runner(RunnerKind::CargoTest, &["test"], &target);
    let run = run_tests(&root, &runner, &[], &[], timeout).unwrap();
    assert_eq!(
        (run.passed, run.failed, run.skipped, run.errors),
        (1, 1, 1, 0),
        "{run:#?}"
    );
    // libtest prints results in the order tests finish.
    let mut sorted = statuses(&run);
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("fixture tests::adds", TestStatus::Passed),
            ("fixture tests::fails", TestStatus::Failed),
            ("fixture tests::ignored", TestStatus::Skipped),
        ]
    );
    let failed = run
        .tests
        .iter()
        .find(|test| test.name == "tests::fails")
        .unwrap();
    let message = failed.message.as_deref().unwrap();
    assert!(message.contains("panicked at src/lib.rs"), "{message}");
    assert!(
        message.contains("two and two\n  left: 4\n right: 5"),
        "{message}"
    );
    assert!(
        failed
            .output_tail
            .as_deref()
            .unwrap()
            .contains("output before failing")
    );
    assert_eq!(run.runner, "cargo-test");
    assert_eq!(run.exit_code, Some(101));
    assert!(!run.timed_out);
    assert_eq!(run.problem, None);
    assert!(
        run.output_tail.contains("test result: FAILED"),
        "{}",
        run.output_tail
    );
    assert_eq!(run.command[..3], ["cargo", "test", "--no-fail-fast"]);

    // A name filter runs only the matching test.
    let run = run_tests(&root, &runner, &[], &["adds".to_owned()], timeout).unwrap();
    assert_eq!((run.passed, run.failed, run.skipped), (1, 0, 0), "{run:#?}");
    assert_eq!(run.exit_code, Some(0));

    // The same crate through nextest, when it is installed.
    if detect(&root, None).is_some_and(|runner| runner.kind == RunnerKind::CargoNextest) {
        let runner = cargo_runner(RunnerKind::CargoNextest, &["nextest", "run"], &target);
        let run = run_tests(&root, &runner, &[], &[], timeout).unwrap();
        assert_eq!(
            (run.passed, run.failed, run.skipped, run.errors),
            (1, 1, 1, 0),
            "{run:#?}"
        );
        let mut sorted = statuses(&run);
        sorted.sort();
        assert_eq!(
            sorted,
            [
                ("fixture tests::adds", TestStatus::Passed),
                ("fixture tests::fails", TestStatus::Failed)
            ]
        );
        let failed = run
            .tests
            .iter()
            .find(|test| test.name == "tests::fails")
            .unwrap();
        let message = failed.message.as_deref().unwrap();
        assert!(
            message.contains("two and two\n  left: 4\n right: 5"),
            "{message}"
        );
        assert!(failed.duration_ms.is_some());
        assert_eq!(run.runner, "cargo-nextest");
    }
}

#[test]
fn a_build_error_is_a_problem_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("broken");
    write(
        &root,
        "Cargo.toml",
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(&root, "src/lib.rs", "pub fn f() -> i32 { missing() }\n");
    let runner = cargo_runner(RunnerKind::CargoTest, &["test"], &dir.path().join("target"));
    let run = run_tests(&root, &runner, &[], &[], Duration::from_secs(120)).unwrap();
    assert!(run.tests.is_empty(), "{run:#?}");
    assert_ne!(run.exit_code, Some(0));
    assert!(
        run.problem
            .as_deref()
            .unwrap()
            .contains("reported no failing test"),
        "{run:#?}"
    );
    assert!(run.output_tail.contains("missing"), "{}", run.output_tail);
}

#[test]
fn a_missing_runner_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let runner = Runner {
        kind: RunnerKind::GoTest,
        program: "prodcode-no-such-go".to_owned(),
        args: vec!["test".to_owned()],
        env: Vec::new(),
    };
    let error = run_tests(dir.path(), &runner, &[], &[], Duration::from_secs(10)).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("prodcode-no-such-go"), "{message}");
    assert!(message.contains("install Go"), "{message}");
}

#[test]
fn configured_commands_with_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();

    // Exit code only: one result for the whole command; arguments follow as `$1`, `$2`.
    let config = configured("echo \"ran $1 $2\"; exit 3", true, ReportFormat::ExitCode);
    let runner = detect(root, Some(&config)).unwrap();
    let run = run_tests(
        root,
        &runner,
        &["unit".to_owned()],
        &["fast".to_owned()],
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!((run.passed, run.failed), (0, 1));
    assert_eq!(run.exit_code, Some(3));
    let message = run.tests[0].message.as_deref().unwrap();
    assert!(
        message.contains("exited with code 3") && message.contains("ran unit fast"),
        "{message}"
    );
    assert_eq!(run.problem, None);

    // libtest output on stdout.
    let config = configured(
        "printf 'test a ... ok\\ntest b ... ignored\\n\\ntest result: ok. 1 passed; 0 failed; 1 ignored\\n'",
        true,
        ReportFormat::Libtest,
    );
    let runner = detect(root, Some(&config)).unwrap();
    let run = run_tests(root, &runner, &[], &[], Duration::from_secs(10)).unwrap();
    assert_eq!((run.passed, run.failed, run.skipped), (1, 0, 1), "{run:#?}");

    // A JUnit report the command writes into the workspace.
    let junit = std::fs::read_to_string(format!(
        "{}/tests/data/tools/pytest-junit.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    write(root, "fixture.xml", &junit);
    let config = RunnerConfig {
        report: Some("out/junit.xml".into()),
        ..configured(
            "mkdir -p out && cp fixture.xml out/junit.xml && exit 1",
            true,
            ReportFormat::Junit,
        )
    };
    let runner = detect(root, Some(&config)).unwrap();
    let run = run_tests(root, &runner, &[], &[], Duration::from_secs(10)).unwrap();
    assert_eq!(
        (run.passed, run.failed, run.skipped, run.errors),
        (1, 1, 1, 1),
        "{run:#?}"
    );
}

#[test]
fn a_timeout_is_reported_with_what_finished() {
    let dir = tempfile::tempdir().unwrap();
    let config = configured(
        "echo 'test early ... ok'; sleep 30",
        true,
        ReportFormat::Libtest,
    );
    let runner = detect(dir.path(), Some(&config)).unwrap();
    let started = std::time::Instant::now();
    let run = run_tests(dir.path(), &runner, &[], &[], Duration::from_millis(500)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(run.timed_out);
    assert_eq!(run.exit_code, None);
    assert_eq!(run.passed, 1);
    assert!(
        run.problem.as_deref().unwrap().contains("timed out"),
        "{run:#?}"
    );
}

#[test]
fn results_serialize_in_camel_case() {
    let run = TestRun {
        runner: "cargo-test".to_owned(),
        command: vec!["cargo".to_owned(), "test".to_owned()],
        passed: 1,
        failed: 0,
        skipped: 0,
        errors: 0,
        tests: vec![TestCase {
            id: "x a".to_owned(),
            name: "a".to_owned(),
            status: TestStatus::Passed,
            duration_ms: Some(3),
            message: None,
            output_tail: None,
        }],
        timed_out: false,
        exit_code: Some(0),
        output_tail: String::new(),
        output_truncated: false,
        problem: None,
    };
    let json = serde_json::to_value(&run).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "runner": "cargo-test", "command": ["cargo", "test"], "passed": 1, "failed": 0,
            "skipped": 0, "errors": 0, "timedOut": false, "exitCode": 0, "outputTail": "",
            "outputTruncated": false,
            "tests": [{"id": "x a", "name": "a", "status": "passed", "durationMs": 3,
                       "message": null, "outputTail": null}]
        })
    );
}

#[test]
fn tails_and_colours() {
    assert_eq!(tail("abc", 5), "abc");
    assert_eq!(tail("abcdef", 3), "…def");
    // Never cuts inside a character.
    assert_eq!(tail("ééé", 3), "…é");
    assert_eq!(
        strip_ansi("\u{1b}[1;31mred\u{1b}[0m plain\u{1b}"),
        "red plain"
    );
}
