//! Rebuilding from the previous package: a file that has not changed since
//! the package in the output folder was built has its deflated bytes copied
//! from that package instead of deflated again.
//!
//! Deflating is most of a build's time, so a rebuild after a one-file change
//! cost as much as a first build. The record (fingerprint.rs) says which
//! files are unchanged: the same stat stamp, not racy, as the no-op check
//! trusts. Their entries in the previous package are what deflating them
//! now would give, since the encoder is deterministic (encode.rs) and the
//! record names it (tool version and [`super::encode::fingerprint`]); the
//! package is the same, byte for byte, as a build from scratch.
//!
//! The copy is only as good as the previous package, so each copied entry
//! is inflated on its worker thread and checked: local header against
//! central directory, and the inflated bytes' size, CRC-32 and XXH3-128
//! against the record's, and the deflate stream must end exactly where the
//! entry does. Any doubt, and the file is deflated again. (One damage
//! passes: a flipped padding bit after the stream's last code, which
//! inflates to the same bytes; the package would then differ from a
//! fresh build's in that bit, and still install the same files.)
//! Inflating costs a fraction of deflating. Stored entries are not copied
//! (storing costs what copying would), but an unchanged file the previous
//! package stored is stored again without deflating a sample to decide,
//! once its CRC-32 and hash are checked. `--force` reuses nothing.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};
use tempfile::SpooledTempFile;
use xxhash_rust::xxh3::Xxh3;

use super::encode::{self, EncodedEntry, Method, SPOOL_IN_MEMORY};
use super::fingerprint;
use crate::plan::BuildPlan;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;

/// The previous package, and which of the plan's entries it can give.
pub struct Previous {
    path: PathBuf,
    /// By plan entry index.
    entries: Vec<Option<OldEntry>>,
}

/// An entry of the previous package whose source is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OldEntry {
    deflated: bool,
    /// Where its local header starts.
    offset: u32,
    crc32: u32,
    compressed_size: u32,
    size: u32,
    /// The record's XXH3-128 of the source file.
    content_hash: u128,
}

impl Previous {
    /// What the package in `out_dir` can give `plan`, by its `record`;
    /// `None` if there is no package, the record does not match it, or
    /// there is nothing to reuse.
    pub fn open(plan: &BuildPlan, record: &str, out_dir: &Path) -> Option<Previous> {
        let (path, unchanged) = fingerprint::unchanged_files(plan, record, out_dir)?;
        let central = read_central_directory(&mut File::open(&path).ok()?).ok()?;
        let by_name: HashMap<&str, &Central> =
            central.iter().map(|c| (c.name.as_str(), c)).collect();
        let entries: Vec<Option<OldEntry>> = plan
            .entries
            .iter()
            .zip(unchanged)
            .map(|(entry, hash)| {
                let content_hash = hash?;
                let c = by_name.get(entry.name.as_str())?;
                let deflated = c.method == METHOD_DEFLATED;
                ((deflated || c.method == METHOD_STORED) && u64::from(c.size) == entry.size)
                    .then_some(OldEntry {
                        deflated,
                        offset: c.offset,
                        crc32: c.crc32,
                        compressed_size: c.compressed_size,
                        size: c.size,
                        content_hash,
                    })
            })
            .collect();
        entries
            .iter()
            .any(Option::is_some)
            .then_some(Previous { path, entries })
    }

    /// Entry `i` of the plan (named `name`, read from `source`), from what
    /// the previous package says of it; `None` if it cannot be, and must be
    /// encoded. A deflated entry's bytes are copied from that package and
    /// checked; a stored one is read from `source` to check it is the
    /// content recorded, and stored without deflating a sample to decide.
    pub fn reuse(&self, i: usize, name: &str, source: &Path) -> Option<EncodedEntry> {
        let old = self.entries.get(i).copied().flatten()?;
        if old.deflated {
            return copy_entry(&self.path, name, &old).ok().flatten();
        }
        let stored = File::open(source).and_then(encode::store).ok()?;
        (stored.crc32 == old.crc32
            && stored.size == u64::from(old.size)
            && stored.content_hash == old.content_hash)
            .then_some(stored)
    }
}

/// One central directory record, as far as a copy needs it.
#[derive(Debug)]
struct Central {
    name: String,
    method: u16,
    crc32: u32,
    compressed_size: u32,
    size: u32,
    offset: u32,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// The central directory of a package iiswsgi wrote: its end record is the
/// last 22 bytes (no comment, no ZIP64).
fn read_central_directory(file: &mut File) -> io::Result<Vec<Central>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len < 22 {
        return Err(invalid("too short for a zip"));
    }
    let mut end = [0u8; 22];
    file.seek(SeekFrom::Start(len - 22))?;
    file.read_exact(&mut end)?;
    if u32_at(&end, 0) != END_OF_CENTRAL || u16_at(&end, 20) != 0 {
        return Err(invalid(
            "no end of central directory where iiswsgi writes it",
        ));
    }
    let count = usize::from(u16_at(&end, 10));
    let (size, start) = (u64::from(u32_at(&end, 12)), u64::from(u32_at(&end, 16)));
    if start + size != len - 22 {
        return Err(invalid("central directory out of place"));
    }
    let mut cd = vec![0u8; size as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut cd)?;
    let mut records = Vec::with_capacity(count);
    let mut at = 0;
    for _ in 0..count {
        let fixed = cd.get(at..at + 46).ok_or_else(|| invalid("cut short"))?;
        if u32_at(fixed, 0) != CENTRAL_HEADER {
            return Err(invalid("bad central directory record"));
        }
        let name_len = usize::from(u16_at(fixed, 28));
        let skip = usize::from(u16_at(fixed, 30)) + usize::from(u16_at(fixed, 32));
        let name = cd
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| invalid("cut short"))?;
        records.push(Central {
            name: String::from_utf8(name.to_vec()).map_err(|_| invalid("name not UTF-8"))?,
            method: u16_at(fixed, 10),
            crc32: u32_at(fixed, 16),
            compressed_size: u32_at(fixed, 20),
            size: u32_at(fixed, 24),
            offset: u32_at(fixed, 42),
        });
        at += 46 + name_len + skip;
    }
    Ok(records)
}

/// Size, CRC-32 and XXH3-128 of inflated bytes.
struct Check {
    size: u64,
    crc: crc32fast::Hasher,
    hash: Xxh3,
}

/// Inflates a raw deflate stream fed in pieces, into a [`Check`], and
/// tells whether it was one whole stream: a final block that ends with the
/// input. (flate2's writer-side decoder does not: a stream whose last
/// block lost its "final" bit inflates to the same bytes and ends without
/// an error, but Web Deploy could not read it.)
struct Inflater {
    inflate: Decompress,
    out: Vec<u8>,
    check: Check,
    ended: bool,
}

impl Inflater {
    /// With an output buffer of `out` bytes.
    fn new(out: usize) -> Inflater {
        Inflater {
            inflate: Decompress::new(false),
            out: vec![0u8; out],
            check: Check {
                size: 0,
                crc: crc32fast::Hasher::new(),
                hash: Xxh3::new(),
            },
            ended: false,
        }
    }

    /// Inflates `input`; `false` if it is not deflate, or comes after the
    /// stream's end.
    fn feed(&mut self, mut input: &[u8]) -> bool {
        self.run(&mut input, FlushDecompress::None) && input.is_empty()
    }

    /// The check of the whole stream, if it ended after exactly
    /// `compressed_size` bytes.
    fn finish(mut self, compressed_size: u64) -> Option<Check> {
        let whole = self.run(&mut &[][..], FlushDecompress::Finish)
            && self.ended
            && self.inflate.total_in() == compressed_size;
        whole.then_some(self.check)
    }

    fn run(&mut self, input: &mut &[u8], flush: FlushDecompress) -> bool {
        loop {
            if self.ended {
                return true;
            }
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            let Ok(status) = self.inflate.decompress(input, &mut self.out, flush) else {
                return false;
            };
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let produced = (self.inflate.total_out() - before_out) as usize;
            *input = &input[consumed..];
            let out = &self.out[..produced];
            self.check.size += produced as u64;
            self.check.crc.update(out);
            self.check.hash.update(out);
            self.ended = status == Status::StreamEnd;
            if consumed == 0 && produced == 0 {
                // Needs more input (or, at the end, there is none).
                return true;
            }
        }
    }
}

/// The entry `name` of `package` at `old`, copied into a spool as it is
/// inflated and checked; `Ok(None)` if it is not what `old` says.
fn copy_entry(package: &Path, name: &str, old: &OldEntry) -> io::Result<Option<EncodedEntry>> {
    let mut file = File::open(package)?;
    file.seek(SeekFrom::Start(u64::from(old.offset)))?;
    let mut header = vec![0u8; 30 + name.len()];
    file.read_exact(&mut header)?;
    let same_header = u32_at(&header, 0) == LOCAL_HEADER
        && u16_at(&header, 8) == METHOD_DEFLATED
        && u32_at(&header, 14) == old.crc32
        && u32_at(&header, 18) == old.compressed_size
        && u32_at(&header, 22) == old.size
        && usize::from(u16_at(&header, 26)) == name.len()
        && u16_at(&header, 28) == 0
        && &header[30..] == name.as_bytes();
    if !same_header {
        return Ok(None);
    }
    let mut spool = SpooledTempFile::new(SPOOL_IN_MEMORY);
    // Buffers no larger than the entry: most are a few KiB, and zeroing
    // 128 KiB per entry was a good part of a rebuild's time.
    const CHUNK: u32 = 64 * 1024;
    let mut inflater = Inflater::new(old.size.clamp(1, CHUNK) as usize);
    let mut raw = file.take(u64::from(old.compressed_size));
    let mut buf = vec![0u8; old.compressed_size.clamp(1, CHUNK) as usize];
    loop {
        let n = raw.read(&mut buf)?;
        if n == 0 {
            break;
        }
        spool.write_all(&buf[..n])?;
        if !inflater.feed(&buf[..n]) {
            return Ok(None);
        }
    }
    let Some(check) = inflater.finish(u64::from(old.compressed_size)) else {
        return Ok(None);
    };
    let intact = check.size == u64::from(old.size)
        && check.crc.finalize() == old.crc32
        && check.hash.digest128() == old.content_hash;
    if !intact {
        return Ok(None);
    }
    spool.seek(SeekFrom::Start(0))?;
    Ok(Some(EncodedEntry {
        crc32: old.crc32,
        size: u64::from(old.size),
        compressed_size: u64::from(old.compressed_size),
        method: Method::Deflated,
        deflated: Some(spool),
        content_hash: old.content_hash,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{encode, zip_writer::ZipWriter};

    /// A package of `entries`, written as a build writes it, in a folder
    /// of its own.
    fn package(entries: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
        let mut zip = ZipWriter::new(Vec::new(), (0, 0x21));
        for (name, bytes) in entries {
            let encoded = encode::encode(name, *bytes).unwrap();
            zip.add_file(name, encoded, &mut &bytes[..]).unwrap();
        }
        let (bytes, _) = zip.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.zip");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn old_entry(path: &Path, name: &str, content: &[u8]) -> OldEntry {
        let central = read_central_directory(&mut File::open(path).unwrap()).unwrap();
        let c = central.iter().find(|c| c.name == name).unwrap();
        OldEntry {
            deflated: c.method == METHOD_DEFLATED,
            offset: c.offset,
            crc32: c.crc32,
            compressed_size: c.compressed_size,
            size: c.size,
            content_hash: encode::content_hash(content).unwrap().1,
        }
    }

    #[test]
    fn a_copied_entry_is_the_entry_encoding_gives() {
        let text = b"def f(x):\n    return x * 2\n".repeat(400);
        let other = b"x = 1\n".repeat(300);
        let (_dir, path) = package(&[("a/one.py", &other), ("a/ünï.py", &text)]);
        let central = read_central_directory(&mut File::open(&path).unwrap()).unwrap();
        assert_eq!(
            central.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a/one.py", "a/ünï.py"]
        );
        let old = old_entry(&path, "a/ünï.py", &text);
        let mut copied = copy_entry(&path, "a/ünï.py", &old).unwrap().unwrap();
        let mut fresh = encode::encode("a/ünï.py", &text[..]).unwrap();
        assert_eq!(copied.method, Method::Deflated);
        assert_eq!(
            (
                copied.crc32,
                copied.size,
                copied.compressed_size,
                copied.content_hash
            ),
            (
                fresh.crc32,
                fresh.size,
                fresh.compressed_size,
                fresh.content_hash
            )
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        copied
            .deflated
            .as_mut()
            .unwrap()
            .read_to_end(&mut a)
            .unwrap();
        fresh
            .deflated
            .as_mut()
            .unwrap()
            .read_to_end(&mut b)
            .unwrap();
        assert!(a == b, "the same deflated bytes");
    }

    #[test]
    fn a_stored_entry_is_stored_again_only_with_the_recorded_content() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let (dir, path) = package(&[("a/blob.bin", &noise)]);
        let old = old_entry(&path, "a/blob.bin", &noise);
        assert!(!old.deflated, "noise is stored");
        let source = dir.path().join("blob.bin");
        std::fs::write(&source, &noise).unwrap();
        let previous = Previous {
            path,
            entries: vec![Some(old)],
        };
        let stored = previous.reuse(0, "a/blob.bin", &source).unwrap();
        let fresh = encode::encode("a/blob.bin", &noise[..]).unwrap();
        assert_eq!(stored.method, Method::Stored);
        assert_eq!(
            (
                stored.crc32,
                stored.size,
                stored.compressed_size,
                stored.content_hash
            ),
            (
                fresh.crc32,
                fresh.size,
                fresh.compressed_size,
                fresh.content_hash
            )
        );
        // Not the content the record describes: encode it instead.
        let mut other = noise.clone();
        other[500] ^= 1;
        std::fs::write(&source, &other).unwrap();
        assert!(previous.reuse(0, "a/blob.bin", &source).is_none());
    }

    #[test]
    fn a_damaged_or_different_entry_is_not_copied() {
        let text = b"def f(x):\n    return x * 2\n".repeat(400);
        let (dir, path) = package(&[("a/one.py", &text)]);
        let old = old_entry(&path, "a/one.py", &text);
        // Another name, or content the record does not describe.
        assert!(copy_entry(&path, "a/two.py", &old).unwrap().is_none());
        let other = OldEntry {
            content_hash: old.content_hash ^ 1,
            ..old
        };
        assert!(copy_entry(&path, "a/one.py", &other).unwrap().is_none());
        // Each byte of the local header and the deflated data damaged in
        // turn: never copied. (Not the header's version, flags, time and
        // date, at 4..8 and 10..14: the copy does not use them, its headers
        // are written anew.)
        let bytes = std::fs::read(&path).unwrap();
        let damaged_path = dir.path().join("damaged.zip");
        let end = 30 + "a/one.py".len() + old.compressed_size as usize;
        let unused = |at: usize| (4..8).contains(&at) || (10..14).contains(&at);
        for at in (0..end).filter(|&at| !unused(at)) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x01;
            std::fs::write(&damaged_path, &damaged).unwrap();
            let copied = copy_entry(&damaged_path, "a/one.py", &old).unwrap_or(None);
            assert!(copied.is_none(), "byte {at} damaged");
        }
    }
}
