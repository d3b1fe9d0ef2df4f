//! What the feed says about a built package (size, SHA-1, SHA-256), read
//! from the package itself and checked against the `.sha256` that `build`
//! wrote beside it, so a feed never describes bytes that were never built.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::error::Error;
use crate::package::zip_writer::hex;

/// A package as it is on disk now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFacts {
    pub path: PathBuf,
    /// `<name>-<version>.msdeploy.zip`
    pub file_name: String,
    pub size: u64,
    /// Lower-case hex, as WebPI's `sha1` element wants it.
    pub sha1: String,
    pub sha256: String,
}

impl PackageFacts {
    /// `fileSize`: kilobytes rounded up, at least 1 (reference section 6).
    pub fn size_kb(&self) -> u64 {
        self.size.div_ceil(1024).max(1)
    }
}

/// Reads `dir/file_name` and checks it against `dir/file_name.sha256`.
pub fn read(dir: &Path, file_name: &str) -> Result<PackageFacts, Error> {
    let path = dir.join(file_name);
    let stale = |why: String| Error::StalePackage {
        path: path.clone(),
        why,
    };
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(stale("it does not exist".into()));
        }
        Err(source) => return Err(Error::Io { path, source }),
    };
    let (mut sha1, mut sha256, mut size) = (Sha1::new(), Sha256::new(), 0u64);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        if n == 0 {
            break;
        }
        sha1.update(&buf[..n]);
        sha256.update(&buf[..n]);
        size += n as u64;
    }
    let facts = PackageFacts {
        path: path.clone(),
        file_name: file_name.to_string(),
        size,
        sha1: hex(&sha1.finalize()),
        sha256: hex(&sha256.finalize()),
    };
    let sidecar = dir.join(format!("{file_name}.sha256"));
    let recorded = std::fs::read_to_string(&sidecar).map_err(|_| {
        stale(format!(
            "its checksum file {} is missing",
            sidecar.display()
        ))
    })?;
    match recorded.split_whitespace().next() {
        Some(sum) if sum.eq_ignore_ascii_case(&facts.sha256) => Ok(facts),
        _ => Err(stale(format!(
            "its bytes changed since it was built (SHA-256 {} does not match {})",
            facts.sha256,
            sidecar.display()
        ))),
    }
}
