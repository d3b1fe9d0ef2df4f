//! The `iiswsgi-gateway` program: parse arguments, pick the transport, serve.

use std::sync::Arc;

use iiswsgi_gateway::cli::{self, Command};
use iiswsgi_gateway::log::Log;
use iiswsgi_gateway::serve::{Gateway, Options};
use iiswsgi_gateway::transport::Listener;

fn main() {
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Serve(args)) => args,
        Ok(Command::Install(args)) => {
            let options = iiswsgi_gateway::install::Options {
                app_dir: args.app_dir,
                iis_app: args.iis_app,
                dry_run: args.dry_run,
                iis: !args.no_iis,
                python: args.python,
                state_dir: args.state_dir,
            };
            match iiswsgi_gateway::install::install(&options) {
                Ok(_) => return,
                Err(failure) => {
                    // Standard output: what Web Deploy shows of a runCommand.
                    println!("{failure}");
                    std::process::exit(1);
                }
            }
        }
        Ok(Command::Version) => {
            println!("iiswsgi-gateway {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Ok(Command::BuiltFor) => {
            println!("{}", env!("IISWSGI_GATEWAY_BUILT_FOR"));
            return;
        }
        Ok(Command::Help) => {
            print!("{}", cli::HELP);
            return;
        }
        Err(e) => {
            eprintln!("iiswsgi-gateway: {e}");
            std::process::exit(2);
        }
    };
    // Under IIS, bytes on standard error become a 500 for the request.
    let under_iis = std::env::var_os("_FCGI_X_PIPE_").is_some();
    let log = Arc::new(Log::new(!under_iis));
    // WSGI_LOG from the environment logs from the start; from web.config,
    // once the settings are read (at the first request).
    if let Some(path) = std::env::var_os("WSGI_LOG").filter(|p| !p.is_empty()) {
        log.open_file(std::path::Path::new(&path));
    }
    let listener = match &args.bind {
        Some(addr) => Listener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}")),
        None => Listener::inherited().map_err(|e| e.to_string()),
    };
    let listener = match listener {
        Ok(l) => l,
        Err(e) => {
            eprintln!("iiswsgi-gateway: {e}");
            std::process::exit(1);
        }
    };
    let gateway = Gateway::new(
        Options {
            app_dir: args.app_dir,
            venv: args.venv,
            show_traceback: args.show_traceback,
        },
        log.clone(),
    );
    if let Err(e) = gateway.serve(listener) {
        log.line(&format!("stopped: {e}"));
        std::process::exit(1);
    }
}
