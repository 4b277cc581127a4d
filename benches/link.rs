//! Commit linking, on real git repositories in temporary directories with real SQLite files:
//!
//! 1. **One big commit.** A commit adding 10,000 lines across 100 files whose provenance was
//!    recorded (AI lines, human lines), attributed and stored by `link` from a fresh copy of the
//!    database each time. Baseline in the same run: `git show --stat` of the same commit.
//! 2. **Catch-up.** 1,000 commits made while nothing was linking (each changing one recorded
//!    file), linked by one run. Baseline: `git log --stat` over the same commits.
//! 3. **`git commit` itself**, with no prodcode, with a daemon watching the repository, and with
//!    the `post-commit` hook that `prodcode install git` writes: linking must add nothing.
//!
//! Run: `cargo bench --bench link`. A plain bench binary (no criterion): the runs are long and
//! the figures that matter are medians of whole operations.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prodcode::git::Repo;
use prodcode::link::{Options, link};
use prodcode::model::{InteractionId, Provenance, ProvenanceRun};
use prodcode::store::{NewEvent, NewSnapshot, Store};

fn git(dir: &Path, args: &[&str]) {
    git_with(dir, args, None);
}

/// `git ARGS…`, with `PRODCODE_DB` set for the hooks it runs when `db` is given.
fn git_with(dir: &Path, args: &[&str], db: Option<&Path>) {
    let mut command = Command::new("git");
    if let Some(db) = db {
        command.env("PRODCODE_DB", db);
    }
    let status = command
        .args(["-c", "user.name=b", "-c", "user.email=b@example.invalid"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn timed(mut f: impl FnMut()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn line(file: usize, n: usize) -> String {
    format!(
        "    let value_{file:03}_{n:04} = compute(\"row {n}\", {file}) + offset; // realistic width"
    )
}

/// Records `text` as the provenance of `path`: the first half of its lines AI, the rest human.
fn record(store: &mut Store, repo_id: i64, root: &Path, rel: &str, text: &str) {
    let lines = text.lines().count() as u32;
    let runs = [
        ProvenanceRun {
            start: 0,
            end: lines / 2,
            provenance: Provenance::Ai(InteractionId::new("bench:session")),
        },
        ProvenanceRun {
            start: lines / 2,
            end: lines,
            provenance: Provenance::Human,
        },
    ];
    let path = root.join(rel).to_string_lossy().into_owned();
    store
        .write(|writer| {
            let event_id = writer.append_event(&NewEvent {
                ts_ms: prodcode::clock::now_ms(),
                source: "bench",
                kind: "snapshot",
                payload: "{}",
            })?;
            writer.save_snapshot(&NewSnapshot {
                path: &path,
                repo_id: Some(repo_id),
                rel_path: Some(rel),
                text: text.as_bytes(),
                runs: &runs,
                ts_ms: prodcode::clock::now_ms() - 1000,
                event_id,
            })
        })
        .unwrap();
}

fn new_repo(base: &Path) -> (PathBuf, PathBuf, Store, i64) {
    let root = base.join("repo");
    std::fs::create_dir_all(&root).unwrap();
    let root = root.canonicalize().unwrap();
    git(&root, &["init", "-q"]);
    std::fs::write(root.join("README"), "bench\n").unwrap();
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "init"]);
    let db = base.join("prodcode.db");
    let mut store = Store::open(&db).unwrap();
    let repo_id = store
        .write(|writer| writer.upsert_repository(&root.to_string_lossy()))
        .unwrap();
    (root, db, store, repo_id)
}

fn one_big_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (root, db, mut store, repo_id) = new_repo(dir.path());
    for file in 0..100 {
        let rel = format!("src/module_{file:03}.rs");
        let text: String = (0..100).map(|n| line(file, n) + "\n").collect();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join(&rel), &text).unwrap();
        record(&mut store, repo_id, &root, &rel, &text);
    }
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "ten thousand lines"]);
    drop(store);
    let repo = Repo::open(&root).unwrap();
    let mut samples = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..12 {
        let copy = dir.path().join("copy.db");
        std::fs::copy(&db, &copy).unwrap();
        let mut store = Store::open(&copy).unwrap();
        let mut linked = 0;
        samples.push(timed(|| {
            let report = link(&mut store, &repo, &Options::default(), &mut |_, _| {}).unwrap();
            linked = report
                .linked
                .iter()
                .map(|c| c.counts.iter().sum::<u32>())
                .sum();
        }));
        assert_eq!(linked, 10_001, "every added line attributed");
        drop(store);
        std::fs::remove_file(&copy).unwrap();
        baseline.push(timed(|| git(&root, &["show", "--stat", "HEAD"])));
    }
    println!(
        "attribute a 10,000-line commit over 100 files  median {:>8.2} ms   (git show --stat: {:.2} ms)",
        ms(median(&mut samples)),
        ms(median(&mut baseline))
    );
}

fn catch_up() {
    const COMMITS: usize = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let (root, db, mut store, repo_id) = new_repo(dir.path());
    std::fs::create_dir_all(root.join("src")).unwrap();
    // 20 files; each commit appends 5 lines to one of them, recorded before committing.
    let mut texts = vec![String::new(); 20];
    for n in 0..COMMITS {
        let file = n % texts.len();
        for k in 0..5 {
            texts[file].push_str(&line(file, n * 5 + k));
            texts[file].push('\n');
        }
        let rel = format!("src/file_{file:02}.rs");
        std::fs::write(root.join(&rel), &texts[file]).unwrap();
        record(&mut store, repo_id, &root, &rel, &texts[file]);
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "-q", "-m", &format!("change {n}")]);
    }
    drop(store);
    let repo = Repo::open(&root).unwrap();
    let mut samples = Vec::new();
    for _ in 0..3 {
        let copy = dir.path().join("copy.db");
        std::fs::copy(&db, &copy).unwrap();
        let mut store = Store::open(&copy).unwrap();
        let mut linked = 0;
        samples.push(timed(|| {
            linked = link(&mut store, &repo, &Options::default(), &mut |_, _| {})
                .unwrap()
                .linked
                .len();
        }));
        assert!(linked >= COMMITS, "linked {linked}");
        drop(store);
        std::fs::remove_file(&copy).unwrap();
    }
    let baseline = timed(|| git(&root, &["log", "--stat", "-n", "1001"]));
    println!(
        "catch up on 1,000 commits                      median {:>8.2} ms   (git log --stat: {:.2} ms)",
        ms(median(&mut samples)),
        ms(baseline)
    );
}

fn commit_times(root: &Path, db: &Path, label: &str, rounds: usize) {
    let mut samples = Vec::new();
    for n in 0..rounds {
        std::fs::write(root.join("counter.txt"), format!("{label} {n}\n")).unwrap();
        git(root, &["add", "counter.txt"]);
        samples.push(timed(|| {
            git_with(root, &["commit", "-q", "-m", "tick"], Some(db))
        }));
    }
    println!(
        "git commit, {label:<36} median {:>8.2} ms",
        ms(median(&mut samples))
    );
}

fn git_commit_is_not_slowed() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_prodcode"));
    let dir = tempfile::tempdir().unwrap();
    let (root, db, store, _) = new_repo(dir.path());
    drop(store);
    commit_times(&root, &db, "no prodcode", 40);

    let mut daemon = prodcode::lsp::client::StdioClient::spawn(
        &bin,
        &["lsp", "--db", &db.to_string_lossy()],
        &[],
        Stdio::null(),
    )
    .unwrap();
    daemon.initialize(&root, serde_json::json!({})).unwrap();
    commit_times(&root, &db, "a daemon watching", 40);
    let _ = daemon.shutdown();

    let status = Command::new(&bin)
        .args(["install", "git", "--project-dir"])
        .arg(&root)
        .env("PRODCODE_DB", &db)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    commit_times(&root, &db, "the post-commit hook installed", 40);
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    one_big_commit();
    catch_up();
    git_commit_is_not_slowed();
}
