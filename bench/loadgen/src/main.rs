//! `fcgi-load`: N connections, each sending FastCGI requests back to back
//! for a fixed time, against a responder on a Unix socket; in one of two
//! modes, a new connection per request (what mod_fcgid and IIS without
//! keep-alive do) or one kept connection each (nginx `fastcgi_keep_conn`).
//!
//!     fcgi-load SOCKET --connections N --seconds S --mode new|kept
//!               [--path /] [--pids PID,PID,...] [--warmup S] [--requests N]
//!
//! With --requests, it stops after that many requests in all rather than
//! after --seconds (the leak measurement: RSS after N requests).
//!
//! Prints one line of `key=value` pairs: requests, errors, rps, latency
//! percentiles (p50, p99, p99.9, in microseconds), and for the server
//! processes named by --pids (and their children), read from /proc before
//! and after: CPU time per request (user+system, microseconds) and the RSS
//! of each (KiB). Every response is checked: a 200 with a body.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

struct Options {
    socket: String,
    connections: usize,
    seconds: f64,
    warmup: f64,
    kept: bool,
    path: String,
    pids: Vec<u32>,
    /// Stop after this many requests in all (instead of after `seconds`).
    requests: Option<u64>,
}

fn parse() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        socket: args.next().ok_or("usage: fcgi-load SOCKET [options]")?,
        connections: 1,
        seconds: 5.0,
        warmup: 1.0,
        kept: false,
        path: "/".into(),
        pids: Vec::new(),
        requests: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--connections" => o.connections = number(&flag, &value)?,
            "--seconds" => o.seconds = number(&flag, &value)?,
            "--warmup" => o.warmup = number(&flag, &value)?,
            "--mode" => o.kept = value == "kept",
            "--path" => o.path = value,
            "--requests" => o.requests = Some(number(&flag, &value)?),
            "--pids" => {
                o.pids = value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|p| p.parse().map_err(|_| format!("--pids {p:?}")))
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} {value:?}: not a number"))
}

/// What mod_fcgid sends for a GET (the usual CGI set).
fn request(path: &str, keep: bool) -> Vec<u8> {
    let params = [
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("SERVER_SOFTWARE", "Apache"),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_ADDR", "127.0.0.1"),
        ("SERVER_PORT", "80"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REMOTE_PORT", "50000"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("REQUEST_METHOD", "GET"),
        ("REQUEST_URI", path),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", path),
        ("QUERY_STRING", ""),
        ("HTTP_HOST", "127.0.0.1"),
        ("HTTP_USER_AGENT", "fcgi-load"),
        ("HTTP_ACCEPT", "*/*"),
    ];
    fastcgi::client::request(1, keep, &params, b"")
}

/// Requests started in all, for --requests.
static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One connection's loop until `until` (or --requests): latencies (µs)
/// and errors.
fn drive(o: &Options, until: Instant, record: bool) -> (Vec<u32>, u64) {
    let req = request(&o.path, o.kept);
    let mut lat = Vec::with_capacity(1 << 16);
    let mut errors = 0u64;
    let mut kept: Option<UnixStream> = None;
    while Instant::now() < until {
        if record
            && let Some(limit) = o.requests
            && STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= limit
        {
            break;
        }
        let t = Instant::now();
        let result = (|| -> std::io::Result<()> {
            let mut s = match kept.take() {
                Some(s) => s,
                None => {
                    let s = UnixStream::connect(&o.socket)?;
                    s.set_read_timeout(Some(Duration::from_secs(30)))?;
                    s
                }
            };
            s.write_all(&req)?;
            let reply = fastcgi::client::read_reply(&mut s, 1)?;
            let r = fastcgi::cgi::parse(&reply.stdout)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            if r.status != 200 || r.body.is_empty() {
                return Err(std::io::Error::other(format!("status {}", r.status)));
            }
            if o.kept {
                kept = Some(s);
            }
            Ok(())
        })();
        match result {
            Ok(()) if record => lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32),
            Ok(()) => {}
            Err(_) => errors += 1,
        }
    }
    (lat, errors)
}

/// (utime+stime in clock ticks, RSS KiB) of `pid` and its children.
fn usage(pids: &[u32]) -> (u64, Vec<(u32, u64)>) {
    let mut all: Vec<u32> = pids.to_vec();
    let mut i = 0;
    while i < all.len() {
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", all[i]))
            .unwrap_or_default();
        all.extend(
            children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
        i += 1;
    }
    let mut ticks = 0;
    let mut rss = Vec::new();
    for pid in all {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // Fields after the command's closing parenthesis: utime is the
            // 12th, stime the 13th of those.
            let rest = stat.rsplit(')').next().unwrap_or("");
            let f: Vec<&str> = rest.split_whitespace().collect();
            ticks += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            ticks += f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kib) = status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        {
            rss.push((pid, kib));
        }
    }
    (ticks, rss)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fcgi-load: {e}");
            std::process::exit(2);
        }
    };
    let o = &o;
    // Warm-up: the app loaded in every process, caches filled.
    let until = Instant::now() + Duration::from_secs_f64(o.warmup);
    std::thread::scope(|s| {
        for _ in 0..o.connections {
            s.spawn(|| drive(o, until, false));
        }
    });
    let (ticks0, _) = usage(&o.pids);
    let start = Instant::now();
    let until = match o.requests {
        Some(_) => start + Duration::from_secs(24 * 3600),
        None => start + Duration::from_secs_f64(o.seconds),
    };
    let results: Vec<(Vec<u32>, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..o.connections)
            .map(|_| s.spawn(|| drive(o, until, true)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let (ticks1, rss) = usage(&o.pids);
    let mut lat: Vec<u32> = results
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    let errors: u64 = results.iter().map(|(_, e)| e).sum();
    lat.sort_unstable();
    let n = lat.len() as f64;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu_us = (ticks1 - ticks0) as f64 / hz * 1e6 / n.max(1.0);
    let rss_list: Vec<String> = rss.iter().map(|(_, k)| k.to_string()).collect();
    println!(
        "requests={} errors={} rps={:.0} p50_us={} p99_us={} p999_us={} cpu_us_per_req={:.1} rss_kib={}",
        lat.len(),
        errors,
        n / elapsed,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 0.999),
        cpu_us,
        rss_list.join(",")
    );
}
