//! Data-driven tests of the provenance engine: each test is a fixture (lines with their
//! provenance), the operations applied to it, and the expected lines and reports.
//!
//! Provenance tags in fixtures and expectations: `h` human, `u` untracked, `a1` AI of
//! interaction `1`, `m1` AI of interaction `1` modified by a person.

use super::*;
use crate::model::{InteractionId, LineClass, Origin, Provenance};

/// One thing that happens to the document.
enum Op {
    Edit(Origin, Option<Range>, &'static str),
    Mark(&'static str, Vec<Range>),
    Observe(Origin, &'static str),
}

fn range(start_line: u32, start_char: u32, end_line: u32, end_char: u32) -> Range {
    Range {
        start: Position {
            line: start_line,
            character: start_char,
        },
        end: Position {
            line: end_line,
            character: end_char,
        },
    }
}

fn at(r: (u32, u32, u32, u32)) -> Option<Range> {
    Some(range(r.0, r.1, r.2, r.3))
}

fn human(r: (u32, u32, u32, u32), text: &'static str) -> Op {
    Op::Edit(Origin::Human, at(r), text)
}

fn ai(id: &str, r: (u32, u32, u32, u32), text: &'static str) -> Op {
    Op::Edit(Origin::Ai(InteractionId::new(id)), at(r), text)
}

fn unknown(r: (u32, u32, u32, u32), text: &'static str) -> Op {
    Op::Edit(Origin::Unknown, at(r), text)
}

fn full(origin: Origin, text: &'static str) -> Op {
    Op::Edit(origin, None, text)
}

fn mark(id: &'static str, ranges: &[(u32, u32, u32, u32)]) -> Op {
    let ranges = ranges.iter().map(|r| range(r.0, r.1, r.2, r.3)).collect();
    Op::Mark(id, ranges)
}

fn observe(origin: Origin, text: &'static str) -> Op {
    Op::Observe(origin, text)
}

fn ai_origin(id: &str) -> Origin {
    Origin::Ai(InteractionId::new(id))
}

fn parse_tag(tag: &str) -> Provenance {
    match tag.split_at(1) {
        ("h", "") => Provenance::Human,
        ("u", "") => Provenance::Untracked,
        ("a", id) => Provenance::Ai(InteractionId::new(id)),
        ("m", id) => Provenance::AiModified(InteractionId::new(id)),
        _ => panic!("unknown provenance tag {tag:?}"),
    }
}

fn tag(provenance: &Provenance) -> String {
    match provenance {
        Provenance::Human => "h".to_owned(),
        Provenance::Untracked => "u".to_owned(),
        Provenance::Ai(id) => format!("a{id}"),
        Provenance::AiModified(id) => format!("m{id}"),
    }
}

fn fixture(lines: &[(&str, &str)]) -> TrackedText {
    let text: String = lines.iter().map(|(_, line)| *line).collect();
    let provenance = lines.iter().map(|(tag, _)| parse_tag(tag)).collect();
    let tracked = TrackedText::with_provenance(&text, provenance);
    assert_eq!(
        tracked.line_count(),
        lines.len(),
        "fixture lines must be LSP lines"
    );
    tracked
}

/// The lines with their provenance, one per row, as the expectations spell them.
fn render(tracked: &TrackedText) -> String {
    let mut out = String::new();
    for (line, provenance) in tracked.lines.iter().zip(tracked.provenance()) {
        out.push_str(&format!("{} {line:?}\n", tag(provenance)));
    }
    out
}

fn render_report(step: usize, report: &Report) -> String {
    let counts = |name: &str, counts: &[(InteractionId, u32)]| {
        counts
            .iter()
            .map(|(id, count)| format!(" {name} {id}={count}"))
            .collect::<String>()
    };
    let mut out = format!("#{step}");
    out.push_str(&counts("added", &report.ai_lines_added));
    out.push_str(&counts("modified", &report.ai_lines_modified));
    out.push_str(&counts("deleted", &report.ai_lines_deleted));
    for warning in &report.warnings {
        out.push_str(&format!(" {warning:?}"));
    }
    out.push('\n');
    out
}

/// Runs `ops` on the fixture with UTF-16 columns and compares lines and non-empty reports.
fn check(lines: &[(&str, &str)], ops: Vec<Op>, expect: &str) {
    check_in(PositionEncoding::Utf16, lines, ops, expect);
}

fn check_in(encoding: PositionEncoding, lines: &[(&str, &str)], ops: Vec<Op>, expect: &str) {
    let mut tracked = fixture(lines);
    let mut reports = String::new();
    for (step, op) in ops.into_iter().enumerate() {
        let report = match op {
            Op::Edit(origin, range, text) => {
                let change = TextChange {
                    range,
                    text: text.to_owned(),
                };
                tracked.apply_change(&change, encoding, &origin)
            }
            Op::Mark(id, ranges) => {
                tracked.mark_ai_ranges(&ranges, encoding, &InteractionId::new(id))
            }
            Op::Observe(origin, text) => tracked.observe(text, &origin),
        };
        if report != Report::default() {
            reports.push_str(&render_report(step, &report));
        }
        assert_consistent(&tracked);
    }
    let actual = render(&tracked) + &reports;
    let expect: String = expect
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(actual, expect, "\nactual:\n{actual}");
}

/// The stored lines are exactly the LSP lines of the text, with one provenance each.
fn assert_consistent(tracked: &TrackedText) {
    let text = tracked.text();
    let relined: Vec<&str> = text::lines(&text).collect();
    assert_eq!(
        relined, tracked.lines,
        "lines are not the LSP lines of {text:?}"
    );
    assert_eq!(tracked.provenance().len(), tracked.line_count());
}

#[test]
fn typing_inside_a_line() {
    check(
        &[("h", "abc\n"), ("u", "def")],
        vec![human((0, 1, 0, 1), "X")],
        r#"
        h "aXbc\n"
        u "def"
        "#,
    );
}

/// Issue 10: what an untracked line kept is nobody's we know of (it may be an agent's line whose
/// evidence was lost), so a person's change of it is no evidence that the line is theirs.
#[test]
fn a_person_changing_an_untracked_line_leaves_it_untracked() {
    check(
        &[("u", "abc\n"), ("h", "def")],
        vec![human((0, 1, 0, 1), "X"), human((1, 3, 1, 3), "!")],
        r#"
        u "aXbc\n"
        h "def!"
        "#,
    );
}

#[test]
fn a_person_changing_an_ai_line_makes_it_ai_modified() {
    check(
        &[("a1", "let x = 1;\n"), ("h", "y")],
        vec![human((0, 8, 0, 9), "2"), human((0, 0, 0, 0), "pub ")],
        r#"
        m1 "pub let x = 2;\n"
        h "y"
        #0 modified 1=1
        "#,
    );
}

#[test]
fn replacing_text_with_the_same_text_keeps_the_line() {
    check(
        &[("a1", "let x = 1;\n"), ("h", "y")],
        vec![human((0, 4, 0, 5), "x"), unknown((0, 0, 0, 3), "let")],
        r#"
        a1 "let x = 1;\n"
        h "y"
        "#,
    );
}

#[test]
fn deleting_whole_lines_counts_deleted_ai_lines() {
    check(
        &[
            ("a1", "one\n"),
            ("a1", "two\n"),
            ("h", "three\n"),
            ("u", ""),
        ],
        vec![human((0, 0, 2, 0), "")],
        r#"
        h "three\n"
        u ""
        #0 deleted 1=2
        "#,
    );
}

#[test]
fn deleting_the_last_lines_keeps_the_line_before() {
    check(
        &[("h", "one\n"), ("a1", "two\n"), ("a2", "three")],
        vec![human((0, 3, 2, 5), "")],
        r#"
        h "one"
        #0 deleted 1=1 deleted 2=1
        "#,
    );
}

#[test]
fn backspace_at_line_start_joins_into_the_upper_line() {
    check(
        &[("h", "ab\n"), ("a1", "cd\n"), ("u", "")],
        vec![human((0, 2, 1, 0), "")],
        r#"
        h "abcd\n"
        u ""
        #0 deleted 1=1
        "#,
    );
    check(
        &[("a1", "ab\n"), ("h", "cd")],
        vec![human((0, 2, 1, 0), "")],
        r#"
        m1 "abcd"
        #0 modified 1=1
        "#,
    );
}

#[test]
fn newline_at_line_end_adds_a_line_below() {
    check(
        &[("a1", "abc\n"), ("h", "def")],
        vec![human((0, 3, 0, 3), "\n")],
        r#"
        a1 "abc\n"
        h "\n"
        h "def"
        "#,
    );
}

#[test]
fn newline_at_line_start_adds_a_line_above() {
    check(
        &[("a1", "abc\n"), ("h", "x")],
        vec![human((0, 0, 0, 0), "\n")],
        r#"
        h "\n"
        a1 "abc\n"
        h "x"
        "#,
    );
}

#[test]
fn newline_in_the_middle_splits_a_line_into_two_changed_halves() {
    check(
        &[("a1", "abcd")],
        vec![human((0, 2, 0, 2), "\n")],
        r#"
        m1 "ab\n"
        m1 "cd"
        #0 modified 1=1
        "#,
    );
}

#[test]
fn multi_line_replacement_by_an_ai() {
    check(
        &[
            ("u", "one\n"),
            ("a1", "two\n"),
            ("a2", "three\n"),
            ("h", "four"),
        ],
        vec![ai("3", (0, 1, 2, 2), "X\nY\nZ")],
        r#"
        a3 "oX\n"
        a3 "Y\n"
        a3 "Zree\n"
        h "four"
        #0 added 3=3 deleted 1=1 deleted 2=1
        "#,
    );
}

#[test]
fn ai_inserting_whole_lines_keeps_the_lines_around_them() {
    check(
        &[("h", "fn a() {\n"), ("h", "}\n"), ("u", "")],
        vec![ai("7", (1, 0, 1, 0), "    one();\n    two();\n")],
        r#"
        h "fn a() {\n"
        a7 "    one();\n"
        a7 "    two();\n"
        h "}\n"
        u ""
        #0 added 7=2
        "#,
    );
    check(
        &[("h", "fn a() {}")],
        vec![ai("7", (0, 9, 0, 9), "\nfn b() {}\nfn c() {}")],
        r#"
        h "fn a() {}\n"
        a7 "fn b() {}\n"
        a7 "fn c() {}"
        #0 added 7=2
        "#,
    );
}

#[test]
fn unknown_changes_leave_no_evidence() {
    check(
        &[("a1", "abc\n"), ("h", "def\n"), ("h", "ghi")],
        vec![unknown((0, 1, 0, 2), "X"), unknown((1, 3, 1, 3), "\nnew")],
        r#"
        u "aXc\n"
        h "def\n"
        u "new\n"
        h "ghi"
        #0 deleted 1=1
        "#,
    );
}

#[test]
fn crlf_line_break_sent_as_two_changes() {
    check(
        &[("a1", "abcdef\r\n"), ("u", "x")],
        vec![human((0, 3, 0, 3), "\r"), human((1, 0, 1, 0), "\n")],
        r#"
        m1 "abc\r\n"
        m1 "def\r\n"
        u "x"
        #0 modified 1=1
        "#,
    );
}

#[test]
fn crlf_line_break_at_line_end_sent_as_two_changes() {
    check(
        &[("a1", "abc\r\n"), ("u", "x")],
        vec![human((0, 3, 0, 3), "\r"), human((1, 0, 1, 0), "\n")],
        r#"
        a1 "abc\r\n"
        h "\r\n"
        u "x"
        "#,
    );
}

#[test]
fn text_ending_in_carriage_return_before_a_line_feed_forms_one_break() {
    check(
        &[("a1", "abc\n"), ("h", "def")],
        vec![human((0, 3, 0, 3), "x\r")],
        r#"
        m1 "abcx\r\n"
        h "def"
        #0 modified 1=1
        "#,
    );
    check(
        &[("a1", "abc\n"), ("h", "def")],
        vec![human((0, 3, 0, 3), "\r")],
        r#"
        a1 "abc\r\n"
        h "def"
        "#,
    );
    check(
        &[("u", "ab\n"), ("h", "c")],
        vec![human((0, 2, 0, 2), "\rX\r")],
        r#"
        u "ab\r"
        h "X\r\n"
        h "c"
        "#,
    );
}

#[test]
fn crlf_document_edits() {
    check(
        &[("h", "one\r\n"), ("a1", "two\r\n"), ("u", "")],
        vec![
            human((1, 3, 1, 3), "\r\nthree"),
            human((0, 3, 1, 0), ""),
            ai("2", (2, 0, 2, 0), "four\r\n"),
        ],
        r#"
        h "onetwo\r\n"
        h "three\r\n"
        a2 "four\r\n"
        u ""
        #1 deleted 1=1
        #2 added 2=1
        "#,
    );
}

#[test]
fn lone_carriage_return_documents() {
    check(
        &[("u", "a\r"), ("a1", "b\r"), ("h", "c")],
        vec![human((1, 0, 1, 1), ""), human((2, 1, 2, 1), "\rd")],
        r#"
        u "a\r"
        h "\r"
        h "c\r"
        h "d"
        #0 deleted 1=1
        "#,
    );
}

#[test]
fn deleting_between_a_lone_carriage_return_and_a_line_feed_joins_them() {
    check(
        &[("u", "a\r"), ("a1", "b\n"), ("h", "c")],
        vec![human((1, 0, 1, 1), "")],
        r#"
        u "a\r\n"
        h "c"
        #0 deleted 1=1
        "#,
    );
}

#[test]
fn inserting_a_line_feed_after_a_lone_carriage_return_joins_them() {
    check(
        &[("u", "a\r"), ("a1", "b")],
        vec![human((1, 0, 1, 0), "\n")],
        r#"
        u "a\r\n"
        a1 "b"
        "#,
    );
    check(
        &[("u", "a\r"), ("a1", "b")],
        vec![human((1, 0, 1, 0), "\nX")],
        r#"
        u "a\r\n"
        m1 "Xb"
        #0 modified 1=1
        "#,
    );
}

#[test]
fn utf16_columns_count_surrogate_pairs() {
    // "a😀b": the emoji is two UTF-16 units, so column 3 is after it.
    check(
        &[("a1", "a😀b")],
        vec![human((0, 3, 0, 3), "X")],
        r#"
        m1 "a😀Xb"
        #0 modified 1=1
        "#,
    );
    check(
        &[("u", "𝄞中😀\n"), ("u", "x")],
        vec![human((0, 3, 0, 5), "-")],
        r#"
        u "𝄞中-\n"
        u "x"
        "#,
    );
}

#[test]
fn a_column_inside_a_surrogate_pair_rounds_down() {
    check(
        &[("u", "a😀b")],
        vec![human((0, 2, 0, 2), "X")],
        r#"
        u "aX😀b"
        #0 PositionInsideCharacter { given: Position { line: 0, character: 2 } }
        "#,
    );
}

#[test]
fn utf8_columns_count_bytes() {
    check_in(
        PositionEncoding::Utf8,
        &[("u", "a😀b\n"), ("u", "é")],
        vec![human((0, 5, 0, 5), "X"), human((1, 1, 1, 1), "Y")],
        r#"
        u "a😀Xb\n"
        u "Yé"
        #1 PositionInsideCharacter { given: Position { line: 1, character: 1 } }
        "#,
    );
}

#[test]
fn utf32_columns_count_characters() {
    check_in(
        PositionEncoding::Utf32,
        &[("u", "a😀b")],
        vec![human((0, 2, 0, 3), "B")],
        r#"
        u "a😀B"
        "#,
    );
}

#[test]
fn positions_past_the_end_are_clamped() {
    check(
        &[("u", "abc\n"), ("u", "😀")],
        vec![human((0, 10, 0, 10), "X"), human((1, 7, 1, 7), "Y")],
        r#"
        u "abcX\n"
        u "😀Y"
        #0 PositionClamped { given: Position { line: 0, character: 10 }, used: Position { line: 0, character: 3 } }
        #1 PositionClamped { given: Position { line: 1, character: 7 }, used: Position { line: 1, character: 2 } }
        "#,
    );
    check(
        &[("u", "abc\n"), ("u", "de")],
        vec![human((5, 0, 9, 0), "X")],
        r#"
        u "abc\n"
        u "deX"
        #0 PositionClamped { given: Position { line: 5, character: 0 }, used: Position { line: 1, character: 2 } } PositionClamped { given: Position { line: 9, character: 0 }, used: Position { line: 1, character: 2 } }
        "#,
    );
}

#[test]
fn reversed_ranges_are_swapped() {
    check(
        &[("u", "abcd")],
        vec![human((0, 3, 0, 1), "")],
        r#"
        u "ad"
        #0 RangeReversed { given: Range { start: Position { line: 0, character: 3 }, end: Position { line: 0, character: 1 } } }
        "#,
    );
}

#[test]
fn several_changes_in_one_did_change() {
    check(
        &[("u", "one\n"), ("u", "two\n"), ("u", "three")],
        vec![
            human((2, 0, 2, 0), "// "),
            human((0, 3, 0, 3), "!"),
            ai("1", (1, 0, 1, 3), "TWO"),
            human((1, 3, 1, 3), ";"),
        ],
        r#"
        u "one!\n"
        m1 "TWO;\n"
        u "// three"
        #2 added 1=1
        #3 modified 1=1
        "#,
    );
}

#[test]
fn an_empty_document() {
    assert_eq!(TrackedText::new_untracked("").line_count(), 1);
    check(
        &[("u", "")],
        vec![human((0, 0, 0, 0), "hello")],
        r#"
        h "hello"
        "#,
    );
    check(
        &[("u", "")],
        vec![human((0, 0, 0, 0), "\n")],
        r#"
        u "\n"
        h ""
        "#,
    );
    check(
        &[("u", "")],
        vec![ai("1", (0, 0, 0, 0), "fn main() {}\n")],
        r#"
        a1 "fn main() {}\n"
        u ""
        #0 added 1=1
        "#,
    );
}

#[test]
fn a_final_newline_makes_a_final_empty_line() {
    assert_eq!(TrackedText::new_untracked("a\n").line_count(), 2);
    assert_eq!(TrackedText::new_untracked("a").line_count(), 1);
    check(
        &[("a1", "a\n"), ("u", "")],
        vec![human((1, 0, 1, 0), "b")],
        r#"
        a1 "a\n"
        h "b"
        "#,
    );
    check(
        &[("a1", "a\n"), ("u", "")],
        vec![human((0, 1, 1, 0), "")],
        r#"
        a1 "a"
        "#,
    );
}

#[test]
fn deleting_everything_leaves_one_empty_line() {
    check(
        &[("a1", "a\n"), ("a1", "b")],
        vec![human((0, 0, 1, 1), "")],
        r#"
        h ""
        #0 deleted 1=2
        "#,
    );
}

#[test]
fn marking_ai_ranges() {
    check(
        &[("u", "a\n"), ("h", "b\n"), ("u", "c\n"), ("u", "")],
        vec![mark("1", &[(1, 0, 3, 0)])],
        r#"
        u "a\n"
        a1 "b\n"
        a1 "c\n"
        u ""
        #0 added 1=2
        "#,
    );
}

#[test]
fn marking_a_range_that_starts_at_a_line_end_skips_that_line() {
    // An AI completion "\nb" appended after a line a person wrote.
    check(
        &[("h", "a\n"), ("u", "b")],
        vec![mark("1", &[(0, 1, 1, 1)])],
        r#"
        h "a\n"
        a1 "b"
        #0 added 1=1
        "#,
    );
}

#[test]
fn marking_ignores_empty_ranges_and_counts_overlaps_once() {
    check(
        &[("u", "a\n"), ("a2", "b")],
        vec![
            mark("1", &[(0, 1, 0, 1)]),
            mark("1", &[(0, 0, 0, 1), (0, 0, 0, 1), (1, 0, 1, 1)]),
        ],
        r#"
        a1 "a\n"
        a1 "b"
        #1 added 1=2 deleted 2=1
        "#,
    );
}

#[test]
fn marking_with_positions_past_the_end() {
    check(
        &[("u", "a\n"), ("u", "b\n"), ("u", "")],
        vec![mark("1", &[(0, 0, 99, 0)])],
        r#"
        a1 "a\n"
        a1 "b\n"
        u ""
        #0 added 1=2 PositionClamped { given: Position { line: 99, character: 0 }, used: Position { line: 2, character: 0 } }
        "#,
    );
}

#[test]
fn observe_by_a_person() {
    check(
        &[
            ("a1", "fn a() {\n"),
            ("a1", "    body();\n"),
            ("h", "}\n"),
            ("u", ""),
        ],
        vec![observe(
            Origin::Human,
            "fn a() {\n    body(1);\n}\n// end\n",
        )],
        r#"
        a1 "fn a() {\n"
        m1 "    body(1);\n"
        h "}\n"
        h "// end\n"
        u ""
        #0 modified 1=1
        "#,
    );
}

#[test]
fn observe_by_an_ai() {
    check(
        &[("h", "x = 1\n"), ("u", "y = 2")],
        vec![observe(ai_origin("1"), "x = 10\ny = 2\nz = 3")],
        r#"
        a1 "x = 10\n"
        u "y = 2\n"
        a1 "z = 3"
        #0 added 1=2
        "#,
    );
}

#[test]
fn observe_by_nobody_known() {
    check(
        &[
            ("a1", "keep\n"),
            ("a1", "change me\n"),
            ("h", "drop\n"),
            ("u", "tail"),
        ],
        vec![observe(Origin::Unknown, "keep\nchange me!\ntail")],
        r#"
        a1 "keep\n"
        u "change me!\n"
        u "tail"
        #0 deleted 1=1
        "#,
    );
}

#[test]
fn observe_replaces_dissimilar_lines() {
    check(
        &[("a1", "alpha\n"), ("u", "z")],
        vec![observe(Origin::Human, "completely different\nz")],
        r#"
        h "completely different\n"
        u "z"
        #0 deleted 1=1
        "#,
    );
}

#[test]
fn observe_ignores_line_ending_changes() {
    check(
        &[("a1", "a\n"), ("h", "b\n"), ("u", "")],
        vec![observe(Origin::Unknown, "a\r\nb\r\n")],
        r#"
        a1 "a\r\n"
        h "b\r\n"
        u ""
        "#,
    );
}

#[test]
fn a_full_sync_change_is_observed() {
    check(
        &[("a1", "one\n"), ("h", "two")],
        vec![full(Origin::Human, "one\ntwo\nthree")],
        r#"
        a1 "one\n"
        h "two\n"
        h "three"
        "#,
    );
}

#[test]
fn runs_cover_the_document() {
    let tracked = fixture(&[("a1", "a\n"), ("a1", "b\n"), ("h", "c\n"), ("a1", "d")]);
    let runs: Vec<(u32, u32, LineClass)> = tracked
        .runs()
        .iter()
        .map(|run| (run.start, run.end, run.provenance.class()))
        .collect();
    assert_eq!(
        runs,
        [
            (0, 2, LineClass::Ai),
            (2, 3, LineClass::Human),
            (3, 4, LineClass::Ai)
        ]
    );
}

#[test]
fn line_lengths_in_each_encoding() {
    let tracked = TrackedText::new_untracked("a😀é\r\nxyz");
    assert_eq!(tracked.line_len(0, PositionEncoding::Utf8), 7);
    assert_eq!(tracked.line_len(0, PositionEncoding::Utf16), 4);
    assert_eq!(tracked.line_len(0, PositionEncoding::Utf32), 3);
    assert_eq!(tracked.line_len(1, PositionEncoding::Utf16), 3);
    assert_eq!(tracked.line_len(2, PositionEncoding::Utf16), 0);
    assert_eq!(tracked.line_len(u32::MAX, PositionEncoding::Utf16), 0);
    assert_eq!(tracked.line_content(0), Some("a😀é"));
}

#[test]
fn restored_provenance_is_padded_or_truncated() {
    let short = TrackedText::with_provenance("a\nb\nc", vec![Provenance::Human]);
    assert_eq!(
        short.provenance(),
        [
            Provenance::Human,
            Provenance::Untracked,
            Provenance::Untracked
        ]
    );
    let long = TrackedText::with_provenance("a", vec![Provenance::Human; 5]);
    assert_eq!(long.provenance(), [Provenance::Human]);
}

#[test]
fn odd_positions_never_panic() {
    let columns = [0, 1, 2, 3, 4, 5, 9, u32::MAX];
    let lines = [0, 1, 2, 3, u32::MAX];
    let texts = ["", "x", "\n", "\r", "\r\n", "😀", "a\rb\nc"];
    for encoding in [
        PositionEncoding::Utf8,
        PositionEncoding::Utf16,
        PositionEncoding::Utf32,
    ] {
        for (start_line, end_line) in lines
            .iter()
            .flat_map(|a| lines.iter().map(move |b| (*a, *b)))
        {
            for (start_char, end_char) in columns
                .iter()
                .flat_map(|a| columns.iter().map(move |b| (*a, *b)))
            {
                for text in texts {
                    let mut tracked = TrackedText::new_untracked("a😀\r\n\rb\n");
                    let change = TextChange {
                        range: Some(range(start_line, start_char, end_line, end_char)),
                        text: text.to_owned(),
                    };
                    tracked.apply_change(&change, encoding, &Origin::Human);
                    assert_consistent(&tracked);
                    let marked = range(start_line, start_char, end_line, end_char);
                    tracked.mark_ai_ranges(&[marked], encoding, &InteractionId::new("1"));
                    assert_consistent(&tracked);
                }
            }
        }
    }
}

#[test]
fn carrying_a_range_past_an_insertion_on_its_line() {
    let insert = ChangeShape::of(
        &TextChange {
            range: at((0, 2, 0, 2)),
            text: "xy".to_owned(),
        },
        PositionEncoding::Utf16,
    );
    let moved = transform_range(range(0, 4, 1, 0), std::slice::from_ref(&insert));
    assert_eq!(moved, Some(range(0, 6, 1, 0)));
    let before = transform_range(range(0, 0, 0, 2), &[insert]);
    assert_eq!(
        before,
        Some(range(0, 0, 0, 2)),
        "a range never takes in text inserted at its end"
    );
}

#[test]
fn carrying_a_range_past_inserted_lines() {
    let insert = ChangeShape::of(
        &TextChange {
            range: at((1, 0, 1, 0)),
            text: "a😀\nb".to_owned(),
        },
        PositionEncoding::Utf16,
    );
    let later = transform_range(range(2, 3, 2, 5), std::slice::from_ref(&insert));
    assert_eq!(later, Some(range(3, 3, 3, 5)));
    let same_line = transform_range(range(1, 0, 1, 4), &[insert]);
    assert_eq!(
        same_line,
        Some(range(2, 1, 2, 5)),
        "the start moves past the inserted text"
    );
}

#[test]
fn carrying_a_range_through_deletions() {
    let delete_lines = ChangeShape::of(
        &TextChange {
            range: at((0, 0, 2, 0)),
            text: String::new(),
        },
        PositionEncoding::Utf16,
    );
    assert_eq!(
        transform_range(range(0, 2, 1, 3), std::slice::from_ref(&delete_lines)),
        None
    );
    assert_eq!(
        transform_range(range(1, 1, 3, 2), &[delete_lines]),
        Some(range(0, 0, 1, 2))
    );
    let delete_in_line = ChangeShape::of(
        &TextChange {
            range: at((0, 5, 0, 2)),
            text: String::new(),
        },
        PositionEncoding::Utf16,
    );
    assert_eq!(
        transform_range(range(0, 0, 0, 4), &[delete_in_line]),
        Some(range(0, 0, 0, 2))
    );
}

#[test]
fn carrying_a_range_through_several_changes_and_a_full_sync() {
    let change = |r, text: &str| {
        ChangeShape::of(
            &TextChange {
                range: at(r),
                text: text.to_owned(),
            },
            PositionEncoding::Utf16,
        )
    };
    let shapes = [change((0, 0, 0, 0), "\n\n"), change((3, 0, 3, 1), "xyz")];
    assert_eq!(
        transform_range(range(1, 0, 1, 3), &shapes),
        Some(range(3, 3, 3, 5))
    );
    assert_eq!(
        transform_range(range(1, 3, 1, 0), &shapes),
        Some(range(3, 3, 3, 5)),
        "a reversed range is put in order"
    );
    let full_sync = ChangeShape::of(
        &TextChange {
            range: None,
            text: "all new".to_owned(),
        },
        PositionEncoding::Utf16,
    );
    assert!(full_sync.is_full_replacement());
    assert_eq!(transform_range(range(0, 0, 0, 1), &[full_sync]), None);
    assert_eq!(
        transform_range(range(0, 1, 0, 1), &[]),
        None,
        "an empty range carries nothing"
    );
}

#[test]
fn nothing_ai_related_allocates_no_report() {
    let mut tracked = TrackedText::new_untracked("abc\ndef");
    let change = TextChange {
        range: at((0, 1, 0, 1)),
        text: "x".to_owned(),
    };
    let report = tracked.apply_change(&change, PositionEncoding::Utf16, &Origin::Human);
    assert_eq!(report.ai_lines_added.capacity(), 0);
    assert_eq!(report.ai_lines_modified.capacity(), 0);
    assert_eq!(report.ai_lines_deleted.capacity(), 0);
    assert_eq!(report.warnings.capacity(), 0);
}

#[test]
fn line_splitting_matches_a_character_by_character_split() {
    // Breaks at every offset around the eight-byte words the scanner reads.
    let pieces = ["a", "é", "😀", "\n", "\r", "\r\n", "bcdefgh", ""];
    for length in 0..40usize {
        for seed in 0..pieces.len() {
            let text: String = (0..length)
                .map(|index| pieces[(index * 7 + seed * 3 + index / 3) % pieces.len()])
                .collect();
            let mut expected = vec![String::new()];
            let mut chars = text.chars().peekable();
            while let Some(ch) = chars.next() {
                let line = expected.last_mut().unwrap();
                line.push(ch);
                if ch == '\r' && chars.peek() == Some(&'\n') {
                    line.push('\n');
                    chars.next();
                }
                if ch == '\r' || ch == '\n' {
                    expected.push(String::new());
                }
            }
            let actual: Vec<&str> = text::lines(&text).collect();
            assert_eq!(actual, expected, "splitting {text:?}");
        }
    }
}
