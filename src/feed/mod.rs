//! `iiswsgi feed`: the WebPI feed for the packages just built.
//!
//! ```text
//! Loaded ─▶ package facts (size, sha1; checked against .sha256)
//!        ─▶ URLs (package-url template, or file:/// with --local)
//!        ─▶ document (element tree) ─▶ merge into an existing feed? ─▶ write
//! ```

pub mod document;
pub mod file_url;
pub mod merge;
pub mod package_facts;

use std::path::PathBuf;

use crate::error::Error;
use crate::manifest::{KeyPath, Loaded, Project};
use crate::xml_tree::Document;

pub use document::FeedInput;
pub use package_facts::PackageFacts;

/// What `iiswsgi feed` was asked for.
#[derive(Debug, Clone, Default)]
pub struct FeedRequest {
    /// `file:///` URLs of the local packages instead of `package-url`.
    pub local: bool,
    /// Where the packages are (default: each app's `dist/`).
    pub packages_dir: Option<PathBuf>,
    /// The feed file (default: `dist/<feed name>.webpi.xml` beside the root manifest).
    pub out: Option<PathBuf>,
    /// An existing feed to merge this project's entries into.
    pub merge: Option<PathBuf>,
    /// The feed's URL and package-url template when `[feed]` sets none
    /// (`publish` derives them from its target).
    pub default_urls: Option<(String, String)>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct FeedReport {
    pub path: PathBuf,
    /// The feed's own URL (`file:///` with `--local`).
    pub url: String,
    pub entries: Vec<EntryReport>,
    pub merge: Option<merge::MergeReport>,
    /// The bytes written, for `publish` to upload without reading them back.
    pub xml: String,
}

#[derive(Debug, Clone)]
pub struct EntryReport {
    pub product_id: String,
    pub installer_url: String,
    pub package: PackageFacts,
}

/// The feed file's stem: `[feed] name`, else the app name, else the
/// workspace folder's name.
pub fn feed_name(loaded: &Loaded) -> String {
    if let Some(name) = loaded.feed().and_then(|f| f.name.clone()) {
        return name;
    }
    if let Some(app) = &loaded.root.manifest.app {
        return app.name.clone();
    }
    loaded
        .root
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "feed".into())
}

/// The feed file `feed` writes.
pub fn feed_path(loaded: &Loaded, request: &FeedRequest) -> PathBuf {
    match &request.out {
        Some(out) => std::path::absolute(out).unwrap_or_else(|_| out.clone()),
        None => crate::package::out_dir(&loaded.root, request.packages_dir.as_deref())
            .join(format!("{}.webpi.xml", feed_name(loaded))),
    }
}

/// Expands `{name}`, `{version}`, `{file}`, `{sha256}` of a package-url template.
pub fn expand_package_url(template: &str, app: &Project, package: &PackageFacts) -> String {
    let a = app.app();
    template
        .replace("{name}", &a.name)
        .replace("{version}", &a.version)
        .replace("{file}", &package.file_name)
        .replace("{sha256}", &package.sha256)
}

/// Reads the packages, decides URLs, builds (and merges) the feed, and
/// writes it atomically. `timestamp` is the feed's `updated` time.
pub fn write(loaded: &Loaded, request: &FeedRequest, timestamp: i64) -> Result<FeedReport, Error> {
    let path = feed_path(loaded, request);
    let root = &loaded.root;
    let mut feed = root.manifest.feed.clone().unwrap_or_default();
    if let Some((url, package_url)) = &request.default_urls {
        feed.url.get_or_insert_with(|| url.clone());
        feed.package_url.get_or_insert_with(|| package_url.clone());
    }
    let missing = |key: &str, example: &str| -> Error {
        root.error_at(
            &KeyPath::root().key("feed"),
            format!("[feed] {key} is not set"),
        )
        .with_help(format!(
            "set {key} = \"{example}\" in [feed], or pass --local to point the feed at the local files"
        ))
        .into()
    };
    let url = if request.local {
        file_url::file_url(&path)
    } else {
        feed.url
            .clone()
            .ok_or_else(|| missing("url", "https://downloads.example.org/feed.webpi.xml"))?
    };
    if !request.local && feed.package_url.is_none() {
        return Err(missing(
            "package-url",
            "https://downloads.example.org/{name}/{file}",
        ));
    }
    let mut apps = Vec::new();
    for app in &loaded.apps {
        let file = crate::plan::package_file_name(&app.app().name, &app.app().version);
        let package = package_facts::read(
            &crate::package::out_dir(app, request.packages_dir.as_deref()),
            &file,
        )?;
        let installer_url = if request.local {
            file_url::file_url(&package.path)
        } else {
            expand_package_url(
                feed.package_url.as_deref().unwrap_or_default(),
                app,
                &package,
            )
        };
        apps.push(document::AppEntry {
            project: app,
            package,
            installer_url,
        });
    }
    let title = feed
        .title
        .clone()
        .unwrap_or_else(|| match &root.manifest.app {
            Some(app) => app.title.clone().unwrap_or_else(|| app.name.clone()),
            None => feed_name(loaded),
        });
    let input = FeedInput {
        loaded,
        title,
        url: url.clone(),
        apps,
        timestamp,
    };
    let ours = document::build(&input);
    let (document, merge_report) = match &request.merge {
        None => (ours, None),
        Some(existing_path) => {
            let merge_error = |message: String| Error::Merge {
                path: existing_path.clone(),
                message,
            };
            let file = std::fs::File::open(existing_path)
                .map_err(|e| merge_error(format!("cannot read it: {e}")))?;
            let text = crate::xml_limits::read_text(file)
                .map_err(|e| merge_error(format!("cannot read it: {e}")))?;
            let mut existing = Document::parse(&text)
                .map_err(|e| merge_error(format!("not well-formed XML: {e}")))?;
            let report = merge::merge(&mut existing, &ours).map_err(merge_error)?;
            (existing, Some(report))
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let xml = document.to_xml();
    crate::package::write_atomically(&path, xml.as_bytes())?;
    Ok(FeedReport {
        path,
        xml,
        url,
        entries: input
            .apps
            .into_iter()
            .map(|a| EntryReport {
                product_id: a.project.app().name.clone(),
                installer_url: a.installer_url,
                package: a.package,
            })
            .collect(),
        merge: merge_report,
    })
}
