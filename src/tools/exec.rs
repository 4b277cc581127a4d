//! Runs one external command for a tool: bounded in time, bounded in memory, and leaving nothing
//! behind.
//!
//! Invariants:
//! - Without `shell`, the program is executed directly: arguments are never interpreted by a shell.
//! - The child leads its own process group. On timeout the whole group is killed with `SIGKILL`,
//!   and when the child exits, whatever it left running in its group is killed too, so a call
//!   never leaves processes behind (test runners that fork servers, `sh -c 'a & b'`).
//! - stdout and stderr are read concurrently and each keeps at most `cap_bytes`, the *tail*: the
//!   end of a test run's output (the failures, the summary) matters most.
//! - Never panics; every failure to start is an [`ExecError`] that says what to install or fix.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// What to run. Build it with a struct literal; [`CommandSpec::new`] covers the common case.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CommandSpec {
    /// The program (looked up on `PATH` when it has no `/`); with `shell`, the script for `sh -c`.
    pub program: String,
    /// Arguments, passed as they are; with `shell`, they become the script's `$1`, `$2`, ….
    pub args: Vec<String>,
    /// Working directory; it must exist.
    pub cwd: PathBuf,
    /// Variables added to (or overriding) the inherited environment.
    pub env: Vec<(String, String)>,
    /// Run `program` as a script with `sh -c`.
    pub shell: bool,
    /// Send stderr into the stdout pipe, so the two interleave in the order they were written
    /// (`cargo test` prints which binary runs on stderr, the results on stdout). `stderr` is then
    /// empty.
    pub merge_stderr: bool,
}

impl CommandSpec {
    /// A program with arguments, run directly in `cwd`.
    pub fn new(program: impl Into<String>, args: &[&str], cwd: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            cwd: cwd.into(),
            env: Vec::new(),
            shell: false,
            merge_stderr: false,
        }
    }

    /// The command line as the user would type it, for messages and results.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = Vec::with_capacity(self.args.len() + 3);
        if self.shell {
            argv.extend(["sh".to_owned(), "-c".to_owned(), self.program.clone()]);
            if !self.args.is_empty() {
                argv.push("prodcode".to_owned());
            }
        } else {
            argv.push(self.program.clone());
        }
        argv.extend(self.args.iter().cloned());
        argv
    }
}

/// How a command ended and what it printed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Execution {
    /// The exit code; `None` when a signal ended the process.
    pub status: Option<i32>,
    /// The signal that ended the process, if one did (`SIGKILL` after a timeout).
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub duration: Duration,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The start of stdout was dropped to keep `cap_bytes`.
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
}

impl Execution {
    /// Exited by itself with code 0.
    pub fn success(&self) -> bool {
        self.status == Some(0) && !self.timed_out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(
        "`{program}` was not found: install it or put it on PATH, or configure the command in prodcode.toml"
    )]
    NotFound { program: String },
    #[error(
        "`{program}` is not executable (permission denied): fix its permissions or configure another command in prodcode.toml"
    )]
    PermissionDenied { program: String },
    #[error("cannot run a command in {}: the directory does not exist", cwd.display())]
    MissingCwd { cwd: PathBuf },
    #[error("the command is empty: configure a program to run")]
    EmptyProgram,
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `spec`, killing its process group after `timeout`, keeping the last `cap_bytes` of stdout
/// and of stderr.
pub fn run(
    spec: &CommandSpec,
    timeout: Duration,
    cap_bytes: usize,
) -> Result<Execution, ExecError> {
    run_with_stdin(spec, None, timeout, cap_bytes)
}

/// [`run`] with standard input read from `stdin` (a file, so a command that never reads it
/// cannot block on a full pipe) instead of `/dev/null`.
pub fn run_with_stdin(
    spec: &CommandSpec,
    stdin: Option<std::fs::File>,
    timeout: Duration,
    cap_bytes: usize,
) -> Result<Execution, ExecError> {
    if spec.program.trim().is_empty() {
        return Err(ExecError::EmptyProgram);
    }
    if !spec.cwd.is_dir() {
        return Err(ExecError::MissingCwd {
            cwd: spec.cwd.clone(),
        });
    }
    let mut command = if spec.shell {
        let mut command = Command::new("sh");
        command.arg("-c").arg(&spec.program);
        if !spec.args.is_empty() {
            // `$0` of the script; the arguments follow as `$1`, `$2`, ….
            command.arg("prodcode").args(&spec.args);
        }
        command
    } else {
        let mut command = Command::new(&spec.program);
        command.args(&spec.args);
        command
    };
    command
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(key, value)| (key, value)))
        .stdin(stdin.map_or_else(Stdio::null, Stdio::from))
        .process_group(0);
    let spawn_error = |source: std::io::Error| {
        let program = if spec.shell { "sh" } else { &spec.program }.to_owned();
        match source.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound { program },
            std::io::ErrorKind::PermissionDenied => ExecError::PermissionDenied { program },
            _ => ExecError::Spawn { program, source },
        }
    };
    let merged_reader = if spec.merge_stderr {
        let (reader, writer) = std::io::pipe().map_err(spawn_error)?;
        command
            .stdout(writer.try_clone().map_err(spawn_error)?)
            .stderr(writer);
        Some(reader)
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        None
    };

    let started = Instant::now();
    let mut child = command.spawn().map_err(spawn_error)?;
    // `command` holds the write ends of a merged pipe; EOF comes only once it is dropped.
    drop(command);
    let stdout_reader: Box<dyn Read + Send> = match (merged_reader, child.stdout.take()) {
        (Some(merged), _) => Box::new(merged),
        (None, Some(stdout)) => Box::new(stdout),
        (None, None) => Box::new(std::io::empty()),
    };
    let stderr_reader = child.stderr.take();
    let pgid = child.id() as libc::pid_t;
    let _running = Running::register(pgid);

    let program = if spec.shell { "sh" } else { &spec.program };
    // Threads that cannot start (the system is out of them) end the call, and the child with it.
    let thread_error = |source: std::io::Error| {
        kill_group(pgid);
        ExecError::Spawn {
            program: program.to_owned(),
            source,
        }
    };
    let (done_sender, done_receiver) = mpsc::channel::<()>();
    let stdout_tail = Arc::new(Mutex::new(Tail::new(cap_bytes)));
    let stderr_tail = Arc::new(Mutex::new(Tail::new(cap_bytes)));
    let mut readers = 1;
    spawn_reader(stdout_reader, Arc::clone(&stdout_tail), done_sender.clone())
        .map_err(thread_error)?;
    if let Some(stderr_reader) = stderr_reader {
        readers += 1;
        spawn_reader(
            Box::new(stderr_reader),
            Arc::clone(&stderr_tail),
            done_sender,
        )
        .map_err(thread_error)?;
    } else {
        drop(done_sender);
    }

    let (status_sender, status_receiver) = mpsc::channel::<std::io::Result<ExitStatus>>();
    thread::Builder::new()
        .name("prodcode-exec-wait".to_owned())
        .spawn(move || {
            let _ = status_sender.send(child.wait());
        })
        .map_err(thread_error)?;
    let deadline = started.checked_add(timeout);
    let mut timed_out = false;
    let status = match status_receiver.recv_timeout(timeout) {
        Ok(status) => status.ok(),
        Err(_) => {
            timed_out = true;
            kill_group(pgid);
            status_receiver.recv().ok().and_then(Result::ok)
        }
    };
    // Whatever the child left running in its group would hold the pipes open and outlive the call.
    kill_group(pgid);
    // A process that left the group (setsid) may still hold a pipe: wait for the readers until the
    // deadline, then answer with what was read.
    for _ in 0..readers {
        let wait = deadline
            .map_or(timeout, |deadline| {
                deadline.saturating_duration_since(Instant::now())
            })
            .max(Duration::from_millis(100));
        if done_receiver.recv_timeout(wait).is_err() {
            break;
        }
    }
    let duration = started.elapsed();
    let (stdout, stdout_truncated) = take_tail(&stdout_tail);
    let (stderr, stderr_truncated) = take_tail(&stderr_tail);
    Ok(Execution {
        status: status.and_then(|status| status.code()),
        signal: status.and_then(|status| status.signal()),
        timed_out,
        duration,
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
    })
}

/// The process groups of the commands running now, so that a process ending on a signal can
/// take them with it ([`kill_running`]): each runs in a group of its own, which a terminal's
/// Ctrl-C does not reach.
static RUNNING: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// A registered process group, unregistered when dropped.
struct Running(libc::pid_t);

impl Running {
    fn register(pgid: libc::pid_t) -> Running {
        if let Ok(mut running) = RUNNING.lock() {
            running.push(pgid);
        }
        Running(pgid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|pgid| *pgid != self.0);
        }
    }
}

/// Kills every command [`run`] has running now, whole groups: for a process about to exit on
/// Ctrl-C or `SIGTERM`, so no test run outlives it.
pub fn kill_running() {
    let groups = RUNNING
        .lock()
        .map(|running| running.clone())
        .unwrap_or_default();
    for pgid in groups {
        kill_group(pgid);
    }
}

fn kill_group(pgid: libc::pid_t) {
    if pgid > 1 {
        // SAFETY: `kill` has no memory-safety preconditions; a group that is gone yields ESRCH.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

fn spawn_reader(
    mut reader: Box<dyn Read + Send>,
    tail: Arc<Mutex<Tail>>,
    done: mpsc::Sender<()>,
) -> std::io::Result<()> {
    thread::Builder::new()
        .name("prodcode-exec-read".to_owned())
        .spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(read) => {
                        if let Ok(mut tail) = tail.lock() {
                            tail.push(&chunk[..read]);
                        }
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = done.send(());
        })
        .map(drop)
}

fn take_tail(tail: &Mutex<Tail>) -> (Vec<u8>, bool) {
    match tail.lock() {
        Ok(mut tail) => tail.finish(),
        Err(poisoned) => poisoned.into_inner().finish(),
    }
}

/// The last `cap` bytes of a stream.
struct Tail {
    buffer: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl Tail {
    fn new(cap: usize) -> Self {
        Self {
            buffer: Vec::new(),
            cap,
            truncated: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        // Drop the front in batches, not on every chunk.
        if self.buffer.len()
            > self
                .cap
                .saturating_mul(2)
                .max(self.cap.saturating_add(65536))
        {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.buffer.len() > self.cap {
            let excess = self.buffer.len() - self.cap;
            self.buffer.drain(..excess);
            self.truncated = true;
        }
    }

    fn finish(&mut self) -> (Vec<u8>, bool) {
        self.trim();
        (std::mem::take(&mut self.buffer), self.truncated)
    }
}

/// Finds `program` on `PATH`, as an executable file (only absolute `PATH` entries).
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

/// For tests that drive a third-party program: whether `program` is on `PATH`. When it is not,
/// the test fails under `PRODCODE_REQUIRE_TOOLS=1` (CI installs every such program) and is
/// skipped otherwise, saying so on stderr.
#[cfg(test)]
pub(crate) fn tool_available(program: &str) -> bool {
    if find_on_path(program).is_some() {
        return true;
    }
    assert!(
        std::env::var("PRODCODE_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "{program} is required (PRODCODE_REQUIRE_TOOLS=1) but is not on PATH"
    );
    eprintln!("skipped: {program} not installed");
    false
}

/// Whether `path` is a regular file someone may execute.
pub fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

/// The words of a configured command: argv as given; a string split on whitespace, or kept whole
/// as the script of `sh -c` with `shell`.
pub fn command_words(command: &super::runner::CommandLine, shell: bool) -> Vec<String> {
    use super::runner::CommandLine;
    match (command, shell) {
        (CommandLine::Line(line), true) => vec![line.clone()],
        (CommandLine::Line(line), false) => line.split_whitespace().map(str::to_owned).collect(),
        (CommandLine::Argv(argv), _) => argv.clone(),
    }
}

/// The name answers give a configured program: its file name (`make` for `/usr/bin/make`), the
/// first word of a shell script.
pub fn program_name(program: &str) -> String {
    let first = program.split_whitespace().next().unwrap_or(program);
    std::path::Path::new(first).file_name().map_or_else(
        || first.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: usize = 1 << 20;

    fn sh(script: &str) -> CommandSpec {
        CommandSpec {
            shell: true,
            ..CommandSpec::new(script, &[], std::env::temp_dir())
        }
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn exit_code_and_both_streams() {
        let execution = run(
            &sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
            CAP,
        )
        .unwrap();
        assert_eq!(execution.status, Some(3));
        assert_eq!(execution.signal, None);
        assert!(!execution.timed_out);
        assert_eq!(text(&execution.stdout), "out\n");
        assert_eq!(text(&execution.stderr), "err\n");
        assert!(!execution.success());
    }

    #[test]
    fn merged_streams_keep_their_order() {
        let spec = CommandSpec {
            merge_stderr: true,
            ..sh("echo one; echo two >&2; echo three")
        };
        let execution = run(&spec, Duration::from_secs(10), CAP).unwrap();
        assert_eq!(text(&execution.stdout), "one\ntwo\nthree\n");
        assert!(execution.stderr.is_empty());
        assert!(execution.success());
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let spec = CommandSpec {
            args: vec![pids.display().to_string()],
            ..sh("sleep 30 & echo $! >> \"$1\"; sleep 30 & echo $! >> \"$1\"; wait")
        };
        let started = Instant::now();
        let execution = run(&spec, Duration::from_millis(500), CAP).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(execution.timed_out);
        assert_eq!(execution.status, None);
        assert_eq!(execution.signal, Some(libc::SIGKILL));
        let pids = std::fs::read_to_string(&pids).unwrap();
        assert_eq!(pids.lines().count(), 2, "{pids}");
        // Killed processes disappear or linger as zombies (empty cmdline) until reaped.
        thread::sleep(Duration::from_millis(100));
        for pid in pids.lines() {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            assert!(!cmdline.starts_with(b"sleep"), "sleep {pid} survived");
        }
    }

    #[test]
    fn background_children_do_not_outlive_a_normal_exit() {
        let started = Instant::now();
        let execution = run(&sh("sleep 30 & echo started"), Duration::from_secs(20), CAP).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(execution.status, Some(0));
        assert!(!execution.timed_out);
        assert_eq!(text(&execution.stdout), "started\n");
    }

    #[test]
    fn a_huge_timeout_does_not_overflow() {
        let execution = run(&sh("echo ok"), Duration::MAX, CAP).unwrap();
        assert!(execution.success());
    }

    #[test]
    fn cap_keeps_the_tail_and_flags_truncation() {
        let execution = run(&sh("seq 1 100000"), Duration::from_secs(10), 100).unwrap();
        assert!(execution.stdout_truncated);
        assert_eq!(execution.stdout.len(), 100);
        assert!(text(&execution.stdout).ends_with("99999\n100000\n"));
        assert!(!execution.stderr_truncated);

        let execution = run(&sh("echo short"), Duration::from_secs(10), 100).unwrap();
        assert!(!execution.stdout_truncated);
        assert_eq!(text(&execution.stdout), "short\n");
    }

    #[test]
    fn env_and_cwd_are_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let spec = CommandSpec {
            env: vec![(
                "PRODCODE_EXEC_TEST".to_owned(),
                "value with spaces".to_owned(),
            )],
            ..CommandSpec::new(
                "sh",
                &["-c", "pwd; echo \"$PRODCODE_EXEC_TEST\""],
                dir.path(),
            )
        };
        let execution = run(&spec, Duration::from_secs(10), CAP).unwrap();
        let canonical = dir.path().canonicalize().unwrap();
        assert_eq!(
            text(&execution.stdout),
            format!("{}\nvalue with spaces\n", canonical.display())
        );
    }

    #[test]
    fn arguments_are_not_interpreted_without_shell() {
        let spec = CommandSpec::new("echo", &["$HOME", "a;b", "*", "`id`"], std::env::temp_dir());
        let execution = run(&spec, Duration::from_secs(10), CAP).unwrap();
        assert_eq!(text(&execution.stdout), "$HOME a;b * `id`\n");
    }

    #[test]
    fn shell_arguments_are_positional_parameters() {
        let spec = CommandSpec {
            args: vec!["a b".to_owned(), "c".to_owned()],
            ..sh("echo \"$1|$2\"")
        };
        let execution = run(&spec, Duration::from_secs(10), CAP).unwrap();
        assert_eq!(text(&execution.stdout), "a b|c\n");
        assert_eq!(
            spec.argv(),
            ["sh", "-c", "echo \"$1|$2\"", "prodcode", "a b", "c"]
        );
    }

    #[test]
    fn a_missing_program_says_what_to_do() {
        let spec = CommandSpec::new("prodcode-no-such-program", &[], std::env::temp_dir());
        let error = run(&spec, Duration::from_secs(10), CAP).unwrap_err();
        assert!(matches!(error, ExecError::NotFound { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("prodcode-no-such-program"), "{message}");
        assert!(message.contains("install"), "{message}");
    }

    #[test]
    fn a_missing_directory_or_empty_program_is_an_error() {
        let spec = CommandSpec::new("true", &[], "/nonexistent/prodcode");
        let error = run(&spec, Duration::from_secs(10), CAP).unwrap_err();
        assert!(matches!(error, ExecError::MissingCwd { .. }), "{error:?}");
        let spec = CommandSpec::new(" ", &[], std::env::temp_dir());
        let error = run(&spec, Duration::from_secs(10), CAP).unwrap_err();
        assert!(matches!(error, ExecError::EmptyProgram), "{error:?}");
    }
}
