//! [`super::discover`] for a hook call: the repository around a path and where its HEAD points,
//! read straight from `.git` (HEAD, a loose ref or `packed-refs`) without opening the
//! repository. Opening it with gix reads its configuration and the user's, and took a hook call
//! 0.3–0.45 ms of its ~1 ms budget (issue 16); these few reads take tens of microseconds.
//!
//! Anything this does not recognise (a symbolic ref that does not name a branch, the reftable
//! format, a ref that is not an object id) is left to [`super::discover`], so the answer is
//! always the one gix gives.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::RepoInfo;

/// The repository containing `path` (a file or a directory), as [`super::discover`] finds it.
pub fn discover_quick(path: &Path) -> Option<RepoInfo> {
    match read(path) {
        Found::Repo(info) => Some(info),
        Found::Nothing => None,
        Found::Unsure => super::discover(path),
    }
}

enum Found {
    Repo(RepoInfo),
    /// No `.git` above the path on its filesystem.
    Nothing,
    /// Something only gix knows how to read.
    Unsure,
}

fn read(path: &Path) -> Found {
    let start = if path.is_dir() {
        path
    } else {
        match path.parent() {
            Some(parent) => parent,
            None => return Found::Nothing,
        }
    };
    let Ok(start) = start.canonicalize() else {
        return Found::Unsure;
    };
    let Ok(device) = std::fs::metadata(&start).map(|metadata| metadata.dev()) else {
        return Found::Unsure;
    };
    for dir in start.ancestors() {
        // gix does not cross into another filesystem looking for a repository; neither does this.
        match std::fs::metadata(dir) {
            Ok(metadata) if metadata.dev() == device => {}
            _ => return Found::Nothing,
        }
        let dot_git = dir.join(".git");
        let Ok(metadata) = std::fs::symlink_metadata(&dot_git) else {
            continue;
        };
        let git_dir = if metadata.is_dir() {
            dot_git
        } else if metadata.is_file() {
            // A linked worktree or a submodule: `gitdir: <path>`.
            match std::fs::read_to_string(&dot_git) {
                Ok(text) => match text.strip_prefix("gitdir: ") {
                    Some(target) => dir.join(target.trim_end_matches(['\n', '\r'])),
                    None => return Found::Unsure,
                },
                Err(_) => return Found::Unsure,
            }
        } else {
            return Found::Unsure;
        };
        return match head(&git_dir) {
            Some((head_commit, branch)) => Found::Repo(RepoInfo {
                root: dir.to_path_buf(),
                head_commit,
                branch,
            }),
            None => Found::Unsure,
        };
    }
    Found::Nothing
}

/// HEAD's commit (`None` on an unborn branch) and branch (`None` when detached); `None` when it
/// is not a plain branch or commit.
#[allow(clippy::type_complexity)]
fn head(git_dir: &Path) -> Option<(Option<String>, Option<String>)> {
    let text = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let text = text.trim_end();
    let Some(target) = text.strip_prefix("ref: ") else {
        return object_id(text).then(|| (Some(text.to_owned()), None));
    };
    // `refs/heads/.invalid` is what the reftable format leaves in HEAD.
    let branch = target.strip_prefix("refs/heads/")?;
    if branch.is_empty() || branch == ".invalid" {
        return None;
    }
    // Branches live in the common directory of linked worktrees.
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(relative) => git_dir.join(relative.trim_end_matches(['\n', '\r'])),
        Err(_) => git_dir.to_path_buf(),
    };
    Some((resolve(&common, target)?, Some(branch.to_owned())))
}

/// The object id `name` holds: its loose file, else its `packed-refs` line. `Some(None)` when
/// it exists in neither (an unborn branch), `None` when it holds something else.
fn resolve(common: &Path, name: &str) -> Option<Option<String>> {
    let loose: PathBuf = common.join(name);
    match std::fs::read_to_string(&loose) {
        Ok(text) => {
            let id = text.trim_end();
            return object_id(id).then(|| Some(id.to_owned()));
        }
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return None,
        Err(_) => {}
    }
    let packed = match std::fs::read_to_string(common.join("packed-refs")) {
        Ok(packed) => packed,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Some(None),
        Err(_) => return None,
    };
    for line in packed.lines() {
        if let Some((id, reference)) = line.split_once(' ')
            && reference == name
        {
            return object_id(id).then(|| Some(id.to_owned()));
        }
    }
    Some(None)
}

/// A SHA-1 or SHA-256 object id in lowercase hex.
fn object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestRepo;
    use super::*;

    /// The quick answer is gix's answer, and it was found without gix.
    fn same_as_gix(path: &Path) {
        let quick = match read(path) {
            Found::Repo(info) => Some(info),
            Found::Nothing => None,
            Found::Unsure => panic!("{} needed gix", path.display()),
        };
        assert_eq!(quick, super::super::discover(path), "{}", path.display());
    }

    #[test]
    fn reads_head_as_gix_does_on_a_branch_detached_packed_unborn_and_in_worktrees() {
        let repo = TestRepo::new();
        same_as_gix(repo.path()); // unborn
        std::fs::create_dir(repo.path().join("src")).unwrap();
        std::fs::write(repo.path().join("src/a.rs"), "fn a() {}\n").unwrap();
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "one"]);
        same_as_gix(&repo.path().join("src/a.rs"));
        same_as_gix(&repo.path().join("src/new-file.rs"));
        repo.git(&["pack-refs", "--all"]);
        assert!(!repo.path().join(".git/refs/heads/main").exists());
        same_as_gix(&repo.path().join("src"));
        repo.git(&["checkout", "-q", "--detach"]);
        same_as_gix(repo.path());
        repo.git(&["checkout", "-q", "-b", "feature/x"]);
        same_as_gix(repo.path());
        let linked = repo.path().join("linked");
        repo.git(&[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            linked.to_str().unwrap(),
        ]);
        same_as_gix(&linked.join("src/a.rs"));
        let other = TestRepo::new();
        same_as_gix(other.path());
        assert!(matches!(
            read(Path::new("/")),
            Found::Nothing | Found::Repo(_)
        ));
    }

    #[test]
    fn leaves_what_it_does_not_know_to_gix() {
        let repo = TestRepo::new();
        std::fs::write(repo.path().join("HEAD-target"), "").unwrap();
        std::fs::write(
            repo.path().join(".git/HEAD"),
            "ref: refs/remotes/origin/main\n",
        )
        .unwrap();
        assert!(matches!(read(repo.path()), Found::Unsure));
        std::fs::write(repo.path().join(".git/HEAD"), "ref: refs/heads/.invalid\n").unwrap();
        assert!(matches!(read(repo.path()), Found::Unsure));
        std::fs::write(repo.path().join(".git/HEAD"), "garbage\n").unwrap();
        assert!(matches!(read(repo.path()), Found::Unsure));
    }
}
