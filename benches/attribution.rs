//! Benchmarks of the provenance engine on a realistic document: 10,000 lines of about 40
//! characters of code, with 500 AI ranges marked across it.
//!
//! Run with `cargo bench --bench attribution` (add `-- --quick` for a short run). The target is a
//! one-character change in under 20 µs (median); the `baseline` group measures what a naive
//! whole-text store would pay for the same keystroke.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use prodcode::attribution::{Position, PositionEncoding, Range, TextChange, TrackedText};
use prodcode::model::{InteractionId, Origin};

const LINES: u32 = 10_000;
const AI_RANGES: u32 = 500;
const MIDDLE: u32 = LINES / 2 + 1;

fn position(line: u32, character: u32) -> Position {
    Position { line, character }
}

fn range(start: Position, end: Position) -> Range {
    Range { start, end }
}

fn change(start: Position, end: Position, text: &str) -> TextChange {
    TextChange {
        range: Some(range(start, end)),
        text: text.to_owned(),
    }
}

/// About 400 KB of plausible code, one statement per line, with a few non-ASCII characters.
fn document() -> String {
    let mut text = String::new();
    for line in 0..LINES {
        let statement = match line % 4 {
            0 => format!("    let value_{line} = compute(input, {line});\n"),
            1 => format!("    total += value_{} * weight; // ×2\n", line - 1),
            2 => format!("    if total > {line} {{ log(\"über {line}\"); }}\n"),
            _ => format!("    results.push((value_{}, total));\n", line - 3),
        };
        text.push_str(&statement);
    }
    text
}

/// The document with 500 three-line AI ranges spread evenly over it.
fn tracked() -> TrackedText {
    let mut tracked = TrackedText::new_untracked(&document());
    let spacing = LINES / AI_RANGES;
    for index in 0..AI_RANGES {
        let line = index * spacing + 3;
        let ai = range(position(line, 0), position(line + 3, 0));
        let interaction = InteractionId::new(&format!("interaction-{}", index % 50));
        tracked.mark_ai_ranges(&[ai], PositionEncoding::Utf16, &interaction);
    }
    tracked
}

fn incremental(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply_change");

    // A keystroke in the middle of a line, alternately typed and deleted so the document keeps
    // its size: each iteration is one change.
    let mut doc = tracked();
    let at = position(MIDDLE, 12);
    let insert = change(at, at, "x");
    let delete = change(at, position(MIDDLE, 13), "");
    let mut typed = false;
    group.bench_function("one_char_utf16", |b| {
        b.iter(|| {
            typed = !typed;
            let change = if typed { &insert } else { &delete };
            black_box(doc.apply_change(black_box(change), PositionEncoding::Utf16, &Origin::Human))
        })
    });

    // Enter in the middle of a line, then backspace at the start of the new line.
    let mut doc = tracked();
    let at = position(MIDDLE, 20);
    let split = change(at, at, "\n");
    let join = change(at, position(MIDDLE + 1, 0), "");
    let mut split_done = false;
    group.bench_function("newline_utf16", |b| {
        b.iter(|| {
            split_done = !split_done;
            let change = if split_done { &split } else { &join };
            black_box(doc.apply_change(black_box(change), PositionEncoding::Utf16, &Origin::Human))
        })
    });
    group.finish();

    // An accepted five-line AI edit, alternately attributed to two interactions so every call
    // changes the provenance of all five lines.
    let mut doc = tracked();
    let ranges = [range(position(MIDDLE, 4), position(MIDDLE + 4, 10))];
    let interactions = [InteractionId::new("first"), InteractionId::new("second")];
    let mut which = 0;
    c.bench_function("mark_ai_ranges/five_lines", |b| {
        b.iter(|| {
            which = 1 - which;
            black_box(doc.mark_ai_ranges(
                black_box(&ranges),
                PositionEncoding::Utf16,
                &interactions[which],
            ))
        })
    });

    // A checkpoint bracket that changed one line: a whole-document diff, alternating between
    // the two versions so each call sees a one-line change.
    let mut doc = tracked();
    let original = doc.text();
    let changed = original.replacen(
        &format!("let value_{} =", MIDDLE - 1),
        &format!("let value_{}_renamed =", MIDDLE - 1),
        1,
    );
    assert_ne!(original, changed);
    let origin = Origin::Ai(InteractionId::new("checkpoint"));
    let mut changed_now = false;
    c.bench_function("observe/one_line_changed", |b| {
        b.iter(|| {
            changed_now = !changed_now;
            let text = if changed_now { &changed } else { &original };
            black_box(doc.observe(black_box(text), &origin))
        })
    });
}

fn baseline(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");

    // What a store holding the whole text as one String pays for the same keystroke.
    let mut text = document();
    let middle = text.len() / 2;
    let middle = (0..=middle)
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0);
    let mut typed = false;
    group.bench_function("string_insert_one_char_400kb", |b| {
        b.iter(|| {
            typed = !typed;
            if typed {
                text.insert(black_box(middle), 'x');
            } else {
                text.remove(black_box(middle));
            }
        })
    });

    // Rebuilding the whole text, which only `observe` callers and snapshots need.
    let doc = tracked();
    group.bench_function("tracked_text_to_string", |b| {
        b.iter(|| black_box(doc.text()))
    });
    group.finish();
}

criterion_group!(benches, incremental, baseline);
criterion_main!(benches);
