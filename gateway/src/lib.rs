//! iiswsgi-gateway: the FastCGI-to-WSGI gateway that iiswsgi bundles into
//! every package. IIS's FastCGI module starts it with a named pipe as
//! standard input; Unix FastCGI hosts (Apache mod_fcgid, spawn-fcgi) with a
//! listening socket there. It runs the WSGI app in-process, in an embedded
//! CPython (the stable ABI: one build serves Python 3.9 and later).
//!
//! The layout follows a request: `transport` (where connections come
//! from) → `fastcgi` (records, one request at a time: the workspace's
//! `fastcgi` crate) → `wsgi` (environ,
//! error page) → `python` (the interpreter, `wsgi.input`, the response
//! writer) → `serve` (the loop that ties them and survives failures).
//! Where the gateway owns a socket, `pool` spreads connections over a
//! process's threads, `supervisor` runs worker processes on the socket,
//! `harakiri` ends a process whose request outlives its limit, and
//! `limits` says how many and how long.
//! `settings` and `web_config` read wfastcgi's app settings; `restart`
//! and `shutdown` react to changed files and to the host. `install` is the
//! other subcommand: what Web Deploy runs to make the copied app a site.

pub mod cli;
pub mod event_log;
/// The FastCGI protocol, from the workspace's `fastcgi` crate.
pub use fastcgi;
pub mod harakiri;
pub mod install;
pub mod limits;
pub mod log;
#[cfg(unix)]
pub mod pool;
pub mod program;
pub mod python;
pub mod restart;
pub mod serve;
pub mod settings;
pub mod shutdown;
#[cfg(unix)]
pub mod supervisor;
pub mod transport;
pub mod web_config;
pub mod wsgi;
