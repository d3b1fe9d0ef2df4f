//! Wine, for the tests of the gateway's Windows build: the test-only
//! programs (gateway/tests/wine: the pipe harness that drives the gateway
//! as IIS's FastCGI module does, and the recording stand-in for appcmd.exe
//! and icacls.exe) built once with mingw, and one Wine prefix
//! (target/wine-prefix) with the stand-ins installed where a Windows
//! server has those programs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Wine {
    pub wine: PathBuf,
    pub prefix: PathBuf,
    /// pipe_harness.exe, recording_standin.exe.
    pub tools: PathBuf,
}

const WINE: &str = "/usr/lib/wine/wine64";

/// Wine and the test programs, or None (skip; a failure when CI=true).
pub fn wine() -> Option<&'static Wine> {
    static WINE_TOOLS: OnceLock<Option<Wine>> = OnceLock::new();
    WINE_TOOLS.get_or_init(set_up).as_ref()
}

fn set_up() -> Option<Wine> {
    let wine = PathBuf::from(WINE);
    if !wine.exists() {
        assert!(
            !super::ci(),
            "Wine ({WINE}) is required in CI (tests/run.sh installs wine64)"
        );
        eprintln!("SKIPPED: Wine is not installed (apt-get install wine64)");
        return None;
    }
    let gcc = super::tool("x86_64-w64-mingw32-gcc")?;
    let tools = super::repo(&format!("target/wine-tools/{}", std::process::id()));
    std::fs::create_dir_all(&tools).unwrap();
    let src = super::repo("gateway/tests/wine");
    for name in ["pipe_harness", "recording_standin"] {
        super::run_ok(
            Command::new(&gcc)
                .args(["-O1", "-o"])
                .arg(tools.join(format!("{name}.exe")))
                .arg(src.join(format!("{name}.c"))),
        );
    }
    let prefix = super::repo("target/wine-prefix");
    let w = Wine {
        wine,
        prefix,
        tools,
    };
    // Makes the prefix on first use, then puts the stand-ins where a
    // server has appcmd.exe and icacls.exe (Wine's own icacls is skipped
    // by the DLL override in `command`).
    let out = w.command().args(["cmd", "/c", "exit"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let system32 = w.prefix.join("drive_c/windows/system32");
    std::fs::create_dir_all(system32.join("inetsrv")).unwrap();
    for place in ["inetsrv/appcmd.exe", "icacls.exe"] {
        std::fs::copy(w.tools.join("recording_standin.exe"), system32.join(place)).unwrap();
    }
    Some(w)
}

impl Wine {
    /// `wine64` in the test prefix, quiet; the stand-in icacls.exe is
    /// taken instead of Wine's built-in one.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.wine);
        cmd.env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "icacls.exe=n;mscoree,mshtml=d");
        cmd
    }

    pub fn tool(&self, name: &str) -> PathBuf {
        self.tools.join(name)
    }
}

/// A Linux path as Wine's Windows programs see it.
pub fn windows_path(path: &Path) -> String {
    iiswsgi::verify::wine::windows_path(path)
}

/// The gateway exe in `dir`, with the stand-in bcryptprimitives.dll that
/// Wine 8 lacks beside it (iiswsgi::verify::wine_prng_dll).
pub fn gateway_in(dir: &Path, exe: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let target = dir.join("iiswsgi-gateway.exe");
    std::fs::copy(exe, &target).unwrap();
    std::fs::write(
        dir.join("bcryptprimitives.dll"),
        iiswsgi::verify::wine_prng_dll::bytes(),
    )
    .unwrap();
    target
}

/// One FastCGI record (the workspace's `fastcgi` crate writes it).
pub fn record(kind: u8, id: u16, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    fastcgi::record::push_record(&mut out, kind, id, content);
    out
}

#[allow(unused_imports)] // not every test binary builds requests
pub use fastcgi::client::pairs;

/// (type, request id, content) of each FastCGI record in `bytes`.
pub fn records(bytes: &[u8]) -> Vec<(u8, u16, Vec<u8>)> {
    fastcgi::client::parse_records(bytes)
        .expect("whole FastCGI records")
        .into_iter()
        .map(|r| (r.kind, r.request_id, r.content))
        .collect()
}

/// A response as a web server reads it: (status, headers, body), and
/// whether it ended with FCGI_END_REQUEST (request complete).
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub complete: bool,
}

impl Answer {
    pub fn parse(bytes: &[u8]) -> Answer {
        let recs = records(bytes);
        let stdout: Vec<u8> = recs
            .iter()
            .filter(|r| r.0 == 6)
            .flat_map(|r| r.2.clone())
            .collect();
        let complete = recs
            .last()
            .is_some_and(|r| r.0 == 3 && r.2 == [0, 0, 0, 0, 0, 0, 0, 0]);
        let response = fastcgi::cgi::parse(&stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&stdout)));
        Answer {
            status: response.status,
            headers: response.headers,
            body: response.body,
            complete,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
