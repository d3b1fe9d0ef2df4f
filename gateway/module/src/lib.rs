//! `iiswsgi_gateway._gateway`: the gateway program inside an already
//! running CPython (`python -m iiswsgi_gateway`, or the `iiswsgi-gateway`
//! console script of the venv it is installed in). Everything the
//! executable does, it does: the same arguments, FastCGI on fd 0 or
//! `--bind`, SIGTERM, restart watching, `install`.

use pyo3::prelude::*;

/// Runs the gateway with `args` (without the program's name) and returns
/// its exit status; `script` is the script Python was started with
/// (`sys.argv[0]`): in an app's `bin/`, it locates the app as the
/// executable's path does. The GIL is let go for the whole run: the gateway takes
/// it for each call into the app, as it does when it embeds Python.
#[pyfunction]
#[pyo3(signature = (args, script=None))]
fn run(py: Python<'_>, args: Vec<String>, script: Option<std::path::PathBuf>) -> i32 {
    iiswsgi_gateway::python::set_hosted(script);
    py.detach(|| iiswsgi_gateway::program::run(args.into_iter()))
}

#[pymodule]
fn _gateway(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
