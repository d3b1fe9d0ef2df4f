//! The build plan: every entry of the package, decided and checked before
//! anything is written. `iiswsgi build --plan` prints it; `build` writes it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use crate::error::Error;
use crate::files::stamp::Stamp;
use crate::files::{self, windows_path};
use crate::gateway;
use crate::manifest::{KeyPath, Project};
use crate::msdeploy::{parameters_xml, provider_options, run_command};
use crate::render::context::{self, RunCommandView, Setting};
use crate::render::{Document, Renderer, install_file};

/// Web Deploy refuses packages with more files than this.
pub const MAX_ENTRIES: usize = 65_535;
/// Web Deploy's per-file limit: 2 GiB - 1 bytes.
pub const MAX_FILE_SIZE: u64 = (2 << 30) - 1;

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
pub enum EntrySource {
    /// A folder entry.
    Directory,
    /// A project file; `display` is its path relative to iiswsgi.toml,
    /// `stamp` what `stat` said of it while planning (for the no-op check).
    File {
        path: PathBuf,
        display: String,
        stamp: Option<Stamp>,
    },
    /// Bytes iiswsgi supplies: a document it rendered (Manifest.xml,
    /// Parameters.xml, ...), the project's own wheel, the built-in gateway.
    Rendered { what: String, bytes: Arc<[u8]> },
}

impl EntrySource {
    /// A file's stamp from planning; `None` for anything else.
    pub fn stamp(&self) -> Option<Stamp> {
        match self {
            EntrySource::File { stamp, .. } => *stamp,
            _ => None,
        }
    }

    /// How the source is named in listings and errors.
    pub fn describe(&self) -> String {
        match self {
            EntrySource::Directory => "(folder)".to_string(),
            EntrySource::File { display, .. } => display.clone(),
            // iiswsgi's own bytes, named as they are.
            EntrySource::Rendered { what, .. } if what.starts_with("built-in ") => {
                format!("({what})")
            }
            EntrySource::Rendered { what, .. } => format!("(rendered from {what})"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlanEntry {
    /// Path inside the zip, `/`-separated; folders end with `/`.
    pub name: String,
    pub source: EntrySource,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct BuildPlan {
    /// `<name>-<version>.msdeploy.zip`
    pub package_file: String,
    /// Entries in the order they are written (sorted by name).
    pub entries: Vec<PlanEntry>,
    /// Non-fatal findings (unmatched globs, skipped links).
    pub warnings: Vec<String>,
    /// What the include globs matched and the build left out, and why (a
    /// folder, ending with `/`, stands for all under it).
    pub left_out: Vec<(String, String)>,
    /// Where the project's file names came from: the listing cache, or a
    /// walk whose listing the build saves for the next one.
    pub listed: files::Listed,
    /// The gateway exe bundled, if any.
    pub gateway: Option<GatewayBundled>,
}

/// The gateway exe a package bundles: where it came from and its SHA-256
/// (`build` prints both; the JSON `artifact` message carries them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GatewayBundled {
    /// `built-in iiswsgi-gateway <version>`, or the `path`/`url` given.
    pub source: String,
    pub sha256: String,
}

/// The package file name for an app.
pub fn package_file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.msdeploy.zip")
}

/// Renders the documents and selects the files of `project`, listing its
/// tree on `threads` threads.
pub fn plan(project: &Project, out_dir: &Path, threads: usize) -> Result<BuildPlan, Error> {
    let app = project.app();
    let folder = project.app_folder().to_string();
    let renderer = Renderer::new(project)?;
    let documents = render_documents(project, &renderer)?;

    let package_file = package_file_name(&app.name, &app.version);
    let cache = files::listing_cache::path(out_dir, &package_file);
    let selection = files::select(project, out_dir, threads, &cache)?;
    // Room for the files and documents; add_directories makes room for
    // the folders once they are known (a guess would be megabytes too many
    // for a big flat tree, all through the build).
    let mut entries: Vec<PlanEntry> =
        Vec::with_capacity(selection.files.len() + project.manifest.sql.len() + 8);
    let mut warnings = selection.warnings;
    // What the app writes on the server is the server's: a packaged copy
    // would be skipped by the redeploy rules anyway, and without them
    // would overwrite the live data.
    let data_folders: Vec<String> = project
        .manifest
        .iis
        .data_folders
        .iter()
        .map(|d| format!("{}/", d.trim_matches('/').to_ascii_lowercase()))
        .collect();
    let mut left_out = vec![0usize; data_folders.len()];
    for f in selection.files {
        if let Some(i) = data_folders
            .iter()
            .position(|d| f.dest.to_ascii_lowercase().starts_with(d.as_str()))
        {
            left_out[i] += 1;
            continue;
        }
        entries.push(PlanEntry {
            // concat sizes the string exactly; format! would grow it.
            name: [folder.as_str(), "/", &f.dest].concat(),
            source: EntrySource::File {
                path: f.source,
                display: f.display,
                stamp: f.stamp,
            },
            size: f.size,
        });
    }
    let mut left_out_files = selection.left_out;
    add_static_urls(
        project,
        &folder,
        &mut entries,
        &mut left_out_files,
        &mut warnings,
    );
    for (folder, count) in project.manifest.iis.data_folders.iter().zip(left_out) {
        if count > 0 {
            warnings.push(format!(
                "{count} file(s) under data folder `{folder}` left out of the package: the server's copy is kept on redeploy (exclude them in [files] to silence this)"
            ));
        }
    }
    let gateway = match gateway_entry(project, &folder)? {
        Some((entry, bundled)) => {
            entries.push(entry);
            Some(bundled)
        }
        None => None,
    };
    if let Some(wheelhouse) = crate::wheelhouse::resolve(project)? {
        if let Some(own) = &wheelhouse.project_wheel {
            for (name, bytes) in [
                (own.file_name.as_str(), own.bytes.clone()),
                ("requirements.txt", own.requirements.clone().into_bytes()),
            ] {
                entries.push(PlanEntry {
                    name: format!("{folder}/wheelhouse/{name}"),
                    size: bytes.len() as u64,
                    source: EntrySource::Rendered {
                        what: format!("the project's wheel ({name})"),
                        bytes: bytes.into(),
                    },
                });
            }
        }
        for path in wheelhouse.files {
            if wheelhouse.project_wheel.is_some()
                && path.file_name().is_some_and(|n| n == "requirements.txt")
            {
                continue;
            }
            let meta = std::fs::metadata(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            entries.push(PlanEntry {
                name: format!("{folder}/wheelhouse/{file_name}"),
                source: EntrySource::File {
                    display: format!("(wheelhouse) {file_name}"),
                    stamp: Stamp::of(&meta),
                    path,
                },
                size: meta.len(),
            });
        }
    }
    for (i, script) in project.manifest.sql.iter().enumerate() {
        let source = project.root.join(&script.src);
        let at = KeyPath::root().key("sql").index(i).key("src");
        let meta = std::fs::metadata(&source)
            .ok()
            .filter(|m| m.is_file())
            .ok_or_else(|| {
                project
                    .error_at(
                        &at,
                        format!("SQL script `{}` does not exist", script.src.display()),
                    )
                    .with_help("the path is relative to iiswsgi.toml")
            })?;
        let name = script
            .package_path()
            .ok_or_else(|| Error::NonUtf8Path(source.clone()))?
            .to_string();
        entries.push(PlanEntry {
            name,
            source: EntrySource::File {
                display: script.src.to_string_lossy().replace('\\', "/"),
                path: source,
                stamp: Stamp::of(&meta),
            },
            size: meta.len(),
        });
    }
    for (doc_name, at_root, bytes) in documents {
        let name = if at_root {
            doc_name.clone()
        } else {
            format!("{folder}/{doc_name}")
        };
        entries.push(PlanEntry {
            name,
            size: bytes.len() as u64,
            source: EntrySource::Rendered {
                what: doc_name,
                bytes: bytes.into(),
            },
        });
    }

    warnings.extend(unpackaged_acl_paths(project, &folder, &entries));
    let mut folders = check_entries(&entries)?;
    // Data folders are packaged empty: Web Deploy makes them before its
    // setAcl entries and the install step run (which makes them too, for
    // packages copied some other way).
    for data in &project.manifest.iis.data_folders {
        let mut path = folder.clone();
        for part in data.trim_matches('/').split('/') {
            path = format!("{path}/{part}");
            let name = format!("{path}/");
            if entries.iter().any(|e| e.name.eq_ignore_ascii_case(&path)) {
                return Err(project
                    .error_at(
                        &KeyPath::root().key("iis").key("data-folders"),
                        format!("data folder `{data}`: the package has a file `{path}`"),
                    )
                    .with_help("a data folder cannot be a file; rename one of them")
                    .into());
            }
            if !folders.iter().any(|f| f.eq_ignore_ascii_case(&name)) {
                folders.push(name);
            }
        }
    }
    add_directories(&mut entries, folders, &folder);
    // Stable: the walk's order is nearly this one, and a merge sort finds
    // its runs (a quicksort does not).
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if entries.len() > MAX_ENTRIES {
        return Err(Error::TooManyEntries {
            count: entries.len(),
        });
    }
    Ok(BuildPlan {
        package_file,
        entries,
        warnings,
        left_out: left_out_files,
        listed: selection.listed,
        gateway,
    })
}

/// `[iis] static`: each URL path gets the files of its folder, so IIS's
/// static file handler finds them where the URL says (a web.config there,
/// rendered with the documents, removes the Python handler). The folder's
/// own copies stay: the app may read them (Django's manifest storage reads
/// STATIC_ROOT's staticfiles.json). Project files already at the URL's path
/// (Django's STATICFILES_DIRS `static/`, collectstatic's input) give way.
fn add_static_urls(
    project: &Project,
    folder: &str,
    entries: &mut Vec<PlanEntry>,
    left_out: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
) {
    for (url, from) in &project.manifest.iis.static_urls {
        let url_rel = url.trim_matches('/');
        let from_rel = from.trim_matches('/');
        if url_rel == from_rel {
            continue;
        }
        let source_prefix = format!("{folder}/{from_rel}/");
        let target_prefix = format!("{folder}/{url_rel}/");
        entries.retain(|e| {
            let replaced = e.name.starts_with(&target_prefix);
            if replaced {
                left_out.push((
                    e.name[folder.len() + 1..].to_owned(),
                    format!("[iis] static serves {url} from {from_rel}/ instead"),
                ));
            }
            !replaced
        });
        let copies: Vec<PlanEntry> = entries
            .iter()
            .filter(|e| e.name.starts_with(&source_prefix))
            .map(|e| PlanEntry {
                name: format!("{target_prefix}{}", &e.name[source_prefix.len()..]),
                source: e.source.clone(),
                size: e.size,
            })
            .collect();
        if copies.is_empty() {
            warnings.push(format!(
                "[iis] static `{url}`: no file of `{from}` is packaged (is the folder there, and selected?)"
            ));
        }
        entries.extend(copies);
    }
}

/// `[[set-acl]]` paths the package does not contain and no data folder
/// declares: Web Deploy's setAcl fails on a path that is not there, and a
/// redeploy deletes what the app made there.
fn unpackaged_acl_paths(project: &Project, folder: &str, entries: &[PlanEntry]) -> Vec<String> {
    let fold = |p: &str| p.trim_matches('/').to_ascii_lowercase();
    let data: Vec<String> = project
        .manifest
        .iis
        .data_folders
        .iter()
        .map(|d| fold(d))
        .collect();
    let mut warnings = Vec::new();
    for (i, acl) in project.manifest.set_acl.iter().enumerate() {
        let path = fold(&acl.path);
        if path.is_empty() {
            continue;
        }
        let in_package = format!("{}/{path}", folder.to_ascii_lowercase());
        let packaged = entries.iter().any(|e| {
            let name = e.name.trim_end_matches('/').to_ascii_lowercase();
            name == in_package || name.starts_with(&format!("{in_package}/"))
        });
        let declared = data
            .iter()
            .any(|d| path == *d || path.starts_with(&format!("{d}/")));
        if !packaged && !declared {
            let at = KeyPath::root().key("set-acl").index(i).key("path");
            let place = project
                .error_at(&at, "")
                .line_column()
                .map(|(l, c)| format!("{}:{l}:{c}: ", project.manifest_path.display()))
                .unwrap_or_default();
            warnings.push(format!(
                "{place}[[set-acl]] path `{}` is not in the package: Web Deploy's setAcl fails on a path that is not there, and a redeploy deletes what the app writes there; declare it in [iis] data-folders (made at install, given Modify, kept on redeploy)",
                acl.path
            ));
        }
    }
    warnings
}

/// (file name, at package root, bytes) of every generated document.
fn render_documents(
    project: &Project,
    renderer: &Renderer,
) -> Result<Vec<(String, bool, Vec<u8>)>, Error> {
    let base = context::base(project);
    let base_value = minijinja::Value::from_serialize(&base);
    let version = project.manifest.msdeploy.version;
    let mut run_commands = Vec::new();
    for (i, rc) in project.manifest.run_command.iter().enumerate() {
        let at = KeyPath::root().key("run-command").index(i).key("command");
        let command = renderer.render_inline(project, &at, &rc.command, &base_value)?;
        let settings = run_command::settings(rc);
        let provider_options = provider_options::encode(version, "runCommand", &command, &settings);
        run_commands.push(RunCommandView {
            command,
            settings: settings
                .into_iter()
                .map(|(name, value)| Setting { name, value })
                .collect(),
            provider_options,
        });
    }
    if let Some(rc) = crate::msdeploy::install_command::run_command(project) {
        let settings = run_command::settings(&rc);
        let provider_options =
            provider_options::encode(version, "runCommand", &rc.command, &settings);
        run_commands.push(RunCommandView {
            command: rc.command,
            settings: settings
                .into_iter()
                .map(|(name, value)| Setting { name, value })
                .collect(),
            provider_options,
        });
    }
    let mut setup_commands = Vec::new();
    for (i, run) in project.manifest.install.run.iter().enumerate() {
        let at = KeyPath::root()
            .key("install")
            .key("run")
            .index(i)
            .key("command");
        setup_commands.push(renderer.render_inline(project, &at, &run.command, &base_value)?);
    }
    let ctx = context::full(base, &run_commands);
    let mut out = Vec::new();
    for doc in Document::ALL {
        let text = renderer.render(doc, &ctx)?;
        out.push((
            doc.file_name().to_string(),
            doc.at_package_root(),
            text.into_bytes(),
        ));
    }
    // Folders IIS serves itself: the Python handler removed below them.
    let static_urls = project
        .manifest
        .iis
        .static_urls
        .keys()
        .map(|u| u.trim_matches('/').to_owned());
    for folder in project
        .manifest
        .iis
        .static_folders
        .iter()
        .map(|f| f.trim_matches('/').to_owned())
        .chain(static_urls)
    {
        let name = format!("{folder}/web.config");
        let text = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- Generated by iiswsgi {}: IIS serves {folder}/ itself, without Python. -->\n<configuration>\n  <system.webServer>\n    <handlers>\n      <remove name=\"{}-wsgi\" />\n    </handlers>\n  </system.webServer>\n</configuration>\n",
            env!("CARGO_PKG_VERSION"),
            project.app().name
        );
        out.push((name, false, text.into_bytes()));
    }
    if let Some(text) = install_file::render(&project.manifest, &setup_commands) {
        out.push((
            install_file::path_in_app(&project.manifest),
            false,
            text.into_bytes(),
        ));
    }
    let parameters = parameters_xml::render(&parameters_xml::effective_parameters(project));
    out.push(("Parameters.xml".to_string(), true, parameters.into_bytes()));
    Ok(out)
}

fn gateway_entry(
    project: &Project,
    folder: &str,
) -> Result<Option<(PlanEntry, GatewayBundled)>, Error> {
    let Some(g) = &project.manifest.gateway else {
        return Ok(None);
    };
    if g.builtin {
        let bytes = gateway::builtin::EXE;
        return Ok(Some((
            PlanEntry {
                name: format!("{folder}/{}", g.dest),
                source: EntrySource::Rendered {
                    what: gateway::builtin::DISPLAY.to_string(),
                    bytes: Arc::from(bytes),
                },
                size: bytes.len() as u64,
            },
            GatewayBundled {
                source: gateway::builtin::DISPLAY.to_string(),
                sha256: gateway::builtin::sha256().to_string(),
            },
        )));
    }
    let at = KeyPath::root().key("gateway");
    let (source, path) = match (&g.path, &g.url, &g.sha256) {
        (Some(path), _, _) => (project.root.join(path), path.clone()),
        (None, Some(url), Some(sha256)) => {
            let cached = gateway::download::fetch(url, sha256).map_err(|e| {
                let key = match e {
                    gateway::download::DownloadError::Mismatch { .. } => "sha256",
                    _ => "url",
                };
                project
                    .error_at(&at.key(key), format!("cannot use the gateway: {e}"))
                    .with_help(match key {
                        "sha256" => "check `url` and `sha256`; nothing was cached or bundled",
                        _ => "check the URL and the network; once downloaded, builds use the cache",
                    })
            })?;
            (cached, PathBuf::from(url))
        }
        _ => unreachable!("validation requires `path`, or `url` with `sha256`"),
    };
    // The stamp comes from the open file before it is read, like a build's.
    let read = |path: &Path| -> std::io::Result<(Vec<u8>, Option<Stamp>)> {
        let mut file = std::fs::File::open(path)?;
        let stamp = Stamp::of(&file.metadata()?);
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes)?;
        Ok((bytes, stamp))
    };
    let (bytes, stamp) = read(&source).map_err(|e| {
        project
            .error_at(
                &at.key("path"),
                format!("cannot read gateway `{}`: {e}", path.display()),
            )
            .with_help("the path is relative to iiswsgi.toml")
    })?;
    let pe = gateway::read_pe(&bytes).map_err(|e| {
        project
            .error_at(
                &at.key("path"),
                format!(
                    "gateway `{}` is not a Windows executable: {e}",
                    path.display()
                ),
            )
            .with_help("point `path` at the prebuilt FastCGI gateway .exe")
    })?;
    if pe.arch() != Some(g.arch) {
        let found = pe
            .arch()
            .map(gateway::arch_name)
            .map(str::to_string)
            .unwrap_or_else(|| format!("machine type 0x{:04x}", pe.machine));
        return Err(project
            .error_at(
                &at.key("arch"),
                format!(
                    "gateway `{}` is built for {found}, but arch = \"{}\"",
                    path.display(),
                    gateway::arch_name(g.arch)
                ),
            )
            .with_help(format!(
                "set arch = \"{found}\" or bundle the {} build",
                gateway::arch_name(g.arch)
            ))
            .into());
    }
    let display = path.to_string_lossy().replace('\\', "/");
    let bundled = GatewayBundled {
        source: display.clone(),
        sha256: crate::package::zip_writer::hex(&Sha256::digest(&bytes)),
    };
    Ok(Some((
        PlanEntry {
            name: format!("{folder}/{}", g.dest),
            source: EntrySource::File {
                path: source,
                display,
                stamp,
            },
            size: bytes.len() as u64,
        },
        bundled,
    )))
}

/// Windows rules, sizes and collisions, before folders are added. Returns
/// the folders that hold entries, each once, as folder entry names (with
/// the trailing `/`).
///
/// Every name is checked once: a folder is checked by the first entry in
/// it, and its parents (root first, as a path is read) before its own name.
fn check_entries(entries: &[PlanEntry]) -> Result<Vec<String>, Error> {
    let unsafe_name = |e: &PlanEntry, problem| Error::UnsafeName {
        source_name: e.source.describe(),
        package_path: e.name.clone(),
        problem,
    };
    // XXH3 rather than SipHash: the keys are the project's own names (no
    // flooding to fear), and hashing them is much of a no-op build's planning.
    let mut seen: HashMap<Cow<str>, &PlanEntry, Xxh3DefaultBuilder> =
        HashMap::with_capacity_and_hasher(entries.len(), Xxh3DefaultBuilder);
    let mut met: HashSet<&str, Xxh3DefaultBuilder> = HashSet::with_hasher(Xxh3DefaultBuilder);
    // Folders in the order first met, with the entry that met them.
    let mut folders: Vec<(&str, &PlanEntry)> = Vec::new();
    for e in entries {
        let (mut parent, file_name) = match e.name.rsplit_once('/') {
            Some((parent, name)) => (Some(parent), name),
            None => (None, e.name.as_str()),
        };
        let new_folders = folders.len();
        while let Some(folder) = parent.filter(|f| met.insert(f)) {
            folders.push((folder, e));
            parent = folder.rsplit_once('/').map(|(up, _)| up);
        }
        for (folder, _) in folders[new_folders..].iter().rev() {
            let name = folder.rsplit_once('/').map_or(*folder, |(_, name)| name);
            windows_path::check_component(name).map_err(|p| unsafe_name(e, p))?;
        }
        windows_path::check_component(file_name)
            .and_then(|()| windows_path::check_installed_length(&e.name))
            .map_err(|p| unsafe_name(e, p))?;
        if e.size > MAX_FILE_SIZE {
            return Err(Error::FileTooLarge {
                source_name: e.source.describe(),
                size: e.size,
            });
        }
        if let Some(other) = seen.insert(windows_path::case_fold(&e.name), e) {
            return Err(Error::Collision {
                first: other.source.describe(),
                first_path: other.name.clone(),
                second: e.source.describe(),
                second_path: e.name.clone(),
            });
        }
    }
    // A file and a folder of the same name (`a` and `a/b`) cannot coexist
    // either.
    for (folder, e) in &folders {
        if let Some(file) = seen.get(&windows_path::case_fold(folder)) {
            return Err(Error::Collision {
                first: file.source.describe(),
                first_path: file.name.clone(),
                second: e.source.describe(),
                second_path: e.name.clone(),
            });
        }
    }
    Ok(folders.iter().map(|(f, _)| [f, "/"].concat()).collect())
}

/// Adds folder entries for the app folder and every folder holding a file
/// (msdeploy writes them too; some unzip tools need them for empty folders).
fn add_directories(entries: &mut Vec<PlanEntry>, mut folders: Vec<String>, app_folder: &str) {
    // The app folder is one name (validated), so it has no parents to add.
    let app_folder = format!("{app_folder}/");
    if !folders.contains(&app_folder) {
        folders.push(app_folder);
    }
    entries.reserve_exact(folders.len());
    entries.extend(folders.into_iter().map(|name| PlanEntry {
        name,
        source: EntrySource::Directory,
        size: 0,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> PlanEntry {
        PlanEntry {
            name: name.to_string(),
            source: EntrySource::File {
                path: PathBuf::from(name),
                display: name.to_string(),
                stamp: None,
            },
            size: 1,
        }
    }

    #[test]
    fn every_folder_of_every_file_once() {
        let names = [
            "App/a/b/c/one.py",
            "App/a/b/two.py",
            "App/a/x/three.py",
            "App/z.py",
            "Manifest.xml",
            "App/a/b/c/d/e/four.py",
            "App/q/five.py",
        ];
        let mut entries: Vec<PlanEntry> = names.iter().map(|n| file(n)).collect();
        let folders = check_entries(&entries).unwrap();
        add_directories(&mut entries, folders, "App");
        let mut got: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        got.sort();
        // The plain rule: every prefix ending before a `/`, each once.
        let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        for n in names {
            for (i, _) in n.match_indices('/') {
                want.push(format!("{}/", &n[..i]));
            }
        }
        want.sort();
        want.dedup();
        assert_eq!(got, want);
    }

    #[test]
    fn the_app_folder_is_there_even_when_empty() {
        let mut entries = vec![file("Manifest.xml")];
        let folders = check_entries(&entries).unwrap();
        add_directories(&mut entries, folders, "App");
        assert_eq!(entries[1].name, "App/");
    }

    #[test]
    fn a_bad_folder_is_named_by_the_first_file_in_it_outermost_first() {
        let entries = vec![
            file("App/ok.py"),
            file("App/CON/aux/x.py"),
            file("App/CON/y.py"),
        ];
        match check_entries(&entries) {
            Err(Error::UnsafeName {
                package_path,
                problem,
                ..
            }) => {
                assert_eq!(package_path, "App/CON/aux/x.py");
                assert_eq!(problem, windows_path::NameProblem::Reserved("CON".into()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_folder_and_a_file_equal_but_for_case_collide() {
        let entries = vec![file("App/Lib"), file("App/lib/x.py")];
        match check_entries(&entries) {
            Err(Error::Collision {
                first_path,
                second_path,
                ..
            }) => assert_eq!((&*first_path, &*second_path), ("App/Lib", "App/lib/x.py")),
            other => panic!("{other:?}"),
        }
    }
}
