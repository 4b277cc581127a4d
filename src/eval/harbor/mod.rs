//! `prodcode export harbor`: each curated task as a Harbor task directory (harborframework.com,
//! the Laude Institute's successor of Terminal-Bench), so a team runs thousands of trials on
//! Harbor's backends (Docker, Modal, Daytona, Kubernetes) without prodcode or the repository.
//!
//! ```text
//! OUT/<task>/task.toml            metadata, timeouts
//! OUT/<task>/instruction.md       the prompt, verbatim
//! OUT/<task>/environment/         Dockerfile + repo.tar (the base tree, `git archive`)
//! OUT/<task>/tests/test.sh        runs grade.py: test files put back, test.patch, exact F2P/P2P
//! OUT/<task>/solution/solve.sh    applies solution.patch (the `gold` agent)
//! ```
//!
//! The base travels as a tarball of its tree, made by `git archive` in a scratch clone where
//! `eval` builds bases (so a rolling base, which exists only there, exports the same way), and
//! the Dockerfile commits it as the one commit of a new repository, as `eval`'s sealed workspaces.
//! The verifier grades as `eval` does, as far as a script in the container can: the base's test
//! files and test infrastructure (their contents ship in `tests/base/`, which the agent never
//! sees: Harbor uploads `tests/` after the agent's turn) are put back, planted infrastructure is
//! deleted, and the tests are selected as prodcode's runner selects them, so an id selects
//! exactly the test curation checked: pytest and unittest through prodcode's own plugin and
//! driver, cargo by test binary (`--lib`, `--test NAME`, `--bin NAME`) and `--exact` path, Go by
//! package and an anchored `-run` pattern. Runners whose ids are not exact (jest, vitest, a
//! configured command) are not exported: a grader that selects tests differently would be a
//! wrong grader, so such tasks are skipped and named.
//!
//! Each language has a default Dockerfile (`Dockerfile.python`, `.rust`, `.go`); the Rust and Go
//! ones fetch dependencies and build the base's tests at image build time, as root, so the
//! verifier runs offline with caches the agent cannot write.
//!
//! Invariants: the developer's repository is only read (bases are built in `git::Scratch`
//! clones under the cache directory); each task directory is written beside its final place and
//! renamed over it, so an interrupted export leaves whole directories only.

use std::path::{Path, PathBuf};

use globset::Glob;
use serde::{Deserialize, Serialize};

use super::{ContextFiles, EvalError, build_base};
use crate::curate::task::Task;
use crate::git::Scratch;

const TEST_SH: &str = include_str!("test.sh");
const SOLVE_SH: &str = include_str!("solve.sh");
const GRADE_PY: &str = include_str!("grade.py");
const DOCKERFILE_PYTHON: &str = include_str!("Dockerfile.python");
const DOCKERFILE_RUST: &str = include_str!("Dockerfile.rust");
const DOCKERFILE_GO: &str = include_str!("Dockerfile.go");

/// The runners whose tests the exported verifier selects exactly.
const RUNNERS: &[&str] = &[
    "pytest",
    "unittest",
    "cargo-test",
    "cargo-nextest",
    "go-test",
];

/// Curation's test-file rules by path (`curate::split`), as Python regular expressions: a file
/// not in the base that one matches was planted and is deleted before grading, as `eval`
/// restores it. The unit test below checks them against `TestFiles::is_test` path by path.
const TEST_FILE_REGEXES: &[&str] = &[
    // Anything but Rust in a test directory (test data, fixtures, Go's testdata).
    r"^(?!.*\.rs$)(?:[^/]+/)*(?:tests|test|testdata|__tests__|spec)/[^/]",
    // Rust integration tests and their modules, never under `src/` (unit test modules there
    // belong to the solution).
    r"^(?!(?:.*/)?src/)(?:[^/]+/)*tests/(?:[^/]+/)*[^/]*\.rs$",
    r"(?:^|/)(?:test_[^/]*|[^/]*_test|conftest)\.py$",
    r"^(?:[^/]+/)*testing/(?:[^/]+/)*[^/]*\.py$",
    r"(?:^|/)[^/]*_test\.go$",
    r"(?:^|/)[^/]*\.(?:test|spec)\.(?:js|jsx|ts|tsx|mjs|cjs|mts|cts)$",
    r"^(?:[^/]+/)*__mocks__/(?:[^/]+/)*[^/]*\.(?:js|jsx|ts|tsx|mjs|cjs|mts|cts)$",
    r"src/test/(?:[^/]+/)*[^/]*\.(?:java|kt|scala)$",
    r"(?:^|/)[^/]*Tests?\.(?:java|kt|scala)$",
    r"(?:^|/)[^/]*_(?:spec|test)\.rb$",
    r"(?:^|/)(?:test_[^/]*|[^/]*_test)\.(?:c|cc|cpp|h|hpp)$",
];

/// The language families the verifier grades, each with its default Dockerfile.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Python,
    Rust,
    Go,
}

impl Family {
    fn of(runner: &str) -> Option<Family> {
        match runner {
            "pytest" | "unittest" => Some(Family::Python),
            "cargo-test" | "cargo-nextest" => Some(Family::Rust),
            "go-test" => Some(Family::Go),
            _ => None,
        }
    }
}

/// `[export.harbor]` in `prodcode.toml`.
///
/// ```toml
/// [export.harbor]
/// image = "python:3.11-slim"        # the default Dockerfile's base image
/// dockerfile = "ci/harbor.Dockerfile"   # or a whole Dockerfile of the project's (ADD repo.tar /app/)
/// cpus = 2
/// memory_mb = 4096
/// ```
#[derive(Clone, PartialEq, Debug, Default, Deserialize)]
#[serde(default)]
pub struct HarborConfig {
    pub image: Option<String>,
    /// A Dockerfile, relative to the repository's root, used instead of the default one.
    pub dockerfile: Option<String>,
    pub cpus: Option<u32>,
    pub memory_mb: Option<u64>,
}

/// `[export]` in `prodcode.toml`.
#[derive(Clone, PartialEq, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportConfig {
    pub harbor: HarborConfig,
}

/// The default Dockerfile's base image for Python tasks.
pub const DEFAULT_IMAGE: &str = "python:3.12-slim";

/// The default image for Rust tasks, unless the base's `rust-toolchain(.toml)` names a version.
pub const DEFAULT_RUST_IMAGE: &str = "rust:1.90-slim";

/// The default image for Go tasks, unless the base's `go.mod` asks for a newer Go.
pub const DEFAULT_GO_IMAGE: &str = "golang:1.23";
const DEFAULT_GO_VERSION: &str = "1.23";

pub struct Options {
    /// A `prodcode curate` output directory (or its `tasks/`).
    pub tasks: PathBuf,
    pub out: PathBuf,
    /// Only these task ids (all when empty).
    pub only: Vec<String>,
    /// prodcode's cache directory (scratch clones).
    pub cache: PathBuf,
}

/// What an export did.
#[derive(Clone, PartialEq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub out: String,
    pub exported: Vec<Exported>,
    pub skipped: Vec<Skipped>,
}

#[derive(Clone, PartialEq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    pub instance_id: String,
    pub dir: String,
}

#[derive(Clone, PartialEq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub instance_id: String,
    pub reason: String,
}

/// `tests/config.json`: what `grade.py` needs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifierConfig<'a> {
    instance_id: &'a str,
    runner: &'a str,
    fail_to_pass: &'a [String],
    pass_to_pass: &'a [String],
    test_timeout_s: u64,
    /// Base files put back before grading (contents in `tests/base/`).
    restore: Vec<RestoreEntry>,
    /// Every file of the base: others that match `infra_regexes` were planted and are deleted.
    base_files: Vec<&'a str>,
    infra_regexes: Vec<String>,
}

#[derive(Serialize)]
struct RestoreEntry {
    path: String,
    executable: bool,
}

/// Writes every task of `options.tasks` (runner permitting) under `options.out`.
pub fn export(options: &Options) -> Result<Summary, EvalError> {
    let mut tasks = super::load_tasks(&options.tasks)?;
    if !options.only.is_empty() {
        let unknown: Vec<&str> = options
            .only
            .iter()
            .filter(|id| !tasks.iter().any(|task| &task.instance_id == *id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(EvalError::Invalid(format!(
                "no task {}: see {}",
                unknown.join(", "),
                options.tasks.display()
            )));
        }
        tasks.retain(|task| options.only.contains(&task.instance_id));
    }
    std::fs::create_dir_all(&options.out).map_err(|source| EvalError::Write {
        path: options.out.clone(),
        source,
    })?;
    let mut summary = Summary {
        out: options.out.display().to_string(),
        exported: Vec::new(),
        skipped: Vec::new(),
    };
    let mut scratches: std::collections::HashMap<PathBuf, Scratch> = Default::default();
    for task in &tasks {
        let skip = |reason: String| Skipped {
            instance_id: task.instance_id.clone(),
            reason,
        };
        if !RUNNERS.contains(&task.runner.as_str()) {
            summary.skipped.push(skip(format!(
                "its runner is {}: the Harbor export grades pytest, unittest, cargo and go tasks only (its test ids do not select tests exactly outside prodcode); `prodcode eval` grades it",
                task.runner
            )));
            continue;
        }
        let name = dir_name(&task.instance_id);
        if name.is_empty() {
            summary.skipped.push(skip(
                "its id has no character a directory name can hold".to_owned(),
            ));
            continue;
        }
        let root = PathBuf::from(&task.repo_root);
        let scratch = match scratches.get(&root) {
            Some(scratch) => scratch.clone(),
            None => {
                if !root.join(".git").exists() {
                    summary.skipped.push(skip(format!(
                        "its repository {} is not there: tasks are exported from the repository they were curated in",
                        root.display()
                    )));
                    continue;
                }
                let dir = options
                    .cache
                    .join("harbor")
                    .join(crate::curate::repo_key(&root))
                    .join("repo");
                match Scratch::open(&root, &dir) {
                    Ok(scratch) => {
                        scratches.insert(root.clone(), scratch.clone());
                        scratch
                    }
                    Err(error) => {
                        summary.skipped.push(skip(format!(
                            "cannot make a scratch clone of {}: {error}",
                            root.display()
                        )));
                        continue;
                    }
                }
            }
        };
        let target = options.out.join(&name);
        match write_task(task, &scratch, &root, &target) {
            Ok(()) => summary.exported.push(Exported {
                instance_id: task.instance_id.clone(),
                dir: target.display().to_string(),
            }),
            Err(reason) => summary.skipped.push(skip(reason)),
        }
    }
    Ok(summary)
}

/// A directory name for `id`: its letters, digits, `.`, `_` and `-`, others as `-`.
fn dir_name(id: &str) -> String {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.trim_start_matches('.').to_owned()
}

/// Builds the task's base in `scratch` and writes its directory at `target` (replacing one an
/// earlier export wrote); `Err` says why it was not.
fn write_task(task: &Task, scratch: &Scratch, root: &Path, target: &Path) -> Result<(), String> {
    let config = crate::config::load(root).map_err(|error| error.to_string())?;
    let harbor = &config.export.harbor;
    let ref_name = format!("harbor-{}", dir_name(&task.instance_id));
    build_base(scratch, task, ContextFiles::Keep, true, &ref_name)?;
    let base = scratch
        .resolve(&format!("refs/prodcode/{ref_name}"))
        .map_err(|error| format!("cannot read the base: {error}"))?;
    let files = scratch
        .files_at(&base)
        .map_err(|error| format!("cannot list the base: {error}"))?;
    // As `eval` grades: test files and the test timeout by the base's own `prodcode.toml`.
    let base_config = scratch
        .read(&base, crate::config::FILE_NAME)
        .and_then(|bytes| crate::config::parse(&String::from_utf8_lossy(&bytes)).ok())
        .unwrap_or_default();

    let partial = target.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error: std::io::Error| format!("cannot write {}: {error}", path.display())
    };
    let write = |relative: &str, bytes: &[u8], executable: bool| -> Result<(), String> {
        let path = partial.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, bytes).map_err(io(&path))?;
        if executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(io(&path))?;
        }
        Ok(())
    };

    // The environment: the base tree and a Dockerfile that builds it.
    std::fs::create_dir_all(partial.join("environment")).map_err(io(&partial))?;
    scratch
        .archive(&ref_name, &partial.join("environment/repo.tar"))
        .map_err(|error| format!("cannot archive the base: {error}"))?;
    let dockerfile = match &harbor.dockerfile {
        Some(path) => std::fs::read_to_string(root.join(path)).map_err(|error| {
            format!(
                "[export.harbor] dockerfile {}: {error}",
                root.join(path).display()
            )
        })?,
        None => {
            let family = Family::of(&task.runner).unwrap_or(Family::Python);
            let read = |path: &str| {
                scratch
                    .read(&base, path)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            };
            let (template, image) = match family {
                Family::Python => (DOCKERFILE_PYTHON, DEFAULT_IMAGE.to_owned()),
                Family::Rust => (
                    DOCKERFILE_RUST,
                    rust_image(read("rust-toolchain.toml").or_else(|| read("rust-toolchain"))),
                ),
                Family::Go => (DOCKERFILE_GO, go_image(read("go.mod"))),
            };
            template
                .replace("{image}", harbor.image.as_deref().unwrap_or(&image))
                .replace("{id}", &dir_name(&task.instance_id))
        }
    };
    write("environment/Dockerfile", dockerfile.as_bytes(), false)?;

    write("instruction.md", task.prompt.as_bytes(), false)?;
    write(
        "task.toml",
        task_toml(task, &config, &base_config, harbor).as_bytes(),
        false,
    )?;

    // The verifier: the test patch, the runner's reporter and what is put back.
    let infra = infra_globs(&config.eval.test_infra, &base_config.curate.test_globs)?;
    let test_files = crate::curate::split::TestFiles::new(&[])?;
    let patched = super::grade::patch_paths(&task.test_patch);
    let mut restore = Vec::new();
    for (path, executable) in &files {
        if !(patched.contains(path)
            || test_files.is_test(path, None)
            || infra.iter().any(|(glob, _)| glob.is_match(path)))
        {
            continue;
        }
        let bytes = scratch
            .read(&base, path)
            .ok_or_else(|| format!("cannot read {path} of the base"))?;
        write(&format!("tests/base/{path}"), &bytes, false)?;
        restore.push(RestoreEntry {
            path: path.clone(),
            executable: *executable,
        });
    }
    let verifier = VerifierConfig {
        instance_id: &task.instance_id,
        runner: &task.runner,
        fail_to_pass: &task.fail_to_pass,
        pass_to_pass: &task.pass_to_pass,
        test_timeout_s: base_config.curate.timeout_s.max(1),
        restore,
        base_files: files.iter().map(|(path, _)| path.as_str()).collect(),
        infra_regexes: TEST_FILE_REGEXES
            .iter()
            .map(|regex| (*regex).to_owned())
            .chain(infra.into_iter().map(|(_, regex)| regex))
            .collect(),
    };
    let json = serde_json::to_string_pretty(&verifier).unwrap_or_default();
    write("tests/config.json", format!("{json}\n").as_bytes(), false)?;
    write("tests/test.patch", task.test_patch.as_bytes(), false)?;
    write("tests/test.sh", TEST_SH.as_bytes(), true)?;
    write("tests/grade.py", GRADE_PY.as_bytes(), false)?;
    write(
        "tests/prodcode_report.py",
        crate::tools::runner::PYTEST_PLUGIN.as_bytes(),
        false,
    )?;
    write(
        "tests/prodcode_unittest.py",
        crate::tools::runner::UNITTEST_DRIVER.as_bytes(),
        false,
    )?;

    write(
        "solution/solution.patch",
        task.solution_patch.as_bytes(),
        false,
    )?;
    write("solution/solve.sh", SOLVE_SH.as_bytes(), true)?;

    let _ = std::fs::remove_dir_all(target);
    std::fs::rename(&partial, target).map_err(io(target))?;
    Ok(())
}

/// The globs of files put back beside test files (test infrastructure, `[eval] test_infra`,
/// `[curate] test_globs`), each with its regular expression in Python's syntax.
fn infra_globs(
    extra: &[String],
    test_globs: &[String],
) -> Result<Vec<(globset::GlobMatcher, String)>, String> {
    super::grade::TEST_INFRA
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .chain(test_globs.iter().map(String::as_str))
        .map(|pattern| {
            let glob = Glob::new(pattern)
                .map_err(|error| format!("{pattern:?} is not a glob: {error}"))?;
            // globset's expressions are Python's but for the byte-mode flag in front.
            let regex = glob.regex().trim_start_matches("(?-u)").to_owned();
            Ok((glob.compile_matcher(), regex))
        })
        .collect()
}

/// The Rust image: `rust:VERSION-slim` when the base's toolchain file pins a version
/// (`channel = "1.80.0"`, or the old one-line `rust-toolchain`), else the default (a channel
/// such as `stable` or a nightly has no official image tag of its own).
fn rust_image(toolchain: Option<String>) -> String {
    let channel = toolchain.and_then(|text| {
        text.lines().find_map(|line| {
            let line = line.trim();
            let value = match line.split_once('=') {
                Some((key, value)) if key.trim() == "channel" => value,
                Some(_) => return None,
                None => line,
            };
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            is_version(value).then(|| value.to_owned())
        })
    });
    channel.map_or_else(
        || DEFAULT_RUST_IMAGE.to_owned(),
        |version| format!("rust:{version}-slim"),
    )
}

/// The Go image: `golang:VERSION` for the base's `go.mod` (`toolchain goX.Y.Z`, else `go X.Y`)
/// when that is newer than the default's Go, else the default (Go builds older modules, and
/// `GOTOOLCHAIN=local` forbids downloading another toolchain at grading time).
fn go_image(go_mod: Option<String>) -> String {
    let text = go_mod.unwrap_or_default();
    let directive = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.trim().strip_prefix(name)?.trim();
            let version = rest.trim_start_matches("go");
            is_version(version).then(|| version.to_owned())
        })
    };
    let wanted = directive("toolchain ").or_else(|| directive("go "));
    let numbers = |version: &str| -> Vec<u64> {
        version
            .split('.')
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    };
    match wanted {
        Some(version) if numbers(&version) > numbers(DEFAULT_GO_VERSION) => {
            format!("golang:{version}")
        }
        _ => DEFAULT_GO_IMAGE.to_owned(),
    }
}

/// `1.80`, `1.80.0`: digits and dots, two or three parts.
fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

/// `task.toml`: Harbor's task configuration (`harbor.models.task.config.TaskConfig`). Strings
/// are written as JSON strings, which TOML's basic strings read the same.
fn task_toml(
    task: &Task,
    config: &crate::config::Config,
    base_config: &crate::config::Config,
    harbor: &HarborConfig,
) -> String {
    let s = |text: &str| serde_json::Value::from(text).to_string();
    let list = |items: &[String]| serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned());
    let mut toml = String::new();
    toml.push_str(&format!(
        "# Written by prodcode export harbor from {}'s task.json (docs/eval.md, \"Harbor\").\n",
        task.instance_id
    ));
    toml.push_str("schema_version = \"1.4\"\nsource = \"prodcode\"\n\n[metadata]\n");
    for (key, value) in [
        ("instance_id", s(&task.instance_id)),
        ("repo", s(&task.repo)),
        ("language", s(&task.language)),
        ("runner", s(&task.runner)),
        ("base_mode", s(&task.base.mode)),
        ("base_commit", s(&task.base.commit)),
        ("head_commit", s(&task.base.head)),
        ("interaction_id", s(&task.interaction_id)),
        ("created_at", s(&task.created_at)),
        ("prodcode_version", s(env!("CARGO_PKG_VERSION"))),
        ("fail_to_pass", list(&task.fail_to_pass)),
        ("pass_to_pass", list(&task.pass_to_pass)),
    ] {
        toml.push_str(&format!("{key} = {value}\n"));
    }
    for (key, value) in [("agent", &task.agent), ("model", &task.model)] {
        if let Some(value) = value {
            toml.push_str(&format!("{key} = {}\n", s(value)));
        }
    }
    // The verifier's own timeout covers putting files back and one test run.
    toml.push_str(&format!(
        "\n[verifier]\ntimeout_sec = {}.0\n\n[agent]\ntimeout_sec = {}.0\nuser = \"agent\"\n\n[environment]\nbuild_timeout_sec = 1800.0\n",
        base_config.curate.timeout_s.max(1) + 120,
        config.eval.timeout_s.max(1)
    ));
    if let Some(cpus) = harbor.cpus {
        toml.push_str(&format!("cpus = {cpus}\n"));
    }
    if let Some(memory) = harbor.memory_mb {
        toml.push_str(&format!("memory_mb = {memory}\n"));
    }
    toml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names_and_python_regexes() {
        assert_eq!(dir_name("calc__0123abcd"), "calc__0123abcd");
        assert_eq!(dir_name("../a b/c"), "-a-b-c");
        assert_eq!(dir_name("..."), "");
        let globs = infra_globs(&[], &["qa/**".to_owned()]).unwrap();
        let conftest = globs
            .iter()
            .find(|(glob, _)| glob.glob().glob() == "**/conftest.py")
            .unwrap();
        assert!(!conftest.1.starts_with("(?-u)"), "{}", conftest.1);
        assert!(conftest.0.is_match("conftest.py") && conftest.0.is_match("a/conftest.py"));
        assert!(globs.iter().any(|(glob, _)| glob.is_match("qa/check.py")));
    }

    /// The exported regexes say "test file" for exactly the paths curation's split does, read
    /// with Python's `re` as grade.py reads them.
    #[test]
    fn test_file_regexes_agree_with_the_curation_split() {
        let paths = [
            "tests/a.rs",
            "crates/x/tests/common/mod.rs",
            "src/tests/mod.rs",
            "src/parser/tests/cases.rs",
            "tests/src/x.rs",
            "src/lib.rs",
            "src/tests.rs",
            "tests/data/valid/strings.toml",
            "src/tests/data.json",
            "calc/testdata/input.json",
            "calc/add_test.go",
            "calc/add.go",
            "calc/latest.go",
            "tests/test_math.py",
            "pkg/util_test.py",
            "conftest.py",
            "a/conftest.py",
            "pkg/testing/helpers.py",
            "pkg/testing/data.txt",
            "pkg/contest.py",
            "mathlib/core.py",
            "src/app.test.ts",
            "web/__tests__/x.js",
            "web/__mocks__/api.ts",
            "web/app.ts",
            "src/test/java/a/FooTest.java",
            "src/main/java/a/Foo.java",
            "src/main/java/a/FooTests.kt",
            "lib/thing_spec.rb",
            "spec/thing.rb",
            "c/test_buf.c",
            "c/buf_test.h",
            "c/buf.c",
            "README.md",
            "testdata",
            "tests",
        ];
        let files = crate::curate::split::TestFiles::new(&[]).unwrap();
        let script = "import json, re, sys\nregexes, paths = json.load(sys.stdin)\nprint(json.dumps([any(re.search(r, p) for r in regexes) for p in paths]))\n";
        let mut child = match std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(error) => {
                eprintln!("skipped: no python3 ({error})");
                return;
            }
        };
        {
            use std::io::Write;
            let input = serde_json::json!([TEST_FILE_REGEXES, &paths[..]]).to_string();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let matched: Vec<bool> = serde_json::from_slice(&output.stdout).unwrap();
        for (path, matched) in paths.iter().zip(matched) {
            assert_eq!(matched, files.is_test(path, None), "{path}");
        }
    }

    #[test]
    fn images_follow_the_toolchain_the_base_asks_for() {
        assert_eq!(rust_image(None), DEFAULT_RUST_IMAGE);
        assert_eq!(
            rust_image(Some("[toolchain]\nchannel = \"1.80.0\"\n".to_owned())),
            "rust:1.80.0-slim"
        );
        assert_eq!(rust_image(Some("1.79\n".to_owned())), "rust:1.79-slim");
        assert_eq!(
            rust_image(Some(
                "[toolchain]\nchannel = \"nightly-2025-01-01\"\n".to_owned()
            )),
            DEFAULT_RUST_IMAGE
        );
        assert_eq!(rust_image(Some("stable".to_owned())), DEFAULT_RUST_IMAGE);
        assert_eq!(go_image(None), DEFAULT_GO_IMAGE);
        assert_eq!(
            go_image(Some("module example.com/calc\n\ngo 1.19\n".to_owned())),
            DEFAULT_GO_IMAGE
        );
        assert_eq!(
            go_image(Some("module m\n\ngo 1.24.2\n".to_owned())),
            "golang:1.24.2"
        );
        assert_eq!(
            go_image(Some(
                "module m\n\ngo 1.22\n\ntoolchain go1.25.1\n".to_owned()
            )),
            "golang:1.25.1"
        );
        assert_eq!(go_image(Some("go banana\n".to_owned())), DEFAULT_GO_IMAGE);
    }
}
