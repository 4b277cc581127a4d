//! Argument parsing and dispatch; one file per subcommand.
//!
//! Every command that lists things takes `--json`; human output goes to stdout, diagnostics to
//! stderr. The JSON shapes are contracts (`docs/cli.md`), built here from the store's plain types.

mod blame;
mod completions;
mod curate;
mod demo;
mod doctor;
mod eval;
mod export;
pub mod hook;
mod import;
mod install;
mod link;
mod log;
mod mcp;
mod report;
mod stats;
mod sync;
mod tool;
pub mod toolbox;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "prodcode",
    version,
    about = "Turns your AI-assisted coding sessions into an execution-checked benchmark of your own codebase",
    long_about = None
)]
pub struct Cli {
    /// The database to use [default: $XDG_DATA_HOME/prodcode/prodcode.db]
    #[arg(long, global = true, env = "PRODCODE_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Log level for stderr (error, warn, info, debug, trace) or a tracing filter
    #[arg(
        long,
        global = true,
        env = "PRODCODE_LOG",
        default_value = "warn",
        value_name = "FILTER"
    )]
    pub log: String,

    /// Write logs to this file instead of stderr
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the language-server daemon on stdin/stdout (started by your editor)
    Lsp,
    /// Serve the tools (diagnostics, tests, navigation, format, search) to agents over MCP
    Mcp(mcp::Args),
    /// Record one agent hook payload from stdin (called by the agent; never fails it)
    Hook(hook::Args),
    /// Write (or remove) prodcode's hooks in an agent's configuration, or git's post-commit hook
    Install(install::Args),
    /// Backfill prompts and edits from Claude Code transcripts or Codex rollouts
    Import(import::Args),
    /// Attribute new commits' lines and follow them until they land on the main branch
    Link(link::Args),
    /// List recent interactions (prompts) with the AI edits they caused
    Log(log::Args),
    /// Show the provenance of every line of a file, from its commits and what prodcode saved
    Blame(blame::Args),
    /// Count added lines by class, agent, model and interaction over commits on main or a range
    Stats(stats::Args),
    /// Write for other tools: Agent Trace records per commit, or tasks as Harbor task directories
    Export(export::Args),
    /// Call one tool (diagnostics, tests, navigation, format, search) and print its answer
    Tool(tool::Args),
    /// Check the hash chain of the event log; report the first tampered or missing event
    Verify(verify::Args),
    /// Push the provenance log to the team store (PostgreSQL) so curation sees the whole team
    Sync(sync::Args),
    /// Check the installation: database path, schema version, writability, repositories seen
    Doctor(doctor::Args),
    /// Turn landed single-turn interactions into benchmark tasks with stable fail-to-pass tests
    Curate(curate::Args),
    /// Run agents on curated tasks in sealed workspaces and grade them by the tasks' tests
    Eval(eval::Args),
    /// Solve rates with 95% intervals, pass@k, cost and tool use of an evaluation's runs
    Report(report::Args),
    /// Run the whole pipeline on a generated sample repository and show the result
    Demo(demo::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(completions::CompletionsArgs),
    /// Print the manual page, or write one per command with --out
    Man(completions::ManArgs),
}

impl Command {
    /// Commands whose stdout is a protocol channel (the daemon, the MCP server) or whose caller
    /// must never see them fail (hooks): they handle a closed pipe themselves. Every other
    /// command ends quietly when its reader goes away (`prodcode link | head -2`).
    pub fn owns_its_pipes(&self) -> bool {
        matches!(self, Command::Lsp | Command::Mcp(_) | Command::Hook(_))
    }
}

pub fn parse() -> Cli {
    Cli::parse()
}

/// Logs go to stderr or a file, never stdout: stdout is the LSP channel.
pub fn init_logging(cli: &Cli) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let file = cli.log_file.as_ref().and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| {
                eprintln!("prodcode: cannot open log file {}: {error}", path.display())
            })
            .ok()
    });
    let _ = match file {
        Some(file) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init(),
        // Colours only for a person at a terminal, never into a file or a pipe.
        None => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .try_init(),
    };
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let db = cli.db.clone();
    match cli.command {
        Command::Lsp => {
            // The daemon runs even when no database path can be found: it still serves text and
            // provenance, and says in `prodcode/status` why nothing is recorded.
            let db_path = db_path(db).ok();
            let recorder_db = db_path.clone();
            let open_toolbox: crate::lsp::OpenToolbox =
                Box::new(move |root| toolbox::open(recorder_db.clone(), Some(root)));
            let clean = crate::lsp::run(crate::lsp::Config {
                db_path,
                open_toolbox,
            });
            Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Mcp(args) => mcp::run(db, args),
        Command::Tool(args) => tool::run(db, args),
        Command::Hook(args) => hook::run(db, args),
        Command::Install(args) => install::run(args),
        Command::Import(args) => import::run(&db_path(db)?, args),
        Command::Link(args) => link::run(&db_path(db)?, args),
        Command::Log(args) => match &args.store {
            Some(url) => {
                let cache = team_cache(url, args.repo.as_deref())?;
                log::run(&cache, args)
            }
            None => log::run(&db_path(db)?, args),
        },
        Command::Blame(args) => blame::run(&db_path(db)?, args),
        Command::Stats(args) => match &args.store {
            Some(url) => {
                let cache = team_cache(url, args.repo.as_deref())?;
                stats::run(&cache, args)
            }
            None => stats::run(&db_path(db)?, args),
        },
        Command::Export(args) => export::run(db, args),
        Command::Verify(args) => verify::run(db, args),
        Command::Sync(args) => sync::run(&db_path(db)?, args),
        Command::Doctor(args) => doctor::run(db_path(db), args),
        Command::Curate(mut args) => match args.store.clone() {
            Some(url) => {
                let cache = team_cache(&url, args.repo.as_deref())?;
                args.no_link = true;
                curate::run(&cache, args)
            }
            None => curate::run(&db_path(db)?, args),
        },
        Command::Eval(args) => eval::run(db, args),
        Command::Report(args) => report::run(args),
        Command::Demo(args) => demo::run(db, args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// `--db`, else `PRODCODE_DB` (both through clap), else the default location.
fn db_path(db: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match db {
        Some(path) => Ok(path),
        None => crate::store::default_path().context("no database path"),
    }
}

/// `--store URL` on a read command: the team store's rows of the repository around `dir` (the
/// current directory by default), pulled from every device into a private SQLite file under the
/// cache directory, which the command then reads as it reads a local store. The file is built
/// beside its final name and renamed over it, so two reads at once never see half of one.
fn team_cache(url: &str, dir: Option<&std::path::Path>) -> anyhow::Result<PathBuf> {
    use crate::store::team::{self, RepoIdentity, StoreUrl};
    let url = StoreUrl::parse(url)?;
    let dir = match dir {
        Some(dir) => dir.to_path_buf(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let repo = crate::git::Repo::open(&dir)?;
    let (root_commit, remote_url) = repo.identity();
    let identity = RepoIdentity {
        root_commit,
        remote_url: remote_url.map(|url| team::normalise_remote_url(&url)),
    };
    let root = repo.root().to_string_lossy().into_owned();
    drop(repo);
    let cache_dir = crate::curate::cache_dir()
        .context("no cache directory for the team store's rows: set PRODCODE_CACHE_DIR or HOME")?
        .join("team");
    std::fs::create_dir_all(&cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    // Prompts are private data: the directory is the owner's only.
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o700));
    let key = crate::model::hex(
        ring::digest::digest(
            &ring::digest::SHA256,
            format!("{}\n{root}", url.shown()).as_bytes(),
        )
        .as_ref(),
    );
    let path = cache_dir.join(format!("{}.db", &key[..16]));
    let building = cache_dir.join(format!("{}.{}.building.db", &key[..16], std::process::id()));
    let mut client = url.connect()?;
    let pulled = crate::store::team::pull_repository(&mut client, &identity, &root, &building)
        .with_context(|| format!("cannot read {} from {}", root, url.shown()));
    if let Err(error) = pulled {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
        }
        return Err(error);
    }
    std::fs::rename(&building, &path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(path)
}

/// Milliseconds since the epoch as RFC 3339 UTC, for human and JSON output.
pub use crate::clock::format_rfc3339 as rfc3339;

/// The database at `path` if it exists, opened read-only: read commands never create one, never
/// change the file they read, and work on a store they may not write (a read-only mount, a
/// copy kept as evidence).
fn open_existing(path: &std::path::Path) -> anyhow::Result<Option<crate::store::Store>> {
    settle_hooks(path);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(crate::store::Store::open_read_only(path)?))
}

/// Before a command reads the store: waits until what hook calls spooled is recorded (see
/// `capture::hook::drain`), and warns about what could not be.
pub fn settle_hooks(path: &std::path::Path) {
    let waiting = crate::capture::hook::drain::settle(path);
    if waiting > 0 {
        tracing::warn!(
            "{}",
            crate::capture::hook::drain::waiting_note(path, waiting)
        );
    }
}
