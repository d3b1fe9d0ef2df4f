//! The build plan: every entry of the package, decided and checked before
//! anything is written. `iiswsgi build --plan` prints it; `build` writes it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Error;
use crate::files::{self, windows_path};
use crate::gateway;
use crate::manifest::{KeyPath, Project};
use crate::msdeploy::{parameters_xml, provider_options, run_command};
use crate::render::context::{self, RunCommandView, Setting};
use crate::render::{Document, Renderer};

/// Web Deploy refuses packages with more files than this.
pub const MAX_ENTRIES: usize = 65_535;
/// Web Deploy's per-file limit: 2 GiB - 1 bytes.
pub const MAX_FILE_SIZE: u64 = (2 << 30) - 1;

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
pub enum EntrySource {
    /// A folder entry.
    Directory,
    /// A project file; `display` is its path relative to iiswsgi.toml.
    File { path: PathBuf, display: String },
    /// A document iiswsgi produced (Manifest.xml, Parameters.xml, ...).
    Rendered { what: String, bytes: Arc<[u8]> },
}

impl EntrySource {
    /// How the source is named in listings and errors.
    pub fn describe(&self) -> String {
        match self {
            EntrySource::Directory => "(folder)".to_string(),
            EntrySource::File { display, .. } => display.clone(),
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
}

/// The package file name for an app.
pub fn package_file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.msdeploy.zip")
}

/// Renders the documents and selects the files of `project`.
pub fn plan(project: &Project, out_dir: &Path) -> Result<BuildPlan, Error> {
    let app = project.app();
    let folder = project.app_folder().to_string();
    let renderer = Renderer::new(project)?;
    let documents = render_documents(project, &renderer)?;

    let selection = files::select(project, out_dir)?;
    let mut entries: Vec<PlanEntry> = Vec::new();
    for f in selection.files {
        entries.push(PlanEntry {
            name: format!("{folder}/{}", f.dest),
            source: EntrySource::File {
                path: f.source,
                display: f.display,
            },
            size: f.size,
        });
    }
    if let Some(entry) = gateway_entry(project, &folder)? {
        entries.push(entry);
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

    check_entries(&entries)?;
    add_directories(&mut entries, &folder);
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if entries.len() > MAX_ENTRIES {
        return Err(Error::TooManyEntries {
            count: entries.len(),
        });
    }
    Ok(BuildPlan {
        package_file: package_file_name(&app.name, &app.version),
        entries,
        warnings: selection.warnings,
    })
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
    let parameters = parameters_xml::render(&parameters_xml::effective_parameters(project));
    out.push(("Parameters.xml".to_string(), true, parameters.into_bytes()));
    Ok(out)
}

fn gateway_entry(project: &Project, folder: &str) -> Result<Option<PlanEntry>, Error> {
    let Some(g) = &project.manifest.gateway else {
        return Ok(None);
    };
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
    let bytes = std::fs::read(&source).map_err(|e| {
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
    Ok(Some(PlanEntry {
        name: format!("{folder}/{}", g.dest),
        source: EntrySource::File {
            path: source,
            display: path.to_string_lossy().replace('\\', "/"),
        },
        size: bytes.len() as u64,
    }))
}

/// Windows rules, sizes and collisions, before folders are added.
fn check_entries(entries: &[PlanEntry]) -> Result<(), Error> {
    let mut seen: HashMap<String, &PlanEntry> = HashMap::new();
    for e in entries {
        if let Err(problem) = windows_path::check_package_path(&e.name) {
            return Err(Error::UnsafeName {
                source_name: e.source.describe(),
                package_path: e.name.clone(),
                problem,
            });
        }
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
    // A file and a folder of the same name (`a` and `a/b`) cannot coexist either.
    for e in entries {
        let mut prefix = e.name.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if let Some(file) = seen.get(&windows_path::case_fold(parent)) {
                return Err(Error::Collision {
                    first: file.source.describe(),
                    first_path: file.name.clone(),
                    second: e.source.describe(),
                    second_path: e.name.clone(),
                });
            }
            prefix = parent;
        }
    }
    Ok(())
}

/// Adds folder entries for the app folder and every folder holding a file
/// (msdeploy writes them too; some unzip tools need them for empty folders).
fn add_directories(entries: &mut Vec<PlanEntry>, folder: &str) {
    let mut dirs = std::collections::BTreeSet::new();
    dirs.insert(format!("{folder}/"));
    for e in entries.iter() {
        let mut path = e.name.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            dirs.insert(format!("{parent}/"));
            path = parent;
        }
    }
    entries.extend(dirs.into_iter().map(|name| PlanEntry {
        name,
        source: EntrySource::Directory,
        size: 0,
    }));
}
