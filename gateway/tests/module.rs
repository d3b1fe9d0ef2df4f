//! The gateway as an extension module (gateway/module): the wheel that
//! `iiswsgi verify` installs into the venv it makes on Linux, run by the
//! app's own interpreter. One abi3 build, linked to no libpython, serves
//! Debian's static /usr/bin/python3 and a CPython of another minor
//! version, each from a venv: `sys.path` is exactly that venv's python's
//! (with the app folder and the PYTHONPATH setting's first), and a
//! gateway run by another Python than the app's venv says how to start it.
//!
//! Needs IISWSGI_TEST_GATEWAY_WHEEL (the wheel tests/run.sh builds with
//! maturin) and uv (IISWSGI_UV) to install it; under CI=true their absence
//! fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Gateway, app_copy, json, sys_path_of};

fn required(name: &str) -> Option<PathBuf> {
    match std::env::var_os(name).map(PathBuf::from) {
        Some(p) if p.is_file() => Some(p),
        other => {
            let msg = format!("{name} ({other:?}) is not a file: run tests/run.sh, which sets it");
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg}");
            }
            eprintln!("skipped: {msg}");
            None
        }
    }
}

/// The pythons the module must serve: Debian's (static, no libpython
/// loaded) and one of another minor version (pyenv's, on these machines).
fn pythons() -> Vec<PathBuf> {
    let system = PathBuf::from("/usr/bin/python3");
    let minor = |p: &Path| {
        Command::new(p)
            .args(["-c", "import sys; print(sys.version_info[1])"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let system_minor = minor(&system);
    let other = ["3.13", "3.12", "3.10", "3.9"].iter().find_map(|v| {
        let pyenv = Path::new("/root/.pyenv/versions");
        let candidates = std::fs::read_dir(pyenv)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{v}."))
            })
            .map(|e| e.path().join("bin/python3"))
            .chain(std::iter::once(PathBuf::from(format!(
                "/usr/bin/python{v}"
            ))));
        candidates
            .filter(|p| p.is_file())
            .find(|p| minor(p).is_some() && minor(p) != system_minor)
    });
    match other {
        Some(other) => vec![system, other],
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "no CPython of a minor version other than /usr/bin/python3's was found (pyenv or /usr/bin/python3.X)"
            );
            eprintln!("only /usr/bin/python3 is here: the other minor version is not tried");
            vec![system]
        }
    }
}

/// `venv` made by `python` with the gateway wheel installed, offline.
fn venv_with_gateway(python: &Path, venv: &Path, uv: &Path, wheel: &Path) {
    let out = Command::new(python)
        .args(["-m", "venv", "--without-pip"])
        .arg(venv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(uv)
        .args([
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--python",
        ])
        .arg(venv.join("bin/python"))
        .arg(wheel)
        .env_remove("VIRTUAL_ENV")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_web_config(app: &Path, settings: &[(&str, &str)]) {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    std::fs::write(
        app.join("web.config"),
        common::apache::web_config(&settings),
    )
    .unwrap();
}

#[test]
fn one_abi3_module_serves_static_and_other_pythons_from_their_venvs() {
    let (Some(wheel), Some(uv)) = (
        required("IISWSGI_TEST_GATEWAY_WHEEL"),
        required("IISWSGI_UV"),
    ) else {
        return;
    };
    for python in pythons() {
        let app = app_copy("probe");
        std::fs::create_dir(app.path().join("lib")).unwrap();
        write_web_config(
            app.path(),
            &[("WSGI_HANDLER", "probe.app"), ("PYTHONPATH", "lib")],
        );
        let venv = app.path().join(".venv");
        venv_with_gateway(&python, &venv, &uv, &wheel);

        // No libpython among the module's needed libraries.
        let module = walkdir(&venv)
            .into_iter()
            .find(|p| p.to_string_lossy().ends_with("_gateway.abi3.so"))
            .expect("the module is installed");
        let out = Command::new("readelf")
            .arg("-d")
            .arg(&module)
            .output()
            .unwrap();
        let dynamic = String::from_utf8_lossy(&out.stdout);
        assert!(dynamic.contains("(NEEDED)"), "{dynamic}");
        assert!(!dynamic.contains("libpython"), "{dynamic}");

        let script = venv.join("bin/iiswsgi-gateway");
        let out = Command::new(&script).arg("--built-for").output().unwrap();
        let built_for = String::from_utf8_lossy(&out.stdout);
        assert!(
            built_for
                .trim_end()
                .ends_with(&venv.join("bin/python").display().to_string()),
            "{built_for}"
        );

        let mut gw = Gateway::start_program(&script, None, app.path(), &[]);
        let r = gw.get("/");
        assert_eq!(r.status, 200, "{}\n{}", r.text(), gw.log_text());
        let seen = json(&r.body);
        let mut expected = vec![
            app.path().display().to_string(),
            app.path().join("lib").display().to_string(),
        ];
        expected.extend(sys_path_of(
            &venv.join("bin/python"),
            app.path(),
            &std::env::var("PATH").unwrap_or_default(),
        ));
        let path: Vec<String> = seen["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(path, expected, "served by {}", python.display());
        assert_eq!(seen["prefix"], venv.display().to_string());
        // SIGTERM while idle: the app's atexit functions run, exit 0.
        gw.signal("TERM");
        let status = gw.wait_exit(Duration::from_secs(10)).expect("exits");
        assert!(status.success(), "{status:?}\n{}", gw.log_text());
        assert!(app.path().join("atexit-ran").is_file());
    }
}

#[test]
fn a_gateway_run_by_another_python_than_the_apps_venv_says_how_to_start_it() {
    let (Some(wheel), Some(uv)) = (
        required("IISWSGI_TEST_GATEWAY_WHEEL"),
        required("IISWSGI_UV"),
    ) else {
        return;
    };
    let tools = tempfile::tempdir().unwrap();
    let other = tools.path().join("other");
    venv_with_gateway(Path::new("/usr/bin/python3"), &other, &uv, &wheel);
    let app = app_copy("probe");
    let venv = app.path().join(".venv");
    let out = Command::new("/usr/bin/python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(out.status.success());
    write_web_config(app.path(), &[("WSGI_HANDLER", "probe.app")]);
    let gw = Gateway::start_program(&other.join("bin/iiswsgi-gateway"), None, app.path(), &[]);
    let r = gw.get("/");
    assert_eq!(r.status, 500, "{}", r.text());
    let log = gw.log_text();
    let hint = format!("({} -m iiswsgi_gateway)", venv.join("bin/python").display());
    assert!(log.contains(&hint), "{log}");
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}
