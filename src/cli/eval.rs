//! `prodcode eval`: run agents on curated tasks, grade them by their tests (`docs/eval.md`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::eval::agent;
use crate::eval::result::{Outcome, RunResult};
use crate::eval::{ContextFiles, Harness, Options, Progress};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The tasks: an output directory of `prodcode curate`
    #[arg(long, value_name = "DIR")]
    pub tasks: PathBuf,
    /// An agent to run: noop, gold, claude, codex, a name of `[agents.NAME]` in prodcode.toml,
    /// or NAME=COMMAND (placeholders {prompt}, {prompt_file}, {workdir}, {mcp_config},
    /// {mcp_config_toml}, {task_id}, {run}); repeat for several
    #[arg(long = "agent", value_name = "AGENT")]
    pub agents: Vec<String>,
    /// Runs of each agent on each task
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub runs: usize,
    /// Runs at once, each in its own workspace
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// basic: the agent's own tools; ide: also prodcode's tools over MCP; both
    #[arg(long, value_enum, default_value = "basic", value_name = "HARNESS")]
    pub harness: HarnessArg,
    /// keep or strip the repository's AGENTS.md, CLAUDE.md and similar files; both
    #[arg(long, value_enum, default_value = "keep", value_name = "MODE")]
    pub context_files: ContextArg,
    /// The most one agent run may take, in seconds [default: `[eval] timeout_s`, else 1800]
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// The most one test run may take, in seconds [default: `[curate] timeout_s`, else 900]
    #[arg(long, value_name = "SECONDS")]
    pub test_timeout: Option<u64>,
    /// seal: a new repository whose one commit is the base (the solution is not in its
    /// history); keep: the repository's history up to the base
    #[arg(long, value_enum, default_value = "seal", value_name = "MODE")]
    pub history: HistoryArg,
    /// Only this task (repeat for several)
    #[arg(long = "task", value_name = "ID")]
    pub only: Vec<String>,
    /// Where the runs go [default: <tasks>/eval]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The prodcode.toml with `[agents.*]` and `[eval]` [default: the current directory's, else
    /// the tasks' repository's]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep each run's workspace (under the cache directory) for inspection
    #[arg(long)]
    pub keep_workspaces: bool,
    /// Check the tasks: the built-in noop agent must resolve none and gold all; exits 1 naming
    /// the broken tasks
    #[arg(long)]
    pub validate: bool,
    /// Print every run's result as JSON lines
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum HarnessArg {
    Basic,
    Ide,
    Both,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ContextArg {
    Keep,
    Strip,
    Both,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum HistoryArg {
    Seal,
    Keep,
}

pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    if args.runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    let tasks = crate::eval::load_tasks(&args.tasks)?;
    let config = load_config(args.config.as_deref(), &tasks)?;
    let mut specs = args.agents.clone();
    if args.validate {
        if !specs.is_empty() {
            anyhow::bail!("--validate runs the built-in noop and gold agents: leave out --agent");
        }
        specs = vec!["noop".to_owned(), "gold".to_owned()];
    }
    if specs.is_empty() {
        anyhow::bail!(
            "name an agent: --agent claude, --agent codex, --agent NAME=COMMAND (or --validate)"
        );
    }
    let agents = specs
        .iter()
        .map(|spec| agent::parse(spec, &config.agents))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let mut names: Vec<&str> = agents.iter().map(|agent| agent.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        anyhow::bail!(
            "two agents are named `{}`: give each its own NAME=",
            pair[0]
        );
    }
    let out = args.out.clone().unwrap_or_else(|| args.tasks.join("eval"));
    let cache =
        crate::curate::cache_dir().context("no cache directory: set PRODCODE_CACHE_DIR or HOME")?;
    let db = db.or_else(|| crate::store::default_path().ok());
    let options = Options {
        tasks: args.tasks.clone(),
        out: out.clone(),
        agents,
        runs: if args.validate { 1 } else { args.runs },
        jobs: args.jobs.max(1),
        harnesses: match (args.validate, args.harness) {
            (true, _) | (false, HarnessArg::Basic) => vec![Harness::Basic],
            (false, HarnessArg::Ide) => vec![Harness::Ide],
            (false, HarnessArg::Both) => vec![Harness::Basic, Harness::Ide],
        },
        contexts: match (args.validate, args.context_files) {
            (true, _) | (false, ContextArg::Keep) => vec![ContextFiles::Keep],
            (false, ContextArg::Strip) => vec![ContextFiles::Strip],
            (false, ContextArg::Both) => vec![ContextFiles::Keep, ContextFiles::Strip],
        },
        timeout: Duration::from_secs(args.timeout.unwrap_or(config.eval.timeout_s).max(1)),
        test_timeout: args.test_timeout.map(Duration::from_secs),
        sealed: matches!(args.history, HistoryArg::Seal),
        keep_workspaces: args.keep_workspaces,
        only: args.only.clone(),
        config: config.eval.clone(),
        prodcode: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("prodcode")),
        db,
        cache,
    };
    super::curate::stop_runs_on_signal("eval");
    let terminal = !args.json && std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} running agents {wide_bar} {pos}/{len} {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let json = args.json;
    let progress = |event: Progress<'_>| match event {
        Progress::Planned { total, done_before } => {
            if let Some(bar) = &bar {
                bar.set_length(total as u64);
                bar.set_position(done_before as u64);
            }
        }
        Progress::Finished { done, result, .. } => {
            if json {
                println!("{}", serde_json::to_string(result).unwrap_or_default());
            }
            if let Some(bar) = &bar {
                bar.set_position(done as u64);
                bar.println(run_line(result));
            }
        }
    };
    let summary = crate::eval::eval(&options, &progress)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.validate {
        return Ok(validate(&summary.results));
    }
    if !json {
        print_summary(&summary, &out);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--config`, else prodcode.toml in the current directory's repository, else in the tasks'
/// repository.
fn load_config(
    path: Option<&Path>,
    tasks: &[crate::curate::task::Task],
) -> anyhow::Result<crate::config::Config> {
    if let Some(path) = path {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return crate::config::parse(&text)
            .map_err(|message| anyhow::anyhow!("{}: {message}", path.display()));
    }
    let here = std::env::current_dir()
        .ok()
        .and_then(|dir| crate::git::discover(&dir))
        .map(|info| info.root);
    let root = here
        .filter(|root| root.join(crate::config::FILE_NAME).is_file())
        .or_else(|| tasks.first().map(|task| PathBuf::from(&task.repo_root)));
    match root {
        Some(root) => Ok(crate::config::load(&root)?),
        None => Ok(crate::config::Config::default()),
    }
}

fn run_line(result: &RunResult) -> String {
    let outcome = match result.outcome {
        Outcome::Resolved => "resolved".to_owned(),
        Outcome::Unresolved => "unresolved".to_owned(),
        Outcome::InfraError => format!(
            "infrastructure error: {}",
            result.infra_error.as_deref().unwrap_or("")
        ),
    };
    let flags = if result.flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", result.flags.join(", "))
    };
    format!("{}  {outcome}{flags}", result.run_id)
}

fn print_summary(summary: &crate::eval::Summary, out: &Path) {
    let report = crate::eval::report::build(&summary.results, Vec::new(), None);
    println!(
        "{} runs on {} tasks ({} from an earlier run)",
        summary.results.len(),
        summary.tasks,
        summary.reused
    );
    for group in &report.groups {
        println!(
            "  {:<40} {:>3}/{:<3} resolved  {:>5.1}%  95% [{:.1}%, {:.1}%]{}",
            group.label,
            group.resolved,
            group.graded,
            group.solve_rate * 100.0,
            group.interval.0 * 100.0,
            group.interval.1 * 100.0,
            if group.infra_errors > 0 {
                format!("  {} infrastructure errors", group.infra_errors)
            } else {
                String::new()
            }
        );
    }
    for result in summary
        .results
        .iter()
        .filter(|result| result.outcome == Outcome::InfraError)
    {
        println!(
            "  ! {}: {}",
            result.run_id,
            result.infra_error.as_deref().unwrap_or("")
        );
    }
    println!(
        "\nresults: {}\nnext: prodcode report {}",
        out.display(),
        out.display()
    );
}

/// `--validate`: noop must resolve nothing and gold everything.
fn validate(results: &[RunResult]) -> ExitCode {
    let mut broken: Vec<String> = Vec::new();
    for result in results {
        let problem = match (result.agent.as_str(), result.outcome) {
            (_, Outcome::InfraError) => Some(format!(
                "cannot be evaluated: {}",
                result.infra_error.as_deref().unwrap_or("")
            )),
            ("noop", Outcome::Resolved) => Some(
                "resolved with no change at all (its fail-to-pass tests pass at the base)"
                    .to_owned(),
            ),
            ("gold", Outcome::Unresolved) => {
                let failing: Vec<String> = result
                    .fail_to_pass
                    .iter()
                    .chain(&result.pass_to_pass)
                    .filter(|(_, status)| status.as_str() != "passed")
                    .map(|(id, status)| format!("{id} ({status})"))
                    .collect();
                Some(format!(
                    "its own solution does not resolve it: {}",
                    failing.join(", ")
                ))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            broken.push(format!("{} [{}]: {problem}", result.task_id, result.agent));
        }
    }
    let tasks: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|result| result.task_id.as_str())
        .collect();
    if broken.is_empty() {
        println!(
            "{} tasks valid: noop resolves none, gold resolves all",
            tasks.len()
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "prodcode eval --validate: {} problems in {} tasks:",
        broken.len(),
        tasks.len()
    );
    for line in &broken {
        eprintln!("  {line}");
    }
    ExitCode::from(1)
}
