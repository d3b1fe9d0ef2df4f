//! No leak per request: a Flask app served over a fresh connection per
//! request (as mod_fcgid and IIS send them), the process's resident memory
//! after a warm-up and again 20,000 requests later. bench/peers.sh
//! measures the same over a million requests; this bounded run is here so
//! that a leak breaks the build. A size, not a time.

mod common;

use std::time::Duration;

use common::*;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn twenty_thousand_flask_requests_grow_memory_by_less_than_2_mib() {
    let Some(venv) = test_venv() else { return };
    let app = tempfile::tempdir().unwrap();
    std::fs::write(
        app.path().join("app.py"),
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'Hello, World!'\n",
    )
    .unwrap();
    let venv = venv.display().to_string();
    let gw = Gateway::start(
        app.path(),
        &[
            ("WSGI_HANDLER", "app.app"),
            ("IISWSGI_VENV", &venv),
            ("WSGI_RESTART_FILE_REGEX", ""),
        ],
    );
    let get = |n: usize| {
        for _ in 0..n {
            let r = gw.get("/");
            assert_eq!(r.status, 200, "{}", gw.log_text());
        }
    };
    // Warm-up: the app imported, every thread's allocator arena in use.
    get(3000);
    std::thread::sleep(Duration::from_millis(100));
    let before = rss_kib(gw.child.id());
    get(20_000);
    std::thread::sleep(Duration::from_millis(100));
    let after = rss_kib(gw.child.id());
    let growth = after.saturating_sub(before);
    assert!(
        growth < 2048,
        "resident memory grew {growth} KiB over 20,000 requests ({before} -> {after} KiB)"
    );
    eprintln!("RSS {before} KiB -> {after} KiB over 20,000 requests");
}
