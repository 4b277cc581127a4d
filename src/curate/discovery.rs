//! Which tests a candidate runs: the whole suite when it is small (exact: no related test can be
//! missed), else the tests related to the change, as runner targets:
//! - the test files of the test patch;
//! - test files that import or name a changed module (Python, JavaScript/TypeScript);
//! - the packages holding the changed files (Go packages, Cargo packages);
//! - test files matching `[curate] related` globs, always.
//!
//! Pure: callers pass the file lists and read the contents.

use globset::{Glob, GlobSetBuilder};

use crate::tools::runner::RunnerKind;

/// The tests to run: everything, or these runner targets.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Selection {
    All,
    Targets(Vec<String>),
}

/// What discovery knows of a candidate in its solved state.
pub struct Change<'a> {
    /// Changed non-test files.
    pub solution: &'a [String],
    /// Changed test files.
    pub tests: &'a [String],
    /// Every test file of the work tree, with a way to read it.
    pub all_tests: &'a [String],
    pub read: &'a dyn Fn(&str) -> Option<String>,
    /// `Cargo.toml` files of the work tree.
    pub manifests: &'a [String],
}

/// The related tests of `change` for a runner of `kind`; `All` when the runner takes no file
/// targets this can name (a configured command), or when nothing narrower is safe.
pub fn related(kind: &RunnerKind, change: &Change<'_>, globs: &[String]) -> Selection {
    let always = matching(change.all_tests, globs);
    let targets: Vec<String> = match kind {
        RunnerKind::Pytest | RunnerKind::Jest | RunnerKind::Vitest => {
            let mut files: Vec<String> = change.tests.to_vec();
            files.extend(importers(change, kind));
            files.extend(always);
            files
        }
        RunnerKind::GoTest => change
            .solution
            .iter()
            .chain(change.tests)
            .map(|path| match path.rsplit_once('/') {
                Some((dir, _)) => format!("./{dir}"),
                None => ".".to_owned(),
            })
            .collect(),
        RunnerKind::CargoTest | RunnerKind::CargoNextest => {
            let packages: Vec<String> = change
                .solution
                .iter()
                .chain(change.tests)
                .filter_map(|path| package_of(path, change))
                .collect();
            if packages.is_empty() {
                return Selection::All;
            }
            packages
        }
        _ if kind.name() == "unittest" => {
            let mut files: Vec<String> = change.tests.to_vec();
            files.extend(importers(change, &RunnerKind::Pytest));
            files.extend(always);
            files
        }
        _ => return Selection::All,
    };
    let mut targets = targets;
    targets.sort();
    targets.dedup();
    if targets.is_empty() {
        return Selection::All;
    }
    Selection::Targets(targets)
}

fn matching(paths: &[String], globs: &[String]) -> Vec<String> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs.iter().filter_map(|glob| Glob::new(glob).ok()) {
        builder.add(glob);
    }
    let Ok(set) = builder.build() else {
        return Vec::new();
    };
    paths
        .iter()
        .filter(|path| set.is_match(path.as_str()))
        .cloned()
        .collect()
}

/// Test files that import or name a changed module.
fn importers(change: &Change<'_>, kind: &RunnerKind) -> Vec<String> {
    let python = matches!(kind, RunnerKind::Pytest);
    let names: Vec<(String, String)> = change
        .solution
        .iter()
        .filter_map(|path| module_names(path, python))
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    change
        .all_tests
        .iter()
        .filter(|test| !change.tests.contains(test))
        .filter(|test| {
            let Some(text) = (change.read)(test) else {
                return false;
            };
            names.iter().any(|(qualified, stem)| {
                text.contains(qualified.as_str())
                    || text.lines().any(|line| {
                        let line = line.trim_start();
                        let imports = line.starts_with("import ")
                            || line.starts_with("from ")
                            || line.contains("require(");
                        imports && has_word(line, stem)
                    })
            })
        })
        .cloned()
        .collect()
}

/// A changed source file's qualified module name (`pkg.sub.mod`, or the path without its
/// extension for JavaScript) and its last part.
fn module_names(path: &str, python: bool) -> Option<(String, String)> {
    let (stem, extension) = path.rsplit_once('.')?;
    let source = if python {
        extension == "py"
    } else {
        matches!(
            extension,
            "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "mts" | "cts"
        )
    };
    if !source {
        return None;
    }
    let stem = stem.strip_prefix("src/").unwrap_or(stem);
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    let stem = stem.strip_suffix("/index").unwrap_or(stem);
    let last = stem.rsplit('/').next().unwrap_or(stem).to_owned();
    let qualified = if python {
        stem.replace('/', ".")
    } else {
        stem.to_owned()
    };
    Some((qualified, last))
}

fn has_word(line: &str, word: &str) -> bool {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|part| part == word)
}

/// The Cargo package holding `path`: the name in the nearest `Cargo.toml` above it that has a
/// `[package]`. A repository with a single package gives `None` (the whole suite is the
/// package's).
fn package_of(path: &str, change: &Change<'_>) -> Option<String> {
    let packages: Vec<&String> = change
        .manifests
        .iter()
        .filter(|manifest| (change.read)(manifest).is_some_and(|text| text.contains("[package]")))
        .collect();
    if packages.len() < 2 {
        return None;
    }
    let mut dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    loop {
        let manifest = if dir.is_empty() {
            "Cargo.toml".to_owned()
        } else {
            format!("{dir}/Cargo.toml")
        };
        if packages.iter().any(|found| **found == manifest) {
            let text = (change.read)(&manifest)?;
            return package_name(&text);
        }
        if dir.is_empty() {
            return None;
        }
        dir = dir.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
}

fn package_name(manifest: &str) -> Option<String> {
    let value: toml::Value = toml::from_str(manifest).ok()?;
    value
        .get("package")?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|path| (*path).to_owned()).collect()
    }

    #[test]
    fn python_tests_that_import_the_changed_module_are_related() {
        let solution = files(&["src/shop/cart.py", "README.md"]);
        let tests = files(&["tests/test_new.py"]);
        let all = files(&[
            "tests/test_new.py",
            "tests/test_cart.py",
            "tests/test_other.py",
            "tests/test_dotted.py",
            "tests/slow/test_e2e.py",
        ]);
        let read = |path: &str| -> Option<String> {
            Some(
                match path {
                    "tests/test_cart.py" => "from shop import cart\n",
                    "tests/test_dotted.py" => "import shop.cart as c\n",
                    "tests/test_other.py" => "# a cart of things\nimport shop.other\n",
                    _ => "",
                }
                .to_owned(),
            )
        };
        let change = Change {
            solution: &solution,
            tests: &tests,
            all_tests: &all,
            read: &read,
            manifests: &[],
        };
        assert_eq!(
            related(&RunnerKind::Pytest, &change, &["tests/slow/**".to_owned()]),
            Selection::Targets(files(&[
                "tests/slow/test_e2e.py",
                "tests/test_cart.py",
                "tests/test_dotted.py",
                "tests/test_new.py",
            ]))
        );
        // A configured command takes no targets this knows: the whole suite.
        let configured = RunnerKind::Configured {
            shell: false,
            format: crate::tools::runner::ReportFormat::ExitCode,
            report: None,
        };
        assert_eq!(related(&configured, &change, &[]), Selection::All);
    }

    #[test]
    fn go_packages_and_cargo_packages_of_the_change() {
        let solution = files(&["calc/add.go", "main.go"]);
        let tests = files(&["calc/add_test.go"]);
        let read = |_: &str| None;
        let change = Change {
            solution: &solution,
            tests: &tests,
            all_tests: &[],
            read: &read,
            manifests: &[],
        };
        assert_eq!(
            related(&RunnerKind::GoTest, &change, &[]),
            Selection::Targets(files(&[".", "./calc"]))
        );

        let solution = files(&["crates/a/src/lib.rs"]);
        let manifests = files(&["Cargo.toml", "crates/a/Cargo.toml", "crates/b/Cargo.toml"]);
        let read = |path: &str| -> Option<String> {
            Some(
                match path {
                    "Cargo.toml" => "[workspace]\nmembers = [\"crates/*\"]\n",
                    "crates/a/Cargo.toml" => "[package]\nname = \"alpha\"\n",
                    "crates/b/Cargo.toml" => "[package]\nname = \"beta\"\n",
                    _ => return None,
                }
                .to_owned(),
            )
        };
        let change = Change {
            solution: &solution,
            tests: &[],
            all_tests: &[],
            read: &read,
            manifests: &manifests,
        };
        assert_eq!(
            related(&RunnerKind::CargoTest, &change, &[]),
            Selection::Targets(files(&["alpha"]))
        );
        // One package: its whole suite.
        let manifests = files(&["crates/a/Cargo.toml"]);
        let change = Change {
            manifests: &manifests,
            ..change
        };
        assert_eq!(
            related(&RunnerKind::CargoTest, &change, &[]),
            Selection::All
        );
    }
}
