//! `prodcode.toml` at a repository's root: per-project settings that travel with the code; and
//! the user's own `config.toml` ([`UserConfig`]), for what belongs to a person (the team store).
//!
//! ```toml
//! [link]
//! main = "trunk"                       # the main branch (default: the remote's HEAD, main, master)
//! ignore = ["gen/**", "*.pb.go"]       # paths kept out of commit totals, as globs
//! ```
//!
//! Invariant: a missing file is the default configuration; a file that does not parse is an
//! error naming the file and the problem, never silently ignored. Unknown sections and keys are
//! accepted, so an older prodcode reads a newer project's file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const FILE_NAME: &str = "prodcode.toml";

#[derive(Clone, PartialEq, Debug, Default, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub link: LinkConfig,
    /// `[curate]`: how `prodcode curate` picks and checks tasks.
    #[serde(default)]
    pub curate: crate::curate::CurateConfig,
    /// `[tools]`: test, diagnostics and format commands and language servers.
    #[serde(default)]
    pub tools: crate::tools::toolbox::ToolsConfig,
    /// `[agents.NAME]`: agent configurations `prodcode eval --agent NAME` runs.
    #[serde(default)]
    pub agents: std::collections::BTreeMap<String, crate::eval::agent::AgentConfig>,
    /// `[eval]`: how `prodcode eval` grades.
    #[serde(default)]
    pub eval: crate::eval::EvalConfig,
    /// `[export]`: how `prodcode export` writes tasks for other harnesses (`[export.harbor]`).
    #[serde(default)]
    pub export: crate::eval::harbor::ExportConfig,
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct LinkConfig {
    /// The main branch: a short name (`main`, `origin/main`) or a full ref.
    pub main: Option<String>,
    /// Globs (gitignore-like, matched against paths relative to the repository root) of files
    /// whose lines are kept out of commit totals.
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// The user's own settings, `$XDG_CONFIG_HOME/prodcode/config.toml` (else
/// `~/.config/prodcode/config.toml`): what belongs to a person, not to a project.
///
/// ```toml
/// [sync]
/// url = "postgres://alice@db.example/prodcode?sslmode=verify-full"  # the team store
/// prompts = false                                                    # send prompt hashes only
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct UserConfig {
    /// `[sync]`: the team store `prodcode sync` pushes to (issue 17).
    #[serde(default)]
    pub sync: SyncConfig,
}

#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
pub struct SyncConfig {
    /// The team store's `postgres://` URL; nothing is sent anywhere without one (or `--to`).
    pub url: Option<String>,
    /// Send prompt texts; `false` sends their SHA-256 only and withholds the events that
    /// carried them.
    #[serde(default = "yes")]
    pub prompts: bool,
}

impl Default for SyncConfig {
    fn default() -> SyncConfig {
        SyncConfig {
            url: None,
            prompts: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Where the user configuration lives: `$XDG_CONFIG_HOME/prodcode/config.toml` (an absolute
/// `XDG_CONFIG_HOME` only), else `~/.config/prodcode/config.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = var("XDG_CONFIG_HOME").map(PathBuf::from)
        && dir.is_absolute()
    {
        return Some(dir.join("prodcode").join("config.toml"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".config/prodcode/config.toml"))
}

/// Reads the user configuration; the default when there is none (or no home to find it in).
pub fn load_user() -> Result<UserConfig, ConfigError> {
    let Some(path) = user_config_path() else {
        return Ok(UserConfig::default());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(UserConfig::default());
        }
        Err(error) => {
            return Err(ConfigError {
                path,
                message: format!("cannot read: {error}"),
            });
        }
    };
    // The message names the line but never quotes it: the line may hold a URL's password.
    toml::from_str(&text).map_err(|error: toml::de::Error| {
        let line = error
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        ConfigError {
            path,
            message: match line {
                Some(line) => format!("line {line}: {}", error.message()),
                None => error.message().to_owned(),
            },
        }
    })
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// Reads `prodcode.toml` in `root`; the default configuration when there is none.
pub fn load(root: &Path) -> Result<Config, ConfigError> {
    let path = root.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Config::default());
        }
        Err(error) => {
            return Err(ConfigError {
                path,
                message: format!("cannot read: {error}"),
            });
        }
    };
    parse(&text).map_err(|message| ConfigError { path, message })
}

pub fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|error| error.to_string().trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_link_section_and_tolerates_unknown_ones() {
        let config = parse(
            "[link]\nmain = \"trunk\"\nignore = [\"gen/**\"]\n\n[tools.diagnostics]\ncommand = \"x\"\n",
        )
        .unwrap();
        assert_eq!(config.link.main.as_deref(), Some("trunk"));
        assert_eq!(config.link.ignore, ["gen/**"]);
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn the_sync_section_sends_prompts_unless_told_not_to() {
        let config: UserConfig = toml::from_str("[sync]\nurl = \"postgres://h/db\"\n").unwrap();
        assert!(config.sync.prompts);
        assert_eq!(config.sync.url.as_deref(), Some("postgres://h/db"));
        let config: UserConfig = toml::from_str("[sync]\nprompts = false\n").unwrap();
        assert!(!config.sync.prompts);
    }

    #[test]
    fn a_bad_file_is_an_error_that_says_where() {
        let error = parse("[link]\nignore = \"not a list\"\n").unwrap_err();
        assert!(error.contains("ignore"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[link\n").unwrap();
        let error = load(dir.path()).unwrap_err();
        assert!(error.to_string().contains("prodcode.toml"), "{error}");
        assert_eq!(load(&dir.path().join("none")).unwrap(), Config::default());
    }
}
