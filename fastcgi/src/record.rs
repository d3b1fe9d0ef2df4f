//! FastCGI 1.0 records: the 8-byte header, content and padding
//! (<https://fastcgi-archives.github.io/FastCGI_Specification.html>, section 3.3).

use std::io::{self, Read, Write};

pub const VERSION_1: u8 = 1;
pub const HEADER_LEN: usize = 8;
/// Largest content one record carries (the length is 16 bits).
pub const MAX_CONTENT: usize = 0xFFFF;

/// Record types (section 8).
pub mod kind {
    pub const BEGIN_REQUEST: u8 = 1;
    pub const ABORT_REQUEST: u8 = 2;
    pub const END_REQUEST: u8 = 3;
    pub const PARAMS: u8 = 4;
    pub const STDIN: u8 = 5;
    pub const STDOUT: u8 = 6;
    pub const STDERR: u8 = 7;
    pub const DATA: u8 = 8;
    pub const GET_VALUES: u8 = 9;
    pub const GET_VALUES_RESULT: u8 = 10;
    pub const UNKNOWN_TYPE: u8 = 11;
}

/// `FCGI_BeginRequestBody.role`.
pub const ROLE_RESPONDER: u16 = 1;
/// `FCGI_BeginRequestBody.flags`: keep the connection open after the request.
pub const FLAG_KEEP_CONN: u8 = 1;

/// `FCGI_EndRequestBody.protocolStatus`.
pub mod protocol_status {
    pub const REQUEST_COMPLETE: u8 = 0;
    pub const CANT_MPX_CONN: u8 = 1;
    pub const UNKNOWN_ROLE: u8 = 3;
}

/// One record as read: its type, request id and content (padding dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: u8,
    pub request_id: u16,
    pub content: Vec<u8>,
}

/// Reads one record. `Ok(None)` is a clean end of the connection (EOF
/// before the first header byte); EOF inside a record is an error.
pub fn read_record(r: &mut impl Read, content: &mut Vec<u8>) -> io::Result<Option<(u8, u16)>> {
    let mut header = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match r.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a FastCGI record header",
                ));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if header[0] != VERSION_1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "FastCGI record of version {} (only version 1 exists)",
                header[0]
            ),
        ));
    }
    let kind = header[1];
    let request_id = u16::from_be_bytes([header[2], header[3]]);
    let length = u16::from_be_bytes([header[4], header[5]]) as usize;
    let padding = header[6] as usize;
    content.clear();
    content.resize(length + padding, 0);
    r.read_exact(content)?;
    content.truncate(length);
    Ok(Some((kind, request_id)))
}

/// Appends one record's header and content to `out`. `content` must fit one
/// record; padding is never written (it is optional, section 3.3).
pub fn push_record(out: &mut Vec<u8>, kind: u8, request_id: u16, content: &[u8]) {
    debug_assert!(content.len() <= MAX_CONTENT);
    let id = request_id.to_be_bytes();
    let len = (content.len() as u16).to_be_bytes();
    out.extend_from_slice(&[VERSION_1, kind, id[0], id[1], len[0], len[1], 0, 0]);
    out.extend_from_slice(content);
}

/// Appends a stream's bytes (`STDOUT`, `STDERR`) as as many records as it
/// takes. An empty `data` writes nothing: the empty record that ends a
/// stream is written by [`push_stream_end`].
pub fn push_stream(out: &mut Vec<u8>, kind: u8, request_id: u16, data: &[u8]) {
    for chunk in data.chunks(MAX_CONTENT) {
        push_record(out, kind, request_id, chunk);
    }
}

/// The empty record that closes a stream.
pub fn push_stream_end(out: &mut Vec<u8>, kind: u8, request_id: u16) {
    push_record(out, kind, request_id, &[]);
}

/// `FCGI_END_REQUEST` with an application status and a protocol status.
pub fn push_end_request(out: &mut Vec<u8>, request_id: u16, app_status: u32, protocol_status: u8) {
    let a = app_status.to_be_bytes();
    push_record(
        out,
        kind::END_REQUEST,
        request_id,
        &[a[0], a[1], a[2], a[3], protocol_status, 0, 0, 0],
    );
}

/// `FCGI_UNKNOWN_TYPE` for a management record type this gateway does not know.
pub fn push_unknown_type(out: &mut Vec<u8>, unknown: u8) {
    push_record(out, kind::UNKNOWN_TYPE, 0, &[unknown, 0, 0, 0, 0, 0, 0, 0]);
}

/// Writes `out` and empties it.
pub fn flush_to(w: &mut impl Write, out: &mut Vec<u8>) -> io::Result<()> {
    if !out.is_empty() {
        w.write_all(out)?;
        out.clear();
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes_are_the_specs() {
        let mut out = Vec::new();
        push_record(&mut out, kind::STDOUT, 0x0102, b"hi");
        assert_eq!(out, [1, 6, 1, 2, 0, 2, 0, 0, b'h', b'i']);
    }

    #[test]
    fn long_streams_split_at_65535() {
        let mut out = Vec::new();
        push_stream(&mut out, kind::STDOUT, 1, &vec![7u8; MAX_CONTENT + 10]);
        assert_eq!(out.len(), 2 * HEADER_LEN + MAX_CONTENT + 10);
        assert_eq!(&out[4..6], &[0xFF, 0xFF]);
        let second = HEADER_LEN + MAX_CONTENT;
        assert_eq!(&out[second + 4..second + 6], &[0, 10]);
    }

    #[test]
    fn padding_is_read_and_dropped() {
        let bytes = [1, 5, 0, 1, 0, 3, 5, 0, b'a', b'b', b'c', 0, 0, 0, 0, 0];
        let mut content = Vec::new();
        let got = read_record(&mut &bytes[..], &mut content).unwrap();
        assert_eq!(got, Some((kind::STDIN, 1)));
        assert_eq!(content, b"abc");
    }

    #[test]
    fn eof_between_records_is_clean_inside_is_an_error() {
        let mut content = Vec::new();
        assert_eq!(read_record(&mut &[][..], &mut content).unwrap(), None);
        let err = read_record(&mut &[1u8, 5, 0][..], &mut content).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let err = read_record(&mut &[1u8, 5, 0, 1, 0, 9, 0, 0, 1][..], &mut content).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn other_versions_are_refused() {
        let mut content = Vec::new();
        let err = read_record(&mut &[2u8, 5, 0, 1, 0, 0, 0, 0][..], &mut content).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn end_request_body() {
        let mut out = Vec::new();
        push_end_request(&mut out, 3, 0x01020304, protocol_status::CANT_MPX_CONN);
        assert_eq!(out, [1, 3, 0, 3, 0, 8, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0]);
    }
}
