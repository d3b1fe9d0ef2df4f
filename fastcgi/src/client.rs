//! A web server's side of FastCGI, enough to send a responder requests and
//! read its answers: what iiswsgi verify, the tests and the load generator
//! need. One request at a time per connection, as mod_fcgid and IIS send
//! them.

use std::io::{self, Read};

use crate::name_value;
use crate::record::{self, FLAG_KEEP_CONN, MAX_CONTENT, ROLE_RESPONDER, Record, kind};

/// `FCGI_BEGIN_REQUEST` for the responder role.
pub fn push_begin(out: &mut Vec<u8>, id: u16, keep_conn: bool) {
    let role = ROLE_RESPONDER.to_be_bytes();
    let flags = if keep_conn { FLAG_KEEP_CONN } else { 0 };
    record::push_record(
        out,
        kind::BEGIN_REQUEST,
        id,
        &[role[0], role[1], flags, 0, 0, 0, 0, 0],
    );
}

/// The name-value pair bytes of `params` (lengths of any size).
pub fn pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(params: &[(K, V)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in params {
        name_value::encode(&mut out, k.as_ref(), v.as_ref());
    }
    out
}

/// `FCGI_PARAMS` records holding `params`, and the empty one that ends them.
pub fn push_params<K: AsRef<[u8]>, V: AsRef<[u8]>>(out: &mut Vec<u8>, id: u16, params: &[(K, V)]) {
    record::push_stream(out, kind::PARAMS, id, &pairs(params));
    record::push_stream_end(out, kind::PARAMS, id);
}

/// `FCGI_STDIN` records of `body`, and the empty one that ends it.
pub fn push_stdin(out: &mut Vec<u8>, id: u16, body: &[u8]) {
    record::push_stream(out, kind::STDIN, id, body);
    record::push_stream_end(out, kind::STDIN, id);
}

/// A whole request: its beginning, its parameters and its body.
pub fn request<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    id: u16,
    keep_conn: bool,
    params: &[(K, V)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + body.len());
    push_begin(&mut out, id, keep_conn);
    push_params(&mut out, id, params);
    push_stdin(&mut out, id, body);
    out
}

/// `FCGI_END_REQUEST`'s body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndRequest {
    pub app_status: u32,
    pub protocol_status: u8,
}

/// What a responder sent for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The size of each non-empty `FCGI_STDOUT` record (how it streamed).
    pub stdout_records: Vec<usize>,
    pub end: EndRequest,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads request `id`'s records up to its `FCGI_END_REQUEST`. A
/// connection closed before it is an `UnexpectedEof` error (a response
/// broken off); a record of another request or of a type a responder does
/// not send is `InvalidData`.
pub fn read_reply(r: &mut impl Read, id: u16) -> io::Result<Reply> {
    let mut reply = Reply {
        stdout: Vec::new(),
        stderr: Vec::new(),
        stdout_records: Vec::new(),
        end: EndRequest {
            app_status: 0,
            protocol_status: 0,
        },
    };
    let mut content = Vec::with_capacity(MAX_CONTENT);
    loop {
        let Some((kind, rid)) = record::read_record(r, &mut content)? else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the responder closed the connection before FCGI_END_REQUEST",
            ));
        };
        if rid != id {
            return Err(invalid(format!(
                "a record (type {kind}) for request {rid} while reading request {id}"
            )));
        }
        match kind {
            kind::STDOUT => {
                if !content.is_empty() {
                    reply.stdout_records.push(content.len());
                }
                reply.stdout.extend_from_slice(&content);
            }
            kind::STDERR => reply.stderr.extend_from_slice(&content),
            kind::END_REQUEST if content.len() >= 5 => {
                reply.end = EndRequest {
                    app_status: u32::from_be_bytes([
                        content[0], content[1], content[2], content[3],
                    ]),
                    protocol_status: content[4],
                };
                return Ok(reply);
            }
            other => {
                return Err(invalid(format!(
                    "a record of type {other} ({} bytes) in a response",
                    content.len()
                )));
            }
        }
    }
}

/// Every record of a recorded conversation; an incomplete last record is
/// an error.
pub fn parse_records(mut bytes: &[u8]) -> io::Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut content = Vec::new();
    while let Some((kind, request_id)) = record::read_record(&mut bytes, &mut content)? {
        out.push(Record {
            kind,
            request_id,
            content: content.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_in_the_specs_bytes() {
        let bytes = request(1, true, &[("A", "b")], b"xy");
        assert_eq!(
            bytes,
            [
                1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, // BEGIN, responder, keep
                1, 4, 0, 1, 0, 4, 0, 0, 1, 1, b'A', b'b', // PARAMS
                1, 4, 0, 1, 0, 0, 0, 0, // end of PARAMS
                1, 5, 0, 1, 0, 2, 0, 0, b'x', b'y', // STDIN
                1, 5, 0, 1, 0, 0, 0, 0, // end of STDIN
            ]
        );
    }

    #[test]
    fn a_reply_is_read_to_its_end_request() {
        let mut bytes = Vec::new();
        record::push_stream(&mut bytes, kind::STDOUT, 3, b"Status: 200 OK\r\n\r\nhi");
        record::push_record(&mut bytes, kind::STDERR, 3, b"warn");
        record::push_stream_end(&mut bytes, kind::STDOUT, 3);
        record::push_end_request(&mut bytes, 3, 7, 0);
        let reply = read_reply(&mut &bytes[..], 3).unwrap();
        assert_eq!(reply.stdout, b"Status: 200 OK\r\n\r\nhi");
        assert_eq!(reply.stderr, b"warn");
        assert_eq!(reply.stdout_records, vec![20]);
        assert_eq!(
            reply.end,
            EndRequest {
                app_status: 7,
                protocol_status: 0
            }
        );
        let cut = &bytes[..bytes.len() - 16];
        assert_eq!(
            read_reply(&mut &cut[..], 3).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        assert_eq!(
            read_reply(&mut &bytes[..], 4).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert_eq!(parse_records(&bytes).unwrap().len(), 4);
    }
}
