//! Standard input as a listening socket (FCGI_LISTENSOCK_FILENO = 0).

use std::io;
use std::mem::MaybeUninit;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;

use super::Listener;

pub(super) fn inherited() -> io::Result<Listener> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: storage is large enough for any address; len says how large.
    let rc = unsafe { libc::getsockname(0, storage.as_mut_ptr().cast(), &mut len) };
    if rc != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "standard input is not a listening socket ({}): this program is started by a FastCGI host \
                 (IIS, Apache mod_fcgid, spawn-fcgi), or give it --bind 127.0.0.1:9000",
                io::Error::last_os_error()
            ),
        ));
    }
    // SAFETY: getsockname filled in at least the family.
    let family = unsafe { storage.assume_init().ss_family } as libc::c_int;
    // SAFETY: fd 0 is a socket (getsockname succeeded) that this process owns.
    // Its blocking mode is left alone: it belongs to the socket, which other
    // processes share (mod_fcgid's, a supervisor's other workers), and the
    // poller (`crate::pool`) accepts only when poll() says so, non-blocking.
    // A worker that made it blocking while another was accepting would
    // leave that one stuck in accept() with connections in hand.
    Ok(match family {
        libc::AF_UNIX => Listener::Unix(unsafe { UnixListener::from_raw_fd(0) }),
        _ => Listener::Tcp(unsafe { TcpListener::from_raw_fd(0) }),
    })
}

/// Accepts a connection on `listener` (which the poller found readable) as
/// a non-blocking socket: in one system call on Linux (accept4), where
/// accept() never passes the listening socket's O_NONBLOCK on.
pub(super) fn accept_nonblocking(listener: &impl std::os::fd::AsRawFd) -> io::Result<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        loop {
            // SAFETY: accept4 on a listening socket this process owns; no
            // address is asked for.
            let fd = unsafe {
                libc::accept4(
                    listener.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if fd >= 0 {
                // SAFETY: accept4 returned a new descriptor, ours alone.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        // SAFETY: as above, with accept(); the flags are set after.
        let fd = unsafe {
            libc::accept(
                listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new descriptor, ours alone.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: fcntl on the descriptor just accepted.
        unsafe {
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
            let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        Ok(fd)
    }
}

/// Makes way for a socket at `path`: a socket nobody answers on (left by a
/// gateway that ended) is removed; a socket someone answers on (another
/// instance serving) and anything that is not a socket are left alone, and
/// are an error naming the path.
pub fn clear_stale_socket(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(()); // nothing there
    };
    if !meta.file_type().is_socket() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{}: something that is not a socket is there; remove it, or bind elsewhere",
                path.display()
            ),
        ));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "{}: another process is serving on this socket; stop it, or bind elsewhere",
                path.display()
            ),
        )),
        Err(_) => std::fs::remove_file(path),
    }
}

#[cfg(test)]
mod tests {
    use super::clear_stale_socket;

    #[test]
    fn only_a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-socket");
        std::fs::write(&file, "data").unwrap();
        let e = clear_stale_socket(&file).unwrap_err();
        assert!(e.to_string().contains("not a socket"), "{e}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");

        let live = dir.path().join("live.sock");
        let listener = std::os::unix::net::UnixListener::bind(&live).unwrap();
        let e = clear_stale_socket(&live).unwrap_err();
        assert!(e.to_string().contains("another process is serving"), "{e}");
        assert!(live.exists());
        drop(listener); // the socket file stays, nobody answers: stale

        clear_stale_socket(&live).unwrap();
        assert!(!live.exists());
        clear_stale_socket(&live).unwrap();
    }
}
