//! One file through its tree-sitter grammar: the declarations it makes and where each identifier
//! token occurs.
//!
//! One cursor walk over the syntax tree does both. A per-grammar table, built once from the
//! grammar's node kinds, says for every kind id whether it is an identifier token, a declaration
//! (or a node that encloses declarations, such as a Rust `impl`) or a comment, so the walk only
//! compares kind names on the few nodes that declare something.
//!
//! Invariant: no IO, and no panic on any input: syntax errors still give a tree, and every slice
//! of the source is taken with `get`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use tree_sitter::{Language, Node, Parser, Tree};

use crate::tools::nav::SymbolKind;

/// The languages the index reads, one per grammar.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Lang {
    Rust,
    Python,
    TypeScript,
    Tsx,
    JavaScript,
    Go,
}

const LANGS: usize = 6;

impl Lang {
    /// The language of a file, by its extension.
    pub(super) fn of_path(path: &Path) -> Option<Lang> {
        let extension = path.extension()?.to_str()?;
        Some(match extension {
            "rs" => Lang::Rust,
            "py" | "pyi" => Lang::Python,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "go" => Lang::Go,
            _ => return None,
        })
    }

    /// The info string of a Markdown code fence in this language.
    pub(super) fn fence(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::JavaScript => "javascript",
            Lang::Go => "go",
        }
    }

    /// The grammar and its kind table, built on first use.
    pub(super) fn grammar(self) -> &'static Grammar {
        static GRAMMARS: [OnceLock<Grammar>; LANGS] = [const { OnceLock::new() }; LANGS];
        GRAMMARS[self as usize].get_or_init(|| Grammar::new(self))
    }

    /// Whether the grammar family writes JavaScript-like syntax.
    fn is_ecma(self) -> bool {
        matches!(self, Lang::TypeScript | Lang::Tsx | Lang::JavaScript)
    }
}

/// The node kind is an identifier token (a name that references count).
const NAME: u8 = 1;
/// The node kind declares something, or encloses declarations (a Rust `impl`).
const DECL: u8 = 2;
/// The node kind is a comment.
const COMMENT: u8 = 4;

/// A tree-sitter language with what the index needs to know about each of its node kinds.
pub(super) struct Grammar {
    pub(super) language: Language,
    /// Flags by node kind id (aliases included).
    flags: Vec<u8>,
}

impl Grammar {
    fn new(lang: Lang) -> Grammar {
        let language: Language = match lang {
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
        };
        let count = language.node_kind_count().min(usize::from(u16::MAX));
        let flags = (0..count)
            .map(|id| {
                let id = id as u16;
                match language.node_kind_for_id(id) {
                    Some(kind) if language.node_kind_is_named(id) => flags_of(lang, kind),
                    _ => 0,
                }
            })
            .collect();
        Grammar { language, flags }
    }

    fn flags(&self, node: Node<'_>) -> u8 {
        self.flags
            .get(usize::from(node.kind_id()))
            .copied()
            .unwrap_or(0)
    }

    /// Whether `node` is an identifier token with text.
    pub(super) fn is_name(&self, node: Node<'_>) -> bool {
        self.flags(node) & NAME != 0
            && node.child_count() == 0
            && node.end_byte() > node.start_byte()
    }

    pub(super) fn is_comment(&self, node: Node<'_>) -> bool {
        self.flags(node) & COMMENT != 0
    }

    pub(super) fn is_declaration(&self, node: Node<'_>) -> bool {
        self.flags(node) & DECL != 0
    }
}

fn flags_of(lang: Lang, kind: &str) -> u8 {
    let name = matches!(
        kind,
        "identifier"
            | "type_identifier"
            | "field_identifier"
            | "property_identifier"
            | "private_property_identifier"
            | "shorthand_property_identifier"
            | "shorthand_property_identifier_pattern"
            | "shorthand_field_identifier"
            | "package_identifier"
    );
    let comment = matches!(kind, "comment" | "line_comment" | "block_comment");
    let declaration = match lang {
        Lang::Rust => matches!(
            kind,
            "function_item"
                | "function_signature_item"
                | "struct_item"
                | "union_item"
                | "enum_item"
                | "enum_variant"
                | "trait_item"
                | "impl_item"
                | "type_item"
                | "associated_type"
                | "const_item"
                | "static_item"
                | "macro_definition"
                | "mod_item"
                | "field_declaration"
        ),
        Lang::Python => matches!(
            kind,
            "function_definition" | "class_definition" | "assignment" | "type_alias_statement"
        ),
        Lang::TypeScript | Lang::Tsx | Lang::JavaScript => matches!(
            kind,
            "function_declaration"
                | "generator_function_declaration"
                | "function_signature"
                | "class_declaration"
                | "abstract_class_declaration"
                | "class"
                | "method_definition"
                | "method_signature"
                | "abstract_method_signature"
                | "property_signature"
                | "public_field_definition"
                | "field_definition"
                | "interface_declaration"
                | "type_alias_declaration"
                | "enum_declaration"
                | "enum_body"
                | "internal_module"
                | "module"
                | "variable_declarator"
        ),
        Lang::Go => matches!(
            kind,
            "function_declaration"
                | "method_declaration"
                | "type_spec"
                | "type_alias"
                | "field_declaration"
                | "method_elem"
                | "const_spec"
                | "var_spec"
        ),
    };
    let mut flags = 0;
    if name {
        flags |= NAME;
    }
    if declaration {
        flags |= DECL;
    }
    if comment {
        flags |= COMMENT;
    }
    flags
}

/// A span of one line: 1-based line, 1-based character columns, `end_column` exclusive.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) struct Occurrence {
    pub(super) line: u32,
    pub(super) column: u32,
    pub(super) end_column: u32,
}

/// A declaration found in a file.
#[derive(Clone, Debug)]
pub(super) struct Decl {
    pub(super) name: Box<str>,
    /// `name` in lower case, for case-insensitive matching.
    pub(super) lower: Box<str>,
    pub(super) kind: SymbolKind,
    /// Where the name is.
    pub(super) at: Occurrence,
    pub(super) container: Option<Box<str>>,
}

/// What the index keeps of one parsed file.
#[derive(Default, Debug)]
pub(super) struct Parsed {
    /// Declarations in source order.
    pub(super) decls: Vec<Decl>,
    /// Every identifier token by its text, positions in source order.
    pub(super) names: HashMap<Box<str>, Vec<Occurrence>>,
}

/// Parses `source` as `lang` with `parser` (whose language is set here).
pub(super) fn parse_tree(parser: &mut Parser, lang: Lang, source: &str) -> Option<Tree> {
    parser.set_language(&lang.grammar().language).ok()?;
    parser.parse(source, None)
}

/// The declarations and identifier tokens of one file.
pub(super) fn extract(parser: &mut Parser, lang: Lang, source: &str) -> Parsed {
    let Some(tree) = parse_tree(parser, lang, source) else {
        return Parsed::default();
    };
    let mut walk = Walk {
        lang,
        grammar: lang.grammar(),
        source,
        columns: Columns::new(source),
        scopes: Vec::new(),
        parsed: Parsed::default(),
    };
    walk.run(&tree);
    walk.parsed
}

/// Converts tree-sitter byte columns to 1-based character columns.
pub(super) struct Columns<'a> {
    bytes: &'a [u8],
    ascii: bool,
}

impl<'a> Columns<'a> {
    pub(super) fn new(source: &'a str) -> Columns<'a> {
        Columns {
            bytes: source.as_bytes(),
            ascii: source.is_ascii(),
        }
    }

    /// The 1-based character column of byte `offset`, which is `byte_column` bytes into its line.
    pub(super) fn column(&self, offset: usize, byte_column: usize) -> u32 {
        if self.ascii {
            return byte_column as u32 + 1;
        }
        let start = offset.saturating_sub(byte_column);
        let prefix = self.bytes.get(start..offset).unwrap_or_default();
        // Counting the bytes that start a character counts characters, on any byte string.
        prefix.iter().filter(|&&byte| byte & 0xC0 != 0x80).count() as u32 + 1
    }

    fn span(&self, node: Node<'_>) -> Occurrence {
        let start = node.start_position();
        let end = node.end_position();
        let column = self.column(node.start_byte(), start.column);
        let end_column = if end.row == start.row {
            self.column(node.end_byte(), end.column)
        } else {
            column
        };
        Occurrence {
            line: start.row as u32 + 1,
            column,
            end_column,
        }
    }
}

/// What a declaration's descendants are inside of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ScopeKind {
    /// A type-like container: methods and fields declared in it belong to it.
    Type,
    Function,
    Module,
}

struct Scope {
    depth: usize,
    name: Box<str>,
    kind: ScopeKind,
}

struct Walk<'a> {
    lang: Lang,
    grammar: &'static Grammar,
    source: &'a str,
    columns: Columns<'a>,
    scopes: Vec<Scope>,
    parsed: Parsed,
}

impl<'a> Walk<'a> {
    fn run(&mut self, tree: &Tree) {
        let mut cursor = tree.walk();
        // The ancestors of the cursor's node, outermost first.
        let mut ancestors: Vec<Node<'_>> = Vec::new();
        loop {
            let node = cursor.node();
            let depth = ancestors.len();
            while self.scopes.last().is_some_and(|scope| scope.depth >= depth) {
                self.scopes.pop();
            }
            let flags = self.grammar.flags(node);
            if flags & NAME != 0 && self.grammar.is_name(node) {
                self.occurrence(node);
            }
            if flags & DECL != 0 {
                let parent = ancestors.last().copied();
                let grandparent = ancestors.len().checked_sub(2).map(|at| ancestors[at]);
                self.declaration(node, depth, parent, grandparent);
            }
            if cursor.goto_first_child() {
                ancestors.push(node);
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
                ancestors.pop();
            }
        }
    }

    fn text(&self, node: Node<'_>) -> &'a str {
        self.source
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
    }

    fn occurrence(&mut self, node: Node<'_>) {
        let text = self.text(node);
        if text.is_empty() {
            return;
        }
        let at = self.columns.span(node);
        match self.parsed.names.get_mut(text) {
            Some(positions) => positions.push(at),
            None => {
                self.parsed.names.insert(text.into(), vec![at]);
            }
        }
    }

    /// The innermost enclosing scope.
    fn scope(&self) -> Option<&Scope> {
        self.scopes.last()
    }

    fn in_function(&self) -> bool {
        self.scopes
            .iter()
            .any(|scope| scope.kind == ScopeKind::Function)
    }

    /// Records `name` as a declaration of `kind`, contained in the innermost scope.
    fn emit(&mut self, name: Node<'_>, kind: SymbolKind) -> Option<Box<str>> {
        let text = self.text(name);
        if text.is_empty() || name.is_missing() {
            return None;
        }
        let text: Box<str> = text.into();
        self.parsed.decls.push(Decl {
            lower: text.to_lowercase().into(),
            name: text.clone(),
            kind,
            at: self.columns.span(name),
            container: self.scope().map(|scope| scope.name.clone()),
        });
        Some(text)
    }

    /// Records a declaration and opens the scope its body makes.
    fn emit_scope(&mut self, name: Node<'_>, kind: SymbolKind, depth: usize, scope: ScopeKind) {
        if let Some(name) = self.emit(name, kind) {
            self.scopes.push(Scope {
                depth,
                name,
                kind: scope,
            });
        }
    }

    fn declaration(
        &mut self,
        node: Node<'_>,
        depth: usize,
        parent: Option<Node<'_>>,
        grandparent: Option<Node<'_>>,
    ) {
        match self.lang {
            Lang::Rust => self.rust(node, depth),
            Lang::Python => self.python(node, depth, parent),
            Lang::Go => self.go(node, depth),
            _ if self.lang.is_ecma() => self.ecma(node, depth, parent, grandparent),
            _ => {}
        }
    }

    fn rust(&mut self, node: Node<'_>, depth: usize) {
        let Some(name) = node.child_by_field_name("name") else {
            if node.kind() == "impl_item"
                && let Some(target) = node.child_by_field_name("type")
            {
                let name = type_name(target, self.source);
                if !name.is_empty() {
                    self.scopes.push(Scope {
                        depth,
                        name: name.into(),
                        kind: ScopeKind::Type,
                    });
                }
            }
            return;
        };
        let in_type = self
            .scope()
            .is_some_and(|scope| scope.kind == ScopeKind::Type);
        match node.kind() {
            "function_item" | "function_signature_item" => {
                let kind = if in_type {
                    SymbolKind::Method
                } else {
                    SymbolKind::Function
                };
                self.emit_scope(name, kind, depth, ScopeKind::Function);
            }
            "struct_item" | "union_item" => {
                self.emit_scope(name, SymbolKind::Struct, depth, ScopeKind::Type)
            }
            "enum_item" => self.emit_scope(name, SymbolKind::Enum, depth, ScopeKind::Type),
            "trait_item" => self.emit_scope(name, SymbolKind::Trait, depth, ScopeKind::Type),
            "mod_item" => self.emit_scope(name, SymbolKind::Module, depth, ScopeKind::Module),
            "enum_variant" => {
                self.emit(name, SymbolKind::EnumMember);
            }
            "type_item" | "associated_type" => {
                self.emit(name, SymbolKind::TypeAlias);
            }
            "const_item" | "static_item" => {
                self.emit(name, SymbolKind::Constant);
            }
            "macro_definition" => {
                self.emit(name, SymbolKind::Macro);
            }
            "field_declaration" if in_type => {
                self.emit(name, SymbolKind::Field);
            }
            _ => {}
        }
    }

    fn python(&mut self, node: Node<'_>, depth: usize, parent: Option<Node<'_>>) {
        let scope = self.scope().map(|scope| scope.kind);
        match node.kind() {
            "class_definition" => {
                if let Some(name) = node.child_by_field_name("name") {
                    self.emit_scope(name, SymbolKind::Class, depth, ScopeKind::Type);
                }
            }
            "function_definition" => {
                if let Some(name) = node.child_by_field_name("name") {
                    let kind = if scope == Some(ScopeKind::Type) {
                        SymbolKind::Method
                    } else {
                        SymbolKind::Function
                    };
                    self.emit_scope(name, kind, depth, ScopeKind::Function);
                }
            }
            "assignment" => {
                let statement = parent.is_some_and(|parent| {
                    matches!(parent.kind(), "expression_statement" | "assignment")
                });
                let field = match scope {
                    None => false,
                    Some(ScopeKind::Type) => true,
                    Some(_) => return,
                };
                if !statement {
                    return;
                }
                if let Some(left) = node.child_by_field_name("left") {
                    let mut names = Vec::new();
                    assigned_names(left, &mut names);
                    for name in names {
                        let kind = if field {
                            SymbolKind::Field
                        } else if is_upper_case(self.text(name)) {
                            SymbolKind::Constant
                        } else {
                            SymbolKind::Variable
                        };
                        self.emit(name, kind);
                    }
                }
            }
            "type_alias_statement" => {
                if let Some(name) = node
                    .child_by_field_name("left")
                    .and_then(|left| first_descendant(left, "identifier"))
                {
                    self.emit(name, SymbolKind::TypeAlias);
                }
            }
            _ => {}
        }
    }

    fn ecma(
        &mut self,
        node: Node<'_>,
        depth: usize,
        parent: Option<Node<'_>>,
        grandparent: Option<Node<'_>>,
    ) {
        let kind = node.kind();
        let parent_kind = parent.map(|parent| parent.kind()).unwrap_or("");
        if kind == "enum_body" {
            let mut cursor = node.walk();
            for member in node.named_children(&mut cursor) {
                let name = match member.kind() {
                    "enum_assignment" => member.child_by_field_name("name"),
                    _ => Some(member),
                };
                if let Some(name) = name.filter(|name| self.grammar.is_name(*name)) {
                    self.emit(name, SymbolKind::EnumMember);
                }
            }
            return;
        }
        let name = match kind {
            "field_definition" => node.child_by_field_name("property"),
            _ => node.child_by_field_name("name"),
        };
        let Some(name) = name else {
            return;
        };
        let in_type = self
            .scope()
            .is_some_and(|scope| scope.kind == ScopeKind::Type);
        match kind {
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                self.emit_scope(name, SymbolKind::Function, depth, ScopeKind::Function)
            }
            "class_declaration" | "abstract_class_declaration" | "class" => {
                self.emit_scope(name, SymbolKind::Class, depth, ScopeKind::Type)
            }
            "method_definition" if parent_kind == "class_body" => {
                let kind = if self.text(name) == "constructor" {
                    SymbolKind::Constructor
                } else {
                    SymbolKind::Method
                };
                self.emit_scope(name, kind, depth, ScopeKind::Function);
            }
            "method_signature" | "abstract_method_signature" if in_type => {
                self.emit(name, SymbolKind::Method);
            }
            "property_signature" if in_type => {
                self.emit(name, SymbolKind::Property);
            }
            "public_field_definition" | "field_definition" => {
                self.emit(name, SymbolKind::Field);
            }
            "interface_declaration" => {
                self.emit_scope(name, SymbolKind::Interface, depth, ScopeKind::Type)
            }
            // The members of `type Props = { size: number }` belong to `Props`.
            "type_alias_declaration" => {
                self.emit_scope(name, SymbolKind::TypeAlias, depth, ScopeKind::Type)
            }
            "enum_declaration" => self.emit_scope(name, SymbolKind::Enum, depth, ScopeKind::Type),
            "internal_module" | "module" => {
                self.emit_scope(name, SymbolKind::Namespace, depth, ScopeKind::Module)
            }
            "variable_declarator" => {
                let top_level =
                    matches!(parent_kind, "lexical_declaration" | "variable_declaration")
                        && grandparent.is_some_and(|grandparent| {
                            matches!(grandparent.kind(), "program" | "export_statement")
                        });
                if !top_level || name.kind() != "identifier" {
                    return;
                }
                let value = node.child_by_field_name("value").map(|value| value.kind());
                if matches!(
                    value,
                    Some("arrow_function" | "function_expression" | "generator_function")
                ) {
                    self.emit_scope(name, SymbolKind::Function, depth, ScopeKind::Function);
                } else {
                    let constant = parent
                        .and_then(|parent| parent.child(0))
                        .is_some_and(|keyword| keyword.kind() == "const");
                    let kind = if constant {
                        SymbolKind::Constant
                    } else {
                        SymbolKind::Variable
                    };
                    self.emit(name, kind);
                }
            }
            _ => {}
        }
    }

    fn go(&mut self, node: Node<'_>, depth: usize) {
        let in_type = self
            .scope()
            .is_some_and(|scope| scope.kind == ScopeKind::Type);
        match node.kind() {
            "function_declaration" => {
                if let Some(name) = node.child_by_field_name("name") {
                    self.emit_scope(name, SymbolKind::Function, depth, ScopeKind::Function);
                }
            }
            "method_declaration" => {
                let Some(name) = node.child_by_field_name("name") else {
                    return;
                };
                let receiver = node
                    .child_by_field_name("receiver")
                    .and_then(|list| list.named_child(0))
                    .and_then(|parameter| parameter.child_by_field_name("type"))
                    .map(|target| type_name(target, self.source))
                    .filter(|name| !name.is_empty());
                // The receiver's type contains the method, as `impl` does in Rust.
                if let Some(receiver) = receiver {
                    self.scopes.push(Scope {
                        depth,
                        name: receiver.into(),
                        kind: ScopeKind::Type,
                    });
                }
                self.emit_scope(name, SymbolKind::Method, depth, ScopeKind::Function);
            }
            "type_spec" | "type_alias" => {
                let Some(name) = node.child_by_field_name("name") else {
                    return;
                };
                let kind = match node.child_by_field_name("type").map(|target| target.kind()) {
                    Some("struct_type") if node.kind() == "type_spec" => SymbolKind::Struct,
                    Some("interface_type") if node.kind() == "type_spec" => SymbolKind::Interface,
                    _ => SymbolKind::TypeAlias,
                };
                self.emit_scope(name, kind, depth, ScopeKind::Type);
            }
            "field_declaration" | "method_elem" if in_type => {
                let kind = if node.kind() == "method_elem" {
                    SymbolKind::Method
                } else {
                    SymbolKind::Field
                };
                let mut cursor = node.walk();
                let names: Vec<Node<'_>> =
                    node.children_by_field_name("name", &mut cursor).collect();
                for name in names {
                    self.emit(name, kind);
                }
            }
            "const_spec" | "var_spec" if !self.in_function() => {
                let kind = if node.kind() == "const_spec" {
                    SymbolKind::Constant
                } else {
                    SymbolKind::Variable
                };
                let mut cursor = node.walk();
                let names: Vec<Node<'_>> =
                    node.children_by_field_name("name", &mut cursor).collect();
                for name in names.into_iter().filter(|name| name.kind() == "identifier") {
                    self.emit(name, kind);
                }
            }
            _ => {}
        }
    }
}

/// The name of the type a Rust `impl` or a Go receiver is about: `Wrapper` for `Wrapper<T>`,
/// `&mut Wrapper`, `*Wrapper` or `crate::Wrapper`.
fn type_name(node: Node<'_>, source: &str) -> String {
    let mut node = node;
    for _ in 0..16 {
        match node.kind() {
            "type_identifier" | "identifier" => {
                return source
                    .get(node.start_byte()..node.end_byte())
                    .unwrap_or("")
                    .to_owned();
            }
            _ => {
                let next = node
                    .child_by_field_name("type")
                    .or_else(|| node.child_by_field_name("name"))
                    .or_else(|| node.named_child(0));
                match next {
                    Some(next) => node = next,
                    None => break,
                }
            }
        }
    }
    String::new()
}

/// The identifiers a Python assignment's left side binds (`a`, `a, b`, `(a, b)`), not attributes
/// or subscripts.
fn assigned_names<'t>(left: Node<'t>, names: &mut Vec<Node<'t>>) {
    match left.kind() {
        "identifier" => names.push(left),
        "pattern_list" | "tuple_pattern" | "list_pattern" => {
            let mut cursor = left.walk();
            for child in left.named_children(&mut cursor) {
                assigned_names(child, names);
            }
        }
        _ => {}
    }
}

fn first_descendant<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    if node.kind() == kind {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
    children
        .into_iter()
        .find_map(|child| first_descendant(child, kind))
}

/// `MAX_SIZE`, `PI`: the Python convention for constants.
fn is_upper_case(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The byte offset of a 1-based (line, character column) position in `source`, when the line has
/// that column (the column just past the line's end included).
pub(super) fn byte_offset(source: &str, line: u32, column: u32) -> Option<usize> {
    let line_index = usize::try_from(line.checked_sub(1)?).ok()?;
    let column_index = usize::try_from(column.checked_sub(1)?).ok()?;
    let mut start = 0;
    for _ in 0..line_index {
        start += source.get(start..)?.find('\n')? + 1;
    }
    let rest = source.get(start..)?;
    let text = rest.split('\n').next().unwrap_or("");
    let text = text.strip_suffix('\r').unwrap_or(text);
    if column_index == text.chars().count() {
        return Some(start + text.len());
    }
    text.char_indices()
        .nth(column_index)
        .map(|(offset, _)| start + offset)
}

/// The identifier token at a position of `source`, or the one just before it (a cursor right after
/// a name points at that name).
pub(super) fn identifier_at(
    parser: &mut Parser,
    lang: Lang,
    source: &str,
    line: u32,
    column: u32,
) -> Option<String> {
    let offset = byte_offset(source, line, column)?;
    let tree = parse_tree(parser, lang, source)?;
    let grammar = lang.grammar();
    let root = tree.root_node();
    let previous = source
        .get(..offset)?
        .chars()
        .next_back()
        .map(char::len_utf8);
    let candidates = [Some(offset), previous.map(|length| offset - length)];
    candidates.into_iter().flatten().find_map(|at| {
        let node = root.descendant_for_byte_range(at, at + 1)?;
        if grammar.is_name(node) && node.start_byte() <= at && at < node.end_byte() {
            source
                .get(node.start_byte()..node.end_byte())
                .map(str::to_owned)
        } else {
            None
        }
    })
}

/// The word (letters, digits, `_`, `$`) at a position of a file no grammar reads.
pub(super) fn word_at(source: &str, line: u32, column: u32) -> Option<String> {
    let offset = byte_offset(source, line, column)?;
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let before = source.get(..offset)?;
    let after = source.get(offset..)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(at, _)| at);
    let end = offset
        + after
            .char_indices()
            .find(|(_, c)| !is_word(*c))
            .map_or(after.len(), |(at, _)| at);
    let word = source.get(start..end)?;
    (!word.is_empty()).then(|| word.to_owned())
}
