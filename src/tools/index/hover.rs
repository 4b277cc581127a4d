//! What a hover shows for a declaration: its signature (the declaration up to its body) in a code
//! fence, and the documentation written for it (the comments right above it, or a Python
//! docstring), as Markdown.
//!
//! Invariant: no IO; a position that names no declaration gives `None`, never a panic.

use tree_sitter::{Node, Parser};

use super::parse::{Lang, byte_offset, parse_tree};

/// Lines of a declaration shown when it has no body to stop at.
const MAX_SIGNATURE_LINES: usize = 10;
/// Characters of a signature shown at most.
const MAX_SIGNATURE_CHARS: usize = 1_000;

/// Nodes that wrap one declaration and belong to its signature and to the comments above it:
/// `export`, decorators, `const`, Go's `type` and `const` keywords.
const WRAPPERS: &[&str] = &[
    "export_statement",
    "decorated_definition",
    "expression_statement",
    "lexical_declaration",
    "variable_declaration",
    "ambient_declaration",
    "type_declaration",
    "const_declaration",
    "var_declaration",
];

/// The Markdown hover of the declaration whose name is at `line`:`column` (1-based, characters).
pub(super) fn describe(
    parser: &mut Parser,
    lang: Lang,
    source: &str,
    line: u32,
    column: u32,
) -> Option<String> {
    let offset = byte_offset(source, line, column)?;
    let tree = parse_tree(parser, lang, source)?;
    let grammar = lang.grammar();
    let name = tree
        .root_node()
        .descendant_for_byte_range(offset, offset + 1)?;
    let mut declaration = name.parent()?;
    while !grammar.is_declaration(declaration) {
        declaration = declaration.parent()?;
    }
    // An enum member of TypeScript is the name itself inside the enum's body.
    if declaration.kind() == "enum_body" {
        declaration = name;
    }
    let mut anchor = declaration;
    while let Some(parent) = anchor.parent() {
        let single = parent.named_child_count() == 1
            || matches!(parent.kind(), "export_statement" | "decorated_definition");
        if !WRAPPERS.contains(&parent.kind()) || !single {
            break;
        }
        anchor = parent;
    }

    let signature = signature(source, anchor, declaration);
    let docs = docstring(lang, source, declaration)
        .or_else(|| comments_above(lang, source, declaration))
        .or_else(|| {
            (anchor != declaration)
                .then(|| comments_above(lang, source, anchor))
                .flatten()
        });
    let mut markdown = format!("```{}\n{signature}\n```", lang.fence());
    if let Some(docs) = docs.filter(|docs| !docs.trim().is_empty()) {
        markdown.push_str("\n\n");
        markdown.push_str(docs.trim());
    }
    Some(markdown)
}

/// The declaration from `anchor`'s start up to its body (or its first lines when it has none).
fn signature(source: &str, anchor: Node<'_>, declaration: Node<'_>) -> String {
    let start = anchor.start_byte();
    let (end, cut) = match body(declaration) {
        Some(body) => (body.start_byte(), true),
        None => (anchor.end_byte(), false),
    };
    let text = source.get(start..end.max(start)).unwrap_or("");
    let mut lines: Vec<&str> = text.lines().collect();
    let mut shortened = false;
    if !cut && lines.len() > MAX_SIGNATURE_LINES {
        lines.truncate(MAX_SIGNATURE_LINES);
        shortened = true;
    }
    let mut signature = lines.join("\n").trim_end().to_owned();
    if signature.chars().count() > MAX_SIGNATURE_CHARS {
        signature = signature.chars().take(MAX_SIGNATURE_CHARS).collect();
        shortened = true;
    }
    if shortened {
        signature.push_str(" …");
    }
    signature
}

/// The node where a declaration's body starts, when it has one.
fn body(declaration: Node<'_>) -> Option<Node<'_>> {
    if let Some(body) = declaration.child_by_field_name("body") {
        return Some(body);
    }
    match declaration.kind() {
        // `const area = (shape) => { … }` stops at the function's body.
        "variable_declarator" => declaration
            .child_by_field_name("value")
            .and_then(|value| value.child_by_field_name("body")),
        // Go: `type Shape struct {` and `type Area interface {` stop at the brace.
        "type_spec" => {
            let target = declaration.child_by_field_name("type")?;
            let mut cursor = target.walk();
            target
                .children(&mut cursor)
                .find(|child| matches!(child.kind(), "field_declaration_list" | "{"))
        }
        _ => None,
    }
}

/// A Python docstring: the string that is the first statement of a function's or class's body.
fn docstring(lang: Lang, source: &str, declaration: Node<'_>) -> Option<String> {
    if lang != Lang::Python {
        return None;
    }
    let first = declaration.child_by_field_name("body")?.named_child(0)?;
    if first.kind() != "expression_statement" {
        return None;
    }
    let string = first
        .named_child(0)
        .filter(|node| node.kind() == "string")?;
    let text = source.get(string.start_byte()..string.end_byte())?;
    let text = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let quote = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|quote| text.starts_with(quote))?;
    let inner = text.strip_prefix(quote)?;
    let inner = inner.strip_suffix(quote).unwrap_or(inner);
    Some(dedent(inner))
}

/// Removes the indentation common to every line but the first (as Python's `inspect.cleandoc`).
fn dedent(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim().to_owned();
    let rest: Vec<&str> = lines.collect();
    let indent = rest
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = vec![first];
    out.extend(rest.iter().map(|line| {
        line.get(indent..)
            .unwrap_or(line.trim_start())
            .trim_end()
            .to_owned()
    }));
    out.join("\n").trim().to_owned()
}

/// The comments right above `node`: each on its own lines, with no blank line between them and
/// the node. Rust attributes between the comments and the item are skipped, inner doc comments
/// (`//!`) are not the item's.
fn comments_above(lang: Lang, source: &str, node: Node<'_>) -> Option<String> {
    let grammar = lang.grammar();
    let mut comments = Vec::new();
    let mut below = node;
    let mut sibling = node.prev_sibling();
    while let Some(current) = sibling {
        if current.kind() == "attribute_item" {
            below = current;
            sibling = current.prev_sibling();
            continue;
        }
        if !grammar.is_comment(current) || !adjacent(source, current, below) {
            break;
        }
        let text = source
            .get(current.start_byte()..current.end_byte())
            .unwrap_or("");
        if text.starts_with("//!") || text.starts_with("/*!") || !starts_line(source, current) {
            break;
        }
        comments.push(comment_text(text));
        below = current;
        sibling = current.prev_sibling();
    }
    if comments.is_empty() {
        return None;
    }
    comments.reverse();
    Some(comments.join("\n"))
}

/// Whether `upper` ends on the line right above the line `lower` starts on (or on the same one).
fn adjacent(source: &str, upper: Node<'_>, lower: Node<'_>) -> bool {
    let mut last_row = upper.end_position().row;
    // A line comment may include its newline, ending at column 0 of the next line.
    if upper.end_position().column == 0
        && source
            .get(..upper.end_byte())
            .is_some_and(|text| text.ends_with('\n'))
    {
        last_row = last_row.saturating_sub(1);
    }
    lower.start_position().row <= last_row + 1
}

/// Whether only whitespace precedes `node` on its line.
fn starts_line(source: &str, node: Node<'_>) -> bool {
    let start = node.start_byte();
    let column = node.start_position().column;
    source
        .get(start.saturating_sub(column)..start)
        .is_some_and(|prefix| prefix.trim().is_empty())
}

/// The text of a comment without its markers: `///`, `//`, `#`, `/** … */`, leading `*`.
fn comment_text(text: &str) -> String {
    let text = text.trim_end();
    if let Some(block) = text.strip_prefix("/*") {
        let block = block.strip_suffix("*/").unwrap_or(block);
        let block = block.strip_prefix('*').unwrap_or(block);
        let lines: Vec<String> = block
            .lines()
            .map(|line| {
                let line = line.trim_start();
                let line = line.strip_prefix('*').unwrap_or(line);
                line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned()
            })
            .collect();
        return lines.join("\n").trim().to_owned();
    }
    let line = text
        .strip_prefix("///")
        .or_else(|| text.strip_prefix("//"))
        .or_else(|| text.strip_prefix('#'))
        .unwrap_or(text);
    line.strip_prefix(' ').unwrap_or(line).to_owned()
}
