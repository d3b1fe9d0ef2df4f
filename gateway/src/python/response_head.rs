//! `start_response(status, headers)`'s arguments checked and made into
//! the head of a FastCGI response (`Status: ...` and the header lines),
//! per request, in Rust rather than in the shim's Python.
//!
//! What PEP 3333 asks (a `str` status, a `list` of `(str, str)` tuples,
//! latin-1), and what may not reach the web server: a status or header
//! with CR or LF would split the response (an injected header or body),
//! and NUL or any other control character passes no better. A header
//! value may hold a tab. The errors are Python's own kinds, with the
//! messages the shim gave.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use super::streams::type_name;

/// The head for `status` and `headers`, ending with the empty line.
pub fn encode(status: &Bound<'_, PyAny>, headers: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let status_str = exact_str(status).ok_or_else(|| {
        PyTypeError::new_err(format!("status must be str, not {}", type_name(status)))
    })?;
    let status_bytes = latin1(status_str)?;
    let status_bytes = status_bytes.as_bytes();
    if !is_status(status_bytes) {
        return Err(PyValueError::new_err(format!(
            "status {} is not '<3 digits> <reason>' with no control character",
            status_str.repr()?
        )));
    }
    let headers = headers.cast_exact::<PyList>().map_err(|_| {
        PyTypeError::new_err(format!(
            "headers must be a list, not {}",
            type_name(headers)
        ))
    })?;
    let mut head = Vec::with_capacity(64 + 48 * headers.len());
    head.extend_from_slice(b"Status: ");
    head.extend_from_slice(status_bytes);
    head.extend_from_slice(b"\r\n");
    for header in headers.iter() {
        let pair = header
            .cast_exact::<PyTuple>()
            .ok()
            .filter(|t| t.len() == 2)
            .ok_or_else(|| match header.repr() {
                Ok(r) => PyTypeError::new_err(format!(
                    "each header must be a (name, value) tuple, not {r}"
                )),
                Err(e) => e,
            })?;
        let (name, value) = (pair.get_item(0)?, pair.get_item(1)?);
        let (Some(name_str), Some(value_str)) = (exact_str(&name), exact_str(&value)) else {
            return Err(PyTypeError::new_err(format!(
                "header names and values must be str, not {}: {}",
                PyString::new(header.py(), &type_name(&name)).repr()?,
                pair.repr()?
            )));
        };
        // A name beyond latin-1 is no token either.
        let name_bytes = latin1(name_str).ok();
        let name_bytes = name_bytes.as_ref().map_or(&[][..], |b| b.as_bytes());
        if name_bytes.is_empty() || !name_bytes.iter().copied().all(is_token_byte) {
            return Err(PyValueError::new_err(format!(
                "invalid header name {}",
                name_str.repr()?
            )));
        }
        let value_bytes = latin1(value_str)?;
        let value_bytes = value_bytes.as_bytes();
        if let Some(&c) = value_bytes.iter().find(|&&b| is_control(b) && b != b'\t') {
            let what = match c {
                b'\r' | b'\n' => "a line break".to_owned(),
                c => format!("control character '\\x{c:02x}'"),
            };
            return Err(PyValueError::new_err(format!(
                "header {} has {what} in its value",
                name_str.repr()?
            )));
        }
        head.extend_from_slice(name_bytes);
        head.extend_from_slice(b": ");
        head.extend_from_slice(value_bytes);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    Ok(head)
}

/// `[0-9]{3} ` and then no control character, to the end.
fn is_status(b: &[u8]) -> bool {
    b.len() >= 4
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[3] == b' '
        && !b[4..].iter().copied().any(is_control)
}

fn is_control(b: u8) -> bool {
    b <= 0x1f || b == 0x7f
}

/// RFC 9110's tchar: what a header name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `s` as latin-1 bytes (PEP 3333's strings), or Python's own
/// UnicodeEncodeError. Through the stable ABI, as the gateway is built
/// (no borrowed UTF-8 before Python 3.10's).
fn latin1<'py>(s: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyBytes>> {
    // SAFETY: s is a str; the result is a new reference or NULL with the
    // exception set, which from_owned_ptr_or_err takes.
    let bytes = unsafe {
        Bound::from_owned_ptr_or_err(s.py(), pyo3::ffi::PyUnicode_AsLatin1String(s.as_ptr()))?
    };
    Ok(bytes.cast_into::<PyBytes>()?)
}

fn exact_str<'a, 'py>(obj: &'a Bound<'py, PyAny>) -> Option<&'a Bound<'py, PyString>> {
    obj.cast_exact::<PyString>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_header_names() {
        assert!(is_status(b"200 OK"));
        assert!(is_status(b"404 "));
        assert!(is_status(b"200 \xc7a va"));
        assert!(!is_status(b"200"));
        assert!(!is_status(b"20x OK"));
        assert!(!is_status(b"200\tOK"));
        assert!(!is_status(b"200 OK\r\nSet-Cookie: x=1"));
        assert!(!is_status(b"200 OK\x7f"));
        assert!("Content-Type".bytes().all(is_token_byte));
        assert!(!"X A".bytes().all(is_token_byte));
        assert!(!"X:A".bytes().all(is_token_byte));
    }
}
