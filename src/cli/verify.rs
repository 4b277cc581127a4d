//! `prodcode verify`: walk the event log's hash chain, and check the rows that can be
//! recomputed (blobs against their hashes, live prompts against their events).

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: { "ok", "eventsChecked", "headId", "headHash", "problem"?: { "eventId", "kind" },
    /// "blobsChecked", "promptsChecked", "rowProblems": [{ "table", "key", "kind" }] }
    #[arg(long)]
    pub json: bool,
}

/// Exit 0 when the chain and the checked rows are intact, 1 when not.
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
        out["blobsChecked"] = json!(verification.blobs_checked);
        out["promptsChecked"] = json!(verification.prompts_checked);
        out["rowProblems"] = verification
            .row_problems
            .iter()
            .map(|problem| {
                json!({ "table": problem.table, "key": problem.key, "kind": problem.kind.as_str() })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if let Some(problem) = verification.problem {
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
        for problem in &verification.row_problems {
            println!(
                "not intact: {} row {} {}",
                problem.table,
                problem.key,
                match problem.kind {
                    crate::store::RowProblemKind::Tampered => "does not match its hash",
                    crate::store::RowProblemKind::DiffersFromEvent =>
                        "differs from the event it was recorded from",
                    crate::store::RowProblemKind::MissingEvent =>
                        "names an event that is not in the log",
                    crate::store::RowProblemKind::MissingBlob => "names a blob that is not stored",
                }
            );
        }
        if verification.row_problems.is_empty() {
            println!(
                "ok: {} blobs match their hashes, {} prompts match their events",
                verification.blobs_checked, verification.prompts_checked
            );
        }
    }
    Ok(if verification.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
