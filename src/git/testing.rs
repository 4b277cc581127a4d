//! Real repositories in temporary directories, made with the `git` program, for this module's
//! tests. Git runs isolated from the machine's configuration, with a fixed identity.

use std::path::{Path, PathBuf};
use std::process::Command;

pub(super) struct TestRepo {
    path: PathBuf,
    /// Removes the directory on drop; `None` for a repository inside another one's directory.
    _dir: Option<tempfile::TempDir>,
}

impl TestRepo {
    /// A new repository whose branch is `main`, without commits.
    pub(super) fn new() -> TestRepo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().canonicalize().unwrap();
        let repo = TestRepo {
            path,
            _dir: Some(dir),
        };
        repo.git(&["init", "-q"]);
        repo
    }

    /// The repository (or worktree) at `path`, made elsewhere.
    pub(super) fn at(path: &Path) -> TestRepo {
        TestRepo {
            path: path.to_path_buf(),
            _dir: None,
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs git here and returns its trimmed output; panics with git's message on failure.
    pub(super) fn git(&self, args: &[&str]) -> String {
        self.git_with_env(&[], args)
    }

    pub(super) fn git_with_env(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        match self.try_git(env, args) {
            Ok(output) => output,
            Err(message) => panic!("git {args:?} failed: {message}"),
        }
    }

    /// Runs git here; the error is git's stderr.
    pub(super) fn try_git(&self, env: &[(&str, &str)], args: &[&str]) -> Result<String, String> {
        let output = Command::new("git")
            .current_dir(&self.path)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_EDITOR", "true")
            .envs(env.iter().copied())
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "protocol.file.allow=always",
            ])
            .args(args)
            .output()
            .unwrap();
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    pub(super) fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let path = self.path.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// Writes `path`, stages everything and commits; returns the new commit's id.
    pub(super) fn commit_file(
        &self,
        path: &str,
        contents: impl AsRef<[u8]>,
        message: &str,
    ) -> String {
        self.write(path, contents);
        self.commit_all(message)
    }

    /// Stages everything and commits; returns the new commit's id.
    pub(super) fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    /// Adds a linked worktree at `dir` (under this repository) on a new branch `branch`, and
    /// returns its path.
    pub(super) fn add_worktree(&self, dir: &str, branch: &str) -> PathBuf {
        let path = self.path.join(dir);
        self.git(&[
            "worktree",
            "add",
            "-q",
            "-b",
            branch,
            path.to_str().unwrap(),
        ]);
        path
    }

    pub(super) fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }
}
