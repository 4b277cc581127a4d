//! Conversions between LSP wire types and the core's types, in one place.
//!
//! Positions cross here unchanged in meaning: the core counts columns in the negotiated
//! encoding itself, so nothing here converts UTF-16 to bytes.

use std::path::{Path, PathBuf};

use lsp_types::PositionEncodingKind;

use crate::attribution::{self, PositionEncoding};
use crate::model::ProvenanceRun;

use super::ext::ProvenanceRange;

pub fn position(position: lsp_types::Position) -> attribution::Position {
    attribution::Position {
        line: position.line,
        character: position.character,
    }
}

pub fn range(range: lsp_types::Range) -> attribution::Range {
    attribution::Range {
        start: position(range.start),
        end: position(range.end),
    }
}

/// Picks the position encoding from what the client offers: UTF-8 or UTF-32 when offered
/// (cheaper for a Rust server), else UTF-16, which every client must support.
pub fn negotiate_encoding(offered: Option<&[PositionEncodingKind]>) -> PositionEncoding {
    let offered = offered.unwrap_or_default();
    if offered.contains(&PositionEncodingKind::UTF8) {
        PositionEncoding::Utf8
    } else if offered.contains(&PositionEncodingKind::UTF32) {
        PositionEncoding::Utf32
    } else {
        PositionEncoding::Utf16
    }
}

pub fn encoding_kind(encoding: PositionEncoding) -> PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        PositionEncoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

/// The provenance of a whole document as LSP ranges, in order. A run ends at the start of the
/// line after it, except the last, which ends at the end of the document. Empty ranges are left
/// out unless the document is empty.
pub fn provenance_ranges(
    runs: &[ProvenanceRun],
    last_line_len: u32,
    line_count: u32,
) -> Vec<ProvenanceRange> {
    let ranges: Vec<ProvenanceRange> = runs
        .iter()
        .map(|run| {
            let end = if run.end >= line_count {
                lsp_types::Position::new(line_count.saturating_sub(1), last_line_len)
            } else {
                lsp_types::Position::new(run.end, 0)
            };
            ProvenanceRange {
                range: lsp_types::Range::new(lsp_types::Position::new(run.start, 0), end),
                class: run.provenance.class().as_str(),
                interaction_id: run.provenance.interaction().map(|id| id.to_string()),
            }
        })
        .collect();
    // The empty line after a final newline holds no text; a range for it alone would be empty.
    let only_one = ranges.len() == 1;
    ranges
        .into_iter()
        .filter(|range| only_one || range.range.start != range.range.end)
        .collect()
}

/// The local path a `file:` URI names; `None` for other schemes or undecodable URIs.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///path` has an empty authority; `file://localhost/path` names this machine.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(rest)?;
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path, percent-encoding what a URI path may not hold.
pub fn path_to_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        let plain = byte.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&byte);
        if plain {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a dir/ünï #1.rs");
        let uri = path_to_uri(path);
        assert_eq!(uri, "file:///tmp/a%20dir/%C3%BCn%C3%AF%20%231.rs");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(path));
        assert_eq!(uri_to_path("untitled:Untitled-1"), None);
        assert_eq!(uri_to_path("file:///bad%zz"), None);
    }
}
