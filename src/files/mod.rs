//! Which project files go into the package, and where.
//!
//! `[files] include`/`exclude` globs are matched against paths relative to
//! iiswsgi.toml with `/` separators; `*` stays inside one folder and `**`
//! crosses folders. An include glob that names a folder takes everything
//! under it; an exclude glob that names a folder leaves out everything
//! under it (like MANIFEST.in's `prune`), whatever the include globs say.
//! VCS folders and the output folder are never walked. The tree is listed
//! in path order (walk.rs), so the result does not depend on the file
//! system or the thread count; or, when no folder changed since the last
//! build, the names are taken from that build's listing
//! (listing_cache.rs) and only the selected files are `stat`-ed again.

pub mod git_ignore;
pub mod listing_cache;
pub mod never_ship;
pub mod stamp;
pub mod walk;
pub mod windows_path;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use globset::{Candidate, Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::Error;
use crate::manifest::{KeyPath, Project};
use listing_cache::{Listing, NotCached, Recorder};
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
#[derive(Debug)]
pub struct Selection {
    pub files: Vec<SelectedFile>,
    pub warnings: Vec<String>,
    /// What the include globs matched but was left out, and why (a folder
    /// ends with `/` and stands for all under it).
    pub left_out: Vec<(String, String)>,
    /// The include globs (by index) that matched no file.
    pub unmatched: Vec<usize>,
    pub listed: Listed,
}

/// Where a selection's names came from.
#[derive(Debug, Clone)]
pub enum Listed {
    /// The listing cache: no folder changed since it was made.
    FromCache,
    /// A walk of the tree; the text of its listing cache, or why there is
    /// none.
    Walked(Result<String, NotCached>),
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

/// Selects the project's files. The tree is listed for `threads` workers
/// ([`walk::listing_threads`]), unless the listing cache at `cache` proves
/// that no folder changed since it was made (listing_cache.rs).
/// `out_dir` (absolute) is never entered.
pub fn select(
    project: &Project,
    out_dir: &Path,
    threads: usize,
    cache: &Path,
) -> Result<Selection, Error> {
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
    let shipping = Shipping::new(project, &rules.root);
    let key = listing_cache::key(
        &rules.root,
        &rules.out_dir,
        &files.include,
        &files.exclude,
        &shipping.key_text(),
    );
    let threads = walk::listing_threads(threads);
    let cached = std::fs::read_to_string(cache)
        .ok()
        .and_then(|text| Listing::parse(&text, key))
        .and_then(|listing| {
            Some((
                listing.revalidate(&rules.root, threads)?,
                listing.unmatched,
                listing.left_out,
            ))
        });
    let mut selection = match cached {
        Some((files, unmatched, mut left_out)) => Selection {
            files,
            warnings: Vec::new(),
            left_out: {
                left_out.sort();
                left_out
            },
            unmatched,
            listed: Listed::FromCache,
        },
        None => walk_and_match(&rules, threads, &include, &exclude, shipping, key)?,
    };
    for pattern in selection
        .unmatched
        .iter()
        .filter_map(|&i| files.include.get(i))
    {
        selection
            .warnings
            .push(format!("[files] include glob `{pattern}` matches no file"));
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
        if !map.allow_outside_project {
            outside_check(project, &source, &map.src, &at.key("map").index(i))?;
        } else if !canonical(&source)?.starts_with(canonical(&project.boundary)?) {
            selection.warnings.push(format!(
                "[[files.map]] src `{}` is outside the project (allow-outside-project = true)",
                map.src.display()
            ));
        }
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

/// Refuses a mapped source that is, or resolves (through `..` or links) to,
/// a file outside the project's boundary.
fn outside_check(
    project: &Project,
    source: &Path,
    written: &Path,
    at: &KeyPath,
) -> Result<(), Error> {
    let boundary = canonical(&project.boundary)?;
    let real = canonical(source)?;
    if real.starts_with(&boundary) {
        return Ok(());
    }
    let lexical =
        lexically_normal(&std::path::absolute(source).unwrap_or_else(|_| source.to_path_buf()));
    let via_link = if lexical.starts_with(lexically_normal(&project.boundary)) {
        " (through a symbolic link)"
    } else {
        ""
    };
    Err(project
        .error_at(
            &at.key("src"),
            format!(
                "mapped file `{}` is outside the project{via_link}: {}",
                written.display(),
                real.display()
            ),
        )
        .with_help(format!(
            "copy the file into {} or add `allow-outside-project = true` to this [[files.map]] if packaging it is intended",
            boundary.display()
        ))
        .into())
}

/// `a/b/../c` → `a/c`, without asking the file system.
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What decides, beyond the globs, whether a matched file is packaged:
/// git's ignore rules and the built-in never-ship list (never_ship.rs),
/// both set aside for what the project names.
struct Shipping {
    git: Option<git_ignore::GitIgnore>,
    never: never_ship::NeverShip,
    /// Per include glob: whether it names its files.
    naming: Vec<bool>,
    /// What is named: the named include globs' literal beginnings and the
    /// static folders, `/`-separated, each ending with `/` unless a file.
    named: Vec<String>,
}

impl Shipping {
    fn new(project: &Project, root: &Path) -> Shipping {
        let files = &project.manifest.files;
        let naming: Vec<bool> = files
            .include
            .iter()
            .map(|g| never_ship::names_its_files(g))
            .collect();
        let mut named: Vec<String> = files
            .include
            .iter()
            .zip(&naming)
            .filter(|(_, n)| **n)
            .map(|(g, _)| {
                let literal: Vec<&str> = g
                    .split('/')
                    .take_while(|c| !c.contains(['*', '?', '[', '{']))
                    .collect();
                let whole = literal.len() == g.split('/').count();
                let mut text = literal.join("/");
                if !whole {
                    text.push('/');
                }
                text
            })
            .collect();
        named.extend(
            project
                .manifest
                .iis
                .static_folders
                .iter()
                .chain(project.manifest.iis.static_urls.values())
                .map(|f| format!("{}/", f.trim_matches('/'))),
        );
        Shipping {
            git: files.gitignore.then(|| git_ignore::GitIgnore::around(root)),
            never: never_ship::NeverShip::new(),
            naming,
            named,
        }
    }

    /// What, besides the tree, the selection depends on (for the cache key).
    fn key_text(&self) -> String {
        let mut text = format!("gitignore {}", self.git.is_some());
        for f in self.git.iter().flat_map(|g| &g.files) {
            text.push('\n');
            text.push_str(&f.to_string_lossy());
        }
        text
    }

    /// Whether something the project names is `rel` or lies under it.
    fn names_within(&self, rel: &str) -> bool {
        self.named.iter().any(|n| {
            n.trim_end_matches('/') == rel
                || n.starts_with(&format!("{rel}/"))
                || (n.ends_with('/') && rel.starts_with(n.as_str()))
        })
    }

    /// Whether file `rel`, selected by the include globs `hits`, is named.
    fn names(&self, rel: &str, hits: &[usize]) -> bool {
        hits.iter().any(|&i| self.naming.get(i) == Some(&true))
            || self
                .named
                .iter()
                .any(|n| n.ends_with('/') && rel.starts_with(n.as_str()))
    }
}

/// A folder the walk is in whose contents are left out unless named.
struct Unshipped {
    rel: String,
    why: String,
}

/// Lists the tree and matches every path against the globs and the
/// shipping rules, recording the listing for the cache as it goes.
fn walk_and_match(
    rules: &ProjectRules,
    threads: usize,
    include: &GlobSet,
    exclude: &GlobSet,
    mut shipping: Shipping,
    key: u128,
) -> Result<Selection, Error> {
    let mut recorder = Recorder::new(key);
    // The project folder's stamp, before it is listed.
    let root_stamp = std::fs::metadata(&rules.root)
        .ok()
        .and_then(|m| Stamp::of(&m));
    recorder.folder("", root_stamp);
    let mut files = Vec::new();
    let mut left_out: Vec<(String, String)> = Vec::new();
    let mut glob_hits = vec![0usize; include.len()];
    // The folders above the entry at hand that an include glob matched, outermost
    // first, each with the globs that matched it or a folder above it (the
    // walk lists a folder right before what it holds, so this is a stack).
    let mut included_dirs: Vec<(String, Vec<usize>)> = Vec::new();
    // The folder an exclude glob, git or the never-ship list left out that
    // the walk is in, when nothing under it is named: nothing in it is
    // packaged, whatever the include globs say.
    let mut excluded_dir: Option<String> = None;
    // Folders left out unless what is in them is named, outermost first.
    let mut unshipped: Vec<Unshipped> = Vec::new();
    // The `.gitignore` rules of the folders the walk is in, outermost first.
    let mut folder_rules: Vec<git_ignore::FolderRules> = Vec::new();
    if let Some(r) = shipping
        .git
        .as_mut()
        .and_then(|g| g.folder(&rules.root, ""))
    {
        folder_rules.push(r);
    }
    let mut skipped_links = Vec::new();
    let mut secrets = Vec::new();
    // The include globs that select the entry at hand (reused: one per entry
    // would be an allocation per file).
    let mut hits = Vec::new();
    let found = walk::walk(&rules.root, threads, rules)?;
    files.reserve(found.len());
    for found in found {
        let (rel, file) = match found {
            Found::Dir { rel, stamp } => (rel, Err(stamp)),
            Found::File {
                path,
                rel,
                size,
                stamp,
                link,
            } => (rel, Ok((path, size, stamp, link))),
            Found::SkippedLink { path, dangling } => {
                recorder.spoil("a symbolic link was skipped");
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
        while unshipped.last().is_some_and(|u| !is_under(&rel, &u.rel)) {
            unshipped.pop();
        }
        while folder_rules
            .last()
            .is_some_and(|f| !f.rel.is_empty() && !is_under(&rel, &f.rel))
        {
            folder_rules.pop();
        }
        let candidate = Candidate::new(&rel);
        include.matches_candidate_into(&candidate, &mut hits);
        if let Some((_, above)) = included_dirs.last() {
            hits.extend(above);
        }
        // Why git or the built-in list would leave this entry out (asked
        // only of what the globs select: the rest is not packaged anyway).
        let why_not = |never: Option<&str>, is_dir: bool| {
            never
                .map(|what| format!("never packaged unless named: {what}"))
                .or_else(|| {
                    shipping
                        .git
                        .as_ref()
                        .and_then(|g| g.why_ignored(&rules.root.join(&rel), is_dir, &folder_rules))
                })
        };
        let (source, size, stamp, link) = match file {
            Ok(file) => file,
            Err(folder_stamp) => {
                if exclude.is_match_candidate(&candidate) {
                    excluded_dir = Some(rel);
                    continue;
                }
                if let Some(why) = why_not(shipping.never.what(&rel), true) {
                    if !shipping.names_within(&rel) {
                        // Nothing under it is named: not even listed.
                        if !hits.is_empty() || !included_dirs.is_empty() {
                            left_out.push((format!("{rel}/"), why));
                        }
                        excluded_dir = Some(rel);
                        continue;
                    }
                    unshipped.push(Unshipped {
                        rel: rel.clone(),
                        why,
                    });
                }
                recorder.folder(&rel, folder_stamp);
                if let Some(g) = shipping.git.as_mut() {
                    if let Some(r) = g.folder(&rules.root, &rel) {
                        folder_rules.push(r);
                    }
                }
                if !hits.is_empty() {
                    hits.sort_unstable();
                    hits.dedup();
                    included_dirs.push((rel, hits.clone()));
                }
                continue;
            }
        };
        if hits.is_empty() || exclude.is_match_candidate(&candidate) {
            continue;
        }
        let never = shipping.never.what(&rel);
        let why_not = why_not(never, false).or_else(|| unshipped.last().map(|u| u.why.clone()));
        if let Some(why) = why_not {
            if !shipping.names(&rel, &hits) {
                recorder.left_out(&rel, &why);
                left_out.push((rel, why));
                continue;
            }
            if let Some(what) = never.filter(|w| never_ship::is_secret(w)) {
                secrets.push(format!(
                    "`{rel}` looks like {what} and is packaged because [files] names it: a package may be published; pass it as a Web Deploy parameter instead"
                ));
            }
        }
        for &i in &hits {
            glob_hits[i] += 1;
        }
        recorder.file(&rel, link.then_some(stamp));
        files.push(SelectedFile {
            source,
            display: rel.clone(),
            dest: rel,
            size,
            stamp,
        });
    }
    for (rel, why) in left_out.iter().filter(|(rel, _)| rel.ends_with('/')) {
        recorder.left_out(rel, why);
    }
    for file in shipping.git.iter().flat_map(|g| &g.files) {
        let stamp = std::fs::metadata(file).ok().and_then(|m| Stamp::of(&m));
        recorder.rule_file(file, stamp);
    }
    let mut warnings: Vec<String> = skipped_links
        .into_iter()
        .map(|(link, dangling)| {
            format!(
                "skipped symlink `{}`: {}",
                link.display(),
                if dangling {
                    "what it points to does not exist"
                } else {
                    "it points outside the project (or into the output folder)"
                }
            )
        })
        .collect();
    if !secrets.is_empty() {
        // Said at every build, not only the one that walked.
        recorder.spoil("a named file looks like a secret");
    }
    warnings.extend(secrets);
    let unmatched: Vec<usize> = (0..glob_hits.len())
        .filter(|&i| glob_hits[i] == 0)
        .collect();
    left_out.sort();
    Ok(Selection {
        files,
        warnings,
        left_out,
        listed: Listed::Walked(recorder.finish(&unmatched)),
        unmatched,
    })
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
