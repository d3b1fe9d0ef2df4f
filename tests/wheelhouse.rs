//! `[python]`: requirements resolved for the server's Windows and CPython,
//! bundled as wheels (PyPI, through uv and pip), cached, reproducible; the
//! install runCommand and its parameters in the package.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// uv and a pip from tests/.venv (tests/run.sh installs them).
fn tools() -> Option<[(&'static str, PathBuf); 2]> {
    let uv = common::venv_tool("uv")?;
    let python = common::venv_tool("python")?;
    Some([("IISWSGI_UV", uv), ("IISWSGI_PIP_PYTHON", python)])
}

fn iiswsgi(dir: &Path, tools: &[(&str, PathBuf)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000");
    for (k, v) in tools {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn project(requirements: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("vendor")).unwrap();
    std::fs::copy(
        common::repo("prebuilt/windows-x64/iiswsgi-gateway.exe"),
        dir.path().join("vendor/gw.exe"),
    )
    .unwrap();
    std::fs::write(dir.path().join("app.py"), "").unwrap();
    std::fs::write(dir.path().join("requirements.txt"), requirements).unwrap();
    std::fs::write(
        dir.path().join("iiswsgi.toml"),
        "[app]\nname = \"W\"\nversion = \"1\"\n[files]\ninclude = [\"app.py\"]\n[gateway]\npath = \"vendor/gw.exe\"\narch = \"x64\"\n[python]\nversion = \"3.12\"\nrequirements = \"requirements.txt\"\n",
    )
    .unwrap();
    dir
}

fn zip_names(zip: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    archive.file_names().map(str::to_string).collect()
}

fn zip_text(zip: &Path, name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
    text
}

#[test]
fn the_flask_example_bundles_windows_wheels_twice_the_same_bytes() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo("examples/flask"), dir.path());
    let plan = iiswsgi(dir.path(), &tools, &["build", "--plan"]);
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.contains("FlaskIISApp/wheelhouse/flask-3.1.3-py3-none-any.whl"),
        "{plan}"
    );
    assert!(
        plan.contains("-cp312-cp312-win_amd64.whl"),
        "MarkupSafe's compiled Windows wheel: {plan}"
    );
    for out in ["a", "b"] {
        let o = iiswsgi(dir.path(), &tools, &["build", "--force", "--out-dir", out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let a = std::fs::read(dir.path().join("a/FlaskIISApp-1.0.0.msdeploy.zip")).unwrap();
    let b = std::fs::read(dir.path().join("b/FlaskIISApp-1.0.0.msdeploy.zip")).unwrap();
    assert!(a == b, "same requirements and cache, same bytes");
    let zip = dir.path().join("a/FlaskIISApp-1.0.0.msdeploy.zip");
    let names = zip_names(&zip);
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("FlaskIISApp/wheelhouse/markupsafe-")
                && n.ends_with("-cp312-cp312-win_amd64.whl")),
        "{names:?}"
    );
    let pinned = zip_text(&zip, "FlaskIISApp/wheelhouse/requirements.txt");
    assert!(
        pinned.lines().any(|l| l == "flask==3.1.3")
            && pinned.lines().any(|l| l.starts_with("werkzeug==")),
        "{pinned}"
    );
    let web_config = zip_text(&zip, "FlaskIISApp/web.config");
    assert!(
        web_config.contains(r#"<add key="IISWSGI_PYTHON" value="py -3.12" />"#),
        "{web_config}"
    );
    let manifest = zip_text(&zip, "Manifest.xml");
    assert!(
        manifest.contains(r#"do call &quot;%p\bin\iiswsgi-gateway.exe&quot; install --iis-app &quot;Default Web Site/FlaskIISApp&quot;"#),
        "{manifest}"
    );
    // msdeploy honours the wait and the exit code only through the
    // provider options: decode them back.
    let inspect = iiswsgi(
        dir.path(),
        &tools,
        &["inspect", "a/FlaskIISApp-1.0.0.msdeploy.zip"],
    );
    let report = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        // Ten minutes, plus the default ten of the example's set-up command.
        report.contains("waitAttempts") && report.contains("240") && report.contains("0x0"),
        "{report}"
    );
    let parameters = zip_text(&zip, "Parameters.xml");
    assert!(
        parameters.contains(r#"<parameter name="PythonInterpreter""#)
            && parameters.contains(r#"defaultValue="py -3.12""#),
        "{parameters}"
    );
    assert!(
        parameters.contains(r#"<parameter name="InstallCommand""#)
            && parameters.contains("{ApplicationPath}"),
        "{parameters}"
    );
}

#[test]
fn markers_are_resolved_for_windows_not_for_this_machine() {
    let Some(tools) = tools() else { return };
    let dir = project(
        "colorama==0.4.6; platform_system == \"Windows\"\nsix==1.17.0; platform_system == \"Linux\"\n",
    );
    let o = iiswsgi(dir.path(), &tools, &["build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names = zip_names(&dir.path().join("dist/W-1.msdeploy.zip"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("W/wheelhouse/colorama-0.4.6")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("six-")), "{names:?}");
}

#[test]
fn a_requirement_without_a_windows_wheel_is_an_error_naming_it() {
    let Some(tools) = tools() else { return };
    let dir = project("uvloop==0.21.0\n");
    let o = iiswsgi(dir.path(), &tools, &["build"]);
    assert_eq!(o.status.code(), Some(78));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("uvloop") && err.contains("no wheel for CPython 3.12 on win_amd64"),
        "{err}"
    );
    assert!(err.contains("iiswsgi.toml"), "{err}");
    assert!(!dir.path().join("dist/W-1.msdeploy.zip").exists());
}

#[test]
fn without_uv_the_build_says_what_to_install() {
    let dir = project("six==1.17.0\n");
    let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
    let o = cmd
        .current_dir(dir.path())
        .arg("build")
        .env("PATH", "/nonexistent")
        .env("IISWSGI_CACHE_DIR", dir.path().join("cache"))
        .env_remove("IISWSGI_UV")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("needs uv, which is not on PATH") && err.contains("pip install uv"),
        "{err}"
    );
}

#[test]
fn python_needs_a_real_version_and_no_gateway_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("iiswsgi.toml"),
        "[app]\nname = \"W\"\nversion = \"1\"\n[python]\nversion = \"2.7\"\n",
    )
    .unwrap();
    let o = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("version \"2.7\" is not a CPython 3"), "{err}");
    // No [gateway]: the built-in one, not an error.
    assert!(!err.contains("[gateway]"), "{err}");
}

#[test]
fn http_platform_hosting_runs_waitress_from_the_wheelhouse_and_static_folders_skip_python() {
    let Some(tools) = tools() else { return };
    let dir = project("six==1.17.0\n");
    let toml = std::fs::read_to_string(dir.path().join("iiswsgi.toml")).unwrap()
        + "[iis]\nwsgi-handler = \"app:app\"\nhosting = \"http-platform\"\nstatic-folders = [\"static\"]\n";
    std::fs::write(dir.path().join("iiswsgi.toml"), toml).unwrap();
    let o = iiswsgi(dir.path(), &tools, &["build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let zip = dir.path().join("dist/W-1.msdeploy.zip");
    let names = zip_names(&zip);
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("W/wheelhouse/waitress-")),
        "waitress is added: {names:?}"
    );
    let web_config = zip_text(&zip, "W/web.config");
    assert!(
        web_config.contains(r#"modules="httpPlatformHandler""#),
        "{web_config}"
    );
    assert!(
        web_config
            .contains(r#"arguments="-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT% app:app""#),
        "{web_config}"
    );
    assert!(
        web_config.contains(r#"<add key="IISWSGI_HOSTING" value="http-platform" />"#),
        "{web_config}"
    );
    assert!(!web_config.contains("FastCgiModule"), "{web_config}");
    let nested = zip_text(&zip, "W/static/web.config");
    assert!(nested.contains(r#"<remove name="W-wsgi" />"#), "{nested}");
    // Both documents are well-formed XML.
    if let Some(xmllint) = common::tool("xmllint") {
        for (name, text) in [("web.config", &web_config), ("static.config", &nested)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            common::run_ok(
                std::process::Command::new(&xmllint)
                    .arg("--noout")
                    .arg(&path),
            );
        }
    }
    // http-platform needs requirements and a handler.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(
        bad.path().join("iiswsgi.toml"),
        "[app]\nname = \"W\"\nversion = \"1\"\n[iis]\nhosting = \"http-platform\"\n",
    )
    .unwrap();
    let o = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(bad.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("needs [python] requirements") && err.contains("needs [iis] wsgi-handler"),
        "{err}"
    );
}

/// Requirements as projects write them: `requirements/production.txt`
/// includes `base.txt`, which names a Linux-only server; `exclude` leaves
/// it (and what only it needs) out for Windows, and an edit to the
/// included file is a new resolution, not the cached one.
#[test]
fn included_requirements_are_followed_and_excluded_servers_left_out() {
    let Some(tools) = tools() else { return };
    let dir = project("");
    std::fs::create_dir(dir.path().join("requirements")).unwrap();
    std::fs::write(
        dir.path().join("requirements/base.txt"),
        "itsdangerous==2.2.0\nuwsgi==2.0.31\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("requirements/production.txt"),
        "-r base.txt\ngunicorn==23.0.0  # a Linux server\n",
    )
    .unwrap();
    let manifest = dir.path().join("iiswsgi.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "requirements = \"requirements.txt\"",
        "requirements = \"requirements/production.txt\"",
    );
    std::fs::write(&manifest, &text).unwrap();
    // Without exclude: uwsgi has no Windows wheel, and the error says what to do.
    let out = iiswsgi(dir.path(), &tools, &["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("uwsgi") && stderr.contains("[python] exclude = [\"<name>\"]"),
        "{stderr}"
    );
    std::fs::write(
        &manifest,
        text.replace(
            "[python]\n",
            "[python]\nexclude = [\"uwsgi\", \"gunicorn\"]\n",
        ),
    )
    .unwrap();
    let out = iiswsgi(dir.path(), &tools, &["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let zip = dir.path().join("dist/W-1.msdeploy.zip");
    assert_eq!(
        zip_text(&zip, "W/wheelhouse/requirements.txt"),
        "itsdangerous==2.2.0\n"
    );
    assert!(
        !zip_names(&zip)
            .iter()
            .any(|n| n.contains("uwsgi") || n.contains("gunicorn") || n.contains("packaging")),
        "neither they nor what only they need (gunicorn's packaging)"
    );
    // The included file's bytes are in the cache key.
    std::fs::write(
        dir.path().join("requirements/base.txt"),
        "itsdangerous==2.1.2\nuwsgi==2.0.31\n",
    )
    .unwrap();
    let out = iiswsgi(dir.path(), &tools, &["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        zip_text(&zip, "W/wheelhouse/requirements.txt"),
        "itsdangerous==2.1.2\n"
    );
}

/// A pyproject.toml's dependencies, and an optional group named in
/// `[python] extras`.
#[test]
fn a_pyproject_and_its_named_extras_are_resolved() {
    let Some(tools) = tools() else { return };
    let dir = project("");
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"w\"\nversion = \"1\"\ndependencies = [\"itsdangerous==2.2.0\"]\n[project.optional-dependencies]\nsignals = [\"blinker==1.9.0\"]\ntesting = [\"pytest\"]\n",
    )
    .unwrap();
    let manifest = dir.path().join("iiswsgi.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "requirements = \"requirements.txt\"",
        "requirements = \"pyproject.toml\"\nextras = [\"signals\"]",
    );
    std::fs::write(&manifest, text).unwrap();
    let out = iiswsgi(dir.path(), &tools, &["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        zip_text(
            &dir.path().join("dist/W-1.msdeploy.zip"),
            "W/wheelhouse/requirements.txt"
        ),
        "blinker==1.9.0\nitsdangerous==2.2.0\n",
        "the named group, not `testing`"
    );
}
