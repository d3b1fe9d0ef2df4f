//! The responder's side of a connection (what the gateway serves with)
//! against the client's side, on the protocol's edge cases: every record
//! type, padding, 4-byte lengths, records split across reads, management
//! records and unknown types.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use fastcgi::client::{self, EndRequest};
use fastcgi::record::{self, kind, protocol_status};
use fastcgi::{Connection, Request};

/// What the responder wrote, readable after the connection is gone.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Gives at most `step` bytes per read: records arrive split anywhere.
struct Dribble {
    bytes: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn responder(bytes: Vec<u8>, step: usize) -> (Connection, Written) {
    let written = Written::default();
    let conn = Connection::new(
        Box::new(Dribble { bytes, at: 0, step }),
        Box::new(written.clone()),
    );
    (conn, written)
}

fn taken(w: &Written) -> Vec<u8> {
    std::mem::take(&mut *w.0.lock().unwrap())
}

/// A record with `pad` bytes of padding (the client never pads).
fn padded(kind: u8, id: u16, content: &[u8], pad: u8) -> Vec<u8> {
    let mut out = Vec::new();
    record::push_record(&mut out, kind, id, content);
    out[6] = pad;
    out.extend(std::iter::repeat_n(0xAA, pad as usize));
    out
}

#[test]
fn a_request_split_into_single_bytes_with_padding_and_long_pairs_round_trips() {
    let long_name = "X".repeat(300);
    let long_value = "v".repeat(70_000); // 4-byte length, PARAMS over two records
    let params = [
        ("REQUEST_METHOD", "POST"),
        (long_name.as_str(), "short"),
        ("HTTP_X_BIG", long_value.as_str()),
    ];
    let mut bytes = Vec::new();
    client::push_begin(&mut bytes, 7, true);
    client::push_params(&mut bytes, 7, &params);
    bytes.extend(padded(kind::STDIN, 7, b"hello ", 3));
    bytes.extend(padded(kind::STDIN, 7, b"world", 7));
    bytes.extend(padded(kind::STDIN, 7, b"", 5));
    for step in [1, 3, 8, 4096] {
        let (mut conn, written) = responder(bytes.clone(), step);
        let Request {
            id,
            keep_conn,
            params: got,
        } = conn.next_request().unwrap().unwrap();
        assert_eq!((id, keep_conn), (7, true));
        assert_eq!(got.len(), 3);
        assert_eq!(got.get(long_name.as_bytes()), Some(&b"short"[..]));
        assert_eq!(got.get(b"HTTP_X_BIG").map(<[u8]>::len), Some(70_000));
        let mut body = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            let n = conn.read_body(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&buf[..n]);
        }
        assert_eq!(body, b"hello world");
        conn.write_stdout(b"Status: 201 Created\r\nX: y\r\n\r\n")
            .unwrap();
        conn.queue_stdout(&vec![b'z'; 70_000]).unwrap();
        assert!(conn.end_request(0, false).unwrap(), "kept");
        assert_eq!(conn.next_request().unwrap(), None, "clean EOF");
        let answer = taken(&written);
        let reply = client::read_reply(&mut &answer[..], 7).unwrap();
        assert_eq!(
            reply.end,
            EndRequest {
                app_status: 0,
                protocol_status: protocol_status::REQUEST_COMPLETE
            }
        );
        assert_eq!(reply.stdout_records, vec![29, 65535, 70_000 - 65535]);
        let response = fastcgi::cgi::parse(&reply.stdout).unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.header("x"), Some("y"));
        assert_eq!(response.body.len(), 70_000);
    }
}

#[test]
fn management_records_and_other_requests_are_answered_as_the_spec_says() {
    let mut bytes = Vec::new();
    // FCGI_GET_VALUES with a variable it does not know (left out).
    record::push_record(
        &mut bytes,
        kind::GET_VALUES,
        0,
        &client::pairs(&[("FCGI_MPXS_CONNS", ""), ("FCGI_NO_SUCH", "")]),
    );
    // A management record of an unknown type.
    record::push_record(&mut bytes, 42, 0, b"??");
    // A role other than the responder's.
    record::push_record(
        &mut bytes,
        kind::BEGIN_REQUEST,
        2,
        &[0, 3, 0, 0, 0, 0, 0, 0],
    );
    client::push_begin(&mut bytes, 1, false);
    // A second request on the connection while the first is open.
    client::push_begin(&mut bytes, 3, false);
    // FCGI_DATA (the Filter role's) and records of an unknown request id.
    record::push_record(&mut bytes, kind::DATA, 1, b"ignored");
    record::push_record(&mut bytes, kind::PARAMS, 9, b"\x01\x01ab");
    client::push_params(&mut bytes, 1, &[("A", "1")]);
    // The web server gives up on request 1 while its body is read.
    record::push_record(&mut bytes, kind::ABORT_REQUEST, 1, &[]);
    let (mut conn, written) = responder(bytes, 5);
    let request = conn.next_request().unwrap().unwrap();
    assert_eq!(request.id, 1);
    assert_eq!(request.params.get(b"A"), Some(&b"1"[..]));
    let mut buf = [0u8; 16];
    let err = conn.read_body(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
    assert!(conn.aborted());
    assert!(!conn.end_request(1, false).unwrap());
    let answer = client::parse_records(&taken(&written)).unwrap();
    let summary: Vec<(u8, u16, Vec<u8>)> = answer
        .into_iter()
        .map(|r| (r.kind, r.request_id, r.content))
        .collect();
    let mut get_values_result = Vec::new();
    fastcgi::name_value::encode(&mut get_values_result, b"FCGI_MPXS_CONNS", b"0");
    assert_eq!(
        summary,
        vec![
            (kind::GET_VALUES_RESULT, 0, get_values_result),
            (kind::UNKNOWN_TYPE, 0, vec![42, 0, 0, 0, 0, 0, 0, 0]),
            (
                kind::END_REQUEST,
                2,
                vec![0, 0, 0, 0, protocol_status::UNKNOWN_ROLE, 0, 0, 0]
            ),
            (
                kind::END_REQUEST,
                3,
                vec![0, 0, 0, 0, protocol_status::CANT_MPX_CONN, 0, 0, 0]
            ),
            (kind::STDOUT, 1, vec![]),
            (kind::END_REQUEST, 1, vec![0, 0, 0, 1, 0, 0, 0, 0]),
        ]
    );
}

#[test]
fn broken_input_is_an_error_not_a_panic() {
    // A header cut short, a version 2 record, a PARAMS length past its end.
    let mut cut = Vec::new();
    client::push_begin(&mut cut, 1, false);
    cut.truncate(5);
    let (mut conn, _) = responder(cut, 2);
    assert_eq!(
        conn.next_request().unwrap_err().kind(),
        io::ErrorKind::UnexpectedEof
    );
    let mut v2 = Vec::new();
    client::push_begin(&mut v2, 1, false);
    v2[0] = 2;
    let (mut conn, _) = responder(v2, 64);
    assert_eq!(
        conn.next_request().unwrap_err().kind(),
        io::ErrorKind::InvalidData
    );
    let mut bad = Vec::new();
    client::push_begin(&mut bad, 1, false);
    record::push_record(&mut bad, kind::PARAMS, 1, &[0x05, 0x01, b'a']);
    record::push_stream_end(&mut bad, kind::PARAMS, 1);
    let (mut conn, _) = responder(bad, 64);
    assert_eq!(
        conn.next_request().unwrap_err().kind(),
        io::ErrorKind::InvalidData
    );
}
