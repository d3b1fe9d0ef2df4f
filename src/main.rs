//! The `iiswsgi` binary: parse the command line, run, render errors, exit.

use std::io::IsTerminal;

use clap::Parser;
use iiswsgi::cli::{Cli, Color, Format};
use iiswsgi::error::exit;

fn main() {
    // Rust ignores SIGPIPE, so printing to a closed pipe (`iiswsgi build
    // 2>&1 | head -4`) fails and println!/eprintln! panic (exit 101). Like
    // ripgrep and every Unix filter, end quietly instead.
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let color = match cli.global.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .force_graphical(true)
                .color(color)
                .unicode(color)
                .terminal_links(false)
                .wrap_lines(false)
                .build(),
        )
    }));
    if let Err(e) = iiswsgi::commands::run(&cli) {
        let code = e.exit_code();
        if cli.global.message_format == Format::Json {
            iiswsgi::commands::reporter(&cli).json_error(&e);
        } else {
            eprintln!("{:?}", miette::Report::new(e));
        }
        std::process::exit(code);
    }
}
