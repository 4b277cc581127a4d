//! `prodcode hook <agent>`: record one agent hook payload from stdin. The agent's hook
//! configuration (written by `prodcode install`) runs it; it always exits 0 and prints only what
//! the agent reads as "carry on" (see `capture::hook::reply`), whatever happens.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::capture::hook::{self, BUSY_TIMEOUT, Call, Config, MAX_INPUT_BYTES};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent whose hook payload is on stdin: claude, codex, cursor, copilot, gemini,
    /// prodcode (the generic format in docs/hooks.md), or git (post-commit, no stdin)
    #[arg(required_unless_present = "drain")]
    pub agent: Option<String>,
    /// The hook event, for agents whose payload does not name it (Copilot CLI's camelCase hooks)
    #[arg(long, value_name = "NAME")]
    pub event: Option<String>,
    /// Record what hook calls left in the spool now, and wait until it is recorded (hook calls
    /// start this in the background themselves; run it by hand before reading the database
    /// with other tools)
    #[arg(long, conflicts_with_all = ["agent", "event"])]
    pub drain: bool,
    /// With --drain: keep looking for new entries this long before exiting
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 0,
        requires = "drain",
        hide = true
    )]
    pub linger_ms: u64,
}

pub fn run(db: Option<PathBuf>, args: Args) -> anyhow::Result<ExitCode> {
    let received_ms = hook::now_ms();
    let Some(agent) = args.agent else {
        return drain(db, args.linger_ms);
    };
    keep_freed_memory();
    let db_path = db.or_else(|| crate::store::default_path().ok());
    // A panic message belongs in the hook log, not on the agent's stderr.
    let log_db = db_path.clone();
    let log_agent = agent.clone();
    std::panic::set_hook(Box::new(move |info| {
        let _ = hook::spool::log(log_db.as_deref(), &log_agent, &format!("panic: {info}"));
    }));
    let input = if agent == "git" {
        Vec::new()
    } else {
        read_stdin()
    };
    let cwd = std::env::current_dir().ok();
    let reply = hook::handle(
        &Config {
            db_path: db_path.clone(),
            busy_timeout: BUSY_TIMEOUT,
        },
        &Call {
            agent: &agent,
            event: args.event.as_deref(),
            input: &input,
            cwd: cwd.clone(),
            received_ms,
        },
    );
    // A repository that opted out (`.prodcode-ignore`) is not linked either: linking writes its
    // commits to the database (and under load the background link created the file the opt-out
    // test expects never to exist).
    if agent == "git"
        && let (Some(db_path), Some(cwd)) = (db_path, cwd)
        && !crate::capture::privacy::opted_out(&cwd)
    {
        link_in_background(&db_path, &cwd);
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(reply.stdout.as_bytes());
    let _ = stdout.flush();
    if !reply.stderr.is_empty() {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(reply.stderr.as_bytes());
        let _ = stderr.flush();
    }
    Ok(ExitCode::SUCCESS)
}

/// What `prodcode-hook`, which starts without Rust's runtime setup (`src/bin`), needs of it:
/// the standard descriptors open (a file the hook opens must never become its stdout, or the
/// reply would be written into it), and SIGPIPE ignored (an agent that stopped reading gets
/// an error on the write, not a killed hook).
pub fn prepare_process() {
    #[cfg(unix)]
    // SAFETY: poll reads the array it is given; open and signal take valid arguments. Called
    // first thing in `main`, before any other thread or descriptor exists.
    unsafe {
        let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        });
        if libc::poll(fds.as_mut_ptr(), 3, 0) > 0 {
            for fd in fds {
                // The lowest free descriptor: the closed one.
                if fd.revents & libc::POLLNVAL != 0
                    && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) != fd.fd
                {
                    libc::abort();
                }
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// `prodcode-hook <agent> [--event NAME] [--db PATH]` (the binary agents' hooks run, see
/// [`hook::HOOK_PROGRAM`]): exactly `prodcode hook <agent> …`, without the rest of the command
/// line interface. Any other command line is handed to `prodcode hook` unchanged.
pub fn hook_program_main() -> ExitCode {
    hook::mark_hook_program();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|first| first.to_str()) {
        Some("--version" | "-V") => {
            println!("{} {}", hook::HOOK_PROGRAM, env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            println!(
                "Records one agent hook payload from stdin, as `prodcode hook` does.\n\n\
                 Usage: {} <AGENT> [--event NAME] [--db PATH]\n\n\
                 Any other command line is handed to `prodcode hook`; see `prodcode hook --help`.",
                hook::HOOK_PROGRAM
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    match hook_program_args(&args) {
        Some((db, args)) => run(db, args).unwrap_or(ExitCode::SUCCESS),
        None => hand_over(&args),
    }
}

/// The database and arguments of the one command line `prodcode-hook` reads itself.
fn hook_program_args(args: &[OsString]) -> Option<(Option<PathBuf>, Args)> {
    let mut db = std::env::var_os("PRODCODE_DB")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from);
    let mut agent = None;
    let mut event = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let text = word.to_str()?;
        match text.split_once('=') {
            Some(("--db", value)) => db = Some(PathBuf::from(value)),
            Some(("--event", value)) => event = Some(value.to_owned()),
            _ if text == "--db" => db = Some(PathBuf::from(words.next()?)),
            _ if text == "--event" => event = Some(words.next()?.to_str()?.to_owned()),
            _ if !text.starts_with('-') && agent.is_none() => agent = Some(text.to_owned()),
            _ => return None,
        }
    }
    Some((
        db,
        Args {
            agent: Some(agent?),
            event,
            drain: false,
            linger_ms: 0,
        },
    ))
}

/// Runs `prodcode hook <args>` in this process's place; when that cannot start, the call is
/// logged and the agent still gets its zero exit.
fn hand_over(args: &[OsString]) -> ExitCode {
    let error = match hook::prodcode_program() {
        Ok(program) => {
            use std::os::unix::process::CommandExt;
            std::process::Command::new(program)
                .arg("hook")
                .args(args)
                .exec()
        }
        Err(error) => error,
    };
    let db = crate::store::default_path().ok();
    let _ = hook::spool::log(
        db.as_deref(),
        hook::HOOK_PROGRAM,
        &format!("cannot hand {args:?} to prodcode hook: {error}"),
    );
    ExitCode::SUCCESS
}

/// A call on a big file parses, copies and writes buffers of megabytes, each of which glibc
/// would map fresh (and the kernel fault in page by page) and unmap when freed: heap memory
/// freed by one is reused by the next instead. A hook lives milliseconds; nothing is held.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any large allocation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

/// `prodcode hook --drain`: records the spool; says what it did when run by a person.
fn drain(db: Option<PathBuf>, linger_ms: u64) -> anyhow::Result<ExitCode> {
    let db = super::db_path(db)?;
    let drained = if linger_ms == 0 {
        // By hand, or a test: wait for a running drainer rather than leave at once.
        hook::drain::settle_counted(&db)
    } else {
        hook::drain::drain(&db, std::time::Duration::from_millis(linger_ms))
    };
    if drained.waiting > 0 {
        anyhow::bail!("{}", hook::drain::waiting_note(&db, drained.waiting));
    }
    if std::io::stderr().is_terminal() {
        eprintln!("recorded {} spooled hook event(s)", drained.recorded);
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts `prodcode link` for the repository at `cwd` and does not wait for it: git's
/// `post-commit` hook waits for this process, and linking must never add to `git commit`.
fn link_in_background(db: &std::path::Path, cwd: &std::path::Path) {
    use std::process::{Command, Stdio};
    let program = match hook::prodcode_program() {
        Ok(program) => program,
        Err(error) => {
            let _ = hook::spool::log(
                Some(db),
                "git",
                &format!("cannot start prodcode link: {error}"),
            );
            return;
        }
    };
    let mut command = Command::new(program);
    command
        .arg("link")
        .arg("--quiet")
        .arg("--repo")
        .arg(cwd)
        .arg("--db")
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Its own process group: a Ctrl-C meant for the terminal's git does not stop it.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let spawned = command.spawn();
    if let Err(error) = spawned {
        let _ = hook::spool::log(
            Some(db),
            "git",
            &format!("cannot start prodcode link: {error}"),
        );
    }
}

/// stdin up to [`MAX_INPUT_BYTES`]; nothing when it is a terminal (run by hand, nothing piped).
fn read_stdin() -> Vec<u8> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Vec::new();
    }
    let mut input = Vec::new();
    let _ = stdin
        .lock()
        .take(MAX_INPUT_BYTES as u64)
        .read_to_end(&mut input);
    input
}
