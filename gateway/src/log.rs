//! The gateway's log: `WSGI_LOG` (appended, one timestamped line per
//! message), and standard error except under IIS.
//!
//! Under IIS nothing goes to standard error or `FCGI_STDERR`: IIS's
//! default `stderrMode` (ReturnStdErrIn500) turns any such byte into a 500
//! response for the whole request.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Log {
    file: Mutex<Option<File>>,
    to_stderr: bool,
}

impl Log {
    pub fn new(to_stderr: bool) -> Self {
        Log {
            file: Mutex::new(None),
            to_stderr,
        }
    }

    /// Starts appending to `path` (creating its folder); an error is
    /// reported in the log itself and the log goes on without the file.
    pub fn open_file(&self, path: &Path) {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        match OpenOptions::new().create(true).append(true).open(path) {
            Ok(f) => *self.file.lock().unwrap_or_else(|e| e.into_inner()) = Some(f),
            Err(e) => self.line(&format!("cannot open WSGI_LOG {}: {e}", path.display())),
        }
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
}
