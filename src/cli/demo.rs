//! `prodcode demo`: run the pipeline on a generated sample repository.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::demo::{DemoConfig, run as run_demo};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to generate the sample repository [default: a new temporary directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let dir = match args.dir {
        Some(dir) => dir,
        None => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_millis())
                .unwrap_or(0);
            std::env::temp_dir().join(format!("prodcode-demo-{}-{stamp}", std::process::id()))
        }
    };
    // The demo records into its own database unless told otherwise, so it never mixes sample
    // work into a developer's real history.
    let db = db.unwrap_or_else(|| dir.with_extension("db"));
    let exe = std::env::current_exe().context("cannot find the prodcode binary")?;
    let config = DemoConfig {
        dir: dir.clone(),
        db: db.clone(),
        exe,
    };
    println!("prodcode demo\n");
    let outcome = run_demo(&config, &mut |line| println!("  - {line}"))?;
    for file in &outcome.files {
        println!("\n$ prodcode blame {}", file.display());
        super::blame::run(
            &db,
            super::blame::Args {
                file: file.clone(),
                rev: None,
                json: false,
            },
        )?;
    }
    println!("\n$ prodcode log");
    super::log::run(&db, super::log::Args::default())?;
    let out = dir.with_extension("tasks");
    println!(
        "\n$ prodcode curate --runs 2 --explain --out {}",
        out.display()
    );
    let mut store = crate::store::Store::open(&db)?;
    let repo = crate::git::Repo::open(&outcome.repo)?;
    crate::link::link(
        &mut store,
        &repo,
        &crate::link::Options::default(),
        &mut |_, _| {},
    )
    .context("cannot link the sample repository")?;
    drop(repo);
    let options = crate::curate::Options {
        repo: outcome.repo.clone(),
        out: out.clone(),
        cache: dir.with_extension("cache"),
        since_ms: i64::MIN,
        runs: 2,
        jobs: 1,
        base: crate::curate::BaseMode::Head,
        allow_p2p_only: false,
        timeout: Some(std::time::Duration::from_secs(120)),
        main: None,
    };
    let report = crate::curate::curate(&store, &options, &|_| {})
        .context("cannot curate the sample repository")?;
    super::curate::print_human(&report, true);
    println!(
        "\nThe sample repository is {} and the database {}.",
        outcome.repo.display(),
        db.display()
    );
    Ok(ExitCode::SUCCESS)
}
