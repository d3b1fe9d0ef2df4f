//! The threads of a process and the connections they serve, where the
//! gateway owns a socket (`--bind`, or a listening socket on standard
//! input).
//!
//! Leader and followers: one free thread at a time (the leader) polls the
//! listening socket and every kept connection waiting for its next request;
//! when one has something to read, the leader takes it and serves it, and
//! the next free thread becomes the leader. So a kept connection that is
//! idle, or a new one that sends nothing, costs no thread; a peer that is
//! slow to send or to read, or a request that takes 30 s, holds only its
//! own thread while the others go on (PEP 3333's `wsgi.multithread` is then
//! true). A connection goes from poll() to being served on the same
//! thread, with no handoff (as uWSGI's workers block in accept()). The
//! leader accepts only while it is free, so under `--processes N` a busy
//! process leaves new connections in the shared queue for an idle one,
//! and a new connection wakes one idle process, not all of them
//! (EPOLLEXCLUSIVE).
//!
//! Connections that wait longer than the idle timeout are closed. What the
//! leader waits on, and how (epoll on Linux), is `readiness`.

mod readiness;

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::serve::{After, Gateway, Served};
use crate::transport::timeouts::poll_millis;
use crate::transport::{Listener, Socket};
use readiness::{Event, Readiness};

/// A connection and the socket it is polled by.
struct Conn {
    served: Served,
    socket: Socket,
}

/// What the leader owns: the listening socket, the connections waiting
/// for a request (since when), those found readable and not yet taken.
struct Poller {
    listener: Listener,
    readiness: Readiness,
    waiting: Vec<(Conn, Instant)>,
    readable: VecDeque<Conn>,
    events: Vec<Event>,
}

struct Shared {
    poller: Mutex<Poller>,
    /// Connections the threads are done with for now, for the poller.
    returned: Mutex<Vec<Conn>>,
    /// Threads not serving (the leader and the followers waiting to lead).
    free_threads: AtomicUsize,
    /// Written to wake the leader out of poll() (a connection came back).
    wake_write: OwnedFd,
    wake_read: OwnedFd,
    idle_limit: Option<Duration>,
}

/// Serves `listener` with the gateway's threads until the process ends.
pub fn serve(gateway: Arc<Gateway>, listener: Listener) -> io::Result<()> {
    let threads = gateway.limits().threads;
    listener.set_nonblocking(true)?;
    let (wake_read, wake_write) = pipe()?;
    let listen_fd = listener
        .socket_fd()
        .expect("sockets only: IIS's pipe is served one request at a time")
        .as_raw_fd();
    let readiness = Readiness::new(wake_read.as_raw_fd(), listen_fd)?;
    let shared = Arc::new(Shared {
        poller: Mutex::new(Poller {
            listener,
            readiness,
            waiting: Vec::new(),
            readable: VecDeque::new(),
            events: Vec::new(),
        }),
        returned: Mutex::new(Vec::new()),
        free_threads: AtomicUsize::new(threads),
        wake_write,
        wake_read,
        idle_limit: gateway.limits().idle,
    });
    for n in 1..threads {
        let (gateway, shared) = (gateway.clone(), shared.clone());
        std::thread::Builder::new()
            .name(format!("request-{n}"))
            .spawn(move || work(&gateway, &shared))?;
    }
    work(&gateway, &shared)
}

/// A thread's life: lead until a connection has a request, serve it,
/// give it back if kept, again.
fn work(gateway: &Gateway, shared: &Shared) -> ! {
    loop {
        let conn = lead(gateway, shared);
        shared.free_threads.fetch_sub(1, Ordering::SeqCst);
        let after = gateway.serve_connection(&conn.served, true);
        shared.free_threads.fetch_add(1, Ordering::SeqCst);
        if after == After::Wait {
            shared
                .returned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
            wake(shared);
        }
    }
}

fn wake(shared: &Shared) {
    // SAFETY: a one-byte write to the pipe `shared` owns. A full pipe
    // (EAGAIN) already guarantees a wake-up.
    unsafe { libc::write(shared.wake_write.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
}

/// Becomes the leader (waiting for the one before to take a connection)
/// and polls until a connection has something to read; returns it.
fn lead(gateway: &Gateway, shared: &Shared) -> Conn {
    let mut guard = shared.poller.lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    loop {
        if let Some(conn) = p.readable.pop_front() {
            return conn;
        }
        if crate::harakiri::ending() {
            p.readiness.stop_listening();
        }
        let timeout = shared.idle_limit.and_then(|limit| {
            let oldest = p.waiting.iter().map(|(_, t)| *t).min()?;
            Some((oldest + limit).saturating_duration_since(Instant::now()))
        });
        p.events.clear();
        if let Err(e) = p.readiness.wait(poll_millis(timeout), &mut p.events) {
            if e.kind() != io::ErrorKind::Interrupted {
                gateway.log().line(&format!("poll failed: {e}"));
                std::thread::sleep(Duration::from_millis(100));
            }
            continue;
        }
        let mut accept = false;
        for i in 0..p.events.len() {
            match p.events[i] {
                // A waiting connection with something to read (a request,
                // or the web server closing it).
                Event::Conn(fd) => {
                    if let Some(at) = p.waiting.iter().position(|(c, _)| c.socket.fd() == fd) {
                        let (conn, _) = p.waiting.swap_remove(at);
                        p.readable.push_back(conn);
                    }
                }
                Event::Wake => {
                    drain(&shared.wake_read);
                    let now = Instant::now();
                    let back = std::mem::take(
                        &mut *shared.returned.lock().unwrap_or_else(|e| e.into_inner()),
                    );
                    for conn in back {
                        match p.readiness.watch(conn.socket.fd()) {
                            Ok(()) => p.waiting.push((conn, now)),
                            Err(e) => gateway
                                .log()
                                .line(&format!("cannot wait for a kept connection: {e}")),
                        }
                    }
                }
                Event::Listener => accept = true,
            }
        }
        if let Some(limit) = shared.idle_limit {
            // Closed without a word: an idle kept connection ending is
            // routine, and the web server opens another when it needs one.
            let Poller {
                waiting, readiness, ..
            } = p;
            waiting.retain(|(conn, since)| {
                let keep = since.elapsed() < limit;
                if !keep {
                    readiness.forget(conn.socket.fd());
                }
                keep
            });
        }
        if accept && !crate::harakiri::ending() {
            // As many as there are free threads to serve them.
            let free = shared.free_threads.load(Ordering::SeqCst);
            for _ in 0..free.saturating_sub(p.readable.len()).max(1) {
                match p.listener.accept() {
                    Ok(stream) => {
                        let (served, Some(socket)) = gateway.connection(stream) else {
                            continue;
                        };
                        // Its request is usually here already, and the
                        // thread's first read takes it (no poll to ask).
                        // If not, the read says so at once and the
                        // connection comes back to wait here, off a thread.
                        p.readable.push_back(Conn { served, socket });
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
