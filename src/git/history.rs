//! Commits, refs, reflogs and diffs, read through gix: what `link` needs to attribute commits and
//! follow them to the main branch.
//!
//! Everything here reads. Answers are plain values (hex ids, paths relative to the work tree with
//! `/` separators, 1-based line numbers), never gix types.

use std::path::{Path, PathBuf};

/// Why a repository cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{} is not in a git work tree", .0.display())]
    NotARepository(PathBuf),
    #[error("{0}")]
    Unsupported(String),
    #[error("cannot resolve {0}")]
    UnknownRevision(String),
    #[error("git: {0}")]
    Read(String),
}

/// An open repository with a work tree (a main work tree, a linked worktree or a submodule).
pub struct Repo {
    repo: gix::Repository,
    root: PathBuf,
}

/// One commit's metadata.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CommitInfo {
    pub sha: String,
    /// In order; the first parent is the one a commit is diffed against.
    pub parents: Vec<String>,
    /// `Name <email>`, as in `git log --format='%an <%ae>'`.
    pub author: String,
    pub author_ms: i64,
    pub committed_ms: i64,
    pub summary: String,
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChangeKind {
    Added,
    Modified,
    Renamed,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Renamed => "renamed",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// One file a commit changed, against its first parent (the empty tree for a root commit).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FileChange {
    /// The path in the commit (for a deletion, the path in the parent).
    pub path: String,
    /// The path in the parent, for a rename.
    pub old_path: Option<String>,
    pub kind: ChangeKind,
    /// The file's bytes in the commit; empty for a deletion.
    pub new_text: Vec<u8>,
    /// The file's bytes in the first parent (at `old_path` for a rename); empty for an addition.
    pub old_text: Vec<u8>,
    /// Either side is binary (contains NUL in its first 8000 bytes): no lines are reported.
    pub binary: bool,
    /// 1-based numbers of the lines of `new_text` (split on `\n`) that the commit added. For a
    /// merge commit, only lines that are new against every parent (a conflict resolution, an
    /// evil merge), so merged branches are not counted twice.
    pub added: Vec<u32>,
    /// How many lines of the parent's version the commit removed.
    pub removed: u32,
    /// `.gitattributes` in the commit marks the path `linguist-generated` or `linguist-vendored`.
    pub generated: bool,
}

/// What one commit changed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CommitChanges {
    pub files: Vec<FileChange>,
    /// A stable id of the change that survives rebases and cherry-picks: SHA-256 (hex) over the
    /// changed text files sorted by path, each as its path, then its removed lines and its added
    /// lines with all whitespace removed (what `git patch-id --stable` hashes, minus line
    /// numbers). `None` for a merge commit and for a change without lines.
    pub patch_id: Option<String>,
}

/// One reflog entry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReflogEntry {
    /// `HEAD` or a full ref name.
    pub reference: String,
    /// All zeros when the ref was created.
    pub old: String,
    pub new: String,
    pub ts_ms: i64,
    /// As git wrote it, for example `commit (amend): fix` or `rebase (pick): add`.
    pub message: String,
}

/// One line of `git blame`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BlameLine {
    /// 1-based line number in the blamed version.
    pub line: u32,
    /// The commit that introduced the line; `None` for a line not committed yet.
    pub sha: Option<String>,
    /// The path and 1-based line number in that commit.
    pub orig_path: String,
    pub orig_line: u32,
    pub content: String,
}

/// Enough for the commits and trees of a catch-up walk to be decoded once.
const OBJECT_CACHE_BYTES: usize = 8 * 1024 * 1024;

impl Repo {
    /// Opens the repository whose work tree contains `path`. Bare repositories are refused.
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        let start = if path.is_dir() {
            path
        } else {
            match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            }
        };
        let mut repo =
            gix::discover(start).map_err(|_| GitError::NotARepository(path.to_path_buf()))?;
        let Some(workdir) = repo.workdir() else {
            return Err(GitError::Unsupported(format!(
                "{} is a bare repository: it has no work tree to attribute",
                repo.git_dir().display()
            )));
        };
        let root = workdir
            .canonicalize()
            .unwrap_or_else(|_| workdir.to_path_buf());
        repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
        Ok(Repo { repo, root })
    }

    /// The work tree's top directory (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// This work tree's git directory (`.git`, or `.git/worktrees/<name>` for a linked worktree).
    pub fn git_dir(&self) -> &Path {
        self.repo.git_dir()
    }

    /// The directory shared by all worktrees (refs, packed-refs, objects).
    pub fn common_dir(&self) -> &Path {
        self.repo.common_dir()
    }

    /// The full name of the main branch and its tip. `configured` (a short branch name such as
    /// `main` or `origin/main`, or a full ref) wins; else the target of
    /// `refs/remotes/origin/HEAD` (the remote's default branch), else `refs/heads/main`, else
    /// `refs/heads/master`. `None` when none exists, and when `configured` names a branch that
    /// does not exist (a configured main is never silently replaced by another branch).
    pub fn main_branch(&self, configured: Option<&str>) -> Option<(String, String)> {
        if let Some(name) = configured {
            let candidates = if name.starts_with("refs/") {
                vec![name.to_owned()]
            } else {
                vec![format!("refs/heads/{name}"), format!("refs/remotes/{name}")]
            };
            return candidates.iter().find_map(|name| self.branch_tip(name));
        }
        let remote_default = self
            .repo
            .try_find_reference("refs/remotes/origin/HEAD")
            .ok()
            .flatten()
            .and_then(|reference| match reference.target() {
                gix::refs::TargetRef::Symbolic(target) => Some(target.as_bstr().to_string()),
                gix::refs::TargetRef::Object(_) => None,
            });
        remote_default
            .into_iter()
            .chain(["refs/heads/main".to_owned(), "refs/heads/master".to_owned()])
            .find_map(|name| self.branch_tip(&name))
    }

    /// The full name and commit of the reference `name` (a full name), if it points at one.
    fn branch_tip(&self, name: &str) -> Option<(String, String)> {
        let mut reference = self.repo.try_find_reference(name).ok()??;
        let full_name = reference.name().as_bstr().to_string();
        if full_name != name {
            return None; // `try_find_reference` also tries other prefixes
        }
        let commit = reference.peel_to_commit().ok()?;
        Some((full_name, commit.id.to_string()))
    }

    /// How clones of this repository on other machines recognise it (issue 17): the root
    /// commit reached by first parents from the main branch's tip (else from HEAD), and the
    /// `origin` remote's URL as configured (credentials included: callers normalise it).
    /// Either is `None` when the repository has no such thing (an unborn branch, no remote).
    pub fn identity(&self) -> (Option<String>, Option<String>) {
        let tip = self
            .main_branch(None)
            .map(|(_, sha)| sha)
            .or_else(|| self.repo.head_id().ok().map(|id| id.to_string()));
        let root_commit = tip.and_then(|tip| {
            let mut id = gix::ObjectId::from_hex(tip.as_bytes()).ok()?;
            loop {
                let commit = self.repo.find_commit(id).ok()?;
                match commit.parent_ids().next() {
                    Some(parent) => id = parent.detach(),
                    None => return Some(id.to_string()),
                }
            }
        });
        let remote_url = self
            .repo
            .config_snapshot()
            .string("remote.origin.url")
            .map(|url| url.to_string())
            .filter(|url| !url.is_empty());
        (root_commit, remote_url)
    }

    /// The operation git is in the middle of, by the name `git status` gives it: `rebase`,
    /// `merge`, `cherry-pick`, `revert` or `am`. Commits made meanwhile (a rebase's intermediate
    /// squash, a pick that `--abort` throws away) are not yet anyone's finished work. A bisect
    /// is not listed: it makes no commits.
    pub fn operation_in_progress(&self) -> Option<&'static str> {
        use gix::state::InProgress;
        match self.repo.state()? {
            InProgress::Rebase | InProgress::RebaseInteractive | InProgress::ApplyMailboxRebase => {
                Some("rebase")
            }
            InProgress::ApplyMailbox => Some("am"),
            InProgress::Merge => Some("merge"),
            InProgress::CherryPick | InProgress::CherryPickSequence => Some("cherry-pick"),
            InProgress::Revert | InProgress::RevertSequence => Some("revert"),
            InProgress::Bisect => None,
        }
    }

    /// The commits worth linking: `HEAD`, every local branch, every remote-tracking branch (not
    /// `refs/stash`, not symbolic refs twice), as `(full ref name, sha)`.
    pub fn tips(&self) -> Result<Vec<(String, String)>, GitError> {
        let mut tips = Vec::new();
        // An unborn HEAD has no commit; a broken one is as good as unborn here.
        if let Ok(head) = self.repo.head_commit() {
            tips.push(("HEAD".to_owned(), head.id.to_string()));
        }
        for (name, target) in self.direct_refs(&["refs/heads/", "refs/remotes/"])? {
            if let Some(commit) = self.peel_to_commit(target) {
                tips.push((name, commit.to_string()));
            }
        }
        Ok(tips)
    }

    /// The references under `prefixes` that point at an object directly (symbolic ones left
    /// out), as `(full name, target)`.
    fn direct_refs(&self, prefixes: &[&str]) -> Result<Vec<(String, gix::ObjectId)>, GitError> {
        let platform = self.repo.references().map_err(read_error)?;
        let mut found = Vec::new();
        for prefix in prefixes {
            let references = platform.prefixed(*prefix).map_err(read_error)?;
            // Unreadable references are skipped: one broken ref must not hide the others.
            for reference in references.flatten() {
                if let gix::refs::TargetRef::Object(target) = reference.target() {
                    found.push((reference.name().as_bstr().to_string(), target.to_owned()));
                }
            }
        }
        Ok(found)
    }

    /// The commit `id` names, peeling annotated tags; `None` for anything else or a missing one.
    fn peel_to_commit(&self, id: gix::ObjectId) -> Option<gix::ObjectId> {
        let object = self.repo.find_object(id).ok()?;
        Some(object.peel_to_commit().ok()?.id)
    }

    /// The bytes of `path` (work-tree relative, `/`-separated) in commit `sha`: `Ok(None)` when
    /// the commit has no such file.
    pub fn file_at(&self, sha: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let id = self
            .existing_commit(sha)
            .ok_or_else(|| GitError::UnknownRevision(sha.to_owned()))?;
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|_| GitError::UnknownRevision(sha.to_owned()))?;
        let tree = commit
            .tree()
            .map_err(|error| GitError::Read(format!("cannot read commit {sha}: {error}")))?;
        let Some(entry) = tree
            .lookup_entry_by_path(path)
            .map_err(|error| GitError::Read(format!("cannot read {path} in {sha}: {error}")))?
        else {
            return Ok(None);
        };
        if !entry.mode().is_blob() {
            return Ok(None);
        }
        let mut blob = self
            .repo
            .find_blob(entry.object_id())
            .map_err(|error| GitError::Read(format!("cannot read {path} in {sha}: {error}")))?;
        Ok(Some(blob.take_data()))
    }

    /// What git has since made of a version of a file that was committed: when a commit on the
    /// first-parent line ending at `tip` (at most 64 back) holds `path` as exactly `text`, and a
    /// later one that may come after `saved_ms` changed it, what `tip` holds (empty when it has
    /// no such file). `None` when `tip` holds `text`, when no commit after `saved_ms` changed the
    /// path, or when no commit looked at holds `text` (a version never committed: work on top).
    /// Commit times are whole seconds: a commit in the second of `saved_ms` may come after it.
    pub fn superseded(&self, tip: &str, path: &str, text: &[u8], saved_ms: i64) -> Option<Vec<u8>> {
        let wanted = gix::ObjectId::from_hex(super::cli::object_id(text).as_bytes()).ok()?;
        let blob_id = |id: gix::ObjectId| -> Option<Option<gix::ObjectId>> {
            let tree = self.repo.find_commit(id).ok()?.tree().ok()?;
            let entry = tree.lookup_entry_by_path(path).ok()?;
            Some(entry.map(|entry| entry.object_id()))
        };
        let mut id = self.existing_commit(tip)?;
        let mut blob = blob_id(id)?;
        if blob == Some(wanted) {
            return None;
        }
        let mut changed_after = false;
        for _ in 0..64 {
            let commit = self.repo.find_commit(id).ok()?;
            let maybe_after = commit.time().ok()?.seconds.saturating_mul(1000) + 999 >= saved_ms;
            let parent = commit.parent_ids().next()?.detach();
            let parent_blob = blob_id(parent)?;
            if parent_blob != blob && maybe_after {
                changed_after = true;
            }
            if !changed_after && !maybe_after {
                return None;
            }
            if parent_blob == Some(wanted) {
                if !changed_after {
                    return None;
                }
                return Some(self.file_at(tip, path).ok().flatten().unwrap_or_default());
            }
            (id, blob) = (parent, parent_blob);
        }
        None
    }

    /// Every commit `git stash` holds now (each entry of `refs/stash`'s reflog, newest first),
    /// with the index and untracked-files commits each one has as its later parents.
    pub fn stash_commits(&self) -> Result<Vec<String>, GitError> {
        let Ok(name) = gix::refs::FullName::try_from("refs/stash") else {
            return Ok(Vec::new());
        };
        let mut log = gix::refs::file::log::iter::Platform {
            store: &self.repo.refs,
            name: name.as_ref(),
            buf: Vec::new(),
        };
        let lines = log
            .all()
            .map_err(|error| GitError::Read(format!("cannot read the stash: {error}")))?;
        let mut found = Vec::new();
        for line in lines.into_iter().flatten().flatten() {
            let Some(commit) = gix::ObjectId::from_hex(line.new_oid)
                .ok()
                .and_then(|id| self.repo.find_commit(id).ok())
            else {
                continue;
            };
            found.push(commit.id.to_string());
            found.extend(commit.parent_ids().skip(1).map(|id| id.to_string()));
        }
        found.reverse();
        found.dedup();
        Ok(found)
    }

    /// Reflog entries of `HEAD` and of every local branch at or after `since_ms`, oldest first.
    /// Reflog times are whole seconds, so the entries of the second a caller last read are read
    /// again: an entry written later in that second is never missed.
    pub fn reflog_since(&self, since_ms: i64) -> Result<Vec<ReflogEntry>, GitError> {
        let mut names = vec!["HEAD".to_owned()];
        names.extend(
            self.direct_refs(&["refs/heads/"])?
                .into_iter()
                .map(|(name, _)| name),
        );
        let mut entries = Vec::new();
        for name in names {
            let Ok(full_name) = gix::refs::FullName::try_from(name.as_str()) else {
                continue;
            };
            let mut log = gix::refs::file::log::iter::Platform {
                store: &self.repo.refs,
                name: full_name.as_ref(),
                buf: Vec::new(),
            };
            let lines = log.all().map_err(|error| {
                GitError::Read(format!("cannot read the reflog of {name}: {error}"))
            })?;
            // No reflog (`core.logAllRefUpdates` off, or a ref never written locally): nothing.
            let Some(lines) = lines else {
                continue;
            };
            for line in lines.flatten() {
                let ts_ms = line.signature.seconds().saturating_mul(1000);
                if ts_ms < since_ms {
                    continue;
                }
                entries.push(ReflogEntry {
                    reference: name.clone(),
                    old: line.previous_oid.to_string(),
                    new: line.new_oid.to_string(),
                    ts_ms,
                    message: line.message.to_string(),
                });
            }
        }
        // Stable: entries of one reference keep the order git wrote them in.
        entries.sort_by_key(|entry| entry.ts_ms);
        Ok(entries)
    }

    /// Commits reachable from `tips` but not from `hidden`, whose committer time is at least
    /// `cutoff_ms`, parents before children. Ids that do not name commits are skipped.
    pub fn new_commits(
        &self,
        tips: &[String],
        hidden: &[String],
        cutoff_ms: i64,
    ) -> Result<Vec<String>, GitError> {
        let tips: Vec<_> = tips
            .iter()
            .filter_map(|id| self.existing_commit(id))
            .collect();
        if tips.is_empty() {
            return Ok(Vec::new());
        }
        let hidden: Vec<_> = hidden
            .iter()
            .filter_map(|id| self.existing_commit(id))
            .collect();
        // Commit times are whole seconds: a commit is new enough when `seconds * 1000 >= cutoff_ms`.
        let cutoff_seconds =
            cutoff_ms.div_euclid(1000) + i64::from(cutoff_ms.rem_euclid(1000) != 0);
        let walk = self
            .repo
            .rev_walk(tips)
            .sorting(gix::revision::walk::Sorting::ByCommitTimeCutoff {
                order: gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
                seconds: cutoff_seconds,
            })
            .with_hidden(hidden)
            .all()
            .map_err(|error| GitError::Read(format!("cannot walk commits: {error}")))?;
        let mut found = Vec::new();
        for info in walk {
            let info =
                info.map_err(|error| GitError::Read(format!("cannot walk commits: {error}")))?;
            if info
                .commit_time
                .is_some_and(|seconds| seconds < cutoff_seconds)
            {
                continue;
            }
            found.push((info.id, info.parent_ids.to_vec()));
        }
        Ok(parents_first(&found)
            .into_iter()
            .map(|index| found[index].0.to_string())
            .collect())
    }

    /// `id` as an object id if it is the full id of a commit this repository has.
    fn existing_commit(&self, id: &str) -> Option<gix::ObjectId> {
        let id = gix::ObjectId::from_hex(id.as_bytes()).ok()?;
        self.repo.find_commit(id).ok().map(|commit| commit.id)
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor).
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
        let ancestor = self.commit_id(ancestor)?;
        let descendant = self.commit_id(descendant)?;
        if ancestor == descendant {
            return Ok(true);
        }
        let base = self
            .repo
            .merge_base(ancestor, descendant)
            .map_err(|error| GitError::Read(format!("cannot find a merge base: {error}")))?;
        Ok(base.is_some_and(|base| base.detach() == ancestor))
    }

    /// The commit's metadata; `sha` may also be any revision `resolve` accepts.
    pub fn commit(&self, sha: &str) -> Result<CommitInfo, GitError> {
        let id = self.commit_id(sha)?;
        let commit = self.repo.find_commit(id).map_err(read_error)?;
        let decoded = commit.decode().map_err(read_error)?;
        let author = decoded.author().map_err(read_error)?.trim();
        let committer = decoded.committer().map_err(read_error)?;
        Ok(CommitInfo {
            sha: id.to_string(),
            parents: decoded.parents().map(|parent| parent.to_string()).collect(),
            author: format!("{} <{}>", author.name, author.email),
            author_ms: author.seconds().saturating_mul(1000),
            committed_ms: committer.seconds().saturating_mul(1000),
            summary: decoded.message().summary().to_string(),
            message: decoded.message.to_string(),
        })
    }

    /// What `sha` changed against its first parent, renames detected, files sorted by path.
    pub fn changes(&self, sha: &str) -> Result<CommitChanges, GitError> {
        let id = self.commit_id(sha)?;
        super::changes::commit_changes(&self.repo, id)
    }

    /// Resolves a revision (`HEAD`, a branch, a sha prefix, `main~2`) to a commit id.
    pub fn resolve(&self, revision: &str) -> Result<String, GitError> {
        self.resolve_id(revision).map(|id| id.to_string())
    }

    fn resolve_id(&self, revision: &str) -> Result<gix::ObjectId, GitError> {
        let unknown = || GitError::UnknownRevision(revision.to_owned());
        if revision.is_empty() || revision.starts_with('-') {
            return Err(unknown());
        }
        let id = self
            .repo
            .rev_parse_single(revision)
            .map_err(|_| unknown())?;
        self.peel_to_commit(id.detach()).ok_or_else(unknown)
    }

    /// A full commit id as given, or any other revision resolved; the commit must exist.
    fn commit_id(&self, revision: &str) -> Result<gix::ObjectId, GitError> {
        match self.existing_commit(revision) {
            Some(id) => Ok(id),
            None => self.resolve_id(revision),
        }
    }
}

fn read_error(error: impl std::fmt::Display) -> GitError {
    GitError::Read(error.to_string())
}

/// Indexes into `commits` (each with its parents) ordered so that every commit comes after
/// those of its parents that are in the list. Parents outside the list are ignored; the walk's
/// order (newest first) is reversed where the graph leaves a choice.
fn parents_first(commits: &[(gix::ObjectId, Vec<gix::ObjectId>)]) -> Vec<usize> {
    let index: std::collections::HashMap<_, _> = commits
        .iter()
        .enumerate()
        .map(|(at, (id, _))| (*id, at))
        .collect();
    let mut seen = vec![false; commits.len()];
    let mut order = Vec::with_capacity(commits.len());
    // Iterative depth-first search: long histories must not overflow the stack.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in (0..commits.len()).rev() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push((start, 0));
        while let Some((node, next_parent)) = stack.last_mut() {
            let node = *node;
            match commits[node].1.get(*next_parent) {
                Some(parent) => {
                    *next_parent += 1;
                    if let Some(&parent) = index.get(parent)
                        && !seen[parent]
                    {
                        seen[parent] = true;
                        stack.push((parent, 0));
                    }
                }
                None => {
                    order.push(node);
                    stack.pop();
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::TestRepo;

    fn open(repo: &TestRepo) -> Repo {
        Repo::open(repo.path()).unwrap()
    }

    /// `count` numbered lines with a prefix, each ending in `\n`.
    fn numbered(prefix: &str, count: usize) -> String {
        (1..=count).map(|n| format!("{prefix} {n}\n")).collect()
    }

    #[test]
    fn a_repo_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Repo>();
    }

    #[test]
    fn opens_from_a_file_a_worktree_and_a_submodule() {
        let repo = TestRepo::new();
        repo.commit_file("dir/a.txt", "a\n", "first");
        let opened = Repo::open(&repo.path().join("dir/a.txt")).unwrap();
        assert_eq!(opened.root(), repo.path());
        assert_eq!(opened.git_dir(), opened.common_dir());

        let worktree = repo.add_worktree("wt", "side");
        let linked = Repo::open(&worktree.join("dir")).unwrap();
        assert_eq!(linked.root(), worktree);
        assert!(linked.git_dir().ends_with("worktrees/wt"));
        assert_eq!(linked.resolve("HEAD").unwrap(), repo.head());
        // The linked worktree's own HEAD reflog (`worktree add` writes one), not the main one.
        let head_log: Vec<_> = linked
            .reflog_since(0)
            .unwrap()
            .into_iter()
            .filter(|entry| entry.reference == "HEAD")
            .map(|entry| entry.message)
            .collect();
        assert!(
            head_log.contains(&"reset: moving to HEAD".to_owned()),
            "{head_log:?}"
        );
        assert!(!head_log.iter().any(|message| message.starts_with("commit")));

        let inner = TestRepo::new();
        inner.commit_file("lib.rs", "fn f() {}\n", "inner");
        repo.git(&[
            "submodule",
            "add",
            "-q",
            inner.path().to_str().unwrap(),
            "sub",
        ]);
        repo.commit_all("add a submodule");
        let sub = Repo::open(&repo.path().join("sub/lib.rs")).unwrap();
        assert_eq!(sub.root(), repo.path().join("sub"));
        assert_eq!(sub.resolve("HEAD").unwrap(), inner.head());
        // The superproject's commit changed `.gitmodules`; the gitlink is no file of its own.
        let changes = open(&repo).changes(&repo.head()).unwrap();
        let paths: Vec<_> = changes
            .files
            .iter()
            .map(|file| file.path.as_str())
            .collect();
        assert_eq!(paths, [".gitmodules"]);

        let bare = TestRepo::new();
        bare.git(&["init", "-q", "--bare", "b.git"]);
        let refused = Repo::open(&bare.path().join("b.git"));
        assert!(
            matches!(refused, Err(GitError::Unsupported(_))),
            "{:?}",
            refused.err()
        );

        let outside = tempfile::tempdir().unwrap();
        let not_a_repo = Repo::open(outside.path());
        assert!(matches!(not_a_repo, Err(GitError::NotARepository(_))));
    }

    #[test]
    fn a_root_commit_adds_every_line() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\ntwo\nthree");
        repo.write("empty.txt", "");
        let sha = repo.commit_all("root");
        let changes = open(&repo).changes(&sha).unwrap();
        let a = &changes.files[0];
        assert_eq!(a.path, "a.txt");
        assert_eq!(a.kind, ChangeKind::Added);
        assert_eq!(a.added, [1, 2, 3]);
        assert_eq!(a.removed, 0);
        assert_eq!(a.new_text, b"one\ntwo\nthree");
        assert!(!a.binary && !a.generated);
        assert_eq!(changes.files[1].path, "empty.txt");
        assert!(changes.files[1].added.is_empty());
        assert!(changes.patch_id.is_some());
    }

    #[test]
    fn a_moved_file_with_a_small_edit_is_a_rename() {
        let repo = TestRepo::new();
        let text = numbered("line", 20);
        repo.commit_file("a.txt", &text, "first");
        repo.git(&["mv", "a.txt", "moved.txt"]);
        repo.write("moved.txt", text.replace("line 5\n", "line five\n"));
        repo.write("gone.txt", "x\n");
        let sha = repo.commit_all("move");
        repo.git(&["rm", "-q", "gone.txt"]);
        let deleted = repo.commit_all("delete");

        let opened = open(&repo);
        let changes = opened.changes(&sha).unwrap();
        let moved = changes
            .files
            .iter()
            .find(|f| f.path == "moved.txt")
            .unwrap();
        assert_eq!(moved.kind, ChangeKind::Renamed);
        assert_eq!(moved.old_path.as_deref(), Some("a.txt"));
        assert_eq!(moved.added, [5]);
        assert_eq!(moved.removed, 1);
        assert_eq!(changes.files.len(), 2, "{:?}", changes.files);

        let changes = opened.changes(&deleted).unwrap();
        assert_eq!(changes.files.len(), 1);
        assert_eq!(changes.files[0].kind, ChangeKind::Deleted);
        assert_eq!(changes.files[0].path, "gone.txt");
        assert_eq!(changes.files[0].removed, 1);
        assert!(changes.files[0].new_text.is_empty());
    }

    #[test]
    fn a_merge_owns_only_its_conflict_resolution() {
        let repo = TestRepo::new();
        repo.commit_file("f.txt", "a\nb\nc\n", "base");
        repo.git(&["checkout", "-q", "-b", "side"]);
        repo.write("side-only.txt", "from side\n");
        repo.commit_file("f.txt", "a\nside\nc\n", "side");
        repo.git(&["checkout", "-q", "main"]);
        repo.commit_file("f.txt", "a\nmain\nc\n", "main");
        assert!(repo.try_git(&[], &["merge", "-q", "side"]).is_err());
        repo.write("f.txt", "a\nresolved\nc\nmore\n");
        let merge = repo.commit_all("merge side");

        let opened = open(&repo);
        assert_eq!(opened.commit(&merge).unwrap().parents.len(), 2);
        let changes = opened.changes(&merge).unwrap();
        let f = changes.files.iter().find(|f| f.path == "f.txt").unwrap();
        assert_eq!(f.added, [2, 4]);
        assert_eq!(f.removed, 1);
        // Brought in unchanged from the side branch: not the merge's lines.
        let side = changes
            .files
            .iter()
            .find(|f| f.path == "side-only.txt")
            .unwrap();
        assert_eq!(side.kind, ChangeKind::Added);
        assert!(side.added.is_empty());
        assert_eq!(changes.patch_id, None);
    }

    #[test]
    fn binary_files_report_no_lines() {
        let repo = TestRepo::new();
        repo.commit_file("data.bin", b"\x00\x01\x02\n", "binary");
        repo.commit_file("data.bin", b"text now\n", "text");
        let opened = open(&repo);
        let changes = opened.changes("HEAD~1").unwrap();
        assert!(changes.files[0].binary);
        assert!(changes.files[0].added.is_empty());
        assert_eq!(changes.patch_id, None);
        // Binary on the old side only still counts.
        let changes = opened.changes("HEAD").unwrap();
        assert!(changes.files[0].binary);
        assert_eq!(changes.files[0].new_text, b"text now\n");
        assert!(changes.files[0].added.is_empty());
    }

    #[test]
    fn gitattributes_in_the_commit_mark_generated_files() {
        let repo = TestRepo::new();
        repo.write(
            ".gitattributes",
            "*.gen.rs linguist-generated\nvendor/** linguist-vendored\n",
        );
        repo.write("sub/.gitattributes", "keep.gen.rs -linguist-generated\n");
        for path in [
            "a.gen.rs",
            "sub/b.gen.rs",
            "sub/keep.gen.rs",
            "vendor/x/y.c",
            "src/main.rs",
        ] {
            repo.write(path, "x\n");
        }
        let sha = repo.commit_all("generated");
        // Attributes come from the commit, not from the work tree.
        repo.write(".gitattributes", "");
        let changes = open(&repo).changes(&sha).unwrap();
        let generated: Vec<_> = changes
            .files
            .iter()
            .filter(|file| file.generated)
            .map(|file| file.path.as_str())
            .collect();
        assert_eq!(generated, ["a.gen.rs", "sub/b.gen.rs", "vendor/x/y.c"]);
    }

    #[test]
    fn patch_ids_survive_cherry_picks_but_not_edits() {
        let repo = TestRepo::new();
        repo.commit_file("f.txt", numbered("line", 10), "base");
        repo.git(&["checkout", "-q", "-b", "feature"]);
        let feature = numbered("line", 10).replace("line 6\n", "line 6\nadded  by feature\n");
        let original = repo.commit_file("f.txt", &feature, "feature");
        repo.git(&["checkout", "-q", "main"]);
        repo.commit_file(
            "f.txt",
            format!("top\n{}", numbered("line", 10)),
            "main moves lines",
        );
        repo.git(&["cherry-pick", original.as_str()]);
        let picked = repo.head();
        assert_ne!(picked, original);

        let opened = open(&repo);
        let original_id = opened.changes(&original).unwrap().patch_id;
        assert!(original_id.is_some());
        assert_eq!(opened.changes(&picked).unwrap().added_lines(), [8]);
        assert_eq!(opened.changes(&picked).unwrap().patch_id, original_id);

        let text = std::fs::read_to_string(repo.path().join("f.txt")).unwrap();
        repo.write(
            "f.txt",
            text.replace("added  by feature", "added by feature, edited"),
        );
        repo.git(&["commit", "-q", "-a", "--amend", "--no-edit"]);
        assert_ne!(opened.changes(&repo.head()).unwrap().patch_id, original_id);
    }

    impl CommitChanges {
        fn added_lines(&self) -> Vec<u32> {
            self.files
                .iter()
                .flat_map(|file| file.added.clone())
                .collect()
        }
    }

    /// Commits `path` with the committer (and author) time `seconds`.
    fn commit_at(repo: &TestRepo, seconds: i64, path: &str) -> String {
        repo.write(path, format!("{seconds}\n"));
        repo.git(&["add", "-A"]);
        let date = format!("@{seconds} +0000");
        repo.git_with_env(
            &[("GIT_COMMITTER_DATE", &date), ("GIT_AUTHOR_DATE", &date)],
            &["commit", "-q", "-m", path],
        );
        repo.head()
    }

    #[test]
    fn new_commits_stop_at_hidden_tips_and_the_cutoff() {
        let repo = TestRepo::new();
        let base = 1_700_000_000;
        let c1 = commit_at(&repo, base, "1");
        let c2 = commit_at(&repo, base + 100, "2");
        repo.git(&["checkout", "-q", "-b", "side"]);
        let s1 = commit_at(&repo, base + 200, "s1");
        repo.git(&["checkout", "-q", "main"]);
        let c3 = commit_at(&repo, base + 300, "3");
        let date = format!("@{} +0000", base + 400);
        repo.git_with_env(
            &[("GIT_COMMITTER_DATE", &date), ("GIT_AUTHOR_DATE", &date)],
            &["merge", "-q", "--no-ff", "-m", "merge", "side"],
        );
        let merge = repo.head();
        let opened = open(&repo);

        let all = opened
            .new_commits(std::slice::from_ref(&merge), &[], 0)
            .unwrap();
        assert_eq!(all.len(), 5);
        let position = |sha: &str| all.iter().position(|c| c == sha).unwrap();
        assert_eq!(position(&c1), 0);
        assert!(position(&c2) < position(&s1) && position(&c2) < position(&c3));
        assert_eq!(position(&merge), 4);

        let hidden = opened
            .new_commits(std::slice::from_ref(&merge), std::slice::from_ref(&c3), 0)
            .unwrap();
        assert_eq!(hidden, [s1.clone(), merge.clone()]);

        let cutoff_ms = (base + 100) * 1000;
        let recent = opened
            .new_commits(std::slice::from_ref(&merge), &[], cutoff_ms)
            .unwrap();
        assert_eq!(recent.len(), 4);
        assert!(!recent.contains(&c1));
        // A cutoff between whole seconds rounds up.
        let recent = opened
            .new_commits(std::slice::from_ref(&merge), &[], cutoff_ms + 1)
            .unwrap();
        assert!(!recent.contains(&c2));

        let skipped = opened
            .new_commits(
                &["not a sha".to_owned(), "0".repeat(40), c2.clone()],
                &["junk".to_owned()],
                0,
            )
            .unwrap();
        assert_eq!(skipped, [c1.clone(), c2.clone()]);

        assert!(opened.is_ancestor(&c1, &merge).unwrap());
        assert!(opened.is_ancestor(&merge, &merge).unwrap());
        assert!(!opened.is_ancestor(&s1, &c3).unwrap());
        assert!(!opened.is_ancestor(&merge, &c1).unwrap());
    }

    #[test]
    fn reflogs_show_amends() {
        let repo = TestRepo::new();
        let first = repo.commit_file("a.txt", "a\n", "first");
        repo.git(&["commit", "-q", "--amend", "-m", "first, amended"]);
        let amended = repo.head();
        let entries = open(&repo).reflog_since(0).unwrap();
        let amends: Vec<_> = entries
            .iter()
            .filter(|entry| entry.message.starts_with("commit (amend): "))
            .collect();
        assert_eq!(amends.len(), 2, "{entries:?}");
        assert_eq!(amends[0].reference, "HEAD");
        assert_eq!(amends[1].reference, "refs/heads/main");
        assert_eq!(amends[0].old, first);
        assert_eq!(amends[0].new, amended);
        assert_eq!(amends[0].message, "commit (amend): first, amended");
        let created = &entries[0];
        assert_eq!(created.old, "0".repeat(40));
        assert!(created.message.starts_with("commit (initial): "));

        // From a second on: that second's entries again (a caller may have read only some of
        // them), nothing older.
        let last = entries.last().unwrap().ts_ms;
        let again = open(&repo).reflog_since(last).unwrap();
        assert!(again.iter().all(|entry| entry.ts_ms == last), "{again:?}");
        assert!(again.contains(entries.last().unwrap()));
        assert!(open(&repo).reflog_since(last + 1000).unwrap().is_empty());
    }

    #[test]
    fn the_remote_default_branch_is_the_main_branch() {
        let origin = TestRepo::new();
        origin.git(&["checkout", "-q", "-b", "trunk"]);
        let trunk = origin.commit_file("a.txt", "a\n", "first");
        origin.git(&["clone", "-q", "--bare", ".", "remote.git"]);
        origin.git(&["clone", "-q", "remote.git", "work"]);
        let work = TestRepo::at(&origin.path().join("work"));
        work.git(&["branch", "main"]);
        let local_main = work.commit_file("b.txt", "b\n", "local");
        work.git(&["branch", "-f", "main", "HEAD"]);
        let opened = Repo::open(work.path()).unwrap();

        let expected = ("refs/remotes/origin/trunk".to_owned(), trunk.clone());
        assert_eq!(opened.main_branch(None), Some(expected.clone()));
        assert_eq!(
            opened.main_branch(Some("main")),
            Some(("refs/heads/main".to_owned(), local_main.clone()))
        );
        assert_eq!(
            opened.main_branch(Some("origin/trunk")),
            Some(expected.clone())
        );
        assert_eq!(
            opened.main_branch(Some("refs/remotes/origin/trunk")),
            Some(expected.clone())
        );
        // A configured branch that does not exist falls back to the defaults.
        assert_eq!(opened.main_branch(Some("nope")), None);

        let tips = opened.tips().unwrap();
        let names: Vec<_> = tips.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "HEAD",
                "refs/heads/main",
                "refs/heads/trunk",
                "refs/remotes/origin/trunk"
            ]
        );

        // Without a remote: `main`, else `master`.
        let plain = TestRepo::new();
        plain.git(&["checkout", "-q", "-b", "master"]);
        let master = plain.commit_file("a.txt", "a\n", "first");
        assert_eq!(
            open(&plain).main_branch(None),
            Some(("refs/heads/master".to_owned(), master))
        );
    }

    #[test]
    fn commit_metadata() {
        let repo = TestRepo::new();
        let date = "@1700000000 +0200";
        repo.write("a.txt", "a\n");
        repo.git(&["add", "-A"]);
        repo.git_with_env(
            &[
                ("GIT_AUTHOR_DATE", date),
                ("GIT_COMMITTER_DATE", "@1700000500 +0000"),
            ],
            &["commit", "-q", "-m", "Subject line\n\nBody text."],
        );
        let sha = repo.head();
        let opened = open(&repo);
        let info = opened.commit(&sha).unwrap();
        assert_eq!(info.sha, sha);
        assert!(info.parents.is_empty());
        assert_eq!(info.author, "Ada <ada@example.com>");
        assert_eq!(info.author_ms, 1_700_000_000_000);
        assert_eq!(info.committed_ms, 1_700_000_500_000);
        assert_eq!(info.summary, "Subject line");
        assert_eq!(info.message, "Subject line\n\nBody text.\n");
        assert_eq!(opened.resolve(&sha[..8]).unwrap(), sha);
        assert_eq!(opened.resolve("main").unwrap(), sha);
        assert_eq!(opened.commit("HEAD").unwrap().sha, sha);
        assert!(matches!(
            opened.resolve("nope"),
            Err(GitError::UnknownRevision(_))
        ));
        assert!(matches!(
            opened.resolve("--all"),
            Err(GitError::UnknownRevision(_))
        ));
        assert!(matches!(
            opened.commit(&"0".repeat(40)),
            Err(GitError::UnknownRevision(_))
        ));
        // A tree is no commit.
        let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
        assert!(opened.changes(&tree).is_err());
    }

    #[test]
    fn odd_repositories_give_answers_or_errors() {
        // Unborn HEAD.
        let repo = TestRepo::new();
        let opened = open(&repo);
        assert!(opened.tips().unwrap().is_empty());
        assert_eq!(opened.main_branch(None), None);
        assert!(opened.reflog_since(0).unwrap().is_empty());
        assert!(matches!(
            opened.resolve("HEAD"),
            Err(GitError::UnknownRevision(_))
        ));
        assert!(opened.new_commits(&[], &[], 0).unwrap().is_empty());

        // Detached HEAD in the middle of a rebase that stopped on a conflict.
        repo.commit_file("f.txt", "base\n", "base");
        repo.git(&["checkout", "-q", "-b", "topic"]);
        repo.commit_file("f.txt", "topic\n", "topic");
        repo.git(&["checkout", "-q", "main"]);
        let main = repo.commit_file("f.txt", "main\n", "main");
        repo.git(&["checkout", "-q", "topic"]);
        assert!(repo.try_git(&[], &["rebase", "main"]).is_err());
        let opened = open(&repo);
        let tips = opened.tips().unwrap();
        assert_eq!(tips[0], ("HEAD".to_owned(), main.clone()));
        assert!(
            opened
                .reflog_since(0)
                .unwrap()
                .iter()
                .any(|e| e.message.starts_with("rebase"))
        );
        repo.git(&["rebase", "--abort"]);

        // A missing blob is an error, not a panic.
        let blob = repo.git(&["rev-parse", "HEAD:f.txt"]);
        let loose = repo
            .path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]);
        std::fs::remove_file(loose).unwrap();
        assert!(matches!(opened.changes("HEAD"), Err(GitError::Read(_))));

        // A shallow clone: its oldest commit has no parent to diff against.
        let shallow = TestRepo::new();
        let source = format!("file://{}", repo.path().display());
        shallow.git(&[
            "clone", "-q", "--depth", "1", "--branch", "main", &source, "s",
        ]);
        let shallow = Repo::open(&shallow.path().join("s")).unwrap();
        assert!(matches!(shallow.changes("HEAD"), Err(GitError::Read(_))));
        assert_eq!(
            shallow
                .new_commits(std::slice::from_ref(&main), &[], 0)
                .unwrap(),
            vec![main.clone()]
        );
        assert!(shallow.is_ancestor(&main, &main).unwrap());
    }
}
