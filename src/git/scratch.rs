//! The only place prodcode writes to git: scratch clones under prodcode's cache directory, where
//! curation checks out, backs changes out and applies patches.
//!
//! A scratch clone is `git clone --shared --no-checkout` of the developer's repository: it reads
//! the repository's objects through `objects/info/alternates` and writes nothing there (no ref,
//! no reflog, no index, no work-tree file). `link` and the daemon never look at it: it is a
//! separate repository outside every workspace. Commits made here (a backed-out base) live only
//! in the clone, which is why a task also carries the patch that rebuilds its base.
//!
//! Every command runs with hooks off, no signing, a fixed identity and the caller's `GIT_*`
//! repository variables removed, so a user's git configuration cannot run code or point the
//! command at another repository.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::history::GitError;

/// A scratch clone's work tree.
#[derive(Clone, Debug)]
pub struct Scratch {
    dir: PathBuf,
}

/// What backing a change out did.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Backout {
    /// The work tree and index hold the state without the change.
    Clean,
    /// Three-way merging conflicted in these paths; the clone was reset.
    Conflict(Vec<String>),
}

impl Scratch {
    /// The scratch clone of `source` at `dir`, cloned now if it does not exist yet.
    pub fn open(source: &Path, dir: &Path) -> Result<Scratch, GitError> {
        let scratch = Scratch {
            dir: dir.to_path_buf(),
        };
        if dir.join(".git").is_dir() {
            return Ok(scratch);
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| GitError::Read(format!("{}: {error}", parent.display())))?;
        }
        // A half-made clone of an interrupted run is started over.
        let _ = std::fs::remove_dir_all(dir);
        let mut command = base_command();
        command
            .args(["clone", "--quiet", "--shared", "--no-checkout", "--"])
            .arg(source)
            .arg(dir);
        run(command, None)?;
        Ok(scratch)
    }

    pub fn root(&self) -> &Path {
        &self.dir
    }

    /// Checks `sha` out detached, discarding every change and untracked file (ignored files,
    /// such as build output, are kept).
    pub fn checkout(&self, sha: &str) -> Result<(), GitError> {
        self.git(&["reset", "--quiet", "--hard"])?;
        self.git(&["checkout", "--quiet", "--force", "--detach", sha, "--"])?;
        self.git(&["clean", "--quiet", "-f", "-d"])?;
        Ok(())
    }

    /// Backs `commits` (oldest first) out of the checked-out state with `git revert`'s
    /// three-way merge, newest first, leaving the result uncommitted.
    pub fn back_out(&self, commits: &[String]) -> Result<Backout, GitError> {
        let mut args = vec!["revert", "--no-commit", "--no-edit"];
        args.extend(commits.iter().rev().map(String::as_str));
        args.push("--");
        match self.git(&args) {
            Ok(_) => Ok(Backout::Clean),
            Err(GitError::Read(message)) => {
                let conflicted = self
                    .git(&["diff", "--name-only", "-z", "--diff-filter=U"])
                    .map(|out| split_z(&out))
                    .unwrap_or_default();
                let _ = self.git(&["revert", "--abort"]);
                let _ = self.git(&["reset", "--quiet", "--hard"]);
                if conflicted.is_empty() {
                    // Not a conflict: an object missing, a merge commit without a mainline.
                    return Err(GitError::Read(message));
                }
                Ok(Backout::Conflict(conflicted))
            }
            Err(other) => Err(other),
        }
    }

    /// Commits everything in the work tree with `message`, dated `at` (git's `@<seconds>`
    /// form) so the same inputs give the same commit id; its id.
    pub fn commit_all(&self, message: &str, at_seconds: i64) -> Result<String, GitError> {
        self.git(&["add", "--all", "--", "."])?;
        let date = format!("@{at_seconds} +0000");
        let mut command = self.command();
        command
            .args(["commit", "--quiet", "--allow-empty", "--no-verify", "-m"])
            .arg(message)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        run(command, None)?;
        self.resolve("HEAD")
    }

    /// The files of the index (what was checked out, plus applied patches).
    pub fn list_files(&self) -> Result<Vec<String>, GitError> {
        let out = self.git(&["ls-files", "-z"])?;
        Ok(split_z(&out))
    }

    /// The content of `path` at commit `sha`; `None` when it is not a file there.
    pub fn read(&self, sha: &str, path: &str) -> Option<Vec<u8>> {
        let object = format!("{sha}:{path}");
        self.git(&["cat-file", "blob", &object]).ok()
    }

    /// The full id of the commit `revision` names.
    pub fn resolve(&self, revision: &str) -> Result<String, GitError> {
        if revision.starts_with('-') {
            return Err(GitError::UnknownRevision(revision.to_owned()));
        }
        let spec = format!("{revision}^{{commit}}");
        let out = self.git(&["rev-parse", "--verify", "--quiet", &spec])?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// The paths `from` and `to` differ in (both sides of a rename).
    pub fn changed_paths(&self, from: &str, to: &str) -> Result<Vec<String>, GitError> {
        let out = self.git(&["diff", "--name-only", "-z", "--no-renames", from, to, "--"])?;
        Ok(split_z(&out))
    }

    /// The patch from `from` to `to` limited to `paths`, in the form `git apply` and SWE-bench
    /// harnesses read (binary files included, `a/` and `b/` prefixes whatever the user's
    /// configuration says). Empty when `paths` is.
    pub fn diff(&self, from: &str, to: &str, paths: &[String]) -> Result<String, GitError> {
        if paths.is_empty() {
            return Ok(String::new());
        }
        let mut args = vec![
            "diff",
            "--binary",
            "--full-index",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            from,
            to,
            "--",
        ];
        let literal: Vec<String> = paths
            .iter()
            .map(|path| format!(":(literal){path}"))
            .collect();
        args.extend(literal.iter().map(String::as_str));
        let out = self.git(&args)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Applies `patch` to the work tree (and index).
    pub fn apply(&self, patch: &str) -> Result<(), GitError> {
        apply_in(&self.dir, patch)
    }

    /// Commits the work tree's files (everything `git add --all` takes) as a commit with no
    /// parent, dated `at_seconds`, and points `refs/prodcode/<name>` at it: a history that holds
    /// this one tree and nothing else. The same tree and date give the same id.
    pub fn root_commit(
        &self,
        name: &str,
        message: &str,
        at_seconds: i64,
    ) -> Result<String, GitError> {
        self.git(&["add", "--all", "--", "."])?;
        let tree = self.git(&["write-tree"])?;
        let tree = String::from_utf8_lossy(&tree).trim().to_owned();
        let date = format!("@{at_seconds} +0000");
        let mut command = self.command();
        command
            .args(["commit-tree", &tree, "-m"])
            .arg(message)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        let sha = String::from_utf8_lossy(&run(command, None)?)
            .trim()
            .to_owned();
        self.git(&["update-ref", &format!("refs/prodcode/{name}"), &sha])?;
        Ok(sha)
    }

    /// Writes the tree of `refs/prodcode/<name>` as a tar archive at `out` (`git archive`: file
    /// modes and symbolic links kept, no `.git`, `export-ignore` attributes honoured), so the
    /// base can be rebuilt where neither this clone nor the developer's repository is.
    pub fn archive(&self, name: &str, out: &Path) -> Result<(), GitError> {
        let mut command = self.command();
        command
            .args(["archive", "--format=tar", "-o"])
            .arg(out)
            .arg(format!("refs/prodcode/{name}"))
            .arg("--");
        run(command, None).map(drop)
    }

    /// The files of commit `sha` with whether each is executable (`git ls-tree`; symbolic links
    /// and submodules left out).
    pub fn files_at(&self, sha: &str) -> Result<Vec<(String, bool)>, GitError> {
        let out = self.git(&["ls-tree", "-r", "-z", "--full-tree", sha, "--"])?;
        Ok(split_z(&out)
            .into_iter()
            .filter_map(|entry| {
                let (meta, path) = entry.split_once('\t')?;
                let mode = meta.split(' ').next()?;
                match mode {
                    "100644" => Some((path.to_owned(), false)),
                    "100755" => Some((path.to_owned(), true)),
                    _ => None,
                }
            })
            .collect())
    }

    /// A bare repository holding `refname`'s commit `sha` as `main` and nothing else, made once (in
    /// this clone's own git directory) by fetching that one commit: sealed workspaces are
    /// cloned from it with hard-linked objects, so each costs a checkout, not a pack.
    fn sealed_template(&self, refname: &str, sha: &str) -> Result<PathBuf, GitError> {
        let template = self.dir.join(".git").join("prodcode-sealed").join(sha);
        if template.join("refs/heads/main").is_file() {
            return Ok(template);
        }
        let _ = std::fs::remove_dir_all(&template);
        let mut init = base_command();
        init.args(["init", "--quiet", "--bare", "--initial-branch=main", "--"])
            .arg(&template);
        run(init, None)?;
        let mut fetch = base_command();
        fetch
            .arg("-C")
            .arg(&template)
            .args([
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--",
            ])
            .arg(&self.dir)
            .arg(format!("{refname}:refs/heads/main"));
        run(fetch, None)?;
        Ok(template)
    }

    /// Points `refs/prodcode/<name>` at `sha`, so a workspace can be cloned from it.
    pub fn mark(&self, name: &str, sha: &str) -> Result<(), GitError> {
        self.git(&["update-ref", &format!("refs/prodcode/{name}"), sha])
            .map(drop)
    }

    fn command(&self) -> Command {
        command_in(&self.dir)
    }

    fn git(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        git_in(&self.dir, args)
    }
}

/// An evaluation run's workspace: a repository of its own, made from a scratch clone's
/// `refs/prodcode/<name>`, where an agent works and its change is then graded.
///
/// Sealed (the default), it is a new repository that fetched that one ref, whose commit has no
/// parent: its objects hold the base tree and nothing else, so `git log -p` cannot show the
/// solution. Unsealed, it is a shared clone of the scratch clone, with the whole history.
#[derive(Clone, Debug)]
pub struct RunWorkspace {
    dir: PathBuf,
    base: String,
}

/// One path an agent's change touched, as `git diff --name-status` says.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ChangedPath {
    /// `A`dded, `M`odified, `D`eleted, `T`ype changed.
    pub status: char,
    pub path: String,
}

impl RunWorkspace {
    /// Makes the workspace at `dir` (which must not exist yet) from `refs/prodcode/<name>` of
    /// `scratch`, checked out on a branch `main`.
    pub fn create(
        scratch: &Scratch,
        name: &str,
        dir: &Path,
        sealed: bool,
    ) -> Result<RunWorkspace, GitError> {
        let refname = format!("refs/prodcode/{name}");
        let base = scratch.resolve(&refname)?;
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| GitError::Read(format!("{}: {error}", parent.display())))?;
        }
        if sealed {
            let template = scratch.sealed_template(&refname, &base)?;
            let mut clone = base_command();
            clone
                .args(["clone", "--quiet", "--local", "--branch", "main", "--"])
                .arg(&template)
                .arg(dir);
            run(clone, None)?;
            let workspace = RunWorkspace {
                dir: dir.to_path_buf(),
                base: base.clone(),
            };
            // Nothing to fetch from: the template holds the base alone anyway.
            workspace.git(&["remote", "remove", "origin"])?;
            workspace.identify()?;
            return Ok(workspace);
        }
        let mut clone = base_command();
        clone
            .args(["clone", "--quiet", "--shared", "--no-checkout", "--"])
            .arg(scratch.root())
            .arg(dir);
        run(clone, None)?;
        let workspace = RunWorkspace {
            dir: dir.to_path_buf(),
            base: base.clone(),
        };
        workspace.git(&["checkout", "--quiet", "--force", "-B", "main", &base, "--"])?;
        workspace.identify()?;
        Ok(workspace)
    }

    pub fn root(&self) -> &Path {
        &self.dir
    }

    /// An identity of the workspace's own, so an agent that commits its work can.
    fn identify(&self) -> Result<(), GitError> {
        self.git(&["config", "user.name", "prodcode eval"])?;
        self.git(&["config", "user.email", "eval@prodcode.invalid"])?;
        Ok(())
    }

    /// The commit the agent started from.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Everything that differs from the base now, new files included (ignored files are not
    /// part of a change), as a patch `git apply` reads; staged in the workspace's own index.
    pub fn change(&self) -> Result<String, GitError> {
        self.git(&["add", "--all", "--", "."])?;
        let out = self.git(&[
            "diff",
            "--cached",
            "--binary",
            "--full-index",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            &self.base,
            "--",
        ])?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The paths that differ from the base now (after [`change`](Self::change) staged them).
    pub fn changed_paths(&self) -> Result<Vec<ChangedPath>, GitError> {
        self.git(&["add", "--all", "--", "."])?;
        let out = self.git(&[
            "diff",
            "--cached",
            "--name-status",
            "-z",
            "--no-renames",
            &self.base,
            "--",
        ])?;
        let parts = split_z(&out);
        Ok(parts
            .chunks(2)
            .filter_map(|pair| match pair {
                [status, path] => Some(ChangedPath {
                    status: status.chars().next().unwrap_or('M'),
                    path: path.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    /// Files in the work tree that are neither tracked nor part of a change because an ignore
    /// rule hides them (build output, and whatever an agent hid there).
    pub fn ignored_files(&self) -> Result<Vec<String>, GitError> {
        let out = self.git(&[
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
        ])?;
        Ok(split_z(&out))
    }

    /// Puts `paths` back as they are in the base: files the base has are restored, others are
    /// removed.
    pub fn restore(&self, paths: &[String]) -> Result<(), GitError> {
        for path in paths {
            let literal = format!(":(literal){path}");
            if self
                .git(&["cat-file", "-e", &format!("{}:{path}", self.base)])
                .is_ok()
            {
                self.git(&["checkout", "--quiet", &self.base, "--", &literal])?;
            } else {
                let _ = self.git(&[
                    "rm",
                    "--quiet",
                    "--cached",
                    "--ignore-unmatch",
                    "-r",
                    "--",
                    &literal,
                ]);
                let full = self.dir.join(path);
                let _ = std::fs::remove_file(&full).or_else(|_| std::fs::remove_dir_all(&full));
            }
        }
        Ok(())
    }

    /// Applies `patch` to the work tree and index.
    pub fn apply(&self, patch: &str) -> Result<(), GitError> {
        apply_in(&self.dir, patch)
    }

    fn git(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        git_in(&self.dir, args)
    }
}

/// git run in the repository at `dir`, configured as [`base_command`] says.
fn command_in(dir: &Path) -> Command {
    let mut command = base_command();
    command.arg("-C").arg(dir);
    command
}

/// Applies `patch` to the work tree and index of the repository at `dir`.
fn apply_in(dir: &Path, patch: &str) -> Result<(), GitError> {
    if patch.is_empty() {
        return Ok(());
    }
    let mut command = command_in(dir);
    command.args(["apply", "--index", "--whitespace=nowarn", "-"]);
    run(command, Some(patch.as_bytes())).map(drop)
}

fn git_in(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let mut command = command_in(dir);
    command.args(args);
    run(command, None)
}

fn base_command() -> Command {
    let mut command = Command::new("git");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GIT_") {
            command.env_remove(&name);
        }
    }
    command
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "user.name=prodcode curate",
            "-c",
            "user.email=curate@prodcode.invalid",
            "-c",
            "advice.detachedHead=false",
            "-c",
            "core.autocrlf=false",
            "-c",
            "core.quotepath=off",
            "-c",
            "gc.auto=0",
            "-c",
            "maintenance.auto=false",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    command
}

fn run(mut command: Command, stdin: Option<&[u8]>) -> Result<Vec<u8>, GitError> {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|error| GitError::Read(format!("cannot run git: {error}")))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let output = child
        .wait_with_output()
        .map_err(|error| GitError::Read(format!("cannot run git: {error}")))?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let message = if stderr.trim().is_empty() {
        stdout.trim()
    } else {
        stderr.trim()
    };
    Err(GitError::Read(message.to_owned()))
}

fn split_z(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::TestRepo;

    #[test]
    fn backs_out_a_change_in_a_clone_and_leaves_the_source_alone() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\ntwo\nthree\n");
        let first = repo.commit_all("first");
        repo.write("a.txt", "one\nTWO\nthree\n");
        let change = repo.commit_all("change");
        repo.write("a.txt", "zero\none\nTWO\nthree\n");
        let later = repo.commit_all("later edit nearby");
        let refs_before = repo.git(&["for-each-ref"]);
        let reflog_before = repo.git(&["reflog"]);

        let dir = tempfile::tempdir().unwrap();
        let scratch = Scratch::open(repo.path(), &dir.path().join("clone")).unwrap();
        scratch.checkout(&later).unwrap();
        assert_eq!(
            scratch.back_out(std::slice::from_ref(&change)).unwrap(),
            Backout::Clean
        );
        let base = scratch.commit_all("base", 1_700_000_000).unwrap();
        assert_eq!(
            std::fs::read_to_string(scratch.root().join("a.txt")).unwrap(),
            "zero\none\ntwo\nthree\n"
        );
        let patch = scratch.diff(&base, &later, &["a.txt".to_owned()]).unwrap();
        assert!(patch.contains("-two\n+TWO\n"), "{patch}");
        // The same inputs give the same base commit.
        scratch.checkout(&later).unwrap();
        scratch.back_out(std::slice::from_ref(&change)).unwrap();
        assert_eq!(scratch.commit_all("base", 1_700_000_000).unwrap(), base);
        // A patch applies; a conflicting back-out is reported and reset.
        scratch.checkout(&first).unwrap();
        repo.write("a.txt", "one\nthree\n");
        let removal = repo.commit_all("remove two");
        scratch.checkout(&removal).unwrap();
        match scratch.back_out(&[change]).unwrap() {
            Backout::Conflict(paths) => assert_eq!(paths, ["a.txt"]),
            Backout::Clean => panic!("expected a conflict"),
        }
        scratch.checkout(&base).unwrap();
        scratch.apply(&patch).unwrap();
        assert_eq!(
            std::fs::read_to_string(scratch.root().join("a.txt")).unwrap(),
            "zero\none\nTWO\nthree\n"
        );
        // Nothing of this reached the source repository but the commit made there on purpose.
        assert_eq!(
            repo.git(&["reflog"]).lines().count(),
            reflog_before.lines().count() + 1
        );
        assert_eq!(
            repo.git(&["for-each-ref"]).lines().count(),
            refs_before.lines().count()
        );
        assert!(repo.try_git(&[], &["cat-file", "-t", &base]).is_err());
    }
}
