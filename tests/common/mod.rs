//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod wine;

use std::path::{Path, PathBuf};

/// `shared/` beside the repository: the fixtures written by others.
pub fn shared() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.join("fixtures").is_dir(),
        "the shared fixtures must be at {} (they come with the repository's checkout)",
        dir.display()
    );
    dir
}

pub fn fixture(rel: &str) -> PathBuf {
    shared().join("fixtures").join(rel)
}

pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// iiswsgi 0.3's examples/pyramid.msdeploy, ported: its own web.config
/// template and runCommand, TextFile parameters with an enumeration. It
/// cannot serve (the server creates its project with Python 2.7's
/// pcreate), so it lives in tests/data as a build input, not in examples/.
pub const LEGACY_PYRAMID: &str = "iiswsgi-0.3-pyramid";

/// The folder of a bundled example, or of the legacy port.
pub fn project(name: &str) -> PathBuf {
    if name == LEGACY_PYRAMID {
        repo("tests/data/iiswsgi-0.3-pyramid")
    } else {
        repo(&format!("examples/{name}"))
    }
}

/// Copies a bundled example (or the legacy port) into a temp folder and
/// builds it there with SOURCE_DATE_EPOCH as given (unset: the default);
/// the folder and the package.
pub fn build_project(name: &str, epoch: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&project(name), dir.path());
    let mut cmd = assert_cmd::Command::cargo_bin("iiswsgi").unwrap();
    cmd.current_dir(dir.path())
        .arg("build")
        .env_remove("SOURCE_DATE_EPOCH");
    if let Some(e) = epoch {
        cmd.env("SOURCE_DATE_EPOCH", e);
    }
    cmd.assert().success();
    let zip = std::fs::read_dir(dir.path().join("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "zip"))
        .unwrap();
    (dir, zip)
}

/// Rows of a tab-separated file with a header line, as column maps.
pub fn tsv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Copies a folder recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "dist" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Whether CI demands every external prerequisite.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Finds an external tool; in CI a missing tool fails the test instead of
/// skipping it.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !ci(),
            "`{name}` is required in CI (tests/run.sh installs it)"
        );
        eprintln!("SKIPPED: `{name}` is not installed; run tests/run.sh to install it");
    }
    found
}

/// Writes `manifest` as iiswsgi.toml in a new temp folder and builds it.
pub fn build_manifest(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("iiswsgi.toml"), manifest).unwrap();
    assert_cmd::Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .arg("build")
        .assert()
        .success();
    dir
}

/// Runs an external program and fails the test, showing its output, unless it succeeds.
pub fn run_ok(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Python of tests/.venv (made by tests/run.sh with the packages of
/// tests/python/requirements.txt); in CI its absence fails the test.
pub fn venv_python() -> Option<PathBuf> {
    let venv = repo("tests/.venv/bin/python");
    if venv.is_file() {
        return Some(venv);
    }
    assert!(!ci(), "tests/.venv is missing: tests/run.sh creates it");
    eprintln!("SKIPPED: tests/.venv is missing; run tests/run.sh");
    None
}

/// Validates `xml` against `schema` with xmllint; returns xmllint's verdict
/// (Ok, or Err with its messages), or None when xmllint is missing outside CI.
pub fn xmllint_schema(schema: &Path, xml: &Path) -> Option<Result<(), String>> {
    let xmllint = tool("xmllint")?;
    let out = std::process::Command::new(xmllint)
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(xml)
        .output()
        .unwrap();
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

/// A server process on 127.0.0.1 for the duration of a test.
pub struct Server {
    pub child: std::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `cmd` (already told to listen on `port`) and waits until the port
/// accepts connections.
pub fn start_server(mut cmd: std::process::Command, port: u16, dir: tempfile::TempDir) -> Server {
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let server = Server { child, port, dir };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{cmd:?} did not listen on {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server
}

/// A program installed into tests/.venv/bin by tests/run.sh.
pub fn venv_tool(name: &str) -> Option<PathBuf> {
    let path = repo(&format!("tests/.venv/bin/{name}"));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !ci(),
        "tests/.venv/bin/{name} is missing: tests/run.sh installs it"
    );
    eprintln!("SKIPPED: tests/.venv/bin/{name} is missing; run tests/run.sh");
    None
}

/// The venv with Flask, Django and flup that tests/run.sh makes
/// (IISWSGI_TEST_VENV); None (skip) or, when CI=true, a failure.
pub fn wsgi_test_venv() -> Option<PathBuf> {
    match std::env::var_os("IISWSGI_TEST_VENV").map(PathBuf::from) {
        Some(p) if p.join("bin/django-admin").is_file() => Some(p),
        _ => {
            assert!(
                !ci(),
                "IISWSGI_TEST_VENV (Django) is needed: tests/run.sh makes it"
            );
            eprintln!("SKIPPED: IISWSGI_TEST_VENV is not set; run tests/run.sh");
            None
        }
    }
}

/// Runs the iiswsgi under test in `dir` with `env` added: its exit code
/// and standard output then error, as one text.
pub fn iiswsgi(dir: &Path, args: &[&str], env: &[(&str, PathBuf)]) -> (i32, String) {
    let mut cmd = assert_cmd::Command::cargo_bin("iiswsgi").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env_remove("IISWSGI_GATEWAY_BIN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
