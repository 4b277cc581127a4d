//! The JSON form of provenance runs in `provenance_snapshots.runs`:
//! `[{"start":0,"end":3,"class":"ai","interactionId":"x"}]`, 0-based lines, `end` exclusive.
//!
//! These wire structs are the store's own; the domain types in `model` stay free of serde.

use serde::{Deserialize, Serialize};

use crate::model::{LineClass, Provenance, ProvenanceRun};

#[derive(Serialize)]
struct RunOut<'a> {
    start: u32,
    end: u32,
    class: &'static str,
    #[serde(rename = "interactionId", skip_serializing_if = "Option::is_none")]
    interaction_id: Option<&'a str>,
}

#[derive(Deserialize)]
struct RunIn {
    start: u32,
    end: u32,
    class: String,
    #[serde(rename = "interactionId", default)]
    interaction_id: Option<String>,
}

pub fn encode(runs: &[ProvenanceRun]) -> String {
    let rows: Vec<RunOut<'_>> = runs
        .iter()
        .map(|run| RunOut {
            start: run.start,
            end: run.end,
            class: run.provenance.class().as_str(),
            interaction_id: run.provenance.interaction().map(|id| id.as_str()),
        })
        .collect();
    // Serializing plain structs of integers and strings cannot fail.
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

/// Parses stored runs. An unknown class reads as `untracked` (a newer writer's class is no
/// evidence this binary understands); runs that are not JSON, or that are empty, overlap or go
/// backwards, are an error message.
pub fn decode(json: &str) -> Result<Vec<ProvenanceRun>, String> {
    let rows: Vec<RunIn> =
        serde_json::from_str(json).map_err(|error| format!("runs are not valid JSON: {error}"))?;
    let mut runs = Vec::with_capacity(rows.len());
    let mut previous_end = 0;
    for (index, row) in rows.into_iter().enumerate() {
        if row.start >= row.end || row.start < previous_end {
            return Err(format!(
                "run {index} ({}..{}) is empty, overlaps or goes backwards",
                row.start, row.end
            ));
        }
        previous_end = row.end;
        let class = LineClass::parse(&row.class).unwrap_or(LineClass::Untracked);
        runs.push(ProvenanceRun {
            start: row.start,
            end: row.end,
            provenance: Provenance::from_parts(class, row.interaction_id.as_deref()),
        });
    }
    Ok(runs)
}
