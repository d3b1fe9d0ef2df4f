//! Test support: a FastCGI client that speaks to the gateway the way IIS
//! and mod_fcgid do, and a gateway process started with a listening socket
//! as standard input (FCGI_LISTENSOCK_FILENO), as mod_fcgid starts it.
#![allow(dead_code)]

pub mod apache;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // each test binary uses some
pub use fastcgi::record::kind::{
    ABORT_REQUEST, BEGIN_REQUEST, END_REQUEST, GET_VALUES, GET_VALUES_RESULT, PARAMS, STDIN,
    STDOUT, UNKNOWN_TYPE,
};

/// The gateway the tests run: this build's executable, or with
/// IISWSGI_TEST_GATEWAY another program run the same way, such as the
/// `iiswsgi-gateway` console script of a venv with the extension module
/// (tests/run.sh runs the protocol and Apache tests that way too).
pub fn gateway_exe() -> PathBuf {
    std::env::var_os("IISWSGI_TEST_GATEWAY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_iiswsgi-gateway")))
}

/// The gateway is the extension module under a venv's python (it links
/// no libpython).
pub fn gateway_is_module() -> bool {
    std::env::var_os("IISWSGI_TEST_GATEWAY").is_some()
}

pub fn apps_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps")
}

/// The virtual environment with Flask, Django and flup that tests/run.sh
/// makes (IISWSGI_TEST_VENV). Without it: a failure under CI=true, else
/// None (the caller skips, saying so).
pub fn test_venv() -> Option<PathBuf> {
    match std::env::var_os("IISWSGI_TEST_VENV").map(PathBuf::from) {
        Some(p) if p.join("pyvenv.cfg").is_file() => Some(p),
        other => {
            let msg = format!(
                "IISWSGI_TEST_VENV ({other:?}) is not a virtual environment: run tests/run.sh, which makes it"
            );
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg}");
            }
            eprintln!("skipped: {msg}");
            None
        }
    }
}

/// One record, and the request pieces, written by the workspace's
/// `fastcgi` crate (its client side).
pub fn record(kind: u8, id: u16, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    fastcgi::record::push_record(&mut out, kind, id, content);
    out
}

#[allow(unused_imports)] // not every test binary builds pairs by hand
pub use fastcgi::client::pairs;

/// BEGIN_REQUEST, PARAMS (and the empty one).
pub fn begin(id: u16, keep_conn: bool, params: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    fastcgi::client::push_begin(&mut out, id, keep_conn);
    fastcgi::client::push_params(&mut out, id, params);
    out
}

/// A body as STDIN records (at most 65535 bytes each) and the empty one.
pub fn stdin(id: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    fastcgi::client::push_stdin(&mut out, id, body);
    out
}

/// The next record: (type, request id, content); a connection closed
/// between records is an UnexpectedEof error.
pub fn read_record(s: &mut impl Read) -> std::io::Result<(u8, u16, Vec<u8>)> {
    let mut content = Vec::new();
    match fastcgi::record::read_record(s, &mut content)? {
        Some((kind, id)) => Ok((kind, id, content)),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the gateway closed the connection",
        )),
    }
}

/// A response as the web server reads it (`fastcgi::cgi::Response`: status,
/// headers, body), with how it came.
#[derive(Debug)]
pub struct Response {
    pub cgi: fastcgi::cgi::Response,
    /// Every STDOUT record's size, to see how the response was streamed.
    pub stdout_records: Vec<usize>,
    /// FCGI_END_REQUEST's body.
    pub end: Vec<u8>,
}

impl std::ops::Deref for Response {
    type Target = fastcgi::cgi::Response;
    fn deref(&self) -> &Self::Target {
        &self.cgi
    }
}

/// Reads one request's records up to END_REQUEST and parses the CGI response.
pub fn read_response(s: &mut impl Read, id: u16) -> Response {
    let reply = fastcgi::client::read_reply(s, id).expect("a whole response");
    assert!(
        reply.stderr.is_empty(),
        "FCGI_STDERR: {:?}",
        String::from_utf8_lossy(&reply.stderr)
    );
    let mut end = reply.end.app_status.to_be_bytes().to_vec();
    end.extend([reply.end.protocol_status, 0, 0, 0]);
    parse_cgi(&reply.stdout, reply.stdout_records, end)
}

pub fn parse_cgi(stdout: &[u8], stdout_records: Vec<usize>, end: Vec<u8>) -> Response {
    let r = fastcgi::cgi::parse(stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(stdout)));
    Response {
        cgi: r,
        stdout_records,
        end,
    }
}

pub fn get_params<'a>(path: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let (path_info, query) = path.split_once('?').unwrap_or((path, ""));
    let mut p = vec![
        ("REQUEST_METHOD", "GET"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", path_info),
        ("QUERY_STRING", query),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PORT", "80"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("REMOTE_ADDR", "127.0.0.1"),
    ];
    for (k, v) in extra {
        p.retain(|(pk, _)| pk != k);
        p.push((k, v));
    }
    p
}

/// A gateway process with a Unix listening socket on standard input.
pub struct Gateway {
    pub child: Child,
    pub socket: PathBuf,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Gateway {
    pub fn start(app_dir: &Path, env: &[(&str, &str)]) -> Gateway {
        Gateway::start_in(None, app_dir, env)
    }

    /// Started in the working folder `cwd` (`app_dir` may be relative to it).
    pub fn start_in(cwd: Option<&Path>, app_dir: &Path, env: &[(&str, &str)]) -> Gateway {
        Gateway::start_program(&gateway_exe(), cwd, app_dir, env)
    }

    /// `program` (a gateway executable, or a venv's `iiswsgi-gateway`
    /// console script) started as mod_fcgid starts one.
    pub fn start_program(
        program: &Path,
        cwd: Option<&Path>,
        app_dir: &Path,
        env: &[(&str, &str)],
    ) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("fcgi.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let log = dir.path().join("gateway.log");
        let mut cmd = Command::new(program);
        cmd.stdin(Stdio::from(std::os::fd::OwnedFd::from(listener)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env_remove("IISWSGI_APP_DIR")
            .env("WSGI_LOG", &log)
            .arg("--app-dir")
            .arg(app_dir);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(cwd) = cwd {
            cmd.current_dir(cwd);
        }
        let child = cmd.spawn().unwrap();
        Gateway {
            child,
            socket,
            log,
            _dir: dir,
        }
    }

    pub fn connect(&self) -> UnixStream {
        let s = UnixStream::connect(&self.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    /// One request on its own connection.
    pub fn request(&self, params: &[(&str, &str)], body: &[u8]) -> Response {
        let mut s = self.connect();
        let mut bytes = begin(1, false, params);
        bytes.extend(stdin(1, body));
        s.write_all(&bytes).unwrap();
        read_response(&mut s, 1)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request(&get_params(path, &[]), b"")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the process to exit; its status.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn signal(&self, sig: &str) {
        Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
    }

    /// Peak resident memory (VmHWM) in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh copy of a folder of tests/apps in a temp folder (tests change
/// the code to test reloading).
pub fn app_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&apps_dir().join(name), dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub fn json(body: &[u8]) -> HashMap<String, serde_json::Value> {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

/// `sys.path` of `python -c` run in `cwd` with `path_env` as PATH, less
/// its first entry (the script's folder, '' for -c).
pub fn sys_path_of(python: &Path, cwd: &Path, path_env: &str) -> Vec<String> {
    let out = Command::new(python)
        .args(["-c", "import sys, json; print(json.dumps(sys.path[1:]))"])
        .current_dir(cwd)
        .env("PATH", path_env)
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
