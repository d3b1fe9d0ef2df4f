//! Escaping for values written into XML attributes and text.
//!
//! One function serves the templates (every interpolated value) and the
//! Parameters.xml writer, so both escape the same way. Newlines and tabs are
//! written as character references because an XML parser would otherwise
//! normalise them to spaces inside attribute values.

use std::borrow::Cow;

/// Escapes `&`, `<`, `>`, `"`, `'` and whitespace control characters.
pub fn escape(value: &str) -> Cow<'_, str> {
    if !value
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | b'\n' | b'\r' | b'\t'))
    {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes element text: `&`, `<`, `>` and carriage returns (which a parser
/// would fold into newlines). Newlines and quotes stay as they are, so long
/// descriptions remain readable in the file.
pub fn escape_text(value: &str) -> Cow<'_, str> {
    if !value
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'\r'))
    {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_keeps_newlines_and_quotes() {
        assert_eq!(
            super::escape_text("a \"b\"\n<c> & d\r"),
            "a \"b\"\n&lt;c&gt; &amp; d&#13;"
        );
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(super::escape("plain"), "plain");
        assert_eq!(
            super::escape(r#"a<b>&"c" 'd'"#),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;"
        );
        assert_eq!(super::escape("l1\nl2"), "l1&#10;l2");
    }
}
