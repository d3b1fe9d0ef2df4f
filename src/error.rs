//! The library's error type and the exit codes users script against.

use std::path::PathBuf;

use miette::Diagnostic;

use crate::files::windows_path::NameProblem;
use crate::manifest::ConfigError;
use crate::package::zip_writer::ZipError;

/// Exit codes (sysexits, as typos does): 0 ok, 1 failure, 2 usage, 78 configuration.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const CONFIG: i32 = 78;
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(Box<ConfigError>),

    #[error("{}: {source}", path.display())]
    #[diagnostic(code(iiswsgi::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot package `{source_name}` as `{package_path}`: {problem}")]
    #[diagnostic(
        code(iiswsgi::unsafe_name),
        help(
            "rename the file, give it another `dest` with [[files.map]], or leave it out with [files] exclude"
        )
    )]
    UnsafeName {
        source_name: String,
        package_path: String,
        problem: NameProblem,
    },

    #[error(
        "`{first}` (as `{first_path}`) and `{second}` (as `{second_path}`) would be the same file on Windows, which ignores case"
    )]
    #[diagnostic(
        code(iiswsgi::collision),
        help("leave one of them out with [files] exclude, or move one with [[files.map]]")
    )]
    Collision {
        first: String,
        first_path: String,
        second: String,
        second_path: String,
    },

    #[error("`{source_name}` is {size} bytes; Web Deploy cannot package files of 2 GiB or more")]
    #[diagnostic(code(iiswsgi::too_large), help("leave it out with [files] exclude"))]
    FileTooLarge { source_name: String, size: u64 },

    #[error("the package would have {count} entries; Web Deploy packages hold at most 65,535")]
    #[diagnostic(
        code(iiswsgi::too_many_entries),
        help("leave files out with [files] exclude")
    )]
    TooManyEntries { count: usize },

    #[error("symlink loop: `{}` leads back to `{}`", path.display(), ancestor.display())]
    #[diagnostic(
        code(iiswsgi::symlink_loop),
        help("remove the link or exclude the folder")
    )]
    SymlinkLoop { path: PathBuf, ancestor: PathBuf },

    #[error("`{}` is not valid UTF-8; zip entry names must be", .0.display())]
    #[diagnostic(code(iiswsgi::non_utf8_path), help("rename the file"))]
    NonUtf8Path(PathBuf),

    #[error("`{}` changed while the package was being written", .0.display())]
    #[diagnostic(code(iiswsgi::changed_during_build), help("run the build again"))]
    ChangedDuringBuild(PathBuf),

    #[error("writing {}: {source}", path.display())]
    #[diagnostic(code(iiswsgi::zip))]
    Zip {
        path: PathBuf,
        #[source]
        source: ZipError,
    },

    #[error("SOURCE_DATE_EPOCH=`{0}` is not a whole number of seconds")]
    #[diagnostic(
        code(iiswsgi::source_date_epoch),
        help("set it to e.g. $(git log -1 --format=%ct)")
    )]
    BadSourceDateEpoch(String),

    #[error("{0}")]
    #[diagnostic(code(iiswsgi::inspect))]
    Inspect(String),

    #[error("package {}: {why}", path.display())]
    #[diagnostic(
        code(iiswsgi::stale_package),
        help("run `iiswsgi build` first (or `iiswsgi build --feed` to do both)")
    )]
    StalePackage { path: PathBuf, why: String },

    #[error("publishing to {target}: {message}")]
    #[diagnostic(code(iiswsgi::publish))]
    Publish { target: String, message: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Init(#[from] crate::init::InitError),

    #[error("cannot merge into {}: {message}", path.display())]
    #[diagnostic(
        code(iiswsgi::merge),
        help("--merge takes an existing WebPI feed (an Atom <feed> document)")
    )]
    Merge { path: PathBuf, message: String },

    #[error("verify: {message}")]
    #[diagnostic(code(iiswsgi::verify))]
    Verify {
        message: String,
        /// A parameter value is missing or invalid (exit 78).
        bad_parameters: bool,
    },
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::BadSourceDateEpoch(_) => exit::CONFIG,
            Error::Verify {
                bad_parameters: true,
                ..
            } => exit::CONFIG,
            _ => exit::FAILURE,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}
