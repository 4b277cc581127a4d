//! `prodcode stats [REV|RANGE]`: the added lines of linked commits by class, per agent and model,
//! and per interaction.
//!
//! Without a revision it counts every linked commit on the main branch; with one it counts the
//! commits `git rev-list` names for it, and says how many of them were never linked. Counts come
//! from what `prodcode link` stored (`commits`, `commit_lines`), never from the work tree.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::model::LineClass;
use crate::store::{CommitReport, InteractionInfo, LineRange, RepoId, Store};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A commit (`HEAD~2`) or a range (`main..topic`, `A...B`) [default: every linked commit on
    /// the main branch]
    #[arg(value_name = "REV|RANGE")]
    pub range: Option<String>,
    /// A directory in the repository [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Print JSON (see docs/cli.md)
    #[arg(long)]
    pub json: bool,
    /// Read the team store (postgres://…): every device's commits and interactions of this
    /// repository, known by its root commit or remote URL
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

/// The commits a report covers, with their attributed lines.
pub(super) struct Selection {
    pub root: PathBuf,
    pub repo_id: Option<RepoId>,
    /// Linked commits, oldest first, each with its line ranges.
    pub commits: Vec<(CommitReport, Vec<LineRange>)>,
    /// Commits of the range that were never linked.
    pub unlinked: Vec<String>,
}

/// The linked commits on main (no `range`), or the commits `range` names, of the repository
/// containing `dir`.
pub(super) fn select(
    store: Option<&Store>,
    dir: Option<&Path>,
    range: Option<&str>,
) -> anyhow::Result<Selection> {
    let dir = match dir {
        Some(dir) => dir.to_path_buf(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let repo = crate::git::Repo::open(&dir)?;
    let root = repo.root().to_path_buf();
    let repo_id = match store {
        Some(store) => store
            .repository_id(&root.to_string_lossy())?
            .map(|(id, _)| id),
        None => None,
    };
    let mut selection = Selection {
        root,
        repo_id,
        commits: Vec::new(),
        unlinked: Vec::new(),
    };
    let linked = match range {
        None => match (store, repo_id) {
            (Some(store), Some(repo_id)) => store.commits_on_main(repo_id)?,
            _ => Vec::new(),
        },
        Some(range) => {
            let shas = crate::git::rev_list(&selection.root, range)
                .with_context(|| format!("cannot list the commits of {range}"))?;
            let mut linked = Vec::new();
            for sha in shas {
                let found = match (store, repo_id) {
                    (Some(store), Some(repo_id)) => store.commit_report(repo_id, &sha)?,
                    _ => None,
                };
                match found {
                    Some(commit) => linked.push(commit),
                    None => selection.unlinked.push(sha),
                }
            }
            linked
        }
    };
    if let Some(store) = store {
        for commit in linked {
            let ranges = store.commit_line_ranges(commit.id)?;
            selection.commits.push((commit, ranges));
        }
    }
    Ok(selection)
}

#[derive(Serialize)]
struct StatsJson {
    repo: String,
    range: Option<String>,
    commits: usize,
    unlinked: usize,
    lines: LinesJson,
    agents: Vec<AgentJson>,
    interactions: Vec<InteractionJson>,
}

#[derive(Serialize, Default)]
struct LinesJson {
    added: u64,
    excluded: u64,
    ai: u64,
    ai_modified: u64,
    human: u64,
    untracked: u64,
}

#[derive(Serialize)]
struct AgentJson {
    agent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    ai: u64,
    ai_modified: u64,
}

#[derive(Serialize)]
struct InteractionJson {
    #[serde(rename = "interactionId")]
    interaction_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
    ai: u64,
    ai_modified: u64,
    commits: Vec<String>,
}

/// The AI lines of one interaction in the selection.
#[derive(Default)]
struct Tally {
    ai: u64,
    ai_modified: u64,
    commits: Vec<String>,
}

impl Tally {
    fn total(&self) -> u64 {
        self.ai + self.ai_modified
    }
}

/// Prompts in reports are cut to this many characters.
pub(super) const PROMPT_CHARS: usize = 200;

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let store = super::open_existing(db)?;
    let selection = select(store.as_ref(), args.repo.as_deref(), args.range.as_deref())?;
    let stats = compute(store.as_ref(), &selection, args.range.clone())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print_human(&stats);
    }
    Ok(ExitCode::SUCCESS)
}

fn compute(
    store: Option<&Store>,
    selection: &Selection,
    range: Option<String>,
) -> anyhow::Result<StatsJson> {
    let mut lines = LinesJson::default();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (commit, ranges) in &selection.commits {
        lines.added += u64::from(commit.lines_added);
        lines.excluded += u64::from(commit.lines_excluded);
        for range in ranges {
            let count = u64::from(range.end_line.saturating_sub(range.start_line)) + 1;
            let class = range.provenance.class();
            match class {
                LineClass::Ai => lines.ai += count,
                LineClass::AiModified => lines.ai_modified += count,
                LineClass::Human => lines.human += count,
                LineClass::Untracked => lines.untracked += count,
            }
            let Some(id) = range.provenance.interaction() else {
                continue;
            };
            let tally = tallies.entry(id.to_string()).or_default();
            if class == LineClass::Ai {
                tally.ai += count;
            } else {
                tally.ai_modified += count;
            }
            if tally.commits.last() != Some(&commit.sha) {
                tally.commits.push(commit.sha.clone());
            }
        }
    }
    let infos: HashMap<String, InteractionInfo> = match store {
        Some(store) => store.interaction_infos(tallies.keys().map(String::as_str))?,
        None => HashMap::new(),
    };

    let mut agents: BTreeMap<(String, Option<String>), (u64, u64)> = BTreeMap::new();
    let mut interactions = Vec::with_capacity(tallies.len());
    for (id, tally) in tallies {
        let info = infos.get(&id);
        let agent = info.and_then(|info| info.agent.clone());
        let model = info.and_then(|info| info.model.clone());
        let entry = agents
            .entry((
                agent.clone().unwrap_or_else(|| "unknown".to_owned()),
                model.clone(),
            ))
            .or_default();
        entry.0 += tally.ai;
        entry.1 += tally.ai_modified;
        interactions.push((
            tally.total(),
            InteractionJson {
                interaction_id: id,
                agent,
                model,
                prompt: info
                    .and_then(|info| info.first_prompt.as_deref())
                    .map(|prompt| truncate(prompt, PROMPT_CHARS)),
                ai: tally.ai,
                ai_modified: tally.ai_modified,
                commits: tally.commits,
            },
        ));
    }
    // Most lines first; ties by id (the map gave id order, and the sort is stable).
    interactions.sort_by_key(|(total, _)| std::cmp::Reverse(*total));
    let mut agents: Vec<AgentJson> = agents
        .into_iter()
        .map(|((agent, model), (ai, ai_modified))| AgentJson {
            agent,
            model,
            ai,
            ai_modified,
        })
        .collect();
    agents.sort_by_key(|agent| std::cmp::Reverse(agent.ai + agent.ai_modified));
    Ok(StatsJson {
        repo: selection.root.to_string_lossy().into_owned(),
        range,
        commits: selection.commits.len(),
        unlinked: selection.unlinked.len(),
        lines,
        agents,
        interactions: interactions.into_iter().map(|(_, json)| json).collect(),
    })
}

fn print_human(stats: &StatsJson) {
    let plural = if stats.commits == 1 { "" } else { "s" };
    let scope = match &stats.range {
        Some(range) => format!("linked commit{plural} in {range}"),
        None => format!("linked commit{plural} on the main branch"),
    };
    println!("{}: {} {scope}", stats.repo, stats.commits);
    if stats.unlinked > 0 {
        println!(
            "{} commit{} in the range {} never linked: run `prodcode link` first",
            stats.unlinked,
            if stats.unlinked == 1 { "" } else { "s" },
            if stats.unlinked == 1 { "was" } else { "were" },
        );
    }
    if stats.commits == 0 {
        if stats.range.is_none() {
            println!("nothing linked on main yet: run `prodcode link`");
        }
        return;
    }
    let lines = &stats.lines;
    let width = lines.added.max(lines.excluded).to_string().len().max(5);
    println!();
    println!("  {:<13} {:>width$}", "lines added", lines.added);
    for (name, count) in [
        ("ai", lines.ai),
        ("ai_modified", lines.ai_modified),
        ("human", lines.human),
        ("untracked", lines.untracked),
    ] {
        println!(
            "    {name:<11} {count:>width$}  {:>6}",
            percent(count, lines.added)
        );
    }
    println!(
        "  {:<13} {:>width$}  (lockfiles, generated, vendored, ignored)",
        "excluded", lines.excluded
    );
    let ai_total = lines.ai + lines.ai_modified;
    if ai_total > 0 {
        println!(
            "\n  AI lines kept unchanged: {} of {ai_total} ({}); changed by a person: {}",
            lines.ai,
            percent(lines.ai, ai_total),
            lines.ai_modified
        );
    }
    if !stats.agents.is_empty() {
        println!("\nby agent and model");
        let rows: Vec<[String; 3]> = stats
            .agents
            .iter()
            .map(|agent| {
                [
                    agent.agent.clone(),
                    agent.model.clone().unwrap_or_else(|| "-".to_owned()),
                    format!("ai {:>5}  ai_modified {:>5}", agent.ai, agent.ai_modified),
                ]
            })
            .collect();
        print_columns(&rows);
    }
    if !stats.interactions.is_empty() {
        println!("\nby interaction");
        for interaction in &stats.interactions {
            let who = [interaction.agent.as_deref(), interaction.model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / ");
            println!(
                "  {}  ai {}  ai_modified {}  in {}{}",
                interaction.interaction_id,
                interaction.ai,
                interaction.ai_modified,
                interaction
                    .commits
                    .iter()
                    .map(|sha| short(sha))
                    .collect::<Vec<_>>()
                    .join(" "),
                if who.is_empty() {
                    String::new()
                } else {
                    format!("  ({who})")
                }
            );
            if let Some(prompt) = &interaction.prompt {
                println!("    > {}", one_line(prompt, 100));
            }
        }
    }
}

/// Left-aligned columns, two spaces apart.
fn print_columns(rows: &[[String; 3]]) {
    let mut widths = [0; 3];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for [a, b, c] in rows {
        println!("  {a:<w0$}  {b:<w1$}  {c}", w0 = widths[0], w1 = widths[1]);
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// The first ten hex digits of a commit id.
pub(super) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// `text` cut to at most `max` characters.
pub(super) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

/// `text` on one line, cut to `max` characters with an ellipsis.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let head: String = flat.chars().take(max - 1).collect();
        format!("{head}…")
    }
}
