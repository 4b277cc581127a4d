//! Linking recorded provenance to commits, and commits to the main branch.
//!
//! [`link`] finds the commits made since the last run (from every branch tip, remote-tracking
//! branch and the reflogs, so amended and rebased-away commits are seen too), attributes each
//! one's added lines (`attribute`), and follows the main branch: a commit lands when it becomes
//! reachable from main, when main gains a copy of it (same patch id: rebase, cherry-pick), or when
//! main gains a commit carrying its recorded lines (squash merges, by content fingerprint). An
//! amended commit is replaced by its amendment and never lands itself.
//!
//! Invariants:
//! - Decisions use commits, blobs and recorded provenance only, never the live work tree.
//! - Idempotent and safe to run concurrently: every commit is written once, in its own
//!   transaction, and a second run (or a racing one) finds nothing new.
//! - Missing evidence is `untracked`; ambiguous evidence (one content, several provenances) too.

mod attribute;
mod exclude;
mod fingerprint;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::git::{GitError, ReflogEntry, Repo};
use crate::store::{LinkState, NewCommit, RepoId, Store, StoreError};

pub use exclude::Excluder;
pub use fingerprint::fingerprint;

/// History older than this before prodcode first saw a repository holds nothing recorded.
const HISTORY_SLACK_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Ignore(String),
    #[error(
        "the main branch `{0}` (from --main or [link] main in prodcode.toml) does not exist: name an existing branch, such as main or origin/main"
    )]
    NoMain(String),
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The main branch, overriding `prodcode.toml` and the default.
    pub main: Option<String>,
}

/// How a commit's work reached the main branch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Via {
    /// The commit itself is reachable from main (fast-forward, merge, committed on main).
    Reachable,
    /// A copy with the same patch id is (rebase, cherry-pick).
    PatchId,
    /// A commit carrying its recorded lines is (squash merge, local or on a server).
    Squash,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Reachable => "reachable",
            Via::PatchId => "patch_id",
            Via::Squash => "squash",
        }
    }
}

/// One commit linked by a run.
#[derive(Clone, Debug)]
pub struct Linked {
    pub sha: String,
    pub summary: String,
    pub on_main: bool,
    /// Added lines outside excluded files, by class in `LineClass::ALL` order.
    pub counts: [u32; 4],
    pub excluded: u32,
}

/// One landing found by a run.
#[derive(Clone, Debug)]
pub struct Landed {
    /// The recorded commit whose work landed.
    pub commit: String,
    /// The commit on main that carries it.
    pub main: String,
    pub via: Via,
    pub lines: u32,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub root: PathBuf,
    pub main_ref: Option<String>,
    pub main_tip: Option<String>,
    pub linked: Vec<Linked>,
    pub landed: Vec<Landed>,
    /// Commits that could not be read, with why.
    pub skipped: Vec<(String, String)>,
    /// The git operation in progress (`rebase`, `merge`, `cherry-pick`, `revert`, `am`) that made
    /// this run link nothing.
    pub deferred: Option<&'static str>,
}

/// Links everything new in `repo` since the last run. `progress` is told how many commits there
/// are to attribute, then called after each.
pub fn link(
    store: &mut Store,
    repo: &Repo,
    options: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, LinkError> {
    let root = repo.root().to_path_buf();
    let root_text = root.to_string_lossy().into_owned();
    let config = crate::config::load(&root)?;
    let excluder = Excluder::new(&config.link.ignore).map_err(LinkError::Ignore)?;
    let repo_id = store.write(|writer| writer.upsert_repository(&root_text))?;
    let first_seen = store
        .repository_id(&root_text)?
        .map(|(_, first_seen)| first_seen)
        .unwrap_or_else(crate::clock::now_ms);
    let cutoff = first_seen - HISTORY_SLACK_MS;
    let state = store.link_state(repo_id)?.unwrap_or_default();
    let configured = options.main.as_deref().or(config.link.main.as_deref());
    let main = repo.main_branch(configured);
    if let (Some(name), None) = (configured, &main) {
        return Err(LinkError::NoMain(name.to_owned()));
    }

    let mut report = Report {
        root: root.clone(),
        main_ref: main.as_ref().map(|(name, _)| name.clone()),
        main_tip: main.as_ref().map(|(_, tip)| tip.clone()),
        linked: Vec::new(),
        landed: Vec::new(),
        skipped: Vec::new(),
        deferred: repo.operation_in_progress(),
    };
    // In the middle of a rebase, merge, cherry-pick or revert, HEAD and the reflog hold commits
    // the operation may still replace or throw away (issue 18): nothing is linked until it
    // ends, and the next run (the ref watcher, the next post-commit hook) sees it whole.
    if report.deferred.is_some() {
        progress(0, 0);
        return Ok(report);
    }

    // Everything reachable from a tip or a reflog entry and not from what the last run saw.
    let tips = repo.tips()?;
    // The cursor's entries give new starting points; a day more tells which commits were made
    // here even when their dates (and so their reflog entries) are behind the clock.
    let since = state.reflog_ms.max(cutoff);
    let history = repo.reflog_since((since - HISTORY_SLACK_MS).max(cutoff))?;
    let reflog: Vec<ReflogEntry> = history
        .iter()
        .filter(|entry| entry.ts_ms >= since)
        .cloned()
        .collect();
    let made_here = MadeHere::from_reflog(&history);
    let mut starts: Vec<String> = tips.iter().map(|(_, sha)| sha.clone()).collect();
    starts.extend(reflog_starts(&reflog).into_iter().map(str::to_owned));
    // Stashes are linked as evidence only: a pop brings their lines back into a later commit.
    let stashes: HashSet<String> = repo.stash_commits()?.into_iter().collect();
    starts.extend(stashes.iter().cloned());
    let made_here = made_here.with(&stashes);
    if let Some((_, tip)) = &main {
        starts.push(tip.clone());
    }
    starts.sort();
    starts.dedup();
    let hidden: Vec<String> = state.tips.iter().map(|(_, sha)| sha.clone()).collect();
    let known = store.linked_shas(repo_id)?;
    let candidates: Vec<String> = repo
        .new_commits(&starts, &hidden, cutoff)?
        .into_iter()
        .filter(|sha| !known.contains(sha))
        .collect();

    // New on main since the last run: linked after the branch commits they may copy.
    let main_new: Vec<String> = match &main {
        Some((_, tip)) => {
            let previous: Vec<String> = state.main_tip.iter().cloned().collect();
            repo.new_commits(std::slice::from_ref(tip), &previous, cutoff)?
        }
        None => Vec::new(),
    };
    let on_main: HashSet<&str> = main_new.iter().map(String::as_str).collect();
    let ordered: Vec<&String> = candidates
        .iter()
        .filter(|sha| !on_main.contains(sha.as_str()))
        .chain(
            candidates
                .iter()
                .filter(|sha| on_main.contains(sha.as_str())),
        )
        .collect();

    let total = ordered.len();
    progress(0, total);
    for (done, sha) in ordered.into_iter().enumerate() {
        let stash = stashes.contains(sha.as_str());
        let local = made_here.contains(sha);
        match link_commit(store, repo, repo_id, &excluder, sha, stash, local) {
            Ok(Some(_)) if stash => {}
            Ok(Some(linked)) => report.linked.push(Linked {
                on_main: on_main.contains(sha.as_str()),
                ..linked
            }),
            Ok(None) => {}
            // A commit git cannot diff (a shallow clone's boundary, a missing object) is left
            // unlinked; the rest of the history still is.
            Err(LinkError::Git(error)) => {
                tracing::warn!("not linking {sha}: {error}");
                report.skipped.push((sha.clone(), error.to_string()));
            }
            Err(error) => return Err(error),
        }
        progress(done + 1, total);
    }

    // Amended commits are replaced by their amendment.
    let zero = |sha: &str| sha.bytes().all(|b| b == b'0');
    let amended: Vec<(&str, &str)> = reflog
        .iter()
        .filter(|entry| entry.message.starts_with("commit (amend)") && !zero(&entry.old))
        .map(|entry| (entry.old.as_str(), entry.new.as_str()))
        .collect();
    if !amended.is_empty() {
        store.write(|writer| {
            for (old, new) in &amended {
                writer.mark_replaced(repo_id, old, new)?;
            }
            Ok(())
        })?;
    }

    for sha in &main_new {
        report
            .landed
            .extend(land(store, repo_id, sha, crate::clock::now_ms())?);
    }

    let new_state = LinkState {
        main_ref: report.main_ref.clone(),
        main_tip: report.main_tip.clone().or(state.main_tip),
        tips,
        reflog_ms: reflog
            .iter()
            .map(|entry| entry.ts_ms)
            .max()
            .unwrap_or(state.reflog_ms),
    };
    store.write(|writer| writer.save_link_state(repo_id, &new_state))?;
    Ok(report)
}

/// The commits made in this clone, by the reflog: what was recorded here (snapshots of this work
/// tree) can only be evidence for those. A commit fetched from elsewhere (a teammate's, a server's
/// squash merge) shares no history with this work tree, and lines that merely align with recorded
/// ones (a blank line, a `}`, a repeated `return 0`) are not this developer's (issue 10).
struct MadeHere {
    shas: HashSet<String>,
    /// No reflog at all (`core.logAllRefUpdates` off): nothing tells, so every commit counts.
    unknown: bool,
}

impl MadeHere {
    fn from_reflog(history: &[ReflogEntry]) -> MadeHere {
        MadeHere {
            shas: history
                .iter()
                .filter(|entry| creates_commit(&entry.message))
                .map(|entry| entry.new.clone())
                .collect(),
            unknown: history.is_empty(),
        }
    }

    /// Stash commits are made here too.
    fn with(mut self, stashes: &HashSet<String>) -> MadeHere {
        self.shas.extend(stashes.iter().cloned());
        self
    }

    fn contains(&self, sha: &str) -> bool {
        self.unknown || self.shas.contains(sha)
    }
}

/// Whether a reflog message records git making a commit (`commit`, `commit (amend)`, a merge
/// commit, a cherry-pick, a revert, a rebase step, `am`), as opposed to moving a ref to a commit
/// that already existed (`pull: Fast-forward`, `reset`, `checkout`, `branch`).
fn creates_commit(message: &str) -> bool {
    let action = message.split(':').next().unwrap_or_default();
    if action.contains("rebase") {
        return !matches!(rebase_step(message), Some("start" | "finish" | "abort"));
    }
    action.starts_with("commit")
        || action.starts_with("cherry-pick")
        || action.starts_with("revert")
        || action.starts_with("am")
        || message.contains("Merge made by")
}

/// The commits reflog entries name that are someone's work: both sides of an ordinary entry;
/// of a rebase (`rebase`, `rebase -i`, `pull --rebase`), only the commit it started from, where
/// it finished and what an abort returned to. What a rebase commits on the way (its picks, the
/// intermediate commit of a `squash` sequence, commits made at an `edit` stop) is reachable from
/// its result when it survived, and otherwise was never anyone's finished work (issue 18).
fn reflog_starts(reflog: &[ReflogEntry]) -> Vec<&str> {
    let zero = |sha: &str| sha.bytes().all(|b| b == b'0');
    let mut rebasing: HashSet<&str> = HashSet::new();
    let mut starts = Vec::new();
    for entry in reflog {
        let reference = entry.reference.as_str();
        let (old, new) = match rebase_step(&entry.message) {
            Some("start") => {
                rebasing.insert(reference);
                (true, false)
            }
            Some("finish") | Some("") => {
                rebasing.remove(reference);
                (true, true)
            }
            Some("abort") => {
                rebasing.remove(reference);
                (false, true)
            }
            Some(_) => (false, false),
            None if rebasing.contains(reference) => (false, false),
            None => (true, true),
        };
        for (wanted, sha) in [(old, &entry.old), (new, &entry.new)] {
            if wanted && !zero(sha) {
                starts.push(sha.as_str());
            }
        }
    }
    starts
}

/// The step of a rebase reflog message (`rebase (pick): add x` gives `pick`; `""` when it names
/// none); `None` for other messages.
fn rebase_step(message: &str) -> Option<&str> {
    let action = message.split(':').next()?;
    if !action.contains("rebase") {
        return None;
    }
    let Some(open) = action.rfind('(') else {
        return Some("");
    };
    Some(
        action[open + 1..]
            .trim_end()
            .strip_suffix(')')
            .unwrap_or(""),
    )
}

/// Attributes and records one commit; `None` when another linker recorded it first.
fn link_commit(
    store: &mut Store,
    repo: &Repo,
    repo_id: RepoId,
    excluder: &Excluder,
    sha: &str,
    stash: bool,
    made_here: bool,
) -> Result<Option<Linked>, LinkError> {
    let info = repo.commit(sha)?;
    let changes = repo.changes(sha)?;
    let reverts = reverted_commit(&info.message);
    let is_ancestor = |other: &str| repo.is_ancestor(other, sha).unwrap_or(true);
    let lineage = attribute::Lineage {
        is_ancestor: &is_ancestor,
        reverts: reverts.is_some(),
        made_here,
        superseded: &|path: &str, text: &[u8], saved_ms: i64| {
            info.parents
                .first()
                .is_some_and(|parent| repo.superseded(parent, path, text, saved_ms).is_some())
        },
    };
    let attributed = attribute::attribute(
        store,
        repo.root(),
        repo_id,
        excluder,
        &info,
        &changes,
        &lineage,
    )?;
    let commit = NewCommit {
        repo_id,
        sha,
        parents: &info.parents,
        author: &info.author,
        author_ms: info.author_ms,
        committed_ms: info.committed_ms,
        summary: &info.summary,
        patch_id: changes.patch_id.as_deref(),
        reverts: reverts.as_deref(),
        lines_added: attributed.counts.iter().sum(),
        lines_excluded: attributed.excluded,
        seen_ms: crate::clock::now_ms(),
        stash,
    };
    let files = attributed.file_rows();
    let fingerprints = attributed.fingerprint_rows();
    let inserted = store
        .write(|writer| writer.insert_commit(&commit, &files, &attributed.ranges, &fingerprints))?;
    Ok(inserted.map(|_| Linked {
        sha: sha.to_owned(),
        summary: info.summary.clone(),
        on_main: false,
        counts: attributed.counts,
        excluded: attributed.excluded,
    }))
}

/// The commit git's `revert` names in its message.
fn reverted_commit(message: &str) -> Option<String> {
    let rest = message.split("This reverts commit ").nth(1)?;
    let sha: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    (sha.len() >= 40).then_some(sha)
}

/// Records that main commit `sha` landed: itself, and the recorded commits whose work it carries.
fn land(
    store: &mut Store,
    repo_id: RepoId,
    sha: &str,
    now_ms: i64,
) -> Result<Vec<Landed>, LinkError> {
    let Some(commit) = store.linked_commit(repo_id, sha)? else {
        // Older than the history prodcode links: nothing recorded can be in it.
        return Ok(Vec::new());
    };
    let ranges = store.commit_line_ranges(commit.id)?;
    let own_lines: u32 = ranges
        .iter()
        .map(|range| range.end_line - range.start_line + 1)
        .sum();
    let mut landings = vec![Landed {
        commit: sha.to_owned(),
        main: sha.to_owned(),
        via: Via::Reachable,
        lines: own_lines,
    }];

    // Copies: commits with the same patch id that never reached main and were not amended away.
    let copies: Vec<String> = match commit.patch_id.as_deref() {
        Some(patch_id) => store
            .commits_with_patch_id(repo_id, patch_id)?
            .into_iter()
            .filter(|other| {
                other.sha != sha && !other.on_main && other.replaced_by.is_none() && !other.stash
            })
            .map(|other| other.sha)
            .collect(),
        None => Vec::new(),
    };
    for copy in copies {
        landings.push(Landed {
            commit: copy,
            main: sha.to_owned(),
            via: Via::PatchId,
            lines: own_lines,
        });
    }

    // Squash: branch commits whose recorded lines this commit carries, line by line; a line
    // recorded by several commits with different provenance credits none of them.
    if landings.len() == 1 && !commit.is_merge() {
        let fingerprints = store.commit_fingerprints(commit.id)?;
        let matches = store.branch_matches_of(repo_id, commit.id)?;
        let mut credited: HashMap<String, u32> = HashMap::new();
        for value in &fingerprints {
            let Some(others) = matches.get(value) else {
                continue;
            };
            let first = &others[0];
            let known = first.provenance != crate::model::Provenance::Untracked;
            if known && others.iter().all(|c| c.provenance == first.provenance) {
                let mut shas: Vec<&str> = others.iter().map(|c| c.sha.as_str()).collect();
                shas.sort_unstable();
                shas.dedup();
                for other in shas {
                    *credited.entry(other.to_owned()).or_default() += 1;
                }
            }
        }
        // A branch commit sharing a line or two with this one is a coincidence, not a source:
        // it is carried when at least half of what it recorded is (issue 10).
        let shas: Vec<&str> = credited.keys().map(String::as_str).collect();
        let totals = store.fingerprint_totals(repo_id, &shas)?;
        let mut credited: Vec<(String, u32)> = credited
            .into_iter()
            .filter(|(other, lines)| {
                totals
                    .get(other)
                    .is_some_and(|total| *total > 0 && 2 * lines >= *total)
            })
            .collect();
        credited.sort();
        for (other, lines) in credited {
            landings.push(Landed {
                commit: other,
                main: sha.to_owned(),
                via: Via::Squash,
                lines,
            });
        }
    }

    let new = store.write(|writer| {
        writer.mark_on_main(repo_id, sha)?;
        let mut new = Vec::new();
        for landing in &landings {
            new.push(writer.record_landing(
                repo_id,
                &landing.commit,
                &landing.main,
                landing.via.as_str(),
                landing.lines,
                now_ms,
            )?);
        }
        Ok(new)
    })?;
    Ok(landings
        .into_iter()
        .zip(new)
        .filter_map(|(landing, new)| new.then_some(landing))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(reference: &str, old: &str, new: &str, message: &str) -> ReflogEntry {
        ReflogEntry {
            reference: reference.to_owned(),
            old: old.to_owned(),
            new: new.to_owned(),
            ts_ms: 0,
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_rebase_contributes_where_it_started_and_finished_not_its_steps() {
        let reflog = [
            entry("HEAD", "base", "c1", "commit: one"),
            entry("HEAD", "c1", "main", "rebase (start): checkout main"),
            entry("HEAD", "main", "p1", "rebase (pick): one"),
            entry(
                "HEAD",
                "p1",
                "tmp",
                "rebase (squash): # This is a combination of 2 commits.",
            ),
            entry("HEAD", "tmp", "edited", "commit (amend): one"),
            entry("HEAD", "edited", "final", "rebase (squash): squashed"),
            entry(
                "refs/heads/f",
                "c1",
                "final",
                "rebase (finish): refs/heads/f onto main",
            ),
            entry(
                "HEAD",
                "final",
                "final",
                "rebase (finish): returning to refs/heads/f",
            ),
            entry(
                "HEAD",
                "final",
                "x1",
                "pull --rebase (start): checkout origin/main",
            ),
            entry("HEAD", "x1", "x2", "pull --rebase (pick): two"),
            entry(
                "HEAD",
                "x2",
                "final",
                "rebase (abort): returning to refs/heads/f",
            ),
            entry("HEAD", "final", "after", "commit: three"),
        ];
        let starts = reflog_starts(&reflog);
        assert_eq!(
            starts,
            [
                "base", "c1", "c1", "c1", "final", "final", "final", "final", "final", "final",
                "after"
            ]
        );
        assert_eq!(rebase_step("rebase -i (fixup): x"), Some("fixup"));
        assert_eq!(rebase_step("commit (amend): rebase (pick)"), None);
        assert_eq!(rebase_step("rebase: fast-forward"), Some(""));
    }

    #[test]
    fn commits_made_here_are_the_ones_git_made_not_the_ones_it_moved_to() {
        for made in [
            "commit: add x",
            "commit (initial): init",
            "commit (amend): add x",
            "commit (merge): Merge branch 'f'",
            "merge f: Merge made by the 'ort' strategy.",
            "pull: Merge made by the 'ort' strategy.",
            "cherry-pick: add y",
            "revert: Revert \"add y\"",
            "rebase (pick): add x",
            "rebase -i (squash): squashed",
            "am: patch",
        ] {
            assert!(creates_commit(made), "{made}");
        }
        for moved in [
            "pull: Fast-forward",
            "merge origin/main: Fast-forward",
            "reset: moving to HEAD~1",
            "checkout: moving from main to f",
            "branch: Created from HEAD",
            "rebase (start): checkout main",
            "rebase (finish): returning to refs/heads/f",
            "pull --rebase (finish): refs/heads/main onto 0123",
        ] {
            assert!(!creates_commit(moved), "{moved}");
        }
    }

    #[test]
    fn reverts_name_the_reverted_commit() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let message = format!("Revert \"x\"\n\nThis reverts commit {sha}.\n");
        assert_eq!(reverted_commit(&message).as_deref(), Some(sha));
        assert_eq!(reverted_commit("plain"), None);
    }
}
