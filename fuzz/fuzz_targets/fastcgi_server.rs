//! The FastCGI server side (the workspace's `fastcgi` crate, as the gateway
//! uses it), fed any bytes a web server (or a
//! stranger on its socket) could send: records of every type, lengths and
//! padding, management records, a second BEGIN_REQUEST, aborts, bodies
//! split anywhere. It must never panic, every request it takes must be
//! ended, and what it writes back must be whole FastCGI records.
#![no_main]

use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex};

use fastcgi::Connection;
use iiswsgi_gateway::wsgi::environ;
use libfuzzer_sys::fuzz_target;

#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let written = Written::default();
    let mut conn = Connection::new(
        Box::new(Cursor::new(data.to_vec())),
        Box::new(written.clone()),
    );
    let mut buf = [0u8; 700];
    // Bounded: a keep-alive connection may carry many requests.
    for _ in 0..64 {
        let Ok(Some(request)) = conn.next_request() else {
            break;
        };
        // The environ the app would get, from whatever parameters came.
        let vars = environ::cgi_variables(&request.params);
        assert!(vars.iter().any(|(k, _)| *k == b"PATH_INFO"));
        let mut body = 0usize;
        loop {
            match conn.read_body(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => body += n,
            }
        }
        let _ = body;
        let _ = conn.write_stdout(b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok");
        match conn.end_request(0, false) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
    // Whole records only: version 1, content and padding all there.
    let out = written.0.lock().unwrap();
    let mut at = 0;
    while at < out.len() {
        assert!(out.len() - at >= 8, "a partial record header");
        assert_eq!(out[at], 1, "FastCGI version 1");
        let len = u16::from_be_bytes([out[at + 4], out[at + 5]]) as usize + out[at + 6] as usize;
        at += 8 + len;
        assert!(at <= out.len(), "a record cut short");
    }
});
