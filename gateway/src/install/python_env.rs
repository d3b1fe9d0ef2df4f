//! The app's virtual environment, from the bundled wheelhouse, offline.
//!
//! `wheelhouse/requirements.txt` (pinned by `iiswsgi build`) and the wheels
//! beside it are installed with `pip --no-index` into `.venv.new`; only a
//! complete environment replaces `.venv`. A marker in the environment
//! records what it was made from, so a second install with the same
//! wheelhouse and Python changes nothing.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::command::{self, PythonSpec};
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

/// Makes or keeps `.venv`; a one-line report.
pub fn ensure(
    app: &Path,
    python: &PythonSpec,
    journal: &mut Journal,
    dry_run: bool,
) -> Result<String, Failure> {
    let step = "Python environment";
    let wheelhouse = app.join("wheelhouse");
    let requirements = wheelhouse.join("requirements.txt");
    if !requirements.is_file() {
        return Ok("no wheelhouse/requirements.txt: no environment to make".to_owned());
    }
    let venv = app.join(".venv");
    let staged = app.join(".venv.new");
    let wanted = fingerprint(&wheelhouse, python).map_err(|e| {
        fail(
            step,
            format!("reading {}: {e}", wheelhouse.display()),
            "install the whole package",
        )
    })?;
    if std::fs::read_to_string(venv.join(MARKER)).is_ok_and(|m| m.trim() == wanted) {
        return Ok(format!(
            "virtual environment {} is up to date (unchanged)",
            venv.display()
        ));
    }
    if !dry_run && staged.exists() {
        std::fs::remove_dir_all(&staged).map_err(|e| {
            fail(
                step,
                format!("removing {}: {e}", staged.display()),
                "delete it by hand",
            )
        })?;
    }
    run(&command::create_venv(python, &staged), journal, dry_run).map_err(|e| {
        fail(step, e, "install that Python on the server, or set the Python parameter (IISWSGI_PYTHON) to `py -3.12` or the path of python.exe")
    })?;
    let pip = command::pip_install_offline(&staged, &wheelhouse, &requirements);
    if let Err(e) = run(&pip, journal, dry_run) {
        let culprit = journal
            .lines
            .iter()
            .rev()
            .find(|l| l.contains(".whl") || l.contains("ERROR:"))
            .cloned()
            .unwrap_or_default();
        let _ = std::fs::remove_dir_all(&staged);
        return Err(fail(
            step,
            format!("{e}; {}", culprit.trim()),
            format!(
                "rebuild the package (iiswsgi build) so its wheelhouse is whole; {} is unchanged",
                if venv.exists() {
                    "the previous environment"
                } else {
                    "nothing"
                }
            ),
        ));
    }
    if dry_run {
        return Ok(format!(
            "would make {} from {}",
            venv.display(),
            wheelhouse.display()
        ));
    }
    std::fs::write(staged.join(MARKER), format!("{wanted}\n"))
        .map_err(|e| fail(step, e.to_string(), "check that the app folder is writable"))?;
    let old = app.join(".venv.old");
    let _ = std::fs::remove_dir_all(&old);
    let replaced = venv.exists();
    if replaced {
        std::fs::rename(&venv, &old).map_err(|e| {
            fail(
                step,
                format!("moving the old environment aside: {e}"),
                "recycle the app pool (its processes hold the old environment) and install again",
            )
        })?;
    }
    std::fs::rename(&staged, &venv).map_err(|e| {
        fail(
            step,
            format!("putting the new environment in place: {e}"),
            "check the app folder's permissions",
        )
    })?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(format!(
        "virtual environment {} {} from the wheelhouse",
        venv.display(),
        if replaced { "replaced" } else { "created" }
    ))
}
