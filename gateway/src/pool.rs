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
//! process leaves new connections in the shared queue for an idle one.
//!
//! Connections that wait longer than the idle timeout are closed.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::serve::{After, Gateway, Served};
use crate::transport::{Listener, Socket};

/// A connection and the socket it is polled by.
struct Conn {
    served: Served,
    socket: Socket,
}

/// What the leader owns: the listening socket, the connections waiting
/// for a request (since when), those found readable and not yet taken.
struct Poller {
    listener: Listener,
    waiting: Vec<(Conn, Instant)>,
    readable: VecDeque<Conn>,
    fds: Vec<libc::pollfd>,
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
    let shared = Arc::new(Shared {
        poller: Mutex::new(Poller {
            listener,
            waiting: Vec::new(),
            readable: VecDeque::new(),
            fds: Vec::new(),
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
        let listen_fd = p
            .listener
            .socket_fd()
            .expect("sockets only: IIS's pipe is served one request at a time")
            .as_raw_fd();
        let accepting = !crate::harakiri::ending();
        p.fds.clear();
        p.fds.push(pollfd(shared.wake_read.as_raw_fd()));
        p.fds.push(pollfd(if accepting { listen_fd } else { -1 }));
        p.fds
            .extend(p.waiting.iter().map(|(c, _)| pollfd(c.socket.fd())));
        let timeout = match (shared.idle_limit, p.waiting.iter().map(|(_, t)| *t).min()) {
            (Some(limit), Some(oldest)) => {
                let left = (oldest + limit).saturating_duration_since(Instant::now());
                left.as_millis().min(i32::MAX as u128) as i32 + 1
            }
            _ => -1,
        };
        // SAFETY: fds is a valid array of fds.len() pollfd structures.
        let n = unsafe { libc::poll(p.fds.as_mut_ptr(), p.fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                gateway.log().line(&format!("poll failed: {e}"));
                std::thread::sleep(Duration::from_millis(100));
            }
            continue;
        }
        // Waiting connections with something to read (a request, or the
        // web server closing them), from the last to keep indexes valid.
        for i in (0..p.waiting.len()).rev() {
            if p.fds[i + 2].revents != 0 {
                let (conn, _) = p.waiting.swap_remove(i);
                p.readable.push_back(conn);
            }
        }
        if let Some(limit) = shared.idle_limit {
            // Closed without a word: an idle kept connection ending is
            // routine, and the web server opens another when it needs one.
            p.waiting.retain(|(_, since)| since.elapsed() < limit);
        }
        if p.fds[0].revents != 0 {
            drain(&shared.wake_read);
            let now = Instant::now();
            let back =
                std::mem::take(&mut *shared.returned.lock().unwrap_or_else(|e| e.into_inner()));
            p.waiting.extend(back.into_iter().map(|c| (c, now)));
        }
        if p.fds[1].revents != 0 && !crate::harakiri::ending() {
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
