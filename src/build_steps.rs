//! `[[build.run]]`: the project's own build steps (Django's `collectstatic`,
//! an asset bundler), run by `iiswsgi build` before it selects the files,
//! so their output is packaged like any file.
//!
//! They run in a build venv: `[python] requirements` installed for this
//! machine (not the server's Windows) with uv, cached under the cache
//! folder by what it is made from (the requirement files, extras,
//! exclusions and the Python), so a second build starts at once. From the
//! project folder, through the shell (`sh -c`, `cmd /c` on Windows), with
//! the venv first on PATH, `VIRTUAL_ENV`, and `[iis] app-settings` in the
//! environment (`DJANGO_SETTINGS_MODULE`). Their output goes to standard
//! error, as the build's own progress does. A failure or a run past its
//! timeout stops the build before anything is written.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::manifest::duration::timeout_or_default;
use crate::manifest::{KeyPath, Project};
use crate::package::zip_writer::hex;
use crate::report::Reporter;

/// Runs every `[[build.run]]` command; nothing when there is none.
pub fn run(project: &Project, reporter: &Reporter) -> Result<(), Error> {
    let steps = &project.manifest.build.run;
    if steps.is_empty() {
        return Ok(());
    }
    let venv = build_venv(project, reporter)?;
    for (i, step) in steps.iter().enumerate() {
        let at = KeyPath::root()
            .key("build")
            .key("run")
            .index(i)
            .key("command");
        reporter.status("Running", &step.command);
        let timeout = timeout_or_default(step.timeout.as_deref());
        let mut cmd = shell(&step.command);
        cmd.current_dir(&project.root)
            .envs(&project.manifest.iis.app_settings)
            .env_remove("PYTHONHOME")
            .stdin(Stdio::null())
            // The build's stdout may be JSON for a machine: theirs goes
            // where the build's progress goes.
            .stdout(Stdio::from(std::io::stderr()))
            .stderr(Stdio::inherit());
        if let Some(venv) = &venv {
            let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
            let path = std::env::var_os("PATH").unwrap_or_default();
            let dirs = std::iter::once(bin).chain(std::env::split_paths(&path));
            if let Ok(joined) = std::env::join_paths(dirs) {
                cmd.env("PATH", joined);
            }
            cmd.env("VIRTUAL_ENV", venv);
        }
        let mut child = cmd.spawn().map_err(|e| {
            project
                .error_at(&at, format!("cannot start the build command: {e}"))
                .with_help("check the command line")
        })?;
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| project.error_at(&at, format!("the build command: {e}")))?
            {
                break status;
            }
            if started.elapsed() > Duration::from_secs(timeout) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(project
                    .error_at(
                        &at,
                        format!("the build command was still running after {timeout}s and was ended"),
                    )
                    .with_help("make it finish sooner, or give it a longer timeout ([[build.run]] timeout)")
                    .into());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if !status.success() {
            return Err(project
                .error_at(&at, format!("the build command failed ({status}); its output is above"))
                .with_help(match &venv {
                    Some(v) => format!("it ran from the project folder in the build venv {}, with [iis] app-settings in the environment", v.display()),
                    None => "it ran from the project folder with [iis] app-settings in the environment; [python] requirements would give it a venv".to_owned(),
                })
                .into());
        }
    }
    Ok(())
}

#[cfg(windows)]
fn shell(command: &str) -> Command {
    use std::os::windows::process::CommandExt;
    let mut c = Command::new("cmd.exe");
    c.raw_arg(format!("/d /s /c \"{command}\""));
    c
}

#[cfg(not(windows))]
fn shell(command: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(command);
    c
}

/// The build venv for the project's requirements (made, or found made);
/// None without `[python] requirements`.
fn build_venv(project: &Project, reporter: &Reporter) -> Result<Option<PathBuf>, Error> {
    let Some(py) = &project.manifest.python else {
        return Ok(None);
    };
    let Some(req_rel) = &py.requirements else {
        return Ok(None);
    };
    let at = KeyPath::root().key("build").key("run");
    let fail = |message: String| -> Error {
        project
            .error_at(&at, message)
            .with_help("the build venv is made with uv (IISWSGI_UV) and a Python of this machine (IISWSGI_PIP_PYTHON, else python3)")
            .into()
    };
    let uv = crate::wheelhouse::find_tool("IISWSGI_UV", &["uv"])
        .ok_or_else(|| fail("making the build venv needs uv, which is not on PATH".into()))?;
    let python = crate::wheelhouse::find_tool("IISWSGI_PIP_PYTHON", &["python3", "python"])
        .ok_or_else(|| fail("making the build venv needs a Python: no python3 on PATH".into()))?;
    let requirements = project.root.join(req_rel);
    let mut key = Sha256::new();
    key.update(format!(
        "iiswsgi build venv v1\n{}\n{:?}\n{:?}\n",
        python.display(),
        py.extras,
        py.exclude
    ));
    for (path, bytes) in crate::wheelhouse::requirement_files(&requirements) {
        key.update(format!("{} {}\n", path.display(), bytes.len()));
        key.update(&bytes);
    }
    let key = hex(&key.finalize());
    let venv = crate::gateway::download::cache_dir()
        .join("build-venvs")
        .join(&key[..32]);
    if venv.join(".complete").is_file() {
        return Ok(Some(venv));
    }
    reporter.status(
        "Preparing",
        &format!("the build venv from {}", req_rel.display()),
    );
    let _ = std::fs::remove_dir_all(&venv);
    let run = |cmd: &mut Command| -> Result<(), Error> {
        let out = cmd
            .output()
            .map_err(|e| fail(format!("cannot run {}: {e}", uv.display())))?;
        if out.status.success() {
            return Ok(());
        }
        Err(fail(format!(
            "making the build venv failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    };
    run(Command::new(&uv)
        .args(["venv", "--quiet", "--python"])
        .arg(&python)
        .arg(&venv))?;
    let venv_python = venv.join(if cfg!(windows) {
        "Scripts/python.exe"
    } else {
        "bin/python"
    });
    let mut install = Command::new(&uv);
    install
        .args(["pip", "install", "--quiet", "--python"])
        .arg(&venv_python)
        .current_dir(&project.root);
    for name in &py.extras {
        install.args(["--extra", name]);
    }
    // Excluded distributions are the server's business (a Linux server
    // left out for Windows): a build step needs none of them.
    let overrides: String = py
        .exclude
        .iter()
        .map(|n| format!("{n} ; python_version < '1'\n"))
        .collect();
    let override_file = venv.join("iiswsgi-exclude.txt");
    if !overrides.is_empty() {
        std::fs::write(&override_file, overrides).map_err(|e| fail(e.to_string()))?;
        install.arg("--override").arg(&override_file);
    }
    run(install.arg("-r").arg(&requirements))?;
    std::fs::write(venv.join(".complete"), b"").map_err(|e| fail(e.to_string()))?;
    Ok(Some(venv))
}
