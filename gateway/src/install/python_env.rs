//! The app's virtual environment, from the bundled wheelhouse, offline.
//!
//! `wheelhouse/requirements.txt` (pinned by `iiswsgi build`) and the wheels
//! beside it are installed with `pip --no-index` into a venv in the state
//! folder (state.rs), named by what it is made from and made at that
//! path. The venv serving now is not touched: web.config is switched to
//! the new one only when it is complete. A marker in the environment
//! records what it was made from, so an install with the same wheelhouse
//! and Python reuses it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::command::{self, PythonSpec};
use super::state::{IN_USE, State};
use super::{Failure, Journal, fail, run};

const MARKER: &str = "iiswsgi-wheelhouse.sha256";

/// What the environment is made from: the requirements, each wheel's name
/// and size, and the Python named.
fn fingerprint(wheelhouse: &Path, python: &PythonSpec) -> std::io::Result<String> {
    let mut h = Sha256::new();
    h.update(std::fs::read(wheelhouse.join("requirements.txt"))?);
    let mut wheels: Vec<(String, u64)> = std::fs::read_dir(wheelhouse)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".whl"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().map(|m| m.len()).unwrap_or(0),
            )
        })
        .collect();
    wheels.sort();
    for (name, size) in wheels {
        h.update(format!("\n{name} {size}").as_bytes());
    }
    h.update(format!("\n{python:?}").as_bytes());
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The environment the app is to run in, and what was done about it.
#[derive(Debug, Clone)]
pub struct Environment {
    pub venv: PathBuf,
    pub report: String,
}

/// Makes (or finds, made before from the same wheelhouse and Python) the
/// venv in the state folder, at its final path: launchers and pyvenv.cfg
/// name the folder they are in. None when the package has no wheelhouse.
pub fn ensure(
    app: &Path,
    state: &State,
    python: &PythonSpec,
    journal: &mut Journal,
    dry_run: bool,
) -> Result<Option<Environment>, Failure> {
    let step = "Python environment";
    let wheelhouse = app.join("wheelhouse");
    let requirements = wheelhouse.join("requirements.txt");
    if !requirements.is_file() {
        journal.say("  no wheelhouse/requirements.txt: no environment to make");
        return Ok(None);
    }
    let wanted = fingerprint(&wheelhouse, python).map_err(|e| {
        fail(
            step,
            format!("reading {}: {e}", wheelhouse.display()),
            "install the whole package",
        )
    })?;
    let venv = state.venv(&wanted);
    if std::fs::read_to_string(venv.join(MARKER)).is_ok_and(|m| m.trim() == wanted) {
        return Ok(Some(Environment {
            report: format!(
                "virtual environment {} is up to date (made before from the same wheelhouse and Python)",
                venv.display()
            ),
            venv,
        }));
    }
    // A folder without the marker is an attempt that did not finish.
    if !dry_run && venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| {
            fail(
                step,
                format!("removing the unfinished {}: {e}", venv.display()),
                "delete it by hand",
            )
        })?;
    }
    if !dry_run && let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            fail(
                step,
                format!("{}: {e}", parent.display()),
                "run the install as an administrator (Web Deploy's runCommand does)",
            )
        })?;
    }
    let serving = "the environment serving now (if any) is unchanged";
    // Set by `iiswsgi verify` only; a server makes venvs with its Python.
    let uv = std::env::var_os("IISWSGI_INSTALL_UV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    run(&command::create_venv(python, &venv, uv.as_deref()), journal, dry_run).map_err(|e| {
        let _ = std::fs::remove_dir_all(&venv);
        fail(step, format!("{e}; {serving}"), "install that Python on the server, or set the Python parameter (IISWSGI_PYTHON) to `py -3.12` or the path of python.exe")
    })?;
    let pip = command::pip_install_offline(&venv, &wheelhouse, &requirements, uv.as_deref());
    if let Err(e) = run(&pip, journal, dry_run) {
        let culprit = journal
            .lines
            .iter()
            .rev()
            .find(|l| l.contains(".whl") || l.contains("ERROR:"))
            .cloned()
            .unwrap_or_default();
        let _ = std::fs::remove_dir_all(&venv);
        return Err(fail(
            step,
            format!("{e}; {}", culprit.trim()),
            format!("rebuild the package (iiswsgi build) so its wheelhouse is whole; {serving}"),
        ));
    }
    if dry_run {
        return Ok(Some(Environment {
            report: format!(
                "would make {} from {}",
                venv.display(),
                wheelhouse.display()
            ),
            venv,
        }));
    }
    for (file, text) in [(MARKER, format!("{wanted}\n")), (IN_USE, String::new())] {
        std::fs::write(venv.join(file), text)
            .map_err(|e| fail(step, e.to_string(), "check the state folder's permissions"))?;
    }
    Ok(Some(Environment {
        report: format!(
            "virtual environment {} made from the wheelhouse",
            venv.display()
        ),
        venv,
    }))
}
