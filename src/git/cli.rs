//! What prodcode asks of the `git` program rather than of gix: the work tree's file list and
//! object contents for shell-command snapshots, and where a repository runs its hooks.
//!
//! These run the real `git` (with `--no-optional-locks`, so they never take the index lock away
//! from an agent working in the same repository): gix's directory walk and hook-path logic would
//! add compile time for these few uses. Every caller tolerates `git` being absent.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The git object id of `bytes`.
pub fn object_id(bytes: &[u8]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(format!("blob {}\0", bytes.len()).as_bytes());
    context.update(bytes);
    crate::model::hex(context.finish().as_ref())
}

/// The files git considers in a work tree.
pub struct Listing {
    /// Tracked files by relative path, with their index object id (`None` while conflicted).
    pub index: HashMap<String, Option<String>>,
    /// Modified and untracked (not ignored) files by relative path.
    pub dirty: HashSet<String>,
}

/// Lists the work tree at `root`; `None` when git cannot (not a repository, git missing).
pub fn list_worktree(root: &Path) -> Option<Listing> {
    // Tracked files with their index ids: `<mode> <oid> <stage>\t<path>\0`.
    let listed = git_output(root, &["ls-files", "-s", "-z"])?;
    let mut index: HashMap<String, Option<String>> = HashMap::new();
    for record in listed.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let mut parts = meta.split(' ');
        let (mode, oid, stage) = (parts.next(), parts.next(), parts.next());
        if mode == Some("160000") {
            continue; // a submodule: not a file of this work tree
        }
        // A conflicted path (stage 1–3) has no single index id: hash the file.
        let oid = (stage == Some("0"))
            .then(|| oid.map(str::to_owned))
            .flatten();
        index.insert(path.to_owned(), oid);
    }
    // Modified and untracked (not ignored) files: `XY <path>\0`.
    let status = git_output(
        root,
        &[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
            "--ignore-submodules=all",
        ],
    )?;
    let mut dirty: HashSet<String> = HashSet::new();
    for record in status.split(|b| *b == 0).filter(|r| r.len() > 3) {
        dirty.insert(String::from_utf8_lossy(&record[3..]).into_owned());
    }
    Some(Listing { index, dirty })
}

fn git(root: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(root)
        .args(["--no-optional-locks", "-c", "core.quotepath=off"])
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn git_output(root: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let output = git(root).args(args).output().ok()?;
    output.status.success().then_some(output.stdout)
}

/// Reads git objects by id (`git cat-file --batch`); ids git does not have are left out.
pub fn read_objects(root: &Path, oids: &[String]) -> HashMap<String, Vec<u8>> {
    let mut found = HashMap::new();
    if oids.is_empty() {
        return found;
    }
    let Ok(mut child) = git(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        return found;
    };
    let mut request = String::new();
    for oid in oids {
        request.push_str(oid);
        request.push('\n');
    }
    // Writing everything first could deadlock on a full pipe: write from a thread.
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            let _ = stdin.write_all(request.as_bytes());
        }
    });
    let mut output = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_end(&mut output);
    }
    let _ = writer.join();
    let _ = child.wait();
    // `<oid> blob <size>\n<content>\n`, or `<oid> missing\n`.
    let mut at = 0;
    while at < output.len() {
        let Some(newline) = output[at..].iter().position(|b| *b == b'\n') else {
            break;
        };
        let header = String::from_utf8_lossy(&output[at..at + newline]).into_owned();
        at += newline + 1;
        let mut parts = header.split(' ');
        let (Some(oid), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(size) = size.parse::<usize>() else {
            continue;
        };
        let end = (at + size).min(output.len());
        if kind == "blob" {
            found.insert(oid.to_owned(), output[at..end].to_vec());
        }
        at = end + 1;
    }
    found
}

/// The directory git runs this repository's hooks from (honouring `core.hooksPath` and linked
/// worktrees), by asking git itself.
pub fn hooks_dir(project_dir: &Path) -> Result<PathBuf, String> {
    let output = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .current_dir(project_dir)
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(stderr.trim().to_owned());
    }
    let path = String::from_utf8(output.stdout)
        .map_err(|_| "git printed a hooks path that is not UTF-8".to_owned())?;
    let path = PathBuf::from(path.trim_end_matches(['\n', '\r']));
    Ok(if path.is_absolute() {
        path
    } else {
        project_dir.join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            object_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(object_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}
