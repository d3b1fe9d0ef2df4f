//! WSGI pieces that need no interpreter: the environ's CGI variables and
//! the error page.

pub mod environ;
pub mod error_page;
