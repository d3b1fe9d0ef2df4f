//! The host's request to stop: SIGTERM (mod_fcgid, spawn-fcgi) on Unix,
//! the event named by `_FCGI_SHUTDOWN_EVENT_` on Windows (IIS sets it
//! before it would kill the process).
//!
//! Idle, the gateway runs the app's `atexit` functions and exits 0 at once.
//! Serving, it finishes the requests in progress first (each thread tells
//! [`Shutdown::end_request`] when one ends) and starts no new one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::log::Log;

#[derive(Default)]
pub struct Shutdown {
    busy: AtomicUsize,
    requested: AtomicBool,
}

impl Shutdown {
    /// A request starts; false when the host asked to stop (it must not).
    pub fn begin_request(&self) -> bool {
        self.busy.fetch_add(1, Ordering::SeqCst);
        if self.requested.load(Ordering::SeqCst) {
            self.busy.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// A request ended: the last one ends the process if the host asked.
    pub fn end_request(&self, log: &Log) {
        let left = self.busy.fetch_sub(1, Ordering::SeqCst) - 1;
        if left == 0 && self.requested.load(Ordering::SeqCst) {
            exit_cleanly("the host asked to stop", log);
        }
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Called from the signal thread.
    fn request(&self, why: &str, log: &Log) {
        self.requested.store(true, Ordering::SeqCst);
        if self.busy.load(Ordering::SeqCst) == 0 {
            exit_cleanly(why, log);
        }
        log.line(&format!("{why}: stopping after the requests being served"));
    }
}

/// Ends the process as the host asked (once, whichever thread gets here).
pub fn exit_cleanly(why: &str, log: &Log) -> ! {
    static EXITING: AtomicBool = AtomicBool::new(false);
    if EXITING.swap(true, Ordering::SeqCst) {
        // Another thread is running the exit functions and will exit.
        loop {
            std::thread::park();
        }
    }
    log.line(&format!("{why}: shutting down"));
    crate::python::run_exit_functions();
    std::process::exit(0)
}

/// Starts the thread that waits for the host's signal.
pub fn listen(state: Arc<Shutdown>, log: Arc<Log>) {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        let name = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
                        state.request(name, &log);
                    }
                });
            }
            Err(e) => log.line(&format!("cannot handle SIGTERM: {e}")),
        }
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::Threading::{INFINITE, WaitForSingleObject};
        let Some(value) = std::env::var("_FCGI_SHUTDOWN_EVENT_").ok() else {
            return;
        };
        let Ok(handle) = value.trim().parse::<usize>() else {
            log.line(&format!(
                "_FCGI_SHUTDOWN_EVENT_ {value:?} is not a handle; shutdown will not be graceful"
            ));
            return;
        };
        std::thread::spawn(move || {
            // SAFETY: IIS passes an inheritable event handle by number.
            unsafe {
                WaitForSingleObject(handle as windows_sys::Win32::Foundation::HANDLE, INFINITE)
            };
            state.request("_FCGI_SHUTDOWN_EVENT_ set", &log);
        });
    }
}
