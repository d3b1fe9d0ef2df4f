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
pub const RACY_NS: i64 = 1_000_000_000;

/// Device, inode, mtime and ctime of a file.
/// Times are nanoseconds since 1970 in an `i64` (1677 to 2262; outside
/// that, saturated): the stamp is kept for every file, so its size counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
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
                mtime_ns: nanos(meta.mtime(), meta.mtime_nsec()),
                ctime_ns: nanos(meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// Whether this stamp, taken by something that started at
    /// `started_ns`, is too close to that start to prove anything later.
    pub fn is_racy(&self, started_ns: i64) -> bool {
        self.ctime_ns >= started_ns.saturating_sub(RACY_NS)
    }
}

#[cfg(unix)]
fn nanos(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// Now, in nanoseconds since 1970, for the racy-file guard.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
