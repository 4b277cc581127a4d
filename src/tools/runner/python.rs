//! Python projects: pytest, with a JUnit XML report. The interpreter is the workspace's
//! `.venv/bin/python` when there is one (so the project's own pytest and packages are used), else
//! `pytest` on `PATH`, else `python3 -m pytest`.
//!
//! Targets are paths or node ids. Names are node ids (`tests/test_x.py::test_y`) or test names;
//! see [`name_arguments`].

use std::path::Path;

use super::exec::CommandSpec;
use super::junit::{self, IdStyle};
use super::{Invocation, Runner, RunnerKind, TestCase, find_on_path, is_executable};

const MARKERS: [&str; 5] = [
    "pyproject.toml",
    "setup.cfg",
    "pytest.ini",
    "tox.ini",
    "conftest.py",
];

pub(super) fn detect(root: &Path) -> Option<Runner> {
    if !MARKERS.iter().any(|marker| root.join(marker).is_file()) {
        return None;
    }
    let module = |program: String| Runner {
        kind: RunnerKind::Pytest,
        program,
        args: vec!["-m".to_owned(), "pytest".to_owned()],
        env: Vec::new(),
    };
    let venv = root.join(".venv/bin/python");
    if is_executable(&venv) {
        return Some(module(venv.display().to_string()));
    }
    if let Some(pytest) = find_on_path("pytest") {
        return Some(Runner {
            kind: RunnerKind::Pytest,
            program: pytest.display().to_string(),
            args: Vec::new(),
            env: Vec::new(),
        });
    }
    Some(module("python3".to_owned()))
}

pub(super) fn command(invocation: &Invocation) -> CommandSpec {
    let report = invocation.report_dir.join("pytest.xml");
    let mut extra = vec![format!("--junitxml={}", report.display())];
    extra.extend(invocation.targets.iter().cloned());
    extra.extend(name_arguments(invocation.names));
    let mut spec = invocation.spec(extra);
    spec.env.push(("PY_COLORS".to_owned(), "0".to_owned()));
    spec
}

/// Node ids select by position when every name is one; otherwise one `-k` expression of the
/// names' last parts selects their union (a node id and a `-k` together would intersect).
fn name_arguments(names: &[String]) -> Vec<String> {
    if names.is_empty() {
        return Vec::new();
    }
    if names.iter().all(|name| name.contains("::")) {
        return names.to_vec();
    }
    let keywords: Vec<&str> = names
        .iter()
        .map(|name| name.rsplit("::").next().unwrap_or(name))
        .collect();
    vec!["-k".to_owned(), keywords.join(" or ")]
}

pub(super) fn parse(invocation: &Invocation) -> Vec<TestCase> {
    std::fs::read_to_string(invocation.report_dir.join("pytest.xml"))
        .map(|xml| junit::parse(&xml, IdStyle::Pytest))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_select_a_union() {
        assert_eq!(name_arguments(&[]), Vec::<String>::new());
        let ids = ["a.py::t1".to_owned(), "b.py::C::t2".to_owned()];
        assert_eq!(name_arguments(&ids), ids);
        let mixed = ["test_passes".to_owned(), "a.py::test_fails".to_owned()];
        assert_eq!(name_arguments(&mixed), ["-k", "test_passes or test_fails"]);
    }
}
