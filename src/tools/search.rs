//! The `search` tool: a regex search over the workspace's files, the way `rg` searches them.
//!
//! It uses ripgrep's own crates, so agents see what a developer running `rg` sees: `ignore` walks
//! the tree honouring `.gitignore` (inside a git repository, as `rg` does), `.ignore`, git's
//! `info/exclude` and the global excludes file, and skips hidden files; `grep-searcher` reads files
//! line by line and gives up on a file at its first NUL byte (a binary file); `grep-regex` matches
//! with Rust `regex` syntax. Symbolic links are not followed by the walk; paths named by the caller
//! go through [`Workspace::resolve`] first, and every file is opened with
//! [`open_beneath`](super::workspace::open_beneath), so a link swapped in after the walk is not
//! followed either.
//!
//! Results are deterministic: files are searched in the order of their workspace-relative paths,
//! so the first `max_results` matches are the same on every run. The walk is single-threaded for
//! that reason.

use std::io;
use std::path::PathBuf;

use grep_matcher::Matcher;
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkMatch};
use serde::Serialize;

use super::workspace::{ToolError, ToolErrorKind, Workspace};

/// Characters of a matching line kept in [`SearchMatch::text`].
pub const MAX_LINE_CHARS: usize = 500;

/// One matching line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchMatch {
    /// The file, relative to the workspace root, with `/` separators.
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    /// 1-based column of the first match on the line, counted in characters (Unicode scalar
    /// values), not bytes and not UTF-16 code units.
    pub column: u64,
    /// The whole line without its line terminator, cut to [`MAX_LINE_CHARS`] characters; bytes
    /// that are not UTF-8 are shown as U+FFFD.
    pub text: String,
}

/// The answer of [`search`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// Matches ordered by path, then line.
    pub matches: Vec<SearchMatch>,
    /// Text files whose contents were searched (binary files are not counted).
    pub files_searched: u64,
    /// True when more matches exist than were returned (`max_results` or `max_bytes` was reached).
    pub truncated: bool,
}

/// Searches the files under `paths` (workspace-relative; the whole workspace when empty) for the
/// regex `pattern` (Rust `regex` syntax, one line at a time), returning at most `max_results`
/// matches whose paths and texts take at most `max_bytes` bytes together.
pub fn search(
    ws: &Workspace,
    pattern: &str,
    paths: &[String],
    max_results: usize,
    max_bytes: usize,
) -> Result<SearchResult, ToolError> {
    let matcher = RegexMatcherBuilder::new().line_terminator(Some(b'\n')).build(pattern).map_err(|err| {
        ToolError::new(
            ToolErrorKind::InvalidArgument,
            format!("`{pattern}` is not a valid regex: {err}; use Rust `regex` syntax and escape literal metacharacters"),
        )
    })?;
    if max_results == 0 {
        return Err(ToolError::new(
            ToolErrorKind::InvalidArgument,
            "max_results is 0; ask for at least one match",
        ));
    }
    let roots = resolve_roots(ws, paths)?;
    let files = files_under(ws, &roots);

    let mut searcher = SearcherBuilder::new()
        .line_number(true)
        .binary_detection(BinaryDetection::quit(b'\0'))
        .build();
    let mut result = SearchResult {
        matches: Vec::new(),
        files_searched: 0,
        truncated: false,
    };
    let mut bytes_used = 0;
    'files: for (relative, path) in files {
        // One more than `max_results` tells whether the answer is truncated.
        let wanted = max_results + 1 - result.matches.len();
        let mut sink = FileSink {
            matcher: &matcher,
            path: &relative,
            wanted,
            matches: Vec::new(),
            binary: false,
        };
        // Opened by descriptor without following links: a file swapped for a link pointing out
        // since the walk is skipped, never searched.
        let Ok(file) = super::workspace::open_beneath(ws.root(), &path) else {
            continue;
        };
        if searcher.search_file(&matcher, &file, &mut sink).is_err() || sink.binary {
            // A file that vanished or cannot be read is skipped, as `rg` skips it.
            continue;
        }
        result.files_searched += 1;
        for found in sink.matches {
            let size = found.path.len() + found.text.len();
            if result.matches.len() == max_results || bytes_used + size > max_bytes {
                result.truncated = true;
                break 'files;
            }
            bytes_used += size;
            result.matches.push(found);
        }
    }
    Ok(result)
}

/// The absolute paths to walk: the caller's paths resolved inside the workspace, or the root.
fn resolve_roots(ws: &Workspace, paths: &[String]) -> Result<Vec<PathBuf>, ToolError> {
    if paths.is_empty() {
        return Ok(vec![ws.root().to_path_buf()]);
    }
    paths
        .iter()
        .map(|path| {
            let resolved = ws.resolve(path)?;
            if resolved.exists() {
                Ok(resolved)
            } else {
                Err(ToolError::new(
                    ToolErrorKind::NotFound,
                    format!(
                        "`{path}` does not exist in the workspace; pass an existing file or directory, \
                         or no paths to search the whole workspace"
                    ),
                ))
            }
        })
        .collect()
}

/// The regular files under `roots` that `rg` would search, with their workspace-relative paths,
/// sorted by that path and without duplicates (roots may overlap).
fn files_under(ws: &Workspace, roots: &[PathBuf]) -> Vec<(String, PathBuf)> {
    let Some((first, rest)) = roots.split_first() else {
        return Vec::new();
    };
    let mut walk = ignore::WalkBuilder::new(first);
    for root in rest {
        walk.add(root);
    }
    let mut files: Vec<(String, PathBuf)> = walk
        .build()
        // Unreadable directories and malformed ignore files are skipped, as `rg` skips them.
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .filter_map(|entry| {
            let path = entry.into_path();
            ws.relative(&path).map(|relative| (relative, path))
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

/// Collects the matching lines of one file, stopping after `wanted` of them or at binary data.
struct FileSink<'a> {
    matcher: &'a RegexMatcher,
    path: &'a str,
    wanted: usize,
    matches: Vec<SearchMatch>,
    binary: bool,
}

impl Sink for FileSink<'_> {
    type Error = io::Error;

    fn matched(&mut self, _searcher: &Searcher, found: &SinkMatch<'_>) -> Result<bool, io::Error> {
        let bytes = found.bytes();
        let line = bytes.split(|&byte| byte == b'\n').next().unwrap_or(bytes);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = match self.matcher.find(bytes) {
            Ok(Some(at)) => at.start().min(line.len()),
            _ => 0,
        };
        let column = String::from_utf8_lossy(&line[..start]).chars().count() as u64 + 1;
        let text: String = String::from_utf8_lossy(line)
            .chars()
            .take(MAX_LINE_CHARS)
            .collect();
        self.matches.push(SearchMatch {
            path: self.path.to_owned(),
            line: found.line_number().unwrap_or(0),
            column,
            text,
        });
        Ok(self.matches.len() < self.wanted)
    }

    fn binary_data(
        &mut self,
        _searcher: &Searcher,
        _binary_byte_offset: u64,
    ) -> Result<bool, io::Error> {
        self.binary = true;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;
    use std::process::Command;

    /// A temporary git repository (so `.gitignore` applies) isolated from the user's git config.
    fn repo(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("git")
            .args(["init", "--quiet"])
            .current_dir(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .expect("git runs");
        assert!(status.success(), "git init failed");
        for (path, contents) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).expect("mkdir");
            fs::write(path, contents).expect("write");
        }
        let ws = Workspace::new(dir.path()).expect("workspace");
        (dir, ws)
    }

    fn found(result: &SearchResult) -> Vec<(String, u64, u64)> {
        result
            .matches
            .iter()
            .map(|m| (m.path.clone(), m.line, m.column))
            .collect()
    }

    fn strings(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|path| (*path).to_owned()).collect()
    }

    #[test]
    fn gitignore_and_hidden_files_are_honoured() {
        let (_dir, ws) = repo(&[
            (".gitignore", b"target/\n*.log\n"),
            ("src/lib.rs", b"fn needle() {}\n"),
            ("target/debug/out.rs", b"needle\n"),
            ("build.log", b"needle\n"),
            (".hidden/file.rs", b"needle\n"),
            (".ignore", b"vendor/\n"),
            ("vendor/dep.rs", b"needle\n"),
        ]);
        let result = search(&ws, "needle", &[], 100, 10_000).expect("search");
        assert_eq!(found(&result), vec![("src/lib.rs".to_owned(), 1, 4)]);
        assert!(!result.truncated);
    }

    #[test]
    fn git_info_exclude_is_honoured() {
        let (dir, ws) = repo(&[("keep.txt", b"needle\n"), ("local.txt", b"needle\n")]);
        fs::write(dir.path().join(".git/info/exclude"), "local.txt\n").expect("write exclude");
        let result = search(&ws, "needle", &[], 100, 10_000).expect("search");
        assert_eq!(found(&result), vec![("keep.txt".to_owned(), 1, 1)]);
    }

    #[test]
    fn binary_files_are_skipped() {
        let (_dir, ws) = repo(&[
            ("data.bin", b"needle\0needle\n"),
            ("text.txt", b"a needle\n"),
        ]);
        let result = search(&ws, "needle", &[], 100, 10_000).expect("search");
        assert_eq!(found(&result), vec![("text.txt".to_owned(), 1, 3)]);
        assert_eq!(result.files_searched, 1);
    }

    #[test]
    fn matches_are_sorted_by_path_then_line() {
        let (_dir, ws) = repo(&[
            ("b.txt", b"x\nneedle\nneedle\n"),
            ("a/z.txt", b"needle\n"),
            ("a.txt", b"needle\n"),
        ]);
        let result = search(&ws, "needle", &[], 100, 10_000).expect("search");
        let expected = vec![
            ("a.txt".to_owned(), 1, 1),
            ("a/z.txt".to_owned(), 1, 1),
            ("b.txt".to_owned(), 2, 1),
            ("b.txt".to_owned(), 3, 1),
        ];
        assert_eq!(found(&result), expected);
        assert_eq!(result.files_searched, 3);
    }

    #[test]
    fn max_results_truncates_and_says_so() {
        let (_dir, ws) = repo(&[("a.txt", b"needle 1\nneedle 2\n"), ("b.txt", b"needle 3\n")]);
        let result = search(&ws, "needle", &[], 2, 10_000).expect("search");
        assert_eq!(
            found(&result),
            vec![("a.txt".to_owned(), 1, 1), ("a.txt".to_owned(), 2, 1)]
        );
        assert!(result.truncated);

        let exact = search(&ws, "needle", &[], 3, 10_000).expect("search");
        assert_eq!(exact.matches.len(), 3);
        assert!(
            !exact.truncated,
            "exactly max_results matches is not truncated"
        );
    }

    #[test]
    fn max_bytes_truncates_and_says_so() {
        let (_dir, ws) = repo(&[("a.txt", b"needle 1\nneedle 2\n")]);
        // "a.txt" + "needle 1" is 13 bytes; the second match does not fit in 20.
        let result = search(&ws, "needle", &[], 100, 20).expect("search");
        assert_eq!(found(&result), vec![("a.txt".to_owned(), 1, 1)]);
        assert!(result.truncated);
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let (_dir, ws) = repo(&[("notes.txt", "first\nçé → needle\r\n".as_bytes())]);
        let result = search(&ws, "needle", &[], 100, 10_000).expect("search");
        assert_eq!(
            result.matches,
            vec![SearchMatch {
                path: "notes.txt".to_owned(),
                line: 2,
                column: 6,
                text: "çé → needle".to_owned(),
            }]
        );
    }

    #[test]
    fn long_lines_are_cut_to_500_characters() {
        let line = format!("needle{}\n", "é".repeat(1000));
        let (_dir, ws) = repo(&[("long.txt", line.as_bytes())]);
        let result = search(&ws, "needle", &[], 100, 100_000).expect("search");
        assert_eq!(result.matches[0].text.chars().count(), MAX_LINE_CHARS);
    }

    #[test]
    fn paths_limit_the_search_and_overlapping_paths_count_once() {
        let (_dir, ws) = repo(&[("src/a.rs", b"needle\n"), ("tests/b.rs", b"needle\n")]);
        let result =
            search(&ws, "needle", &strings(&["src", "src/a.rs"]), 100, 10_000).expect("search");
        assert_eq!(found(&result), vec![("src/a.rs".to_owned(), 1, 1)]);
        assert_eq!(result.files_searched, 1);
    }

    #[test]
    fn an_invalid_regex_is_an_invalid_argument_quoting_the_error() {
        let (_dir, ws) = repo(&[("a.txt", b"x\n")]);
        let err = search(&ws, "fn (", &[], 100, 10_000).expect_err("invalid regex");
        assert_eq!(err.kind, ToolErrorKind::InvalidArgument);
        assert!(err.message.contains("`fn (` is not a valid regex"), "{err}");
        assert!(err.message.contains("unclosed group"), "{err}");
    }

    #[test]
    fn a_path_outside_the_workspace_is_refused() {
        let (_dir, ws) = repo(&[("a.txt", b"x\n")]);
        let err = search(&ws, "x", &strings(&["../"]), 100, 10_000).expect_err("outside");
        assert_eq!(err.kind, ToolErrorKind::OutsideWorkspace);
        let err = search(&ws, "x", &strings(&["/etc"]), 100, 10_000).expect_err("outside");
        assert_eq!(err.kind, ToolErrorKind::OutsideWorkspace);
    }

    #[test]
    fn a_missing_path_is_not_found() {
        let (_dir, ws) = repo(&[("a.txt", b"x\n")]);
        let err = search(&ws, "x", &strings(&["nope"]), 100, 10_000).expect_err("missing");
        assert_eq!(err.kind, ToolErrorKind::NotFound);
    }

    #[test]
    fn the_result_serializes_in_camel_case() {
        let (_dir, ws) = repo(&[("a.txt", b"needle\n")]);
        let result = search(&ws, "needle", &[], 100, 10_000).expect("search");
        let json = serde_json::to_value(&result).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "matches": [ { "path": "a.txt", "line": 1, "column": 1, "text": "needle" } ],
                "filesSearched": 1,
                "truncated": false,
            })
        );
    }
}
