//! The run result format (`docs/eval.md`): `runs/<run id>/result.json`, one per task, agent
//! configuration, harness, context-files setting and run, written whole when the run finishes.
//! `prodcode report` reads nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every fail-to-pass and every pass-to-pass test passed.
    Resolved,
    /// The agent ran and was graded; some test did not pass.
    Unresolved,
    /// The run says nothing about the agent: its command is missing, the base does not pass its
    /// own pass-to-pass tests, a workspace could not be made. Never counted as a wrong answer.
    InfraError,
}

/// `result.json`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    pub run_id: String,
    /// A hash of everything that decides the run (task, agent command, harness, options);
    /// a resumed evaluation reruns a run whose key changed.
    pub key: String,
    pub task_id: String,
    pub agent: String,
    /// `basic` or `ide`.
    pub harness: String,
    /// `keep` or `strip`.
    pub context_files: String,
    /// 1-based.
    pub run: usize,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infra_error: Option<String>,
    /// The command that ran, placeholders filled (empty for `noop` and `gold`).
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// Milliseconds: `precheck` (the base's own check, on the first run of a base only),
    /// `setup` (base and workspace), `agent`, `grading` (of which `tests`, the test run), `total`.
    pub durations_ms: Durations,
    /// Test id → status after the agent's change and the test patch (`passed`, `failed`,
    /// `notRun`, …).
    pub fail_to_pass: BTreeMap<String, String>,
    pub pass_to_pass: BTreeMap<String, String>,
    /// The files the agent's change touched (`A`, `M`, `D`, `T` and the path).
    pub changed_files: Vec<String>,
    /// Test infrastructure the agent changed (conftest.py, test configuration, test helpers),
    /// put back to base + test patch before grading.
    pub restored: Vec<String>,
    /// Files both the agent and the test patch changed: the test patch's version was graded.
    pub test_patch_overrode: Vec<String>,
    /// Deterministic checks that went wrong: `tests_restored`, `wrote_outside`,
    /// `forbidden_command`, `stray_files`, `timed_out`.
    pub flags: Vec<String>,
    /// Paths outside the workspace the agent wrote or touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside: Vec<String>,
    /// Commands of the trace that matched `[eval] forbidden_commands`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden: Vec<String>,
    /// New files that look like leftovers (`*.orig`, `*.rej`, backups, editor swap files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stray_files: Vec<String>,
    /// What the agent's output said of its work, when prodcode reads its format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<super::trace::Trace>,
    /// prodcode's own tools the agent called (the `ide` harness), by tool, from the store.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prodcode_tool_calls: BTreeMap<String, u64>,
    /// The agent checked its work: ran tests or diagnostics, by its own tools or prodcode's.
    pub validated: bool,
    /// The rubric grader's answer, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric: Option<serde_json::Value>,
    /// The `runs` row of the store that tool calls name (`PRODCODE_RUN_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_run_id: Option<i64>,
    pub started_at: String,
    pub finished_at: String,
    pub prodcode_version: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Durations {
    #[serde(default)]
    pub precheck: u64,
    pub setup: u64,
    pub agent: u64,
    pub grading: u64,
    #[serde(default)]
    pub tests: u64,
    pub total: u64,
}

impl Durations {
    /// The harness's own time: everything but the agent, the test runs and the base's check.
    pub fn overhead(&self) -> u64 {
        self.total
            .saturating_sub(self.agent)
            .saturating_sub(self.tests)
            .saturating_sub(self.precheck)
    }
}

impl RunResult {
    pub fn resolved(&self) -> bool {
        self.outcome == Outcome::Resolved
    }
}

/// Reads every `runs/*/result.json` under `dir`, in run id order; files that do not parse are
/// returned as errors beside the results, never dropped silently.
pub fn read_all(dir: &std::path::Path) -> (Vec<RunResult>, Vec<String>) {
    let mut results = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir.join("runs")) else {
        return (results, problems);
    };
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|entry| entry.path().join("result.json"))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    for path in paths {
        match std::fs::read_to_string(&path)
            .map_err(|error| error.to_string())
            .and_then(|text| {
                serde_json::from_str::<RunResult>(&text).map_err(|error| error.to_string())
            }) {
            Ok(result) => results.push(result),
            Err(error) => problems.push(format!("{}: {error}", path.display())),
        }
    }
    (results, problems)
}
