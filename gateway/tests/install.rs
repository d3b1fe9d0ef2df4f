//! `iiswsgi-gateway install`, the Linux build, against an unpacked package
//! in a temp folder with a real CPython: the venv is made from the
//! wheelhouse with the network switched off, in the state folder beside
//! the app (never in the app folder Web Deploy syncs), a second run
//! changes nothing, a broken wheelhouse fails naming the wheel and leaves
//! the previous venv serving, a redeploy (the app folder made equal to the
//! package again) reuses or replaces the venv and removes the old one;
//! then the same folder serves the app through the gateway.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const PYTHON: &str = "/usr/bin/python3";

/// A package as Web Deploy leaves it: web.config with the placeholders the
/// templates write, bin/ with the gateway, the app, and a wheelhouse of
/// Flask's wheels for this machine (downloaded once into pip's cache).
/// (The app is `App` in the returned folder; its state folder, `App-state`.)
fn unpacked_app(venv: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let app = &dir.path().join("App");
    std::fs::create_dir_all(app.join("bin")).unwrap();
    std::fs::copy(gateway_exe(), app.join("bin/iiswsgi-gateway.exe")).unwrap();
    std::fs::write(
        app.join("app.py"),
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'installed and serving'\n",
    )
    .unwrap();
    std::fs::write(app.join("web.config"), packaged_web_config()).unwrap();
    download_wheels(venv, &app.join("wheelhouse"), "flask==3.1.3");
    std::fs::write(
        app.join("wheelhouse/requirements.txt"),
        "flask==3.1.3
",
    )
    .unwrap();
    dir
}

/// web.config as the package brings it (the templates' placeholders).
fn packaged_web_config() -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="WSGI_HANDLER" value="app:app" />
    <add key="WSGI_LOG" value="%APPL_PHYSICAL_PATH%\logs\wsgi.log" />
    <add key="IISWSGI_PYTHON" value="{PYTHON}" />
  </appSettings>
  <system.webServer>
    <handlers>
      <add name="App-wsgi" path="*" verb="*" modules="FastCgiModule" scriptProcessor="%APPL_PHYSICAL_PATH%\bin\iiswsgi-gateway.exe" resourceType="Unspecified" requireAccess="Script" />
    </handlers>
  </system.webServer>
</configuration>
"#
    )
}

/// Wheels for this machine into `dest` (pip's cache spares the network
/// after the first run).
fn download_wheels(venv: &Path, dest: &Path, requirement: &str) {
    let out = Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--dest",
        ])
        .arg(dest)
        .arg(requirement)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip download {requirement}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the install with the network off (`unshare -n`) when that is
/// possible (root), as on a server that reaches nothing.
fn install(app: &Path, extra: &[&str]) -> (i32, String) {
    let state = state_of(app);
    let mut cmd = if unshare_works() {
        let mut c = Command::new("unshare");
        c.args(["-n", "--"])
            .arg(app.join("bin/iiswsgi-gateway.exe"));
        c
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "unshare -n is needed in CI (run as root)"
        );
        eprintln!("note: unshare -n is not available; installing with the network on");
        Command::new(app.join("bin/iiswsgi-gateway.exe"))
    };
    let out = cmd
        .arg("install")
        .args([
            "--iis-app",
            "Default Web Site/App",
            "--no-iis",
            "--state-dir",
        ])
        .arg(&state)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn unshare_works() -> bool {
    Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// The state folder the tests give an app: beside it, outside it.
fn state_of(app: &Path) -> PathBuf {
    app.with_file_name(format!(
        "{}-state",
        app.file_name().unwrap().to_string_lossy()
    ))
}

/// The venvs in the app's state folder.
fn venvs(app: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(state_of(app).join("venvs"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    all.sort();
    all
}

/// The venv web.config points at (IISWSGI_VENV).
fn pointed_venv(app: &Path) -> PathBuf {
    let text = std::fs::read_to_string(app.join("web.config")).unwrap();
    let at = text
        .find("key=\"IISWSGI_VENV\" value=\"")
        .unwrap_or_else(|| panic!("{text}"));
    let rest = &text[at + "key=\"IISWSGI_VENV\" value=\"".len()..];
    PathBuf::from(&rest[..rest.find('"').unwrap()])
}

fn venv_imports_flask(venv: &Path) -> bool {
    Command::new(venv.join("bin/python"))
        .args(["-c", "import flask"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn install_makes_the_venv_offline_idempotently_and_keeps_it_when_a_wheel_is_broken() {
    let Some(venv) = test_venv() else { return };
    let pkg = unpacked_app(&venv);
    let app = &pkg.path().join("App");
    let state = state_of(app);

    let (code, out) = install(app, &["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("dry run"), "{out}");
    assert!(
        out.contains(&format!("$ {PYTHON} -m venv {}/venvs/", state.display())),
        "{out}"
    );
    assert!(
        out.contains("appcmd.exe set config -section:system.webServer/fastCgi /+[fullPath="),
        "{out}"
    );
    assert!(out.contains("icacls "), "{out}");
    assert!(
        !state.exists() && !app.join("iis_install.stamp").exists(),
        "a dry run changes nothing"
    );
    assert!(
        std::fs::read_to_string(app.join("web.config"))
            .unwrap()
            .contains("%APPL_PHYSICAL_PATH%")
    );

    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replaced 2 time(s)"), "{out}");
    let made = venvs(app);
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        out.contains(&format!(
            "virtual environment {} made from the wheelhouse",
            made[0].display()
        )),
        "{out}"
    );
    assert!(venv_imports_flask(&made[0]));
    // Nothing the site runs from is in the folder Web Deploy syncs.
    assert!(!app.join(".venv").exists() && !app.join(".venv.new").exists());
    assert_eq!(pointed_venv(app), made[0]);
    let web_config = std::fs::read_to_string(app.join("web.config")).unwrap();
    let gateways: Vec<PathBuf> = std::fs::read_dir(state.join("gateway"))
        .unwrap()
        .map(|e| e.unwrap().path().join("iiswsgi-gateway.exe"))
        .collect();
    assert_eq!(gateways.len(), 1);
    assert_eq!(
        std::fs::read(&gateways[0]).unwrap(),
        std::fs::read(app.join("bin/iiswsgi-gateway.exe")).unwrap()
    );
    assert!(
        web_config.contains(&format!(r#"scriptProcessor="{}""#, gateways[0].display())),
        "{web_config}"
    );
    // The journal says what web.config points at now.
    assert!(
        out.contains(&format!(
            "now points at gateway {}, venv {}",
            gateways[0].display(),
            made[0].display()
        )),
        "{out}"
    );
    let stamp = std::fs::read_to_string(app.join("iis_install.stamp")).unwrap();
    assert!(
        stamp.contains("IIS application: Default Web Site/App (not registered: --no-iis)"),
        "{stamp}"
    );
    let log = std::fs::read_to_string(state.join("install.log")).unwrap();
    assert!(log.contains("step 2/8: Python environment"), "{log}");

    // Again: nothing to do.
    let before = std::fs::metadata(made[0].join("pyvenv.cfg"))
        .unwrap()
        .modified()
        .unwrap();
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("replaced 0 time(s)") && out.contains("is up to date"),
        "{out}"
    );
    assert_eq!(
        std::fs::metadata(made[0].join("pyvenv.cfg"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    assert_eq!(venvs(app), made);

    // A broken wheel: the install fails naming it; the old venv still serves.
    let wheel: PathBuf = std::fs::read_dir(app.join("wheelhouse"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("flask-")
        })
        .unwrap();
    let good = std::fs::read(&wheel).unwrap();
    std::fs::write(&wheel, b"not a zip").unwrap();
    let (code, out) = install(app, &[]);
    assert_eq!(code, 1, "{out}");
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        out.contains("install step \"Python environment\" failed") && out.contains(&name),
        "{out}"
    );
    assert!(
        out.contains("the environment serving now (if any) is unchanged"),
        "{out}"
    );
    assert!(
        venv_imports_flask(&made[0]),
        "the previous venv still works"
    );
    assert_eq!(venvs(app), made, "the unfinished venv is gone");
    assert_eq!(pointed_venv(app), made[0]);
    std::fs::write(&wheel, good).unwrap();

    // A redeploy: Web Deploy makes the app folder equal to the package
    // again (web.config with its placeholders; no venv there to delete),
    // then runs the install. The same wheelhouse: the venv is reused.
    let packaged = packaged_web_config();
    std::fs::write(app.join("web.config"), &packaged).unwrap();
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("is up to date"), "{out}");
    assert_eq!(pointed_venv(app), made[0]);
    // Another wheelhouse: a new venv beside the old, then the old removed
    // (no gateway process holds it).
    std::fs::write(app.join("web.config"), &packaged).unwrap();
    std::fs::write(
        app.join("wheelhouse/requirements.txt"),
        "flask==3.1.3\n# redeployed\n",
    )
    .unwrap();
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    let now = venvs(app);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now, made);
    assert_eq!(pointed_venv(app), now[0]);
    assert!(
        out.contains(&format!("removed {}", made[0].display())),
        "{out}"
    );
}

#[test]
fn the_installed_folder_serves_the_app_through_the_gateway() {
    let Some(venv) = test_venv() else { return };
    let pkg = unpacked_app(&venv);
    let app = &pkg.path().join("App");
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    // The gateway finds its venv through web.config (IISWSGI_VENV, which
    // the install set) and the app folder from --app-dir (under IIS:
    // APPL_PHYSICAL_PATH).
    let gw = Gateway::start(app, &[]);
    let r = gw.get("/");
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "installed and serving"),
        "{}",
        gw.log_text()
    );
}

#[test]
fn http_platform_hosting_installs_without_fastcgi_and_waitress_serves() {
    let Some(venv) = test_venv() else { return };
    let pkg = unpacked_app(&venv);
    let app = &pkg.path().join("App");
    // As the http-platform web.config template writes it.
    let web_config = std::fs::read_to_string(app.join("web.config"))
        .unwrap()
        .replace("<add key=\"WSGI_HANDLER\"", "<add key=\"IISWSGI_HOSTING\" value=\"http-platform\" />\n    <add key=\"WSGI_HANDLER\"");
    std::fs::write(app.join("web.config"), web_config).unwrap();
    download_wheels(&venv, &app.join("wheelhouse"), "waitress==3.0.2");
    std::fs::write(
        app.join("wheelhouse/requirements.txt"),
        "flask==3.1.3\nwaitress==3.0.2\n",
    )
    .unwrap();
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("no FastCGI application to register")
            && !out.contains("system.webServer/fastCgi"),
        "{out}"
    );
    assert!(
        out.contains("unlock config") && app.join("logs").is_dir(),
        "{out}"
    );
    // What HttpPlatformHandler runs: the venv's python, waitress, on a port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(pointed_venv(app).join("bin/python"))
        .args([
            "-m",
            "waitress",
            &format!("--listen=127.0.0.1:{port}"),
            "app:app",
        ])
        .current_dir(app)
        .env("PYTHONPATH", app)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut body = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
            s.read_to_string(&mut body).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        body.starts_with("HTTP/1.0 200 OK")
            && body.contains("Server: waitress")
            && body.ends_with("installed and serving"),
        "{body}"
    );
}

#[test]
fn a_failing_self_test_fails_the_install_and_switches_nothing() {
    let Some(venv) = test_venv() else { return };
    let pkg = unpacked_app(&venv);
    let app = &pkg.path().join("App");
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("step 6/8: self-test\n  GET / -> 200"), "{out}");
    let serving = pointed_venv(app);
    let current = std::fs::read_to_string(state_of(app).join("current")).unwrap();

    // Redeploys of broken versions (another wheelhouse each time, so each
    // makes a new venv): the install fails with what the app said, and the
    // state folder still names the version that served.
    let broken = [
        (
            "import at all",
            "raise RuntimeError('the settings are missing')\n",
            None,
            "RuntimeError: the settings are missing",
        ),
        (
            "answer /",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 1 / 0\n",
            None,
            "GET / answered 500",
        ),
        (
            "answer /health as expected",
            "from flask import Flask\napp = Flask(__name__)\n",
            Some("/health=200"),
            "GET /health answered 404, not the expected 200",
        ),
    ];
    for (i, (what, code_text, setting, said)) in broken.into_iter().enumerate() {
        let mut web_config = packaged_web_config();
        if let Some(s) = setting {
            web_config = web_config.replace(
                "<add key=\"WSGI_HANDLER\"",
                &format!(
                    "<add key=\"IISWSGI_SELF_TEST\" value=\"{s}\" />\n    <add key=\"WSGI_HANDLER\""
                ),
            );
        }
        std::fs::write(app.join("web.config"), web_config).unwrap();
        std::fs::write(app.join("app.py"), code_text).unwrap();
        std::fs::write(
            app.join("wheelhouse/requirements.txt"),
            format!("flask==3.1.3\n# try {i}\n"),
        )
        .unwrap();
        let (code, out) = install(app, &[]);
        assert_eq!(code, 1, "an app that does not {what}: {out}");
        assert!(
            out.contains("install step \"self-test\" failed") && out.contains(said),
            "{what}: {out}"
        );
        assert!(
            out.contains("the site still runs the version it had"),
            "{out}"
        );
        assert_eq!(
            std::fs::read_to_string(state_of(app).join("current")).unwrap(),
            current,
            "{what}: nothing switched"
        );
        assert!(
            !std::fs::read_to_string(app.join("web.config"))
                .unwrap()
                .contains("IISWSGI_VENV"),
            "web.config was not pointed at the new version"
        );
        assert!(venv_imports_flask(&serving));
    }

    // Turned off, the same broken app installs (and says the test is off).
    std::fs::write(
        app.join("web.config"),
        packaged_web_config().replace(
            "<add key=\"WSGI_HANDLER\"",
            "<add key=\"IISWSGI_SELF_TEST\" value=\"off\" />\n    <add key=\"WSGI_HANDLER\"",
        ),
    )
    .unwrap();
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("step 6/8: self-test\n  off (IISWSGI_SELF_TEST)"),
        "{out}"
    );
}

/// Writes the app's iiswsgi-install.xml (what `iiswsgi build` writes for
/// `[iis] data-folders` and `[[install.run]]`).
fn write_install_file(app: &Path, runs: &[(&str, u64, &str)]) {
    let mut text = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<iiswsgiInstall version=\"1\">\n  <dataFolder path=\"instance\" />\n",
    );
    for (command, timeout, when) in runs {
        let command = command
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;");
        text.push_str(&format!(
            "  <run command=\"{command}\" timeoutSeconds=\"{timeout}\" successCodes=\"0\" when=\"{when}\" />\n"
        ));
    }
    text.push_str("</iiswsgiInstall>\n");
    std::fs::write(app.join("bin/iiswsgi-install.xml"), text).unwrap();
}

#[test]
fn set_up_commands_run_in_the_new_venv_before_the_self_test_and_a_failure_switches_nothing() {
    let Some(venv) = test_venv() else { return };
    let pkg = unpacked_app(&venv);
    let app = &pkg.path().join("App");
    let state = state_of(app);
    // The app serves what the set-up wrote: the self-test passes only if
    // the set-up ran first, in the data folder it made.
    std::fs::write(
        app.join("app.py"),
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return open('instance/setup.txt').read()\n",
    )
    .unwrap();
    let web_config = packaged_web_config().replace(
        "<add key=\"WSGI_HANDLER\"",
        "<add key=\"SETUP_SETTING\" value=\"from web.config\" />\n    <add key=\"PYTHONPATH\" value=\"lib\" />\n    <add key=\"WSGI_HANDLER\"",
    );
    std::fs::write(app.join("web.config"), &web_config).unwrap();
    let record = "python -c \"import os, sys, flask; open('instance/setup.txt', 'w').write('|'.join([os.environ['SETUP_SETTING'], sys.prefix, os.getcwd(), os.environ['PYTHONPATH']]))\"";
    let once = "python -c \"open('instance/first.txt', 'a').write('ran ')\"";
    write_install_file(
        app,
        &[
            (record, 60, "always"),
            (once, 60, "first-install"),
            ("migrate.cmd --noinput", 60, "always"),
        ],
    );
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    let live = pointed_venv(app);
    assert_eq!(
        std::fs::read_to_string(app.join("instance/setup.txt")).unwrap(),
        format!(
            "from web.config|{}|{}|{}:{}",
            live.display(),
            app.display(),
            app.display(),
            app.join("lib").display()
        ),
        "the settings, the new venv's python, the app folder, the gateway's PYTHONPATH"
    );
    assert_eq!(
        std::fs::read_to_string(app.join("instance/first.txt")).unwrap(),
        "ran "
    );
    assert!(out.contains("step 4/8: data folders\n"), "{out}");
    assert!(out.contains("  instance: made "), "{out}");
    assert!(
        out.contains("(3/3) migrate.cmd --noinput\n")
            && out.contains("not run: the shell found no such command here (exit 127)"),
        "a Windows-only command is reported, not failed, on Linux: {out}"
    );
    assert!(out.contains("GET / -> 200"), "{out}");
    let log = std::fs::read_to_string(state.join("install.log")).unwrap();
    assert!(
        log.contains("(1/3) python -c"),
        "the install log has it: {log}"
    );

    // A redeploy: the data folder is kept, first-install commands do not
    // run again, the others do.
    std::fs::write(app.join("instance/kept.txt"), "written by v1").unwrap();
    std::fs::write(app.join("web.config"), &web_config).unwrap();
    let (code, out) = install(app, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  instance: there (3 entries), left as it is"),
        "{out}"
    );
    assert!(
        out.contains("ran on the first install (recorded in"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(app.join("instance/first.txt")).unwrap(),
        "ran ",
        "first-install commands run once across two installs"
    );
    assert_eq!(
        std::fs::read_to_string(app.join("instance/kept.txt")).unwrap(),
        "written by v1"
    );

    // Failing set-up commands, each with a new wheelhouse (a new venv):
    // the install fails with the command, its code and the end of what it
    // said, and the live venv and web.config's switch are unchanged.
    let current = std::fs::read_to_string(state.join("current")).unwrap();
    let failing = [
        (
            "echo applying 0002_notes; echo 'no such table: notes' >&2; exit 1",
            60,
            vec![
                "`echo applying 0002_notes; echo 'no such table: notes' >&2; exit 1` exited with 1, not 0",
                "    | applying 0002_notes",
                "    | no such table: notes",
            ],
        ),
        (
            "sleep 300 & echo $! > instance/sleeper.pid; echo waiting; wait",
            1,
            vec![
                "was still running after its timeout of 1s and was ended",
                "    | waiting",
            ],
        ),
    ];
    for (i, (command, timeout, said)) in failing.into_iter().enumerate() {
        std::fs::write(app.join("web.config"), &web_config).unwrap();
        std::fs::write(
            app.join("wheelhouse/requirements.txt"),
            format!("flask==3.1.3\n# set-up try {i}\n"),
        )
        .unwrap();
        write_install_file(app, &[(record, 60, "always"), (command, timeout, "always")]);
        let (code, out) = install(app, &[]);
        assert_eq!(code, 1, "{command}: {out}");
        assert!(
            out.contains("install step \"set-up commands\" failed"),
            "{out}"
        );
        for s in said {
            assert!(out.contains(s), "{s:?} in {out}");
        }
        assert!(!out.contains("step 6/8"), "no self-test, no switch: {out}");
        assert_eq!(
            std::fs::read_to_string(state.join("current")).unwrap(),
            current
        );
        assert!(
            !std::fs::read_to_string(app.join("web.config"))
                .unwrap()
                .contains("IISWSGI_VENV")
        );
        assert!(venv_imports_flask(&live), "the live venv is untouched");
    }
    // The timeout ended what the command started, not just the shell.
    let pid = std::fs::read_to_string(app.join("instance/sleeper.pid")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "sleep {pid} still runs: {stat}"
    );
}
