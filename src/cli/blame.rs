//! `prodcode blame FILE [--rev REV]`: the provenance of every line of a file.
//!
//! Three sources, best first:
//! - a committed line (what `git blame` says a commit introduced) has the provenance `prodcode
//!   link` recorded for that line of that commit (`commit_lines`), `untracked` when the commit
//!   was linked but nothing covers the line;
//! - a line not committed yet, or committed in a commit never linked, has the provenance saved
//!   for the working file (the last snapshot, re-attached to the text as it is now);
//! - with `--rev` there is no working file: lines of commits never linked are `untracked`.
//!
//! A file outside a git repository, one git does not track, or a repository without commits
//! gets the snapshot-based answer alone.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::git::BlameLine;
use crate::model::Provenance;
use crate::store::{LineRange, RepoId, Store};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file to show
    pub file: PathBuf,
    /// Show the file as committed at this revision (a commit, a branch, `HEAD~3`) instead of
    /// the working file
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Print JSON: { "path", "rev"?, "lines": [ { "line", "class", "interactionId"?, "commit"? } ] }
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct BlameJson<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rev: Option<&'a str>,
    lines: Vec<LineJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineJson<'a> {
    line: usize,
    class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    interaction_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
}

/// One line as shown.
struct Shown {
    provenance: Provenance,
    /// The commit that introduced it, when known from git.
    commit: Option<String>,
    content: String,
}

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let store = super::open_existing(db)?;
    let (path, rev, lines, with_commits) = match &args.rev {
        Some(rev) => {
            let (path, sha, lines) = at_revision(store.as_ref(), &args.file, rev)?;
            (path, Some(sha), lines, true)
        }
        None => {
            let (path, lines, from_git) = working_file(store.as_ref(), &args.file)?;
            (path, None, lines, from_git)
        }
    };
    let path_text = path.to_string_lossy();
    if args.json {
        let json = BlameJson {
            path: &path_text,
            rev: rev.as_deref(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(index, shown)| LineJson {
                    line: index + 1,
                    class: shown.provenance.class().as_str(),
                    interaction_id: shown.provenance.interaction().map(|id| id.as_str()),
                    commit: shown.commit.as_deref(),
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = lines.len().to_string().len();
    for (index, shown) in lines.iter().enumerate() {
        let who = shown
            .provenance
            .interaction()
            .map(|id| shorten(id.as_str()))
            .unwrap_or_default();
        let commit = if with_commits {
            format!(
                "{:<8} ",
                shown
                    .commit
                    .as_deref()
                    .map_or("", |sha| &sha[..sha.len().min(8)])
            )
        } else {
            String::new()
        };
        println!(
            "{:>width$} {commit}{:<11} {:<12} | {}",
            index + 1,
            shown.provenance.class().as_str(),
            who,
            shown.content
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The working file: git blame's lines with their commits' provenance where git knows them, the
/// saved provenance elsewhere. The flag says whether git answered.
fn working_file(store: Option<&Store>, file: &Path) -> anyhow::Result<(PathBuf, Vec<Shown>, bool)> {
    let path = file
        .canonicalize()
        .with_context(|| format!("cannot open {}", file.display()))?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    // A file that is not UTF-8 is still shown; its undecodable bytes print as U+FFFD.
    let text = String::from_utf8_lossy(&bytes);
    let snapshot = match store {
        Some(store) => store.latest_snapshot(&path.to_string_lossy())?,
        None => None,
    };
    let tracked = crate::reattach::reattach(snapshot.as_ref(), &text);
    let saved = tracked.provenance();

    if let Some((root, blamed)) = git_blame(&path) {
        // The engine also ends a line at a lone `\r`; git does not, so line numbers would
        // disagree and the saved provenance cannot be used by number.
        let lone_cr = text
            .as_bytes()
            .windows(2)
            .any(|pair| pair[0] == b'\r' && pair[1] != b'\n')
            || text.ends_with('\r');
        let mut history = History::new(store, &root)?;
        history.load(blamed.iter().filter_map(|line| line.sha.as_deref()))?;
        let lines = blamed
            .into_iter()
            .map(|line| {
                let from_commit = line
                    .sha
                    .as_deref()
                    .and_then(|sha| history.provenance(sha, &line.orig_path, line.orig_line));
                let provenance = from_commit.unwrap_or_else(|| {
                    let index = line.line as usize;
                    match saved.get(index.wrapping_sub(1)) {
                        Some(provenance) if !lone_cr => provenance.clone(),
                        _ => Provenance::Untracked,
                    }
                });
                Shown {
                    provenance,
                    commit: line.sha,
                    content: line.content,
                }
            })
            .collect();
        return Ok((path, lines, true));
    }

    // Lines as the engine counts them (`\n`, `\r\n` and a lone `\r` end a line). The empty line
    // after a final line break is an LSP line, not a line anybody wrote.
    let count = tracked.line_count();
    let ends_with_break = count > 1 && tracked.line_content(count as u32 - 1) == Some("");
    let shown = if ends_with_break { count - 1 } else { count };
    let lines = saved
        .iter()
        .take(shown)
        .enumerate()
        .map(|(index, provenance)| Shown {
            provenance: provenance.clone(),
            commit: None,
            content: tracked
                .line_content(index as u32)
                .unwrap_or_default()
                .to_owned(),
        })
        .collect();
    Ok((path, lines, false))
}

/// The file as committed at `rev`: every line with the provenance its commit recorded.
fn at_revision(
    store: Option<&Store>,
    file: &Path,
    rev: &str,
) -> anyhow::Result<(PathBuf, String, Vec<Shown>)> {
    let path = absolute(file)?;
    let repo = crate::git::Repo::open(&existing_ancestor(&path))
        .with_context(|| format!("--rev needs a git repository around {}", path.display()))?;
    let root = repo.root().to_path_buf();
    let rel = crate::git::relative_path(&root, &path)
        .with_context(|| format!("{} is not in {}", path.display(), root.display()))?;
    let sha = repo
        .resolve(rev)
        .with_context(|| format!("cannot resolve {rev}"))?;
    let blamed = crate::git::blame(&root, Some(&sha), &rel)
        .with_context(|| format!("cannot blame {rel} at {rev}"))?;
    let mut history = History::new(store, &root)?;
    history.load(blamed.iter().filter_map(|line| line.sha.as_deref()))?;
    let lines = blamed
        .into_iter()
        .map(|line| Shown {
            provenance: line
                .sha
                .as_deref()
                .and_then(|sha| history.provenance(sha, &line.orig_path, line.orig_line))
                .unwrap_or(Provenance::Untracked),
            commit: line.sha,
            content: line.content,
        })
        .collect();
    Ok((path, sha, lines))
}

/// `git blame` of the working file `path`, if it is in a repository with commits and git
/// tracks it: the work tree's root and the lines.
fn git_blame(path: &Path) -> Option<(PathBuf, Vec<BlameLine>)> {
    let repo = crate::git::Repo::open(path).ok()?;
    let root = repo.root().to_path_buf();
    let rel = crate::git::relative_path(&root, path)?;
    match crate::git::blame(&root, None, &rel) {
        Ok(lines) => Some((root, lines)),
        Err(error) => {
            tracing::debug!("no git history for {}: {error}", path.display());
            None
        }
    }
}

/// `file` as an absolute path, canonical as far as it exists (with `--rev` the file may have
/// been deleted or renamed since).
fn absolute(file: &Path) -> anyhow::Result<PathBuf> {
    if let Ok(path) = file.canonicalize() {
        return Ok(path);
    }
    let absolute = std::path::absolute(file)
        .with_context(|| format!("cannot make {} absolute", file.display()))?;
    let base = existing_ancestor(&absolute);
    let rest = absolute.strip_prefix(&base).unwrap_or(Path::new(""));
    let base = base.canonicalize().unwrap_or(base);
    Ok(base.join(rest))
}

/// The nearest directory of `path` (itself included) that exists.
fn existing_ancestor(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|ancestor| ancestor.is_dir())
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// The recorded provenance of commits' lines, each commit read once.
struct History<'a> {
    store: Option<&'a Store>,
    repo_id: Option<RepoId>,
    /// By commit: `None` when it was never linked; else its ranges by path, in line order.
    commits: HashMap<String, Option<HashMap<String, Vec<LineRange>>>>,
}

impl<'a> History<'a> {
    fn new(store: Option<&'a Store>, root: &Path) -> anyhow::Result<History<'a>> {
        let repo_id = match store {
            Some(store) => store
                .repository_id(&root.to_string_lossy())?
                .map(|(id, _)| id),
            None => None,
        };
        Ok(History {
            store,
            repo_id,
            commits: HashMap::new(),
        })
    }

    fn load<'s>(&mut self, shas: impl Iterator<Item = &'s str>) -> anyhow::Result<()> {
        let wanted: HashSet<&str> = shas.collect();
        for sha in wanted {
            let ranges = match (self.store, self.repo_id) {
                (Some(store), Some(repo_id)) => match store.linked_commit(repo_id, sha)? {
                    Some(commit) => {
                        let mut by_path: HashMap<String, Vec<LineRange>> = HashMap::new();
                        for range in store.commit_line_ranges(commit.id)? {
                            by_path.entry(range.path.clone()).or_default().push(range);
                        }
                        for ranges in by_path.values_mut() {
                            ranges.sort_by_key(|range| range.start_line);
                        }
                        Some(by_path)
                    }
                    None => None,
                },
                _ => None,
            };
            self.commits.insert(sha.to_owned(), ranges);
        }
        Ok(())
    }

    /// The provenance `link` recorded for line `line` (1-based) of `path` in commit `sha`;
    /// `None` when the commit was never linked (or not loaded).
    fn provenance(&self, sha: &str, path: &str, line: u32) -> Option<Provenance> {
        let by_path = self.commits.get(sha)?.as_ref()?;
        let covering = by_path.get(path).and_then(|ranges| {
            let after = ranges.partition_point(|range| range.start_line <= line);
            ranges[..after]
                .last()
                .filter(|range| range.end_line >= line)
        });
        Some(covering.map_or(Provenance::Untracked, |range| range.provenance.clone()))
    }
}

fn shorten(id: &str) -> String {
    if id.chars().count() <= 12 {
        id.to_owned()
    } else {
        let head: String = id.chars().take(11).collect();
        format!("{head}…")
    }
}
