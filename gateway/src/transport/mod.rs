//! Where FastCGI connections come from.
//!
//! - IIS (Windows): standard input is a named pipe, whose name is also in
//!   `_FCGI_X_PIPE_`; each connection is accepted with `ConnectNamedPipe`.
//! - Unix FastCGI hosts (mod_fcgid, spawn-fcgi, the FastCGI standard's
//!   `FCGI_LISTENSOCK_FILENO`): standard input is a listening socket.
//! - `--bind ADDR`: this program listens itself (`127.0.0.1:9000`, or
//!   `unix:/path/to/socket` on Unix), for a server that connects to a
//!   running process (nginx `fastcgi_pass`, Apache `mod_proxy_fcgi`).

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows_pipe;

use std::io::{self, Read, Write};
use std::net::TcpListener;

/// The two halves of one accepted connection.
pub type Stream = (Box<dyn Read + Send>, Box<dyn Write + Send>);

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

    /// What the FastCGI host passed on standard input.
    pub fn inherited() -> io::Result<Self> {
        #[cfg(unix)]
        return unix::inherited();
        #[cfg(windows)]
        return windows_pipe::PipeListener::from_stdin().map(Listener::Pipe);
    }

    /// Waits for the next connection.
    pub fn accept(&mut self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept()?;
                s.set_nodelay(true)?;
                Ok((Box::new(s.try_clone()?), Box::new(s)))
            }
            #[cfg(unix)]
            Listener::Unix(l) => {
                let (s, _) = l.accept()?;
                Ok((Box::new(s.try_clone()?), Box::new(s)))
            }
            #[cfg(windows)]
            Listener::Pipe(p) => p.accept(),
        }
    }
}
