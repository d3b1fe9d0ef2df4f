//! The embedded CPython: starting it for the app, loading the WSGI
//! handler, and running one request through `shim.py`.

pub mod dll_folder;
pub mod hosted;
mod response_head;
pub mod startup;
pub mod streams;
#[cfg(windows)]
pub mod windows_loader;

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyModule, PyTuple};

use crate::fastcgi::name_value::Pairs;
use crate::log::Log;
use crate::settings::Settings;
use crate::wsgi::environ;
pub use hosted::{built_for, hosted, set_hosted};
use streams::{ErrorStream, Input, Output, SharedConn};

const SHIM: &str = include_str!("shim.py");

/// Python, once started for the app.
pub struct Interpreter {
    shim: Py<PyModule>,
    errors: Py<ErrorStream>,
    file_wrapper: Py<PyAny>,
    version: String,
    /// The environ's keys seen so far (a server sends the same names with
    /// every request): the same str objects again, whose hash CPython has
    /// already computed, so filling the dict neither makes nor hashes
    /// them. Bounded, so that odd header names cannot grow it.
    /// Taken only with try_lock, under the GIL: a thread that finds it
    /// taken makes its own keys this time.
    keys: Mutex<Vec<(Vec<u8>, Py<PyAny>)>>,
    /// `wsgi.multithread`: other threads of this process serve requests.
    multithread: bool,
}

/// Most environ keys kept by [`Interpreter::keys`].
const MAX_CACHED_KEYS: usize = 128;

/// A Python exception as the log shows it.
#[derive(Debug)]
pub struct PythonError {
    pub traceback: String,
}

fn describe(py: Python<'_>, shim: Option<&Bound<'_, PyModule>>, err: PyErr) -> PythonError {
    let formatted = shim
        .and_then(|s| s.call_method1("format_error", (err.value(py),)).ok())
        .and_then(|t| t.extract::<String>().ok());
    PythonError {
        traceback: formatted.unwrap_or_else(|| err.to_string()),
    }
}

/// Checks that Python can start for these settings before starting it:
/// CPython aborts the whole process on a bad home, so that must be
/// refused here with a message instead.
pub fn preflight(settings: &Settings) -> Result<(), String> {
    if let Some(venv) = &settings.venv {
        let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg"))
            .map_err(|e| format!("cannot read {}: {e}", venv.join("pyvenv.cfg").display()))?;
        if let Some(home) = pyvenv_home(&cfg)
            && !std::path::Path::new(&home).is_dir()
        {
            return Err(format!(
                "the virtual environment {} was made by a Python at {home}, which is not there any more; \
                 recreate the environment",
                venv.display()
            ));
        }
    }
    Ok(())
}

/// The `home = …` line of a pyvenv.cfg: the base Python's folder.
pub fn pyvenv_home(cfg: &str) -> Option<String> {
    cfg.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "home").then(|| v.trim().to_owned())
    })
}

/// Finds, configures and starts the CPython this process embeds.
fn embed(settings: &Settings) -> Result<(), PythonError> {
    #[cfg(windows)]
    let home = {
        let dirs =
            windows_loader::candidates(settings.python_home.as_deref(), settings.venv.as_deref());
        let bound = windows_loader::bind(&dirs).map_err(|traceback| PythonError { traceback })?;
        Some(bound.folder)
    };
    #[cfg(not(windows))]
    let home: Option<std::path::PathBuf> = None;
    startup::configure(settings, home.as_deref()).map_err(|traceback| PythonError { traceback })?;
    Python::initialize();
    Ok(())
}

impl Interpreter {
    /// Starts Python (once per process) and prepares it for the app.
    pub fn start(
        settings: &Settings,
        log: Arc<Log>,
        multithread: bool,
    ) -> Result<Self, PythonError> {
        let hosted = hosted();
        let python_path_env = if hosted {
            None
        } else {
            embed(settings)?;
            startup::started()
        };
        STARTED.store(true, Ordering::SeqCst);
        Python::attach(|py| {
            let code = CString::new(SHIM).expect("shim.py has no NUL");
            let shim =
                PyModule::from_code(py, &code, c"iiswsgi_gateway/shim.py", c"iiswsgi_gateway")
                    .map_err(|e| describe(py, None, e))?;
            shim.setattr("HOSTED", hosted)
                .map_err(|e| describe(py, Some(&shim), e))?;
            if hosted {
                shim.call_method0("forget_script_path")
                    .map_err(|e| describe(py, Some(&shim), e))?;
            }
            let errors =
                Py::new(py, ErrorStream { log }).map_err(|e| describe(py, Some(&shim), e))?;
            let sys = py.import("sys").map_err(|e| describe(py, Some(&shim), e))?;
            if let Some(value) = python_path_env {
                py.import("os")
                    .and_then(|os| os.getattr("environ"))
                    .and_then(|env| env.set_item("PYTHONPATH", value.to_string_lossy()))
                    .map_err(|e| describe(py, Some(&shim), e))?;
            }
            for name in ["stdout", "stderr"] {
                sys.setattr(name, errors.bind(py))
                    .map_err(|e| describe(py, Some(&shim), e))?;
            }
            let file_wrapper = shim
                .getattr("FileWrapper")
                .map_err(|e| describe(py, Some(&shim), e))?
                .unbind();
            let version = sys
                .getattr("version")
                .and_then(|v| v.extract::<String>())
                .unwrap_or_default();
            Ok(Interpreter {
                shim: shim.unbind(),
                errors,
                file_wrapper,
                version,
                keys: Mutex::new(Vec::new()),
                multithread,
            })
        })
    }

    /// Working folder, `os.environ` (every app setting), the virtual
    /// environment and `sys.path`, from the settings (again after a reload).
    pub fn prepare(&self, settings: &Settings) -> Result<(), PythonError> {
        Python::attach(|py| {
            let shim = self.shim.bind(py);
            let result = (|| -> PyResult<()> {
                let app_dir = settings.app_dir.to_string_lossy().into_owned();
                let python_path: Vec<String> = settings
                    .python_path
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                let app_settings = PyDict::new(py);
                for (k, v) in &settings.app_settings {
                    app_settings.set_item(k, v)?;
                }
                let venv = settings
                    .venv
                    .as_ref()
                    .map(|v| v.to_string_lossy().into_owned());
                shim.call_method1("prepare", (app_dir, python_path, app_settings, venv))?;
                Ok(())
            })();
            result.map_err(|e| describe(py, Some(shim), e))
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Imports the app named by WSGI_HANDLER.
    pub fn load(&self, handler: &str) -> Result<Py<PyAny>, PythonError> {
        Python::attach(|py| {
            let shim = self.shim.bind(py);
            shim.call_method1("load", (handler,))
                .map(Bound::unbind)
                .map_err(|e| describe(py, Some(shim), e))
        })
    }

    /// Forgets the app's modules (before loading changed code).
    pub fn unload(&self) -> Result<(), PythonError> {
        Python::attach(|py| {
            let shim = self.shim.bind(py);
            shim.call_method0("unload")
                .map(|_| ())
                .map_err(|e| describe(py, Some(shim), e))
        })
    }

    /// Runs one request. On failure, says how far the response had got
    /// (once it has started, the error page cannot be sent).
    pub fn run(
        &self,
        app: &Py<PyAny>,
        params: &Pairs,
        shared: &SharedConn,
        seq: u64,
    ) -> Result<(), (PythonError, streams::Progress)> {
        let vars = environ::cgi_variables(params);
        Python::attach(|py| {
            let shim = self.shim.bind(py);
            let out = Py::new(py, Output::new(shared.clone(), seq))
                .map_err(|e| (describe(py, Some(shim), e), streams::Progress::NotStarted))?;
            let result = (|| -> PyResult<()> {
                let env = PyDict::new(py);
                let mut keys = self.keys.try_lock().ok();
                for (k, v) in &vars {
                    let value = latin1_str(py, v)?;
                    let cached = keys
                        .as_deref()
                        .and_then(|keys| keys.iter().find(|(name, _)| name.as_slice() == *k));
                    match cached {
                        Some((_, key)) => env.set_item(key.bind(py), value)?,
                        None => {
                            let key = latin1_str(py, k)?;
                            if let Some(keys) = keys.as_deref_mut()
                                && keys.len() < MAX_CACHED_KEYS
                            {
                                keys.push((k.to_vec(), key.clone().unbind()));
                            }
                            env.set_item(key, value)?;
                        }
                    }
                }
                drop(keys);
                env.set_item(intern!(py, "wsgi.version"), PyTuple::new(py, [1, 0])?)?;
                let scheme = match environ::url_scheme(&vars) {
                    "https" => intern!(py, "https"),
                    _ => intern!(py, "http"),
                };
                env.set_item(intern!(py, "wsgi.url_scheme"), scheme)?;
                env.set_item(
                    intern!(py, "wsgi.input"),
                    Py::new(py, Input::new(shared.clone(), seq))?,
                )?;
                env.set_item(intern!(py, "wsgi.errors"), self.errors.bind(py))?;
                env.set_item(intern!(py, "wsgi.multithread"), self.multithread)?;
                env.set_item(intern!(py, "wsgi.multiprocess"), true)?;
                env.set_item(intern!(py, "wsgi.run_once"), false)?;
                // The body always ends where FCGI_STDIN ends. Said to apps only
                // when there is no Content-Length (a chunked upload), so they can
                // read it to the end; with one, PEP 3333 has them read by it, and
                // wsgiref's validator holds them to that. Werkzeug looks at the
                // key's presence, not its value: absent, not false.
                if !vars.iter().any(|(k, _)| *k == b"CONTENT_LENGTH") {
                    env.set_item(intern!(py, "wsgi.input_terminated"), true)?;
                }
                env.set_item(intern!(py, "wsgi.file_wrapper"), self.file_wrapper.bind(py))?;
                // Interned names (made and hashed once): this runs per request.
                shim.call_method1(intern!(py, "run"), (app.bind(py), env, out.bind(py)))?;
                Ok(())
            })();
            result.map_err(|e| {
                let progress = out.borrow(py).progress();
                (describe(py, Some(shim), e), progress)
            })
        })
    }

    /// `sys.path`, for the log.
    pub fn sys_path(&self) -> Vec<String> {
        Python::attach(|py| {
            py.import("sys")
                .and_then(|s| s.getattr("path"))
                .and_then(|p| p.cast_into::<PyList>().map_err(PyErr::from))
                .map(|l| {
                    l.iter()
                        .filter_map(|i| i.extract::<String>().ok())
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

/// A Python str from bytes, each byte the code point of the same number
/// (PEP 3333's "native strings"), made by CPython in one pass.
fn latin1_str<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: the pointer and length describe `bytes`, alive for the call;
    // PyUnicode_DecodeLatin1 copies them and returns a new reference or
    // NULL with an exception set, which from_owned_ptr_or_err turns into
    // an Err.
    unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyUnicode_DecodeLatin1(
                bytes.as_ptr().cast(),
                bytes.len() as pyo3::ffi::Py_ssize_t,
                std::ptr::null(),
            ),
        )
    }
}

/// Whether this process started Python. Kept here rather than asked of
/// Python: on Windows, calling into python3.dll before it was found and
/// bound would raise the delay-load exception.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Runs the app's `atexit` functions, if Python was started (on shutdown).
pub fn run_exit_functions() {
    if !STARTED.load(Ordering::SeqCst) {
        return;
    }
    Python::attach(|py| {
        if let Ok(atexit) = py.import("atexit") {
            let _ = atexit.call_method0("_run_exitfuncs");
        }
    });
}
