//! Which files of a change are tests (the test patch) and which are the solution: by path, per
//! language, then by content, then the project's `[curate] test_globs`.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// The test-file rules of one project.
pub struct TestFiles {
    globs: GlobSet,
}

impl TestFiles {
    /// The built-in rules plus `extra` globs (matched against `/`-separated repository paths).
    pub fn new(extra: &[String]) -> Result<TestFiles, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in extra {
            let glob = Glob::new(pattern).map_err(|error| {
                format!("[curate] test_globs: {pattern:?} is not a glob: {error}")
            })?;
            builder.add(glob);
        }
        let globs = builder.build().map_err(|error| error.to_string())?;
        Ok(TestFiles { globs })
    }

    /// Whether `path` is a test file with code in it (not test data): what a runner can be
    /// pointed at.
    pub fn is_test_code(&self, path: &str) -> bool {
        let extension = path.rsplit_once('.').map_or("", |(_, extension)| extension);
        CODE_EXTENSIONS.contains(&extension) && self.is_test(path, None)
    }

    /// Whether `path` (with `content`, when it exists in the new version) is a test file.
    pub fn is_test(&self, path: &str, content: Option<&str>) -> bool {
        by_path(path)
            || content.is_some_and(|text| by_content(path, text))
            || self.globs.is_match(path)
    }
}

/// Source files a test runner loads.
const CODE_EXTENSIONS: [&str; 19] = [
    "rs", "py", "go", "js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts", "java", "kt", "scala",
    "rb", "c", "cc", "cpp", "cs",
];

fn by_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let directories: Vec<&str> = path.split('/').rev().skip(1).collect();
    let in_dir = |names: &[&str]| directories.iter().any(|dir| names.contains(dir));
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    // Test data and fixtures (`tests/data/valid/x.toml`, Go's `testdata/`) go with the tests
    // that read them, whatever their extension; Rust sources under `src/` stay with the code.
    let test_dirs = ["tests", "test", "testdata", "__tests__", "spec"];
    if extension != "rs" && in_dir(&test_dirs) {
        return true;
    }
    match extension {
        // Integration tests and their shared modules; unit tests inside `src/` stay with the
        // code (a `#[cfg(test)]` module is in the solution, and its tests are missing before).
        "rs" => in_dir(&["tests"]) && !in_dir(&["src"]),
        "py" => {
            stem.starts_with("test_")
                || stem.ends_with("_test")
                || stem == "conftest"
                || in_dir(&["tests", "test", "testing"])
        }
        "go" => stem.ends_with("_test"),
        "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "mts" | "cts" => {
            stem.ends_with(".test")
                || stem.ends_with(".spec")
                || in_dir(&["__tests__", "__mocks__", "test", "tests"])
        }
        "java" | "kt" | "scala" => {
            path.contains("src/test/") || stem.ends_with("Test") || stem.ends_with("Tests")
        }
        "rb" => stem.ends_with("_spec") || stem.ends_with("_test") || in_dir(&["spec", "test"]),
        "c" | "cc" | "cpp" | "h" | "hpp" => {
            stem.starts_with("test_") || stem.ends_with("_test") || in_dir(&["tests", "test"])
        }
        _ => false,
    }
}

/// A Python module that defines tests outside the usual names (`checks.py` with
/// `unittest.TestCase` classes).
fn by_content(path: &str, text: &str) -> bool {
    if path.ends_with(".py") {
        return text.contains("unittest.TestCase")
            || text.lines().any(|line| {
                let line = line.trim_start();
                line.starts_with("import pytest") || line.starts_with("from pytest ")
            });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_by_language() {
        let files = TestFiles::new(&["qa/**".to_owned()]).unwrap();
        let tests = [
            "tests/a.rs",
            "crates/x/tests/common/mod.rs",
            "tests/test_math.py",
            "pkg/util_test.py",
            "conftest.py",
            "calc/add_test.go",
            "src/app.test.ts",
            "web/__tests__/x.js",
            "src/test/java/a/FooTest.java",
            "qa/run.sh",
            "tests/data/valid/strings.toml",
            "calc/testdata/input.json",
        ];
        for path in tests {
            assert!(files.is_test(path, None), "{path}");
        }
        let solution = [
            "src/lib.rs",
            "src/tests.rs",
            "calc/add.go",
            "mathlib/core.py",
            "src/app.ts",
            "README.md",
        ];
        for path in solution {
            assert!(!files.is_test(path, None), "{path}");
        }
        assert!(files.is_test(
            "checks.py",
            Some("import unittest\nclass T(unittest.TestCase): pass\n")
        ));
        assert!(!files.is_test("core.py", Some("import os\n")));
        assert!(TestFiles::new(&["[".to_owned()]).is_err());
        assert!(files.is_test_code("tests/test_x.py"));
        assert!(!files.is_test_code("tests/data/valid/strings.toml"));
        assert!(!files.is_test_code("src/lib.rs"));
    }
}
