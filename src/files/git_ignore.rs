//! What git ignores, as git decides it: the `.gitignore` of every folder
//! from the repository's root down to the file (a deeper one overrides a
//! shallower one, `!pattern` re-includes), then `.git/info/exclude`, then
//! the user's global excludes (`core.excludesFile`, else
//! `$XDG_CONFIG_HOME/git/ignore`). A file in an ignored folder is ignored,
//! whatever a deeper file says. The matching is the `ignore` crate's, which
//! ripgrep and fd use.
//!
//! The project may be a folder inside a repository (iiswsgi.toml beside an
//! app in a monorepo): the `.gitignore` files above it, up to the folder
//! holding `.git`, apply too. Outside any repository, only the project's own
//! `.gitignore` files and the global excludes do.

use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// The matchers that apply above and around the project's folders.
pub struct GitIgnore {
    /// The project folder (reasons name files relative to it).
    root: PathBuf,
    /// `.gitignore` files from the repository root down to the project's
    /// parent, shallowest first.
    above: Vec<Gitignore>,
    /// `.git/info/exclude` and the global excludes, in that order.
    fallback: Vec<Gitignore>,
    /// The files read, for the listing cache (a change to one changes the
    /// selection without any folder of the project changing).
    pub files: Vec<PathBuf>,
}

/// A matcher for one folder's `.gitignore`.
pub struct FolderRules {
    /// The folder, relative to the project, `/`-separated (`""`: the root).
    pub rel: String,
    matcher: Gitignore,
}

impl GitIgnore {
    /// The rules around `root` (canonical).
    pub fn around(root: &Path) -> GitIgnore {
        let repo = root.ancestors().find(|d| d.join(".git").exists());
        let mut rules = GitIgnore {
            root: root.to_path_buf(),
            above: Vec::new(),
            fallback: Vec::new(),
            files: Vec::new(),
        };
        if let Some(repo) = repo {
            let mut dirs: Vec<&Path> = root
                .ancestors()
                .skip(1)
                .take_while(|d| d.starts_with(repo))
                .collect();
            dirs.reverse();
            for dir in dirs {
                if let Some(m) = rules.read(dir, &dir.join(".gitignore")) {
                    rules.above.push(m);
                }
            }
            if let Some(m) = rules.read(repo, &repo.join(".git/info/exclude")) {
                rules.fallback.push(m);
            }
        }
        let (global, _) = Gitignore::global();
        if !global.is_empty() {
            rules.fallback.push(global);
        }
        rules
    }

    fn read(&mut self, dir: &Path, file: &Path) -> Option<Gitignore> {
        if !file.is_file() {
            return None;
        }
        let mut builder = GitignoreBuilder::new(dir);
        // A line git would not understand is skipped, as git skips it.
        let _ = builder.add(file);
        let m = builder.build().ok()?;
        self.files.push(file.to_path_buf());
        Some(m)
    }

    /// The rules of the project folder `dir` (`rel` to the project), if it
    /// has a `.gitignore`.
    pub fn folder(&mut self, root: &Path, rel: &str) -> Option<FolderRules> {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let matcher = self.read(&dir, &dir.join(".gitignore"))?;
        Some(FolderRules {
            rel: rel.to_owned(),
            matcher,
        })
    }

    /// Why git ignores `path` (absolute; `is_dir` for a folder), given the
    /// project folders' rules that contain it (`inner`, shallowest first);
    /// None when it does not.
    pub fn why_ignored(&self, path: &Path, is_dir: bool, inner: &[FolderRules]) -> Option<String> {
        let decided = inner
            .iter()
            .rev()
            .map(|f| &f.matcher)
            .chain(self.above.iter().rev())
            .chain(self.fallback.iter())
            .map(|m| m.matched(path, is_dir))
            .find(|m| !m.is_none())?;
        match decided {
            Match::Ignore(glob) => Some(format!(
                "ignored by git (`{}` in {})",
                glob.original(),
                glob.from().map_or_else(
                    || "the global excludes".to_owned(),
                    |p| p
                        .strip_prefix(&self.root)
                        .unwrap_or(p)
                        .to_string_lossy()
                        .replace('\\', "/")
                )
            )),
            _ => None,
        }
    }
}
