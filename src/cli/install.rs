//! `prodcode install <agent>`: write (or, with `--uninstall`, remove) the hooks that make an agent
//! call `prodcode hook <agent>`, or git's `post-commit` hook. The formats, files and `--json`
//! shape are in `docs/install.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use crate::capture::install::{self, Action, Agent, FileChange, Outcome, Request, Scope, Status};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent to configure, or `git` for the repository's post-commit hook
    #[arg(value_enum)]
    pub agent: AgentArg,

    /// Remove prodcode's entries (and nothing else) instead of adding them
    #[arg(long)]
    pub uninstall: bool,

    /// Your home directory's configuration (every project) or one project's
    /// [default: user; git: project]
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,

    /// The project for `--scope project` and for git; implies `--scope project`
    /// [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,

    /// Print the resulting file instead of writing anything
    #[arg(long)]
    pub dry_run: bool,

    /// Print what changed as JSON (see docs/install.md)
    #[arg(long)]
    pub json: bool,

    /// The prodcode binary the hooks run; a bare name (`prodcode`) is looked up on PATH when the
    /// hook runs. Agents' hooks run the `prodcode-hook` beside it when there is one
    /// [default: this binary's absolute path]
    #[arg(long, value_name = "PATH")]
    pub exe: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum AgentArg {
    Claude,
    Codex,
    Cursor,
    Copilot,
    Gemini,
    Git,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ScopeArg {
    User,
    Project,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let agent = match args.agent {
        AgentArg::Claude => Agent::Claude,
        AgentArg::Codex => Agent::Codex,
        AgentArg::Cursor => Agent::Cursor,
        AgentArg::Copilot => Agent::Copilot,
        AgentArg::Gemini => Agent::Gemini,
        AgentArg::Git => Agent::Git,
    };
    let scope = match (args.scope, &args.project_dir, agent) {
        (Some(ScopeArg::User), Some(_), _) => {
            anyhow::bail!("--project-dir is for the project scope, not --scope user")
        }
        (Some(ScopeArg::User), None, _) => Scope::User,
        (Some(ScopeArg::Project), ..) | (None, Some(_), _) | (None, None, Agent::Git) => {
            Scope::Project
        }
        (None, None, _) => Scope::User,
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let project_dir = absolute(&cwd, args.project_dir.as_deref().unwrap_or(Path::new(".")));
    let program = match &args.exe {
        // A bare name stays bare: the agent's shell finds it on PATH (for files shared in a
        // project, where everyone's binary lives somewhere else).
        Some(path) if path.components().count() == 1 && !path.is_absolute() => path.clone(),
        Some(path) => absolute(&cwd, path),
        None => std::env::current_exe().context("cannot find the path of this binary")?,
    };
    let env = install::Env::from_process();
    let request = Request {
        agent,
        action: if args.uninstall {
            Action::Uninstall
        } else {
            Action::Install
        },
        scope,
        project_dir: &project_dir,
        program: &program,
        env: &env,
        dry_run: args.dry_run,
    };
    let outcome = install::run(&request)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&request, &outcome))?
        );
    } else {
        print_human(&request, &outcome);
    }
    Ok(ExitCode::SUCCESS)
}

/// `path` against `cwd`, lexically: `..` and symlinks are left for the OS to resolve.
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

fn to_json(request: &Request, outcome: &Outcome) -> Value {
    let entries: Vec<Value> = outcome
        .changes
        .iter()
        .map(|change| {
            json!({
                "event": change.event,
                "matcher": change.matcher,
                "status": change.status.as_str(),
            })
        })
        .collect();
    let mut report = json!({
        "agent": request.agent.name(),
        "action": match request.action {
            Action::Install => "install",
            Action::Uninstall => "uninstall",
        },
        "scope": request.scope.name(),
        "path": outcome.path,
        "command": outcome.command,
        "changed": outcome.file != FileChange::Unchanged,
        "file": outcome.file.as_str(),
        "dryRun": request.dry_run,
        "backup": outcome.backup,
        "entries": entries,
        "notes": outcome.notes,
    });
    if let Some(chained) = &outcome.chained {
        report["chained"] = json!(chained);
    }
    if request.dry_run {
        report["content"] = json!(outcome.content);
    }
    report
}

/// The summary on stdout; with `--dry-run` the file goes to stdout and the summary to stderr.
fn print_human(request: &Request, outcome: &Outcome) {
    let mut lines = vec![summary(request, outcome, request.dry_run)];
    for change in &outcome.changes {
        let matcher = change
            .matcher
            .as_deref()
            .map(|matcher| format!(" [{matcher}]"))
            .unwrap_or_default();
        lines.push(format!(
            "  {:<8} {}{matcher}",
            change.status.as_str(),
            change.event
        ));
    }
    if request.action == Action::Install {
        lines.push(format!("Each hook runs: {}", outcome.command));
    }
    let would = if request.dry_run { "would be " } else { "" };
    if let Some(backup) = &outcome.backup {
        let is = if request.dry_run { "would be" } else { "is" };
        lines.push(format!(
            "The previous file {is} saved as {}",
            backup.display()
        ));
    }
    if let Some(chained) = &outcome.chained {
        lines.push(match request.action {
            Action::Install => format!(
                "Your previous hook (not a shell script) {would}moved to {}; it still runs, after \
                 prodcode's block",
                chained.display()
            ),
            Action::Uninstall => format!(
                "Your previous hook {would}moved back from {}",
                chained.display()
            ),
        });
    }
    for note in &outcome.notes {
        lines.push(format!("Note: {note}"));
    }
    if request.dry_run {
        if let Some(content) = &outcome.content {
            print!("{content}");
        }
        for line in lines {
            eprintln!("{line}");
        }
    } else {
        for line in lines {
            println!("{line}");
        }
    }
}

/// One line: what happened to which file.
fn summary(request: &Request, outcome: &Outcome, dry: bool) -> String {
    let what = match request.agent {
        Agent::Git => "git post-commit hook".to_owned(),
        agent => format!("{} hooks", agent.title()),
    };
    let path = outcome.path.display();
    let scope = request.scope.name();
    let would = if dry { "would be " } else { "" };
    let are = if request.agent == Agent::Git {
        "is"
    } else {
        "are"
    };
    let any = |status| outcome.changes.iter().any(|change| change.status == status);
    match (request.action, outcome.file) {
        (Action::Install, FileChange::Unchanged) => {
            format!(
                "prodcode's {what} {are} already installed in {path} ({scope} scope); nothing changed"
            )
        }
        (Action::Uninstall, FileChange::Unchanged) => {
            format!("No prodcode {what} in {path} ({scope} scope); nothing changed")
        }
        (Action::Install, file) => {
            let verb = if any(Status::Added) {
                "installed"
            } else {
                "updated"
            };
            let file = if file == FileChange::Created {
                " (new file)"
            } else {
                ""
            };
            format!("prodcode's {what} {would}{verb} in {path}{file} ({scope} scope):")
        }
        (Action::Uninstall, file) => {
            let file = match (file, dry) {
                (FileChange::Deleted, false) => ", which held nothing else and is deleted",
                (FileChange::Deleted, true) => ", which holds nothing else and would be deleted",
                _ => "",
            };
            format!("prodcode's {what} {would}removed from {path}{file} ({scope} scope):")
        }
    }
}
