//! The gateway's settings: web.config `<appSettings>` over the process
//! environment, with wfastcgi's names so a site moving from wfastcgi
//! changes nothing.
//!
//! | key | meaning |
//! |---|---|
//! | `WSGI_HANDLER` | the app: `module:callable`, `module.callable`, or a factory call `module.create_app()` |
//! | `PYTHONPATH` | folders added to `sys.path`, `;`-separated, `%VAR%` expanded, relative to the app folder |
//! | `WSGI_LOG` | a file to append the log to |
//! | `WSGI_RESTART_FILE_REGEX` | changed files matching it reload the app (default `.*((\.py)\|(\.config))$`; empty: never) |
//! | `IISWSGI_VENV` | the app's virtual environment (default: `.venv` or `venv` in the app folder, if there) |
//! | `IISWSGI_PYTHON_HOME` | Windows: the Python whose python3.dll to load (default: the venv's base Python, else the DLL search path) |
//! | `IISWSGI_SHOW_TRACEBACK` | `true`: error pages show the traceback (never on a public site) |

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::web_config::{self, WebConfigError};

/// wfastcgi's default restart pattern.
pub const DEFAULT_RESTART_REGEX: &str = r".*((\.py)|(\.config))$";

#[derive(Debug)]
pub struct Settings {
    pub app_dir: PathBuf,
    pub web_config: Option<PathBuf>,
    /// Every app setting, exported to `os.environ` (Django reads
    /// `DJANGO_SETTINGS_MODULE` from there).
    pub app_settings: Vec<(String, String)>,
    pub handler: Option<String>,
    pub python_path: Vec<PathBuf>,
    pub log_file: Option<PathBuf>,
    pub restart: Option<Regex>,
    pub venv: Option<PathBuf>,
    /// Windows: the folder of the Python whose python3.dll to load.
    pub python_home: Option<PathBuf>,
    pub show_traceback: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    WebConfig(#[from] WebConfigError),
    #[error("WSGI_RESTART_FILE_REGEX {pattern:?} is not a regular expression: {message}")]
    RestartRegex { pattern: String, message: String },
    #[error(
        "IISWSGI_VENV: no virtual environment at {0} (no pyvenv.cfg there); create it, or correct the setting"
    )]
    NoVenv(PathBuf),
}

impl Settings {
    /// Reads the settings for the app in `app_dir`; `env` looks up the
    /// process environment (a parameter so tests need not change theirs).
    pub fn load(
        app_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let web_config = web_config::find(app_dir);
        let app_settings = match &web_config {
            Some(path) => web_config::app_settings(path)?,
            None => Vec::new(),
        };
        let get = |key: &str| -> Option<String> {
            app_settings
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .or_else(|| env(key))
        };
        let expand = |value: &str| {
            expand_percent_vars(value, |name| {
                app_settings
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
                    .or_else(|| env(name))
            })
        };
        let resolve = |p: &str| -> PathBuf { app_dir.join(expand(p)) };
        let python_path = get("PYTHONPATH")
            .map(|v| {
                v.split([';', if cfg!(windows) { ';' } else { ':' }])
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| resolve(s.trim()))
                    .collect()
            })
            .unwrap_or_default();
        let restart = match get("WSGI_RESTART_FILE_REGEX") {
            Some(p) if p.is_empty() => None,
            p => {
                let pattern = p.unwrap_or_else(|| DEFAULT_RESTART_REGEX.to_owned());
                // wfastcgi uses re.match: anchored at the start.
                Some(Regex::new(&format!("^(?:{pattern})")).map_err(|e| {
                    SettingsError::RestartRegex {
                        pattern,
                        message: e.to_string(),
                    }
                })?)
            }
        };
        let venv = match get("IISWSGI_VENV").filter(|v| !v.is_empty()) {
            Some(v) => {
                let dir = resolve(&v);
                if !dir.join("pyvenv.cfg").is_file() {
                    return Err(SettingsError::NoVenv(dir));
                }
                Some(dir)
            }
            None => [".venv", "venv"]
                .iter()
                .map(|n| app_dir.join(n))
                .find(|d| d.join("pyvenv.cfg").is_file()),
        };
        Ok(Settings {
            app_dir: app_dir.to_owned(),
            handler: get("WSGI_HANDLER").filter(|h| !h.trim().is_empty()),
            python_path,
            log_file: get("WSGI_LOG")
                .filter(|v| !v.is_empty())
                .map(|v| resolve(&v)),
            restart,
            venv,
            python_home: get("IISWSGI_PYTHON_HOME")
                .filter(|v| !v.is_empty())
                .map(|v| resolve(&v)),
            show_traceback: get("IISWSGI_SHOW_TRACEBACK").is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            }),
            web_config,
            app_settings,
        })
    }
}

/// Expands `%NAME%` as cmd.exe and wfastcgi do; an unknown name expands to
/// nothing (wfastcgi's `os.getenv(name, '')`).
pub fn expand_percent_vars(value: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(end)
                if end > 0
                    && after[..end]
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_') =>
            {
                out.push_str(&lookup(&after[..end]).unwrap_or_default());
                rest = &after[end + 1..];
            }
            _ => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn percent_vars() {
        let lookup = |n: &str| (n == "APPL_PHYSICAL_PATH").then(|| r"C:\inetpub\app".to_owned());
        assert_eq!(
            expand_percent_vars(r"%APPL_PHYSICAL_PATH%\lib;%NOPE%x;50%", lookup),
            r"C:\inetpub\app\lib;x;50%"
        );
        assert_eq!(expand_percent_vars("100% sure %", lookup), "100% sure %");
    }

    #[test]
    fn web_config_over_environment_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Web.config"),
            r#"<configuration><appSettings>
                 <add key="WSGI_HANDLER" value="site.app"/>
                 <add key="PYTHONPATH" value="lib;%EXTRA%"/>
                 <add key="WSGI_LOG" value="logs\..\gw.log"/>
               </appSettings></configuration>"#,
        )
        .unwrap();
        let env = |k: &str| match k {
            "WSGI_HANDLER" => Some("ignored:app".to_owned()),
            "EXTRA" => Some("more".to_owned()),
            "IISWSGI_SHOW_TRACEBACK" => Some("True".to_owned()),
            _ => None,
        };
        let s = Settings::load(dir.path(), env).unwrap();
        assert_eq!(s.handler.as_deref(), Some("site.app"));
        assert_eq!(
            s.python_path,
            vec![dir.path().join("lib"), dir.path().join("more")]
        );
        assert_eq!(s.log_file, Some(dir.path().join(r"logs\..\gw.log")));
        assert!(s.show_traceback);
        let restart = s.restart.unwrap();
        assert!(restart.is_match("pkg/views.py"));
        assert!(restart.is_match("web.config"));
        assert!(!restart.is_match("static/site.css"));
        assert_eq!(s.venv, None);
    }

    #[test]
    fn empty_restart_regex_disables_and_venv_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".venv")).unwrap();
        std::fs::write(dir.path().join(".venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let env = |k: &str| (k == "WSGI_RESTART_FILE_REGEX").then(String::new);
        let s = Settings::load(dir.path(), env).unwrap();
        assert!(s.restart.is_none());
        assert_eq!(s.venv, Some(dir.path().join(".venv")));
    }

    #[test]
    fn bad_settings_say_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let env = |k: &str| (k == "IISWSGI_VENV").then(|| "env".to_owned());
        let e = Settings::load(dir.path(), env).unwrap_err().to_string();
        assert!(
            e.contains("no virtual environment at") && e.contains("pyvenv.cfg"),
            "{e}"
        );
        let env = |k: &str| (k == "WSGI_RESTART_FILE_REGEX").then(|| "(".to_owned());
        let e = Settings::load(dir.path(), env).unwrap_err().to_string();
        assert!(
            e.starts_with("WSGI_RESTART_FILE_REGEX \"(\" is not a regular expression"),
            "{e}"
        );
        assert!(
            Settings::load(dir.path(), no_env)
                .unwrap()
                .handler
                .is_none()
        );
    }
}
