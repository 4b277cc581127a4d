//! The built-in syntactic index: tree-sitter grammars for Rust, Python, TypeScript/JavaScript and
//! Go. It answers definitions, document and workspace symbols, name-based references and a
//! signature-and-docs hover when no language server is installed; every answer built from it says
//! it is syntactic.
//!
//! The index keeps, per file, its declarations and an inverted map from each identifier token's
//! text to where it occurs, built in one walk of the syntax tree ([`parse`]). It keeps no syntax
//! trees and no file contents: a hover parses the one file it describes ([`hover`]), a reference
//! reads the line it quotes. Files are parsed on all cores; a [`Index::refresh`] stats every file
//! and parses only the ones whose size or modification time changed.
//!
//! Invariants:
//! - Lines and columns are 1-based characters ([`nav`](super::nav)).
//! - Odd input (invalid UTF-8, huge files, syntax errors) gives fewer symbols, never a panic.
//! - [`Index::refresh`] re-reads exactly the files whose size or modification time changed, so an
//!   answer never describes a file as it was before an edit.

mod hover;
mod parse;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use tree_sitter::Parser;

use self::parse::{Decl, Lang, Occurrence, Parsed};
use super::nav::{HoverInfo, Location, Position, Symbol, SymbolKind};
use super::workspace::Workspace;

/// Files larger than this are not indexed (generated code, bundles).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Characters of a line kept in [`Location::text`].
const MAX_LINE_CHARS: usize = 200;

/// Files parsed per thread before it is worth starting another.
const FILES_PER_THREAD: usize = 8;

/// Symbols of every source file in a workspace.
pub struct Index {
    ws: Workspace,
    /// By workspace-relative path, so iteration is in path order.
    files: BTreeMap<String, FileEntry>,
}

/// What the index knows of one file.
struct FileEntry {
    stamp: Stamp,
    lang: Lang,
    parsed: Parsed,
}

/// What tells a changed file from an unchanged one without reading it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    size: u64,
    modified: Option<SystemTime>,
}

/// A source file the walk found.
struct Found {
    relative: String,
    path: PathBuf,
    stamp: Stamp,
    lang: Lang,
}

impl Index {
    /// Indexes every source file under the workspace root the way `search` walks it (honouring
    /// `.gitignore`, skipping hidden and binary files).
    pub fn build(ws: &Workspace) -> Index {
        let mut index = Index {
            ws: ws.clone(),
            files: BTreeMap::new(),
        };
        index.refresh(ws);
        index
    }

    /// Re-reads files added, changed or removed since the last build or refresh.
    pub fn refresh(&mut self, ws: &Workspace) {
        self.ws = ws.clone();
        let found = walk(ws);
        let present: HashSet<&str> = found.iter().map(|file| file.relative.as_str()).collect();
        self.files
            .retain(|relative, _| present.contains(relative.as_str()));
        let stale: Vec<Found> = found
            .into_iter()
            .filter(|file| {
                self.files
                    .get(&file.relative)
                    .is_none_or(|entry| entry.stamp != file.stamp)
            })
            .collect();
        for (file, parsed) in parse_all(ws, stale) {
            self.files.insert(
                file.relative,
                FileEntry {
                    stamp: file.stamp,
                    lang: file.lang,
                    parsed,
                },
            );
        }
    }

    /// Whether the index reads files like `path` (by extension).
    pub fn supports(path: &Path) -> bool {
        Lang::of_path(path).is_some()
    }

    /// Symbols whose name matches `query` (case-insensitive; exact, then prefix, then substring,
    /// then subsequence), best first, at most `limit`.
    pub fn workspace_symbols(&self, query: &str, limit: usize) -> Vec<Symbol> {
        if limit == 0 {
            return Vec::new();
        }
        let query = query.trim().to_lowercase();
        // (rank, name length, file ordinal, declaration ordinal): file ordinals follow path order.
        let mut found: Vec<(u8, usize, usize, usize)> = Vec::new();
        let files: Vec<(&String, &FileEntry)> = self.files.iter().collect();
        for (file_at, (_, entry)) in files.iter().enumerate() {
            for (decl_at, decl) in entry.parsed.decls.iter().enumerate() {
                if let Some(rank) = rank(&decl.lower, &query) {
                    found.push((rank, decl.lower.len(), file_at, decl_at));
                }
            }
        }
        if found.len() > limit {
            found.select_nth_unstable(limit - 1);
            found.truncate(limit);
        }
        found.sort_unstable();
        found
            .into_iter()
            .map(|(_, _, file_at, decl_at)| {
                let (path, entry) = files[file_at];
                symbol(path, &entry.parsed.decls[decl_at], None)
            })
            .collect()
    }

    /// The symbols of one file (workspace-relative path) in source order.
    pub fn document_symbols(&self, path: &str) -> Option<Vec<Symbol>> {
        let entry = self.files.get(path)?;
        Some(
            entry
                .parsed
                .decls
                .iter()
                .map(|decl| symbol(path, decl, None))
                .collect(),
        )
    }

    /// Declarations named exactly `name`, ordered by path then position.
    pub fn definitions(&self, name: &str) -> Vec<Symbol> {
        let mut symbols = Vec::new();
        for (path, entry) in &self.files {
            let decls: Vec<&Decl> = entry
                .parsed
                .decls
                .iter()
                .filter(|decl| &*decl.name == name)
                .collect();
            if decls.is_empty() {
                continue;
            }
            let lines = self.lines_of(path, decls.iter().map(|decl| decl.at.line));
            symbols.extend(
                decls
                    .into_iter()
                    .map(|decl| symbol(path, decl, lines.get(&decl.at.line).cloned())),
            );
        }
        symbols
    }

    /// The identifier at a position of a file, if any. The file is read as it is now, whatever
    /// the index holds; in a file no grammar reads, the word at the position.
    pub fn identifier_at(&self, path: &str, position: Position) -> Option<String> {
        let absolute = self.absolute(path)?;
        let source = read_source(&self.ws, &absolute)?;
        match Lang::of_path(&absolute) {
            Some(lang) => {
                let mut parser = Parser::new();
                parse::identifier_at(&mut parser, lang, &source, position.line, position.column)
            }
            None => parse::word_at(&source, position.line, position.column),
        }
    }

    /// Occurrences of the identifier `name` in every indexed file (declarations included), at most
    /// `limit`, ordered by path then position.
    pub fn references(&self, name: &str, limit: usize) -> Vec<Location> {
        let mut locations = Vec::new();
        for (path, entry) in &self.files {
            if locations.len() >= limit {
                break;
            }
            let Some(occurrences) = entry.parsed.names.get(name) else {
                continue;
            };
            let taken = &occurrences[..occurrences.len().min(limit - locations.len())];
            let lines = self.lines_of(path, taken.iter().map(|at| at.line));
            locations.extend(
                taken
                    .iter()
                    .map(|at| location(path, *at, lines.get(&at.line).cloned())),
            );
        }
        locations
    }

    /// The declaration line and the doc comment above the definition of `name`.
    pub fn hover(&self, name: &str) -> Option<HoverInfo> {
        self.hover_from(name, None)
    }

    /// [`Index::hover`] for a name seen in the file `from` (workspace-relative): a definition in
    /// that file is preferred, then one in a file of the same language, then types and functions
    /// over constants, variables and fields, then the first by path.
    pub fn hover_from(&self, name: &str, from: Option<&str>) -> Option<HoverInfo> {
        let from_lang = from.and_then(|from| Lang::of_path(Path::new(from)));
        let (path, entry, decl) = self
            .files
            .iter()
            .flat_map(|(path, entry)| {
                entry
                    .parsed
                    .decls
                    .iter()
                    .filter(|decl| &*decl.name == name)
                    .map(move |decl| (path, entry, decl))
            })
            .min_by_key(|(path, entry, decl)| {
                (
                    from != Some(path.as_str()),
                    from_lang.is_some_and(|lang| lang != entry.lang),
                    hover_preference(decl.kind),
                )
            })?;
        let source = read_source(&self.ws, &self.ws.root().join(path))?;
        let mut parser = Parser::new();
        let contents = hover::describe(
            &mut parser,
            entry.lang,
            &source,
            decl.at.line,
            decl.at.column,
        )?;
        let line = source
            .lines()
            .nth(decl.at.line.saturating_sub(1) as usize)
            .map(line_text);
        Some(HoverInfo {
            contents,
            location: Some(location(path, decl.at, line)),
        })
    }

    /// Files and symbols indexed.
    pub fn stats(&self) -> (usize, usize) {
        let symbols = self
            .files
            .values()
            .map(|entry| entry.parsed.decls.len())
            .sum();
        (self.files.len(), symbols)
    }

    /// The absolute path of a workspace-relative path, refusing paths that climb out.
    fn absolute(&self, relative: &str) -> Option<PathBuf> {
        let relative = Path::new(relative);
        let inside = relative.components().all(|part| {
            matches!(
                part,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
        inside.then(|| self.ws.root().join(relative))
    }

    /// The quoted text of some lines of a file, by 1-based line number.
    fn lines_of(&self, path: &str, wanted: impl Iterator<Item = u32>) -> HashMap<u32, String> {
        let wanted: HashSet<u32> = wanted.collect();
        let Some(source) = read_source(&self.ws, &self.ws.root().join(path)) else {
            return HashMap::new();
        };
        let last = wanted.iter().copied().max().unwrap_or(0) as usize;
        source
            .lines()
            .take(last)
            .enumerate()
            .filter_map(|(at, text)| {
                let line = at as u32 + 1;
                wanted.contains(&line).then(|| (line, line_text(text)))
            })
            .collect()
    }
}

/// How well a lower-case name matches a lower-case query: 0 exact, 1 prefix, 2 substring,
/// 3 subsequence.
fn rank(name: &str, query: &str) -> Option<u8> {
    if name == query {
        Some(0)
    } else if name.starts_with(query) {
        Some(1)
    } else if name.contains(query) {
        Some(2)
    } else if is_subsequence(query, name) {
        Some(3)
    } else {
        None
    }
}

fn is_subsequence(needle: &str, haystack: &str) -> bool {
    let mut rest = haystack.chars();
    needle.chars().all(|c| rest.any(|h| h == c))
}

/// Which definition a hover describes when several share a name: types and functions before
/// constants, variables and fields.
fn hover_preference(kind: SymbolKind) -> u8 {
    match kind {
        SymbolKind::Constant | SymbolKind::EnumMember => 1,
        SymbolKind::Variable | SymbolKind::Field | SymbolKind::Property => 2,
        _ => 0,
    }
}

fn symbol(path: &str, decl: &Decl, text: Option<String>) -> Symbol {
    Symbol {
        name: decl.name.to_string(),
        kind: decl.kind,
        location: location(path, decl.at, text),
        container: decl.container.as_deref().map(str::to_owned),
    }
}

fn location(path: &str, at: Occurrence, text: Option<String>) -> Location {
    Location {
        path: path.to_owned(),
        line: at.line,
        column: at.column,
        end_line: at.line,
        end_column: at.end_column,
        text,
    }
}

/// A line as [`Location::text`] quotes it: trimmed, at most [`MAX_LINE_CHARS`] characters.
fn line_text(line: &str) -> String {
    line.trim().chars().take(MAX_LINE_CHARS).collect()
}

/// A file's text, with bytes that are not UTF-8 shown as U+FFFD; `None` when it cannot be read
/// or is binary (has a NUL byte). Opened without following links ([`Workspace::read`]): a file
/// swapped for a link pointing out is not read; it is indexed empty until it changes again.
fn read_source(ws: &Workspace, path: &Path) -> Option<String> {
    let bytes = ws.read(path, MAX_FILE_BYTES).ok()?;
    if bytes.contains(&0) {
        return None;
    }
    Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}

/// The source files under the workspace root that `rg` would search, by stat only.
fn walk(ws: &Workspace) -> Vec<Found> {
    ignore::WalkBuilder::new(ws.root())
        .build()
        // Unreadable directories and malformed ignore files are skipped, as `rg` skips them.
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .filter_map(|entry| {
            let lang = Lang::of_path(entry.path())?;
            let metadata = entry.metadata().ok()?;
            if metadata.len() > MAX_FILE_BYTES {
                return None;
            }
            let relative = ws.relative(entry.path())?;
            Some(Found {
                relative,
                stamp: Stamp {
                    size: metadata.len(),
                    modified: metadata.modified().ok(),
                },
                lang,
                path: entry.into_path(),
            })
        })
        .collect()
}

/// Parses `files` on all cores.
fn parse_all(ws: &Workspace, files: Vec<Found>) -> Vec<(Found, Parsed)> {
    if files.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores.min(files.len().div_ceil(FILES_PER_THREAD)).max(1);
    let next = AtomicUsize::new(0);
    let parse_some = || {
        let mut parser = Parser::new();
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = files.get(at) else {
                break;
            };
            // A file that vanished or turned binary is indexed empty until it changes again.
            let parsed = read_source(ws, &file.path)
                .map(|source| parse::extract(&mut parser, file.lang, &source))
                .unwrap_or_default();
            done.push((at, parsed));
        }
        done
    };
    let mut parsed: Vec<(usize, Parsed)> = if threads == 1 {
        parse_some()
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads).map(|_| scope.spawn(parse_some)).collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().unwrap_or_default())
                .collect()
        })
    };
    parsed.sort_unstable_by_key(|(at, _)| *at);
    let mut parsed = parsed.into_iter().peekable();
    files
        .into_iter()
        .enumerate()
        .map(|(at, file)| {
            let result = match parsed.peek() {
                Some((done, _)) if *done == at => parsed.next().map(|(_, p)| p).unwrap_or_default(),
                _ => Parsed::default(),
            };
            (file, result)
        })
        .collect()
}

#[cfg(test)]
mod tests;
