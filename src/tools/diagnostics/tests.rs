//! End-to-end tests: real checkers in temporary workspaces.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::*;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

use crate::tools::exec::tool_available;

fn call(
    ws: &Workspace,
    config: Option<&DiagnosticsConfig>,
    paths: &[&str],
    min_severity: Severity,
    cache: &DiagnosticsCache,
) -> Result<DiagnosticsReport, ToolError> {
    let paths: Vec<String> = paths.iter().map(|path| (*path).to_owned()).collect();
    let report = get_diagnostics(ws, config, &paths, min_severity, cache)?;
    let value = serde_json::to_value(&report).expect("serialize");
    if let Err(error) = validate(&output_schema(), &value, "$") {
        panic!("the report does not match the output schema: {error}\n{value:#}");
    }
    Ok(report)
}

fn summary(report: &DiagnosticsReport) -> Vec<(String, u32, u32, Severity, Option<String>)> {
    report
        .diagnostics
        .iter()
        .map(|d| (d.path.clone(), d.line, d.column, d.severity, d.code.clone()))
        .collect()
}

fn config(text: &str) -> DiagnosticsConfig {
    toml::from_str(text).expect("config")
}

/// Two versions of the same line, of the same length: an error and a fix.
const BROKEN: &str = "    let s = \"héllo 😀\"; let n: i32 = \"1\";\n";
const FIXED: &str = "    let s = \"héllo 😀\"; let n: i32 = 1  ;\n";

fn lib_rs(line: &str) -> String {
    format!(
        "pub fn f() -> usize {{\n{line}    s.len() + n as usize\n}}\n\npub fn g() {{\n    let unused = 1;\n}}\n"
    )
}

#[test]
fn no_checker_says_what_to_configure() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "README.md", "hello\n");
    let ws = Workspace::new(dir.path()).expect("workspace");
    let err = call(&ws, None, &[], Severity::Hint, &DiagnosticsCache::default())
        .expect_err("nothing to run");
    assert_eq!(err.kind, ToolErrorKind::Unavailable);
    assert!(err.message.contains("[tools.diagnostics]"), "{err}");
}

#[test]
fn real_cargo_check_is_fresh_after_every_edit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"fresh\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(root, "src/lib.rs", &lib_rs(BROKEN));
    let ws = Workspace::new(root).expect("workspace");
    let cache = DiagnosticsCache::default();
    // `"1"` after `"héllo 😀"`: character 37 (byte 41, UTF-16 unit 38).
    let error = (
        "src/lib.rs".to_owned(),
        2,
        37,
        Severity::Error,
        Some("E0308".to_owned()),
    );
    let warning = (
        "src/lib.rs".to_owned(),
        7,
        9,
        Severity::Warning,
        Some("unused_variables".to_owned()),
    );

    let first = call(&ws, None, &[], Severity::Hint, &cache).expect("first call");
    assert_eq!(
        summary(&first),
        vec![error.clone(), warning.clone()],
        "{}",
        first.render()
    );
    assert!(!first.cached);
    assert_eq!((first.errors, first.warnings), (1, 1));
    assert_eq!(first.checkers.len(), 1);
    assert_eq!(first.checkers[0].name, "cargo check");
    assert_eq!(first.checkers[0].problem, None);
    assert_eq!(
        first.files,
        vec![FileHash {
            path: "src/lib.rs".to_owned(),
            sha256: snapshot::hash_file(&root.join("src/lib.rs")).expect("hash"),
        }]
    );
    assert_eq!(first.diagnostics[0].end_column, 40);
    assert_eq!(first.diagnostics[0].source, "cargo check");
    assert!(
        first
            .render()
            .contains("src/lib.rs:2:37: error[E0308]: mismatched types")
    );

    let again = call(&ws, None, &[], Severity::Hint, &cache).expect("second call");
    assert!(
        again.cached,
        "nothing changed: the answer comes from the cache"
    );
    assert_eq!(again.diagnostics, first.diagnostics);
    assert_eq!(again.snapshot, first.snapshot);

    // Fixed right away: the next call must not answer the old error.
    write(root, "src/lib.rs", &lib_rs(FIXED));
    let fixed = call(&ws, None, &[], Severity::Hint, &cache).expect("after the fix");
    assert!(!fixed.cached);
    assert_ne!(fixed.snapshot.id, first.snapshot.id);
    assert_eq!(summary(&fixed), vec![warning.clone()], "{}", fixed.render());

    // Broken again within the same second, with the same size: mtime granularity must not
    // make the cache answer the fixed state.
    write(root, "src/lib.rs", &lib_rs(BROKEN));
    let broken = call(&ws, None, &[], Severity::Hint, &cache).expect("after breaking it");
    assert!(!broken.cached);
    assert_eq!(broken.snapshot.id, first.snapshot.id);
    assert_eq!(
        summary(&broken),
        vec![error, warning.clone()],
        "{}",
        broken.render()
    );

    // Filters apply to the cached run too.
    write(root, "src/lib.rs", &lib_rs(FIXED));
    write(root, "src/other.rs", "");
    let all = call(&ws, None, &[], Severity::Hint, &cache).expect("all");
    assert_eq!(summary(&all), vec![warning.clone()]);
    let errors_only = call(&ws, None, &[], Severity::Error, &cache).expect("errors only");
    assert!(errors_only.cached);
    assert!(errors_only.diagnostics.is_empty());
    assert_eq!((errors_only.errors, errors_only.warnings), (0, 0));
    let in_dir = call(&ws, None, &["src"], Severity::Hint, &cache).expect("in src");
    assert_eq!(summary(&in_dir), vec![warning.clone()]);
    let elsewhere = call(&ws, None, &["src/other.rs"], Severity::Hint, &cache).expect("other");
    assert!(elsewhere.diagnostics.is_empty());
    assert!(elsewhere.files.is_empty());
    let outside = call(&ws, None, &["../"], Severity::Hint, &cache).expect_err("outside");
    assert_eq!(outside.kind, ToolErrorKind::OutsideWorkspace);
    let missing = call(&ws, None, &["src/nope.rs"], Severity::Hint, &cache).expect_err("missing");
    assert_eq!(missing.kind, ToolErrorKind::NotFound);
}

#[test]
fn a_build_script_failure_is_a_problem_with_the_end_of_its_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"script\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(
        root,
        "build.rs",
        "fn main() { panic!(\"the build script broke\"); }\n",
    );
    write(root, "src/lib.rs", "pub fn f() {}\n");
    let ws = Workspace::new(root).expect("workspace");
    let report =
        call(&ws, None, &[], Severity::Hint, &DiagnosticsCache::default()).expect("report");
    assert!(report.diagnostics.is_empty());
    let problem = report.checkers[0].problem.as_deref().expect("a problem");
    assert!(
        problem.contains("without reporting a compiler error"),
        "{problem}"
    );
    assert!(problem.contains("the build script broke"), "{problem}");
    assert!(report.render().contains("cargo check: problem:"));
}

#[test]
fn a_configured_gcc_checker_with_byte_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "main.c", "int x = \"é😀\"; int y;\n");
    let ws = Workspace::new(root).expect("workspace");
    let config = config(
        r#"
        command = "printf 'main.c:1:19: warning: unused variable [-Wunused]\n/elsewhere.c:2:1: error: not ours\nmain.c:1:9: error: wrong type\n'"
        shell = true
        inputs = ["*.c"]
        "#,
    );
    let cache = DiagnosticsCache::default();
    let report = call(&ws, Some(&config), &[], Severity::Hint, &cache).expect("report");
    // Byte 19 is the `i` of `int y` (after `"é😀"`: 1+2+4+1 bytes, 4 characters): character 15.
    assert_eq!(
        summary(&report),
        vec![
            ("main.c".to_owned(), 1, 9, Severity::Error, None),
            ("main.c".to_owned(), 1, 15, Severity::Warning, None),
        ]
    );
    assert_eq!(report.checkers[0].name, "printf");
    assert_eq!(report.snapshot.files, 1);
    let cached = call(&ws, Some(&config), &[], Severity::Hint, &cache).expect("again");
    assert!(cached.cached);
}

#[test]
fn a_missing_program_and_an_unexplained_failure_are_problems() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = Workspace::new(dir.path()).expect("workspace");
    let config = config(
        r#"
        [[checkers]]
        command = ["prodcode-no-such-checker", "--check"]

        [[checkers]]
        command = "echo broken config >&2; exit 3"
        shell = true
        name = "lint"
        "#,
    );
    let cache = DiagnosticsCache::default();
    let report = call(&ws, Some(&config), &[], Severity::Hint, &cache).expect("report");
    assert_eq!(report.checkers.len(), 2);
    let missing = report.checkers[0]
        .problem
        .as_deref()
        .expect("missing program");
    assert!(
        missing.contains("`prodcode-no-such-checker` was not found"),
        "{missing}"
    );
    assert_eq!(report.checkers[0].exit_code, None);
    let failed = report.checkers[1].problem.as_deref().expect("failure");
    assert!(failed.contains("exit code 3"), "{failed}");
    assert!(failed.contains("broken config"), "{failed}");
    // Runs with problems are not cached: installing the program must take effect.
    assert!(
        !call(&ws, Some(&config), &[], Severity::Hint, &cache)
            .expect("again")
            .cached
    );
}

#[test]
fn files_that_keep_changing_give_a_stale_answer_after_three_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "a.c", "");
    let ws = Workspace::new(root).expect("workspace");
    let config = config(
        r#"
        command = "echo x >> a.c; echo run >> runs.log; echo 'a.c:1:1: warning: changing'"
        shell = true
        inputs = ["*.c"]
        "#,
    );
    let report = call(
        &ws,
        Some(&config),
        &[],
        Severity::Hint,
        &DiagnosticsCache::default(),
    )
    .expect("report");
    assert!(report.stale);
    assert!(
        report
            .note
            .as_deref()
            .is_some_and(|note| note.contains("3 runs"))
    );
    assert_eq!(
        fs::read_to_string(root.join("runs.log"))
            .expect("log")
            .lines()
            .count(),
        3
    );
    assert!(report.render().contains("stale"));
}

#[test]
fn real_ruff_and_pyright_columns_are_characters() {
    let ruff = tool_available("ruff");
    let pyright = tool_available("pyright");
    if !ruff && !pyright {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let fixtures = format!(
        "{}/tests/data/tools/diagnostics/sources/py",
        env!("CARGO_MANIFEST_DIR")
    );
    write(
        root,
        "pyproject.toml",
        "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n",
    );
    for file in ["pkg/app.py", "pkg/types.py"] {
        let text = fs::read_to_string(format!("{fixtures}/{file}")).expect("fixture source");
        write(root, file, &text);
    }
    let ws = Workspace::new(root).expect("workspace");
    let report = call(
        &ws,
        None,
        &["pkg/app.py"],
        Severity::Hint,
        &DiagnosticsCache::default(),
    )
    .expect("report");
    let undefined: Vec<(&str, u32, u32, u32)> = report
        .diagnostics
        .iter()
        .filter(|d| d.line == 6)
        .map(|d| (d.source.as_str(), d.line, d.column, d.end_column))
        .collect();
    let mut expected = Vec::new();
    if ruff {
        expected.push(("ruff", 6, 30, 44));
    }
    if pyright {
        expected.push(("pyright", 6, 30, 44));
    }
    let mut undefined = undefined;
    undefined.sort();
    expected.sort();
    assert_eq!(undefined, expected, "{}", report.render());
    assert!(
        report
            .checkers
            .iter()
            .all(|checker| checker.problem.is_none()),
        "{}",
        report.render()
    );
}

#[test]
fn real_tsc_columns_are_characters() {
    if !tool_available("tsc") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let source = fs::read_to_string(format!(
        "{}/tests/data/tools/diagnostics/sources/ts/src/index.ts",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture source");
    write(
        root,
        "tsconfig.json",
        r#"{ "compilerOptions": { "strict": true, "target": "es2020", "noEmit": true }, "include": ["src"] }"#,
    );
    write(root, "src/index.ts", &source);
    let ws = Workspace::new(root).expect("workspace");
    let report =
        call(&ws, None, &[], Severity::Hint, &DiagnosticsCache::default()).expect("report");
    let code = Some("TS2322".to_owned());
    assert_eq!(
        summary(&report),
        vec![
            (
                "src/index.ts".to_owned(),
                1,
                46,
                Severity::Error,
                code.clone()
            ),
            (
                "src/index.ts".to_owned(),
                3,
                10,
                Severity::Error,
                code.clone()
            ),
            ("src/index.ts".to_owned(), 5, 7, Severity::Error, code),
        ],
        "{}",
        report.render()
    );
    assert_eq!(
        report.diagnostics[2].notes,
        vec!["Type 'string' is not assignable to type 'number'."]
    );
}

#[test]
fn render_lists_diagnostics_then_a_summary() {
    let report = DiagnosticsReport {
        diagnostics: vec![Diagnostic {
            path: "src/lib.rs".to_owned(),
            line: 2,
            column: 5,
            end_line: 2,
            end_column: 9,
            severity: Severity::Error,
            code: Some("E0308".to_owned()),
            source: "cargo check".to_owned(),
            message: "mismatched types".to_owned(),
            notes: vec!["expected `i32`, found `&str`".to_owned()],
        }],
        errors: 1,
        warnings: 2,
        information: 0,
        hints: 1,
        truncated: true,
        checkers: vec![
            CheckerRun {
                name: "cargo check".to_owned(),
                command: vec!["cargo".to_owned(), "check".to_owned()],
                exit_code: Some(101),
                duration_ms: 10,
                diagnostics: 4,
                problem: None,
            },
            CheckerRun {
                name: "ruff".to_owned(),
                command: vec!["ruff".to_owned()],
                exit_code: None,
                duration_ms: 0,
                diagnostics: 0,
                problem: Some("`ruff` was not found".to_owned()),
            },
        ],
        snapshot: SnapshotInfo {
            id: "0123456789abcdef".to_owned(),
            files: 3,
        },
        files: Vec::new(),
        cached: true,
        stale: false,
        note: None,
    };
    assert_eq!(
        report.render(),
        "src/lib.rs:2:5: error[E0308]: mismatched types\n\
         \x20   expected `i32`, found `&str`\n\
         ruff: problem: `ruff` was not found\n\
         (truncated: 1 of 4 diagnostics listed; pass paths or min_severity to narrow)\n\
         1 error, 2 warnings, 1 hint (cargo check, ruff) · snapshot 0123456789ab… (3 files) · cached: no file changed since the last run"
    );
    let value = serde_json::to_value(&report).expect("serialize");
    validate(&output_schema(), &value, "$").expect("valid");
}

#[test]
fn the_documented_configuration_parses() {
    let doc: String = include_str!("mod.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    let start = doc.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("its end");
    #[derive(Deserialize)]
    struct File {
        tools: Tools,
    }
    #[derive(Deserialize)]
    struct Tools {
        diagnostics: DiagnosticsConfig,
    }
    let file: File = toml::from_str(&doc[start..end]).expect("the example parses");
    let config = file.tools.diagnostics;
    assert_eq!(config.format, Some(OutputFormat::Gcc));
    assert_eq!(config.columns, Some(ColumnUnit::Bytes));
    assert_eq!(config.checkers.len(), 1);
    assert_eq!(config.checkers[0].columns, Some(ColumnUnit::Chars));
    let dir = tempfile::tempdir().expect("temp dir");
    let checkers = checkers::checkers(dir.path(), Some(&config)).expect("checkers");
    assert_eq!(checkers.len(), 2);
    assert_eq!(checkers[0].name, "make lint");
    assert_eq!(checkers[0].spec.argv(), vec!["make", "lint"]);
    assert_eq!(checkers[1].name, "mypy");
    // Unknown keys are accepted, so an older prodcode reads a newer project's file.
    assert!(toml::from_str::<DiagnosticsConfig>("command = \"x\"\nfuture_key = 1").is_ok());
    let bad_glob = self::config("command = \"x\"\ninputs = [\"a[\"]");
    assert!(checkers::checkers(dir.path(), Some(&bad_glob)).is_err());
    let empty = self::config("command = \"  \"");
    assert!(checkers::checkers(dir.path(), Some(&empty)).is_err());
}

#[test]
fn the_schema_rejects_what_it_should() {
    let schema = output_schema();
    assert!(validate(&schema, &serde_json::json!({}), "$").is_err());
    let mut value = serde_json::to_value(DiagnosticsReport {
        diagnostics: Vec::new(),
        errors: 0,
        warnings: 0,
        information: 0,
        hints: 0,
        truncated: false,
        checkers: Vec::new(),
        snapshot: SnapshotInfo {
            id: String::new(),
            files: 0,
        },
        files: Vec::new(),
        cached: false,
        stale: false,
        note: Some("n".to_owned()),
    })
    .expect("serialize");
    validate(&schema, &value, "$").expect("valid");
    value["extra"] = Value::Bool(true);
    assert!(validate(&schema, &value, "$").is_err());
}

/// Checks `value` against the subset of JSON Schema the output schemas use: `type` (one or a
/// list), `properties`, `required`, `additionalProperties: false`, `items`, `enum`, `minimum`.
pub(crate) fn validate(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let matches = |kind: &str| match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        };
        if !kinds.iter().any(|kind| matches(kind)) {
            return Err(format!("{at}: {value} is not {kinds:?}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(minimum), Some(number)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && number < minimum
    {
        return Err(format!("{at}: {number} < {minimum}"));
    }
    if let Value::Object(map) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(required) {
                return Err(format!("{at}: `{required}` is missing"));
            }
        }
        for (key, item) in map {
            match properties.and_then(|properties| properties.get(key)) {
                Some(property) => validate(property, item, &format!("{at}.{key}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: `{key}` is not in the schema"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            validate(item_schema, item, &format!("{at}[{index}]"))?;
        }
    }
    Ok(())
}
