//! The objects a request hands to Python: `wsgi.input` ([`Input`]), the
//! response writer ([`Output`]) and `wsgi.errors` ([`ErrorStream`]).
//!
//! Input and Output share the FastCGI connection with the serving loop.
//! Each carries the request's sequence number, so an app that keeps
//! `wsgi.input` past its request gets an error instead of the next
//! request's body.

use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::{PyAssertionError, PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::fastcgi::Connection;
use crate::log::Log;

/// The connection and the number of the request being served on it.
pub struct Shared {
    pub conn: Connection,
    pub seq: u64,
}

pub type SharedConn = Arc<Mutex<Shared>>;

fn lock(shared: &SharedConn) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

fn stale() -> PyErr {
    PyValueError::new_err(
        "this request has ended: wsgi.input and write() belong to the request they came with",
    )
}

fn os_error(e: std::io::Error) -> PyErr {
    PyOSError::new_err(format!("connection to the web server: {e}"))
}

/// `wsgi.input`: the request body, read from `FCGI_STDIN` records as the
/// app asks for it (never gathered in memory).
#[pyclass(module = "iiswsgi_gateway")]
pub struct Input {
    shared: SharedConn,
    seq: u64,
    /// Bytes received but not yet returned (readline reads ahead).
    buf: Vec<u8>,
    at: usize,
    eof: bool,
}

impl Input {
    pub fn new(shared: SharedConn, seq: u64) -> Self {
        Input {
            shared,
            seq,
            buf: Vec::new(),
            at: 0,
            eof: false,
        }
    }

    /// Refills `buf` with the next piece of the body; false at the end.
    fn fill(&mut self, py: Python<'_>) -> PyResult<bool> {
        if self.eof {
            return Ok(false);
        }
        let (shared, seq) = (self.shared.clone(), self.seq);
        let mut piece = std::mem::take(&mut self.buf);
        piece.resize(64 * 1024, 0);
        let n = py.detach(|| {
            let mut s = lock(&shared);
            if s.seq != seq {
                return Err(None);
            }
            s.conn.read_body(&mut piece).map_err(Some)
        });
        let n = match n {
            Ok(n) => n,
            Err(None) => return Err(stale()),
            Err(Some(e)) => return Err(os_error(e)),
        };
        piece.truncate(n);
        self.buf = piece;
        self.at = 0;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.at..]
    }

    /// Up to `limit` bytes (all when None), stopping after a newline when
    /// `line` is set.
    fn take(&mut self, py: Python<'_>, limit: Option<usize>, line: bool) -> PyResult<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let want = limit.map(|l| l - out.len());
            if want == Some(0) {
                break;
            }
            if self.available().is_empty() && !self.fill(py)? {
                break;
            }
            let avail = self.available();
            let mut n = want.map_or(avail.len(), |w| w.min(avail.len()));
            if line && let Some(nl) = avail[..n].iter().position(|&b| b == b'\n') {
                n = nl + 1;
                out.extend_from_slice(&avail[..n]);
                self.at += n;
                break;
            }
            out.extend_from_slice(&avail[..n]);
            self.at += n;
            // A sized read returns what one piece gave, like a socket file.
            if !line && limit.is_some() && !out.is_empty() {
                break;
            }
        }
        Ok(out)
    }
}

fn size_arg(size: Option<isize>) -> Option<usize> {
    size.filter(|s| *s >= 0).map(|s| s as usize)
}

#[pymethods]
impl Input {
    #[pyo3(signature = (size = None))]
    fn read<'py>(&mut self, py: Python<'py>, size: Option<isize>) -> PyResult<Bound<'py, PyBytes>> {
        let limit = size_arg(size);
        let mut out = self.take(py, limit, false)?;
        // read(n) gives n bytes unless the body ends first (PEP 3333 callers
        // rely on it, e.g. cgi.FieldStorage and Django's LimitedStream).
        if let Some(l) = limit {
            while out.len() < l {
                let more = self.take(py, Some(l - out.len()), false)?;
                if more.is_empty() {
                    break;
                }
                out.extend_from_slice(&more);
            }
        }
        Ok(PyBytes::new(py, &out))
    }

    #[pyo3(signature = (size = None))]
    fn readline<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<isize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let out = self.take(py, size_arg(size), true)?;
        Ok(PyBytes::new(py, &out))
    }

    #[pyo3(signature = (hint = None))]
    fn readlines<'py>(
        &mut self,
        py: Python<'py>,
        hint: Option<isize>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let hint = size_arg(hint).filter(|h| *h > 0);
        let mut lines = Vec::new();
        let mut total = 0;
        loop {
            let line = self.take(py, None, true)?;
            if line.is_empty() {
                break;
            }
            total += line.len();
            lines.push(PyBytes::new(py, &line));
            if hint.is_some_and(|h| total >= h) {
                break;
            }
        }
        Ok(lines)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let line = self.take(py, None, true)?;
        Ok((!line.is_empty()).then(|| PyBytes::new(py, &line)))
    }
}

/// The response writer behind `start_response` and its `write()`.
#[pyclass(module = "iiswsgi_gateway")]
pub struct Output {
    shared: SharedConn,
    seq: u64,
    head: Option<Vec<u8>>,
    sent: bool,
    /// The body's end was given (write_last, finish): only close() is left.
    complete: bool,
    pub body_bytes: u64,
}

/// How far a response had got when the app raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing of it was given: the error page can be sent instead.
    NotStarted,
    /// Its head and part of its body went out: it can only be broken off.
    Partial,
    /// All of it was given (the app's close() raised): it stands.
    Complete,
}

impl Output {
    pub fn new(shared: SharedConn, seq: u64) -> Self {
        Output {
            shared,
            seq,
            head: None,
            sent: false,
            complete: false,
            body_bytes: 0,
        }
    }

    pub fn progress(&self) -> Progress {
        match (self.sent, self.complete) {
            (false, _) => Progress::NotStarted,
            (true, false) => Progress::Partial,
            (true, true) => Progress::Complete,
        }
    }

    /// The status line the app gave, for the access log.
    pub fn status(&self) -> Option<&[u8]> {
        let head = self.head.as_deref()?;
        let line = head.split(|&b| b == b'\r').next()?;
        line.strip_prefix(b"Status: ")
    }

    /// Sends the head (first time) and `body`; `now` false queues them to
    /// go out with the end of the request.
    fn send(&mut self, py: Python<'_>, body: &[u8], now: bool) -> PyResult<()> {
        let mut data = Vec::new();
        let bytes: &[u8] = if !self.sent {
            let head = self
                .head
                .as_ref()
                .ok_or_else(|| PyAssertionError::new_err("write() before start_response()"))?;
            data.reserve(head.len() + body.len());
            data.extend_from_slice(head);
            data.extend_from_slice(body);
            &data
        } else {
            body
        };
        let (shared, seq) = (self.shared.clone(), self.seq);
        let write = || {
            let mut s = lock(&shared);
            if s.seq != seq {
                return Err(None);
            }
            if now {
                s.conn.write_stdout(bytes)
            } else {
                s.conn.queue_stdout(bytes)
            }
            .map_err(Some)
        };
        // Any write to the connection may block (a client that does not
        // read fills the socket's buffer with a few kilobytes): the app's
        // other threads (a scheduler, an APM agent) run meanwhile. Queued
        // bytes only go to a buffer.
        let result = if now { py.detach(write) } else { write() };
        match result {
            Ok(()) => {
                self.sent = true;
                self.body_bytes += body.len() as u64;
                Ok(())
            }
            Err(None) => Err(stale()),
            Err(Some(e)) => {
                // Part of the bytes may have gone out before the write
                // failed: the response counts as started, so it is broken
                // off rather than followed by an error page.
                self.sent |= now;
                Err(os_error(e))
            }
        }
    }
}

fn body_bytes<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
    data.cast::<PyBytes>().map(|b| b.as_bytes()).map_err(|_| {
        PyTypeError::new_err(format!(
            "WSGI body chunks must be bytes, not {}",
            type_name(data)
        ))
    })
}

#[pymethods]
impl Output {
    /// The app's `start_response` (PEP 3333): checks and keeps the head
    /// until the first body bytes; returns `write`.
    #[pyo3(signature = (status, headers, exc_info = None))]
    fn __call__<'py>(
        slf: &Bound<'py, Self>,
        status: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        exc_info: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        // try_borrow: an app calling this while its other thread writes
        // gets an exception, not a panic.
        let (sent, started) = {
            let me = slf.try_borrow()?;
            (me.sent, me.head.is_some())
        };
        match exc_info.filter(|e| !e.is_none()) {
            // Once the head went out, the app's exception is raised again
            // in the app; before, an error page may replace the head.
            Some(exc_info) if sent => {
                let value = exc_info.get_item(1)?;
                let value = value.call_method1(
                    pyo3::intern!(py, "with_traceback"),
                    (exc_info.get_item(2)?,),
                )?;
                return Err(PyErr::from_value(value));
            }
            Some(_) => {}
            None if started => {
                return Err(PyAssertionError::new_err(
                    "start_response called a second time without exc_info",
                ));
            }
            None => {}
        }
        let head = super::response_head::encode(status, headers)?;
        slf.try_borrow_mut()?.head = Some(head);
        slf.getattr(pyo3::intern!(py, "write"))
    }

    fn write(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        self.send(py, body_bytes(data)?, true)
    }

    /// The whole rest of the body at once (an app's one-item list): queued
    /// to leave in the same write as the end of the request.
    fn write_last(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        if self.head.is_none() && !self.sent {
            return Err(PyAssertionError::new_err(
                "the application returned without calling start_response()",
            ));
        }
        self.send(py, body_bytes(data)?, false)?;
        self.complete = true;
        Ok(())
    }

    fn finish(&mut self, py: Python<'_>) -> PyResult<()> {
        if !self.sent {
            if self.head.is_none() {
                return Err(PyAssertionError::new_err(
                    "the application returned without calling start_response()",
                ));
            }
            self.send(py, &[], false)?;
        }
        self.complete = true;
        Ok(())
    }

    #[getter]
    fn headers_sent(&self) -> bool {
        self.sent
    }
}

pub(super) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// `wsgi.errors`, and `sys.stdout`/`sys.stderr` while the gateway runs:
/// text to the gateway's log (never to the FastCGI connection).
#[pyclass(module = "iiswsgi_gateway")]
pub struct ErrorStream {
    pub log: Arc<Log>,
}

#[pymethods]
impl ErrorStream {
    fn write(&self, text: &str) -> usize {
        self.log.raw(text);
        text.len()
    }

    fn writelines(&self, lines: Vec<String>) {
        for l in lines {
            self.log.raw(&l);
        }
    }

    fn flush(&self) {}

    fn isatty(&self) -> bool {
        false
    }

    #[getter]
    fn encoding(&self) -> &'static str {
        "utf-8"
    }
}
