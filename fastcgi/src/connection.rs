//! One FastCGI connection from the web server, as a responder that serves
//! one request at a time (IIS and mod_fcgid never send more per process).
//!
//! The request body is not gathered: [`Connection::read_body`] reads
//! `FCGI_STDIN` records only when the application asks for bytes, so an
//! upload of any size passes through in 64 KiB pieces.

use std::io::{self, BufReader, Read, Write};

use crate::name_value;
use crate::record::{self, kind, protocol_status};

/// What a request arrives with: its id, whether the server keeps the
/// connection afterwards, and its parameters (CGI variables) as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: u16,
    pub keep_conn: bool,
    pub params: name_value::Pairs,
}

/// The request being received or served.
#[derive(Debug)]
struct Current {
    id: u16,
    keep_conn: bool,
    params_done: bool,
    params: Vec<u8>,
    /// Body bytes received but not yet read by the application.
    body: Vec<u8>,
    body_at: usize,
    stdin_done: bool,
    aborted: bool,
    /// Response bytes were sent or queued.
    responded: bool,
}

pub struct Connection {
    reader: BufReader<Box<dyn Read + Send>>,
    writer: Box<dyn Write + Send>,
    out: Vec<u8>,
    content: Vec<u8>,
    current: Option<Current>,
}

/// What one read from the web server may bring: a whole ordinary request
/// (its parameters are a few KiB) at once. Larger records, a 64 KiB body
/// piece, are read past the buffer, straight into place. Smaller than a
/// record on purpose: std's BufReader zeroes its whole buffer on a
/// connection's first read, and a connection is often made for one request.
const READ_BUFFER: usize = 16 * 1024;

fn aborted_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the web server aborted the request (FCGI_ABORT_REQUEST)",
    )
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

impl Connection {
    pub fn new(reader: Box<dyn Read + Send>, writer: Box<dyn Write + Send>) -> Self {
        Connection {
            reader: BufReader::with_capacity(READ_BUFFER, reader),
            writer,
            out: Vec::with_capacity(16 * 1024),
            // Grown by the records that need it: most need a few hundred
            // bytes, and a connection is often made for one request.
            content: Vec::new(),
            current: None,
        }
    }

    /// Waits for the next complete request (`BEGIN_REQUEST` and all its
    /// `PARAMS`), answering management records on the way. `None`: the
    /// server closed the connection.
    pub fn next_request(&mut self) -> io::Result<Option<Request>> {
        if self.current.as_ref().is_some_and(|c| c.params_done) {
            // The previous request was not ended; nothing sane can follow.
            return Err(invalid(
                "next_request while a request is still being served",
            ));
        }
        loop {
            let Some((kind, id)) = record::read_record(&mut self.reader, &mut self.content)? else {
                return Ok(None);
            };
            if self.management_or_other(kind, id)? {
                continue;
            }
            let current = self
                .current
                .as_mut()
                .expect("management_or_other keeps only the current id");
            match kind {
                kind::PARAMS if self.content.is_empty() => {
                    current.params_done = true;
                    let params = name_value::Pairs::parse(std::mem::take(&mut current.params))
                        .map_err(|e| invalid(e.to_string()))?;
                    return Ok(Some(Request {
                        id,
                        keep_conn: current.keep_conn,
                        params,
                    }));
                }
                kind::PARAMS => {
                    if current.params.len() + self.content.len() > MAX_PARAMS_BYTES {
                        return Err(invalid("FastCGI parameters larger than 1 MiB"));
                    }
                    current.params.extend_from_slice(&self.content);
                }
                kind::STDIN => {
                    // Allowed before the parameters end; kept for the body.
                    if current.body.len() + self.content.len() > MAX_PARAMS_BYTES {
                        return Err(invalid(
                            "more than 1 MiB of FCGI_STDIN before FCGI_PARAMS ended",
                        ));
                    }
                    if self.content.is_empty() {
                        current.stdin_done = true;
                    }
                    current.body.extend_from_slice(&self.content);
                }
                kind::ABORT_REQUEST => {
                    self.current = None;
                    record::push_end_request(
                        &mut self.out,
                        id,
                        0,
                        protocol_status::REQUEST_COMPLETE,
                    );
                    record::flush_to(&mut self.writer, &mut self.out)?;
                }
                _ => {} // FCGI_DATA belongs to the Filter role; ignored.
            }
        }
    }

    /// Handles a record that is not the current request's: management
    /// records (id 0), a second `BEGIN_REQUEST`, records for unknown ids.
    /// Returns whether it was handled (`false`: it is the current request's).
    fn management_or_other(&mut self, kind: u8, id: u16) -> io::Result<bool> {
        if id == 0 {
            match kind {
                kind::GET_VALUES => {
                    let mut reply = Vec::new();
                    name_value::decode(&self.content, |name, _| {
                        let value: &[u8] = match name {
                            b"FCGI_MAX_CONNS" | b"FCGI_MAX_REQS" => b"1",
                            b"FCGI_MPXS_CONNS" => b"0",
                            _ => return, // unknown variables are left out (section 4.1)
                        };
                        name_value::encode(&mut reply, name, value);
                    })
                    .map_err(|e| invalid(e.to_string()))?;
                    record::push_record(&mut self.out, kind::GET_VALUES_RESULT, 0, &reply);
                }
                other => record::push_unknown_type(&mut self.out, other),
            }
            record::flush_to(&mut self.writer, &mut self.out)?;
            return Ok(true);
        }
        if kind == kind::BEGIN_REQUEST {
            if self.content.len() < 8 {
                return Err(invalid("FCGI_BEGIN_REQUEST shorter than 8 bytes"));
            }
            if self.current.as_ref().is_some_and(|c| c.id == id) {
                // The same request begun again: the server is confused, and
                // the request gets one FCGI_END_REQUEST, when it ends.
                return Ok(true);
            }
            if self.current.is_some() {
                record::push_end_request(&mut self.out, id, 0, protocol_status::CANT_MPX_CONN);
                record::flush_to(&mut self.writer, &mut self.out)?;
                return Ok(true);
            }
            let role = u16::from_be_bytes([self.content[0], self.content[1]]);
            if role != record::ROLE_RESPONDER {
                record::push_end_request(&mut self.out, id, 0, protocol_status::UNKNOWN_ROLE);
                record::flush_to(&mut self.writer, &mut self.out)?;
                return Ok(true);
            }
            self.current = Some(Current {
                id,
                keep_conn: self.content[2] & record::FLAG_KEEP_CONN != 0,
                params_done: false,
                params: Vec::new(),
                body: Vec::new(),
                body_at: 0,
                stdin_done: false,
                aborted: false,
                responded: false,
            });
            return Ok(true);
        }
        // Records of a request this connection does not serve are dropped.
        Ok(self.current.as_ref().is_none_or(|c| c.id != id))
    }

    /// Reads request-body bytes into `buf`; 0 at the end of the body. After
    /// the server aborted the request (`FCGI_ABORT_REQUEST`), an error of
    /// kind `ConnectionAborted` (the app's read raises OSError, as under
    /// mod_wsgi), not a short body the app would take for the whole.
    pub fn read_body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.aborted() {
            return Err(aborted_error());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let current = self
                .current
                .as_mut()
                .ok_or_else(|| invalid("no request is being served"))?;
            if current.body_at < current.body.len() {
                let n = buf.len().min(current.body.len() - current.body_at);
                buf[..n].copy_from_slice(&current.body[current.body_at..current.body_at + n]);
                current.body_at += n;
                return Ok(n);
            }
            if current.stdin_done {
                return Ok(0);
            }
            let Some((kind, id)) = record::read_record(&mut self.reader, &mut self.content)? else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the web server closed the connection inside the request body",
                ));
            };
            if self.management_or_other(kind, id)? {
                continue;
            }
            let current = self.current.as_mut().expect("the current request");
            match kind {
                kind::STDIN if self.content.is_empty() => current.stdin_done = true,
                kind::STDIN => {
                    // Swap rather than copy: the record buffer becomes the body.
                    std::mem::swap(&mut current.body, &mut self.content);
                    current.body_at = 0;
                }
                kind::ABORT_REQUEST => {
                    current.aborted = true;
                    current.stdin_done = true;
                    return Err(aborted_error());
                }
                _ => {}
            }
        }
    }

    /// Whether the server sent `FCGI_ABORT_REQUEST` for the current request.
    pub fn aborted(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.aborted)
    }

    fn current_id(&self) -> io::Result<u16> {
        self.current
            .as_ref()
            .map(|c| c.id)
            .ok_or_else(|| invalid("no request is being served"))
    }

    /// Answers the current request with `response` and ends it at once,
    /// without reading what is left of its body (the process is about to
    /// end: the gateway's request timeout).
    pub fn answer_at_once(&mut self, response: &[u8], app_status: u32) -> io::Result<()> {
        let id = self.current_id()?;
        record::push_stream(&mut self.out, kind::STDOUT, id, response);
        record::push_stream_end(&mut self.out, kind::STDOUT, id);
        record::push_end_request(
            &mut self.out,
            id,
            app_status,
            protocol_status::REQUEST_COMPLETE,
        );
        self.current = None;
        record::flush_to(&mut self.writer, &mut self.out)
    }

    /// Whether any of the current request's response was given (sent or
    /// queued): after that, only breaking the connection can end it.
    pub fn responded(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.responded)
    }

    /// Bytes of the web server's already received and not yet taken: the
    /// next request may be here without waiting for the socket.
    pub fn has_buffered_input(&self) -> bool {
        !self.reader.buffer().is_empty()
    }

    fn mark_responded(&mut self) {
        if let Some(c) = self.current.as_mut() {
            c.responded = true;
        }
    }

    /// Sends response bytes (`FCGI_STDOUT`) at once.
    pub fn write_stdout(&mut self, data: &[u8]) -> io::Result<()> {
        self.mark_responded();
        let id = self.current_id()?;
        record::push_stream(&mut self.out, kind::STDOUT, id, data);
        record::flush_to(&mut self.writer, &mut self.out)
    }

    /// Queues response bytes to go out with the end of the request (one
    /// write for a response that is complete anyway).
    pub fn queue_stdout(&mut self, data: &[u8]) -> io::Result<()> {
        self.mark_responded();
        let id = self.current_id()?;
        record::push_stream(&mut self.out, kind::STDOUT, id, data);
        Ok(())
    }

    /// Sends bytes for the server's error log (`FCGI_STDERR`).
    pub fn write_stderr(&mut self, data: &[u8]) -> io::Result<()> {
        let id = self.current_id()?;
        record::push_stream(&mut self.out, kind::STDERR, id, data);
        record::flush_to(&mut self.writer, &mut self.out)
    }

    /// Ends the current request: reads what is left of its body (so the
    /// next request's records are where they should be), closes the
    /// streams and sends `FCGI_END_REQUEST`. Returns whether the server
    /// keeps the connection for another request.
    pub fn end_request(&mut self, app_status: u32, wrote_stderr: bool) -> io::Result<bool> {
        let mut sink = [0u8; 8192];
        while !self.aborted() && self.read_body(&mut sink)? > 0 {}
        let current = self
            .current
            .take()
            .ok_or_else(|| invalid("no request is being served"))?;
        record::push_stream_end(&mut self.out, kind::STDOUT, current.id);
        if wrote_stderr {
            record::push_stream_end(&mut self.out, kind::STDERR, current.id);
        }
        record::push_end_request(
            &mut self.out,
            current.id,
            app_status,
            protocol_status::REQUEST_COMPLETE,
        );
        record::flush_to(&mut self.writer, &mut self.out)?;
        Ok(current.keep_conn)
    }
}

/// Bound on the parameters of one request (IIS sends a few KiB; a server
/// that sends more is broken or hostile).
const MAX_PARAMS_BYTES: usize = 1 << 20;
