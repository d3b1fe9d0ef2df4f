//! The threads of a process and the connections they serve, where the
//! gateway owns a socket (`--bind`, or a listening socket on standard
//! input).
//!
//! One poller thread (this function's caller) watches the listening socket
//! and every connection that waits for its next request; `threads` threads
//! serve the connections that have one. So a kept connection that is idle,
//! or a new one that sends nothing, costs no thread, and a peer that is
//! slow to send or to read, or a request that takes 30 s, holds only its
//! own thread while the others go on (PEP 3333's `wsgi.multithread` is
//! then true). The poller accepts only while a thread is free, so under
//! `--processes N` a busy process leaves new connections in the shared
//! queue for an idle one, as uWSGI's and gunicorn's workers do.
//!
//! Connections that wait longer than the idle timeout are closed.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::serve::{After, Gateway, Served};
use crate::transport::{Listener, Socket};

/// A connection and the socket the poller watches it by.
struct Conn {
    served: Served,
    socket: Socket,
}

struct Queues {
    /// Connections with a request (or a close) to read, for the threads.
    ready: Mutex<VecDeque<Conn>>,
    ready_changed: Condvar,
    /// Connections the threads are done with for now, for the poller.
    waiting: Mutex<Vec<Conn>>,
    /// Threads waiting for a connection.
    idle_threads: AtomicUsize,
    /// Written to wake the poller (a connection came back, a thread is free).
    wake: OwnedFd,
}

impl Queues {
    fn wake_poller(&self) {
        // SAFETY: a one-byte write to the pipe this struct owns. A full pipe
        // (EAGAIN) already guarantees a wake-up.
        unsafe { libc::write(self.wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    }

    /// Waits for a connection to serve.
    fn take(&self) -> Conn {
        let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        self.idle_threads.fetch_add(1, Ordering::SeqCst);
        self.wake_poller();
        loop {
            if let Some(conn) = ready.pop_front() {
                self.idle_threads.fetch_sub(1, Ordering::SeqCst);
                return conn;
            }
            ready = self
                .ready_changed
                .wait(ready)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Serves `listener` with the gateway's threads until the process ends.
pub fn serve(gateway: Arc<Gateway>, mut listener: Listener) -> io::Result<()> {
    let threads = gateway.limits().threads;
    let idle_limit = gateway.limits().idle;
    let (wake_read, wake_write) = pipe()?;
    let queues = Arc::new(Queues {
        ready: Mutex::new(VecDeque::new()),
        ready_changed: Condvar::new(),
        waiting: Mutex::new(Vec::new()),
        idle_threads: AtomicUsize::new(0),
        wake: wake_write,
    });
    for n in 0..threads {
        let (gateway, queues) = (gateway.clone(), queues.clone());
        std::thread::Builder::new()
            .name(format!("request-{n}"))
            .spawn(move || {
                loop {
                    let conn = queues.take();
                    match gateway.serve_connection(&conn.served, true) {
                        After::Wait => {
                            queues
                                .waiting
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(conn);
                        }
                        After::Close => drop(conn),
                    }
                    queues.wake_poller();
                }
            })?;
    }
    listener.set_nonblocking(true)?;
    let listen_fd = listener
        .socket_fd()
        .expect("sockets only: IIS's pipe is served one request at a time")
        .as_raw_fd();
    // Connections waiting for their next request, since when.
    let mut waiting: Vec<(Conn, Instant)> = Vec::new();
    let mut fds: Vec<libc::pollfd> = Vec::new();
    loop {
        let free = {
            let ready = queues.ready.lock().unwrap_or_else(|e| e.into_inner());
            queues
                .idle_threads
                .load(Ordering::SeqCst)
                .saturating_sub(ready.len())
        };
        fds.clear();
        fds.push(pollfd(wake_read.as_raw_fd()));
        let accepting = free > 0 && !crate::harakiri::ending();
        fds.push(pollfd(if accepting { listen_fd } else { -1 }));
        fds.extend(waiting.iter().map(|(c, _)| pollfd(c.socket.fd())));
        let timeout = match (idle_limit, waiting.iter().map(|(_, t)| *t).min()) {
            (Some(limit), Some(oldest)) => {
                let left = (oldest + limit).saturating_duration_since(Instant::now());
                left.as_millis().min(i32::MAX as u128) as i32 + 1
            }
            _ => -1,
        };
        // SAFETY: fds is a valid array of fds.len() pollfd structures.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut to_ready = Vec::new();
        // Waiting connections with something to read (a request, or the
        // web server closing them), from the last to keep indexes valid.
        for i in (0..waiting.len()).rev() {
            if fds[i + 2].revents != 0 {
                to_ready.push(waiting.swap_remove(i).0);
            }
        }
        if let Some(limit) = idle_limit {
            // Closed without a word: an idle kept connection ending is
            // routine, and the web server opens another when it needs one.
            waiting.retain(|(_, since)| since.elapsed() < limit);
        }
        if fds[0].revents != 0 {
            drain(&wake_read);
            let now = Instant::now();
            let back =
                std::mem::take(&mut *queues.waiting.lock().unwrap_or_else(|e| e.into_inner()));
            waiting.extend(back.into_iter().map(|c| (c, now)));
        }
        if fds[1].revents != 0 && !crate::harakiri::ending() {
            for _ in 0..free {
                match listener.accept() {
                    Ok(stream) => {
                        let (served, Some(socket)) = gateway.connection(stream) else {
                            continue;
                        };
                        // Its request is usually here already: straight to
                        // a thread. If not, it waits in the poller, not on one.
                        let conn = Conn { served, socket };
                        if conn.served.next_is_coming(Duration::ZERO) {
                            to_ready.push(conn);
                        } else {
                            waiting.push((conn, Instant::now()));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        // EMFILE and the like: not the end of the process.
                        gateway
                            .log()
                            .line(&format!("cannot accept a connection: {e}"));
                        std::thread::sleep(Duration::from_millis(100));
                        break;
                    }
                }
            }
        }
        if !to_ready.is_empty() {
            let mut ready = queues.ready.lock().unwrap_or_else(|e| e.into_inner());
            for conn in to_ready {
                ready.push_back(conn);
                queues.ready_changed.notify_one();
            }
        }
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills the two fds on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds are new and owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn drain(fd: &OwnedFd) {
    let mut buf = [0u8; 256];
    // SAFETY: reads into a local buffer from a non-blocking pipe.
    while unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}
