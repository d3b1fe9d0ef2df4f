//! Which project files go into the package, and where.
//!
//! `[files] include`/`exclude` globs are matched against paths relative to
//! iiswsgi.toml with `/` separators; `*` stays inside one folder and `**`
//! crosses folders. An include glob that names a folder takes everything
//! under it. VCS folders and the output folder are never walked. Folders are
//! walked in name order, so the result does not depend on the file system.

pub mod windows_path;

use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::Error;
use crate::manifest::{KeyPath, Project};

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
}

/// The outcome of selecting files.
#[derive(Debug, Default)]
pub struct Selection {
    pub files: Vec<SelectedFile>,
    pub warnings: Vec<String>,
}

/// Selects the project's files. `out_dir` (absolute) is never entered.
pub fn select(project: &Project, out_dir: &Path) -> Result<Selection, Error> {
    let files = &project.manifest.files;
    let at = KeyPath::root().key("files");
    let include = glob_set(project, &files.include, &at.key("include"))?;
    let exclude = glob_set(project, &files.exclude, &at.key("exclude"))?;
    let root = canonical(&project.root)?;
    let out_dir = canonical(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
    // The default output folder is never packaged either, even when this
    // build writes elsewhere: it holds earlier packages.
    let default_out = root.join(DEFAULT_OUT_DIR);
    let is_output = |p: &Path| p == out_dir || p == default_out;

    let mut selection = Selection::default();
    let mut glob_hits = vec![0usize; files.include.len()];
    // Folders matched by an include glob, with the globs that matched them.
    let mut included_dirs: Vec<(String, Vec<usize>)> = Vec::new();
    let mut skipped_links = Vec::new();

    let walker = walkdir::WalkDir::new(&root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_type().is_dir()
                && (VCS_FOLDERS.iter().any(|v| e.file_name() == *v) || is_output(e.path()))
            {
                return false;
            }
            if e.path_is_symlink() {
                let inside = std::fs::canonicalize(e.path())
                    .map(|target| {
                        target.starts_with(&root)
                            && target != out_dir
                            && !target.starts_with(&out_dir)
                    })
                    .unwrap_or(false);
                if !inside {
                    skipped_links.push(e.path().to_path_buf());
                    return false;
                }
            }
            true
        });
    for entry in walker {
        let entry = entry.map_err(|e| walk_error(&root, e))?;
        if entry.depth() == 0 {
            continue;
        }
        let rel = relative(&root, entry.path())?;
        included_dirs.retain(|(dir, _)| {
            rel.starts_with(dir.as_str()) && rel.as_bytes().get(dir.len()) == Some(&b'/')
        });
        let matched = include.matches(&rel);
        if entry.file_type().is_dir() {
            if !matched.is_empty() && !exclude.is_match(&rel) {
                included_dirs.push((rel, matched));
            }
            continue;
        }
        let mut hits = matched;
        for (_, globs) in &included_dirs {
            hits.extend(globs);
        }
        if hits.is_empty() || exclude.is_match(&rel) {
            continue;
        }
        for i in hits {
            glob_hits[i] += 1;
        }
        let size = entry.metadata().map_err(|e| walk_error(&root, e))?.len();
        selection.files.push(SelectedFile {
            source: entry.path().to_path_buf(),
            display: rel.clone(),
            dest: rel,
            size,
        });
    }
    for link in skipped_links {
        selection.warnings.push(format!(
            "skipped symlink `{}`: it points outside the project (or into the output folder)",
            link.display()
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
        });
    }
    Ok(selection)
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

fn relative(root: &Path, path: &Path) -> Result<String, Error> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut parts = Vec::new();
    for c in rel.components() {
        match c.as_os_str().to_str() {
            Some(s) => parts.push(s),
            None => return Err(Error::NonUtf8Path(path.to_path_buf())),
        }
    }
    Ok(parts.join("/"))
}

fn walk_error(root: &Path, e: walkdir::Error) -> Error {
    if let Some(ancestor) = e.loop_ancestor() {
        return Error::SymlinkLoop {
            path: e.path().unwrap_or(root).to_path_buf(),
            ancestor: ancestor.to_path_buf(),
        };
    }
    let path = e.path().unwrap_or(root).to_path_buf();
    Error::Io {
        path,
        source: e
            .into_io_error()
            .unwrap_or_else(|| std::io::Error::other("walk failed")),
    }
}
