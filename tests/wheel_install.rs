//! `pip install iiswsgi` as a Python team's CI does it (#22): the wheels
//! packaging/wheels.sh builds (tests/run.sh builds them once per source
//! into IISWSGI_TEST_WHEELS), installed with pip into a fresh venv of
//! Debian's /usr/bin/python3, then run with a PATH that has no cargo or
//! rustc: `init`, `build` and `verify` of real apps, served by the
//! gateway module the CLI carries, in the Python each package is for:
//! Debian's static 3.11 for Flask's tutorial app, pyenv's 3.12 (another
//! minor version) for a Django project.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn wheels() -> Option<PathBuf> {
    match std::env::var_os("IISWSGI_TEST_WHEELS").map(PathBuf::from) {
        Some(p) if p.is_dir() => Some(p),
        other => {
            let msg = format!(
                "IISWSGI_TEST_WHEELS ({other:?}) is not a folder: tests/run.sh builds the wheels with packaging/wheels.sh"
            );
            assert!(!common::ci(), "{msg}");
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

fn one(dir: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(prefix) && n.ends_with(suffix)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {prefix}*{suffix} in {}: {found:?}",
        dir.display()
    );
    found.into_iter().next().unwrap()
}

fn zip_names(wheel: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    archive.file_names().map(str::to_string).collect()
}

/// The CLI wheel holds the program and its metadata, nothing else; the
/// program carries no path of the machine that built it.
#[test]
fn the_wheels_hold_the_cli_and_the_gateway_module_and_nothing_of_the_build_machine() {
    let Some(dir) = wheels() else { return };
    let version = env!("CARGO_PKG_VERSION");
    let cli = one(
        &dir,
        &format!("iiswsgi-{version}-py3-none-"),
        "manylinux2014_x86_64.whl",
    );
    let name = cli.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.ends_with("manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
        "{name}"
    );
    let mut names = zip_names(&cli);
    names.sort();
    assert_eq!(
        names,
        [
            format!("iiswsgi-{version}.data/scripts/iiswsgi"),
            format!("iiswsgi-{version}.dist-info/METADATA"),
            format!("iiswsgi-{version}.dist-info/RECORD"),
            format!("iiswsgi-{version}.dist-info/WHEEL"),
        ]
    );
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&cli).unwrap()).unwrap();
    let mut program = Vec::new();
    archive
        .by_name(&format!("iiswsgi-{version}.data/scripts/iiswsgi"))
        .unwrap()
        .read_to_end(&mut program)
        .unwrap();
    let mut metadata = String::new();
    archive
        .by_name(&format!("iiswsgi-{version}.dist-info/METADATA"))
        .unwrap()
        .read_to_string(&mut metadata)
        .unwrap();
    assert!(metadata.contains("Requires-Dist: uv"), "{metadata}");
    let checkout = env!("CARGO_MANIFEST_DIR");
    let cargo_home = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default()));
    for leaked in [checkout, cargo_home.as_str()] {
        assert!(
            !program
                .windows(leaked.len())
                .any(|w| w == leaked.as_bytes()),
            "the program holds the build machine's path {leaked}"
        );
    }
    // The gateway module's wheel is inside the program, whole.
    let module = one(
        &dir,
        &format!("iiswsgi_gateway-{version}-cp39-abi3-"),
        ".whl",
    );
    let module_name = module.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        module_name.contains("manylinux2014_x86_64"),
        "{module_name}"
    );
    let module_bytes = std::fs::read(&module).unwrap();
    assert!(
        program
            .windows(module_bytes.len())
            .any(|w| w == module_bytes.as_slice()),
        "the CLI embeds {module_name}"
    );
    let mut module_names = zip_names(&module);
    module_names.sort();
    assert_eq!(
        module_names,
        [
            "iiswsgi_gateway-{v}.dist-info/METADATA",
            "iiswsgi_gateway-{v}.dist-info/RECORD",
            "iiswsgi_gateway-{v}.dist-info/WHEEL",
            "iiswsgi_gateway-{v}.dist-info/entry_points.txt",
            "iiswsgi_gateway/__init__.py",
            "iiswsgi_gateway/__main__.py",
            "iiswsgi_gateway/_gateway.abi3.so",
        ]
        .map(|n| n.replace("{v}", version))
    );
    one(&dir, &format!("iiswsgi-{version}"), ".tar.gz");
}

/// A PATH of the tools a CI runner has, without cargo or rustc.
fn runner_path(venv: &Path, bin: &Path, pythons: &[(&str, PathBuf)]) -> String {
    std::fs::create_dir_all(bin).unwrap();
    for tool in ["sh", "env"] {
        std::os::unix::fs::symlink(Path::new("/bin").join(tool), bin.join(tool)).unwrap();
    }
    for (name, target) in pythons {
        std::os::unix::fs::symlink(target, bin.join(name)).unwrap();
    }
    let path = format!("{}:{}", venv.join("bin").display(), bin.display());
    for absent in ["cargo", "rustc", "rustup"] {
        assert!(
            std::env::split_paths(&path).all(|d| !d.join(absent).exists()),
            "{absent} is on the runner's PATH"
        );
    }
    path
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn pip_installed_iiswsgi_inits_builds_and_verifies_flask_and_django_without_cargo() {
    let Some(dir) = wheels() else { return };
    let Some(test_venv) = common::wsgi_test_venv() else {
        return;
    };
    let python312 = std::fs::read_dir("/root/.pyenv/versions")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/python3.12"))
        .find(|p| p.is_file());
    let Some(python312) = python312 else {
        assert!(!common::ci(), "no CPython 3.12 (pyenv) on this machine");
        eprintln!("SKIPPED: no CPython 3.12 here");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let venv = work.path().join("ci-venv");
    run(Command::new("/usr/bin/python3")
        .args(["-m", "venv"])
        .arg(&venv));
    let version = env!("CARGO_PKG_VERSION");
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(one(
            &dir,
            &format!("iiswsgi-{version}-py3-none-"),
            "manylinux2014_x86_64.whl",
        )));
    let path = runner_path(
        &venv,
        &work.path().join("runner-bin"),
        &[
            ("python3", PathBuf::from("/usr/bin/python3")),
            ("python3.11", PathBuf::from("/usr/bin/python3.11")),
            ("python3.12", python312.clone()),
        ],
    );
    // The runner's environment (its proxy and CA settings among it),
    // without this test command's settings for iiswsgi or anything of Rust:
    // the installed iiswsgi must find uv, pip and its gateway itself.
    let runner_env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            !["IISWSGI_", "CARGO", "RUST"]
                .iter()
                .any(|p| k.starts_with(p))
                && !["PYTHONPATH", "LD_LIBRARY_PATH", "OUT_DIR"].contains(&k.as_str())
        })
        .collect();
    let iiswsgi = |project: &Path, args: &[&str]| -> String {
        run(Command::new(venv.join("bin/iiswsgi"))
            .args(args)
            .current_dir(project)
            .env_clear()
            .envs(runner_env.iter().cloned())
            .env("PATH", &path)
            .env("CI", "true"))
    };
    assert_eq!(
        iiswsgi(work.path(), &["--version"]).trim(),
        format!("iiswsgi {version}")
    );

    // Flask's tutorial, as published, for the server's Python 3.11:
    // served by Debian's static python3.11.
    let flaskr = work.path().join("flaskr");
    common::copy_dir(
        &common::repo("../shared/fixtures/real-apps/flaskr"),
        &flaskr,
    );
    iiswsgi(&flaskr, &["init", "--yes", "--python-version", "3.11"]);
    assert!(
        !flaskr.join("vendor").exists(),
        "init writes no gateway into the project"
    );
    let built = iiswsgi(&flaskr, &["build"]);
    assert!(
        built.contains("gateway built-in iiswsgi-gateway"),
        "{built}"
    );
    let verified = iiswsgi(
        &flaskr,
        &[
            "verify",
            "--set-param",
            "FLASK_SECRET_KEY=a-long-enough-flask-secret",
            "--request",
            "/=200:Posts",
            "--request",
            "/auth/register=200:Register",
        ],
    );
    for said in [
        "gateway: the extension module iiswsgi_gateway-",
        "run by Python 3.11 at ",
        "(python3.11 on PATH); the venv made by uv",
        "uv venv --quiet --no-config --python ",
        "self-test: GET / -> 200",
        "Verified 2 request(s)",
    ] {
        assert!(verified.contains(said), "{said:?} in {verified}");
    }

    // A Django project, for the server's Python 3.12: served by pyenv's.
    run(Command::new(test_venv.join("bin/django-admin"))
        .args(["startproject", "mysite"])
        .current_dir(work.path()));
    let mysite = work.path().join("mysite");
    std::fs::write(mysite.join("requirements.txt"), "django==5.2.19\n").unwrap();
    iiswsgi(&mysite, &["init", "--yes"]);
    iiswsgi(&mysite, &["build"]);
    let verified = iiswsgi(
        &mysite,
        &[
            "verify",
            "--set-param",
            "DJANGO_SECRET_KEY=a-long-enough-django-secret",
            "--request",
            "/admin/=302",
            "--request",
            "/admin/login/=200:Django",
        ],
    );
    for said in [
        "gateway: the extension module iiswsgi_gateway-",
        "run by Python 3.12 at ",
        "(python3.12 on PATH)",
        "GET /mysite/admin/ -> 302 (Location: /mysite/admin/login/?next=/mysite/admin/)",
        "Verified 2 request(s)",
    ] {
        assert!(verified.contains(said), "{said:?} in {verified}");
    }
}

/// The Windows x64 wheel, cross-built here: its iiswsgi.exe runs under
/// Wine (with the stand-in bcryptprimitives.dll Wine 8 lacks) and builds a
/// project without [python] into the very bytes the Linux build writes.
#[test]
fn the_windows_wheels_iiswsgi_exe_runs_under_wine_and_builds_the_same_package() {
    let Some(dir) = wheels() else { return };
    let Some(wine) = common::wine::wine() else {
        return;
    };
    let version = env!("CARGO_PKG_VERSION");
    let wheel = one(
        &dir,
        &format!("iiswsgi-{version}-py3-none-"),
        "win_amd64.whl",
    );
    let mut names = zip_names(&wheel);
    names.sort();
    assert_eq!(
        names,
        [
            format!("iiswsgi-{version}.data/scripts/iiswsgi.exe"),
            format!("iiswsgi-{version}.dist-info/METADATA"),
            format!("iiswsgi-{version}.dist-info/RECORD"),
            format!("iiswsgi-{version}.dist-info/WHEEL"),
        ]
    );
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
    let mut exe = Vec::new();
    archive
        .by_name(&format!("iiswsgi-{version}.data/scripts/iiswsgi.exe"))
        .unwrap()
        .read_to_end(&mut exe)
        .unwrap();
    std::fs::write(bin.join("iiswsgi.exe"), &exe).unwrap();
    std::fs::write(
        bin.join("bcryptprimitives.dll"),
        iiswsgi::verify::wine_prng_dll::bytes(),
    )
    .unwrap();

    let out = wine
        .command()
        .arg(bin.join("iiswsgi.exe"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("iiswsgi {version}")
    );

    // A WSGI app without [python]: it gets the built-in gateway.
    let project = work.path().join("hello");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("app.py"),
        "def app(environ, start_response):\n    start_response(\"200 OK\", [(\"Content-Type\", \"text/plain\")])\n    return [b\"hello\"]\n",
    )
    .unwrap();
    std::fs::write(
        project.join("iiswsgi.toml"),
        "[app]\nname = \"Hello\"\nversion = \"1.0\"\n\n[files]\ninclude = [\"app.py\"]\n\n[iis]\nwsgi-handler = \"app:app\"\n",
    )
    .unwrap();
    let out = wine
        .command()
        .arg(bin.join("iiswsgi.exe"))
        .args(["build", "--out-dir", "windows-dist"])
        .current_dir(&project)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("gateway built-in iiswsgi-gateway"), "{said}");
    let linux = Command::new(env!("CARGO_BIN_EXE_iiswsgi"))
        .args(["build", "-q", "--out-dir", "linux-dist"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        linux.status.success(),
        "{}",
        String::from_utf8_lossy(&linux.stderr)
    );
    let windows_zip = std::fs::read(project.join("windows-dist/Hello-1.0.msdeploy.zip")).unwrap();
    let linux_zip = std::fs::read(project.join("linux-dist/Hello-1.0.msdeploy.zip")).unwrap();
    assert!(
        windows_zip == linux_zip,
        "the Windows and Linux builds differ"
    );
}
