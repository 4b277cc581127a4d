//! Detection on temporary workspaces, and whole runs of real runners (cargo, nextest, pytest,
//! unittest, shell commands) through [`run_tests`]. Tests that need pytest or nextest skip when
//! they are missing, and fail under `PRODCODE_REQUIRE_TOOLS=1`.

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
        message.contains("set the command in prodcode.toml: [tools.tests]"),
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
        run.problem.as_deref().unwrap().contains("the build failed"),
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
        not_run: 0,
        did_not_compile: 0,
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
            "skipped": 0, "errors": 0, "notRun": 0, "didNotCompile": 0, "timedOut": false, "exitCode": 0, "outputTail": "",
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

/// A crate whose package name has a dash, with lib unit tests (one ignored), a doctest, a bin's
/// unit test, and two integration-test binaries that both have `fn shared`.
fn two_binaries_crate(root: &Path) {
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"two-bins\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [[bin]]\nname = \"tool\"\npath = \"src/main.rs\"\n\n[workspace]\n",
    );
    write(
        root,
        "src/lib.rs",
        "/// ```\n/// assert_eq!(two_bins::add(1, 1), 2);\n/// ```\n\
         pub fn add(a: i32, b: i32) -> i32 { a + b }\n\
         #[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(1, 2), 3); }\n\
         #[test]\n    #[ignore]\n    fn ignored() {}\n}\n",
    );
    write(
        root,
        "src/main.rs",
        "fn main() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn x() {}\n}\n",
    );
    write(
        root,
        "tests/a.rs",
        "#[test]\nfn shared() {}\n\n#[test]\nfn slow() {\n    \
         if std::env::var_os(\"PRODCODE_TEST_SLOW\").is_some() {\n        \
         std::thread::sleep(std::time::Duration::from_secs(60));\n    }\n}\n",
    );
    write(
        root,
        "tests/b.rs",
        "#[test]\nfn shared() { panic!(\"b fails\") }\n",
    );
}

/// Each runner's statuses by id, sorted.
fn sorted_statuses(run: &TestRun) -> Vec<(String, TestStatus)> {
    let mut statuses: Vec<(String, TestStatus)> = run
        .tests
        .iter()
        .map(|test| (test.id.clone(), test.status))
        .collect();
    statuses.sort();
    statuses
}

#[test]
fn cargo_ids_are_the_same_under_both_runners_and_select_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("two-bins");
    two_binaries_crate(&root);
    let target = dir.path().join("target");
    let timeout = Duration::from_secs(300);
    let expected = [
        ("two-bins tests::adds", TestStatus::Passed),
        ("two-bins tests::ignored", TestStatus::Skipped),
        ("two-bins::a shared", TestStatus::Passed),
        ("two-bins::a slow", TestStatus::Passed),
        ("two-bins::b shared", TestStatus::Failed),
        ("two-bins::bin/tool tests::x", TestStatus::Passed),
    ]
    .map(|(id, status)| (id.to_owned(), status));

    let mut runners = vec![cargo_runner(RunnerKind::CargoTest, &["test"], &target)];
    if exec::tool_available("cargo-nextest") {
        runners.push(cargo_runner(
            RunnerKind::CargoNextest,
            &["nextest", "run"],
            &target,
        ));
    }
    for runner in &runners {
        // The whole suite: no doctest (its id would carry a line number).
        let run = run_tests(&root, runner, &[], &[], timeout).unwrap();
        assert_eq!(sorted_statuses(&run), expected, "{run:#?}");
        assert!(run.command.contains(&"--tests".to_owned()), "{run:#?}");
        if runner.kind == RunnerKind::CargoNextest {
            assert!(
                run.command
                    .windows(2)
                    .any(|pair| pair == ["--retries", "0"])
            );
        }

        // Each id passed back selects that test alone.
        for (id, status) in &expected {
            let run = run_tests(&root, runner, &[], std::slice::from_ref(id), timeout).unwrap();
            assert_eq!(
                statuses(&run),
                [(id.as_str(), *status)],
                "{}: {run:#?}",
                runner.kind.name()
            );
        }

        // Several at once, with ids that name no test or no target: one entry each, in order.
        let names: Vec<String> = [
            "two-bins::b shared",
            "two-bins tests::adds",
            "two-bins::a nope",
            "two-bins::zzz shared",
            "two-bins::b shared",
        ]
        .map(str::to_owned)
        .into();
        assert!(runner.selects_exactly(&names));
        let run = run_tests(&root, runner, &[], &names, timeout).unwrap();
        assert_eq!(
            statuses(&run),
            [
                ("two-bins::b shared", TestStatus::Failed),
                ("two-bins tests::adds", TestStatus::Passed),
                ("two-bins::a nope", TestStatus::NotRun),
                ("two-bins::zzz shared", TestStatus::NotRun),
            ],
            "{run:#?}"
        );
        assert_eq!(
            (run.passed, run.failed, run.skipped, run.not_run),
            (1, 1, 0, 2)
        );
        assert_eq!(run.tests[3].name, "shared");
        let message = run.tests[0].message.as_deref().unwrap();
        assert!(message.contains("b fails"), "{message}");

        // Ids of targets that do not exist run nothing at all.
        let run = run_tests(&root, runner, &[], &["nosuch tests::x".to_owned()], timeout).unwrap();
        assert_eq!(statuses(&run), [("nosuch tests::x", TestStatus::NotRun)]);
        assert!(run.command.is_empty());
        assert!(run.problem.is_some());

        // A timeout keeps the tests that finished (nextest's status lines stand in for the
        // JUnit report it never wrote).
        let mut slow = runner.clone();
        slow.env
            .push(("PRODCODE_TEST_SLOW".to_owned(), "1".to_owned()));
        let names = [
            "two-bins::a shared".to_owned(),
            "two-bins::a slow".to_owned(),
        ];
        let run = run_tests(&root, &slow, &[], &names, Duration::from_secs(10)).unwrap();
        assert!(run.timed_out, "{run:#?}");
        assert_eq!(
            statuses(&run),
            [
                ("two-bins::a shared", TestStatus::Passed),
                ("two-bins::a slow", TestStatus::NotRun),
            ],
            "{}: {run:#?}",
            runner.kind.name()
        );
    }
}

#[test]
fn exact_go_ids_take_their_package_build_failure() {
    // Selection is the same code for every runner: here over a real `go test -json` stream.
    let stream = std::fs::read_to_string(format!(
        "{}/tests/data/tools/go-test.jsonl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let runner = go::detect();
    let names: Vec<String> = [
        "example.com/broken TestMul",
        "example.com/calc TestTable/zero",
        "example.com/calc TestNope",
        "example.com/calc TestSlow",
    ]
    .map(str::to_owned)
    .into();
    assert!(runner.selects_exactly(&names));
    let tests = select_requested(
        &runner.kind,
        go_json::parse(&stream),
        &names,
        &Unreported::Absent,
    );
    let summary: Vec<_> = tests
        .iter()
        .map(|test| (test.id.as_str(), test.name.as_str(), test.status))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "example.com/broken TestMul",
                "TestMul",
                TestStatus::DidNotCompile
            ),
            (
                "example.com/calc TestTable/zero",
                "TestTable/zero",
                TestStatus::Passed
            ),
            ("example.com/calc TestNope", "TestNope", TestStatus::NotRun),
            ("example.com/calc TestSlow", "TestSlow", TestStatus::Skipped),
        ]
    );
    let message = tests[0].message.as_deref().unwrap();
    assert!(message.contains("undefined: Mul"), "{message}");
    let spec = go::command(&Invocation {
        root: Path::new("/tmp"),
        runner: &runner,
        targets: &["./ignored/...".to_owned()],
        names: &names,
        exact: true,
        report_dir: Path::new("/tmp"),
        timeout: Duration::from_secs(1),
    });
    assert_eq!(
        spec.args,
        [
            "test",
            "-json",
            "-count=1",
            "-run",
            "^(?:TestMul|TestTable|TestNope|TestSlow)$/^(?:zero)$",
            "example.com/broken",
            "example.com/calc"
        ]
    );
}

#[test]
fn a_crate_that_does_not_compile_gives_did_not_compile_for_requested_ids() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("broken");
    write(
        &root,
        "Cargo.toml",
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(
        &root,
        "src/lib.rs",
        "pub fn f() -> i32 { missing() }\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n",
    );
    let runner = cargo_runner(RunnerKind::CargoTest, &["test"], &dir.path().join("target"));
    let names = ["broken tests::t".to_owned(), "broken tests::u".to_owned()];
    let run = run_tests(&root, &runner, &[], &names, Duration::from_secs(120)).unwrap();
    assert_eq!(
        statuses(&run),
        [
            ("broken tests::t", TestStatus::DidNotCompile),
            ("broken tests::u", TestStatus::DidNotCompile),
        ],
        "{run:#?}"
    );
    assert_eq!(run.did_not_compile, 2);
    let message = run.tests[0].message.as_deref().unwrap();
    assert!(message.contains("could not compile"), "{message}");
    assert!(message.contains("missing"), "{message}");
    assert!(run.problem.is_some());
}

#[test]
fn names_and_targets_never_become_options() {
    let dir = tempfile::tempdir().unwrap();
    let runner = cargo_runner(RunnerKind::CargoTest, &["test"], &dir.path().join("target"));
    for (targets, names) in [
        (vec![], vec!["--logfile=/tmp/x".to_owned()]),
        (vec!["-p".to_owned()], vec![]),
        (vec![], vec![" -x".to_owned()]),
    ] {
        let error = run_tests(
            dir.path(),
            &runner,
            &targets,
            &names,
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(matches!(error, RunnerError::InvalidArgument(_)), "{error}");
        assert!(error.to_string().contains("never options"), "{error}");
    }
    assert!(!runner.is_test_id("-p tests::x"));
    assert!(!runner.is_test_id("a::--manifest-path x"));
    assert!(!runner.is_test_id("a::bin/-x t"));
    assert!(!runner.is_test_id("tests::adds"));
    assert!(runner.is_test_id("my-crate::bin/my-bin tests::x"));
    assert!(!runner.is_test_id("my-crate::a tests::x)"));
    assert!(!runner.is_test_id("my-crate::odd/x t"));
}

#[test]
fn targets_and_ids_never_name_a_place_outside_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let runner = |kind: RunnerKind| Runner {
        kind,
        program: "prodcode-no-such-runner".to_owned(),
        args: Vec::new(),
        env: Vec::new(),
    };
    let run = |kind: RunnerKind, targets: &[&str], names: &[&str]| {
        let targets: Vec<String> = targets.iter().map(|text| (*text).to_owned()).collect();
        let names: Vec<String> = names.iter().map(|text| (*text).to_owned()).collect();
        run_tests(
            &root,
            &runner(kind),
            &targets,
            &names,
            Duration::from_secs(5),
        )
    };
    let refused =
        |kind: RunnerKind, targets: &[&str], names: &[&str]| run(kind, targets, names).unwrap_err();
    for (kind, targets, names) in [
        (RunnerKind::CargoTest, &["../x"][..], &[][..]),
        (RunnerKind::CargoNextest, &["/etc"][..], &[][..]),
        (RunnerKind::Pytest, &[][..], &["/etc/t.py::test_x"][..]),
        (RunnerKind::Pytest, &[][..], &["../t.py::test_x"][..]),
        (RunnerKind::GoTest, &[][..], &["../pkg TestX"][..]),
        (RunnerKind::GoTest, &[][..], &["/pkg TestX"][..]),
        (RunnerKind::Jest, &["../other"][..], &[][..]),
    ] {
        let error = refused(kind.clone(), targets, names);
        assert!(
            matches!(error, RunnerError::OutsideWorkspace(_)),
            "{kind:?} {targets:?} {names:?}: {error}"
        );
    }
    for (targets, names) in [(&["@args"][..], &[][..]), (&[][..], &["@args::test_x"][..])] {
        let error = refused(RunnerKind::Pytest, targets, names);
        assert!(matches!(error, RunnerError::InvalidArgument(_)), "{error}");
        assert!(error.to_string().contains("`@`"), "{error}");
    }
    let error = refused(RunnerKind::GoTest, &["pkg\0x"], &[]);
    assert!(error.to_string().contains("NUL"), "{error}");
    // What stays inside passes the gate (and then finds no runner, or nothing to run).
    for (kind, targets, names) in [
        (RunnerKind::Pytest, &["tests/test_a.py"][..], &[][..]),
        (
            RunnerKind::Pytest,
            &[][..],
            &["tests/t.py::test_x[a b]"][..],
        ),
        (
            RunnerKind::GoTest,
            &["./..."][..],
            &["example.com/m TestX"][..],
        ),
        (
            RunnerKind::CargoTest,
            &["mycrate"][..],
            &["mycrate tests::x"][..],
        ),
    ] {
        let result = run(kind.clone(), targets, names);
        assert!(
            !matches!(
                result,
                Err(RunnerError::InvalidArgument(_) | RunnerError::OutsideWorkspace(_))
            ),
            "{kind:?}: {result:?}"
        );
    }
}

/// The detected pytest runner, or `None` (after `tool_available`'s verdict) without pytest.
fn pytest_runner(root: &Path) -> Option<Runner> {
    if !exec::tool_available("pytest") {
        return None;
    }
    let runner = detect(root, None).unwrap();
    assert_eq!(runner.kind, RunnerKind::Pytest, "{runner:?}");
    Some(runner)
}

#[test]
fn pytest_node_ids_pass_back_and_select_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // `-x` would stop at the first failure, and at the first collection error.
    // `--reruns` parses though prodcode blocks pytest-rerunfailures (installed or not).
    write(
        root,
        "pytest.ini",
        "[pytest]\naddopts = -x --lf --reruns 2\n",
    );
    write(
        root,
        "tests/test_x.py",
        "import os, time\nimport pytest\n\n\
         @pytest.mark.parametrize(\"x\", [\"a b\", \"c\"])\ndef test_p(x):\n    assert x != \"a b\"\n\n\
         class TestC:\n    def test_m(self):\n        pass\n\n\
         @pytest.mark.skip(reason=\"not today\")\ndef test_skipped():\n    pass\n\n\
         def test_slow():\n    if os.environ.get(\"PRODCODE_TEST_SLOW\"):\n        time.sleep(60)\n\n\
         def test_last():\n    pass\n",
    );
    write(
        root,
        "tests/test_bad.py",
        "import nonexistent_module_for_prodcode\n\ndef test_never():\n    pass\n",
    );
    let Some(runner) = pytest_runner(root) else {
        return;
    };
    let timeout = Duration::from_secs(120);
    let run = run_tests(root, &runner, &[], &[], timeout).unwrap();
    assert_eq!(
        statuses(&run),
        [
            ("tests/test_bad.py", TestStatus::DidNotCompile),
            ("tests/test_x.py::test_p[a b]", TestStatus::Failed),
            ("tests/test_x.py::test_p[c]", TestStatus::Passed),
            ("tests/test_x.py::TestC::test_m", TestStatus::Passed),
            ("tests/test_x.py::test_skipped", TestStatus::Skipped),
            ("tests/test_x.py::test_slow", TestStatus::Passed),
            ("tests/test_x.py::test_last", TestStatus::Passed),
        ],
        "{run:#?}"
    );
    assert_eq!(run.tests[1].name, "test_p[a b]");
    let message = run.tests[1].message.as_deref().unwrap();
    assert!(message.contains("assert 'a b' != 'a b'"), "{message}");
    let message = run.tests[0].message.as_deref().unwrap();
    assert!(
        message.contains("nonexistent_module_for_prodcode"),
        "{message}"
    );
    assert_eq!(run.tests[4].message.as_deref(), Some("Skipped: not today"));
    assert!(!root.join(".pytest_cache").exists());

    // Every test id passes back and selects that test alone.
    for test in run.tests.iter().filter(|test| test.id.contains("::")) {
        let run = run_tests(root, &runner, &[], std::slice::from_ref(&test.id), timeout).unwrap();
        assert_eq!(
            statuses(&run),
            [(test.id.as_str(), test.status)],
            "{run:#?}"
        );
    }

    let names: Vec<String> = [
        "tests/test_x.py::test_last",
        "tests/test_bad.py::test_never",
        "tests/test_x.py::test_nope",
        "tests/test_missing.py::test_z",
        "tests/test_x.py::TestC",
    ]
    .map(str::to_owned)
    .into();
    let run = run_tests(root, &runner, &[], &names, timeout).unwrap();
    assert_eq!(
        statuses(&run),
        [
            ("tests/test_x.py::test_last", TestStatus::Passed),
            ("tests/test_bad.py::test_never", TestStatus::DidNotCompile),
            ("tests/test_x.py::test_nope", TestStatus::NotRun),
            ("tests/test_missing.py::test_z", TestStatus::NotRun),
            // A class stands for its tests.
            ("tests/test_x.py::TestC::test_m", TestStatus::Passed),
        ],
        "{run:#?}"
    );
    let message = run.tests[1].message.as_deref().unwrap();
    assert!(
        message.contains("nonexistent_module_for_prodcode"),
        "{message}"
    );

    // A timeout keeps what finished; the test it interrupted did not finish.
    let mut slow = runner.clone();
    slow.env
        .push(("PRODCODE_TEST_SLOW".to_owned(), "1".to_owned()));
    let names: Vec<String> = [
        "tests/test_x.py::test_p[c]",
        "tests/test_x.py::test_slow",
        "tests/test_x.py::test_last",
    ]
    .map(str::to_owned)
    .into();
    let run = run_tests(root, &slow, &[], &names, Duration::from_secs(8)).unwrap();
    assert!(run.timed_out);
    assert_eq!(
        statuses(&run),
        [
            ("tests/test_x.py::test_p[c]", TestStatus::Passed),
            ("tests/test_x.py::test_slow", TestStatus::Error),
            ("tests/test_x.py::test_last", TestStatus::NotRun),
        ],
        "{run:#?}"
    );
}

/// A venv at `root/.venv` whose interpreter has no pytest (none of its site-packages).
fn venv_without_pytest(root: &Path) -> bool {
    if !exec::tool_available("python3") {
        return false;
    }
    let status = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(root.join(".venv"))
        .status()
        .unwrap();
    assert!(status.success());
    true
}

#[test]
fn unittest_runs_without_pytest_with_dotted_ids() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // No marker file: `tests/test_*.py` makes it a Python project.
    write(root, "tests/__init__.py", "");
    write(
        root,
        "tests/test_math.py",
        "import os, time, unittest\n\n\
         class TestAdd(unittest.TestCase):\n\
         \x20   def test_zero(self):\n\
         \x20       \"\"\"Adding zero changes nothing.\"\"\"\n\
         \x20       self.assertEqual(1 + 0, 1)\n\n\
         \x20   def test_table(self):\n\
         \x20       \"\"\"A table of cases.\"\"\"\n\
         \x20       for a, b in [(1, 2), (2, 4), (3, 7)]:\n\
         \x20           with self.subTest(a=a):\n\
         \x20               self.assertEqual(a * 2, b)\n\n\
         \x20   @unittest.skip(\"not today\")\n\
         \x20   def test_skipped(self):\n\
         \x20       pass\n\n\
         \x20   @unittest.expectedFailure\n\
         \x20   def test_expected(self):\n\
         \x20       self.assertEqual(1, 2)\n\n\
         \x20   def test_slow(self):\n\
         \x20       if os.environ.get(\"PRODCODE_TEST_SLOW\"):\n\
         \x20           time.sleep(60)\n",
    );
    write(
        root,
        "tests/test_broken.py",
        "import nonexistent_module_for_prodcode\n",
    );
    if !venv_without_pytest(root) {
        return;
    }
    let runner = detect(root, None).unwrap();
    assert_eq!(runner.kind, RunnerKind::Unittest, "{runner:?}");
    assert_eq!(runner.kind.name(), "unittest");
    let timeout = Duration::from_secs(60);
    let run = run_tests(root, &runner, &[], &[], timeout).unwrap();
    let mut sorted = statuses(&run);
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("tests.test_broken", TestStatus::DidNotCompile),
            ("tests.test_math.TestAdd.test_expected", TestStatus::Skipped),
            ("tests.test_math.TestAdd.test_skipped", TestStatus::Skipped),
            ("tests.test_math.TestAdd.test_slow", TestStatus::Passed),
            ("tests.test_math.TestAdd.test_table", TestStatus::Failed),
            ("tests.test_math.TestAdd.test_zero", TestStatus::Passed),
        ],
        "{run:#?}"
    );
    let table = run
        .tests
        .iter()
        .find(|test| test.name == "test_table")
        .unwrap();
    let message = table.message.as_deref().unwrap();
    assert!(
        message.contains("a=3") && message.contains("6 != 7"),
        "{message}"
    );
    assert_eq!(run.exit_code, Some(1));

    // Ids pass back: each selects that test alone.
    for test in &run.tests {
        let run = run_tests(root, &runner, &[], std::slice::from_ref(&test.id), timeout).unwrap();
        assert_eq!(
            statuses(&run),
            [(test.id.as_str(), test.status)],
            "{run:#?}"
        );
    }
    let names: Vec<String> = [
        "tests.test_math.TestAdd.test_zero",
        "tests.test_broken.TestX.test_y",
        "tests.test_math.TestAdd.test_nope",
        "tests.test_nothing.TestX.test_y",
    ]
    .map(str::to_owned)
    .into();
    let run = run_tests(root, &runner, &[], &names, timeout).unwrap();
    assert_eq!(
        statuses(&run),
        [
            ("tests.test_math.TestAdd.test_zero", TestStatus::Passed),
            ("tests.test_broken.TestX.test_y", TestStatus::DidNotCompile),
            ("tests.test_math.TestAdd.test_nope", TestStatus::NotRun),
            ("tests.test_nothing.TestX.test_y", TestStatus::NotRun),
        ],
        "{run:#?}"
    );

    // A substring filter, as `unittest -k` applies it (a module that does not import still
    // says so, as with pytest's `-k`).
    let run = run_tests(root, &runner, &[], &["zero".to_owned()], timeout).unwrap();
    assert_eq!(
        statuses(&run),
        [
            ("tests.test_broken", TestStatus::DidNotCompile),
            ("tests.test_math.TestAdd.test_zero", TestStatus::Passed)
        ],
        "{run:#?}"
    );
    assert_eq!(
        run.tests[0].message.as_deref(),
        Some("ModuleNotFoundError: No module named 'nonexistent_module_for_prodcode'")
    );

    // A timeout keeps what finished.
    let mut slow = runner.clone();
    slow.env
        .push(("PRODCODE_TEST_SLOW".to_owned(), "1".to_owned()));
    let names: Vec<String> = [
        "tests.test_math.TestAdd.test_zero",
        "tests.test_math.TestAdd.test_slow",
        "tests.test_math.TestAdd.test_skipped",
    ]
    .map(str::to_owned)
    .into();
    let run = run_tests(root, &slow, &[], &names, Duration::from_secs(5)).unwrap();
    assert!(run.timed_out);
    assert_eq!(
        statuses(&run),
        [
            ("tests.test_math.TestAdd.test_zero", TestStatus::Passed),
            ("tests.test_math.TestAdd.test_slow", TestStatus::Error),
            ("tests.test_math.TestAdd.test_skipped", TestStatus::NotRun),
        ],
        "{run:#?}"
    );
}
