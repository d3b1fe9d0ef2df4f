//! IIS's transport: standard input is the server end of a named pipe.
//!
//! libfcgi (os_win32.c) and wfastcgi treat it the same way: wait for the
//! web server with `ConnectNamedPipe` (already connected is fine), read and
//! write FastCGI records on that one handle, and when the server closes its
//! end, disconnect and wait for the next connection.

use std::io::{self, Read, Write};
use std::ptr;

use windows_sys::Win32::Foundation::{
    ERROR_BROKEN_PIPE, ERROR_NO_DATA, ERROR_PIPE_CONNECTED, ERROR_PIPE_NOT_CONNECTED, GetLastError,
    HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    FILE_TYPE_PIPE, FlushFileBuffers, GetFileType, ReadFile, WriteFile,
};
use windows_sys::Win32::System::Console::{GetStdHandle, STD_INPUT_HANDLE};
use windows_sys::Win32::System::Pipes::{ConnectNamedPipe, DisconnectNamedPipe};

use super::Stream;

pub struct PipeListener {
    handle: HANDLE,
    /// Whether `ConnectNamedPipe` applies (a server end). A client end or
    /// an anonymous pipe carries exactly one connection.
    server_end: bool,
    connections: u64,
}

// SAFETY: a pipe handle may be used from any thread.
unsafe impl Send for PipeListener {}

impl PipeListener {
    pub fn from_stdin() -> io::Result<Self> {
        // SAFETY: plain Win32 calls on this process's standard handle.
        let handle = unsafe { GetStdHandle(STD_INPUT_HANDLE) };
        if handle.is_null()
            || handle == INVALID_HANDLE_VALUE
            || unsafe { GetFileType(handle) } != FILE_TYPE_PIPE
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "standard input is not a named pipe: this program is started by IIS's FastCGI module, \
                 or give it --bind 127.0.0.1:9000",
            ));
        }
        Ok(PipeListener {
            handle,
            server_end: true,
            connections: 0,
        })
    }

    pub fn accept(&mut self) -> io::Result<Stream> {
        if self.connections > 0 {
            if !self.server_end {
                // One connection was all there was: the process is done.
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the web server closed the pipe",
                ));
            }
            // Disconnecting drops what the web server has not read yet, so
            // first wait until it has read the whole response (as libfcgi).
            // SAFETY: the handle is the pipe's server end.
            unsafe {
                FlushFileBuffers(self.handle);
                DisconnectNamedPipe(self.handle);
            }
        }
        // SAFETY: synchronous ConnectNamedPipe on the server end.
        let ok = unsafe { ConnectNamedPipe(self.handle, ptr::null_mut()) };
        if ok == 0 {
            match unsafe { GetLastError() } {
                ERROR_PIPE_CONNECTED => {}
                // Not a server end: it is already one connected stream.
                _ if self.connections == 0 => self.server_end = false,
                _ => return Err(io::Error::last_os_error()),
            }
        }
        self.connections += 1;
        let io = PipeIo(self.handle);
        Ok(Stream {
            reader: Box::new(io),
            writer: Box::new(io),
            socket: None,
        })
    }
}

/// Reads and writes the pipe handle without owning (closing) it.
#[derive(Clone, Copy)]
struct PipeIo(HANDLE);

// SAFETY: see PipeListener.
unsafe impl Send for PipeIo {}

impl Read for PipeIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0u32;
        let len = buf.len().min(u32::MAX as usize) as u32;
        // SAFETY: buf is valid for len bytes; synchronous read.
        let ok = unsafe { ReadFile(self.0, buf.as_mut_ptr(), len, &mut got, ptr::null_mut()) };
        if ok == 0 {
            return match unsafe { GetLastError() } {
                // The web server closed its end: end of this connection.
                ERROR_BROKEN_PIPE | ERROR_PIPE_NOT_CONNECTED | ERROR_NO_DATA => Ok(0),
                _ => Err(io::Error::last_os_error()),
            };
        }
        Ok(got as usize)
    }
}

impl Write for PipeIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut put = 0u32;
        let len = buf.len().min(u32::MAX as usize) as u32;
        // SAFETY: buf is valid for len bytes; synchronous write.
        let ok = unsafe { WriteFile(self.0, buf.as_ptr(), len, &mut put, ptr::null_mut()) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(put as usize)
    }

    fn flush(&mut self) -> io::Result<()> {
        // WriteFile on a byte-mode pipe buffers nothing in this process.
        // (FlushFileBuffers would wait for the reader; done before a disconnect.)
        Ok(())
    }
}
