//! What CPython is told before it starts, so that the app's interpreter is
//! its virtual environment's, exactly as `.venv\Scripts\python.exe` (or
//! `.venv/bin/python`) would be.
//!
//! CPython works out its installation (`getpath`) from the executable it
//! believes it is: a `pyvenv.cfg` beside or above that executable makes it
//! a venv, whose `home` names the base Python whose standard library it
//! uses; `site` then puts the venv's site-packages on `sys.path` (its
//! `.pth` files processed), and the base Python's only when
//! `include-system-site-packages = true`. Embedded, the executable is the
//! gateway, which is no Python at all, so without this the interpreter
//! took the base Python's site-packages (and, on Linux, the standard
//! library of whichever `python3` was first on PATH).
//!
//! - With a venv, the executable CPython is told is the venv's python: on
//!   Windows through `__PYVENV_LAUNCHER__` (the variable the venv launcher
//!   itself sets, read by every CPython 3.9+), elsewhere through
//!   `Py_SetProgramName`. Both are in the stable ABI's reach.
//! - Without one, the base installation: on Windows the bound DLL's folder
//!   when it has `Lib\os.py` (the embeddable distribution's `._pth` file
//!   rules itself); elsewhere the interpreter this gateway was built with.

use std::path::{Path, PathBuf};

use crate::settings::Settings;

/// The venv's own interpreter.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// (major, minor) from pyvenv.cfg's `version` (or `version_info`) line.
pub fn pyvenv_version(cfg: &str) -> Option<(u32, u32)> {
    cfg.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        if !matches!(k.trim(), "version" | "version_info") {
            return None;
        }
        let mut parts = v.trim().split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    })
}

/// (major, minor) of the CPython whose library is loaded (callable
/// before it starts: a static string).
pub fn runtime_version() -> Option<(u32, u32)> {
    // SAFETY: Py_GetVersion returns a static NUL-terminated string and
    // needs no initialized interpreter.
    let text = unsafe { std::ffi::CStr::from_ptr(pyo3::ffi::Py_GetVersion()) };
    let text = text.to_string_lossy();
    let number = text.split_whitespace().next()?;
    let mut parts = number.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Tells CPython which interpreter it is. `home` is, on Windows, the
/// folder of the DLL that was bound.
pub fn configure(settings: &Settings, home: Option<&Path>) -> Result<(), String> {
    // The PYTHONPATH setting is the gateway's to apply (relative to the app
    // folder, after it: `Settings::python_path`). CPython would also read
    // it from the environment at start, relative to the process's working
    // folder, wherever the host started it: so it does not see it then.
    if let Some(value) = std::env::var_os("PYTHONPATH") {
        *HIDDEN_PYTHONPATH.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        // SAFETY: before Python starts, on the one thread that starts it.
        unsafe { std::env::remove_var("PYTHONPATH") };
    }
    let runtime = runtime_version();
    if let Some(venv) = &settings.venv {
        let cfg_path = venv.join("pyvenv.cfg");
        let cfg = std::fs::read_to_string(&cfg_path)
            .map_err(|e| format!("cannot read {}: {e}", cfg_path.display()))?;
        if let (Some(wanted), Some(have)) = (pyvenv_version(&cfg), runtime)
            && wanted != have
        {
            return Err(format!(
                "the virtual environment {} is for Python {}.{}, but the Python this gateway loaded is {}.{}: \
                 recreate the environment with Python {}.{}, or point the gateway at a Python {}.{} (IISWSGI_PYTHON_HOME)",
                venv.display(),
                wanted.0,
                wanted.1,
                have.0,
                have.1,
                have.0,
                have.1,
                wanted.0,
                wanted.1
            ));
        }
        let python = venv_python(venv);
        if cfg!(windows) {
            // SAFETY: set before Python starts, on the one thread that
            // starts it; removed again once it has started (`started`).
            unsafe { std::env::set_var("__PYVENV_LAUNCHER__", &python) };
        } else {
            set_program_name(&python);
        }
        return Ok(());
    }
    if cfg!(windows) {
        if let Some(home) = home
            && home.join("Lib").join("os.py").is_file()
        {
            set_python_home(home);
        }
    } else if let Some(built_with) = built_with_interpreter() {
        set_program_name(&built_with);
    }
    Ok(())
}

/// After CPython started: PYTHONPATH back in the environment, and the
/// launcher variable not passed on to the app's child processes (a Python
/// started by the app would take itself for the venv's).
/// Returns that PYTHONPATH, for `os.environ` (read while it was hidden).
pub fn started() -> Option<std::ffi::OsString> {
    let hidden = HIDDEN_PYTHONPATH
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(value) = &hidden {
        // SAFETY: Python has started; the app's child processes get it back.
        unsafe { std::env::set_var("PYTHONPATH", value) };
    }
    if cfg!(windows) {
        // SAFETY: Python has read it; no other thread reads the environment now.
        unsafe { std::env::remove_var("__PYVENV_LAUNCHER__") };
    }
    hidden
}

/// PYTHONPATH from the environment, while CPython starts.
static HIDDEN_PYTHONPATH: std::sync::Mutex<Option<std::ffi::OsString>> =
    std::sync::Mutex::new(None);

/// The interpreter whose libpython this build links (`--built-for`), if
/// it is an absolute path that is there.
fn built_with_interpreter() -> Option<PathBuf> {
    let built_for = env!("IISWSGI_GATEWAY_BUILT_FOR");
    let exe = PathBuf::from(built_for.split_whitespace().nth(1)?);
    (exe.is_absolute() && exe.exists()).then_some(exe)
}

/// C's wchar_t, which the legacy setters take.
#[cfg(windows)]
type WideChar = u16;
#[cfg(not(windows))]
type WideChar = libc::wchar_t;

/// A wide string CPython may keep for the life of the process (the legacy
/// setters keep the pointer, not a copy): leaked on purpose, once or twice
/// per process.
fn leaked_wide(path: &Path) -> *const WideChar {
    #[cfg(windows)]
    let units: Vec<WideChar> = {
        use std::os::windows::ffi::OsStrExt;
        path.as_os_str().encode_wide().chain(Some(0)).collect()
    };
    #[cfg(not(windows))]
    let units: Vec<WideChar> = path
        .to_string_lossy()
        .chars()
        .map(|c| c as WideChar)
        .chain(Some(0))
        .collect();
    Box::leak(units.into_boxed_slice()).as_ptr()
}

fn set_program_name(python: &Path) {
    // SAFETY: before Py_Initialize, with a string that lives for ever.
    unsafe { pyo3::ffi::Py_SetProgramName(leaked_wide(python)) };
}

fn set_python_home(home: &Path) {
    // SAFETY: before Py_Initialize, with a string that lives for ever.
    unsafe { pyo3::ffi::Py_SetPythonHome(leaked_wide(home)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyvenv_versions() {
        assert_eq!(
            pyvenv_version("home = /usr/bin\nversion = 3.11.2\n"),
            Some((3, 11))
        );
        assert_eq!(
            pyvenv_version("version_info = 3.13.0.final.0"),
            Some((3, 13))
        );
        assert_eq!(pyvenv_version("home = C:\\Python311"), None);
    }

    #[test]
    fn the_runtime_version_is_read_before_python_starts() {
        let (major, minor) = runtime_version().unwrap();
        assert_eq!(major, 3);
        assert!(minor >= 9);
    }
}
