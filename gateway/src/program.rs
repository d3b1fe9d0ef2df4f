//! The gateway as a program: arguments in, exit status out. Two front
//! ends run it: the `iiswsgi-gateway` executable, which embeds CPython
//! (Windows under IIS, and Unix builds linked to a libpython), and the
//! `iiswsgi_gateway` extension module (`python -m iiswsgi_gateway`), where
//! the app's own interpreter is already running and nothing is linked to
//! a libpython (see `python::hosted`).

use std::sync::Arc;

use crate::cli::{self, Command};
use crate::limits::Limits;
use crate::log::Log;
use crate::serve::{Gateway, Options};
use crate::transport::Listener;

/// Runs the command line `args` (without the program's name) and returns
/// the process's exit status.
pub fn run(args: impl Iterator<Item = String>) -> i32 {
    let given: Vec<String> = args.collect();
    let args = match cli::parse(given.iter().cloned()) {
        Ok(Command::Serve(args)) => args,
        Ok(Command::Install(args)) => {
            let options = crate::install::Options {
                app_dir: args.app_dir,
                iis_app: args.iis_app,
                dry_run: args.dry_run,
                iis: !args.no_iis,
                python: args.python,
                state_dir: args.state_dir,
            };
            return match crate::install::install(&options) {
                Ok(_) => 0,
                Err(failure) => {
                    // Standard output: what Web Deploy shows of a runCommand.
                    println!("{failure}");
                    1
                }
            };
        }
        Ok(Command::Version) => {
            println!("iiswsgi-gateway {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Ok(Command::BuiltFor) => {
            println!("{}", crate::python::built_for());
            return 0;
        }
        Ok(Command::Help) => {
            print!("{}", cli::HELP);
            return 0;
        }
        Err(e) => {
            eprintln!("iiswsgi-gateway: {e}");
            return 2;
        }
    };
    let limits = match Limits::resolve(&args.limits, |k| std::env::var(k).ok()) {
        Ok(limits) => limits,
        Err(e) => {
            eprintln!("iiswsgi-gateway: {e}");
            return 2;
        }
    };
    // Under IIS, bytes on standard error become a 500 for the request.
    let under_iis = std::env::var_os("_FCGI_X_PIPE_").is_some();
    #[cfg(unix)]
    let worker = std::env::var_os(crate::supervisor::WORKER_ENV).is_some();
    #[cfg(not(unix))]
    let worker = false;
    let log = Arc::new(Log::new(!under_iis));
    // WSGI_LOG from the environment logs from the start; from web.config,
    // once the settings are read (at the first request).
    if let Some(path) = std::env::var_os("WSGI_LOG").filter(|p| !p.is_empty()) {
        log.open_file(std::path::Path::new(&path));
    }
    let listener = match &args.bind {
        // A worker serves the socket its supervisor bound (standard input).
        Some(addr) if !worker => {
            Listener::bind_for_burst(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))
        }
        _ => Listener::inherited().map_err(|e| e.to_string()),
    };
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            eprintln!("iiswsgi-gateway: {e}");
            return 1;
        }
    };
    #[cfg(unix)]
    if !worker && !under_iis && (args.bind.is_some() || limits.processes > 1) {
        let Some(program) = crate::python::hosted::same_program() else {
            log.line("cannot tell how to start worker processes");
            return 1;
        };
        return crate::supervisor::run(&listener, limits.processes, program, &given, log);
    }
    let gateway = Gateway::new(
        Options {
            app_dir: args.app_dir,
            venv: args.venv,
            show_traceback: args.show_traceback,
            limits,
        },
        log.clone(),
    );
    if let Err(e) = gateway.serve(listener) {
        log.line(&format!("stopped: {e}"));
        return 1;
    }
    0
}
