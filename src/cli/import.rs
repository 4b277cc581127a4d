//! `prodcode import claude|codex [PATH] [--json]`: backfill prompts and edits from Claude Code
//! transcripts or Codex rollouts (see `docs/import.md`).
//!
//! The work is `capture::import`; this file picks the files, shows a progress bar when stderr is
//! a terminal, and prints the summary line (or its JSON).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::capture::import::{self, Agent, ImportError, Progress, SkipReason, Summary};
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Whose transcripts to read
    #[arg(value_enum)]
    pub agent: AgentArg,
    /// A transcript file, or a directory searched for *.jsonl files [default: the agent's own
    /// location: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects; $CODEX_HOME/sessions or
    /// ~/.codex/sessions]
    pub path: Option<PathBuf>,
    /// Print the summary as JSON (see docs/import.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum AgentArg {
    /// Claude Code transcripts (~/.claude/projects/<project>/<session>.jsonl)
    Claude,
    /// Codex rollouts (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)
    Codex,
}

impl From<AgentArg> for Agent {
    fn from(agent: AgentArg) -> Agent {
        match agent {
            AgentArg::Claude => Agent::Claude,
            AgentArg::Codex => Agent::Codex,
        }
    }
}

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let agent = Agent::from(args.agent);
    let files = match &args.path {
        Some(path) => import::find_transcripts(path)?,
        None => {
            let root = agent.default_root().with_context(|| {
                format!(
                    "cannot find {}'s transcripts: set HOME, or give a PATH",
                    agent.name()
                )
            })?;
            if root.exists() {
                import::find_transcripts(&root)?
            } else {
                // Not an error: this agent was never used here.
                eprintln!(
                    "prodcode import {}: no transcripts at {} (nothing to import)",
                    agent.name(),
                    root.display()
                );
                Vec::new()
            }
        }
    };
    let mut store = Store::open(db).map_err(|error| {
        if error.is_busy() {
            anyhow::anyhow!(
                "the database at {} is locked by another process and stayed locked for the busy \
                 timeout; nothing was imported. Run the import again when the other writer is \
                 done. ({error})",
                db.display()
            )
        } else {
            error.into()
        }
    })?;
    let mut progress = Bar::new(std::io::stderr().is_terminal());
    let result = import::import(&mut store, agent, &files, &mut progress);
    progress.finish();
    let summary = result.map_err(explain)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&SummaryJson::from(&summary))?
        );
    } else {
        println!("{}", summary_line(&summary));
    }
    Ok(ExitCode::SUCCESS)
}

/// A database that stayed locked gets a message that says what to do.
fn explain(error: ImportError) -> anyhow::Error {
    match error {
        ImportError::Store { file, source } if source.is_busy() => anyhow::anyhow!(
            "the database is locked by another process and stayed locked for the busy timeout; \
             nothing from {} on was recorded (everything before it was). Run the import again \
             when the other writer is done: it continues where this one stopped. ({source})",
            file.display()
        ),
        other => other.into(),
    }
}

/// `N sessions, M prompts, K edits, J skipped[: reasons]`.
pub fn summary_line(summary: &Summary) -> String {
    let mut line = format!(
        "{} sessions, {} prompts, {} edits, {} skipped",
        summary.sessions,
        summary.prompts,
        summary.edits,
        summary.skipped_total()
    );
    let reasons: Vec<String> = summary
        .skipped
        .iter()
        .map(|(reason, count)| describe(*reason, *count))
        .collect();
    if !reasons.is_empty() {
        line.push_str(": ");
        line.push_str(&reasons.join(", "));
    }
    line
}

fn describe(reason: SkipReason, count: u64) -> String {
    let plural = |one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    match reason {
        SkipReason::AlreadyImported => format!("{count} already imported"),
        SkipReason::AlreadyCaptured => format!("{count} already captured"),
        SkipReason::OptedOut => format!("{count} in opted-out repositories"),
        SkipReason::FailedEdit => plural("failed edit", "failed edits"),
        SkipReason::MalformedLine => plural("malformed line", "malformed lines"),
        SkipReason::UnreadableFile => plural("unreadable file", "unreadable files"),
    }
}

#[derive(Serialize)]
struct SummaryJson {
    files: u64,
    sessions: u64,
    prompts: u64,
    edits: u64,
    skipped: u64,
    /// Counts by reason id; every reason is present.
    reasons: serde_json::Map<String, serde_json::Value>,
}

impl From<&Summary> for SummaryJson {
    fn from(summary: &Summary) -> SummaryJson {
        SummaryJson {
            files: summary.files,
            sessions: summary.sessions,
            prompts: summary.prompts,
            edits: summary.edits,
            skipped: summary.skipped_total(),
            reasons: SkipReason::ALL
                .iter()
                .map(|reason| {
                    let count = summary.skipped.get(reason).copied().unwrap_or(0);
                    (reason.id().to_owned(), count.into())
                })
                .collect(),
        }
    }
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(terminal: bool) -> Bar {
        Bar(terminal.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(0),
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        }))
    }

    fn finish(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn start(&mut self, files: u64, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(bytes);
            bar.set_message(format!("{files} files"));
        }
    }

    fn file(&mut self, path: &Path) {
        if let Some(bar) = &self.0 {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            bar.set_message(name);
        }
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line() {
        let mut summary = Summary {
            files: 2,
            sessions: 3,
            prompts: 5,
            edits: 4,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(&summary),
            "3 sessions, 5 prompts, 4 edits, 0 skipped"
        );
        summary.skipped.insert(SkipReason::AlreadyImported, 2);
        summary.skipped.insert(SkipReason::MalformedLine, 1);
        assert_eq!(
            summary_line(&summary),
            "3 sessions, 5 prompts, 4 edits, 3 skipped: 2 already imported, 1 malformed line"
        );
    }
}
