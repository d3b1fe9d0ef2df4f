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

/// Whether a changed file under the app folder should reload the app.
pub fn matters(pattern: &Regex, app_dir: &Path, path: &Path) -> bool {
    let Some(name) = relative_name(app_dir, path) else {
        return false;
    };
    // Bytecode caches change on every import: never a reason to reload.
    if name.contains("__pycache__") {
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
    watcher.watch(&root, RecursiveMode::Recursive)?;
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
}
