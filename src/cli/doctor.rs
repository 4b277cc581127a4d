//! `prodcode doctor`: is the installation able to record?

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::store::{SCHEMA_VERSION, Store};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON (see docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

/// Exit 0 when the database can be written, 1 otherwise.
pub fn run(db: anyhow::Result<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let report = match db {
        Ok(path) => check(&path),
        Err(error) => json!({ "ok": false, "problems": [format!("{error:#}")] }),
    };
    let ok = report["ok"] == true;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(path: &std::path::Path) -> Value {
    let existed = path.exists();
    let mut problems = Vec::new();
    let mut report = json!({
        "databasePath": path,
        "existed": existed,
        "binarySchemaVersion": SCHEMA_VERSION,
        "version": env!("CARGO_PKG_VERSION"),
    });
    match Store::open(path) {
        Ok(mut store) => {
            report["schemaVersion"] = json!(store.schema_version().ok());
            let writable = store.write(|_| Ok(())).is_ok();
            report["writable"] = json!(writable);
            if !writable {
                problems.push(format!("{} cannot be written", path.display()));
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path).map(|meta| meta.permissions().mode() & 0o777);
                report["fileMode"] = json!(mode.ok().map(|mode| format!("{mode:04o}")));
            }
            match store.counts() {
                Ok(counts) => {
                    report["counts"] = json!({
                        "events": counts.events,
                        "interactions": counts.interactions,
                        "prompts": counts.prompts,
                        "aiEdits": counts.ai_edits,
                        "snapshots": counts.snapshots,
                        "repositories": counts.repositories,
                    });
                }
                Err(error) => problems.push(error.to_string()),
            }
            match store.repositories() {
                Ok(repos) => {
                    report["repositories"] =
                        json!(repos.into_iter().map(|repo| repo.root).collect::<Vec<_>>());
                }
                Err(error) => problems.push(error.to_string()),
            }
        }
        Err(error) => {
            report["writable"] = json!(false);
            problems.push(error.to_string());
        }
    }
    report["ok"] = json!(problems.is_empty());
    report["problems"] = json!(problems);
    report
}

fn print_human(report: &Value) {
    let field = |name: &str| match &report[name] {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    println!("prodcode {}", field("version"));
    println!("database:        {}", field("databasePath"));
    println!(
        "schema version:  {} (this binary: {})",
        field("schemaVersion"),
        field("binarySchemaVersion")
    );
    println!("writable:        {}", field("writable"));
    println!("file mode:       {}", field("fileMode"));
    if let Some(counts) = report["counts"].as_object() {
        let counts: Vec<String> = counts
            .iter()
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        println!("recorded:        {}", counts.join(", "));
    }
    if let Some(repos) = report["repositories"].as_array() {
        println!("repositories:    {}", repos.len());
        for repo in repos {
            println!("  {}", repo.as_str().unwrap_or_default());
        }
    }
    for problem in report["problems"].as_array().into_iter().flatten() {
        println!("problem: {}", problem.as_str().unwrap_or_default());
    }
    if report["ok"] == true {
        println!("ok");
    }
}
