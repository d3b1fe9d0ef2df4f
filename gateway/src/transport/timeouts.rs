//! The read and write limits on an accepted socket (see `crate::limits`).
//!
//! Each read and write is bounded: a web server that sends nothing, or
//! takes none of the response, for that long loses the connection. On Unix
//! the socket is non-blocking and a half that must wait does so in poll()
//! with the limit; elsewhere (a `--bind` socket on Windows) the kernel's
//! timeouts, SO_RCVTIMEO and SO_SNDTIMEO, do it. A peer that trickles a
//! byte at a time would never trip them, so reading a request's parameters
//! also has a deadline for the whole, checked after each read.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The deadline of the request being read, shared by the serving loop
/// (which starts and stops it) and the connection's reader.
pub struct ReadDeadline {
    base: Instant,
    /// Milliseconds after `base`; 0: none.
    at: AtomicU64,
    limit: Option<Duration>,
    /// Nothing of the request is here yet, and the connection may wait
    /// for it off a thread: a read that finds nothing says WouldBlock at
    /// once rather than waiting.
    may_idle: AtomicBool,
}

impl ReadDeadline {
    pub fn new(limit: Option<Duration>) -> Arc<Self> {
        Arc::new(ReadDeadline {
            base: Instant::now(),
            at: AtomicU64::new(0),
            limit,
            may_idle: AtomicBool::new(false),
        })
    }

    /// A request begins: its parameters must have arrived within the limit.
    /// `may_idle`: until its first bytes come, a read that finds nothing
    /// fails with WouldBlock (the pool then waits for them with poll()).
    pub fn start(&self, may_idle: bool) {
        self.may_idle.store(may_idle, Ordering::Relaxed);
        if let Some(limit) = self.limit {
            let at = (self.base.elapsed() + limit).as_millis() as u64;
            self.at.store(at.max(1), Ordering::Relaxed);
        }
    }

    /// The parameters are in: the body is read as the app asks, each read
    /// within the socket's timeout.
    pub fn stop(&self) {
        self.at.store(0, Ordering::Relaxed);
        self.may_idle.store(false, Ordering::Relaxed);
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
    /// The socket, when it is non-blocking (Unix): waited on with poll().
    pub poll_fd: Option<i32>,
}

impl<R: Read> Read for TimedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = loop {
            let e = match self.inner.read(buf) {
                Ok(n) => break n,
                Err(e) => e,
            };
            match (e.kind(), self.poll_fd) {
                (io::ErrorKind::Interrupted, _) => {}
                (io::ErrorKind::WouldBlock, Some(fd)) => {
                    if self.deadline.may_idle.swap(false, Ordering::Relaxed) {
                        return Err(e);
                    }
                    if !wait_ready(fd, Ready::Read, self.read_timeout)? {
                        return Err(self.idle_error());
                    }
                }
                _ => return Err(over_limit(e, || self.idle_message())),
            }
        };
        self.deadline.may_idle.store(false, Ordering::Relaxed);
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

impl<R> TimedReader<R> {
    fn idle_message(&self) -> String {
        format!(
            "nothing came from the web server for {} s (IISWSGI_READ_TIMEOUT)",
            seconds(self.read_timeout)
        )
    }

    fn idle_error(&self) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, self.idle_message())
    }
}

/// The writing half of a socket, saying which limit a stalled write hit.
pub struct TimedWriter<W> {
    pub inner: W,
    pub write_timeout: Option<Duration>,
    /// The socket, when it is non-blocking (Unix): waited on with poll().
    pub poll_fd: Option<i32>,
}

impl<W: Write> Write for TimedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            let e = match self.inner.write(buf) {
                Ok(n) => return Ok(n),
                Err(e) => e,
            };
            match (e.kind(), self.poll_fd) {
                (io::ErrorKind::Interrupted, _) => {}
                (io::ErrorKind::WouldBlock, Some(fd))
                    if wait_ready(fd, Ready::Write, self.write_timeout)? => {}
                _ => return Err(self.explain(e)),
            }
        }
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

#[derive(Clone, Copy)]
pub enum Ready {
    Read,
    Write,
}

/// Waits until the socket can be read or written (or has an error or
/// hang-up for the next call to report), up to `limit` (None: for ever);
/// false when the limit passed first.
#[cfg(unix)]
pub fn wait_ready(fd: i32, ready: Ready, limit: Option<Duration>) -> io::Result<bool> {
    let end = limit.map(|l| Instant::now() + l);
    loop {
        let timeout = poll_millis(end.map(|end| end.saturating_duration_since(Instant::now())));
        let mut p = libc::pollfd {
            fd,
            events: match ready {
                Ready::Read => libc::POLLIN,
                Ready::Write => libc::POLLOUT,
            },
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut p, 1, timeout) } {
            0 => return Ok(false),
            n if n > 0 => return Ok(true),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// A wait as poll()'s and epoll_wait()'s milliseconds (None: -1, for
/// ever), rounded up: a wait of 0.4 ms is not a wait of 0 ms.
pub fn poll_millis(wait: Option<Duration>) -> i32 {
    wait.map_or(-1, |t| {
        t.as_millis().min(i32::MAX as u128 - 1) as i32 + i32::from(t.as_nanos() % 1_000_000 != 0)
    })
}

/// Sockets block where there is no poll() (Windows): never called there.
#[cfg(not(unix))]
pub fn wait_ready(_fd: i32, _ready: Ready, _limit: Option<Duration>) -> io::Result<bool> {
    Ok(true)
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

    #[test]
    fn waits_round_up_to_the_millisecond() {
        assert_eq!(poll_millis(None), -1);
        assert_eq!(poll_millis(Some(Duration::ZERO)), 0);
        assert_eq!(poll_millis(Some(Duration::from_micros(400))), 1);
        assert_eq!(poll_millis(Some(Duration::from_micros(5400))), 6);
        assert_eq!(poll_millis(Some(Duration::from_millis(5))), 5);
    }

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
            poll_fd: None,
        };
        let mut buf = [0u8; 4];
        deadline.start(false);
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
