//! Checks that keep the docs and the code in step, run as ordinary tests.

use std::path::Path;

use prodcode::lsp::ext::{METHODS, MethodKind};

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn lsp_extensions_doc_matches_the_code() {
    let doc = read("docs/lsp-extensions.md");
    let documented: Vec<(String, String)> = doc
        .lines()
        .filter_map(|line| line.strip_prefix("## `"))
        .filter_map(|rest| rest.split_once("` ("))
        .map(|(method, kind)| (method.to_owned(), kind.trim_end_matches(')').to_owned()))
        .collect();
    let coded: Vec<(String, String)> = METHODS
        .iter()
        .map(|(method, kind)| {
            let kind = match kind {
                MethodKind::Notification => "notification",
                MethodKind::Request => "request",
            };
            ((*method).to_owned(), kind.to_owned())
        })
        .collect();
    assert_eq!(
        documented, coded,
        "docs/lsp-extensions.md and src/lsp/ext.rs disagree"
    );
}

#[test]
fn every_module_says_what_it_owns() {
    let mut missing = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.trim_start().starts_with("//!") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a module doc: {missing:?}"
    );
}

#[test]
fn every_module_is_in_the_architecture_doc() {
    let doc = read("docs/ARCHITECTURE.md");
    for module in [
        "model",
        "clock",
        "attribution",
        "store",
        "git",
        "lsp",
        "cli",
        "reattach",
        "demo",
        "capture",
        "config",
        "link",
        "tools",
        "mcp",
        "curate",
    ] {
        assert!(
            doc.contains(&format!("### `{module}`")),
            "docs/ARCHITECTURE.md lacks `{module}`"
        );
    }
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme = read("README.md");
    let first_block: String = readme
        .split("```")
        .nth(1)
        .expect("README.md has no code block")
        .to_owned();
    assert!(first_block.contains("prodcode demo"), "{first_block}");
    let ci = read(".ci/run");
    let test_command = readme
        .split("```")
        .nth(3)
        .expect("README.md has no second code block")
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("cargo test") || line.starts_with("bash .ci/run"))
        .expect("the second block holds the test command")
        .to_owned();
    assert!(
        test_command.starts_with("bash .ci/run") || ci.contains(&test_command),
        ".ci/run does not run the README's test command {test_command:?}"
    );
}

#[test]
fn every_tool_is_documented() {
    let doc = read("docs/tools.md");
    let headings: Vec<&str> = doc
        .lines()
        .filter(|line| line.starts_with("### "))
        .collect();
    let documented: Vec<&str> = headings
        .iter()
        .flat_map(|heading| heading.split('`').skip(1).step_by(2))
        .collect();
    let tools: Vec<&str> = prodcode::tools::toolbox::specs()
        .iter()
        .map(|spec| spec.name)
        .collect();
    assert_eq!(
        documented, tools,
        "docs/tools.md and tools::schemas disagree (same order)"
    );
    let lsp = read("docs/lsp-extensions.md");
    assert!(
        lsp.contains("`prodcode.<tool>`"),
        "docs/lsp-extensions.md lacks the tool commands"
    );
}
