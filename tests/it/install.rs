//! `prodcode install` through the real binary, with a temporary `$HOME` and real git repositories.
//!
//! The expected files in `tests/data/install/<agent>/` were checked against each agent's
//! documentation (see docs/install.md); the existing configurations there are realistic ones with
//! other hooks and settings that must come through untouched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{bin, git};

/// A stable binary path for the files the tests compare; the hooks never run here.
const EXE: &str = "/opt/prodcode/bin/prodcode";

/// An agent and where its file lives, relative to `$HOME` and to the project.
#[derive(Clone, Copy)]
struct Case {
    agent: &'static str,
    user_file: &'static str,
    project_file: &'static str,
}

const CLAUDE: Case = Case {
    agent: "claude",
    user_file: ".claude/settings.json",
    project_file: ".claude/settings.json",
};
const CODEX: Case = Case {
    agent: "codex",
    user_file: ".codex/hooks.json",
    project_file: ".codex/hooks.json",
};
const CURSOR: Case = Case {
    agent: "cursor",
    user_file: ".cursor/hooks.json",
    project_file: ".cursor/hooks.json",
};
const COPILOT: Case = Case {
    agent: "copilot",
    user_file: ".copilot/hooks/prodcode.json",
    project_file: ".github/hooks/prodcode.json",
};
const GEMINI: Case = Case {
    agent: "gemini",
    user_file: ".gemini/settings.json",
    project_file: ".gemini/settings.json",
};
const CASES: [Case; 5] = [CLAUDE, CODEX, CURSOR, COPILOT, GEMINI];

/// A temporary home directory and a project directory beside it.
struct Sandbox {
    _dir: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let home = base.join("home");
        let project = base.join("project");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        Sandbox {
            _dir: dir,
            home,
            project,
        }
    }

    /// `prodcode install ARGS…` with `$HOME` here, run from the project directory.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bin());
        command
            .arg("install")
            .args(args)
            .env("HOME", &self.home)
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME")
            .env_remove("COPILOT_HOME")
            .current_dir(&self.project);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs an install that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "install {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    fn user_path(&self, case: Case) -> PathBuf {
        self.home.join(case.user_file)
    }
}

fn fixture(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/install")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn backup_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".prodcode-backup");
    PathBuf::from(name)
}

fn statuses(report: &Value) -> Vec<String> {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Install into an empty home, install again, uninstall.
fn check_empty_home(case: Case) {
    let sandbox = Sandbox::new();
    let path = sandbox.user_path(case);
    let first = sandbox.json(&[case.agent, "--exe", EXE]);
    assert_eq!(first["file"], "created", "{first}");
    assert_eq!(first["changed"], true);
    assert_eq!(first["backup"], Value::Null, "a new file needs no backup");
    assert!(statuses(&first).iter().all(|status| status == "added"));
    let written = read(&path);
    assert_eq!(
        written,
        fixture(&format!("{}/expected-new.json", case.agent)),
        "{}",
        case.agent
    );

    let again = sandbox.ok(&[case.agent, "--exe", EXE]);
    assert!(again.contains("already installed"), "{again}");
    assert_eq!(read(&path), written, "installing twice changes nothing");

    let removed = sandbox.json(&["--uninstall", case.agent, "--exe", EXE]);
    assert_eq!(removed["file"], "deleted", "{removed}");
    assert!(statuses(&removed).iter().all(|status| status == "removed"));
    assert!(
        !path.exists(),
        "a file prodcode created and emptied is deleted"
    );
    assert!(!backup_of(&path).exists());

    let nothing = sandbox.ok(&["--uninstall", case.agent]);
    assert!(nothing.contains("nothing changed"), "{nothing}");
}

/// Install into a home with the agent's realistic existing configuration, again, uninstall.
fn check_existing(case: Case) {
    check_existing_in(&Sandbox::new(), case);
}

fn check_existing_in(sandbox: &Sandbox, case: Case) {
    let path = sandbox.user_path(case);
    let original = fixture(&format!("{}/existing.json", case.agent));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &original).unwrap();

    let first = sandbox.json(&[case.agent, "--exe", EXE]);
    assert_eq!(first["file"], "modified", "{first}");
    let merged = read(&path);
    assert_eq!(
        merged,
        fixture(&format!("{}/expected-merged.json", case.agent)),
        "{}",
        case.agent
    );
    let backup = backup_of(&path);
    assert_eq!(first["backup"], backup.to_str().unwrap());
    assert_eq!(read(&backup), original, "the backup is the file as it was");

    let second = sandbox.json(&[case.agent, "--exe", EXE]);
    assert_eq!(second["changed"], false, "{second}");
    assert!(statuses(&second).iter().all(|status| status == "present"));
    assert_eq!(read(&path), merged);

    let removed = sandbox.json(&["--uninstall", case.agent, "--exe", EXE]);
    assert_eq!(removed["file"], "modified", "{removed}");
    let restored = read(&path);
    assert_eq!(parse(&restored), parse(&original), "{}", case.agent);
    assert_eq!(
        restored, original,
        "same bytes: order and indentation are kept"
    );
    assert_eq!(
        read(&backup),
        merged,
        "the backup is the file before the uninstall"
    );
}

#[test]
fn claude_install_into_an_empty_home() {
    check_empty_home(CLAUDE);
}

#[test]
fn claude_install_merges_with_existing_settings() {
    check_existing(CLAUDE);
}

#[test]
fn codex_install_into_an_empty_home() {
    check_empty_home(CODEX);
}

#[test]
fn codex_install_merges_with_existing_hooks() {
    check_existing(CODEX);
}

#[test]
fn cursor_install_into_an_empty_home() {
    check_empty_home(CURSOR);
}

#[test]
fn cursor_install_merges_with_existing_hooks_and_keeps_four_space_indent() {
    check_existing(CURSOR);
}

#[test]
fn copilot_install_into_an_empty_home() {
    check_empty_home(COPILOT);
}

#[test]
fn copilot_install_merges_with_its_own_file_and_leaves_other_hook_files_alone() {
    let sandbox = Sandbox::new();
    let other = sandbox.home.join(".copilot/hooks/audit.json");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::write(&other, fixture("copilot/audit.json")).unwrap();
    check_existing_in(&sandbox, COPILOT);
    assert_eq!(read(&other), fixture("copilot/audit.json"));
    let names: Vec<_> = std::fs::read_dir(other.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "audit.json, prodcode.json and its backup: {names:?}"
    );
}

#[test]
fn gemini_install_into_an_empty_home() {
    check_empty_home(GEMINI);
}

#[test]
fn gemini_install_merges_with_existing_settings() {
    check_existing(GEMINI);
}

#[test]
fn malformed_config_is_an_error_and_the_file_is_untouched() {
    for case in CASES {
        for text in [
            "{ \"hooks\": { \"Stop\": [ }",
            "{\n  // my settings\n  \"model\": \"x\"\n}\n",
            "[1, 2]",
            "{ \"hooks\": [] }",
            "{ \"hooks\": { \"Stop\": {}, \"stop\": {}, \"sessionEnd\": {}, \"SessionEnd\": {} } }",
        ] {
            let sandbox = Sandbox::new();
            let path = sandbox.user_path(case);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            let output = sandbox.run(&[case.agent, "--exe", EXE]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{} {text}: {stderr}",
                case.agent
            );
            assert!(
                stderr.contains(path.to_str().unwrap()) && stderr.contains("unchanged"),
                "{stderr}"
            );
            assert_eq!(read(&path), text, "{} {text}", case.agent);
            assert!(!backup_of(&path).exists());
        }
    }
}

#[test]
fn comments_are_named_as_the_reason() {
    let sandbox = Sandbox::new();
    let path = sandbox.user_path(GEMINI);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\n  // theme\n  \"ui\": {}\n}\n").unwrap();
    let output = sandbox.run(&["gemini"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("comments"),
        "{stderr}"
    );
}

#[test]
fn hooks_run_the_hook_program_beside_this_binary_by_default() {
    let sandbox = Sandbox::new();
    // An entry an older prodcode wrote (`prodcode hook claude`) is updated in place.
    sandbox.ok(&["claude", "--exe", "/old/place/prodcode"]);
    let report = sandbox.json(&["claude"]);
    let hook_program = bin().with_file_name("prodcode-hook");
    assert!(
        hook_program.is_file(),
        "{} is built",
        hook_program.display()
    );
    let expected = format!("{} claude", hook_program.display());
    assert_eq!(report["command"], expected.as_str());
    assert!(statuses(&report).iter().all(|status| status == "updated"));
    let settings = parse(&read(&sandbox.user_path(CLAUDE)));
    assert_eq!(
        settings["hooks"]["Stop"][0]["hooks"][0]["command"],
        expected.as_str()
    );
    assert_eq!(
        settings["hooks"]["Stop"][0]["hooks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(sandbox.json(&["claude"])["changed"], false);

    // A prodcode with no hook program beside it runs itself; uninstalling finds either form.
    let alone = sandbox.home.join("bin/prodcode");
    std::fs::create_dir_all(alone.parent().unwrap()).unwrap();
    std::fs::write(&alone, "").unwrap();
    let report = sandbox.json(&["claude", "--exe", alone.to_str().unwrap()]);
    assert_eq!(
        report["command"],
        format!("{} hook claude", alone.display()).as_str()
    );
    assert!(statuses(&report).iter().all(|status| status == "updated"));
    let removed = sandbox.json(&["--uninstall", "claude"]);
    assert!(
        statuses(&removed).iter().all(|status| status == "removed"),
        "{removed}"
    );
    assert_eq!(read(&sandbox.user_path(CLAUDE)).trim(), "{}", "{removed}");
}

#[test]
fn a_path_with_spaces_is_quoted_and_still_recognised() {
    let sandbox = Sandbox::new();
    let exe = "/Applications/My Tools/prodcode";
    let report = sandbox.json(&["cursor", "--exe", exe]);
    assert_eq!(
        report["command"],
        "'/Applications/My Tools/prodcode' hook cursor"
    );
    let again = sandbox.json(&["cursor", "--exe", exe]);
    assert_eq!(again["changed"], false);
    sandbox.ok(&["--uninstall", "cursor"]);
    assert!(!sandbox.user_path(CURSOR).exists());
}

#[test]
fn reinstalling_after_the_binary_moved_updates_the_command_in_place() {
    let sandbox = Sandbox::new();
    let path = sandbox.user_path(CLAUDE);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, fixture("claude/existing.json")).unwrap();
    sandbox.ok(&["claude", "--exe", "/old/place/prodcode"]);
    let report = sandbox.json(&["claude", "--exe", EXE]);
    assert!(statuses(&report).iter().all(|status| status == "updated"));
    assert_eq!(read(&path), fixture("claude/expected-merged.json"));
    // Uninstall recognises prodcode's entries whichever binary runs it.
    sandbox.ok(&["--uninstall", "claude"]);
    assert_eq!(read(&path), fixture("claude/existing.json"));
}

#[test]
fn dry_run_prints_the_result_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let path = sandbox.user_path(CODEX);
    let stdout = sandbox.ok(&["codex", "--dry-run", "--exe", EXE]);
    assert_eq!(stdout, fixture("codex/expected-new.json"));
    assert!(!path.exists());
    assert!(!sandbox.home.join(".codex").exists());

    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, fixture("codex/existing.json")).unwrap();
    let report = sandbox.json(&["codex", "--dry-run", "--exe", EXE]);
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["file"], "modified");
    assert_eq!(
        report["content"],
        fixture("codex/expected-merged.json").as_str()
    );
    assert_eq!(read(&path), fixture("codex/existing.json"));
    assert!(!backup_of(&path).exists());
}

#[test]
fn json_report_names_every_entry() {
    let sandbox = Sandbox::new();
    let report = sandbox.json(&["claude", "--exe", EXE]);
    let path = sandbox.user_path(CLAUDE);
    assert_eq!(report["agent"], "claude");
    assert_eq!(report["action"], "install");
    assert_eq!(report["scope"], "user");
    assert_eq!(report["path"], path.to_str().unwrap());
    assert_eq!(report["command"], format!("{EXE} hook claude").as_str());
    let entries: Vec<(String, Value)> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["event"].as_str().unwrap().to_owned(),
                entry["matcher"].clone(),
            )
        })
        .collect();
    let edits = Value::from("Edit|MultiEdit|Write|NotebookEdit");
    let bash = Value::from("Bash");
    assert_eq!(
        entries,
        vec![
            ("UserPromptSubmit".to_owned(), Value::Null),
            ("PreToolUse".to_owned(), edits.clone()),
            ("PreToolUse".to_owned(), bash.clone()),
            ("PostToolUse".to_owned(), edits.clone()),
            ("PostToolUse".to_owned(), bash.clone()),
            ("PostToolUseFailure".to_owned(), edits),
            ("PostToolUseFailure".to_owned(), bash),
            ("Stop".to_owned(), Value::Null),
            ("SessionEnd".to_owned(), Value::Null),
        ]
    );
}

#[test]
fn claude_config_dir_codex_home_and_copilot_home_are_honoured() {
    let sandbox = Sandbox::new();
    let elsewhere = sandbox.project.join("elsewhere");
    for (agent, var, file) in [
        ("claude", "CLAUDE_CONFIG_DIR", "settings.json"),
        ("codex", "CODEX_HOME", "hooks.json"),
        ("copilot", "COPILOT_HOME", "hooks/prodcode.json"),
    ] {
        let dir = elsewhere.join(agent);
        let output = sandbox
            .command(&[agent, "--exe", EXE])
            .env(var, &dir)
            .output()
            .unwrap();
        assert!(output.status.success());
        assert_eq!(
            read(&dir.join(file)),
            fixture(&format!("{agent}/expected-new.json"))
        );
    }
    assert_eq!(std::fs::read_dir(&sandbox.home).unwrap().count(), 0);
}

#[test]
fn project_scope_writes_into_the_project() {
    for case in CASES {
        let sandbox = Sandbox::new();
        sandbox.ok(&[case.agent, "--scope", "project", "--exe", EXE]);
        let path = sandbox.project.join(case.project_file);
        assert_eq!(
            read(&path),
            fixture(&format!("{}/expected-new.json", case.agent))
        );
        assert_eq!(std::fs::read_dir(&sandbox.home).unwrap().count(), 0);

        // --project-dir alone means the project scope, from any working directory.
        let other = Sandbox::new();
        let dir = sandbox.project.to_str().unwrap();
        let again = other.json(&[case.agent, "--project-dir", dir, "--exe", EXE]);
        assert_eq!(again["scope"], "project");
        assert_eq!(again["changed"], false);
        other.ok(&["--uninstall", case.agent, "--project-dir", dir]);
        assert!(!path.exists());
    }
}

#[test]
fn project_dir_with_user_scope_is_refused() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["claude", "--scope", "user", "--project-dir", "."]);
    assert_eq!(output.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn a_symlinked_settings_file_is_written_through() {
    let sandbox = Sandbox::new();
    let dotfiles = sandbox.project.join("dotfiles/claude-settings.json");
    std::fs::create_dir_all(dotfiles.parent().unwrap()).unwrap();
    std::fs::write(&dotfiles, fixture("claude/existing.json")).unwrap();
    let link = sandbox.user_path(CLAUDE);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&dotfiles, &link).unwrap();
    sandbox.ok(&["claude", "--exe", EXE]);
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(read(&dotfiles), fixture("claude/expected-merged.json"));
    sandbox.ok(&["--uninstall", "claude"]);
    assert_eq!(read(&dotfiles), fixture("claude/existing.json"));
}

#[test]
fn settings_that_switch_hooks_off_are_reported() {
    let sandbox = Sandbox::new();
    let path = sandbox.user_path(GEMINI);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{ \"hooksConfig\": { \"enabled\": false } }").unwrap();
    let report = sandbox.json(&["gemini", "--exe", EXE]);
    let notes = report["notes"].to_string();
    assert!(notes.contains("hooksConfig.enabled"), "{notes}");

    let config = sandbox.home.join(".codex/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "model = \"gpt-5\"\n\n[features]\nhooks = false\n").unwrap();
    let report = sandbox.json(&["codex", "--exe", EXE]);
    let notes = report["notes"].to_string();
    assert!(notes.contains("features.hooks = false"), "{notes}");
    // Hooks stay off: prodcode only adds the trust of its own hooks (`[hooks.state]`).
    let config = read(&config);
    assert!(
        config.starts_with("model = \"gpt-5\"\n\n[features]\nhooks = false\n\n[hooks.state."),
        "{config}"
    );
    assert_eq!(
        config.matches("trusted_hash = \"sha256:").count(),
        6,
        "{config}"
    );
}

// git's post-commit hook.

/// A repository with one commit, inside the sandbox's project directory.
fn repository(sandbox: &Sandbox) -> PathBuf {
    let root = sandbox.project.join("repo");
    std::fs::create_dir_all(&root).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    std::fs::write(root.join("README"), "one\n").unwrap();
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "init"]);
    root
}

fn commit(root: &Path, text: &str) {
    std::fs::write(root.join("README"), text).unwrap();
    git(root, &["commit", "-q", "-am", text]);
}

/// A stand-in for prodcode that records its arguments and whether it had stdin, then fails.
#[cfg(unix)]
fn failing_recorder(sandbox: &Sandbox) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = sandbox.project.join("recorder.log");
    let script = sandbox.project.join("bin/prodcode");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\ncat >> '{}'\necho noise\necho noise >&2\nexit 7\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

fn hook_path(root: &Path) -> PathBuf {
    root.join(".git/hooks/post-commit")
}

#[cfg(unix)]
#[test]
fn git_hook_runs_on_commit_and_never_fails_it() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let root = repository(&sandbox);
    let (recorder, log) = failing_recorder(&sandbox);
    let dir = root.to_str().unwrap();
    let report = sandbox.json(&[
        "git",
        "--project-dir",
        dir,
        "--exe",
        recorder.to_str().unwrap(),
    ]);
    assert_eq!(report["scope"], "project");
    assert_eq!(report["file"], "created");
    let hook = hook_path(&root);
    assert_eq!(report["path"], hook.to_str().unwrap());
    let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    let script = read(&hook);
    assert!(
        script.starts_with("#!/bin/sh\n# >>> prodcode post-commit hook >>>\n"),
        "{script}"
    );

    // The recorder fails and prints; the commit still succeeds, quietly.
    std::fs::write(root.join("README"), "two\n").unwrap();
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "commit.gpgsign=false", "commit", "-q", "-am", "two"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert_eq!(wait_for(&log), "hook git\n", "ran once, with no input");

    let again = sandbox.ok(&[
        "git",
        "--project-dir",
        dir,
        "--exe",
        recorder.to_str().unwrap(),
    ]);
    assert!(again.contains("already installed"), "{again}");
    assert_eq!(read(&hook), script);

    sandbox.ok(&["--uninstall", "git", "--project-dir", dir]);
    assert!(!hook.exists(), "the hook held only prodcode's block");
    commit(&root, "three\n");
    assert_eq!(read(&log), "hook git\n");
}

#[test]
fn git_hook_with_a_missing_binary_does_not_fail_the_commit() {
    let sandbox = Sandbox::new();
    let root = repository(&sandbox);
    sandbox.ok(&[
        "git",
        "--project-dir",
        root.to_str().unwrap(),
        "--exe",
        "/nonexistent/prodcode",
    ]);
    commit(&root, "two\n");
}

#[test]
fn git_hook_runs_the_real_binary() {
    let sandbox = Sandbox::new();
    let root = repository(&sandbox);
    // From a subdirectory, without --project-dir: the repository around the working directory.
    let sub = root.join("src");
    std::fs::create_dir_all(&sub).unwrap();
    let output = Command::new(bin())
        .args(["install", "git"])
        .env("HOME", &sandbox.home)
        .env("PRODCODE_DB", sandbox.project.join("prodcode.db"))
        .current_dir(&sub)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let script = read(&hook_path(&root));
    assert!(
        script.contains(&format!("{} hook git </dev/null", bin().display())),
        "{script}"
    );
    commit(&root, "two\n");
}

#[cfg(unix)]
#[test]
fn git_hook_keeps_a_users_shell_hook() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let root = repository(&sandbox);
    let (recorder, log) = failing_recorder(&sandbox);
    let hook = hook_path(&root);
    let user = fixture("git/post-commit");
    std::fs::write(&hook, &user).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o750)).unwrap();
    let dir = root.to_str().unwrap();

    let report = sandbox.json(&[
        "git",
        "--project-dir",
        dir,
        "--exe",
        recorder.to_str().unwrap(),
    ]);
    assert_eq!(report["file"], "modified");
    assert_eq!(read(&backup_of(&hook)), user);
    let script = read(&hook);
    assert!(script.starts_with("#!/usr/bin/env bash\n# >>> prodcode post-commit hook >>>\n"));
    assert!(script.ends_with(&user["#!/usr/bin/env bash\n".len()..]));
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o750
    );

    commit(&root, "two\n");
    assert_eq!(wait_for(&log), "hook git\n");
    let ran = read(&root.join(".git/user-hook-ran"));
    assert_eq!(
        ran.lines().count(),
        1,
        "the user's hook still runs, after prodcode's block"
    );

    sandbox.ok(&["--uninstall", "git", "--project-dir", dir]);
    assert_eq!(read(&hook), user, "exactly the block is removed");
    assert_eq!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o777,
        0o750
    );
}

#[cfg(unix)]
#[test]
fn git_hook_chains_a_hook_in_another_language() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let root = repository(&sandbox);
    let (recorder, log) = failing_recorder(&sandbox);
    let hook = hook_path(&root);
    let user = fixture("git/post-commit.pl");
    std::fs::write(&hook, &user).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = root.to_str().unwrap();

    let report = sandbox.json(&[
        "git",
        "--project-dir",
        dir,
        "--exe",
        recorder.to_str().unwrap(),
    ]);
    let chained = root.join(".git/hooks/post-commit.prodcode-chained");
    assert_eq!(report["chained"], chained.to_str().unwrap());
    assert_eq!(read(&chained), user);

    commit(&root, "two\n");
    assert_eq!(wait_for(&log), "hook git\n");
    assert_eq!(read(&root.join(".git/perl-hook-ran")), "ran\n");

    sandbox.ok(&["--uninstall", "git", "--project-dir", dir]);
    assert_eq!(read(&hook), user);
    assert!(!chained.exists());
}

#[test]
fn git_hook_goes_where_core_hooks_path_says() {
    let sandbox = Sandbox::new();
    let root = repository(&sandbox);
    git(&root, &["config", "core.hooksPath", ".githooks"]);
    let dir = root.to_str().unwrap();
    let report = sandbox.json(&[
        "git",
        "--project-dir",
        dir,
        "--exe",
        "/nonexistent/prodcode",
    ]);
    let hook = root.join(".githooks/post-commit");
    assert_eq!(report["path"], hook.to_str().unwrap());
    assert!(hook.exists());
    assert!(!hook_path(&root).exists());
    commit(&root, "two\n");
}

#[cfg(unix)]
#[test]
fn git_hook_that_is_not_executable_is_refused() {
    let sandbox = Sandbox::new();
    let root = repository(&sandbox);
    let hook = hook_path(&root);
    std::fs::write(&hook, "#!/bin/sh\necho disabled\n").unwrap();
    let output = sandbox.run(&["git", "--project-dir", root.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not executable"));
    assert_eq!(read(&hook), "#!/bin/sh\necho disabled\n");
}

#[test]
fn git_install_outside_a_repository_is_an_error() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["git"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not in a git repository"), "{stderr}");
    let output = sandbox.run(&["git", "--scope", "user"]);
    assert_eq!(output.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn a_private_settings_file_and_its_backup_stay_private() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let path = sandbox.user_path(CLAUDE);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "{\n  \"env\": {\n    \"ANTHROPIC_API_KEY\": \"sk-ant-secret\"\n  }\n}\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    sandbox.ok(&["claude", "--exe", EXE]);
    for file in [path.clone(), backup_of(&path)] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
}

#[test]
fn install_doc_names_every_file_event_and_matcher() {
    let doc = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/install.md"));
    for case in CASES {
        for file in [case.user_file, case.project_file] {
            let name = file
                .trim_start_matches(".claude/")
                .trim_start_matches(".copilot/");
            assert!(doc.contains(name), "docs/install.md lacks {file}");
        }
        let written = parse(&fixture(&format!("{}/expected-new.json", case.agent)));
        for (event, groups) in written["hooks"].as_object().unwrap() {
            assert!(
                doc.contains(&format!("`{event}`")),
                "docs/install.md lacks {event}"
            );
            for group in groups.as_array().unwrap() {
                if let Some(matcher) = group["matcher"].as_str() {
                    let escaped = matcher.replace('|', "\\|");
                    assert!(
                        doc.contains(&format!("`{escaped}`")),
                        "docs/install.md lacks the matcher {matcher}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_bare_exe_name_is_kept_for_shared_project_files() {
    let sandbox = Sandbox::new();
    let report = sandbox.json(&["copilot", "--scope", "project", "--exe", "prodcode"]);
    assert_eq!(report["command"], "prodcode hook copilot");
    let file = parse(&read(&sandbox.project.join(COPILOT.project_file)));
    assert_eq!(
        file["hooks"]["preToolUse"][0]["bash"],
        "prodcode hook copilot"
    );
    // Installing with the absolute path later updates the same entries, no duplicates.
    let report = sandbox.json(&["copilot", "--scope", "project", "--exe", EXE]);
    assert!(statuses(&report).iter().all(|status| status == "updated"));
}

/// The log a recorder started in the background by git's `post-commit` hook writes, once it has
/// written it (the hook does not make the commit wait for prodcode).
fn wait_for(log: &Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.ends_with('\n') || std::time::Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Codex skips hooks it has not trusted, silently (issue 12): install records their trust in
/// `config.toml` as Codex's `/hooks` screen does, uninstall removes it, the rest of the file
/// stays as it was. (`live_codex.rs` checks that a real Codex then runs them.)
#[test]
fn codex_hooks_are_trusted_on_install_and_the_trust_removed_on_uninstall() {
    let sandbox = Sandbox::new();
    let hooks = sandbox.user_path(CODEX);
    let config = hooks.with_file_name("config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let mine = "# my settings\nmodel = \"gpt-5\"\n\n[hooks.state.\"/elsewhere/hooks.json:stop:0:0\"]\ntrusted_hash = \"sha256:theirs\"\n";
    std::fs::write(&config, mine).unwrap();
    let report = sandbox.json(&["codex", "--exe", EXE]);
    assert!(
        report["notes"].to_string().contains("Trust of the 6 hooks"),
        "{report:#}"
    );
    let trusted = read(&config);
    let table: toml::Table = toml::from_str(&trusted).unwrap();
    let state = table["hooks"]["state"].as_table().unwrap();
    let source = hooks.to_string_lossy();
    let mut keys: Vec<&str> = state.keys().map(String::as_str).collect();
    keys.sort();
    let expected: Vec<String> = [
        "/elsewhere/hooks.json:stop:0:0".to_owned(),
        format!("{source}:post_tool_use:0:0"),
        format!("{source}:post_tool_use:1:0"),
        format!("{source}:pre_tool_use:0:0"),
        format!("{source}:pre_tool_use:1:0"),
        format!("{source}:stop:0:0"),
        format!("{source}:user_prompt_submit:0:0"),
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    assert!(trusted.starts_with(mine), "{trusted}");
    // Installing again changes nothing.
    sandbox.ok(&["codex", "--exe", EXE]);
    assert_eq!(read(&config), trusted);
    sandbox.ok(&["codex", "--uninstall", "--exe", EXE]);
    assert_eq!(read(&config), mine);
}

/// `prodcode doctor` warns while an agent's installed hooks have not run (a Codex that skips
/// them, issue 12), and stops once a hook of that agent recorded a session.
#[test]
fn doctor_warns_until_installed_hooks_have_run() {
    let sandbox = Sandbox::new();
    let db = sandbox.home.join("prodcode.db");
    sandbox.ok(&["codex", "--exe", EXE]);
    let doctor = || -> Value {
        let output = Command::new(bin())
            .args(["doctor", "--json", "--db"])
            .arg(&db)
            .env("HOME", &sandbox.home)
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME")
            .env_remove("COPILOT_HOME")
            .output()
            .unwrap();
        assert!(output.status.success(), "a warning is not a failure");
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let report = doctor();
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("Codex CLI's hooks") && warnings.contains("have not run"),
        "{report:#}"
    );
    assert_eq!(report["hooks"][0]["agent"], "codex", "{report:#}");
    assert_eq!(report["hooks"][0]["ranSinceInstall"], false);
    // A hook call, as Codex makes it once it runs the hooks.
    let payload = crate::support::hook_fixture(
        "codex/0.171/user_prompt_submit.json",
        &[
            ("session", "019c-doctor"),
            ("cwd", sandbox.project.to_str().unwrap()),
            ("home", sandbox.home.to_str().unwrap()),
            ("turn", "t1"),
            ("prompt", "hello"),
        ],
    );
    crate::support::run_hook(&db, &sandbox.project, "codex", &payload);
    let report = doctor();
    assert_eq!(report["warnings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["hooks"][0]["ranSinceInstall"], true);
}
