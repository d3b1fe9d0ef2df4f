//! Standard input as a listening socket (FCGI_LISTENSOCK_FILENO = 0).

use std::io;
use std::mem::MaybeUninit;
use std::net::TcpListener;
use std::os::fd::FromRawFd;
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
    // mod_fcgid hands it over non-blocking; this process waits in accept().
    Ok(match family {
        libc::AF_UNIX => {
            let l = unsafe { UnixListener::from_raw_fd(0) };
            l.set_nonblocking(false)?;
            Listener::Unix(l)
        }
        _ => {
            let l = unsafe { TcpListener::from_raw_fd(0) };
            l.set_nonblocking(false)?;
            Listener::Tcp(l)
        }
    })
}
