//! Secrets never reach the terminal: every message that may carry a
//! credential (storage errors echo URLs, SAS tokens ride in query strings)
//! passes through [`redact`] first.

/// Environment variables whose values are secrets.
pub const SECRET_VARIABLES: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_TOKEN",
    "IISWSGI_HTTP_TOKEN",
    "IISWSGI_HTTP_PASSWORD",
];

/// `text` with every secret from the environment, every URL query string
/// and every URL user-info replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for var in SECRET_VARIABLES {
        if let Ok(secret) = std::env::var(var)
            && secret.len() >= 4
        {
            out = out.replace(&secret, "***");
        }
    }
    redact_urls(&out)
}

/// `https://user:pw@host/p?sig=x` → `https://***@host/p?***`.
fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | ')' | ','))
            .unwrap_or(rest.len());
        let url = &rest[..end];
        let (authority, path) = url.split_at(url.find('/').unwrap_or(url.len()));
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        match path.find('?') {
            Some(q) => {
                out.push_str(&path[..q]);
                out.push_str("?***");
            }
            None => out.push_str(path),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_info_and_queries_are_hidden() {
        assert_eq!(
            super::redact_urls("PUT https://bob:hunter2@h.example/c/x.zip?sv=1&sig=abc failed"),
            "PUT https://***@h.example/c/x.zip?*** failed"
        );
        assert_eq!(super::redact_urls("no url here"), "no url here");
    }
}
