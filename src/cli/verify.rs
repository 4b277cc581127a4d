//! `prodcode verify`: walk the event log's hash chain, and check the rows that can be
//! recomputed (blobs against their hashes, live prompts against their events); with `--store`,
//! every device's chain on the team store.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: { "ok", "eventsChecked", "headId", "headHash", "problem"?: { "eventId", "kind" },
    /// "blobsChecked", "promptsChecked", "rowProblems": [{ "table", "key", "kind" }] }
    /// With --store: { "ok", "store", "devices": [{ "device", "ok", "eventsChecked", "withheld",
    /// "headId", "headHash", "problem"?: { "eventId", "kind" } }] }
    #[arg(long)]
    pub json: bool,
    /// Check every device's chain on this team store (postgres://…) instead of the local log
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

/// Exit 0 when the chain and the checked rows are intact, 1 when not.
pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.store {
        return verify_team(url, args.json);
    }
    let db = super::db_path(db)?;
    let db = db.as_path();
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

/// `verify --store`: each device's chain, as the local check reports one.
fn verify_team(url: &str, json: bool) -> anyhow::Result<ExitCode> {
    let url = crate::store::team::StoreUrl::parse(url)?;
    let mut client = url.connect()?;
    let devices = crate::store::team::verify(&mut client)?;
    let ok = devices.iter().all(|device| device.problem.is_none());
    if json {
        let devices: Vec<_> = devices
            .iter()
            .map(|device| {
                let mut out = json!({
                    "device": device.device,
                    "ok": device.problem.is_none(),
                    "eventsChecked": device.events_checked,
                    "withheld": device.withheld,
                    "headId": device.head_id,
                    "headHash": device.head_hash,
                });
                if let Some(problem) = device.problem {
                    out["problem"] =
                        json!({ "eventId": problem.event_id, "kind": problem.kind.as_str() });
                }
                out
            })
            .collect();
        let out = json!({ "ok": ok, "store": url.shown(), "devices": devices });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if devices.is_empty() {
            println!("ok: {} holds no device's events yet", url.shown());
        }
        for device in &devices {
            match device.problem {
                Some(problem) => println!(
                    "device {}: the event log is not intact: event {} is {} ({} events before it are intact)",
                    device.device,
                    problem.event_id,
                    problem.kind.as_str().replace('_', " "),
                    device.events_checked
                ),
                None => println!(
                    "device {}: ok: {} events{}, chain head {} at event {}",
                    device.device,
                    device.events_checked,
                    if device.withheld > 0 {
                        format!(" ({} withheld, links checked)", device.withheld)
                    } else {
                        String::new()
                    },
                    device.head_hash,
                    device.head_id
                ),
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
