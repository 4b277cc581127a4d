//! Privacy rules applied before anything captured is stored: secret redaction and the per-repo
//! opt-out.
//!
//! [`redact`] finds the secrets developers paste into prompts (and agents put into tool calls)
//! and replaces each with `[REDACTED:<kind>]`: cloud and SaaS credentials with a recognisable
//! shape (AWS, GitHub, GitLab, OpenAI, Anthropic, Google, Slack, Stripe, npm), JSON Web Tokens, PEM
//! private keys, passwords in URLs (`scheme://user:pass@host`), bearer tokens, and random-looking
//! values assigned to a name that says it is secret (`api_key=…`, `"token": "…"`,
//! `password: …`). It is a hand-written scanner rather than a regex set: a hook pays for it on
//! every call, and compiling a regex set would cost more than the whole scan. The fixed strings
//! the detectors start from (token prefixes, `eyJ`, `://`, `Bearer `, `-----BEGIN `) are found
//! in one pass by an Aho-Corasick automaton: one substring search per string was three
//! quarters of the scan of an 850 KB payload (issue 16).
//!
//! The scanner errs on the side of ordinary text: a value after `key=` must look random (long,
//! letters and digits mixed, high entropy) before it is taken for a secret, so code such as
//! `token = next_token()` or `password = getpass()` is left alone. Every match consists of ASCII
//! characters that never include a quote or a backslash, so redacting a JSON document as text
//! keeps it valid JSON.
//!
//! [`opted_out`] answers whether capture is turned off for a directory: a `.prodcode-ignore`
//! file in it or in any directory above it.
//!
//! Invariant: no IO except the existence checks of [`opted_out`]; never panics on any input.

use std::path::Path;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use serde_json::Value;

/// The file whose presence in a repository root (or any directory above the working directory)
/// turns capture off there.
pub const IGNORE_FILE: &str = ".prodcode-ignore";

/// One kind of secret found and replaced in a text.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Redaction {
    /// A stable name for the kind of secret: `aws_access_key`, `github_token`, `private_key`, …
    pub kind: &'static str,
    pub count: u32,
}

/// `text` with every secret replaced by `[REDACTED:<kind>]`, and what was replaced (one entry
/// per kind, in order of first appearance).
pub fn redact(text: &str) -> (String, Vec<Redaction>) {
    redact_with(text, find_secrets(text))
}

/// `text` with the secrets `found` (in order, without overlaps) replaced.
fn redact_with(text: &str, found: Vec<Found>) -> (String, Vec<Redaction>) {
    if found.is_empty() {
        return (text.to_owned(), Vec::new());
    }
    let mut out = String::with_capacity(text.len());
    let mut redactions: Vec<Redaction> = Vec::new();
    let mut at = 0;
    for secret in found {
        out.push_str(&text[at..secret.start]);
        out.push_str("[REDACTED:");
        out.push_str(secret.kind);
        out.push(']');
        at = secret.end;
        match redactions.iter_mut().find(|r| r.kind == secret.kind) {
            Some(redaction) => redaction.count += 1,
            None => redactions.push(Redaction {
                kind: secret.kind,
                count: 1,
            }),
        }
    }
    out.push_str(&text[at..]);
    (out, redactions)
}

/// Redacts every string (and object key) in `value` with [`redact`], returning what was
/// replaced, merged by kind. Strings are redacted after JSON unescaping, so `https:\/\/u:p@h`
/// and `\u0041KIA…` are seen as the text they stand for.
pub fn redact_json(value: &mut Value) -> Vec<Redaction> {
    let mut found = Vec::new();
    redact_value(value, &mut found);
    found
}

/// A JSON document received from outside (a hook payload, an LSP notification's params) with
/// every secret redacted, and what was replaced.
///
/// Two passes, because a secret can hide from either one alone. The parsed strings are redacted
/// first: JSON escapes (`\/`, `\u0026`, `\n` inside a PEM block) hide a secret from a scan of
/// the raw text (issue 13). Then the text is scanned as a whole for what only the document's
/// structure says: `"password": "…"` is a name and a value in two strings. Only the
/// name-and-value detector runs there: every other kind of secret lies inside one string, where
/// the first pass saw it unescaped (scanning a payload twice for everything was a fifth of a
/// hook's time on a large file, issue 16). The text
/// is kept byte for byte when the first pass finds nothing (matches never contain a quote or a
/// backslash, so the second pass keeps JSON valid); otherwise it is the document re-serialized.
/// Text that is not JSON gets the text scan only.
pub fn redact_json_text(text: &str) -> (String, Vec<Redaction>) {
    let (clean, found) = redact_json_document(text, serde_json::from_str::<Value>(text).ok());
    (clean.into_owned(), found)
}

/// [`redact_json_text`] of `text` already parsed by the caller (`parsed`, `None` when it is
/// not JSON): the same value that `serde_json::from_str::<Value>(text)` gives. `text` itself,
/// not a copy, when nothing was redacted.
pub fn redact_json_document(
    text: &str,
    parsed: Option<Value>,
) -> (std::borrow::Cow<'_, str>, Vec<Redaction>) {
    let mut found = Vec::new();
    let mut document = std::borrow::Cow::Borrowed(text);
    let parsed = parsed.map(|mut value| {
        let strings = redact_json(&mut value);
        if !strings.is_empty() {
            document = std::borrow::Cow::Owned(value.to_string());
            merge_redactions(&mut found, strings);
        }
        value
    });
    let secrets = match parsed {
        Some(_) => {
            let mut assigned = Vec::new();
            assignments(document.as_bytes(), &mut assigned);
            assigned
        }
        None => find_secrets(&document),
    };
    if secrets.is_empty() {
        return (document, found);
    }
    let (clean, more) = redact_with(&document, secrets);
    if let Some(value) = parsed
        && serde_json::from_str::<serde::de::IgnoredAny>(&clean).is_err()
    {
        // Cannot happen (see the module docs), but a payload must stay valid JSON.
        return (value.to_string().into(), found);
    }
    merge_redactions(&mut found, more);
    (clean.into(), found)
}

fn redact_value(value: &mut Value, found: &mut Vec<Redaction>) {
    match value {
        Value::String(text) => {
            if let Some(clean) = redact_text(text, found) {
                *text = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_value(item, found)),
        Value::Object(map) => {
            // In place: only a key that holds a secret (rare) is moved.
            let mut renamed = Vec::new();
            for (key, item) in map.iter_mut() {
                redact_value(item, found);
                if let Some(clean) = redact_text(key, found) {
                    renamed.push((key.clone(), clean));
                }
            }
            for (key, clean) in renamed {
                if let Some(item) = map.remove(&key) {
                    map.insert(clean, item);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The redacted text when anything was redacted.
fn redact_text(text: &str, found: &mut Vec<Redaction>) -> Option<String> {
    // Most strings hold no secret: they are not copied (a whole file, in a hook's payload).
    let secrets = find_secrets(text);
    if secrets.is_empty() {
        return None;
    }
    let (clean, redactions) = redact_with(text, secrets);
    merge_redactions(found, redactions);
    Some(clean)
}

/// Adds `more` to `into`, one entry per kind.
pub fn merge_redactions(into: &mut Vec<Redaction>, more: Vec<Redaction>) {
    for redaction in more {
        match into.iter_mut().find(|known| known.kind == redaction.kind) {
            Some(known) => known.count = known.count.saturating_add(redaction.count),
            None => into.push(redaction),
        }
    }
}

/// Whether capture is turned off for the repository (or directory) at `root`: a
/// `.prodcode-ignore` file in `root` or in any directory above it.
pub fn opted_out(root: &Path) -> bool {
    root.ancestors()
        .any(|dir| !dir.as_os_str().is_empty() && dir.join(IGNORE_FILE).exists())
}

/// A secret at `start..end` (byte offsets on ASCII boundaries).
#[derive(Clone, Copy, Debug)]
struct Found {
    start: usize,
    end: usize,
    kind: &'static str,
}

/// The needles after the [`PREFIXES`]' own, by their index in [`NEEDLES`].
const JWT: usize = PREFIXES.len();
const URL: usize = JWT + 1;
const BEARER: usize = JWT + 2;
const PEM: usize = JWT + 3;

/// Every fixed string a detector starts from: the prefixes of [`PREFIXES`] in order, then
/// `eyJ` ([`JWT`]), `://` ([`URL`]), `Bearer ` ([`BEARER`]) and `-----BEGIN ` ([`PEM`]).
fn needles() -> impl Iterator<Item = &'static str> {
    PREFIXES
        .iter()
        .map(|rule| rule.prefix)
        .chain(["eyJ", "://", "Bearer ", "-----BEGIN "])
}

/// A searcher for [`needles`] (leftmost-longest: `sk-ant-` rather than `sk-`), and for each
/// needle the shorter needles it starts with, which occur at the same place.
static NEEDLES: LazyLock<Option<(Needles, Vec<Vec<usize>>)>> = LazyLock::new(|| {
    let all: Vec<&str> = needles().collect();
    let shorter = all
        .iter()
        .map(|long| {
            (0..all.len())
                .filter(|&short| all[short].len() < long.len() && long.starts_with(all[short]))
                .collect()
        })
        .collect();
    Some((Needles::new()?, shorter))
});

/// How [`needles`] are searched for. A hook builds this once per process, for one payload: the
/// packed (Teddy) searcher is what the automaton searches with anyway, without building the
/// automaton (≈8% of a hook call); the automaton, a contiguous NFA (a DFA took longer to build
/// than a search of a 100 KB payload), where the CPU has no Teddy.
enum Needles {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Needles {
    fn new() -> Option<Needles> {
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(needles())
            .build();
        match packed {
            Some(searcher) => Some(Needles::Packed(searcher)),
            None => Needles::automaton(),
        }
    }

    fn automaton() -> Option<Needles> {
        AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(needles())
            .ok()
            .map(Needles::Automaton)
    }

    /// `(needle, start)` of each leftmost-longest, non-overlapping occurrence, in order.
    fn for_each(&self, text: &str, mut found: impl FnMut(usize, usize)) {
        match self {
            Needles::Packed(searcher) => searcher
                .find_iter(text)
                .for_each(|hit| found(hit.pattern().as_usize(), hit.start())),
            Needles::Automaton(automaton) => automaton
                .find_iter(text)
                .for_each(|hit| found(hit.pattern().as_usize(), hit.start())),
        }
    }
}

/// Where each needle of [`needles`] occurs in `text`, by needle, in increasing order. A needle
/// that starts inside another one's occurrence is not reported: every detector but the URL
/// one needs a token to start a word, and no needle contains `://` followed by a user name.
fn needle_hits(text: &str) -> Vec<Vec<usize>> {
    let mut hits = vec![Vec::new(); PEM + 1];
    match NEEDLES.as_ref() {
        Some((searcher, shorter)) => searcher.for_each(text, |needle, start| {
            hits[needle].push(start);
            for &short in &shorter[needle] {
                hits[short].push(start);
            }
        }),
        // Cannot happen (the needles are fixed and few); search for each one instead.
        None => {
            for (positions, needle) in hits.iter_mut().zip(needles()) {
                positions.extend(text.match_indices(needle).map(|(at, _)| at));
            }
        }
    }
    hits
}

/// Every secret in `text`, in order, without overlaps (the earliest, then longest, wins).
fn find_secrets(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut candidates = Vec::new();
    let hits = needle_hits(text);
    if !hits[PEM].is_empty() {
        private_keys(text, &mut candidates);
    }
    prefixed_tokens(text, &hits, &mut candidates);
    jwts(text, &hits[JWT], &mut candidates);
    url_passwords(text, &hits[URL], &mut candidates);
    bearer_tokens(text, &hits[BEARER], &mut candidates);
    assignments(bytes, &mut candidates);
    candidates.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut chosen: Vec<Found> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        if chosen.last().is_none_or(|last| candidate.start >= last.end) {
            chosen.push(candidate);
        }
    }
    chosen
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Characters of base64url / token bodies.
fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Whether the byte before `at` allows a token to start there (not inside a longer word).
fn starts_word(bytes: &[u8], at: usize) -> bool {
    at == 0 || !is_token_char(bytes[at - 1])
}

/// The end of the run of bytes from `from` that satisfy `accept`.
fn run_end(bytes: &[u8], from: usize, accept: impl Fn(u8) -> bool) -> usize {
    let mut end = from;
    while end < bytes.len() && accept(bytes[end]) {
        end += 1;
    }
    end
}

/// PEM private keys: `-----BEGIN … PRIVATE KEY-----` through the matching `-----END …-----`
/// (or, when the end is missing, through the base64 body).
fn private_keys(text: &str, out: &mut Vec<Found>) {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    const DASHES: &str = "-----";
    let bytes = text.as_bytes();
    let label = |from: usize| run_end(bytes, from, |b| b.is_ascii_uppercase() || b == b' ');
    let mut search = 0;
    while let Some(offset) = text[search..].find(BEGIN) {
        let start = search + offset;
        let label_start = start + BEGIN.len();
        let label_end = label(label_start);
        search = label_start;
        if !text[label_start..label_end].ends_with("PRIVATE KEY")
            || !text[label_end..].starts_with(DASHES)
        {
            continue;
        }
        let body = label_end + DASHES.len();
        let end = match text[body..].find(END) {
            Some(offset) => {
                let end_label = label(body + offset + END.len());
                if text[end_label..].starts_with(DASHES) {
                    end_label + DASHES.len()
                } else {
                    end_label
                }
            }
            None => run_end(bytes, body, |b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'+' | b'/' | b'=' | b' ' | b'\n' | b'\r' | b'\\')
            }),
        };
        out.push(Found {
            start,
            end,
            kind: "private_key",
        });
        search = end;
    }
}

/// A credential recognised by its fixed prefix.
struct Prefix {
    prefix: &'static str,
    kind: &'static str,
    /// Bytes allowed in the body after the prefix.
    body: fn(u8) -> bool,
    min: usize,
    max: usize,
}

fn alnum(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

fn upper_alnum(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit()
}

const PREFIXES: &[Prefix] = &[
    // AWS access key ids: a four-letter type prefix and 16 upper-case letters or digits.
    Prefix {
        prefix: "AKIA",
        kind: "aws_access_key",
        body: upper_alnum,
        min: 16,
        max: 16,
    },
    Prefix {
        prefix: "ASIA",
        kind: "aws_access_key",
        body: upper_alnum,
        min: 16,
        max: 16,
    },
    Prefix {
        prefix: "ABIA",
        kind: "aws_access_key",
        body: upper_alnum,
        min: 16,
        max: 16,
    },
    Prefix {
        prefix: "ACCA",
        kind: "aws_access_key",
        body: upper_alnum,
        min: 16,
        max: 16,
    },
    Prefix {
        prefix: "ghp_",
        kind: "github_token",
        body: alnum,
        min: 30,
        max: 255,
    },
    Prefix {
        prefix: "gho_",
        kind: "github_token",
        body: alnum,
        min: 30,
        max: 255,
    },
    Prefix {
        prefix: "ghu_",
        kind: "github_token",
        body: alnum,
        min: 30,
        max: 255,
    },
    Prefix {
        prefix: "ghs_",
        kind: "github_token",
        body: alnum,
        min: 30,
        max: 255,
    },
    Prefix {
        prefix: "ghr_",
        kind: "github_token",
        body: alnum,
        min: 30,
        max: 255,
    },
    Prefix {
        prefix: "github_pat_",
        kind: "github_token",
        body: is_word,
        min: 22,
        max: 255,
    },
    Prefix {
        prefix: "glpat-",
        kind: "gitlab_token",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "gldt-",
        kind: "gitlab_token",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "glptt-",
        kind: "gitlab_token",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "glrt-",
        kind: "gitlab_token",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "sk-ant-",
        kind: "anthropic_key",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "sk-proj-",
        kind: "openai_key",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "sk-svcacct-",
        kind: "openai_key",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "sk-admin-",
        kind: "openai_key",
        body: is_token_char,
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "sk-",
        kind: "openai_key",
        body: alnum,
        min: 32,
        max: 255,
    },
    Prefix {
        prefix: "AIza",
        kind: "google_api_key",
        body: is_token_char,
        min: 35,
        max: 35,
    },
    Prefix {
        prefix: "GOCSPX-",
        kind: "google_oauth_secret",
        body: is_token_char,
        min: 24,
        max: 64,
    },
    Prefix {
        prefix: "ya29.",
        kind: "google_oauth_token",
        body: is_token_char,
        min: 20,
        max: 2048,
    },
    Prefix {
        prefix: "xoxb-",
        kind: "slack_token",
        body: is_token_char,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "xoxp-",
        kind: "slack_token",
        body: is_token_char,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "xoxa-",
        kind: "slack_token",
        body: is_token_char,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "xoxo-",
        kind: "slack_token",
        body: is_token_char,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "xoxs-",
        kind: "slack_token",
        body: is_token_char,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "xoxr-",
        kind: "slack_token",
        body: is_token_char,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "xapp-",
        kind: "slack_token",
        body: is_token_char,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "https://hooks.slack.com/services/",
        kind: "slack_webhook",
        body: |b| is_token_char(b) || b == b'/',
        min: 20,
        max: 255,
    },
    Prefix {
        prefix: "sk_live_",
        kind: "stripe_key",
        body: alnum,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "sk_test_",
        kind: "stripe_key",
        body: alnum,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "rk_live_",
        kind: "stripe_key",
        body: alnum,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "rk_test_",
        kind: "stripe_key",
        body: alnum,
        min: 10,
        max: 255,
    },
    Prefix {
        prefix: "whsec_",
        kind: "stripe_key",
        body: alnum,
        min: 20,
        max: 255,
    },
    // npm access tokens (`.npmrc` `_authToken`): `npm_` and 36 letters and digits.
    Prefix {
        prefix: "npm_",
        kind: "npm_token",
        body: alnum,
        min: 36,
        max: 36,
    },
];

fn prefixed_tokens(text: &str, hits: &[Vec<usize>], out: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    for (rule, starts) in PREFIXES.iter().zip(hits) {
        for &start in starts {
            if !starts_word(bytes, start) {
                continue;
            }
            let body = start + rule.prefix.len();
            let end = run_end(bytes, body, rule.body);
            let len = end - body;
            // A longer run than the format allows is some other identifier, not this token;
            // so is one followed by more word characters the body does not accept.
            let glued = end < bytes.len() && is_token_char(bytes[end]) && !(rule.body)(bytes[end]);
            if len < rule.min || len > rule.max || glued && rule.max == rule.min {
                continue;
            }
            if rule.prefix == "sk-" && !mixed(&bytes[body..end]) {
                continue;
            }
            out.push(Found {
                start,
                end,
                kind: rule.kind,
            });
        }
    }
}

/// JSON Web Tokens: `eyJ…` header, `.`, `eyJ…` payload, `.`, signature (base64url).
fn jwts(text: &str, starts: &[usize], out: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    for &start in starts {
        if !starts_word(bytes, start) {
            continue;
        }
        let header_end = run_end(bytes, start, is_token_char);
        if header_end - start < 10 || bytes.get(header_end) != Some(&b'.') {
            continue;
        }
        let payload = header_end + 1;
        if !bytes[payload..].starts_with(b"eyJ") {
            continue;
        }
        let payload_end = run_end(bytes, payload, is_token_char);
        if payload_end - payload < 10 || bytes.get(payload_end) != Some(&b'.') {
            continue;
        }
        let end = run_end(bytes, payload_end + 1, is_token_char);
        out.push(Found {
            start,
            end,
            kind: "jwt",
        });
    }
}

/// The password of `scheme://user:password@host`: only the password is replaced.
fn url_passwords(text: &str, separators: &[usize], out: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    let userinfo = |b: u8| {
        !(b.is_ascii_whitespace()
            || matches!(
                b,
                b':' | b'/' | b'@' | b'"' | b'\'' | b'\\' | b'<' | b'>' | b'`'
            ))
    };
    for &at in separators {
        // The scheme: letters, digits, `+`, `-`, `.`, starting with a letter.
        let mut scheme_start = at;
        while scheme_start > 0
            && (bytes[scheme_start - 1].is_ascii_alphanumeric()
                || matches!(bytes[scheme_start - 1], b'+' | b'-' | b'.'))
        {
            scheme_start -= 1;
        }
        if scheme_start == at || !bytes[scheme_start].is_ascii_alphabetic() {
            continue;
        }
        let user_start = at + 3;
        let user_end = run_end(bytes, user_start, userinfo);
        if bytes.get(user_end) != Some(&b':') {
            continue;
        }
        let password_start = user_end + 1;
        let password_end = run_end(bytes, password_start, userinfo);
        if password_end == password_start || bytes.get(password_end) != Some(&b'@') {
            continue;
        }
        out.push(Found {
            start: password_start,
            end: password_end,
            kind: "url_password",
        });
    }
}

/// `Bearer <token>` with a random-looking token (an `Authorization` header pasted into a prompt).
fn bearer_tokens(text: &str, starts: &[usize], out: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    for &at in starts {
        let start = run_end(bytes, at + 7, |b| b == b' ');
        let end = run_end(bytes, start, |b| {
            is_token_char(b) || matches!(b, b'.' | b'~' | b'+' | b'/' | b'=')
        });
        if looks_random(&bytes[start..end], 20) {
            out.push(Found {
                start,
                end,
                kind: "bearer_token",
            });
        }
    }
}

/// Names that say their value is secret, matched at the end of an identifier (`api_key`,
/// `GITHUB_TOKEN`, `clientSecret`, `db-password`).
const SECRET_SUFFIXES: &[&str] = &["key", "token", "secret", "password", "passwd", "pwd"];

/// Whole identifiers that say the same without a separator.
const SECRET_WORDS: &[&str] = &[
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "clientsecret",
    "passphrase",
];

/// `name = value`, `name: value`, `"name": "value"` where the name says secret and the value
/// looks random; only the value is replaced.
///
/// The scan goes from each `=` and `:` back to the name before it (SIMD search for the two
/// bytes, then a few bytes of work each), not forward over every identifier: a hook scans
/// payloads of hundreds of kilobytes, and the forward scan was a fifth of its time (issue 16).
fn assignments(bytes: &[u8], out: &mut Vec<Found>) {
    // The end of the last name looked at (`:=` and `=>` lead back to one name twice), and
    // where the last secret's value ended: a name inside a redacted value is not a name.
    let mut last_name_end = None;
    let mut taken_until = 0;
    for separator in memchr::memchr2_iter(b'=', b':', bytes) {
        let mut name_end = separator;
        while name_end > 0 && matches!(bytes[name_end - 1], b' ' | b'\t' | b'=' | b':') {
            name_end -= 1;
        }
        if name_end > 0 && matches!(bytes[name_end - 1], b'"' | b'\'' | b'`') {
            name_end -= 1;
            if bytes[name_end] == b'"' && name_end > 0 && bytes[name_end - 1] == b'\\' {
                name_end -= 1;
            }
        }
        if last_name_end == Some(name_end) || name_end < taken_until {
            continue;
        }
        last_name_end = Some(name_end);
        let mut name_start = name_end;
        while name_start > 0 && is_ident(bytes[name_start - 1]) {
            name_start -= 1;
        }
        // A name starts with a letter, a digit or `_` (a run led by `-` or `.` is not one).
        if name_start == name_end
            || !(bytes[name_start].is_ascii_alphanumeric() || bytes[name_start] == b'_')
        {
            continue;
        }
        let Some(password) = secret_name(&bytes[name_start..name_end]) else {
            continue;
        };
        let Some(value_start) = after_separator(bytes, name_end) else {
            continue;
        };
        let value_end = run_end(bytes, value_start, |b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'-'
                        | b'.'
                        | b'+'
                        | b'/'
                        | b'='
                        | b'~'
                        | b'!'
                        | b'#'
                        | b'$'
                        | b'%'
                        | b'^'
                        | b'&'
                        | b'*'
                        | b'?'
                        | b'@'
                )
        });
        let min = if password { 8 } else { 16 };
        if looks_random(&bytes[value_start..value_end], min) {
            out.push(Found {
                start: value_start,
                end: value_end,
                kind: "secret",
            });
            taken_until = value_end;
        }
    }
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.')
}

/// `Some(is_password)` when `name` says its value is secret.
fn secret_name(name: &[u8]) -> Option<bool> {
    // Every secret name ends in one of these letters: most identifiers are rejected here.
    if !matches!(
        name.last().map(u8::to_ascii_lowercase),
        Some(b'y' | b'n' | b't' | b'd' | b'e')
    ) {
        return None;
    }
    if SECRET_WORDS
        .iter()
        .any(|word| name.eq_ignore_ascii_case(word.as_bytes()))
    {
        return Some(false);
    }
    for suffix in SECRET_SUFFIXES {
        let suffix = suffix.as_bytes();
        if name.len() < suffix.len()
            || !name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        {
            continue;
        }
        let start = name.len() - suffix.len();
        // The suffix must be its own word: the whole name, after a separator, or a camelCase
        // hump (`apiKey`), so that `monkey` and `turkey` are not keys.
        let own_word = start == 0
            || matches!(name[start - 1], b'_' | b'-' | b'.')
            || (name[start].is_ascii_uppercase() && name[start - 1].is_ascii_lowercase());
        if own_word {
            return Some(matches!(suffix, b"password" | b"passwd" | b"pwd"));
        }
    }
    None
}

/// Where the value starts after a name: optional closing quote, spaces, `=`, `:`, `:=` or `=>`,
/// spaces, optional opening quote. `None` when no separator follows.
fn after_separator(bytes: &[u8], mut at: usize) -> Option<usize> {
    at = skip_quote(bytes, at);
    at = run_end(bytes, at, |b| b == b' ' || b == b'\t');
    match bytes.get(at) {
        Some(b':') if bytes.get(at + 1) == Some(&b'=') => at += 2,
        Some(b'=') if bytes.get(at + 1) == Some(&b'>') => at += 2,
        Some(b':') | Some(b'=') => at += 1,
        _ => return None,
    }
    // `==` is a comparison, not an assignment.
    if bytes.get(at) == Some(&b'=') {
        return None;
    }
    at = run_end(bytes, at, |b| b == b' ' || b == b'\t');
    Some(skip_quote(bytes, at))
}

/// Skips one quote: `"`, `'`, `` ` `` or a JSON-escaped `\"`.
fn skip_quote(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(b'"' | b'\'' | b'`') => at + 1,
        Some(b'\\') if bytes.get(at + 1) == Some(&b'"') => at + 2,
        _ => at,
    }
}

/// Letters and digits mixed: what generated secrets have and words and identifiers lack.
fn mixed(value: &[u8]) -> bool {
    value.iter().any(u8::is_ascii_digit) && value.iter().any(u8::is_ascii_alphabetic)
}

/// Whether `value` looks like a generated secret rather than a word, an identifier, a path or
/// an expression: at least `min` bytes, letters and digits mixed, and high Shannon entropy.
fn looks_random(value: &[u8], min: usize) -> bool {
    if value.len() < min || value.len() > 4096 || !mixed(value) {
        return false;
    }
    if looks_like_code(value) {
        return false;
    }
    let mut counts = [0u32; 256];
    for byte in value {
        counts[usize::from(*byte)] += 1;
    }
    let len = value.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let p = f64::from(*count) / len;
            // `libm`, not `f64::log2`: the C function would make every hook process load libm.
            -p * libm::log2(p)
        })
        .sum();
    // Random base62 approaches log2(len) for short values; 3.0 bits per byte separates it from
    // words and repeated patterns at the lengths that matter.
    let needed = if value.len() < 16 { 2.75 } else { 3.0 };
    entropy >= needed
}

/// Dotted names (`os.environ`, `config.api_key2`), variables (`$TOKEN`) and paths
/// (`/etc/app/key2`, `src/keys/v2`) are code, not secrets. Their parts are lower-case words;
/// the parts of a base64 secret between `/` are a mix of cases and digits.
fn looks_like_code(value: &[u8]) -> bool {
    if matches!(value.first(), Some(b'/' | b'.' | b'~' | b'$')) {
        return true;
    }
    let words = |separator: u8| {
        value
            .split(|b| *b == separator)
            .filter(|part| {
                part.len() >= 2 && part.iter().all(|b| b.is_ascii_lowercase() || *b == b'_')
            })
            .count()
    };
    (value.contains(&b'.') && words(b'.') >= 1) || (value.contains(&b'/') && words(b'/') >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The redacted text and `kind×count` list, for compact assertions.
    fn check(text: &str) -> (String, Vec<String>) {
        let (out, redactions) = redact(text);
        (
            out,
            redactions
                .iter()
                .map(|r| format!("{}×{}", r.kind, r.count))
                .collect(),
        )
    }

    fn redacted(text: &str, expected: &str, kinds: &[&str]) {
        let (out, found) = check(text);
        assert_eq!(out, expected, "redacting {text:?}");
        assert_eq!(found, kinds, "kinds for {text:?}");
    }

    fn untouched(text: &str) {
        let (out, found) = check(text);
        assert_eq!(out, text, "{text:?} must not be redacted");
        assert!(found.is_empty(), "{text:?}: {found:?}");
    }

    #[test]
    fn aws_access_keys() {
        redacted(
            "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE and go",
            "export AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key] and go",
            &["aws_access_key×1"],
        );
        redacted(
            "ASIAY34FZKBOKMUTVV7A",
            "[REDACTED:aws_access_key]",
            &["aws_access_key×1"],
        );
        // Too long to be a key id: part of something else.
        untouched("AKIAIOSFODNN7EXAMPLEXYZW");
    }

    #[test]
    fn aws_secret_keys_by_name() {
        redacted(
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [REDACTED:secret]",
            &["secret×1"],
        );
    }

    #[test]
    fn github_and_gitlab_tokens() {
        redacted(
            "use ghp_16C7e42F292c6912E7710c838347Ae178B4a please",
            "use [REDACTED:github_token] please",
            &["github_token×1"],
        );
        redacted(
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGH",
            "[REDACTED:github_token]",
            &["github_token×1"],
        );
        redacted(
            "token glpat-xR4nd0mT0k3nV4lu3AbCd here",
            "token [REDACTED:gitlab_token] here",
            &["gitlab_token×1"],
        );
    }

    #[test]
    fn openai_and_anthropic_keys() {
        redacted(
            "OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLmN0pQrStUvWxYz12345",
            "OPENAI_API_KEY=[REDACTED:openai_key]",
            &["openai_key×1"],
        );
        redacted(
            "key sk-4fT9kLmN0pQrStUvWxYzAb3dEf6hIj9kLmN0pQrStUvWx ok",
            "key [REDACTED:openai_key] ok",
            &["openai_key×1"],
        );
        redacted(
            "claude: sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AAAA",
            "claude: [REDACTED:anthropic_key]",
            &["anthropic_key×1"],
        );
    }

    #[test]
    fn google_slack_and_stripe() {
        redacted(
            "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
            "[REDACTED:google_api_key]",
            &["google_api_key×1"],
        );
        redacted(
            "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "slack [REDACTED:slack_token]",
            &["slack_token×1"],
        );
        redacted(
            "post to https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX now",
            "post to [REDACTED:slack_webhook] now",
            &["slack_webhook×1"],
        );
        redacted(
            "stripe sk_live_51H8xYzAbCdEfGhIjKlMnOp and rk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "stripe [REDACTED:stripe_key] and [REDACTED:stripe_key]",
            &["stripe_key×2"],
        );
    }

    #[test]
    fn jwts() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        redacted(
            &format!("the token is {jwt}."),
            "the token is [REDACTED:jwt].",
            &["jwt×1"],
        );
    }

    #[test]
    fn pem_private_keys() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH\nlWu2/a1gB9JW5TBQ+AVpum9Okx7KfqkfBKL9mcHgSVHKQ4yrY28rkSl13/kGY7r5\n-----END RSA PRIVATE KEY-----";
        redacted(
            &format!("here:\n{key}\nthanks"),
            "here:\n[REDACTED:private_key]\nthanks",
            &["private_key×1"],
        );
        // As it appears inside a JSON string, with escaped newlines.
        let escaped = key.replace('\n', "\\n");
        redacted(
            &format!("{{\"prompt\":\"fix {escaped} ok\"}}"),
            "{\"prompt\":\"fix [REDACTED:private_key] ok\"}",
            &["private_key×1"],
        );
        untouched(
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
        );
    }

    #[test]
    fn passwords_in_urls() {
        redacted(
            "DATABASE_URL=postgres://app:s3cr3t-Pa55@db.internal:5432/app",
            "DATABASE_URL=postgres://app:[REDACTED:url_password]@db.internal:5432/app",
            &["url_password×1"],
        );
        redacted(
            "clone https://x-access-token:abc123@github.com/o/r.git",
            "clone https://x-access-token:[REDACTED:url_password]@github.com/o/r.git",
            &["url_password×1"],
        );
        untouched("see https://example.com:8080/path?a=b and git@github.com:org/repo.git");
        untouched("ssh://git@github.com/org/repo.git");
    }

    #[test]
    fn secret_assignments_in_code_env_and_json() {
        redacted(
            "API_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "API_KEY=[REDACTED:secret]",
            &["secret×1"],
        );
        redacted(
            "const apiKey = \"Zq8Lr2Xv9Tn4Wm6Ks1Hb3Jd\";",
            "const apiKey = \"[REDACTED:secret]\";",
            &["secret×1"],
        );
        redacted(
            "{\"client_secret\": \"d8Fj2kLq9ZxM4nBv7Cw1\", \"name\": \"x\"}",
            "{\"client_secret\": \"[REDACTED:secret]\", \"name\": \"x\"}",
            &["secret×1"],
        );
        redacted(
            "login with password: hunter2Xy9 please",
            "login with password: [REDACTED:secret] please",
            &["secret×1"],
        );
        // JSON inside a JSON string (a Bash command in a hook payload).
        redacted(
            "{\"command\":\"curl -d '{\\\"token\\\": \\\"a1B2c3D4e5F6g7H8i9J0\\\"}'\"}",
            "{\"command\":\"curl -d '{\\\"token\\\": \\\"[REDACTED:secret]\\\"}'\"}",
            &["secret×1"],
        );
    }

    /// The secret shapes every capture channel is tested with (`tests/data/secrets.json`).
    fn shapes() -> Vec<(String, String, String)> {
        let shapes: Value =
            serde_json::from_str(include_str!("../../tests/data/secrets.json")).unwrap();
        shapes
            .as_array()
            .unwrap()
            .iter()
            .map(|shape| {
                let field = |name: &str| shape[name].as_str().unwrap().to_owned();
                (field("kind"), field("text"), field("secret"))
            })
            .collect()
    }

    #[test]
    fn every_shared_secret_shape_is_redacted_as_text_and_inside_escaped_json() {
        for (kind, text, secret) in shapes() {
            let (out, found) = redact(&text);
            assert!(!out.contains(&secret), "{kind}: {out}");
            assert!(found.iter().any(|r| r.kind == kind), "{kind}: {found:?}");
            // Escaped as some JSON encoders do (`\/`, `\u0026`-style): issue 13.
            let json = serde_json::json!({ "prompt": text }).to_string();
            let escaped = json
                .replace('/', "\\/")
                .replace('=', "\\u003d")
                .replace('+', "\\u002b")
                .replace('@', "\\u0040")
                .replace(':', "\\u003a");
            let escaped = escaped.replacen("\\u003a", ":", 1);
            assert_eq!(
                serde_json::from_str::<Value>(&escaped).unwrap()["prompt"],
                text.as_str()
            );
            let (out, _) = redact_json_text(&escaped);
            let value: Value = serde_json::from_str(&out).unwrap();
            let prompt = value["prompt"].as_str().unwrap();
            assert!(!prompt.contains(&secret), "{kind}: {out}");
            assert!(prompt.contains("[REDACTED:"), "{kind}: {out}");
        }
    }

    #[test]
    fn json_text_without_secrets_is_kept_byte_for_byte() {
        let text = "{ \"b\": \"x\\/y\",  \"a\": [1, 2] }";
        assert_eq!(redact_json_text(text), (text.to_owned(), Vec::new()));
        let (out, found) = redact_json_text("{\"client_secret\": \"d8Fj2kLq9ZxM4nBv7Cw1\"}");
        assert_eq!(out, "{\"client_secret\": \"[REDACTED:secret]\"}");
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn bearer_tokens() {
        redacted(
            "curl -H 'Authorization: Bearer a8Kd9Fj3Lq2Zx7Mn4Bv1Cw6' https://api",
            "curl -H 'Authorization: Bearer [REDACTED:bearer_token]' https://api",
            &["bearer_token×1"],
        );
    }

    #[test]
    fn counts_per_kind_in_order_of_appearance() {
        let (_, found) = check(
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a AKIAIOSFODNN7EXAMPLE ghp_26C7e42F292c6912E7710c838347Ae178B4a",
        );
        assert_eq!(found, ["github_token×2", "aws_access_key×1"]);
    }

    #[test]
    fn the_packed_searcher_finds_what_the_automaton_finds() {
        // Every needle, needles that start with shorter ones, overlapping and adjacent ones,
        // and the text around them repeated, as real payloads repeat.
        let all: Vec<&str> = needles().collect();
        let mut text = String::new();
        for (round, needle) in all.iter().cycle().take(all.len() * 3).enumerate() {
            text.push_str(needle);
            text.push_str(["", " ", "x", "\n", "eyJ", "sk-"][round % 6]);
        }
        text.push_str(&"    return 0;\n}\n".repeat(200));
        let hits = |needles: &Needles| {
            let mut found = Vec::new();
            needles.for_each(&text, |needle, start| found.push((needle, start)));
            found
        };
        let Some(packed) = Needles::new().filter(|n| matches!(n, Needles::Packed(_))) else {
            return; // No Teddy on this CPU: the automaton is all there is.
        };
        let expected = hits(&Needles::automaton().unwrap());
        assert!(expected.len() >= all.len() * 3, "{expected:?}");
        assert_eq!(hits(&packed), expected);
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let (once, _) = redact(
            "API_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0 ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        );
        untouched(&once);
    }

    #[test]
    fn ordinary_code_is_left_alone() {
        untouched(
            r#"fn next_token(&mut self) -> Option<Token> {
    let key = self.keys.get(&id)?;
    let password = getpass("Password: ");
    let token = lexer.next_token();
    let secret_key = std::env::var("SECRET_KEY").unwrap();
    if key == other_key { return None; }
    map.insert(key, value);
    let api_key = config.api_key.clone();
    headers.insert("Authorization", format!("Bearer {}", token));
    let monkey = "AbCdEfGhIjKlMnOp1234567890";
}"#,
        );
        untouched(
            "sort by key: the_primary_identifier_of_the_row; password_hash = bcrypt(password)",
        );
        untouched("const TOKEN_TYPES: &[&str] = &[\"ident\", \"number\"];");
        untouched("commit 3f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a fixed the sk- prefix check");
        untouched("let path = \"/usr/local/share/prodcode/key-2024-01-01.pem\";");
    }

    #[test]
    fn ordinary_prose_is_left_alone() {
        untouched(
            "Add a retry with exponential backoff to the HTTP client. The key: keep the \
             public API unchanged. Passwords must be hashed with argon2; tokens expire after \
             15 minutes. See https://docs.rs/reqwest and the AKIA prefix docs.",
        );
        untouched("Rename `skip-ant-colony` to `ant-colony`, and `sk-learn` to `scikit-learn`.");
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "",
            "=",
            "key=",
            "key:\"",
            "://",
            "a://b:@",
            "-----BEGIN ",
            "-----BEGIN PRIVATE KEY-----",
            "eyJ.eyJ.",
            "Bearer ",
            "ghp_",
            "ünïcødé key=ä1b2c3d4e5f6g7h8i9j0 ✓",
            "\\\"token\\\":",
        ] {
            let _ = redact(text);
        }
    }

    #[test]
    fn opt_out_file_in_the_directory_or_above() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let nested = repo.join("src/deep");
        std::fs::create_dir_all(&nested).unwrap();
        assert!(!opted_out(&nested));
        std::fs::write(repo.join(IGNORE_FILE), "").unwrap();
        assert!(opted_out(&nested));
        assert!(opted_out(&repo));
        assert!(!opted_out(dir.path()));
    }
}
