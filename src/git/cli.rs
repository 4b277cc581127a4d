//! What prodcode asks of the `git` program rather than of gix: the work tree's file list and
//! object contents for shell-command snapshots, where a repository runs its hooks, `git blame`
//! and revision ranges for reports.
//!
//! These run the real `git` (with `--no-optional-locks`, so they never take the index lock away
//! from an agent working in the same repository): gix's directory walk and hook-path logic would
//! add compile time for these few uses. Every caller tolerates `git` being absent.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::history::{BlameLine, GitError};

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

/// The object id git's index holds for `relative` (a `/`-separated path in the work tree at
/// `root`); `None` when it is not tracked, conflicted, or git cannot tell.
pub fn index_id(root: &Path, relative: &str) -> Option<String> {
    let pathspec = format!(":(literal){relative}");
    let listed = git_output(root, &["ls-files", "-s", "-z", "--", &pathspec])?;
    let record = listed.split(|b| *b == 0).find(|r| !r.is_empty())?;
    let record = String::from_utf8_lossy(record);
    let (meta, path) = record.split_once('\t')?;
    let mut parts = meta.split(' ');
    let (_mode, oid, stage) = (parts.next()?, parts.next()?, parts.next()?);
    (stage == "0" && path == relative).then(|| oid.to_owned())
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

/// Runs git in `root` and returns its output, or its error message.
fn git_checked(root: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let output = git(root)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .map_err(|error| GitError::Read(format!("cannot run git: {error}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(GitError::Read(stderr.trim().to_owned()));
    }
    Ok(output.stdout)
}

/// `git blame` of `path` (relative to `root`) at `rev`, or of the working file without one
/// (lines not committed yet have no `sha`).
pub fn blame(root: &Path, rev: Option<&str>, path: &str) -> Result<Vec<BlameLine>, GitError> {
    let mut args = vec!["blame", "--porcelain"];
    if let Some(rev) = rev {
        if rev.is_empty() || rev.starts_with('-') {
            return Err(GitError::UnknownRevision(rev.to_owned()));
        }
        args.push(rev);
    }
    args.extend(["--", path]);
    let output = git_checked(root, &args)?;
    Ok(parse_blame_porcelain(&output))
}

/// Parses `git blame --porcelain`: each line is a header `<sha> <orig line> <final line>
/// [<group size>]`, the commit's details the first time that commit appears (`filename` again
/// for each group when the commit touched several paths), then the content after a TAB.
fn parse_blame_porcelain(output: &[u8]) -> Vec<BlameLine> {
    let mut lines = Vec::new();
    let mut filenames: HashMap<String, String> = HashMap::new();
    let mut current: Option<(String, u32, u32)> = None;
    let mut filename: Option<String> = None;
    for raw in output.split(|byte| *byte == b'\n') {
        if let Some(content) = raw.strip_prefix(b"\t") {
            let Some((sha, orig_line, line)) = current.take() else {
                continue;
            };
            let orig_path = filename
                .take()
                .or_else(|| filenames.get(&sha).cloned())
                .unwrap_or_default();
            let committed = sha.bytes().any(|byte| byte != b'0');
            lines.push(BlameLine {
                line,
                sha: committed.then_some(sha),
                orig_path,
                orig_line,
                content: String::from_utf8_lossy(content).into_owned(),
            });
            continue;
        }
        let raw = String::from_utf8_lossy(raw);
        if let Some(header) = blame_header(&raw) {
            current = Some(header);
            filename = None;
        } else if let Some(name) = raw.strip_prefix("filename ")
            && let Some((sha, _, _)) = &current
        {
            let name = unquote(name);
            filenames.insert(sha.clone(), name.clone());
            filename = Some(name);
        }
    }
    lines
}

/// `<sha> <orig line> <final line> [<count>]`, or `None` for any other line.
fn blame_header(line: &str) -> Option<(String, u32, u32)> {
    let mut parts = line.split(' ');
    let sha = parts.next()?;
    let is_sha = matches!(sha.len(), 40 | 64) && sha.bytes().all(|byte| byte.is_ascii_hexdigit());
    if !is_sha {
        return None;
    }
    let orig_line = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((sha.to_owned(), orig_line, line))
}

/// A path as git prints it: quoted C-style when it holds unusual bytes.
fn unquote(name: &str) -> String {
    let Some(inner) = name
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return name.to_owned();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.bytes().peekable();
    while let Some(byte) = chars.next() {
        if byte != b'\\' {
            bytes.push(byte);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(b'a') => bytes.push(7),
            Some(b'b') => bytes.push(8),
            Some(b'f') => bytes.push(12),
            Some(b'v') => bytes.push(11),
            Some(digit @ b'0'..=b'3') => {
                let mut value = u32::from(digit - b'0');
                for _ in 0..2 {
                    if let Some(next) = chars.next_if(u8::is_ascii_digit) {
                        value = value * 8 + u32::from(next - b'0');
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The commits `spec` names, oldest first: a single revision gives that commit; a range (`A..B`,
/// `A...B`) gives what `git rev-list --reverse --topo-order` lists for it.
pub fn rev_list(root: &Path, spec: &str) -> Result<Vec<String>, GitError> {
    // Never let a revision be read as an option.
    if spec.is_empty() || spec.starts_with('-') {
        return Err(GitError::UnknownRevision(spec.to_owned()));
    }
    let output = if spec.contains("..") {
        git_checked(root, &["rev-list", "--reverse", "--topo-order", spec, "--"])
    } else {
        let commit = format!("{spec}^{{commit}}");
        git_checked(root, &["rev-parse", "--verify", "--quiet", &commit])
    }
    .map_err(|error| match error {
        GitError::Read(message)
            if message.is_empty()
                || message.contains("unknown revision")
                || message.contains("bad revision") =>
        {
            GitError::UnknownRevision(spec.to_owned())
        }
        other => other,
    })?;
    Ok(String::from_utf8_lossy(&output)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::TestRepo;

    #[test]
    fn object_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            object_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(object_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn blame_porcelain_is_parsed() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let zero = "0".repeat(40);
        let output = format!(
            "{a} 1 1 2\nauthor Ada\nsummary first\nfilename old.rs\n\tone\n\
             {a} 2 2\n\ttwo\n\
             {b} 1 3 1\nauthor Bob\nprevious {a} old.rs\nfilename new.rs\n\tthree\n\
             {a} 3 4 1\n\tfour\n\
             {zero} 5 5 1\nauthor Not Committed Yet\nfilename new.rs\n\t\tindented\n"
        );
        let lines = parse_blame_porcelain(output.as_bytes());
        let summary: Vec<_> = lines
            .iter()
            .map(|l| {
                (
                    l.line,
                    l.sha.as_deref(),
                    l.orig_path.as_str(),
                    l.orig_line,
                    l.content.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, Some(a.as_str()), "old.rs", 1, "one"),
                (2, Some(a.as_str()), "old.rs", 2, "two"),
                (3, Some(b.as_str()), "new.rs", 1, "three"),
                (4, Some(a.as_str()), "old.rs", 3, "four"),
                (5, None, "new.rs", 5, "\tindented"),
            ]
        );
        assert_eq!(unquote("\"caf\\303\\251 \\\"x\\\".rs\""), "café \"x\".rs");
    }

    #[test]
    fn blame_and_rev_list_run_git() {
        let repo = TestRepo::new();
        let first = repo.commit_file("f.txt", "one\ntwo\n", "first");
        let second = repo.commit_file("f.txt", "one\ntwo\nthree\n", "second");
        repo.write("f.txt", "one\nchanged\nthree\n");

        let committed = blame(repo.path(), Some("HEAD"), "f.txt").unwrap();
        let shas: Vec<_> = committed.iter().map(|l| l.sha.clone().unwrap()).collect();
        assert_eq!(shas, [first.clone(), first.clone(), second.clone()]);
        assert_eq!(committed[2].content, "three");
        assert_eq!(committed[2].orig_path, "f.txt");

        let working = blame(repo.path(), None, "f.txt").unwrap();
        assert_eq!(working[1].sha, None);
        assert_eq!(working[1].content, "changed");
        assert_eq!(working[2].sha.as_deref(), Some(second.as_str()));
        assert!(blame(repo.path(), Some("--output=x"), "f.txt").is_err());
        assert!(blame(repo.path(), None, "missing.txt").is_err());

        let third = repo.commit_all("third");
        assert_eq!(
            rev_list(repo.path(), "HEAD~1").unwrap(),
            vec![second.clone()]
        );
        assert_eq!(rev_list(repo.path(), &first).unwrap(), vec![first.clone()]);
        assert_eq!(
            rev_list(repo.path(), &format!("{first}..HEAD")).unwrap(),
            [second.clone(), third.clone()]
        );
        assert_eq!(rev_list(repo.path(), "HEAD~1...HEAD").unwrap(), [third]);
        assert!(matches!(
            rev_list(repo.path(), "--all"),
            Err(GitError::UnknownRevision(_))
        ));
        assert!(matches!(
            rev_list(repo.path(), "nope"),
            Err(GitError::UnknownRevision(_))
        ));
        assert!(matches!(
            rev_list(repo.path(), "nope..HEAD"),
            Err(GitError::UnknownRevision(_))
        ));
    }
}
