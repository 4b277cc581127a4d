//! `prodcode log`: recent interactions with their prompts and AI edits; with `--landed`, only
//! those whose AI lines are in commits on the main branch, with those commits.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::store::hooks::PromptRedaction;
use crate::store::{InteractionSummary, LandedLines};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// How many interactions to show, newest first
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    /// Only interactions whose AI lines landed on the main branch (as `prodcode link` found),
    /// each with the commits that carry them
    #[arg(long)]
    pub landed: bool,
    /// Print JSON (see docs/cli.md)
    #[arg(long)]
    pub json: bool,
    /// Read the team store (postgres://…): the interactions of every device in this repository
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// With --store: a directory in the repository [default: the current directory]
    #[arg(long, value_name = "DIR", requires = "store")]
    pub repo: Option<std::path::PathBuf>,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            limit: 20,
            landed: false,
            json: false,
            store: None,
            repo: None,
        }
    }
}

#[derive(Serialize)]
struct LogJson {
    interactions: Vec<InteractionJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InteractionJson {
    id: String,
    source: String,
    agent: Option<String>,
    model: Option<String>,
    agent_version: Option<String>,
    session_id: Option<String>,
    repository: Option<String>,
    base_commit: Option<String>,
    branch: Option<String>,
    cwd: Option<String>,
    turns: u32,
    created_at: String,
    updated_at: String,
    prompts: Vec<PromptJson>,
    edits: Vec<EditJson>,
    lines: Vec<TallyJson>,
    /// With `--landed`: the commits on main that carry the interaction's AI lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    landed: Option<Vec<LandedJson>>,
    /// The prodcode tools the interaction's agent called, per tool and outcome.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolCallJson {
    tool: String,
    outcome: String,
    calls: u64,
    total_ms: u64,
}

#[derive(Serialize)]
struct LandedJson {
    commit: String,
    via: String,
    lines: AiLinesJson,
    /// For human output only.
    #[serde(skip)]
    summary: Option<String>,
}

#[derive(Serialize)]
struct AiLinesJson {
    ai: u64,
    ai_modified: u64,
}

fn landed_json(landed: LandedLines) -> LandedJson {
    LandedJson {
        commit: landed.commit,
        via: landed.via,
        lines: AiLinesJson {
            ai: landed.ai,
            ai_modified: landed.ai_modified,
        },
        summary: landed.summary,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PromptJson {
    turn: u32,
    text: String,
    at: String,
    /// Secrets replaced in `text` before it was stored, by kind.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    redactions: Vec<RedactionJson>,
}

#[derive(Serialize)]
struct RedactionJson {
    kind: String,
    count: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EditJson {
    path: String,
    rel_path: Option<String>,
    kind: String,
    lines_added: u32,
    at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TallyJson {
    path: String,
    added: u64,
    modified: u64,
    deleted: u64,
}

fn to_json(interaction: InteractionSummary, redactions: Vec<PromptRedaction>) -> InteractionJson {
    let redactions_of = |turn: u32| -> Vec<RedactionJson> {
        redactions
            .iter()
            .filter(|redaction| redaction.turn == turn)
            .map(|redaction| RedactionJson {
                kind: redaction.kind.clone(),
                count: redaction.count,
            })
            .collect()
    };
    InteractionJson {
        id: interaction.id.to_string(),
        source: interaction.source,
        agent: interaction.agent,
        model: interaction.model,
        agent_version: interaction.agent_version,
        session_id: interaction.session_id,
        repository: interaction.repo_root,
        base_commit: interaction.base_commit,
        branch: interaction.branch,
        cwd: interaction.cwd,
        turns: interaction.turn_count,
        created_at: super::rfc3339(interaction.created_ms),
        updated_at: super::rfc3339(interaction.updated_ms),
        prompts: interaction
            .prompts
            .into_iter()
            .map(|prompt| PromptJson {
                turn: prompt.turn,
                redactions: redactions_of(prompt.turn),
                text: prompt.text,
                at: super::rfc3339(prompt.ts_ms),
            })
            .collect(),
        edits: interaction
            .ai_edits
            .into_iter()
            .map(|edit| EditJson {
                path: edit.path,
                rel_path: edit.rel_path,
                kind: edit.kind,
                lines_added: edit.lines_added,
                at: super::rfc3339(edit.ts_ms),
            })
            .collect(),
        lines: interaction
            .line_tallies
            .into_iter()
            .map(|tally| TallyJson {
                path: tally.path,
                added: tally.added,
                modified: tally.modified,
                deleted: tally.deleted,
            })
            .collect(),
        landed: None,
        tool_calls: Vec::new(),
    }
}

fn tool_calls_json(store: &crate::store::Store, id: &str) -> anyhow::Result<Vec<ToolCallJson>> {
    Ok(store
        .tool_call_counts(crate::store::ToolCallScope::Interaction(id))?
        .into_iter()
        .map(|count| ToolCallJson {
            tool: count.tool,
            outcome: count.outcome,
            calls: count.calls,
            total_ms: count.total_ms,
        })
        .collect())
}

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let mut interactions = Vec::new();
    if let Some(store) = super::open_existing(db)? {
        if args.landed {
            for landed in store.landed_interactions(args.limit)? {
                let redactions = store.prompt_redactions(landed.interaction.id.as_str())?;
                let mut json = to_json(landed.interaction, redactions);
                json.landed = Some(landed.landed.into_iter().map(landed_json).collect());
                json.tool_calls = tool_calls_json(&store, &json.id)?;
                interactions.push(json);
            }
        } else {
            for interaction in store.recent_interactions(args.limit)? {
                let redactions = store.prompt_redactions(interaction.id.as_str())?;
                let mut json = to_json(interaction, redactions);
                json.tool_calls = tool_calls_json(&store, &json.id)?;
                interactions.push(json);
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&LogJson { interactions })?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if interactions.is_empty() {
        if args.landed {
            println!(
                "no interaction has lines on the main branch yet in {} (run `prodcode link`)",
                db.display()
            );
        } else {
            println!("no interactions recorded yet in {}", db.display());
        }
    }
    for interaction in &interactions {
        let who = [interaction.agent.as_deref(), interaction.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ");
        println!(
            "{}  {}  {}  ({} turn{}{})",
            interaction.created_at,
            interaction.id,
            if who.is_empty() {
                "unknown agent"
            } else {
                &who
            },
            interaction.turns,
            if interaction.turns == 1 { "" } else { "s" },
            interaction
                .branch
                .as_deref()
                .map(|branch| format!(", on {branch}"))
                .unwrap_or_default()
        );
        for prompt in &interaction.prompts {
            println!("    > {}", one_line(&prompt.text, 100));
        }
        for edit in &interaction.edits {
            println!(
                "    {} +{} lines ({})",
                edit.rel_path.as_deref().unwrap_or(&edit.path),
                edit.lines_added,
                edit.kind
            );
        }
        for tally in &interaction.lines {
            if tally.modified > 0 || tally.deleted > 0 {
                println!(
                    "    {}: {} AI lines added, {} changed by a person, {} deleted",
                    tally.path, tally.added, tally.modified, tally.deleted
                );
            }
        }
        if !interaction.tool_calls.is_empty() {
            let calls: Vec<String> = interaction
                .tool_calls
                .iter()
                .map(|call| match call.outcome.as_str() {
                    "ok" => format!("{} ×{}", call.tool, call.calls),
                    outcome => format!("{} ×{} ({outcome})", call.tool, call.calls),
                })
                .collect();
            println!("    tools: {}", calls.join(", "));
        }
        for landed in interaction.landed.iter().flatten() {
            println!(
                "    landed in {} {} ({}): ai {}, ai_modified {}",
                super::stats::short(&landed.commit),
                landed.summary.as_deref().unwrap_or(""),
                landed.via,
                landed.lines.ai,
                landed.lines.ai_modified
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let head: String = flat.chars().take(max - 1).collect();
        format!("{head}…")
    }
}
