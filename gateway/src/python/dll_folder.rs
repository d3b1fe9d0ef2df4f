//! A Windows Python's folder, read before anything in it is loaded:
//! python3.dll (the stable ABI the gateway imports), the python3XY.dll it
//! forwards every name to, and whether both are usable by this gateway.
//!
//! Why the versioned DLL matters: python3.dll holds no code, only
//! forwarders (`PyBaseObject_Type -> python311.PyBaseObject_Type`), and
//! Windows resolves a forwarder by loading `python311.dll` through the
//! default DLL search path, not from python3.dll's folder. Where Python is
//! not on PATH (the python.org installer's default, and most IIS worker
//! processes) every name would fail to resolve. Loading python3XY.dll
//! first, by its full path, makes each forwarder find it already loaded.
//!
//! Plain file reads, so the rules are tested on any OS (windows_loader.rs
//! does the loading).

use std::path::{Path, PathBuf};

/// The two DLLs of a usable Python folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonDlls {
    pub folder: PathBuf,
    /// `python3.dll`.
    pub stable: PathBuf,
    /// `python3XY.dll`, the one python3.dll forwards to.
    pub versioned: PathBuf,
    /// (3, minor), from the versioned DLL's name.
    pub version: (u32, u32),
}

/// The PE machine this gateway is built for.
const OUR_MACHINE: u16 = if cfg!(target_arch = "aarch64") {
    0xAA64
} else {
    0x8664
};

fn machine_name(machine: u16) -> &'static str {
    match machine {
        0x014c => "32-bit (x86)",
        0x8664 => "64-bit (x64)",
        0xAA64 => "ARM64",
        _ => "another architecture",
    }
}

/// The machine field of a PE file's header, or None if it is not one.
pub fn pe_machine(bytes: &[u8]) -> Option<u16> {
    if bytes.get(..2)? != b"MZ" {
        return None;
    }
    let at = u32::from_le_bytes(bytes.get(0x3c..0x40)?.try_into().ok()?) as usize;
    if bytes.get(at..at + 4)? != b"PE\0\0" {
        return None;
    }
    Some(u16::from_le_bytes(
        bytes.get(at + 4..at + 6)?.try_into().ok()?,
    ))
}

/// `python3XY.dll` (any case) → minor version XY; python3.dll → None.
fn versioned_minor(file_name: &str) -> Option<u32> {
    let lower = file_name.to_ascii_lowercase();
    let digits = lower.strip_prefix("python3")?.strip_suffix(".dll")?;
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reads `folder`: `Ok(None)` when it holds no python3.dll, an error that
/// says what is wrong and how to fix it when it holds an unusable one.
pub fn inspect(folder: &Path) -> Result<Option<PythonDlls>, String> {
    let stable = folder.join("python3.dll");
    if !stable.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&stable).map_err(|e| format!("{}: {e}", stable.display()))?;
    match pe_machine(&bytes) {
        None => return Err(format!("{} is not a Windows DLL", stable.display())),
        Some(m) if m != OUR_MACHINE => {
            return Err(format!(
                "the Python in {} is {}, and this gateway is {}: install the {} Python \
                 (python.org's \"Windows installer ({})\") and point the gateway at it",
                folder.display(),
                machine_name(m),
                machine_name(OUR_MACHINE),
                machine_name(OUR_MACHINE),
                machine_name(OUR_MACHINE)
            ));
        }
        Some(_) => {}
    }
    let mut versioned: Vec<(u32, PathBuf, String)> = std::fs::read_dir(folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let minor = versioned_minor(&name)?;
            Some((minor, entry.path(), name))
        })
        .collect();
    versioned.sort();
    // Several (a hand-made folder): the one python3.dll's forwarders name.
    if versioned.len() > 1 {
        let named: Vec<_> = versioned
            .iter()
            .filter(|(_, _, name)| {
                let stem = name.to_ascii_lowercase().replace(".dll", ".");
                contains(&bytes.to_ascii_lowercase(), stem.as_bytes())
            })
            .cloned()
            .collect();
        if named.len() == 1 {
            versioned = named;
        }
    }
    let (minor, path, _) = match versioned.as_slice() {
        [] => {
            return Err(format!(
                "{} has python3.dll but no python3XY.dll beside it (python3.dll only forwards to it): \
                 that Python is incomplete; repair or reinstall it",
                folder.display()
            ));
        }
        [one] => one.clone(),
        several => {
            return Err(format!(
                "{} has several Python DLLs ({}) and python3.dll names none of them alone: \
                 keep one Python per folder",
                folder.display(),
                several
                    .iter()
                    .map(|(_, _, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    if minor < 9 {
        return Err(format!(
            "the Python in {} is 3.{minor}, older than 3.9, which this gateway needs: \
             install Python 3.9 or later",
            folder.display()
        ));
    }
    Ok(Some(PythonDlls {
        folder: folder.to_owned(),
        stable,
        versioned: path,
        version: (3, minor),
    }))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file with just enough of a PE header for `pe_machine`.
    fn pe(machine: u16, extra: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 0x80];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
        b[0x40..0x44].copy_from_slice(b"PE\0\0");
        b[0x44..0x46].copy_from_slice(&machine.to_le_bytes());
        b.extend_from_slice(extra);
        b
    }

    #[test]
    fn a_complete_folder_gives_both_dlls_and_the_version() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("python3.dll"),
            pe(0x8664, b"python311.Py_Initialize"),
        )
        .unwrap();
        std::fs::write(d.path().join("python311.dll"), pe(0x8664, b"")).unwrap();
        std::fs::write(d.path().join("python.exe"), pe(0x8664, b"")).unwrap();
        let found = inspect(d.path()).unwrap().unwrap();
        assert_eq!(found.stable, d.path().join("python3.dll"));
        assert_eq!(found.versioned, d.path().join("python311.dll"));
        assert_eq!(found.version, (3, 11));
        assert_eq!(inspect(&d.path().join("nothing")).unwrap(), None);
    }

    #[test]
    fn several_versioned_dlls_are_told_apart_by_the_forwarders() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("python3.dll"),
            pe(0x8664, b"PYTHON313.PyBaseObject_Type"),
        )
        .unwrap();
        std::fs::write(d.path().join("python312.dll"), pe(0x8664, b"")).unwrap();
        std::fs::write(d.path().join("Python313.dll"), pe(0x8664, b"")).unwrap();
        let found = inspect(d.path()).unwrap().unwrap();
        assert_eq!(found.version, (3, 13));
        std::fs::write(d.path().join("python3.dll"), pe(0x8664, b"")).unwrap();
        let e = inspect(d.path()).unwrap_err();
        assert!(
            e.contains("several Python DLLs (python312.dll, Python313.dll)"),
            "{e}"
        );
    }

    #[test]
    fn unusable_folders_say_what_is_wrong() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("python3.dll"), pe(0x8664, b"")).unwrap();
        let e = inspect(d.path()).unwrap_err();
        assert!(
            e.contains("has python3.dll but no python3XY.dll beside it"),
            "{e}"
        );

        std::fs::write(d.path().join("python38.dll"), pe(0x8664, b"")).unwrap();
        let e = inspect(d.path()).unwrap_err();
        assert!(e.contains("is 3.8, older than 3.9"), "{e}");

        std::fs::write(d.path().join("python3.dll"), pe(0x014c, b"")).unwrap();
        let e = inspect(d.path()).unwrap_err();
        assert!(
            e.contains(
                "is 32-bit (x86), and this gateway is 64-bit (x64): install the 64-bit (x64) Python"
            ),
            "{e}"
        );

        std::fs::write(d.path().join("python3.dll"), b"not a DLL").unwrap();
        let e = inspect(d.path()).unwrap_err();
        assert!(e.ends_with("python3.dll is not a Windows DLL"), "{e}");
    }

    #[test]
    fn the_real_gateways_of_the_fixtures_have_their_machines() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/gateway");
        let x64 = std::fs::read(fixtures.join("gateway-x64.exe")).unwrap();
        let x86 = std::fs::read(fixtures.join("gateway-x86.exe")).unwrap();
        assert_eq!(pe_machine(&x64), Some(0x8664));
        assert_eq!(pe_machine(&x86), Some(0x014c));
        assert_eq!(pe_machine(b"MZ"), None);
    }
}
