//! Property test: the engine against an independent oracle.
//!
//! The oracle is a plain list of `(line content, provenance)` edited directly at the line level;
//! it never parses text. Every line holds a token (`<17>`) no other line holds, so each line is
//! unique and a line diff has exactly one right answer. Each generated step is done to the oracle
//! directly and to the engine through the same LSP-style changes an editor would send, with
//! columns the test computes itself (`encode_utf16().count()` and friends) from the oracle's
//! lines. After every step the two must agree on the text and on every line's provenance.

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use super::{Position, PositionEncoding, Range, Report, TextChange, TrackedText};
use crate::model::{InteractionId, Origin, Provenance};

/// One edit, with indexes reduced modulo the document when it runs.
#[derive(Clone, Debug)]
enum Edit {
    /// New whole lines at a line boundary.
    Insert { at: usize, count: usize },
    /// A block of whole lines removed.
    Delete { at: usize, count: usize },
    /// A new token typed inside a line.
    Modify { line: usize, cut: usize },
    /// A line broken in two, with a new token on each side of the break.
    Split { line: usize, cut: usize },
    /// Backspace at the start of a line: it joins the line above.
    Join { line: usize },
}

/// Who makes an edit, and how the engine learns about it.
#[derive(Clone, Copy, Debug)]
enum Writer {
    Human,
    /// An AI edit applied as a change made by `Origin::Ai`.
    Ai(u8),
    /// An AI edit applied as a human change, then named by `mark_ai_ranges` over exactly the
    /// inserted text (`prodcode/aiEditApplied`).
    AiMarked(u8),
}

#[derive(Clone, Debug)]
enum Step {
    Edit(Edit, Writer),
    /// Human changes inside a checkpoint bracket of interaction `id`: the engine sees them as
    /// human changes, then replays the bracket with `observe` by `Ai(id)` on the text from before.
    Checkpoint(u8, Vec<Edit>),
    /// The file changed while nobody watched: per line keep, change, drop, add or replace
    /// (by `choices`), maybe with another line ending, then `observe` by `Unknown`.
    Rewrite(Vec<u8>, bool),
}

#[derive(Clone, Debug)]
struct Oracle {
    lines: Vec<(String, Provenance)>,
    eol: &'static str,
    /// The document ends with a line break: the last line is the empty line after it, which
    /// the edits never change.
    trailing: bool,
    next_token: u32,
}

const FILLERS: [&str; 7] = ["x😀y", "é", "a𝄞b", "中文", "plain", "", " z "];
const EOLS: [&str; 3] = ["\n", "\r\n", "\r"];

impl Oracle {
    fn text(&self) -> String {
        let contents: Vec<&str> = self.lines.iter().map(|(line, _)| line.as_str()).collect();
        contents.join(self.eol)
    }

    fn provenance(&self) -> Vec<Provenance> {
        self.lines
            .iter()
            .map(|(_, provenance)| provenance.clone())
            .collect()
    }

    /// The lines edits may touch: all but the final empty line of a document with a trailing
    /// line break.
    fn editable(&self) -> usize {
        self.lines.len() - usize::from(self.trailing)
    }

    fn token(&mut self) -> String {
        self.next_token += 1;
        format!("<{}>", self.next_token)
    }

    fn fresh_line(&mut self) -> String {
        let token = self.token();
        let filler = FILLERS[self.next_token as usize % FILLERS.len()];
        format!("{token} {filler}")
    }

    fn content(&self, line: usize) -> &str {
        &self.lines[line].0
    }
}

/// The column of character index `chars` in `content`, counted in `encoding` units.
fn column(content: &str, chars: usize, encoding: PositionEncoding) -> u32 {
    let prefix: String = content.chars().take(chars).collect();
    let units = match encoding {
        PositionEncoding::Utf8 => prefix.len(),
        PositionEncoding::Utf16 => prefix.encode_utf16().count(),
        PositionEncoding::Utf32 => prefix.chars().count(),
    };
    units as u32
}

fn end_column(content: &str, encoding: PositionEncoding) -> u32 {
    column(content, usize::MAX, encoding)
}

fn position(line: usize, character: u32) -> Position {
    Position {
        line: line as u32,
        character,
    }
}

/// Character indexes where a token may go without splitting another token.
fn cut_points(content: &str) -> Vec<usize> {
    let mut depth = 0i32;
    let mut cuts = vec![0];
    for (index, ch) in content.chars().enumerate() {
        match ch {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            cuts.push(index + 1);
        }
    }
    cuts
}

fn split_chars(content: &str, chars: usize) -> (String, String) {
    let prefix: String = content.chars().take(chars).collect();
    let suffix: String = content.chars().skip(chars).collect();
    (prefix, suffix)
}

/// What a line written entirely by `origin` is, as the product brief defines it.
fn written_by(origin: &Origin) -> Provenance {
    match origin {
        Origin::Human => Provenance::Human,
        Origin::Ai(id) => Provenance::Ai(id.clone()),
        Origin::Unknown => Provenance::Untracked,
    }
}

/// What a line that keeps some old text becomes when `origin` changes it.
fn changed_by(old: &Provenance, origin: &Origin) -> Provenance {
    match (origin, old) {
        (Origin::Human, Provenance::Ai(id) | Provenance::AiModified(id)) => {
            Provenance::AiModified(id.clone())
        }
        (Origin::Human, Provenance::Human) => Provenance::Human,
        (Origin::Human, Provenance::Untracked) => Provenance::Untracked,
        (Origin::Ai(id), _) => Provenance::Ai(id.clone()),
        (Origin::Unknown, _) => Provenance::Untracked,
    }
}

fn interaction(id: u8) -> InteractionId {
    InteractionId::new(&format!("i{id}"))
}

/// One edit, done to the oracle (with `oracle_origin`) and sent to the engine as a change by
/// `engine_origin`. Returns the engine's report, the range the inserted text now occupies,
/// and what the report must say when it can be told from the oracle alone.
struct Applied {
    report: Report,
    inserted: Option<Range>,
    expected: Option<Expected>,
}

/// AI line counts the report must show, per interaction.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    added: Vec<(InteractionId, u32)>,
    modified: Vec<(InteractionId, u32)>,
    deleted: Vec<(InteractionId, u32)>,
}

fn tally(counts: &mut Vec<(InteractionId, u32)>, id: &InteractionId) {
    match counts.iter_mut().find(|(seen, _)| seen == id) {
        Some((_, count)) => *count += 1,
        None => counts.push((id.clone(), 1)),
    }
}

fn apply_edit(
    engine: &mut TrackedText,
    oracle: &mut Oracle,
    edit: &Edit,
    engine_origin: &Origin,
    oracle_origin: &Origin,
    encoding: PositionEncoding,
) -> Option<Applied> {
    let eol = oracle.eol;
    let lines = oracle.lines.len();
    let editable = oracle.editable();
    let mut expected = None;
    let (range, text, inserted) = match *edit {
        Edit::Insert { at, count } => {
            let count = 1 + count % 3;
            let slots = if oracle.trailing { lines } else { lines + 1 };
            let at = at % slots;
            let contents: Vec<String> = (0..count).map(|_| oracle.fresh_line()).collect();
            let last_len = end_column(contents.last().map_or("", String::as_str), encoding);
            let (range, text, inserted) = if at < lines {
                let start = position(at, 0);
                let text: String = contents.iter().map(|c| format!("{c}{eol}")).collect();
                let inserted = Range {
                    start,
                    end: position(at + count, 0),
                };
                (Range { start, end: start }, text, inserted)
            } else {
                let last = lines - 1;
                let start = position(last, end_column(oracle.content(last), encoding));
                let text: String = contents.iter().map(|c| format!("{eol}{c}")).collect();
                let inserted = Range {
                    start,
                    end: position(last + count, last_len),
                };
                (Range { start, end: start }, text, inserted)
            };
            let provenance = written_by(oracle_origin);
            let mut counts = Expected::default();
            if let Origin::Ai(id) = engine_origin {
                counts.added.push((id.clone(), count as u32));
            }
            expected = Some(counts);
            let new_lines = contents.into_iter().map(|c| (c, provenance.clone()));
            oracle.lines.splice(at..at, new_lines);
            (range, text, Some(inserted))
        }
        Edit::Delete { at, count } => {
            if editable < 2 {
                return None;
            }
            let count = 1 + count % (editable - 1).min(3);
            let at = at % (editable - count + 1);
            let range = if at + count < lines {
                Range {
                    start: position(at, 0),
                    end: position(at + count, 0),
                }
            } else {
                Range {
                    start: position(at - 1, end_column(oracle.content(at - 1), encoding)),
                    end: position(lines - 1, end_column(oracle.content(lines - 1), encoding)),
                }
            };
            let mut counts = Expected::default();
            for (_, provenance) in oracle.lines.drain(at..at + count) {
                if let Some(id) = provenance.interaction() {
                    tally(&mut counts.deleted, id);
                }
            }
            expected = Some(counts);
            (range, String::new(), None)
        }
        Edit::Modify { line, cut } => {
            let line = line % editable;
            let cuts = cut_points(oracle.content(line));
            let cut = cuts[cut % cuts.len()];
            let token = oracle.token();
            let start = position(line, column(oracle.content(line), cut, encoding));
            let inserted = Range {
                start,
                end: position(line, start.character + end_column(&token, encoding)),
            };
            let (prefix, suffix) = split_chars(oracle.content(line), cut);
            let old = oracle.lines[line].1.clone();
            if *engine_origin == Origin::Human {
                let mut counts = Expected::default();
                if let Provenance::Ai(id) = &old {
                    counts.modified.push((id.clone(), 1));
                }
                expected = Some(counts);
            }
            oracle.lines[line] = (
                format!("{prefix}{token}{suffix}"),
                changed_by(&old, oracle_origin),
            );
            (Range { start, end: start }, token, Some(inserted))
        }
        Edit::Split { line, cut } => {
            let line = line % editable;
            let content = oracle.content(line).to_owned();
            let cuts = cut_points(&content);
            let cut = cuts[cut % cuts.len()];
            let (before, after) = (oracle.token(), oracle.token());
            let start = position(line, column(&content, cut, encoding));
            let (prefix, suffix) = split_chars(&content, cut);
            let old = oracle.lines[line].1.clone();
            let first = if prefix.is_empty() {
                written_by(oracle_origin)
            } else {
                changed_by(&old, oracle_origin)
            };
            let second = if suffix.is_empty() {
                written_by(oracle_origin)
            } else {
                changed_by(&old, oracle_origin)
            };
            oracle.lines[line] = (format!("{prefix}{before}"), first);
            oracle
                .lines
                .insert(line + 1, (format!("{after}{suffix}"), second));
            let text = format!("{before}{eol}{after}");
            (Range { start, end: start }, text, None)
        }
        Edit::Join { line } => {
            if editable < 2 {
                return None;
            }
            let line = line % (editable - 1);
            let range = Range {
                start: position(line, end_column(oracle.content(line), encoding)),
                end: position(line + 1, 0),
            };
            let (below, _) = oracle.lines.remove(line + 1);
            let (above, old) = oracle.lines[line].clone();
            oracle.lines[line] = (above + &below, changed_by(&old, oracle_origin));
            (range, String::new(), None)
        }
    };
    let change = TextChange {
        range: Some(range),
        text,
    };
    let report = engine.apply_change(&change, encoding, engine_origin);
    Some(Applied {
        report,
        inserted,
        expected,
    })
}

fn run_step(
    engine: &mut TrackedText,
    oracle: &mut Oracle,
    step: &Step,
    encoding: PositionEncoding,
) {
    match step {
        Step::Edit(edit, writer) => {
            let (engine_origin, marked) = match *writer {
                Writer::Human => (Origin::Human, None),
                Writer::Ai(id) => (Origin::Ai(interaction(id)), None),
                Writer::AiMarked(id) => (Origin::Human, Some(interaction(id))),
            };
            let oracle_origin = match &marked {
                Some(id) => Origin::Ai(id.clone()),
                None => engine_origin.clone(),
            };
            let Some(applied) = apply_edit(
                engine,
                oracle,
                edit,
                &engine_origin,
                &oracle_origin,
                encoding,
            ) else {
                return;
            };
            assert_eq!(applied.report.warnings, [], "the test sent valid positions");
            if marked.is_none()
                && let Some(expected) = applied.expected
            {
                let actual = Expected {
                    added: applied.report.ai_lines_added,
                    modified: applied.report.ai_lines_modified,
                    deleted: applied.report.ai_lines_deleted,
                };
                assert_eq!(actual, expected, "report of {edit:?}");
            }
            // The strategy marks only inserts and modifications, which have an inserted range.
            if let (Some(id), Some(inserted)) = (marked, applied.inserted) {
                let report = engine.mark_ai_ranges(&[inserted], encoding, &id);
                assert_eq!(report.warnings, [], "the test marked a valid range");
            }
        }
        Step::Checkpoint(id, edits) => {
            let id = interaction(*id);
            let before = engine.clone();
            for edit in edits {
                apply_edit(
                    engine,
                    oracle,
                    edit,
                    &Origin::Human,
                    &Origin::Ai(id.clone()),
                    encoding,
                );
            }
            let mut replayed = before.clone();
            let report = replayed.observe(&engine.text(), &Origin::Ai(id));
            assert_eq!(report.warnings, []);
            *engine = replayed;
        }
        Step::Rewrite(choices, switch_eol) => {
            let mut rewritten = Vec::new();
            for (index, (content, provenance)) in oracle.lines.clone().into_iter().enumerate() {
                if index >= oracle.editable() {
                    break;
                }
                match choices.get(index).copied().unwrap_or(0) % 10 {
                    0..=5 => rewritten.push((content, provenance)),
                    6 => {
                        let cuts = cut_points(&content);
                        let cut = cuts[index % cuts.len()];
                        let (prefix, suffix) = split_chars(&content, cut);
                        let token = oracle.token();
                        rewritten.push((format!("{prefix}{token}{suffix}"), Provenance::Untracked));
                    }
                    7 => {}
                    8 => {
                        rewritten.push((content, provenance));
                        rewritten.push((oracle.fresh_line(), Provenance::Untracked));
                    }
                    _ => rewritten.push((oracle.fresh_line(), Provenance::Untracked)),
                }
            }
            if rewritten.is_empty() {
                rewritten.push((oracle.fresh_line(), Provenance::Untracked));
            }
            if oracle.trailing {
                rewritten.extend(oracle.lines.last().cloned());
            }
            oracle.lines = rewritten;
            if *switch_eol {
                let at = EOLS.iter().position(|eol| *eol == oracle.eol).unwrap_or(0);
                oracle.eol = EOLS[(at + 1) % EOLS.len()];
            }
            let report = engine.observe(&oracle.text(), &Origin::Unknown);
            assert_eq!(report.ai_lines_added, []);
            assert_eq!(report.ai_lines_modified, []);
        }
    }
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    let index = any::<u16>().prop_map(usize::from);
    prop_oneof![
        3 => (index.clone(), index.clone()).prop_map(|(at, count)| Edit::Insert { at, count }),
        2 => (index.clone(), index.clone()).prop_map(|(at, count)| Edit::Delete { at, count }),
        3 => (index.clone(), index.clone()).prop_map(|(line, cut)| Edit::Modify { line, cut }),
        1 => (index.clone(), index.clone()).prop_map(|(line, cut)| Edit::Split { line, cut }),
        1 => index.prop_map(|line| Edit::Join { line }),
    ]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    let writer = prop_oneof![
        2 => Just(Writer::Human),
        1 => (1..4u8).prop_map(Writer::Ai),
        1 => (1..4u8).prop_map(Writer::AiMarked),
    ];
    let edit = (edit_strategy(), writer).prop_map(|(edit, writer)| {
        // Only inserts and modifications have one inserted range to mark.
        let writer = match (&edit, writer) {
            (
                Edit::Split { .. } | Edit::Join { .. } | Edit::Delete { .. },
                Writer::AiMarked(id),
            ) => Writer::Ai(id),
            (_, writer) => writer,
        };
        Step::Edit(edit, writer)
    });
    prop_oneof![
        8 => edit,
        1 => (1..4u8, prop::collection::vec(edit_strategy(), 1..5))
            .prop_map(|(id, edits)| Step::Checkpoint(id, edits)),
        1 => (prop::collection::vec(any::<u8>(), 0..12), any::<bool>())
            .prop_map(|(choices, switch_eol)| Step::Rewrite(choices, switch_eol)),
    ]
}

fn provenance_strategy() -> impl Strategy<Value = Provenance> {
    prop_oneof![
        Just(Provenance::Untracked),
        Just(Provenance::Human),
        (1..4u8).prop_map(|id| Provenance::Ai(interaction(id))),
        (1..4u8).prop_map(|id| Provenance::AiModified(interaction(id))),
    ]
}

fn encoding_strategy() -> impl Strategy<Value = PositionEncoding> {
    prop_oneof![
        1 => Just(PositionEncoding::Utf8),
        2 => Just(PositionEncoding::Utf16),
        1 => Just(PositionEncoding::Utf32),
    ]
}

fn eol_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![2 => Just("\n"), 2 => Just("\r\n"), 1 => Just("\r")]
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_agrees_with_a_line_level_oracle(
        initial in prop::collection::vec(provenance_strategy(), 1..6),
        trailing in proptest::option::of(provenance_strategy()),
        eol in eol_strategy(),
        encoding in encoding_strategy(),
        steps in prop::collection::vec(step_strategy(), 1..40),
    ) {
        let mut oracle = Oracle {
            lines: Vec::new(),
            eol,
            trailing: trailing.is_some(),
            next_token: 0,
        };
        for provenance in initial {
            let line = oracle.fresh_line();
            oracle.lines.push((line, provenance));
        }
        oracle.lines.extend(trailing.map(|provenance| (String::new(), provenance)));
        let mut engine = TrackedText::with_provenance(&oracle.text(), oracle.provenance());
        prop_assert_eq!(engine.line_count(), oracle.lines.len());

        for step in &steps {
            run_step(&mut engine, &mut oracle, step, encoding);
            prop_assert_eq!(engine.text(), oracle.text(), "text after {:?}", step);
            prop_assert_eq!(engine.provenance(), &oracle.provenance()[..], "provenance after {:?}", step);
            let runs = engine.runs();
            prop_assert_eq!(runs.first().map(|run| run.start), Some(0));
            prop_assert_eq!(runs.last().map(|run| run.end as usize), Some(engine.line_count()));
        }
    }
}
