//! `iiswsgi-gateway install`: what Web Deploy's runCommand runs after it
//! copied the app, so that the package ends as a working site (iiswsgi
//! 0.3's iiswsgi_install.exe; wfastcgi-enable and appcmd by hand for
//! wfastcgi users). Each step is logged to standard output (Web Deploy
//! shows it) and to install.log in the state folder; any failure exits
//! non-zero naming the step and the fix. Every step is safe to run again,
//! and a redeploy over a running site works: what the site runs from is
//! in the state folder (state.rs), which Web Deploy's sync never touches.
//!
//! 1. web.config: `%APPL_PHYSICAL_PATH%` left by the templates becomes the
//!    app's real folder (IIS does not expand it there).
//! 2. Python: a virtual environment made with the server's Python
//!    (IISWSGI_PYTHON), the bundled wheels installed offline (`--no-index`),
//!    in the state folder beside the one serving (or reused when made
//!    before from the same wheelhouse).
//! 3. The gateway: the package's exe copied into the state folder, so the
//!    running one is never the file the next sync replaces.
//! 4. Data folders (iiswsgi-install.xml, install_file.rs): each folder the
//!    app writes is made if missing; one a redeploy kept is left as it is.
//! 5. Set-up commands (setup_commands.rs): the app's own (`manage.py
//!    migrate`), in the new venv with the app settings; a failure stops
//!    here, with nothing switched.
//! 6. The self-test (self_test.rs): the new gateway serves the installed
//!    app from the new venv on loopback and is asked the test requests; a
//!    failure stops here, with nothing switched.
//! 7. IIS (Windows): the FastCGI application registered in
//!    applicationHost.config (web.config cannot), the handlers section
//!    unlocked for the app, read access for the app pool's identity on the
//!    app and the state folder, Modify on the data folders.
//! 8. The switch (web_config_switch.rs): web.config points at the new
//!    gateway and venv (one write; IIS starts new processes for it), the
//!    previous gateway's registration is removed, versions no process uses
//!    are removed, and iis_install.stamp says what was done.

pub mod command;
pub mod install_file;
mod python_env;
pub mod self_test;
mod setup_commands;
pub mod state;
mod web_config_switch;

use std::io::Write;
use std::path::{Path, PathBuf};

use command::{Cmd, FastCgiApp, PythonSpec};
use sha2::{Digest, Sha256};
use state::State;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The app folder (default: the folder above this exe's `bin\`).
    pub app_dir: Option<PathBuf>,
    /// The IIS application, `Site/App` (Web Deploy's chosen path).
    pub iis_app: Option<String>,
    /// Print the commands, run nothing, change nothing.
    pub dry_run: bool,
    /// Register with IIS (default on Windows). Off: print those commands.
    pub iis: bool,
    /// Overrides IISWSGI_PYTHON from web.config.
    pub python: Option<String>,
    /// The state folder (default: `state::State::locate`).
    pub state_dir: Option<PathBuf>,
}

/// A failed step: which one, what happened, how to fix it.
#[derive(Debug)]
pub struct Failure {
    pub step: &'static str,
    pub message: String,
    pub fix: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "install step \"{}\" failed: {}\n  fix: {}",
            self.step, self.message, self.fix
        )
    }
}

fn fail(step: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Failure {
    Failure {
        step,
        message: message.into(),
        fix: fix.into(),
    }
}

/// Where every line goes: standard output and the app's iis_install.log.
pub struct Journal {
    log: Option<std::fs::File>,
    pub lines: Vec<String>,
}

impl Journal {
    fn new(log_file: &Path, dry_run: bool) -> Self {
        let log = (!dry_run)
            .then(|| {
                if let Some(dir) = log_file.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log_file)
                    .ok()
            })
            .flatten();
        Journal {
            log,
            lines: Vec::new(),
        }
    }

    pub fn say(&mut self, line: impl Into<String>) {
        let line = line.into();
        println!("{line}");
        if let Some(f) = self.log.as_mut() {
            let _ = writeln!(
                f,
                "{} {line}",
                crate::log::utc_timestamp(std::time::SystemTime::now())
            );
        }
        self.lines.push(line);
    }
}

/// Runs a command, logging it and what it printed; `Ok(stdout)`.
fn run(cmd: &Cmd, journal: &mut Journal, dry_run: bool) -> Result<String, String> {
    journal.say(format!("  $ {cmd}"));
    if dry_run {
        return Ok(String::new());
    }
    let out = std::process::Command::new(&cmd.program)
        .args(&cmd.args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cmd.program.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        journal.say(format!("    {l}"));
    }
    if !out.status.success() && !cmd.may_fail {
        return Err(format!("`{cmd}` exited with {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The app folder: given, or the one above this exe's `bin\` folder.
pub fn app_dir(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(d) = given {
        // Absolute: the venv, the log and IIS's physical path are made from it.
        return std::path::absolute(d).map_err(|e| {
            fail(
                "locate the app",
                e.to_string(),
                "pass --app-dir as an absolute path",
            )
        });
    }
    let exe = crate::python::hosted::program_path().ok_or_else(|| {
        fail(
            "locate the app",
            "the gateway's own path is unknown",
            "pass --app-dir",
        )
    })?;
    exe.parent()
        .and_then(Path::parent)
        .filter(|d| crate::web_config::find(d).is_some())
        .map(Path::to_owned)
        .ok_or_else(|| {
            fail(
                "locate the app",
                format!("no web.config above {}", exe.display()),
                "run the bin\\iiswsgi-gateway.exe inside the installed app, or pass --app-dir",
            )
        })
}

/// Runs every step; the journal of what was done.
pub fn install(options: &Options) -> Result<Journal, Failure> {
    let app = app_dir(options.app_dir.as_deref())?;
    let iis_app = options.iis_app.clone().unwrap_or_else(|| {
        format!(
            "Default Web Site/{}",
            app.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        )
    });
    let state = State::locate(options.state_dir.as_deref(), &iis_app);
    let mut journal = Journal::new(&state.log(), options.dry_run);
    journal.say(format!(
        "iiswsgi-gateway {} install{} into {} (state: {})",
        env!("CARGO_PKG_VERSION"),
        if options.dry_run {
            " (dry run: nothing is run or changed)"
        } else {
            ""
        },
        app.display(),
        state.root.display()
    ));

    journal.say("step 1/8: web.config paths");
    let web_config = crate::web_config::find(&app).ok_or_else(|| {
        fail(
            "web.config paths",
            format!("no web.config in {}", app.display()),
            "install the whole package",
        )
    })?;
    let replaced = substitute_paths(&web_config, &app, options.dry_run).map_err(|e| {
        fail(
            "web.config paths",
            e,
            "check that the app folder is writable",
        )
    })?;
    journal.say(format!(
        "  %APPL_PHYSICAL_PATH% replaced {replaced} time(s) in {}",
        web_config.display()
    ));
    let settings = crate::web_config::app_settings(&web_config)
        .map_err(|e| fail("web.config paths", e.to_string(), "fix web.config"))?;
    let setting = |k: &str| {
        settings
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };

    journal.say("step 2/8: Python environment");
    let python_text = options
        .python
        .clone()
        .or_else(|| setting("IISWSGI_PYTHON"))
        .unwrap_or_else(|| {
            if cfg!(windows) {
                "py -3".into()
            } else {
                "python3".into()
            }
        });
    let python = PythonSpec::parse(&python_text).map_err(|e| {
        fail(
            "Python environment",
            e,
            "set the Python parameter (IISWSGI_PYTHON) to `py -3.12` or the path of python.exe",
        )
    })?;
    let environment = python_env::ensure(&app, &state, &python, &mut journal, options.dry_run)?;
    if let Some(env) = &environment {
        journal.say(format!("  {}", env.report));
    }

    journal.say("step 3/8: the gateway");
    let http_platform = setting("IISWSGI_HOSTING").as_deref() == Some("http-platform");
    let web_config_text = std::fs::read_to_string(&web_config)
        .map_err(|e| fail("the gateway", e.to_string(), "install the whole package"))?;
    let packaged = web_config_switch::packaged_gateway(&web_config_text, &app);
    let gateway = match (&packaged, http_platform) {
        (_, true) => {
            journal.say(
                "  hosting: HttpPlatformHandler (waitress); no gateway to place, no FastCGI application to register",
            );
            None
        }
        (None, false) => {
            journal.say("  web.config's handler names no gateway in the app folder; none to place");
            None
        }
        (Some(exe), false) => {
            let placed = place_gateway(exe, &state, options.dry_run)?;
            journal.say(format!("  {}", placed.1));
            Some(placed.0)
        }
    };

    journal.say("step 4/8: data folders");
    let install_file = install_file::find(&app, packaged.as_deref()).map_err(|e| {
        fail(
            "data folders",
            e,
            "install the whole package, built by the iiswsgi that bundled this gateway",
        )
    })?;
    if let Some(path) = &install_file.path {
        journal.say(format!("  read {}", path.display()));
    }
    let data_folders = make_data_folders(
        &app,
        &install_file.data_folders,
        &mut journal,
        options.dry_run,
    )?;

    journal.say("step 5/8: set-up commands");
    if install_file.run.is_empty() {
        journal.say("  none ([[install.run]] in iiswsgi.toml)");
    }
    setup_commands::run_all(
        &install_file.run,
        &setup_commands::Context {
            app: &app,
            venv: environment.as_ref().map(|e| e.venv.as_path()),
            app_settings: &settings,
            state_root: &state.root,
        },
        &mut journal,
        options.dry_run,
    )?;

    journal.say("step 6/8: self-test");
    let tests = self_test::requests(setting("IISWSGI_SELF_TEST").as_deref()).map_err(|e| {
        fail(
            "self-test",
            e,
            "correct IISWSGI_SELF_TEST ([install] test-requests)",
        )
    })?;
    // On Windows, the exe IIS will run; elsewhere (verify's Linux install)
    // the package's exe cannot run, and this gateway serves the same app:
    // this executable, or hosted, the module under the new venv's python.
    let venv = environment.as_ref().map(|e| e.venv.as_path());
    let tested_with: Option<Vec<std::ffi::OsString>> = if cfg!(windows) {
        gateway
            .clone()
            .or_else(|| packaged.clone())
            .map(|exe| vec![exe.into()])
    } else if crate::python::hosted() {
        crate::python::hosted::command(venv)
    } else {
        std::env::current_exe().ok().map(|exe| vec![exe.into()])
    };
    match (&tests, &tested_with, setting("WSGI_HANDLER")) {
        (None, _, _) => journal.say("  off (IISWSGI_SELF_TEST)"),
        (_, _, None) => journal.say("  skipped: web.config names no WSGI_HANDLER"),
        (_, None, _) => journal.say("  skipped: no gateway exe in the package to run it with"),
        (Some(requests), Some(exe), Some(_)) if options.dry_run => journal.say(format!(
            "  would ask the new version for {} with {}",
            requests
                .iter()
                .map(|r| r.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Path::new(&exe[0]).display()
        )),
        (Some(requests), Some(exe), Some(_)) => {
            let script_name = iis_app
                .split_once('/')
                .map(|(_, path)| format!("/{}", path.trim_matches('/')))
                .filter(|p| p != "/")
                .unwrap_or_default();
            let answers = self_test::run(
                exe,
                &app,
                environment.as_ref().map(|e| e.venv.as_path()),
                &script_name,
                requests,
                &state.root,
            )
            .map_err(|e| {
                fail(
                    "self-test",
                    e,
                    "fix the app (what it said is above), rebuild and deploy again; the site still runs the version it had",
                )
            })?;
            for line in answers {
                journal.say(format!("  {line}"));
            }
        }
    }

    journal.say("step 7/8: IIS registration");
    let live = options.iis && !options.dry_run;
    if !live {
        journal.say(format!(
            "  not registering with IIS ({}); the commands it runs:",
            if options.dry_run {
                "dry run"
            } else {
                "--no-iis"
            }
        ));
    }
    let appcmd = command::appcmd_path();
    let physical = run(
        &command::physical_path_of(&appcmd, &iis_app),
        &mut journal,
        !live,
    )
    .map_err(|e| {
        fail(
            "IIS registration",
            e,
            "is IIS installed, and does the app exist? (Web Deploy creates it)",
        )
    })?;
    if live && !physical.trim().is_empty() && !same_folder(physical.trim(), &app) {
        journal.say(format!(
            "  note: IIS says {iis_app} is at {}, the gateway is in {}",
            physical.trim(),
            app.display()
        ));
    }
    let pool = run(
        &command::app_pool_of(&appcmd, &iis_app),
        &mut journal,
        !live,
    )
    .map_err(|e| fail("IIS registration", e, "check the IIS application name"))?;
    let pool = Some(pool.trim().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "DefaultAppPool".to_owned());
    let admin = "run the install as an administrator (Web Deploy's runCommand does)";
    if http_platform && !options.dry_run {
        // HttpPlatformHandler needs no FastCGI entry; its log folder must exist.
        std::fs::create_dir_all(app.join("logs")).map_err(|e| {
            fail(
                "IIS registration",
                e.to_string(),
                "check the app folder's permissions",
            )
        })?;
    }
    if let Some(exe) = &gateway {
        for cmd in command::register_fastcgi(&appcmd, &FastCgiApp::new(&exe.to_string_lossy())) {
            run(&cmd, &mut journal, !live).map_err(|e| fail("IIS registration", e, admin))?;
        }
    }
    run(
        &command::unlock_handlers(&appcmd, &iis_app),
        &mut journal,
        !live,
    )
    .map_err(|e| fail("IIS registration", e, admin))?;
    for folder in [&app, &state.root] {
        run(&command::grant_read(folder, &pool), &mut journal, !live)
            .map_err(|e| fail("IIS registration", e, admin))?;
    }
    for folder in &data_folders {
        run(&command::grant_modify(folder, &pool), &mut journal, !live)
            .map_err(|e| fail("IIS registration", e, admin))?;
    }

    journal.say("step 8/8: switch to the new version");
    let previous = state.current();
    let current = state::Current {
        gateway: gateway.clone(),
        venv: environment.as_ref().map(|e| e.venv.clone()),
    };
    let pointed = web_config_switch::point(
        &web_config_text,
        &app,
        &state.root,
        current.gateway.as_deref(),
        current.venv.as_deref(),
        previous.venv.as_deref(),
    )
    .map_err(|e| fail("switch", e, "fix web.config"))?;
    if options.dry_run {
        journal.say(format!(
            "  would point {} at {}",
            web_config.display(),
            describe(&current)
        ));
    } else {
        write_atomically(&web_config, pointed.as_bytes()).map_err(|e| {
            fail(
                "switch",
                format!("{}: {e}", web_config.display()),
                "check that the app folder is writable",
            )
        })?;
        state.set_current(&current).map_err(|e| {
            fail(
                "switch",
                e.to_string(),
                "check the state folder's permissions",
            )
        })?;
        journal.say(format!(
            "  {} now points at {}",
            web_config.display(),
            describe(&current)
        ));
    }
    // The registrations web.config no longer names: the previous version's
    // gateway, and the one in the app folder an older install registered.
    let mut stale: Vec<PathBuf> = previous.gateway.into_iter().collect();
    if gateway.is_some() {
        stale.extend(packaged.clone());
    }
    for old in stale {
        if gateway
            .as_ref()
            .is_some_and(|g| same_folder(&g.to_string_lossy(), &old))
        {
            continue;
        }
        let cmd = command::unregister_fastcgi(&appcmd, &FastCgiApp::new(&old.to_string_lossy()));
        run(&cmd, &mut journal, !live).map_err(|e| fail("switch", e, admin))?;
    }
    if !options.dry_run {
        let keep: Vec<&Path> = current
            .venv
            .iter()
            .map(PathBuf::as_path)
            .chain(current.gateway.iter().filter_map(|g| g.parent()))
            .collect();
        for line in state.retire(&keep) {
            journal.say(format!("  {line}"));
        }
        let stamp = format!(
            "# iiswsgi-gateway {} installed this app at {}\n# app: {}\n# IIS application: {iis_app}{}\n# Python: {python_text}\n# {}\n# state: {}\n",
            env!("CARGO_PKG_VERSION"),
            crate::log::utc_timestamp(std::time::SystemTime::now()),
            app.display(),
            if live {
                ""
            } else {
                " (not registered: --no-iis)"
            },
            describe(&current),
            state.root.display(),
        );
        write_atomically(&app.join("iis_install.stamp"), stamp.as_bytes()).map_err(|e| {
            fail(
                "iis_install.stamp",
                e.to_string(),
                "check that the app folder is writable",
            )
        })?;
    }
    journal.say("installed");
    Ok(journal)
}

/// Makes each data folder that is missing; one that is there (a redeploy
/// kept it) is left as it is. Their full paths.
fn make_data_folders(
    app: &Path,
    folders: &[String],
    journal: &mut Journal,
    dry_run: bool,
) -> Result<Vec<PathBuf>, Failure> {
    if folders.is_empty() {
        journal.say("  none ([iis] data-folders in iiswsgi.toml)");
    }
    let mut made = Vec::new();
    for folder in folders {
        let path = folder.split('/').fold(app.to_owned(), |p, c| p.join(c));
        if path.is_dir() {
            let entries = std::fs::read_dir(&path).map_or(0, Iterator::count);
            let noun = if entries == 1 { "entry" } else { "entries" };
            journal.say(format!(
                "  {folder}: there ({entries} {noun}), left as it is"
            ));
        } else if dry_run {
            journal.say(format!("  {folder}: would make {}", path.display()));
        } else {
            std::fs::create_dir_all(&path).map_err(|e| {
                fail(
                    "data folders",
                    format!("{}: {e}", path.display()),
                    "check that the app folder is writable (a file of that name in the package?)",
                )
            })?;
            journal.say(format!("  {folder}: made {}", path.display()));
        }
        made.push(path);
    }
    Ok(made)
}

fn describe(current: &state::Current) -> String {
    let show = |p: &Option<PathBuf>| {
        p.as_ref()
            .map_or("none".to_owned(), |p| p.display().to_string())
    };
    format!(
        "gateway {}, venv {}",
        show(&current.gateway),
        show(&current.venv)
    )
}

/// Copies the package's gateway (and any DLL beside it) into the state
/// folder, named by its SHA-256; the exe's path there and a report.
fn place_gateway(
    packaged: &Path,
    state: &State,
    dry_run: bool,
) -> Result<(PathBuf, String), Failure> {
    let step = "the gateway";
    let bytes = std::fs::read(packaged).map_err(|e| {
        fail(
            step,
            format!("{}: {e}", packaged.display()),
            "install the whole package",
        )
    })?;
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = state.gateway_dir(&sha);
    let name = packaged
        .file_name()
        .map_or_else(|| "iiswsgi-gateway.exe".into(), |n| n.to_owned());
    let exe = dir.join(&name);
    if std::fs::read(&exe).is_ok_and(|b| b == bytes) {
        let report = format!("{} is in place (same SHA-256)", exe.display());
        return Ok((exe, report));
    }
    if dry_run {
        return Ok((
            exe.clone(),
            format!("would copy {} to {}", packaged.display(), exe.display()),
        ));
    }
    let io = |e: std::io::Error| {
        fail(
            step,
            format!("{}: {e}", dir.display()),
            "run the install as an administrator (Web Deploy's runCommand does)",
        )
    };
    // Made beside, then renamed: a half-copied version is never current.
    let staging = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io)?;
    let from = packaged.parent().unwrap_or(Path::new("."));
    for entry in std::fs::read_dir(from).map_err(io)?.filter_map(Result::ok) {
        let file = entry.file_name();
        let lower = file.to_string_lossy().to_ascii_lowercase();
        if file == name || lower.ends_with(".dll") {
            std::fs::copy(entry.path(), staging.join(&file)).map_err(io)?;
        }
    }
    std::fs::write(staging.join(state::IN_USE), "").map_err(io)?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&staging, &dir).map_err(io)?;
    Ok((exe.clone(), format!("copied to {}", exe.display())))
}

/// The same path to Windows (either separator, any case).
fn same_folder(a: &str, b: &Path) -> bool {
    let norm = |s: &str| {
        s.replace('/', "\\")
            .trim_end_matches('\\')
            .to_ascii_lowercase()
    };
    norm(a) == norm(&b.to_string_lossy())
}

/// Replaces `%APPL_PHYSICAL_PATH%` in web.config with the app's folder;
/// the number of replacements (0 on a second run).
pub fn substitute_paths(web_config: &Path, app: &Path, dry_run: bool) -> Result<usize, String> {
    let text = std::fs::read_to_string(web_config)
        .map_err(|e| format!("{}: {e}", web_config.display()))?;
    let count = text.matches("%APPL_PHYSICAL_PATH%").count();
    if count == 0 || dry_run {
        return Ok(count);
    }
    let folder = app
        .to_string_lossy()
        .trim_end_matches(['\\', '/'])
        .to_owned();
    let escaped = folder
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let new = text.replace("%APPL_PHYSICAL_PATH%", &escaped);
    crate::web_config::parse(&new).map_err(|(at, m)| {
        format!("web.config would not parse after the substitution (byte {at}): {m}")
    })?;
    write_atomically(web_config, new.as_bytes())
        .map_err(|e| format!("{}: {e}", web_config.display()))?;
    Ok(count)
}

/// Writes beside the target, then renames: never a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_app_dir_is_made_absolute() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            app_dir(Some(Path::new("site/app"))).unwrap(),
            cwd.join("site/app")
        );
        assert_eq!(app_dir(Some(&cwd)).unwrap(), cwd);
    }

    #[test]
    fn web_config_paths_are_substituted_once_and_still_parse() {
        let dir = tempfile::tempdir().unwrap();
        let wc = dir.path().join("web.config");
        std::fs::write(
            &wc,
            r#"<configuration><appSettings><add key="WSGI_LOG" value="%APPL_PHYSICAL_PATH%\logs\wsgi.log"/></appSettings>
<system.webServer><handlers><add name="x" path="*" verb="*" modules="FastCgiModule" scriptProcessor="%APPL_PHYSICAL_PATH%\bin\iiswsgi-gateway.exe" resourceType="Unspecified"/></handlers></system.webServer></configuration>"#,
        )
        .unwrap();
        let app = dir.path().join("A & B");
        assert_eq!(
            substitute_paths(&wc, &app, true).unwrap(),
            2,
            "dry run counts"
        );
        assert_eq!(substitute_paths(&wc, &app, false).unwrap(), 2);
        assert_eq!(
            substitute_paths(&wc, &app, false).unwrap(),
            0,
            "a second run changes nothing"
        );
        let settings = crate::web_config::app_settings(&wc).unwrap();
        assert_eq!(settings[0].1, format!(r"{}\logs\wsgi.log", app.display()));
        let text = std::fs::read_to_string(&wc).unwrap();
        assert!(text.contains(&format!(
            r#"scriptProcessor="{}\bin\iiswsgi-gateway.exe""#,
            app.display().to_string().replace('&', "&amp;")
        )));
    }
}
