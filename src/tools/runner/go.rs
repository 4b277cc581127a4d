//! Go modules: `go test -json`. Targets are package patterns (`./...` when there are none); names
//! become one anchored `-run` pattern, level by level for subtests (`TestTable/zero`).

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

pub(super) fn command(invocation: &Invocation) -> CommandSpec {
    let mut extra = Vec::new();
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
