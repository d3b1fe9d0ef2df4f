//! The CGI response a FastCGI responder writes to `FCGI_STDOUT`: header
//! lines (`Status: 200 OK` among them), a blank line, the body.

use std::fmt;

/// A response as a web server reads it from the responder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Headers other than `Status`, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why `FCGI_STDOUT` is not a CGI response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Malformed {}

/// Parses a whole CGI response. Without a `Status` header the status is
/// 200 (CGI 1.1, section 6.3.3).
pub fn parse(stdout: &[u8]) -> Result<Response, Malformed> {
    let split = stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(Malformed("no CGI head (no blank line)"))?;
    let mut status = 200;
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(&stdout[..split]).split("\r\n") {
        let (k, v) = line
            .split_once(": ")
            .ok_or(Malformed("a CGI header line without \": \""))?;
        if k.eq_ignore_ascii_case("Status") {
            status = v
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or(Malformed("a Status header without a 3-digit code"))?;
        } else {
            headers.push((k.to_owned(), v.to_owned()));
        }
    }
    Ok(Response {
        status,
        headers,
        body: stdout[split + 4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_headers_and_body() {
        let r = parse(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope").unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.body, b"nope");
        assert_eq!(parse(b"Content-Type: a\r\n\r\n").unwrap().status, 200);
        assert!(parse(b"Status: 2\r\n\r\n").is_err());
        assert!(parse(b"no head").is_err());
    }
}
