//! The built-in syntactic index: tree-sitter grammars for Rust, Python, TypeScript/JavaScript and
//! Go. It answers definitions, document and workspace symbols, name-based references and a
//! signature-and-docs hover when no language server is installed; every answer built from it says
//! it is syntactic.
//!
//! Invariants:
//! - Lines and columns are 1-based characters ([`nav`](super::nav)).
//! - Odd input (invalid UTF-8, huge files, syntax errors) gives fewer symbols, never a panic.
//! - [`Index::refresh`] re-reads exactly the files whose size or modification time changed, so an
//!   answer never describes a file as it was before an edit.

use std::path::Path;

use super::nav::{HoverInfo, Location, Position, Symbol};
use super::workspace::Workspace;

/// Symbols of every source file in a workspace.
pub struct Index {
    _private: (),
}

impl Index {
    /// Indexes every source file under the workspace root the way `search` walks it (honouring
    /// `.gitignore`, skipping hidden and binary files).
    pub fn build(_ws: &Workspace) -> Index {
        Index { _private: () }
    }

    /// Re-reads files added, changed or removed since the last build or refresh.
    pub fn refresh(&mut self, _ws: &Workspace) {}

    /// Whether the index reads files like `path` (by extension).
    pub fn supports(_path: &Path) -> bool {
        false
    }

    /// Symbols whose name matches `query` (case-insensitive; exact, then prefix, then substring,
    /// then subsequence), best first, at most `limit`.
    pub fn workspace_symbols(&self, _query: &str, _limit: usize) -> Vec<Symbol> {
        Vec::new()
    }

    /// The symbols of one file (workspace-relative path) in source order.
    pub fn document_symbols(&self, _path: &str) -> Option<Vec<Symbol>> {
        None
    }

    /// Declarations named exactly `name`.
    pub fn definitions(&self, _name: &str) -> Vec<Symbol> {
        Vec::new()
    }

    /// The identifier at a position of a file, if any.
    pub fn identifier_at(&self, _path: &str, _position: Position) -> Option<String> {
        None
    }

    /// Occurrences of the identifier `name` in every indexed file (declarations included), at most
    /// `limit`, ordered by path then position.
    pub fn references(&self, _name: &str, _limit: usize) -> Vec<Location> {
        Vec::new()
    }

    /// The declaration line and the doc comment above the definition of `name`.
    pub fn hover(&self, _name: &str) -> Option<HoverInfo> {
        None
    }

    /// Files and symbols indexed.
    pub fn stats(&self) -> (usize, usize) {
        (0, 0)
    }
}
