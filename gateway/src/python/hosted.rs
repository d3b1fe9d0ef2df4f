//! The gateway hosted by a running CPython: the `iiswsgi_gateway`
//! extension module (`python -m iiswsgi_gateway`, Unix), instead of the
//! executable that embeds one. Hosted, the interpreter is the app's own
//! (its venv's python), so nothing configures or starts Python, and a
//! gateway the gateway starts (the install step's self-test) is the
//! module again, under the new venv's python.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::prelude::*;

/// Set by the extension module before it runs the gateway: Python is the
/// app's interpreter, started by `python -m iiswsgi_gateway`, and nothing
/// here may configure or start it.
static HOSTED: AtomicBool = AtomicBool::new(false);

/// The script that started the hosting Python (its `sys.argv[0]`).
static SCRIPT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The gateway runs inside a Python that was already started (the
/// extension module), not one it embeds; `script` is what that Python
/// was started to run (an `iiswsgi-gateway` console script, say).
pub fn set_hosted(script: Option<PathBuf>) {
    HOSTED.store(true, Ordering::SeqCst);
    if let Some(script) = script {
        let _ = SCRIPT.set(script);
    }
}

/// The path this gateway was started as, as a host sees it: the
/// executable, or hosted, the script the host ran (mod_fcgid runs
/// `<app>/bin/iiswsgi-gateway`, a venv's console script, as it would the
/// executable), not the python binary behind it.
pub fn program_path() -> Option<PathBuf> {
    if hosted() {
        let script = SCRIPT.get()?;
        return std::path::absolute(script).ok();
    }
    std::env::current_exe().ok()
}

pub fn hosted() -> bool {
    HOSTED.load(Ordering::SeqCst)
}

/// `--built-for`: the Python version and interpreter a venv for this
/// gateway must be made with. Embedded, the one it was built against;
/// hosted, the one running it.
pub fn built_for() -> String {
    if hosted() {
        return Python::attach(|py| {
            let sys = py.import("sys")?;
            let version = sys.getattr("version_info")?;
            let major: u32 = version.get_item(0)?.extract()?;
            let minor: u32 = version.get_item(1)?.extract()?;
            let exe: String = sys.getattr("executable")?.extract()?;
            PyResult::Ok(format!("{major}.{minor} {exe}"))
        })
        .unwrap_or_else(|e| format!("unknown ({e})"));
    }
    env!("IISWSGI_GATEWAY_BUILT_FOR").to_string()
}

/// The command that runs this gateway for the app in `venv` (program and
/// leading arguments), when hosted: the venv's `iiswsgi-gateway` console
/// script when the gateway is installed there (verify puts it in the
/// wheelhouse); else that python (or this one, without a venv) with this
/// module's folder in place of the `-c` entry of `sys.path`, which the
/// gateway takes out again before the app is loaded.
pub fn command(venv: Option<&Path>) -> Option<Vec<OsString>> {
    if !hosted() {
        return None;
    }
    if let Some(venv) = venv {
        let script = venv.join("bin").join("iiswsgi-gateway");
        if script.is_file() {
            return Some(vec![script.into()]);
        }
    }
    let (python, folder) = Python::attach(|py| -> PyResult<(PathBuf, PathBuf)> {
        let exe: PathBuf = py.import("sys")?.getattr("executable")?.extract()?;
        let init: PathBuf = py
            .import("iiswsgi_gateway")?
            .getattr("__file__")?
            .extract()?;
        // .../<folder>/iiswsgi_gateway/__init__.py
        let folder = init
            .parent()
            .and_then(Path::parent)
            .map(Path::to_owned)
            .unwrap_or_default();
        Ok((exe, folder))
    })
    .ok()?;
    let python = venv.map_or(python, super::startup::venv_python);
    Some(vec![
        python.into(),
        "-c".into(),
        "import sys; sys.path[0] = sys.argv.pop(1); from iiswsgi_gateway import main; main()"
            .into(),
        folder.into(),
    ])
}

/// The command that starts this same gateway again (a worker process of
/// `crate::supervisor`), before its arguments: the executable; hosted,
/// this python running the script it was started with, or the module.
pub fn same_program() -> Option<Vec<OsString>> {
    if !hosted() {
        return std::env::current_exe().ok().map(|exe| vec![exe.into()]);
    }
    if let Some(script) = SCRIPT.get() {
        let python: PathBuf = Python::attach(|py| {
            py.import("sys")?
                .getattr("executable")?
                .extract::<PathBuf>()
        })
        .ok()?;
        return Some(vec![
            python.into(),
            std::path::absolute(script).ok()?.into(),
        ]);
    }
    command(None)
}
