//! What a package never holds unless the project names it: local data and
//! secrets that a default `include = ["**/*"]` would otherwise sweep in (a
//! development database, `instance/config.py` with its dev secret, a
//! `.env`), environments and caches, and the test suite. A package may be
//! published on a public feed.
//!
//! "Named" means selected by an include glob whose first path component
//! has no wildcard (`tests/**`, `.env.production`, `instance/config.py`),
//! by a folder IIS serves (`[iis] static-folders`), or by `[[files.map]]`;
//! `**/*` and `*.py` name nothing. A named file that looks like a secret is
//! shipped, with a warning naming it.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// (glob on the path relative to the project, what it is).
const NEVER: &[(&str, &str)] = &[
    ("**/.env", "a secret (.env)"),
    ("**/.env.*", "a secret (.env)"),
    ("**/*.sqlite", "local data (a SQLite database)"),
    ("**/*.sqlite3", "local data (a SQLite database)"),
    ("**/*.sqlite-*", "local data (a SQLite database)"),
    ("**/*.sqlite3-*", "local data (a SQLite database)"),
    ("**/*.db", "local data (a database file)"),
    ("**/instance", "local data (Flask's instance folder)"),
    ("**/.venv", "an environment"),
    ("**/.tox", "an environment"),
    ("**/.nox", "an environment"),
    ("**/node_modules", "an environment"),
    ("**/__pycache__", "a cache"),
    ("**/*.pyc", "a cache"),
    ("**/.pytest_cache", "a cache"),
    ("**/.mypy_cache", "a cache"),
    ("**/.ruff_cache", "a cache"),
    ("**/tests", "the test suite"),
    ("**/.gitignore", "repository metadata"),
    ("**/.gitattributes", "repository metadata"),
    ("**/.github", "repository metadata"),
    ("**/*.pem", "a secret (a key or certificate)"),
    ("**/*.key", "a secret (a private key)"),
    ("**/*.pfx", "a secret (a certificate with its key)"),
    ("**/*.p12", "a secret (a certificate with its key)"),
    ("**/id_rsa*", "a secret (an SSH key)"),
    ("**/id_ed25519*", "a secret (an SSH key)"),
];

/// The built-in list, compiled.
pub struct NeverShip {
    set: GlobSet,
}

impl Default for NeverShip {
    fn default() -> Self {
        Self::new()
    }
}

impl NeverShip {
    pub fn new() -> NeverShip {
        let mut builder = GlobSetBuilder::new();
        for (glob, _) in NEVER {
            builder.add(Glob::new(glob).expect("the built-in globs are valid"));
        }
        NeverShip {
            set: builder.build().expect("the built-in globs are valid"),
        }
    }

    /// What `rel` (a file or folder, relative to the project) is, if the
    /// list has it.
    pub fn what(&self, rel: &str) -> Option<&'static str> {
        self.set.matches(rel).first().map(|&i| NEVER[i].1)
    }
}

/// Whether what `what` returned is a secret (a named one is a warning).
pub fn is_secret(what: &str) -> bool {
    what.starts_with("a secret")
}

/// Whether an include glob names its files (its first component has no
/// wildcard).
pub fn names_its_files(glob: &str) -> bool {
    let first = glob.split('/').next().unwrap_or(glob);
    !first.contains(['*', '?', '[', '{'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_data_secrets_and_tests_are_on_the_list() {
        let never = NeverShip::new();
        for rel in [
            ".env",
            "deploy/.env.production",
            "instance",
            "flaskr.sqlite",
            "data/db.sqlite3",
            "db.sqlite3-journal",
            "app.db",
            "tests",
            "pkg/tests",
            ".venv",
            "certs/site.key",
        ] {
            assert!(never.what(rel).is_some(), "{rel}");
        }
        for rel in [
            "app.py",
            "environment.py",
            "static/site.css",
            "testsuite.py",
        ] {
            assert_eq!(never.what(rel), None, "{rel}");
        }
        assert!(is_secret(never.what(".env").unwrap()));
    }

    #[test]
    fn a_glob_names_its_files_when_it_starts_with_a_literal() {
        assert!(names_its_files("tests/**"));
        assert!(names_its_files(".env.production"));
        assert!(names_its_files("instance/config.py"));
        assert!(!names_its_files("**/*"));
        assert!(!names_its_files("*.py"));
        assert!(!names_its_files("{a,b}/**"));
    }
}
