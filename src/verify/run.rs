//! `iiswsgi verify`: the package installed as Web Deploy would install it,
//! then served and asked for pages, on this machine.
//!
//! ```text
//! unpack (checked) ─▶ parameters (SetParameters.xml, --set-param) ─▶ files
//!   ─▶ providers reported (iisApp, setAcl, runCommand decoded)
//!   ─▶ install step and serving, on one of two hosts:
//!        Linux: the gateway's Linux build, --no-iis; platform wheels
//!          fetched for this machine at the pinned versions
//!        Wine (--windows): the package's own gateway exe and Windows
//!          wheels, with a real Windows CPython (wine.rs)
//!   ─▶ requests ─▶ checks
//! ```
//!
//! Everything happens in a temporary folder, removed afterwards.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::apply::apply;
use super::expectation::Expectation;
use super::fastcgi_client;
use super::linux_gateway::LinuxGateway;
use super::package::{Layout, unpack};
use super::parameters::{parse_declared, parse_set_parameters, resolve};
use crate::xml_tree::Document;

#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    pub package: PathBuf,
    pub set_param_file: Option<PathBuf>,
    pub set_params: Vec<(String, String)>,
    /// `PATH[=STATUS][:TEXT]` each (expectation.rs); `/` when empty.
    pub requests: Vec<String>,
    pub expect_status: Option<u16>,
    pub expect_text: Option<String>,
    /// Ask as if the app were the site's root, not the IIS application
    /// Web Deploy makes (`Default Web Site/<App>`, so `SCRIPT_NAME=/<App>`).
    pub at_root: bool,
    pub host: Host,
}

/// Where the package's install step runs and its app is served.
#[derive(Debug, Clone, Default)]
pub enum Host {
    /// This machine: the gateway's Linux build.
    #[default]
    Linux,
    /// The package's Windows half under Wine (`verify --windows`).
    Wine(super::wine::WindowsHost),
}

/// One request's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Requested {
    pub path: String,
    pub status: u16,
    pub millis: u128,
    /// The body's first bytes, as text.
    pub body_start: String,
    /// A redirect's Location.
    pub location: Option<String>,
    /// Answered by IIS from a static folder, without the app.
    pub static_file: bool,
    /// Why it fails the verification, if it does.
    pub failure: Option<String>,
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    /// What was done, step by step, for people.
    pub steps: Vec<String>,
    pub warnings: Vec<String>,
    pub requests: Vec<Requested>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.requests.iter().all(|r| r.failure.is_none())
    }
}

/// What stopped the verification: bad parameters (exit 78) or a failure of
/// the package or the app (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Parameters(String),
    #[error("{0}")]
    Failed(String),
}

pub(super) fn failed(message: impl Into<String>) -> VerifyError {
    VerifyError::Failed(message.into())
}

/// The Linux build of the gateway: IISWSGI_GATEWAY_BIN, beside this
/// program (cargo puts both in target/<profile>/), or on PATH.
pub fn gateway_binary() -> Result<PathBuf, VerifyError> {
    if let Some(p) = std::env::var_os("IISWSGI_GATEWAY_BIN").map(PathBuf::from) {
        return if p.is_file() {
            Ok(p)
        } else {
            Err(failed(format!(
                "IISWSGI_GATEWAY_BIN={} is not a file",
                p.display()
            )))
        };
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("iiswsgi-gateway")));
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("iiswsgi-gateway"))
            .find(|p| p.is_file())
    });
    beside.filter(|p| p.is_file()).or(on_path).ok_or_else(|| {
        failed("the gateway's Linux build (iiswsgi-gateway) was not found beside iiswsgi or on PATH: build it with `cargo build -p iiswsgi-gateway`, or set IISWSGI_GATEWAY_BIN")
    })
}

/// The interpreter the gateway embeds (`--built-for`): the venv must be
/// made with it.
pub(super) fn embedded_python(gateway: &Path) -> Result<PathBuf, VerifyError> {
    let out = Command::new(gateway)
        .arg("--built-for")
        .output()
        .map_err(|e| failed(format!("cannot run {}: {e}", gateway.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| failed(format!("{} --built-for said {text:?}", gateway.display())))
}

/// The iisApp provider's path in the manifest (Manifest.xml's
/// `<iisApp>`, or archive.xml's, under its root or as its root): where the
/// app's folder is in the package.
fn app_folder(layout: Layout, manifest: &str) -> Result<String, VerifyError> {
    let name = layout.manifest();
    let doc = Document::parse(manifest).map_err(|e| failed(format!("{name}: {e}")))?;
    let is_iis_app =
        |n: &str| n.eq_ignore_ascii_case("iisApp") || n.eq_ignore_ascii_case("MSDeploy.iisApp");
    std::iter::once(&doc.root)
        .chain(doc.root.elements())
        .filter(|e| is_iis_app(&e.name))
        .find_map(|e| e.attribute("path"))
        .map(|path| layout.content_folder(path))
        .ok_or_else(|| {
            failed(format!(
                "{name} has no <iisApp path=...>: nothing to install as an IIS application"
            ))
        })
}

/// The gateway serving the installed app, stopped when dropped.
pub(super) struct Served {
    pub child: Child,
    pub endpoint: fastcgi_client::Endpoint,
    /// Where the gateway writes its log (WSGI_LOG).
    pub log: PathBuf,
    /// How long a request may take (Wine starts Python slowly).
    pub timeout: Duration,
}

impl Drop for Served {
    /// SIGTERM first: a gateway on `--bind` is a supervisor that stops
    /// its worker processes (where PR_SET_PDEATHSIG does not exist, a
    /// SIGKILL would leave them serving); SIGKILL after 5 s.
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: kill() on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while cfg!(unix)
            && std::time::Instant::now() < deadline
            && matches!(self.child.try_wait(), Ok(None))
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Verifies the package into `report`: the steps done are recorded there
/// as they happen, so a failure still shows how far it got.
pub fn verify(request: &VerifyRequest, report: &mut VerifyReport) -> Result<(), VerifyError> {
    let work = tempfile::Builder::new()
        .prefix("iiswsgi-verify-")
        .tempdir()
        .map_err(|e| failed(e.to_string()))?;
    let prepared = lay_out(request, work.path(), report)?;
    let served = match &request.host {
        Host::Linux => install_and_serve(&prepared, report)?,
        Host::Wine(windows) => super::wine::install_and_serve(&prepared, windows, report)?,
    };
    ask(&served, &prepared, request, report)
}

/// The package laid out in `work` as Web Deploy lays it out, its
/// parameters applied (the package's defaults, the file's values, then
/// the flags), its providers reported; refused unless it is a WSGI app.
pub fn lay_out(
    request: &VerifyRequest,
    work: &Path,
    report: &mut VerifyReport,
) -> Result<Prepared, VerifyError> {
    let root = work.join("package");
    let unpacked = unpack(&request.package, &root).map_err(|e| failed(e.to_string()))?;
    report.steps.push(format!(
        "unpacked {} entries of {}",
        unpacked.files.len(),
        request.package.display()
    ));

    let layout = unpacked.layout;
    // unpack() refuses a package without it; named as the package spells it.
    let manifest_file = unpacked
        .manifest_file()
        .unwrap_or_else(|| root.join(layout.manifest()));
    let manifest_name = manifest_file
        .file_name()
        .map_or_else(|| layout.manifest().into(), |n| n.to_string_lossy());
    let manifest = std::fs::read_to_string(&manifest_file)
        .map_err(|e| failed(format!("{manifest_name}: {e}")))?;
    let folder = app_folder(layout, &manifest)?;
    let app = root.join(&folder);

    // Parameters: the package's, valued from the file, then the flags.
    let declared = match unpacked.parameters_file() {
        Some(file) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| VerifyError::Parameters(format!("{}: {e}", file.display())))?;
            parse_declared(&text).map_err(|e| VerifyError::Parameters(e.to_string()))?
        }
        None => Vec::new(),
    };
    let mut given = Vec::new();
    if let Some(file) = &request.set_param_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| VerifyError::Parameters(format!("{}: {e}", file.display())))?;
        given.extend(
            parse_set_parameters(&text)
                .map_err(|e| VerifyError::Parameters(format!("{}: {e}", file.display())))?,
        );
    }
    given.extend(request.set_params.iter().cloned());
    let values = resolve(&declared, &given).map_err(|e| VerifyError::Parameters(e.to_string()))?;
    let applied = apply(&unpacked, &declared, &values).map_err(failed)?;
    report.steps.extend(applied.changes);
    report.warnings.extend(applied.warnings);
    let value_of_scope = |scope: &str| -> Option<String> {
        declared
            .iter()
            .zip(&values)
            .find(|(d, _)| {
                d.entries.iter().any(|e| {
                    e.kind.eq_ignore_ascii_case("ProviderPath")
                        && e.scope.eq_ignore_ascii_case(scope)
                })
            })
            .map(|(_, (_, v))| v.clone())
    };
    let iis_app = value_of_scope("iisApp").unwrap_or_else(|| format!("Default Web Site/{folder}"));
    report.steps.push(format!(
        "iisApp: {folder}/ would be installed as the IIS application {iis_app}"
    ));

    // ProviderPath entries set a provider's path to their value where
    // their regex matches it (the chosen IIS path reaches runCommand and
    // setAcl through them).
    let provider_path = |element: &str, path: &str| -> String {
        for (d, (_, value)) in declared.iter().zip(&values) {
            for e in &d.entries {
                if e.kind.eq_ignore_ascii_case("ProviderPath")
                    && e.scope.eq_ignore_ascii_case(element)
                    && regex::Regex::new(&e.r#match).is_ok_and(|re| re.is_match(path))
                {
                    return value.clone();
                }
            }
        }
        path.to_string()
    };
    // Providers: setAcl as a report, runCommand decoded (and checked).
    for p in crate::inspect::providers_in(&manifest_name, &manifest)
        .map_err(|e| failed(e.to_string()))?
    {
        if let Some(e) = &p.error {
            return Err(failed(format!("{manifest_name} <{}>: {e}", p.element)));
        }
        if !p.disagreements.is_empty() {
            return Err(failed(format!(
                "{manifest_name} <{}>: its provider options disagree with its attributes: {}",
                p.element,
                p.disagreements.join("; ")
            )));
        }
        let settings: Vec<String> = p.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let path = provider_path(
            &p.element,
            p.element_path
                .as_deref()
                .or(p.path.as_deref())
                .unwrap_or_default(),
        );
        let verb = if p.element.eq_ignore_ascii_case("runCommand") {
            "would run"
        } else {
            "would sync"
        };
        report.steps.push(format!(
            "{}: Web Deploy {verb} {:?} ({})",
            p.element,
            path,
            settings.join(", ")
        ));
    }
    if let Ok(doc) = Document::parse(&manifest) {
        for acl in doc
            .root
            .elements()
            .filter(|e| e.name.eq_ignore_ascii_case("setAcl"))
        {
            report.steps.push(format!(
                "setAcl: {} access on {} (not applied: no ACLs here)",
                acl.attribute("setAclAccess").unwrap_or("Read"),
                provider_path("setAcl", acl.attribute("path").unwrap_or_default())
            ));
        }
    }

    // Only a WSGI app can be served here: one whose web.config names a
    // handler (wfastcgi's setting) or runs this tool's gateway.
    let web_config = std::fs::read_dir(&app).ok().and_then(|entries| {
        entries
            .flatten()
            .find(|e| e.file_name().eq_ignore_ascii_case("web.config"))
            .and_then(|e| std::fs::read_to_string(e.path()).ok())
    });
    if !web_config
        .as_deref()
        .is_some_and(|t| t.contains("WSGI_HANDLER") || t.contains("iiswsgi-gateway"))
    {
        return Err(failed(format!(
            "{folder}/web.config {}: this is not a WSGI app for a FastCGI gateway, so nothing can be served here (its files and parameters were checked above)",
            if web_config.is_some() {
                "names no WSGI_HANDLER and no iiswsgi-gateway"
            } else {
                "is missing"
            }
        )));
    }

    Ok(Prepared {
        work: work.to_owned(),
        app,
        iis_app,
    })
}

/// The package laid out and parameterized, ready for its install step.
#[derive(Debug)]
pub struct Prepared {
    /// The working folder (the package is laid out in its `package/`).
    pub work: PathBuf,
    /// The app's folder (the iisApp content).
    pub app: PathBuf,
    /// The IIS application it would be (`Site/App`).
    pub iis_app: String,
}

/// Lists the install step's command lines in the report.
pub(super) fn report_install(report: &mut VerifyReport, install_log: &str, host: &str) {
    report.steps.push(format!(
        "install step: done {host} (IIS registration printed, not run)"
    ));
    // The commands it would run on IIS, and what it did about data
    // folders, set-up commands and the self-test (not the commands' own
    // output, which the failure message quotes when it matters).
    let mut section = "";
    for line in install_log.lines() {
        if let Some((_, name)) = line.strip_prefix("step ").and_then(|l| l.split_once(": ")) {
            section = name;
            continue;
        }
        let text = line.trim();
        let shown = text.starts_with('$')
            || (matches!(section, "data folders" | "set-up commands" | "self-test")
                && !text.starts_with('|'));
        if shown {
            let label = match section {
                "data folders" => "data folder: ",
                "set-up commands" => "set-up: ",
                "self-test" => "self-test: ",
                _ => "",
            };
            report.steps.push(format!("  {label}{text}"));
        }
    }
}

/// Waits until the gateway accepts connections; fails if it exits first.
pub(super) fn wait_listening(served: &mut Served, within: Duration) -> Result<(), VerifyError> {
    let deadline = Instant::now() + within;
    while !served.endpoint.is_listening() {
        if let Ok(Some(status)) = served.child.try_wait() {
            let log = std::fs::read_to_string(&served.log).unwrap_or_default();
            return Err(failed(format!(
                "the gateway exited ({status}) before it listened:\n{}",
                log.trim()
            )));
        }
        if Instant::now() > deadline {
            return Err(failed(format!(
                "the gateway did not listen within {} s",
                within.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The install step and the server on this machine (linux_gateway.rs).
fn install_and_serve(
    prepared: &Prepared,
    report: &mut VerifyReport,
) -> Result<Served, VerifyError> {
    let Prepared { work, app, iis_app } = prepared;
    let wheelhouse = app.join("wheelhouse");
    let has_wheelhouse = wheelhouse.join("requirements.txt").is_file();
    // The Python the server runs (web.config's IISWSGI_PYTHON, `py -3.12`
    // from [python] version or the PythonInterpreter parameter), else the
    // one the wheelhouse's platform wheels were built for.
    let wanted = app_setting(app, "IISWSGI_PYTHON")
        .as_deref()
        .and_then(super::interpreter::version_named)
        .or_else(|| {
            has_wheelhouse
                .then(|| super::local_wheels::python_version(&wheelhouse))
                .flatten()
        });
    let gateway = LinuxGateway::choose(work, wanted)?;
    report.steps.push(gateway.describe());
    let python = gateway.python().to_owned();
    if has_wheelhouse {
        let replaced = super::local_wheels::localize(&wheelhouse, &python).map_err(failed)?;
        if !replaced.is_empty() {
            report.steps.push(format!(
                "wheelhouse: {} fetched for this machine at the same versions",
                replaced.join(", ")
            ));
        }
        gateway.add_to_wheelhouse(&wheelhouse)?;
    }
    let out = gateway
        .command(None)
        .envs(gateway.install_env())
        .env("PIP_NO_CACHE_DIR", "1")
        .env("UV_NO_CACHE", "1")
        .args(["install", "--no-iis", "--app-dir"])
        .arg(app)
        .args(["--iis-app", iis_app, "--python"])
        .arg(&python)
        .arg("--state-dir")
        .arg(work.join("state"))
        .output()
        .map_err(|e| failed(format!("cannot run the gateway's install step: {e}")))?;
    let install_log = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(failed(format!(
            "the install step failed:\n{}{}",
            install_log.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    report_install(report, &install_log, "on Linux");

    let endpoint = fastcgi_client::Endpoint::local(work)
        .map_err(|e| failed(format!("no place for the gateway to listen: {e}")))?;
    let log = work.join("gateway.log");
    let venv = installed_venv(app);
    let child = gateway
        .command(venv.as_deref())
        .arg("--bind")
        .arg(endpoint.bind_arg())
        .arg("--app-dir")
        .arg(app)
        .env("WSGI_LOG", &log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("cannot start the gateway: {e}")))?;
    let mut served = Served {
        child,
        endpoint,
        log,
        timeout: Duration::from_secs(60),
    };
    wait_listening(&mut served, Duration::from_secs(10))?;
    Ok(served)
}

/// The venv the install step switched web.config to (IISWSGI_VENV), if any.
fn installed_venv(app: &Path) -> Option<PathBuf> {
    let value = PathBuf::from(app_setting(app, "IISWSGI_VENV")?);
    Some(if value.is_absolute() {
        value
    } else {
        app.join(value)
    })
}

/// An `<appSettings>` value of the app's web.config.
fn app_setting(app: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(app.join("web.config")).ok()?;
    let doc = Document::parse(&text).ok()?;
    let mut stack = vec![&doc.root];
    while let Some(e) = stack.pop() {
        if e.name == "add" && e.attribute("key") == Some(key) {
            return e.attribute("value").map(str::to_owned);
        }
        stack.extend(e.elements());
    }
    None
}

/// Sends the requests and checks the answers. A path in a folder IIS
/// serves itself (a web.config there removes the Python handler) is
/// answered from the laid-out files, as IIS would, without the app.
fn ask(
    served: &Served,
    prepared: &Prepared,
    request: &VerifyRequest,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let specs = if request.requests.is_empty() {
        vec!["/".to_string()]
    } else {
        request.requests.clone()
    };
    let app_path = if request.at_root {
        String::new()
    } else {
        prepared
            .iis_app
            .split_once('/')
            .map(|(_, p)| format!("/{}", p.trim_matches('/')))
            .filter(|p| p != "/")
            .unwrap_or_default()
    };
    if !app_path.is_empty() {
        report.steps.push(format!(
            "requests: as IIS sends them to the application {app_path} (--at-root: at the site's root)"
        ));
    }
    for spec in specs {
        let expected = Expectation::parse(&spec).map_err(failed)?;
        let url = format!("{app_path}{}", expected.path);
        let started = Instant::now();
        let (response, static_file) =
            match super::static_site::answer(&prepared.app, &expected.path) {
                Some(response) => (response, true),
                None => (
                    fastcgi_client::get(&served.endpoint, &url, &app_path, served.timeout)
                        .map_err(|e| failed(format!("GET {url}: {e}")))?,
                    false,
                ),
            };
        let millis = started.elapsed().as_millis();
        let text = String::from_utf8_lossy(&response.body).into_owned();
        let location = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.clone());
        let failure = expected.failure(
            request.expect_status,
            request.expect_text.as_deref(),
            response.status,
            location.as_deref(),
            &text,
        );
        if failure.is_some() && !static_file {
            let gateway_log = std::fs::read_to_string(&served.log).unwrap_or_default();
            let tail: Vec<&str> = gateway_log
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            report
                .warnings
                .push(format!("the gateway's log ends:\n{}", tail.join("\n")));
        }
        report.requests.push(Requested {
            path: url,
            status: response.status,
            millis,
            body_start: text.chars().take(200).collect(),
            location,
            static_file,
            failure,
        });
    }
    Ok(())
}
