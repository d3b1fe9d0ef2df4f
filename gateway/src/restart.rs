//! WSGI_RESTART_FILE_REGEX: a changed file whose path (relative to the app
//! folder) matches makes the next request load the app's code anew.
//!
//! wfastcgi ends the process and lets IIS start another; a request that
//! arrives meanwhile fails. Here the next request itself reloads: the
//! app's modules are forgotten and imported again, web.config is read
//! again. The watch uses the system's notifications (inotify,
//! ReadDirectoryChangesW), so an idle site costs nothing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecursiveMode, Watcher};
use regex::Regex;

/// Set by the watcher thread, taken by the serving loop.
#[derive(Default)]
pub struct ChangeFlag {
    changed: AtomicBool,
    which: Mutex<Option<PathBuf>>,
}

impl ChangeFlag {
    /// Whether a change waits to be taken.
    pub fn is_set(&self) -> bool {
        self.changed.load(Ordering::Acquire)
    }

    /// The changed file, once per change.
    pub fn take(&self) -> Option<PathBuf> {
        if !self.changed.swap(false, Ordering::AcqRel) {
            return None;
        }
        Some(
            self.which
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_default(),
        )
    }

    fn set(&self, path: PathBuf) {
        *self.which.lock().unwrap_or_else(|e| e.into_inner()) = Some(path);
        self.changed.store(true, Ordering::Release);
    }
}

/// What counts as a change: writes, creations, removals, renames and
/// metadata (a `touch`); not reads or opens.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        // inotify reports every write of a file and then its close: the
        // close alone counts, so one save is one reload (a request between
        // the write and the close would otherwise reload twice).
        #[cfg(target_os = "linux")]
        EventKind::Modify(notify::event::ModifyKind::Data(_)) => false,
        EventKind::Access(_) | EventKind::Other | EventKind::Any => false,
        _ => true,
    }
}

/// The path as matched: relative to the app folder, in the platform's
/// separators (wfastcgi matched ReadDirectoryChangesW's relative names).
pub fn relative_name(app_dir: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(app_dir).ok()?;
    let s = rel.to_string_lossy().into_owned();
    (!s.is_empty()).then_some(s)
}

/// Folders of the app folder that are not the app's code: environments
/// (pip writing into a venv must not reload the app; a bare venv alone is
/// some 185 folders to watch), caches and version control. Not watched.
pub const NOT_WATCHED: [&str; 7] = [
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    ".git",
    ".hg",
];

fn unwatched(name: &std::ffi::OsStr) -> bool {
    NOT_WATCHED.iter().any(|n| name == *n)
}

/// Whether a changed file under the app folder should reload the app.
pub fn matters(pattern: &Regex, app_dir: &Path, path: &Path) -> bool {
    let Some(name) = relative_name(app_dir, path) else {
        return false;
    };
    // Bytecode caches change on every import: never a reason to reload.
    if name.contains("__pycache__") {
        return false;
    }
    if Path::new(&name)
        .components()
        .any(|c| unwatched(c.as_os_str()))
    {
        return false;
    }
    pattern.is_match(&name)
}

/// Starts watching; the returned watcher must be kept alive.
pub fn watch(
    app_dir: &Path,
    pattern: Regex,
    flag: Arc<ChangeFlag>,
) -> notify::Result<notify::RecommendedWatcher> {
    let root = app_dir
        .canonicalize()
        .unwrap_or_else(|_| app_dir.to_owned());
    let base = root.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if !is_change(&event.kind) {
            return;
        }
        if let Some(path) = event.paths.iter().find(|p| matters(&pattern, &base, p)) {
            flag.set(path.clone());
        }
    })?;
    // The app folder itself, and each folder in it but the unwatched ones
    // (a folder made at the top later is seen made, not watched inside).
    watcher.watch(&root, RecursiveMode::NonRecursive)?;
    for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !unwatched(&entry.file_name()) {
            // A folder that went away meanwhile is no reason to fail.
            let _ = watcher.watch(&entry.path(), RecursiveMode::Recursive);
        }
    }
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::DEFAULT_RESTART_REGEX;

    #[test]
    fn default_pattern_matches_code_and_config_only() {
        let re = Regex::new(&format!("^(?:{DEFAULT_RESTART_REGEX})")).unwrap();
        let app = Path::new("/srv/app");
        assert!(matters(&re, app, Path::new("/srv/app/pkg/views.py")));
        assert!(matters(&re, app, Path::new("/srv/app/web.config")));
        assert!(!matters(
            &re,
            app,
            Path::new("/srv/app/pkg/__pycache__/views.cpython-311.pyc")
        ));
        assert!(!matters(
            &re,
            app,
            Path::new("/srv/app/pkg/__pycache__/x.py")
        ));
        assert!(!matters(&re, app, Path::new("/srv/app/static/site.css")));
        assert!(!matters(&re, app, Path::new("/elsewhere/a.py")));
    }

    #[test]
    fn a_touched_file_sets_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.py"), "x = 1\n").unwrap();
        let flag = Arc::new(ChangeFlag::default());
        let re = Regex::new(&format!("^(?:{DEFAULT_RESTART_REGEX})")).unwrap();
        let _w = watch(&root, re, flag.clone()).unwrap();
        std::fs::write(root.join("notes.txt"), "no").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(flag.take(), None, "a .txt file does not match");
        std::fs::write(root.join("app.py"), "x = 2\n").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let got = loop {
            if let Some(p) = flag.take() {
                break Some(p);
            }
            if std::time::Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(got, Some(root.join("app.py")));
    }

    #[test]
    fn pip_writing_into_a_venv_in_the_app_folder_reloads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let site = root.join(".venv/lib/python3.11/site-packages/pkg");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        let flag = Arc::new(ChangeFlag::default());
        let re = Regex::new(&format!("^(?:{DEFAULT_RESTART_REGEX})")).unwrap();
        let _w = watch(&root, re, flag.clone()).unwrap();
        std::fs::write(site.join("__init__.py"), "x = 1\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(flag.take(), None, "a venv's files are not the app's");
        std::fs::write(root.join("pkg/views.py"), "x = 2\n").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while flag.take().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "a package of the app is still watched"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
