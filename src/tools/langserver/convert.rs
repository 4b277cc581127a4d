//! Conversions between LSP JSON and the navigation types, in one place: positions (1-based
//! characters ↔ 0-based code units of the negotiated encoding), `file:` URIs, and the result
//! shapes (`Location`, `LocationLink`, `DocumentSymbol`, `SymbolInformation`, `WorkspaceSymbol`,
//! `Hover`).
//!
//! Invariant: pure functions over values and text; odd input (a position past the end of a line,
//! a result of an unexpected shape, a URI that is not `file:`) gives a clamped position or fewer
//! results, never a panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::tools::nav::{HoverInfo, Location, Position, Symbol, SymbolKind};

/// The unit LSP columns are counted in, as the server chose it in `initialize`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
    Utf32,
}

impl Encoding {
    /// The encoding a server named in `capabilities.positionEncoding`; UTF-16 when it named none.
    pub fn from_name(name: Option<&str>) -> Encoding {
        match name {
            Some("utf-8") => Encoding::Utf8,
            Some("utf-32") => Encoding::Utf32,
            _ => Encoding::Utf16,
        }
    }

    fn width(self, ch: char) -> u32 {
        match self {
            Encoding::Utf8 => ch.len_utf8() as u32,
            Encoding::Utf16 => ch.len_utf16() as u32,
            Encoding::Utf32 => 1,
        }
    }
}

/// The lines of `text` as LSP counts them: separated by `\n`, `\r\n` or `\r`, without their
/// terminators. An empty text has one empty line.
pub fn lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    lines.push(&text[start..]);
    lines
}

/// A tool position (1-based line and column in characters) as an LSP `Position` in `text`. A
/// column past the end of its line is clamped to the end; a line past the end of the text is
/// `None`.
pub fn to_lsp(text: &str, position: Position, encoding: Encoding) -> Option<Value> {
    let lines = lines(text);
    let index = position.line.checked_sub(1)? as usize;
    let line = lines.get(index)?;
    let characters = position.column.saturating_sub(1) as usize;
    let character: u32 = line
        .chars()
        .take(characters)
        .map(|ch| encoding.width(ch))
        .sum();
    Some(json!({ "line": index, "character": character }))
}

/// An LSP position (0-based line, code units of `encoding`) as a 1-based line and column in
/// characters of `lines`. A unit count that ends inside a character counts that character; one
/// past the end of the line is clamped to just after its last character. Without the text (a file
/// that is not read), code units are taken as characters.
pub fn from_lsp(
    lines: Option<&[&str]>,
    line: u64,
    character: u64,
    encoding: Encoding,
) -> (u32, u32) {
    let line_number = u32::try_from(line.saturating_add(1)).unwrap_or(u32::MAX);
    let fallback = u32::try_from(character.saturating_add(1)).unwrap_or(u32::MAX);
    let Some(text) = lines.and_then(|lines| lines.get(line as usize)) else {
        return (line_number, fallback);
    };
    let mut units: u64 = 0;
    let mut characters: u32 = 0;
    for ch in text.chars() {
        if units >= character {
            break;
        }
        units += u64::from(encoding.width(ch));
        characters += 1;
    }
    (line_number, characters + 1)
}

/// The `file:` URI of an absolute path, percent-encoding what a URI path may not hold.
pub fn path_to_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=@".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// The path of a `file:` URI; `None` for other schemes and malformed escapes.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = rest.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(decoded).ok()?;
    Some(PathBuf::from(decoded))
}

/// How results name files and where their text comes from.
pub trait Files {
    /// The path a result shows for `path`: workspace-relative with `/` separators, or the
    /// absolute path for files outside the workspace (library stubs, `node_modules` of another
    /// tree); `None` hides the result.
    fn display(&self, path: &Path) -> Option<String>;
    /// The current text of `path` when it is inside the workspace; `None` for files outside
    /// (they are never read) and files that cannot be read.
    fn text(&self, path: &Path) -> Option<Arc<str>>;
}

/// A `Location` or `LocationLink` (its target selection range) as a tool location.
pub fn location(value: &Value, files: &dyn Files, encoding: Encoding) -> Option<Location> {
    let (uri, range) = match value.get("targetUri") {
        Some(uri) => (
            uri,
            value
                .get("targetSelectionRange")
                .or_else(|| value.get("targetRange"))?,
        ),
        None => (value.get("uri")?, value.get("range")?),
    };
    let path = uri_to_path(uri.as_str()?)?;
    range_location(&path, range, files, encoding)
}

fn range_location(
    path: &Path,
    range: &Value,
    files: &dyn Files,
    encoding: Encoding,
) -> Option<Location> {
    let shown = files.display(path)?;
    let text = files.text(path);
    let lines = text.as_deref().map(lines);
    let point = |key: &str| -> Option<(u32, u32)> {
        let position = range.get(key)?;
        Some(from_lsp(
            lines.as_deref(),
            position.get("line")?.as_u64()?,
            position.get("character")?.as_u64()?,
            encoding,
        ))
    };
    let (line, column) = point("start")?;
    let (end_line, end_column) = point("end").unwrap_or((line, column));
    let text = lines
        .as_deref()
        .and_then(|lines| lines.get(line.saturating_sub(1) as usize))
        .map(|text| line_excerpt(text));
    Some(Location {
        path: shown,
        line,
        column,
        end_line,
        end_column,
        text,
    })
}

/// A line as `Location::text` shows it: trimmed, at most 200 characters.
fn line_excerpt(line: &str) -> String {
    line.trim().chars().take(200).collect()
}

/// A definition or references answer: `null`, one `Location`, or an array of `Location` or
/// `LocationLink`.
pub fn locations(value: &Value, files: &dyn Files, encoding: Encoding) -> Vec<Location> {
    let mut found: Vec<Location> = match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| location(item, files, encoding))
            .collect(),
        Value::Object(_) => location(value, files, encoding).into_iter().collect(),
        _ => Vec::new(),
    };
    found.dedup();
    found
}

/// A `textDocument/documentSymbol` answer (hierarchical `DocumentSymbol`s, flattened with the
/// parent's name as container, or flat `SymbolInformation`s) for the file at `path`.
pub fn document_symbols(
    value: &Value,
    path: &Path,
    files: &dyn Files,
    encoding: Encoding,
) -> Vec<Symbol> {
    let mut symbols = Vec::new();
    for item in value.as_array().map(Vec::as_slice).unwrap_or_default() {
        if item.get("location").is_some() {
            symbols.extend(symbol_information(item, files, encoding));
        } else {
            flatten(item, None, path, files, encoding, &mut symbols);
        }
    }
    symbols
}

fn flatten(
    item: &Value,
    container: Option<&str>,
    path: &Path,
    files: &dyn Files,
    encoding: Encoding,
    out: &mut Vec<Symbol>,
) {
    let Some(name) = item.get("name").and_then(Value::as_str) else {
        return;
    };
    let range = item.get("selectionRange").or_else(|| item.get("range"));
    if let Some(location) = range.and_then(|range| range_location(path, range, files, encoding)) {
        out.push(Symbol {
            name: name.to_owned(),
            kind: kind(item),
            location,
            container: container.map(str::to_owned),
        });
    }
    for child in item
        .get("children")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        flatten(child, Some(name), path, files, encoding, out);
    }
}

fn kind(item: &Value) -> SymbolKind {
    SymbolKind::from_lsp(item.get("kind").and_then(Value::as_u64).unwrap_or(0))
}

/// A `SymbolInformation` or `WorkspaceSymbol` (whose location may be a bare `{ uri }`, read as
/// the start of the file).
pub fn symbol_information(item: &Value, files: &dyn Files, encoding: Encoding) -> Option<Symbol> {
    let name = item.get("name")?.as_str()?;
    let place = item.get("location")?;
    let location = match place.get("range") {
        Some(_) => location(place, files, encoding)?,
        None => {
            let path = uri_to_path(place.get("uri")?.as_str()?)?;
            let start = json!({ "start": { "line": 0, "character": 0 } });
            range_location(&path, &start, files, encoding)?
        }
    };
    let container = item
        .get("containerName")
        .and_then(Value::as_str)
        .filter(|container| !container.is_empty())
        .map(str::to_owned);
    Some(Symbol {
        name: name.to_owned(),
        kind: kind(item),
        location,
        container,
    })
}

/// A `workspace/symbol` answer.
pub fn workspace_symbols(value: &Value, files: &dyn Files, encoding: Encoding) -> Vec<Symbol> {
    value
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| symbol_information(item, files, encoding))
        .collect()
}

/// A `textDocument/hover` answer: `MarkupContent`, a `MarkedString` (a string or `{ language,
/// value }`) or an array of them. Empty contents are no hover.
pub fn hover(
    value: &Value,
    path: &Path,
    files: &dyn Files,
    encoding: Encoding,
) -> Option<HoverInfo> {
    let contents = marked(value.get("contents")?);
    if contents.trim().is_empty() {
        return None;
    }
    let location = value
        .get("range")
        .and_then(|range| range_location(path, range, files, encoding));
    Some(HoverInfo { contents, location })
}

fn marked(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .map(marked)
            .filter(|text| !text.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n\n"),
        Value::Object(object) => {
            let text = object
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match object.get("language").and_then(Value::as_str) {
                Some(language) => format!("```{language}\n{text}\n```"),
                None => text.to_owned(),
            }
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const EMOJI_LINE: &str = "x = \"🦀é\"; name";

    #[test]
    fn lines_split_like_lsp() {
        assert_eq!(lines(""), [""]);
        assert_eq!(lines("a\nb"), ["a", "b"]);
        assert_eq!(lines("a\r\nb\rc\n"), ["a", "b", "c", ""]);
    }

    #[test]
    fn characters_to_utf16_and_back() {
        let text = format!("first\n{EMOJI_LINE}\n");
        // `name` starts at character 10 (1-based 11): the crab is 2 UTF-16 units, 4 UTF-8 bytes.
        let at = Position {
            line: 2,
            column: 11,
        };
        assert_eq!(
            to_lsp(&text, at, Encoding::Utf16),
            Some(json!({ "line": 1, "character": 11 }))
        );
        assert_eq!(
            to_lsp(&text, at, Encoding::Utf8),
            Some(json!({ "line": 1, "character": 14 }))
        );
        assert_eq!(
            to_lsp(&text, at, Encoding::Utf32),
            Some(json!({ "line": 1, "character": 10 }))
        );
        let lines = lines(&text);
        assert_eq!(from_lsp(Some(&lines), 1, 11, Encoding::Utf16), (2, 11));
        assert_eq!(from_lsp(Some(&lines), 1, 14, Encoding::Utf8), (2, 11));
        assert_eq!(from_lsp(Some(&lines), 1, 10, Encoding::Utf32), (2, 11));
        // Without the text, units are taken as characters.
        assert_eq!(from_lsp(None, 1, 11, Encoding::Utf16), (2, 12));
    }

    #[test]
    fn odd_positions_are_clamped_not_panics() {
        let text = "ab\n🦀\n";
        assert_eq!(
            to_lsp(
                text,
                Position {
                    line: 1,
                    column: 99
                },
                Encoding::Utf16
            ),
            Some(json!({ "line": 0, "character": 2 }))
        );
        assert_eq!(
            to_lsp(text, Position { line: 0, column: 1 }, Encoding::Utf16),
            None
        );
        assert_eq!(
            to_lsp(text, Position { line: 9, column: 1 }, Encoding::Utf16),
            None
        );
        let lines = lines(text);
        // Inside the surrogate pair: counted as that character.
        assert_eq!(from_lsp(Some(&lines), 1, 1, Encoding::Utf16), (2, 2));
        assert_eq!(from_lsp(Some(&lines), 1, 99, Encoding::Utf16), (2, 2));
        assert_eq!(from_lsp(Some(&lines), 7, 3, Encoding::Utf16), (8, 4));
        assert_eq!(
            from_lsp(Some(&lines), u64::MAX, u64::MAX, Encoding::Utf16),
            (u32::MAX, u32::MAX)
        );
    }

    #[test]
    fn uris_round_trip() {
        let path = Path::new("/tmp/a dir/é#1.py");
        let uri = path_to_uri(path);
        assert_eq!(uri, "file:///tmp/a%20dir/%C3%A9%231.py");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(path));
        assert_eq!(
            uri_to_path("file:///c%3A/x").as_deref(),
            Some(Path::new("/c:/x"))
        );
        assert_eq!(uri_to_path("untitled:Untitled-1"), None);
        assert_eq!(uri_to_path("file:///bad%zz"), None);
    }

    struct Fixture {
        root: PathBuf,
        texts: HashMap<PathBuf, Arc<str>>,
    }

    impl Files for Fixture {
        fn display(&self, path: &Path) -> Option<String> {
            Some(match path.strip_prefix(&self.root) {
                Ok(rest) => rest.to_string_lossy().into_owned(),
                Err(_) => path.to_string_lossy().into_owned(),
            })
        }
        fn text(&self, path: &Path) -> Option<Arc<str>> {
            self.texts.get(path).cloned()
        }
    }

    fn fixture() -> Fixture {
        let root = PathBuf::from("/ws");
        let mut texts = HashMap::new();
        texts.insert(
            root.join("a.py"),
            Arc::from(format!("class A:\n    {EMOJI_LINE}\n")),
        );
        Fixture { root, texts }
    }

    fn range(line: u64, start: u64, end: u64) -> Value {
        json!({ "start": { "line": line, "character": start }, "end": { "line": line, "character": end } })
    }

    #[test]
    fn locations_and_links() {
        let files = fixture();
        let answer = json!([
            { "uri": "file:///ws/a.py", "range": range(1, 15, 19) },
            { "targetUri": "file:///ws/a.py", "targetRange": range(0, 0, 8), "targetSelectionRange": range(0, 6, 7) },
            { "uri": "file:///lib/typeshed/builtins.pyi", "range": range(3, 4, 8) },
            { "uri": "untitled:x", "range": range(0, 0, 1) },
            "junk",
        ]);
        let found = locations(&answer, &files, Encoding::Utf16);
        let shown: Vec<String> = found
            .iter()
            .map(|l| {
                format!(
                    "{}:{}:{}-{}:{} {:?}",
                    l.path, l.line, l.column, l.end_line, l.end_column, l.text
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "a.py:2:15-2:19 Some(\"x = \\\"🦀é\\\"; name\")",
                "a.py:1:7-1:8 Some(\"class A:\")",
                "/lib/typeshed/builtins.pyi:4:5-4:9 None",
            ]
        );
        let one = json!({ "uri": "file:///ws/a.py", "range": range(0, 6, 7) });
        assert_eq!(locations(&one, &files, Encoding::Utf16).len(), 1);
        assert!(locations(&Value::Null, &files, Encoding::Utf16).is_empty());
    }

    #[test]
    fn hierarchical_symbols_are_flattened_with_containers() {
        let files = fixture();
        let answer = json!([{
            "name": "A", "kind": 5, "range": range(0, 0, 8), "selectionRange": range(0, 6, 7),
            "children": [{ "name": "name", "kind": 13, "range": range(1, 15, 19), "selectionRange": range(1, 15, 19) }]
        }]);
        let symbols = document_symbols(&answer, Path::new("/ws/a.py"), &files, Encoding::Utf16);
        let shown: Vec<String> = symbols
            .iter()
            .map(|s| {
                format!(
                    "{:?} {} in {:?} at {}:{}",
                    s.kind, s.name, s.container, s.location.line, s.location.column
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "Class A in None at 1:7",
                "Variable name in Some(\"A\") at 2:15"
            ]
        );
    }

    #[test]
    fn symbol_information_and_workspace_symbols() {
        let files = fixture();
        let answer = json!([
            { "name": "A", "kind": 5, "location": { "uri": "file:///ws/a.py", "range": range(0, 6, 7) }, "containerName": "" },
            { "name": "name", "kind": 13, "location": { "uri": "file:///ws/a.py" }, "containerName": "A" },
            { "kind": 5 },
        ]);
        let symbols = workspace_symbols(&answer, &files, Encoding::Utf16);
        assert_eq!(symbols.len(), 2);
        assert_eq!(symbols[0].container, None);
        assert_eq!(symbols[1].container.as_deref(), Some("A"));
        assert_eq!(
            (symbols[1].location.line, symbols[1].location.column),
            (1, 1)
        );
        let flat = document_symbols(&answer, Path::new("/ws/a.py"), &files, Encoding::Utf16);
        assert_eq!(flat.len(), 2);
    }

    #[test]
    fn hover_contents_of_every_shape() {
        let files = fixture();
        let path = Path::new("/ws/a.py");
        let markup = json!({ "contents": { "kind": "markdown", "value": "```python\nclass A\n```" }, "range": range(0, 6, 7) });
        let info = hover(&markup, path, &files, Encoding::Utf16).expect("hover");
        assert_eq!(info.contents, "```python\nclass A\n```");
        assert_eq!(info.location.map(|l| (l.line, l.column)), Some((1, 7)));
        let marked_strings =
            json!({ "contents": [{ "language": "ts", "value": "const a: number" }, "docs", ""] });
        assert_eq!(
            hover(&marked_strings, path, &files, Encoding::Utf16).map(|h| h.contents),
            Some("```ts\nconst a: number\n```\n\ndocs".to_owned())
        );
        assert_eq!(
            hover(&json!({ "contents": "" }), path, &files, Encoding::Utf16),
            None
        );
        assert_eq!(hover(&Value::Null, path, &files, Encoding::Utf16), None);
    }
}
