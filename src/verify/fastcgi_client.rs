//! Where verify's gateway listens, and a GET the way a web server sends
//! it (one request per connection, as mod_fcgid and IIS); the protocol is
//! the workspace's `fastcgi` crate.

use std::io::{Read, Write};
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::PathBuf;
use std::time::Duration;

/// Where the gateway listens: a Unix socket (the Linux build), or TCP on
/// loopback (the Windows build under Wine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    #[cfg(unix)]
    Unix(PathBuf),
    Tcp(SocketAddr),
}

impl Endpoint {
    /// A place for a gateway of this machine to listen: a Unix socket in
    /// `work` where there are Unix sockets, else a free port on loopback.
    pub fn local(work: &std::path::Path) -> std::io::Result<Self> {
        #[cfg(unix)]
        return Ok(Endpoint::Unix(work.join("fcgi.sock")));
        #[cfg(not(unix))]
        {
            let _ = work;
            Self::loopback()
        }
    }

    /// A free TCP port on 127.0.0.1.
    pub fn loopback() -> std::io::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        Ok(Endpoint::Tcp(([127, 0, 0, 1], port).into()))
    }

    /// The gateway's `--bind` value for it.
    pub fn bind_arg(&self) -> String {
        match self {
            #[cfg(unix)]
            Endpoint::Unix(path) => format!("unix:{}", path.display()),
            Endpoint::Tcp(addr) => addr.to_string(),
        }
    }

    fn connect(&self, timeout: Duration) -> std::io::Result<Box<dyn ReadWrite>> {
        Ok(match self {
            #[cfg(unix)]
            Endpoint::Unix(path) => {
                let s = std::os::unix::net::UnixStream::connect(path)?;
                s.set_read_timeout(Some(timeout))?;
                Box::new(s)
            }
            Endpoint::Tcp(addr) => {
                let s = std::net::TcpStream::connect_timeout(addr, timeout)?;
                s.set_read_timeout(Some(timeout))?;
                Box::new(s)
            }
        })
    }

    /// Whether something accepts connections there yet.
    pub fn is_listening(&self) -> bool {
        match self {
            #[cfg(unix)]
            Endpoint::Unix(path) => std::os::unix::net::UnixStream::connect(path).is_ok(),
            Endpoint::Tcp(addr) => {
                std::net::TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok()
            }
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

pub use fastcgi::cgi::Response;

/// GET `url` (with its query) from the gateway listening at `endpoint`,
/// as IIS asks for it when the app is the IIS application at `app_path`
/// (`/Shop`; `""` at the site's root): IIS's FastCGI module gives a
/// `path="*"` handler the whole URL path as SCRIPT_NAME and PATH_INFO,
/// and the application's metabase path in APPL_MD_PATH, from which the
/// gateway splits them.
pub fn get(
    endpoint: &Endpoint,
    url: &str,
    app_path: &str,
    timeout: Duration,
) -> std::io::Result<Response> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let md_path = format!("/LM/W3SVC/1/ROOT{app_path}");
    let params = [
        ("REQUEST_METHOD", "GET"),
        ("SCRIPT_NAME", path),
        ("PATH_INFO", path),
        ("URL", path),
        ("QUERY_STRING", query),
        ("REQUEST_URI", url),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("HTTP_HOST", "localhost"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("APPL_MD_PATH", md_path.as_str()),
    ];
    let mut s = endpoint.connect(timeout)?;
    s.write_all(&fastcgi::client::request(1, false, &params, b""))?;
    let reply = fastcgi::client::read_reply(&mut s, 1)?;
    fastcgi::cgi::parse(&reply.stdout).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the gateway's answer: {e}"),
        )
    })
}
