//! A file's stat "stamp": what `stat` says about it that any write changes.
//!
//! The no-op rebuild check (package/fingerprint.rs) keeps each input's stamp
//! beside its content hash, as git's index does: a file whose stamp is the
//! same as at the last build was not written to since, so its recorded hash
//! still holds. mtime alone would not do (tools set it back, and it can be
//! coarse); ctime cannot be set back and changes with every write. The
//! stamp is taken once, where the file is found (the walk's own `stat`, or
//! the open file's before it is read), never by a second lookup.

use std::fs::Metadata;
use std::time::UNIX_EPOCH;

/// How close to a build's start a change must be for a stamp taken then
/// not to prove it ("racy git"): a timestamp's granularity may hide a
/// change made in the same tick as the stamp was taken.
pub const RACY_NS: i128 = 1_000_000_000;

/// Device, inode, mtime and ctime of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

impl Stamp {
    /// The stamp of `meta`; `None` where the platform has no ctime
    /// (Windows), so that every file there is hashed again.
    pub fn of(meta: &Metadata) -> Option<Stamp> {
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
}

impl Stamp {
    /// Whether this stamp, taken by something that started at
    /// `started_ns`, is too close to that start to prove anything later.
    pub fn is_racy(&self, started_ns: i128) -> bool {
        self.ctime_ns >= started_ns - RACY_NS
    }
}

/// Now, in nanoseconds since 1970, for the racy-file guard.
pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}
