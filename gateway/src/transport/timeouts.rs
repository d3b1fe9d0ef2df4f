//! The read and write limits on an accepted socket (see `crate::limits`).
//!
//! The kernel's timeouts (SO_RCVTIMEO, SO_SNDTIMEO) bound each read and
//! write: a web server that sends nothing, or takes none of the response,
//! for that long loses the connection. A peer that trickles a byte at a
//! time would never trip them, so reading a request's parameters also has
//! a deadline for the whole, checked after each read.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The deadline of the request being read, shared by the serving loop
/// (which starts and stops it) and the connection's reader.
pub struct ReadDeadline {
    base: Instant,
    /// Milliseconds after `base`; 0: none.
    at: AtomicU64,
    limit: Option<Duration>,
}

impl ReadDeadline {
    pub fn new(limit: Option<Duration>) -> Arc<Self> {
        Arc::new(ReadDeadline {
            base: Instant::now(),
            at: AtomicU64::new(0),
            limit,
        })
    }

    /// A request begins: its parameters must have arrived within the limit.
    pub fn start(&self) {
        if let Some(limit) = self.limit {
            let at = (self.base.elapsed() + limit).as_millis() as u64;
            self.at.store(at.max(1), Ordering::Relaxed);
        }
    }

    /// The parameters are in: the body is read as the app asks, each read
    /// within the socket's timeout.
    pub fn stop(&self) {
        self.at.store(0, Ordering::Relaxed);
    }

    fn passed(&self) -> bool {
        let at = self.at.load(Ordering::Relaxed);
        at != 0 && self.base.elapsed().as_millis() as u64 > at
    }
}

/// The reading half of a socket, with its limits.
pub struct TimedReader<R> {
    pub inner: R,
    pub deadline: Arc<ReadDeadline>,
    pub read_timeout: Option<Duration>,
}

impl<R: Read> Read for TimedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).map_err(|e| {
            over_limit(e, || {
                format!(
                    "nothing came from the web server for {} s (IISWSGI_READ_TIMEOUT)",
                    seconds(self.read_timeout)
                )
            })
        })?;
        if self.deadline.passed() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the web server took more than {} s to send a request's parameters (IISWSGI_READ_TIMEOUT)",
                    seconds(self.deadline.limit)
                ),
            ));
        }
        Ok(n)
    }
}

/// The writing half of a socket, saying which limit a stalled write hit.
pub struct TimedWriter<W> {
    pub inner: W,
    pub write_timeout: Option<Duration>,
}

impl<W: Write> Write for TimedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.explain(e))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf).map_err(|e| self.explain(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.explain(e))
    }
}

impl<W> TimedWriter<W> {
    fn explain(&self, e: io::Error) -> io::Error {
        over_limit(e, || {
            format!(
                "the web server took none of the response for {} s (IISWSGI_WRITE_TIMEOUT)",
                seconds(self.write_timeout)
            )
        })
    }
}

/// A socket timeout (the kernel says EAGAIN) as a TimedOut error saying
/// which limit it was; other errors as they are.
fn over_limit(e: io::Error, message: impl FnOnce() -> String) -> io::Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            io::Error::new(io::ErrorKind::TimedOut, message())
        }
        _ => e,
    }
}

fn seconds(d: Option<Duration>) -> u64 {
    d.map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives one byte per read, slowly.
    struct Trickle(u32);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_millis(20));
            self.0 += 1;
            buf[0] = b'x';
            Ok(1)
        }
    }

    #[test]
    fn a_trickle_of_parameters_hits_the_deadline_and_a_body_does_not() {
        let deadline = ReadDeadline::new(Some(Duration::from_millis(100)));
        let mut r = TimedReader {
            inner: Trickle(0),
            deadline: deadline.clone(),
            read_timeout: Some(Duration::from_secs(60)),
        };
        let mut buf = [0u8; 4];
        deadline.start();
        let e = loop {
            if let Err(e) = r.read(&mut buf) {
                break e;
            }
        };
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("IISWSGI_READ_TIMEOUT"), "{e}");
        assert!(r.inner.0 >= 5, "{} reads", r.inner.0);
        deadline.stop();
        for _ in 0..10 {
            assert_eq!(r.read(&mut buf).unwrap(), 1);
        }
    }
}
