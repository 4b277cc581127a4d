//! The task format (`docs/tasks.md`): one directory per task with `task.json`, and `tasks.jsonl`
//! whose rows follow the SWE-bench instance schema, so SWE-bench-style harnesses run them.
//!
//! Writing replaces what an earlier run wrote: tasks that still hold are rewritten, tasks that
//! no longer do move to `retired/` with a `retired.json` saying why. Every file is written whole
//! and renamed into place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CandidateReport;
use crate::tools::runner::{TestRun, TestStatus};

/// `task.json`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub instance_id: String,
    /// The repository's directory name.
    pub repo: String,
    /// Where it was curated.
    pub repo_root: String,
    pub interaction_id: String,
    /// The developer's prompt, verbatim (after secret redaction at capture).
    pub prompt: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub base: Base,
    /// Non-test files: base → solved.
    pub solution_patch: String,
    /// Test files: base → with the change's tests.
    pub test_patch: String,
    pub fail_to_pass: Vec<String>,
    pub pass_to_pass: Vec<String>,
    /// Tests seen but left out, with why.
    pub excluded: Vec<Excluded>,
    /// The runner's name (`cargo-test`, `pytest`, `unittest`, …).
    pub runner: String,
    /// The command that runs the suite, before prodcode's report options and test ids.
    pub test_command: Vec<String>,
    /// The runner targets the stability runs covered (files, packages); empty: the whole suite.
    #[serde(default)]
    pub test_targets: Vec<String>,
    pub language: String,
    /// Every stability run, after ones first.
    pub runs: Vec<RunRecord>,
    /// The interaction's share of the change's added lines.
    pub ai_share: f64,
    /// What the configured classifier said, if one is configured.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, serde_json::Value>,
    /// When the change landed (the newest landed commit's commit time), RFC 3339.
    pub created_at: String,
    pub curated_at: String,
    pub prodcode_version: String,
}

/// Where the task starts, and what rebuilds it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Base {
    /// `head` (the head of main with the change backed out) or `parent` (the landed commit's
    /// parent).
    pub mode: String,
    /// The base commit. With `head` it exists only in prodcode's scratch clone: rebuild it by
    /// checking out `head` and applying `backoutPatch`.
    pub commit: String,
    /// The head of main when the task was curated.
    pub head: String,
    /// The main commits of the change, oldest first.
    pub landed_commits: Vec<String>,
    /// `head` → base (empty with `parent`).
    pub backout_patch: String,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Excluded {
    pub id: String,
    /// `flaky`, `fail_to_fail`, `pass_to_fail`, `skipped`.
    pub verdict: String,
    pub reason: String,
}

/// One stability run: which state, and each test's status.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    /// `before` (base + test patch) or `after` (with the solution).
    pub state: String,
    pub timed_out: bool,
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Test id → status (`passed`, `failed`, `skipped`, `error`, …).
    pub statuses: BTreeMap<String, String>,
}

impl RunRecord {
    pub fn of(after: bool, run: &TestRun) -> RunRecord {
        RunRecord {
            state: if after { "after" } else { "before" }.to_owned(),
            timed_out: run.timed_out,
            exit_code: run.exit_code,
            problem: run.problem.clone(),
            statuses: run
                .tests
                .iter()
                .map(|test| (test.id.clone(), status_name(test.status)))
                .collect(),
        }
    }
}

fn status_name(status: TestStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{status:?}"))
}

/// A row of `tasks.jsonl`: the SWE-bench instance fields, then prodcode's.
#[derive(Serialize)]
struct Instance<'a> {
    instance_id: &'a str,
    repo: &'a str,
    base_commit: &'a str,
    patch: &'a str,
    test_patch: &'a str,
    problem_statement: &'a str,
    hints_text: &'a str,
    #[serde(rename = "FAIL_TO_PASS")]
    fail_to_pass: &'a [String],
    #[serde(rename = "PASS_TO_PASS")]
    pass_to_pass: &'a [String],
    created_at: &'a str,
    version: &'a str,
    environment_setup_commit: &'a str,
    language: &'a str,
    agent: Option<&'a str>,
    model: Option<&'a str>,
    interaction_id: &'a str,
    ai_share: f64,
    stability_runs: usize,
    test_command: &'a [String],
    runner: &'a str,
    base_mode: &'a str,
    head_commit: &'a str,
    landed_commits: &'a [String],
    backout_patch: &'a str,
    prodcode_version: &'a str,
}

impl<'a> Instance<'a> {
    fn of(task: &'a Task) -> Instance<'a> {
        Instance {
            instance_id: &task.instance_id,
            repo: &task.repo,
            base_commit: &task.base.commit,
            patch: &task.solution_patch,
            test_patch: &task.test_patch,
            problem_statement: &task.prompt,
            hints_text: "",
            fail_to_pass: &task.fail_to_pass,
            pass_to_pass: &task.pass_to_pass,
            created_at: &task.created_at,
            version: "1",
            environment_setup_commit: &task.base.commit,
            language: &task.language,
            agent: task.agent.as_deref(),
            model: task.model.as_deref(),
            interaction_id: &task.interaction_id,
            ai_share: task.ai_share,
            stability_runs: task.runs.len() / 2,
            test_command: &task.test_command,
            runner: &task.runner,
            base_mode: &task.base.mode,
            head_commit: &task.base.head,
            landed_commits: &task.base.landed_commits,
            backout_patch: &task.base.backout_patch,
            prodcode_version: &task.prodcode_version,
        }
    }
}

type WriteError = (PathBuf, std::io::Error);

/// Writes `tasks` under `out` (`tasks/<id>/task.json`, `tasks.jsonl`, `curation.json` is the
/// caller's) and retires the task directories of earlier runs that are not among them; the
/// retired ids with why.
pub fn write_all(
    out: &Path,
    tasks: &[Task],
    reports: &[CandidateReport],
) -> Result<Vec<(String, String)>, WriteError> {
    let tasks_dir = out.join("tasks");
    std::fs::create_dir_all(&tasks_dir).map_err(|error| (tasks_dir.clone(), error))?;
    let mut jsonl = String::new();
    for task in tasks {
        let dir = tasks_dir.join(&task.instance_id);
        std::fs::create_dir_all(&dir).map_err(|error| (dir.clone(), error))?;
        let text = serde_json::to_string_pretty(task).unwrap_or_default();
        write_whole(&dir.join("task.json"), format!("{text}\n").as_bytes())?;
        jsonl.push_str(&serde_json::to_string(&Instance::of(task)).unwrap_or_default());
        jsonl.push('\n');
    }
    write_whole(&out.join("tasks.jsonl"), jsonl.as_bytes())?;

    let kept: std::collections::HashSet<&str> =
        tasks.iter().map(|task| task.instance_id.as_str()).collect();
    let mut retired = Vec::new();
    let entries = std::fs::read_dir(&tasks_dir).map_err(|error| (tasks_dir.clone(), error))?;
    for entry in entries.flatten() {
        let id = entry.file_name().to_string_lossy().into_owned();
        if kept.contains(id.as_str()) || !entry.path().join("task.json").is_file() {
            continue;
        }
        let reason = reports
            .iter()
            .find(|report| report.instance_id.as_deref() == Some(id.as_str()))
            .map(|report| format!("{}: {}", report.fate.reason, report.fate.detail))
            .unwrap_or_else(|| {
                "its interaction is no longer a candidate (outside --since, or its change no longer on main)"
                    .to_owned()
            });
        let target = out.join("retired").join(&id);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|error| (parent.to_path_buf(), error))?;
        }
        let _ = std::fs::remove_dir_all(&target);
        std::fs::rename(entry.path(), &target).map_err(|error| (entry.path(), error))?;
        let note = serde_json::json!({
            "instanceId": id,
            "reason": reason,
            "retiredAt": crate::clock::format_rfc3339(crate::clock::now_ms()),
        });
        write_whole(
            &target.join("retired.json"),
            format!("{note:#}\n").as_bytes(),
        )?;
        retired.push((id, reason));
    }
    retired.sort();
    Ok(retired)
}

/// Writes `bytes` to a sibling file and renames it over `path`.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|error| (path.to_path_buf(), error))
}
