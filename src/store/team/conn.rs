//! From a `postgres://` URL to a connection, the way people who use `psql` expect: the password
//! from the URL, else `PGPASSWORD`, else the password file (`PGPASSFILE`, else `~/.pgpass`,
//! ignored when group or world can read it, as libpq does); `sslmode` `disable`, `prefer` (the
//! default) or `require`, and `verify-ca`/`verify-full`, which rustls gives in any case: a TLS
//! connection always checks the server's certificate against the system's roots, plus the CA in
//! `sslrootcert` when the URL names one.
//!
//! tokio-postgres (under `postgres`) reads neither variable nor file itself, and knows neither
//! `verify-*` mode nor `sslrootcert`; this file fills that in before handing it the rest.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use postgres::config::{Host, SslMode};

use super::TeamError;

/// A parsed team-store URL. `shown` is what messages print: the URL without its password.
#[derive(Clone)]
pub struct StoreUrl {
    config: postgres::Config,
    root_cert: Option<PathBuf>,
    shown: String,
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl StoreUrl {
    /// Parses `url` and fills in the password as libpq would. The error never repeats the URL
    /// (it may hold a password).
    pub fn parse(url: &str) -> Result<StoreUrl, TeamError> {
        Self::parse_with(url, |name| std::env::var_os(name))
    }

    fn parse_with(
        url: &str,
        var: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<StoreUrl, TeamError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(TeamError::Url(format!(
                "the team store must be a postgres:// or postgresql:// URL, not {}",
                shown_without_password(url)
            )));
        }
        let (url_text, root_cert) = take_tls_options(url);
        let mut config = postgres::Config::from_str(&url_text).map_err(|error| {
            TeamError::Url(format!(
                "{} is not a valid PostgreSQL URL: {error}",
                shown_without_password(url)
            ))
        })?;
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_user().is_none() {
            let user = var("PGUSER")
                .or_else(|| var("USER"))
                .map(|user| user.to_string_lossy().into_owned())
                .unwrap_or_else(|| "postgres".to_owned());
            config.user(&user);
        }
        if config.get_dbname().is_none()
            && let Some(user) = config.get_user().map(str::to_owned)
        {
            config.dbname(&user);
        }
        if config.get_password().is_none() {
            let from_env = var("PGPASSWORD").filter(|value| !value.is_empty());
            if let Some(password) = from_env {
                config.password(password.to_string_lossy().as_bytes());
            } else if let Some(file) = var("PGPASSFILE")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".pgpass")))
                && let Some(password) = password_from_file(&file, &config)
            {
                config.password(password.as_bytes());
            }
        }
        let shown = show(&config);
        Ok(StoreUrl {
            config,
            root_cert,
            shown,
        })
    }

    /// The URL without its password, for messages and logs.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Connects (TLS as `sslmode` says). Errors name the URL without its password.
    pub fn connect(&self) -> Result<postgres::Client, TeamError> {
        let failed = |message: String| TeamError::Connect {
            url: self.shown.clone(),
            message,
        };
        let result = if self.config.get_ssl_mode() == SslMode::Disable {
            self.config.connect(postgres::NoTls)
        } else {
            let tls = self.tls().map_err(failed)?;
            self.config.connect(tls)
        };
        result.map_err(|error| {
            let mut message = error.to_string();
            if let Some(source) = std::error::Error::source(&error) {
                message = format!("{message}: {source}");
            }
            failed(message)
        })
    }

    fn tls(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
        // ring, not aws-lc-rs: already in the tree, and no C toolchain step. rustls deprecates
        // ring's provider only for lacking post-quantum key exchange.
        #[allow(deprecated)]
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(path) = &self.root_cert {
            let text = std::fs::read(path)
                .map_err(|error| format!("cannot read sslrootcert {}: {error}", path.display()))?;
            let mut added = 0;
            for cert in rustls_pemfile_certs(&text) {
                if roots.add(cert).is_ok() {
                    added += 1;
                }
            }
            if added == 0 {
                return Err(format!(
                    "sslrootcert {} holds no PEM certificate",
                    path.display()
                ));
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("cannot set up TLS: {error}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }
}

/// The certificates of a PEM file.
fn rustls_pemfile_certs(text: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(text)
        .filter_map(Result::ok)
        .collect()
}

/// Takes out of the URL's query what tokio-postgres does not know: `sslmode=verify-ca` and
/// `verify-full` (sent on as `require`: rustls always verifies) and `sslrootcert=PATH`.
fn take_tls_options(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("sslmode", "verify-ca" | "verify-full")) => kept.push("sslmode=require".into()),
            Some(("sslrootcert", path)) => root_cert = Some(PathBuf::from(percent_decode(path))),
            _ => kept.push(pair.to_owned()),
        }
    }
    if kept.is_empty() {
        (base.to_owned(), root_cert)
    } else {
        (format!("{base}?{}", kept.join("&")), root_cert)
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[index + 1..index + 3], 16)
        {
            out.push(byte);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `postgres://user@host:port/dbname` from a parsed configuration: never a password.
fn show(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

/// A URL as given, with any password between `user:` and `@` replaced, for the one error that
/// cannot parse it.
fn shown_without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "the given text".to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}{}", strip_password_param(tail))
        }
        None => format!("{scheme}://{authority}{}", strip_password_param(tail)),
    }
}

fn strip_password_param(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with("password="))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// The password for `config` in a libpq password file: the first line whose
/// `hostname:port:database:username` fields match (`*` matches anything; `\:` and `\\` escape).
/// A file that group or others may read is ignored, as libpq ignores it.
fn password_from_file(file: &Path, config: &postgres::Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(file).ok()?;
    if !metadata.is_file() {
        return None;
    }
    if metadata.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            "password file {} has group or world access; permissions should be u=rw (0600) or less; ignoring it",
            file.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        // libpq matches a socket in its default directory as `localhost`.
        Some(Host::Unix(path)) if path == Path::new("/var/run/postgresql") => "localhost".into(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let dbname = config.get_dbname().unwrap_or("");
    let user = config.get_user().unwrap_or("");
    password_in(&text, [&host, &port, dbname, user])
}

fn password_in(text: &str, wanted: [&str; 4]) -> Option<String> {
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields = split_pgpass_line(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|(field, value)| field == "*" || field == value);
        if matches {
            // The password is the rest of the line (it may itself hold unescaped colons).
            return Some(fields[4..].join(":"));
        }
    }
    None
}

/// Splits at unescaped colons, removing the escapes of `\:` and `\\`.
fn split_pgpass_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' => fields.push(String::new()),
            _ => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    #[test]
    fn the_shown_url_never_holds_the_password() {
        let url = StoreUrl::parse_with("postgres://alice:hunter2@db.example:6543/team", env(&[]))
            .unwrap();
        assert_eq!(url.shown(), "postgres://alice@db.example:6543/team");
        assert!(!format!("{url:?}").contains("hunter2"));
        let error = StoreUrl::parse_with("postgres://alice:hunter2@db.example:x/team", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(error.contains("alice@db.example"), "{error}");
        let error = StoreUrl::parse_with("mysql://alice:hunter2@h/db", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn the_password_comes_from_the_url_then_pgpassword_then_the_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:bob:nope\ndb\\:x:*:team:bob:from\\:file\\\\x\n*:*:*:bob:fallback\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file_text = file.to_str().unwrap();
        let password = |url: &str, vars: &[(&str, &str)]| {
            let url = StoreUrl::parse_with(url, env(vars)).unwrap();
            url.config
                .get_password()
                .map(|bytes| String::from_utf8(bytes.to_vec()).unwrap())
        };
        assert_eq!(
            password("postgres://bob:inurl@h/team", &[("PGPASSWORD", "env")]).as_deref(),
            Some("inurl")
        );
        assert_eq!(
            password("postgres://bob@h/team", &[("PGPASSWORD", "env")]).as_deref(),
            Some("env")
        );
        assert_eq!(
            password("postgres://bob@h/team", &[("PGPASSFILE", file_text)]).as_deref(),
            Some("fallback")
        );
        // A host with an escaped colon, and a password with escapes, on the first matching line.
        assert_eq!(
            password_in(
                &std::fs::read_to_string(&file).unwrap(),
                ["db:x", "5432", "team", "bob"]
            )
            .as_deref(),
            Some("from:file\\x")
        );
        // Readable by others: ignored, as libpq ignores it.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            password("postgres://bob@h/team", &[("PGPASSFILE", file_text)]),
            None
        );
    }

    #[test]
    fn verify_modes_and_root_certificates_are_taken_out_of_the_url() {
        let (url, cert) =
            take_tls_options("postgres://h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem");
        assert_eq!(url, "postgres://h/db?sslmode=require");
        assert_eq!(cert, Some(PathBuf::from("/tmp/ca.pem")));
        let url = StoreUrl::parse_with("postgres://h/db?sslmode=verify-ca", env(&[])).unwrap();
        assert_eq!(url.config.get_ssl_mode(), SslMode::Require);
    }
}
