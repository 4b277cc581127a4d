//! The provenance of one commit's added lines, from three kinds of evidence in this order, each
//! filling only the lines the ones before left `untracked`:
//!
//! 1. **Patch id.** A commit with the same patch id was linked before (this one is its rebased or
//!    cherry-picked copy): its lines, file by file in order, when the counts agree.
//! 2. **Snapshot.** The provenance recorded for the file as of the commit time, re-attached to
//!    the committed text: lines equal to recorded ones get their provenance, others nothing.
//!    Only for a commit made in this clone: a fetched commit was not made from this work tree.
//! 3. **Copy.** Lines git copied from another recorded commit (a squash merge carrying branch
//!    commits, a rebase or cherry-pick whose patch changed, a revert bringing back what the
//!    reverted commit removed), found by content fingerprint.
//!
//! Equal text is not evidence by itself: real code repeats itself (`return 0`, `}`, a blank
//! line), and a person who types a line an agent once wrote wrote it themselves (issue 10). So a
//! copy is only believed from a commit that is not an ancestor of this one (an ancestor's lines
//! reached this commit as context, not as a copy; a revert is the exception, it restores what an
//! ancestor had), that this commit carries at least half of (a commit sharing one line with it
//! is a coincidence, not a source), for no more lines of one content than that commit recorded,
//! and only where every such source agrees on the provenance. Older snapshots are not searched
//! for a line's text: that a line was once on disk says nothing about who put it back.
//!
//! Nothing is read from the work tree: only the commit's blobs and what the store recorded.

use std::collections::HashMap;
use std::path::Path;

use crate::attribution::TrackedText;
use crate::git::{CommitChanges, CommitInfo, FileChange};
use crate::model::{ContentHash, Provenance};
use crate::store::{
    Evidence, FingerprintMatch, LineRange, NewCommitFile, NewFingerprint, RepoId, Store, StoreError,
};

use super::exclude::Excluder;
use super::fingerprint::fingerprint;

/// A commit time is whole seconds; snapshots saved during that second may precede the commit.
const COMMIT_TIME_SLACK_MS: i64 = 999;
/// Snapshots of one file looked at for one commit, newest first.
const SNAPSHOT_HISTORY: usize = 64;

/// One file's attributed lines.
pub(super) struct FileResult {
    pub path: String,
    pub old_path: Option<String>,
    pub status: &'static str,
    pub added: u32,
    pub removed: u32,
    pub excluded: Option<&'static str>,
}

pub(super) struct Attributed {
    pub files: Vec<FileResult>,
    pub ranges: Vec<LineRange>,
    /// `(fingerprint, line, provenance)` of every added line with enough content.
    pub fingerprints: Vec<(i64, u32, Provenance)>,
    /// Added lines outside excluded files, by class (`LineClass` order).
    pub counts: [u32; 4],
    pub excluded: u32,
}

impl Attributed {
    pub fn file_rows(&self) -> Vec<NewCommitFile<'_>> {
        self.files
            .iter()
            .map(|file| NewCommitFile {
                path: &file.path,
                old_path: file.old_path.as_deref(),
                status: file.status,
                added: file.added,
                removed: file.removed,
                excluded: file.excluded,
            })
            .collect()
    }

    pub fn fingerprint_rows(&self) -> Vec<NewFingerprint<'_>> {
        self.fingerprints
            .iter()
            .map(|(fingerprint, line, provenance)| NewFingerprint {
                fingerprint: *fingerprint,
                line: *line,
                provenance,
            })
            .collect()
    }
}

/// What one added line is known to be.
#[derive(Clone)]
struct Found {
    provenance: Provenance,
    evidence: Evidence,
    source: Option<String>,
}

impl Found {
    fn nothing() -> Found {
        Found {
            provenance: Provenance::Untracked,
            evidence: Evidence::None,
            source: None,
        }
    }

    fn known(&self) -> bool {
        self.provenance != Provenance::Untracked
    }
}

/// What a commit's lineage says about other commits, for copies (see the module doc).
pub(super) struct Lineage<'a> {
    /// Whether a commit (by sha) is an ancestor of the one attributed.
    pub is_ancestor: &'a dyn Fn(&str) -> bool,
    /// The attributed commit reverts another (its message says so).
    pub reverts: bool,
    /// The commit was made in this clone (its reflog says so): only then is what was recorded of
    /// this work tree evidence for it.
    pub made_here: bool,
    /// Whether a version of a path was committed before the parent and then changed by git up
    /// to the parent (see `git::Repo::superseded`).
    pub superseded: &'a dyn Fn(&str, &[u8], i64) -> bool,
}

pub(super) fn attribute(
    store: &Store,
    root: &Path,
    repo_id: RepoId,
    excluder: &Excluder,
    info: &CommitInfo,
    changes: &CommitChanges,
    lineage: &Lineage<'_>,
) -> Result<Attributed, StoreError> {
    let copied = copied_lines(store, repo_id, info, changes)?;
    let at_ms = info.committed_ms + COMMIT_TIME_SLACK_MS;
    let mut result = Attributed {
        files: Vec::new(),
        ranges: Vec::new(),
        fingerprints: Vec::new(),
        counts: [0; 4],
        excluded: 0,
    };
    // The added lines of each attributed file, as found so far.
    let mut pending: Vec<(&FileChange, Vec<Found>)> = Vec::new();
    for file in &changes.files {
        let excluded = match file.kind {
            crate::git::ChangeKind::Deleted => None,
            _ => excluder.reason(&file.path, file.generated, file.binary),
        };
        result.files.push(FileResult {
            path: file.path.clone(),
            old_path: file.old_path.clone(),
            status: file.kind.as_str(),
            added: file.added.len() as u32,
            removed: file.removed,
            excluded,
        });
        if file.added.is_empty() {
            continue;
        }
        if excluded.is_some() {
            result.excluded += file.added.len() as u32;
            continue;
        }
        let text = String::from_utf8_lossy(&file.new_text);
        let mut found = vec![Found::nothing(); file.added.len()];
        if let Some((source, provenance)) = copied.get(file.path.as_str())
            && provenance.len() == found.len()
        {
            for (slot, provenance) in found.iter_mut().zip(provenance) {
                if *provenance != Provenance::Untracked {
                    *slot = Found {
                        provenance: provenance.clone(),
                        evidence: Evidence::PatchId,
                        source: Some(source.clone()),
                    };
                }
            }
        }
        if lineage.made_here && found.iter().any(|slot| !slot.known()) {
            from_snapshots(store, root, file, &text, at_ms, lineage, &mut found)?;
        }
        pending.push((file, found));
    }
    if pending
        .iter()
        .any(|(_, found)| found.iter().any(|slot| !slot.known()))
    {
        from_copies(store, repo_id, info, lineage, &mut pending)?;
    }
    for (file, found) in pending {
        let text = String::from_utf8_lossy(&file.new_text);
        let lines = git_lines(&text);
        for (index, slot) in found.iter().enumerate() {
            let line = file.added[index];
            result.counts[slot.provenance.class() as usize] += 1;
            // Untracked lines too: a later commit that added the same text with no evidence
            // makes a copy of it ambiguous (issue 10).
            if let Some(content) = lines.get(line as usize - 1)
                && let Some(value) = fingerprint(&file.path, content)
            {
                result
                    .fingerprints
                    .push((value, line, slot.provenance.clone()));
            }
        }
        push_ranges(&mut result.ranges, &file.path, &file.added, found);
    }
    Ok(result)
}

/// Whether `bytes` has a `\r` not followed by `\n`: the engine ends a line there, git does not.
fn has_lone_cr(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|pair| pair[0] == b'\r' && pair[1] != b'\n')
        || bytes.ends_with(b"\r")
}

/// The lines of `text` as git numbers them: split on `\n`, a final line without one counts.
fn git_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .split_inclusive('\n')
        .map(|line| {
            let line = line.strip_suffix('\n').unwrap_or(line);
            line.strip_suffix('\r').unwrap_or(line)
        })
        .collect();
    if lines.is_empty() {
        lines.push("");
    }
    lines
}

/// The added lines of the commit this one copies (same patch id, linked before), by path, in
/// line order, with the copied commit's sha.
fn copied_lines(
    store: &Store,
    repo_id: RepoId,
    info: &CommitInfo,
    changes: &CommitChanges,
) -> Result<HashMap<String, (String, Vec<Provenance>)>, StoreError> {
    let mut copied = HashMap::new();
    let Some(patch_id) = changes.patch_id.as_deref() else {
        return Ok(copied);
    };
    let original = store
        .commits_with_patch_id(repo_id, patch_id)?
        .into_iter()
        .find(|commit| commit.sha != info.sha);
    let Some(original) = original else {
        return Ok(copied);
    };
    for range in store.commit_line_ranges(original.id)? {
        let entry = copied
            .entry(range.path.clone())
            .or_insert_with(|| (original.sha.clone(), Vec::new()));
        for _ in range.start_line..=range.end_line {
            entry.1.push(range.provenance.clone());
        }
    }
    Ok(copied)
}

/// Fills lines from the provenance recorded for the file as of the commit: the snapshot of exactly
/// the committed text if there is one, else the newest, re-attached to the committed text.
fn from_snapshots(
    store: &Store,
    root: &Path,
    file: &FileChange,
    text: &str,
    at_ms: i64,
    lineage: &Lineage<'_>,
    found: &mut [Found],
) -> Result<(), StoreError> {
    // The engine also ends lines at a lone `\r`; git does not. Numbering would disagree.
    let lone_cr = has_lone_cr(text.as_bytes());
    if lone_cr {
        return Ok(());
    }
    let mut recorded = Vec::new();
    let mut absolute = String::new();
    for path in std::iter::once(&file.path).chain(file.old_path.iter()) {
        absolute = root.join(path).to_string_lossy().into_owned();
        recorded = store.snapshot_ids_before(&absolute, at_ms, SNAPSHOT_HISTORY)?;
        if !recorded.is_empty() {
            break;
        }
    }
    let committed = ContentHash::of(text.as_bytes());
    let exact = recorded
        .iter()
        .find(|(_, hash)| *hash == committed)
        .cloned();
    // A commit dated behind the snapshots it was made from (a skewed clock, a set
    // GIT_COMMITTER_DATE): the first later snapshot of exactly the committed text.
    let exact = match exact {
        Some(found) => Some(found),
        None => later_exact(store, root, file, at_ms, &committed)?,
    };
    // Without a snapshot of exactly the committed text: the newest one up to the commit. Commit
    // times are whole seconds, so when that one was saved in the commit's own second it may
    // come after the commit (an agent's edit right after a person's commit); then the newest
    // one before that second is asked too, and only what both say counts (issue 10); with none
    // before that second, nothing does.
    let mut chosen: Vec<i64> = Vec::new();
    match exact {
        Some((id, _)) => chosen.push(id),
        None => {
            let second = at_ms - COMMIT_TIME_SLACK_MS;
            if let Some((newest, _)) = recorded.first() {
                chosen.push(*newest);
                let in_second = store
                    .snapshot_ids_before(&absolute, second - 1, 1)?
                    .into_iter()
                    .next();
                match in_second {
                    Some((before, _)) if before != *newest => chosen.push(before),
                    Some(_) => {}
                    // Nothing before the commit's second to agree with the newest: no evidence.
                    None => return Ok(()),
                }
            }
        }
    }
    let mut agreed: Option<Vec<Provenance>> = None;
    for id in chosen {
        let Some(snapshot) = store.snapshot(id)? else {
            return Ok(());
        };
        let said = snapshot_says(store, file, text, &recorded, id, &snapshot, lineage)?;
        agreed = Some(match agreed {
            None => said,
            Some(before) => before
                .into_iter()
                .zip(said)
                .map(|(a, b)| if a == b { a } else { Provenance::Untracked })
                .collect(),
        });
    }
    for (slot, known) in found.iter_mut().zip(agreed.unwrap_or_default()) {
        if !slot.known() && known != Provenance::Untracked {
            *slot = Found {
                provenance: known,
                evidence: Evidence::Snapshot,
                source: None,
            };
        }
    }
    Ok(())
}

/// The provenance snapshot `id` gives the commit's added lines.
fn snapshot_says(
    store: &Store,
    file: &FileChange,
    text: &str,
    recorded: &[(i64, ContentHash)],
    id: i64,
    snapshot: &crate::store::Snapshot,
    lineage: &Lineage<'_>,
) -> Result<Vec<Provenance>, StoreError> {
    // The snapshot's version was committed and git changed the committed file since (a restore
    // committed, a reset): the snapshot only counts as far as the parent still has it. Otherwise
    // text it had, removed by git and typed again, would be its author's (issue 10).
    let path = file.old_path.as_deref().unwrap_or(&file.path);
    let stale = snapshot
        .text
        .as_deref()
        .is_some_and(|saved| (lineage.superseded)(path, saved, snapshot.ts_ms));
    let parent_text = String::from_utf8_lossy(&file.old_text);
    let tracked = if stale {
        crate::reattach::reattach_through(snapshot, &parent_text, text)
    } else {
        crate::reattach::reattach(Some(snapshot), text)
    };
    let provenance: Vec<Provenance> = file
        .added
        .iter()
        .map(|line| {
            tracked
                .provenance()
                .get(*line as usize - 1)
                .cloned()
                .unwrap_or(Provenance::Untracked)
        })
        .collect();
    // The parent as recorded up to this snapshot.
    let up_to: Vec<(i64, ContentHash)> = recorded
        .iter()
        .filter(|(other, _)| *other <= id)
        .cloned()
        .collect();
    Ok(match parent_as_recorded(store, file, &up_to)? {
        Some(parent) => by_content(file, text, &tracked, &parent, provenance),
        None => provenance,
    })
}

/// The parent's version of the file as a snapshot recorded it exactly, if one did.
fn parent_as_recorded(
    store: &Store,
    file: &FileChange,
    recorded: &[(i64, ContentHash)],
) -> Result<Option<TrackedText>, StoreError> {
    // Empty, or numbered differently by git and the engine (a lone `\r`).
    if file.old_text.is_empty() || has_lone_cr(&file.old_text) {
        return Ok(None);
    }
    let hash = ContentHash::of(&file.old_text);
    let Some((id, _)) = recorded.iter().find(|(_, recorded)| *recorded == hash) else {
        return Ok(None);
    };
    Ok(store
        .snapshot(*id)?
        .and_then(|snapshot| crate::reattach::exact(&snapshot, &file.old_text)))
}

/// Which of several equal lines a commit added is the line diff's choice, not evidence: a
/// person's `}` typed under an agent's `}` may be counted as the agent's line, and the other way
/// round (issue 10). With the parent's version as recorded, the added lines of each content take
/// the provenances the commit's version has for that content less those the parent's had: the
/// lines the commit really brought, wherever the diff placed them. Each added line keeps its own
/// provenance when that is among them.
fn by_content(
    file: &FileChange,
    text: &str,
    tracked: &TrackedText,
    parent: &TrackedText,
    by_line: Vec<Provenance>,
) -> Vec<Provenance> {
    let new_lines = git_lines(text);
    let added_contents: HashMap<&str, ()> = file
        .added
        .iter()
        .filter_map(|line| new_lines.get(*line as usize - 1))
        .map(|content| (*content, ()))
        .collect();
    // content -> provenances of the commit's lines with it, less the parent's.
    let mut brought: HashMap<&str, Vec<Provenance>> = HashMap::new();
    for (index, content) in new_lines.iter().enumerate() {
        if added_contents.contains_key(content) {
            let provenance = tracked.provenance().get(index).cloned();
            brought
                .entry(content)
                .or_default()
                .push(provenance.unwrap_or(Provenance::Untracked));
        }
    }
    let old_text = String::from_utf8_lossy(&file.old_text);
    let mut kept: HashMap<&str, Vec<Provenance>> = HashMap::new();
    for (index, content) in git_lines(&old_text).iter().enumerate() {
        if brought.contains_key(content) {
            let provenance = parent.provenance().get(index).cloned();
            kept.entry(content)
                .or_default()
                .push(provenance.unwrap_or(Provenance::Untracked));
        }
    }
    // A content the commit has no more copies of than the parent had was moved or reordered,
    // not brought: its lines keep what the line diff says.
    brought.retain(|content, lines| lines.len() > kept.get(content).map_or(0, Vec::len));
    for (content, lines) in &mut brought {
        for provenance in kept.get(content).into_iter().flatten() {
            if let Some(at) = lines.iter().position(|p| p == provenance) {
                lines.remove(at);
            }
        }
    }
    // First every added line whose own provenance is among those brought, then the rest; lines
    // of other contents keep their own.
    let mut result: Vec<Option<Provenance>> = vec![None; file.added.len()];
    for (slot, (line, own)) in result.iter_mut().zip(file.added.iter().zip(&by_line)) {
        let content = new_lines.get(*line as usize - 1).copied().unwrap_or("");
        let Some(left) = brought.get_mut(content) else {
            *slot = Some(own.clone());
            continue;
        };
        if let Some(at) = left.iter().position(|p| p == own) {
            *slot = Some(left.remove(at));
        }
    }
    for (slot, line) in result.iter_mut().zip(&file.added) {
        if slot.is_some() {
            continue;
        }
        let left = new_lines
            .get(*line as usize - 1)
            .and_then(|content| brought.get_mut(content));
        *slot = Some(match left {
            Some(left) if !left.is_empty() => left.remove(0),
            _ => Provenance::Untracked,
        });
    }
    result
        .into_iter()
        .map(|slot| slot.unwrap_or(Provenance::Untracked))
        .collect()
}

/// The oldest snapshot saved after `at_ms` whose text is exactly `committed`.
fn later_exact(
    store: &Store,
    root: &Path,
    file: &FileChange,
    at_ms: i64,
    committed: &ContentHash,
) -> Result<Option<(i64, ContentHash)>, StoreError> {
    let absolute = root.join(&file.path).to_string_lossy().into_owned();
    Ok(store
        .snapshot_ids_after(&absolute, at_ms, SNAPSHOT_HISTORY)?
        .into_iter()
        .find(|(_, hash)| hash == committed))
}

/// Fills lines git copied from other recorded commits (see the module doc for what counts).
fn from_copies(
    store: &Store,
    repo_id: RepoId,
    info: &CommitInfo,
    lineage: &Lineage<'_>,
    pending: &mut [(&FileChange, Vec<Found>)],
) -> Result<(), StoreError> {
    // Every added line's fingerprint, known or not: how much of a source this commit carries
    // counts all of them.
    let mut lines: Vec<(usize, usize, i64)> = Vec::new();
    for (at, (file, _)) in pending.iter().enumerate() {
        let text = String::from_utf8_lossy(&file.new_text);
        let numbered = git_lines(&text);
        for (index, line) in file.added.iter().enumerate() {
            if let Some(content) = numbered.get(*line as usize - 1)
                && let Some(value) = fingerprint(&file.path, content)
            {
                lines.push((at, index, value));
            }
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let values: Vec<i64> = lines.iter().map(|(_, _, value)| *value).collect();
    let mut matches = store.fingerprint_matches(repo_id, &values)?;

    // Sources: other commits, not ancestors (unless this is a revert), carrying at least half
    // of what they recorded here.
    let mut carried: HashMap<String, u32> = HashMap::new();
    for (_, _, value) in &lines {
        let Some(rows) = matches.get(value) else {
            continue;
        };
        let mut shas: Vec<&str> = rows.iter().map(|row| row.sha.as_str()).collect();
        shas.sort_unstable();
        shas.dedup();
        for sha in shas {
            *carried.entry(sha.to_owned()).or_default() += 1;
        }
    }
    carried.remove(&info.sha);
    // An ancestor's lines, or those of a commit whose rebased copy or amendment is an ancestor,
    // reached this commit as context.
    let mut ancestral: HashMap<String, bool> = HashMap::new();
    for sha in carried.keys() {
        let mut related = vec![sha.clone()];
        if let Some(commit) = store.linked_commit(repo_id, sha)? {
            related.extend(commit.replaced_by.clone());
            if let Some(patch_id) = commit.patch_id.as_deref() {
                related.extend(
                    store
                        .commits_with_patch_id(repo_id, patch_id)?
                        .into_iter()
                        .map(|copy| copy.sha),
                );
            }
        }
        let is_ancestral = related
            .iter()
            .any(|other| other != &info.sha && (lineage.is_ancestor)(other));
        ancestral.insert(sha.clone(), is_ancestral);
    }
    carried.retain(|sha, _| lineage.reverts || !ancestral.get(sha).copied().unwrap_or(true));
    let shas: Vec<&str> = carried.keys().map(String::as_str).collect();
    let totals = store.fingerprint_totals(repo_id, &shas)?;
    // A revert carries exactly what the reverted commit removed, however little of the commit
    // that first added it that is.
    let sources: HashMap<&str, ()> = carried
        .iter()
        .filter(|(sha, carried)| {
            totals
                .get(sha.as_str())
                .is_some_and(|total| *total > 0 && (lineage.reverts || 2 * **carried >= *total))
        })
        .map(|(sha, _)| (sha.as_str(), ()))
        .collect();
    for rows in matches.values_mut() {
        rows.retain(|row| sources.contains_key(row.sha.as_str()));
    }

    // Per content: the one provenance every source agrees on, for at most as many lines as one
    // source recorded, less the lines of this commit that already have it.
    let mut room: HashMap<i64, (Provenance, usize)> = HashMap::new();
    for (value, rows) in &matches {
        if let Some(agreed) = agreed(rows) {
            let mut per_source: HashMap<&str, usize> = HashMap::new();
            for row in rows {
                *per_source.entry(row.sha.as_str()).or_default() += 1;
            }
            let most = per_source.values().copied().max().unwrap_or(0);
            room.insert(*value, (agreed, most));
        }
    }
    for (at, index, value) in &lines {
        let slot = &pending[*at].1[*index];
        if let Some((provenance, left)) = room.get_mut(value)
            && slot.known()
            && slot.provenance == *provenance
        {
            *left = left.saturating_sub(1);
        }
    }
    for (at, index, value) in lines {
        let Some((provenance, left)) = room.get_mut(&value) else {
            continue;
        };
        let slot = &mut pending[at].1[index];
        if slot.known() || *left == 0 {
            continue;
        }
        *left -= 1;
        let source = matches
            .get(&value)
            .and_then(|rows| rows.first())
            .map(|row| row.sha.clone());
        *slot = Found {
            provenance: provenance.clone(),
            evidence: Evidence::Fingerprint,
            source,
        };
    }
    Ok(())
}

/// The provenance all `rows` share, if they share one and it is known.
fn agreed(rows: &[FingerprintMatch]) -> Option<Provenance> {
    let first = rows.first()?;
    (first.provenance != Provenance::Untracked
        && rows.iter().all(|row| row.provenance == first.provenance))
    .then(|| first.provenance.clone())
}

/// Groups consecutive added lines with the same provenance, evidence and source.
fn push_ranges(ranges: &mut Vec<LineRange>, path: &str, added: &[u32], found: Vec<Found>) {
    let mut current: Option<LineRange> = None;
    for (line, slot) in added.iter().copied().zip(found) {
        if let Some(range) = current.as_mut()
            && range.end_line + 1 == line
            && range.provenance == slot.provenance
            && range.evidence == slot.evidence
            && range.source_sha == slot.source
        {
            range.end_line = line;
            continue;
        }
        ranges.extend(current.take());
        current = Some(LineRange {
            path: path.to_owned(),
            start_line: line,
            end_line: line,
            provenance: slot.provenance,
            evidence: slot.evidence,
            source_sha: slot.source,
        });
    }
    ranges.extend(current);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_numbers_lines_by_newlines() {
        assert_eq!(git_lines("a\nb\r\nc"), ["a", "b", "c"]);
        assert_eq!(git_lines("a\n"), ["a"]);
        assert_eq!(git_lines(""), [""]);
    }

    #[test]
    fn ranges_group_consecutive_lines_with_one_provenance() {
        let ai = |id: &str| Found {
            provenance: Provenance::Ai(crate::model::InteractionId::new(id)),
            evidence: Evidence::Snapshot,
            source: None,
        };
        let mut ranges = Vec::new();
        push_ranges(
            &mut ranges,
            "a.rs",
            &[1, 2, 4, 5, 6],
            vec![ai("x"), ai("x"), ai("x"), ai("y"), Found::nothing()],
        );
        let spans: Vec<(u32, u32)> = ranges.iter().map(|r| (r.start_line, r.end_line)).collect();
        assert_eq!(spans, [(1, 2), (4, 4), (5, 5), (6, 6)]);
    }
}
