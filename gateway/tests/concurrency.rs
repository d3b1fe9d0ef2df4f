//! Where the gateway owns the socket (a listening socket on standard
//! input, as mod_fcgid and spawn-fcgi give it, or `--bind`): no peer stalls
//! the others, every limit (idle, read, write, whole request) ends what it
//! should, and worker processes share the socket and are replaced.
//!
//! Latencies here are behaviour, not speed: "answered within a second"
//! against a peer that holds its connection for 30 s.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn conformance(env: &[(&str, &str)]) -> (tempfile::TempDir, Gateway) {
    let app = app_copy("conformance");
    let venv = test_venv();
    let mut all: Vec<(&str, &str)> = vec![("WSGI_HANDLER", "app.application")];
    let venv_s = venv.as_ref().map(|v| v.display().to_string());
    if let Some(v) = &venv_s {
        all.push(("IISWSGI_VENV", v));
    }
    all.extend_from_slice(env);
    let gw = Gateway::start(app.path(), &all);
    (app, gw)
}

fn send_get(s: &mut UnixStream, id: u16, path: &str, keep: bool) {
    let mut bytes = begin(id, keep, &get_params(path, &[]));
    bytes.extend(stdin(id, b""));
    s.write_all(&bytes).unwrap();
}

/// A GET on a new connection; its response and how long it took.
fn timed_get(gw: &Gateway, path: &str) -> (Response, Duration) {
    let t = Instant::now();
    let r = gw.get(path);
    (r, t.elapsed())
}

fn wait_for_log(gw: &Gateway, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let log = gw.log_text();
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_idle_slow_unread_or_long_peer_does_not_stall_the_others() {
    let (_app, gw) = conformance(&[]);
    assert_eq!(gw.get("/").status, 200, "{}", gw.log_text());
    // 1. Connected and silent.
    let _idle = gw.connect();
    // 2. A kept connection, idle after its first request.
    let mut kept = gw.connect();
    send_get(&mut kept, 1, "/", true);
    assert_eq!(read_response(&mut kept, 1).status, 200);
    // 3. Sends its request a byte every 100 ms.
    let slow = gw.connect();
    let trickle = std::thread::spawn(move || {
        let mut slow = slow;
        let mut bytes = begin(1, false, &get_params("/", &[]));
        bytes.extend(stdin(1, b""));
        for b in bytes {
            if slow.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    // 4. Asks for 32 MB and reads none of it.
    let mut unread = gw.connect();
    send_get(&mut unread, 1, "/big?mb=32", false);
    // 5. A request that takes 30 s.
    let mut long = gw.connect();
    send_get(&mut long, 1, "/slow?s=30", false);
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..10 {
        let (r, took) = timed_get(&gw, "/");
        assert_eq!(r.status, 200);
        assert!(
            took < Duration::from_secs(1),
            "answered in {took:?} while other peers stall: {}",
            gw.log_text()
        );
    }
    // The kept connection still serves its next request.
    send_get(&mut kept, 2, "/", true);
    assert_eq!(read_response(&mut kept, 2).status, 200);
    drop(trickle);
}

/// One thread: connections that are silent, new or kept, hold it for no
/// longer than the read that finds nothing (they wait in the poller), so
/// the next request is answered at once; each is served when it speaks.
#[test]
fn with_one_thread_silent_connections_hold_no_thread() {
    let (_app, gw) = conformance(&[("IISWSGI_THREADS", "1")]);
    assert_eq!(gw.get("/").status, 200, "{}", gw.log_text());
    let mut silent: Vec<UnixStream> = (0..3).map(|_| gw.connect()).collect();
    let mut kept = gw.connect();
    send_get(&mut kept, 1, "/", true);
    assert_eq!(read_response(&mut kept, 1).status, 200);
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..5 {
        let (r, took) = timed_get(&gw, "/");
        assert_eq!(r.status, 200);
        assert!(
            took < Duration::from_secs(1),
            "answered in {took:?} beside silent connections: {}",
            gw.log_text()
        );
    }
    for (i, s) in silent.iter_mut().enumerate() {
        send_get(s, 1, &format!("/late{i}"), false);
        assert_eq!(
            read_response(s, 1).text(),
            format!("hello from v1 /late{i}")
        );
    }
    send_get(&mut kept, 2, "/", true);
    assert_eq!(read_response(&mut kept, 2).status, 200);
}

#[test]
fn two_hundred_kept_connections_at_once_are_all_answered() {
    let (_app, gw) = conformance(&[]);
    let mut conns: Vec<UnixStream> = (0..200).map(|_| gw.connect()).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        send_get(s, 1, &format!("/n{i}"), true);
    }
    for (i, s) in conns.iter_mut().enumerate() {
        let r = read_response(s, 1);
        assert_eq!(r.text(), format!("hello from v1 /n{i}"));
    }
    // All still open and served again, in the other order.
    for (i, s) in conns.iter_mut().enumerate().rev() {
        send_get(s, 2, &format!("/m{i}"), true);
        assert_eq!(read_response(s, 2).text(), format!("hello from v1 /m{i}"));
    }
}

#[test]
fn the_request_timeout_answers_504_and_the_worker_is_replaced() {
    let (_app, gw) = conformance(&[
        ("IISWSGI_PROCESSES", "2"),
        ("IISWSGI_THREADS", "2"),
        ("IISWSGI_REQUEST_TIMEOUT", "2"),
    ]);
    let (r, _) = timed_get(&gw, "/pid");
    assert_eq!(r.status, 200, "{}", gw.log_text());
    let t = Instant::now();
    let r = gw.get("/slow?s=30");
    let took = t.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(r.text().contains("IISWSGI_REQUEST_TIMEOUT"), "{}", r.text());
    assert!(took < Duration::from_secs(10), "ended after {took:?}");
    let log = wait_for_log(
        &gw,
        "was ended by the request timeout; starting another",
        Duration::from_secs(5),
    );
    assert!(
        log.contains(
            "GET /slow: still running after 2 s (IISWSGI_REQUEST_TIMEOUT): the client got a 504"
        ),
        "{log}"
    );
    assert!(
        log.contains("was ended by the request timeout; starting another"),
        "{log}"
    );
    // A response that had started is broken off, not ended as if whole.
    let mut s = gw.connect();
    let mut bytes = begin(1, false, &get_params("/stream?wait=/nonexistent", &[]));
    bytes.extend(stdin(1, b""));
    // (the stream waits up to 20 s for a file that never comes)
    s.write_all(&bytes).unwrap();
    let mut got = Vec::new();
    let ended = loop {
        match read_record(&mut s) {
            Ok((STDOUT, 1, c)) => got.extend(c),
            Ok((END_REQUEST, 1, _)) => break true,
            Ok(other) => panic!("{other:?}"),
            Err(_) => break false,
        }
    };
    assert!(!ended, "no FCGI_END_REQUEST for a response cut off");
    assert!(String::from_utf8_lossy(&got).contains("piece 0"));
    // Both workers serve again.
    for _ in 0..4 {
        let mut s = gw.connect();
        send_get(&mut s, 1, "/pid", false);
        let reply = fastcgi::client::read_reply(&mut s, 1);
        assert!(reply.is_ok(), "{reply:?}\n{}", gw.log_text());
    }
}

#[test]
fn idle_read_and_write_limits_close_what_they_should_and_say_so() {
    let (_app, gw) = conformance(&[
        ("IISWSGI_IDLE_TIMEOUT", "1"),
        ("IISWSGI_READ_TIMEOUT", "1"),
        ("IISWSGI_WRITE_TIMEOUT", "1"),
    ]);
    // Idle: a kept connection is closed after a second with nothing sent.
    let mut kept = gw.connect();
    send_get(&mut kept, 1, "/", true);
    assert_eq!(read_response(&mut kept, 1).status, 200);
    let t = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(kept.read(&mut buf).unwrap(), 0, "closed by the gateway");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Read: parameters trickling in for longer than the limit.
    let mut slow = gw.connect();
    let mut bytes = begin(1, false, &get_params("/", &[]));
    bytes.extend(stdin(1, b""));
    let t = Instant::now();
    let mut closed = false;
    for b in bytes {
        if slow.write_all(&[b]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if t.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let log = wait_for_log(
        &gw,
        "to send a request's parameters",
        Duration::from_secs(5),
    );
    assert!(
        log.contains("the web server took more than 1 s to send a request's parameters (IISWSGI_READ_TIMEOUT)"),
        "closed={closed} {log}"
    );
    // Write: a client that reads none of a 32 MB response.
    let mut unread = gw.connect();
    send_get(&mut unread, 1, "/big?mb=32", false);
    let log = wait_for_log(&gw, "IISWSGI_WRITE_TIMEOUT", Duration::from_secs(10));
    assert!(
        log.contains("GET /big:")
            && log.contains(
                "the web server took none of the response for 1 s (IISWSGI_WRITE_TIMEOUT)"
            ),
        "{log}"
    );
    assert_eq!(gw.get("/").status, 200);
}

#[test]
fn a_peer_that_disconnects_mid_response_is_logged() {
    let (_app, gw) = conformance(&[]);
    let mut s = gw.connect();
    send_get(&mut s, 1, "/big?mb=32", false);
    let mut first = [0u8; 4096];
    s.read_exact(&mut first).unwrap();
    drop(s);
    let log = wait_for_log(&gw, "(the response had started", Duration::from_secs(10));
    assert!(
        log.contains("GET /big:")
            && (log.contains("Broken pipe") || log.contains("Connection reset"))
            && log.contains("(the response had started"),
        "{log}"
    );
    assert_eq!(gw.get("/").status, 200);
}

/// `--bind`: a supervisor and its workers; requests in flight at once land
/// on both workers; SIGTERM stops them all, their atexit functions run.
#[test]
fn bind_runs_worker_processes_that_share_the_socket_and_stop_together() {
    let Some(venv) = test_venv() else { return };
    let app = app_copy("conformance");
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("gw.sock");
    let log = dir.path().join("gw.log");
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let mut child = Command::new(gateway_exe())
        .arg("--bind")
        .arg(format!("unix:{}", socket.display()))
        .args(["--processes", "2", "--threads", "1", "--app-dir"])
        .arg(app.path())
        .env("WSGI_HANDLER", "app.application")
        .env("IISWSGI_VENV", &venv)
        .env("WSGI_LOG", &log)
        .env("IISWSGI_TEST_MARKS", &marks)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let connect = || {
        let s = UnixStream::connect(&socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    };
    // A one-second request, and once a worker is serving it (its one
    // thread busy, so it accepts nothing more) a second: the other worker
    // must take that one. Both pids are counted: which worker wins the
    // first is up to the kernel's wake-up order, and can be the same one
    // every round. More rounds only for a machine too loaded to start the
    // first request within 300 ms.
    let mut pids = std::collections::BTreeSet::new();
    for _ in 0..10 {
        let mut s = connect();
        send_get(&mut s, 1, "/pid?s=1", false);
        std::thread::sleep(Duration::from_millis(300));
        let mut t = connect();
        send_get(&mut t, 1, "/pid", false);
        for answer in [
            read_response(&mut t, 1).text(),
            read_response(&mut s, 1).text(),
        ] {
            assert!(answer.starts_with("pid="), "{answer}");
            pids.insert(answer);
        }
        if pids.len() == 2 {
            break;
        }
    }
    assert_eq!(
        pids.len(),
        2,
        "two workers answered: {pids:?}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the supervisor did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{status:?} {text}");
    assert!(text.contains("all workers stopped"), "{text}");
    let marks = std::fs::read_to_string(marks.join("atexit")).unwrap_or_default();
    assert_eq!(marks, "xx", "both workers ran atexit\n{text}");
}

/// A supervisor killed outright (SIGKILL, no chance to pass anything on)
/// takes its workers with it (PR_SET_PDEATHSIG): none is left serving.
#[test]
fn workers_end_when_their_supervisor_is_killed() {
    let (_app, mut gw) = conformance(&[("IISWSGI_PROCESSES", "2")]);
    assert_eq!(gw.get("/").status, 200, "{}", gw.log_text());
    let supervisor = gw.child.id();
    let workers: Vec<u32> =
        std::fs::read_to_string(format!("/proc/{supervisor}/task/{supervisor}/children"))
            .unwrap()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
    assert_eq!(workers.len(), 2, "{workers:?}");
    gw.child.kill().unwrap();
    gw.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Gone, or a zombie nobody reaps any more (its parent is gone too).
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| !r.trim_start().starts_with('Z'))
        })
    };
    while workers.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<u32> = workers.into_iter().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "workers still running: {left:?}");
}
