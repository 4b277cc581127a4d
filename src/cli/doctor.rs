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
    let mut warnings: Vec<String> = Vec::new();
    let mut report = json!({
        "databasePath": path,
        "existed": existed,
        "binarySchemaVersion": SCHEMA_VERSION,
        "version": env!("CARGO_PKG_VERSION"),
    });
    // What hook calls spooled counts as run (and what the database cannot take is a warning).
    let waiting = crate::capture::hook::drain::settle(path);
    if waiting > 0 {
        warnings.push(crate::capture::hook::drain::waiting_note(path, waiting));
    }
    report["spooledHookEvents"] = json!(waiting);
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
            report["hooks"] = json!(hook_checks(&store, &mut warnings));
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
    report["warnings"] = json!(warnings);
    report
}

/// For each agent whose user configuration holds prodcode's hook: when it was installed (the
/// file's modification time) and when a hook of that agent last recorded a session. Hooks that
/// have not run since they were installed may be skipped by the agent (Codex runs only hooks it
/// trusts, silently) or not reached yet: a warning, not a problem.
fn hook_checks(store: &Store, warnings: &mut Vec<String>) -> Vec<Value> {
    use crate::capture::install::{self, Action, Agent, Env, Request, Scope};
    let env = Env::from_process();
    let mut checks = Vec::new();
    for agent in Agent::ALL {
        if agent == Agent::Git {
            continue;
        }
        let request = Request {
            agent,
            action: Action::Install,
            scope: Scope::User,
            project_dir: std::path::Path::new("."),
            program: std::path::Path::new("prodcode"),
            env: &env,
            dry_run: true,
        };
        let Ok(path) = install::config_path(&request) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let hook_program = format!("{} {}", crate::capture::hook::HOOK_PROGRAM, agent.name());
        if !text.contains(&format!(" hook {}", agent.name())) && !text.contains(&hook_program) {
            continue;
        }
        let installed_ms = std::fs::metadata(&path)
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|since| since.as_millis() as i64);
        let last_ms = store.last_hook_session_ms(agent.name()).ok().flatten();
        let ran =
            matches!((installed_ms, last_ms), (Some(installed), Some(last)) if last >= installed);
        if !ran {
            let hint = match agent {
                Agent::Codex => {
                    ": Codex skips hooks it has not trusted; run `prodcode install codex` again or open /hooks in Codex"
                }
                _ => "",
            };
            warnings.push(format!(
                "{}'s hooks in {} have not run since they were installed{hint}",
                agent.title(),
                path.display()
            ));
        }
        checks.push(json!({
            "agent": agent.name(),
            "config": path,
            "installedAt": installed_ms.map(crate::clock::format_rfc3339),
            "lastRunAt": last_ms.map(crate::clock::format_rfc3339),
            "ranSinceInstall": ran,
        }));
    }
    checks
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
    for warning in report["warnings"].as_array().into_iter().flatten() {
        println!("warning: {}", warning.as_str().unwrap_or_default());
    }
    for problem in report["problems"].as_array().into_iter().flatten() {
        println!("problem: {}", problem.as_str().unwrap_or_default());
    }
    if report["ok"] == true {
        println!("ok");
    }
}
