//! The team store (issue 17) against a real PostgreSQL server: `prodcode sync` pushing real
//! SQLite stores, concurrently, killed and resumed, re-sent whole; `verify --store` finding a
//! tampered row; privacy on the way out.
//!
//! The server is `PRODCODE_TEST_PG_URL` (a role that may create databases), which `.ci/run`
//! sets after starting one with `.ci/pg.sh`; locally, `eval "$(bash .ci/pg.sh start)"`. Each test
//! makes its own database and drops it. Without the variable the tests are skipped with a
//! message, and fail under `PRODCODE_REQUIRE_TOOLS=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use prodcode::store::{NewEvent, NewPrompt, Store};
use serde_json::Value;

use crate::support::{bin, require_tools};

/// A database of its own on the test server, dropped at the end.
pub(crate) struct TeamDb {
    admin: String,
    name: String,
    /// The URL of this database, with the test role's password in it.
    pub url: String,
}

impl TeamDb {
    /// A fresh database, or `None` (test skipped) when no server is configured.
    pub(crate) fn new() -> Option<TeamDb> {
        let Some(admin) = std::env::var("PRODCODE_TEST_PG_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            assert!(
                !require_tools(),
                "PRODCODE_TEST_PG_URL is not set, and PRODCODE_REQUIRE_TOOLS=1: start a server with \
                 `eval \"$(bash .ci/pg.sh start)\"`"
            );
            eprintln!(
                "skipped: no PostgreSQL server (set PRODCODE_TEST_PG_URL, e.g. with `eval \"$(bash .ci/pg.sh start)\"`)"
            );
            return None;
        };
        let name = format!(
            "prodcode_t_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                % 1_000_000_000_000
        );
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        let url = format!("{base}/{name}");
        Some(TeamDb { admin, name, url })
    }

    pub(crate) fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }

    pub(crate) fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }
}

impl Drop for TeamDb {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `prodcode ARGS --db DB` with a private configuration directory.
pub(crate) fn prodcode(db: &Path, config_home: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("PRODCODE_DB")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .env("XDG_CONFIG_HOME", config_home)
        .env("HOME", config_home)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "prodcode failed ({:?}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn sync_json(db: &Path, config_home: &Path, url: &str, extra: &[&str]) -> Value {
    let mut args = vec!["sync", "--to", url, "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&prodcode(db, config_home, &args))).unwrap()
}

/// A store of `events` events, one prompt in every ten (each a new interaction in repository
/// `root`), written through the library as capture would.
fn fill(db: &Path, root: &str, events: usize, first: usize) {
    let mut store = Store::open(db).unwrap();
    for chunk in (first..first + events).collect::<Vec<_>>().chunks(5000) {
        store
            .write(|writer| {
                let repo = writer.upsert_repository(root)?;
                for &n in chunk {
                    let payload = format!(
                        "{{\"session\":\"s\",\"params\":{{\"n\":{n},\"text\":\"line\\twith tab\\nand newline \\\\ done\"}}}}"
                    );
                    let kind = if n % 10 == 0 {
                        "prodcode.promptSubmitted"
                    } else {
                        "lsp.didChange"
                    };
                    let event_id = writer.append_event(&NewEvent {
                        ts_ms: 1_700_000_000_000 + n as i64,
                        source: "lsp",
                        kind,
                        payload: &payload,
                    })?;
                    if n % 10 == 0 {
                        let id = format!("i-{n}");
                        let prompt = format!("prompt {n}: fix the\tparser");
                        writer.record_prompt(&NewPrompt {
                            interaction_id: &id,
                            prompt: &prompt,
                            agent: Some("claude-code"),
                            model: None,
                            agent_version: None,
                            source: "lsp",
                            session_id: None,
                            repo_id: Some(repo),
                            base_commit: None,
                            branch: None,
                            cwd: None,
                            ts_ms: 1_700_000_000_000 + n as i64,
                            event_id,
                        })?;
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}

fn verify_store(url: &str) -> (bool, Value) {
    let dir = tempfile::tempdir().unwrap();
    let output = prodcode(
        &dir.path().join("unused.db"),
        dir.path(),
        &["verify", "--store", url, "--json"],
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "verify --store printed no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), json)
}

#[test]
fn two_stores_pushing_at_once_each_keep_their_chain() {
    let Some(team) = TeamDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    fill(&a, "/work/a/repo", 3000, 0);
    fill(&b, "/work/b/repo", 2000, 0);
    // Both race to create the schema of the empty database, then interleave small batches.
    let spawn = |db: &PathBuf| {
        Command::new(bin())
            .args([
                "sync", "--to", &team.url, "--batch", "100", "--json", "--db",
            ])
            .arg(db)
            .env("XDG_CONFIG_HOME", dir.path())
            .env_remove("PGPASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(&a), spawn(&b));
    let first: Value = serde_json::from_str(&ok(&first.wait_with_output().unwrap())).unwrap();
    let second: Value = serde_json::from_str(&ok(&second.wait_with_output().unwrap())).unwrap();
    assert_eq!(first["events"], 3000);
    assert_eq!(second["events"], 2000);
    assert_ne!(first["device"], second["device"]);
    assert_eq!(first["tables"]["prompts"], 300);
    assert_eq!(first["tables"]["interactions"], 300);
    assert_eq!(team.count("SELECT count(*) FROM events"), 5000);
    assert_eq!(team.count("SELECT count(DISTINCT device) FROM events"), 2);
    assert_eq!(team.count("SELECT count(*) FROM prompts"), 500);
    assert_eq!(
        team.count("SELECT count(*) FROM prodcode_migrations"),
        1,
        "the schema was made once"
    );
    let (passed, report) = verify_store(&team.url);
    assert!(passed, "{report:#}");
    let devices = report["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    for device in devices {
        assert_eq!(device["ok"], true);
        let expected = if device["device"] == first["device"] {
            3000
        } else {
            2000
        };
        assert_eq!(device["eventsChecked"], expected);
    }
    // Tabs, newlines and backslashes in payloads arrived as they were: the hashes check out
    // above, and the text is the same.
    let payload: String = team
        .client()
        .query_one("SELECT payload FROM events WHERE id = 1 LIMIT 1", &[])
        .unwrap()
        .get(0);
    assert!(
        payload.contains("line\\twith tab\\nand newline \\\\ done"),
        "{payload}"
    );
}

#[test]
fn a_push_killed_midway_resumes_where_the_server_stopped_it() {
    let Some(team) = TeamDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    fill(&db, "/work/a/repo", 30_000, 0);
    let mut child = Command::new(bin())
        .args(["sync", "--to", &team.url, "--batch", "100", "--db"])
        .arg(&db)
        .env("XDG_CONFIG_HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed (SIGKILL, no chance to clean up) once some batches, not all, are on the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = 0;
    while Instant::now() < deadline {
        if let Ok(mut client) = postgres::Client::connect(&team.url, postgres::NoTls)
            && let Ok(Some(row)) =
                client.query_opt("SELECT mark FROM sync_marks WHERE tbl = 'events'", &[])
        {
            seen = row.get::<_, i64>(0);
            if seen > 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen > 0, "no batch arrived within a minute");
    let partial = team.count("SELECT count(*) FROM events");
    assert!(
        partial > 0 && partial < 30_000,
        "the push was not cut midway: {partial} events arrived"
    );
    // What arrived is exactly a prefix of the log, as the mark says.
    let mark = team.count("SELECT mark FROM sync_marks WHERE tbl = 'events'");
    assert_eq!(partial, mark);

    let resumed = sync_json(&db, dir.path(), &team.url, &[]);
    assert_eq!(resumed["events"], 30_000 - partial);
    assert_eq!(resumed["headId"], 30_000);
    assert_eq!(team.count("SELECT count(*) FROM events"), 30_000);
    assert_eq!(team.count("SELECT count(*) FROM prompts"), 3000);
    let (passed, report) = verify_store(&team.url);
    assert!(passed, "{report:#}");
}

#[test]
fn sending_everything_again_duplicates_nothing() {
    let Some(team) = TeamDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    fill(&db, "/work/a/repo", 500, 0);
    let first = sync_json(&db, dir.path(), &team.url, &[]);
    assert_eq!(first["events"], 500);
    // A second push with nothing new sends nothing.
    let again = sync_json(&db, dir.path(), &team.url, &[]);
    assert_eq!(again["events"], 0);
    assert_eq!(again["tables"], serde_json::json!({}));
    // Forget, on both sides, what was pushed: everything goes again, and lands once.
    team.client()
        .batch_execute(
            "DELETE FROM sync_marks;
             UPDATE devices SET head_id = 0,
                 head_hash = '0000000000000000000000000000000000000000000000000000000000000000'",
        )
        .unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM sync_pushed", [])
        .unwrap();
    let resent = sync_json(&db, dir.path(), &team.url, &[]);
    assert_eq!(resent["events"], 500);
    assert_eq!(resent["tables"]["interactions"], 50);
    assert_eq!(team.count("SELECT count(*) FROM events"), 500);
    assert_eq!(team.count("SELECT count(*) FROM interactions"), 50);
    assert_eq!(team.count("SELECT count(*) FROM prompts"), 50);
    assert!(verify_store(&team.url).0);

    // Rows updated in place reach the server on the next push: a second turn of one interaction.
    {
        let mut store = Store::open(&db).unwrap();
        store
            .write(|writer| {
                let event_id = writer.append_event(&NewEvent {
                    ts_ms: 1_800_000_000_000,
                    source: "lsp",
                    kind: "prodcode.promptSubmitted",
                    payload: "{}",
                })?;
                writer.record_prompt(&NewPrompt {
                    interaction_id: "i-10",
                    prompt: "and now the lexer",
                    agent: None,
                    model: None,
                    agent_version: None,
                    source: "lsp",
                    session_id: None,
                    repo_id: None,
                    base_commit: None,
                    branch: None,
                    cwd: None,
                    ts_ms: 1_800_000_000_000,
                    event_id,
                })?;
                Ok(())
            })
            .unwrap();
    }
    let update = sync_json(&db, dir.path(), &team.url, &[]);
    assert_eq!(update["events"], 1);
    assert_eq!(update["tables"]["interactions"], 1, "{update:#}");
    assert_eq!(update["tables"]["prompts"], 1, "{update:#}");
    assert_eq!(
        team.count("SELECT turn_count FROM interactions WHERE id = 'i-10'"),
        2
    );
}

#[test]
fn verify_store_finds_a_tampered_row_and_says_whose() {
    let Some(team) = TeamDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    fill(&a, "/work/a/repo", 50, 0);
    fill(&b, "/work/b/repo", 50, 0);
    let device_a = sync_json(&a, dir.path(), &team.url, &[])["device"].clone();
    sync_json(&b, dir.path(), &team.url, &[]);
    assert!(verify_store(&team.url).0);

    team.client()
        .execute(
            "UPDATE events SET payload = '{\"forged\":true}' WHERE device = $1 AND id = 7",
            &[&device_a.as_str().unwrap()],
        )
        .unwrap();
    let (passed, report) = verify_store(&team.url);
    assert!(!passed);
    let devices = report["devices"].as_array().unwrap();
    let bad = devices.iter().find(|d| d["device"] == device_a).unwrap();
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["problem"]["eventId"], 7);
    assert_eq!(bad["problem"]["kind"], "tampered");
    assert_eq!(bad["eventsChecked"], 6);
    let good = devices.iter().find(|d| d["device"] != device_a).unwrap();
    assert_eq!(good["ok"], true);

    // Deleting a device's newest events is found against the head it pushed.
    team.client()
        .execute(
            "DELETE FROM events WHERE device <> $1 AND id > 45",
            &[&device_a.as_str().unwrap()],
        )
        .unwrap();
    let (_, report) = verify_store(&team.url);
    let good = report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] != device_a)
        .unwrap()
        .clone();
    assert_eq!(good["problem"]["kind"], "missing");
    assert_eq!(good["problem"]["eventId"], 46);

    // The human form says the same.
    let text = prodcode(&a, dir.path(), &["verify", "--store", &team.url]);
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("event 7 is tampered"), "{stdout}");
    assert!(
        !stdout.contains("prodcode-test"),
        "the password leaked: {stdout}"
    );
}

#[test]
fn a_copied_database_cannot_push_as_the_device_it_was_copied_from() {
    let Some(team) = TeamDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    fill(&a, "/work/a/repo", 20, 0);
    let copy = dir.path().join("copy.db");
    std::fs::copy(&a, &copy).unwrap();
    fill(&a, "/work/a/repo", 5, 20);
    sync_json(&a, dir.path(), &team.url, &[]);
    // The copy diverged at event 21: its push is refused, and says what to do.
    fill(&copy, "/work/a/repo", 10, 100);
    let refused = prodcode(&copy, dir.path(), &["sync", "--to", &team.url]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--new-device"), "{stderr}");
    let fresh = sync_json(&copy, dir.path(), &team.url, &["--new-device"]);
    assert_eq!(fresh["events"], 30);
    assert!(verify_store(&team.url).0);
}

#[test]
fn privacy_prompts_as_hashes_ignored_repositories_and_no_password_in_output() {
    let Some(team) = TeamDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("prodcode")).unwrap();
    let db = dir.path().join("a.db");

    // Nothing configured: nothing is sent, and the message says how to configure it.
    fill(&db, "/work/a/repo", 30, 0);
    let refused = prodcode(&db, &config, &["sync"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no team store configured"), "{stderr}");
    assert!(stderr.contains("[sync]"), "{stderr}");

    // An opted-out repository (its .prodcode-ignore added after capture) stays local.
    let ignored = dir.path().join("secret-repo");
    std::fs::create_dir_all(&ignored).unwrap();
    std::fs::write(ignored.join(".prodcode-ignore"), "").unwrap();
    fill(&db, ignored.to_str().unwrap(), 20, 1000);

    // The URL from the configuration, prompts as hashes only.
    std::fs::write(
        config.join("prodcode/config.toml"),
        format!("[sync]\nurl = \"{}\"\nprompts = false\n", team.url),
    )
    .unwrap();
    let output = prodcode(&db, &config, &["sync", "--json"]);
    let report: Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(report["events"], 50);
    // The 3 prompts of the kept repository (prompts as hashes), and the 2 events the ignored
    // repository's rows name.
    assert_eq!(report["withheld"], 5, "{report:#}");
    assert!(!report["store"].as_str().unwrap().contains("prodcode-test"));
    assert_eq!(team.count("SELECT count(*) FROM repositories"), 1);
    assert_eq!(team.count("SELECT count(*) FROM interactions"), 3);
    assert_eq!(
        team.count("SELECT count(*) FROM prompts WHERE text IS NULL AND length(text_sha256) = 64"),
        3
    );
    assert_eq!(
        team.count("SELECT count(*) FROM interactions WHERE first_prompt IS NULL AND first_prompt_sha256 IS NOT NULL"),
        3
    );
    assert_eq!(
        team.count("SELECT count(*) FROM events WHERE payload IS NULL AND withheld IS NOT NULL"),
        5
    );
    let (passed, verified) = verify_store(&team.url);
    assert!(passed, "{verified:#}");
    assert_eq!(verified["devices"][0]["withheld"], 5);

    // Credentials: a wrong password is never echoed; PGPASSWORD and a private ~/.pgpass work.
    let (with_password, without) = {
        let (scheme_user, rest) = team.url.split_once(':').unwrap();
        let rest = rest.trim_start_matches("//");
        let (user, after) = rest.split_once(':').unwrap();
        let (_, host_db) = after.split_once('@').unwrap();
        (
            format!("{scheme_user}://{user}:wrong-Secret-42@{host_db}"),
            format!("{scheme_user}://{user}@{host_db}"),
        )
    };
    let wrong = prodcode(&db, &config, &["sync", "--to", &with_password]);
    assert!(!wrong.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&wrong.stdout),
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(!all.contains("wrong-Secret-42"), "{all}");
    assert!(all.contains("password authentication failed"), "{all}");
    let password = team.url.split_once("://").unwrap().1;
    let password = password
        .split_once('@')
        .unwrap()
        .0
        .split_once(':')
        .unwrap()
        .1;
    let with_env = Command::new(bin())
        .args(["sync", "--to", &without, "--db"])
        .arg(&db)
        .env("XDG_CONFIG_HOME", &config)
        .env("HOME", dir.path())
        .env("PGPASSWORD", password)
        .output()
        .unwrap();
    ok(&with_env);
    let pgpass = dir.path().join(".pgpass");
    std::fs::write(&pgpass, format!("*:*:*:*:{password}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let with_file = Command::new(bin())
        .args(["sync", "--to", &without, "--db"])
        .arg(&db)
        .env("XDG_CONFIG_HOME", &config)
        .env("HOME", dir.path())
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .output()
        .unwrap();
    ok(&with_file);
    // A password file others can read is ignored, as libpq ignores it.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ignored_file = Command::new(bin())
        .args(["sync", "--to", &without, "--db"])
        .arg(&db)
        .env("XDG_CONFIG_HOME", &config)
        .env("HOME", dir.path())
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .output()
        .unwrap();
    assert!(!ignored_file.status.success());
    assert!(
        !String::from_utf8_lossy(&ignored_file.stderr).contains(password),
        "the password leaked"
    );
}

/// One session of one prompt in `dir`, recorded in `db`: its files written through the hooks,
/// then the end of its turn.
fn session_in(db: &Path, dir: &Path, name: &str, prompt: &str, files: &[(&str, &str)]) {
    let mut claude = crate::support::Claude::start_in_with_prompt(db, dir, name, prompt);
    for (path, content) in files {
        claude.write(&dir.join(path), content);
    }
    claude.stop();
}

/// A commit with fixed dates, so that the same change made in two clones is the same commit.
fn commit_at(dir: &Path, message: &str, seconds: i64) -> String {
    let date = format!("@{seconds} +0000");
    let env = [
        ("GIT_AUTHOR_DATE", date.as_str()),
        ("GIT_COMMITTER_DATE", date.as_str()),
    ];
    crate::support::git_env(dir, &env, &["add", "-A"]);
    crate::support::git_env(dir, &env, &["commit", "-q", "-m", message]);
    crate::support::git_env(dir, &[], &["rev-parse", "HEAD"])
        .trim()
        .to_owned()
}

fn link_in(db: &Path, dir: &Path) {
    let output = Command::new(bin())
        .args(["link", "--repo"])
        .arg(dir)
        .arg("--db")
        .arg(db)
        .env_remove("PRODCODE_DB")
        .output()
        .unwrap();
    ok(&output);
}

/// `prodcode curate --json` of `dir` with its own cache directory; `source` is `--db DB` or
/// `--store URL`. Returns the report and the tasks (`task.json` by instance id).
fn curate_in(dir: &Path, out: &Path, cache: &Path, source: &[&str]) -> (Value, Vec<Value>) {
    let output = Command::new(bin())
        .args(["curate", "--runs", "1", "--json", "--repo"])
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(source)
        .env_remove("PRODCODE_DB")
        .env("PRODCODE_CACHE_DIR", cache)
        .output()
        .unwrap();
    let report: Value = serde_json::from_str(&ok(&output)).unwrap();
    let mut tasks = Vec::new();
    if let Ok(entries) = std::fs::read_dir(out.join("tasks")) {
        let mut paths: Vec<_> = entries.map(|entry| entry.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(path.join("task.json")).unwrap();
            tasks.push(serde_json::from_str(&text).unwrap());
        }
    }
    (report, tasks)
}

#[test]
fn curate_from_the_team_store_makes_the_tasks_one_store_with_every_session_makes() {
    let Some(team) = TeamDb::new() else { return };
    if crate::support::tool_on_path("pytest").is_none() {
        crate::support::missing("pytest");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    // One project, its origin, and three clones: L (one developer who made both changes),
    // A and B (two developers who made one each, on their own machines and databases).
    let seed = base.join("seed");
    std::fs::create_dir_all(seed.join("textkit")).unwrap();
    std::fs::create_dir_all(seed.join("tests")).unwrap();
    std::fs::write(
        seed.join("pyproject.toml"),
        "[project]\nname = \"textkit\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(seed.join(".gitignore"), "__pycache__/\n.pytest_cache/\n").unwrap();
    std::fs::write(seed.join("textkit/__init__.py"), "").unwrap();
    // Each clone's own `main` is the main branch (L never pushes its commits).
    std::fs::write(seed.join("prodcode.toml"), "[link]\nmain = \"main\"\n").unwrap();
    std::fs::write(
        seed.join("textkit/core.py"),
        "def words(text):\n    return text.split()\n",
    )
    .unwrap();
    std::fs::write(
        seed.join("tests/test_core.py"),
        "from textkit import core\n\n\ndef test_words():\n    assert core.words(\"a b\") == [\"a\", \"b\"]\n",
    )
    .unwrap();
    crate::support::git_env(&seed, &[], &["init", "-q", "-b", "main"]);
    commit_at(&seed, "textkit", 1_700_000_000);
    let origin = base.join("origin.git");
    crate::support::git_env(
        &base,
        &[],
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            origin.to_str().unwrap(),
        ],
    );
    let clone = |name: &str| {
        let path = base.join(name).join("textkit");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        crate::support::git_env(
            &base,
            &[],
            &[
                "clone",
                "-q",
                origin.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        );
        path
    };
    let (l, a, b) = (clone("l"), clone("a"), clone("b"));
    let (db_l, db_a, db_b) = (base.join("l.db"), base.join("a.db"), base.join("b.db"));
    for (db, repo) in [(&db_l, &l), (&db_a, &a), (&db_b, &b)] {
        link_in(db, repo);
    }

    let first_prompt = "Add title_case to textkit.core: capitalise every word, keep the spacing";
    let first_files: &[(&str, &str)] = &[
        (
            "textkit/core.py",
            "def words(text):\n    return text.split()\n\n\ndef title_case(text):\n    return \" \".join(word[:1].upper() + word[1:] for word in text.split(\" \"))\n",
        ),
        (
            "tests/test_title.py",
            "from textkit import core\n\n\ndef test_title_case():\n    assert core.title_case(\"hello  world\") == \"Hello  World\"\n",
        ),
    ];
    let second_prompt =
        "Add count_words to textkit.core that counts the words of a text, with a test";
    let second_files: &[(&str, &str)] = &[
        (
            "textkit/count.py",
            "from textkit.core import words\n\n\ndef count_words(text):\n    return len(words(text))\n",
        ),
        (
            "tests/test_count.py",
            "from textkit.count import count_words\n\n\ndef test_count_words():\n    assert count_words(\"one two  three\") == 3\n",
        ),
    ];

    // Commit times after every session (provenance is read as of a commit's time), the same
    // in every clone.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // L makes both changes, recorded in its one database.
    session_in(&db_l, &l, "title", first_prompt, first_files);
    let first = commit_at(&l, "title_case", now + 300);
    session_in(&db_l, &l, "count", second_prompt, second_files);
    let second = commit_at(&l, "count_words", now + 600);
    link_in(&db_l, &l);

    // A makes the first, B the second after pulling it: the same commits, two databases.
    session_in(&db_a, &a, "title", first_prompt, first_files);
    assert_eq!(commit_at(&a, "title_case", now + 300), first);
    crate::support::git_env(&a, &[], &["push", "-q", "origin", "main"]);
    crate::support::git_env(&b, &[], &["pull", "-q", "--ff-only"]);
    session_in(&db_b, &b, "count", second_prompt, second_files);
    assert_eq!(commit_at(&b, "count_words", now + 600), second);
    crate::support::git_env(&b, &[], &["push", "-q", "origin", "main"]);
    crate::support::git_env(&a, &[], &["pull", "-q", "--ff-only"]);
    link_in(&db_a, &a);
    link_in(&db_b, &b);
    sync_json(&db_a, &base, &team.url, &[]);
    sync_json(&db_b, &base, &team.url, &[]);

    let (local_report, local_tasks) = curate_in(
        &l,
        &base.join("out-local"),
        &base.join("cache-local"),
        &["--db", db_l.to_str().unwrap()],
    );
    let (team_report, team_tasks) = curate_in(
        &l,
        &base.join("out-team"),
        &base.join("cache-team"),
        &["--store", &team.url],
    );
    assert_eq!(local_tasks.len(), 2, "{local_report:#}");
    assert_eq!(team_tasks.len(), 2, "{team_report:#}");
    assert_eq!(local_report["tasks"], team_report["tasks"]);
    // The same tasks, field for field, but for when each was curated.
    for (mut local, mut team) in local_tasks.into_iter().zip(team_tasks) {
        local.as_object_mut().unwrap().remove("curatedAt");
        team.as_object_mut().unwrap().remove("curatedAt");
        assert_eq!(local, team);
    }
    // `stats` and `log --landed` read the team's rows as they read the one store.
    let read = |args: &[&str]| -> Value {
        let output = Command::new(bin())
            .args(args)
            .env_remove("PRODCODE_DB")
            .env("PRODCODE_CACHE_DIR", base.join("cache-read"))
            .output()
            .unwrap();
        serde_json::from_str(&ok(&output)).unwrap()
    };
    let l_text = l.to_str().unwrap();
    let db_l_text = db_l.to_str().unwrap();
    assert_eq!(
        read(&["stats", "--json", "--repo", l_text, "--db", db_l_text]),
        read(&["stats", "--json", "--repo", l_text, "--store", &team.url])
    );
    let landed_ids = |log: Value| -> Vec<String> {
        let mut ids: Vec<String> = log["interactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let team_log = read(&[
        "log", "--landed", "--json", "--repo", l_text, "--store", &team.url,
    ]);
    assert_eq!(
        landed_ids(read(&["log", "--landed", "--json", "--db", db_l_text])),
        landed_ids(team_log.clone())
    );
    assert_eq!(landed_ids(team_log), ["claude:count", "claude:title"]);

    // Each device alone sees only its own developer's task.
    let (_, a_tasks) = curate_in(
        &a,
        &base.join("out-a"),
        &base.join("cache-a"),
        &["--db", db_a.to_str().unwrap(), "--no-link"],
    );
    assert_eq!(a_tasks.len(), 1);
}
