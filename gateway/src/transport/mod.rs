//! Where FastCGI connections come from.
//!
//! - IIS (Windows): standard input is a named pipe, whose name is also in
//!   `_FCGI_X_PIPE_`; each connection is accepted with `ConnectNamedPipe`.
//! - Unix FastCGI hosts (mod_fcgid, spawn-fcgi, the FastCGI standard's
//!   `FCGI_LISTENSOCK_FILENO`): standard input is a listening socket.
//! - `--bind ADDR`: this program listens itself (`127.0.0.1:9000`, or
//!   `unix:/path/to/socket` on Unix), for a server that connects to a
//!   running process (nginx `fastcgi_pass`, Apache `mod_proxy_fcgi`).

pub mod timeouts;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows_pipe;

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

/// One accepted connection: its two halves, and the socket itself when
/// there is one (not IIS's pipe), for timeouts and polling.
pub struct Stream {
    pub reader: Box<dyn Read + Send>,
    pub writer: Box<dyn Write + Send>,
    pub socket: Option<Socket>,
}

/// An accepted socket, shared with its two halves.
pub enum Socket {
    Tcp(Arc<std::net::TcpStream>),
    #[cfg(unix)]
    Unix(Arc<std::os::unix::net::UnixStream>),
}

/// One half of a socket: reads or writes through the shared socket (one
/// descriptor for the connection, not three made with dup()).
struct Half<S>(Arc<S>);

impl<S> Read for Half<S>
where
    for<'a> &'a S: Read,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl<S> Write for Half<S>
where
    for<'a> &'a S: Write,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

impl Stream {
    fn of<S>(socket: S, wrap: fn(Arc<S>) -> Socket) -> Stream
    where
        S: Send + Sync + 'static,
        for<'a> &'a S: Read + Write,
    {
        let socket = Arc::new(socket);
        Stream {
            reader: Box::new(Half(socket.clone())),
            writer: Box::new(Half(socket.clone())),
            socket: Some(wrap(socket)),
        }
    }
}

impl Socket {
    #[cfg(not(unix))]
    pub fn set_read_timeout(&self, t: Option<std::time::Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_read_timeout(t),
            #[cfg(unix)]
            Socket::Unix(s) => s.set_read_timeout(t),
        }
    }

    #[cfg(not(unix))]
    pub fn set_write_timeout(&self, t: Option<std::time::Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_write_timeout(t),
            #[cfg(unix)]
            Socket::Unix(s) => s.set_write_timeout(t),
        }
    }

    #[cfg(unix)]
    pub fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match self {
            Socket::Tcp(s) => s.as_raw_fd(),
            Socket::Unix(s) => s.as_raw_fd(),
        }
    }
}

pub enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixListener),
    #[cfg(windows)]
    Pipe(windows_pipe::PipeListener),
}

impl Listener {
    /// Listens on `addr`: `HOST:PORT`, or `unix:PATH` on Unix.
    pub fn bind(addr: &str) -> io::Result<Self> {
        if let Some(path) = addr.strip_prefix("unix:") {
            #[cfg(unix)]
            {
                unix::clear_stale_socket(std::path::Path::new(path))?;
                return Ok(Listener::Unix(std::os::unix::net::UnixListener::bind(
                    path,
                )?));
            }
            #[cfg(not(unix))]
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("unix:{path}: Unix sockets are not available here"),
            ));
        }
        Ok(Listener::Tcp(TcpListener::bind(addr)?))
    }

    /// Listens with a deep queue: a burst of connections (200 at once)
    /// waits there for a thread or worker process rather than being
    /// refused or retried (std's listen() queue is 128).
    pub fn bind_for_burst(addr: &str) -> io::Result<Self> {
        let listener = Listener::bind(addr)?;
        #[cfg(unix)]
        if let Some(fd) = listener.socket_fd() {
            use std::os::fd::AsRawFd;
            // SAFETY: listen() again on a bound, listening socket only
            // changes its queue length.
            if unsafe { libc::listen(fd.as_raw_fd(), 1024) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(listener)
    }

    /// What the FastCGI host passed on standard input.
    pub fn inherited() -> io::Result<Self> {
        #[cfg(unix)]
        return unix::inherited();
        #[cfg(windows)]
        return windows_pipe::PipeListener::from_stdin().map(Listener::Pipe);
    }

    /// The next connection. On Unix the socket is non-blocking: its halves
    /// wait with poll() when they must (`timeouts`), which also bounds the
    /// wait, with no system call per connection to set timeouts.
    pub fn accept(&mut self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => {
                #[cfg(unix)]
                let s = std::net::TcpStream::from(unix::accept_nonblocking(l)?);
                #[cfg(not(unix))]
                let (s, _) = l.accept()?;
                s.set_nodelay(true)?;
                Ok(Stream::of(s, Socket::Tcp))
            }
            #[cfg(unix)]
            Listener::Unix(l) => Ok(Stream::of(
                std::os::unix::net::UnixStream::from(unix::accept_nonblocking(l)?),
                Socket::Unix,
            )),
            #[cfg(windows)]
            Listener::Pipe(p) => p.accept(),
        }
    }

    /// The listening socket (not IIS's pipe, which is one connection at a
    /// time): what worker processes inherit and the poller watches.
    #[cfg(unix)]
    pub fn socket_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        match self {
            Listener::Tcp(l) => Some(l.as_fd()),
            Listener::Unix(l) => Some(l.as_fd()),
        }
    }

    /// Accepting without waiting (the poller accepts when poll says so).
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.set_nonblocking(on),
            #[cfg(unix)]
            Listener::Unix(l) => l.set_nonblocking(on),
            #[cfg(windows)]
            Listener::Pipe(_) => Ok(()),
        }
    }
}
