//! Which paths a commit's own `.gitattributes` mark as generated or vendored.
//!
//! The attribute files are read from the commit's tree, never from the work tree: the answer
//! must not change when the developer edits `.gitattributes` after the fact. Matching is
//! gix-attributes' (git's pattern rules: a pattern without `/` matches the basename at any depth
//! below its file's directory, one with `/` is anchored there, deeper files win).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gix::attrs::search::{MetadataCollection, Outcome};
use gix::attrs::{Search, StateRef};

use super::history::GitError;

/// The attributes that keep a file out of the totals (GitHub linguist's names).
const GENERATED_ATTRIBUTES: [&str; 2] = ["linguist-generated", "linguist-vendored"];

/// The `.gitattributes` files of one tree that can apply to a set of paths.
pub(super) struct Generated {
    search: Search,
    outcome: Outcome,
    /// No attribute file mentions either attribute: every answer is `false`.
    empty: bool,
}

impl Generated {
    /// Reads the `.gitattributes` of `tree` in the root and in every ancestor directory of
    /// `paths` (repository-relative, `/`-separated).
    pub(super) fn load<'a>(
        tree: &gix::Tree<'_>,
        paths: impl IntoIterator<Item = &'a str>,
    ) -> Result<Generated, GitError> {
        let mut search = Search::default();
        let mut collection = MetadataCollection::default();
        let mut found_any = false;
        for directory in ancestor_directories(paths) {
            let file = if directory.is_empty() {
                ".gitattributes".to_owned()
            } else {
                format!("{directory}/.gitattributes")
            };
            let Some(bytes) = read_file(tree, &file)? else {
                continue;
            };
            // `root` of "" makes the list's base the file's directory. Git honours macro
            // definitions only in the top-level file.
            let allow_macros = directory.is_empty();
            search
                .add_patterns_buffer(
                    &bytes,
                    PathBuf::from(file),
                    Some(Path::new("")),
                    &mut collection,
                    allow_macros,
                )
                .map_err(|error| GitError::Read(format!("cannot parse .gitattributes: {error}")))?;
            found_any = true;
        }
        let mut outcome = Outcome::default();
        outcome.initialize_with_selection(&collection, GENERATED_ATTRIBUTES);
        Ok(Generated {
            search,
            outcome,
            empty: !found_any,
        })
    }

    /// Whether `path` is marked `linguist-generated` or `linguist-vendored` (set, or set to a
    /// value other than `false`).
    pub(super) fn is_generated(&mut self, path: &str) -> bool {
        if self.empty {
            return false;
        }
        self.outcome.reset();
        self.search.pattern_matching_relative_path(
            path.into(),
            gix::glob::pattern::Case::Sensitive,
            Some(false),
            &mut self.outcome,
        );
        self.outcome
            .iter_selected()
            .any(|matched| match matched.assignment.state {
                StateRef::Set => true,
                StateRef::Value(value) => value.as_bstr() != "false",
                StateRef::Unset | StateRef::Unspecified => false,
            })
    }
}

/// `""` and every directory above each path, shallowest first, so that deeper attribute files
/// are added later and take precedence.
fn ancestor_directories<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut directories = BTreeSet::new();
    directories.insert((0, String::new()));
    for path in paths {
        let mut depth = 0;
        for (at, byte) in path.bytes().enumerate() {
            if byte == b'/' {
                depth += 1;
                directories.insert((depth, path[..at].to_owned()));
            }
        }
    }
    directories
        .into_iter()
        .map(|(_, directory)| directory)
        .collect()
}

/// The bytes of the blob at `path` in `tree`, if there is one.
fn read_file(tree: &gix::Tree<'_>, path: &str) -> Result<Option<Vec<u8>>, GitError> {
    let entry = tree
        .lookup_entry_by_path(path)
        .map_err(|error| GitError::Read(format!("cannot read {path}: {error}")))?;
    let Some(entry) = entry else {
        return Ok(None);
    };
    if !entry.mode().is_blob() {
        return Ok(None);
    }
    let blob = entry
        .object()
        .map_err(|error| GitError::Read(format!("cannot read {path}: {error}")))?;
    Ok(Some(blob.detach().data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_are_listed_shallowest_first() {
        assert_eq!(
            ancestor_directories(["a/b/c.rs", "a/d.rs", "top.rs", "z/y.rs"]),
            ["", "a", "z", "a/b"]
        );
    }

    /// Matches `path` against attribute files given as `(directory, contents)`.
    fn check(files: &[(&str, &str)], path: &str) -> bool {
        let mut search = Search::default();
        let mut collection = MetadataCollection::default();
        for (directory, contents) in files {
            let file = if directory.is_empty() {
                ".gitattributes".to_owned()
            } else {
                format!("{directory}/.gitattributes")
            };
            search
                .add_patterns_buffer(
                    contents.as_bytes(),
                    PathBuf::from(file),
                    Some(Path::new("")),
                    &mut collection,
                    directory.is_empty(),
                )
                .unwrap();
        }
        let mut outcome = Outcome::default();
        outcome.initialize_with_selection(&collection, GENERATED_ATTRIBUTES);
        let mut generated = Generated {
            search,
            outcome,
            empty: false,
        };
        generated.is_generated(path)
    }

    #[test]
    fn patterns_follow_gitattributes_rules() {
        let root = [("", "*.pb.go linguist-generated\n")];
        assert!(check(&root, "a.pb.go"));
        assert!(check(&root, "deep/er/a.pb.go"));
        assert!(!check(&root, "a.go"));

        // With a slash, a pattern is anchored to its file's directory.
        let anchored = [("", "gen/*.rs linguist-generated=true\n")];
        assert!(check(&anchored, "gen/a.rs"));
        assert!(!check(&anchored, "src/gen/a.rs"));
        assert!(!check(&anchored, "gen/sub/a.rs"));

        let globstar = [("", "vendor/** linguist-vendored\n")];
        assert!(check(&globstar, "vendor/x/y/z.c"));
        assert!(!check(&globstar, "src/vendor.c"));

        let classes = [("", "file?.[ch] linguist-generated\n")];
        assert!(check(&classes, "file1.c"));
        assert!(check(&classes, "x/fileA.h"));
        assert!(!check(&classes, "file10.c"));
    }

    #[test]
    fn later_and_deeper_files_unset() {
        let files = [
            ("", "*.js linguist-generated\n"),
            (
                "web",
                "keep.js -linguist-generated\nother.js linguist-generated=false\n",
            ),
        ];
        assert!(check(&files, "web/app.js"));
        assert!(!check(&files, "web/keep.js"));
        assert!(!check(&files, "web/other.js"));
        // A nested file's basename pattern applies only below its directory.
        assert!(check(&files, "keep.js"));

        let same_file = [("", "*.js linguist-generated\nmain.js -linguist-generated\n")];
        assert!(!check(&same_file, "main.js"));
        assert!(check(&same_file, "lib.js"));
    }

    #[test]
    fn other_attributes_do_not_count() {
        let files = [(
            "",
            "*.png binary\n*.txt text eol=lf linguist-documentation\n",
        )];
        assert!(!check(&files, "a.png"));
        assert!(!check(&files, "a.txt"));
    }
}
