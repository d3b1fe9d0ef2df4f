//! Issue #5: `iiswsgi publish` against real servers on 127.0.0.1 (wsgidav
//! for WebDAV, moto for S3, Azurite for Azure Blob, and a small faulty HTTP
//! store for failures), and the gateway download with its cache.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use common::Server;

const EPOCH: &str = "1700000000";

fn manifest(feed_base: &str) -> String {
    format!(
        r#"
[app]
name = "Shop"
version = "1.2"
[files]
include = ["*.py"]
[feed]
url = "{feed_base}shop.webpi.xml"
package-url = "{feed_base}{{name}}/{{file}}"
"#
    )
}

fn project(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("iiswsgi.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("app.py"), "application = None\n").unwrap();
    iiswsgi(dir.path(), &["build"]).assert().success();
    dir
}

fn iiswsgi(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env("SOURCE_DATE_EPOCH", EPOCH);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT",
        "AZURE_STORAGE_USE_EMULATOR",
        "IISWSGI_HTTP_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs publish; returns (exit code, stdout + stderr).
fn publish(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = iiswsgi(dir, &["publish"]);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// What publish must have put, relative to the target: (key, bytes).
fn expected(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let dist = dir.join("dist");
    let read = |p: &str| std::fs::read(dist.join(p)).unwrap();
    vec![
        (
            "Shop/Shop-1.2.msdeploy.zip".into(),
            read("Shop-1.2.msdeploy.zip"),
        ),
        (
            "Shop/Shop-1.2.msdeploy.zip.sha256".into(),
            read("Shop-1.2.msdeploy.zip.sha256"),
        ),
        // What build wrote beside the package for administrators.
        (
            "Shop/Shop-1.2.SetParameters.xml".into(),
            read("Shop-1.2.SetParameters.xml"),
        ),
        (
            "Shop/Shop-1.2.deploy.cmd".into(),
            read("Shop-1.2.deploy.cmd"),
        ),
        (
            "Shop/Shop-1.2.deploy-readme.txt".into(),
            read("Shop-1.2.deploy-readme.txt"),
        ),
        ("shop.webpi.xml".into(), read("Shop.webpi.xml")),
    ]
}

fn get(url: &str) -> Option<Vec<u8>> {
    let response = reqwest::blocking::get(url).unwrap();
    if !response.status().is_success() {
        eprintln!("GET {url}: {}", response.status());
        return None;
    }
    Some(response.bytes().unwrap().to_vec())
}

/// Every request the faulty store answered, as "METHOD PATH STATUS" lines.
fn requests(log: &tempfile::NamedTempFile) -> Vec<String> {
    std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn flaky(args: &[&str]) -> Option<(Server, tempfile::NamedTempFile)> {
    let log = tempfile::NamedTempFile::new().unwrap();
    let python = common::venv_python()?;
    let port = common::free_port();
    let dir = tempfile::tempdir().unwrap();
    // flaky_http.py picks its own port; give it ours through a tiny wrapper.
    let mut cmd = Process::new(python);
    cmd.arg("-c")
        .arg(format!(
            "import http.server, runpy, sys; real = http.server.ThreadingHTTPServer\n\
             http.server.ThreadingHTTPServer = lambda addr, h: real(('127.0.0.1', {port}), h)\n\
             sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
        ))
        .arg(common::repo("tests/python/flaky_http.py"))
        .arg(dir.path())
        .args(args)
        .arg("--log")
        .arg(log.path());
    Some((common::start_server(cmd, port, dir), log))
}

fn stored(server: &Server) -> Vec<PathBuf> {
    walk(server.dir.path())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out.sort();
    out
}

#[test]
fn webdav_publish_downloads_back_identical_and_reruns_are_safe() {
    let Some(wsgidav) = common::venv_tool("wsgidav") else {
        return;
    };
    let port = common::free_port();
    let root = tempfile::tempdir().unwrap();
    let mut cmd = Process::new(wsgidav);
    cmd.args([
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--auth",
        "anonymous",
        "--root",
    ])
    .arg(root.path());
    let server = common::start_server(cmd, port, root);
    // The target folder exists, as a bucket or container would.
    std::fs::create_dir(server.dir.path().join("releases")).unwrap();
    let base = server.url("releases/");
    let dir = project(&manifest(&base));
    let target = server.url("releases");

    let (code, out) = publish(dir.path(), &["--target", &target], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("6 uploaded, 0 replaced, 0 unchanged"), "{out}");
    for (key, bytes) in expected(dir.path()) {
        assert_eq!(
            get(&format!("{base}{key}")).as_deref(),
            Some(&bytes[..]),
            "{key}"
        );
    }

    // Again: nothing to do.
    let (code, out) = publish(dir.path(), &["--target", &target], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 uploaded, 0 replaced, 6 unchanged"), "{out}");

    // Other bytes under the same version: refused, then replaced with --force.
    std::fs::write(dir.path().join("app.py"), "application = 'changed'\n").unwrap();
    iiswsgi(dir.path(), &["build"]).assert().success();
    let (code, out) = publish(dir.path(), &["--target", &target], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("already published with other bytes"), "{out}");
    assert!(out.contains("--force"), "{out}");
    let (code, out) = publish(dir.path(), &["--target", &target, "--force"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 replaced"), "{out}");
    for (key, bytes) in expected(dir.path()) {
        assert_eq!(
            get(&format!("{base}{key}")).as_deref(),
            Some(&bytes[..]),
            "{key}"
        );
    }
}

/// moto on a free port with a bucket named `bucket`, and the environment
/// that points publish at it.
fn moto() -> Option<(Server, String)> {
    let moto = common::venv_tool("moto_server")?;
    let port = common::free_port();
    let mut cmd = Process::new(moto);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let server = common::start_server(cmd, port, tempfile::tempdir().unwrap());
    // moto creates a bucket on a plain PUT.
    let client = reqwest::blocking::Client::new();
    assert!(
        client
            .put(server.url("bucket"))
            .send()
            .unwrap()
            .status()
            .is_success()
    );
    let endpoint = server.url("").trim_end_matches('/').to_string();
    Some((server, endpoint))
}

fn moto_env(endpoint: &str) -> [(&'static str, &str); 5] {
    [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
    ]
}

#[test]
fn s3_publish_to_moto_lists_and_compares() {
    let Some((_server, endpoint)) = moto() else {
        return;
    };
    let dir = project(&manifest("https://downloads.example.org/releases/"));
    let env = moto_env(&endpoint);
    let (code, out) = publish(dir.path(), &["--target", "s3://bucket/releases"], &env);
    assert_eq!(code, 0, "{out}");
    let Some(python) = common::venv_python() else {
        return;
    };
    let dump = tempfile::tempdir().unwrap();
    let listing = common::run_ok(
        Process::new(python)
            .arg(common::repo("tests/python/s3_objects.py"))
            .arg(&endpoint)
            .arg("bucket")
            .arg(dump.path()),
    );
    let keys: Vec<&str> = listing.lines().collect();
    assert_eq!(
        keys,
        [
            "releases/Shop/Shop-1.2.SetParameters.xml",
            "releases/Shop/Shop-1.2.deploy-readme.txt",
            "releases/Shop/Shop-1.2.deploy.cmd",
            "releases/Shop/Shop-1.2.msdeploy.zip",
            "releases/Shop/Shop-1.2.msdeploy.zip.sha256",
            "releases/shop.webpi.xml"
        ]
    );
    for (key, bytes) in expected(dir.path()) {
        let got = std::fs::read(dump.path().join("releases").join(&key)).unwrap();
        assert!(got == bytes, "{key}");
    }
    let (code, out) = publish(dir.path(), &["--target", "s3://bucket/releases"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("6 unchanged"), "{out}");
}

#[test]
fn azure_publish_to_azurite_lists_and_compares() {
    let azurite = common::repo("tests/node_modules/.bin/azurite-blob");
    if !azurite.is_file() {
        assert!(
            !common::ci(),
            "Azurite is missing: tests/run.sh installs it"
        );
        eprintln!("SKIPPED: Azurite is missing; run tests/run.sh");
        return;
    }
    let Some(python) = common::venv_python() else {
        return;
    };
    let port = common::free_port();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Process::new(azurite);
    cmd.args([
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        &port.to_string(),
        "--skipApiVersionCheck",
        "--loose",
        "--location",
    ])
    .arg(data.path());
    let server = common::start_server(cmd, port, data);
    let blob = common::repo("tests/python/azure_blob.py");
    let endpoint = server.url("devstoreaccount1");
    common::run_ok(
        Process::new(&python)
            .arg(&blob)
            .args(["create", &endpoint, "releases"]),
    );
    let dir = project(&manifest("https://downloads.example.org/apps/"));
    let env = [
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        (
            "AZURITE_BLOB_STORAGE_URL",
            endpoint.trim_end_matches("/devstoreaccount1"),
        ),
    ];
    let (code, out) = publish(dir.path(), &["--target", "az://releases/apps"], &env);
    assert_eq!(code, 0, "{out}");
    let dump = tempfile::tempdir().unwrap();
    let listing = common::run_ok(
        Process::new(&python)
            .arg(&blob)
            .args(["dump", &endpoint, "releases"])
            .arg(dump.path()),
    );
    let keys: Vec<&str> = listing.lines().collect();
    assert_eq!(
        keys,
        [
            "apps/Shop/Shop-1.2.SetParameters.xml",
            "apps/Shop/Shop-1.2.deploy-readme.txt",
            "apps/Shop/Shop-1.2.deploy.cmd",
            "apps/Shop/Shop-1.2.msdeploy.zip",
            "apps/Shop/Shop-1.2.msdeploy.zip.sha256",
            "apps/shop.webpi.xml"
        ]
    );
    for (key, bytes) in expected(dir.path()) {
        assert!(
            std::fs::read(dump.path().join("apps").join(&key)).unwrap() == bytes,
            "{key}"
        );
    }
}

#[test]
fn transient_503s_are_retried_and_each_object_lands_once() {
    let Some((server, log)) = flaky(&["--fail-first", "2"]) else {
        return;
    };
    let dir = project(&manifest(&server.url("r/")));
    let (code, out) = publish(dir.path(), &["--target", &server.url("r")], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("6 uploaded"), "{out}");
    let files: Vec<String> = stored(&server)
        .iter()
        .map(|p| {
            p.strip_prefix(server.dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        files,
        [
            "r/Shop/Shop-1.2.SetParameters.xml",
            "r/Shop/Shop-1.2.deploy-readme.txt",
            "r/Shop/Shop-1.2.deploy.cmd",
            "r/Shop/Shop-1.2.msdeploy.zip",
            "r/Shop/Shop-1.2.msdeploy.zip.sha256",
            "r/shop.webpi.xml"
        ]
    );
    for (key, bytes) in expected(dir.path()) {
        assert!(std::fs::read(server.dir.path().join("r").join(&key)).unwrap() == bytes);
    }
    // The first two PUTs were turned away with 503 and tried again; in the
    // end each object was stored by exactly one successful PUT.
    let puts: Vec<String> = requests(&log)
        .into_iter()
        .filter(|l| l.starts_with("PUT "))
        .collect();
    assert_eq!(
        puts.iter().filter(|l| l.ends_with(" 503")).count(),
        2,
        "{puts:?}"
    );
    for key in [
        "Shop/Shop-1.2.msdeploy.zip",
        "Shop/Shop-1.2.msdeploy.zip.sha256",
        "shop.webpi.xml",
    ] {
        let stored = format!("PUT /r/{key} 201");
        assert_eq!(
            puts.iter().filter(|l| **l == stored).count(),
            1,
            "{key}: {puts:?}"
        );
    }
}

#[test]
fn a_dropped_connection_fails_and_the_feed_is_not_published() {
    let Some((server, _log)) = flaky(&["--drop-put", ".msdeploy.zip"]) else {
        return;
    };
    let dir = project(&manifest(&server.url("r/")));
    let (code, out) = publish(dir.path(), &["--target", &server.url("r")], &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Shop-1.2.msdeploy.zip"), "{out}");
    assert!(
        !server.dir.path().join("r/shop.webpi.xml").exists(),
        "the feed must not point at a package that is not there"
    );
}

#[test]
fn wrong_credentials_name_the_target_and_never_print_the_secret() {
    let Some((server, log)) = flaky(&["--token", "right-token"]) else {
        return;
    };
    let dir = project(&manifest(&server.url("r/")));
    let secret = "wrong-token-1234";
    let (code, out) = publish(
        dir.path(),
        &["--target", &server.url("r")],
        &[("IISWSGI_HTTP_TOKEN", secret)],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&server.url("r")), "{out}");
    assert!(out.contains("401"), "{out}");
    assert!(!out.contains(secret), "the secret leaked:\n{out}");
    assert!(stored(&server).is_empty(), "nothing published");
    // A 401 is not transient: one request, no retries.
    assert_eq!(requests(&log).len(), 1, "{:?}", requests(&log));
    // The right token works.
    let (code, out) = publish(
        dir.path(),
        &["--target", &server.url("r")],
        &[("IISWSGI_HTTP_TOKEN", "right-token")],
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn dry_run_lists_sizes_and_hashes_and_touches_nothing() {
    let dir = project(&manifest("http://127.0.0.1:9/r/"));
    // Port 9 (discard) has no server: a dry run must not connect at all.
    let (code, out) = publish(
        dir.path(),
        &[
            "--target",
            "http://127.0.0.1:9/r",
            "--dry-run",
            "--message-format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .filter(|l| l.contains("\"published\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{out}");
    let zip = std::fs::read(dir.path().join("dist/Shop-1.2.msdeploy.zip")).unwrap();
    assert_eq!(
        lines[0]["location"],
        "http://127.0.0.1:9/r/Shop/Shop-1.2.msdeploy.zip"
    );
    assert_eq!(lines[0]["action"], "would upload");
    assert_eq!(lines[0]["size"], zip.len());
    let sums =
        std::fs::read_to_string(dir.path().join("dist/Shop-1.2.msdeploy.zip.sha256")).unwrap();
    assert_eq!(lines[0]["sha256"], sums[..64]);
}

#[test]
fn a_feed_that_is_not_where_publish_puts_it_is_refused() {
    let dir = project(&manifest("https://cdn.example.org/r/"));
    let (code, out) = publish(dir.path(), &["--target", "http://127.0.0.1:9/r"], &[]);
    assert_eq!(code, 78, "{out}");
    assert!(out.contains("but publish would put it under"), "{out}");
    let dir = project(&manifest("http://127.0.0.1:9/r/").replace(
        "package-url = \"http://127.0.0.1:9/r/",
        "package-url = \"http://127.0.0.1:9/elsewhere/",
    ));
    let (code, out) = publish(dir.path(), &["--target", "http://127.0.0.1:9/r"], &[]);
    assert_eq!(code, 78, "{out}");
    assert!(out.contains("is not under the feed's folder"), "{out}");
    assert!(
        out.contains("e.g. \"http://127.0.0.1:9/r/{name}/{file}\""),
        "the help names the feed's real folder: {out}"
    );
}

/// A one-file app whose x64 gateway is downloaded from `url`, pinned to
/// `sha256`.
fn gateway_url_project(url: &str, sha256: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("iiswsgi.toml"),
        format!(
            "[app]\nname = \"G\"\nversion = \"1\"\n[files]\ninclude = [\"*.py\"]\n[gateway]\nurl = \"{url}\"\nsha256 = \"{sha256}\"\narch = \"x64\"\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("app.py"), "x = 1\n").unwrap();
    dir
}

#[test]
fn the_gateway_is_downloaded_once_verified_and_then_used_offline() {
    let Some((server, _log)) = flaky(&[]) else {
        return;
    };
    let exe = common::fixture("gateway/gateway-x64.exe");
    let bytes = std::fs::read(&exe).unwrap();
    std::fs::write(server.dir.path().join("gw.exe"), &bytes).unwrap();
    let sha = iiswsgi::package::zip_writer::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let cache = tempfile::tempdir().unwrap();
    let make = |sha: &str| gateway_url_project(&server.url("gw.exe"), sha);
    let build = |dir: &Path| {
        iiswsgi(dir, &["build", "--force"])
            .env("IISWSGI_CACHE_DIR", cache.path())
            .output()
            .unwrap()
    };
    // A wrong hash: an error at `sha256`, nothing cached, nothing built.
    let wrong = make(&"0".repeat(64));
    let out = build(wrong.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains(&sha), "the actual hash is shown: {stderr}");
    assert!(walk(cache.path()).is_empty(), "{:?}", walk(cache.path()));
    assert!(!wrong.path().join("dist").exists());

    let good = make(&sha);
    let out = build(good.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        walk(cache.path()),
        [cache.path().join(format!("gateway/{sha}.exe"))]
    );
    // Offline: the server is gone, the cache serves.
    drop(server);
    let out = build(good.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut archive = zip::ZipArchive::new(
        std::fs::File::open(good.path().join("dist/G-1.msdeploy.zip")).unwrap(),
    )
    .unwrap();
    let mut inside = Vec::new();
    std::io::Read::read_to_end(
        &mut archive.by_name("G/bin/iiswsgi-gateway.exe").unwrap(),
        &mut inside,
    )
    .unwrap();
    assert!(inside == bytes, "the bundled gateway is the downloaded one");
}

#[test]
fn file_target_with_merge_publishes_the_shared_feed() {
    let dir = project(&manifest("https://downloads.example.org/r/"));
    let out = tempfile::tempdir().unwrap();
    let target = format!("file://{}", out.path().display());
    let shared = common::fixture("webpi/plone-unifiedinstaller-web-pi.xml");
    let (code, text) = publish(
        dir.path(),
        &["--target", &target, "--merge", shared.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0, "{text}");
    let feed = std::fs::read_to_string(out.path().join("shop.webpi.xml")).unwrap();
    assert!(
        feed.contains("<productId>Plone_4_2</productId>"),
        "the foreign entry"
    );
    assert!(feed.contains("<productId>Shop</productId>"), "ours");
    let zip = std::fs::read(dir.path().join("dist/Shop-1.2.msdeploy.zip")).unwrap();
    assert!(std::fs::read(out.path().join("Shop/Shop-1.2.msdeploy.zip")).unwrap() == zip);
}

#[test]
fn the_gateway_download_retries_503_and_then_succeeds() {
    let Some((server, log)) = flaky(&["--fail-first-get", "2"]) else {
        return;
    };
    let bytes = std::fs::read(common::fixture("gateway/gateway-x64.exe")).unwrap();
    std::fs::write(server.dir.path().join("gw.exe"), &bytes).unwrap();
    let sha = iiswsgi::package::zip_writer::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let dir = gateway_url_project(&server.url("gw.exe"), &sha);
    let cache = tempfile::tempdir().unwrap();
    iiswsgi(dir.path(), &["build"])
        .env("IISWSGI_CACHE_DIR", cache.path())
        .assert()
        .success();
    assert_eq!(
        requests(&log),
        ["GET /gw.exe 503", "GET /gw.exe 503", "GET /gw.exe 200"]
    );
}

fn wsgidav_server() -> Option<Server> {
    let wsgidav = common::venv_tool("wsgidav")?;
    let port = common::free_port();
    let root = tempfile::tempdir().unwrap();
    let mut cmd = Process::new(wsgidav);
    cmd.args([
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--auth",
        "anonymous",
        "--root",
    ])
    .arg(root.path());
    Some(common::start_server(cmd, port, root))
}

#[test]
fn webdav_folders_that_do_not_exist_yet_are_created() {
    let Some(server) = wsgidav_server() else {
        return;
    };
    // The issue's case: [feed] url under pkgs/, which the server lacks.
    let base = server.url("pkgs/");
    let dir = project(&manifest(&base));
    let (code, out) = publish(dir.path(), &["--target", &server.url("pkgs/")], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("6 uploaded"), "{out}");
    for (key, bytes) in expected(dir.path()) {
        assert_eq!(
            get(&format!("{base}{key}")).as_deref(),
            Some(&bytes[..]),
            "{key}"
        );
    }
    // Nested and missing, with the package in a subfolder (MKCOL top down,
    // then object_store's own parent folders).
    let base = server.url("a/b/c/");
    let dir = project(&manifest(&base));
    let (code, out) = publish(dir.path(), &["--target", &server.url("a/b/c")], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        server
            .dir
            .path()
            .join("a/b/c/Shop/Shop-1.2.msdeploy.zip")
            .is_file()
    );
}

#[test]
fn without_a_feed_url_the_feed_goes_to_the_target_root_and_says_where() {
    let Some(server) = wsgidav_server() else {
        return;
    };
    let dir = project("[app]\nname = \"Shop\"\nversion = \"1.2\"\n[files]\ninclude = [\"*.py\"]\n");
    let (code, out) = publish(dir.path(), &["--target", &server.url("releases")], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("6 uploaded"),
        "package, checksum and feed: {out}"
    );
    let feed_url = server.url("releases/Shop.webpi.xml");
    assert!(out.contains(&feed_url), "the feed's URL is printed: {out}");
    let feed = String::from_utf8(get(&feed_url).expect("the feed is served")).unwrap();
    let package_url = server.url("releases/Shop-1.2.msdeploy.zip");
    assert!(
        feed.contains(&format!("<installerURL>{package_url}</installerURL>")),
        "{feed}"
    );
    assert!(get(&package_url).is_some());

    // A target whose public URL cannot be known: refused before anything moves.
    let (code, out) = publish(
        dir.path(),
        &["--target", "s3://bucket/releases", "--dry-run"],
        &[],
    );
    assert_eq!(code, 78, "{out}");
    assert!(
        out.contains("[feed] url is not set") && out.contains("Shop.webpi.xml"),
        "{out}"
    );
}

#[test]
fn a_refusal_is_one_line_with_the_status_and_no_html() {
    let Some((server, _log)) = flaky(&["--refuse-put", "403"]) else {
        return;
    };
    let dir = project(&manifest(&server.url("r/")));
    let (code, out) = publish(dir.path(), &["--target", &server.url("r")], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("403"), "{out}");
    assert!(
        !out.contains("<html") && !out.contains("xxxxxxxxxx") && !out.contains("<!DOCTYPE"),
        "{out}"
    );
    let lines_mentioning = out.lines().filter(|l| l.contains("403")).count();
    assert_eq!(lines_mentioning, 1, "{out}");
}

/// A built project whose package is `mb` MiB of incompressible bytes.
fn large_project(manifest: &str, mb: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("iiswsgi.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("app.py"), "application = None\n").unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let data: Vec<u8> = (0..mb << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(dir.path().join("blob.bin"), data).unwrap();
    let toml = manifest.replace("include = [\"*.py\"]", "include = [\"*.py\", \"blob.bin\"]");
    std::fs::write(dir.path().join("iiswsgi.toml"), toml).unwrap();
    iiswsgi(dir.path(), &["build"]).assert().success();
    dir
}

#[test]
fn large_packages_stream_to_s3_in_parts_and_to_http_in_one_streamed_put() {
    let Some((_server, endpoint)) = moto() else {
        return;
    };
    let Some(python) = common::venv_python() else {
        return;
    };
    let dir = large_project(&manifest("https://downloads.example.org/releases/"), 20);
    let zip = dir.path().join("dist/Shop-1.2.msdeploy.zip");
    let size = std::fs::metadata(&zip).unwrap().len();
    assert!(size > 16 << 20, "above the streaming threshold: {size}");
    let env = moto_env(&endpoint);
    let (code, out) = publish(dir.path(), &["--target", "s3://bucket/releases"], &env);
    assert_eq!(code, 0, "{out}");
    let dump = tempfile::tempdir().unwrap();
    let listing = common::run_ok(
        Process::new(&python)
            .arg(common::repo("tests/python/s3_objects.py"))
            .arg(&endpoint)
            .arg("bucket")
            .arg(dump.path())
            .arg("etags"),
    );
    // 20+ MiB in 8 MiB parts: a three-part multipart upload.
    let etag = listing
        .lines()
        .find_map(|l| l.strip_prefix("releases/Shop/Shop-1.2.msdeploy.zip "))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(etag.ends_with("-3"), "multipart ETag expected, got {etag}");
    assert!(
        std::fs::read(dump.path().join("releases/Shop/Shop-1.2.msdeploy.zip")).unwrap()
            == std::fs::read(&zip).unwrap()
    );
    // Re-run: compared by streaming the object back, nothing uploaded.
    let (code, out) = publish(dir.path(), &["--target", "s3://bucket/releases"], &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("6 unchanged"), "{out}");

    // HTTP: one PUT streamed from the file, retried from the start after a 503.
    let Some((http, log)) = flaky(&["--fail-first", "1"]) else {
        return;
    };
    let dir = large_project(&manifest(&http.url("r/")), 20);
    let (code, out) = publish(dir.path(), &["--target", &http.url("r")], &[]);
    assert_eq!(code, 0, "{out}");
    let puts: Vec<String> = requests(&log)
        .into_iter()
        .filter(|l| l.starts_with("PUT /r/Shop/Shop-1.2.msdeploy.zip "))
        .collect();
    assert_eq!(
        puts,
        [
            "PUT /r/Shop/Shop-1.2.msdeploy.zip 503",
            "PUT /r/Shop/Shop-1.2.msdeploy.zip 201"
        ]
    );
    assert!(
        std::fs::read(http.dir.path().join("r/Shop/Shop-1.2.msdeploy.zip")).unwrap()
            == std::fs::read(dir.path().join("dist/Shop-1.2.msdeploy.zip")).unwrap()
    );
}
