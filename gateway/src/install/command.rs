//! Every external program the install step runs, as a program and an
//! argument list (never a shell string), built by the functions below so
//! that tests check each one against the documented syntax, and shown in
//! the log and by `--dry-run` as a Windows command line.

use std::fmt;
use std::path::{Path, PathBuf};

/// One command: a program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Failure of this command is expected and harmless (removing an entry
    /// that may not be there, before adding it again).
    pub may_fail: bool,
}

impl Cmd {
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Cmd {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            may_fail: false,
        }
    }

    fn may_fail(mut self) -> Self {
        self.may_fail = true;
        self
    }
}

/// Quotes one argument as the Windows C runtime splits command lines
/// (what `std::process::Command` does on Windows), for display.
pub fn quote_windows(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", quote_windows(&self.program.to_string_lossy()))?;
        for a in &self.args {
            write!(f, " {}", quote_windows(a))?;
        }
        Ok(())
    }
}

/// `%windir%\system32\inetsrv\appcmd.exe`.
pub fn appcmd_path() -> PathBuf {
    let windir = std::env::var("windir")
        .or_else(|_| std::env::var("SystemRoot"))
        .unwrap_or_else(|_| r"C:\Windows".into());
    // Joined with `\` whatever this machine is: off Windows it is only shown.
    PathBuf::from(format!(
        r"{}\system32\inetsrv\appcmd.exe",
        windir.trim_end_matches('\\')
    ))
}

/// How Python is named on the server (IISWSGI_PYTHON): the `py` launcher
/// with a version (`py -3.12`), a python.exe, or a folder holding one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonSpec {
    Launcher { version: String },
    Executable(PathBuf),
}

impl PythonSpec {
    /// Parses `py -3.12`, `py:3.12`, a path to python(.exe), or a folder.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let launcher = t
            .strip_prefix("py -")
            .or_else(|| t.strip_prefix("py:"))
            .map(str::trim);
        if let Some(version) = launcher {
            let ok = version.split('.').count() == 2
                && version
                    .split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return Err(format!(
                    "IISWSGI_PYTHON {text:?}: the py launcher needs a version such as `py -3.12`"
                ));
            }
            return Ok(PythonSpec::Launcher {
                version: version.to_owned(),
            });
        }
        if t.is_empty() {
            return Err(
                "IISWSGI_PYTHON is empty: set it to `py -3.12` or the path of python.exe"
                    .to_owned(),
            );
        }
        let path = PathBuf::from(t);
        if path.is_dir() {
            let exe = if cfg!(windows) {
                path.join("python.exe")
            } else {
                path.join("bin").join("python3")
            };
            return Ok(PythonSpec::Executable(exe));
        }
        Ok(PythonSpec::Executable(path))
    }

    /// The command that runs this Python with `args`.
    pub fn command(&self, args: &[&str]) -> Cmd {
        match self {
            PythonSpec::Launcher { version } => {
                let mut all = vec![format!("-{version}")];
                all.extend(args.iter().map(|a| a.to_string()));
                Cmd::new("py", all)
            }
            PythonSpec::Executable(exe) => Cmd::new(exe, args.iter().copied()),
        }
    }
}

/// `python -m venv DIR`; with uv (`iiswsgi verify` passes the one it
/// uses, IISWSGI_INSTALL_UV), `uv venv --python PYTHON DIR`, which needs
/// no venv module or ensurepip in that Python (Debian's python3 without
/// python3-venv).
pub fn create_venv(python: &PythonSpec, dir: &Path, uv: Option<&Path>) -> Cmd {
    if let (Some(uv), PythonSpec::Executable(exe)) = (uv, python) {
        return Cmd::new(
            uv,
            [
                "venv".to_owned(),
                "--quiet".to_owned(),
                "--no-config".to_owned(),
                "--python".to_owned(),
                exe.to_string_lossy().into_owned(),
                dir.to_string_lossy().into_owned(),
            ],
        );
    }
    python.command(&["-m", "venv", &dir.to_string_lossy()])
}

/// The venv's own interpreter.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// `python -m pip install --no-index --find-links WHEELHOUSE -r REQUIREMENTS`:
/// offline, only the bundled wheels (with uv: `uv pip install` so, into
/// the venv uv made without pip).
pub fn pip_install_offline(
    venv: &Path,
    wheelhouse: &Path,
    requirements: &Path,
    uv: Option<&Path>,
) -> Cmd {
    if let Some(uv) = uv {
        return Cmd::new(
            uv,
            [
                "pip".to_owned(),
                "install".to_owned(),
                "--quiet".to_owned(),
                "--no-config".to_owned(),
                "--no-index".to_owned(),
                "--python".to_owned(),
                venv_python(venv).to_string_lossy().into_owned(),
                "--find-links".to_owned(),
                wheelhouse.to_string_lossy().into_owned(),
                "-r".to_owned(),
                requirements.to_string_lossy().into_owned(),
            ],
        );
    }
    Cmd::new(
        venv_python(venv),
        [
            "-m".to_owned(),
            "pip".to_owned(),
            "install".to_owned(),
            "--no-index".to_owned(),
            "--disable-pip-version-check".to_owned(),
            "--no-input".to_owned(),
            "--find-links".to_owned(),
            wheelhouse.to_string_lossy().into_owned(),
            "-r".to_owned(),
            requirements.to_string_lossy().into_owned(),
        ],
    )
}

/// What IIS is told about the gateway (`system.webServer/fastCgi/application`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastCgiApp {
    pub full_path: String,
    pub arguments: String,
    pub max_instances: u32,
    pub activity_timeout: u32,
    pub request_timeout: u32,
    pub instance_max_requests: u32,
    pub signal_before_terminate_seconds: u32,
}

impl FastCgiApp {
    pub fn new(full_path: &str) -> Self {
        FastCgiApp {
            full_path: full_path.to_owned(),
            arguments: String::new(),
            // 0: IIS picks one per processor.
            max_instances: 0,
            activity_timeout: 600,
            request_timeout: 600,
            instance_max_requests: 10_000,
            // Time for _FCGI_SHUTDOWN_EVENT_ to end the gateway cleanly.
            signal_before_terminate_seconds: 30,
        }
    }

    /// appcmd's collection-item key: `[fullPath='…',arguments='…']`.
    fn key(&self) -> String {
        format!(
            "[fullPath='{}',arguments='{}']",
            self.full_path, self.arguments
        )
    }
}

/// Registering the FastCGI application, idempotently: remove the entry (it
/// may not exist), then add it with its settings, so a re-deploy leaves
/// exactly one.
pub fn register_fastcgi(appcmd: &Path, app: &FastCgiApp) -> Vec<Cmd> {
    let remove = unregister_fastcgi(appcmd, app);
    let add = Cmd::new(
        appcmd,
        [
            "set".to_owned(),
            "config".to_owned(),
            "-section:system.webServer/fastCgi".to_owned(),
            format!(
                "/+[fullPath='{}',arguments='{}',maxInstances='{}',activityTimeout='{}',requestTimeout='{}',instanceMaxRequests='{}',signalBeforeTerminateSeconds='{}']",
                app.full_path,
                app.arguments,
                app.max_instances,
                app.activity_timeout,
                app.request_timeout,
                app.instance_max_requests,
                app.signal_before_terminate_seconds
            ),
            "/commit:apphost".to_owned(),
        ],
    );
    vec![remove, add]
}

/// Removing a FastCGI application's entry (IIS then ends its processes);
/// harmless when there is none.
pub fn unregister_fastcgi(appcmd: &Path, app: &FastCgiApp) -> Cmd {
    Cmd::new(
        appcmd,
        [
            "set",
            "config",
            "-section:system.webServer/fastCgi",
            &format!("/-{}", app.key()),
            "/commit:apphost",
        ],
    )
    .may_fail()
}

/// The handlers section is locked at the server level by default; the
/// app's web.config may add its FastCGI handler once it is unlocked for
/// the app's path (as wfastcgi's documentation asks users to do by hand).
pub fn unlock_handlers(appcmd: &Path, iis_app: &str) -> Cmd {
    Cmd::new(
        appcmd,
        [
            "unlock",
            "config",
            iis_app,
            "-section:system.webServer/handlers",
            "/commit:apphost",
        ],
    )
}

/// `appcmd list app "SITE/APP" /text:applicationPool`: the app's pool.
pub fn app_pool_of(appcmd: &Path, iis_app: &str) -> Cmd {
    Cmd::new(appcmd, ["list", "app", iis_app, "/text:applicationPool"])
}

/// `appcmd list vdir "SITE/APP/" /text:physicalPath`: where IIS says the
/// app's files are (to cross-check the gateway's own location).
pub fn physical_path_of(appcmd: &Path, iis_app: &str) -> Cmd {
    Cmd::new(
        appcmd,
        [
            "list",
            "vdir",
            &format!("{}/", iis_app.trim_end_matches('/')),
            "/text:physicalPath",
        ],
    )
}

/// Read and execute for the pool's identity on the app folder, inherited
/// by everything below (the venv included).
pub fn grant_read(folder: &Path, pool: &str) -> Cmd {
    Cmd::new(
        "icacls",
        [
            folder.to_string_lossy().into_owned(),
            "/grant".to_owned(),
            format!("IIS AppPool\\{pool}:(OI)(CI)RX"),
            "/T".to_owned(),
            "/Q".to_owned(),
        ],
    )
}

/// Modify for the pool's identity on a data folder, inherited by what the
/// app makes there and given to what is there already (`/T`: a set-up
/// command run as the installer may have made a database file).
pub fn grant_modify(folder: &Path, pool: &str) -> Cmd {
    Cmd::new(
        "icacls",
        [
            folder.to_string_lossy().into_owned(),
            "/grant".to_owned(),
            format!("IIS AppPool\\{pool}:(OI)(CI)M"),
            "/T".to_owned(),
            "/Q".to_owned(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPCMD: &str = r"C:\Windows\system32\inetsrv\appcmd.exe";

    #[test]
    fn windows_quoting_follows_the_c_runtime() {
        assert_eq!(quote_windows("plain"), "plain");
        assert_eq!(
            quote_windows(r"C:\Program Files\Python312\python.exe"),
            r#""C:\Program Files\Python312\python.exe""#
        );
        assert_eq!(
            quote_windows(r"C:\dir with space\"),
            r#""C:\dir with space\\""#
        );
        assert_eq!(quote_windows(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(quote_windows(""), r#""""#);
    }

    #[test]
    fn fresh_install_command_lines() {
        let app = FastCgiApp::new(r"C:\inetpub\wwwroot\Shop\bin\iiswsgi-gateway.exe");
        let cmds: Vec<String> = register_fastcgi(Path::new(APPCMD), &app)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            cmds,
            [
                r"C:\Windows\system32\inetsrv\appcmd.exe set config -section:system.webServer/fastCgi /-[fullPath='C:\inetpub\wwwroot\Shop\bin\iiswsgi-gateway.exe',arguments=''] /commit:apphost",
                r"C:\Windows\system32\inetsrv\appcmd.exe set config -section:system.webServer/fastCgi /+[fullPath='C:\inetpub\wwwroot\Shop\bin\iiswsgi-gateway.exe',arguments='',maxInstances='0',activityTimeout='600',requestTimeout='600',instanceMaxRequests='10000',signalBeforeTerminateSeconds='30'] /commit:apphost",
            ]
        );
        assert!(
            register_fastcgi(Path::new(APPCMD), &app)[0].may_fail,
            "removing a missing entry is fine"
        );
        assert_eq!(
            unlock_handlers(Path::new(APPCMD), "Default Web Site/Shop").to_string(),
            r#"C:\Windows\system32\inetsrv\appcmd.exe unlock config "Default Web Site/Shop" -section:system.webServer/handlers /commit:apphost"#
        );
        assert_eq!(
            app_pool_of(Path::new(APPCMD), "Default Web Site/Shop").to_string(),
            r#"C:\Windows\system32\inetsrv\appcmd.exe list app "Default Web Site/Shop" /text:applicationPool"#
        );
        assert_eq!(
            physical_path_of(Path::new(APPCMD), "Default Web Site/Shop").to_string(),
            r#"C:\Windows\system32\inetsrv\appcmd.exe list vdir "Default Web Site/Shop/" /text:physicalPath"#
        );
        assert_eq!(
            grant_read(Path::new(r"C:\inetpub\wwwroot\Shop"), "DefaultAppPool").to_string(),
            r"icacls C:\inetpub\wwwroot\Shop /grant IIS AppPool\DefaultAppPool:(OI)(CI)RX /T /Q"
                .replace(
                    r"IIS AppPool\DefaultAppPool:(OI)(CI)RX",
                    r#""IIS AppPool\DefaultAppPool:(OI)(CI)RX""#
                )
        );
    }

    #[test]
    fn an_upgrade_in_a_path_with_spaces_is_quoted_and_still_one_entry() {
        let app = FastCgiApp::new(r"D:\Web Sites\My Shop\bin\iiswsgi-gateway.exe");
        let cmds = register_fastcgi(Path::new(APPCMD), &app);
        assert_eq!(cmds.len(), 2, "remove, then add: never a second entry");
        assert_eq!(
            cmds[0].to_string(),
            r#"C:\Windows\system32\inetsrv\appcmd.exe set config -section:system.webServer/fastCgi "/-[fullPath='D:\Web Sites\My Shop\bin\iiswsgi-gateway.exe',arguments='']" /commit:apphost"#
        );
    }

    #[test]
    fn python_commands() {
        let py = PythonSpec::parse("py -3.12").unwrap();
        assert_eq!(
            py,
            PythonSpec::Launcher {
                version: "3.12".into()
            }
        );
        assert_eq!(
            create_venv(&py, Path::new(r"C:\app\.venv.new"), None).to_string(),
            r"py -3.12 -m venv C:\app\.venv.new"
        );
        assert_eq!(
            PythonSpec::parse("py:3.11").unwrap(),
            PythonSpec::Launcher {
                version: "3.11".into()
            }
        );
        assert!(
            PythonSpec::parse("py -3")
                .unwrap_err()
                .contains("needs a version")
        );
        let exe = PythonSpec::parse(r"C:\Python312\python.exe").unwrap();
        assert_eq!(
            create_venv(&exe, Path::new(r"C:\app\.venv.new"), None).to_string(),
            r"C:\Python312\python.exe -m venv C:\app\.venv.new"
        );
        let pip = pip_install_offline(
            Path::new("/srv/app/.venv.new"),
            Path::new("/srv/app/wheelhouse"),
            Path::new("/srv/app/wheelhouse/requirements.txt"),
            None,
        );
        assert_eq!(pip.args[..4], ["-m", "pip", "install", "--no-index"]);
        assert!(
            pip.to_string().ends_with(
                "--find-links /srv/app/wheelhouse -r /srv/app/wheelhouse/requirements.txt"
            ),
            "{pip}"
        );
    }
}
