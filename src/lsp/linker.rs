//! Commit linking inside the daemon: each repository of the workspace is watched (`.git` refs,
//! HEAD, packed-refs and reflogs) and linked on a background thread after git is done, so the
//! message loop never waits for it and `git commit` never waits for prodcode.
//!
//! Invariant: the worker owns its own database connection and never touches daemon state; a
//! failed or panicking link run is logged and the next change tries again.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::git::{RefWatcher, Repo};

/// Quiet time after the last ref change before linking: a rebase moves refs many times.
const DEBOUNCE: Duration = Duration::from_millis(300);

pub struct Linker {
    sender: Option<Sender<PathBuf>>,
    /// Repository root -> its watcher (`None` when watching failed: linked once, not watched).
    watched: HashMap<PathBuf, Option<RefWatcher>>,
}

impl Linker {
    /// A linker recording into `db_path`; without a database it does nothing.
    pub fn new(db_path: Option<PathBuf>) -> Linker {
        let Some(db_path) = db_path else {
            return Linker {
                sender: None,
                watched: HashMap::new(),
            };
        };
        let (sender, receiver) = crossbeam_channel::unbounded();
        // Not joined: each commit is linked in its own transaction, so a run cut short by the
        // daemon's exit loses nothing that the next run will not redo.
        let worker = std::thread::Builder::new()
            .name("prodcode-link".into())
            .spawn(move || work(&db_path, &receiver));
        Linker {
            sender: worker.is_ok().then_some(sender),
            watched: HashMap::new(),
        }
    }

    /// Starts watching the repository around `dir` (once) and links it now, catching up on
    /// whatever happened while no daemon ran.
    pub fn watch(&mut self, dir: &Path) {
        let Some(sender) = &self.sender else {
            return;
        };
        let repo = match Repo::open(dir) {
            Ok(repo) => repo,
            Err(error) => {
                tracing::debug!("not linking {}: {error}", dir.display());
                return;
            }
        };
        let root = repo.root().to_path_buf();
        if self.watched.contains_key(&root) {
            return;
        }
        let on_change = {
            let sender = sender.clone();
            let root = root.clone();
            move || {
                let _ = sender.send(root.clone());
            }
        };
        let watcher = match crate::git::watch_refs(&repo, DEBOUNCE, on_change) {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                tracing::warn!("cannot watch {} for commits: {error}", root.display());
                None
            }
        };
        let _ = sender.send(root.clone());
        self.watched.insert(root, watcher);
    }

    /// The repositories watched, for `prodcode/status`.
    pub fn watched(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self.watched.keys().cloned().collect();
        roots.sort();
        roots
    }
}

fn work(db_path: &Path, receiver: &Receiver<PathBuf>) {
    let mut store = None;
    while let Ok(root) = receiver.recv() {
        // Requests for the same repository queued meanwhile are one run.
        let mut roots = vec![root];
        for more in receiver.try_iter() {
            if !roots.contains(&more) {
                roots.push(more);
            }
        }
        for root in roots {
            let outcome = catch_unwind(AssertUnwindSafe(|| link_once(db_path, &mut store, &root)));
            match outcome {
                Ok(Ok(report)) => tracing::info!(
                    "linked {}: {} commits, {} landings",
                    root.display(),
                    report.linked.len(),
                    report.landed.len()
                ),
                Ok(Err(error)) => {
                    tracing::warn!("cannot link {}: {error:#}", root.display());
                    store = None;
                }
                Err(_) => {
                    tracing::error!("linking {} panicked", root.display());
                    store = None;
                }
            }
        }
    }
}

fn link_once(
    db_path: &Path,
    store: &mut Option<crate::store::Store>,
    root: &Path,
) -> anyhow::Result<crate::link::Report> {
    if store.is_none() {
        *store = Some(crate::store::Store::open(db_path)?);
    }
    let Some(store) = store.as_mut() else {
        anyhow::bail!("no database");
    };
    // What agents' hooks spooled is part of what the commit's lines are matched against.
    let waiting = crate::capture::hook::drain::settle(db_path);
    if waiting > 0 {
        tracing::warn!(
            "{}",
            crate::capture::hook::drain::waiting_note(db_path, waiting)
        );
    }
    let repo = Repo::open(root)?;
    Ok(crate::link::link(
        store,
        &repo,
        &crate::link::Options::default(),
        &mut |_, _| {},
    )?)
}
