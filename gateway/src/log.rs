//! The gateway's log: `WSGI_LOG` (appended, one timestamped line per
//! message), and standard error except under IIS.
//!
//! Under IIS nothing goes to standard error or `FCGI_STDERR`: IIS's
//! default `stderrMode` (ReturnStdErrIn500) turns any such byte into a 500
//! response for the whole request. So a `WSGI_LOG` that cannot be opened
//! there (a folder the app pool may not write) would lose every
//! diagnostic: the log goes to a file of the temp folder instead
//! (`%TEMP%\iiswsgi-gateway-<pid>.log`, the app pool's own), the Windows
//! Application event log says where, and error pages name that file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Log {
    file: Mutex<Option<File>>,
    to_stderr: bool,
    /// Where the log went because WSGI_LOG could not be opened (under IIS).
    fallback: Mutex<Option<PathBuf>>,
}

impl Log {
    pub fn new(to_stderr: bool) -> Self {
        Log {
            file: Mutex::new(None),
            to_stderr,
            fallback: Mutex::new(None),
        }
    }

    /// Starts appending to `path` (creating its folder). If it cannot be
    /// opened, that is logged, and where nothing else would show the log
    /// (under IIS, with no log file open yet) the log falls back to a file
    /// of the temp folder.
    pub fn open_file(&self, path: &Path) {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        match OpenOptions::new().create(true).append(true).open(path) {
            Ok(f) => *self.file.lock().unwrap_or_else(|e| e.into_inner()) = Some(f),
            Err(e) => {
                let why = format!("cannot open WSGI_LOG {}: {e}", path.display());
                let no_file = self
                    .file
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_none();
                if !self.to_stderr && no_file {
                    self.fall_back(&why);
                }
                self.line(&why);
            }
        }
    }

    /// The file the log falls back to (one per process), and the event
    /// log entry that names it.
    fn fall_back(&self, why: &str) {
        let path = std::env::temp_dir().join(format!("iiswsgi-gateway-{}.log", std::process::id()));
        match OpenOptions::new().create(true).append(true).open(&path) {
            Ok(f) => {
                *self.file.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
                *self.fallback.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.clone());
                crate::event_log::report_error(&format!(
                    "iiswsgi-gateway (process {}): {why}. Its log is {} instead.",
                    std::process::id(),
                    path.display()
                ));
            }
            Err(e) => crate::event_log::report_error(&format!(
                "iiswsgi-gateway (process {}): {why}; nor could {} be opened ({e}): the gateway's diagnostics are lost. Give the app pool's identity write access to WSGI_LOG's folder.",
                std::process::id(),
                path.display()
            )),
        }
    }

    /// The file the log went to instead of WSGI_LOG, if it had to.
    pub fn fallback(&self) -> Option<PathBuf> {
        self.fallback
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// One message; each of its lines is prefixed with the time and pid.
    pub fn line(&self, message: &str) {
        let prefix = format!(
            "{} [{}] ",
            utc_timestamp(SystemTime::now()),
            std::process::id()
        );
        let mut text = String::with_capacity(message.len() + 64);
        for l in message.trim_end().lines() {
            text.push_str(&prefix);
            text.push_str(l.trim_end_matches('\r'));
            text.push('\n');
        }
        if let Some(f) = self.file.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = f.write_all(text.as_bytes());
        }
        if self.to_stderr {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }

    /// Raw text from the app (`wsgi.errors`, `print` to stderr), as it comes.
    pub fn raw(&self, text: &str) {
        if let Some(f) = self.file.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = f.write_all(text.as_bytes());
        }
        if self.to_stderr {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

/// `2026-12-03T09:50:38Z`, without a date crate.
pub fn utc_timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_secs(1_796_291_438)),
            "2026-12-03T09:50:38Z"
        );
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn lines_go_to_the_file_with_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/gw.log");
        let log = Log::new(false);
        log.open_file(&path);
        log.line("first\r\nsecond\n");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].ends_with("] first") && lines[1].ends_with("] second"),
            "{text}"
        );
    }

    #[test]
    fn under_iis_an_unwritable_wsgi_log_falls_back_to_the_temp_folder() {
        let dir = tempfile::tempdir().unwrap();
        // A folder that cannot be made: its parent is a file.
        std::fs::write(dir.path().join("file"), b"").unwrap();
        let unwritable = dir.path().join("file/logs/gw.log");
        // Elsewhere standard error has it: no fallback.
        let unix = Log::new(true);
        unix.open_file(&unwritable);
        assert_eq!(unix.fallback(), None);
        let iis = Log::new(false);
        iis.open_file(&unwritable);
        let fallback = iis.fallback().expect("a fallback file");
        assert_eq!(
            fallback,
            std::env::temp_dir().join(format!("iiswsgi-gateway-{}.log", std::process::id()))
        );
        iis.line("Traceback (most recent call last): ...");
        let text = std::fs::read_to_string(&fallback).unwrap();
        let _ = std::fs::remove_file(&fallback);
        assert!(text.contains("cannot open WSGI_LOG"), "{text}");
        assert!(
            text.contains("] Traceback (most recent call last): ..."),
            "{text}"
        );
    }
}
