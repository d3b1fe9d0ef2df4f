//! Which project files go into the package, and where.
//!
//! `[files] include`/`exclude` globs are matched against paths relative to
//! iiswsgi.toml with `/` separators; `*` stays inside one folder and `**`
//! crosses folders. An include glob that names a folder takes everything
//! under it; an exclude glob that names a folder leaves out everything
//! under it (like MANIFEST.in's `prune`), whatever the include globs say.
//! VCS folders and the output folder are never walked. The tree is listed
//! in path order (walk.rs), so the result does not depend on the file
//! system or the thread count.

pub mod stamp;
pub mod walk;
pub mod windows_path;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use globset::{Candidate, Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::Error;
use crate::manifest::{KeyPath, Project};
use stamp::Stamp;
use walk::Found;

/// The output folder beside iiswsgi.toml when `--out-dir` is not given.
pub const DEFAULT_OUT_DIR: &str = "dist";

/// Folders that belong to version control, never packaged.
pub const VCS_FOLDERS: [&str; 6] = [".git", ".hg", ".svn", ".bzr", "_darcs", ".jj"];

/// One project file and where it goes inside the app folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedFile {
    /// Absolute path on disk.
    pub source: PathBuf,
    /// The path as shown to users: relative to iiswsgi.toml, `/`-separated.
    pub display: String,
    /// Destination relative to the app folder, `/`-separated.
    pub dest: String,
    pub size: u64,
    /// The stamp from the same `stat` as `size`.
    pub stamp: Option<Stamp>,
}

/// The outcome of selecting files.
#[derive(Debug, Default)]
pub struct Selection {
    pub files: Vec<SelectedFile>,
    pub warnings: Vec<String>,
}

/// What the walk leaves out: VCS and output folders, and links that lead
/// outside the project or into an output folder.
struct ProjectRules {
    root: PathBuf,
    out_dir: PathBuf,
    default_out: PathBuf,
}

impl walk::Rules for ProjectRules {
    fn enter(&self, path: &Path, name: &OsStr) -> bool {
        !(VCS_FOLDERS.iter().any(|v| name == *v)
            || path == self.out_dir
            || path == self.default_out)
    }

    fn follow(&self, target: &Path) -> bool {
        target.starts_with(&self.root)
            && !target.starts_with(&self.out_dir)
            && !target.starts_with(&self.default_out)
    }
}

/// Selects the project's files, listing the tree for `threads` workers
/// ([`walk::listing_threads`]).
/// `out_dir` (absolute) is never entered.
pub fn select(project: &Project, out_dir: &Path, threads: usize) -> Result<Selection, Error> {
    let files = &project.manifest.files;
    let at = KeyPath::root().key("files");
    let include = glob_set(project, &files.include, &at.key("include"))?;
    let exclude = glob_set(project, &files.exclude, &at.key("exclude"))?;
    let root = canonical(&project.root)?;
    let rules = ProjectRules {
        out_dir: canonical(out_dir).unwrap_or_else(|_| out_dir.to_path_buf()),
        // The default output folder is never packaged either, even when this
        // build writes elsewhere: it holds earlier packages.
        default_out: root.join(DEFAULT_OUT_DIR),
        root,
    };

    let mut selection = Selection::default();
    let mut glob_hits = vec![0usize; files.include.len()];
    // The folders above the entry at hand that an include glob matched, outermost
    // first, each with the globs that matched it or a folder above it (the
    // walk lists a folder right before what it holds, so this is a stack).
    let mut included_dirs: Vec<(String, Vec<usize>)> = Vec::new();
    // The folder an exclude glob matched that the walk is in: nothing in it
    // is packaged, whatever the include globs say.
    let mut excluded_dir: Option<String> = None;
    let mut skipped_links = Vec::new();
    // The include globs that select the entry at hand (reused: one per entry
    // would be an allocation per file).
    let mut hits = Vec::new();
    let found = walk::walk(&rules.root, walk::listing_threads(threads), &rules)?;
    selection.files.reserve(found.len());
    for found in found {
        let (rel, file) = match found {
            Found::Dir { rel } => (rel, None),
            Found::File {
                path,
                rel,
                size,
                stamp,
            } => (rel, Some((path, size, stamp))),
            Found::SkippedLink { path, dangling } => {
                skipped_links.push((path, dangling));
                continue;
            }
        };
        if excluded_dir
            .as_deref()
            .is_some_and(|dir| is_under(&rel, dir))
        {
            continue;
        }
        while included_dirs
            .last()
            .is_some_and(|(dir, _)| !is_under(&rel, dir))
        {
            included_dirs.pop();
        }
        let candidate = Candidate::new(&rel);
        include.matches_candidate_into(&candidate, &mut hits);
        if let Some((_, above)) = included_dirs.last() {
            hits.extend(above);
        }
        let Some((source, size, stamp)) = file else {
            if exclude.is_match_candidate(&candidate) {
                excluded_dir = Some(rel);
            } else if !hits.is_empty() {
                hits.sort_unstable();
                hits.dedup();
                included_dirs.push((rel, hits.clone()));
            }
            continue;
        };
        if hits.is_empty() || exclude.is_match_candidate(&candidate) {
            continue;
        }
        for &i in &hits {
            glob_hits[i] += 1;
        }
        selection.files.push(SelectedFile {
            source,
            display: rel.clone(),
            dest: rel,
            size,
            stamp,
        });
    }
    for (link, dangling) in skipped_links {
        selection.warnings.push(format!(
            "skipped symlink `{}`: {}",
            link.display(),
            if dangling {
                "what it points to does not exist"
            } else {
                "it points outside the project (or into the output folder)"
            }
        ));
    }
    for (pattern, hits) in files.include.iter().zip(glob_hits) {
        if hits == 0 {
            selection
                .warnings
                .push(format!("[files] include glob `{pattern}` matches no file"));
        }
    }

    for (i, map) in files.map.iter().enumerate() {
        let source = project.root.join(&map.src);
        let meta = std::fs::metadata(&source).ok().filter(|m| m.is_file());
        let Some(meta) = meta else {
            return Err(project
                .error_at(
                    &at.key("map").index(i).key("src"),
                    format!("mapped file `{}` does not exist", map.src.display()),
                )
                .with_help("the path is relative to iiswsgi.toml")
                .into());
        };
        selection.files.push(SelectedFile {
            source,
            display: map.src.to_string_lossy().replace('\\', "/"),
            dest: map.dest.clone(),
            size: meta.len(),
            stamp: Stamp::of(&meta),
        });
    }
    Ok(selection)
}

/// Whether `rel` is inside folder `dir` (both relative, `/`-separated).
fn is_under(rel: &str, dir: &str) -> bool {
    rel.len() > dir.len() && rel.starts_with(dir) && rel.as_bytes()[dir.len()] == b'/'
}

fn glob_set(project: &Project, patterns: &[String], at: &KeyPath) -> Result<GlobSet, Error> {
    let mut builder = GlobSetBuilder::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let glob: Glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| {
                project
                    .error_at(
                        &at.index(i),
                        format!("invalid glob `{pattern}`: {}", e.kind()),
                    )
                    .with_help(
                        "globs use `*`, `**`, `?`, `[abc]` and `{a,b}`, with `/` between folders",
                    )
            })?;
        builder.add(glob);
    }
    builder
        .build()
        .map_err(|e| project.error_at(at, format!("invalid glob: {e}")).into())
}

fn canonical(path: &Path) -> Result<PathBuf, Error> {
    std::fs::canonicalize(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
