//! `prodcode link`: attribute every new commit of a repository and follow commits to main.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::link::{Landed, Linked, Options, Report};
use crate::model::LineClass;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A directory in the repository [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The main branch [default: `[link] main` in prodcode.toml, else the remote's HEAD, else
    /// main, else master]
    #[arg(long, value_name = "BRANCH")]
    pub main: Option<String>,
    /// Print nothing (for git hooks and background runs)
    #[arg(long, short)]
    pub quiet: bool,
    /// Print JSON (see docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportJson<'a> {
    repo: String,
    main: Option<&'a str>,
    main_tip: Option<&'a str>,
    linked: Vec<LinkedJson<'a>>,
    landed: Vec<LandedJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deferred: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkedJson<'a> {
    sha: &'a str,
    summary: &'a str,
    on_main: bool,
    lines: ClassCounts,
    excluded: u32,
}

/// Line counts by class, under the class names used everywhere.
#[derive(Serialize, Default, Clone, Copy)]
pub(super) struct ClassCounts {
    pub ai: u64,
    pub ai_modified: u64,
    pub human: u64,
    pub untracked: u64,
}

impl ClassCounts {
    pub fn from_array(counts: [u32; 4]) -> ClassCounts {
        let mut out = ClassCounts::default();
        for (class, count) in LineClass::ALL.into_iter().zip(counts) {
            out.add(class, u64::from(count));
        }
        out
    }

    pub fn add(&mut self, class: LineClass, count: u64) {
        match class {
            LineClass::Ai => self.ai += count,
            LineClass::AiModified => self.ai_modified += count,
            LineClass::Human => self.human += count,
            LineClass::Untracked => self.untracked += count,
        }
    }
}

#[derive(Serialize)]
struct LandedJson<'a> {
    commit: &'a str,
    main: &'a str,
    via: &'static str,
    lines: u32,
}

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let dir = match &args.repo {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let repo = crate::git::Repo::open(&dir)?;
    super::settle_hooks(db);
    let mut store = crate::store::Store::open(db)?;
    let options = Options {
        main: args.main.clone(),
    };
    let terminal = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} linking commits {wide_bar} {pos}/{len} ({eta})",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let report = crate::link::link(&mut store, &repo, &options, &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    })
    .with_context(|| format!("cannot link {}", repo.root().display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&report))?);
        return Ok(ExitCode::SUCCESS);
    }
    print_human(&report);
    Ok(ExitCode::SUCCESS)
}

fn to_json(report: &Report) -> ReportJson<'_> {
    ReportJson {
        repo: report.root.to_string_lossy().into_owned(),
        main: report.main_ref.as_deref(),
        main_tip: report.main_tip.as_deref(),
        linked: report.linked.iter().map(linked_json).collect(),
        landed: report.landed.iter().map(landed_json).collect(),
        deferred: report.deferred,
    }
}

fn linked_json(linked: &Linked) -> LinkedJson<'_> {
    LinkedJson {
        sha: &linked.sha,
        summary: &linked.summary,
        on_main: linked.on_main,
        lines: ClassCounts::from_array(linked.counts),
        excluded: linked.excluded,
    }
}

fn landed_json(landed: &Landed) -> LandedJson<'_> {
    LandedJson {
        commit: &landed.commit,
        main: &landed.main,
        via: landed.via.as_str(),
        lines: landed.lines,
    }
}

fn print_human(report: &Report) {
    match (&report.main_ref, &report.main_tip) {
        (Some(name), Some(tip)) => {
            println!(
                "{}: main is {name} at {}",
                report.root.display(),
                short(tip)
            );
        }
        _ => println!(
            "{}: no main branch yet (no main or master; use --main or [link] main in prodcode.toml)",
            report.root.display()
        ),
    }
    if let Some(operation) = report.deferred {
        println!("a {operation} is in progress: nothing linked until it ends");
        return;
    }
    if report.linked.is_empty() && report.landed.is_empty() {
        println!("nothing new to link");
        return;
    }
    for linked in &report.linked {
        let counts = ClassCounts::from_array(linked.counts);
        println!(
            "linked {} {}  ai {}, ai_modified {}, human {}, untracked {}{}{}",
            short(&linked.sha),
            linked.summary,
            counts.ai,
            counts.ai_modified,
            counts.human,
            counts.untracked,
            if linked.excluded > 0 {
                format!(", {} excluded", linked.excluded)
            } else {
                String::new()
            },
            if linked.on_main { " (on main)" } else { "" },
        );
    }
    for landed in &report.landed {
        if landed.commit == landed.main {
            continue;
        }
        println!(
            "landed {} in {} ({}, {} lines)",
            short(&landed.commit),
            short(&landed.main),
            landed.via.as_str(),
            landed.lines
        );
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}
