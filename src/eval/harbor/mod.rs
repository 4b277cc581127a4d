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
//! deleted, and the tests run through prodcode's own pytest plugin or unittest driver, so an id
//! selects exactly the test curation checked. Runners other than pytest and unittest are not
//! exported: a grader that selects tests differently would be a wrong grader, so such tasks are
//! skipped and named.
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

/// The runners whose tests the exported verifier selects exactly.
const RUNNERS: &[&str] = &["pytest", "unittest"];

/// Files that count as tests for putting back, beside `grade::TEST_INFRA` (curation's split rules
/// for Python, as globs: new files matching them are deleted before grading).
const TEST_FILES: &[&str] = &[
    "**/test_*.py",
    "**/*_test.py",
    "**/tests/**",
    "**/test/**",
    "**/testing/**",
    "**/testdata/**",
];

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

/// The default Dockerfile's base image.
pub const DEFAULT_IMAGE: &str = "python:3.12-slim";

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
                "its runner is {}: the Harbor export grades pytest and unittest tasks only (an exact test selection for other runners is not written yet); `prodcode eval` grades it",
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
        None => DOCKERFILE_PYTHON
            .replace("{image}", harbor.image.as_deref().unwrap_or(DEFAULT_IMAGE))
            .replace("{id}", &dir_name(&task.instance_id)),
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
    let patched = super::grade::patch_paths(&task.test_patch);
    let mut restore = Vec::new();
    for (path, executable) in &files {
        if !(patched.contains(path) || infra.iter().any(|(glob, _)| glob.is_match(path))) {
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
        infra_regexes: infra.into_iter().map(|(_, regex)| regex).collect(),
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

/// The globs of files put back (test infrastructure, `[eval] test_infra`, Python test files,
/// `[curate] test_globs`), each with its regular expression in Python's syntax.
fn infra_globs(
    extra: &[String],
    test_globs: &[String],
) -> Result<Vec<(globset::GlobMatcher, String)>, String> {
    super::grade::TEST_INFRA
        .iter()
        .copied()
        .chain(TEST_FILES.iter().copied())
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
}
