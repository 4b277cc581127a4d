//! The `prodcode/*` extension methods: prompts, AI edits, checkpoints, provenance, status.

use std::collections::BTreeMap;

use serde_json::json;

use crate::attribution::{self, Report};
use crate::git;
use crate::lsp::conv;
use crate::lsp::ext::{
    AiEditAppliedParams, CheckpointParams, CheckpointPhase, InteractionInfo, PromptSubmittedParams,
    ProvenanceParams, ProvenanceRange, ProvenanceResult, StatusCounts, StatusResult,
};
use crate::lsp::recorder::{Action, AiEditRow, PromptRow};
use crate::lsp::state::GlobalState;
use crate::model::{InteractionId, Origin};

use super::text_sync::apply_report;
use super::{HandlerError, HandlerResult};

pub fn prompt_submitted(
    state: &mut GlobalState,
    params: PromptSubmittedParams,
    raw: &str,
) -> HandlerResult<()> {
    if params.interaction_id.is_empty() {
        return Err(HandlerError::invalid_params("interactionId is empty"));
    }
    // The repository the prompt is about: the first context file inside one, else the first
    // workspace root inside one.
    let context_paths = params
        .context_uris
        .iter()
        .flatten()
        .filter_map(|uri| conv::uri_to_path(uri));
    let repo = context_paths
        .chain(state.roots.iter().cloned())
        .find_map(|path| git::discover(&path));
    let agent = params.agent.as_ref();
    let submitted_ms = params.timestamp.as_deref().and_then(|timestamp| {
        let parsed = crate::clock::parse_rfc3339_ms(timestamp);
        if parsed.is_none() {
            tracing::warn!(
                "promptSubmitted: timestamp {timestamp:?} is not RFC 3339; using the time received"
            );
        }
        parsed
    });
    let row = PromptRow {
        interaction_id: params.interaction_id.clone(),
        prompt: params.prompt,
        agent: agent.map(|agent| agent.name.clone()),
        model: agent.and_then(|agent| agent.model.clone()),
        agent_version: agent.and_then(|agent| agent.version.clone()),
        repo_root: repo
            .as_ref()
            .map(|repo| repo.root.to_string_lossy().into_owned()),
        base_commit: repo.as_ref().and_then(|repo| repo.head_commit.clone()),
        branch: repo.as_ref().and_then(|repo| repo.branch.clone()),
        cwd: state
            .roots
            .first()
            .map(|root| root.to_string_lossy().into_owned()),
        submitted_ms,
        redactions: Vec::new(),
    };
    state
        .recorder
        .record("prodcode.promptSubmitted", raw, Action::Prompt(row));
    Ok(())
}

pub fn ai_edit_applied(
    state: &mut GlobalState,
    params: AiEditAppliedParams,
    raw: &str,
) -> HandlerResult<()> {
    let uri = params.text_document.uri.as_str().to_owned();
    let interaction = InteractionId::new(&params.interaction_id);
    let encoding = state.encoding;
    let Some(document) = state.documents.get_mut(&uri) else {
        state
            .recorder
            .record("prodcode.aiEditApplied", raw, Action::None);
        return Err(HandlerError::invalid_params(format!(
            "{uri} is not open: send aiEditApplied after didOpen and the didChange that applied the edit"
        )));
    };
    let given = params.text_document.version;
    let ranges: Vec<attribution::Range> = params.ranges.iter().copied().map(conv::range).collect();
    let ranges = if given == document.version {
        ranges
    } else {
        // The ranges describe an older version: carry them through what changed since.
        let Some(start) = document
            .history
            .iter()
            .position(|(before, _, _)| *before == given)
        else {
            state
                .recorder
                .record("prodcode.aiEditApplied", raw, Action::None);
            return Err(HandlerError::invalid_params(format!(
                "{uri} version {given} is not the current version {} nor one this daemon remembers; the edit is recorded but cannot be placed",
                document.version
            )));
        };
        let shapes: Vec<_> = document
            .history
            .iter()
            .skip(start)
            .flat_map(|(_, _, shapes)| shapes.iter().cloned())
            .collect();
        ranges
            .into_iter()
            .filter_map(|range| attribution::transform_range(range, &shapes))
            .collect()
    };
    let report = document
        .text
        .mark_ai_ranges(&ranges, encoding, &interaction);
    let store_path = document.store_path(&uri);
    let row = ai_edit_row(
        document,
        &uri,
        &interaction,
        "ranges",
        &report,
        Some(json!({ "version": given, "ranges": params.ranges }).to_string()),
    );
    apply_report(state, &store_path, &uri, &report);
    state
        .recorder
        .record("prodcode.aiEditApplied", raw, Action::AiEdit(row));
    Ok(())
}

fn ai_edit_row(
    document: &crate::lsp::state::Document,
    uri: &str,
    interaction: &InteractionId,
    kind: &'static str,
    report: &Report,
    detail: Option<String>,
) -> AiEditRow {
    let lines_added = report
        .ai_lines_added
        .iter()
        .filter(|(id, _)| id == interaction)
        .map(|(_, count)| count)
        .sum();
    AiEditRow {
        interaction_id: interaction.to_string(),
        path: document.store_path(uri),
        repo_root: document
            .repo_root
            .as_ref()
            .map(|root| root.to_string_lossy().into_owned()),
        rel_path: document.rel_path.clone(),
        kind: kind.to_owned(),
        lines_added,
        detail,
    }
}

pub fn checkpoint(
    state: &mut GlobalState,
    params: CheckpointParams,
    raw: &str,
) -> HandlerResult<()> {
    let wanted = |uri: &str| {
        params
            .uris
            .as_ref()
            .is_none_or(|uris| uris.iter().any(|wanted| wanted == uri))
    };
    match params.phase {
        CheckpointPhase::Before => {
            let taken: Vec<_> = state
                .documents
                .iter()
                .filter(|(uri, _)| wanted(uri))
                .map(|(uri, document)| (uri.clone(), document.text.clone()))
                .collect();
            let open = state
                .checkpoints
                .entry(params.interaction_id.clone())
                .or_default();
            for (uri, text) in taken {
                // A second `before` for a document already bracketed keeps the first snapshot.
                if !open.iter().any(|(open_uri, _)| *open_uri == uri) {
                    open.push((uri, text));
                }
            }
            state
                .recorder
                .record("prodcode.checkpoint", raw, Action::None);
            Ok(())
        }
        CheckpointPhase::After => {
            let Some(open) = state.checkpoints.remove(&params.interaction_id) else {
                state
                    .recorder
                    .record("prodcode.checkpoint", raw, Action::None);
                return Err(HandlerError::invalid_params(format!(
                    "no open `before` checkpoint for interaction {}: nothing attributed",
                    params.interaction_id
                )));
            };
            let (closing, still_open): (Vec<_>, Vec<_>) =
                open.into_iter().partition(|(uri, _)| wanted(uri));
            if !still_open.is_empty() {
                state
                    .checkpoints
                    .insert(params.interaction_id.clone(), still_open);
            }
            state
                .recorder
                .record("prodcode.checkpoint", raw, Action::None);
            let interaction = InteractionId::new(&params.interaction_id);
            for (uri, before) in closing {
                close_checkpoint(state, &uri, before, &interaction);
            }
            Ok(())
        }
    }
}

/// Everything that changed in `uri` since `before` is the interaction's.
fn close_checkpoint(
    state: &mut GlobalState,
    uri: &str,
    mut before: attribution::TrackedText,
    interaction: &InteractionId,
) {
    let Some(document) = state.documents.get_mut(uri) else {
        return;
    };
    let report = before.observe(&document.text.text(), &Origin::Ai(interaction.clone()));
    document.text = before;
    let store_path = document.store_path(uri);
    let row = ai_edit_row(document, uri, interaction, "checkpoint", &report, None);
    let changed = row.lines_added > 0 || !report.ai_lines_deleted.is_empty();
    apply_report(state, &store_path, uri, &report);
    if changed {
        let payload = json!({ "uri": uri, "interactionId": interaction.as_str() });
        state.recorder.record(
            "prodcode.checkpointApplied",
            &payload.to_string(),
            Action::AiEdit(row),
        );
    }
}

pub fn provenance(
    state: &mut GlobalState,
    params: ProvenanceParams,
) -> HandlerResult<ProvenanceResult> {
    let uri = params.text_document.uri.as_str();
    let Some(document) = state.documents.get(uri) else {
        return Err(HandlerError::invalid_params(format!(
            "{uri} is not open in this daemon; open it first, or run `prodcode blame` on the saved file"
        )));
    };
    let text = &document.text;
    let line_count = text.line_count() as u32;
    let last_len = text.line_len(line_count.saturating_sub(1), state.encoding);
    let ranges = conv::provenance_ranges(&text.runs(), last_len, line_count);
    let interactions = interactions_of(state, &ranges);
    Ok(ProvenanceResult {
        version: document.version,
        ranges,
        interactions,
    })
}

/// The prompts of the interactions `ranges` name, read from the database. Events received before
/// the request are already committed (requests flush first). A database that cannot be read
/// leaves the interactions out rather than failing the request: the ranges are the answer, the
/// prompts a courtesy.
fn interactions_of(
    state: &GlobalState,
    ranges: &[ProvenanceRange],
) -> BTreeMap<String, InteractionInfo> {
    let mut interactions = BTreeMap::new();
    let Some(store) = state.recorder.store() else {
        return interactions;
    };
    for id in ranges
        .iter()
        .filter_map(|range| range.interaction_id.as_deref())
    {
        if interactions.contains_key(id) {
            continue;
        }
        match store.interaction_prompts(id) {
            Ok(Some(found)) => {
                interactions.insert(
                    id.to_owned(),
                    InteractionInfo {
                        agent: found.agent,
                        model: found.model,
                        prompts: found.prompts,
                    },
                );
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!("cannot read the prompts of interaction {id}: {error}");
                break;
            }
        }
    }
    interactions
}

pub fn status(state: &mut GlobalState) -> HandlerResult<StatusResult> {
    Ok(StatusResult {
        version: env!("CARGO_PKG_VERSION"),
        database_path: state
            .db_path
            .as_ref()
            .map(|path| path.to_string_lossy().into_owned()),
        workspace_roots: state
            .roots
            .iter()
            .map(|root| root.to_string_lossy().into_owned())
            .collect(),
        linked_repositories: state
            .linker
            .watched()
            .iter()
            .map(|root| root.to_string_lossy().into_owned())
            .collect(),
        position_encoding: conv::encoding_kind(state.encoding).as_str().to_owned(),
        counts: StatusCounts {
            open_documents: state.documents.len(),
            durable_events: state.recorder.durable(),
            pending_events: state.recorder.pending(),
            spooled_events: state.recorder.spooled(),
            open_checkpoints: state.checkpoints.values().map(Vec::len).sum(),
        },
        store_error: state.recorder.error().map(str::to_owned),
    })
}
