//! Store faults (issue 13): a full or read-only filesystem, a damaged, foreign or newer database.
//! Recording must lose nothing that was acknowledged, read commands must work on a store they
//! cannot write, and a file prodcode refuses must be left exactly as it was.
//!
//! The disk faults run in a private mount namespace (`unshare -m`, root only): a small tmpfs that
//! fills up, or a bind mount remounted read-only. Where that is unavailable the test says so and
//! is skipped (CI runs as root, with `PRODCODE_REQUIRE_TOOLS=1`, and so always runs them).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use crate::support::{Claude, Workspace, bin, missing};

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

    /// Runs `mount ARGS…` inside the namespace (`-o remount,ro DIR`).
    pub fn mount(&self, args: &[&str]) {
        let status = self
            .command(Path::new("mount"))
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "mount {args:?} failed");
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
