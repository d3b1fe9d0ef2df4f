//! The whole-request limit (uWSGI's harakiri, IISWSGI_REQUEST_TIMEOUT).
//!
//! A Python thread cannot be stopped from outside (a request stuck in C
//! code, or holding the GIL, never checks for an exception), so a request
//! over its limit ends its process: the client gets a 504 page if nothing
//! of the response went out yet, else its connection breaks (the web
//! server sees a failed response), the log says which request it was, and
//! the process exits with [`EXIT_STATUS`]. The worker's supervisor
//! (`crate::supervisor`) or the FastCGI host (mod_fcgid) starts another.
//! Other requests of the same process are cut off with it, as under
//! uWSGI.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::fastcgi::Request;
use crate::log::Log;
use crate::python::streams::SharedConn;
use crate::serve::request_path;
use crate::wsgi::error_page::{self, Failure};

/// The status a process ended by the request limit exits with.
pub const EXIT_STATUS: i32 = 75;

/// Set once this process is about to end: it accepts no more connections
/// (one accepted now would die with it, unanswered).
static ENDING: AtomicBool = AtomicBool::new(false);

/// Whether this process is ending for the request limit.
pub fn ending() -> bool {
    ENDING.load(Ordering::SeqCst)
}

struct Running {
    key: u64,
    since: Instant,
    request: Arc<Request>,
    shared: SharedConn,
}

pub struct Watchdog {
    limit: Duration,
    running: Mutex<Vec<Running>>,
    next_key: AtomicU64,
    log: Arc<Log>,
}

/// A request being timed; dropped when it ends.
pub struct Timed<'a> {
    watchdog: &'a Watchdog,
    key: u64,
}

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        let mut running = self
            .watchdog
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.retain(|r| r.key != self.key);
    }
}

impl Watchdog {
    /// Starts the watching thread; `None` when there is no limit.
    pub fn start(limit: Option<Duration>, log: Arc<Log>) -> Option<Arc<Watchdog>> {
        let watchdog = Arc::new(Watchdog {
            limit: limit?,
            running: Mutex::new(Vec::new()),
            next_key: AtomicU64::new(1),
            log,
        });
        let w = watchdog.clone();
        std::thread::Builder::new()
            .name("request-timeout".into())
            .spawn(move || w.watch())
            .ok()?;
        Some(watchdog)
    }

    /// Times a request.
    pub fn time(&self, request: Arc<Request>, shared: SharedConn) -> Timed<'_> {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Running {
                key,
                since: Instant::now(),
                request,
                shared,
            });
        Timed {
            watchdog: self,
            key,
        }
    }

    fn watch(&self) {
        loop {
            let overdue = {
                let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
                running
                    .iter()
                    .find(|r| r.since.elapsed() >= self.limit)
                    .map(|r| (request_path(&r.request), r.shared.clone()))
            };
            match overdue {
                Some((what, shared)) => self.end_process(&what, &shared),
                None => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn end_process(&self, what: &str, shared: &SharedConn) -> ! {
        ENDING.store(true, Ordering::SeqCst);
        let secs = self.limit.as_secs();
        // The app's thread holds the connection only while it reads or
        // writes; if it is stuck there, the connection just breaks.
        let mut answered = false;
        for _ in 0..20 {
            if let Ok(mut s) = shared.try_lock() {
                if !s.conn.responded() && !s.conn.aborted() {
                    let page = error_page::response(Failure::Timeout, None, None);
                    answered = s.conn.answer_at_once(&page, 1).is_ok();
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.log.line(&format!(
            "{what}: still running after {secs} s (IISWSGI_REQUEST_TIMEOUT): {}; this process ends and another takes its place",
            if answered {
                "the client got a 504"
            } else {
                "its response had started, so its connection is broken off"
            }
        ));
        // Not exit(): the app's threads are stuck, and nothing of Python
        // (atexit) may run now.
        #[cfg(unix)]
        // SAFETY: _exit ends the process at once; nothing is left to unwind.
        unsafe {
            libc::_exit(EXIT_STATUS)
        };
        #[cfg(not(unix))]
        std::process::exit(EXIT_STATUS)
    }
}
