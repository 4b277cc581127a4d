//! Files whose lines are kept out of commit totals: lockfiles, generated and vendored files, and
//! the project's own ignore globs.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Lockfiles by file name: written by package managers, not by people or assistants.
const LOCKFILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "pdm.lock",
    "Gemfile.lock",
    "composer.lock",
    "go.sum",
    "flake.lock",
    "mix.lock",
    "pubspec.lock",
    "Podfile.lock",
    "Package.resolved",
    "gradle.lockfile",
    "packages.lock.json",
    "deno.lock",
    "conda-lock.yml",
];

/// Directories whose content is vendored by convention.
const VENDORED_DIRS: &[&str] = &["vendor", "node_modules", "third_party", "third-party"];

pub struct Excluder {
    ignore: GlobSet,
}

impl Excluder {
    /// `ignore` globs are matched against paths relative to the repository root; a glob without
    /// a `/` matches a file name at any depth, as in `.gitignore`.
    pub fn new(ignore: &[String]) -> Result<Excluder, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in ignore {
            let trimmed = pattern.trim_start_matches('/');
            let anchored = pattern.starts_with('/') || trimmed.contains('/');
            let full = if anchored {
                trimmed.to_owned()
            } else {
                format!("**/{trimmed}")
            };
            for glob in [full.clone(), format!("{full}/**")] {
                let glob = Glob::new(&glob)
                    .map_err(|error| format!("link.ignore pattern {pattern:?}: {error}"))?;
                builder.add(glob);
            }
        }
        let ignore = builder
            .build()
            .map_err(|error| format!("link.ignore: {error}"))?;
        Ok(Excluder { ignore })
    }

    /// Why `path` is kept out of the totals, if it is.
    pub fn reason(&self, path: &str, generated: bool, binary: bool) -> Option<&'static str> {
        let name = path.rsplit('/').next().unwrap_or(path);
        if LOCKFILES.contains(&name) {
            return Some("lockfile");
        }
        if generated {
            return Some("generated");
        }
        let mut directories = path.split('/').rev().skip(1);
        if directories.any(|directory| VENDORED_DIRS.contains(&directory)) {
            return Some("vendored");
        }
        if self.ignore.is_match(path) {
            return Some("ignored");
        }
        if binary {
            return Some("binary");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfiles_generated_vendored_and_ignored_files_are_excluded() {
        let excluder =
            Excluder::new(&["*.pb.go".into(), "/gen".into(), "docs/api/*.md".into()]).unwrap();
        assert_eq!(
            excluder.reason("Cargo.lock", false, false),
            Some("lockfile")
        );
        assert_eq!(
            excluder.reason("web/yarn.lock", false, false),
            Some("lockfile")
        );
        assert_eq!(excluder.reason("src/a.rs", true, false), Some("generated"));
        assert_eq!(
            excluder.reason("vendor/x/y.go", false, false),
            Some("vendored")
        );
        assert_eq!(
            excluder.reason("api/a.pb.go", false, false),
            Some("ignored")
        );
        assert_eq!(excluder.reason("gen/a/b.rs", false, false), Some("ignored"));
        assert_eq!(excluder.reason("src/gen/b.rs", false, false), None);
        assert_eq!(
            excluder.reason("docs/api/x.md", false, false),
            Some("ignored")
        );
        assert_eq!(excluder.reason("logo.png", false, true), Some("binary"));
        assert_eq!(excluder.reason("src/main.rs", false, false), None);
        assert_eq!(excluder.reason("src/vendor.rs", false, false), None);
        assert!(Excluder::new(&["a[".into()]).is_err());
    }
}
