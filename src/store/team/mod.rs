//! The team store: a PostgreSQL database that several devices push their provenance to (issue
//! 17), so one curation run sees a whole team's landed work.
//!
//! The local SQLite store stays the source of truth and the only thing capture writes; the team
//! store is a per-device replica of it. `push.rs` sends what changed since the last push
//! (`prodcode sync`), `verify.rs` walks every device's hash chain on the server (`prodcode verify
//! --store`), `pull.rs` materialises one repository's team-wide rows into a local SQLite cache
//! that the ordinary reads (`log`, `stats`, `curate`) run on, `schema.rs` holds the PostgreSQL
//! migrations, and `conn.rs` turns a `postgres://` URL into a connection the way libpq users
//! expect (`PGPASSWORD`, `~/.pgpass`, `sslmode`).
//!
//! Invariants:
//! - Nothing here runs unless a person configured a team store: capture and the hooks never
//!   reach this module, and a push never blocks a writer for longer than one short local
//!   transaction (the record of what was pushed).
//! - A password never appears in an error, a log line or output: URLs are shown through
//!   [`StoreUrl::shown`], which has none.
//! - Every push batch is one server transaction that also moves the device's high-water mark, so
//!   the server's marks say exactly what arrived, and a push killed at any moment resumes there.

mod conn;
mod pull;
mod push;
mod schema;
mod verify;

pub use conn::StoreUrl;
pub use pull::{PullReport, pull_repository};
pub use push::{PushOptions, PushReport, TableCount, push};
pub use schema::TEAM_SCHEMA_VERSION;
pub use verify::{DeviceVerification, verify};

/// How a repository is known across machines: clones of one project share their root commit
/// (the first-parent root of the main branch) and usually their remote URL.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct RepoIdentity {
    pub root_commit: Option<String>,
    /// Normalised (`host/path`, no scheme, user or `.git`), see [`normalise_remote_url`].
    pub remote_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("{0}")]
    Url(String),
    #[error("cannot connect to the team store {url}: {message}")]
    Connect { url: String, message: String },
    #[error("team store: {0}")]
    Postgres(String),
    #[error(
        "the team store has schema version {found}, newer than this prodcode understands ({supported}); upgrade prodcode"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error(
        "the team store has no prodcode schema yet (version 0): push to it with `prodcode sync` first"
    )]
    Empty,
    #[error(
        "the team store already holds a different event {event_id} for this device ({device}): \
         the local event log was rewritten, or another database file pushes with the same device \
         id (a copied database); give this copy a new device id with `prodcode sync --new-device`"
    )]
    Diverged { device: String, event_id: i64 },
    #[error(transparent)]
    Local(#[from] super::StoreError),
}

impl From<postgres::Error> for TeamError {
    fn from(error: postgres::Error) -> TeamError {
        // The server's message (and its detail) carries no connection parameters; the
        // connection string is never part of a `postgres::Error`.
        let mut message = error.to_string();
        if let Some(db) = error.as_db_error()
            && let Some(detail) = db.detail()
        {
            message.push_str(&format!(" ({detail})"));
        }
        TeamError::Postgres(message)
    }
}

impl From<rusqlite::Error> for TeamError {
    fn from(error: rusqlite::Error) -> TeamError {
        TeamError::Local(error.into())
    }
}

/// A remote URL as a host and path that clones made over HTTPS and SSH agree on:
/// `https://user:token@github.com/o/r.git`, `ssh://git@github.com/o/r` and
/// `git@github.com:o/r.git` are all `github.com/o/r`. Credentials never survive. A local path
/// stays a path.
pub fn normalise_remote_url(url: &str) -> String {
    let url = url.trim();
    let (rest, had_scheme) = match url.split_once("://") {
        Some((_, rest)) => (rest, true),
        None => (url, false),
    };
    let normalised = if had_scheme {
        // `[user[:password]@]host[:port]/path`.
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let host = host.split(':').next().unwrap_or(host);
        format!("{}/{}", host.to_ascii_lowercase(), path)
    } else if let Some((authority, path)) = rest.split_once(':')
        && !authority.contains('/')
    {
        // scp-like `[user@]host:path`.
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        format!(
            "{}/{}",
            host.to_ascii_lowercase(),
            path.trim_start_matches('/')
        )
    } else {
        rest.to_owned()
    };
    let normalised = normalised.trim_end_matches('/');
    normalised
        .strip_suffix(".git")
        .unwrap_or(normalised)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_of_one_project_normalise_alike_and_lose_credentials() {
        for url in [
            "https://github.com/o/r.git",
            "https://user:s3cret@GitHub.com/o/r",
            "ssh://git@github.com:22/o/r.git",
            "git@github.com:o/r.git",
            "https://github.com/o/r/",
        ] {
            assert_eq!(normalise_remote_url(url), "github.com/o/r", "{url}");
        }
        assert_eq!(normalise_remote_url("/srv/git/r.git"), "/srv/git/r");
    }
}
