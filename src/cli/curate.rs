//! `prodcode curate`: turn the landed single-turn interactions of a repository into
//! execution-checked benchmark tasks, and show the funnel that got there.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::curate::{BaseMode, CandidateReport, Options, Progress, Report};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A directory in the repository [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Only interactions started at or after this date (RFC 3339, or YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Where to write the tasks [default: tasks/<repository> next to the database]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs of the tests in each state (before and after the solution)
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub runs: u32,
    /// Candidates checked at once, each in its own scratch clone
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// Where each task starts: the head of main with the change backed out, the landed
    /// commit's parent, or head where the change backs out and the parent where it conflicts
    #[arg(long, value_enum, default_value = "head", value_name = "BASE")]
    pub base: BaseArg,
    /// Keep tasks with pass-to-pass tests but no fail-to-pass test
    #[arg(long)]
    pub allow_p2p_only: bool,
    /// The most one test run may take, in seconds [default: `[curate] timeout_s`, else 900]
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// The main branch [default: `[link] main` in prodcode.toml, else the remote's HEAD, else
    /// main, else master]
    #[arg(long, value_name = "BRANCH")]
    pub main: Option<String>,
    /// Do not run `prodcode link` first
    #[arg(long)]
    pub no_link: bool,
    /// Curate from the team store (postgres://…): every device's landed sessions of this
    /// repository (implies --no-link: the devices linked their own commits)
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Show every candidate's fate: the stage that dropped it and why
    #[arg(long)]
    pub explain: bool,
    /// Print JSON (see docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum BaseArg {
    Head,
    Parent,
    Auto,
}

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let dir = match &args.repo {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    if args.runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    let since_ms = match &args.since {
        Some(text) => crate::clock::parse_date_ms(text).with_context(|| {
            format!("--since {text:?} is not a date: use YYYY-MM-DD or RFC 3339")
        })?,
        None => i64::MIN,
    };
    let repo = crate::git::Repo::open(&dir)?;
    if !db.exists() {
        anyhow::bail!(
            "no database at {}: nothing has been recorded yet",
            db.display()
        );
    }
    super::settle_hooks(db);
    let mut store = crate::store::Store::open(db)?;
    if !args.no_link {
        let options = crate::link::Options {
            main: args.main.clone(),
        };
        crate::link::link(&mut store, &repo, &options, &mut |_, _| {})
            .with_context(|| format!("cannot link {}", repo.root().display()))?;
    }
    let out = match &args.out {
        Some(out) => out.clone(),
        None => crate::curate::default_out(repo.root())
            .context("no default output directory: pass --out")?,
    };
    let cache =
        crate::curate::cache_dir().context("no cache directory: set PRODCODE_CACHE_DIR or HOME")?;
    let options = Options {
        repo: repo.root().to_path_buf(),
        out: out.clone(),
        cache,
        since_ms,
        runs: args.runs,
        jobs: args.jobs.max(1),
        base: match args.base {
            BaseArg::Head => BaseMode::Head,
            BaseArg::Parent => BaseMode::Parent,
            BaseArg::Auto => BaseMode::Auto,
        },
        allow_p2p_only: args.allow_p2p_only,
        timeout: args.timeout.map(Duration::from_secs),
        main: args.main.clone(),
    };
    drop(repo);
    stop_runs_on_signal("curate");
    let terminal = !args.json && std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} checking candidates {wide_bar} {pos}/{len} {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let progress = |event: Progress<'_>| match event {
        Progress::Started { total } => {
            if let Some(bar) = &bar {
                bar.set_length(total as u64);
            }
        }
        Progress::Decided {
            done, candidate, ..
        } => {
            if let Some(bar) = &bar {
                bar.set_position(done as u64);
                bar.println(fate_line(candidate));
            }
        }
    };
    let report = crate::curate::curate(&store, &options, &progress)
        .with_context(|| format!("cannot curate {}", options.repo.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let json = serde_json::to_string_pretty(&to_json(&report))?;
    let record = out.join("curation.json");
    crate::curate::task::write_whole(&record, format!("{json}\n").as_bytes())
        .map_err(|(path, error)| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
    if args.json {
        println!("{json}");
        return Ok(ExitCode::SUCCESS);
    }
    print_human(&report, args.explain);
    Ok(ExitCode::SUCCESS)
}

/// On Ctrl-C or `SIGTERM`, kills the test runs in progress (each runs in a process group of its
/// own, which the terminal's signal does not reach) and exits 130. What was decided so far is
/// saved; the next run resumes from it.
pub(super) fn stop_runs_on_signal(command: &'static str) {
    let spawned = std::thread::Builder::new()
        .name("prodcode-signals".to_owned())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok(mut terminate) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
                crate::tools::exec::kill_running();
                eprintln!("prodcode {command}: stopped; the next run resumes where this one was");
                std::process::exit(130);
            });
        });
    if let Err(error) = spawned {
        tracing::warn!(
            "cannot watch for Ctrl-C ({error}); test runs may outlive an interrupted {command}"
        );
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportJson<'a> {
    repo: String,
    main: &'a str,
    head: &'a str,
    out: String,
    base: &'static str,
    runs: u32,
    funnel: Vec<FunnelJson>,
    tasks: &'a [String],
    retired: Vec<RetiredJson<'a>>,
    candidates: Vec<CandidateJson<'a>>,
    timings: TimingsJson,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimingsJson {
    wall_ms: u64,
    tests_ms: u64,
}

#[derive(Serialize)]
struct FunnelJson {
    stage: &'static str,
    count: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetiredJson<'a> {
    instance_id: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CandidateJson<'a> {
    interaction_id: &'a str,
    prompt: Option<&'a str>,
    instance_id: Option<&'a str>,
    landed: &'a [String],
    ai_share: Option<f64>,
    fate: &'static str,
    stage: &'static str,
    reason: &'a str,
    detail: &'a str,
    fail_to_pass: usize,
    pass_to_pass: usize,
    resumed: bool,
}

fn to_json(report: &Report) -> ReportJson<'_> {
    ReportJson {
        repo: report.repo.to_string_lossy().into_owned(),
        main: &report.main_ref,
        head: &report.head,
        out: report.out.to_string_lossy().into_owned(),
        base: report.base.as_str(),
        runs: report.runs,
        funnel: report
            .funnel
            .iter()
            .map(|(stage, count)| FunnelJson {
                stage: stage.as_str(),
                count: *count,
            })
            .collect(),
        tasks: &report.tasks,
        retired: report
            .retired
            .iter()
            .map(|(id, reason)| RetiredJson {
                instance_id: id,
                reason,
            })
            .collect(),
        candidates: report
            .candidates
            .iter()
            .map(|candidate| CandidateJson {
                interaction_id: &candidate.interaction_id,
                prompt: candidate.prompt.as_deref(),
                instance_id: candidate.instance_id.as_deref(),
                landed: &candidate.landed,
                ai_share: candidate.ai_share,
                fate: if candidate.fate.kept {
                    "kept"
                } else {
                    "dropped"
                },
                stage: candidate.fate.stage.as_str(),
                reason: &candidate.fate.reason,
                detail: &candidate.fate.detail,
                fail_to_pass: candidate.fail_to_pass,
                pass_to_pass: candidate.pass_to_pass,
                resumed: candidate.resumed,
            })
            .collect(),
        timings: TimingsJson {
            wall_ms: report.wall_ms,
            tests_ms: report.tests_ms,
        },
    }
}

fn fate_line(candidate: &CandidateReport) -> String {
    let name = candidate
        .instance_id
        .as_deref()
        .unwrap_or(&candidate.interaction_id);
    if candidate.fate.kept {
        format!("kept    {name}: {}", candidate.fate.detail)
    } else {
        format!(
            "dropped {name} at {} ({}): {}",
            candidate.fate.stage.as_str(),
            candidate.fate.reason,
            candidate.fate.detail
        )
    }
}

pub(super) fn print_human(report: &Report, explain: bool) {
    println!(
        "{}: main is {} at {}, base {}, {} run(s) per state",
        report.repo.display(),
        report.main_ref,
        &report.head[..report.head.len().min(12)],
        report.base.as_str(),
        report.runs
    );
    println!("funnel:");
    for (stage, count) in &report.funnel {
        println!("  {:<16} {count}", stage.as_str());
    }
    if explain {
        println!("candidates:");
        for candidate in &report.candidates {
            let prompt = candidate.prompt.as_deref().unwrap_or("");
            let prompt: String = prompt.chars().take(60).collect();
            println!("  {}", fate_line(candidate));
            println!("      interaction {} {prompt:?}", candidate.interaction_id);
        }
    }
    for (id, reason) in &report.retired {
        println!("retired {id}: {reason}");
    }
    println!(
        "{} task(s) in {}",
        report.tasks.len(),
        report.out.join("tasks").display()
    );
    if !explain && report.tasks.is_empty() && !report.candidates.is_empty() {
        println!("run with --explain to see why each candidate was dropped");
    }
}
