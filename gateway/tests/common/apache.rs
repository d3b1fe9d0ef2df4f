//! A real Apache httpd with mod_fcgid on 127.0.0.1, started by a test.
//!
//! Each app is laid out as on IIS: its folder holds web.config (the
//! gateway's settings) and bin/iiswsgi-gateway, and Apache maps the URL
//! prefix to that file (`Alias /flask …/bin/iiswsgi-gateway`), so the
//! gateway gets SCRIPT_NAME=/flask and PATH_INFO=/rest as an IIS
//! application below the site root gets them. The gateway finds the app
//! folder as the one above bin/ that holds web.config, as under IIS.
//!
//! Run as root, Apache serves as www-data: everything it needs is staged in
//! a world-readable temp folder (and the Python the gateway embeds and the
//! test virtual environment must be readable by www-data: tests/run.sh
//! builds against /usr/bin/python3 and keeps the venv under /var/tmp).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{copy_dir, gateway_exe};

const MODULES: &str = "/usr/lib/apache2/modules";

pub fn available() -> bool {
    let ok =
        Path::new("/usr/sbin/apache2").exists() && Path::new(MODULES).join("mod_fcgid.so").exists();
    if !ok {
        let msg = "Apache httpd with mod_fcgid is not installed (apt-get install apache2 libapache2-mod-fcgid; tests/run.sh does)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg}");
        }
        eprintln!("skipped: {msg}");
    }
    ok
}

/// One app under Apache: URL prefix, its folder's source, its web.config.
pub struct Mount {
    pub prefix: String,
    pub source: PathBuf,
    pub app_settings: Vec<(String, String)>,
    /// Extra `Alias URL PATH` lines (relative paths are inside the app
    /// folder) placed before the gateway's, such as a static folder.
    pub static_aliases: Vec<(String, String)>,
    /// Folders of the app the server's user may write (the install step
    /// grants the app pool's identity Modify on `[iis] data-folders`).
    pub data_folders: Vec<String>,
}

pub struct Apache {
    pub root: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn open_up(dir: &Path) {
    chmod(dir, 0o755);
    for e in walk(dir) {
        let executable = std::fs::metadata(&e).unwrap().permissions().mode() & 0o100 != 0;
        let mode = if e.is_dir() || executable {
            0o755
        } else {
            0o644
        };
        chmod(&e, mode);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// `<add key= value=/>` lines, escaped.
pub fn web_config(settings: &[(String, String)]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>\n",
    );
    for (k, v) in settings {
        x.push_str(&format!(
            "    <add key=\"{}\" value=\"{}\" />\n",
            esc(k),
            esc(v)
        ));
    }
    x.push_str("  </appSettings>\n</configuration>\n");
    x
}

impl Apache {
    /// Stages the apps and starts Apache; `processes` caps gateway
    /// processes per app (mod_fcgid's FcgidMaxProcessesPerClass).
    pub fn start(mounts: &[Mount], processes: u32) -> Apache {
        let root = tempfile::Builder::new()
            .prefix("iiswsgi-apache-")
            .tempdir()
            .unwrap();
        let r = root.path();
        for d in ["run", "fcgid", "logs", "htdocs"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        let mut locations = String::new();
        for m in mounts {
            let name = m.prefix.trim_matches('/').replace('/', "_");
            let app = r.join("apps").join(&name);
            copy_dir(&m.source, &app);
            std::fs::create_dir_all(app.join("bin")).unwrap();
            std::fs::copy(gateway_exe(), app.join("bin/iiswsgi-gateway")).unwrap();
            let mut settings = m.app_settings.clone();
            settings.push((
                "WSGI_LOG".into(),
                r.join("logs")
                    .join(format!("{name}.log"))
                    .display()
                    .to_string(),
            ));
            std::fs::write(app.join("web.config"), web_config(&settings)).unwrap();
            for (url, path) in &m.static_aliases {
                let target = if Path::new(path).is_absolute() {
                    PathBuf::from(path)
                } else {
                    app.join(path)
                };
                locations.push_str(&format!("Alias \"{url}\" \"{}\"\n<Directory \"{}\">\n  Require all granted\n</Directory>\n", target.display(), target.display()));
            }
            let exe = app.join("bin/iiswsgi-gateway");
            locations.push_str(&format!(
                "Alias \"{prefix}\" \"{exe}\"\n<Location \"{prefix}\">\n  SetHandler fcgid-script\n  Options +ExecCGI\n  Require all granted\n</Location>\n",
                prefix = m.prefix,
                exe = exe.display()
            ));
            // Later <Location>s win: static folders are served by Apache itself,
            // as a nested web.config without the handler does under IIS.
            for (url, _) in &m.static_aliases {
                locations.push_str(&format!(
                    "<Location \"{url}\">\n  SetHandler none\n</Location>\n"
                ));
            }
        }
        open_up(r);
        for m in mounts {
            let app = r
                .join("apps")
                .join(m.prefix.trim_matches('/').replace('/', "_"));
            for folder in &m.data_folders {
                let dir = app.join(folder);
                chmod(&dir, 0o777);
                for e in walk(&dir) {
                    chmod(&e, if e.is_dir() { 0o777 } else { 0o666 });
                }
            }
        }
        chmod(&r.join("logs"), 0o777);
        chmod(&r.join("fcgid"), 0o777);
        let port = free_port();
        let user = if unsafe_is_root() {
            "User www-data\nGroup www-data\n"
        } else {
            ""
        };
        let conf = format!(
            r#"ServerRoot "{r}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{r}/run/httpd.pid"
DefaultRuntimeDir "{r}/run"
Mutex file:{r}/run default
{user}ErrorLog "{r}/logs/error.log"
LogLevel warn
DocumentRoot "{r}/htdocs"
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule alias_module {MODULES}/mod_alias.so
LoadModule fcgid_module {MODULES}/mod_fcgid.so
<Directory />
  Require all granted
</Directory>
FcgidIPCDir "{r}/fcgid"
FcgidProcessTableFile "{r}/fcgid/shm"
FcgidMaxRequestLen 209715200
FcgidMaxRequestInMem 1048576
FcgidOutputBufferSize 0
FcgidIOTimeout 60
FcgidConnectTimeout 20
FcgidMaxProcessesPerClass {processes}
FcgidMinProcessesPerClass 0
FcgidMaxRequestsPerProcess 0
FcgidIdleTimeout 300
FcgidBusyTimeout 300
{locations}"#,
            r = r.display()
        );
        std::fs::write(r.join("httpd.conf"), conf).unwrap();
        let child = Command::new("/usr/sbin/apache2")
            .args(["-DFOREGROUND", "-f"])
            .arg(r.join("httpd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("apache2 starts");
        let apache = Apache { root, port, child };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Apache did not listen within 15 s: {}",
                apache.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        apache
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn app_dir(&self, prefix: &str) -> PathBuf {
        self.root
            .path()
            .join("apps")
            .join(prefix.trim_matches('/').replace('/', "_"))
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("logs/error.log")).unwrap_or_default()
    }

    pub fn gateway_log(&self, prefix: &str) -> String {
        let name = prefix.trim_matches('/').replace('/', "_");
        std::fs::read_to_string(self.root.path().join("logs").join(format!("{name}.log")))
            .unwrap_or_default()
    }

    /// `curl` as a user would run it: status and body.
    pub fn curl(&self, path: &str, args: &[&str]) -> (u16, Vec<u8>) {
        let out_file = self
            .root
            .path()
            .join("run")
            .join(format!("body-{}", std::process::id()));
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "60", "-o"])
            .arg(&out_file)
            .args(["-w", "%{http_code}"])
            .args(args)
            .arg(self.url(path))
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "curl {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let body = std::fs::read(&out_file).unwrap_or_default();
        let _ = std::fs::remove_file(&out_file);
        (status, body)
    }

    /// A raw HTTP/1.0 GET, for reading a streamed body as it arrives.
    pub fn open_get(&self, path: &str) -> TcpStream {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        s
    }
}

/// Reads from `s` until `needle` has arrived; everything read so far.
pub fn read_until(s: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(needle.len()).any(|w| w == needle) {
        let n = s.read(&mut buf).expect("the response goes on");
        assert!(
            n > 0,
            "connection closed before {:?}: {}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn unsafe_is_root() -> bool {
    std::env::var("USER").as_deref() == Ok("root")
        || Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false)
}

impl Drop for Apache {
    fn drop(&mut self) {
        // SIGTERM: Apache stops its children, mod_fcgid its gateways.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The libpython the gateway binary loads must be readable by Apache's
/// user: not one under /root (pyenv). tests/run.sh sets PYO3_PYTHON.
pub fn check_gateway_python_is_shared() {
    let out = Command::new("ldd").arg(gateway_exe()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lib = text.lines().find(|l| l.contains("libpython")).unwrap_or("");
    assert!(
        !lib.contains("/root/"),
        "the gateway was built against {lib:?}, which Apache's www-data cannot read; \
         build with PYO3_PYTHON=/usr/bin/python3 (tests/run.sh does)"
    );
}
