//! How many requests the gateway serves at once, and for how long it waits,
//! where it owns the socket (`--bind`, or a listening socket on standard
//! input). Under IIS (a named pipe, one request per process) IIS's own
//! `activityTimeout`, `requestTimeout` and `maxInstances` govern instead.
//!
//! Each comes from its flag, else the environment, else the default:
//!
//! | flag                | environment              | default |
//! |---------------------|--------------------------|---------|
//! | `--processes N`     | IISWSGI_PROCESSES        | 1       |
//! | `--threads N`       | IISWSGI_THREADS          | 8       |
//! | `--idle-timeout S`  | IISWSGI_IDLE_TIMEOUT     | 60      |
//! | `--read-timeout S`  | IISWSGI_READ_TIMEOUT     | 60      |
//! | `--write-timeout S` | IISWSGI_WRITE_TIMEOUT    | 60      |
//! | `--request-timeout S` | IISWSGI_REQUEST_TIMEOUT | 300    |
//!
//! A timeout of 0 is no limit. The request timeout is uWSGI's harakiri: a
//! request still running after it ends its process (which is replaced), and
//! its client gets a 504 when nothing of the response was sent yet. 300 s
//! is mod_fcgid's FcgidBusyTimeout, which does the same.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Worker processes sharing the listening socket.
    pub processes: usize,
    /// Connections each process serves at once (one thread each).
    pub threads: usize,
    /// How long a kept connection may wait for its next request.
    pub idle: Option<Duration>,
    /// How long reading a request's parameters may take in all, and any
    /// one read of its body.
    pub read: Option<Duration>,
    /// How long one write of the response may wait for the web server.
    pub write: Option<Duration>,
    /// How long a request may run in all (harakiri).
    pub request: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            processes: 1,
            threads: 8,
            idle: Some(Duration::from_secs(60)),
            read: Some(Duration::from_secs(60)),
            write: Some(Duration::from_secs(60)),
            request: Some(Duration::from_secs(300)),
        }
    }
}

/// The settings' names: flag, environment variable.
pub const SETTINGS: [(&str, &str); 6] = [
    ("--processes", "IISWSGI_PROCESSES"),
    ("--threads", "IISWSGI_THREADS"),
    ("--idle-timeout", "IISWSGI_IDLE_TIMEOUT"),
    ("--read-timeout", "IISWSGI_READ_TIMEOUT"),
    ("--write-timeout", "IISWSGI_WRITE_TIMEOUT"),
    ("--request-timeout", "IISWSGI_REQUEST_TIMEOUT"),
];

impl Limits {
    /// The limits from the flags given (`flag → value`), else `env`, else
    /// the defaults. An error names the flag or variable and what it takes.
    pub fn resolve(
        flags: &[(String, String)],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Limits, String> {
        let mut limits = Limits::default();
        for (flag, var) in SETTINGS {
            let given = flags
                .iter()
                .rev()
                .find(|(f, _)| f == flag)
                .map(|(_, v)| (flag.to_owned(), v.clone()))
                .or_else(|| {
                    env(var)
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (var.to_owned(), v))
                });
            let Some((name, value)) = given else {
                continue;
            };
            let number: u64 = value
                .trim()
                .parse()
                .map_err(|_| format!("{name} {value:?} is not a whole number ({})", what(flag)))?;
            let seconds = (number > 0).then(|| Duration::from_secs(number));
            match flag {
                "--processes" | "--threads" => {
                    if number == 0 || number > 1024 {
                        return Err(format!("{name} {value:?} is out of range ({})", what(flag)));
                    }
                    if flag == "--processes" {
                        limits.processes = number as usize;
                    } else {
                        limits.threads = number as usize;
                    }
                }
                "--idle-timeout" => limits.idle = seconds,
                "--read-timeout" => limits.read = seconds,
                "--write-timeout" => limits.write = seconds,
                _ => limits.request = seconds,
            }
        }
        Ok(limits)
    }
}

fn what(flag: &str) -> &'static str {
    match flag {
        "--processes" | "--threads" => "1 to 1024",
        _ => "seconds; 0 for no limit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flags_over_environment_over_defaults() {
        assert_eq!(Limits::resolve(&[], env(&[])), Ok(Limits::default()));
        let flags = vec![
            ("--threads".to_owned(), "2".to_owned()),
            ("--request-timeout".to_owned(), "0".to_owned()),
        ];
        let l = Limits::resolve(
            &flags,
            env(&[
                ("IISWSGI_THREADS", "16"),
                ("IISWSGI_PROCESSES", "4"),
                ("IISWSGI_IDLE_TIMEOUT", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(l.threads, 2);
        assert_eq!(l.processes, 4);
        assert_eq!(l.idle, Some(Duration::from_secs(5)));
        assert_eq!(l.request, None);
        assert_eq!(l.read, Some(Duration::from_secs(60)));
    }

    #[test]
    fn bad_values_name_the_setting() {
        assert_eq!(
            Limits::resolve(&[], env(&[("IISWSGI_READ_TIMEOUT", "1m")])),
            Err(
                "IISWSGI_READ_TIMEOUT \"1m\" is not a whole number (seconds; 0 for no limit)"
                    .to_owned()
            )
        );
        let flags = vec![("--processes".to_owned(), "0".to_owned())];
        assert_eq!(
            Limits::resolve(&flags, env(&[])),
            Err("--processes \"0\" is out of range (1 to 1024)".to_owned())
        );
    }
}
