//! `iiswsgi publish`: packages, their checksums and the feed, uploaded so
//! that a feed never points at something missing and a re-run is safe.
//!
//! ```text
//! Loaded ─▶ upload plan (keys from the feed's URLs) ─▶ packages + .sha256
//!        ─▶ verify (size and SHA-256 of what the server now serves) ─▶ feed
//! ```
//!
//! Packages are immutable once published: one that exists with the same
//! SHA-256 is skipped, one with other bytes under the same name is refused
//! unless `--force`. The feed changes with every release and is replaced.

pub mod redact;
pub mod server_reply;
pub mod stream;
pub mod target;

use std::path::PathBuf;

use bytes::Bytes;
use object_store::{ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::feed::{FeedRequest, PackageFacts};
use crate::manifest::{KeyPath, Loaded};
use crate::package::zip_writer::hex;

/// What `publish` was asked for.
#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    /// Overrides `[publish] target`.
    pub target: Option<String>,
    pub dry_run: bool,
    /// Replace published packages whose bytes differ.
    pub force: bool,
    /// Where the built packages are (default: each app's `dist/`).
    pub packages_dir: Option<PathBuf>,
    /// An existing feed to publish with this project's entries merged in
    /// (as `feed --merge`), instead of a feed of this project alone.
    pub merge: Option<PathBuf>,
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectReport {
    /// Where it is, as shown to users.
    pub location: String,
    pub size: u64,
    pub sha256: String,
    /// `uploaded`, `skipped` (already there, same bytes), `replaced`
    /// (`--force`), or `would upload` (`--dry-run`).
    pub action: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Package,
    Checksum,
    /// SetParameters.xml, deploy.cmd, the deploy readme.
    Companion,
    Feed,
}

/// What an object's bytes are: small ones in memory, packages in their file
/// (read as they are sent, never whole, see `stream.rs`).
#[derive(Debug, Clone)]
enum Body {
    Memory(Bytes),
    File { path: PathBuf, size: u64 },
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Memory(b) => b.len() as u64,
            Body::File { size, .. } => *size,
        }
    }
}

/// One object to put.
#[derive(Debug, Clone)]
struct Item {
    key: String,
    body: Body,
    sha256: String,
    kind: Kind,
}

/// Publishes every app's package and checksum, verifies them, then the feed.
/// `on_object` hears about each object as soon as it is settled.
/// `progress` gives the bar for one upload (hidden when nobody watches).
pub fn run(
    loaded: &Loaded,
    request: &PublishRequest,
    timestamp: i64,
    on_object: &mut dyn FnMut(&ObjectReport),
    progress: &dyn Fn(&str) -> indicatif::ProgressBar,
) -> Result<Vec<ObjectReport>, Error> {
    let root = &loaded.root;
    let target_url = match (&request.target, &root.manifest.publish) {
        (Some(t), _) => t.clone(),
        (None, Some(p)) => p.target.clone(),
        (None, None) => {
            return Err(root
                .error_at(&KeyPath::root(), "no publish target")
                .with_help("set [publish] target = \"s3://bucket/prefix\" (or file://, http(s)://, az://), or pass --target")
                .into());
        }
    };
    let items = plan(loaded, request, timestamp, &target_url)?;
    let mut reports = Vec::new();
    if request.dry_run {
        for item in &items {
            let report = ObjectReport {
                location: format!("{}/{}", target_url.trim_end_matches('/'), item.key),
                size: item.body.len(),
                sha256: item.sha256.clone(),
                action: "would upload",
            };
            on_object(&report);
            reports.push(report);
        }
        return Ok(reports);
    }
    let fail = |message: String| Error::Publish {
        target: redact::redact(&target_url),
        message: redact::redact(&message),
    };
    let target = target::open(&target_url).map_err(&fail)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(e.to_string()))?;
    runtime.block_on(async {
        target::create_collections(&target_url)
            .await
            .map_err(&fail)?;
        let (artifacts, feed): (Vec<&Item>, Vec<&Item>) =
            items.iter().partition(|i| i.kind != Kind::Feed);
        let mut settled = |item: &Item, action| {
            let report = ObjectReport {
                location: target.describe(&item.key),
                size: item.body.len(),
                sha256: item.sha256.clone(),
                action,
            };
            on_object(&report);
            reports.push(report);
        };
        for item in &artifacts {
            let bar = progress(&item.key);
            let action = put_once(&target, item, request.force, &bar).await;
            bar.finish_and_clear();
            settled(item, action.map_err(&fail)?);
        }
        // What the server serves now must be what we built, before a feed
        // points at it.
        for item in artifacts.iter().filter(|i| i.kind == Kind::Package) {
            verify(&target, item).await.map_err(&fail)?;
        }
        for item in feed {
            let action = put_feed(&target, item).await.map_err(&fail)?;
            settled(item, action);
        }
        Ok::<_, Error>(())
    })?;
    Ok(reports)
}

/// The objects to put, in order: each package and its `.sha256`, then the
/// feed. Keys follow the feed: a package goes where its URL in the feed
/// says, relative to the feed's own folder.
fn plan(
    loaded: &Loaded,
    request: &PublishRequest,
    timestamp: i64,
    target_url: &str,
) -> Result<Vec<Item>, Error> {
    let root = &loaded.root;
    let mut items = Vec::new();
    let mut add_package = |key: String, facts: &PackageFacts| -> Result<(), Error> {
        let size = std::fs::metadata(&facts.path)
            .map_err(|source| Error::Io {
                path: facts.path.clone(),
                source,
            })?
            .len();
        let sums = format!("{}  {}\n", facts.sha256, facts.file_name);
        // The package first, then its checksum.
        let checksum_key = format!("{key}.sha256");
        items.push(Item {
            key,
            body: Body::File {
                path: facts.path.clone(),
                size,
            },
            sha256: facts.sha256.clone(),
            kind: Kind::Package,
        });
        items.push(Item {
            key: checksum_key.clone(),
            sha256: hex(&Sha256::digest(sums.as_bytes())),
            body: Body::Memory(Bytes::from(sums)),
            kind: Kind::Checksum,
        });
        // What build wrote beside it for administrators (deploy_files.rs),
        // beside it on the server too; never in the feed.
        let folder = checksum_key
            .rsplit_once('/')
            .map_or(String::new(), |(dir, _)| format!("{dir}/"));
        let base = crate::deploy_files::base_name(&facts.file_name);
        for suffix in crate::deploy_files::SUFFIXES {
            let name = format!("{base}{suffix}");
            let path = facts.path.with_file_name(&name);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            items.push(Item {
                key: format!("{folder}{name}"),
                sha256: hex(&Sha256::digest(&bytes)),
                body: Body::Memory(Bytes::from(bytes)),
                kind: Kind::Companion,
            });
        }
        Ok(())
    };
    // Without [feed] url the feed goes to the target's root as
    // <feed name>.webpi.xml, the packages beside it, at URLs derived from
    // the target; never silently no feed at all.
    let configured = loaded.feed().and_then(|f| f.url.clone());
    let default_urls = match configured {
        Some(_) => None,
        None => Some(default_feed_urls(loaded, target_url)?),
    };
    let feed_url = configured.unwrap_or_else(|| {
        default_urls
            .as_ref()
            .map(|(u, _)| u.clone())
            .unwrap_or_default()
    });
    let base = &feed_url[..feed_url.rfind('/').map_or(0, |i| i + 1)];
    let feed_at = KeyPath::root().key("feed");
    if let Some(http) = target_url
        .strip_prefix("http://")
        .or_else(|| target_url.strip_prefix("https://"))
    {
        let target_base = format!("{}/", http.trim_end_matches('/'));
        let public = base.split_once("://").map_or(base, |(_, r)| r);
        if public != target_base {
            return Err(root
                .error_at(
                    &feed_at.key("url"),
                    format!(
                        "the feed says it is at {feed_url}, but publish would put it under {target_url}"
                    ),
                )
                .with_help("make [feed] url point into the publish target, or publish to the feed's folder")
                .into());
        }
    }
    let report = crate::feed::write(
        loaded,
        &FeedRequest {
            local: false,
            packages_dir: request.packages_dir.clone(),
            merge: request.merge.clone(),
            default_urls,
            ..FeedRequest::default()
        },
        timestamp,
    )?;
    for entry in &report.entries {
        let url = entry
            .installer_url
            .split(['?', '#'])
            .next()
            .unwrap_or_default();
        let Some(rel) = url.strip_prefix(base).filter(|r| !r.is_empty()) else {
            return Err(root
                .error_at(
                    &feed_at.key("package-url"),
                    format!(
                        "package URL {url} is not under the feed's folder {base}, so publish cannot put it where the feed says"
                    ),
                )
                .with_help(format!(
                    "use a package-url that starts with the folder of [feed] url, e.g. \"{base}{{name}}/{{file}}\""
                ))
                .into());
        };
        let key = crate::feed::file_url::percent_decode(rel).unwrap_or_else(|| rel.to_string());
        add_package(key, &entry.package)?;
    }
    items.push(Item {
        key: feed_url[base.len()..].to_string(),
        sha256: hex(&Sha256::digest(report.xml.as_bytes())),
        body: Body::Memory(Bytes::from(report.xml)),
        kind: Kind::Feed,
    });
    Ok(items)
}

/// The feed URL and package-url template for a target when `[feed] url`
/// is not set: the target's own URL for HTTP(S) and folders; S3 and Azure
/// targets have no URL publish can know the public one from.
fn default_feed_urls(loaded: &Loaded, target_url: &str) -> Result<(String, String), Error> {
    let name = crate::feed::feed_name(loaded);
    let base = match target_url.split_once("://") {
        Some(("http" | "https", _)) => format!("{}/", target_url.trim_end_matches('/')),
        Some(("file", path)) => {
            let url = crate::feed::file_url::file_url(std::path::Path::new(path));
            format!("{}/", url.trim_end_matches('/'))
        }
        _ => {
            return Err(loaded
                .root
                .error_at(&KeyPath::root(), "[feed] url is not set, and the feed's public URL cannot be derived from this target")
                .with_help(format!(
                    "set [feed] url = \"https://<where {target_url} is served>/{name}.webpi.xml\" and package-url = \"https://<...>/{{file}}\""
                ))
                .into());
        }
    };
    Ok((format!("{base}{name}.webpi.xml"), format!("{base}{{file}}")))
}

async fn read(target: &target::Target, key: &str) -> Result<Option<Bytes>, String> {
    match target.store.get(&target.path(key)).await {
        Ok(got) => got.bytes().await.map(Some).map_err(|e| {
            format!(
                "reading {}: {}",
                target.describe(key),
                server_reply::one_line(&e.to_string())
            )
        }),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(format!(
            "checking {}: {}",
            target.describe(key),
            server_reply::one_line(&e.to_string())
        )),
    }
}

async fn put(
    target: &target::Target,
    item: &Item,
    bar: &indicatif::ProgressBar,
) -> Result<(), String> {
    let payload = match &item.body {
        Body::Memory(bytes) => bytes.clone(),
        Body::File { path, size } if *size > stream::STREAM_THRESHOLD => {
            return stream::put_file(target, &item.key, path, *size, bar).await;
        }
        Body::File { path, .. } => {
            Bytes::from(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
    };
    target
        .store
        .put(&target.path(&item.key), PutPayload::from(payload))
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "uploading {}: {}",
                target.describe(&item.key),
                server_reply::one_line(&e.to_string())
            )
        })
}

/// Puts a package or checksum unless the same bytes are there already.
async fn put_once(
    target: &target::Target,
    item: &Item,
    force: bool,
    bar: &indicatif::ProgressBar,
) -> Result<&'static str, String> {
    let existing = match target.store.head(&target.path(&item.key)).await {
        Ok(meta) => Some(meta),
        Err(object_store::Error::NotFound { .. }) => None,
        Err(e) => {
            return Err(format!(
                "checking {}: {}",
                target.describe(&item.key),
                server_reply::one_line(&e.to_string())
            ));
        }
    };
    if let Some(meta) = existing {
        let same = meta.size == item.body.len()
            && stream::served_digest(target, &item.key)
                .await?
                .is_some_and(|(_, sha256)| sha256 == item.sha256);
        if same {
            return Ok("skipped");
        }
        if !force {
            return Err(format!(
                "{} is already published with other bytes; a published version must not change (build a new version, or pass --force to replace it)",
                target.describe(&item.key)
            ));
        }
        put(target, item, bar).await?;
        return Ok("replaced");
    }
    put(target, item, bar).await?;
    Ok("uploaded")
}

/// Puts the feed unless it is unchanged.
async fn put_feed(target: &target::Target, item: &Item) -> Result<&'static str, String> {
    let Body::Memory(bytes) = &item.body else {
        unreachable!("the feed is made in memory")
    };
    if read(target, &item.key).await?.is_some_and(|b| b == *bytes) {
        return Ok("skipped");
    }
    put(target, item, &indicatif::ProgressBar::hidden()).await?;
    Ok("uploaded")
}

/// Reads a package back as it streams in and checks its size and SHA-256.
async fn verify(target: &target::Target, item: &Item) -> Result<(), String> {
    let (size, sha256) = stream::served_digest(target, &item.key)
        .await?
        .ok_or_else(|| {
            format!(
                "{} is missing right after upload",
                target.describe(&item.key)
            )
        })?;
    if size != item.body.len() || sha256 != item.sha256 {
        return Err(format!(
            "{} does not verify: the server has {size} bytes with SHA-256 {sha256}, not {} bytes with {}; the feed was not published",
            target.describe(&item.key),
            item.body.len(),
            item.sha256
        ));
    }
    Ok(())
}
