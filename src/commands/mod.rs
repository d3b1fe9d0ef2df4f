//! One function per subcommand: load, run the pipeline stages, report.

mod build;
mod check;
mod feed;
mod init;
mod inspect;
mod publish;
mod verify;

use std::path::PathBuf;

use crate::cli::{Cli, Command, Format};
use crate::error::Error;
use crate::manifest::{self, Loaded};
use crate::report::{MessageFormat, Reporter, Verbosity};

/// Runs the command line `cli`.
pub fn run(cli: &Cli) -> Result<(), Error> {
    let reporter = reporter(cli);
    match &cli.command {
        Command::Init(args) => init::run(args, &reporter),
        Command::Check => check::run(&load(cli)?, &reporter),
        Command::Build(args) => build::run(&load(cli)?, args, &reporter),
        Command::Feed(args) => feed::run(&load(cli)?, args, &reporter),
        Command::Publish(args) => publish::run(&load(cli)?, args, &reporter),
        Command::Inspect(args) => inspect::run(&args.path, &reporter),
        Command::Verify(args) => verify::run(cli, args, &reporter),
        Command::Schema => {
            print!("{}", crate::schema::manifest_schema());
            Ok(())
        }
    }
}

/// The reporter the global flags ask for.
pub fn reporter(cli: &Cli) -> Reporter {
    Reporter {
        format: match cli.global.message_format {
            Format::Human => MessageFormat::Human,
            Format::Json => MessageFormat::Json,
        },
        verbosity: if cli.global.quiet {
            Verbosity::Quiet
        } else if cli.global.verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        },
    }
}

/// The app, or every app of the workspace, the command works on.
fn load(cli: &Cli) -> Result<Loaded, Error> {
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        path: PathBuf::from("."),
        source,
    })?;
    let path = manifest::locate(cli.global.manifest_path.as_deref(), &cwd)?;
    Ok(manifest::load_all(&path)?)
}
