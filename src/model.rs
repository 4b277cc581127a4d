//! Domain types shared by every module: interactions, line provenance, the four line classes.
//!
//! Invariant: no IO and no serialization here. The edges (`lsp`, `store`, `cli`) own their own
//! wire shapes and convert explicitly, so a change to a protocol never ripples into the core.

use std::fmt;
use std::sync::Arc;

/// The id an editor plugin or agent hook gives one interaction (a prompt and the work it caused).
///
/// Cheap to clone: every AI line of a document holds one.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InteractionId(Arc<str>);

impl InteractionId {
    pub fn new(id: &str) -> InteractionId {
        InteractionId(Arc::from(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for InteractionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl fmt::Display for InteractionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The four classes every report, export and protocol uses for a line.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum LineClass {
    /// Written by an AI interaction and unchanged since.
    Ai,
    /// Written by an AI interaction, then changed by a person.
    AiModified,
    /// Written by a person.
    Human,
    /// No evidence either way (existed before capture began, or changed while nobody watched).
    Untracked,
}

impl LineClass {
    pub const ALL: [LineClass; 4] = [
        LineClass::Ai,
        LineClass::AiModified,
        LineClass::Human,
        LineClass::Untracked,
    ];

    /// The name used on every wire: `ai`, `ai_modified`, `human`, `untracked`.
    pub fn as_str(self) -> &'static str {
        match self {
            LineClass::Ai => "ai",
            LineClass::AiModified => "ai_modified",
            LineClass::Human => "human",
            LineClass::Untracked => "untracked",
        }
    }

    pub fn parse(name: &str) -> Option<LineClass> {
        LineClass::ALL
            .into_iter()
            .find(|class| class.as_str() == name)
    }
}

impl fmt::Display for LineClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one line of a tracked file came from.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Provenance {
    Ai(InteractionId),
    AiModified(InteractionId),
    Human,
    Untracked,
}

impl Provenance {
    pub fn class(&self) -> LineClass {
        match self {
            Provenance::Ai(_) => LineClass::Ai,
            Provenance::AiModified(_) => LineClass::AiModified,
            Provenance::Human => LineClass::Human,
            Provenance::Untracked => LineClass::Untracked,
        }
    }

    pub fn interaction(&self) -> Option<&InteractionId> {
        match self {
            Provenance::Ai(id) | Provenance::AiModified(id) => Some(id),
            Provenance::Human | Provenance::Untracked => None,
        }
    }

    /// Rebuilds a provenance from its class and interaction, as stored or sent on a wire.
    /// An AI class without an interaction is not evidence of anything, so it becomes untracked.
    pub fn from_parts(class: LineClass, interaction: Option<&str>) -> Provenance {
        match (class, interaction) {
            (LineClass::Ai, Some(id)) => Provenance::Ai(InteractionId::new(id)),
            (LineClass::AiModified, Some(id)) => Provenance::AiModified(InteractionId::new(id)),
            (LineClass::Human, _) => Provenance::Human,
            _ => Provenance::Untracked,
        }
    }
}

/// Who made a change to a document.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Origin {
    /// A person typing (the LSP text timeline outside any AI bracket).
    Human,
    /// An AI interaction (an applied edit, or everything inside a checkpoint bracket).
    Ai(InteractionId),
    /// Nobody knows (the file changed while nothing watched it).
    Unknown,
}

/// A run of consecutive lines with the same provenance; `start..end` are 0-based line indexes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProvenanceRun {
    pub start: u32,
    pub end: u32,
    pub provenance: Provenance,
}

/// SHA-256 of some content, as lowercase hex: how files, snapshots and blobs are compared.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct ContentHash(String);

impl ContentHash {
    pub fn of(bytes: &[u8]) -> ContentHash {
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        ContentHash(hex(digest.as_ref()))
    }

    /// Accepts a stored hash; `None` unless it is 64 lowercase hex digits.
    pub fn from_hex(hex: &str) -> Option<ContentHash> {
        let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| ContentHash(hex.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// One provenance per line from runs; lines the runs do not cover are `Untracked`.
pub fn expand_runs(runs: &[ProvenanceRun]) -> Vec<Provenance> {
    let lines = runs.iter().map(|run| run.end).max().unwrap_or(0) as usize;
    let mut provenance = vec![Provenance::Untracked; lines];
    for run in runs {
        let end = (run.end as usize).min(lines);
        let start = (run.start as usize).min(end);
        provenance[start..end].fill(run.provenance.clone());
    }
    provenance
}
