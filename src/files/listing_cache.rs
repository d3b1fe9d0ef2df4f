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
pub fn key(
    root: &Path,
    out_dir: &Path,
    include: &[String],
    exclude: &[String],
    shipping: &str,
) -> u128 {
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
    field(shipping.as_bytes());
    key.digest128()
}

/// A listing cache, read back.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Every folder whose names the selection depends on (the project's
    /// own is `""`), with its stamp.
    folders: Vec<(String, Stamp)>,
    /// The selected files in walk order; for a followed link, the stamp of
    /// what it leads to.
    files: Vec<(String, Option<Stamp>)>,
    /// The include globs (by index) that matched no file.
    pub unmatched: Vec<usize>,
    /// What was left out, and why (files/mod.rs `Selection::left_out`).
    pub left_out: Vec<(String, String)>,
    /// Files outside the tree the selection depends on (git's ignore
    /// files), with their stamps.
    rule_files: Vec<(PathBuf, Stamp)>,
}

/// Why a walk's listing is not cached.
pub type NotCached = &'static str;

/// Writes a listing cache's text while the tree is walked and selected,
/// line by line (the walk's names are not kept twice in memory).
#[derive(Debug)]
pub struct Recorder {
    started_ns: i64,
    text: String,
    spoiled: Option<NotCached>,
}

impl Recorder {
    /// For a walk keyed `key` that starts now.
    pub fn new(key: u128) -> Recorder {
        let started_ns = super::stamp::now_ns();
        Recorder {
            started_ns,
            text: format!("{HEADER}\nkey\t{key:032x}\nstarted\t{started_ns}\n"),
            spoiled: None,
        }
    }

    /// A folder that was listed, with its stamp from before its listing.
    pub fn folder(&mut self, rel: &str, stamp: Option<Stamp>) {
        match stamp {
            None => self.spoil("the platform has no ctime"),
            Some(stamp) if stamp.is_racy(self.started_ns) => {
                self.spoil("a folder changed less than a second before the build")
            }
            Some(stamp) => self.line("dir", Some(stamp), rel),
        }
    }

    /// A selected file; `link` with the stamp of what it leads to.
    pub fn file(&mut self, rel: &str, link: Option<Option<Stamp>>) {
        match link {
            None => self.line("file", None, rel),
            Some(None) => self.spoil("the platform has no ctime"),
            Some(Some(stamp)) if stamp.is_racy(self.started_ns) => {
                self.spoil("a linked file changed less than a second before the build")
            }
            Some(Some(stamp)) => self.line("link", Some(stamp), rel),
        }
    }

    /// A file the walk matched and left out, and why.
    pub fn left_out(&mut self, rel: &str, why: &str) {
        let why = why.replace(['\t', '\n', '\r'], " ");
        self.line("out", None, &format!("{why}\t{rel}"));
    }

    /// An ignore file (`.gitignore`, git's excludes) whose content decided
    /// what was left out: a change to it changes the selection without any
    /// folder changing.
    pub fn rule_file(&mut self, path: &Path, stamp: Option<Stamp>) {
        match stamp {
            None => self.spoil("the platform has no ctime"),
            Some(stamp) if stamp.is_racy(self.started_ns) => {
                self.spoil("an ignore file changed less than a second before the build")
            }
            Some(stamp) => self.line("rule", Some(stamp), &path.to_string_lossy()),
        }
    }

    /// `kind\t[dev\tino\tmtime\tctime\t]rel`: the name last, so that it
    /// may hold anything but a line break.
    fn line(&mut self, kind: &str, stamp: Option<Stamp>, rel: &str) {
        use std::fmt::Write as _;
        if self.spoiled.is_some() {
            return;
        }
        if rel.contains('\n') {
            return self.spoil("a name holds a line break");
        }
        self.text.push_str(kind);
        self.text.push('\t');
        if let Some(s) = stamp {
            let _ = write!(
                self.text,
                "{}\t{}\t{}\t{}\t",
                s.dev, s.ino, s.mtime_ns, s.ctime_ns
            );
        }
        self.text.push_str(rel);
        self.text.push('\n');
    }

    /// Marks the listing as not to be cached, for the first reason met.
    pub fn spoil(&mut self, why: NotCached) {
        self.spoiled.get_or_insert(why);
        self.text = String::new();
    }

    /// The cache's text, ending with the include globs that matched
    /// nothing and the digest; or why it cannot be cached.
    pub fn finish(mut self, unmatched: &[usize]) -> Result<String, NotCached> {
        use std::fmt::Write as _;
        if let Some(why) = self.spoiled {
            return Err(why);
        }
        for i in unmatched {
            let _ = writeln!(self.text, "unmatched\t{i}");
        }
        let digest = xxh3_128(self.text.as_bytes());
        let _ = writeln!(self.text, "end\t{digest:032x}");
        Ok(self.text)
    }
}

impl Listing {
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
        // When the walk started: the stamps were checked against it when
        // they were recorded (a racy one spoils the recording).
        lines
            .next()?
            .strip_prefix("started\t")?
            .parse::<i64>()
            .ok()?;
        let mut listing = Listing {
            folders: Vec::new(),
            files: Vec::new(),
            unmatched: Vec::new(),
            left_out: Vec::new(),
            rule_files: Vec::new(),
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
                "out" => {
                    let (why, rel) = rest.split_once('\t')?;
                    listing.left_out.push((rel.to_string(), why.to_string()));
                }
                "rule" => {
                    let (stamp, path) = parse_stamp(rest)?;
                    listing.rule_files.push((PathBuf::from(path), stamp));
                }
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
        let same_rule = |(path, was): &(PathBuf, Stamp)| {
            std::fs::metadata(path).is_ok_and(|m| Stamp::of(&m).as_ref() == Some(was))
        };
        if !self.rule_files.iter().all(same_rule) {
            return None;
        }
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

    /// A stamp from `ago_s` seconds before now.
    fn stamp(ino: u64, ago_s: i64) -> Stamp {
        let ctime_ns = super::super::stamp::now_ns() - ago_s * 1_000_000_000;
        Stamp {
            dev: 1,
            ino,
            mtime_ns: ctime_ns - 5,
            ctime_ns,
        }
    }

    /// A recording of a root folder, a folder whose name holds a tab and a
    /// carriage return, a file in it, and a link; and what it should read
    /// back as.
    fn sample() -> (String, Listing) {
        let expected = Listing {
            folders: vec![
                (String::new(), stamp(1, 9)),
                ("a b\t\r".into(), stamp(2, 9)),
            ],
            files: vec![
                ("a b\t\r/x.py".to_string(), None),
                ("link.txt".to_string(), Some(stamp(3, 9))),
            ],
            unmatched: vec![0, 2],
            left_out: vec![(
                ".env".to_string(),
                "never packaged unless named: a secret (.env)".to_string(),
            )],
            rule_files: vec![(PathBuf::from("/repo/.gitignore"), stamp(4, 9))],
        };
        let mut r = Recorder::new(7);
        for (rel, s) in &expected.folders {
            r.folder(rel, Some(*s));
        }
        for (rel, link) in &expected.files {
            r.file(rel, link.map(Some));
        }
        for (rel, why) in &expected.left_out {
            r.left_out(rel, why);
        }
        for (path, s) in &expected.rule_files {
            r.rule_file(path, Some(*s));
        }
        (r.finish(&expected.unmatched).unwrap(), expected)
    }

    #[test]
    fn a_listing_reads_back_as_recorded() {
        let (text, expected) = sample();
        let back = Listing::parse(&text, 7).unwrap();
        assert_eq!(back.folders, expected.folders);
        assert_eq!(back.files, expected.files);
        assert_eq!(back.unmatched, expected.unmatched);
        assert_eq!(back.left_out, expected.left_out);
        assert_eq!(back.rule_files, expected.rule_files);
    }

    #[test]
    fn another_key_or_a_cut_short_or_edited_file_is_not_read() {
        let (text, ..) = sample();
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
    fn racy_folders_and_links_line_breaks_and_no_ctime_spoil_a_recording() {
        let recent = stamp(1, 0);
        let mut r = Recorder::new(1);
        r.folder("new", Some(recent));
        assert!(r.finish(&[]).unwrap_err().contains("folder changed"));
        let mut r = Recorder::new(1);
        r.file("l.py", Some(Some(recent)));
        assert!(r.finish(&[]).unwrap_err().contains("linked file"));
        let mut r = Recorder::new(1);
        r.file("a\nb", None);
        assert!(r.finish(&[]).unwrap_err().contains("line break"));
        let mut r = Recorder::new(1);
        r.folder("", None);
        assert!(r.finish(&[]).unwrap_err().contains("ctime"));
        // A plain file's own stamp is no business of the cache's.
        let mut r = Recorder::new(1);
        r.folder("", Some(stamp(1, 9)));
        r.file("fresh.py", None);
        assert!(r.finish(&[]).is_ok());
    }
}
