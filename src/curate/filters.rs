//! The prompt filters: a prompt that gives the solution away, a prompt that is a template rather
//! than a developer's request, and a change no test can check. Pure functions over the prompt
//! and the change's patch; each answers with the reason it drops a candidate, or `None`.

use regex::Regex;

/// Built-in template prompts: summaries and compaction, merge-conflict resolution, commit
/// messages, and the agents' own local-command and caveat wrappers.
const BUILT_IN_TEMPLATES: [(&str, &str); 6] = [
    (
        r"(?i)\b(summari[sz]e|write a summary|create a detailed summary|summary of (this|the|our) (conversation|session|chat))\b|^/compact\b",
        "a summary or compaction request",
    ),
    (
        r"(?i)\bmerge conflicts?\b|^<<<<<<<|\bresolve (the )?conflicts?\b",
        "a merge-conflict prompt",
    ),
    (
        r"(?i)\b(write|generate|draft|suggest|create)\b.{0,20}\bcommit messages?\b|^commit message\b",
        "a commit-message prompt",
    ),
    (
        r"(?i)^\s*<(command-name|local-command-stdout|command-message)>|^\s*caveat: the messages below were generated",
        "an agent's local-command wrapper",
    ),
    (r"^\s*/[a-z][a-z0-9_-]*\s*$", "a bare slash command"),
    (
        r"(?i)^\s*(continue|go on|keep going|proceed|yes|ok|okay|lgtm|do it)\W*\s*$",
        "a continuation, not a request",
    ),
];

/// How much of the solution the prompt may quote: at least this share of the solution's
/// substantive added lines, or this many of them, is leakage.
const LEAK_SHARE: f64 = 0.5;
const LEAK_LINES: usize = 5;
/// A quoted line counts when it has at least this many characters besides spacing: braces,
/// `return 0` and blank lines are everywhere and prove nothing.
const SUBSTANTIVE_CHARS: usize = 12;

/// Compiled template patterns: the built-in ones and the project's `[curate] templates`.
pub struct Templates {
    patterns: Vec<(Regex, String)>,
}

impl Templates {
    /// The built-in patterns and `configured` ones (regular expressions); a configured pattern
    /// that does not compile is an error naming it.
    pub fn new(configured: &[String]) -> Result<Templates, String> {
        let mut patterns = Vec::with_capacity(BUILT_IN_TEMPLATES.len() + configured.len());
        for (pattern, why) in BUILT_IN_TEMPLATES {
            let regex = Regex::new(pattern).map_err(|error| error.to_string())?;
            patterns.push((regex, why.to_owned()));
        }
        for pattern in configured {
            let regex = Regex::new(pattern).map_err(|error| {
                format!("[curate] templates: the pattern {pattern:?} does not compile: {error}")
            })?;
            patterns.push((regex, format!("matches the configured pattern {pattern:?}")));
        }
        Ok(Templates { patterns })
    }

    /// Why `prompt` is a template: it matches a pattern, or the same prompt started
    /// `other_sessions` other sessions.
    pub fn check(&self, prompt: &str, other_sessions: usize) -> Option<String> {
        if other_sessions > 0 {
            return Some(format!(
                "the same prompt started {other_sessions} other session(s)"
            ));
        }
        let trimmed = prompt.trim();
        self.patterns
            .iter()
            .find(|(regex, _)| regex.is_match(trimmed))
            .map(|(_, why)| format!("the prompt is {why}"))
    }
}

/// A prompt's text as the template filter compares it: lowercase, spacing collapsed.
pub fn normalized(prompt: &str) -> String {
    prompt
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Why `prompt` leaks the solution: it quotes a sizable part of the lines the solution adds.
pub fn leakage(prompt: &str, solution_added: &[&str]) -> Option<String> {
    let squeezed_prompt = squeeze(prompt);
    let substantive: Vec<String> = solution_added
        .iter()
        .map(|line| squeeze(line))
        .filter(|line| line.chars().count() >= SUBSTANTIVE_CHARS)
        .collect();
    if substantive.is_empty() {
        return None;
    }
    let quoted = substantive
        .iter()
        .filter(|line| squeezed_prompt.contains(line.as_str()))
        .count();
    let share = quoted as f64 / substantive.len() as f64;
    (quoted > 0 && (share >= LEAK_SHARE || quoted >= LEAK_LINES)).then(|| {
        format!(
            "the prompt quotes {quoted} of the solution's {} substantive added lines verbatim",
            substantive.len()
        )
    })
}

/// Text without whitespace, so quoting with other indentation or wrapping still matches.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Why `prompt` names the solution by id: a pull or merge request, a review diff, or a commit
/// `is_commit` knows (hex of 7 to 40 digits).
pub fn names_change(prompt: &str, is_commit: impl Fn(&str) -> bool) -> Option<String> {
    static PATTERNS: std::sync::OnceLock<Vec<Regex>> = std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            r"(?i)\b(pull request|pr|merge request|mr|diff|patch|changeset|revision)\s*#?\s*\d+\b",
            r"(?i)/(pull|merge_requests|commit|commits|compare)/[0-9a-f]+",
            r"\bD\d{3,}\b",
        ]
        .iter()
        .filter_map(|pattern| Regex::new(pattern).ok())
        .collect()
    });
    if let Some(found) = patterns.iter().find_map(|regex| regex.find(prompt)) {
        return Some(format!(
            "the prompt names a change by id ({:?})",
            found.as_str()
        ));
    }
    prompt
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| (7..=40).contains(&word.len()))
        .filter(|word| word.chars().all(|c| c.is_ascii_hexdigit()))
        .filter(|word| word.chars().any(|c| c.is_ascii_digit()))
        .find(|word| is_commit(word))
        .map(|word| format!("the prompt names commit {word}"))
}

/// One file of the solution: its path and the lines it adds and removes.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct FileChange {
    pub path: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The files of a unified diff (`git diff` output) with their added and removed lines.
pub fn parse_patch(patch: &str) -> Vec<FileChange> {
    let mut files: Vec<FileChange> = Vec::new();
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let path = rest
                .rsplit_once(" b/")
                .map_or(rest, |(_, path)| path)
                .to_owned();
            files.push(FileChange {
                path,
                ..FileChange::default()
            });
            continue;
        }
        let Some(file) = files.last_mut() else {
            continue;
        };
        if line.starts_with("+++ ") || line.starts_with("--- ") {
            continue;
        }
        if let Some(added) = line.strip_prefix('+') {
            file.added.push(added.to_owned());
        } else if let Some(removed) = line.strip_prefix('-') {
            file.removed.push(removed.to_owned());
        }
    }
    files
}

/// Why the solution cannot be tested: it changes only documentation, configuration, or comments
/// and blank lines of code.
pub fn untestable(solution: &[FileChange]) -> Option<String> {
    if solution.is_empty() {
        return Some("the change has no code outside tests".to_owned());
    }
    let testable = solution.iter().any(|file| match kind_of(&file.path) {
        FileKind::Docs | FileKind::Config => false,
        FileKind::Code(comment) => file
            .added
            .iter()
            .chain(&file.removed)
            .any(|line| !is_comment_or_blank(line, comment)),
    });
    (!testable)
        .then(|| "the change touches only documentation, configuration or comments".to_owned())
}

enum FileKind {
    Docs,
    Config,
    /// Source code, with its line-comment markers.
    Code(&'static [&'static str]),
}

fn kind_of(path: &str) -> FileKind {
    let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
    let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    let in_docs = path.starts_with("docs/") || path.starts_with("doc/") || path.contains("/docs/");
    if in_docs
        || matches!(
            extension,
            "md" | "rst" | "txt" | "adoc" | "markdown" | "org"
        )
        || name.starts_with("readme")
        || name.starts_with("changelog")
        || name.starts_with("license")
    {
        return FileKind::Docs;
    }
    if matches!(
        extension,
        "toml" | "yaml" | "yml" | "json" | "ini" | "cfg" | "conf" | "lock" | "editorconfig"
    ) || name.starts_with('.')
    {
        return FileKind::Config;
    }
    match extension {
        "py" | "sh" | "rb" | "pl" | "r" | "bash" | "zsh" => FileKind::Code(&["#"]),
        "sql" | "lua" | "hs" => FileKind::Code(&["--"]),
        _ => FileKind::Code(&["//", "/*", "*", "*/"]),
    }
}

fn is_comment_or_blank(line: &str, markers: &[&str]) -> bool {
    let line = line.trim();
    line.is_empty() || markers.iter().any(|marker| line.starts_with(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_built_in_and_configured_patterns_and_repeats() {
        let templates = Templates::new(&["^fix lint$".to_owned()]).unwrap();
        for prompt in [
            "Please summarize this conversation",
            "Resolve the merge conflicts in src/lib.rs",
            "Write a commit message for these changes",
            "/compact",
            "continue",
            "fix lint",
        ] {
            assert!(templates.check(prompt, 0).is_some(), "{prompt}");
        }
        for prompt in [
            "Add a `clamp` function to src/math.rs that clamps to a range",
            "Handle the empty list in average() instead of dividing by zero",
        ] {
            assert_eq!(templates.check(prompt, 0), None, "{prompt}");
        }
        assert!(
            templates
                .check("Add a clamp function", 2)
                .unwrap()
                .contains("2 other session")
        );
        assert!(
            Templates::new(&["(".to_owned()])
                .err()
                .unwrap()
                .contains("\"(\"")
        );
        assert_eq!(normalized("  Fix  the\nBug "), "fix the bug");
    }

    #[test]
    fn leakage_counts_substantive_quoted_lines_only() {
        let solution = [
            "    if values.is_empty() {",
            "        return 0;",
            "    }",
            "",
            "    values.iter().sum::<i64>() / values.len() as i64",
        ];
        // Braces and `return 0;` prove nothing.
        assert_eq!(leakage("return 0; }", &solution), None);
        assert_eq!(
            leakage("average() divides by zero on an empty list", &solution),
            None
        );
        let quoted = "Use this:\nif values.is_empty() {\n  return 0;\n}\nvalues.iter().sum::<i64>() / values.len() as i64";
        assert!(
            leakage(quoted, &solution)
                .unwrap()
                .contains("2 of the solution's 2")
        );
        assert_eq!(leakage("anything", &[]), None);
    }

    #[test]
    fn a_prompt_naming_a_change_is_dropped() {
        let known = |word: &str| "4b825dc642cb6eb9a060e54bf8d69288fbee4904".starts_with(word);
        assert!(names_change("apply PR #123 here", known).is_some());
        assert!(names_change("like https://github.com/o/r/pull/77", known).is_some());
        assert!(names_change("port D12345 to this branch", known).is_some());
        assert!(names_change("cherry-pick 4b825dc6 onto main", known).is_some());
        assert_eq!(names_change("the value 1234567 is too big", known), None);
        assert_eq!(names_change("fix the deadbeef1 thing", known), None);
        assert_eq!(names_change("make the tests pass", known), None);
    }

    #[test]
    fn docs_config_and_comment_changes_are_untestable() {
        let patch = "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-old\n+new\n\
diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1,2 @@\n+// a comment\n \n";
        let files = parse_patch(patch);
        assert_eq!(files.len(), 2);
        assert_eq!(files[1].path, "src/lib.rs");
        assert_eq!(files[1].added, ["// a comment"]);
        assert!(untestable(&files).is_some());
        let code = parse_patch("diff --git a/a.py b/a.py\n+++ b/a.py\n+# note\n+x = 1\n");
        assert_eq!(untestable(&code), None);
        assert!(untestable(&[]).is_some());
    }
}
