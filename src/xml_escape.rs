//! Escaping for values written into XML attributes and text.
//!
//! One function serves the templates (every interpolated value) and the
//! Parameters.xml writer, so both escape the same way. Newlines and tabs are
//! written as character references because an XML parser would otherwise
//! normalise them to spaces inside attribute values.

use std::borrow::Cow;

/// Escapes `&`, `<`, `>`, `"`, `'` and whitespace control characters.
pub fn escape(value: &str) -> Cow<'_, str> {
    replace_chars(value, |c| match c {
        '"' => Some("&quot;"),
        '\'' => Some("&apos;"),
        '\n' => Some("&#10;"),
        '\t' => Some("&#9;"),
        c => markup(c),
    })
}

/// Escapes element text: `&`, `<`, `>` and carriage returns (which a parser
/// would fold into newlines). Newlines and quotes stay as they are, so long
/// descriptions remain readable in the file.
pub fn escape_text(value: &str) -> Cow<'_, str> {
    replace_chars(value, markup)
}

/// The references every context needs.
fn markup(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '\r' => Some("&#13;"),
        _ => None,
    }
}

fn replace_chars(value: &str, reference: impl Fn(char) -> Option<&'static str>) -> Cow<'_, str> {
    if !value.chars().any(|c| reference(c).is_some()) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match reference(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
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
