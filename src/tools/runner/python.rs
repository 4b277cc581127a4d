//! Python projects: pytest when the project's interpreter can import it, else the standard
//! library's unittest. The interpreter is the workspace's `.venv/bin/python` when there is one (so
//! the project's own packages are used), else `pytest` on `PATH`, else `python3`.
//!
//! Both report through prodcode's own code, written to the run's temporary directory, as JSON
//! lines ([`json_lines`](super::json_lines)) flushed as each test ends, so a timeout keeps what
//! finished:
//! - pytest loads the plugin `prodcode_report.py` (`-p prodcode_report`, its directory first on
//!   `PYTHONPATH`). Ids are pytest's node ids (`tests/test_x.py::TestC::test_m[a b]`). Options
//!   after the project's `addopts` keep a run whole: `--maxfail=0` (overrides `-x`),
//!   `--continue-on-collection-errors`, `-p no:rerunfailures`, and a cache directory in the
//!   temporary directory (`--lf`/`--ff` find no history; nothing is written to the workspace).
//! - unittest runs `prodcode_unittest.py`. Ids are dotted `TestCase.id()` values
//!   (`tests.test_math.TestAdd.test_zero`).
//!
//! Names that are all ids select exactly (pytest: the plugin deselects every other test of the
//! ids' files; unittest: `loadTestsFromName`); other names are substring filters (`-k`).

use std::path::Path;
use std::time::Duration;

use super::exec::{self, CommandSpec};
use super::{Invocation, Runner, RunnerKind, TestCase, find_on_path, is_executable, json_lines};

const MARKERS: [&str; 5] = [
    "pyproject.toml",
    "setup.cfg",
    "pytest.ini",
    "tox.ini",
    "conftest.py",
];

pub(crate) const PLUGIN: &str = include_str!("prodcode_report.py");
pub(crate) const DRIVER: &str = include_str!("prodcode_unittest.py");
/// The JSON-lines file the plugin or driver appends to, in the report directory.
const RESULTS: &str = "results.jsonl";

pub(super) fn detect(root: &Path) -> Option<Runner> {
    if !MARKERS.iter().any(|marker| root.join(marker).is_file()) && !has_test_files(root) {
        return None;
    }
    let pytest_module = |program: String| Runner {
        kind: RunnerKind::Pytest,
        program,
        args: vec!["-m".to_owned(), "pytest".to_owned()],
        env: Vec::new(),
    };
    let unittest = |program: String| Runner {
        kind: RunnerKind::Unittest,
        program,
        args: Vec::new(),
        env: Vec::new(),
    };
    let venv = root.join(".venv/bin/python");
    if is_executable(&venv) {
        let program = venv.display().to_string();
        return Some(if imports_pytest(root, &program) == Some(false) {
            unittest(program)
        } else {
            pytest_module(program)
        });
    }
    if let Some(pytest) = find_on_path("pytest") {
        return Some(Runner {
            kind: RunnerKind::Pytest,
            program: pytest.display().to_string(),
            args: Vec::new(),
            env: Vec::new(),
        });
    }
    let program = "python3".to_owned();
    Some(if imports_pytest(root, &program) == Some(false) {
        unittest(program)
    } else {
        // pytest, or no Python at all: the run then says what to install.
        pytest_module(program)
    })
}

/// A Python project without marker files: `test*.py` at the root or in `tests/`.
fn has_test_files(root: &Path) -> bool {
    let has = |dir: &Path| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.starts_with("test") && name.ends_with(".py") && entry.path().is_file()
            })
        })
    };
    has(root) || has(&root.join("tests"))
}

/// Whether `python` can import pytest; `None` when it could not be run at all.
fn imports_pytest(root: &Path, python: &str) -> Option<bool> {
    let probe = CommandSpec::new(python, &["-c", "import pytest"], root.to_path_buf());
    exec::run(&probe, Duration::from_secs(30), 4096)
        .ok()
        .filter(|run| !run.timed_out)
        .map(|run| run.success())
}

/// A pytest node id: a file, `::`, then the rest (`tests/test_x.py::TestC::test_m[a b]`).
pub(super) fn is_pytest_id(text: &str) -> bool {
    text.split_once("::")
        .is_some_and(|(file, rest)| !file.trim().is_empty() && !rest.trim().is_empty())
        && !text.contains('\n')
}

/// A dotted unittest id: identifiers joined by dots, at least two (`test_math.TestAdd`).
pub(super) fn is_unittest_id(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        let mut chars = part.chars();
        let Some(first) = chars.next() else {
            return false;
        };
        if !(first == '_' || first.is_alphabetic())
            || !chars.all(|c| c == '_' || c.is_alphanumeric())
        {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

/// The pytest command, or `None` when exact ids name no file that exists.
pub(super) fn pytest_command(invocation: &Invocation) -> Option<CommandSpec> {
    let dir = invocation.report_dir;
    // If a file cannot be written, the run fails to load the plugin and says so.
    let _ = std::fs::write(dir.join("prodcode_report.py"), PLUGIN);
    // Blocking rerunfailures comes before the plugin, which then accepts its options.
    let mut extra: Vec<String> = [
        "-p",
        "no:rerunfailures",
        "-p",
        "prodcode_report",
        "--maxfail=0",
        "--continue-on-collection-errors",
        "-o",
    ]
    .map(str::to_owned)
    .into();
    extra.push(format!("cache_dir={}", dir.join("pytest-cache").display()));
    let mut env = vec![
        (
            "PRODCODE_REPORT".to_owned(),
            dir.join(RESULTS).display().to_string(),
        ),
        ("PY_COLORS".to_owned(), "0".to_owned()),
        ("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()),
        ("PYTHONPATH".to_owned(), python_path(invocation)),
    ];
    if invocation.exact {
        let mut files: Vec<&str> = Vec::new();
        for id in invocation.names {
            let file = id.split("::").next().unwrap_or(id);
            if !files.contains(&file) && invocation.root.join(file).exists() {
                files.push(file);
            }
        }
        if files.is_empty() {
            return None;
        }
        let select = dir.join("select.jsonl");
        let lines: String = invocation
            .names
            .iter()
            .map(|id| format!("{}\n", serde_json::Value::from(id.as_str())))
            .collect();
        let _ = std::fs::write(&select, lines);
        env.push(("PRODCODE_SELECT".to_owned(), select.display().to_string()));
        // After `--`, a file is never read as an option.
        extra.push("--".to_owned());
        extra.extend(files.into_iter().map(str::to_owned));
    } else {
        extra.extend(keyword_arguments(invocation.names));
        if !invocation.targets.is_empty() {
            extra.push("--".to_owned());
            extra.extend(invocation.targets.iter().cloned());
        }
    }
    let mut spec = invocation.spec(extra);
    spec.env.retain(|(key, _)| key != "PYTHONPATH");
    spec.env.extend(env);
    Some(spec)
}

/// The report directory first, then the runner's or prodcode's own `PYTHONPATH`.
fn python_path(invocation: &Invocation) -> String {
    let inherited = invocation
        .runner
        .env
        .iter()
        .find(|(key, _)| key == "PYTHONPATH")
        .map(|(_, value)| value.clone())
        .or_else(|| std::env::var("PYTHONPATH").ok())
        .filter(|value| !value.is_empty());
    let dir = invocation.report_dir.display().to_string();
    match inherited {
        Some(rest) => format!("{dir}:{rest}"),
        None => dir,
    }
}

/// One `-k` expression of the names' last parts selects their union.
fn keyword_arguments(names: &[String]) -> Vec<String> {
    if names.is_empty() {
        return Vec::new();
    }
    let keywords: Vec<&str> = names
        .iter()
        .map(|name| name.rsplit("::").next().unwrap_or(name))
        .collect();
    vec!["-k".to_owned(), keywords.join(" or ")]
}

/// The unittest driver's command: `<python> prodcode_unittest.py REPORT CONFIG`. Names and
/// targets travel in the JSON config, never as arguments.
pub(super) fn unittest_command(invocation: &Invocation) -> CommandSpec {
    let dir = invocation.report_dir;
    let driver = dir.join("prodcode_unittest.py");
    let _ = std::fs::write(&driver, DRIVER);
    let config = if invocation.exact {
        serde_json::json!({ "ids": invocation.names })
    } else {
        serde_json::json!({ "patterns": invocation.names, "targets": invocation.targets })
    };
    let config_path = dir.join("unittest.json");
    let _ = std::fs::write(&config_path, config.to_string());
    let mut spec = invocation.spec(vec![
        driver.display().to_string(),
        dir.join(RESULTS).display().to_string(),
        config_path.display().to_string(),
    ]);
    spec.env
        .push(("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()));
    spec
}

pub(super) fn parse(invocation: &Invocation) -> Vec<TestCase> {
    std::fs::read_to_string(invocation.report_dir.join(RESULTS))
        .map(|text| json_lines::parse(&text))
        .unwrap_or_default()
}

/// pytest stops before collecting when a `conftest.py` does not import.
pub(super) fn build_failure(output: &str) -> Option<String> {
    output
        .lines()
        .find(|line| line.contains("while loading conftest"))
        .map(|line| format!("pytest could not load a conftest.py: {}", line.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keywords() {
        assert!(is_pytest_id("tests/test_x.py::test_p[a b]"));
        assert!(is_pytest_id("t.py::C::m"));
        assert!(!is_pytest_id("test_p"));
        assert!(!is_pytest_id("::x"));
        assert!(!is_pytest_id("t.py::"));
        assert!(is_unittest_id("tests.test_math.TestAdd.test_zero"));
        assert!(is_unittest_id("test_math.TestAdd"));
        assert!(!is_unittest_id("test_zero"));
        assert!(!is_unittest_id("tests..x"));
        assert!(!is_unittest_id("tests.test-x"));
        assert!(!is_unittest_id("tests/test_x.py"));
        assert_eq!(keyword_arguments(&[]), Vec::<String>::new());
        let mixed = ["test_passes".to_owned(), "a.py::test_fails".to_owned()];
        assert_eq!(
            keyword_arguments(&mixed),
            ["-k", "test_passes or test_fails"]
        );
    }
}
