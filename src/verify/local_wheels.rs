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
}
