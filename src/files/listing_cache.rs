//! The listing cache: the files the last build selected, and the folders
//! the selection came from, each with its stat stamp, so that a build in a
//! tree whose folders have not changed does not list the tree again.
//!
//! Adding, removing or renaming a name in a folder changes the folder's
//! mtime and ctime, and ctime cannot be set back. So when every folder the
//! walk entered still has the stamp it had then, listing them again would
//! find the same names, and the globs, which see only names, would select
//! the same files. What the files hold is not the cache's business: each
//! selected file is `stat`-ed again for its size and stamp, and the no-op
//! check (package/fingerprint.rs) decides from those whether to rebuild.
//! A followed link is the exception, since what it leads to can change
//! without its folder changing: the thing it leads to must have the stamp
//! it had, or the tree is listed again.
//!
//! A listing is only cached when it can be trusted:
//! - no link was skipped (a dangling link's target may appear later
//!   without any folder of the project changing);
//! - no folder changed within a second of the walk's start (a timestamp's
//!   granularity could hide a change made in the same tick: [`RACY_NS`]);
//! - the platform has ctime (not Windows), and no name holds a line break.
//!
//! It is keyed by all else the selection depends on: the tool's version,
//! the project and output folders, and the include and exclude globs.
//! Its last line is a digest of the lines before it, so a file cut short is
//! not read as a shorter listing.
//!
//! [`RACY_NS`]: super::stamp::RACY_NS

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use super::SelectedFile;
use super::stamp::Stamp;

const HEADER: &str = "iiswsgi listing v1";

/// Where the listing cache of `package_file` lives: beside its package.
pub fn path(out_dir: &Path, package_file: &str) -> PathBuf {
    out_dir.join(format!(".{package_file}.listing"))
}

/// What, besides the tree, decides which files are selected.
pub fn key(root: &Path, out_dir: &Path, include: &[String], exclude: &[String]) -> u128 {
    let mut key = Xxh3::new();
    let mut field = |bytes: &[u8]| {
        key.update(&(bytes.len() as u64).to_le_bytes());
        key.update(bytes);
    };
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(root.as_os_str().as_encoded_bytes());
    field(out_dir.as_os_str().as_encoded_bytes());
    for globs in [include, exclude] {
        field(&(globs.len() as u64).to_le_bytes());
        for glob in globs {
            field(glob.as_bytes());
        }
    }
    key.digest128()
}

/// A walk's outcome as the cache keeps it.
#[derive(Debug, Clone)]
pub struct Listing {
    key: u128,
    /// When the walk started.
    started_ns: i128,
    /// Every folder whose names the selection depends on (the project's
    /// own is `""`), with its stamp.
    folders: Vec<(String, Stamp)>,
    /// The selected files in walk order; for a followed link, the stamp of
    /// what it leads to.
    files: Vec<(String, Option<Stamp>)>,
    /// The include globs (by index) that matched no file.
    pub unmatched: Vec<usize>,
}

/// Why a walk's listing is not cached.
pub type NotCached = &'static str;

/// Collects a [`Listing`] while the tree is walked and selected.
#[derive(Debug)]
pub struct Recorder {
    listing: Listing,
    spoiled: Option<NotCached>,
}

impl Recorder {
    /// For a walk keyed `key` that starts now.
    pub fn new(key: u128) -> Recorder {
        Recorder {
            listing: Listing {
                key,
                started_ns: super::stamp::now_ns(),
                folders: Vec::new(),
                files: Vec::new(),
                unmatched: Vec::new(),
            },
            spoiled: None,
        }
    }

    /// A folder that was listed, with its stamp from before its listing.
    pub fn folder(&mut self, rel: &str, stamp: Option<Stamp>) {
        match stamp {
            Some(stamp) if stamp.is_racy(self.listing.started_ns) => {
                self.spoil("a folder changed less than a second before the build")
            }
            Some(stamp) if self.plain(rel) => self.listing.folders.push((rel.to_string(), stamp)),
            Some(_) => {}
            None => self.spoil("the platform has no ctime"),
        }
    }

    /// A selected file; `link` with the stamp of what it leads to.
    pub fn file(&mut self, rel: &str, link: Option<Option<Stamp>>) {
        let target = match link {
            None => None,
            Some(Some(stamp)) if !stamp.is_racy(self.listing.started_ns) => Some(stamp),
            Some(Some(_)) => {
                return self.spoil("a linked file changed less than a second before the build");
            }
            Some(None) => return self.spoil("the platform has no ctime"),
        };
        if self.plain(rel) {
            self.listing.files.push((rel.to_string(), target));
        }
    }

    /// Whether `rel` can be written on a line; spoils the listing if not.
    fn plain(&mut self, rel: &str) -> bool {
        let plain = !rel.contains('\n');
        if !plain {
            self.spoil("a name holds a line break");
        }
        plain
    }

    /// Marks the listing as not to be cached, for the first reason met.
    pub fn spoil(&mut self, why: NotCached) {
        self.spoiled.get_or_insert(why);
    }

    /// The listing, with the include globs that matched nothing; or why it
    /// cannot be cached.
    pub fn finish(mut self, unmatched: Vec<usize>) -> Result<Listing, NotCached> {
        match self.spoiled {
            Some(why) => Err(why),
            None => {
                self.listing.unmatched = unmatched;
                Ok(self.listing)
            }
        }
    }
}

impl Listing {
    /// The cache file's text.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let stamp = |s: &Stamp| format!("{}\t{}\t{}\t{}", s.dev, s.ino, s.mtime_ns, s.ctime_ns);
        let mut text = format!(
            "{HEADER}\nkey\t{:032x}\nstarted\t{}\n",
            self.key, self.started_ns
        );
        for (rel, s) in &self.folders {
            let _ = writeln!(text, "dir\t{}\t{rel}", stamp(s));
        }
        for (rel, target) in &self.files {
            let _ = match target {
                None => writeln!(text, "file\t{rel}"),
                Some(s) => writeln!(text, "link\t{}\t{rel}", stamp(s)),
            };
        }
        for i in &self.unmatched {
            let _ = writeln!(text, "unmatched\t{i}");
        }
        let _ = writeln!(text, "end\t{:032x}", xxh3_128(text.as_bytes()));
        text
    }

    /// The listing in `text`, if it is whole and was keyed `key`.
    pub fn parse(text: &str, key: u128) -> Option<Listing> {
        let body = text.strip_suffix('\n')?;
        let (body, end) = body.rsplit_once('\n')?;
        let body = &text[..body.len() + 1];
        if end != format!("end\t{:032x}", xxh3_128(body.as_bytes())) {
            return None;
        }
        let mut lines = body.strip_suffix('\n')?.split('\n');
        if lines.next()? != HEADER || lines.next()? != format!("key\t{key:032x}") {
            return None;
        }
        let started_ns = lines.next()?.strip_prefix("started\t")?.parse().ok()?;
        let mut listing = Listing {
            key,
            started_ns,
            folders: Vec::new(),
            files: Vec::new(),
            unmatched: Vec::new(),
        };
        for line in lines {
            let (kind, rest) = line.split_once('\t')?;
            match kind {
                "dir" => {
                    let (stamp, rel) = parse_stamp(rest)?;
                    listing.folders.push((rel.to_string(), stamp));
                }
                "file" => listing.files.push((rest.to_string(), None)),
                "link" => {
                    let (stamp, rel) = parse_stamp(rest)?;
                    listing.files.push((rel.to_string(), Some(stamp)));
                }
                "unmatched" => listing.unmatched.push(rest.parse().ok()?),
                _ => return None,
            }
        }
        Some(listing)
    }

    /// The selected files as they are now, if every folder (and every
    /// followed link's target) under `root` is as it was when this listing
    /// was made; `stat`s on `threads` threads.
    pub fn revalidate(&self, root: &Path, threads: usize) -> Option<Vec<SelectedFile>> {
        let same = |rel: &str, was: &Stamp| {
            std::fs::metadata(root.join(rel))
                .is_ok_and(|m| m.is_dir() && Stamp::of(&m).as_ref() == Some(was))
        };
        // The folders first: they are fewer, and one that changed means
        // the files need not be looked at.
        in_parallel(&self.folders, threads, |(rel, was)| {
            same(rel, was).then_some(())
        })?;
        in_parallel(&self.files, threads, |(rel, target)| {
            let source = root.join(rel);
            let meta = std::fs::metadata(&source).ok().filter(|m| !m.is_dir())?;
            let stamp = Stamp::of(&meta);
            if target.is_some() && stamp != *target {
                return None;
            }
            Some(SelectedFile {
                source,
                display: rel.clone(),
                dest: rel.clone(),
                size: meta.len(),
                stamp,
            })
        })
    }
}

/// `(stamp, rest)` from `dev\tino\tmtime\tctime\trest`.
fn parse_stamp(fields: &str) -> Option<(Stamp, &str)> {
    let mut parts = fields.splitn(5, '\t');
    let mut next = || parts.next();
    let stamp = Stamp {
        dev: next()?.parse().ok()?,
        ino: next()?.parse().ok()?,
        mtime_ns: next()?.parse().ok()?,
        ctime_ns: next()?.parse().ok()?,
    };
    Some((stamp, next()?))
}

/// `f` of every item, in order, on up to `threads` threads; `None` as soon
/// as one gives `None`.
fn in_parallel<T: Sync, U: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Option<U> + Sync,
) -> Option<Vec<U>> {
    if items.is_empty() {
        return Some(Vec::new());
    }
    let failed = AtomicBool::new(false);
    let chunk = items.len().div_ceil(threads.max(1));
    let run = |part: &[T]| -> Option<Vec<U>> {
        let mut out = Vec::with_capacity(part.len());
        for item in part {
            if failed.load(Ordering::Relaxed) {
                return None;
            }
            match f(item) {
                Some(u) => out.push(u),
                None => {
                    failed.store(true, Ordering::Relaxed);
                    return None;
                }
            }
        }
        Some(out)
    };
    let parts: Vec<Option<Vec<U>>> = std::thread::scope(|scope| {
        let mut chunks = items.chunks(chunk);
        let first = chunks.next().expect("items is not empty");
        let handles: Vec<_> = chunks.map(|part| scope.spawn(|| run(part))).collect();
        let mut parts = vec![run(first)];
        parts.extend(handles.into_iter().map(|h| h.join().ok().flatten()));
        parts
    });
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(n: u64) -> Stamp {
        Stamp {
            dev: 1,
            ino: n,
            mtime_ns: 10,
            ctime_ns: 20 + i128::from(n),
        }
    }

    fn sample() -> Listing {
        Listing {
            key: 7,
            started_ns: 1_000_000_000_000,
            folders: vec![(String::new(), stamp(1)), ("a b\t\r".into(), stamp(2))],
            files: vec![
                ("a b\t\r/x.py".into(), None),
                ("link.txt".into(), Some(stamp(3))),
            ],
            unmatched: vec![0, 2],
        }
    }

    #[test]
    fn a_listing_reads_back_as_written() {
        let text = sample().text();
        let back = Listing::parse(&text, 7).unwrap();
        assert_eq!(back.text(), text);
        assert_eq!(back.folders, sample().folders);
        assert_eq!(back.files, sample().files);
        assert_eq!(back.unmatched, [0, 2]);
        assert_eq!(back.started_ns, 1_000_000_000_000);
    }

    #[test]
    fn another_key_or_a_cut_short_or_edited_file_is_not_read() {
        let text = sample().text();
        assert!(Listing::parse(&text, 8).is_none(), "key");
        // Cut after any whole line but the last: the digest no longer
        // matches (or is gone).
        let last = text.len() - 1;
        for (i, _) in text[..last].match_indices('\n') {
            assert!(Listing::parse(&text[..=i], 7).is_none(), "cut at {i}");
        }
        let edited = text.replace("link.txt", "link.txx");
        assert!(Listing::parse(&edited, 7).is_none(), "edited");
    }

    #[test]
    fn racy_folders_links_and_line_breaks_spoil_a_recording() {
        let mut r = Recorder::new(1);
        let now = r.listing.started_ns;
        let old = Stamp {
            ctime_ns: now - 2_000_000_000,
            ..stamp(1)
        };
        r.folder("", Some(old));
        r.file("a.py", None);
        r.file("l.py", Some(Some(old)));
        let listing = r.finish(vec![]).unwrap();
        assert_eq!(listing.files.len(), 2);

        let recent = Stamp {
            ctime_ns: now - 500_000_000,
            ..old
        };
        let mut r = Recorder::new(1);
        r.folder("new", Some(recent));
        assert!(r.finish(vec![]).unwrap_err().contains("folder changed"));
        let mut r = Recorder::new(1);
        r.file("l.py", Some(Some(recent)));
        assert!(r.finish(vec![]).unwrap_err().contains("linked file"));
        let mut r = Recorder::new(1);
        r.folder("a\nb", Some(old));
        assert!(r.finish(vec![]).unwrap_err().contains("line break"));
        let mut r = Recorder::new(1);
        r.folder("", None);
        assert!(r.finish(vec![]).unwrap_err().contains("ctime"));
    }
}
