//! Noticing that a repository's refs moved (a commit, an amend, a rebase, a fetch), so the daemon
//! links new commits soon after git made them, without ever being in git's way.
//!
//! inotify (through notify) on the ref files: the worktree's git dir for `HEAD`, `ORIG_HEAD`,
//! `FETCH_HEAD` and friends, the common dir for `packed-refs`, and `refs/` and `logs/`
//! recursively. A burst of events (one `git commit` writes several files) becomes one call after
//! a quiet period. Only ref files count: objects, the index, lock files and `COMMIT_EDITMSG` are
//! ignored, and so are reads, so the callback reading refs does not wake the watcher again.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::history::{GitError, Repo};

/// However busy the refs are, `on_change` runs at least this many debounce periods after the
/// first event of a burst (a long rebase must not postpone linking until it ends).
const MAX_DELAY_IN_DEBOUNCES: u32 = 20;

/// Watches a repository's refs until dropped.
pub struct RefWatcher {
    messages: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    watcher: Arc<Mutex<Option<RecommendedWatcher>>>,
}

enum Message {
    Event(notify::Result<notify::Event>),
    Stop,
}

/// Where a repository keeps what the watcher cares about.
struct Layout {
    git_dir: PathBuf,
    common_dir: PathBuf,
    /// Directories watched recursively once they exist (`logs/` appears with the first reflog).
    missing: Vec<PathBuf>,
}

/// Calls `on_change` (on a thread of its own) once `debounce` has passed without events after
/// `repo`'s refs, reflogs or `HEAD` changed.
pub fn watch_refs(
    repo: &Repo,
    debounce: Duration,
    on_change: impl Fn() + Send + 'static,
) -> Result<RefWatcher, GitError> {
    let git_dir = canonical(repo.git_dir());
    let common_dir = canonical(repo.common_dir());
    let (messages, receiver) = crossbeam_channel::unbounded();
    let events = messages.clone();
    let mut watcher = notify::recommended_watcher(move |event| {
        // The receiver is gone only while the watcher is being dropped.
        let _ = events.send(Message::Event(event));
    })
    .map_err(watch_error)?;

    // Non-recursive watches on the git dirs see `HEAD`, `packed-refs` and the creation of
    // `refs/` and `logs/`.
    watcher
        .watch(&git_dir, RecursiveMode::NonRecursive)
        .map_err(watch_error)?;
    if common_dir != git_dir {
        watcher
            .watch(&common_dir, RecursiveMode::NonRecursive)
            .map_err(watch_error)?;
    }
    let mut recursive = vec![common_dir.join("refs"), common_dir.join("logs")];
    if common_dir != git_dir {
        recursive.push(git_dir.join("logs"));
    }
    let mut layout = Layout {
        git_dir,
        common_dir,
        missing: Vec::new(),
    };
    for directory in recursive {
        if let Err(error) = watcher.watch(&directory, RecursiveMode::Recursive) {
            if directory.exists() {
                return Err(watch_error(error));
            }
            layout.missing.push(directory);
        }
    }

    let watcher = Arc::new(Mutex::new(Some(watcher)));
    let shared = Arc::clone(&watcher);
    let thread = std::thread::Builder::new()
        .name("prodcode-ref-watch".to_owned())
        .spawn(move || debounce_events(&receiver, debounce, &on_change, &mut layout, &shared))
        .map_err(|error| GitError::Read(format!("cannot start the ref watcher: {error}")))?;
    Ok(RefWatcher {
        messages,
        thread: Some(thread),
        watcher,
    })
}

impl Drop for RefWatcher {
    fn drop(&mut self) {
        let _ = self.messages.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            // Dropped from inside `on_change`: the thread ends by itself right after.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
        let watcher = self
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(watcher);
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn watch_error(error: notify::Error) -> GitError {
    GitError::Read(format!("cannot watch refs: {error}"))
}

/// The watcher thread: waits for a ref event, then for `debounce` of quiet, then calls
/// `on_change`; ends on `Stop`.
fn debounce_events(
    receiver: &Receiver<Message>,
    debounce: Duration,
    on_change: &(impl Fn() + Send),
    layout: &mut Layout,
    watcher: &Mutex<Option<RecommendedWatcher>>,
) {
    let max_delay = debounce.saturating_mul(MAX_DELAY_IN_DEBOUNCES);
    // When the current burst started, while one is pending.
    let mut burst_start: Option<Instant> = None;
    loop {
        let message = match burst_start {
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(start) => {
                let until_max = max_delay.saturating_sub(start.elapsed());
                receiver.recv_timeout(debounce.min(until_max))
            }
        };
        match message {
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Message::Event(event)) => {
                if is_ref_event(&event, layout) {
                    pick_up_new_directories(layout, watcher);
                    burst_start.get_or_insert_with(Instant::now);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                burst_start = None;
                // A panicking callback must not end the watching.
                let _ = catch_unwind(AssertUnwindSafe(on_change));
            }
        }
    }
}

/// Starts recursive watches on directories that did not exist when watching began.
fn pick_up_new_directories(layout: &mut Layout, watcher: &Mutex<Option<RecommendedWatcher>>) {
    if layout.missing.is_empty() {
        return;
    }
    let mut watcher = watcher.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(watcher) = watcher.as_mut() else {
        return;
    };
    layout.missing.retain(|directory| {
        !directory.is_dir() || watcher.watch(directory, RecursiveMode::Recursive).is_err()
    });
}

fn is_ref_event(event: &notify::Result<notify::Event>, layout: &Layout) -> bool {
    // An error or a queue overflow may hide a ref change: look again.
    let Ok(event) = event else {
        return true;
    };
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
        EventKind::Access(_) => return false,
        _ => {}
    }
    if event.need_rescan() || event.paths.is_empty() {
        return true;
    }
    event
        .paths
        .iter()
        .any(|path| is_ref_path(path, &layout.git_dir, &layout.common_dir))
}

/// Whether `path` is a ref, a reflog, `packed-refs` or a `*HEAD` file of this worktree.
fn is_ref_path(path: &Path, git_dir: &Path, common_dir: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    if name.ends_with(".lock") {
        return false;
    }
    // The git dir first: a linked worktree's lies inside the common dir.
    for directory in [git_dir, common_dir] {
        let Ok(relative) = path.strip_prefix(directory) else {
            continue;
        };
        let mut components = relative.components();
        let Some(first) = components.next() else {
            return false;
        };
        let nested = components.next().is_some();
        return match first.as_os_str().to_str() {
            Some("refs" | "logs") => true,
            _ if nested => false,
            Some("packed-refs") => true,
            Some(top) => top == "HEAD" || top.ends_with("_HEAD"),
            None => false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::git::testing::TestRepo;

    #[test]
    fn only_ref_files_count() {
        let git = Path::new("/r/.git");
        let check = |path: &str| is_ref_path(Path::new(path), git, git);
        assert!(check("/r/.git/HEAD"));
        assert!(check("/r/.git/ORIG_HEAD"));
        assert!(check("/r/.git/packed-refs"));
        assert!(check("/r/.git/refs/heads/main"));
        assert!(check("/r/.git/logs/HEAD"));
        assert!(check("/r/.git/logs"));
        assert!(!check("/r/.git/refs/heads/main.lock"));
        assert!(!check("/r/.git/index"));
        assert!(!check("/r/.git/index.lock"));
        assert!(!check("/r/.git/COMMIT_EDITMSG"));
        assert!(!check("/r/.git/objects/ab/cdef"));
        assert!(!check("/elsewhere/HEAD"));

        let worktree = Path::new("/r/.git/worktrees/wt");
        let check = |path: &str| is_ref_path(Path::new(path), worktree, git);
        assert!(check("/r/.git/worktrees/wt/HEAD"));
        assert!(check("/r/.git/worktrees/wt/logs/HEAD"));
        assert!(check("/r/.git/refs/heads/feature"));
        assert!(!check("/r/.git/worktrees/other/HEAD"));
        assert!(!check("/r/.git/worktrees/wt/index"));
    }

    /// Waits until `count` reaches `at_least` or `limit` passes.
    fn wait_for(count: &AtomicUsize, at_least: usize, limit: Duration) {
        let start = Instant::now();
        while count.load(Ordering::SeqCst) < at_least && start.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn fires_once_per_burst_and_not_without_changes() {
        // A fresh repository: no `logs/` yet, no commit.
        let repo = TestRepo::new();
        let opened = Repo::open(repo.path()).unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&count);
        let debounce = Duration::from_millis(200);
        let watcher = watch_refs(&opened, debounce, move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();

        // Reading the repository is not a change.
        repo.git(&["status"]);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(count.load(Ordering::SeqCst), 0);

        repo.commit_file("a.txt", "one\n", "first");
        wait_for(&count, 1, Duration::from_secs(3));
        std::thread::sleep(debounce * 2);
        assert_eq!(count.load(Ordering::SeqCst), 1);

        // `logs/` appeared with the first commit and is watched from now on.
        repo.git(&["commit", "--amend", "-m", "first, amended"]);
        wait_for(&count, 2, Duration::from_secs(3));
        assert_eq!(count.load(Ordering::SeqCst), 2);

        drop(watcher);
        repo.commit_file("b.txt", "two\n", "second");
        std::thread::sleep(debounce * 2);
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_linked_worktree_sees_its_own_commits() {
        let repo = TestRepo::new();
        repo.commit_file("a.txt", "one\n", "first");
        let worktree = repo.add_worktree("wt", "side");
        let opened = Repo::open(&worktree).unwrap();
        assert_ne!(opened.git_dir(), opened.common_dir());
        let count = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&count);
        let _watcher = watch_refs(&opened, Duration::from_millis(100), move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        TestRepo::at(&worktree).commit_file("b.txt", "two\n", "on side");
        wait_for(&count, 1, Duration::from_secs(3));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}
