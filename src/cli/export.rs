//! `prodcode export agent-trace [RANGE]`: one Agent Trace record (agent-trace.dev, v0.1) per
//! linked commit, as JSON lines. `prodcode export harbor OUT --tasks DIR`: curated tasks as Harbor
//! task directories (`eval::harbor`, `docs/eval.md`).
//!
//! The mapping (see `docs/cli.md`): a file's `ai` and `ai_modified` lines become one
//! conversation per interaction (contributor `ai`, or `mixed` for lines a person changed), its
//! `human` lines one conversation of contributor `human`; `untracked` lines are left out.
//! prodcode's own figures go under `metadata["dev.prodcode"]`. Records are deterministic: the
//! same commit exports the same line every time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::link::ClassCounts;
use super::stats::{PROMPT_CHARS, Selection, truncate};
use crate::model::{LineClass, Provenance};
use crate::store::{CommitReport, InteractionInfo, LineRange, Store};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub format: Format,
}

#[derive(clap::Subcommand, Debug)]
pub enum Format {
    /// Agent Trace v0.1 records (agent-trace.dev), one JSON line per commit
    AgentTrace(AgentTraceArgs),
    /// Curated tasks as Harbor task directories, to run trials on Harbor's backends
    Harbor(HarborArgs),
}

#[derive(clap::Args, Debug)]
pub struct HarborArgs {
    /// Where the task directories go (one per task; a task exported before is replaced)
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// The tasks: an output directory of `prodcode curate`
    #[arg(long, value_name = "DIR")]
    pub tasks: PathBuf,
    /// Only this task (repeat for several)
    #[arg(long = "task", value_name = "ID")]
    pub only: Vec<String>,
    /// Print what was exported and skipped as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct AgentTraceArgs {
    /// A commit or a range (`main..topic`, `A...B`) [default: every linked commit on the main
    /// branch]
    #[arg(value_name = "REV|RANGE")]
    pub range: Option<String>,
    /// A directory in the repository [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Write the records to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The Agent Trace version the records follow.
const AGENT_TRACE_VERSION: &str = "0.1";
/// The reverse-DNS key of prodcode's fields in `metadata`.
const METADATA_KEY: &str = "dev.prodcode";
/// The schema caps `model_id` at this many characters.
const MODEL_ID_CHARS: usize = 250;

#[derive(Serialize)]
struct TraceRecord {
    version: &'static str,
    id: String,
    timestamp: String,
    vcs: Vcs,
    tool: Tool,
    files: Vec<TraceFile>,
    metadata: BTreeMap<&'static str, ProdcodeMetadata>,
}

#[derive(Serialize)]
struct Vcs {
    #[serde(rename = "type")]
    kind: &'static str,
    revision: String,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct TraceFile {
    path: String,
    conversations: Vec<Conversation>,
}

#[derive(Serialize)]
struct Conversation {
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    contributor: Contributor,
    ranges: Vec<TraceRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<Related>,
}

#[derive(Serialize, Clone, PartialEq, Eq)]
struct Contributor {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_id: Option<String>,
}

#[derive(Serialize)]
struct TraceRange {
    start_line: u32,
    end_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    contributor: Option<Contributor>,
}

#[derive(Serialize)]
struct Related {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProdcodeMetadata {
    repository: String,
    on_main: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    landed_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<String>,
    lines: ClassCounts,
    excluded: u32,
    interactions: Vec<InteractionMetadata>,
}

#[derive(Serialize)]
struct InteractionMetadata {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
}

pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    match args.format {
        Format::AgentTrace(args) => agent_trace(&super::db_path(db)?, args),
        Format::Harbor(args) => harbor(args),
    }
}

/// Exit 0 when every task was exported, 1 when some were skipped (each named with why), 2 on
/// an error.
fn harbor(args: HarborArgs) -> anyhow::Result<ExitCode> {
    let cache =
        crate::curate::cache_dir().context("no cache directory: set PRODCODE_CACHE_DIR or HOME")?;
    let summary = crate::eval::harbor::export(&crate::eval::harbor::Options {
        tasks: args.tasks,
        out: args.out,
        only: args.only,
        cache,
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for skipped in &summary.skipped {
            println!("skipped {}: {}", skipped.instance_id, skipped.reason);
        }
        println!(
            "exported {} task{} to {}{}",
            summary.exported.len(),
            if summary.exported.len() == 1 { "" } else { "s" },
            summary.out,
            if summary.exported.is_empty() {
                String::new()
            } else {
                format!(
                    "; run them with `harbor run --path {} --agent oracle` (the gold solution) or any Harbor agent",
                    summary.out
                )
            }
        );
    }
    Ok(if summary.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn agent_trace(db: &Path, args: AgentTraceArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_existing(db)?;
    let selection =
        super::stats::select(store.as_ref(), args.repo.as_deref(), args.range.as_deref())?;
    if !selection.unlinked.is_empty() {
        eprintln!(
            "prodcode: {} commit{} in {} never linked and not exported: run `prodcode link` first",
            selection.unlinked.len(),
            if selection.unlinked.len() == 1 {
                " was"
            } else {
                "s were"
            },
            args.range.as_deref().unwrap_or("the range"),
        );
    }
    let mut text = String::new();
    if let Some(store) = &store {
        for (commit, ranges) in &selection.commits {
            let record = record(store, &selection, commit, ranges)?;
            text.push_str(&serde_json::to_string(&record)?);
            text.push('\n');
        }
    }
    match &args.out {
        Some(out) => {
            std::fs::write(out, &text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "wrote {} Agent Trace record{} to {}",
                selection.commits.len(),
                if selection.commits.len() == 1 {
                    ""
                } else {
                    "s"
                },
                out.display()
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The trace record of one linked commit.
fn record(
    store: &Store,
    selection: &Selection,
    commit: &CommitReport,
    ranges: &[LineRange],
) -> anyhow::Result<TraceRecord> {
    let root = selection.root.to_string_lossy().into_owned();
    let interaction_ids: BTreeSet<&str> = ranges
        .iter()
        .filter_map(|range| range.provenance.interaction())
        .map(|id| id.as_str())
        .collect();
    let infos = store.interaction_infos(interaction_ids.iter().copied())?;

    let mut counts = ClassCounts::default();
    for range in ranges {
        counts.add(range.provenance.class(), line_count(range));
    }
    let mut by_path: BTreeMap<&str, Vec<&LineRange>> = BTreeMap::new();
    for range in ranges {
        by_path.entry(&range.path).or_default().push(range);
    }
    let files = by_path
        .into_iter()
        .filter_map(|(path, ranges)| {
            let conversations = conversations(&ranges, &infos);
            (!conversations.is_empty()).then(|| TraceFile {
                path: path.to_owned(),
                conversations,
            })
        })
        .collect();

    let via = match (&commit.landed_sha, selection.repo_id) {
        (Some(main), Some(repo_id)) => store
            .landing(repo_id, &commit.sha, main)?
            .map(|landing| landing.via),
        _ => None,
    };
    let metadata = ProdcodeMetadata {
        repository: root.clone(),
        on_main: commit.on_main,
        landed_in: commit.landed_sha.clone(),
        via,
        lines: counts,
        excluded: commit.lines_excluded,
        interactions: interaction_ids
            .iter()
            .map(|id| {
                let info = infos.get(*id);
                InteractionMetadata {
                    id: (*id).to_owned(),
                    agent: info.and_then(|info| info.agent.clone()),
                    model: info.and_then(|info| info.model.clone()),
                    prompt: info
                        .and_then(|info| info.first_prompt.as_deref())
                        .map(|prompt| truncate(prompt, PROMPT_CHARS)),
                }
            })
            .collect(),
    };
    Ok(TraceRecord {
        version: AGENT_TRACE_VERSION,
        id: record_id(&root, &commit.sha),
        timestamp: super::rfc3339(commit.committed_ms),
        vcs: Vcs {
            kind: "git",
            revision: commit.sha.clone(),
        },
        tool: Tool {
            name: "prodcode",
            version: env!("CARGO_PKG_VERSION"),
        },
        files,
        metadata: BTreeMap::from([(METADATA_KEY, metadata)]),
    })
}

fn line_count(range: &LineRange) -> u64 {
    u64::from(range.end_line.saturating_sub(range.start_line)) + 1
}

/// The conversations of one file: one per interaction, then one for the human lines; each in
/// the order of its first line. `untracked` lines are left out.
fn conversations(
    ranges: &[&LineRange],
    infos: &HashMap<String, InteractionInfo>,
) -> Vec<Conversation> {
    // Ranges by interaction, in order of first appearance; `None` collects the human lines.
    let mut groups: Vec<(Option<&str>, Vec<&LineRange>)> = Vec::new();
    let mut sorted: Vec<&LineRange> = ranges.to_vec();
    sorted.sort_by_key(|range| range.start_line);
    for range in sorted {
        if range.start_line == 0 || range.end_line < range.start_line {
            continue; // Not a valid 1-based range: nothing to say about it.
        }
        let key = match &range.provenance {
            Provenance::Ai(id) | Provenance::AiModified(id) => Some(id.as_str()),
            Provenance::Human => None,
            Provenance::Untracked => continue,
        };
        match groups.iter_mut().find(|(group, _)| *group == key) {
            Some((_, members)) => members.push(range),
            None => groups.push((key, vec![range])),
        }
    }
    groups.sort_by_key(|(key, _)| key.is_none());
    groups
        .into_iter()
        .map(|(key, members)| match key {
            Some(id) => ai_conversation(id, &members, infos.get(id)),
            None => Conversation {
                url: None,
                contributor: Contributor {
                    kind: "human",
                    model_id: None,
                },
                ranges: members
                    .iter()
                    .map(|range| TraceRange {
                        start_line: range.start_line,
                        end_line: range.end_line,
                        contributor: None,
                    })
                    .collect(),
                related: Vec::new(),
            },
        })
        .collect()
}

/// One interaction's lines in one file: contributor `ai` (unchanged lines) or `mixed` (lines a
/// person changed); when it has both, the conversation says `ai` and each changed range
/// overrides it.
fn ai_conversation(
    id: &str,
    ranges: &[&LineRange],
    info: Option<&InteractionInfo>,
) -> Conversation {
    let model_id = info
        .and_then(|info| info.model.as_deref())
        .and_then(model_id);
    let contributor = |class: LineClass| Contributor {
        kind: if class == LineClass::Ai {
            "ai"
        } else {
            "mixed"
        },
        model_id: model_id.clone(),
    };
    let main_class = if ranges
        .iter()
        .any(|range| range.provenance.class() == LineClass::Ai)
    {
        LineClass::Ai
    } else {
        LineClass::AiModified
    };
    let url = interaction_url(id);
    let mut related = vec![Related {
        kind: "prompt",
        url: url.clone(),
    }];
    if let Some(transcript) = info.and_then(|info| info.transcript_path.as_deref())
        && transcript.starts_with('/')
    {
        related.push(Related {
            kind: "transcript",
            url: format!("file://{}", percent_encode(transcript, b"/")),
        });
    }
    Conversation {
        url: Some(url),
        contributor: contributor(main_class),
        ranges: ranges
            .iter()
            .map(|range| {
                let class = range.provenance.class();
                TraceRange {
                    start_line: range.start_line,
                    end_line: range.end_line,
                    contributor: (class != main_class).then(|| contributor(class)),
                }
            })
            .collect(),
        related,
    }
}

/// `prodcode:interaction/<id>`: where `prodcode log` finds the interaction and its verbatim
/// prompt.
fn interaction_url(id: &str) -> String {
    format!("prodcode:interaction/{}", percent_encode(id, b""))
}

/// A model name in the models.dev convention (`provider/model`) when the provider is plain from
/// the name; else the name as the agent reported it. At most 250 characters.
fn model_id(model: &str) -> Option<String> {
    let model = model.trim();
    if model.is_empty() {
        return None;
    }
    let lower = model.to_ascii_lowercase();
    let starts = |prefixes: &[&str]| prefixes.iter().any(|prefix| lower.starts_with(prefix));
    let provider = if model.contains('/') {
        None
    } else if starts(&["claude"]) {
        Some("anthropic")
    } else if starts(&["gpt-", "gpt5", "o1", "o3", "o4", "codex", "chatgpt"]) {
        Some("openai")
    } else if starts(&["gemini", "gemma"]) {
        Some("google")
    } else if starts(&["grok"]) {
        Some("xai")
    } else if starts(&["mistral", "codestral", "devstral"]) {
        Some("mistral")
    } else if starts(&["deepseek"]) {
        Some("deepseek")
    } else {
        None
    };
    let id = match provider {
        Some(provider) => format!("{provider}/{model}"),
        None => model.to_owned(),
    };
    Some(truncate(&id, MODEL_ID_CHARS))
}

/// A UUID (version 8, RFC 9562) derived from SHA-256 of the repository root and the commit, so
/// that exporting a commit again gives the same id.
fn record_id(root: &str, sha: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{root}\n{sha}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `text` with every byte other than RFC 3986's unreserved characters (and those in `keep`)
/// percent-encoded.
fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_stable_version_8_uuids() {
        let id = record_id("/work/repo", "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(
            id,
            record_id("/work/repo", "0123456789abcdef0123456789abcdef01234567")
        );
        assert_ne!(
            id,
            record_id("/work/other", "0123456789abcdef0123456789abcdef01234567")
        );
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|part| part.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'), "{id}");
        assert!(
            matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{id}"
        );
    }

    #[test]
    fn model_ids_name_the_provider_when_it_is_plain() {
        assert_eq!(
            model_id("claude-opus-4-5-20251101").as_deref(),
            Some("anthropic/claude-opus-4-5-20251101")
        );
        assert_eq!(
            model_id("gpt-5-codex").as_deref(),
            Some("openai/gpt-5-codex")
        );
        assert_eq!(model_id("openai/gpt-4o").as_deref(), Some("openai/gpt-4o"));
        assert_eq!(
            model_id("my-local-model").as_deref(),
            Some("my-local-model")
        );
        assert_eq!(model_id("  "), None);
        assert_eq!(model_id(&"x".repeat(300)).map(|id| id.len()), Some(250));
    }

    #[test]
    fn interaction_urls_percent_encode_the_id() {
        assert_eq!(
            interaction_url("claude:s 1/é"),
            "prodcode:interaction/claude%3As%201%2F%C3%A9"
        );
        assert_eq!(
            percent_encode("/home/a b/t.jsonl", b"/"),
            "/home/a%20b/t.jsonl"
        );
    }
}
