//! The 500 page the gateway answers with when the app cannot answer.

use std::path::Path;

/// Why there is no answer: what a visitor may be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The gateway's settings (web.config, the virtual environment) are wrong.
    Configuration,
    /// Python could not be started.
    Python,
    /// WSGI_HANDLER could not be imported or called to get the app.
    Load,
    /// The app raised, or broke the WSGI protocol.
    Request,
    /// The request ran longer than IISWSGI_REQUEST_TIMEOUT (a 504).
    Timeout,
}

impl Failure {
    fn summary(self) -> &'static str {
        match self {
            Failure::Configuration => "The gateway's configuration is wrong.",
            Failure::Python => "Python could not be started.",
            Failure::Load => "The WSGI application could not be loaded.",
            Failure::Request => "The WSGI application failed while answering this request.",
            Failure::Timeout => {
                "The WSGI application took longer than the gateway's request timeout (IISWSGI_REQUEST_TIMEOUT)."
            }
        }
    }

    fn status(self) -> &'static str {
        match self {
            Failure::Timeout => "504 Gateway Timeout",
            _ => "500 Internal Server Error",
        }
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The whole FastCGI response (headers and body) for a failure; `details`
/// (the traceback) is shown only when the site allows it. `fallback_log`:
/// the file the log went to because WSGI_LOG could not be opened.
pub fn response(failure: Failure, details: Option<&str>, fallback_log: Option<&Path>) -> Vec<u8> {
    let status = failure.status();
    let mut body = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{status}</title></head>\n\
         <body><h1>{status}</h1>\n<p>{}</p>\n",
        failure.summary()
    );
    match (details, fallback_log) {
        (Some(d), _) => body.push_str(&format!("<pre>{}</pre>\n", escape_html(d))),
        (None, Some(file)) => body.push_str(&format!(
            "<p>WSGI_LOG could not be opened (the app pool may not write there): the details are in \
             {} on the server, which the Windows Application event log names too. \
             Set IISWSGI_SHOW_TRACEBACK to true to show them here, never on a public site.</p>\n",
            escape_html(&file.display().to_string())
        )),
        (None, None) => body.push_str(
            "<p>The details are in the gateway's log (the WSGI_LOG app setting). \
             Set IISWSGI_SHOW_TRACEBACK to true to show them here, never on a public site.</p>\n",
        ),
    }
    body.push_str("</body></html>\n");
    let mut out = format!(
        "Status: {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_details_unless_allowed() {
        let page = String::from_utf8(response(Failure::Load, None, None)).unwrap();
        let (head, body) = page.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("Status: 500 Internal Server Error\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert!(body.contains("could not be loaded") && !body.contains("<pre>"));
        let page = String::from_utf8(response(
            Failure::Request,
            Some("Traceback <x> & \"y\""),
            None,
        ))
        .unwrap();
        assert!(page.contains("<pre>Traceback &lt;x&gt; &amp; &quot;y&quot;</pre>"));
        let page = String::from_utf8(response(
            Failure::Request,
            None,
            Some(Path::new(r"C:\Windows\Temp\iiswsgi-gateway-7.log")),
        ))
        .unwrap();
        assert!(
            page.contains(
                r"the details are in C:\Windows\Temp\iiswsgi-gateway-7.log on the server"
            )
        );
    }
}
