//! `prodcode verify`: walk the event log's hash chain.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: { "ok", "eventsChecked", "headId", "headHash", "problem"?: { "eventId", "kind" } }
    #[arg(long)]
    pub json: bool,
}

/// Exit 0 when the chain is intact, 1 when it is not.
pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let Some(store) = super::open_existing(db)? else {
        anyhow::bail!("no database at {}: nothing to verify", db.display());
    };
    let verification = store.verify()?;
    if args.json {
        let problem = verification
            .problem
            .map(|problem| json!({ "eventId": problem.event_id, "kind": problem.kind.as_str() }));
        let mut out = json!({
            "ok": verification.is_ok(),
            "eventsChecked": verification.events_checked,
            "headId": verification.head_id,
            "headHash": verification.head_hash,
        });
        if let Some(problem) = problem {
            out["problem"] = problem;
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if let Some(problem) = verification.problem {
        println!(
            "the event log is not intact: event {} is {} ({} events before it are intact)",
            problem.event_id,
            problem.kind.as_str().replace('_', " "),
            verification.events_checked
        );
    } else {
        println!(
            "ok: {} events, chain head {} at event {}",
            verification.events_checked, verification.head_hash, verification.head_id
        );
    }
    Ok(if verification.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
