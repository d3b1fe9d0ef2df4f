//! The app's interpreter is its virtual environment's (issue #21): under
//! the gateway, `sys.path` is what the venv's own python shows, with the
//! app folder and the PYTHONPATH setting's folders first; `sys.prefix` is
//! the venv; `.pth` files are processed; the base Python's site-packages
//! come in only when pyvenv.cfg says so; and the standard library is the
//! base Python's whatever `python3` is first on PATH. Compared against
//! the real interpreters, run in the same environment.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Gateway, app_copy, json, sys_path_of};

/// The interpreter this gateway build embeds (`--built-for`).
fn built_with() -> PathBuf {
    let out = Command::new(common::gateway_exe())
        .arg("--built-for")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    PathBuf::from(
        text.split_whitespace()
            .nth(1)
            .expect("--built-for: VERSION PYTHON"),
    )
}

/// A folder that looks like another Python installation to CPython's path
/// search (`bin/python3`, `lib/python3.X/os.py`), to put first on PATH:
/// an interpreter that found its standard library through PATH would take
/// this one, and fail at once (its os.py raises).
fn decoy_python_on_path(version: &str) -> (tempfile::TempDir, String) {
    let decoy = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(decoy.path().join("bin")).unwrap();
    std::fs::create_dir_all(
        decoy
            .path()
            .join(format!("lib/python{version}/lib-dynload")),
    )
    .unwrap();
    let exe = decoy.path().join("bin/python3");
    std::fs::write(&exe, "#!/bin/sh\nexit 99\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        decoy.path().join(format!("lib/python{version}/os.py")),
        "raise ImportError('the standard library of a decoy python3 found on PATH')\n",
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        decoy.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (decoy, path)
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn python_version(python: &Path) -> String {
    let out = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// An app folder with the probe, `lib/` for PYTHONPATH, and `.venv` made
/// by the embedded interpreter (no pip: quick), whose site-packages has a
/// `.pth` naming `extra/`.
fn app_with_venv(system_site_packages: bool) -> tempfile::TempDir {
    let app = app_copy("probe");
    std::fs::create_dir(app.path().join("lib")).unwrap();
    std::fs::create_dir(app.path().join("extra")).unwrap();
    let mut venv = Command::new(built_with());
    venv.args(["-m", "venv", "--without-pip"]);
    if system_site_packages {
        venv.arg("--system-site-packages");
    }
    let out = venv.arg(app.path().join(".venv")).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = python_version(&built_with());
    std::fs::write(
        app.path()
            .join(format!(".venv/lib/python{version}/site-packages/extra.pth")),
        format!("{}\n", app.path().join("extra").display()),
    )
    .unwrap();
    app
}

fn served_interpreter(
    app: &Path,
    path_env: &str,
) -> std::collections::HashMap<String, serde_json::Value> {
    let gw = Gateway::start(
        app,
        &[
            ("WSGI_HANDLER", "probe.app"),
            ("PYTHONPATH", "lib"),
            ("PATH", path_env),
        ],
    );
    let r = gw.get("/");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), gw.log_text());
    json(&r.body)
}

#[test]
fn the_app_sees_exactly_its_venv_as_the_venvs_own_python_does() {
    let version = python_version(&built_with());
    let (_decoy, path_env) = decoy_python_on_path(&version);
    let app = app_with_venv(false);
    let venv = app.path().join(".venv");
    let seen = served_interpreter(app.path(), &path_env);
    let mut expected = vec![
        app.path().display().to_string(),
        app.path().join("lib").display().to_string(),
    ];
    let own = sys_path_of(&venv.join("bin/python"), app.path(), &path_env);
    expected.extend(own.iter().cloned());
    assert_eq!(strings(&seen["path"]), expected);
    // The base Python's site-packages are not there; the .pth's folder is.
    assert!(!own.iter().any(|p| p.contains("dist-packages")), "{own:?}");
    assert!(
        own.contains(&app.path().join("extra").display().to_string()),
        "{own:?}"
    );
    assert_eq!(seen["prefix"], venv.display().to_string());
    assert_eq!(
        seen["executable"],
        venv.join("bin/python").display().to_string()
    );
    let base = Command::new(built_with())
        .args(["-c", "import sys; print(sys.base_prefix)"])
        .output()
        .unwrap();
    assert_eq!(
        seen["base_prefix"],
        String::from_utf8_lossy(&base.stdout).trim()
    );
}

#[test]
fn include_system_site_packages_brings_the_base_pythons_in_as_it_does_for_the_venvs_python() {
    let version = python_version(&built_with());
    let (_decoy, path_env) = decoy_python_on_path(&version);
    let app = app_with_venv(true);
    let seen = served_interpreter(app.path(), &path_env);
    let own = sys_path_of(&app.path().join(".venv/bin/python"), app.path(), &path_env);
    assert_eq!(strings(&seen["path"])[2..], own[..]);
    let site = app
        .path()
        .join(format!(".venv/lib/python{version}/site-packages"));
    let venv_at = own
        .iter()
        .position(|p| *p == site.display().to_string())
        .unwrap();
    let system_at = own
        .iter()
        .position(|p| p.ends_with("-packages") && !p.starts_with(&*app.path().to_string_lossy()));
    assert!(
        system_at.is_some_and(|s| s > venv_at),
        "the venv's site-packages come first: {own:?}"
    );
}

#[test]
fn without_a_venv_the_standard_library_is_the_built_with_pythons_whatever_is_on_path() {
    let version = python_version(&built_with());
    let (_decoy, path_env) = decoy_python_on_path(&version);
    let app = app_copy("probe");
    std::fs::create_dir(app.path().join("lib")).unwrap();
    let seen = served_interpreter(app.path(), &path_env);
    let own = sys_path_of(&built_with(), app.path(), &path_env);
    let mut expected = vec![
        app.path().display().to_string(),
        app.path().join("lib").display().to_string(),
    ];
    expected.extend(own);
    assert_eq!(strings(&seen["path"]), expected);
}

#[test]
fn a_venv_of_another_python_version_is_refused_before_python_starts() {
    let app = app_copy("probe");
    std::fs::create_dir_all(app.path().join(".venv/bin")).unwrap();
    std::fs::write(
        app.path().join(".venv/pyvenv.cfg"),
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.4.1\n",
    )
    .unwrap();
    let gw = Gateway::start(
        app.path(),
        &[
            ("WSGI_HANDLER", "probe.app"),
            ("IISWSGI_SHOW_TRACEBACK", "true"),
        ],
    );
    let r = gw.get("/");
    assert_eq!(r.status, 500);
    let version = python_version(&built_with());
    assert!(
        r.text().contains(&format!(
            "is for Python 3.4, but the Python this gateway loaded is {version}: recreate the environment with Python {version}"
        )),
        "{}",
        r.text()
    );
    // The gateway is still there: it answers the next request too.
    assert_eq!(gw.get("/").status, 500);
}
