//! Go modules: `go test -json -count=1` (`-count=1` so that cached results never stand in for a
//! run). Targets are package patterns (`./...` when there are none); names become one anchored
//! `-run` pattern, level by level for subtests (`TestTable/zero`).
//!
//! Ids are the package's import path, a space, then the test (`example.com/calc TestTable/zero`).
//! Exact ids run their packages with the union of their test names; the other tests that pattern
//! matches are dropped from the answer.

use super::exec::CommandSpec;
use super::{Invocation, Runner, RunnerKind};

pub(super) fn detect() -> Runner {
    Runner {
        kind: RunnerKind::GoTest,
        program: "go".to_owned(),
        args: vec!["test".to_owned(), "-json".to_owned()],
        env: Vec::new(),
    }
}

/// A Go test id: an import path, one space, a test name (no spaces in either).
pub(super) fn is_test_id(text: &str) -> bool {
    text.split_once(' ').is_some_and(|(package, test)| {
        !package.is_empty() && !test.is_empty() && !test.contains(char::is_whitespace)
    })
}

pub(super) fn command(invocation: &Invocation) -> CommandSpec {
    let mut extra = Vec::new();
    if !invocation
        .runner
        .args
        .iter()
        .any(|arg| arg.starts_with("-count"))
    {
        extra.push("-count=1".to_owned());
    }
    if invocation.exact {
        let mut packages: Vec<String> = Vec::new();
        let mut tests: Vec<String> = Vec::new();
        for (package, test) in invocation.names.iter().filter_map(|id| id.split_once(' ')) {
            if !packages.iter().any(|known| known == package) {
                packages.push(package.to_owned());
            }
            tests.push(test.to_owned());
        }
        if let Some(pattern) = run_pattern(&tests) {
            extra.extend(["-run".to_owned(), pattern]);
        }
        extra.extend(packages);
        return invocation.spec(extra);
    }
    if let Some(pattern) = run_pattern(invocation.names) {
        extra.extend(["-run".to_owned(), pattern]);
    }
    if invocation.targets.is_empty() {
        extra.push("./...".to_owned());
    } else {
        extra.extend(invocation.targets.iter().cloned());
    }
    invocation.spec(extra)
}

/// `^(?:TestA|TestB)$`, with one such element per `/`-separated subtest level.
fn run_pattern(names: &[String]) -> Option<String> {
    let depth = names.iter().map(|name| name.split('/').count()).max()?;
    let levels: Vec<String> = (0..depth)
        .map(|level| {
            let mut alternatives: Vec<String> = names
                .iter()
                .filter_map(|name| name.split('/').nth(level))
                .map(regex_escape)
                .collect();
            alternatives.dedup();
            format!("^(?:{})$", alternatives.join("|"))
        })
        .collect();
    Some(levels.join("/"))
}

fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_a_package_and_a_test() {
        assert!(is_test_id("example.com/calc TestTable/zero"));
        assert!(!is_test_id("TestAdd"));
        assert!(!is_test_id("example.com/calc "));
        assert!(!is_test_id("example.com/calc Test Add"));
    }

    #[test]
    fn names_become_an_anchored_pattern_per_level() {
        assert_eq!(run_pattern(&[]), None);
        let names = ["TestAdd".to_owned(), "TestTable/zero".to_owned()];
        assert_eq!(
            run_pattern(&names).as_deref(),
            Some("^(?:TestAdd|TestTable)$/^(?:zero)$")
        );
        assert_eq!(
            run_pattern(&["Test.x".to_owned()]).as_deref(),
            Some("^(?:Test\\.x)$")
        );
    }
}
