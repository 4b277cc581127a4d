//! Which checkers a workspace has, and how each one runs: detected from marker files at the
//! workspace root, or configured in `prodcode.toml`.

use std::path::Path;

use super::super::exec::CommandSpec;
use super::raw::{ColumnUnit, Parsed};
use super::snapshot::Inputs;
use super::{
    CheckerConfig, DiagnosticsConfig, OutputFormat, Severity, cargo_json, eslint_json, gcc, go_vet,
    pyright_json, ruff_json, tsc,
};

/// One checker, ready to run.
#[derive(Clone, Debug)]
pub struct Checker {
    /// The name answers use: `cargo check`, `ruff`, `pyright`, `tsc`, `eslint`, `go vet`, or
    /// the configured one.
    pub name: String,
    pub spec: CommandSpec,
    pub format: OutputFormat,
    pub columns: ColumnUnit,
    /// The files whose content the answer depends on.
    pub inputs: Inputs,
}

impl Checker {
    /// What identifies the checker in the answer cache.
    pub fn key(&self) -> String {
        format!(
            "{}\u{1f}{:?}\u{1f}{}\u{1f}{:?}",
            self.name,
            self.format,
            self.spec.argv().join("\u{1e}"),
            self.spec.env
        )
    }

    /// The diagnostics in a finished run's output.
    pub fn parse(&self, stdout: &str, stderr: &str) -> Parsed {
        self.format.parse(stdout, stderr)
    }
}

impl OutputFormat {
    pub fn parse(self, stdout: &str, stderr: &str) -> Parsed {
        match self {
            OutputFormat::CargoJson => cargo_json::parse(stdout),
            OutputFormat::RuffJson => ruff_json::parse(stdout),
            OutputFormat::PyrightJson => pyright_json::parse(stdout),
            OutputFormat::Tsc => tsc::parse(stdout),
            OutputFormat::EslintJson => eslint_json::parse(stdout),
            OutputFormat::GoVet => go_vet::parse(stderr),
            OutputFormat::Gcc => {
                let mut parsed = gcc::parse(stdout);
                parsed.diagnostics.extend(gcc::parse(stderr).diagnostics);
                parsed
            }
        }
    }

    /// How the format counts columns unless the configuration says otherwise.
    pub fn default_columns(self) -> ColumnUnit {
        match self {
            OutputFormat::CargoJson | OutputFormat::RuffJson => ColumnUnit::Chars,
            OutputFormat::PyrightJson | OutputFormat::Tsc | OutputFormat::EslintJson => {
                ColumnUnit::Utf16
            }
            OutputFormat::GoVet | OutputFormat::Gcc => ColumnUnit::Bytes,
        }
    }

    /// The files a checker with this format reads, unless the configuration says otherwise.
    pub fn default_inputs(self) -> Inputs {
        match self {
            OutputFormat::CargoJson => rust_inputs(),
            OutputFormat::RuffJson | OutputFormat::PyrightJson => python_inputs(),
            OutputFormat::Tsc | OutputFormat::EslintJson => node_inputs(),
            OutputFormat::GoVet => go_inputs(),
            OutputFormat::Gcc => Inputs::everything(),
        }
    }

    /// The least severity whose presence explains a failing exit status: a checker that exits
    /// non-zero without reporting anything this serious has a problem of its own.
    pub fn failing_severity(self) -> Severity {
        match self {
            OutputFormat::CargoJson => Severity::Error,
            _ => Severity::Hint,
        }
    }

    /// Exit codes that mean the checker itself failed (bad configuration, a crash), whatever
    /// it printed.
    pub fn fatal_exit(self, code: i32) -> bool {
        match self {
            OutputFormat::RuffJson | OutputFormat::PyrightJson | OutputFormat::EslintJson => {
                code >= 2
            }
            _ => false,
        }
    }
}

pub fn rust_inputs() -> Inputs {
    Inputs::new(&["rs"], &["Cargo.toml", "Cargo.lock"])
}

pub fn python_inputs() -> Inputs {
    Inputs::new(
        &["py", "pyi"],
        &[
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
            "requirements.txt",
            "ruff.toml",
            "pyrightconfig.json",
        ],
    )
}

pub fn node_inputs() -> Inputs {
    Inputs::new(
        &["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"],
        &["package.json", "tsconfig.json", "jsconfig.json"],
    )
}

pub fn go_inputs() -> Inputs {
    Inputs::new(&["go"], &["go.mod", "go.sum"])
}

/// The checkers to run: the configured ones, plus the detected ones when nothing is configured
/// or `detect = true`. Empty when there are none; `Err` for a configuration that cannot work.
pub fn checkers(root: &Path, config: Option<&DiagnosticsConfig>) -> Result<Vec<Checker>, String> {
    let mut checkers = Vec::new();
    let mut configured = 0;
    if let Some(config) = config {
        if let Some(command) = &config.command {
            let single = CheckerConfig {
                command: command.clone(),
                shell: config.shell,
                format: config.format,
                name: config.name.clone(),
                inputs: config.inputs.clone(),
                columns: config.columns,
                env: config.env.clone(),
            };
            checkers.push(configured_checker(root, &single)?);
            configured += 1;
        }
        for checker in &config.checkers {
            checkers.push(configured_checker(root, checker)?);
            configured += 1;
        }
    }
    let detect = config
        .and_then(|config| config.detect)
        .unwrap_or(configured == 0);
    if detect {
        checkers.extend(detect_checkers(root));
    }
    Ok(checkers)
}

fn configured_checker(root: &Path, config: &CheckerConfig) -> Result<Checker, String> {
    let mut words: Vec<String> = super::exec::command_words(&config.command, config.shell);
    if words.is_empty() || words[0].trim().is_empty() {
        return Err(
            "a [tools.diagnostics] command in prodcode.toml is empty: give the program to run, \
             e.g. command = [\"make\", \"lint\"]"
                .to_owned(),
        );
    }
    let program = words.remove(0);
    let format = config.format.unwrap_or(OutputFormat::Gcc);
    let inputs = if config.inputs.is_empty() {
        format.default_inputs()
    } else {
        Inputs::from_globs(&config.inputs).map_err(|err| {
            format!("a [tools.diagnostics] `inputs` pattern in prodcode.toml is not a glob: {err}")
        })?
    };
    let name = config
        .name
        .clone()
        .unwrap_or_else(|| super::super::exec::program_name(&program));
    Ok(Checker {
        name,
        spec: CommandSpec {
            program,
            args: words,
            cwd: root.to_path_buf(),
            env: config
                .env
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            shell: config.shell,
            merge_stderr: false,
        },
        format,
        columns: config.columns.unwrap_or(format.default_columns()),
        inputs,
    })
}

/// The checkers whose marker files are at `root` (and whose programs are installed, for the
/// optional ones: ruff, pyright, eslint).
pub fn detect_checkers(root: &Path) -> Vec<Checker> {
    let mut checkers = Vec::new();
    let checker = |name: &str, program: String, args: &[&str], format: OutputFormat| Checker {
        name: name.to_owned(),
        spec: CommandSpec::new(program, args, root),
        format,
        columns: format.default_columns(),
        inputs: format.default_inputs(),
    };
    if root.join("Cargo.toml").is_file() {
        // `--all-targets`: agents edit tests, examples and benches too, and an error there is
        // as real as one in the library. `--workspace`: every member of a Cargo workspace.
        let mut cargo = checker(
            "cargo check",
            "cargo".to_owned(),
            &[
                "check",
                "--workspace",
                "--all-targets",
                "--message-format=json",
            ],
            OutputFormat::CargoJson,
        );
        cargo
            .spec
            .env
            .push(("CARGO_TERM_COLOR".to_owned(), "never".to_owned()));
        checkers.push(cargo);
    }
    if is_python_project(root) {
        if let Some(ruff) = find_tool(root, "ruff") {
            // `--no-fix`: a project's `fix = true` must not make a read-only tool edit files.
            checkers.push(checker(
                "ruff",
                ruff,
                &["check", "--output-format=json", "--no-fix", "."],
                OutputFormat::RuffJson,
            ));
        }
        if let Some(pyright) = find_tool(root, "pyright") {
            checkers.push(checker(
                "pyright",
                pyright,
                &["--outputjson"],
                OutputFormat::PyrightJson,
            ));
        }
    }
    if root.join("tsconfig.json").is_file()
        && let Some(tsc) = find_tool(root, "tsc")
    {
        checkers.push(checker(
            "tsc",
            tsc,
            &["--noEmit", "--pretty", "false"],
            OutputFormat::Tsc,
        ));
    }
    let eslint = root.join("node_modules/.bin/eslint");
    if is_executable(&eslint) {
        checkers.push(checker(
            "eslint",
            eslint.display().to_string(),
            &["-f", "json", "."],
            OutputFormat::EslintJson,
        ));
    }
    if root.join("go.mod").is_file() {
        checkers.push(checker(
            "go vet",
            "go".to_owned(),
            &["vet", "./..."],
            OutputFormat::GoVet,
        ));
    }
    checkers
}

/// A Python project marker or a `*.py` file at `root`.
pub fn is_python_project(root: &Path) -> bool {
    [
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "requirements.txt",
    ]
    .iter()
    .any(|marker| root.join(marker).is_file())
        || std::fs::read_dir(root).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|entry| {
                entry.path().extension().is_some_and(|ext| ext == "py")
                    && entry.file_type().is_ok_and(|kind| kind.is_file())
            })
        })
}

/// A program from the workspace's own `node_modules/.bin` or `.venv/bin`, else from `PATH`.
pub fn find_tool(root: &Path, program: &str) -> Option<String> {
    for dir in ["node_modules/.bin", ".venv/bin", "venv/bin"] {
        let candidate = root.join(dir).join(program);
        if is_executable(&candidate) {
            return Some(candidate.display().to_string());
        }
    }
    find_on_path(program).map(|_| program.to_owned())
}

pub use super::super::exec::{find_on_path, is_executable};

/// What to tell a person whose checker program is missing.
pub fn install_hint(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::CargoJson => "install Rust with rustup (https://rustup.rs)",
        OutputFormat::RuffJson => "install ruff (`pip install ruff`)",
        OutputFormat::PyrightJson => "install pyright (`npm install -g pyright`)",
        OutputFormat::Tsc => "install TypeScript (`npm install --save-dev typescript`)",
        OutputFormat::EslintJson => "install the project's dependencies (`npm install`)",
        OutputFormat::GoVet => "install Go (https://go.dev/dl)",
        OutputFormat::Gcc => "install it, or fix [tools.diagnostics] command in prodcode.toml",
    }
}
