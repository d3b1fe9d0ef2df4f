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
//! stat "stamp" (files/stamp.rs: device, inode, mtime and ctime, taken from
//! the open file before it was read), as git's index does; the check
//! compares it with the stamp the plan took while listing the tree, so a
//! no-op build `stat`s each file once. A file whose stamp is unchanged
//! keeps its recorded hash; any write to a file changes its ctime, which
//! cannot be set back (unlike mtime), so such a file is hashed again. Files
//! changed within a second of the build's start are always hashed again, in
//! case the clock's granularity hid the change ("racy git"). Where there is
//! no ctime (Windows), every file is hashed.
//!
//! Comparing stamps entry by entry still means parsing a line per entry, so
//! the record ends with a "quick" digest: one XXH3-128 over every entry's
//! name and size, each file's stamp and each rendered document's content
//! hash. When the digest of the plan at hand is the same and no file was
//! changed near the recorded build, nothing changed and the entries are not
//! read; otherwise the entry-by-entry check decides, and if it finds
//! nothing changed, the record is written again with today's stamps (as
//! git refreshes its index), so that a touched file is hashed once, not on
//! every build.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use xxhash_rust::xxh3::{Xxh3, Xxh3DefaultBuilder};

use super::{PackageReport, encode, ordered_pool};
use crate::error::Error;
use crate::files::stamp::{RACY_NS, Stamp};
use crate::plan::{BuildPlan, EntrySource};

const HEADER: &str = "iiswsgi build inputs v4";

/// Where the record of `package_file` lives.
pub fn record_path(out_dir: &Path, package_file: &str) -> PathBuf {
    out_dir.join(format!(".{package_file}.inputs"))
}

/// The record of `plan`'s package, if there is one: read once by a build,
/// for the no-op check ([`up_to_date`]) and, failing that, for what the
/// rebuild can copy ([`unchanged_files`]).
pub fn read(out_dir: &Path, plan: &BuildPlan) -> Option<String> {
    std::fs::read_to_string(record_path(out_dir, &plan.package_file)).ok()
}

/// The inputs part of a record, from each entry's size and content hash
/// (`None` for folders).
fn inputs_text(plan: &BuildPlan, epoch: i64, hashes: &[Option<(u64, u128)>]) -> String {
    let mut text = header_text(plan, epoch);
    // Written in place: a no-op build writes this for every entry.
    text.reserve(plan.entries.iter().map(|e| e.name.len() + 56).sum());
    for (entry, hash) in plan.entries.iter().zip(hashes) {
        let _ = match hash {
            Some((size, h)) => writeln!(text, "entry\t{}\t{size}\t{h:032x}", entry.name),
            None => writeln!(text, "entry\t{}\tdir", entry.name),
        };
    }
    text
}

/// What the record says before the entries: the tool and its encoder, the
/// package, and the entries' timestamp (last: all but it must match for a
/// rebuild to copy entries, see [`unchanged_files`]).
fn header_text(plan: &BuildPlan, epoch: i64) -> String {
    format!("{}epoch\t{epoch}\n", encoder_header(plan))
}

fn encoder_header(plan: &BuildPlan) -> String {
    format!(
        "{HEADER}\ntool\t{}\nencoder\t{:016x}\npackage\t{}\n",
        env!("CARGO_PKG_VERSION"),
        encode::fingerprint(),
        plan.package_file
    )
}

fn output_line(report: &PackageReport) -> Option<String> {
    let modified = std::fs::metadata(&report.path).ok()?.modified().ok()?;
    let nanos = modified.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some(format!(
        "output\t{}\t{nanos}\t{}\t{}\n",
        report.size, report.sha1, report.sha256
    ))
}

/// The quick digest of `plan` (see the module's documentation), and the
/// newest ctime among its files; `None` if a file has no stamp.
fn quick_digest(
    plan: &BuildPlan,
    stamp: impl Fn(usize) -> Option<Stamp>,
    rendered_hash: impl Fn(usize) -> u128,
) -> Option<(u128, i64)> {
    let mut digest = Xxh3::new();
    let mut newest = i64::MIN;
    digest.update(&(plan.entries.len() as u64).to_le_bytes());
    for (i, entry) in plan.entries.iter().enumerate() {
        digest.update(entry.name.as_bytes());
        digest.update(&entry.size.to_le_bytes());
        match &entry.source {
            EntrySource::Directory => digest.update(b"d"),
            EntrySource::File { .. } => {
                let s = stamp(i)?;
                newest = newest.max(s.ctime_ns);
                digest.update(b"f");
                digest.update(&s.dev.to_le_bytes());
                digest.update(&s.ino.to_le_bytes());
                digest.update(&s.mtime_ns.to_le_bytes());
                digest.update(&s.ctime_ns.to_le_bytes());
            }
            EntrySource::Rendered { .. } => {
                digest.update(b"r");
                digest.update(&rendered_hash(i).to_le_bytes());
            }
        }
    }
    Some((digest.digest128(), newest))
}

/// Records what `plan`'s package (`report`) was built from: each entry's
/// size and hash, the files' stamps (taken before they were read), the
/// quick digest, and the package.
pub fn save(
    out_dir: &Path,
    plan: &BuildPlan,
    epoch: i64,
    hashes: &[Option<(u64, u128)>],
    stamps: &[Option<Stamp>],
    started_ns: i64,
    report: &PackageReport,
) -> Result<(), Error> {
    // One string, grown in place: for 50,000 files a copy is megabytes,
    // at the build's peak of memory.
    let mut text = inputs_text(plan, epoch, hashes);
    text.reserve(stamps.len() * 64 + 200);
    let _ = writeln!(text, "stamps\t{started_ns}");
    for (i, s) in stamps.iter().enumerate() {
        if let Some(s) = s {
            let _ = writeln!(
                text,
                "stamp\t{i}\t{}\t{}\t{}\t{}",
                s.dev, s.ino, s.mtime_ns, s.ctime_ns
            );
        }
    }
    let rendered_hash = |i: usize| hashes[i].map_or(0, |(_, hash)| hash);
    if let Some((digest, _)) = quick_digest(plan, |i| stamps[i], rendered_hash) {
        let _ = writeln!(text, "quick\t{digest:032x}\t{started_ns}");
    }
    let path = record_path(out_dir, &plan.package_file);
    match output_line(report) {
        Some(line) => {
            text.push_str(&line);
            super::write_atomically(&path, text.as_bytes())
        }
        None => Ok(()),
    }
}

/// The package, if it is up to date: its record matches the inputs as they
/// are now, and the package and `.sha256` are as that build left them.
///
/// First by the quick digest ([`quick_check`]); failing that, entry by
/// entry: a folder must still be a folder; a file whose stamp is
/// the recorded one (and not racy) keeps its recorded size and hash; every
/// other file, and every rendered document, is hashed now and compared.
/// When that finds the package fresh, the record is refreshed with the
/// stamps as they are now (`started_ns` is when this build started).
pub fn up_to_date(
    plan: &BuildPlan,
    text: &str,
    out_dir: &Path,
    epoch: i64,
    threads: usize,
    started_ns: i64,
) -> Result<Option<PackageReport>, Error> {
    // The last two lines: the quick digest (if any) and the package.
    let mut tail = text.trim_end_matches('\n').rsplitn(3, '\n');
    let (Some(output), quick) = (tail.next(), tail.next()) else {
        return Ok(None);
    };
    let header = header_text(plan, epoch);
    if !text.starts_with(&header) {
        return Ok(None);
    }
    let Some(report) = intact_package(plan, out_dir, output) else {
        return Ok(None);
    };
    if quick.is_some_and(|line| quick_check(plan, line)) {
        return Ok(Some(report));
    }
    let Some(record) = Record::parse(text) else {
        return Ok(None);
    };
    if record.header != header || record.entries.len() != plan.entries.len() {
        return Ok(None);
    }
    let mut to_hash = Vec::new();
    for (i, (entry, recorded)) in plan.entries.iter().zip(&record.entries).enumerate() {
        if recorded.name != entry.name {
            return Ok(None);
        }
        match (&entry.source, recorded.content) {
            (EntrySource::Directory, None) => {}
            (EntrySource::Directory, Some(_)) | (_, None) => return Ok(None),
            (EntrySource::File { stamp, .. }, Some((size, _)))
                if size == entry.size && record.unchanged(i, *stamp) => {}
            _ => to_hash.push(i),
        }
    }
    let hashes = hash_entries(plan, &to_hash, threads)?;
    let same = to_hash
        .iter()
        .zip(hashes)
        .all(|(&i, content)| record.entries[i].content == Some(content));
    if !same {
        return Ok(None);
    }
    // Fresh, but not by the quick digest: a file's stamp changed and its
    // content did not (touched, checked out again), or a file was racy.
    // The record gets the stamps as they are now, so the next build is
    // decided by the digest again instead of hashing those files on every
    // build. Only a shortcut: if it cannot be written, the next build
    // decides entry by entry as this one did.
    let recorded: Vec<_> = record.entries.iter().map(|e| e.content).collect();
    let stamps: Vec<Option<Stamp>> = plan.entries.iter().map(|e| e.source.stamp()).collect();
    let _ = save(
        out_dir, plan, epoch, &recorded, &stamps, started_ns, &report,
    );
    Ok(Some(report))
}

/// Whether the record's `quick` line proves `plan` unchanged: the digest of
/// the plan's stamps is the recorded one, and no file changed within a
/// second of the recorded build's start (the stamp could hide that).
fn quick_check(plan: &BuildPlan, line: &str) -> bool {
    let Some((digest, started_ns)) = line
        .strip_prefix("quick\t")
        .and_then(|fields| fields.split_once('\t'))
    else {
        return false;
    };
    let now = quick_digest(
        plan,
        |i| plan.entries[i].source.stamp(),
        |i| match &plan.entries[i].source {
            EntrySource::Rendered { bytes, .. } => {
                encode::content_hash(&bytes[..]).map_or(0, |(_, hash)| hash)
            }
            _ => 0,
        },
    );
    now.is_some_and(|(now, newest)| {
        digest == format!("{now:032x}")
            && started_ns
                .parse::<i64>()
                .is_ok_and(|started| newest < started.saturating_sub(RACY_NS))
    })
}

/// For a rebuild that copies entries from the previous package
/// (previous.rs): that package, if it is the one the record describes and
/// was made by this tool and encoder, and for each of `plan`'s entries the
/// record's content hash of its file if the file is provably unchanged
/// since (the same stamp, not racy: what the no-op check trusts). The
/// entries' timestamp may differ: it is in the headers, which are written
/// anew, not in the deflated bytes.
pub fn unchanged_files(
    plan: &BuildPlan,
    text: &str,
    out_dir: &Path,
) -> Option<(PathBuf, Vec<Option<u128>>)> {
    if !text.starts_with(&encoder_header(plan)) {
        return None;
    }
    let output = text.trim_end_matches('\n').rsplit('\n').next()?;
    let report = intact_package(plan, out_dir, output)?;
    let record = Record::parse(text)?;
    let by_name: HashMap<&str, usize, Xxh3DefaultBuilder> = record
        .entries
        .iter()
        .enumerate()
        .map(|(j, e)| (e.name, j))
        .collect();
    let hashes = plan
        .entries
        .iter()
        .map(|entry| {
            if !matches!(entry.source, EntrySource::File { .. }) {
                return None;
            }
            let j = *by_name.get(entry.name.as_str())?;
            let (size, hash) = record.entries[j].content?;
            (size == entry.size && record.unchanged(j, entry.source.stamp())).then_some(hash)
        })
        .collect();
    Some((report.path, hashes))
}

/// The report of the package `output` (the record's last line) describes,
/// if the package and its `.sha256` are as that build left them.
fn intact_package(plan: &BuildPlan, out_dir: &Path, output: &str) -> Option<PackageReport> {
    let [_, size, _, sha1, sha256] = output.split('\t').collect::<Vec<_>>()[..] else {
        return None;
    };
    let report = PackageReport {
        path: out_dir.join(&plan.package_file),
        sha256_path: out_dir.join(format!("{}.sha256", plan.package_file)),
        entries: plan.entries.len(),
        size: size.parse().ok()?,
        sha1: sha1.to_string(),
        sha256: sha256.to_string(),
        gateway: plan.gateway.clone(),
    };
    let sums_intact = std::fs::read_to_string(&report.sha256_path)
        .is_ok_and(|s| s == format!("{sha256}  {}\n", plan.package_file));
    (sums_intact && output_line(&report).as_deref() == Some(&format!("{output}\n")))
        .then_some(report)
}

/// One `entry` line of a record.
struct RecordedEntry<'a> {
    name: &'a str,
    /// Size and content hash; `None` for a folder.
    content: Option<(u64, u128)>,
}

/// A record, read back.
struct Record<'a> {
    /// The lines before the entries.
    header: &'a str,
    entries: Vec<RecordedEntry<'a>>,
    /// Entry index → the file's stamp when it was read.
    stamps: Vec<Option<Stamp>>,
    started_ns: i64,
}

impl<'a> Record<'a> {
    fn parse(text: &'a str) -> Option<Record<'a>> {
        let (inputs, rest) = text.split_once("\nstamps\t")?;
        let header_len = inputs.find("\nentry\t").map_or(inputs.len(), |i| i + 1);
        let header = &text[..header_len];
        let mut entries = Vec::new();
        for line in inputs[header_len..].lines() {
            let (name, last) = line.strip_prefix("entry\t")?.rsplit_once('\t')?;
            entries.push(if last == "dir" {
                RecordedEntry {
                    name,
                    content: None,
                }
            } else {
                let (name, size) = name.rsplit_once('\t')?;
                RecordedEntry {
                    name,
                    content: Some((size.parse().ok()?, u128::from_str_radix(last, 16).ok()?)),
                }
            });
        }
        let mut stamps = vec![None; entries.len()];
        let mut lines = rest.lines();
        let started_ns = lines.next()?.parse().ok()?;
        for line in lines {
            // Both were read by the quick check already.
            if line.starts_with("output\t") || line.starts_with("quick\t") {
                continue;
            }
            let mut fields = line.strip_prefix("stamp\t")?.split('\t');
            let mut next = || fields.next();
            let i: usize = next()?.parse().ok()?;
            *stamps.get_mut(i)? = Some(Stamp {
                dev: next()?.parse().ok()?,
                ino: next()?.parse().ok()?,
                mtime_ns: next()?.parse().ok()?,
                ctime_ns: next()?.parse().ok()?,
            });
        }
        Some(Record {
            header,
            entries,
            stamps,
            started_ns,
        })
    }

    /// Whether the file of entry `i`, stamped `now` while planning, is
    /// provably the one recorded: same stamp, not changed near that build.
    fn unchanged(&self, i: usize, now: Option<Stamp>) -> bool {
        now.is_some_and(|now| {
            self.stamps.get(i) == Some(&Some(now)) && !now.is_racy(self.started_ns)
        })
    }
}

/// Size and content hash of the entries at `indexes` (files and rendered
/// documents), in parallel, in batches (most are small files; one hand-off
/// per file would cost more in thread wake-ups than the hashing).
fn hash_entries(
    plan: &BuildPlan,
    indexes: &[usize],
    threads: usize,
) -> Result<Vec<(u64, u128)>, Error> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    const BATCH: usize = 256;
    let batches = indexes.len().div_ceil(BATCH);
    let mut hashes = Vec::with_capacity(indexes.len());
    ordered_pool::run(
        batches,
        threads.min(batches),
        threads * 2,
        |batch| {
            let first = batch * BATCH;
            indexes[first..(first + BATCH).min(indexes.len())]
                .iter()
                .map(|&i| match &plan.entries[i].source {
                    EntrySource::File { path, .. } => File::open(path)
                        .and_then(encode::content_hash)
                        .map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        }),
                    EntrySource::Rendered { bytes, .. } => {
                        Ok(encode::content_hash(&bytes[..]).expect("reading memory cannot fail"))
                    }
                    EntrySource::Directory => unreachable!("folders have no content"),
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
