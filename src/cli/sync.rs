//! `prodcode sync`: push the local store to the team store (PostgreSQL, issue 17).
//!
//! Nothing leaves the machine unless the person names a team store, with `--to` or `[sync] url`
//! in their configuration. Repositories that opted out (`.prodcode-ignore`) stay local.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::store::team::{self, PushOptions, RepoIdentity, StoreUrl};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The team store: postgres://[USER[:PASSWORD]@]HOST[:PORT]/DBNAME[?sslmode=MODE] (the
    /// password is better kept in PGPASSWORD or ~/.pgpass) [default: `url` under [sync] in
    /// ~/.config/prodcode/config.toml]
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// Rows per server transaction
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub batch: usize,
    /// Give this database a new device id first: for a copy of another machine's database file,
    /// which must not push as that machine
    #[arg(long)]
    pub new_device: bool,
    /// Print JSON: { "store", "device", "events", "withheld", "headId", "tables": { NAME: ROWS } }
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let user = crate::config::load_user()?;
    let url = team_store_url(args.to.as_deref(), &user)?;
    if args.batch == 0 {
        anyhow::bail!("--batch must be at least 1");
    }
    if !db.exists() {
        anyhow::bail!("no database at {}: nothing to sync", db.display());
    }
    // What hook calls spooled is part of what is pushed.
    super::settle_hooks(db);
    let mut store = crate::store::Store::open(db)?;
    if args.new_device {
        let device = store.new_device_id()?;
        eprintln!("prodcode: this database is now device {device}");
    }
    let ignored_repos = prepare_repositories(&mut store)?;
    let mut client = url.connect()?;
    tracing::info!("pushing to {}", url.shown());
    let options = PushOptions {
        prompts: user.sync.prompts,
        batch: args.batch,
        ignored_repos,
    };
    let report = team::push(&mut store, &mut client, &options, crate::clock::now_ms())
        .with_context(|| format!("cannot push to {}", url.shown()))?;
    if args.json {
        let tables: serde_json::Map<String, serde_json::Value> = report
            .tables
            .iter()
            .map(|count| (count.table.to_owned(), json!(count.rows)))
            .collect();
        let out = json!({
            "store": url.shown(),
            "device": report.device,
            "events": report.events,
            "withheld": report.withheld,
            "headId": report.head_id,
            "tables": tables,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let rows: u64 = report.tables.iter().map(|count| count.rows).sum();
        if report.events == 0 && rows == 0 {
            println!(
                "up to date: {} holds events 1..{} of device {}",
                url.shown(),
                report.head_id,
                report.device
            );
        } else {
            println!(
                "pushed {} events and {rows} rows to {} as device {}; it holds events 1..{}",
                report.events,
                url.shown(),
                report.device,
                report.head_id
            );
            if report.withheld > 0 {
                println!(
                    "{} event payloads withheld (prompts not sent, or an opted-out repository)",
                    report.withheld
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--to`, else `[sync] url`; an error that says how to configure one when neither is set.
pub fn team_store_url(
    given: Option<&str>,
    user: &crate::config::UserConfig,
) -> anyhow::Result<StoreUrl> {
    let url = match given.or(user.sync.url.as_deref()) {
        Some(url) => url,
        None => anyhow::bail!(
            "no team store configured: pass --to postgres://… or set `url` under [sync] in {}",
            crate::config::user_config_path()
                .map(|path| path.display().to_string())
                .unwrap_or_else(|| "~/.config/prodcode/config.toml".to_owned())
        ),
    };
    Ok(StoreUrl::parse(url)?)
}

/// Finds how each repository is known across machines (once; git reads the root commit and
/// the remote) and which ones opted out of capture (their rows stay local).
fn prepare_repositories(store: &mut crate::store::Store) -> anyhow::Result<HashSet<i64>> {
    let mut ignored = HashSet::new();
    for (id, root, known) in store.repositories_for_sync()? {
        let path = Path::new(&root);
        if crate::capture::privacy::opted_out(path) {
            ignored.insert(id);
            continue;
        }
        if known || !path.is_dir() {
            continue;
        }
        let Ok(repo) = crate::git::Repo::open(path) else {
            continue;
        };
        let (root_commit, remote_url) = repo.identity();
        let identity = RepoIdentity {
            root_commit,
            remote_url: remote_url.map(|url| team::normalise_remote_url(&url)),
        };
        store.set_repository_identity(id, &identity, crate::clock::now_ms())?;
    }
    Ok(ignored)
}
