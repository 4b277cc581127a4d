//! Privacy rules applied before anything captured is stored: secret redaction and the per-repo
//! opt-out.
//!
//! STUB: the API below is fixed; the bodies are being written.

use std::path::Path;

/// One kind of secret found and replaced in a text.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Redaction {
    /// A stable name for the kind of secret: `aws_access_key`, `github_token`, `private_key`, …
    pub kind: &'static str,
    pub count: u32,
}

/// `text` with every secret replaced by `[REDACTED:<kind>]`, and what was replaced.
pub fn redact(text: &str) -> (String, Vec<Redaction>) {
    (text.to_owned(), Vec::new())
}

/// Whether capture is turned off for the repository (or directory) at `root`.
pub fn opted_out(_root: &Path) -> bool {
    false
}
