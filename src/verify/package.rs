//! Opening a package to install it: every entry name checked before a
//! byte is written (no `..`, no absolute names, no drive letters, nothing
//! Windows cannot hold), sizes checked against limits before and while
//! inflating (a zip bomb stops at its declared size or the limit), and the
//! whole laid out in a folder of the caller's.
//!
//! Two kinds of package are read: Web App Gallery packages (this tool's:
//! `Manifest.xml` and `Parameters.xml` at the root, each app in a folder
//! named by its iisApp path) and archive packages (`msdeploy
//! -dest:package`, Visual Studio, `dotnet publish`: `archive.xml`,
//! `parameters.xml`, the content under `Content/` with the source's
//! absolute paths, `D:\site` stored as `Content/D_C/site`).

use std::io::Read;
use std::path::{Path, PathBuf};

/// Most bytes a package may inflate to in all.
pub const MAX_TOTAL: u64 = 8 << 30;
/// Largest ratio of inflated to stored size accepted for an entry over 1 MiB.
pub const MAX_RATIO: u64 = 1000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PackageError {
    #[error("{0}: not a zip package: {1}")]
    NotZip(String, String),
    #[error("{package}: entry {name:?} is refused before anything is extracted: {why}")]
    UnsafeName {
        package: String,
        name: String,
        why: String,
    },
    #[error(
        "{package}: entry {name:?} claims {size} bytes from {compressed} stored, more than {MAX_RATIO}:1: refused as a zip bomb"
    )]
    Bomb {
        package: String,
        name: String,
        size: u64,
        compressed: u64,
    },
    #[error("{package}: the entries would inflate to {total} bytes, more than the {} GiB allowed", MAX_TOTAL >> 30)]
    TooLarge { package: String, total: u64 },
    #[error(
        "{package}: entry {name:?} inflated past the size its header gives ({size} bytes): a damaged or hostile zip"
    )]
    Overrun {
        package: String,
        name: String,
        size: u64,
    },
    #[error(
        "{package}: no Manifest.xml or archive.xml at the package root: this is not a Web Deploy package"
    )]
    NoManifest { package: String },
    #[error("{package}: {0}", package = .1)]
    Io(String, String),
}

/// Why a zip entry name cannot be laid out safely, if it cannot.
pub fn unsafe_name(name: &str) -> Option<String> {
    let n = name.replace('\\', "/");
    if n.starts_with('/') {
        return Some("it is an absolute path".into());
    }
    if n.len() >= 2 && n.as_bytes()[1] == b':' {
        return Some("it names a drive".into());
    }
    if n.contains('\0') {
        return Some("it holds a NUL byte".into());
    }
    if n.split('/').any(|c| c == "..") {
        return Some("it climbs out of the package with `..`".into());
    }
    None
}

/// Which of the two package layouts a zip has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `Manifest.xml` (Web App Gallery; this tool writes these).
    Gallery,
    /// `archive.xml` (msdeploy -dest:package).
    Archive,
}

impl Layout {
    /// The manifest's file name.
    pub fn manifest(self) -> &'static str {
        match self {
            Layout::Gallery => "Manifest.xml",
            Layout::Archive => "archive.xml",
        }
    }

    /// The path of the package entry `rel` (`/`-separated) as msdeploy's
    /// parameter scopes see it: the path inside the package in Windows
    /// form for a gallery package (`FlaskIISApp\web.config`), the source's
    /// absolute path for an archive (`Content/D_C/site/Web.config` is
    /// `D:\site\Web.config`), which is what msdeploy matches scopes of
    /// such packages against (their `parameters.xml` says
    /// `D:\\site\\Web\.config$`).
    pub fn scope_path(self, rel: &str) -> String {
        if self == Layout::Archive
            && let Some(rest) = rel.strip_prefix("Content/")
        {
            // A source with no drive (an IIS path such as `Default Web
            // Site/App`) is stored under its own name.
            return archive_source_path(rest).unwrap_or_else(|| rest.replace('/', "\\"));
        }
        rel.replace('/', "\\")
    }

    /// Where the content of the provider path `path` (an iisApp's or
    /// contentPath's, as the manifest gives it) lies in the package.
    pub fn content_folder(self, path: &str) -> String {
        match self {
            Layout::Gallery => path.replace('\\', "/").trim_end_matches('/').to_string(),
            Layout::Archive => {
                let path = path.replace('\\', "/");
                let path = path.trim_end_matches('/');
                let b = path.as_bytes();
                if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
                    format!("Content/{}_C{}", &path[..1], &path[2..])
                } else {
                    format!("Content/{}", path.trim_start_matches('/'))
                }
            }
        }
    }
}

/// `D_C/site/x` → `D:\site\x`: msdeploy stores the drive letter `D:` of a
/// source path as the folder `D_C`.
fn archive_source_path(rest: &str) -> Option<String> {
    let (drive, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let letter = drive.strip_suffix("_C")?;
    if letter.len() != 1 || !letter.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    Some(format!("{letter}:\\{}", tail.replace('/', "\\")))
}

/// What was laid out.
#[derive(Debug)]
pub struct Unpacked {
    pub root: PathBuf,
    pub files: Vec<String>,
    pub layout: Layout,
}

impl Unpacked {
    /// A file at the package root, whichever case its writer gave the name
    /// (`Parameters.xml` or `parameters.xml`, `archive.xml` ...).
    pub fn root_file(&self, name: &str) -> Option<PathBuf> {
        self.files
            .iter()
            .find(|f| f.eq_ignore_ascii_case(name))
            .map(|f| self.root.join(f))
    }

    /// The manifest (`Manifest.xml` or `archive.xml`, by the layout).
    pub fn manifest_file(&self) -> Option<PathBuf> {
        self.root_file(self.layout.manifest())
    }

    /// The package's parameter declarations file.
    pub fn parameters_file(&self) -> Option<PathBuf> {
        self.root_file("parameters.xml")
    }
}

/// Checks every entry of `package`, then extracts them under `into`.
pub fn unpack(package: &Path, into: &Path) -> Result<Unpacked, PackageError> {
    let label = package.display().to_string();
    let file =
        std::fs::File::open(package).map_err(|e| PackageError::Io(e.to_string(), label.clone()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| PackageError::NotZip(label.clone(), e.to_string()))?;
    // First pass: names and sizes from the central directory only.
    let mut total = 0u64;
    let mut layout = None;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| PackageError::NotZip(label.clone(), e.to_string()))?;
        let name = entry.name().to_string();
        if let Some(why) = unsafe_name(&name) {
            return Err(PackageError::UnsafeName {
                package: label,
                name,
                why,
            });
        }
        let (size, compressed) = (entry.size(), entry.compressed_size());
        if size > 1 << 20 && size > compressed.saturating_mul(MAX_RATIO) {
            return Err(PackageError::Bomb {
                package: label,
                name,
                size,
                compressed,
            });
        }
        total = total.saturating_add(size);
        if name.eq_ignore_ascii_case("Manifest.xml") {
            layout = Some(Layout::Gallery);
        } else if name.eq_ignore_ascii_case("archive.xml") && layout.is_none() {
            layout = Some(Layout::Archive);
        }
    }
    if total > MAX_TOTAL {
        return Err(PackageError::TooLarge {
            package: label,
            total,
        });
    }
    let Some(layout) = layout else {
        return Err(PackageError::NoManifest { package: label });
    };
    // Second pass: inflate each, never past its declared size.
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| PackageError::NotZip(label.clone(), e.to_string()))?;
        let name = entry.name().replace('\\', "/");
        let path = into.join(&name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&path)
                .map_err(|e| PackageError::Io(e.to_string(), label.clone()))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| PackageError::Io(e.to_string(), label.clone()))?;
        }
        let size = entry.size();
        let mut out = std::fs::File::create(&path)
            .map_err(|e| PackageError::Io(e.to_string(), label.clone()))?;
        let copied = std::io::copy(&mut (&mut entry).take(size + 1), &mut out)
            .map_err(|e| PackageError::Io(format!("{name}: {e}"), label.clone()))?;
        if copied > size {
            return Err(PackageError::Overrun {
                package: label,
                name,
                size,
            });
        }
        files.push(name);
    }
    Ok(Unpacked {
        root: into.to_owned(),
        files,
        layout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_are_the_sources_as_msdeploy_stores_them() {
        assert_eq!(
            Layout::Archive.scope_path("Content/D_C/First Asp/PackageTmp/Web.config"),
            r"D:\First Asp\PackageTmp\Web.config"
        );
        assert_eq!(
            Layout::Archive.content_folder(r"D:\First Asp\PackageTmp"),
            "Content/D_C/First Asp/PackageTmp"
        );
        assert_eq!(
            Layout::Gallery.scope_path("FlaskIISApp/web.config"),
            r"FlaskIISApp\web.config"
        );
        // Not a drive folder: an IIS path, as Web Deploy 1.0 stored one.
        assert_eq!(
            Layout::Archive.scope_path("Content/Default Web Site/App/web.config"),
            r"Default Web Site\App\web.config"
        );
        assert_eq!(
            Layout::Archive.content_folder("Default Web Site/App"),
            "Content/Default Web Site/App"
        );
        assert_eq!(
            Layout::Archive.content_folder(r"C:\Out\"),
            "Content/C_C/Out"
        );
        assert_eq!(Layout::Archive.scope_path("archive.xml"), "archive.xml");
    }
}
