//! Worker processes sharing one listening socket (`--processes N`, and
//! every `--bind`): this process listens, starts N copies of the gateway
//! with the socket on their standard input, as mod_fcgid would, and starts
//! another when one ends (a crash, or the request timeout: `harakiri`).
//! SIGTERM or SIGINT is passed to every worker, each finishes the requests
//! it is serving, and this process exits when they all have.
//!
//! Workers are started anew (the program run again), not forked: a fork
//! of a process that runs Python, with threads, is not safe, and the
//! extension module and the executable start the same way.
//!
//! Under mod_fcgid (a socket on standard input, one process) there is no
//! supervisor: mod_fcgid starts and replaces the processes itself.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::log::Log;
use crate::transport::Listener;

/// Set in a worker's environment: it serves the socket on its standard
/// input and starts no workers of its own.
pub const WORKER_ENV: &str = "IISWSGI_WORKER";

/// Runs `processes` workers on `listener` until a signal; the exit status.
/// `program`: the command that starts this gateway again, with `args`
/// (this process's own arguments).
pub fn run(
    listener: &Listener,
    processes: usize,
    program: Vec<OsString>,
    args: &[String],
    log: Arc<Log>,
) -> i32 {
    let Some(socket) = listener.socket_fd() else {
        log.line("no socket to share with worker processes");
        return 1;
    };
    let workers: Arc<Mutex<HashMap<u32, Instant>>> = Arc::default();
    let stopping = Arc::new(AtomicBool::new(false));
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let (workers, stopping, log) = (workers.clone(), stopping.clone(), log.clone());
        match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    for sig in signals.forever() {
                        stopping.store(true, Ordering::SeqCst);
                        let pids: Vec<u32> = workers
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .keys()
                            .copied()
                            .collect();
                        log.line(&format!(
                            "signal {sig}: stopping {} worker(s) after their requests",
                            pids.len()
                        ));
                        for pid in pids {
                            // SAFETY: kill() with a pid of our own child.
                            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
                        }
                    }
                });
            }
            Err(e) => log.line(&format!("cannot handle SIGTERM: {e}")),
        }
    }
    log.line(&format!(
        "iiswsgi-gateway {}: {processes} worker process(es)",
        env!("CARGO_PKG_VERSION")
    ));
    let mut pause = Duration::ZERO;
    let mut status = 0;
    loop {
        while !stopping.load(Ordering::SeqCst) {
            let mut running = workers.lock().unwrap_or_else(|e| e.into_inner());
            if running.len() >= processes {
                break;
            }
            match start(&program, args, socket) {
                Ok(pid) => {
                    running.insert(pid, Instant::now());
                }
                Err(e) => {
                    drop(running);
                    log.line(&format!("cannot start a worker process: {e}"));
                    pause = next_pause(pause);
                    std::thread::sleep(pause);
                }
            }
        }
        let mut wait_status = 0;
        // SAFETY: waits for any child of this process.
        let pid = unsafe { libc::waitpid(-1, &mut wait_status, 0) };
        if pid < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // No children left (ECHILD): done if stopping.
            if stopping.load(Ordering::SeqCst) {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let started = workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(pid as u32));
        let how = describe(wait_status);
        if stopping.load(Ordering::SeqCst) {
            if !(libc::WIFEXITED(wait_status) && libc::WEXITSTATUS(wait_status) == 0) {
                status = 1;
                log.line(&format!("worker {pid} {how}"));
            }
            if workers.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                log.line("all workers stopped");
                return status;
            }
            continue;
        }
        // One that ends at once (the app's folder is gone, say) is started
        // again after a pause that grows, not in a tight loop.
        let short = started.is_some_and(|t| t.elapsed() < Duration::from_secs(1));
        pause = if short {
            next_pause(pause)
        } else {
            Duration::ZERO
        };
        log.line(&format!(
            "worker {pid} {how}; starting another{}",
            if pause.is_zero() {
                String::new()
            } else {
                format!(" in {} ms", pause.as_millis())
            }
        ));
        std::thread::sleep(pause);
    }
}

fn next_pause(pause: Duration) -> Duration {
    (pause * 2).clamp(Duration::from_millis(100), Duration::from_secs(10))
}

fn describe(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            crate::harakiri::EXIT_STATUS => "was ended by the request timeout".to_owned(),
            code => format!("exited with status {code}"),
        }
    } else if libc::WIFSIGNALED(status) {
        format!("was killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("ended (wait status {status})")
    }
}

fn start(
    program: &[OsString],
    args: &[String],
    socket: std::os::fd::BorrowedFd<'_>,
) -> std::io::Result<u32> {
    let stdin: OwnedFd = socket.as_fd().try_clone_to_owned()?;
    let mut command = Command::new(&program[0]);
    command
        .args(&program[1..])
        .args(args)
        .env(WORKER_ENV, "1")
        .stdin(Stdio::from(stdin));
    // A supervisor killed outright (SIGKILL, a crash) takes its workers
    // with it (SIGTERM) rather than leaving them on the socket.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe, as pre_exec requires.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    Ok(command.spawn()?.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker that keeps ending at once is started again after 100 ms,
    /// then twice as long each time, up to 10 s.
    #[test]
    fn the_pause_before_a_restart_doubles_up_to_ten_seconds() {
        let mut pause = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..10 {
            pause = next_pause(pause);
            seen.push(pause.as_millis());
        }
        assert_eq!(
            seen,
            [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]
        );
    }

    #[test]
    fn a_worker_that_ended_is_described_for_the_log() {
        // Wait statuses as waitpid() gives them: exit code in the second
        // byte, a signal in the low seven bits.
        assert_eq!(describe(3 << 8), "exited with status 3");
        assert_eq!(
            describe(crate::harakiri::EXIT_STATUS << 8),
            "was ended by the request timeout"
        );
        assert_eq!(describe(libc::SIGKILL), "was killed by signal 9");
    }
}
