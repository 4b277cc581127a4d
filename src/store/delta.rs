//! The delta encoding of stored blobs: a text as copies of byte ranges of another text (its
//! base) and inserted bytes.
//!
//! Agents rewrite whole files a line at a time, and prodcode keeps the file's text before and
//! after every edit (issue 16: 50 edits of a 10,000-line file grew the store by 43.8 MB as full
//! copies). Two consecutive snapshots of a file share almost every line, so a snapshot is kept
//! as the few lines that changed plus references to the rest of the previous one.
//!
//! The encoder aligns the two texts line by line (imara-diff's histogram diff over lines with
//! their terminators, the cheapest alignment that finds the shared lines of source code) and
//! writes each unchanged run as one copy and each changed run as one insert. The decoder is the
//! only part that sees stored (possibly tampered) bytes: it checks every length and range and
//! returns an error, never panics.
//!
//! Format (`docs/schema.md`, `blobs`): the byte `0x01` (the format), then operations until the
//! end, each a tag byte and unsigned LEB128 numbers:
//! - `0x00 offset length`: copy `length` bytes of the base from `offset`;
//! - `0x01 length bytes…`: insert the next `length` bytes of the delta.
//!
//! Invariant: no IO; [`encode`] and [`apply`] never panic on any input.

use imara_diff::{Algorithm, Diff, InternedInput, Interner};

/// The first byte of every delta: the format version.
const FORMAT: u8 = 0x01;
const COPY: u8 = 0x00;
const INSERT: u8 = 0x01;

/// Texts with more lines than this are not aligned (imara-diff's limit is `i32::MAX`); their
/// delta is one insert of the whole text, which the caller then stores whole.
const MAX_LINES: usize = 1 << 24;

/// The delta that rebuilds `text` from `base`.
pub(super) fn encode(base: &[u8], text: &[u8]) -> Vec<u8> {
    let mut out = Encoder {
        bytes: Vec::with_capacity(64),
        pending_copy: None,
    };
    out.bytes.push(FORMAT);
    let base_lines = line_starts(base);
    let text_lines = line_starts(text);
    if base_lines.len() > MAX_LINES || text_lines.len() > MAX_LINES {
        out.insert(text);
        return out.finish();
    }
    let line = |text: &'_ [u8], starts: &[usize], n: usize| -> std::ops::Range<usize> {
        starts[n]..starts.get(n + 1).copied().unwrap_or(text.len())
    };
    let mut input = InternedInput {
        before: Vec::with_capacity(base_lines.len()),
        after: Vec::with_capacity(text_lines.len()),
        interner: Interner::new(base_lines.len() + text_lines.len()),
    };
    input.update_before((0..base_lines.len()).map(|n| &base[line(base, &base_lines, n)]));
    input.update_after((0..text_lines.len()).map(|n| &text[line(text, &text_lines, n)]));
    let mut diff = Diff::default();
    diff.compute_with(
        Algorithm::Histogram,
        &input.before,
        &input.after,
        input.interner.num_tokens(),
    );
    // Byte offset of line `n` (the end of the text for `n` = the line count).
    let offset = |starts: &[usize], len: usize, n: u32| -> usize {
        starts.get(n as usize).copied().unwrap_or(len)
    };
    let mut base_line = 0u32;
    for hunk in diff.hunks() {
        out.copy(
            offset(&base_lines, base.len(), base_line),
            offset(&base_lines, base.len(), hunk.before.start),
        );
        out.insert(
            &text[offset(&text_lines, text.len(), hunk.after.start)
                ..offset(&text_lines, text.len(), hunk.after.end)],
        );
        base_line = hunk.before.end;
    }
    out.copy(offset(&base_lines, base.len(), base_line), base.len());
    out.finish()
}

/// Rebuilds a text of `size` bytes from `base` and `delta`; an error says what is wrong with a
/// delta that does not fit its base (a tampered or truncated row).
pub(super) fn apply(base: &[u8], delta: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let mut reader = Reader { delta, at: 0 };
    match reader.byte() {
        Some(FORMAT) => {}
        Some(other) => return Err(format!("unknown delta format {other}")),
        None => return Err("empty delta".to_owned()),
    }
    // `size` comes from the row too: never reserve more than a delta could produce.
    let mut text = Vec::with_capacity(size.min(base.len().saturating_add(delta.len())));
    while let Some(tag) = reader.byte() {
        match tag {
            COPY => {
                let offset = reader.number()?;
                let length = reader.number()?;
                let range = offset
                    .checked_add(length)
                    .filter(|end| *end <= base.len())
                    .map(|end| offset..end)
                    .ok_or_else(|| {
                        format!(
                            "copies bytes {offset}+{length} of a base of {} bytes",
                            base.len()
                        )
                    })?;
                text.extend_from_slice(&base[range]);
            }
            INSERT => {
                let length = reader.number()?;
                text.extend_from_slice(reader.take(length)?);
            }
            other => return Err(format!("unknown delta operation {other}")),
        }
        if text.len() > size {
            return Err(format!("rebuilds more than the {size} bytes recorded"));
        }
    }
    if text.len() != size {
        return Err(format!(
            "rebuilds {} bytes, not the {size} recorded",
            text.len()
        ));
    }
    Ok(text)
}

/// The byte offset where each line starts (a line ends after `\n`, or at the end of the text).
fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(text.len() / 32 + 1);
    if !text.is_empty() {
        starts.push(0);
    }
    starts.extend(
        memchr::memchr_iter(b'\n', text)
            .map(|at| at + 1)
            .filter(|start| *start < text.len()),
    );
    starts
}

struct Encoder {
    bytes: Vec<u8>,
    /// A copy not yet written, so that adjacent copies become one.
    pending_copy: Option<(usize, usize)>,
}

impl Encoder {
    fn copy(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        match &mut self.pending_copy {
            Some((_, pending_end)) if *pending_end == start => *pending_end = end,
            _ => {
                self.flush();
                self.pending_copy = Some((start, end));
            }
        }
    }

    fn insert(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.flush();
        self.bytes.push(INSERT);
        push_number(&mut self.bytes, bytes.len());
        self.bytes.extend_from_slice(bytes);
    }

    fn flush(&mut self) {
        if let Some((start, end)) = self.pending_copy.take() {
            self.bytes.push(COPY);
            push_number(&mut self.bytes, start);
            push_number(&mut self.bytes, end - start);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.bytes
    }
}

/// Unsigned LEB128: seven bits per byte, low bits first, the high bit set on all but the last.
fn push_number(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

struct Reader<'d> {
    delta: &'d [u8],
    at: usize,
}

impl<'d> Reader<'d> {
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.delta.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn number(&mut self) -> Result<usize, String> {
        let overflow = || "a number in a delta overflows".to_owned();
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let byte = self.byte().ok_or("a delta ends inside a number")?;
            let bits = u64::from(byte & 0x7f);
            if shift >= 64 || (shift > 57 && bits >> (64 - shift) != 0) {
                return Err(overflow());
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return usize::try_from(value).map_err(|_| overflow());
            }
            shift += 7;
        }
    }

    fn take(&mut self, length: usize) -> Result<&'d [u8], String> {
        let end = self
            .at
            .checked_add(length)
            .filter(|end| *end <= self.delta.len())
            .ok_or_else(|| format!("inserts {length} bytes past the end of the delta"))?;
        let bytes = &self.delta[self.at..end];
        self.at = end;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(base: &[u8], text: &[u8]) -> Vec<u8> {
        let delta = encode(base, text);
        assert_eq!(apply(base, &delta, text.len()).as_deref(), Ok(text));
        delta
    }

    fn file(lines: usize, changed: &[usize]) -> String {
        (0..lines)
            .map(|n| {
                let version = usize::from(changed.contains(&n));
                format!("    let value_{n:04} = compute(\"row {n}\", {version}) + offset;\n")
            })
            .collect()
    }

    #[test]
    fn one_changed_line_of_a_large_file_is_a_small_delta() {
        let base = file(5_000, &[]);
        let text = file(5_000, &[2_500]);
        let delta = round_trip(base.as_bytes(), text.as_bytes());
        assert!(delta.len() < 120, "{} bytes", delta.len());
    }

    #[test]
    fn edges_round_trip() {
        round_trip(b"", b"");
        round_trip(b"", b"new\n");
        round_trip(b"old\n", b"");
        round_trip(b"a\nb", b"a\nb\n");
        round_trip(b"a\r\nb\r\n", b"a\nb\n");
        round_trip(b"same\n", b"same\n");
        round_trip(&[0xff, 0, b'\n', 0xfe], &[0xfe, b'\n', 0xff, 0]);
    }

    #[test]
    fn a_delta_that_does_not_fit_its_base_is_an_error() {
        let delta = encode(b"one\ntwo\nthree\n", b"one\n2\nthree\n");
        assert!(apply(b"one\n", &delta, 12).is_err());
        assert!(apply(b"one\ntwo\nthree\n", &delta, 11).is_err());
        assert!(apply(b"one\ntwo\nthree\n", &delta[..delta.len() - 1], 12).is_err());
        assert!(apply(b"x", &[], 0).is_err());
        assert!(apply(b"x", &[FORMAT, 7], 0).is_err());
        assert!(apply(b"x", &[FORMAT, COPY, 0xff, 0xff, 0xff], 1).is_err());
        assert!(apply(b"x", &[FORMAT, INSERT, 5, b'a'], 5).is_err());
        let overflow = [
            FORMAT, COPY, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert!(apply(b"x", &overflow, 1).is_err());
        assert!(apply(b"x", &[FORMAT, COPY, 0, 1], usize::MAX).is_err());
    }

    proptest! {
        #[test]
        fn any_text_round_trips(
            base in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(b'b'), any::<u8>()], 0..200),
            text in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(b'b'), any::<u8>()], 0..200),
        ) {
            let delta = encode(&base, &text);
            prop_assert_eq!(apply(&base, &delta, text.len()), Ok(text));
        }

        #[test]
        fn any_bytes_as_a_delta_never_panic(
            base in proptest::collection::vec(any::<u8>(), 0..50),
            delta in proptest::collection::vec(any::<u8>(), 0..50),
            size in 0usize..100,
        ) {
            let _ = apply(&base, &delta, size);
        }
    }
}
