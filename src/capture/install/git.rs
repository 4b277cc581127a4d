//! git's `post-commit` hook: a marked block that runs `prodcode hook git`, added to whatever hook
//! the repository already has.
//!
//! A shell hook gets the block right after its `#!` line, so that an `exit` further down cannot
//! skip it. A hook in another language (Python, Perl, …) cannot hold shell lines: prodcode moves it
//! to `post-commit.prodcode-chained` and writes a small shell hook that runs the block and then
//! `exec`s the moved hook with the same arguments, so its exit status is still the hook's.
//! Uninstalling removes exactly the block (and undoes the move). The block's command reads no
//! input, writes nowhere and ends in `|| true`: a commit never fails because of prodcode.

pub(crate) const BEGIN: &str = "# >>> prodcode post-commit hook >>>";
pub(crate) const END: &str = "# <<< prodcode post-commit hook <<<";
/// Where a hook in another language is moved, beside `post-commit`.
pub(crate) const CHAINED: &str = "post-commit.prodcode-chained";
const SHEBANG: &str = "#!/bin/sh\n";
const CHAIN: &str = "# prodcode moved the previous post-commit hook (not a shell script) beside this one and runs it:\n\
                     exec \"$(dirname \"$0\")/post-commit.prodcode-chained\" \"$@\"\n";

/// The marked block; `program` is already shell-quoted.
pub(crate) fn block(program: &str) -> String {
    format!(
        "{BEGIN}\n\
         # Added by `prodcode install git`; `prodcode install --uninstall git` removes it.\n\
         # Records the commit for prodcode in the background: reads no input, prints nothing,\n\
         # never fails or delays the commit.\n\
         {program} hook git </dev/null >/dev/null 2>&1 &\n\
         {END}\n"
    )
}

/// What installing does to `post-commit`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InstallEdit {
    /// The hook already runs this block.
    Present,
    /// Write `content` (a new hook, or the existing one with the block added or refreshed).
    Write { content: String, added: bool },
    /// Move the existing hook to [`CHAINED`] and write `content` in its place.
    Chain { content: String },
}

/// What uninstalling does to `post-commit`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UninstallEdit {
    Absent,
    /// Write what is left.
    Write {
        content: String,
    },
    /// Only prodcode's lines were left: delete the file.
    Delete,
    /// Delete prodcode's wrapper and move [`CHAINED`] back.
    Unchain,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ScriptError {
    #[error("it has a `{BEGIN}` line without the closing `{END}`; fix it by hand")]
    Unclosed,
}

pub(crate) fn install(existing: Option<&str>, program: &str) -> Result<InstallEdit, ScriptError> {
    let block = block(program);
    let Some(text) = existing else {
        return Ok(InstallEdit::Write {
            content: format!("{SHEBANG}{block}"),
            added: true,
        });
    };
    if let Some((start, end)) = find_block(text)? {
        if text[start..end] == block {
            return Ok(InstallEdit::Present);
        }
        let content = format!("{}{block}{}", &text[..start], &text[end..]);
        return Ok(InstallEdit::Write {
            content,
            added: false,
        });
    }
    if !is_shell_script(text) {
        return Ok(InstallEdit::Chain {
            content: format!("{SHEBANG}{block}{CHAIN}"),
        });
    }
    let insert_at = match text.strip_prefix("#!") {
        Some(_) => text.find('\n').map_or(text.len(), |newline| newline + 1),
        None => 0,
    };
    let mut content = String::with_capacity(text.len() + block.len() + 1);
    content.push_str(&text[..insert_at]);
    if insert_at > 0 && !content.ends_with('\n') {
        content.push('\n');
    }
    content.push_str(&block);
    content.push_str(&text[insert_at..]);
    Ok(InstallEdit::Write {
        content,
        added: true,
    })
}

pub(crate) fn uninstall(
    existing: Option<&str>,
    chained: bool,
) -> Result<UninstallEdit, ScriptError> {
    let Some(text) = existing else {
        return Ok(UninstallEdit::Absent);
    };
    let Some((start, end)) = find_block(text)? else {
        return Ok(UninstallEdit::Absent);
    };
    let rest = format!("{}{}", &text[..start], &text[end..]);
    if chained && rest == format!("{SHEBANG}{CHAIN}") {
        return Ok(UninstallEdit::Unchain);
    }
    if rest.trim() == SHEBANG.trim() || rest.trim().is_empty() {
        return Ok(UninstallEdit::Delete);
    }
    Ok(UninstallEdit::Write { content: rest })
}

/// The byte range of the marked block, whole lines.
fn find_block(text: &str) -> Result<Option<(usize, usize)>, ScriptError> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        match start {
            None if trimmed == BEGIN => start = Some(offset),
            Some(start) if trimmed == END => return Ok(Some((start, offset + line.len()))),
            _ => {}
        }
        offset += line.len();
    }
    match start {
        Some(_) => Err(ScriptError::Unclosed),
        None => Ok(None),
    }
}

/// A script git runs through a POSIX-style shell: no `#!` line, or one naming sh, bash, dash, zsh,
/// ksh or ash, directly or through `env`.
fn is_shell_script(text: &str) -> bool {
    let Some(line) = text.lines().next().and_then(|line| line.strip_prefix("#!")) else {
        return true;
    };
    let mut words = line.split_whitespace();
    let Some(mut program) = words.next().map(basename) else {
        return true;
    };
    if program == "env" {
        match words.find(|word| !word.starts_with('-')) {
            Some(word) => program = basename(word),
            None => return false,
        }
    }
    matches!(
        program,
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "mksh" | "ash"
    )
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROGRAM: &str = "/opt/prodcode";

    #[test]
    fn a_new_hook_is_the_shebang_and_the_block() {
        let InstallEdit::Write { content, added } = install(None, PROGRAM).unwrap() else {
            panic!()
        };
        assert!(added);
        assert_eq!(content, format!("#!/bin/sh\n{}", block(PROGRAM)));
        assert_eq!(
            uninstall(Some(&content), false).unwrap(),
            UninstallEdit::Delete
        );
    }

    #[test]
    fn a_shell_hook_gets_the_block_after_its_shebang_and_gets_it_back_out() {
        let user = "#!/usr/bin/env bash\nset -e\nmake lint\nexit 0\n";
        let InstallEdit::Write { content, .. } = install(Some(user), PROGRAM).unwrap() else {
            panic!()
        };
        assert!(content.starts_with(&format!("#!/usr/bin/env bash\n{BEGIN}\n")));
        assert!(content.ends_with("set -e\nmake lint\nexit 0\n"));
        assert_eq!(
            install(Some(&content), PROGRAM).unwrap(),
            InstallEdit::Present
        );
        let UninstallEdit::Write { content } = uninstall(Some(&content), false).unwrap() else {
            panic!()
        };
        assert_eq!(content, user);
    }

    #[test]
    fn a_moved_binary_refreshes_the_block_in_place() {
        let user = "echo one\n";
        let InstallEdit::Write { content, .. } = install(Some(user), PROGRAM).unwrap() else {
            panic!()
        };
        let InstallEdit::Write { content, added } =
            install(Some(&content), "/new/prodcode").unwrap()
        else {
            panic!()
        };
        assert!(!added);
        assert_eq!(content, format!("{}echo one\n", block("/new/prodcode")));
    }

    #[test]
    fn other_languages_are_chained() {
        let user = "#!/usr/bin/env python3\nprint('hi')\n";
        let InstallEdit::Chain { content } = install(Some(user), PROGRAM).unwrap() else {
            panic!()
        };
        assert_eq!(
            uninstall(Some(&content), true).unwrap(),
            UninstallEdit::Unchain
        );
    }

    #[test]
    fn an_unclosed_block_is_an_error() {
        let text = format!("#!/bin/sh\n{BEGIN}\necho\n");
        assert!(install(Some(&text), PROGRAM).is_err());
        assert!(uninstall(Some(&text), false).is_err());
    }

    #[test]
    fn shell_detection() {
        for text in [
            "echo",
            "#!/bin/sh\n",
            "#! /bin/bash -e\n",
            "#!/usr/bin/env -S zsh -f\n",
        ] {
            assert!(is_shell_script(text), "{text}");
        }
        for text in [
            "#!/usr/bin/python3\n",
            "#!/usr/bin/env perl\n",
            "#!/usr/bin/env\n",
        ] {
            assert!(!is_shell_script(text), "{text}");
        }
    }
}
