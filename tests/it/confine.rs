//! Workspace confinement (issue 13, items 8 to 10): no tool reads or writes outside the workspace
//! it serves, whatever its arguments say and whatever the files do while it runs. Each test
//! keeps victims in a directory beside the workspace and checks them byte for byte afterwards.
//! Real binary: `prodcode tool` for single calls, `prodcode mcp` for the race.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp::RawServer;
use crate::support::{Workspace, missing, tool_on_path};

/// `prodcode tool NAME --args ARGS --workspace ROOT --json`: the answer, and whether it succeeded.
fn tool(ws: &Workspace, name: &str, args: &Value) -> (bool, Value) {
    let root = ws.root.to_string_lossy().into_owned();
    let args = args.to_string();
    let output = ws.prodcode(&[
        "tool",
        name,
        "--args",
        &args,
        "--workspace",
        &root,
        "--json",
    ]);
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "prodcode tool {name} printed no JSON ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), answer)
}

fn refused_with(ws: &Workspace, name: &str, args: Value, kind: &str) {
    let (ok, answer) = tool(ws, name, &args);
    assert!(!ok, "{args} was accepted: {answer}");
    assert_eq!(answer["error"]["kind"], kind, "{args}: {answer}");
}

const UGLY: &str = "pub fn  ugly( ) ->u8 { 1 }\n";

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Regression (issue 13, item 8): rustfmt followed `mod linked;` into a symbolic link pointing out
/// and a `#[path = "/abs/…"]` module, rewrote both outside files and answered `changed: []`.
#[test]
fn format_never_writes_outside_the_workspace_and_says_what_it_changed() {
    let ws = Workspace::new();
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().canonicalize().unwrap();
    let linked = outside.join("linked.rs");
    let absolute = outside.join("abs.rs");
    ws.write(
        "Cargo.toml",
        "[package]\nname = \"confined\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    std::fs::create_dir(ws.path("src")).unwrap();
    let main = format!(
        "mod inside;\nmod linked;\n#[path = \"{}\"]\nmod abs;\nfn  main( ) {{ }}\n",
        absolute.display()
    );
    std::os::unix::fs::symlink(&linked, ws.path("src/linked.rs")).unwrap();
    let reset = || {
        ws.write("src/main.rs", &main);
        ws.write("src/inside.rs", UGLY);
        std::fs::write(&linked, UGLY).unwrap();
        std::fs::write(&absolute, UGLY).unwrap();
    };
    let victims_untouched = |when: &str| {
        for victim in [&linked, &absolute] {
            assert_eq!(
                std::fs::read_to_string(victim).unwrap(),
                UGLY,
                "{when}: {} was rewritten",
                victim.display()
            );
        }
    };
    let inside = ["src/inside.rs", "src/main.rs"].map(str::to_owned).to_vec();

    for args in [
        json!({ "paths": ["src/main.rs"] }),
        json!({}),
        json!({ "paths": ["src"] }),
    ] {
        reset();
        let mut check = args.clone();
        check["check_only"] = json!(true);
        let (ok, answer) = tool(&ws, "format", &check);
        assert!(ok, "{answer}");
        assert_eq!(strings(&answer["changed"]), inside, "{check}: {answer}");
        let refused = strings(&answer["refused"]);
        assert_eq!(refused.len(), 2, "{check}: {answer}");
        assert!(
            refused.iter().any(|named| named.ends_with("abs.rs")),
            "{answer}"
        );
        victims_untouched("check_only");

        let (ok, answer) = tool(&ws, "format", &args);
        assert!(ok, "{answer}");
        victims_untouched(&args.to_string());
        assert_eq!(strings(&answer["changed"]), inside, "{args}: {answer}");
        assert_eq!(strings(&answer["refused"]).len(), 2, "{args}: {answer}");
        assert_eq!(
            std::fs::read_to_string(ws.path("src/inside.rs")).unwrap(),
            "pub fn ugly() -> u8 {\n    1\n}\n"
        );
        assert!(
            std::fs::symlink_metadata(ws.path("src/linked.rs"))
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link itself is left alone"
        );
        assert_eq!(answer["runs"][0]["problem"], Value::Null, "{answer}");
    }

    // ruff writes through a symbolic link to a Python file when it walks a directory.
    if tool_on_path("ruff").is_none() {
        missing("ruff");
        return;
    }
    let python = Workspace::new();
    python.write(
        "pyproject.toml",
        "[project]\nname = \"p\"\nversion = \"0\"\n",
    );
    std::fs::create_dir(python.path("pkg")).unwrap();
    python.write("pkg/a.py", "x = [1,2,\n 3]\n");
    let victim = outside.join("victim.py");
    std::fs::write(&victim, "y = [1,2,\n 3]\n").unwrap();
    std::os::unix::fs::symlink(&victim, python.path("pkg/victim.py")).unwrap();
    let (ok, answer) = tool(&python, "format", &json!({ "paths": ["pkg"] }));
    assert!(ok, "{answer}");
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "y = [1,2,\n 3]\n"
    );
    assert_eq!(strings(&answer["changed"]), ["pkg/a.py"], "{answer}");
    assert_eq!(
        std::fs::read_to_string(python.path("pkg/a.py")).unwrap(),
        "x = [1, 2, 3]\n"
    );
}

/// Regression (issue 13, item 9): names and targets reached the runner verbatim, so
/// `--manifest-path`, `--target-dir` and pytest's `--basetemp` (which emptied an outside
/// directory) became options; a pytest id's file and pytest's `@file` argument files led out too.
#[test]
fn run_tests_names_and_targets_never_become_options_or_leave_the_workspace() {
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().canonicalize().unwrap();
    let precious = outside.join("keep");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("precious.txt"), "keep me\n").unwrap();
    let precious_kept = |when: &str| {
        assert_eq!(
            std::fs::read_to_string(precious.join("precious.txt")).ok(),
            Some("keep me\n".to_owned()),
            "{when}: the outside directory was emptied"
        );
    };

    let cargo = Workspace::new();
    cargo.write(
        "Cargo.toml",
        "[package]\nname = \"inside\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    std::fs::create_dir(cargo.path("src")).unwrap();
    cargo.write("src/lib.rs", "#[test]\nfn t() {}\n");
    let manifest = outside.join("Cargo.toml").display().to_string();
    let target_dir = outside.join("t").display().to_string();
    for names in [
        json!(["--manifest-path", manifest]),
        json!(["--target-dir", target_dir]),
        json!(["t", " --target-dir=x"]),
    ] {
        refused_with(
            &cargo,
            "run_tests",
            json!({ "names": names }),
            "invalid_argument",
        );
    }
    refused_with(
        &cargo,
        "run_tests",
        json!({ "targets": [outside.display().to_string()] }),
        "outside_workspace",
    );
    refused_with(
        &cargo,
        "run_tests",
        json!({ "targets": ["../elsewhere"] }),
        "outside_workspace",
    );
    assert!(!outside.join("t").exists(), "nothing was built outside");

    // A Go module: an id's package that is a path leads out.
    let go = Workspace::new();
    go.write("go.mod", "module example.com/m\n\ngo 1.21\n");
    refused_with(
        &go,
        "run_tests",
        json!({ "names": ["../elsewhere TestX"] }),
        "outside_workspace",
    );
    refused_with(
        &go,
        "run_tests",
        json!({ "names": [format!("{} TestX", outside.display())] }),
        "outside_workspace",
    );

    // pytest: a test that writes under its tmp_path, so a --basetemp would be emptied and used.
    let pytest = Workspace::new();
    pytest.write("pytest.ini", "[pytest]\n");
    pytest.write(
        "test_inside.py",
        "def test_inside(tmp_path):\n    (tmp_path / 'x').write_text('x')\n",
    );
    std::fs::write(
        outside.join("test_outside.py"),
        format!(
            "def test_outside():\n    open({:?}, 'w').write('ran')\n",
            outside.join("ran").display().to_string()
        ),
    )
    .unwrap();
    let basetemp = format!("--basetemp={}", precious.display());
    // `@args` makes pytest (8.2 and later) read options from the file `args`, even after `--`.
    pytest.write("args", &format!("{basetemp}\n"));
    pytest.write("@args", "");
    refused_with(
        &pytest,
        "run_tests",
        json!({ "targets": [basetemp] }),
        "invalid_argument",
    );
    refused_with(
        &pytest,
        "run_tests",
        json!({ "targets": ["@args"] }),
        "invalid_argument",
    );
    refused_with(
        &pytest,
        "run_tests",
        json!({ "names": ["@args::test_inside"] }),
        "invalid_argument",
    );
    refused_with(
        &pytest,
        "run_tests",
        json!({ "names": ["../outside/test_outside.py::test_outside"] }),
        "outside_workspace",
    );
    let outside_id = format!(
        "{}::test_outside",
        outside.join("test_outside.py").display()
    );
    refused_with(
        &pytest,
        "run_tests",
        json!({ "names": [outside_id] }),
        "outside_workspace",
    );
    precious_kept("pytest");
    assert!(!outside.join("ran").exists(), "an outside test ran");

    // What is inside still runs, by target and by id.
    if tool_on_path("pytest").is_none() {
        missing("pytest");
        return;
    }
    for args in [
        json!({ "targets": ["test_inside.py"] }),
        json!({ "names": ["test_inside.py::test_inside"] }),
    ] {
        let (ok, answer) = tool(&pytest, "run_tests", &args);
        assert!(ok, "{answer}");
        assert_eq!(answer["passed"], 1, "{args}: {answer}");
    }
    precious_kept("pytest runs");
}

/// Regression (issue 13, item 10): while a file inside was swapped with a symbolic link to an
/// outside file, `document_symbols` and `search` returned the outside content (25 of 400 calls).
#[test]
fn a_file_swapped_for_a_link_out_never_shows_outside_content() {
    let ws = Workspace::new();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.rs");
    std::fs::write(&secret, "pub fn outside_secret_marker() {}\n").unwrap();
    // The syntactic index answers, whatever language servers are installed.
    ws.write("prodcode.toml", "[tools.servers.rust]\nenabled = false\n");
    std::fs::create_dir(ws.path("src")).unwrap();
    let inside_text = "pub fn inside_marker() {}\n";
    ws.write("src/lib.rs", inside_text);

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let src = ws.path("src");
        std::thread::spawn(move || swap_until(&stop, &src, &secret, inside_text))
    };
    let mut server = RawServer::start(&ws);
    server.initialize();
    // At least 400 calls, and enough of them seeing the file inside to show the race ran (a
    // busy machine can leave the swapper parked on either state for a while).
    let mut inside_answers = 0;
    let mut id = 0u32;
    while id < 400 || (inside_answers < 20 && id < 4000) {
        id += 1;
        let (name, arguments) = if id.is_multiple_of(2) {
            ("document_symbols", json!({ "path": "src/lib.rs" }))
        } else {
            ("search", json!({ "pattern": "marker" }))
        };
        let request = json!({
            "jsonrpc": "2.0", "id": id + 10, "method": "tools/call",
            "params": { "name": name, "arguments": arguments }
        });
        server.send(request.to_string().as_bytes());
        let answer = server.next();
        assert_eq!(answer["id"], id + 10, "{answer}");
        let text = answer.to_string();
        assert!(
            !text.contains("outside_secret_marker"),
            "call {id} ({name}) returned outside content: {text}"
        );
        if text.contains("inside_marker") {
            inside_answers += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(
        inside_answers >= 20,
        "{inside_answers} of {id} calls saw the file inside: the race was not exercised"
    );
}

/// Swaps `src/lib.rs` between a regular file and a symbolic link to `secret`, atomically (by
/// rename), until `stop`.
fn swap_until(stop: &AtomicBool, src: &Path, secret: &Path, inside_text: &str) {
    let target = src.join("lib.rs");
    let file = src.join(".file.tmp");
    let link = src.join(".link.tmp");
    while !stop.load(Ordering::Relaxed) {
        std::fs::write(&file, inside_text).unwrap();
        std::fs::rename(&file, &target).unwrap();
        std::thread::sleep(Duration::from_micros(200));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(secret, &link).unwrap();
        std::fs::rename(&link, &target).unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
    std::fs::write(&file, inside_text).unwrap();
    std::fs::rename(&file, &target).unwrap();
}
