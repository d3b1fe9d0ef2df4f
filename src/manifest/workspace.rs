//! The set of apps a command works on: the app of a single manifest, or
//! every member of a `[workspace]`, with the checks that need all of them at
//! once (shared dependency definitions, unique product ids, which manifest
//! owns which `[feed]` keys).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::GlobBuilder;

use super::dependency_rules::{self as rules, RuleProblem};
use super::diagnostic::ConfigError;
use super::key_path::KeyPath;
use super::load::{MANIFEST_FILE, Project, load};
use super::model::{Dependency, Feed};

/// What a command was pointed at.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The manifest found or given: an app, or a workspace root.
    pub root: Project,
    /// The apps: the root itself, or the workspace members in path order.
    pub apps: Vec<Project>,
}

impl Loaded {
    /// Whether the root is a `[workspace]`.
    pub fn is_workspace(&self) -> bool {
        self.root.manifest.workspace.is_some()
    }

    /// The feed-wide settings, which live in the root manifest.
    pub fn feed(&self) -> Option<&Feed> {
        self.root.manifest.feed.as_ref()
    }

    /// Dependency definitions shared by every app of the feed.
    pub fn definitions(&self) -> &BTreeMap<String, Dependency> {
        static EMPTY: BTreeMap<String, Dependency> = BTreeMap::new();
        self.feed().map_or(&EMPTY, |f| &f.definitions)
    }
}

/// `[feed]` keys that describe the whole feed, set in the workspace root.
const FEED_WIDE_KEYS: &[&str] = &[
    "name",
    "title",
    "url",
    "package-url",
    "definitions",
    "products",
];
/// `[feed]` keys that describe one app, set in each member.
const PER_APP_KEYS: &[&str] = &[
    "dependencies",
    "depend-on-web-deploy",
    "related",
    "start-page",
];

/// Loads the manifest at `path` and, for a workspace, every member.
pub fn load_all(path: &Path) -> Result<Loaded, ConfigError> {
    let root = load(path)?;
    let mut errors = Vec::new();
    let apps = match &root.manifest.workspace {
        None => vec![root.clone()],
        Some(ws) => {
            if let Some(feed) = &root.manifest.feed {
                for key in set_keys(feed, PER_APP_KEYS) {
                    errors.push(
                        root.error_at(
                            &KeyPath::root().key("feed").key(key),
                            format!("`{key}` describes one app, not the workspace"),
                        )
                        .with_help("set it in the [feed] table of each member's iiswsgi.toml"),
                    );
                }
            }
            let mut apps = Vec::new();
            for (i, pattern) in ws.members.iter().enumerate() {
                let at = KeyPath::root().key("workspace").key("members").index(i);
                match member_folders(&root.root, pattern) {
                    Err(message) => errors.push(root.error_at(&at, message)),
                    Ok(folders) if folders.is_empty() => errors.push(
                        root.error_at(
                            &at,
                            format!("`{pattern}` matches no folder with an {MANIFEST_FILE}"),
                        )
                        .with_help("member globs are relative to the workspace's iiswsgi.toml"),
                    ),
                    Ok(folders) => {
                        for folder in folders {
                            match load(&path_to_member(path, &root.root, &folder)) {
                                Ok(mut member) => {
                                    member.boundary = root.root.clone();
                                    apps.push(member)
                                }
                                Err(e) => errors.push(e),
                            }
                        }
                    }
                }
            }
            apps.sort_by(|a, b| a.root.cmp(&b.root));
            apps.dedup_by(|a, b| a.root == b.root);
            apps
        }
    };
    let loaded = Loaded { root, apps };
    cross_checks(&loaded, &mut errors);
    match ConfigError::many(errors) {
        Some(e) => Err(e),
        None => Ok(loaded),
    }
}

fn cross_checks(loaded: &Loaded, errors: &mut Vec<ConfigError>) {
    let defs = loaded.definitions();
    let feed_at = KeyPath::root().key("feed");
    let to_errors = |project: &Project, found: Vec<RuleProblem>, errors: &mut Vec<ConfigError>| {
        for p in found {
            errors.push(project.error_at(&p.at, p.message).with_help(p.help));
        }
    };
    for app in &loaded.apps {
        let mut found = Vec::new();
        if let Some(feed) = &app.manifest.feed {
            if loaded.is_workspace() {
                if app.manifest.workspace.is_some() {
                    continue; // reported by load: a member cannot be a workspace
                }
                for key in set_keys(feed, FEED_WIDE_KEYS) {
                    errors.push(
                        app.error_at(
                            &feed_at.key(key),
                            format!("`{key}` describes the whole feed of the workspace"),
                        )
                        .with_help("move it to the [feed] table of the workspace's iiswsgi.toml"),
                    );
                }
            }
            rules::check_list(
                &feed.dependencies,
                &feed_at.key("dependencies"),
                Some(defs),
                &mut found,
            );
        }
        to_errors(app, found, errors);
        if app.manifest.workspace.is_some() && loaded.is_workspace() {
            errors.push(
                app.error_at(
                    &KeyPath::root().key("workspace"),
                    "a workspace member cannot itself be a workspace",
                )
                .with_help("list its members in the outer workspace instead"),
            );
        }
    }
    if let Some(feed) = loaded.feed() {
        let mut found = Vec::new();
        for (i, p) in feed.products.iter().enumerate() {
            rules::check_list(
                &p.dependencies,
                &feed_at.key("products").index(i).key("dependencies"),
                Some(defs),
                &mut found,
            );
        }
        to_errors(&loaded.root, found, errors);
    }
    // Product ids are unique across every loaded feed; within ours at least.
    // Each id, with the project that claimed it and where.
    let mut claims: Vec<(&str, &Project, KeyPath)> = loaded
        .apps
        .iter()
        .map(|app| {
            (
                app.app().name.as_str(),
                app,
                KeyPath::root().key("app").key("name"),
            )
        })
        .collect();
    if let Some(feed) = loaded.feed() {
        claims.extend(feed.products.iter().enumerate().map(|(i, p)| {
            (
                p.product_id.as_str(),
                &loaded.root,
                feed_at.key("products").index(i).key("product-id"),
            )
        }));
    }
    let mut seen: BTreeMap<String, &Project> = BTreeMap::new();
    for (id, project, at) in claims {
        match seen.get(&id.to_ascii_lowercase()) {
            Some(first) => errors.push(
                project
                    .error_at(&at, format!("product id `{id}` is used twice in this feed"))
                    .with_help(format!(
                        "it is also the product id of {}; WebPI needs unique ids",
                        first.manifest_path.display()
                    )),
            ),
            None => {
                seen.insert(id.to_ascii_lowercase(), project);
            }
        }
    }
}

/// Which of `keys` are set in `feed`.
fn set_keys(feed: &Feed, keys: &[&'static str]) -> Vec<&'static str> {
    keys.iter()
        .copied()
        .filter(|key| match *key {
            "name" => feed.name.is_some(),
            "title" => feed.title.is_some(),
            "url" => feed.url.is_some(),
            "package-url" => feed.package_url.is_some(),
            "definitions" => !feed.definitions.is_empty(),
            "products" => !feed.products.is_empty(),
            "dependencies" => !feed.dependencies.is_empty(),
            "depend-on-web-deploy" => feed.depend_on_web_deploy.is_some(),
            "related" => !feed.related.is_empty(),
            "start-page" => feed.start_page.is_some(),
            _ => false,
        })
        .collect()
}

/// Folders under `root` whose path relative to it matches `pattern` and that
/// hold an iiswsgi.toml, sorted.
fn member_folders(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let pattern = pattern.trim_end_matches('/');
    let glob = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("`{pattern}` is not a valid glob: {}", e.kind()))?
        .compile_matcher();
    let depth = if pattern.contains("**") {
        usize::MAX
    } else {
        pattern.split('/').count()
    };
    let mut found = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .max_depth(depth)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_dir()
                && !name.starts_with('.')
                && name != crate::files::DEFAULT_OUT_DIR
                && name != "target"
        });
    for entry in walker.flatten() {
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if glob.is_match(&rel) && entry.path().join(MANIFEST_FILE).is_file() {
            found.push(entry.path().to_path_buf());
        }
    }
    Ok(found)
}

/// The member's iiswsgi.toml, spelled relative to the workspace manifest as
/// it was given, so that messages show short paths.
fn path_to_member(workspace_manifest: &Path, workspace_root: &Path, folder: &Path) -> PathBuf {
    let rel = folder.strip_prefix(workspace_root).unwrap_or(folder);
    workspace_manifest
        .parent()
        .unwrap_or(Path::new(""))
        .join(rel)
        .join(MANIFEST_FILE)
}
