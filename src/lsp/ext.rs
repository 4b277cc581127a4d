//! The `prodcode/*` LSP extension: method names and wire shapes.
//!
//! Editor plugins written by other people depend on these names and shapes, so they only ever
//! grow by optional fields. `docs/lsp-extensions.md` documents each one; a test keeps the two in
//! step. Unknown fields are ignored, never an error.

use std::collections::BTreeMap;

use lsp_types::{Range, TextDocumentIdentifier, VersionedTextDocumentIdentifier};
use serde::{Deserialize, Serialize};

pub const PROMPT_SUBMITTED: &str = "prodcode/promptSubmitted";
pub const AI_EDIT_APPLIED: &str = "prodcode/aiEditApplied";
pub const CHECKPOINT: &str = "prodcode/checkpoint";
pub const PROVENANCE: &str = "prodcode/provenance";
pub const STATUS: &str = "prodcode/status";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MethodKind {
    Notification,
    Request,
}

/// Every extension method, for the documentation check.
pub const METHODS: &[(&str, MethodKind)] = &[
    (PROMPT_SUBMITTED, MethodKind::Notification),
    (AI_EDIT_APPLIED, MethodKind::Notification),
    (CHECKPOINT, MethodKind::Notification),
    (PROVENANCE, MethodKind::Request),
    (STATUS, MethodKind::Request),
];

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptSubmittedParams {
    pub interaction_id: String,
    pub prompt: String,
    #[serde(default)]
    pub agent: Option<AgentInfo>,
    #[serde(default)]
    pub context_uris: Option<Vec<String>>,
    /// RFC 3339; when absent the daemon's clock is used.
    #[serde(default)]
    pub timestamp: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AgentInfo {
    pub name: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiEditAppliedParams {
    pub interaction_id: String,
    pub text_document: VersionedTextDocumentIdentifier,
    pub ranges: Vec<Range>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckpointPhase {
    Before,
    After,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointParams {
    pub interaction_id: String,
    pub phase: CheckpointPhase,
    #[serde(default)]
    pub uris: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceParams {
    pub text_document: TextDocumentIdentifier,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceResult {
    pub version: i32,
    pub ranges: Vec<ProvenanceRange>,
    /// The interactions the ranges name, with their prompts, as far as the database knows them
    /// (added for editors' "which prompt wrote this line", issue 15).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub interactions: BTreeMap<String, InteractionInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct InteractionInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Verbatim (secrets redacted), in turn order; empty when only the edits were recorded.
    pub prompts: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceRange {
    pub range: Range,
    /// `ai` | `ai_modified` | `human` | `untracked`.
    pub class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interaction_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResult {
    pub version: &'static str,
    pub database_path: Option<String>,
    pub workspace_roots: Vec<String>,
    /// The repositories whose commits this daemon links as they are made.
    pub linked_repositories: Vec<String>,
    pub position_encoding: String,
    pub counts: StatusCounts,
    /// Why events are not being written, while they are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    pub open_documents: usize,
    /// Events committed to the database by this daemon since it started.
    pub durable_events: u64,
    /// Events accepted but neither committed nor spooled (non-zero only while the database and
    /// every spool place refuse writes).
    pub pending_events: usize,
    /// Events this daemon spooled because the database refused them, since it started.
    pub spooled_events: u64,
    pub open_checkpoints: usize,
}
