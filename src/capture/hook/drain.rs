//! Recording what hook calls spooled, after their agent has moved on.
//!
//! A hook call observes what cannot wait (the files as they are, the repository) and writes the
//! observation to the spool; then it exits, and the agent goes on. Recording the observation in
//! the store (a SQLite open, a write transaction, a checkpoint on close: most of a call's time)
//! is the drainer's: `prodcode hook --drain`, which the hook starts in the background when no
//! drainer is running. It records every waiting entry in receipt order, looks for more every
//! [`POLL`] for [`LINGER`] (an agent's next call usually comes sooner, and is then recorded by
//! the same process, without starting another), and exits. It holds the database open only
//! while there is something to record.
//!
//! One drainer per database: it holds an exclusive `flock` on `<db file>.drain.lock` while it
//! runs. A hook writes its entry first and only then tries the lock; when the lock is held it
//! starts nothing, because the holder looks at the spool again after letting the lock go, so an
//! entry written before the lock was let go is never stranded. Ingestion itself stays
//! exactly-once through `hook_spool_ingested`, so a second process draining the same spool
//! (a reader's [`settle`], a hook that had to record in-process) only costs time.
//!
//! Readers never miss an entry: every command that reports on the store (`log`, `blame`,
//! `stats`, `export`, `verify`, `link`, `curate`, the daemon's linker) first calls [`settle`],
//! which waits for a running drainer to empty the spool, or records it in-process when none
//! runs; what stays in the spool (a database nobody can write) is counted so the command can
//! say so.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::spool::{self, Spool};
use crate::store::{Store, StoreError};

/// How long a background drainer waits for more entries before it exits.
pub const LINGER: Duration = Duration::from_secs(2);
/// How often a drainer or a waiting reader looks at the spool.
const POLL: Duration = Duration::from_millis(3);
/// How long a drainer waits for another process's write (the agent does not wait for it).
const DRAIN_BUSY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a reader waits for a running drainer before reporting without what it holds.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Set (to anything but `0`) to record in the hook process itself, as before the drainer: the
/// same-run baseline of `benches/hook.rs`, and a way out should the background process be
/// unwelcome.
pub const SYNC_ENV: &str = "PRODCODE_HOOK_SYNC";

/// Whether hook calls record in-process ([`SYNC_ENV`]).
pub fn in_process() -> bool {
    std::env::var_os(SYNC_ENV).is_some_and(|value| value != "0")
}

/// The drain lock of the database at `db`.
fn lock_path(db: &Path) -> PathBuf {
    crate::spool::sibling(db, "drain.lock")
}

/// An exclusive `flock` on the drain lock, released when dropped (or when the process dies).
struct DrainLock {
    _file: std::fs::File,
}

enum Lock {
    Acquired(DrainLock),
    /// Another process drains.
    Held,
    /// The lock file cannot be opened (the database's directory is not writable): drain
    /// without it.
    Unavailable,
}

fn try_lock(db: &Path) -> Lock {
    // Held open for reading only, so that a lingering drainer does not keep the filesystem
    // from being remounted read-only.
    let path = lock_path(db);
    let file = std::fs::File::open(&path).or_else(|_| {
        crate::spool::private_file(&path, true)?;
        std::fs::File::open(&path)
    });
    let Ok(file) = file else {
        return Lock::Unavailable;
    };
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor this function owns; no memory is involved.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !locked {
            return Lock::Held;
        }
    }
    Lock::Acquired(DrainLock { _file: file })
}

/// After a hook spooled its entry: starts a background drainer unless one runs.
pub fn start_in_background(db: &Path) {
    match try_lock(db) {
        Lock::Held => return,
        Lock::Acquired(lock) => drop(lock),
        Lock::Unavailable => {}
    }
    let program = match super::prodcode_program() {
        Ok(program) => program,
        Err(error) => {
            let _ = spool::log(
                Some(db),
                "drain",
                &format!(
                    "cannot find prodcode to start a drainer ({error}); the spool waits for the next command"
                ),
            );
            return;
        }
    };
    let mut command = std::process::Command::new(program);
    command
        .args(["hook", "--drain", "--linger-ms"])
        .arg(LINGER.as_millis().to_string())
        .arg("--db")
        .arg(db)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // Its own process group: a signal meant for the agent's hook does not stop it.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    if let Err(error) = command.spawn() {
        let _ = spool::log(
            Some(db),
            "drain",
            &format!("cannot start the drainer ({error}); the spool waits for the next command"),
        );
    }
}

/// What a drain did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Drained {
    /// Entries recorded.
    pub recorded: usize,
    /// Entries still waiting when it stopped.
    pub waiting: usize,
}

/// `prodcode hook --drain`: records the spool, then waits `linger` for more. Returns at once
/// when another drainer runs. Never panics; problems go to the hook log.
pub fn drain(db: &Path, linger: Duration) -> Drained {
    let mut drained = Drained::default();
    loop {
        match try_lock(db) {
            Lock::Held => break,
            Lock::Acquired(lock) => {
                let round = drain_locked(db, linger);
                drop(lock);
                drained.recorded += round.recorded;
                if round.gave_up {
                    break; // the next hook or reader tries again
                }
            }
            Lock::Unavailable => {
                drained.recorded += drain_locked(db, linger).recorded;
                break;
            }
        }
        // An entry written while the lock was still held, by a hook that therefore started
        // nobody: look once more now that it is free.
        if Spool::for_db(db).waiting(super::now_ms()) == 0 {
            break;
        }
    }
    drained.waiting = Spool::for_db(db).waiting(super::now_ms());
    if !linger.is_zero() {
        super::marker::prune(db, MARKER_IDLE);
    }
    drained
}

/// Session markers untouched this long are removed by a background drainer as it exits: the
/// session's next call, if any, asks the store.
const MARKER_IDLE: Duration = Duration::from_secs(24 * 3600);

/// For a command about to read the store: returns once the spool is recorded (by a running
/// drainer, else in this process), or after [`SETTLE_TIMEOUT`]; the number of entries still
/// waiting then. Costs one `readdir` per spool place when nothing waits.
pub fn settle(db: &Path) -> usize {
    settle_counted(db).waiting
}

/// [`settle`], with how many entries this process recorded itself.
pub fn settle_counted(db: &Path) -> Drained {
    let spool = Spool::for_db(db);
    let mut drained = Drained::default();
    if spool.waiting(super::now_ms()) == 0 {
        return drained;
    }
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        match try_lock(db) {
            Lock::Acquired(lock) => {
                let round = drain_locked(db, Duration::ZERO);
                drop(lock);
                drained.recorded += round.recorded;
                // An entry a hook wrote while this process held the lock started no drainer:
                // look again now that the lock is free.
                if round.gave_up
                    || spool.waiting(super::now_ms()) == 0
                    || Instant::now() >= deadline
                {
                    break;
                }
            }
            Lock::Unavailable => {
                drained.recorded += drain_locked(db, Duration::ZERO).recorded;
                break;
            }
            Lock::Held => {
                if spool.waiting(super::now_ms()) == 0 || Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(POLL);
            }
        }
    }
    drained.waiting = spool.waiting(super::now_ms());
    drained
}

/// The warning a reader prints when [`settle`] left entries behind.
pub fn waiting_note(db: &Path, waiting: usize) -> String {
    format!(
        "{waiting} hook event(s) wait in the spool beside {} and are not in this report: the \
         database could not take them (see {}; `prodcode doctor` checks the database)",
        db.display(),
        spool::log_path(db).display()
    )
}

/// One drainer's round.
struct Round {
    recorded: usize,
    /// It stopped on a failure (the database cannot be opened or refuses), not for lack of
    /// entries.
    gave_up: bool,
}

/// Records what waits, polling for more until nothing came for `linger`.
fn drain_locked(db: &Path, linger: Duration) -> Round {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drain_loop(db, linger)));
    match outcome {
        Ok(round) => round,
        Err(_) => {
            let _ = spool::log(
                Some(db),
                "drain",
                "internal error while recording the spool; its entries stay for the next drain",
            );
            Round {
                recorded: 0,
                gave_up: true,
            }
        }
    }
}

fn drain_loop(db: &Path, linger: Duration) -> Round {
    let spool = Spool::for_db(db);
    let mut store: Option<Store> = None;
    let mut recorded = 0;
    let mut idle_since = Instant::now();
    loop {
        let now_ms = super::now_ms();
        let pending = spool.pending(now_ms);
        if pending.is_empty() {
            // Idle: the database is let go (its checkpoint runs now, not during the next
            // burst), and only the lock is held while waiting.
            store = None;
            if idle_since.elapsed() >= linger {
                return Round {
                    recorded,
                    gave_up: false,
                };
            }
            std::thread::sleep(POLL);
            continue;
        }
        if store.is_none() {
            match open(db) {
                Ok(opened) => store = Some(opened),
                Err(error) => {
                    let _ = spool::log(
                        Some(db),
                        "drain",
                        &format!(
                            "cannot open the database: {error}; {} spooled event(s) wait",
                            pending.len()
                        ),
                    );
                    return Round {
                        recorded,
                        gave_up: true,
                    };
                }
            }
        }
        let Some(store) = store.as_mut() else {
            return Round {
                recorded,
                gave_up: true,
            };
        };
        match super::ingest(store, &spool, &pending, None, now_ms) {
            Ok(count) => {
                recorded += count;
                idle_since = Instant::now();
            }
            Err(failure) => {
                let _ = spool::log(Some(db), "drain", &failure.message);
                // Entries recorded one by one before the one the database refused are gone
                // from the spool: that is progress, and the rest may go through next time.
                let progressed = pending.first().is_some_and(|first| !first.path.exists());
                if progressed {
                    recorded += 1;
                    idle_since = Instant::now();
                    continue;
                }
                if !failure.busy || idle_since.elapsed() >= linger.max(DRAIN_BUSY_TIMEOUT) {
                    return Round {
                        recorded,
                        gave_up: true,
                    };
                }
                std::thread::sleep(POLL * 10);
            }
        }
    }
}

fn open(db: &Path) -> Result<Store, StoreError> {
    let mut store = Store::open(db)?;
    store.set_busy_timeout(DRAIN_BUSY_TIMEOUT)?;
    Ok(store)
}
