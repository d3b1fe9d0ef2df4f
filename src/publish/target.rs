//! Where `publish` puts things: a folder, a WebDAV-style HTTP server, an S3
//! bucket or an Azure Blob container, all through `object_store`, with
//! credentials from each ecosystem's own environment variables only.
//!
//! | target | credentials from |
//! |---|---|
//! | `file:///path` | none |
//! | `http(s)://host/path/` | `IISWSGI_HTTP_TOKEN` (bearer) or `IISWSGI_HTTP_USER` + `IISWSGI_HTTP_PASSWORD` (basic) |
//! | `s3://bucket/prefix` | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` (S3-compatible servers), ... |
//! | `az://container/prefix` | `AZURE_STORAGE_ACCOUNT_NAME` + `AZURE_STORAGE_ACCOUNT_KEY` or `AZURE_STORAGE_SAS_KEY`; `AZURE_STORAGE_USE_EMULATOR` for Azurite |

use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

/// An opened target.
pub struct Target {
    pub store: Arc<dyn ObjectStore>,
    /// Folder inside the store every key goes under.
    pub prefix: String,
    /// The target as shown in messages (no secrets: they are never in it).
    pub display: String,
    /// For http(s) targets, the base URL (large packages are streamed
    /// there with a PUT of their own, see `stream.rs`).
    pub http_base: Option<String>,
}

impl Target {
    /// The store path of `key` (a `/`-separated path relative to the target).
    pub fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Where `key` is, as shown to users.
    pub fn describe(&self, key: &str) -> String {
        format!("{}/{key}", self.display.trim_end_matches('/'))
    }
}

/// Retries: transient failures only (connection errors, timeouts, 429,
/// 5xx; object_store never retries other 4xx), exponential back-off.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            base: 2.0,
        },
        max_retries: 4,
        retry_timeout: Duration::from_secs(180),
    }
}

fn client_options() -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(300))
        .with_allow_http(true)
}

/// Opens `target`. The error is a message for the user.
pub fn open(target: &str) -> Result<Target, String> {
    let (scheme, rest) = target
        .split_once("://")
        .ok_or_else(|| format!("`{target}` is not a URL"))?;
    let opened = |store: Arc<dyn ObjectStore>, prefix: String| Target {
        store,
        prefix,
        display: target.to_string(),
        http_base: matches!(scheme, "http" | "https")
            .then(|| target.trim_end_matches('/').to_string()),
    };
    let split = |rest: &str| -> (String, String) {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (bucket.to_string(), prefix.trim_matches('/').to_string())
    };
    let failed = |e: object_store::Error| e.to_string();
    match scheme {
        "file" => {
            let dir = std::path::PathBuf::from(rest);
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {rest}: {e}"))?;
            let store =
                object_store::local::LocalFileSystem::new_with_prefix(&dir).map_err(failed)?;
            Ok(opened(Arc::new(store), String::new()))
        }
        "http" | "https" => {
            // WebDAV servers close idle keep-alive connections at will, and
            // a PUT sent on one that just closed fails in a way object_store
            // does not retry: use a fresh connection per request.
            let mut options = client_options().with_pool_max_idle_per_host(0);
            if let Some(header) = http_authorization() {
                let mut headers = reqwest::header::HeaderMap::new();
                headers.insert(reqwest::header::AUTHORIZATION, header);
                options = options.with_default_headers(headers);
            }
            let store = object_store::http::HttpBuilder::new()
                .with_url(target.trim_end_matches('/'))
                .with_client_options(options)
                .with_retry(retry())
                .build()
                .map_err(failed)?;
            Ok(opened(Arc::new(store), String::new()))
        }
        "s3" => {
            let (bucket, prefix) = split(rest);
            let builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
            let store = builder
                .with_client_options(client_options())
                .with_retry(retry());
            Ok(opened(Arc::new(store.build().map_err(failed)?), prefix))
        }
        "az" => {
            let (container, prefix) = split(rest);
            let builder = object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_container_name(container);
            let store = builder
                .with_client_options(client_options())
                .with_retry(retry());
            Ok(opened(Arc::new(store.build().map_err(failed)?), prefix))
        }
        other => Err(format!("`{other}://` is not a publish target")),
    }
}

/// WebDAV: makes the target's folder and each folder above it (MKCOL, top
/// down), as nginx dav, Apache mod_dav, Artifactory and Nexus expect of a
/// client: a PUT into a folder that does not exist is a 409 there.
/// `405 Method Not Allowed` means the folder exists; a server that knows no
/// MKCOL (404, 501) is left to answer the PUT. Refused credentials end it.
pub async fn create_collections(target: &str) -> Result<(), String> {
    let Some((scheme @ ("http" | "https"), rest)) = target.split_once("://") else {
        return Ok(());
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())?;
    let mkcol = reqwest::Method::from_bytes(b"MKCOL").expect("a valid method name");
    let mut url = format!("{scheme}://{host}/");
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        url.push_str(segment);
        url.push('/');
        let mut request = client.request(mkcol.clone(), &url);
        if let Some(header) = http_authorization() {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        let response = request.send().await.map_err(|e| {
            format!(
                "MKCOL {url}: {}",
                super::server_reply::one_line(&e.to_string())
            )
        })?;
        let status = response.status();
        match status.as_u16() {
            401 | 403 | 407 => {
                let first = super::server_reply::first_text_line(response).await;
                return Err(format!(
                    "MKCOL {url}: the server refused to create the folder: {status}{first}"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The `Authorization` header for HTTP targets, from the environment,
/// marked sensitive so that it is never logged.
pub fn http_authorization() -> Option<reqwest::header::HeaderValue> {
    use base64::Engine as _;
    let value = if let Ok(token) = std::env::var("IISWSGI_HTTP_TOKEN") {
        format!("Bearer {token}")
    } else {
        let user = std::env::var("IISWSGI_HTTP_USER").ok()?;
        let password = std::env::var("IISWSGI_HTTP_PASSWORD").unwrap_or_default();
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}")
    };
    let mut header = reqwest::header::HeaderValue::from_str(&value).ok()?;
    header.set_sensitive(true);
    Some(header)
}
