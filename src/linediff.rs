//! The one rule prodcode uses to align two versions of a file line by line.
//!
//! Capture (an edit nobody described: a hook's before and after, a checkpoint, a file changed on
//! disk), re-attaching saved provenance to a committed file, and counting the lines a commit
//! added all align lines with this function, so that where an inserted line's position is
//! ambiguous (equal lines around it: blank lines, closing braces) they all choose the same one
//! and an agent's change is attributed whole (issue 10). Two rules would disagree exactly there:
//! capture would credit the agent with its new blank line while the commit counted the old one
//! as added.
//!
//! The rule: imara-diff's histogram diff over the whole of both versions, then its slider
//! post-processing with git's indent heuristic. It is deliberately local: no common prefix or
//! suffix is fixed first (imara-diff strips them internally for speed, but the sliders still
//! move across them), so the placement of an insertion depends on the lines around it and not
//! on an unrelated change elsewhere in the file, which one side may see and the other not.
//!
//! Callers choose the tokens: `git` compares lines as stored (with their terminators, as
//! `git diff` does), `attribution` compares line contents (a line whose only change is its
//! terminator keeps its provenance). Invariant: no IO, never panics.

use imara_diff::{Algorithm, Diff, InternedInput};

pub use imara_diff::Hunk;

/// Lines beyond this count cannot be diffed (imara-diff's limit); far beyond any real file.
const MAX_LINES: usize = i32::MAX as usize - 1;

/// Aligns `input.before` with `input.after` into `diff` by the rule above. Inputs too large to
/// diff come out as one hunk replacing everything.
pub fn align<T: AsRef<[u8]>>(input: &InternedInput<T>, diff: &mut Diff) -> bool {
    if input.before.len() >= MAX_LINES || input.after.len() >= MAX_LINES {
        return false;
    }
    diff.compute_with(
        Algorithm::Histogram,
        &input.before,
        &input.after,
        input.interner.num_tokens(),
    );
    diff.postprocess_lines(input);
    true
}

/// The changed hunks between two line lists, by the rule above.
pub fn hunks<T: AsRef<[u8]> + Eq + std::hash::Hash + Copy>(before: &[T], after: &[T]) -> Vec<Hunk> {
    let whole = |len: usize| 0..u32::try_from(len).unwrap_or(u32::MAX);
    if before.len() >= MAX_LINES || after.len() >= MAX_LINES {
        return vec![Hunk {
            before: whole(before.len()),
            after: whole(after.len()),
        }];
    }
    let mut input = InternedInput {
        before: Vec::with_capacity(before.len()),
        after: Vec::with_capacity(after.len()),
        interner: imara_diff::Interner::new(before.len() + after.len()),
    };
    input.update_before(before.iter().copied());
    input.update_after(after.iter().copied());
    let mut diff = Diff::default();
    align(&input, &mut diff);
    diff.hunks().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(before: &str, after: &str) -> Vec<u32> {
        let before: Vec<&str> = before.lines().collect();
        let after: Vec<&str> = after.lines().collect();
        hunks(&before, &after)
            .into_iter()
            .flat_map(|hunk| hunk.after.start + 1..=hunk.after.end)
            .collect()
    }

    #[test]
    fn a_new_match_arm_is_its_own_lines_closing_brace_included() {
        let before = "match x {\n    A => {\n        a();\n    }\n}\n";
        let after =
            "match x {\n    A => {\n        a();\n    }\n    B => {\n        b();\n    }\n}\n";
        assert_eq!(added(before, after), [5, 6, 7]);
    }

    #[test]
    fn an_insertion_lands_in_the_same_place_whatever_changed_elsewhere() {
        let body = "def f():\n    return 1\n\ndef g():\n    return 2\n";
        let with_g2 =
            "def f():\n    return 1\n\ndef g2():\n    return 3\n\ndef g():\n    return 2\n";
        let plain = added(body, with_g2);
        let edited_above = added(
            &format!("# header\n{body}"),
            &format!("# header, edited\n{with_g2}"),
        );
        assert_eq!(
            plain.iter().map(|line| line + 1).collect::<Vec<_>>(),
            edited_above[1..]
        );
    }
}
