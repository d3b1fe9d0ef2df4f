//! No-op rebuilds: what went into a package, recorded beside it, so that the
//! next `build` can tell nothing changed and leave the package alone.
//!
//! The record (`dist/.<package>.inputs`) lists the tool version, the entry
//! timestamp, and every entry's name, size and XXH3-128 of its content
//! (rendered documents included, so a manifest or template change shows),
//! then the package's size, modification time and digests. A changed byte
//! anywhere rebuilds, even with the same size and mtime; and a package or
//! `.sha256` that was touched since rebuilds.
//!
//! To avoid reading every input again, the record also keeps each file's
//! stat "stamp" (device, inode, mtime and ctime, taken from the open file
//! before it was read), as git's index does. A file whose stamp is unchanged
//! keeps its recorded hash; any write to a file changes its ctime, which
//! cannot be set back (unlike mtime), so such a file is hashed again. Files
//! changed within a second of the build's start are always hashed again, in
//! case the clock's granularity hid the change ("racy git"). Where there is
//! no ctime (Windows), every file is hashed.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::{PackageReport, encode, ordered_pool};
use crate::error::Error;
use crate::plan::{BuildPlan, EntrySource};

const HEADER: &str = "iiswsgi build inputs v2";
/// Files whose ctime is this close to the build's start are hashed again.
const RACY_NS: i128 = 1_000_000_000;

/// What `stat` says about a file: enough to know it was not written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

/// The stamp of `meta` (`None` where the platform has no ctime).
pub fn stamp(meta: &std::fs::Metadata) -> Option<Stamp> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Now, in nanoseconds since 1970, for the racy-file guard.
pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

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

/// Records what `report`'s package was built from: the inputs, the files'
/// stamps (taken before they were read), and the package.
pub fn save(
    out_dir: &Path,
    inputs: &str,
    stamps: &[Option<Stamp>],
    started_ns: i128,
    report: &PackageReport,
) -> Result<(), Error> {
    let mut text = format!("{inputs}stamps\t{started_ns}\n");
    for (i, s) in stamps.iter().enumerate() {
        if let Some(s) = s {
            text.push_str(&format!(
                "stamp\t{i}\t{}\t{}\t{}\t{}\n",
                s.dev, s.ino, s.mtime_ns, s.ctime_ns
            ));
        }
    }
    let path = record_path(
        out_dir,
        &report
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
    );
    match output_line(report) {
        Some(line) => super::write_atomically(&path, format!("{text}{line}").as_bytes()),
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
    let Some(parsed) = Record::parse(&record) else {
        return Ok(None);
    };
    let output = parsed.output;
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
    let hashes = hash_inputs(plan, threads, &parsed)?;
    Ok((inputs_text(plan, epoch, &hashes) == parsed.inputs).then_some(report))
}

/// A record, read back.
struct Record<'a> {
    inputs: String,
    /// Entry index → (name, size, hash) as recorded.
    entries: Vec<(&'a str, u64, u128)>,
    stamps: HashMap<usize, Stamp>,
    started_ns: i128,
    output: &'a str,
}

impl<'a> Record<'a> {
    fn parse(text: &'a str) -> Option<Record<'a>> {
        let mut inputs = String::new();
        let mut entries = Vec::new();
        let mut stamps = HashMap::new();
        let mut started_ns = None;
        let mut output = None;
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields[..] {
                ["stamps", started] => started_ns = started.parse().ok(),
                ["stamp", i, dev, ino, mtime, ctime] => {
                    stamps.insert(
                        i.parse().ok()?,
                        Stamp {
                            dev: dev.parse().ok()?,
                            ino: ino.parse().ok()?,
                            mtime_ns: mtime.parse().ok()?,
                            ctime_ns: ctime.parse().ok()?,
                        },
                    );
                }
                ["output", ..] => output = Some(line),
                _ if started_ns.is_none() => {
                    if let ["entry", name, size, hash] = fields[..] {
                        entries.push((
                            name,
                            size.parse().ok()?,
                            u128::from_str_radix(hash, 16).ok()?,
                        ));
                    } else if let ["entry", name, "dir"] = fields[..] {
                        entries.push((name, 0, 0));
                    }
                    inputs.push_str(line);
                    inputs.push('\n');
                }
                _ => return None,
            }
        }
        Some(Record {
            inputs,
            entries,
            stamps,
            started_ns: started_ns?,
            output: output?,
        })
    }

    /// The recorded size and hash of entry `i`, if the file is provably
    /// unchanged since: same name, same stamp, not changed near the build.
    fn unchanged(&self, i: usize, name: &str, now: Option<Stamp>) -> Option<(u64, u128)> {
        let (recorded_name, size, hash) = *self.entries.get(i)?;
        let now = now?;
        (recorded_name == name
            && self.stamps.get(&i) == Some(&now)
            && now.ctime_ns < self.started_ns - RACY_NS)
            .then_some((size, hash))
    }
}

/// Size and content hash of every entry, in parallel, in batches (most
/// entries are small files; one hand-off per file would cost more in
/// thread wake-ups than the hashing).
fn hash_inputs(
    plan: &BuildPlan,
    threads: usize,
    record: &Record,
) -> Result<Vec<Option<(u64, u128)>>, Error> {
    const BATCH: usize = 256;
    let entries = &plan.entries;
    let mut hashes = Vec::with_capacity(entries.len());
    ordered_pool::run(
        entries.len().div_ceil(BATCH),
        threads,
        threads * 2,
        |batch| {
            let first = batch * BATCH;
            entries[first..(first + BATCH).min(entries.len())]
                .iter()
                .enumerate()
                .map(|(j, entry)| match &entry.source {
                    EntrySource::Directory => Ok(None),
                    EntrySource::File { path, .. } => {
                        let now = std::fs::metadata(path).ok().and_then(|m| stamp(&m));
                        if let Some(known) = record.unchanged(first + j, &entry.name, now) {
                            return Ok(Some(known));
                        }
                        File::open(path)
                            .and_then(encode::content_hash)
                            .map(Some)
                            .map_err(|source| Error::Io {
                                path: path.clone(),
                                source,
                            })
                    }
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
