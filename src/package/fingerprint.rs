//! No-op rebuilds: what went into a package, recorded beside it, so that the
//! next `build` can tell nothing changed and leave the package alone.
//!
//! The record (`dist/.<package>.inputs`) lists the tool version, the entry
//! timestamp, and every entry's name, size and XXH3-128 of its content
//! (rendered documents included, so a manifest or template change shows),
//! then the package's size, modification time and digests. The check hashes
//! every input again, so a changed byte anywhere rebuilds, even with the same
//! size and mtime; and a package or `.sha256` that was touched since rebuilds.
//! Hashing reads the inputs once at several GB/s per core, far less work than
//! deflating them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::{PackageReport, encode, ordered_pool};
use crate::error::Error;
use crate::plan::{BuildPlan, EntrySource};

const HEADER: &str = "iiswsgi build inputs v1";

/// Where the record of `package_file` lives.
pub fn record_path(out_dir: &Path, package_file: &str) -> PathBuf {
    out_dir.join(format!(".{package_file}.inputs"))
}

/// The inputs part of a record, from each entry's size and content hash
/// (`None` for folders).
pub fn inputs_text(plan: &BuildPlan, epoch: i64, hashes: &[Option<(u64, u128)>]) -> String {
    let mut text = format!(
        "{HEADER}\ntool\t{}\nepoch\t{epoch}\npackage\t{}\n",
        env!("CARGO_PKG_VERSION"),
        plan.package_file
    );
    for (entry, hash) in plan.entries.iter().zip(hashes) {
        match hash {
            Some((size, h)) => text.push_str(&format!("entry\t{}\t{size}\t{h:032x}\n", entry.name)),
            None => text.push_str(&format!("entry\t{}\tdir\n", entry.name)),
        }
    }
    text
}

fn output_line(report: &PackageReport) -> Option<String> {
    let modified = std::fs::metadata(&report.path).ok()?.modified().ok()?;
    let nanos = modified.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some(format!(
        "output\t{}\t{nanos}\t{}\t{}\n",
        report.size, report.sha1, report.sha256
    ))
}

/// Records what `report`'s package was built from.
pub fn save(out_dir: &Path, inputs: &str, report: &PackageReport) -> Result<(), Error> {
    let path = record_path(
        out_dir,
        &report
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
    );
    match output_line(report) {
        Some(line) => super::write_atomically(&path, format!("{inputs}{line}").as_bytes()),
        None => Ok(()),
    }
}

/// The package, if it is up to date: its record matches the inputs as they
/// are now, and the package and `.sha256` are as that build left them.
pub fn up_to_date(
    plan: &BuildPlan,
    out_dir: &Path,
    epoch: i64,
    threads: usize,
) -> Result<Option<PackageReport>, Error> {
    let Ok(record) = std::fs::read_to_string(record_path(out_dir, &plan.package_file)) else {
        return Ok(None);
    };
    let Some((recorded_inputs, output)) = record
        .strip_suffix('\n')
        .and_then(|r| r.rsplit_once('\n'))
        .map(|(inputs, last)| (format!("{inputs}\n"), last))
    else {
        return Ok(None);
    };
    let fields: Vec<&str> = output.split('\t').collect();
    let [_, size, _, sha1, sha256] = fields[..] else {
        return Ok(None);
    };
    let path = out_dir.join(&plan.package_file);
    let sha256_path = out_dir.join(format!("{}.sha256", plan.package_file));
    let report = PackageReport {
        path: path.clone(),
        sha256_path: sha256_path.clone(),
        entries: plan.entries.len(),
        size: size.parse().unwrap_or(u64::MAX),
        sha1: sha1.to_string(),
        sha256: sha256.to_string(),
    };
    let sums_intact = std::fs::read_to_string(&sha256_path)
        .is_ok_and(|s| s == format!("{sha256}  {}\n", plan.package_file));
    if !sums_intact || output_line(&report).as_deref() != Some(&format!("{output}\n")) {
        return Ok(None);
    }
    let hashes = hash_inputs(plan, threads)?;
    Ok((inputs_text(plan, epoch, &hashes) == recorded_inputs).then_some(report))
}

/// Size and content hash of every entry, in parallel, in batches (most
/// entries are small files; one hand-off per file would cost more in
/// thread wake-ups than the hashing).
fn hash_inputs(plan: &BuildPlan, threads: usize) -> Result<Vec<Option<(u64, u128)>>, Error> {
    const BATCH: usize = 256;
    let entries = &plan.entries;
    let mut hashes = Vec::with_capacity(entries.len());
    ordered_pool::run(
        entries.len().div_ceil(BATCH),
        threads,
        threads * 2,
        |batch| {
            entries[batch * BATCH..((batch + 1) * BATCH).min(entries.len())]
                .iter()
                .map(|entry| match &entry.source {
                    EntrySource::Directory => Ok(None),
                    EntrySource::File { path, .. } => File::open(path)
                        .and_then(encode::content_hash)
                        .map(Some)
                        .map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        }),
                    EntrySource::Rendered { bytes, .. } => Ok(Some(
                        encode::content_hash(&bytes[..]).expect("reading memory cannot fail"),
                    )),
                })
                .collect::<Result<Vec<_>, Error>>()
        },
        |_, batch| {
            hashes.extend(batch);
            Ok(())
        },
    )?;
    Ok(hashes)
}
