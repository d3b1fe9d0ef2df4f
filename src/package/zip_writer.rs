//! A deterministic zip writer shaped like msdeploy's own packages.
//!
//! Why not the `zip` crate's writer: msdeploy writes version-made-by 20 with
//! the MS-DOS host and DOS attributes (0x10 folders, 0x20 files), no extra
//! fields and no data descriptors (`shared/fixtures/msdeploy/zip-entries.tsv`);
//! we want exactly that and nothing the library adds on its own, and we want
//! to write entries that were encoded beforehand, on other threads
//! ([`super::encode`]). So every local header carries the real CRC and
//! sizes; the output is written front to back, never seeked, and hashed
//! while it is written.

use std::io::{self, Read, Write};

use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::encode::{EncodedEntry, Method};
const VERSION: u16 = 20; // 2.0: deflate, folders; host 0 = MS-DOS
const FLAG_UTF8: u16 = 0x0800;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
const ATTR_DIRECTORY: u32 = 0x10;
const ATTR_ARCHIVE: u32 = 0x20;

/// Why the zip could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(
        "the package would exceed 4 GiB, which needs ZIP64; Web Deploy packages must stay below that"
    )]
    TooLarge,
    #[error("the package would hold more than 65,535 entries, which needs ZIP64")]
    TooManyEntries,
    #[error("`{0}` changed while it was being packaged")]
    SourceChanged(String),
}

struct CentralRecord {
    name: String,
    flags: u16,
    method: u16,
    crc32: u32,
    compressed_size: u32,
    size: u32,
    external_attr: u32,
    offset: u32,
}

/// Digests of everything written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    pub sha1: String,
    pub sha256: String,
}

/// Writes entries in the order they are given.
pub struct ZipWriter<W: Write> {
    out: W,
    written: u64,
    sha1: Sha1,
    sha256: Sha256,
    time: u16,
    date: u16,
    central: Vec<CentralRecord>,
}

impl<W: Write> ZipWriter<W> {
    /// Every entry gets the same DOS `time` and `date`.
    pub fn new(out: W, (time, date): (u16, u16)) -> Self {
        ZipWriter {
            out,
            written: 0,
            sha1: Sha1::new(),
            sha256: Sha256::new(),
            time,
            date,
            central: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), ZipError> {
        self.out.write_all(bytes)?;
        self.sha1.update(bytes);
        self.sha256.update(bytes);
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn offset(&self) -> Result<u32, ZipError> {
        u32::try_from(self.written).map_err(|_| ZipError::TooLarge)
    }

    /// A folder entry; `name` ends with `/`.
    pub fn add_directory(&mut self, name: &str) -> Result<(), ZipError> {
        debug_assert!(name.ends_with('/'));
        self.add_record(name, METHOD_STORED, 0, 0, 0, ATTR_DIRECTORY)?;
        Ok(())
    }

    /// A file entry encoded by [`super::encode::encode`]. A stored entry's
    /// bytes are read from `source` (the same bytes again) and checked
    /// against the CRC and size found when it was encoded.
    pub fn add_file(
        &mut self,
        name: &str,
        entry: EncodedEntry,
        source: &mut dyn Read,
    ) -> Result<(), ZipError> {
        let size = u32::try_from(entry.size).map_err(|_| ZipError::TooLarge)?;
        let csize = u32::try_from(entry.compressed_size).map_err(|_| ZipError::TooLarge)?;
        let method = match entry.method {
            Method::Stored => METHOD_STORED,
            Method::Deflated => METHOD_DEFLATED,
        };
        self.add_record(name, method, entry.crc32, csize, size, ATTR_ARCHIVE)?;
        let mut buf = vec![0u8; 128 * 1024];
        match entry.deflated {
            Some(mut data) => loop {
                let n = data.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                self.emit(&buf[..n])?;
            },
            None => {
                let mut crc = crc32fast::Hasher::new();
                let mut copied = 0u64;
                loop {
                    let n = source.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    copied += n as u64;
                    if copied > entry.size {
                        return Err(ZipError::SourceChanged(name.to_string()));
                    }
                    crc.update(&buf[..n]);
                    self.emit(&buf[..n])?;
                }
                if copied != entry.size || crc.finalize() != entry.crc32 {
                    return Err(ZipError::SourceChanged(name.to_string()));
                }
            }
        }
        Ok(())
    }

    fn add_record(
        &mut self,
        name: &str,
        method: u16,
        crc32: u32,
        compressed_size: u32,
        size: u32,
        external_attr: u32,
    ) -> Result<(), ZipError> {
        if self.central.len() >= u16::MAX as usize {
            return Err(ZipError::TooManyEntries);
        }
        // Names are stored as UTF-8; the flag says so when that differs from ASCII.
        let flags = if name.is_ascii() { 0 } else { FLAG_UTF8 };
        let offset = self.offset()?;
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&VERSION.to_le_bytes()); // version needed
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&method.to_le_bytes());
        h.extend_from_slice(&self.time.to_le_bytes());
        h.extend_from_slice(&self.date.to_le_bytes());
        h.extend_from_slice(&crc32.to_le_bytes());
        h.extend_from_slice(&compressed_size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // no extra field
        h.extend_from_slice(name.as_bytes());
        self.emit(&h)?;
        self.central.push(CentralRecord {
            name: name.to_string(),
            flags,
            method,
            crc32,
            compressed_size,
            size,
            external_attr,
            offset,
        });
        Ok(())
    }

    /// Writes the central directory; returns the writer and the digests of
    /// the whole archive.
    pub fn finish(mut self) -> Result<(W, Digests), ZipError> {
        let cd_start = self.offset()?;
        let records = std::mem::take(&mut self.central);
        for r in &records {
            let mut c = Vec::with_capacity(46 + r.name.len());
            c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            c.extend_from_slice(&VERSION.to_le_bytes()); // made by: 2.0, MS-DOS
            c.extend_from_slice(&VERSION.to_le_bytes()); // needed
            c.extend_from_slice(&r.flags.to_le_bytes());
            c.extend_from_slice(&r.method.to_le_bytes());
            c.extend_from_slice(&self.time.to_le_bytes());
            c.extend_from_slice(&self.date.to_le_bytes());
            c.extend_from_slice(&r.crc32.to_le_bytes());
            c.extend_from_slice(&r.compressed_size.to_le_bytes());
            c.extend_from_slice(&r.size.to_le_bytes());
            c.extend_from_slice(&(r.name.len() as u16).to_le_bytes());
            c.extend_from_slice(&0u16.to_le_bytes()); // extra
            c.extend_from_slice(&0u16.to_le_bytes()); // comment
            c.extend_from_slice(&0u16.to_le_bytes()); // disk
            c.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            c.extend_from_slice(&r.external_attr.to_le_bytes());
            c.extend_from_slice(&r.offset.to_le_bytes());
            c.extend_from_slice(r.name.as_bytes());
            self.emit(&c)?;
        }
        let cd_size = self.offset()? - cd_start;
        let count = records.len() as u16;
        let mut e = Vec::with_capacity(22);
        e.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&cd_size.to_le_bytes());
        e.extend_from_slice(&cd_start.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes()); // comment length
        self.emit(&e)?;
        self.out.flush()?;
        let digests = Digests {
            size: self.written,
            sha1: hex(&self.sha1.finalize()),
            sha256: hex(&self.sha256.finalize()),
        };
        Ok((self.out, digests))
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(&str, &[u8])]) -> (Vec<u8>, Digests) {
        let mut w = ZipWriter::new(Vec::new(), (0, 0x21));
        for (name, data) in entries {
            if name.ends_with('/') {
                w.add_directory(name).unwrap();
            } else {
                let encoded = super::super::encode::encode(name, *data).unwrap();
                w.add_file(name, encoded, &mut &data[..]).unwrap();
            }
        }
        w.finish().unwrap()
    }

    #[test]
    fn the_zip_crate_reads_what_we_write() {
        let text = b"hello hello hello hello hello hello".repeat(20);
        let (bytes, digests) = build(&[
            ("App/", b""),
            ("App/a.txt", &text),
            ("App/rand.bin", &[0x8f, 0x13, 0x77]),
            ("App/logo.png", &text),
            ("App/\u{e9}t\u{e9}.txt", b"x"),
        ]);
        assert_eq!(digests.size, bytes.len() as u64);
        assert_eq!(digests.sha256, hex(&Sha256::digest(&bytes)));
        let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 5);
        let mut a = archive.by_name("App/a.txt").unwrap();
        assert_eq!(a.compression(), zip::CompressionMethod::Deflated);
        assert!(a.extra_data().is_none_or(|e| e.is_empty()));
        let mut out = Vec::new();
        a.read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        drop(a);
        // Three bytes of noise do not shrink: stored.
        let stored = archive.by_name("App/rand.bin").unwrap();
        assert_eq!(stored.compression(), zip::CompressionMethod::Stored);
        drop(stored);
        let mut wheel = archive.by_name("App/logo.png").unwrap();
        assert_eq!(wheel.compression(), zip::CompressionMethod::Stored);
        let mut out = Vec::new();
        wheel.read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        drop(wheel);
        assert!(archive.by_name("App/\u{e9}t\u{e9}.txt").is_ok());
        assert!(archive.by_name("App/").unwrap().is_dir());
        drop(archive);
    }

    #[test]
    fn central_directory_fields_match_msdeploy() {
        let (bytes, _) = build(&[
            ("App/", b""),
            ("App/a.txt", b"aaaaaaaaaaaaaaaaaaaaaaaa"),
            ("App/\u{e9}.txt", b"e"),
        ]);
        let headers: Vec<usize> = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == 0x0201_4b50u32.to_le_bytes())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(headers.len(), 3);
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        // The UTF-8 flag (bit 11) only on the non-ASCII name; never a data descriptor.
        for (h, (attr, flags)) in headers
            .into_iter()
            .zip([(0x10, 0), (0x20, 0), (0x20, 0x0800)])
        {
            assert_eq!(u16_at(h + 4), 20, "version made by 2.0, host MS-DOS");
            assert_eq!(u16_at(h + 6), 20, "version needed");
            assert_eq!(u16_at(h + 8), flags, "flag bits");
            assert_eq!(u16_at(h + 30), 0, "no extra field");
            assert_eq!(u32_at(h + 38), attr, "DOS attributes");
        }
        // Local headers carry no extra field either, and the real CRC.
        assert_eq!(u16_at(28), 0);
        assert_eq!(u16_at(6), 0);
    }

    #[test]
    fn same_input_same_bytes() {
        let entries: &[(&str, &[u8])] = &[("a/", b""), ("a/b", b"bbbb")];
        assert_eq!(build(entries).0, build(entries).0);
    }
}

#[cfg(test)]
mod changed_source {
    use super::*;

    #[test]
    fn a_stored_source_that_changed_since_encoding_is_an_error() {
        let data = b"abc".repeat(10);
        let entry = super::super::encode::encode("x.gz", &data[..]).unwrap();
        let mut w = ZipWriter::new(Vec::new(), (0, 0x21));
        let other = b"abd".repeat(10);
        let err = w.add_file("x.gz", entry, &mut &other[..]).unwrap_err();
        assert!(matches!(err, ZipError::SourceChanged(_)), "{err}");
    }
}
