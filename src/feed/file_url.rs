//! `file:///` URLs for `feed --local`: absolute, with every byte outside the
//! unreserved set percent-encoded, so paths with spaces or non-ASCII names
//! work when pasted into Web Platform Installer.

use std::path::Path;

/// The `file:///` URL of `path` (made absolute first).
pub fn file_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = absolute.to_string_lossy().replace('\\', "/");
    // `C:/x` (Windows) gets its third slash here; `/x` (Unix) already has it.
    let text = if text.starts_with('/') {
        text
    } else {
        format!("/{text}")
    };
    let mut url = String::from("file://");
    for (i, b) in text.bytes().enumerate() {
        let drive_colon = i == 2 && b == b':';
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) || drive_colon {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// The path a `file://` URL names, for checking that `--local` URLs resolve.
pub fn path_of(url: &str) -> Option<std::path::PathBuf> {
    Some(percent_decode(url.strip_prefix("file://")?)?.into())
}

/// `%XX` escapes decoded; `None` for a broken escape or non-UTF-8 result.
pub fn percent_decode(rest: &str) -> Option<String> {
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_and_non_ascii_are_encoded_and_decode_back() {
        let url = file_url(Path::new("/srv/my apps/Café#1.zip"));
        assert_eq!(url, "file:///srv/my%20apps/Caf%C3%A9%231.zip");
        assert_eq!(path_of(&url).unwrap(), Path::new("/srv/my apps/Café#1.zip"));
    }
}
