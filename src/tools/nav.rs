//! The answers of the navigation tools, whoever computed them: a real language server
//! ([`langserver`](super::langserver)) or the built-in syntactic index ([`index`](super::index)).
//!
//! Invariant: every line and column here is 1-based, columns counted in characters (Unicode
//! scalar values), whatever the source counted in (tree-sitter bytes, LSP UTF-16 code units).
//! Paths are workspace-relative with `/` separators.

use serde::Serialize;

/// What a symbol is; the names match LSP's `SymbolKind` in snake_case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    Module,
    Namespace,
    Class,
    Struct,
    Enum,
    EnumMember,
    Interface,
    Trait,
    TypeAlias,
    Function,
    Method,
    Constructor,
    Field,
    Property,
    Constant,
    Variable,
    Macro,
    Other,
}

impl SymbolKind {
    /// The kind for an LSP `SymbolKind` number (1 File … 26 TypeParameter).
    pub fn from_lsp(kind: u64) -> SymbolKind {
        match kind {
            2 => SymbolKind::Module,
            3 | 4 => SymbolKind::Namespace,
            5 => SymbolKind::Class,
            6 => SymbolKind::Method,
            7 => SymbolKind::Property,
            8 => SymbolKind::Field,
            9 => SymbolKind::Constructor,
            10 => SymbolKind::Enum,
            11 => SymbolKind::Interface,
            12 => SymbolKind::Function,
            13 => SymbolKind::Variable,
            14 => SymbolKind::Constant,
            22 => SymbolKind::EnumMember,
            23 => SymbolKind::Struct,
            _ => SymbolKind::Other,
        }
    }
}

/// A span in a file: 1-based lines and columns (characters), `end` exclusive.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// The text of the line at `line`, trimmed and cut to 200 characters, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A named declaration.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// Where the name itself is (not the whole declaration).
    pub location: Location,
    /// The enclosing type, module or function, when there is one (`Parser` for `Parser::parse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// What hovering a position shows: a signature or type, and documentation.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoverInfo {
    /// Markdown or plain text, as the source gave it.
    pub contents: String,
    /// The span the hover is about, when the source said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// A position in a file as the tools take it: 1-based line and column (characters).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}
