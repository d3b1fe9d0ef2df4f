//! Uploading and reading back packages without holding them in memory.
//!
//! A package above [`STREAM_THRESHOLD`] goes to S3 and Azure as a multipart
//! upload of [`PART_SIZE`] parts (at most [`PARTS_IN_FLIGHT`] at once), and
//! to HTTP servers as one PUT whose body is read from the file as it is
//! sent. Reading back for verification hashes the body as it arrives.
//! Memory stays at a few parts whatever the package's size.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

use super::server_reply::one_line;
use super::target::Target;
use crate::package::zip_writer::hex;

/// Packages up to this size are simply read and put whole.
pub const STREAM_THRESHOLD: u64 = 16 << 20;
/// One part of a multipart upload, and one read of a streamed body.
pub const PART_SIZE: usize = 8 << 20;
/// Parts uploading at once.
pub const PARTS_IN_FLIGHT: usize = 2;

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Puts the file at `path` under `key` in parts; `progress` hears of each.
pub async fn put_file(
    target: &Target,
    key: &str,
    path: &Path,
    size: u64,
    progress: &indicatif::ProgressBar,
) -> Result<(), String> {
    let place = target.describe(key);
    progress.set_length(size);
    if let Some(base) = &target.http_base {
        return put_http(base, key, path, size, progress)
            .await
            .map_err(|e| format!("uploading {place}: {e}"));
    }
    let failed =
        |e: object_store::Error| format!("uploading {place}: {}", one_line(&e.to_string()));
    let upload = target
        .store
        .put_multipart(&target.path(key))
        .await
        .map_err(failed)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0u8; PART_SIZE];
    loop {
        let n = read_full(&mut file, &mut buf).map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
            return Err(failed(e));
        }
        writer.write(&buf[..n]);
        progress.inc(n as u64);
    }
    writer.finish().await.map_err(failed)?;
    Ok(())
}

/// One PUT with a body streamed from the file, retried from the start on
/// transient failures (connection errors, 429, 5xx) as object_store does.
async fn put_http(
    base: &str,
    key: &str,
    path: &Path,
    size: u64,
    progress: &indicatif::ProgressBar,
) -> Result<(), String> {
    let url = format!("{}/{}", base.trim_end_matches('/'), key);
    if let Some((parent, _)) = url.rsplit_once('/') {
        super::target::create_collections(parent).await?;
    }
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(3600))
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())?;
    let mut delay = Duration::from_millis(200);
    for attempt in 0..5 {
        progress.set_position(0);
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bar = progress.clone();
        let chunks = futures::stream::unfold(file, move |mut file| {
            let bar = bar.clone();
            async move {
                let mut buf = vec![0u8; 1 << 20];
                match read_full(&mut file, &mut buf) {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        bar.inc(n as u64);
                        Some((Ok::<Bytes, std::io::Error>(Bytes::from(buf)), file))
                    }
                    Err(e) => Some((Err(e), file)),
                }
            }
        });
        let mut request = client
            .put(&url)
            .header(reqwest::header::CONTENT_LENGTH, size)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(chunks));
        if let Some(header) = super::target::http_authorization() {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        let transient = match request.send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => {
                let status = response.status();
                let first = super::server_reply::first_text_line(response).await;
                if !(status.is_server_error() || status.as_u16() == 429) {
                    return Err(format!("the server answered {status}{first}"));
                }
                format!("the server answered {status}{first}")
            }
            Err(e) => one_line(&e.to_string()),
        };
        if attempt == 4 {
            return Err(format!("{transient} (after 5 attempts)"));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
    unreachable!("the loop returns on its last attempt")
}

/// Size and SHA-256 of what the store serves under `key`, hashed as it
/// arrives; None when there is nothing.
pub async fn served_digest(target: &Target, key: &str) -> Result<Option<(u64, String)>, String> {
    let got = match target.store.get(&target.path(key)).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => {
            return Err(format!(
                "reading {}: {}",
                target.describe(key),
                one_line(&e.to_string())
            ));
        }
    };
    let mut stream = got.into_stream();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            format!(
                "reading {}: {}",
                target.describe(key),
                one_line(&e.to_string())
            )
        })?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok(Some((size, hex(&hasher.finalize()))))
}
