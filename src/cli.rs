//! Command-line definitions (clap). Behaviour lives in [`crate::commands`].

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Build Microsoft Web Deploy packages and WebPI feeds for Python WSGI apps
/// on IIS, on any operating system.
#[derive(Debug, Parser)]
#[command(name = "iiswsgi", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to iiswsgi.toml (default: searched upward from the current folder)
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// More detail (-v)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colors
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
    /// `json`: one JSON object per entry, artifact or diagnostic on stdout, for CI
    #[arg(long, global = true, value_enum, default_value_t = Format::Human, value_name = "FMT")]
    pub message_format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write iiswsgi.toml for the Flask, Django or Pyramid project in DIR
    Init(InitArgs),
    /// Validate iiswsgi.toml and render the templates; write nothing
    Check,
    /// Render documents, select files and write the Web Deploy package
    Build(BuildArgs),
    /// Write the WebPI feed (dist/<name>.webpi.xml) for the built packages
    Feed(FeedArgs),
    /// Upload packages and checksums, verify them, then upload the feed
    Publish(PublishArgs),
    /// List a package's entries and decode its provider options
    Inspect(InspectArgs),
    /// Install a package as Web Deploy would, serve it, and request pages
    Verify(VerifyArgs),
    /// Print the JSON Schema of iiswsgi.toml (for editor completion)
    Schema,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Print every entry (source -> destination, size) and write nothing
    #[arg(long)]
    pub plan: bool,
    /// Where to write the package (default: dist/ beside iiswsgi.toml)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Rebuild even if nothing that goes into the package changed
    #[arg(long)]
    pub force: bool,
    /// Compress on N threads (default: one per core) and list files on up to 4×N; the package is the same either way
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Also write the WebPI feed for the packages just built
    #[arg(long, conflicts_with = "plan")]
    pub feed: bool,
    /// With --feed: point the feed at the local files (file:/// URLs)
    #[arg(long, requires = "feed")]
    pub local: bool,
}

#[derive(Debug, Args)]
pub struct FeedArgs {
    /// Use file:/// URLs of the local packages, for testing in WebPI
    #[arg(long)]
    pub local: bool,
    /// The feed file to write (default: dist/<feed name>.webpi.xml)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Where the built packages are (default: each app's dist/)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Update this project's entries in an existing feed, keeping all others
    #[arg(long, value_name = "FEED")]
    pub merge: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// file://DIR, http(s)://HOST/PATH (WebDAV PUT), s3://BUCKET/PREFIX or az://CONTAINER/PREFIX
    /// (default: [publish] target)
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Print what would be uploaded where, with sizes and hashes; touch nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Replace packages already published with other bytes
    #[arg(long)]
    pub force: bool,
    /// Publish FEED with this project's entries merged in (as `feed --merge`)
    #[arg(long, value_name = "FEED")]
    pub merge: Option<PathBuf>,
    /// Where the built packages are (default: each app's dist/)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InitFramework {
    Flask,
    Django,
    Pyramid,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InitHosting {
    Fastcgi,
    HttpPlatform,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project folder (default: the current folder)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Skip detection's choice of framework
    #[arg(long)]
    pub framework: Option<InitFramework>,
    /// fastcgi (the bundled gateway, default) or http-platform (waitress)
    #[arg(long)]
    pub hosting: Option<InitHosting>,
    /// Take every default without asking (also when not on a terminal, or in CI)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print iiswsgi.toml instead of writing anything
    #[arg(long)]
    pub print: bool,
    /// The server's Python, MAJOR.MINOR ([python] version)
    #[arg(long, value_name = "X.Y", default_value = "3.12", value_parser = python_version)]
    pub python_version: String,
}

/// `3.12`-style: what `[python] version` takes.
fn python_version(s: &str) -> Result<String, String> {
    match s.split_once('.') {
        Some((major, minor))
            if major == "3" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(s.to_string())
        }
        _ => Err(format!("{s:?} is not a Python 3 version such as 3.12")),
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The package (default: the one `iiswsgi build` wrote for the manifest)
    #[arg(value_name = "PACKAGE")]
    pub package: Option<PathBuf>,
    /// A parameter value, as msdeploy's -setParam (repeatable; after the file)
    #[arg(long = "set-param", value_name = "NAME=VALUE")]
    pub set_param: Vec<String>,
    /// A SetParameters.xml (Microsoft's format)
    #[arg(long, value_name = "FILE")]
    pub set_param_file: Option<PathBuf>,
    /// A path to request, with what it must answer: PATH[=STATUS][:TEXT],
    /// as "/=200:Posts" or "/static/style.css=200" (repeatable; default:
    /// [verify] requests in iiswsgi.toml, else /)
    #[arg(long = "request", value_name = "PATH[=STATUS][:TEXT]")]
    pub request: Vec<String>,
    /// The status a request that names none must answer with (default: a 2xx)
    #[arg(long, value_name = "CODE")]
    pub expect_status: Option<u16>,
    /// Text a response body must contain, for requests that name none
    #[arg(long, value_name = "TEXT")]
    pub expect_text: Option<String>,
    /// Ask as if the app were the site's root, not the IIS application
    /// Web Deploy makes (Default Web Site/<App>, so SCRIPT_NAME=/<App>)
    #[arg(long)]
    pub at_root: bool,
    /// Where the built package is (default: dist/ beside iiswsgi.toml)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Install and serve the package's Windows half (its gateway exe and Windows wheels) under Wine, with a Windows CPython
    #[arg(long)]
    pub windows: bool,
    /// With --windows: the Windows CPython's folder (python.exe, python3.dll)
    // (No `requires = "windows"` here or below: clap would then refuse a
    // plain verify whenever the variable is set in the environment.)
    #[arg(long, value_name = "DIR", env = "IISWSGI_WINDOWS_PYTHON")]
    pub windows_python: Option<PathBuf>,
    /// With --windows: Wine's loader (default: /usr/lib/wine/wine64, else wine64 or wine on PATH)
    #[arg(long, value_name = "PATH", env = "IISWSGI_WINE")]
    pub wine: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A package (.zip), or a Manifest.xml / archive.xml
    pub path: PathBuf,
}
