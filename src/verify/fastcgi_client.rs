//! Just enough of a FastCGI client to send the gateway a request the way a
//! web server does (one request per connection, as mod_fcgid), and read
//! the CGI response back.

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

/// One FastCGI record (no padding).
pub fn record(kind: u8, id: u16, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + content.len());
    out.extend_from_slice(&[
        1,
        kind,
        (id >> 8) as u8,
        id as u8,
        (content.len() >> 8) as u8,
        content.len() as u8,
        0,
        0,
    ]);
    out.extend_from_slice(content);
    out
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.extend_from_slice(&((len as u32) | 0x8000_0000).to_be_bytes());
    }
}

/// Name-value pairs (FCGI_PARAMS, FCGI_GET_VALUES), lengths of any size.
pub fn name_value_pairs(list: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in list {
        push_len(&mut out, k.len());
        push_len(&mut out, v.len());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// A response: status, headers, body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

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
    let pairs = name_value_pairs(&params);
    let mut req = record(1, 1, &[0, 1, 0, 0, 0, 0, 0, 0]);
    req.extend(record(4, 1, &pairs));
    req.extend(record(4, 1, &[]));
    req.extend(record(5, 1, &[]));
    let mut s = endpoint.connect(timeout)?;
    s.write_all(&req)?;
    let mut stdout = Vec::new();
    loop {
        let mut h = [0u8; 8];
        s.read_exact(&mut h)?;
        let len = u16::from_be_bytes([h[4], h[5]]) as usize;
        let mut content = vec![0u8; len + h[6] as usize];
        s.read_exact(&mut content)?;
        content.truncate(len);
        match h[1] {
            6 => stdout.extend_from_slice(&content),
            3 => break,
            _ => {}
        }
    }
    parse_cgi(&stdout)
}

/// A CGI response (the gateway's FCGI_STDOUT): status, headers, body.
pub fn parse_cgi(stdout: &[u8]) -> std::io::Result<Response> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let split = stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("the gateway sent no CGI head"))?;
    let mut status = 200;
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(&stdout[..split]).split("\r\n") {
        let (k, v) = line
            .split_once(": ")
            .ok_or_else(|| bad("a malformed CGI header"))?;
        if k.eq_ignore_ascii_case("Status") {
            status = v
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| bad("a malformed Status header"))?;
        } else {
            headers.push((k.to_string(), v.to_string()));
        }
    }
    Ok(Response {
        status,
        headers,
        body: stdout[split + 4..].to_vec(),
    })
}
