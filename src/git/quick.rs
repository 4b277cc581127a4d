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
        let git_dir = match git_dir(dir) {
            None => continue,
            Some(Err(Unsure)) => return Found::Unsure,
            Some(Ok(git_dir)) => git_dir,
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

/// Something only gix (or git) knows how to read.
struct Unsure;

/// The git directory of the work tree at `dir`: `dir/.git`, or where a linked worktree's or a
/// submodule's `.git` file points. `None` when `dir` has no `.git`.
fn git_dir(dir: &Path) -> Option<Result<PathBuf, Unsure>> {
    let dot_git = dir.join(".git");
    let metadata = std::fs::symlink_metadata(&dot_git).ok()?;
    if metadata.is_dir() {
        return Some(Ok(dot_git));
    }
    if !metadata.is_file() {
        return Some(Err(Unsure));
    }
    // A linked worktree or a submodule: `gitdir: <path>`.
    let text = std::fs::read_to_string(&dot_git).ok();
    Some(
        match text
            .as_deref()
            .and_then(|text| text.strip_prefix("gitdir: "))
        {
            Some(target) => Ok(dir.join(target.trim_end_matches(['\n', '\r']))),
            None => Err(Unsure),
        },
    )
}

/// [`super::index_id`] read from the index file in this process: `git ls-files` is a process
/// start, about a millisecond of a pre-edit hook call on a file changed since its last snapshot.
/// An index this does not read (sparse, a split index whose shared part is missing, not SHA-1,
/// not decodable) is left to git, so the answer is always git's.
pub fn index_id_quick(root: &Path, relative: &str) -> Option<String> {
    match read_index_id(root, relative) {
        Ok(id) => id,
        Err(Unsure) => super::cli::index_id(root, relative),
    }
}

/// The stage-0 entry's object id of `relative` in the index of the work tree at `root`.
fn read_index_id(root: &Path, relative: &str) -> Result<Option<String>, Unsure> {
    // git would read another index, or another repository's.
    if [
        "GIT_INDEX_FILE",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_COMMON_DIR",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some())
    {
        return Err(Unsure);
    }
    let git_dir = git_dir(root).ok_or(Unsure)??;
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(common) => git_dir.join(common.trim_end_matches(['\n', '\r'])),
        Err(_) => git_dir.clone(),
    };
    // `extensions.objectFormat = sha256`, in any spelling: object ids of another length.
    let config = std::fs::read_to_string(common.join("config")).unwrap_or_default();
    if config.to_ascii_lowercase().contains("objectformat") {
        return Err(Unsure);
    }
    let path = git_dir.join("index");
    if matches!(std::fs::metadata(&path), Err(error) if error.kind() == std::io::ErrorKind::NotFound)
    {
        return Ok(None); // nothing was ever added
    }
    let options = gix::index::decode::Options {
        // An index with an offset table would be decoded by one thread per core.
        thread_limit: Some(1),
        ..Default::default()
    };
    let index =
        gix::index::File::at(&path, gix::hash::Kind::Sha1, true, options).map_err(|_| Unsure)?;
    if index.link().is_some() || index.is_sparse() {
        return Err(Unsure);
    }
    Ok(index
        .entry_by_path_and_stage(relative.into(), gix::index::entry::Stage::Unconflicted)
        .map(|entry| entry.id.to_hex().to_string()))
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
        let linked = repo.add_worktree("linked", "side");
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

    /// What the index holds for `relative`, read in-process and by git, which must agree; and
    /// whether the in-process read answered alone.
    fn index_as_git(root: &Path, relative: &str) -> (Option<String>, bool) {
        let quick = read_index_id(root, relative);
        let answered = quick.is_ok();
        let git = super::super::cli::index_id(root, relative);
        if let Ok(quick) = quick {
            assert_eq!(quick, git, "{relative} in {}", root.display());
        }
        assert_eq!(index_id_quick(root, relative), git);
        (git, answered)
    }

    #[test]
    fn reads_the_index_as_git_does() {
        let repo = TestRepo::new();
        assert_eq!(index_as_git(repo.path(), "a.rs"), (None, true)); // no index yet
        std::fs::create_dir(repo.path().join("src")).unwrap();
        let files = ["a.rs", "src/b c.rs", "src/ü.rs", "src/z.rs"];
        for (n, file) in files.iter().enumerate() {
            std::fs::write(repo.path().join(file), format!("fn f{n}() {{}}\n\n}}\n")).unwrap();
        }
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "one"]);
        for file in files {
            let (id, answered) = index_as_git(repo.path(), file);
            assert!(id.is_some() && answered, "{file}");
        }
        assert_eq!(index_as_git(repo.path(), "src"), (None, true));
        assert_eq!(index_as_git(repo.path(), "src/untracked.rs"), (None, true));
        // Changed on disk, not added: the index keeps the committed blob.
        std::fs::write(repo.path().join("a.rs"), "changed\n").unwrap();
        let (committed, _) = index_as_git(repo.path(), "a.rs");
        assert_eq!(committed, Some(repo.git(&["rev-parse", "HEAD:a.rs"])));
        // Index version 4 (prefix-compressed paths).
        repo.git(&["update-index", "--index-version", "4"]);
        assert!(index_as_git(repo.path(), "src/ü.rs").1);
        // A merge conflict: no stage-0 entry.
        repo.git(&["checkout", "-q", "-b", "side"]);
        std::fs::write(repo.path().join("src/z.rs"), "side\n").unwrap();
        repo.git(&["commit", "-q", "-am", "side"]);
        repo.git(&["checkout", "-q", "-"]);
        std::fs::write(repo.path().join("a.rs"), "fn f0() {}\n\n}\n").unwrap();
        std::fs::write(repo.path().join("src/z.rs"), "main\n").unwrap();
        repo.git(&["commit", "-q", "-am", "main"]);
        assert!(
            repo.try_git(&[], &["merge", "-q", "side"]).is_err(),
            "a conflict"
        );
        assert_eq!(index_as_git(repo.path(), "src/z.rs"), (None, true));
        repo.git(&["merge", "--abort"]);
        // A linked worktree has an index of its own.
        let linked = repo.add_worktree("linked", "w");
        std::fs::write(linked.join("a.rs"), "worktree\n").unwrap();
        TestRepo::at(&linked).git(&["add", "a.rs"]);
        let (in_linked, answered) = index_as_git(&linked, "a.rs");
        assert!(answered);
        assert_ne!(in_linked, index_as_git(repo.path(), "a.rs").0);
        // A split index: gix reads the shared index it links to.
        repo.git(&["update-index", "--split-index"]);
        assert!(index_as_git(repo.path(), "src/b c.rs").0.is_some());
    }
}
