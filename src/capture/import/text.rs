//! Small pure helpers the transcript readers share: counting lines, the lines an edit added and
//! removed, Codex's `apply_patch` format and timestamps. (Redacting every string of a JSON value is
//! [`crate::capture::privacy::redact_json`].)

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

/// Lines in `text` as an editor counts them: `"a\nb"` and `"a\nb\n"` both have 2, `""` has 0.
pub fn count_lines(text: &str) -> u32 {
    u32::try_from(text.lines().count()).unwrap_or(u32::MAX)
}

/// Lines added and removed when `old` becomes `new`, by a line diff.
pub fn line_changes(old: &str, new: &str) -> (u32, u32) {
    use imara_diff::{Algorithm, Diff, InternedInput};
    // The last line of a snippet has no terminator; give both one so that it compares equal
    // to the same line followed by more.
    let terminated = |text: &str| {
        if text.is_empty() || text.ends_with('\n') {
            text.to_owned()
        } else {
            format!("{text}\n")
        }
    };
    let (old, new) = (terminated(old), terminated(new));
    let input = InternedInput::new(old.as_str(), new.as_str());
    let diff = Diff::compute(Algorithm::Histogram, &input);
    (diff.count_additions(), diff.count_removals())
}

/// What Claude Code's `structuredPatch` (unified-diff hunks whose `lines` start with `+`, `-`
/// or a space) adds and removes; `None` when it is not such a list.
pub fn structured_patch_changes(patch: &Value) -> Option<(u32, u32)> {
    let hunks = patch.as_array()?;
    let (mut added, mut removed) = (0u32, 0u32);
    for hunk in hunks {
        for line in hunk.get("lines")?.as_array()? {
            match line.as_str()?.as_bytes().first() {
                Some(b'+') => added = added.saturating_add(1),
                Some(b'-') => removed = removed.saturating_add(1),
                _ => {}
            }
        }
    }
    Some((added, removed))
}

/// What one file of an `apply_patch` patch does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PatchOp {
    Add,
    Update,
    Delete,
}

impl PatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Update => "update",
            PatchOp::Delete => "delete",
        }
    }
}

/// One file of an `apply_patch` patch, with the lines it adds and removes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PatchFile {
    pub op: PatchOp,
    /// The path as the patch names it (relative to the call's working directory, or absolute).
    pub path: String,
    /// `*** Move to:` of an update: where the file ends up.
    pub move_to: Option<String>,
    pub added: u32,
    pub removed: u32,
}

/// The files of a patch in Codex's `apply_patch` format (`*** Begin Patch`, `*** Add File: p`,
/// `*** Update File: p` with `@@` hunks, `*** Delete File: p`, `*** End Patch`). Text before
/// `*** Begin Patch` (a shell heredoc around it) is ignored; lines it does not understand are
/// skipped.
pub fn parse_apply_patch(patch: &str) -> Vec<PatchFile> {
    let mut files: Vec<PatchFile> = Vec::new();
    let mut started = false;
    for line in patch.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !started {
            started = line.trim() == "*** Begin Patch";
            continue;
        }
        if line.trim() == "*** End Patch" {
            break;
        }
        let header = |prefix: &str| line.strip_prefix(prefix).map(|path| path.trim().to_owned());
        if let Some(path) = header("*** Add File: ") {
            files.push(new_file(PatchOp::Add, path));
        } else if let Some(path) = header("*** Update File: ") {
            files.push(new_file(PatchOp::Update, path));
        } else if let Some(path) = header("*** Delete File: ") {
            files.push(new_file(PatchOp::Delete, path));
        } else if let Some(path) = header("*** Move to: ") {
            if let Some(file) = files.last_mut() {
                file.move_to = Some(path);
            }
        } else if let Some(file) = files.last_mut() {
            match line.as_bytes().first() {
                Some(b'+') => file.added = file.added.saturating_add(1),
                Some(b'-') if file.op == PatchOp::Update => {
                    file.removed = file.removed.saturating_add(1);
                }
                _ => {}
            }
        }
    }
    files.retain(|file| !file.path.is_empty());
    files
}

fn new_file(op: PatchOp, path: String) -> PatchFile {
    PatchFile {
        op,
        path,
        move_to: None,
        added: 0,
        removed: 0,
    }
}

/// The `*** Begin Patch` … `*** End Patch` part of a string (a shell command that feeds a
/// patch to `apply_patch` through a heredoc), if it holds one.
pub fn embedded_patch(text: &str) -> Option<&str> {
    let start = text.find("*** Begin Patch")?;
    let rest = &text[start..];
    let end = rest
        .find("*** End Patch")
        .map_or(rest.len(), |at| at + "*** End Patch".len());
    Some(&rest[..end])
}

pub use crate::clock::parse_rfc3339_ms as rfc3339_ms;

/// `path` made absolute against `base` (when relative) with `.` and `..` resolved lexically;
/// `None` when it stays relative (no base to resolve it against).
pub fn absolute(path: &str, base: Option<&str>) -> Option<PathBuf> {
    let path = Path::new(path);
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        Path::new(base?).join(path)
    };
    if !joined.is_absolute() {
        return None;
    }
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    Some(clean)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lines_are_counted_like_an_editor() {
        assert_eq!(count_lines(""), 0);
        assert_eq!(count_lines("a"), 1);
        assert_eq!(count_lines("a\n"), 1);
        assert_eq!(count_lines("a\nb"), 2);
        assert_eq!(count_lines("a\r\nb\r\n"), 2);
    }

    #[test]
    fn line_changes_of_snippets() {
        assert_eq!(line_changes("fn a() {}", "fn a() {}\nfn b() {}"), (1, 0));
        assert_eq!(line_changes("x\ny\nz\n", "x\nY\nz\n"), (1, 1));
        assert_eq!(line_changes("", "a\nb\n"), (2, 0));
        assert_eq!(line_changes("a\nb", ""), (0, 2));
    }

    #[test]
    fn structured_patch_counts_plus_and_minus_lines() {
        let patch = json!([
            { "oldStart": 1, "oldLines": 2, "newStart": 1, "newLines": 3,
              "lines": [" keep", "-old", "+new", "+more"] },
            { "oldStart": 9, "oldLines": 1, "newStart": 10, "newLines": 0, "lines": ["-gone"] }
        ]);
        assert_eq!(structured_patch_changes(&patch), Some((2, 2)));
        assert_eq!(structured_patch_changes(&json!([])), Some((0, 0)));
        assert_eq!(structured_patch_changes(&json!({"lines": []})), None);
    }

    #[test]
    fn apply_patch_files_and_counts() {
        let patch = "*** Begin Patch\n\
            *** Add File: docs/new.md\n\
            +# Title\n\
            +\n\
            +text\n\
            *** Update File: src/lib.rs\n\
            *** Move to: src/core.rs\n\
            @@ fn main\n \
            keep\n\
            -old\n\
            +new\n\
            +newer\n\
            *** End of File\n\
            *** Delete File: old.txt\n\
            *** End Patch\n";
        let files = parse_apply_patch(patch);
        assert_eq!(
            files,
            vec![
                PatchFile {
                    op: PatchOp::Add,
                    path: "docs/new.md".into(),
                    move_to: None,
                    added: 3,
                    removed: 0
                },
                PatchFile {
                    op: PatchOp::Update,
                    path: "src/lib.rs".into(),
                    move_to: Some("src/core.rs".into()),
                    added: 2,
                    removed: 1
                },
                PatchFile {
                    op: PatchOp::Delete,
                    path: "old.txt".into(),
                    move_to: None,
                    added: 0,
                    removed: 0
                },
            ]
        );
        assert!(parse_apply_patch("no patch here").is_empty());
    }

    #[test]
    fn a_patch_inside_a_heredoc() {
        let command =
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\nEOF\n";
        let patch = embedded_patch(command).unwrap();
        assert!(patch.starts_with("*** Begin Patch") && patch.ends_with("*** End Patch"));
        assert_eq!(parse_apply_patch(patch).len(), 1);
        assert_eq!(embedded_patch("ls -la"), None);
    }

    #[test]
    fn paths_resolve_against_the_working_directory() {
        assert_eq!(
            absolute("src/../../lib.rs", Some("/w/repo")),
            Some(PathBuf::from("/w/lib.rs"))
        );
        assert_eq!(
            absolute("/abs/./x", Some("/w")),
            Some(PathBuf::from("/abs/x"))
        );
        assert_eq!(absolute("rel", None), None);
        assert_eq!(absolute("rel", Some("also/rel")), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(
            rfc3339_ms("2025-10-29T00:59:38.317Z"),
            Some(1_761_699_578_317)
        );
        assert_eq!(rfc3339_ms("soon"), None);
    }
}
