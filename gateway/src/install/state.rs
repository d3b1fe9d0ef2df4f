//! The install step's runtime state, outside the folder Web Deploy syncs.
//!
//! `msdeploy -verb:sync` makes the app folder equal to the package: what
//! is not in the package is deleted, and a file a running process holds
//! (the gateway exe, a venv's `.pyd`) cannot be replaced. So what the
//! install step makes, and what the running site holds open, lives in a
//! state folder of its own, one per IIS application:
//!
//! ```text
//! %ProgramData%\iiswsgi\apps\<Site_App>\      (--state-dir overrides)
//!   venvs\<wheelhouse fingerprint>\             a venv, made at this path, never renamed
//!   gateway\<exe sha256>\iiswsgi-gateway.exe    the gateway IIS runs
//!   current                                     what web.config points at now
//!   install.log                                 every install's journal
//! ```
//!
//! Versions are named by what they are made from, so a redeploy with the
//! same wheelhouse or the same gateway reuses them, and a new one is made
//! beside the one serving. A version in use is marked by its
//! `iiswsgi-in-use` file, which each gateway process holds open (without
//! delete sharing on Windows, with a shared lock elsewhere) for as long as
//! it runs: versions no longer current are removed once nothing holds them,
//! by the next install (run as an administrator), and by a gateway of the
//! current version when it starts, where its identity may delete (IIS's
//! app pool identity is granted read access only, so there it is the next
//! install).

use std::path::{Path, PathBuf};

/// The file a running gateway holds in its venv and in its own folder.
pub const IN_USE: &str = "iiswsgi-in-use";

/// The state folder of one IIS application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub root: PathBuf,
}

/// What web.config points at after an install (the `current` file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Current {
    pub gateway: Option<PathBuf>,
    pub venv: Option<PathBuf>,
}

/// A folder name for an IIS application path: `Default Web Site/Shop` →
/// `Default-Web-Site_Shop` (no spaces: the paths go into appcmd's and
/// web.config's command lines).
pub fn app_key(iis_app: &str) -> String {
    iis_app
        .trim_matches('/')
        .chars()
        .map(|c| match c {
            ' ' => '-',
            c if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') => c,
            _ => '_',
        })
        .collect()
}

impl State {
    /// `given` (--state-dir), else the machine's place for it:
    /// `%ProgramData%\iiswsgi\apps\<key>` on Windows,
    /// `$XDG_STATE_HOME/iiswsgi/apps/<key>` (`~/.local/state`) elsewhere.
    pub fn locate(given: Option<&Path>, iis_app: &str) -> State {
        if let Some(dir) = given {
            return State {
                root: std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()),
            };
        }
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let base = if cfg!(windows) {
            env("ProgramData").unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
        } else {
            env("XDG_STATE_HOME")
                .or_else(|| env("HOME").map(|h| h.join(".local").join("state")))
                .unwrap_or_else(std::env::temp_dir)
        };
        State {
            root: base.join("iiswsgi").join("apps").join(app_key(iis_app)),
        }
    }

    pub fn venv(&self, fingerprint: &str) -> PathBuf {
        self.root.join("venvs").join(short(fingerprint))
    }

    pub fn gateway_dir(&self, sha256: &str) -> PathBuf {
        self.root.join("gateway").join(short(sha256))
    }

    pub fn log(&self) -> PathBuf {
        self.root.join("install.log")
    }

    fn current_file(&self) -> PathBuf {
        self.root.join("current")
    }

    /// What the last install switched web.config to.
    pub fn current(&self) -> Current {
        let text = std::fs::read_to_string(self.current_file()).unwrap_or_default();
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(" = "))
                .map(PathBuf::from)
        };
        Current {
            gateway: get("gateway"),
            venv: get("venv"),
        }
    }

    pub fn set_current(&self, current: &Current) -> std::io::Result<()> {
        let mut text =
            String::from("# what web.config points at (written by iiswsgi-gateway install)\n");
        if let Some(g) = &current.gateway {
            text.push_str(&format!("gateway = {}\n", g.display()));
        }
        if let Some(v) = &current.venv {
            text.push_str(&format!("venv = {}\n", v.display()));
        }
        std::fs::create_dir_all(&self.root)?;
        super::write_atomically(&self.current_file(), text.as_bytes())
    }

    /// Removes every version under `venvs/` and `gateway/` other than
    /// `keep` that no process holds; one line per version, saying what
    /// became of it.
    pub fn retire(&self, keep: &[&Path]) -> Vec<String> {
        let mut said = Vec::new();
        for kind in ["venvs", "gateway"] {
            let Ok(entries) = std::fs::read_dir(self.root.join(kind)) else {
                continue;
            };
            let mut versions: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            versions.sort();
            for version in versions {
                if keep.iter().any(|k| same(k, &version)) {
                    continue;
                }
                if in_use(&version) {
                    said.push(format!(
                        "kept {} (a running process holds it; removed by a later install)",
                        version.display()
                    ));
                    continue;
                }
                match std::fs::remove_dir_all(&version) {
                    Ok(()) => said.push(format!("removed {}", version.display())),
                    Err(e) => said.push(format!(
                        "kept {} ({e}; removed by a later install)",
                        version.display()
                    )),
                }
            }
        }
        said
    }
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(16)]
}

fn same(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| {
        let s = p.to_string_lossy().replace('\\', "/");
        let s = s.trim_end_matches('/');
        if cfg!(windows) {
            s.to_lowercase()
        } else {
            s.to_owned()
        }
    };
    norm(a) == norm(b)
}

/// Whether a gateway process holds this version's `iiswsgi-in-use`.
#[cfg(windows)]
fn in_use(version: &Path) -> bool {
    // A running gateway holds it open without delete sharing: deleting it
    // fails until that process has ended. (Its exe is locked the same
    // way, by Windows itself.)
    let marker = version.join(IN_USE);
    marker.exists() && std::fs::remove_file(&marker).is_err()
}

#[cfg(unix)]
fn in_use(version: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open(version.join(IN_USE)) else {
        return false;
    };
    // SAFETY: flock on a descriptor this function owns.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    locked != 0
}

/// Held by a running gateway for its life: the version's marker, opened so
/// that `in_use` sees it. A version without one (not made by the install
/// step) is not marked.
pub fn hold(version: &Path) -> Option<std::fs::File> {
    let marker = version.join(IN_USE);
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // FILE_SHARE_READ only: no delete, no write, while this runs.
        std::fs::OpenOptions::new()
            .read(true)
            .share_mode(1)
            .open(&marker)
            .ok()
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(&marker).ok()?;
        // SAFETY: flock on a descriptor this function owns.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
        (locked == 0).then_some(file)
    }
}

/// For a gateway process starting: holds the markers of its venv and of
/// its own folder, then, when the venv is in a state folder, removes the
/// versions neither it nor the current install uses (those an older
/// process held until now). The held files, and what became of the rest.
pub fn hold_running(venv: Option<&Path>) -> (Vec<std::fs::File>, Vec<String>) {
    let own_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned));
    let held: Vec<std::fs::File> = venv
        .into_iter()
        .chain(own_dir.as_deref())
        .filter_map(hold)
        .collect();
    let state = venv.and_then(|v| {
        let venvs = v.parent()?;
        let root = venvs.parent()?;
        (venvs.file_name()? == "venvs" && root.join("current").is_file()).then(|| State {
            root: root.to_owned(),
        })
    });
    let Some(state) = state else {
        return (held, Vec::new());
    };
    let current = state.current();
    let keep: Vec<&Path> = [venv, own_dir.as_deref(), current.venv.as_deref()]
        .into_iter()
        .flatten()
        .chain(current.gateway.as_deref().and_then(Path::parent))
        .collect();
    let retired = state
        .retire(&keep)
        .into_iter()
        .filter(|l| l.starts_with("removed"))
        .collect();
    (held, retired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_paths_become_folder_names() {
        assert_eq!(app_key("Default Web Site/Shop"), "Default-Web-Site_Shop");
        assert_eq!(app_key("/Site/a:b*c/"), "Site_a_b_c");
    }

    #[test]
    fn versions_are_named_by_what_they_are_made_from() {
        let s = State::locate(Some(Path::new("/srv/state")), "ignored");
        assert_eq!(
            s.venv("0123456789abcdef0123"),
            Path::new("/srv/state/venvs/0123456789abcdef")
        );
        assert_eq!(
            s.gateway_dir("fedcba9876543210ff"),
            Path::new("/srv/state/gateway/fedcba9876543210")
        );
    }

    #[test]
    fn current_is_written_and_read_back() {
        let d = tempfile::tempdir().unwrap();
        let s = State::locate(Some(d.path()), "x");
        assert_eq!(s.current(), Current::default());
        let c = Current {
            gateway: Some(d.path().join("gateway/abc/iiswsgi-gateway.exe")),
            venv: Some(d.path().join("venvs/def")),
        };
        s.set_current(&c).unwrap();
        assert_eq!(s.current(), c);
    }

    #[test]
    fn a_version_a_process_holds_is_kept_and_the_others_removed() {
        let d = tempfile::tempdir().unwrap();
        let s = State::locate(Some(d.path()), "x");
        for v in ["venvs/old", "venvs/held", "venvs/current", "gateway/old"] {
            std::fs::create_dir_all(d.path().join(v)).unwrap();
            std::fs::write(d.path().join(v).join(IN_USE), "").unwrap();
        }
        let held = hold(&d.path().join("venvs/held")).expect("the marker can be held");
        let said = s.retire(&[&d.path().join("venvs/current")]);
        assert!(!d.path().join("venvs/old").exists());
        assert!(!d.path().join("gateway/old").exists());
        assert!(d.path().join("venvs/held").exists());
        assert!(d.path().join("venvs/current").exists());
        assert!(
            said.iter()
                .any(|l| l.starts_with("kept ") && l.contains("held")),
            "{said:?}"
        );
        drop(held);
        let said = s.retire(&[&d.path().join("venvs/current")]);
        assert!(!d.path().join("venvs/held").exists(), "{said:?}");
    }
}
