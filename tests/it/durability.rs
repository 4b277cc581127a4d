//! Store faults (issue 13): a full or read-only filesystem, a damaged, foreign or newer database.
//! Recording must lose nothing that was acknowledged, read commands must work on a store they
//! cannot write, and a file prodcode refuses must be left exactly as it was.
//!
//! The disk faults run in a private mount namespace (`unshare -m`, root only): a small tmpfs that
//! fills up, or a bind mount remounted read-only. Where that is unavailable the test says so and
//! is skipped (CI runs as root, with `PRODCODE_REQUIRE_TOOLS=1`, and so always runs them).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use prodcode::lsp::client::StdioClient;
use serde_json::{Value, json};

use crate::support::{Claude, Workspace, bin, expected_reply, hook_fixture, missing};

/// A private mount namespace kept alive by a sleeping process, for commands that must run while
/// the test changes mounts under them (`nsenter` joins it).
pub struct Namespace {
    holder: Child,
}

impl Namespace {
    /// A namespace in which `dir` is a tmpfs of `size` (such as `"1m"`); `None`, with the test
    /// skipped, where mount namespaces are unavailable.
    pub fn with_tmpfs(dir: &Path, size: &str) -> Option<Namespace> {
        std::fs::create_dir_all(dir).unwrap();
        let script = format!(
            "mount -t tmpfs -o size={size},mode=0700 tmpfs \"$0\" && echo ready && exec sleep 100000"
        );
        Namespace::start(dir, &script)
    }

    fn start(dir: &Path, script: &str) -> Option<Namespace> {
        if !mount_namespaces() {
            return None;
        }
        let mut holder = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", script])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the mount namespace did not start");
        Some(Namespace { holder })
    }

    /// `program args…` inside the namespace.
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg("-t")
            .arg(self.holder.id().to_string())
            .args(["-m", "--"])
            .arg(program);
        command
    }

    /// Runs `mount ARGS…` inside the namespace (`-o remount,ro DIR`). A remount read-only
    /// fails while a process has a file there open for writing: a hook's background drainer
    /// lets the database go moments after the spool is empty, so that is tried for a while.
    pub fn mount(&self, args: &[&str]) {
        for _ in 0..100 {
            let status = self
                .command(Path::new("mount"))
                .args(args)
                .stderr(Stdio::null())
                .status()
                .unwrap();
            if status.success() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("mount {args:?} failed");
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Whether this process may make private mount namespaces (root); when not, the caller skips.
pub fn mount_namespaces() -> bool {
    let works = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !works {
        missing("private mount namespaces (`unshare -m`, as root)");
    }
    works
}

/// Runs `prodcode ARGS…` in `cwd` with `dir` bind-mounted read-only over itself.
fn prodcode_read_only(dir: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new("unshare")
        .args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\"",
        ])
        .arg(dir)
        .arg(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap()
}

/// The bytes and the permission bits of a file: what "left untouched" means.
fn fingerprint(path: &Path) -> (Vec<u8>, u32) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    (std::fs::read(path).unwrap(), mode)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs a command that opens the database for writing (`prodcode link`) and returns its stderr.
fn refused_by_writer(ws: &Workspace) -> String {
    let output = Command::new(bin())
        .args(["link", "--repo"])
        .arg(&ws.root)
        .arg("--db")
        .arg(&ws.db)
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Issue 13, item 3: another program's SQLite file was switched to WAL and chmod-ed before being
/// refused, and a text file at the database path was chmod-ed.
#[test]
fn a_refused_file_is_left_exactly_as_it_was() {
    let ws = Workspace::new();

    // Another program's database: tables, no application id, rollback journal, mode 0644.
    let foreign = rusqlite::Connection::open(&ws.db).unwrap();
    foreign
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(foreign);
    set_mode(&ws.db, 0o644);
    let before = fingerprint(&ws.db);
    let error = refused_by_writer(&ws);
    assert!(error.contains("another program"), "{error}");
    assert_eq!(fingerprint(&ws.db), before, "the foreign database changed");
    assert_eq!(before.0[18..20], [1, 1], "still in rollback-journal mode");
    std::fs::remove_file(&ws.db).unwrap();

    // A text file.
    std::fs::write(&ws.db, "not a database, but my notes\n").unwrap();
    set_mode(&ws.db, 0o644);
    let before = fingerprint(&ws.db);
    let error = refused_by_writer(&ws);
    assert!(error.contains("not a SQLite database"), "{error}");
    assert_eq!(fingerprint(&ws.db), before, "the text file changed");
    std::fs::remove_file(&ws.db).unwrap();

    // A prodcode database from a newer prodcode, in rollback-journal mode.
    let newer = rusqlite::Connection::open(&ws.db).unwrap();
    newer
        .execute_batch(
            "PRAGMA application_id = 1886547812; CREATE TABLE future (x); PRAGMA user_version = 999;",
        )
        .unwrap();
    drop(newer);
    set_mode(&ws.db, 0o644);
    let before = fingerprint(&ws.db);
    let error = refused_by_writer(&ws);
    assert!(error.contains("newer than this prodcode"), "{error}");
    assert_eq!(fingerprint(&ws.db), before, "the newer database changed");
}

/// Issue 13, item 4: `log`, `verify`, `blame` and `stats` failed on a read-only store, and
/// `verify` changed the file it checked.
#[test]
fn read_commands_work_on_a_read_only_store_and_change_nothing() {
    let ws = Workspace::new();
    let mut claude = Claude::start_with_prompt(&ws, "ro", "add a greeting");
    let file = ws.path("hello.txt");
    claude.write(&file, "hello\n");
    claude.stop();
    crate::support::drain_hooks_and_wait(&ws.db);
    set_mode(&ws.db, 0o640);
    let before = fingerprint(&ws.db);
    let db = ws.db.to_string_lossy().into_owned();

    let verify = Command::new(bin())
        .args(["verify", "--db", &db])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    assert_eq!(fingerprint(&ws.db), before, "verify changed the database");

    if !mount_namespaces() {
        return;
    }
    let dir = ws.db.parent().unwrap();
    let file = file.to_string_lossy().into_owned();
    for args in [
        vec!["verify", "--json", "--db", &db],
        vec!["log", "--json", "--db", &db],
        vec!["blame", &file, "--json", "--db", &db],
        vec!["stats", "--json", "--db", &db],
    ] {
        let output = prodcode_read_only(dir, &ws.root, &args);
        assert!(
            output.status.success(),
            "{args:?} on a read-only store: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(!json.is_null(), "{args:?}");
        if args[0] == "log" {
            assert!(
                json.to_string().contains("add a greeting"),
                "{args:?}: {json}"
            );
        }
    }
    assert_eq!(fingerprint(&ws.db), before);
}

/// `prodcode lsp` on `db`, inside `namespace` when given, with `runtime` as its
/// `XDG_RUNTIME_DIR` (where the spool falls back to), initialized on the workspace.
fn daemon(ws: &Workspace, namespace: Option<&Namespace>, db: &Path, runtime: &Path) -> StdioClient {
    std::fs::create_dir_all(&ws.logs).unwrap();
    let log = File::options()
        .create(true)
        .append(true)
        .open(ws.logs.join("daemon.log"))
        .unwrap();
    let db = db.to_string_lossy().into_owned();
    let runtime = runtime.to_string_lossy().into_owned();
    let bin = bin().to_string_lossy().into_owned();
    let holder = namespace.map(|namespace| namespace.holder.id().to_string());
    let (program, args): (PathBuf, Vec<&str>) = match &holder {
        Some(pid) => (
            PathBuf::from("nsenter"),
            vec!["-t", pid, "-m", "--", &bin, "lsp", "--db", &db],
        ),
        None => (PathBuf::from(&bin), vec!["lsp", "--db", &db]),
    };
    let envs = [("XDG_RUNTIME_DIR", runtime.as_str())];
    let mut client = StdioClient::spawn(&program, &args, &envs, Stdio::from(log)).unwrap();
    client.initialize(&ws.root, json!({})).unwrap();
    client
}

/// Sends `count` prompts (`"<label> prompt <n>"`, each padded to `bytes`), then asks for the
/// status: the answer is the acknowledgement that the prompts are durable.
fn prompts_then_status(client: &mut StdioClient, label: &str, count: usize, bytes: usize) -> Value {
    for n in 0..count {
        let mut prompt = format!("{label} prompt {n:02} ");
        while prompt.len() < bytes {
            prompt.push_str("lorem ipsum ");
        }
        client
            .notify(
                "prodcode/promptSubmitted",
                json!({ "interactionId": format!("{label}-{n:02}"), "prompt": prompt }),
            )
            .unwrap();
    }
    client.request("prodcode/status", Value::Null).unwrap()
}

/// The `window/showMessage` notifications the daemon sent so far.
fn shown(client: &StdioClient) -> Vec<(i64, String)> {
    client
        .notifications
        .iter()
        .filter(|message| message["method"] == "window/showMessage")
        .map(|message| {
            (
                message["params"]["type"].as_i64().unwrap_or(0),
                message["params"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// The recorded prompts that start with `label`, in the order of their events, and whether the
/// hash chain of the database is intact.
fn recorded_prompts(db: &Path, label: &str) -> Vec<String> {
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut statement = connection
        .prepare("SELECT substr(text, 1, instr(text, ' prompt ') + 9) FROM prompts WHERE text LIKE ?1 ORDER BY event_id")
        .unwrap();
    statement
        .query_map([format!("{label} %")], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
        .into_iter()
        .map(|text| text.trim().to_owned())
        .collect()
}

fn expected_prompts(label: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| format!("{label} prompt {n:02}"))
        .collect()
}

fn verify_ok(db: &Path) {
    let output = Command::new(bin())
        .args(["verify", "--json", "--db"])
        .arg(db)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("verify: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(report["ok"], true, "{report}");
}

/// Issue 13, item 1: with a newer-schema or damaged database the daemon answered while its
/// events were only in memory; killed afterwards, 20 of 20 events were lost.
#[test]
fn the_daemon_spools_what_a_refused_database_cannot_take_and_replays_it() {
    for damage in ["newer", "damaged"] {
        let ws = Workspace::new();
        let runtime = tempfile::tempdir().unwrap();
        match damage {
            "newer" => {
                let newer = rusqlite::Connection::open(&ws.db).unwrap();
                newer
                    .execute_batch("PRAGMA application_id = 1886547812; PRAGMA user_version = 999;")
                    .unwrap();
            }
            _ => std::fs::write(&ws.db, vec![0x5a; 8192]).unwrap(),
        }
        let mut client = daemon(&ws, None, &ws.db, runtime.path());
        let status = prompts_then_status(&mut client, damage, 20, 40);
        assert_eq!(status["counts"]["pendingEvents"], 0, "{damage}: {status}");
        assert!(
            status["counts"]["spooledEvents"].as_u64().unwrap() >= 20,
            "{damage}: {status}"
        );
        let messages = shown(&client);
        let why = if damage == "newer" {
            "newer than this prodcode"
        } else {
            "not a SQLite database"
        };
        assert!(
            messages.iter().any(|(kind, message)| *kind == 2
                && message.contains("recording is degraded")
                && message.contains(why)),
            "{damage}: {messages:?}"
        );
        client.kill().unwrap();

        // The person moves the refused file aside; the next daemon records what was spooled.
        std::fs::rename(&ws.db, ws.db.with_extension("refused")).unwrap();
        let mut client = daemon(&ws, None, &ws.db, runtime.path());
        client.request("prodcode/status", Value::Null).unwrap();
        client.shutdown().unwrap();
        assert_eq!(
            recorded_prompts(&ws.db, damage),
            expected_prompts(damage, 20),
            "{damage}"
        );
        verify_ok(&ws.db);
        let spool = ws.db.with_file_name("prodcode.db.lsp-spool");
        assert_eq!(
            std::fs::read_dir(&spool).unwrap().count(),
            0,
            "{damage}: spool emptied"
        );
    }
}

/// Issue 13, item 1, on a full disk and a read-only filesystem: the spool beside the database
/// is on the failing filesystem, so it falls back to the runtime directory.
#[test]
fn the_daemon_spools_outside_a_full_or_read_only_filesystem() {
    for fault in ["full", "read-only"] {
        let ws = Workspace::new();
        let runtime = tempfile::tempdir().unwrap();
        let mount = ws.db.parent().unwrap().join("store");
        let Some(namespace) = Namespace::with_tmpfs(&mount, "2m") else {
            return;
        };
        let db = mount.join("prodcode.db");
        let shell = |script: &str| {
            let status = namespace
                .command(Path::new("sh"))
                .args(["-c", script, "sh"])
                .arg(&mount)
                .status()
                .unwrap();
            assert!(status.success(), "{script}");
        };

        // Recording works at first.
        let mut client = daemon(&ws, Some(&namespace), &db, runtime.path());
        prompts_then_status(&mut client, "before", 1, 40);
        if fault == "read-only" {
            client.shutdown().unwrap();
            namespace.mount(&["-o", "remount,ro", &mount.to_string_lossy()]);
            client = daemon(&ws, Some(&namespace), &db, runtime.path());
        } else {
            shell("dd if=/dev/zero of=\"$1/fill\" bs=4096 2>/dev/null; true");
        }
        let label = if fault == "full" { "full" } else { "readonly" };
        let status = prompts_then_status(&mut client, label, 20, 4000);
        assert_eq!(status["counts"]["pendingEvents"], 0, "{fault}: {status}");
        assert!(
            status["counts"]["spooledEvents"].as_u64().unwrap() >= 20,
            "{fault}: {status}"
        );
        let messages = shown(&client);
        assert!(
            messages
                .iter()
                .any(|(kind, message)| *kind == 2 && message.contains("recording is degraded")),
            "{fault}: {messages:?}"
        );
        client.kill().unwrap();
        assert!(
            spooled_files(runtime.path()) > 0,
            "{fault}: nothing spooled in the runtime directory"
        );

        // The disk is freed, or writable again: the next daemon records the spool.
        if fault == "read-only" {
            namespace.mount(&["-o", "remount,rw", &mount.to_string_lossy()]);
        } else {
            shell("rm \"$1/fill\"");
        }
        let mut client = daemon(&ws, Some(&namespace), &db, runtime.path());
        client.request("prodcode/status", Value::Null).unwrap();
        client.shutdown().unwrap();
        let copy = tempfile::tempdir().unwrap();
        shell(&format!(
            "for f in \"$1/prodcode.db\" \"$1/prodcode.db-wal\"; do [ ! -f \"$f\" ] || cp \"$f\" '{}'; done",
            copy.path().display()
        ));
        let copied = copy.path().join("prodcode.db");
        assert_eq!(
            recorded_prompts(&copied, "before"),
            expected_prompts("before", 1)
        );
        assert_eq!(
            recorded_prompts(&copied, label),
            expected_prompts(label, 20),
            "{fault}"
        );
        verify_ok(&copied);
        assert_eq!(spooled_files(runtime.path()), 0, "{fault}: spool emptied");
    }
}

/// How many spool entries wait under `dir` (at any depth).
fn spooled_files(dir: &Path) -> usize {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return 0;
    };
    listing
        .flatten()
        .map(|item| {
            let path = item.path();
            if path.is_dir() {
                spooled_files(&path)
            } else {
                usize::from(path.extension().is_some_and(|ext| ext == "json"))
            }
        })
        .sum()
}

/// Runs `prodcode hook <agent>` inside `namespace` with `payload` on stdin and `envs` set; checks
/// what every call must do whatever happens: exit 0.
/// `prodcode hook --drain` inside the namespace: the spool is recorded when it returns.
fn drain_in(namespace: &Namespace, db: &Path, envs: &[(&str, &Path)]) -> Output {
    let mut command = namespace.command(&bin());
    command
        .args(["hook", "--drain", "--db"])
        .arg(db)
        .env_remove("PRODCODE_DB");
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn hook_in(
    namespace: &Namespace,
    db: &Path,
    cwd: &Path,
    agent: &str,
    payload: &str,
    envs: &[(&str, &Path)],
) -> Output {
    let mut command = namespace.command(&bin());
    command
        .args(["hook", agent, "--db"])
        .arg(db)
        .current_dir(cwd)
        .env_remove("PRODCODE_DB");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = crate::support::output_with_stdin(&mut command, payload.as_bytes());
    assert!(output.status.success(), "hook {agent}: {output:?}");
    output
}

/// Issue 13, item 2: hook payloads were lost on a full (10 of 10) or read-only (5 of 5)
/// filesystem, since the spool and the log sat beside the database.
#[test]
fn hooks_spool_outside_a_full_or_read_only_filesystem() {
    let ws = Workspace::new();
    let runtime = tempfile::tempdir().unwrap();
    let mount = ws.db.parent().unwrap().join("store");
    let Some(namespace) = Namespace::with_tmpfs(&mount, "2m") else {
        return;
    };
    let db = mount.join("prodcode.db");
    let mount_text = mount.to_string_lossy().into_owned();
    let cwd = ws.root.to_string_lossy().into_owned();
    let envs = [("XDG_RUNTIME_DIR", runtime.path())];
    let prompt = |text: &str, envs: &[(&str, &Path)]| {
        let payload = hook_fixture(
            "claude/2.1/user_prompt_submit.json",
            &[
                ("session", "s1"),
                ("cwd", &cwd),
                ("home", "/home/dev"),
                ("prompt", text),
            ],
        );
        hook_in(&namespace, &db, &ws.root, "claude", &payload, envs)
    };
    let quiet = |output: &Output| {
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            expected_reply("claude")
        );
        assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    };
    quiet(&prompt("before prompt 00", &envs));

    let fill = |script: &str| {
        let status = namespace
            .command(Path::new("sh"))
            .args(["-c", script, "sh"])
            .arg(&mount)
            .status()
            .unwrap();
        assert!(status.success(), "{script}");
    };
    fill("dd if=/dev/zero of=\"$1/fill\" bs=4096 2>/dev/null; true");
    for n in 0..10 {
        quiet(&prompt(&format!("full prompt {n:02}"), &envs));
    }
    assert_eq!(
        spooled_files(runtime.path()),
        10,
        "spooled outside the full disk"
    );
    fill("rm \"$1/fill\"");
    quiet(&prompt("after prompt 00", &envs));
    drain_in(&namespace, &db, &envs);
    assert_eq!(spooled_files(runtime.path()), 0, "the spool was replayed");

    namespace.mount(&["-o", "remount,ro", &mount_text]);
    for n in 0..5 {
        quiet(&prompt(&format!("readonly prompt {n:02}"), &envs));
    }
    assert_eq!(
        spooled_files(runtime.path()),
        5,
        "spooled outside the read-only filesystem"
    );
    namespace.mount(&["-o", "remount,rw", &mount_text]);
    quiet(&prompt("after prompt 01", &envs));
    drain_in(&namespace, &db, &envs);
    assert_eq!(spooled_files(runtime.path()), 0, "the spool was replayed");

    let copy = tempfile::tempdir().unwrap();
    fill(&format!(
        "for f in \"$1/prodcode.db\" \"$1/prodcode.db-wal\"; do [ ! -f \"$f\" ] || cp \"$f\" '{}'; done",
        copy.path().display()
    ));
    let copied = copy.path().join("prodcode.db");
    assert_eq!(
        recorded_prompts(&copied, "full"),
        expected_prompts("full", 10)
    );
    assert_eq!(
        recorded_prompts(&copied, "readonly"),
        expected_prompts("readonly", 5)
    );
    let order = rusqlite::Connection::open(&copied)
        .unwrap()
        .prepare("SELECT text FROM prompts ORDER BY event_id")
        .unwrap()
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(order.len(), 18);
    assert_eq!(order[0], "before prompt 00");
    assert_eq!(
        order[11], "after prompt 00",
        "the spool is recorded before the call that replays it"
    );
    assert_eq!(order[17], "after prompt 01");
    verify_ok(&copied);

    // Nothing at all can be written: the database's filesystem is read-only and so are the
    // runtime and temporary directories. The hook still exits 0, and says so where the person
    // sees it: Claude Code's systemMessage, Cursor's hook output (stderr).
    namespace.mount(&["-o", "remount,ro", &mount_text]);
    let nowhere = [
        ("XDG_RUNTIME_DIR", mount.join("run")),
        ("TMPDIR", mount.join("tmp")),
    ];
    let nowhere: Vec<(&str, &Path)> = nowhere
        .iter()
        .map(|(key, value)| (*key, value.as_path()))
        .collect();
    let output = prompt("lost prompt 00", &nowhere);
    let reply: Value = serde_json::from_slice(&output.stdout).unwrap();
    let message = reply["systemMessage"].as_str().unwrap();
    assert!(
        message.contains("capture is failing") && message.contains("Read-only file system"),
        "{message}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let cursor = hook_fixture(
        "cursor/2.0/before_submit_prompt.json",
        &[
            ("session", "c1"),
            ("generation", "g1"),
            ("cwd", &cwd),
            ("prompt", "lost prompt 01"),
        ],
    );
    let output = hook_in(&namespace, &db, &ws.root, "cursor", &cursor, &nowhere);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        expected_reply("cursor")
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("capture is failing"),
        "{output:?}"
    );
}

/// Issue 13, item 5: `verify` covered only the event chain; edits of `prompts.text` or
/// `blobs.data` went unseen although blobs are content-addressed and prompts copy their event.
#[test]
fn verify_checks_blobs_and_prompts_against_their_events() {
    let ws = Workspace::new();
    let mut client = ws.daemon();
    let uri = ws.uri("lib.rs");
    crate::support::open(&mut client, &uri, "fn main() {}\n");
    client
        .notify(
            "prodcode/promptSubmitted",
            json!({ "interactionId": "lsp-1", "prompt": "rename main" }),
        )
        .unwrap();
    client.shutdown().unwrap();
    let long = format!("a long prompt {}", "x".repeat(5000));
    let mut claude = Claude::start_with_prompt(&ws, "v", &long);
    claude.write(&ws.path("hello.txt"), "hello\n");
    claude.stop();

    // Prompts with secrets are redacted on every channel; what verify compares must still agree.
    let secrets: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/secrets.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let secret_db = ws.db.with_file_name("secrets.db");
    let secret_db_text = secret_db.to_string_lossy().into_owned();
    let mut client = StdioClient::spawn(
        &bin(),
        &["lsp", "--db", &secret_db_text],
        &[],
        Stdio::null(),
    )
    .unwrap();
    client.initialize(&ws.root, json!({})).unwrap();
    for (n, secret) in secrets.iter().enumerate() {
        let text = format!("use \"{}\" here", secret["text"].as_str().unwrap());
        client
            .notify(
                "prodcode/promptSubmitted",
                json!({ "interactionId": format!("s-{n}"), "prompt": text }),
            )
            .unwrap();
        Claude::start_in(&secret_db, &ws.root, &format!("s{n}")).prompt(&text);
    }
    client.shutdown().unwrap();

    let verify = |db: &Path| {
        let output = Command::new(bin())
            .args(["verify", "--json", "--db"])
            .arg(db)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        (output.status.code(), report)
    };
    let (code, report) = verify(&ws.db);
    assert_eq!(code, Some(0), "{report}");
    assert!(report["blobsChecked"].as_u64().unwrap() >= 2, "{report}");
    assert_eq!(report["promptsChecked"], 2, "{report}");
    assert_eq!(report["rowProblems"], json!([]));
    let (code, report) = verify(&secret_db);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report["promptsChecked"].as_u64().unwrap() >= 3 * secrets.len() as u64,
        "{report}"
    );

    // Each tampering on its own copy, every guard the log has removed first.
    let tamper = |sql: &str| {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.db");
        std::fs::copy(&ws.db, &copy).unwrap();
        let connection = rusqlite::Connection::open(&copy).unwrap();
        assert!(connection.execute(sql, []).unwrap() >= 1, "{sql}");
        drop(connection);
        let (code, report) = verify(&copy);
        assert_eq!(code, Some(1), "{sql}: {report}");
        assert_eq!(report["problem"], Value::Null, "the chain itself is intact");
        report["rowProblems"].clone()
    };
    assert_eq!(
        tamper("UPDATE prompts SET text = 'rename nothing' WHERE interaction_id = 'lsp-1'"),
        json!([{ "table": "prompts", "key": "lsp-1#1", "kind": "differs_from_event" }])
    );
    assert_eq!(
        tamper("UPDATE prompts SET text = 'a short prompt' WHERE interaction_id = 'claude:v'"),
        json!([{ "table": "prompts", "key": "claude:v#1", "kind": "differs_from_event" }])
    );
    let snapshot_blob: String = rusqlite::Connection::open(&ws.db)
        .unwrap()
        .query_row(
            "SELECT content_hash FROM provenance_snapshots ORDER BY id DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        tamper(&format!(
            "UPDATE blobs SET data = CAST('hacked\n' AS BLOB), size = 7 WHERE hash = '{snapshot_blob}'"
        )),
        json!([{ "table": "blobs", "key": snapshot_blob, "kind": "tampered" }])
    );
    let human = Command::new(bin())
        .args(["verify", "--db"])
        .arg(&ws.db)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("prompts match their events"),
        "{human:?}"
    );
}
