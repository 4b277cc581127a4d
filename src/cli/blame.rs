//! `prodcode blame FILE`: the provenance of every line of the working file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file to show
    pub file: PathBuf,
    /// Print JSON: { "path", "lines": [ { "line", "class", "interactionId"? } ] }
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct BlameJson<'a> {
    path: &'a str,
    lines: Vec<LineJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineJson<'a> {
    line: usize,
    class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    interaction_id: Option<&'a str>,
}

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let path = args
        .file
        .canonicalize()
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    // A file that is not UTF-8 is still shown; its undecodable bytes print as U+FFFD.
    let text = String::from_utf8_lossy(&bytes);
    let snapshot = match super::open_existing(db)? {
        Some(store) => store.latest_snapshot(&path.to_string_lossy())?,
        None => None,
    };
    let tracked = crate::reattach::reattach(snapshot.as_ref(), &text);
    let path_text = path.to_string_lossy();
    let provenance = tracked.provenance();
    // Lines as the engine counts them (`\n`, `\r\n` and a lone `\r` end a line). The empty line
    // after a final line break is an LSP line, not a line anybody wrote.
    let count = tracked.line_count();
    let ends_with_break = count > 1 && tracked.line_content(count as u32 - 1) == Some("");
    let shown = if ends_with_break { count - 1 } else { count };
    if args.json {
        let json = BlameJson {
            path: &path_text,
            lines: provenance
                .iter()
                .take(shown)
                .enumerate()
                .map(|(index, provenance)| LineJson {
                    line: index + 1,
                    class: provenance.class().as_str(),
                    interaction_id: provenance.interaction().map(|id| id.as_str()),
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = shown.to_string().len();
    for (index, provenance) in provenance.iter().take(shown).enumerate() {
        let line = tracked.line_content(index as u32).unwrap_or_default();
        let who = provenance
            .interaction()
            .map(|id| shorten(id.as_str()))
            .unwrap_or_default();
        println!(
            "{:>width$} {:<11} {:<12} | {}",
            index + 1,
            provenance.class().as_str(),
            who,
            line
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn shorten(id: &str) -> String {
    if id.chars().count() <= 12 {
        id.to_owned()
    } else {
        let head: String = id.chars().take(11).collect();
        format!("{head}…")
    }
}
