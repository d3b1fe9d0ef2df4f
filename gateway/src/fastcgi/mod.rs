//! The FastCGI protocol as a responder: records, name-value pairs and one
//! connection's request cycle. Transport-independent: the bytes come from a
//! Unix socket, a TCP socket or IIS's named pipe (`crate::transport`).

pub mod connection;
pub mod name_value;
pub mod record;

pub use connection::{Connection, Request};
