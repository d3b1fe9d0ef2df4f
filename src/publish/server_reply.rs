//! What a server said when it refused, in one line: a status and at most
//! the first line of a plain-text body. Servers answer errors with whole
//! HTML pages; those stay out of the terminal and the CI log.

/// Longest reply line kept.
const MAX_CHARS: usize = 300;

/// `message` cut to its first line, without any HTML page that follows.
pub fn one_line(message: &str) -> String {
    let mut line = message.lines().next().unwrap_or_default().to_string();
    for marker in ["<!DOCTYPE", "<!doctype", "<html", "<HTML", "<?xml"] {
        if let Some(at) = line.find(marker) {
            line.truncate(at);
        }
    }
    let line = line.trim().trim_end_matches([':', ',']).trim_end();
    if line.chars().count() > MAX_CHARS {
        let cut: String = line.chars().take(MAX_CHARS).collect();
        return format!("{cut}…");
    }
    line.to_string()
}

/// `: <first line>` of a plain-text response body, or nothing.
pub async fn first_text_line(response: reqwest::Response) -> String {
    let plain = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !plain {
        return String::new();
    }
    match response.text().await {
        Ok(body) => match body.lines().map(str::trim).find(|l| !l.is_empty()) {
            Some(l) => format!(": {}", one_line(l)),
            None => String::new(),
        },
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_and_later_lines_are_dropped() {
        let msg = "uploading http://h/x.zip: HTTP error: 409 Conflict: <!DOCTYPE html><html><body>big page</body></html>\nmore";
        assert_eq!(
            one_line(msg),
            "uploading http://h/x.zip: HTTP error: 409 Conflict"
        );
        assert_eq!(one_line("a\nb"), "a");
        assert_eq!(one_line(&"x".repeat(400)).chars().count(), 301);
    }
}
