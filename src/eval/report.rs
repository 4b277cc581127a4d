//! `prodcode report`: what a team needs to choose an agent, a model or a configuration, from the
//! run results of one evaluation (and optionally a baseline evaluation).
//!
//! Per agent × harness × context-files setting: the solve rate of graded runs with a 95% Wilson
//! score interval, pass@k (the unbiased estimator of Chen et al. 2021) and pass^k (every one of
//! k runs resolves), the tasks that flip between runs, time, tokens and cost per task and per
//! solved task, every run's outcome per task, the tool-use distribution, and the solve rate of
//! runs that validated their work against runs that did not. Infrastructure errors are counted
//! apart and never in a rate.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::result::{Outcome, RunResult};
use super::trace::{ToolKind, prodcode_tool_kind};

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `successes` out of `trials`; `(0, 1)` with no trials.
pub fn wilson(successes: u64, trials: u64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let centre = p + z2 / (2.0 * n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denominator = 1.0 + z2 / n;
    (
        ((centre - half) / denominator).max(0.0),
        ((centre + half) / denominator).min(1.0),
    )
}

/// The unbiased pass@k of one task with `n` runs of which `c` resolved: 1 − C(n−c, k) / C(n, k).
pub fn pass_at_k(n: u64, c: u64, k: u64) -> f64 {
    if k == 0 || k > n {
        return f64::NAN;
    }
    if n - c < k {
        return 1.0;
    }
    let mut fail = 1.0;
    for i in (n - c + 1)..=n {
        fail *= 1.0 - k as f64 / i as f64;
    }
    1.0 - fail
}

/// pass^k of one task: the chance that k runs drawn without replacement all resolve,
/// C(c, k) / C(n, k).
pub fn pass_hat_k(n: u64, c: u64, k: u64) -> f64 {
    if k == 0 || k > n {
        return f64::NAN;
    }
    let mut all = 1.0;
    for i in 0..k {
        all *= (c as f64 - i as f64).max(0.0) / (n - i) as f64;
    }
    all
}

/// The difference of two proportions with Newcombe's hybrid score interval (from the Wilson
/// intervals of each).
pub fn difference(a: (u64, u64), b: (u64, u64)) -> (f64, f64, f64) {
    let rate = |(k, n): (u64, u64)| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    let (p1, p2) = (rate(a), rate(b));
    let (l1, u1) = wilson(a.0, a.1);
    let (l2, u2) = wilson(b.0, b.1);
    let d = p1 - p2;
    (
        d,
        d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    )
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub groups: Vec<Group>,
    /// Task id → group label → each run's outcome, in run order.
    pub tasks: BTreeMap<String, BTreeMap<String, Vec<Outcome>>>,
    /// Results that could not be read.
    pub problems: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baseline: Vec<Comparison>,
}

/// One agent configuration's numbers.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// `agent / harness / context files`.
    pub label: String,
    pub agent: String,
    pub harness: String,
    pub context_files: String,
    pub tasks: usize,
    pub runs: u64,
    pub graded: u64,
    pub resolved: u64,
    pub infra_errors: u64,
    pub solve_rate: f64,
    pub interval: (f64, f64),
    /// k → mean over tasks with at least k graded runs.
    pub pass_at_k: BTreeMap<u64, f64>,
    pub pass_hat_k: BTreeMap<u64, f64>,
    /// Tasks resolved in some runs and not in others.
    pub flipping: Vec<String>,
    pub flagged_runs: u64,
    pub mean_agent_seconds: f64,
    pub tokens_per_task: Option<TokenMeans>,
    pub cost_per_task: Option<f64>,
    pub cost_per_solved: Option<f64>,
    /// Tool kind → share of all calls (0–1); calls counted from traces, else from the store.
    pub tool_use: BTreeMap<String, f64>,
    pub tool_calls: u64,
    /// Solve rate of graded runs that ran tests or diagnostics, and of those that did not.
    pub validated: Split,
    pub not_validated: Split,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenMeans {
    pub input: f64,
    pub cached: f64,
    pub output: f64,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Split {
    pub runs: u64,
    pub resolved: u64,
    pub solve_rate: Option<f64>,
    pub interval: Option<(f64, f64)>,
}

impl Split {
    fn of(runs: u64, resolved: u64) -> Split {
        Split {
            runs,
            resolved,
            solve_rate: (runs > 0).then(|| resolved as f64 / runs as f64),
            interval: (runs > 0).then(|| wilson(resolved, runs)),
        }
    }
}

/// A group's solve rate against the same group of the baseline.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub label: String,
    pub solve_rate: f64,
    pub baseline_rate: f64,
    pub difference: f64,
    pub interval: (f64, f64),
}

fn label(result: &RunResult) -> String {
    format!(
        "{} / {} / {}",
        result.agent, result.harness, result.context_files
    )
}

/// The report of `results`, against `baseline` when given.
pub fn build(
    results: &[RunResult],
    problems: Vec<String>,
    baseline: Option<&[RunResult]>,
) -> Report {
    let mut by_group: BTreeMap<String, Vec<&RunResult>> = BTreeMap::new();
    for result in results {
        by_group.entry(label(result)).or_default().push(result);
    }
    let mut tasks: BTreeMap<String, BTreeMap<String, Vec<Outcome>>> = BTreeMap::new();
    for result in results {
        tasks
            .entry(result.task_id.clone())
            .or_default()
            .entry(label(result))
            .or_default()
            .push(result.outcome);
    }
    let groups: Vec<Group> = by_group
        .into_iter()
        .map(|(label, runs)| group(label, &runs))
        .collect();
    let baseline = baseline
        .map(|base| {
            let base = build(base, Vec::new(), None);
            groups
                .iter()
                .filter_map(|group| {
                    let other = base
                        .groups
                        .iter()
                        .find(|other| other.label == group.label)?;
                    let (difference, lo, hi) = self::difference(
                        (group.resolved, group.graded),
                        (other.resolved, other.graded),
                    );
                    Some(Comparison {
                        label: group.label.clone(),
                        solve_rate: group.solve_rate,
                        baseline_rate: other.solve_rate,
                        difference,
                        interval: (lo, hi),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Report {
        groups,
        tasks,
        problems,
        baseline,
    }
}

fn group(label: String, runs: &[&RunResult]) -> Group {
    let first = runs[0];
    let graded: Vec<&&RunResult> = runs
        .iter()
        .filter(|run| run.outcome != Outcome::InfraError)
        .collect();
    let resolved = graded.iter().filter(|run| run.resolved()).count() as u64;
    let mut per_task: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for run in &graded {
        let entry = per_task.entry(run.task_id.as_str()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(run.resolved());
    }
    let max_k = per_task.values().map(|(n, _)| *n).min().unwrap_or(0);
    let mut pass_at = BTreeMap::new();
    let mut pass_hat = BTreeMap::new();
    for k in 1..=max_k {
        let count = per_task.len() as f64;
        pass_at.insert(
            k,
            per_task
                .values()
                .map(|&(n, c)| pass_at_k(n, c, k))
                .sum::<f64>()
                / count,
        );
        pass_hat.insert(
            k,
            per_task
                .values()
                .map(|&(n, c)| pass_hat_k(n, c, k))
                .sum::<f64>()
                / count,
        );
    }
    let flipping = per_task
        .iter()
        .filter(|(_, (n, c))| *c > 0 && c < n)
        .map(|(task, _)| (*task).to_owned())
        .collect();
    let task_count = runs
        .iter()
        .map(|run| run.task_id.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let traced: Vec<&&&RunResult> = graded.iter().filter(|run| run.trace.is_some()).collect();
    let tokens_per_task = (!traced.is_empty()).then(|| {
        let sum = |f: fn(&super::trace::Tokens) -> u64| {
            traced
                .iter()
                .map(|run| run.trace.as_ref().map_or(0, |trace| f(&trace.tokens)))
                .sum::<u64>() as f64
                / traced.len() as f64
        };
        TokenMeans {
            input: sum(|tokens| tokens.input),
            cached: sum(|tokens| tokens.cached),
            output: sum(|tokens| tokens.output),
        }
    });
    let costs: Vec<f64> = graded
        .iter()
        .filter_map(|run| run.trace.as_ref().and_then(|trace| trace.cost_usd))
        .collect();
    let cost_per_task = (!costs.is_empty()).then(|| costs.iter().sum::<f64>() / costs.len() as f64);
    let cost_per_solved =
        (!costs.is_empty() && resolved > 0).then(|| costs.iter().sum::<f64>() / resolved as f64);
    let mut kinds: BTreeMap<ToolKind, u64> = BTreeMap::new();
    for run in &graded {
        match &run.trace {
            Some(trace) => {
                for (kind, count) in trace.by_kind() {
                    *kinds.entry(kind).or_default() += count;
                }
            }
            None => {
                for (tool, count) in &run.prodcode_tool_calls {
                    *kinds.entry(prodcode_tool_kind(tool)).or_default() += count;
                }
            }
        }
    }
    let tool_calls: u64 = kinds.values().sum();
    let tool_use = kinds
        .iter()
        .map(|(kind, count)| {
            (
                kind.name().to_owned(),
                *count as f64 / tool_calls.max(1) as f64,
            )
        })
        .collect();
    let validated_runs = graded.iter().filter(|run| run.validated);
    let validated = Split::of(
        validated_runs.clone().count() as u64,
        validated_runs.filter(|run| run.resolved()).count() as u64,
    );
    let others = graded.iter().filter(|run| !run.validated);
    let not_validated = Split::of(
        others.clone().count() as u64,
        others.filter(|run| run.resolved()).count() as u64,
    );
    let graded_count = graded.len() as u64;
    Group {
        label,
        agent: first.agent.clone(),
        harness: first.harness.clone(),
        context_files: first.context_files.clone(),
        tasks: task_count,
        runs: runs.len() as u64,
        graded: graded_count,
        resolved,
        infra_errors: runs.len() as u64 - graded_count,
        solve_rate: if graded_count == 0 {
            0.0
        } else {
            resolved as f64 / graded_count as f64
        },
        interval: wilson(resolved, graded_count),
        pass_at_k: pass_at,
        pass_hat_k: pass_hat,
        flipping,
        flagged_runs: graded.iter().filter(|run| !run.flags.is_empty()).count() as u64,
        mean_agent_seconds: if graded.is_empty() {
            0.0
        } else {
            graded
                .iter()
                .map(|run| run.durations_ms.agent as f64 / 1000.0)
                .sum::<f64>()
                / graded.len() as f64
        },
        tokens_per_task,
        cost_per_task,
        cost_per_solved,
        tool_use,
        tool_calls,
        validated,
        not_validated,
    }
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

fn interval_text((lo, hi): (f64, f64)) -> String {
    format!("[{}, {}]", percent(lo), percent(hi))
}

/// The report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut out = String::from("# Evaluation report\n\n");
    out.push_str("Solve rate: resolved runs of graded runs (infrastructure errors left out), with a 95% Wilson interval.\n\n");
    out.push_str("| agent / harness / context | tasks | graded | resolved | solve rate | 95% interval | pass@1 | pass@k | pass^k | infra errors | flagged | mean agent time |\n");
    out.push_str("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for group in &report.groups {
        let last = |map: &BTreeMap<u64, f64>| {
            map.iter().next_back().map_or("–".to_owned(), |(k, value)| {
                format!("{} (k={k})", percent(*value))
            })
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s |\n",
            group.label,
            group.tasks,
            group.graded,
            group.resolved,
            percent(group.solve_rate),
            interval_text(group.interval),
            group
                .pass_at_k
                .get(&1)
                .map_or("–".to_owned(), |v| percent(*v)),
            last(&group.pass_at_k),
            last(&group.pass_hat_k),
            group.infra_errors,
            group.flagged_runs,
            group.mean_agent_seconds,
        ));
    }
    let traced = report
        .groups
        .iter()
        .any(|group| group.tokens_per_task.is_some());
    if traced {
        out.push_str("\n## Cost and tokens\n\n| agent / harness / context | input tokens / run | cached / run | output / run | cost / run | cost / solved task |\n|---|---:|---:|---:|---:|---:|\n");
    }
    for group in report.groups.iter().filter(|_| traced) {
        let tokens = group.tokens_per_task;
        let money = |value: Option<f64>| value.map_or("–".to_owned(), |v| format!("${v:.4}"));
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            group.label,
            tokens.map_or("–".to_owned(), |t| format!("{:.0}", t.input)),
            tokens.map_or("–".to_owned(), |t| format!("{:.0}", t.cached)),
            tokens.map_or("–".to_owned(), |t| format!("{:.0}", t.output)),
            money(group.cost_per_task),
            money(group.cost_per_solved),
        ));
    }
    let called = report.groups.iter().any(|group| group.tool_calls > 0);
    if called {
        out.push_str("\n## Tool use (% of calls)\n\n| agent / harness / context | calls |");
        for kind in ToolKind::ALL {
            out.push_str(&format!(" {} |", kind.name()));
        }
        out.push_str("\n|---|---:|");
        out.push_str(&"---:|".repeat(ToolKind::ALL.len()));
        out.push('\n');
    }
    for group in report.groups.iter().filter(|_| called) {
        out.push_str(&format!("| {} | {} |", group.label, group.tool_calls));
        for kind in ToolKind::ALL {
            let share = group.tool_use.get(kind.name()).copied().unwrap_or(0.0);
            out.push_str(&format!(" {} |", percent(share)));
        }
        out.push('\n');
    }
    out.push_str("\n## Validation and success\n\nRuns that ran tests or diagnostics against runs that did not.\n\n| agent / harness / context | validated: solved / runs | rate | not validated: solved / runs | rate |\n|---|---:|---:|---:|---:|\n");
    for group in &report.groups {
        let rate = |split: &Split| {
            split.solve_rate.map_or("–".to_owned(), |rate| {
                format!(
                    "{} {}",
                    percent(rate),
                    interval_text(split.interval.unwrap_or((0.0, 1.0)))
                )
            })
        };
        out.push_str(&format!(
            "| {} | {} / {} | {} | {} / {} | {} |\n",
            group.label,
            group.validated.resolved,
            group.validated.runs,
            rate(&group.validated),
            group.not_validated.resolved,
            group.not_validated.runs,
            rate(&group.not_validated),
        ));
    }
    if !report.baseline.is_empty() {
        out.push_str("\n## Against the baseline\n\n| agent / harness / context | solve rate | baseline | difference | 95% interval |\n|---|---:|---:|---:|---|\n");
        for comparison in &report.baseline {
            out.push_str(&format!(
                "| {} | {} | {} | {:+.1} pts | [{:+.1}, {:+.1}] pts |\n",
                comparison.label,
                percent(comparison.solve_rate),
                percent(comparison.baseline_rate),
                comparison.difference * 100.0,
                comparison.interval.0 * 100.0,
                comparison.interval.1 * 100.0,
            ));
        }
    }
    out.push_str(
        "\n## Runs per task\n\n✓ resolved, ✗ unresolved, ! infrastructure error.\n\n| task |",
    );
    for group in &report.groups {
        out.push_str(&format!(" {} |", group.label));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(report.groups.len()));
    out.push('\n');
    for (task, outcomes) in &report.tasks {
        out.push_str(&format!("| {task} |"));
        for group in &report.groups {
            let marks: String = outcomes
                .get(&group.label)
                .map(|runs| runs.iter().map(|outcome| mark(*outcome)).collect())
                .unwrap_or_default();
            out.push_str(&format!(" {marks} |"));
        }
        out.push('\n');
    }
    let flipping: Vec<String> = report
        .groups
        .iter()
        .filter(|group| !group.flipping.is_empty())
        .map(|group| format!("- {}: {}", group.label, group.flipping.join(", ")))
        .collect();
    if !flipping.is_empty() {
        out.push_str("\n## Tasks that flip between runs\n\n");
        out.push_str(&flipping.join("\n"));
        out.push('\n');
    }
    if !report.problems.is_empty() {
        out.push_str("\n## Results that could not be read\n\n");
        for problem in &report.problems {
            out.push_str(&format!("- {problem}\n"));
        }
    }
    out
}

fn mark(outcome: Outcome) -> char {
    match outcome {
        Outcome::Resolved => '✓',
        Outcome::Unresolved => '✗',
        Outcome::InfraError => '!',
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Colours of the tool kinds, in [`ToolKind::ALL`] order.
const PALETTE: [&str; 11] = [
    "#4e79a7", "#59a14f", "#f28e2b", "#9c755f", "#e15759", "#b07aa1", "#76b7b2", "#edc948",
    "#ff9da7", "#bab0ac", "#7f7f7f",
];

/// The report as one self-contained HTML file: the tables of [`markdown`] and two SVG charts
/// (solve rate with its interval; tool use), with no script and nothing fetched at view time.
pub fn html(report: &Report) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>prodcode evaluation report</title>\n<style>\nbody{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\ntable{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}\nth{background:#f3f3f3}.chart{margin:1em 0}.legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}\n</style></head><body>\n<h1>Evaluation report</h1>\n",
    );
    let groups = &report.groups;
    // Solve rate chart.
    let row = 34.0;
    let left = 320.0;
    let width = 520.0;
    let height = row * groups.len() as f64 + 40.0;
    out.push_str(&format!(
        "<h2>Solve rate (95% Wilson interval)</h2>\n<svg class=\"chart\" id=\"solve-rate\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n",
        left + width + 80.0,
        left + width + 80.0
    ));
    for tick in 0..=4 {
        let x = left + width * tick as f64 / 4.0;
        out.push_str(&format!(
            "<line x1=\"{x}\" y1=\"10\" x2=\"{x}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}%</text>\n",
            height - 25.0,
            height - 10.0,
            tick * 25
        ));
    }
    for (i, group) in groups.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let bar = width * group.solve_rate;
        let (lo, hi) = group.interval;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\n<rect class=\"bar\" x=\"{left}\" y=\"{}\" width=\"{bar:.1}\" height=\"{}\" fill=\"#4e79a7\"><title>{}: {} resolved of {} graded runs</title></rect>\n<line x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#222\" stroke-width=\"1.5\"/>\n<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n",
            left - 8.0,
            y + row / 2.0 + 4.0,
            escape(&group.label),
            y + 6.0,
            row - 12.0,
            escape(&group.label),
            group.resolved,
            group.graded,
            left + width * lo,
            y + row / 2.0,
            left + width * hi,
            y + row / 2.0,
            left + width + 8.0,
            y + row / 2.0 + 4.0,
            percent(group.solve_rate)
        ));
    }
    out.push_str("</svg>\n");
    // Tool use chart, when any run reported its calls.
    if groups.iter().all(|group| group.tool_calls == 0) {
        out.push_str(&markdown_tables_as_html(&markdown(report)));
        out.push_str("</body></html>\n");
        return out;
    }
    out.push_str(&format!(
        "<h2>Tool use (share of calls)</h2>\n<svg class=\"chart\" id=\"tool-use\" width=\"{}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n",
        left + width + 80.0,
        row * groups.len() as f64 + 20.0
    ));
    for (i, group) in groups.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\n",
            left - 8.0,
            y + row / 2.0 + 4.0,
            escape(&group.label)
        ));
        let mut x = left;
        for (kind, colour) in ToolKind::ALL.iter().zip(PALETTE) {
            let share = group.tool_use.get(kind.name()).copied().unwrap_or(0.0);
            if share <= 0.0 {
                continue;
            }
            let w = width * share;
            out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{colour}\"><title>{}: {}</title></rect>\n",
                y + 6.0,
                row - 12.0,
                kind.name(),
                percent(share)
            ));
            x += w;
        }
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\">{} calls</text>\n",
            left + width + 8.0,
            y + row / 2.0 + 4.0,
            group.tool_calls
        ));
    }
    out.push_str("</svg>\n<div class=\"legend\">");
    for (kind, colour) in ToolKind::ALL.iter().zip(PALETTE) {
        out.push_str(&format!(
            "<span><i style=\"background:{colour}\"></i>{}</span>",
            kind.name()
        ));
    }
    out.push_str("</div>\n");
    out.push_str(&markdown_tables_as_html(&markdown(report)));
    out.push_str("</body></html>\n");
    out
}

/// The Markdown report's headings, paragraphs and pipe tables as HTML (the subset
/// [`markdown`] writes), so both formats say the same.
fn markdown_tables_as_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_table = false;
    for line in markdown.lines().skip(1) {
        if let Some(cells) = line.strip_prefix('|') {
            let cells: Vec<&str> = cells
                .trim_end_matches('|')
                .split(" |")
                .map(str::trim)
                .collect();
            if cells
                .iter()
                .all(|cell| cell.chars().all(|c| matches!(c, '-' | ':')))
            {
                continue;
            }
            let tag = if in_table { "td" } else { "th" };
            if !in_table {
                out.push_str("<table>\n");
                in_table = true;
            }
            out.push_str("<tr>");
            for cell in cells {
                out.push_str(&format!("<{tag}>{}</{tag}>", escape(cell)));
            }
            out.push_str("</tr>\n");
            continue;
        }
        if in_table {
            out.push_str("</table>\n");
            in_table = false;
        }
        if let Some(heading) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2>{}</h2>\n", escape(heading)));
        } else if let Some(item) = line.strip_prefix("- ") {
            out.push_str(&format!("<p>• {}</p>\n", escape(item)));
        } else if !line.trim().is_empty() {
            out.push_str(&format!("<p>{}</p>\n", escape(line)));
        }
    }
    if in_table {
        out.push_str("</table>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_known_values() {
        // 7 of 10: the textbook Wilson interval [0.3968, 0.8922].
        let (lo, hi) = wilson(7, 10);
        assert!(
            (lo - 0.3968).abs() < 1e-4 && (hi - 0.8922).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 5);
        assert!(lo == 0.0 && (hi - 0.4345).abs() < 1e-4, "{hi}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    #[test]
    fn pass_at_k_is_the_unbiased_estimator() {
        // n=3, c=1: pass@1 = 1/3, pass@2 = 1 - C(2,2)/C(3,2) = 2/3, pass@3 = 1.
        assert!((pass_at_k(3, 1, 1) - 1.0 / 3.0).abs() < 1e-12);
        assert!((pass_at_k(3, 1, 2) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(pass_at_k(3, 1, 3), 1.0);
        assert_eq!(pass_at_k(3, 0, 2), 0.0);
        // pass^k: n=3, c=2: pass^2 = C(2,2)/C(3,2) = 1/3.
        assert!((pass_hat_k(3, 2, 2) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(pass_hat_k(3, 3, 3), 1.0);
        assert_eq!(pass_hat_k(3, 1, 2), 0.0);
    }

    #[test]
    fn the_difference_interval_contains_the_difference() {
        let (d, lo, hi) = difference((8, 10), (4, 10));
        assert!((d - 0.4).abs() < 1e-12);
        assert!(lo < d && d < hi && lo > -1.0 && hi < 1.0, "{lo} {hi}");
    }
}
