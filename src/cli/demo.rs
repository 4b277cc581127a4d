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
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        anyhow::bail!(
            "{} is not empty; give an empty or new directory",
            dir.display()
        );
    }
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

    // The evaluation: the built-in noop and gold agents and a scripted imperfect one, each run
    // twice on every task in sealed workspaces, then the report.
    let agent_script = dir.with_extension("agent.py");
    std::fs::write(&agent_script, crate::demo::DEMO_AGENT)
        .with_context(|| format!("cannot write {}", agent_script.display()))?;
    let runs = dir.with_extension("eval");
    let scripted = format!("scripted=python3 {} {{prompt}}", agent_script.display());
    println!(
        "\n$ prodcode eval --tasks {} --agent noop --agent gold --agent '{scripted}' --runs 2 --out {}",
        out.display(),
        runs.display()
    );
    let agents = ["noop", "gold", scripted.as_str()]
        .iter()
        .map(|spec| crate::eval::agent::parse(spec, &Default::default()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let options = crate::eval::Options {
        tasks: out.clone(),
        out: runs.clone(),
        agents,
        runs: 2,
        jobs: 1,
        harnesses: vec![crate::eval::Harness::Basic],
        contexts: vec![crate::eval::ContextFiles::Keep],
        timeout: std::time::Duration::from_secs(60),
        test_timeout: Some(std::time::Duration::from_secs(120)),
        sealed: true,
        keep_workspaces: false,
        only: Vec::new(),
        config: Default::default(),
        prodcode: std::env::current_exe().context("cannot find the prodcode binary")?,
        db: Some(db.clone()),
        cache: dir.with_extension("cache"),
    };
    let summary = crate::eval::eval(&options, &|progress| {
        if let crate::eval::Progress::Finished { result, .. } = progress {
            println!("  {}: {:?}", result.run_id, result.outcome);
        }
    })
    .context("cannot evaluate the sample tasks")?;
    let report = crate::eval::report::build(&summary.results, Vec::new(), None);
    let html = runs.join("report.html");
    std::fs::write(&html, crate::eval::report::html(&report))
        .with_context(|| format!("cannot write {}", html.display()))?;
    println!("\n$ prodcode report {}\n", runs.display());
    print!("{}", crate::eval::report::markdown(&report));
    println!(
        "\nThe sample repository is {} and the database {}.\nThe report is {} (open it in a browser).\nNext: prodcode stats --repo {}, or prodcode eval --tasks {} --agent claude",
        outcome.repo.display(),
        db.display(),
        html.display(),
        outcome.repo.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
