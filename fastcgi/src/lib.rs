//! FastCGI 1.0 (<https://fastcgi-archives.github.io/FastCGI_Specification.html>),
//! the one copy in the workspace:
//!
//! - [`record`]: the 8-byte header, content and padding, read and written;
//! - [`name_value`]: the pairs of `FCGI_PARAMS` and `FCGI_GET_VALUES`, kept
//!   as ranges of the bytes received;
//! - [`connection`]: a responder's side of one connection (the gateway),
//!   one request at a time, the body read as the application asks;
//! - [`client`]: a web server's side, enough to send requests and read
//!   the answers (iiswsgi verify, the tests, the load generator);
//! - [`cgi`]: the CGI response a responder writes to `FCGI_STDOUT`.
//!
//! Transport-independent: the bytes come from a Unix socket, a TCP socket
//! or IIS's named pipe.

pub mod cgi;
pub mod client;
pub mod connection;
pub mod name_value;
pub mod record;

pub use connection::{Connection, Request};
