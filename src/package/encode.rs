//! How one entry's bytes go into the zip: deflated, or stored when deflate
//! would not pay. Runs on worker threads, one entry at a time, and streams:
//! at most [`SPOOL_IN_MEMORY`] of deflated output per entry stays in memory
//! (the rest spills to a temporary file), and stored entries are not copied
//! at all here; the writer reads them again from their source.
//!
//! The decision is deterministic (it depends only on the name and the bytes),
//! so the package is the same whatever the number of threads:
//!
//! 1. Names ending in an extension of already-compressed formats
//!    ([`STORED_EXTENSIONS`]: compressed archives, images, fonts, media) are
//!    stored without trying. Zip-based containers (wheels, eggs, jars) are
//!    not on the list: their local headers and stored members still deflate
//!    by about 6%, which the benchmark's wheels showed.
//! 2. Otherwise, for entries larger than [`SAMPLE`] bytes, the first
//!    [`SAMPLE`] bytes are deflated on their own; if that saves less than 3%,
//!    the entry is stored (random or encrypted data, unknown archives).
//! 3. Otherwise the entry is deflated (level 5, see [`LEVEL`]), and still stored
//!    if the result is not smaller than the input.

use std::io::{self, Read, Seek, SeekFrom, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use tempfile::SpooledTempFile;
use xxhash_rust::xxh3::Xxh3;

/// Deflated bytes kept in memory per entry before spilling to disk.
pub const SPOOL_IN_MEMORY: usize = 2 << 20;
/// Bytes deflated as a sample to spot incompressible content.
pub const SAMPLE: usize = 64 << 10;
const READ_CHUNK: usize = 128 << 10;
/// The deflate level. zlib-rs at 5 was, in bench/run.sh, twice as fast as
/// its own level 6 on text-heavy content for 0.1-1% more bytes, and within
/// 3% of `zip -6`'s size on both corpora (bench/README.md).
const LEVEL: u32 = 5;

/// Extensions of formats that are compressed already; deflating them again
/// costs time and gains nothing.
pub const STORED_EXTENSIONS: &[&str] = &[
    "7z", "avif", "br", "bz2", "gif", "gz", "jpeg", "jpg", "lz", "lzma", "mp3", "mp4", "ogg",
    "png", "tbz", "tgz", "txz", "webm", "webp", "woff", "woff2", "xz", "zst",
];

/// How an entry is stored in the zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}

/// An entry ready for the writer.
pub struct EncodedEntry {
    pub crc32: u32,
    pub size: u64,
    pub compressed_size: u64,
    pub method: Method,
    /// The deflated bytes; `None` for stored entries, which the writer reads
    /// from their source again.
    pub deflated: Option<SpooledTempFile>,
    /// XXH3-128 of the content, for the no-op rebuild check.
    pub content_hash: u128,
}

/// Whether `name`'s extension marks an already-compressed format.
pub fn store_by_name(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => STORED_EXTENSIONS
            .iter()
            .any(|e| e.eq_ignore_ascii_case(ext)),
        _ => false,
    }
}

/// Reads `reader` to the end and encodes it as entry `name`.
pub fn encode(name: &str, reader: impl Read) -> io::Result<EncodedEntry> {
    with_buffer(|buf| encode_with(reader, buf, !store_by_name(name)))
}

/// Reads `reader` to the end as an entry known to be stored (its CRC-32,
/// size and hash), without deflating a sample to decide: a rebuild knows
/// from the previous package (previous.rs).
pub fn store(reader: impl Read) -> io::Result<EncodedEntry> {
    with_buffer(|buf| encode_with(reader, buf, false))
}

/// Runs `f` with this thread's read buffer: allocating and zeroing 128 KiB
/// per file cost more than hashing a typical small file.
fn with_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < READ_CHUNK {
            b.resize(READ_CHUNK, 0);
        }
        f(&mut b[..READ_CHUNK])
    })
}

/// Encodes `reader`: deflated if `try_deflate` and it pays, else stored.
fn encode_with(
    mut reader: impl Read,
    buf: &mut [u8],
    try_deflate: bool,
) -> io::Result<EncodedEntry> {
    let mut crc = crc32fast::Hasher::new();
    let mut hash = Xxh3::new();
    let mut size = 0u64;
    let mut deflater = try_deflate.then(|| {
        DeflateEncoder::new(
            SpooledTempFile::new(SPOOL_IN_MEMORY),
            Compression::new(LEVEL),
        )
    });
    let mut sampled = false;
    loop {
        let n = read_full(&mut reader, buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        if !sampled {
            sampled = true;
            if deflater.is_some() && n > SAMPLE && !worth_deflating(&chunk[..SAMPLE])? {
                deflater = None;
            }
        }
        crc.update(chunk);
        hash.update(chunk);
        if let Some(d) = deflater.as_mut() {
            d.write_all(chunk)?;
        }
        size += n as u64;
    }
    let mut entry = EncodedEntry {
        crc32: crc.finalize(),
        size,
        compressed_size: size,
        method: Method::Stored,
        deflated: None,
        content_hash: hash.digest128(),
    };
    if let Some(d) = deflater {
        let mut data = d.finish()?;
        let deflated_size = data.seek(SeekFrom::End(0))?;
        if deflated_size < size {
            data.seek(SeekFrom::Start(0))?;
            entry.compressed_size = deflated_size;
            entry.method = Method::Deflated;
            entry.deflated = Some(data);
        }
    }
    Ok(entry)
}

/// A digest of what this build's deflate makes of a fixed sample. Records
/// keep it (fingerprint.rs), so that bytes deflated by another encoder
/// (another zlib-rs, another level) are never taken for this one's when a
/// rebuild copies entries from the previous package (previous.rs).
pub fn fingerprint() -> u64 {
    static FINGERPRINT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *FINGERPRINT.get_or_init(|| {
        // 48 KiB of code-like text with numbers: long and short matches
        // and literals, as in a package; deflated in about a millisecond.
        const WORDS: [&str; 12] = [
            "def", "return", "self", "import", "from", "(x)", "class", "None", "if", "else:",
            "    ", "__init__",
        ];
        let mut sample = Vec::with_capacity(50 << 10);
        let mut x: u32 = 0x9e37_79b9;
        while sample.len() < 48 << 10 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            sample.extend_from_slice(WORDS[(x >> 16) as usize % WORDS.len()].as_bytes());
            if x & 0x300 == 0 {
                sample.extend_from_slice((x % 10_007).to_string().as_bytes());
            }
            sample.push(if x & 0xc00 == 0 { b'\n' } else { b' ' });
        }
        let mut d = DeflateEncoder::new(Vec::new(), Compression::new(LEVEL));
        d.write_all(&sample).expect("writing to memory");
        xxhash_rust::xxh3::xxh3_64(&d.finish().expect("writing to memory"))
    })
}

/// Only the content hash of `reader` (for the no-op rebuild check).
pub fn content_hash(mut reader: impl Read) -> io::Result<(u64, u128)> {
    with_buffer(|buf| {
        let mut hash = Xxh3::new();
        let mut size = 0u64;
        loop {
            let n = read_full(&mut reader, buf)?;
            if n == 0 {
                return Ok((size, hash.digest128()));
            }
            hash.update(&buf[..n]);
            size += n as u64;
        }
    })
}

/// Whether deflating `sample` saves at least 3%.
fn worth_deflating(sample: &[u8]) -> io::Result<bool> {
    let mut d = DeflateEncoder::new(Vec::with_capacity(sample.len()), Compression::new(LEVEL));
    d.write_all(sample)?;
    let out = d.finish()?;
    Ok(out.len() * 100 <= sample.len() * 97)
}

/// Fills `buf` as far as the input allows (so chunk boundaries, and thus the
/// sample, do not depend on how the OS splits reads).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise (xorshift), incompressible.
    fn noise(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn compressed_formats_are_stored_by_name() {
        let text = b"import os\n".repeat(1000);
        let e = encode("App/static/logo.PNG", &text[..]).unwrap();
        assert_eq!(e.method, Method::Stored);
        assert_eq!(e.compressed_size, e.size);
        assert!(e.deflated.is_none());
        assert!(store_by_name("a/b.tar.gz"));
        assert!(!store_by_name("a/django-5.0-py3-none-any.whl"));
        assert!(!store_by_name("a/.png"), "a dot file is not a PNG");
        assert!(!store_by_name("a/zip"));
        let e = encode("App/views.py", &text[..]).unwrap();
        assert_eq!(e.method, Method::Deflated);
        assert!(e.compressed_size < e.size / 10);
    }

    #[test]
    fn incompressible_content_is_stored_after_the_sample() {
        let data = noise(300_000);
        let e = encode("App/blob.dat", &data[..]).unwrap();
        assert_eq!(e.method, Method::Stored);
        assert_eq!(e.crc32, crc32fast::hash(&data));
        // Noise followed by text: the sample decides, so it is stored too.
        let mut mixed = noise(SAMPLE + 10);
        mixed.extend(b"text ".repeat(100_000));
        assert_eq!(
            encode("App/mixed.dat", &mixed[..]).unwrap().method,
            Method::Stored
        );
        // Small noise is tried and stored because deflate does not shrink it.
        assert_eq!(
            encode("App/small.dat", &noise(1000)[..]).unwrap().method,
            Method::Stored
        );
    }

    /// A reader that hands out one byte at a time.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                Some((b, rest)) if !buf.is_empty() => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn the_result_does_not_depend_on_how_reads_are_split() {
        let mut data = b"abc ".repeat(40_000);
        data.extend(noise(5000));
        let mut a = encode("x.txt", &data[..]).unwrap();
        let mut b = encode("x.txt", Trickle(&data)).unwrap();
        let (mut da, mut db) = (Vec::new(), Vec::new());
        a.deflated.as_mut().unwrap().read_to_end(&mut da).unwrap();
        b.deflated.as_mut().unwrap().read_to_end(&mut db).unwrap();
        assert_eq!(da, db);
        assert_eq!(a.content_hash, b.content_hash);
        assert_eq!(
            content_hash(&data[..]).unwrap(),
            (data.len() as u64, a.content_hash)
        );
    }
}
