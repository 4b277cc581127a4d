//! The VS Code extension in `editors/vscode`: compiled, linted, unit-tested, driven against this
//! build's daemon, and packaged as a `.vsix`, by its own `npm run ci` (see its package.json).
//! `.ci/tools.sh` installs its npm dependencies (`npm ci`); without them the test is skipped
//! locally and fails under `PRODCODE_REQUIRE_TOOLS=1`.

use std::path::Path;
use std::process::Command;

use crate::support::{bin, missing};

#[test]
fn vscode_extension_builds_lints_passes_its_tests_and_packages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    if !dir.join("node_modules/.bin/vsce").exists() {
        missing("editors/vscode/node_modules (run `bash .ci/tools.sh`, which runs `npm ci` there)");
        return;
    }
    let vsix = dir.join("prodcode.vsix");
    let _ = std::fs::remove_file(&vsix);
    let output = Command::new("npm")
        .args(["run", "--silent", "ci"])
        .current_dir(&dir)
        .env("PRODCODE_BIN", bin())
        .env_remove("PRODCODE_DB")
        .output()
        .expect("npm is not installed: `.ci/run` installs Debian's nodejs and npm");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "npm run ci failed in editors/vscode:\n{stdout}\n{stderr}"
    );
    // node's test runner ran the unit tests and the daemon test, and none failed.
    let count = |label: &str| -> u32 {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("ℹ {label} ")))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{label}` count from node --test:\n{stdout}"))
    };
    assert!(count("pass") >= 20, "{stdout}");
    assert_eq!(count("fail"), 0, "{stdout}");
    assert_eq!(count("skipped"), 0, "{stdout}");

    // The package holds the manifest and the bundled extension, and no sources or node_modules.
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(&vsix)
        .output()
        .expect("python3 reads the .vsix (a zip file)");
    assert!(listing.status.success(), "{listing:?}");
    let names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    for wanted in [
        "extension.vsixmanifest",
        "extension/package.json",
        "extension/dist/extension.js",
        "extension/media/ai.svg",
        "extension/readme.md",
    ] {
        assert!(
            names.iter().any(|name| name == wanted),
            "{wanted} not in {names:?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|name| name.contains("node_modules") || name.starts_with("extension/src/")),
        "{names:?}"
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read('extension/package.json').decode())",
            ])
            .arg(&vsix)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(manifest["main"], "./dist/extension.js");
    assert_eq!(manifest["name"], "prodcode");
}
