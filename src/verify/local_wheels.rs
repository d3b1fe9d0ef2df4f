//! The package's wheelhouse made installable here: pure-Python wheels
//! (`none-any`) as they are, each platform wheel (built for Windows)
//! replaced by the same distribution and version for this machine.

use std::path::Path;

/// `(distribution, version, is_pure)` from a wheel file name
/// (`{dist}-{version}(-{build})?-{python}-{abi}-{platform}.whl`).
pub fn wheel_name(file: &str) -> Option<(String, String, bool)> {
    let stem = file.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() < 5 {
        return None;
    }
    let n = parts.len();
    let pure = parts[n - 2] == "none" && parts[n - 1] == "any";
    Some((parts[0].to_string(), parts[1].to_string(), pure))
}

/// The CPython (major, minor) the wheelhouse's platform wheels were built
/// for (`cp312` in `markupsafe-3.0.4-cp312-cp312-win_amd64.whl`); None
/// when every wheel is pure Python or abi3 (any version serves).
pub fn python_version(wheelhouse: &Path) -> Option<(u32, u32)> {
    let entries = std::fs::read_dir(wheelhouse).ok()?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.iter().find_map(|file| {
        let stem = file.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let n = parts.len();
        if n < 5 || parts[n - 2] == "abi3" || parts[n - 2] == "none" {
            return None;
        }
        let digits = parts[n - 3].strip_prefix("cp")?;
        let (major, minor) = digits.split_at(1);
        Some((major.parse().ok()?, minor.parse().ok()?))
    })
}

/// Rewrites `wheelhouse` for this machine with `python -m pip download`.
/// Returns the platform wheels that were replaced.
pub fn localize(wheelhouse: &Path, python: &Path) -> Result<Vec<String>, String> {
    let mut replaced = Vec::new();
    let mut wanted = Vec::new();
    let entries =
        std::fs::read_dir(wheelhouse).map_err(|e| format!("{}: {e}", wheelhouse.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((dist, version, pure)) = wheel_name(&file) else {
            continue;
        };
        if !pure {
            wanted.push(format!("{dist}=={version}"));
            replaced.push(file);
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        }
    }
    if wanted.is_empty() {
        return Ok(replaced);
    }
    // No pip cache: verify writes nothing outside its temporary folder.
    let out = crate::wheelhouse::pip_download(python)
        .env("PIP_NO_CACHE_DIR", "1")
        .arg("--dest")
        .arg(wheelhouse)
        .args(&wanted)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "pip could not fetch {} for this machine: {}",
            wanted.join(", "),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_names() {
        assert_eq!(
            wheel_name("flask-3.1.3-py3-none-any.whl"),
            Some(("flask".into(), "3.1.3".into(), true))
        );
        assert_eq!(
            wheel_name("markupsafe-3.0.4-cp312-cp312-win_amd64.whl"),
            Some(("markupsafe".into(), "3.0.4".into(), false))
        );
        assert_eq!(
            wheel_name("tzdata-2026.6-py2.py3-none-any.whl"),
            Some(("tzdata".into(), "2026.6".into(), true))
        );
        assert_eq!(wheel_name("requirements.txt"), None);
    }

    #[test]
    fn the_wheelhouse_names_its_python_by_its_platform_wheels() {
        let dir = tempfile::tempdir().unwrap();
        let has = |names: &[&str]| {
            for e in std::fs::read_dir(dir.path()).unwrap() {
                std::fs::remove_file(e.unwrap().path()).unwrap();
            }
            for n in names {
                std::fs::write(dir.path().join(n), b"").unwrap();
            }
            python_version(dir.path())
        };
        assert_eq!(has(&["flask-3.1.3-py3-none-any.whl"]), None);
        assert_eq!(
            has(&[
                "cryptography-46.0.1-cp311-abi3-win_amd64.whl",
                "flask-3.1.3-py3-none-any.whl"
            ]),
            None
        );
        assert_eq!(
            has(&[
                "flask-3.1.3-py3-none-any.whl",
                "markupsafe-3.0.4-cp312-cp312-win_amd64.whl"
            ]),
            Some((3, 12))
        );
        assert_eq!(
            has(&["psycopg2-2.9.10-cp310-cp310-win_amd64.whl"]),
            Some((3, 10))
        );
    }
}
