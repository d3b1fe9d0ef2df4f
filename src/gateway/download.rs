//! `[gateway] url` + `sha256`: the prebuilt gateway, downloaded once,
//! verified, and cached by its hash so later builds work offline.
//!
//! The download goes to a temporary file in the cache folder and is hashed
//! while it is written; only a file with the expected SHA-256 is renamed to
//! `<cache>/gateway/<sha256>.exe`. A mismatch leaves nothing behind. Transient
//! failures (connection errors, timeouts, 429, 5xx) are retried with
//! exponential back-off; other HTTP errors are not.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::package::zip_writer::hex;

const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the gateway could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("downloading {url} failed after {attempts} attempts: {message}")]
    Failed {
        url: String,
        attempts: u32,
        message: String,
    },
    #[error("downloading {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("the file at {url} has SHA-256 {actual}, not the {expected} that iiswsgi.toml expects")]
    Mismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("gateway cache {}: {source}", path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The folder iiswsgi caches downloads in: `IISWSGI_CACHE_DIR`, else the
/// platform's user cache folder.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IISWSGI_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = if cfg!(windows) {
        std::env::var_os("LOCALAPPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Caches"))
    } else {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
    };
    base.unwrap_or_else(std::env::temp_dir).join("iiswsgi")
}

/// The cached gateway with SHA-256 `sha256`, downloading it from `url` first
/// if it is not cached (or the cached copy does not match).
pub fn fetch(url: &str, sha256: &str) -> Result<PathBuf, DownloadError> {
    let expected = sha256.to_ascii_lowercase();
    let dir = cache_dir().join("gateway");
    let cached = dir.join(format!("{expected}.exe"));
    let cache_err = |path: &PathBuf| {
        let path = path.clone();
        move |source| DownloadError::Cache { path, source }
    };
    if let Ok(bytes) = std::fs::read(&cached) {
        if hex(&Sha256::digest(&bytes)) == expected {
            return Ok(cached);
        }
        // Damaged: fetch it again.
        let _ = std::fs::remove_file(&cached);
    }
    std::fs::create_dir_all(&dir).map_err(cache_err(&dir))?;
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(READ_TIMEOUT)
        .user_agent(concat!("iiswsgi/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| DownloadError::Failed {
            url: url.to_string(),
            attempts: 0,
            message: e.to_string(),
        })?;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            std::thread::sleep(FIRST_BACKOFF * 2u32.pow(attempt - 2));
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".download.")
            .tempfile_in(&dir)
            .map_err(cache_err(&dir))?;
        let response = match client.get(url).send() {
            Ok(r) => r,
            Err(e) => {
                last = e.to_string();
                continue; // connection errors and timeouts are transient
            }
        };
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            last = format!("HTTP {status}");
            continue;
        }
        if !status.is_success() {
            return Err(DownloadError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let mut hasher = Sha256::new();
        let mut reader = response;
        let mut buf = vec![0u8; 64 * 1024];
        let copied: Result<(), String> = loop {
            match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    if let Err(e) = tmp.write_all(&buf[..n]) {
                        return Err(cache_err(&dir)(e));
                    }
                }
                Err(e) => break Err(e.to_string()),
            }
        };
        if let Err(e) = copied {
            last = e;
            continue; // the connection dropped mid-body
        }
        let actual = hex(&hasher.finalize());
        if actual != expected {
            return Err(DownloadError::Mismatch {
                url: url.to_string(),
                expected,
                actual,
            });
        }
        tmp.as_file().sync_all().map_err(cache_err(&dir))?;
        tmp.persist(&cached)
            .map_err(|e| cache_err(&cached)(e.error))?;
        return Ok(cached);
    }
    Err(DownloadError::Failed {
        url: url.to_string(),
        attempts: ATTEMPTS,
        message: last,
    })
}
