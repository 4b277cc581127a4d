//! What one commit changed: a tree diff against the first parent with renames detected, a line
//! diff of every changed text file, own lines of merge commits, and a patch id.
//!
//! Performance (issue 4 asks for 10,000 added lines across 100 files well under 50 ms): one tree
//! diff per parent, never a tree read per file; blobs are read once each; no process is spawned.

use std::collections::HashMap;
use std::ops::ControlFlow;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use imara_diff::{Diff, InternedInput};

use super::attributes::Generated;
use super::history::{ChangeKind, CommitChanges, FileChange, GitError};

/// Git looks this far into a file for a NUL byte to call it binary.
const BINARY_PROBE_BYTES: usize = 8000;

/// One file the tree diff reported, before its blobs are read.
struct TreeChange {
    path: String,
    old_path: Option<String>,
    kind: ChangeKind,
    old_id: Option<ObjectId>,
    new_id: Option<ObjectId>,
}

/// For a merge commit's second and later parents: the blob each path changed by the merge had
/// in that parent (`None` when the path is new against it). A path not listed is identical.
type ParentBlobs = HashMap<String, Option<ObjectId>>;

pub(super) fn commit_changes(
    repo: &gix::Repository,
    id: ObjectId,
) -> Result<CommitChanges, GitError> {
    let commit = repo
        .find_commit(id)
        .map_err(|_| GitError::UnknownRevision(id.to_string()))?;
    let tree = commit.tree().map_err(|error| read_error(id, error))?;
    let parents: Vec<ObjectId> = commit.parent_ids().map(|parent| parent.detach()).collect();
    let mut cache = resource_cache(repo)?;

    let first_parent_tree = match parents.first() {
        Some(parent) => Some(parent_tree(repo, id, *parent)?),
        None => None,
    };
    let mut changes = tree_changes(repo, first_parent_tree.as_ref(), &tree, &mut cache)?;
    changes.sort_by(|a, b| a.path.cmp(&b.path));

    let mut other_parents: Vec<ParentBlobs> = Vec::new();
    for parent in parents.iter().skip(1) {
        let parent_tree = parent_tree(repo, id, *parent)?;
        let blobs = tree_changes(repo, Some(&parent_tree), &tree, &mut cache)?
            .into_iter()
            .filter(|change| change.kind != ChangeKind::Deleted)
            .map(|change| (change.path, change.old_id))
            .collect();
        other_parents.push(blobs);
    }
    let is_merge = !other_parents.is_empty();

    let mut generated = Generated::load(&tree, changes.iter().map(|change| change.path.as_str()))?;
    let mut differ = LineDiffer::default();
    let mut files = Vec::with_capacity(changes.len());
    let mut patch = PatchId::default();
    let mut old_text = Vec::new();
    let mut other_text = Vec::new();
    for change in changes {
        let new_text = match change.new_id {
            Some(blob) => read_blob(repo, blob)?,
            None => Vec::new(),
        };
        old_text.clear();
        if let Some(blob) = change.old_id {
            read_blob_into(repo, blob, &mut old_text)?;
        }
        let binary = is_binary(&old_text) || is_binary(&new_text);
        let mut added = Vec::new();
        let mut removed = 0;
        if !binary {
            let lines = differ.diff(&old_text, &new_text);
            removed = lines.removed.len() as u32;
            added = lines.added.clone();
            if !is_merge {
                patch.add_file(&change.path, &old_text, &new_text, lines);
            }
        }
        for parent in &other_parents {
            if added.is_empty() {
                break;
            }
            match parent.get(&change.path) {
                // Identical to this parent: the merge brought the file as it was.
                None => added.clear(),
                // New against this parent: every line stays new.
                Some(None) => {}
                Some(Some(blob)) => {
                    other_text.clear();
                    read_blob_into(repo, *blob, &mut other_text)?;
                    if is_binary(&other_text) {
                        continue;
                    }
                    let against_parent = differ.diff(&other_text, &new_text);
                    added.retain(|line| against_parent.added.binary_search(line).is_ok());
                }
            }
        }
        files.push(FileChange {
            generated: generated.is_generated(&change.path),
            path: change.path,
            old_path: change.old_path,
            kind: change.kind,
            new_text,
            old_text: old_text.clone(),
            binary,
            added,
            removed,
        });
    }
    let patch_id = if is_merge { None } else { patch.finish() };
    Ok(CommitChanges { files, patch_id })
}

fn read_error(commit: ObjectId, error: impl std::fmt::Display) -> GitError {
    GitError::Read(format!("cannot read commit {commit}: {error}"))
}

fn parent_tree<'repo>(
    repo: &'repo gix::Repository,
    commit: ObjectId,
    parent: ObjectId,
) -> Result<gix::Tree<'repo>, GitError> {
    let parent = repo.find_commit(parent).map_err(|_| {
        GitError::Read(format!(
            "parent {parent} of {commit} is missing (a shallow clone?)"
        ))
    })?;
    parent.tree().map_err(|error| read_error(commit, error))
}

/// A blob cache for rename detection that reads no attributes from the index or work tree:
/// only the global ones, which matter little for similarity.
fn resource_cache(repo: &gix::Repository) -> Result<gix::diff::blob::Platform, GitError> {
    let cache_error = |error: gix::Error| GitError::Read(format!("cannot set up a diff: {error}"));
    let index = gix::index::State::new(repo.object_hash());
    let attributes = repo
        .attributes_only(
            &index,
            gix::worktree::stack::state::attributes::Source::IdMapping,
        )
        .map_err(cache_error)?
        .detach();
    gix::diff::resource_cache(
        repo,
        gix::diff::blob::pipeline::Mode::ToGit,
        attributes,
        gix::diff::blob::pipeline::WorktreeRoots::default(),
    )
    .map_err(cache_error)
}

/// The files that differ between `old` (the empty tree when `None`) and `new`, renames
/// detected the way git does by default (50% similarity).
fn tree_changes(
    repo: &gix::Repository,
    old: Option<&gix::Tree<'_>>,
    new: &gix::Tree<'_>,
    cache: &mut gix::diff::blob::Platform,
) -> Result<Vec<TreeChange>, GitError> {
    let empty = repo.empty_tree();
    let old = old.unwrap_or(&empty);
    let hash = repo.object_hash();
    let options = gix::diff::tree_with_rewrites::Options {
        location: Some(gix::diff::tree::recorder::Location::Path),
        rewrites: Some(gix::diff::Rewrites::default()),
    };
    let mut changes = Vec::new();
    gix::diff::tree_with_rewrites(
        gix::objs::TreeRefIter::from_bytes(&old.data, hash),
        gix::objs::TreeRefIter::from_bytes(&new.data, hash),
        cache,
        &mut gix::diff::tree::State::default(),
        &repo.objects,
        |change| {
            if let Some(change) = tree_change(change) {
                changes.push(change);
            }
            Ok::<_, gix::Error>(ControlFlow::Continue(()))
        },
        options,
    )
    .map_err(|error| GitError::Read(format!("cannot diff trees: {error}")))?;
    cache.clear_resource_cache();
    Ok(changes)
}

/// The file-level change, or `None` for directories and submodules.
fn tree_change(change: gix::diff::tree_with_rewrites::ChangeRef<'_>) -> Option<TreeChange> {
    use gix::diff::tree_with_rewrites::ChangeRef;
    let path = |location: &gix::bstr::BStr| location.to_str_lossy().into_owned();
    match change {
        ChangeRef::Addition {
            location,
            entry_mode,
            id,
            ..
        } => entry_mode.is_blob_or_symlink().then(|| TreeChange {
            path: path(location),
            old_path: None,
            kind: ChangeKind::Added,
            old_id: None,
            new_id: Some(id),
        }),
        ChangeRef::Deletion {
            location,
            entry_mode,
            id,
            ..
        } => entry_mode.is_blob_or_symlink().then(|| TreeChange {
            path: path(location),
            old_path: None,
            kind: ChangeKind::Deleted,
            old_id: Some(id),
            new_id: None,
        }),
        ChangeRef::Modification {
            location,
            previous_entry_mode,
            previous_id,
            entry_mode,
            id,
        } => {
            // A file that became a directory or a submodule, or the reverse, is a deletion or
            // an addition of the file.
            let old_id = previous_entry_mode
                .is_blob_or_symlink()
                .then_some(previous_id);
            let new_id = entry_mode.is_blob_or_symlink().then_some(id);
            let kind = match (old_id, new_id) {
                (Some(_), Some(_)) => ChangeKind::Modified,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Deleted,
                (None, None) => return None,
            };
            Some(TreeChange {
                path: path(location),
                old_path: None,
                kind,
                old_id,
                new_id,
            })
        }
        ChangeRef::Rewrite {
            source_location,
            source_entry_mode,
            source_id,
            entry_mode,
            id,
            location,
            copy,
            ..
        } => {
            if !entry_mode.is_blob_or_symlink() {
                return None;
            }
            // Copy detection is off; should a copy come through, the source still exists and
            // the new file is an addition of its own.
            if copy || !source_entry_mode.is_blob_or_symlink() {
                return Some(TreeChange {
                    path: path(location),
                    old_path: None,
                    kind: ChangeKind::Added,
                    old_id: None,
                    new_id: Some(id),
                });
            }
            Some(TreeChange {
                path: path(location),
                old_path: Some(path(source_location)),
                kind: ChangeKind::Renamed,
                old_id: Some(source_id),
                new_id: Some(id),
            })
        }
    }
}

fn read_blob(repo: &gix::Repository, id: ObjectId) -> Result<Vec<u8>, GitError> {
    let mut blob = repo
        .find_blob(id)
        .map_err(|error| GitError::Read(format!("cannot read blob {id}: {error}")))?;
    Ok(blob.take_data())
}

fn read_blob_into(repo: &gix::Repository, id: ObjectId, out: &mut Vec<u8>) -> Result<(), GitError> {
    let blob = repo
        .find_blob(id)
        .map_err(|error| GitError::Read(format!("cannot read blob {id}: {error}")))?;
    out.extend_from_slice(&blob.data);
    Ok(())
}

/// Git's rule: a NUL byte in the first 8000 bytes.
pub(super) fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_PROBE_BYTES)].contains(&0)
}

/// The lines a diff marks: `added` as 1-based numbers in the new text, `removed` as 0-based
/// indexes into the old text.
#[derive(Default)]
struct Lines {
    added: Vec<u32>,
    removed: Vec<u32>,
}

/// A line differ that keeps its buffers between files.
#[derive(Default)]
struct LineDiffer {
    diff: Diff,
    lines: Lines,
}

impl LineDiffer {
    /// Lines are split after each `\n`; a last line without one counts (git's numbering).
    fn diff(&mut self, old: &[u8], new: &[u8]) -> &Lines {
        self.lines.added.clear();
        self.lines.removed.clear();
        // Whole-file additions and deletions need no diff.
        if old.is_empty() || new.is_empty() {
            let new_count = line_count(new);
            self.lines.added.extend(1..=new_count);
            self.lines.removed.extend(0..line_count(old));
            return &self.lines;
        }
        // The same rule as capture and re-attaching use, so that an ambiguous insertion is
        // counted where the recorded provenance put it.
        let input = InternedInput::new(old, new);
        if !crate::linediff::align(&input, &mut self.diff) {
            self.lines.added.extend(1..=line_count(new));
            self.lines.removed.extend(0..line_count(old));
            return &self.lines;
        }
        for hunk in self.diff.hunks() {
            self.lines
                .added
                .extend(hunk.after.start + 1..=hunk.after.end);
            self.lines.removed.extend(hunk.before);
        }
        &self.lines
    }
}

fn line_count(text: &[u8]) -> u32 {
    let newlines = text.iter().filter(|byte| **byte == b'\n').count();
    let unterminated = usize::from(!text.is_empty() && !text.ends_with(b"\n"));
    (newlines + unterminated) as u32
}

/// The lines of `text`, each with its newline (the last may have none).
fn split_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split_inclusive(|byte| *byte == b'\n')
}

/// Accumulates the patch id: files arrive sorted by path.
#[derive(Default)]
struct PatchId {
    context: Option<ring::digest::Context>,
    normalized: Vec<u8>,
}

impl PatchId {
    fn add_file(&mut self, path: &str, old: &[u8], new: &[u8], lines: &Lines) {
        if lines.added.is_empty() && lines.removed.is_empty() {
            return;
        }
        let context = self
            .context
            .get_or_insert_with(|| ring::digest::Context::new(&ring::digest::SHA256));
        self.normalized.clear();
        self.normalized.extend_from_slice(b"diff ");
        self.normalized.extend_from_slice(path.as_bytes());
        self.normalized.push(0);
        let mut removed = lines.removed.iter().peekable();
        for (index, line) in split_lines(old).enumerate() {
            if removed
                .peek()
                .is_some_and(|wanted| **wanted as usize == index)
            {
                removed.next();
                push_normalized(&mut self.normalized, b'-', line);
            }
        }
        let mut added = lines.added.iter().peekable();
        for (index, line) in split_lines(new).enumerate() {
            if added
                .peek()
                .is_some_and(|wanted| **wanted as usize == index + 1)
            {
                added.next();
                push_normalized(&mut self.normalized, b'+', line);
            }
        }
        context.update(&self.normalized);
    }

    fn finish(self) -> Option<String> {
        let digest = self.context?.finish();
        Some(crate::model::hex(digest.as_ref()))
    }
}

/// One line as `git patch-id` sees it: a marker, then the text with all whitespace removed.
fn push_normalized(out: &mut Vec<u8>, marker: u8, line: &[u8]) {
    out.push(marker);
    out.extend(
        line.iter()
            .filter(|byte| !byte.is_ascii_whitespace() && **byte != 0x0b),
    );
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(old: &str, new: &str) -> (Vec<u32>, Vec<u32>) {
        let mut differ = LineDiffer::default();
        let lines = differ.diff(old.as_bytes(), new.as_bytes());
        (lines.added.clone(), lines.removed.clone())
    }

    #[test]
    fn lines_are_numbered_like_git() {
        assert_eq!(diff("", "a\nb\nc"), (vec![1, 2, 3], vec![]));
        assert_eq!(diff("a\nb\n", ""), (vec![], vec![0, 1]));
        assert_eq!(diff("a\nb\nc\n", "a\nx\nc\n"), (vec![2], vec![1]));
        assert_eq!(diff("a\nb\n", "a\nb\nc\n"), (vec![3], vec![]));
        // A last line gaining its newline is a changed line, as in git.
        assert_eq!(diff("a\nb", "a\nb\n"), (vec![2], vec![1]));
        assert_eq!(diff("a\n", "a\n"), (vec![], vec![]));
    }

    #[test]
    fn line_counts_include_an_unterminated_last_line() {
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a"), 1);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"a\n\nb"), 3);
    }

    #[test]
    fn binary_means_nul_in_the_first_8000_bytes() {
        assert!(is_binary(b"ab\0c"));
        assert!(!is_binary(b"abc"));
        let mut late = vec![b'a'; BINARY_PROBE_BYTES];
        late.push(0);
        assert!(!is_binary(&late));
    }

    fn patch_id(files: &[(&str, &str, &str)]) -> Option<String> {
        let mut patch = PatchId::default();
        let mut differ = LineDiffer::default();
        for (path, old, new) in files {
            let lines = differ.diff(old.as_bytes(), new.as_bytes());
            patch.add_file(path, old.as_bytes(), new.as_bytes(), lines);
        }
        patch.finish()
    }

    #[test]
    fn patch_ids_ignore_position_and_whitespace() {
        let base = patch_id(&[("a.rs", "x\ny\n", "x\nnew line\ny\n")]);
        assert!(base.is_some());
        // Other context and line numbers, other indentation: the same change.
        let moved = patch_id(&[("a.rs", "0\n1\n2\nx\ny\n", "0\n1\n2\nx\n  new  line\ny\n")]);
        assert_eq!(base, moved);
        // Another added text, another path, or a removed line: another change.
        assert_ne!(base, patch_id(&[("a.rs", "x\ny\n", "x\nnew lime\ny\n")]));
        assert_ne!(base, patch_id(&[("b.rs", "x\ny\n", "x\nnew line\ny\n")]));
        assert_ne!(base, patch_id(&[("a.rs", "x\ny\n", "new line\ny\n")]));
        assert_eq!(patch_id(&[("a.rs", "same\n", "same\n")]), None);
    }
}
