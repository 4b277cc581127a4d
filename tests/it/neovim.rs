//! A real LSP client: headless Neovim 0.7, with the plugin from `editors/neovim`, drives
//! `prodcode lsp` through a scripted session.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Workspace, bin, rows};

#[test]
fn neovim_session_is_recorded_line_by_line() {
    let ws = Workspace::new();
    let file = ws.write("main.rs", "fn main() {}\n");
    let out = ws.path("../nvim-out.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/neovim_session.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!("luafile {script}"))
        .env("PRODCODE_BIN", bin())
        .env("PRODCODE_TEST_DB", &ws.db)
        .env("PRODCODE_FILE", &file)
        .env("PRODCODE_ROOT", &ws.root)
        .env("PRODCODE_OUT", &out)
        .env(
            "PRODCODE_PLUGIN",
            concat!(env!("CARGO_MANIFEST_DIR"), "/editors/neovim"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nvim is not installed: `.ci/run` installs Debian's neovim");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("nvim did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let answer: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    let row = |first: u64, last: u64, class: &str, id: &str| {
        (first, last, class.to_owned(), id.to_owned())
    };
    assert_eq!(
        rows(&answer["result"]),
        [
            row(0, 0, "human", ""),
            row(1, 1, "untracked", ""),
            row(2, 2, "ai", "nvim-1"),
            row(3, 3, "ai_modified", "nvim-1"),
        ],
        "{answer}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "// typed by a person\nfn main() {}\nfn helper() {}\nfn OTHER() {}\n"
    );

    // The tool call went through Neovim's own LSP client, positions 1-based.
    assert_eq!(answer["tool"]["isError"], false, "{answer}");
    assert_eq!(
        answer["tool"]["structuredContent"]["matches"],
        serde_json::json!([{ "path": "main.rs", "line": 3, "column": 1, "text": "fn helper() {}" }]),
        "{answer}"
    );

    // The save persisted it: `prodcode blame` reads the same from the database.
    let blame = ws.prodcode_json(&["blame", file.to_str().unwrap(), "--json"]);
    let classes: Vec<&str> = blame["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["human", "untracked", "ai", "ai_modified"]);
}
