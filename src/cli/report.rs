//! `prodcode report`: solve rates with intervals, pass@k, cost and tool use of an evaluation's
//! runs (`docs/eval.md`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The runs: an output directory of `prodcode eval`
    #[arg(value_name = "RUNS")]
    pub runs: PathBuf,
    /// md, json or html (one self-contained file)
    #[arg(long, value_enum, default_value = "md", value_name = "FORMAT")]
    pub format: Format,
    /// Another evaluation's runs to compare against
    #[arg(long, value_name = "RUNS")]
    pub baseline: Option<PathBuf>,
    /// Write the report to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    Md,
    Json,
    Html,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (results, problems) = crate::eval::result::read_all(&args.runs);
    if results.is_empty() {
        anyhow::bail!(
            "no run results in {}: pass the output directory of `prodcode eval`{}",
            args.runs.display(),
            problems
                .first()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        );
    }
    let baseline = match &args.baseline {
        Some(dir) => {
            let (base, _) = crate::eval::result::read_all(dir);
            if base.is_empty() {
                anyhow::bail!("no run results in the baseline {}", dir.display());
            }
            Some(base)
        }
        None => None,
    };
    let report = crate::eval::report::build(&results, problems, baseline.as_deref());
    let text = match args.format {
        Format::Md => crate::eval::report::markdown(&report),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        Format::Html => crate::eval::report::html(&report),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
