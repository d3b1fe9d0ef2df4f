//! The Python `verify` serves the app with on this machine, picked as a
//! server's would be: the CPython the package's wheelhouse was built for
//! (its platform wheels' `cpXY` tag), found as `pythonX.Y` on PATH, else
//! by `uv python find`, else installed by `uv python install` where the
//! network allows; any Python 3 when the wheelhouse is pure Python.
//! IISWSGI_VERIFY_PYTHON names one outright.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::run::{VerifyError, failed};

/// The interpreter picked, and how, for the report.
#[derive(Debug, Clone)]
pub struct Picked {
    pub python: PathBuf,
    pub version: (u32, u32),
    pub how: String,
}

/// (major, minor) and `sys.executable` of `python`, if it runs.
fn probe(python: &Path) -> Option<((u32, u32), PathBuf)> {
    let out = Command::new(python)
        .args([
            "-c",
            "import sys; print('%d %d' % sys.version_info[:2]); print(sys.executable)",
        ])
        .env_remove("PYTHONHOME")
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let mut numbers = lines.next()?.split_whitespace();
    let version = (numbers.next()?.parse().ok()?, numbers.next()?.parse().ok()?);
    let exe = PathBuf::from(lines.next()?.trim());
    Some((
        version,
        if exe.as_os_str().is_empty() {
            python.to_owned()
        } else {
            exe
        },
    ))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn uv_python(uv: &Path, verb: &str, version: &str) -> Option<PathBuf> {
    let out = Command::new(uv)
        .args(["python", verb, version])
        .env_remove("VIRTUAL_ENV")
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(PathBuf::from)
}

/// The version a server's Python command names: `py -3.12` (the py
/// launcher), or a path such as `C:\Python312\python.exe` or
/// `C:\Python\3.12\python.exe`.
pub fn version_named(command: &str) -> Option<(u32, u32)> {
    static VERSION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)(?:^py\s+-|python[\\/]?)(3)\.?(\d{1,2})\b").expect("valid regex")
    });
    let caps = VERSION.captures(command.trim())?;
    Some((caps[1].parse().ok()?, caps[2].parse().ok()?))
}

/// Picks the interpreter for a wheelhouse built for `wanted` (None: any).
pub fn pick(wanted: Option<(u32, u32)>) -> Result<Picked, VerifyError> {
    let matches = |v: (u32, u32)| wanted.is_none_or(|w| w == v) && v.0 == 3;
    if let Some(given) = std::env::var_os("IISWSGI_VERIFY_PYTHON").filter(|v| !v.is_empty()) {
        let given = PathBuf::from(given);
        let (version, python) = probe(&given).ok_or_else(|| {
            failed(format!(
                "IISWSGI_VERIFY_PYTHON={} does not run as a Python",
                given.display()
            ))
        })?;
        if !matches(version) {
            let (major, minor) = wanted.unwrap_or((3, 0));
            return Err(failed(format!(
                "IISWSGI_VERIFY_PYTHON={} is Python {}.{}, but the package's wheelhouse is for Python {major}.{minor}",
                given.display(),
                version.0,
                version.1
            )));
        }
        return Ok(Picked {
            python,
            version,
            how: "IISWSGI_VERIFY_PYTHON".into(),
        });
    }
    let mut names = Vec::new();
    if let Some((major, minor)) = wanted {
        names.push(format!("python{major}.{minor}"));
    }
    names.extend(["python3".to_string(), "python".to_string()]);
    for name in &names {
        if let Some(found) = on_path(name)
            && let Some((version, python)) = probe(&found)
            && matches(version)
        {
            return Ok(Picked {
                python,
                version,
                how: format!("{name} on PATH"),
            });
        }
    }
    let spec = wanted.map_or_else(|| "3".to_string(), |(a, b)| format!("{a}.{b}"));
    let uv = crate::wheelhouse::find_tool("IISWSGI_UV", &["uv"]);
    if let Some(uv) = &uv {
        for verb in ["find", "install"] {
            if verb == "install" {
                // Installs nothing when it is there; prints nothing either,
                // so `find` is asked again afterwards.
                let _ = Command::new(uv)
                    .args(["python", "install", &spec])
                    .env_remove("VIRTUAL_ENV")
                    .output();
            }
            if let Some(found) = uv_python(uv, "find", &spec)
                && let Some((version, python)) = probe(&found)
                && matches(version)
            {
                return Ok(Picked {
                    python,
                    version,
                    how: if verb == "find" {
                        "uv python find".into()
                    } else {
                        "uv python install".into()
                    },
                });
            }
        }
    }
    Err(failed(format!(
        "no Python {spec} was found here (none of {} on PATH is one{}): the package's wheelhouse is for Python {spec}, \
         so the app must be served by one; install it (`uv python install {spec}`, or your system's python{spec}), \
         or name one with IISWSGI_VERIFY_PYTHON",
        names.join(", "),
        if uv.is_some() {
            "; uv could neither find nor install one"
        } else {
            "; uv, which could install one, is not on PATH either"
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_python_command_names_its_version() {
        assert_eq!(version_named("py -3.12"), Some((3, 12)));
        assert_eq!(version_named(" py -3.9 "), Some((3, 9)));
        assert_eq!(version_named(r"C:\Python311\python.exe"), Some((3, 11)));
        assert_eq!(version_named(r"D:\Python\3.13\python.exe"), Some((3, 13)));
        assert_eq!(version_named(r"C:\tools\python.exe"), None);
        assert_eq!(version_named("py"), None);
    }
}
