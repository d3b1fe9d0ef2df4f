//! Writing the package: the zip, its checksums, atomically.

pub mod dos_time;
pub mod encode;
pub mod fingerprint;
pub mod ordered_pool;
pub mod previous;
pub mod zip_writer;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Error;
use crate::files::stamp::Stamp;
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
    /// The gateway exe inside, and its SHA-256.
    pub gateway: Option<crate::plan::GatewayBundled>,
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

/// The folder an app's package is written to and read from: `--out-dir`
/// (relative to the current folder) or `dist/` beside its iiswsgi.toml.
pub fn out_dir(app: &crate::manifest::Project, arg: Option<&Path>) -> PathBuf {
    match arg {
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
        None => app.root.join(crate::files::DEFAULT_OUT_DIR),
    }
}

/// The timestamp every entry carries: `SOURCE_DATE_EPOCH` if set, else
/// [`dos_time::DEFAULT_EPOCH`] (1980-01-01), so builds are reproducible either way.
pub fn source_date_epoch() -> Result<i64, Error> {
    Ok(source_date_epoch_var()?.unwrap_or(dos_time::DEFAULT_EPOCH))
}

/// The time a feed is dated: `SOURCE_DATE_EPOCH` if set (reproducible),
/// else now (a feed says when it was updated).
pub fn source_date_epoch_or_now() -> Result<i64, Error> {
    Ok(source_date_epoch_var()?.unwrap_or_else(crate::calendar::now))
}

/// `SOURCE_DATE_EPOCH` if it is set (and not empty).
fn source_date_epoch_var() -> Result<Option<i64>, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| Error::BadSourceDateEpoch(v)),
        _ => Ok(None),
    }
}

/// How to build.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Worker threads (default: one per core).
    pub threads: Option<usize>,
    /// Rebuild even when nothing changed.
    pub force: bool,
}

/// Whether the package was written or found up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written; `copied` entries were copied from the previous package
    /// (previous.rs) rather than deflated again.
    Built {
        report: PackageReport,
        copied: usize,
    },
    Fresh(PackageReport),
}

/// Writes `plan` to `out_dir/<package file>` and its `.sha256` beside it,
/// unless the package there was built from exactly these inputs.
///
/// Entries are encoded on worker threads and written in plan order, so the
/// bytes do not depend on the thread count. Both files are written to
/// temporary files in `out_dir`, flushed to disk and renamed into place, so
/// an interrupted or failed build leaves the previous package untouched and
/// never a partial one under the final name.
pub fn write(
    plan: &BuildPlan,
    out_dir: &Path,
    epoch: i64,
    options: WriteOptions,
    progress: &dyn Progress,
) -> Result<Outcome, Error> {
    let threads = ordered_pool::threads(options.threads);
    let started_ns = crate::files::stamp::now_ns();
    // `--force` neither checks nor copies: it builds from scratch.
    let record = if options.force {
        None
    } else {
        fingerprint::read(out_dir, plan)
    };
    if let Some(text) = &record
        && let Some(report) =
            fingerprint::up_to_date(plan, text, out_dir, epoch, threads, started_ns)?
    {
        return Ok(Outcome::Fresh(report));
    }
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
    let previous = record.and_then(|text| previous::Previous::open(plan, &text, out_dir));
    let copied = AtomicUsize::new(0);
    let tmp = temp_beside(out_dir, &plan.package_file).map_err(io_err)?;
    let total: u64 = plan.entries.iter().map(|e| e.size).sum();
    progress.start(total);
    let mut zip = zip_writer::ZipWriter::new(BufWriter::new(tmp), dos_time::dos_datetime(epoch));
    let mut hashes = Vec::with_capacity(plan.entries.len());
    let mut stamps = Vec::with_capacity(plan.entries.len());
    let zip_err = |e| Error::Zip {
        path: path.clone(),
        source: e,
    };
    ordered_pool::run(
        plan.entries.len(),
        threads,
        threads * 2,
        |i| {
            let entry = &plan.entries[i];
            if let (
                Some(previous),
                EntrySource::File {
                    path: source,
                    stamp,
                    ..
                },
            ) = (&previous, &entry.source)
                && let Some(encoded) = previous.reuse(i, &entry.name, source)
            {
                if encoded.method == encode::Method::Deflated {
                    copied.fetch_add(1, Ordering::Relaxed);
                }
                // Unchanged since the previous build: by its stamp, the
                // one the plan took.
                return Ok(Some((encoded, *stamp)));
            }
            encode_entry(&entry.source, &entry.name, &path)
        },
        |i, encoded| {
            let entry = &plan.entries[i];
            let Some((encoded, stamp)) = encoded else {
                hashes.push(None);
                stamps.push(None);
                return zip.add_directory(&entry.name).map_err(zip_err);
            };
            hashes.push(Some((encoded.size, encoded.content_hash)));
            stamps.push(stamp);
            match &entry.source {
                EntrySource::File { path: src, .. } => {
                    if encoded.size != entry.size {
                        return Err(Error::ChangedDuringBuild(src.clone()));
                    }
                    let mut source = Lazy::new(src);
                    zip.add_file(&entry.name, encoded, &mut source)
                        .map_err(|e| match e {
                            zip_writer::ZipError::SourceChanged(_) => {
                                Error::ChangedDuringBuild(src.clone())
                            }
                            e => zip_err(e),
                        })?;
                }
                EntrySource::Rendered { bytes, .. } => {
                    zip.add_file(&entry.name, encoded, &mut &bytes[..])
                        .map_err(zip_err)?;
                }
                EntrySource::Directory => unreachable!("folders are not encoded"),
            }
            progress.advance(entry.size);
            Ok(())
        },
    )?;
    let (buffered, digests) = zip.finish().map_err(zip_err)?;
    let tmp = buffered.into_inner().map_err(|e| io_err(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io_err)?;
    progress.finish();

    let sha256_path = out_dir.join(format!("{}.sha256", plan.package_file));
    let sums = format!("{}  {}\n", digests.sha256, plan.package_file);
    // The record goes first: a build killed between the renames below
    // leaves a record that matches no package, so the next build rebuilds.
    let _ = std::fs::remove_file(fingerprint::record_path(out_dir, &plan.package_file));
    tmp.persist(&path).map_err(|e| io_err(e.error))?;
    write_atomically(&sha256_path, sums.as_bytes())?;
    let report = PackageReport {
        path,
        sha256_path,
        entries: plan.entries.len(),
        size: digests.size,
        sha1: digests.sha1,
        sha256: digests.sha256,
        gateway: plan.gateway.clone(),
    };
    fingerprint::save(out_dir, plan, epoch, &hashes, &stamps, started_ns, &report)?;
    Ok(Outcome::Built {
        report,
        copied: copied.into_inner(),
    })
}

/// Encodes one entry on a worker thread; `None` for folders. A file's stat
/// stamp is taken from the open file before it is read, for the no-op check.
fn encode_entry(
    source: &EntrySource,
    name: &str,
    package: &Path,
) -> Result<Option<(encode::EncodedEntry, Option<Stamp>)>, Error> {
    match source {
        EntrySource::Directory => Ok(None),
        EntrySource::File { path: src, .. } => {
            let io = |source| Error::Io {
                path: src.clone(),
                source,
            };
            let file = File::open(src).map_err(io)?;
            let stamp = file.metadata().ok().and_then(|m| Stamp::of(&m));
            let encoded = encode::encode(name, file).map_err(io)?;
            Ok(Some((encoded, stamp)))
        }
        EntrySource::Rendered { bytes, .. } => encode::encode(name, &bytes[..])
            .map(|e| Some((e, None)))
            .map_err(|source| Error::Io {
                path: package.to_path_buf(),
                source,
            }),
    }
}

/// A file opened only when a stored entry's bytes are read again, so
/// deflated entries cost no second open.
struct Lazy<'a> {
    path: &'a Path,
    file: Option<File>,
}

impl<'a> Lazy<'a> {
    fn new(path: &'a Path) -> Self {
        Lazy { path, file: None }
    }
}

impl std::io::Read for Lazy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.file.is_none() {
            self.file = Some(File::open(self.path)?);
        }
        self.file.as_mut().expect("opened above").read(buf)
    }
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

/// A temporary file in `dir` that will be renamed to `name`
/// (`.<name>.XXXXXX.tmp`, which [`remove_stale_temporaries`] knows).
///
/// Created as any output file is, 0666 less the umask, not with tempfile's
/// private 0600: packages, checksums and feeds are copied to and served by
/// web servers, which must be able to read them.
fn temp_beside(dir: &Path, name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
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
    let mut tmp = temp_beside(dir, &name).map_err(io_err)?;
    tmp.write_all(bytes).map_err(io_err)?;
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}
