//! What a verify request must get: `PATH[=STATUS][:TEXT]`, from
//! `--request` or iiswsgi.toml's `[verify] requests` (`"/=200:Posts"`,
//! `"/static/style.css=200"`, `"/admin/=302"`). Without a status, a 2xx
//! passes and anything else fails: a redirect is reported with where it
//! goes (a login page is not the page asked for), a 4xx as missing.

/// One request and what its answer must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The URL path relative to the app, with its query (`/`, `/a?b=c`).
    pub path: String,
    pub status: Option<u16>,
    pub text: Option<String>,
}

impl Expectation {
    /// Reads `PATH[=STATUS][:TEXT]`: a `=` followed by three digits (then
    /// the end or `:`) is the status; a `:` after the path or the status
    /// starts the text (paths with `:` take no text).
    pub fn parse(spec: &str) -> Result<Expectation, String> {
        if !spec.starts_with('/') {
            return Err(format!(
                "{spec:?}: a request starts with '/' (the path in the app), as \"/\" or \"/health=200\""
            ));
        }
        let (head, text) = match spec.find(':') {
            Some(at) => (&spec[..at], Some(spec[at + 1..].to_owned())),
            None => (spec, None),
        };
        let (path, status) = match head.rsplit_once('=') {
            Some((p, s)) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) => {
                let code: u16 = s.parse().map_err(|_| format!("{spec:?}: bad status"))?;
                if !(100..600).contains(&code) {
                    return Err(format!("{spec:?}: {code} is not an HTTP status"));
                }
                (p, Some(code))
            }
            _ => (head, None),
        };
        Ok(Expectation {
            path: path.to_owned(),
            status,
            text: text.filter(|t| !t.is_empty()),
        })
    }

    /// Why `status`, `location` and `body` fail this expectation (with the
    /// command's `--expect-status` / `--expect-text` where it says none).
    pub fn failure(
        &self,
        default_status: Option<u16>,
        default_text: Option<&str>,
        status: u16,
        location: Option<&str>,
        body: &str,
    ) -> Option<String> {
        let redirect = || location.map_or_else(String::new, |l| format!(" to {l}"));
        match self.status.or(default_status) {
            Some(want) if status != want => {
                return Some(format!(
                    "status {status}{} is not the expected {want}",
                    if (300..400).contains(&status) {
                        redirect()
                    } else {
                        String::new()
                    }
                ));
            }
            Some(_) => {}
            None if status >= 500 => return Some(format!("status {status}: the app failed")),
            None if (300..400).contains(&status) => {
                return Some(format!(
                    "it redirects{}; if that is meant, expect it: {}={status}",
                    redirect(),
                    self.path
                ));
            }
            None if status >= 400 => {
                return Some(format!(
                    "status {status}; if that is meant, expect it: {}={status}",
                    self.path
                ));
            }
            None => {}
        }
        let want = self.text.as_deref().or(default_text)?;
        (!body.contains(want)).then(|| format!("the body does not contain {want:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, status: Option<u16>, text: Option<&str>) -> Expectation {
        Expectation {
            path: path.into(),
            status,
            text: text.map(Into::into),
        }
    }

    #[test]
    fn specs_read_as_path_status_and_text() {
        assert_eq!(Expectation::parse("/"), Ok(e("/", None, None)));
        assert_eq!(
            Expectation::parse("/=200:Posts"),
            Ok(e("/", Some(200), Some("Posts")))
        );
        assert_eq!(
            Expectation::parse("/static/style.css=200"),
            Ok(e("/static/style.css", Some(200), None))
        );
        assert_eq!(
            Expectation::parse("/search?q=1&n=2:Results: 2"),
            Ok(e("/search?q=1&n=2", None, Some("Results: 2")))
        );
        assert_eq!(
            Expectation::parse("/a?x=404"),
            Ok(e("/a?x", Some(404), None))
        );
        assert!(
            Expectation::parse("health")
                .unwrap_err()
                .contains("starts with '/'")
        );
        assert!(
            Expectation::parse("/=999")
                .unwrap_err()
                .contains("not an HTTP status")
        );
    }

    #[test]
    fn without_a_status_only_2xx_passes() {
        let root = e("/", None, None);
        assert_eq!(root.failure(None, None, 200, None, ""), None);
        assert_eq!(
            root.failure(None, None, 302, Some("/auth/login"), "")
                .unwrap(),
            "it redirects to /auth/login; if that is meant, expect it: /=302"
        );
        assert_eq!(
            root.failure(None, None, 404, None, "").unwrap(),
            "status 404; if that is meant, expect it: /=404"
        );
        assert_eq!(
            root.failure(None, None, 500, None, "").unwrap(),
            "status 500: the app failed"
        );
        let login = e("/admin/", Some(302), None);
        assert_eq!(login.failure(None, None, 302, Some("/x"), ""), None);
        assert_eq!(
            login.failure(None, None, 301, Some("/y"), "").unwrap(),
            "status 301 to /y is not the expected 302"
        );
        let posts = e("/", None, Some("Posts"));
        assert_eq!(
            posts
                .failure(None, Some("ignored"), 200, None, "no")
                .unwrap(),
            "the body does not contain \"Posts\""
        );
        assert_eq!(root.failure(Some(404), None, 404, None, ""), None);
    }
}
