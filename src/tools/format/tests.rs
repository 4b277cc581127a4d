//! Real formatters (rustfmt, cargo fmt, ruff) and configured commands in temporary workspaces.

use std::fs;

use super::*;
use crate::tools::diagnostics::tests::validate;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

fn read(root: &Path, path: &str) -> String {
    fs::read_to_string(root.join(path)).expect("read")
}

use crate::tools::exec::tool_available;

fn call(
    ws: &Workspace,
    config: Option<&FormatConfig>,
    paths: &[&str],
    check_only: bool,
) -> Result<FormatReport, ToolError> {
    let paths: Vec<String> = paths.iter().map(|path| (*path).to_owned()).collect();
    let report = format(ws, config, &paths, check_only)?;
    let value = serde_json::to_value(&report).expect("serialize");
    if let Err(error) = validate(&output_schema(), &value, "$") {
        panic!("the report does not match the output schema: {error}\n{value:#}");
    }
    Ok(report)
}

fn config(text: &str) -> FormatConfig {
    toml::from_str(text).expect("config")
}

const UGLY_MAIN: &str = "mod sub;\nfn  main( ) {let x=1;}\n";
const UGLY_SUB: &str = "pub fn   a() {}\n";

fn rust_crate(root: &Path, edition: &str) {
    write(
        root,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"fmt\"\nversion = \"0.1.0\"\nedition = \"{edition}\"\n\n[workspace]\n"
        ),
    );
    write(root, "src/main.rs", UGLY_MAIN);
    write(root, "src/sub.rs", UGLY_SUB);
    write(root, "other/lib.rs", "fn  other() {}\n");
}

#[test]
fn rustfmt_checks_then_formats_a_file_and_its_modules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    rust_crate(root, "2018");
    let ws = Workspace::new(root).expect("workspace");

    let check = call(&ws, None, &["src/main.rs"], true).expect("check");
    assert!(check.check_only);
    assert_eq!(check.changed, vec!["src/main.rs", "src/sub.rs"]);
    assert_eq!(check.runs.len(), 1);
    let run = &check.runs[0];
    assert_eq!(run.formatter, "rustfmt");
    assert_eq!(
        run.command,
        vec![
            "rustfmt",
            "--edition",
            "2018",
            "--color",
            "never",
            "--check",
            "-l",
            "src/main.rs"
        ]
    );
    assert_eq!(run.exit_code, Some(1));
    assert_eq!(
        run.problem, None,
        "a failing check is the answer, not a problem"
    );
    // `-l`: names only, so no content of a file outside can reach the answer.
    assert!(
        run.output_tail.ends_with("src/sub.rs") && !run.output_tail.contains("fn"),
        "{}",
        run.output_tail
    );
    assert_eq!(
        read(root, "src/main.rs"),
        UGLY_MAIN,
        "check_only writes nothing"
    );
    assert!(
        check
            .render()
            .starts_with("would reformat src/main.rs\nwould reformat src/sub.rs\n")
    );
    assert!(
        check
            .render()
            .ends_with("2 files would be reformatted (rustfmt)")
    );

    let written = call(&ws, None, &["src/main.rs"], false).expect("format");
    assert_eq!(written.changed, vec!["src/main.rs", "src/sub.rs"]);
    assert_eq!(
        read(root, "src/main.rs"),
        "mod sub;\nfn main() {\n    let x = 1;\n}\n"
    );
    assert_eq!(
        read(root, "other/lib.rs"),
        "fn  other() {}\n",
        "not asked for"
    );
    assert_eq!(
        written.render(),
        "reformatted src/main.rs\nreformatted src/sub.rs\n2 files reformatted (rustfmt)"
    );

    let clean = call(&ws, None, &["src"], true).expect("check again");
    assert!(clean.changed.is_empty());
    assert_eq!(clean.runs[0].problem, None);
    assert_eq!(clean.render(), "all files are formatted (rustfmt)");
}

#[test]
fn cargo_fmt_formats_the_whole_workspace() {
    if !tool_available("cargo-fmt") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    rust_crate(root, "2021");
    let ws = Workspace::new(root).expect("workspace");
    let check = call(&ws, None, &[], true).expect("check");
    assert_eq!(
        check.runs[0].command,
        vec![
            "cargo", "fmt", "--all", "--", "--color", "never", "--check", "-l"
        ]
    );
    assert_eq!(check.changed, vec!["src/main.rs", "src/sub.rs"]);
    let written = call(&ws, None, &[], false).expect("format");
    assert_eq!(written.changed, vec!["src/main.rs", "src/sub.rs"]);
    assert!(
        call(&ws, None, &[], true)
            .expect("clean")
            .changed
            .is_empty()
    );
}

#[test]
fn a_syntax_error_is_a_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    rust_crate(root, "2021");
    write(root, "src/bad.rs", "fn x( {\n");
    let ws = Workspace::new(root).expect("workspace");
    for check_only in [true, false] {
        let report = call(&ws, None, &["src/bad.rs"], check_only).expect("report");
        assert!(report.changed.is_empty());
        let problem = report.runs[0].problem.as_deref().expect("a problem");
        assert!(problem.contains("exited with code 1"), "{problem}");
        assert!(report.runs[0].output_tail.contains("unclosed delimiter"));
    }
    // Beside files that do get formatted, the one that could not be is still a problem.
    let report = call(&ws, None, &["src"], false).expect("report");
    assert_eq!(report.changed, vec!["src/main.rs", "src/sub.rs"]);
    let problem = report.runs[0].problem.as_deref().expect("a problem");
    assert!(problem.contains("exited with code 1"), "{problem}");
}

#[test]
fn real_ruff_format() {
    if !tool_available("ruff") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "pyproject.toml",
        "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n",
    );
    write(root, "pkg/a.py", "x  =  1\n");
    write(root, "pkg/b.py", "y = 2\n");
    write(root, "notes.txt", "not code\n");
    let ws = Workspace::new(root).expect("workspace");
    let check = call(&ws, None, &["pkg"], true).expect("check");
    assert_eq!(check.changed, vec!["pkg/a.py"]);
    assert_eq!(check.runs[0].formatter, "ruff");
    assert_eq!(check.runs[0].problem, None);
    let written = call(&ws, None, &["pkg/a.py", "notes.txt"], false).expect("format");
    assert_eq!(written.changed, vec!["pkg/a.py"]);
    assert_eq!(written.skipped, vec!["notes.txt"]);
    assert_eq!(read(root, "pkg/a.py"), "x = 1\n");
    assert!(
        call(&ws, None, &[], true)
            .expect("clean")
            .changed
            .is_empty()
    );
}

#[test]
fn a_configured_command_writes_and_checks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "a.txt", "one  two\n");
    write(root, "b.txt", "fine\n");
    write(root, "c.md", "three  four\n");
    let ws = Workspace::new(root).expect("workspace");
    let squeeze = config(
        r#"
        command = ["sed", "-i", "s/  */ /g"]
        check_args = []
        name = "squeeze"
        inputs = ["*.txt"]
        "#,
    );
    let lister = config(
        r#"
        command = ["grep", "-l", "  "]
        check_args = []
        inputs = ["*.txt"]
        "#,
    );
    let check = call(&ws, Some(&lister), &["a.txt", "b.txt", "c.md"], true).expect("check");
    // c.md has two spaces too, but is not one of the inputs.
    assert_eq!(check.changed, vec!["a.txt"]);
    assert_eq!(check.runs[0].formatter, "grep");
    let written = call(&ws, Some(&squeeze), &["a.txt", "b.txt"], false).expect("format");
    assert_eq!(written.changed, vec!["a.txt"]);
    assert_eq!(written.runs[0].formatter, "squeeze");
    assert_eq!(read(root, "a.txt"), "one two\n");

    let no_check = config("command = \"true\"");
    let err = call(&ws, Some(&no_check), &[], true).expect_err("needs check_args");
    assert_eq!(err.kind, ToolErrorKind::InvalidArgument);
    assert!(err.message.contains("check_args"), "{err}");
    let missing = config("command = \"prodcode-no-such-formatter\"");
    let err = call(&ws, Some(&missing), &[], false).expect_err("not installed");
    assert_eq!(err.kind, ToolErrorKind::Unavailable);
    assert!(err.message.contains("was not found"), "{err}");
}

#[test]
fn paths_are_checked_and_nothing_to_run_says_what_to_configure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "notes.txt", "text\n");
    let ws = Workspace::new(root).expect("workspace");
    assert_eq!(
        call(&ws, None, &["../x"], false).expect_err("outside").kind,
        ToolErrorKind::OutsideWorkspace
    );
    assert_eq!(
        call(&ws, None, &["missing.rs"], false)
            .expect_err("missing")
            .kind,
        ToolErrorKind::NotFound
    );
    let err = call(&ws, None, &[], false).expect_err("nothing detected");
    assert_eq!(err.kind, ToolErrorKind::Unavailable);
    assert!(err.message.contains("[tools.format]"), "{err}");
    let err = call(&ws, None, &["notes.txt"], false).expect_err("no formatter for it");
    assert!(err.message.contains("notes.txt"), "{err}");
}

#[test]
fn the_edition_comes_from_the_nearest_manifest_or_the_workspace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nedition = \"2024\"\n",
    );
    write(
        root,
        "crates/a/Cargo.toml",
        "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition.workspace = true\n",
    );
    write(root, "crates/a/src/lib.rs", "");
    write(
        root,
        "crates/b/Cargo.toml",
        "[package]\nname = \"b\"\nversion = \"0.1.0\"\nedition = \"2018\"\n",
    );
    write(root, "crates/b/src/lib.rs", "");
    write(root, "loose/x.rs", "");
    let outside = tempfile::tempdir().expect("temp dir");
    write(
        outside.path(),
        "Cargo.toml",
        "[package]\nedition = \"2015\"\n",
    );
    write(outside.path(), "ws/y.rs", "");
    let ws = Workspace::new(root).expect("workspace");
    let edition = |path: &str| edition_for(&ws, &ws.resolve(path).expect("resolve"));
    assert_eq!(edition("crates/a/src/lib.rs"), "2024");
    assert_eq!(edition("crates/b/src/lib.rs"), "2018");
    // The root manifest has no [package]: the default.
    assert_eq!(edition("loose/x.rs"), "2021");
    let inner = Workspace::new(outside.path().join("ws")).expect("workspace");
    assert_eq!(
        edition_for(&inner, &inner.resolve("y.rs").expect("resolve")),
        "2021",
        "manifests above the workspace are not read"
    );
}

#[test]
fn named_files_from_documented_outputs() {
    assert_eq!(
        named_files(
            Some(Family::Rust),
            "Diff in /w/src/main.rs:1:\n-fn  main() {}\n+fn main() {}\nDiff in /w/src/a.rs at line 3:\n"
        ),
        vec!["/w/src/main.rs", "/w/src/a.rs"]
    );
    assert_eq!(
        named_files(
            Some(Family::Python),
            "unformatted: File would be reformatted\n --> pkg/a.py:1:3\n  |\n\
             invalid-syntax: Expected an identifier\n --> bad.py:1:5\n\
             Would reformat: old.py\n2 files would be reformatted\n"
        ),
        vec!["pkg/a.py", "old.py"]
    );
    // prettier 3 `--check`.
    assert_eq!(
        named_files(
            Some(Family::Prettier),
            "Checking formatting...\n[warn] src/a.ts\n[warn] Code style issues found in the above file. Run Prettier with --write to fix.\n"
        ),
        vec![
            "src/a.ts",
            "Code style issues found in the above file. Run Prettier with --write to fix."
        ]
    );
    // `gofmt -l`: one path per line.
    assert_eq!(
        named_files(Some(Family::Go), "main.go\npkg/x.go\n"),
        vec!["main.go", "pkg/x.go"]
    );
    assert_eq!(
        named_files(None, "would reformat `src/a.c:3:1`, (b.c)"),
        vec!["would", "reformat", "src/a.c", "b.c"]
    );
    assert_eq!(strip_position("a.rs:1:2:"), "a.rs");
    assert_eq!(strip_position("C:"), "C");
    assert_eq!(strip_position(":"), "");
}
