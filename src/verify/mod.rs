//! `iiswsgi verify` (issue #14): a package installed the way Web Deploy
//! would install it, then served and asked for pages (`run`). Its parts:
//! opening a package safely (`package`), the parameter engine
//! (`parameters`), applying values to the files (`apply`), the wheelhouse
//! made installable here (`local_wheels`), and a FastCGI client
//! (`fastcgi_client`) to talk to the gateway; with `--windows`, the
//! package's own Windows half under Wine (`wine`, with the one DLL Wine 8
//! lacks, `wine_prng_dll`).

pub mod apply;
pub mod expectation;
pub mod fastcgi_client;
pub mod interpreter;
pub mod linux_gateway;
pub mod local_wheels;
pub mod package;
pub mod parameters;
pub mod run;
pub mod static_site;
pub mod wine;
pub mod wine_prng_dll;
