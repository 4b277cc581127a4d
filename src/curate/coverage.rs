//! Tests that execute the changed lines, from coverage.py's per-test contexts: for Python
//! projects whose interpreter has `coverage`, the suite runs once under
//! `coverage run` with `dynamic_context = test_function`, and `coverage json --show-contexts`
//! says which tests ran each line. A change's related tests then include every test file whose
//! tests ran one of the lines the solution adds.
//!
//! The map is made once per curation run, in a work tree at the head of main: with a rolling
//! base a candidate's solved state is the head itself, so line numbers agree.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use crate::tools::exec::{self, CommandSpec};
use crate::tools::runner::{Runner, RunnerKind};

/// Which tests ran each line: file (repository path) → line → test contexts
/// (`tests.test_core.TestCore.test_words`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CoverageMap {
    lines: HashMap<String, HashMap<u32, Vec<String>>>,
}

impl CoverageMap {
    /// The test files (of `test_files`) whose tests ran any of `changed`'s lines.
    pub fn test_files_covering(
        &self,
        changed: &[(String, Vec<u32>)],
        test_files: &[String],
    ) -> Vec<String> {
        let mut contexts: BTreeSet<&str> = BTreeSet::new();
        for (path, lines) in changed {
            let Some(by_line) = self.lines.get(path) else {
                continue;
            };
            for line in lines {
                if let Some(found) = by_line.get(line) {
                    contexts.extend(found.iter().map(String::as_str));
                }
            }
        }
        test_files
            .iter()
            .filter(|file| {
                let Some(module) = file.strip_suffix(".py") else {
                    return false;
                };
                // A test module's name depends on how it was imported: `tests.test_api` in a
                // package, `test_api` from a `tests/` directory without `__init__.py`.
                let parts: Vec<&str> = module.split('/').collect();
                (0..parts.len()).any(|skip| {
                    let prefix = format!("{}.", parts[skip..].join("."));
                    contexts.iter().any(|context| context.starts_with(&prefix))
                })
            })
            .cloned()
            .collect()
    }
}

/// The map from `coverage json --show-contexts` output; lines run outside any test (imports,
/// module bodies: the empty context) are left out.
pub fn parse(json: &str) -> CoverageMap {
    let mut map = CoverageMap::default();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return map;
    };
    let Some(files) = value.get("files").and_then(|files| files.as_object()) else {
        return map;
    };
    for (path, file) in files {
        let Some(contexts) = file.get("contexts").and_then(|c| c.as_object()) else {
            continue;
        };
        let by_line = map.lines.entry(path.replace('\\', "/")).or_default();
        for (line, names) in contexts {
            let Ok(line) = line.parse::<u32>() else {
                continue;
            };
            let names: Vec<String> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str())
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect();
            if !names.is_empty() {
                by_line.insert(line, names);
            }
        }
    }
    map
}

/// The lines a unified diff adds, by file, numbered in the new version; a hunk that only
/// removes lines gives the line where they were.
pub fn changed_lines(patch: &str) -> Vec<(String, Vec<u32>)> {
    let mut files: Vec<(String, Vec<u32>)> = Vec::new();
    let mut next: Option<u32> = None;
    let mut hunk_start = 0;
    let mut hunk_added = false;
    let close_hunk = |files: &mut Vec<(String, Vec<u32>)>, start: u32, added: bool| {
        if !added && let Some((_, lines)) = files.last_mut() {
            lines.push(start.max(1));
        }
    };
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            if next.is_some() {
                close_hunk(&mut files, hunk_start, hunk_added);
            }
            next = None;
            let path = rest.rsplit_once(" b/").map_or(rest, |(_, path)| path);
            files.push((path.to_owned(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            if next.is_some() {
                close_hunk(&mut files, hunk_start, hunk_added);
            }
            // `@@ -a,b +c,d @@`
            let start = rest
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|part| part.split(',').next())
                .and_then(|number| number.parse::<u32>().ok())
                .unwrap_or(1);
            next = Some(start);
            hunk_start = start;
            hunk_added = false;
        } else if let Some(at) = next.as_mut() {
            if line.starts_with('+') {
                if let Some((_, lines)) = files.last_mut() {
                    lines.push(*at);
                }
                hunk_added = true;
                *at += 1;
            } else if line.starts_with(' ') {
                *at += 1;
            }
        }
    }
    if next.is_some() {
        close_hunk(&mut files, hunk_start, hunk_added);
    }
    files.retain(|(_, lines)| !lines.is_empty());
    files
}

/// Runs the suite at `root` under coverage.py with per-test contexts; `None` when the runner is
/// not a Python one, its interpreter lacks coverage, or the run fails.
pub fn measure(root: &Path, runner: &Runner, timeout: Duration) -> Option<CoverageMap> {
    let python = python_of(runner)?;
    let probe = CommandSpec::new(&python, &["-c", "import coverage"], root.to_path_buf());
    if !exec::run(&probe, Duration::from_secs(30), 4096).is_ok_and(|run| run.success()) {
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("prodcode-coverage-")
        .tempdir()
        .ok()?;
    let rc = dir.path().join("coveragerc");
    let data = dir.path().join("coverage.data");
    let report = dir.path().join("coverage.json");
    std::fs::write(
        &rc,
        format!(
            "[run]\ndynamic_context = test_function\ndata_file = {}\n",
            data.display()
        ),
    )
    .ok()?;
    let rc_arg = format!("--rcfile={}", rc.display());
    let mut args = vec!["-m", "coverage", "run", &rc_arg, "-m"];
    if runner.kind == RunnerKind::Pytest {
        args.extend(["pytest", "-q", "-p", "no:cacheprovider", "--maxfail=0"]);
    } else {
        args.extend(["unittest", "discover", "-s", ".", "-t", "."]);
    }
    let mut run = CommandSpec::new(&python, &args, root.to_path_buf());
    run.env = runner.env.clone();
    run.env
        .push(("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()));
    let execution = exec::run(&run, timeout, 1 << 20).ok()?;
    if execution.timed_out {
        return None;
    }
    let report_arg = format!("-o{}", report.display());
    let json = CommandSpec::new(
        &python,
        &[
            "-m",
            "coverage",
            "json",
            &rc_arg,
            "--show-contexts",
            "-q",
            &report_arg,
        ],
        root.to_path_buf(),
    );
    exec::run(&json, Duration::from_secs(120), 1 << 20)
        .ok()
        .filter(|run| run.success())?;
    Some(parse(&std::fs::read_to_string(&report).ok()?))
}

/// The interpreter a Python runner uses: the program itself (`python -m pytest`, the unittest
/// driver), or the `python` next to a `pytest` script.
fn python_of(runner: &Runner) -> Option<String> {
    if !matches!(runner.kind, RunnerKind::Pytest | RunnerKind::Unittest) {
        return None;
    }
    let program = Path::new(&runner.program);
    if program
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("pytest"))
    {
        let sibling = program.with_file_name("python");
        return Some(if sibling.is_file() {
            sibling.display().to_string()
        } else {
            "python3".to_owned()
        });
    }
    Some(runner.program.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_are_numbered_in_the_new_version() {
        let patch = "diff --git a/pkg/m.py b/pkg/m.py\n--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,3 +1,4 @@\n def a():\n-    return 1\n+    return 2\n+    # two\n \n@@ -10,2 +11,1 @@\n x = 1\n-y = 2\ndiff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1 +1 @@\n-a\n+b\n";
        assert_eq!(
            changed_lines(patch),
            [
                ("pkg/m.py".to_owned(), vec![2, 3, 11]),
                ("README".to_owned(), vec![1]),
            ]
        );
        assert!(changed_lines("").is_empty());
    }

    #[test]
    fn contexts_name_the_test_files_that_ran_a_line() {
        let json = r#"{"files": {"pkg/m.py": {"contexts": {"1": [""], "2": ["tests.test_a.T.test_a"], "5": ["tests.test_b.test_b", "tests.sub.test_c.test_c"], "7": ["test_d.test_d"]}}}}"#;
        let map = parse(json);
        let tests = [
            "tests/test_a.py".to_owned(),
            "tests/test_b.py".to_owned(),
            "tests/sub/test_c.py".to_owned(),
            "tests/test_ab.py".to_owned(),
            "tests/test_d.py".to_owned(),
        ];
        assert_eq!(
            map.test_files_covering(&[("pkg/m.py".to_owned(), vec![1, 2])], &tests),
            ["tests/test_a.py"]
        );
        assert_eq!(
            map.test_files_covering(&[("pkg/m.py".to_owned(), vec![5])], &tests),
            ["tests/test_b.py", "tests/sub/test_c.py"]
        );
        assert_eq!(
            map.test_files_covering(&[("pkg/m.py".to_owned(), vec![7])], &tests),
            ["tests/test_d.py"]
        );
        assert!(
            map.test_files_covering(&[("other.py".to_owned(), vec![2])], &tests)
                .is_empty()
        );
        assert_eq!(parse("not json"), CoverageMap::default());
    }
}
