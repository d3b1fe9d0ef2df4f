//! What the leader waits on: the listening socket, the wake-up pipe, and
//! the kept connections waiting for their next request.
//!
//! On Linux an epoll set, with the listening socket in it as
//! EPOLLEXCLUSIVE: a new connection wakes one process waiting on it, not
//! every worker process of `--processes N` (which then race to accept()
//! and all but one find nothing: a wasted wake-up per connection per idle
//! worker). A busy process is not waiting and takes no wake-up, as
//! workers blocked in accept() would not (uWSGI's model). A waiting
//! connection is watched once (EPOLLONESHOT): it fires, leaves the set's
//! ready list, and is watched again if it comes back to wait.
//! Elsewhere, poll() over the same set.

use std::os::fd::RawFd;

/// Something the leader has to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A thread gave a connection back (the wake-up pipe).
    Wake,
    /// A connection may be accepted.
    Listener,
    /// A waiting connection has something to read (or was closed).
    Conn(RawFd),
}

#[cfg(target_os = "linux")]
pub use epoll::Readiness;
#[cfg(not(target_os = "linux"))]
pub use polled::Readiness;

#[cfg(target_os = "linux")]
mod epoll {
    use super::Event;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    const WAKE: u64 = u64::MAX;
    const LISTENER: u64 = u64::MAX - 1;

    pub struct Readiness {
        epoll: OwnedFd,
        listener: Option<RawFd>,
        events: Vec<libc::epoll_event>,
    }

    fn ctl(epoll: &OwnedFd, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: epoll_ctl on the set this value owns, with a valid event.
        if unsafe { libc::epoll_ctl(epoll.as_raw_fd(), op, fd, &mut event) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    impl Readiness {
        pub fn new(wake: RawFd, listener: RawFd) -> io::Result<Self> {
            // SAFETY: a new epoll set, owned by the OwnedFd below.
            let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is new and ours alone.
            let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
            ctl(
                &epoll,
                libc::EPOLL_CTL_ADD,
                wake,
                libc::EPOLLIN as u32,
                WAKE,
            )?;
            let exclusive = (libc::EPOLLIN | libc::EPOLLEXCLUSIVE) as u32;
            ctl(&epoll, libc::EPOLL_CTL_ADD, listener, exclusive, LISTENER)?;
            Ok(Readiness {
                epoll,
                listener: Some(listener),
                events: Vec::with_capacity(64),
            })
        }

        /// Accepts no more connections (the process is ending).
        pub fn stop_listening(&mut self) {
            if let Some(fd) = self.listener.take() {
                let _ = ctl(&self.epoll, libc::EPOLL_CTL_DEL, fd, 0, 0);
            }
        }

        /// Watches a connection until it has something to read, once.
        pub fn watch(&mut self, fd: RawFd) -> io::Result<()> {
            let once = (libc::EPOLLIN | libc::EPOLLONESHOT) as u32;
            // Kept connections come back again and again: re-armed in one
            // call; a connection new to the set is added.
            match ctl(&self.epoll, libc::EPOLL_CTL_MOD, fd, once, fd as u64) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    ctl(&self.epoll, libc::EPOLL_CTL_ADD, fd, once, fd as u64)
                }
                other => other,
            }
        }

        /// Stops watching a connection about to be closed.
        pub fn forget(&mut self, fd: RawFd) {
            let _ = ctl(&self.epoll, libc::EPOLL_CTL_DEL, fd, 0, 0);
        }

        /// Waits up to `timeout_ms` (-1: for ever) and appends what is ready.
        pub fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<Event>) -> io::Result<()> {
            self.events.clear();
            // SAFETY: the buffer has room for capacity() events.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    self.events.as_mut_ptr(),
                    self.events.capacity() as libc::c_int,
                    timeout_ms,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: epoll_wait initialised the first n events.
            unsafe { self.events.set_len(n as usize) };
            ready.extend(self.events.iter().map(|e| match e.u64 {
                WAKE => Event::Wake,
                LISTENER => Event::Listener,
                fd => Event::Conn(fd as RawFd),
            }));
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Readiness;
        use std::os::fd::AsRawFd;
        use std::os::unix::net::{UnixListener, UnixStream};

        /// What the kernel says of the set (/proc/self/fdinfo): the
        /// listening socket is in it as EPOLLEXCLUSIVE, a connection as
        /// EPOLLONESHOT.
        #[test]
        fn the_listener_is_exclusive_and_a_connection_one_shot() {
            let dir = tempfile::tempdir().unwrap();
            let listener = UnixListener::bind(dir.path().join("s")).unwrap();
            let (wake, _other) = UnixStream::pair().unwrap();
            let (conn, _peer) = UnixStream::pair().unwrap();
            let mut r = Readiness::new(wake.as_raw_fd(), listener.as_raw_fd()).unwrap();
            r.watch(conn.as_raw_fd()).unwrap();
            let info =
                std::fs::read_to_string(format!("/proc/self/fdinfo/{}", r.epoll.as_raw_fd()))
                    .unwrap();
            let events = |fd: i32| {
                let line = info
                    .lines()
                    .find(|l| l.starts_with(&format!("tfd: {:>8} ", fd)))
                    .unwrap_or_else(|| panic!("fd {fd} not in the set:\n{info}"));
                let hex = line.split_whitespace().nth(3).unwrap();
                u32::from_str_radix(hex, 16).unwrap()
            };
            let listener_events = events(listener.as_raw_fd());
            assert_ne!(listener_events & libc::EPOLLEXCLUSIVE as u32, 0, "{info}");
            let conn_events = events(conn.as_raw_fd());
            assert_ne!(conn_events & libc::EPOLLONESHOT as u32, 0, "{info}");
            // The kernel adds EPOLLERR and EPOLLHUP to every entry.
            let always = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
            assert_eq!(
                events(wake.as_raw_fd()) & !always,
                libc::EPOLLIN as u32,
                "{info}"
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod polled {
    use super::Event;
    use std::io;
    use std::os::fd::RawFd;

    pub struct Readiness {
        wake: RawFd,
        listener: Option<RawFd>,
        watched: Vec<RawFd>,
        fds: Vec<libc::pollfd>,
    }

    fn pollfd(fd: RawFd) -> libc::pollfd {
        libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }
    }

    impl Readiness {
        pub fn new(wake: RawFd, listener: RawFd) -> io::Result<Self> {
            Ok(Readiness {
                wake,
                listener: Some(listener),
                watched: Vec::new(),
                fds: Vec::new(),
            })
        }

        pub fn stop_listening(&mut self) {
            self.listener = None;
        }

        pub fn watch(&mut self, fd: RawFd) -> io::Result<()> {
            self.watched.push(fd);
            Ok(())
        }

        pub fn forget(&mut self, fd: RawFd) {
            self.watched.retain(|&w| w != fd);
        }

        pub fn wait(&mut self, timeout_ms: i32, ready: &mut Vec<Event>) -> io::Result<()> {
            self.fds.clear();
            self.fds.push(pollfd(self.wake));
            self.fds.push(pollfd(self.listener.unwrap_or(-1)));
            self.fds.extend(self.watched.iter().map(|&fd| pollfd(fd)));
            // SAFETY: fds is a valid array of fds.len() pollfd structures.
            let n = unsafe {
                libc::poll(
                    self.fds.as_mut_ptr(),
                    self.fds.len() as libc::nfds_t,
                    timeout_ms,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if self.fds[0].revents != 0 {
                ready.push(Event::Wake);
            }
            if self.fds[1].revents != 0 {
                ready.push(Event::Listener);
            }
            // Fired: watched once, as with epoll's EPOLLONESHOT.
            let fired: Vec<RawFd> = self.fds[2..]
                .iter()
                .filter(|p| p.revents != 0)
                .map(|p| p.fd)
                .collect();
            self.watched.retain(|fd| !fired.contains(fd));
            ready.extend(fired.into_iter().map(Event::Conn));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::{UnixListener, UnixStream};

    #[test]
    fn the_listener_a_wake_up_and_a_watched_connection_each_fire_and_a_connection_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let listener = UnixListener::bind(&path).unwrap();
        let (wake_read, mut wake_write) = UnixStream::pair().unwrap();
        let mut r = Readiness::new(wake_read.as_raw_fd(), listener.as_raw_fd()).unwrap();
        let mut ready = Vec::new();
        r.wait(0, &mut ready).unwrap();
        assert_eq!(ready, []);

        let mut client = UnixStream::connect(&path).unwrap();
        r.wait(1000, &mut ready).unwrap();
        assert_eq!(ready, [Event::Listener]);
        let (served, _) = listener.accept().unwrap();
        r.watch(served.as_raw_fd()).unwrap();
        ready.clear();
        r.wait(0, &mut ready).unwrap();
        assert_eq!(ready, [], "nothing to read yet");

        client.write_all(b"x").unwrap();
        wake_write.write_all(b"w").unwrap();
        r.wait(1000, &mut ready).unwrap();
        ready.sort_by_key(|e| format!("{e:?}"));
        assert_eq!(ready, [Event::Conn(served.as_raw_fd()), Event::Wake]);
        // Once: still readable, but not watched any more.
        ready.clear();
        let mut byte = [0u8; 1];
        (&wake_read).read_exact(&mut byte).unwrap();
        r.wait(0, &mut ready).unwrap();
        assert_eq!(ready, []);
        // Watched again: fires again.
        r.watch(served.as_raw_fd()).unwrap();
        r.wait(0, &mut ready).unwrap();
        assert_eq!(ready, [Event::Conn(served.as_raw_fd())]);
        // Forgotten, or the listener stopped: nothing.
        r.forget(served.as_raw_fd());
        r.stop_listening();
        let _second = UnixStream::connect(&path).unwrap();
        ready.clear();
        r.wait(0, &mut ready).unwrap();
        assert_eq!(ready, []);
    }
}
