//! `prodcode tool NAME [KEY=VALUE…]`: one tool call from the command line, the same call the MCP
//! and LSP fronts make.
//!
//! Arguments are `key=value` pairs: a value that parses as JSON is taken as JSON (`timeout_s=30`,
//! `check_only=true`, `paths=["src"]`), anything else as a string; a key given twice becomes an
//! array. `--args '{…}'` passes the whole object at once.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use crate::tools::toolbox::{self, CallContext};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The tool to call (`prodcode tool --list` lists them)
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,
    /// Arguments as key=value (values are JSON when they parse as JSON, else strings)
    #[arg(value_name = "KEY=VALUE")]
    pub arguments: Vec<String>,
    /// All arguments as one JSON object
    #[arg(long, value_name = "JSON", conflicts_with = "arguments")]
    pub args: Option<String>,
    /// The workspace the tool acts in [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// List the tools with their input schemas
    #[arg(long)]
    pub list: bool,
    /// Print the structured result as JSON (`{"error": {kind, message}}` on failure)
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        return list(args.json);
    }
    let Some(name) = args.name.as_deref() else {
        bail!("name a tool, or pass --list");
    };
    let arguments = match &args.args {
        Some(json) => serde_json::from_str::<Value>(json).context(
            "--args is not valid JSON; pass an object like '{\"pattern\": \"fn main\"}'",
        )?,
        None => Value::Object(pairs(&args.arguments)?),
    };
    let toolbox = super::toolbox::open(db, args.workspace.as_deref())?;
    // A test run or a first index build takes a while: say so on a terminal, and only there.
    let spinner = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let spinner = indicatif::ProgressBar::new_spinner();
        spinner.set_message(format!("{name}…"));
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    });
    let output = toolbox.call(name, &arguments, &CallContext::from_env("cli"));
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output.structured)?);
    } else if output.is_error {
        eprintln!("prodcode tool {name}: {}", output.text);
    } else {
        println!("{}", output.text);
    }
    Ok(if output.is_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn list(json: bool) -> anyhow::Result<ExitCode> {
    let specs = toolbox::specs();
    if json {
        let tools: Vec<Value> = specs
            .iter()
            .map(|spec| {
                serde_json::json!({
                    "name": spec.name,
                    "title": spec.title,
                    "description": spec.description,
                    "inputSchema": spec.input_schema,
                    "outputSchema": spec.output_schema,
                    "readOnly": spec.read_only,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&tools)?);
    } else {
        for spec in &specs {
            let arguments: Vec<String> = spec.input_schema["properties"]
                .as_object()
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default();
            println!("{:<18} {}", spec.name, spec.title);
            if !arguments.is_empty() {
                println!("{:<18} arguments: {}", "", arguments.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `key=value` pairs as a JSON object.
fn pairs(arguments: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut map = Map::new();
    for pair in arguments {
        let Some((key, raw)) = pair.split_once('=') else {
            bail!("`{pair}` is not key=value; write e.g. pattern='fn main' or timeout_s=30");
        };
        let value =
            serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        match map.get_mut(key) {
            None => {
                map.insert(key.to_owned(), value);
            }
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
        }
    }
    Ok(map)
}
