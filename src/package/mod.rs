//! Writing the package: the zip, its checksums, atomically.

pub mod dos_time;
pub mod zip_writer;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::plan::{BuildPlan, EntrySource};

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReport {
    pub path: PathBuf,
    pub sha256_path: PathBuf,
    pub entries: usize,
    pub size: u64,
    pub sha1: String,
    pub sha256: String,
}

/// Receives progress while entries are written.
pub trait Progress {
    fn start(&self, total_bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

/// Progress that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// The timestamp every entry carries: `SOURCE_DATE_EPOCH` if set, else
/// [`dos_time::DEFAULT_EPOCH`] (1980-01-01), so builds are reproducible either way.
pub fn source_date_epoch() -> Result<i64, Error> {
    Ok(source_date_epoch_var()?.unwrap_or(dos_time::DEFAULT_EPOCH))
}

/// `SOURCE_DATE_EPOCH` if it is set (and not empty).
pub fn source_date_epoch_var() -> Result<Option<i64>, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| Error::BadSourceDateEpoch(v)),
        _ => Ok(None),
    }
}

/// Writes `plan` to `out_dir/<package file>` and its `.sha256` beside it.
///
/// Both files are written to temporary files in `out_dir`, flushed to disk
/// and renamed into place, so an interrupted or failed build leaves the
/// previous package untouched and never a partial one under the final name.
pub fn write(
    plan: &BuildPlan,
    out_dir: &Path,
    epoch: i64,
    progress: &dyn Progress,
) -> Result<PackageReport, Error> {
    std::fs::create_dir_all(out_dir).map_err(|source| Error::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let path = out_dir.join(&plan.package_file);
    let io_err = |source| Error::Io {
        path: path.clone(),
        source,
    };
    remove_stale_temporaries(out_dir, &plan.package_file);
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", plan.package_file))
        .suffix(".tmp")
        .tempfile_in(out_dir)
        .map_err(io_err)?;
    let total: u64 = plan.entries.iter().map(|e| e.size).sum();
    progress.start(total);
    let mut zip = zip_writer::ZipWriter::new(BufWriter::new(tmp), dos_time::dos_datetime(epoch));
    for entry in &plan.entries {
        let zip_err = |e| Error::Zip {
            path: path.clone(),
            source: e,
        };
        match &entry.source {
            EntrySource::Directory => zip.add_directory(&entry.name).map_err(zip_err)?,
            EntrySource::File { path: src, .. } => {
                let file = File::open(src).map_err(|source| Error::Io {
                    path: src.clone(),
                    source,
                })?;
                let compressed = zip_writer::compress(file).map_err(|source| Error::Io {
                    path: src.clone(),
                    source,
                })?;
                if compressed.size() != entry.size {
                    return Err(Error::ChangedDuringBuild(src.clone()));
                }
                zip.add_file(&entry.name, compressed).map_err(zip_err)?;
            }
            EntrySource::Rendered { bytes, .. } => {
                let compressed = zip_writer::compress(&bytes[..]).map_err(io_err)?;
                zip.add_file(&entry.name, compressed).map_err(zip_err)?;
            }
        }
        progress.advance(entry.size);
    }
    let (buffered, digests) = zip.finish().map_err(|e| Error::Zip {
        path: path.clone(),
        source: e,
    })?;
    let tmp = buffered.into_inner().map_err(|e| io_err(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io_err)?;
    progress.finish();

    let sha256_path = out_dir.join(format!("{}.sha256", plan.package_file));
    let sums = format!("{}  {}\n", digests.sha256, plan.package_file);
    tmp.persist(&path).map_err(|e| io_err(e.error))?;
    write_atomically(&sha256_path, sums.as_bytes())?;
    Ok(PackageReport {
        path,
        sha256_path,
        entries: plan.entries.len(),
        size: digests.size,
        sha1: digests.sha1,
        sha256: digests.sha256,
    })
}

/// Removes temporary files a killed earlier build of the same package left
/// behind (`.<package>.XXXXXX.tmp`, and those of its `.sha256`).
fn remove_stale_temporaries(out_dir: &Path, package_file: &str) {
    let prefix = format!(".{package_file}.");
    let Ok(entries) = std::fs::read_dir(out_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err)?;
    tmp.write_all(bytes).map_err(io_err)?;
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}
