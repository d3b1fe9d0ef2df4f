//! The gateway that installs and serves the app on this machine (verify's
//! Linux host), one of two builds:
//!
//! - the `iiswsgi_gateway` extension module (gateway/module), run by the
//!   app's own interpreter: the wheel embedded in this program when it was
//!   built for release (build.rs), or IISWSGI_GATEWAY_WHEEL. It links no
//!   libpython, so any CPython 3.9+ serves (interpreter.rs picks the one
//!   the package's wheelhouse is for). The install step runs under that
//!   Python with the unpacked module; the wheel is added to the app's
//!   wheelhouse, so the venv the install step makes has it, and the app
//!   is served by that venv's `iiswsgi-gateway` script.
//! - the gateway's Linux executable, embedding the CPython it was built
//!   against (`--built-for`): IISWSGI_GATEWAY_BIN, or beside this program
//!   (a contributor's `cargo build`), or on PATH.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::interpreter::{self, Picked};
use super::run::{VerifyError, failed};

include!(concat!(env!("OUT_DIR"), "/bundled_gateway_wheel.rs"));

/// How the module is started from a folder holding it (`sys.path[0]` is
/// the `-c` entry; the gateway takes it out again before loading the app).
const BOOTSTRAP: &str =
    "import sys; sys.path[0] = sys.argv.pop(1); from iiswsgi_gateway import main; main()";

#[derive(Debug)]
pub enum LinuxGateway {
    Executable {
        exe: PathBuf,
        /// The interpreter it embeds, which makes the venv.
        python: PathBuf,
    },
    Module {
        wheel: PathBuf,
        /// The wheel's files, for running the install step.
        unpacked: PathBuf,
        picked: Picked,
        /// uv, which makes the venv when it is here (IISWSGI_INSTALL_UV).
        uv: Option<PathBuf>,
    },
}

/// The module wheel to use, written into `work` when it is the embedded one.
fn module_wheel(work: &Path) -> Result<Option<PathBuf>, VerifyError> {
    if let Some(p) = std::env::var_os("IISWSGI_GATEWAY_WHEEL").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(Some(p))
        } else {
            Err(failed(format!(
                "IISWSGI_GATEWAY_WHEEL={} is not a file",
                p.display()
            )))
        };
    }
    let Some((name, bytes)) = GATEWAY_WHEEL else {
        return Ok(None);
    };
    let dir = work.join("gateway");
    std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    Ok(Some(path))
}

/// Extracts the wheel's files (a zip) into `into`.
fn unpack_wheel(wheel: &Path, into: &Path) -> Result<(), VerifyError> {
    let bad = |e: &dyn std::fmt::Display| failed(format!("{}: {e}", wheel.display()));
    let file = std::fs::File::open(wheel).map_err(|e| bad(&e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(&e))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(&e))?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(bad(&format!(
                "{:?} leaves the wheel's folder",
                entry.name()
            )));
        };
        let target = into.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| bad(&e))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| bad(&e))?;
        }
        let mut out = std::fs::File::create(&target).map_err(|e| bad(&e))?;
        std::io::copy(&mut entry, &mut out).map_err(|e| bad(&e))?;
    }
    Ok(())
}

impl LinuxGateway {
    /// Picks the gateway (and, for the module, the interpreter for a
    /// wheelhouse built for `wanted`).
    pub fn choose(work: &Path, wanted: Option<(u32, u32)>) -> Result<Self, VerifyError> {
        if std::env::var_os("IISWSGI_GATEWAY_BIN").is_none()
            && let Some(wheel) = module_wheel(work)?
        {
            let unpacked = work.join("gateway").join("module");
            unpack_wheel(&wheel, &unpacked)?;
            let picked = interpreter::pick(wanted)?;
            return Ok(LinuxGateway::Module {
                wheel,
                unpacked,
                picked,
                uv: crate::wheelhouse::find_tool("IISWSGI_UV", &["uv"]),
            });
        }
        let exe = super::run::gateway_binary()?;
        let python = super::run::embedded_python(&exe)?;
        Ok(LinuxGateway::Executable { exe, python })
    }

    /// The Python the app's venv is made with.
    pub fn python(&self) -> &Path {
        match self {
            LinuxGateway::Executable { python, .. } => python,
            LinuxGateway::Module { picked, .. } => &picked.python,
        }
    }

    /// What the report says of it.
    pub fn describe(&self) -> String {
        match self {
            LinuxGateway::Executable { exe, python } => format!(
                "gateway: the Linux executable {} (embeds {})",
                exe.display(),
                python.display()
            ),
            LinuxGateway::Module {
                wheel, picked, uv, ..
            } => format!(
                "gateway: the extension module {}, run by Python {}.{} at {} ({}); the venv made by {}",
                wheel.file_name().unwrap_or_default().to_string_lossy(),
                picked.version.0,
                picked.version.1,
                picked.python.display(),
                picked.how,
                if uv.is_some() {
                    "uv"
                } else {
                    "its venv module"
                }
            ),
        }
    }

    /// Makes the app's wheelhouse install the gateway too (the module: the
    /// venv the install step makes is the one that serves).
    pub fn add_to_wheelhouse(&self, wheelhouse: &Path) -> Result<(), VerifyError> {
        let LinuxGateway::Module { wheel, .. } = self else {
            return Ok(());
        };
        let name = wheel.file_name().unwrap_or_default();
        let io = |e: std::io::Error| failed(format!("{}: {e}", wheelhouse.display()));
        std::fs::copy(wheel, wheelhouse.join(name)).map_err(io)?;
        let version = name
            .to_string_lossy()
            .split('-')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let requirements = wheelhouse.join("requirements.txt");
        let mut text = std::fs::read_to_string(&requirements).map_err(io)?;
        if !text.ends_with('\n') && !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!(
            "# added by iiswsgi verify: the gateway, run by this venv's python\niiswsgi-gateway=={version}\n"
        ));
        std::fs::write(&requirements, text).map_err(io)
    }

    /// The install step's environment: uv for making the venv, when here.
    pub fn install_env(&self) -> Vec<(&'static str, PathBuf)> {
        match self {
            LinuxGateway::Module { uv: Some(uv), .. } => vec![("IISWSGI_INSTALL_UV", uv.clone())],
            _ => Vec::new(),
        }
    }

    /// The command that runs the gateway with `venv`'s python (or the
    /// picked one, without a venv).
    pub fn command(&self, venv: Option<&Path>) -> Command {
        match self {
            LinuxGateway::Executable { exe, .. } => Command::new(exe),
            LinuxGateway::Module {
                unpacked, picked, ..
            } => {
                if let Some(script) = venv
                    .map(|v| v.join("bin").join("iiswsgi-gateway"))
                    .filter(|s| s.is_file())
                {
                    return Command::new(script);
                }
                let python = venv.map_or_else(|| picked.python.clone(), |v| v.join("bin/python"));
                let mut cmd = Command::new(python);
                cmd.args([OsString::from("-c"), BOOTSTRAP.into(), unpacked.into()]);
                cmd
            }
        }
    }
}
