//! The self-test before the switch (iiswsgi 0.3's `test_msdeploy`, "so the
//! user sees an error in WebPI if the app isn't working even though the
//! rest of the install succeeded"): the new gateway serves the installed
//! app from the new venv, with the installed web.config, on loopback, and
//! is asked for the test requests as a web server would ask it. An import
//! error, an exception or a 5xx (or another status than the one expected)
//! fails the installation with what the app said, and web.config is not
//! switched: the site keeps the version it had.
//!
//! The requests: web.config's `IISWSGI_SELF_TEST` (`iiswsgi.toml`'s
//! `[install] test-requests`), `;`-separated `PATH` or `PATH=STATUS`;
//! `/` when it is not set; `off` turns the test off.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::fastcgi::name_value;
use crate::fastcgi::record::{self, kind};

/// One test request: a path (with its query) and the status it must get
/// (None: any below 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub path: String,
    pub status: Option<u16>,
}

/// The test requests from the setting's value; None when turned off.
pub fn requests(setting: Option<&str>) -> Result<Option<Vec<Expectation>>, String> {
    let Some(text) = setting.map(str::trim) else {
        return Ok(Some(vec![Expectation {
            path: "/".into(),
            status: None,
        }]));
    };
    if matches!(
        text.to_ascii_lowercase().as_str(),
        "" | "off" | "false" | "no" | "0"
    ) {
        return Ok(None);
    }
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (path, status) = match item.rsplit_once('=') {
                Some((p, s))
                    if s.trim().len() == 3 && s.trim().bytes().all(|b| b.is_ascii_digit()) =>
                {
                    (p.trim(), s.trim().parse().ok())
                }
                // `=` in a query string is the path's own.
                Some((p, _)) if !p.contains('?') => {
                    return Err(format!(
                        "IISWSGI_SELF_TEST {item:?}: the status after '=' is not a number"
                    ));
                }
                _ => (item, None),
            };
            if !path.starts_with('/') {
                return Err(format!(
                    "IISWSGI_SELF_TEST {item:?}: a path starts with '/' (as \"/health=200\")"
                ));
            }
            Ok(Expectation {
                path: path.to_owned(),
                status,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The gateway process under test, ended when dropped; what it wrote to
/// standard error (its log, since no IIS pipe is there) is gathered by a
/// thread, so a full pipe never stops it.
struct Served {
    child: Child,
    log: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Served {
    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Served {
    /// SIGTERM first: a gateway on `--bind` is a supervisor that stops
    /// its worker processes (where PR_SET_PDEATHSIG does not exist, a
    /// SIGKILL would leave them serving); SIGKILL after 5 s.
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: kill() on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while cfg!(unix)
            && std::time::Instant::now() < deadline
            && matches!(self.child.try_wait(), Ok(None))
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the gateway under test listens: a Unix socket in the state folder
/// where there are Unix sockets (the install may run with no network at
/// all), else TCP on loopback.
enum Endpoint {
    #[cfg(unix)]
    Unix(std::path::PathBuf),
    #[cfg_attr(unix, allow(dead_code))]
    Tcp(std::net::SocketAddr),
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

impl Endpoint {
    fn pick(work: &Path) -> Result<Endpoint, String> {
        #[cfg(unix)]
        {
            let path = work.join(format!("self-test-{}.sock", std::process::id()));
            let _ = std::fs::remove_file(&path);
            Ok(Endpoint::Unix(path))
        }
        #[cfg(not(unix))]
        {
            let _ = work;
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
                .port();
            Ok(Endpoint::Tcp(([127, 0, 0, 1], port).into()))
        }
    }

    fn bind_arg(&self) -> String {
        match self {
            #[cfg(unix)]
            Endpoint::Unix(p) => format!("unix:{}", p.display()),
            Endpoint::Tcp(a) => a.to_string(),
        }
    }

    fn connect(&self) -> std::io::Result<Box<dyn ReadWrite>> {
        Ok(match self {
            #[cfg(unix)]
            Endpoint::Unix(p) => {
                let s = std::os::unix::net::UnixStream::connect(p)?;
                s.set_read_timeout(Some(Duration::from_secs(300)))?;
                Box::new(s)
            }
            Endpoint::Tcp(a) => {
                let s = TcpStream::connect_timeout(a, Duration::from_secs(5))?;
                s.set_read_timeout(Some(Duration::from_secs(300)))?;
                Box::new(s)
            }
        })
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Endpoint::Unix(p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Serves the app with `gateway` (a program and its leading arguments)
/// from `venv` and asks it `requests`
/// (under `script_name`, the app's path in its site); Err says which
/// request failed and what the app answered. `work` is a folder of the
/// install's own (the state folder).
pub fn run(
    gateway: &[std::ffi::OsString],
    app: &Path,
    venv: Option<&Path>,
    script_name: &str,
    requests: &[Expectation],
    work: &Path,
) -> Result<Vec<String>, String> {
    let endpoint = Endpoint::pick(work)?;
    let (program, leading) = gateway.split_first().ok_or("no gateway to run")?;
    let mut cmd = Command::new(program);
    cmd.args(leading)
        .args([
            "--bind",
            &endpoint.bind_arg(),
            "--show-traceback",
            "--app-dir",
        ])
        .arg(app)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(v) = venv {
        cmd.arg("--venv").arg(v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", Path::new(program).display()))?;
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    if let Some(mut stderr) = child.stderr.take() {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
    }
    let mut served = Served { child, log };
    let deadline = Instant::now() + Duration::from_secs(60);
    while endpoint.connect().is_err() {
        if let Ok(Some(status)) = served.child.try_wait() {
            std::thread::sleep(Duration::from_millis(100));
            return Err(format!(
                "the gateway exited ({status}) before it listened:\n{}",
                served.log_tail()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the gateway did not listen within 60 s:\n{}",
                served.log_tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut said = Vec::new();
    for want in requests {
        let (status, body) = ask(&endpoint, script_name, &want.path)
            .map_err(|e| format!("GET {}: {e}\n{}", want.path, served.log_tail()))?;
        let ok = match want.status {
            Some(s) => status == s,
            None => status < 500,
        };
        if !ok {
            return Err(format!(
                "GET {} answered {status}{}; the app said:\n{}",
                want.path,
                want.status
                    .map(|s| format!(", not the expected {s}"))
                    .unwrap_or_default(),
                text_of(&body)
            ));
        }
        said.push(format!("GET {} -> {status}", want.path));
    }
    Ok(said)
}

/// One request as a web server sends it; (status, body).
fn ask(endpoint: &Endpoint, script_name: &str, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let (path_info, query) = path.split_once('?').unwrap_or((path, ""));
    let uri = format!("{script_name}{path}");
    let params = [
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REQUEST_METHOD", "GET"),
        ("SCRIPT_NAME", script_name),
        ("PATH_INFO", path_info),
        ("QUERY_STRING", query),
        ("REQUEST_URI", uri.as_str()),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("HTTP_HOST", "localhost"),
        ("REMOTE_ADDR", "127.0.0.1"),
    ];
    let mut pairs = Vec::new();
    for (k, v) in params {
        name_value::encode(&mut pairs, k.as_bytes(), v.as_bytes());
    }
    let mut out = Vec::new();
    record::push_record(
        &mut out,
        kind::BEGIN_REQUEST,
        1,
        &[0, record::ROLE_RESPONDER as u8, 0, 0, 0, 0, 0, 0],
    );
    record::push_stream(&mut out, kind::PARAMS, 1, &pairs);
    record::push_stream_end(&mut out, kind::PARAMS, 1);
    record::push_stream_end(&mut out, kind::STDIN, 1);
    let mut stream = endpoint.connect()?;
    stream.write_all(&out)?;
    let mut stdout = Vec::new();
    let mut content = Vec::new();
    while let Some((k, _)) = record::read_record(&mut stream, &mut content)? {
        match k {
            kind::STDOUT => stdout.extend_from_slice(&content),
            kind::END_REQUEST => break,
            _ => {}
        }
    }
    let split = stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("the gateway sent no CGI head"))?;
    let head = String::from_utf8_lossy(&stdout[..split]);
    let status = head
        .lines()
        .find_map(|l| l.strip_prefix("Status: "))
        .and_then(|s| s.get(..3)?.parse().ok())
        .unwrap_or(200);
    Ok((status, stdout[split + 4..].to_vec()))
}

/// An error page's text (its tags dropped, its entities read), shortened.
fn text_of(body: &[u8]) -> String {
    let html = String::from_utf8_lossy(body);
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(40);
    lines[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_names_the_requests() {
        let root = Expectation {
            path: "/".into(),
            status: None,
        };
        assert_eq!(requests(None), Ok(Some(vec![root])));
        assert_eq!(requests(Some("off")), Ok(None));
        assert_eq!(requests(Some("")), Ok(None));
        assert_eq!(
            requests(Some("/health=200; /static/site.css")),
            Ok(Some(vec![
                Expectation {
                    path: "/health".into(),
                    status: Some(200)
                },
                Expectation {
                    path: "/static/site.css".into(),
                    status: None
                },
            ]))
        );
        assert!(
            requests(Some("health"))
                .unwrap_err()
                .contains("starts with '/'")
        );
        assert!(
            requests(Some("/=ok"))
                .unwrap_err()
                .contains("is not a number")
        );
        assert_eq!(
            requests(Some("/search?q=a")).unwrap().unwrap()[0],
            Expectation {
                path: "/search?q=a".into(),
                status: None
            }
        );
    }

    #[test]
    fn an_error_pages_text_keeps_the_traceback() {
        let page = b"<html><body><h1>500</h1><pre>Traceback (most recent call last):\n  File &quot;app.py&quot;\nZeroDivisionError: division by zero</pre></body></html>";
        assert_eq!(
            text_of(page),
            "500Traceback (most recent call last):\n  File \"app.py\"\nZeroDivisionError: division by zero"
        );
    }
}
