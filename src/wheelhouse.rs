//! The offline wheelhouse: `[python] requirements` resolved for the
//! server's Windows and CPython, downloaded as wheels, cached, bundled
//! under `<app>/wheelhouse/` with the pinned `requirements.txt` the install
//! step installs from (`pip --no-index`), so the server needs no internet.
//!
//! Resolution is uv's (`uv pip compile --python-platform`): it evaluates
//! environment markers for Windows (`colorama; platform_system ==
//! "Windows"`, which click needs there); pip evaluates them for the machine
//! it runs on. The pinned list is then fetched with `pip download --no-deps
//! --only-binary=:all: --platform … --python-version …`, binary wheels only:
//! nothing may need a compiler on the server.
//!
//! The cache (`<cache>/iiswsgi/wheelhouse/<key>/`) is keyed by the
//! requirements' bytes and those of every file they include (`-r`, `-c`),
//! the extras and exclusions, the Python version and the platform; a complete
//! entry is reused as it is, so the same requirements and cache give the
//! same package bytes, and rebuilds work offline.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::manifest::model::Arch;
use crate::manifest::{KeyPath, Project};
use crate::package::zip_writer::hex;

/// A resolved wheelhouse: the folder, and its files in name order; with
/// `install-project`, the project's own wheel and the pinned list that
/// names it too (they replace the cached `requirements.txt`).
#[derive(Debug, Clone)]
pub struct Wheelhouse {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub project_wheel: Option<ProjectWheel>,
}

/// The project built as a wheel (`[python] install-project`).
#[derive(Debug, Clone)]
pub struct ProjectWheel {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// The cached pinned requirements, then `name==version` of the project.
    pub requirements: String,
}

/// The requirements file and every file it includes (`-r`, `-c`,
/// `--requirement`, `--constraint`, relative to the including file), each
/// once: what the resolution depends on, for the cache key.
pub fn requirement_files(first: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut queue = vec![first.to_path_buf()];
    while let Some(path) = queue.pop() {
        if out.iter().any(|(p, _)| *p == path) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue; // uv names a missing include itself
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for line in String::from_utf8_lossy(&bytes).lines() {
            let line = line.split(" #").next().unwrap_or(line).trim();
            let include = ["--requirement", "--constraint", "-r", "-c"]
                .iter()
                .find_map(|flag| {
                    let rest = line.strip_prefix(flag)?;
                    let rest = rest
                        .strip_prefix('=')
                        .or_else(|| rest.strip_prefix([' ', '\t']))?;
                    Some(rest.trim())
                })
                .filter(|r| !r.is_empty() && !r.contains("://"));
            if let Some(rel) = include {
                queue.push(dir.join(rel));
            }
        }
        out.push((path, bytes));
    }
    out
}

/// pip's `--platform` and uv's `--python-platform` for a gateway arch.
pub fn platform(arch: Arch) -> (&'static str, &'static str) {
    match arch {
        Arch::X64 => ("win_amd64", "x86_64-pc-windows-msvc"),
        Arch::X86 => ("win32", "i686-pc-windows-msvc"),
        Arch::Arm64 => ("win_arm64", "aarch64-pc-windows-msvc"),
    }
}

/// `python -m pip download`, quiet, binary wheels only, no dependencies
/// (the caller names every distribution it wants).
pub fn pip_download(python: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
    ]);
    cmd
}

/// A program from `IISWSGI_<VAR>`, beside this program, or on PATH.
/// Beside it first: `pip install iiswsgi` puts its `uv` dependency (and
/// the venv's python, with pip) in the same bin folder, whether or not
/// that folder is on PATH (`uvx`, a venv not activated).
pub fn find_tool(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    candidates(names).next()
}

/// A Python with pip, for `pip download`: IISWSGI_PIP_PYTHON, else the
/// first python beside this program or on PATH that has pip (the venv
/// `uv tool install` makes has none; a system python3 may).
pub fn find_pip_python() -> Option<PathBuf> {
    if std::env::var_os("IISWSGI_PIP_PYTHON").is_some_and(|v| !v.is_empty()) {
        return find_tool("IISWSGI_PIP_PYTHON", &[]);
    }
    candidates(&["python3", "python"]).find(|p| {
        Command::new(p)
            .args(["-m", "pip", "--version"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The files named `names` (with the platform's .exe) beside this program,
/// then in each PATH folder, in that order.
fn candidates(names: &[&str]) -> impl Iterator<Item = PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned));
    let paths = std::env::var_os("PATH").unwrap_or_default();
    let names: Vec<String> = names
        .iter()
        .map(|n| format!("{n}{}", std::env::consts::EXE_SUFFIX))
        .collect();
    beside
        .into_iter()
        .chain(std::env::split_paths(&paths).collect::<Vec<_>>())
        .flat_map(move |d| names.iter().map(|n| d.join(n)).collect::<Vec<_>>())
        .filter(|p| p.is_file())
}

/// The requirement a failed resolution or download names, from its output.
pub fn culprit(output: &str) -> Option<String> {
    for line in output.lines() {
        let l = line.trim();
        // pip: "ERROR: No matching distribution found for uvloop==0.21.0"
        if let Some(rest) = l.split("No matching distribution found for ").nth(1) {
            return Some(rest.trim().to_string());
        }
        // uv: "Because uvloop==0.21.0 has no wheels with a matching platform tag ..."
        if let Some(rest) = l
            .strip_prefix("╰─▶ Because ")
            .or_else(|| l.strip_prefix("Because "))
        {
            return rest.split_whitespace().next().map(str::to_string);
        }
    }
    None
}

/// Resolves (or finds in the cache) the wheelhouse for `project`'s
/// `[python]`; None when it has no requirements.
pub fn resolve(project: &Project) -> Result<Option<Wheelhouse>, crate::Error> {
    let Some(py) = &project.manifest.python else {
        return Ok(None);
    };
    let Some(req_rel) = &py.requirements else {
        return Ok(None);
    };
    let at = KeyPath::root().key("python");
    let arch = project
        .manifest
        .gateway
        .as_ref()
        .map_or(Arch::X64, |g| g.arch);
    let (pip_platform, uv_platform) = platform(arch);
    let req_path = project.root.join(req_rel);
    std::fs::metadata(&req_path).map_err(|e| {
        project
            .error_at(
                &at.key("requirements"),
                format!("cannot read `{}`: {e}", req_rel.display()),
            )
            .with_help("the path is relative to iiswsgi.toml")
    })?;
    let sources = requirement_files(&req_path);
    // HttpPlatformHandler starts waitress, so it must be in the wheelhouse.
    let extra: &[u8] =
        if project.manifest.iis.hosting == crate::manifest::model::Hosting::HttpPlatform {
            b"waitress\n"
        } else {
            b""
        };
    let mut key = Sha256::new();
    key.update(format!(
        "iiswsgi wheelhouse v2\n{}\n{pip_platform}\nextras {:?}\nexclude {:?}\n",
        py.version, py.extras, py.exclude
    ));
    for (path, bytes) in &sources {
        let name = path.strip_prefix(&project.root).unwrap_or(path);
        key.update(format!("{} {}\n", name.display(), bytes.len()));
        key.update(bytes);
    }
    key.update(b"\n--\n");
    key.update(extra);
    let key = hex(&key.finalize());
    let dir = crate::gateway::download::cache_dir()
        .join("wheelhouse")
        .join(&key[..32]);
    if !dir.join(".complete").is_file() {
        fetch(
            project,
            &req_path,
            extra,
            &py.version,
            pip_platform,
            uv_platform,
            &dir,
        )?;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|source| crate::Error::Io {
            path: dir.clone(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n != ".complete"))
        .collect();
    files.sort();
    let project_wheel = if py.install_project {
        let pinned = std::fs::read_to_string(dir.join("requirements.txt")).map_err(|source| {
            crate::Error::Io {
                path: dir.join("requirements.txt"),
                source,
            }
        })?;
        Some(build_project_wheel(project, &pinned)?)
    } else {
        None
    };
    Ok(Some(Wheelhouse {
        dir,
        files,
        project_wheel,
    }))
}

/// Builds the project as a wheel (`uv build --wheel`, in an isolated build
/// environment, as pip would on the server), for `[python] install-project`.
fn build_project_wheel(project: &Project, pinned: &str) -> Result<ProjectWheel, crate::Error> {
    let at = KeyPath::root().key("python").key("install-project");
    let fail = |message: String| -> crate::Error {
        project
            .error_at(&at, message)
            .with_help("install-project builds the project with `uv build --wheel`: it needs a pyproject.toml (or setup.py) with a name and a version")
            .into()
    };
    let uv = find_tool("IISWSGI_UV", &["uv"]).ok_or_else(|| {
        fail("building the project's wheel needs uv, which is not on PATH".into())
    })?;
    let out = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    let built = Command::new(&uv)
        .args(["build", "--wheel", "--quiet", "--out-dir"])
        .arg(out.path())
        .arg(&project.root)
        .env(
            "SOURCE_DATE_EPOCH",
            crate::package::source_date_epoch()
                .unwrap_or(315_532_800)
                .to_string(),
        )
        .output()
        .map_err(|e| fail(format!("cannot run {}: {e}", uv.display())))?;
    if !built.status.success() {
        return Err(fail(format!(
            "building the project's wheel failed:\n{}{}",
            String::from_utf8_lossy(&built.stdout),
            String::from_utf8_lossy(&built.stderr)
        )));
    }
    let wheel = std::fs::read_dir(out.path())
        .map_err(|e| fail(e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| fail("uv build made no wheel".into()))?;
    let file_name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl
    let mut parts = file_name.split('-');
    let (name, version) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let bytes = std::fs::read(&wheel).map_err(|e| fail(e.to_string()))?;
    Ok(ProjectWheel {
        requirements: format!("{}\n{name}=={version}\n", pinned.trim_end()),
        file_name,
        bytes,
    })
}

fn fetch(
    project: &Project,
    requirements: &Path,
    extra: &[u8],
    version: &str,
    pip_platform: &str,
    uv_platform: &str,
    dir: &Path,
) -> Result<(), crate::Error> {
    let at = KeyPath::root().key("python").key("requirements");
    let tool_error = |what: &str, help: &str| -> crate::Error {
        project
            .error_at(&at, what.to_string())
            .with_help(help.to_string())
            .into()
    };
    let uv = find_tool("IISWSGI_UV", &["uv"]).ok_or_else(|| {
        tool_error(
            "resolving the requirements for Windows needs uv, which is not on PATH",
            "pip install uv (or set IISWSGI_UV); pip alone resolves environment markers for this machine, not for Windows",
        )
    })?;
    let python = find_pip_python().ok_or_else(|| {
        tool_error(
            "downloading wheels needs pip: no python3 with pip beside iiswsgi or on PATH",
            "install Python 3 with pip, or set IISWSGI_PIP_PYTHON to a python with pip",
        )
    })?;
    let parent = dir.parent().expect("the cache folder has a parent");
    std::fs::create_dir_all(parent).map_err(|source| crate::Error::Io {
        path: parent.to_path_buf(),
        source,
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempdir_in(parent)
        .map_err(|source| crate::Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    let pinned = staging.path().join("requirements.txt");
    // The project's own file, read where it is: its `-r`/`-c` includes are
    // relative to it, and uv reads a pyproject.toml by its name.
    let input_dir = staging.path().join(".in");
    let mut input_files = vec![requirements.to_path_buf()];
    let py = project
        .manifest
        .python
        .as_ref()
        .expect("a wheelhouse is resolved for [python]");
    let write_input = |name: &str, bytes: &[u8]| -> Result<PathBuf, crate::Error> {
        let path = input_dir.join(name);
        std::fs::create_dir_all(&input_dir)
            .and_then(|_| std::fs::write(&path, bytes))
            .map_err(|source| crate::Error::Io {
                path: path.clone(),
                source,
            })?;
        Ok(path)
    };
    if !extra.is_empty() {
        input_files.push(write_input("iiswsgi-hosting.txt", extra)?);
    }
    // An excluded distribution is overridden to apply only off Windows:
    // the resolution for Windows then needs neither it nor what only it
    // needs.
    let overrides: String = py
        .exclude
        .iter()
        .map(|name| format!("{name} ; sys_platform != 'win32'\n"))
        .collect();
    let override_file = if overrides.is_empty() {
        None
    } else {
        Some(write_input("iiswsgi-exclude.txt", overrides.as_bytes())?)
    };
    let run = |cmd: &mut Command| -> Result<(), String> {
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    };
    let no_wheel = |output: String, step: &str| -> crate::Error {
        let message = match culprit(&output) {
            Some(req) => format!(
                "requirement `{req}` has no wheel for CPython {version} on {pip_platform} ({step})"
            ),
            None => format!("{step} failed:\n{}", output.trim()),
        };
        project
            .error_at(&at, message)
            .with_help("the server installs offline from binary wheels: pin a version that publishes Windows wheels, or leave it out for Windows with [python] exclude = [\"<name>\"] (a Linux-only server such as uwsgi or gunicorn)")
            .into()
    };
    let mut compile = Command::new(&uv);
    compile
        .args([
            "pip",
            "compile",
            "--quiet",
            "--no-header",
            "--no-annotate",
            "--python-platform",
            uv_platform,
            "--python-version",
            version,
        ])
        .current_dir(&project.root);
    for name in &py.extras {
        compile.args(["--extra", name]);
    }
    if let Some(file) = &override_file {
        compile.arg("--override").arg(file);
    }
    run(compile.arg("-o").arg(&pinned).args(&input_files))
        .map_err(|o| no_wheel(o, "resolving with uv"))?;
    let _ = std::fs::remove_dir_all(&input_dir);
    let abi = format!("cp{}", version.replace('.', ""));
    run(pip_download(&python)
        .args([
            "--platform",
            pip_platform,
            "--python-version",
            version,
            "--implementation",
            "cp",
        ])
        .args(["--abi", &abi, "--abi", "abi3", "--abi", "none", "--dest"])
        .arg(staging.path())
        .arg("-r")
        .arg(&pinned))
    .map_err(|o| no_wheel(o, "downloading with pip"))?;
    std::fs::write(staging.path().join(".complete"), b"").map_err(|source| crate::Error::Io {
        path: staging.path().to_path_buf(),
        source,
    })?;
    let staged = staging.keep();
    // Another build may have finished the same entry meanwhile: keep theirs.
    if std::fs::rename(&staged, dir).is_err() {
        let _ = std::fs::remove_dir_all(&staged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_culprit_is_named_from_pip_and_uv_output() {
        assert_eq!(
            culprit("ERROR: Could not find a version that satisfies the requirement uvloop==0.21.0\nERROR: No matching distribution found for uvloop==0.21.0\n").as_deref(),
            Some("uvloop==0.21.0")
        );
        assert_eq!(
            culprit("  × No solution found when resolving dependencies:\n  ╰─▶ Because uvloop==0.21.0 has no wheels with a matching platform tag").as_deref(),
            Some("uvloop==0.21.0")
        );
        assert_eq!(culprit("something else"), None);
    }
}
