//! From FastCGI parameters to a PEP 3333 environ's CGI part, as plain data
//! (the Python dict is made from it in `crate::python`).
//!
//! Values are "bytes as str": each byte becomes the code point of the same
//! number (latin-1), as PEP 3333 requires of every server.
//!
//! IIS sends the whole URL path as PATH_INFO (and as SCRIPT_NAME) for a
//! `path="*"` handler; the application's own path is in `APPL_MD_PATH`
//! (`/LM/W3SVC/1/ROOT/shop` for an application at `/shop`). The split is
//! made here: SCRIPT_NAME `/shop`, PATH_INFO the rest, so an app mounted
//! below the site root builds its URLs right. Other servers (Apache,
//! nginx) already split them and are taken as they are.

use std::borrow::Cow;

use crate::fastcgi::name_value::Pairs;

/// Latin-1 decoding: PEP 3333's native strings.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// Latin-1 encoding of a string made by [`latin1`] (every char below 256).
fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

/// One CGI variable: its name and value as the server sent them (bytes,
/// made into latin-1 strings only for the dict), borrowed unless changed.
pub type Variable<'a> = (&'a [u8], Cow<'a, [u8]>);

/// The CGI variables of one request, ready for the environ dict. Only the
/// few that are split or defaulted are copied.
pub fn cgi_variables(params: &Pairs) -> Vec<Variable<'_>> {
    let mut vars: Vec<Variable<'_>> = Vec::with_capacity(params.len() + 4);
    // A name the server sent twice keeps its first value, everywhere: the
    // environ and the IIS split below read the same one (as Pairs::get).
    for (k, v) in params.iter() {
        if !vars.iter().any(|(seen, _)| *seen == k) {
            vars.push((k, Cow::Borrowed(v)));
        }
    }
    fn get(vars: &[Variable<'_>], key: &str) -> Option<String> {
        vars.iter()
            .find(|(k, _)| *k == key.as_bytes())
            .map(|(_, v)| latin1(v))
    }
    fn set<'a>(vars: &mut Vec<Variable<'a>>, key: &'static str, value: Vec<u8>) {
        match vars.iter_mut().find(|(k, _)| *k == key.as_bytes()) {
            Some(slot) => slot.1 = Cow::Owned(value),
            None => vars.push((key.as_bytes(), Cow::Owned(value))),
        }
    }
    let has = |vars: &[Variable<'_>], key: &str| vars.iter().any(|(k, _)| *k == key.as_bytes());
    if let Some(md_path) = get(&vars, "APPL_MD_PATH") {
        let app_path = iis_application_path(&md_path);
        let url_path = get(&vars, "PATH_INFO").unwrap_or_default();
        let (script_name, path_info) = split_prefix(&url_path, &app_path);
        set(&mut vars, "SCRIPT_NAME", latin1_bytes(&script_name));
        set(&mut vars, "PATH_INFO", latin1_bytes(&path_info));
    } else {
        for key in ["SCRIPT_NAME", "PATH_INFO"] {
            if !has(&vars, key) {
                set(&mut vars, key, Vec::new());
            }
        }
    }
    // Some servers repeat the query string in PATH_INFO (wfastcgi strips it).
    if let Some((_, pi)) = vars.iter().find(|(k, _)| *k == b"PATH_INFO")
        && let Some(q) = pi.iter().position(|&b| b == b'?')
    {
        let cut = pi[..q].to_vec();
        set(&mut vars, "PATH_INFO", cut);
    }
    for (key, default) in [
        ("QUERY_STRING", ""),
        ("REQUEST_METHOD", "GET"),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
    ] {
        if !has(&vars, key) {
            set(&mut vars, key, default.as_bytes().to_vec());
        }
    }
    // PEP 3333: CONTENT_LENGTH and CONTENT_TYPE may be absent, never empty.
    vars.retain(|(k, v)| !((*k == b"CONTENT_LENGTH" || *k == b"CONTENT_TYPE") && v.is_empty()));
    vars
}

/// `/LM/W3SVC/1/ROOT/shop/v2` → `/shop/v2`; the site root → ``.
pub fn iis_application_path(md_path: &str) -> String {
    let lower = md_path.to_ascii_lowercase();
    match lower.find("/root") {
        Some(at) if lower[at + 5..].is_empty() || lower[at + 5..].starts_with('/') => {
            md_path[at + 5..].trim_end_matches('/').to_owned()
        }
        _ => String::new(),
    }
}

/// Splits a URL path into (SCRIPT_NAME, PATH_INFO) at the application path,
/// case-insensitively as IIS matches paths.
fn split_prefix(url_path: &str, app_path: &str) -> (String, String) {
    if app_path.is_empty() {
        return (String::new(), url_path.to_owned());
    }
    let n = app_path.len();
    let matches = url_path.len() >= n
        && url_path.is_char_boundary(n)
        && url_path[..n].eq_ignore_ascii_case(app_path)
        && (url_path.len() == n || url_path[n..].starts_with('/'));
    if matches {
        (url_path[..n].to_owned(), url_path[n..].to_owned())
    } else {
        (String::new(), url_path.to_owned())
    }
}

/// `wsgi.url_scheme`: `https` when the server says HTTPS is on.
pub fn url_scheme(vars: &[Variable<'_>]) -> &'static str {
    let on = vars.iter().any(|(k, v)| {
        (*k == b"HTTPS" && (v.eq_ignore_ascii_case(b"on") || v.as_ref() == b"1"))
            || (*k == b"REQUEST_SCHEME" && v.eq_ignore_ascii_case(b"https"))
    });
    if on { "https" } else { "http" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fastcgi::name_value;

    fn p(pairs: &[(&str, &[u8])]) -> Pairs {
        let mut bytes = Vec::new();
        for (k, v) in pairs {
            name_value::encode(&mut bytes, k.as_bytes(), v);
        }
        Pairs::parse(bytes).unwrap()
    }

    fn get(vars: &[Variable<'_>], key: &str) -> Option<String> {
        vars.iter()
            .find(|(k, _)| *k == key.as_bytes())
            .map(|(_, v)| latin1(v))
    }

    #[test]
    fn iis_application_below_the_root() {
        let params = p(&[
            ("APPL_MD_PATH", b"/LM/W3SVC/1/ROOT/Shop"),
            ("SCRIPT_NAME", b"/shop/cart/items"),
            ("PATH_INFO", b"/shop/cart/items"),
            ("HTTPS", b"on"),
        ]);
        let vars = cgi_variables(&params);
        assert_eq!(get(&vars, "SCRIPT_NAME").as_deref(), Some("/shop"));
        assert_eq!(get(&vars, "PATH_INFO").as_deref(), Some("/cart/items"));
        assert_eq!(url_scheme(&vars), "https");
    }

    #[test]
    fn iis_site_root_and_near_misses() {
        assert_eq!(iis_application_path("/LM/W3SVC/1/ROOT"), "");
        assert_eq!(iis_application_path("/LM/W3SVC/2/ROOT/a/b/"), "/a/b");
        assert_eq!(
            split_prefix("/shopping", "/shop"),
            (String::new(), "/shopping".to_owned())
        );
        assert_eq!(
            split_prefix("/SHOP", "/shop"),
            ("/SHOP".to_owned(), String::new())
        );
        let params = p(&[
            ("APPL_MD_PATH", b"/LM/W3SVC/1/ROOT"),
            ("PATH_INFO", b"/x?a=1"),
        ]);
        let vars = cgi_variables(&params);
        assert_eq!(get(&vars, "SCRIPT_NAME").as_deref(), Some(""));
        assert_eq!(get(&vars, "PATH_INFO").as_deref(), Some("/x"));
    }

    #[test]
    fn apache_split_is_kept_and_bytes_are_latin1() {
        let params = p(&[
            ("SCRIPT_NAME", b"/flask"),
            ("PATH_INFO", "/caf\u{e9}".as_bytes()),
            ("CONTENT_LENGTH", b""),
            ("CONTENT_TYPE", b"text/plain"),
        ]);
        let vars = cgi_variables(&params);
        assert_eq!(get(&vars, "SCRIPT_NAME").as_deref(), Some("/flask"));
        // UTF-8 é (C3 A9) arrives as two latin-1 characters.
        assert_eq!(get(&vars, "PATH_INFO").as_deref(), Some("/caf\u{c3}\u{a9}"));
        assert_eq!(get(&vars, "CONTENT_LENGTH").as_deref(), None);
        assert_eq!(get(&vars, "CONTENT_TYPE").as_deref(), Some("text/plain"));
        assert_eq!(get(&vars, "QUERY_STRING").as_deref(), Some(""));
        assert_eq!(get(&vars, "REQUEST_METHOD").as_deref(), Some("GET"));
        assert_eq!(url_scheme(&vars), "http");
    }
}
