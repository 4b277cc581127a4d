//! JavaScript and TypeScript projects whose `package.json` names jest or vitest (in dependencies,
//! devDependencies or scripts): a JSON result file. The project's own `node_modules/.bin` binary
//! is preferred; else `npx --no`, which never downloads anything.
//!
//! Targets are test files or patterns; names are joined into one `-t` regular expression.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::exec::CommandSpec;
use super::{Invocation, Runner, RunnerKind, TestCase, is_executable, jest_json};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PackageJson {
    dependencies: BTreeMap<String, serde_json::Value>,
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    scripts: BTreeMap<String, serde_json::Value>,
}

pub(super) fn detect(root: &Path) -> Option<Runner> {
    let text = std::fs::read_to_string(root.join("package.json")).ok()?;
    let package: PackageJson = serde_json::from_str(&text).ok()?;
    let names = |tool: &str| {
        package.dependencies.contains_key(tool)
            || package.dev_dependencies.contains_key(tool)
            || package
                .scripts
                .values()
                .any(|script| script.as_str().is_some_and(|script| script.contains(tool)))
    };
    let (kind, tool) = if names("vitest") {
        (RunnerKind::Vitest, "vitest")
    } else if names("jest") {
        (RunnerKind::Jest, "jest")
    } else {
        return None;
    };
    let local = root.join("node_modules/.bin").join(tool);
    let (program, mut args) = if is_executable(&local) {
        (local.display().to_string(), Vec::new())
    } else {
        ("npx".to_owned(), vec!["--no".to_owned(), tool.to_owned()])
    };
    if kind == RunnerKind::Vitest {
        args.push("run".to_owned());
    }
    Some(Runner {
        kind,
        program,
        args,
        env: Vec::new(),
    })
}

fn report_name(kind: &RunnerKind) -> &'static str {
    if *kind == RunnerKind::Vitest {
        "vitest.json"
    } else {
        "jest.json"
    }
}

pub(super) fn command(invocation: &Invocation) -> CommandSpec {
    let report = invocation
        .report_dir
        .join(report_name(&invocation.runner.kind));
    let mut extra = if invocation.runner.kind == RunnerKind::Vitest {
        vec![
            "--reporter=json".to_owned(),
            format!("--outputFile={}", report.display()),
        ]
    } else {
        vec![
            "--json".to_owned(),
            format!("--outputFile={}", report.display()),
        ]
    };
    extra.extend(invocation.targets.iter().cloned());
    if !invocation.names.is_empty() {
        let alternatives: Vec<String> = invocation
            .names
            .iter()
            .map(|name| regex_escape(name))
            .collect();
        extra.extend(["-t".to_owned(), alternatives.join("|")]);
    }
    let mut spec = invocation.spec(extra);
    spec.env.extend([
        ("CI".to_owned(), "true".to_owned()),
        ("FORCE_COLOR".to_owned(), "0".to_owned()),
        ("NO_COLOR".to_owned(), "1".to_owned()),
    ]);
    spec
}

pub(super) fn parse(invocation: &Invocation) -> Vec<TestCase> {
    let report = invocation
        .report_dir
        .join(report_name(&invocation.runner.kind));
    std::fs::read_to_string(report)
        .map(|json| jest_json::parse(&json, invocation.root))
        .unwrap_or_default()
}

fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.*+?()[]{}|/".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
