//! `prodcode install`: writes, and removes again, the configuration that makes each coding agent
//! call `prodcode hook <agent>`, and git's `post-commit` hook.
//!
//! Every change merges with what is there: prodcode adds its own entries where absent, never drops
//! or reorders anyone else's, and recognises its entries again by their command (see `agents`), so
//! installing twice changes nothing and uninstalling removes exactly what it added. A file that
//! cannot be parsed is an error and stays untouched. Before changing an existing file, prodcode
//! copies it to `<file>.prodcode-backup`; files are replaced atomically, through symlinks, keeping
//! their permissions. The formats and their sources are in `docs/install.md`.
//!
//! The pure halves (`agents`, `git`'s script edits, `json`) decide; this file does the IO.

mod agents;
mod codex_trust;
mod git;
mod json;

use std::io;
use std::path::{Path, PathBuf};

use self::json::Document;

/// Something `prodcode install` configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agent {
    Claude,
    Codex,
    Cursor,
    Copilot,
    Gemini,
    /// git's `post-commit` hook in one repository.
    Git,
}

impl Agent {
    pub const ALL: [Agent; 6] = [
        Agent::Claude,
        Agent::Codex,
        Agent::Cursor,
        Agent::Copilot,
        Agent::Gemini,
        Agent::Git,
    ];

    /// The name on the command line and in `prodcode hook <name>`.
    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Cursor => "cursor",
            Agent::Copilot => "copilot",
            Agent::Gemini => "gemini",
            Agent::Git => "git",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Codex => "Codex CLI",
            Agent::Cursor => "Cursor",
            Agent::Copilot => "GitHub Copilot CLI",
            Agent::Gemini => "Gemini CLI",
            Agent::Git => "git",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The agent's configuration in the home directory: every project.
    User,
    /// The configuration inside one project (for git: its repository).
    Project,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Project => "project",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Install,
    Uninstall,
}

/// The environment variables that say where agents keep their user configuration. Empty values
/// count as unset.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub home: Option<PathBuf>,
    pub claude_config_dir: Option<PathBuf>,
    pub codex_home: Option<PathBuf>,
    pub copilot_home: Option<PathBuf>,
}

impl Env {
    /// `$HOME`, `$CLAUDE_CONFIG_DIR`, `$CODEX_HOME`, `$COPILOT_HOME`.
    pub fn from_process() -> Env {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        Env {
            home: var("HOME"),
            claude_config_dir: var("CLAUDE_CONFIG_DIR"),
            codex_home: var("CODEX_HOME"),
            copilot_home: var("COPILOT_HOME"),
        }
    }
}

/// One `prodcode install` run.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub agent: Agent,
    pub action: Action,
    pub scope: Scope,
    /// The project for [`Scope::Project`]; for git, any directory in the repository.
    pub project_dir: &'a Path,
    /// The prodcode binary the hooks run: an absolute path, or a bare name found on `PATH` when
    /// the hook runs.
    pub program: &'a Path,
    pub env: &'a Env,
    /// Decide and report, but write nothing.
    pub dry_run: bool,
}

/// One entry prodcode added, found, refreshed or removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The agent's event name, or `post-commit` for git.
    pub event: String,
    /// The matcher group the entry is in, for agents that group handlers by matcher.
    pub matcher: Option<String>,
    pub status: Status,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Added,
    /// A prodcode entry that ran another binary now runs this one.
    Updated,
    /// Already there, unchanged.
    Present,
    Removed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Updated => "updated",
            Status::Present => "present",
            Status::Removed => "removed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileChange {
    Created,
    Modified,
    Deleted,
    Unchanged,
}

impl FileChange {
    pub fn as_str(self) -> &'static str {
        match self {
            FileChange::Created => "created",
            FileChange::Modified => "modified",
            FileChange::Deleted => "deleted",
            FileChange::Unchanged => "unchanged",
        }
    }
}

/// What a run did (or, dry, would do).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The configuration file (or git hook).
    pub path: PathBuf,
    /// The shell command every entry runs.
    pub command: String,
    pub changes: Vec<Change>,
    pub file: FileChange,
    /// Where the previous content was copied before the change.
    pub backup: Option<PathBuf>,
    /// git: where a hook in another language was moved (install) or moved back from (uninstall).
    pub chained: Option<PathBuf>,
    /// The file's content after the run; `None` when it is deleted.
    pub content: Option<String>,
    /// Things the person should know: settings that keep the hooks from running, trust prompts.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("no home directory: $HOME is not set")]
    NoHome,
    #[error(
        "git's post-commit hook belongs to one repository: use the project scope (the default for \
         git) with --project-dir"
    )]
    GitUserScope,
    #[error("the prodcode path {0} is not UTF-8, so it cannot be written into a hook command")]
    ProgramPath(PathBuf),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} cannot be edited: {detail}; the file is unchanged", path.display())]
    Malformed { path: PathBuf, detail: String },
    #[error("{} is not in a git repository: {detail}", dir.display())]
    NotARepository { dir: PathBuf, detail: String },
    #[error(
        "{} exists but is not executable, so git ignores it; make it executable (chmod +x) or \
         remove it, then run this again",
        path.display()
    )]
    HookNotExecutable { path: PathBuf },
}

/// The suffix of the copy taken before prodcode changes an existing file.
pub const BACKUP_SUFFIX: &str = ".prodcode-backup";

/// Installs or uninstalls as `request` says.
pub fn run(request: &Request) -> Result<Outcome, InstallError> {
    let program = shell_quote(request.program)?;
    match agents::spec(request.agent) {
        Some(spec) => {
            let command = agent_command(request.program, request.agent)?;
            run_agent(request, spec, &command)
        }
        None => run_git(request, &program),
    }
}

/// The command an agent's hooks run: `<dir>/prodcode-hook <agent>` when the hook program is
/// installed beside `program` (it starts in half the time, and an agent waits for every call),
/// else `<program> hook <agent>` (a bare name on `PATH`, or a binary without it). Git's
/// `post-commit` runs in the background and keeps `prodcode hook git`.
pub fn agent_command(program: &Path, agent: Agent) -> Result<String, InstallError> {
    let hook_program = program
        .is_absolute()
        .then(|| {
            program.with_file_name(format!(
                "{}{}",
                crate::capture::hook::HOOK_PROGRAM,
                std::env::consts::EXE_SUFFIX
            ))
        })
        .filter(|path| path.is_file());
    Ok(match hook_program {
        Some(path) => format!("{} {}", shell_quote(&path)?, agent.name()),
        None => format!("{} hook {}", shell_quote(program)?, agent.name()),
    })
}

/// The configuration file `request` edits.
pub fn config_path(request: &Request) -> Result<PathBuf, InstallError> {
    let env = request.env;
    let home = |dir: &str| {
        env.home
            .as_ref()
            .map(|home| home.join(dir))
            .ok_or(InstallError::NoHome)
    };
    let user_dir = |var: &Option<PathBuf>, dir: &str| var.clone().map_or_else(|| home(dir), Ok);
    let project = request.project_dir;
    let path = match (request.agent, request.scope) {
        (Agent::Claude, Scope::User) => {
            user_dir(&env.claude_config_dir, ".claude")?.join("settings.json")
        }
        (Agent::Claude, Scope::Project) => project.join(".claude/settings.json"),
        (Agent::Codex, Scope::User) => user_dir(&env.codex_home, ".codex")?.join("hooks.json"),
        (Agent::Codex, Scope::Project) => project.join(".codex/hooks.json"),
        (Agent::Cursor, Scope::User) => home(".cursor")?.join("hooks.json"),
        (Agent::Cursor, Scope::Project) => project.join(".cursor/hooks.json"),
        (Agent::Copilot, Scope::User) => {
            user_dir(&env.copilot_home, ".copilot")?.join("hooks/prodcode.json")
        }
        (Agent::Copilot, Scope::Project) => project.join(".github/hooks/prodcode.json"),
        (Agent::Gemini, Scope::User) => home(".gemini")?.join("settings.json"),
        (Agent::Gemini, Scope::Project) => project.join(".gemini/settings.json"),
        (Agent::Git, Scope::User) => return Err(InstallError::GitUserScope),
        (Agent::Git, Scope::Project) => crate::git::hooks_dir(project)
            .map_err(|detail| InstallError::NotARepository {
                dir: project.to_owned(),
                detail,
            })?
            .join("post-commit"),
    };
    Ok(path)
}

fn run_agent(
    request: &Request,
    spec: &agents::Spec,
    command: &str,
) -> Result<Outcome, InstallError> {
    let path = config_path(request)?;
    // Write through a symlink (settings kept in a dotfiles repository), not over it.
    let real = resolve_symlink(&path)?;
    let existing = read_text(&real)?;
    let malformed = |detail: String| InstallError::Malformed {
        path: path.clone(),
        detail,
    };
    let mut document = match &existing {
        Some(text) => Document::parse(text).map_err(|error| malformed(error.to_string()))?,
        None => Document::empty(),
    };
    let fresh = document.root.is_empty();
    let agent = request.agent;
    let changes = match request.action {
        Action::Install => agents::install(spec, agent, &mut document.root, command, fresh)
            .map_err(|error| malformed(format!("its hooks are not shaped as expected: {error}")))?,
        Action::Uninstall => agents::uninstall(spec, agent, &mut document.root, command),
    };
    let mut notes = agents::notes(agent, &document.root);
    if agent == Agent::Codex {
        let config = path.with_file_name("config.toml");
        let text = std::fs::read_to_string(&config).unwrap_or_default();
        if let Some(key) = agents::codex_hooks_switched_off(&text) {
            notes.push(format!(
                "`{key} = false` in {}: Codex runs no hooks",
                config.display()
            ));
        }
    }
    if request.action == Action::Install {
        notes.extend(install_notes(agent, request.scope));
    }
    let backup = backup_path(&real);
    let changed = changes
        .iter()
        .any(|change| change.status != Status::Present);
    let file = match &existing {
        _ if !changed => FileChange::Unchanged,
        None => FileChange::Created,
        Some(_)
            if request.action == Action::Uninstall
                && agents::is_bare(spec, &document.root)
                && !backup.exists() =>
        {
            FileChange::Deleted
        }
        Some(_) => FileChange::Modified,
    };
    let content = match file {
        FileChange::Deleted => None,
        FileChange::Unchanged => existing.clone(),
        _ => Some(document.render()),
    };
    let backup = (file == FileChange::Modified).then_some(backup);
    if !request.dry_run {
        commit(&real, file, content.as_deref(), backup.as_deref(), None)?;
    }
    if agent == Agent::Codex {
        notes.extend(codex_trust(
            request,
            &path,
            existing.as_deref(),
            content.as_deref(),
            command,
        )?);
    }
    Ok(Outcome {
        path,
        command: command.to_owned(),
        changes,
        file,
        backup,
        chained: None,
        content,
        notes,
    })
}

fn run_git(request: &Request, program: &str) -> Result<Outcome, InstallError> {
    let path = config_path(request)?;
    let existing = read_text(&path)?;
    let chained = path.with_file_name(git::CHAINED);
    let command = format!("{program} hook git");
    let script_error = |error: git::ScriptError| InstallError::Malformed {
        path: path.clone(),
        detail: error.to_string(),
    };
    let change = |status| Change {
        event: "post-commit".to_owned(),
        matcher: None,
        status,
    };
    let backup = backup_path(&path);
    let mut outcome = Outcome {
        path: path.clone(),
        command,
        changes: Vec::new(),
        file: FileChange::Unchanged,
        backup: None,
        chained: None,
        content: existing.clone(),
        notes: Vec::new(),
    };
    match request.action {
        Action::Install => {
            if existing.is_some() && !is_executable(&path)? {
                return Err(InstallError::HookNotExecutable { path });
            }
            match git::install(existing.as_deref(), program).map_err(script_error)? {
                git::InstallEdit::Present => outcome.changes.push(change(Status::Present)),
                git::InstallEdit::Write { content, added } => {
                    outcome.changes.push(change(if added {
                        Status::Added
                    } else {
                        Status::Updated
                    }));
                    outcome.file = match existing {
                        Some(_) => FileChange::Modified,
                        None => FileChange::Created,
                    };
                    outcome.backup = existing.is_some().then_some(backup);
                    outcome.content = Some(content);
                }
                git::InstallEdit::Chain { content } => {
                    if chained.exists() {
                        return Err(InstallError::Malformed {
                            path,
                            detail: format!(
                                "it is not a shell script and {} already exists",
                                chained.display()
                            ),
                        });
                    }
                    outcome.changes.push(change(Status::Added));
                    outcome.file = FileChange::Modified;
                    outcome.chained = Some(chained.clone());
                    outcome.content = Some(content);
                }
            }
        }
        Action::Uninstall => {
            match git::uninstall(existing.as_deref(), chained.exists()).map_err(script_error)? {
                git::UninstallEdit::Absent => {}
                git::UninstallEdit::Write { content } => {
                    outcome.changes.push(change(Status::Removed));
                    outcome.file = FileChange::Modified;
                    outcome.backup = Some(backup);
                    outcome.content = Some(content);
                }
                git::UninstallEdit::Delete => {
                    outcome.changes.push(change(Status::Removed));
                    outcome.file = FileChange::Deleted;
                    outcome.content = None;
                }
                git::UninstallEdit::Unchain => {
                    outcome.changes.push(change(Status::Removed));
                    outcome.file = FileChange::Modified;
                    outcome.content = std::fs::read_to_string(&chained).ok();
                    outcome.chained = Some(chained.clone());
                }
            }
        }
    }
    if request.dry_run {
        return Ok(outcome);
    }
    match (&outcome.chained, request.action) {
        (Some(chained), Action::Install) => {
            rename(&path, chained)?;
            write_atomic(
                &path,
                outcome.content.as_deref().unwrap_or_default(),
                Some(0o755),
            )?;
        }
        (Some(chained), Action::Uninstall) => {
            remove(&path)?;
            rename(chained, &path)?;
        }
        (None, _) => commit(
            &path,
            outcome.file,
            outcome.content.as_deref(),
            outcome.backup.as_deref(),
            Some(0o755),
        )?,
    }
    Ok(outcome)
}

/// Records (or, uninstalling, removes) the trust of prodcode's Codex hooks in the user's
/// `config.toml`, as Codex's `/hooks` screen does: Codex skips hooks it has not trusted, without
/// a word (`codex_trust`). Returns the notes to print.
fn codex_trust(
    request: &Request,
    hooks_path: &Path,
    before: Option<&str>,
    after: Option<&str>,
    command: &str,
) -> Result<Vec<String>, InstallError> {
    let home = match (&request.env.codex_home, &request.env.home) {
        (Some(dir), _) => dir.clone(),
        (None, Some(home)) => home.join(".codex"),
        (None, None) => return Err(InstallError::NoHome),
    };
    // How Codex keys the trust of a project's hooks has not been checked against a real Codex:
    // there the person trusts them.
    if request.scope == Scope::Project {
        return Ok(match request.action {
            Action::Install => vec![
                "Codex runs a new or changed hook only after you review and trust it: open \
                 /hooks in Codex in this project and trust prodcode's hooks"
                    .to_owned(),
            ],
            Action::Uninstall => Vec::new(),
        });
    }
    let config = home.join("config.toml");
    let source = hooks_path.to_string_lossy();
    let add = match request.action {
        Action::Install => codex_trust::entries(&source, after.unwrap_or_default(), command),
        Action::Uninstall => Vec::new(),
    };
    let remove: Vec<String> = codex_trust::entries(&source, before.unwrap_or_default(), command)
        .into_iter()
        .map(|trust| trust.key)
        .collect();
    let real = resolve_symlink(&config)?;
    let existing = read_text(&real)?.unwrap_or_default();
    let edited = codex_trust::edit(&existing, &add, &remove);
    if let Some(text) = &edited
        && !request.dry_run
    {
        if let Some(parent) = real.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        write_atomic(&real, text, Some(0o600))?;
    }
    let mut notes = Vec::new();
    match request.action {
        Action::Install => notes.push(format!(
            "Trust of the {} hooks recorded in {} (`[hooks.state]`, as Codex's /hooks screen \
             does){}; should Codex still skip them (`prodcode doctor` tells), open /hooks in \
             Codex and trust them",
            add.len(),
            config.display(),
            if edited.is_none() {
                ", already there"
            } else {
                ""
            },
        )),
        Action::Uninstall if edited.is_some() => notes.push(format!(
            "Trust of the hooks removed from {}",
            config.display()
        )),
        Action::Uninstall => {}
    }
    Ok(notes)
}

fn install_notes(agent: Agent, scope: Scope) -> Vec<String> {
    let mut notes = Vec::new();
    match agent {
        Agent::Git => {}
        _ => notes.push(format!(
            "{} reads its hooks when a session starts: restart running sessions",
            agent.title()
        )),
    }
    if agent == Agent::Codex {
        if scope == Scope::Project {
            notes.push(
                "Codex loads a project's .codex/hooks.json only in a trusted project".to_owned(),
            );
        }
        notes.push(
            "Codex versions from before hooks were on by default also need `codex_hooks = true` \
             under `[features]` in config.toml"
                .to_owned(),
        );
    }
    notes
}

/// Applies a decided change: backup, then write or delete. `new_mode` is for files created.
fn commit(
    path: &Path,
    file: FileChange,
    content: Option<&str>,
    backup: Option<&Path>,
    new_mode: Option<u32>,
) -> Result<(), InstallError> {
    if let Some(backup) = backup {
        // A copy keeps the permissions: settings files can hold API keys.
        std::fs::copy(path, backup).map_err(io_error(backup))?;
    }
    match (file, content) {
        (FileChange::Unchanged, _) => Ok(()),
        (FileChange::Deleted, _) => remove(path),
        (_, Some(content)) => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            write_atomic(path, content, new_mode)
        }
        (_, None) => Ok(()),
    }
}

/// Writes through a temporary file in the same directory and a rename, so a reader never sees
/// half a file. An existing file keeps its permissions (and its content is never readable under
/// looser ones in between); a new one gets `mode`, or the default.
fn write_atomic(path: &Path, content: &str, mode: Option<u32>) -> Result<(), InstallError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.prodcode-{}.tmp", std::process::id()));
    let existing = std::fs::metadata(path).ok();
    let result = (|| {
        let _ = std::fs::remove_file(&temp);
        let mut file = create_private(&temp, existing.is_some())?;
        io::Write::write_all(&mut file, content.as_bytes())?;
        file.sync_all()?;
        drop(file);
        match &existing {
            Some(meta) => std::fs::set_permissions(&temp, meta.permissions())?,
            None => set_mode(&temp, mode)?,
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io_error(path))
}

/// A new file, readable by its owner only when `private`.
fn create_private(path: &Path, private: bool) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match mode {
        Some(mode) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)),
        None => Ok(()),
    }
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: Option<u32>) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> Result<bool, InstallError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(io_error(path))?;
    Ok(meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> Result<bool, InstallError> {
    Ok(true)
}

fn remove(path: &Path) -> Result<(), InstallError> {
    std::fs::remove_file(path).map_err(io_error(path))
}

fn rename(from: &Path, to: &Path) -> Result<(), InstallError> {
    std::fs::rename(from, to).map_err(io_error(from))
}

fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

/// The file's text, `None` when it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, InstallError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| InstallError::Malformed {
                path: path.to_owned(),
                detail: "it is not UTF-8 text".to_owned(),
            }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(InstallError::Io {
            path: path.to_owned(),
            source: error,
        }),
    }
}

/// The file a symlink points at (following chains), or `path` itself.
fn resolve_symlink(path: &Path) -> Result<PathBuf, InstallError> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if !is_link {
        return Ok(path.to_owned());
    }
    let mut target = path.to_owned();
    for _ in 0..40 {
        let Ok(next) = std::fs::read_link(&target) else {
            return Ok(target);
        };
        target = match target.parent() {
            Some(parent) => parent.join(next),
            None => next,
        };
    }
    Err(InstallError::Io {
        path: path.to_owned(),
        source: io::Error::other("too many levels of symbolic links"),
    })
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `path` as one shell word: bare when it holds only safe characters, else single-quoted.
fn shell_quote(path: &Path) -> Result<String, InstallError> {
    let text = path
        .to_str()
        .ok_or_else(|| InstallError::ProgramPath(path.to_owned()))?;
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+@%:,=".contains(c);
    Ok(if !text.is_empty() && text.chars().all(safe) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(
            shell_quote(Path::new("/usr/bin/prodcode")).unwrap(),
            "/usr/bin/prodcode"
        );
        assert_eq!(
            shell_quote(Path::new("/a b/prodcode")).unwrap(),
            "'/a b/prodcode'"
        );
        assert_eq!(
            shell_quote(Path::new("/it's/prodcode")).unwrap(),
            r"'/it'\''s/prodcode'"
        );
    }
}
