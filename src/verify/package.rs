//! Opening a package to install it: every entry name checked before a
//! byte is written (no `..`, no absolute names, no drive letters, nothing
//! Windows cannot hold), sizes checked against limits before and while
//! inflating (a zip bomb stops at its declared size or the limit), and the
//! whole laid out in a folder of the caller's.

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
        "{package}: no Manifest.xml at the package root: this is not a Web Deploy (Web App Gallery) package"
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

/// What was laid out.
#[derive(Debug)]
pub struct Unpacked {
    pub root: PathBuf,
    pub files: Vec<String>,
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
    let mut has_manifest = false;
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
        has_manifest |= name.eq_ignore_ascii_case("Manifest.xml");
    }
    if total > MAX_TOTAL {
        return Err(PackageError::TooLarge {
            package: label,
            total,
        });
    }
    if !has_manifest {
        return Err(PackageError::NoManifest { package: label });
    }
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
    })
}
