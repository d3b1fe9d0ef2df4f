//! Command line. IIS and mod_fcgid start the gateway with no arguments (or
//! the `arguments` of its fastCgi entry); `--bind` and `--app-dir` are for
//! running it by hand or behind a server that connects to it.

use std::path::PathBuf;

/// `install`'s options (see `crate::install`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstallArgs {
    pub app_dir: Option<PathBuf>,
    pub iis_app: Option<String>,
    pub dry_run: bool,
    pub no_iis: bool,
    pub python: Option<String>,
    pub state_dir: Option<PathBuf>,
}

/// FastCGI-to-WSGI gateway for IIS and Unix FastCGI hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub bind: Option<String>,
    pub app_dir: Option<PathBuf>,
    /// Overrides IISWSGI_VENV (the install step's self-test).
    pub venv: Option<PathBuf>,
    /// Error pages show the traceback, whatever the settings say.
    pub show_traceback: bool,
    /// `--processes`, `--threads` and the timeouts, as given
    /// (`crate::limits` resolves them with the environment).
    pub limits: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve(Args),
    Install(InstallArgs),
    Version,
    /// `--built-for`: the Python version and interpreter this build embeds.
    BuiltFor,
    Help,
}

pub const HELP: &str = "\
iiswsgi-gateway: serve a Python WSGI app over FastCGI (IIS, Apache mod_fcgid, nginx)

Usage: iiswsgi-gateway [--bind ADDR] [--app-dir DIR] [--venv DIR] [--show-traceback]
                       [--processes N] [--threads N] [--idle-timeout S]
                       [--read-timeout S] [--write-timeout S] [--request-timeout S]
       iiswsgi-gateway install [--iis-app SITE/APP] [--app-dir DIR] [--python PY]
                               [--state-dir DIR] [--dry-run] [--no-iis]

Started by IIS's FastCGI module (a named pipe on standard input) or by a Unix
FastCGI host (a listening socket on standard input), it needs no arguments.

Options:
  --bind ADDR     listen on ADDR instead: 127.0.0.1:9000, or unix:/path/sock
  --app-dir DIR   the app's folder (default: IISWSGI_APP_DIR, else the
                  request's APPL_PHYSICAL_PATH, else the folder above bin\\
                  holding web.config, else the working folder)
  --venv DIR      the virtual environment (default: IISWSGI_VENV, else .venv
                  or venv in the app folder)
  --show-traceback  error pages show the traceback (never on a public site)

Where it owns the socket (--bind, or a socket on standard input; not under
IIS, whose activityTimeout and requestTimeout govern there):
  --processes N   worker processes sharing the socket, started and replaced
                  by this one (IISWSGI_PROCESSES, default 1; --bind always
                  runs them under such a supervisor)
  --threads N     requests each process serves at once (IISWSGI_THREADS,
                  default 8); idle kept connections hold no thread
  --idle-timeout S   close a kept connection idle this long (IISWSGI_IDLE_TIMEOUT, 60)
  --read-timeout S   limit on receiving a request's parameters, and on each
                     read of its body (IISWSGI_READ_TIMEOUT, 60)
  --write-timeout S  limit on each write of the response (IISWSGI_WRITE_TIMEOUT, 60)
  --request-timeout S  a request running longer ends its process, which is
                     replaced; its client gets a 504 (IISWSGI_REQUEST_TIMEOUT, 300)
                  0 turns a timeout off.
  -V, --version   print the version
  --built-for     print the Python this build embeds (version and interpreter)
  -h, --help      print this help

install (run by Web Deploy's runCommand after it copied the app) replaces
%APPL_PHYSICAL_PATH% in web.config, makes the venv from the bundled
wheelhouse offline and copies this gateway, both into the app's state
folder outside the synced app folder (--state-dir; default
%ProgramData%\\iiswsgi\\apps\\<Site_App>), registers the FastCGI application
with IIS (appcmd), grants the app pool read access (icacls), switches
web.config to the new gateway and venv once the new version answers a
self-test (IISWSGI_SELF_TEST: the paths to ask, default /; off), removes
versions no process uses, then writes iis_install.stamp. --dry-run prints every command and changes
nothing; --no-iis (the default off Windows) prints the IIS commands
instead of running them.

Settings come from web.config <appSettings> and the environment, with
wfastcgi's names: WSGI_HANDLER, PYTHONPATH, WSGI_LOG, WSGI_RESTART_FILE_REGEX;
and IISWSGI_VENV, IISWSGI_SHOW_TRACEBACK.
";

/// `--flag value` and `--flag=value` alike, one flag at a time.
struct Flags<I: Iterator<Item = String>> {
    it: I,
    inline: Option<String>,
}

impl<I: Iterator<Item = String>> Flags<I> {
    fn new(it: I) -> Self {
        Flags { it, inline: None }
    }

    fn next_flag(&mut self) -> Option<String> {
        let arg = self.it.next()?;
        match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => {
                self.inline = Some(v.to_owned());
                Some(f.to_owned())
            }
            _ => {
                self.inline = None;
                Some(arg)
            }
        }
    }

    fn value(&mut self, name: &str) -> Result<String, String> {
        self.inline
            .take()
            .or_else(|| self.it.next())
            .ok_or_else(|| format!("{name} needs a value"))
    }
}

/// Parses the arguments after the program name. Kept by hand: the gateway
/// takes a few options and should start in a millisecond.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut it = args.into_iter().peekable();
    if it.peek().map(String::as_str) == Some("install") {
        it.next();
        return parse_install(it).map(Command::Install);
    }
    let mut out = Args {
        bind: None,
        app_dir: std::env::var_os("IISWSGI_APP_DIR").map(PathBuf::from),
        venv: None,
        show_traceback: false,
        limits: Vec::new(),
    };
    let mut flags = Flags::new(it);
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "-V" | "--version" => return Ok(Command::Version),
            "--built-for" => return Ok(Command::BuiltFor),
            "-h" | "--help" => return Ok(Command::Help),
            "--bind" => out.bind = Some(flags.value("--bind")?),
            "--app-dir" => out.app_dir = Some(PathBuf::from(flags.value("--app-dir")?)),
            "--venv" => out.venv = Some(PathBuf::from(flags.value("--venv")?)),
            "--show-traceback" => out.show_traceback = true,
            flag if crate::limits::SETTINGS.iter().any(|(f, _)| *f == flag) => {
                let value = flags.value(flag)?;
                out.limits.push((flag.to_owned(), value));
            }
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    Ok(Command::Serve(out))
}

fn parse_install(it: impl Iterator<Item = String>) -> Result<InstallArgs, String> {
    let mut out = InstallArgs {
        no_iis: !cfg!(windows),
        ..InstallArgs::default()
    };
    let mut flags = Flags::new(it);
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "--app-dir" => out.app_dir = Some(PathBuf::from(flags.value("--app-dir")?)),
            "--iis-app" => out.iis_app = Some(flags.value("--iis-app")?),
            "--python" => out.python = Some(flags.value("--python")?),
            "--dry-run" => out.dry_run = true,
            "--no-iis" => out.no_iis = true,
            "--state-dir" => out.state_dir = Some(PathBuf::from(flags.value("--state-dir")?)),
            other => return Err(format!("install: unknown argument {other:?}; see --help")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn forms() {
        assert_eq!(p(&["--version"]), Ok(Command::Version));
        let Ok(Command::Serve(a)) = p(&["--bind", "127.0.0.1:9000", "--app-dir=/srv/app"]) else {
            panic!()
        };
        assert_eq!(a.bind.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(a.app_dir, Some(PathBuf::from("/srv/app")));
        assert_eq!(p(&["--bind"]), Err("--bind needs a value".to_owned()));
        assert!(
            p(&["serve"])
                .unwrap_err()
                .contains("unknown argument \"serve\"")
        );
    }
}
