//! The gateway as mod_fcgid runs it (a Unix listening socket on standard
//! input), driven by a FastCGI client that checks the protocol byte by
//! byte, with real CPython apps from tests/apps.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;

fn conformance(env: &[(&str, &str)]) -> (tempfile::TempDir, Gateway) {
    let app = app_copy("conformance");
    let mut all = vec![("WSGI_HANDLER", "app.application")];
    all.extend_from_slice(env);
    let gw = Gateway::start(app.path(), &all);
    (app, gw)
}

/// Nothing the validator or the gateway complained about.
fn assert_clean_log(gw: &Gateway) {
    let log = gw.log_text();
    assert!(
        !log.contains("AssertionError") && !log.contains("Traceback"),
        "{log}"
    );
}

#[test]
fn get_values_answers_one_request_at_a_time() {
    let (_app, gw) = conformance(&[]);
    let mut s = gw.connect();
    s.write_all(&record(
        GET_VALUES,
        0,
        &pairs(&[
            ("FCGI_MAX_CONNS", ""),
            ("FCGI_MAX_REQS", ""),
            ("FCGI_MPXS_CONNS", ""),
            ("X_UNKNOWN", ""),
        ]),
    ))
    .unwrap();
    let (kind, id, content) = read_record(&mut s).unwrap();
    assert_eq!((kind, id), (GET_VALUES_RESULT, 0));
    assert_eq!(
        content,
        pairs(&[
            ("FCGI_MAX_CONNS", "1"),
            ("FCGI_MAX_REQS", "1"),
            ("FCGI_MPXS_CONNS", "0")
        ])
    );
    // An unknown management record gets FCGI_UNKNOWN_TYPE.
    s.write_all(&record(42, 0, b"")).unwrap();
    assert_eq!(
        read_record(&mut s).unwrap(),
        (UNKNOWN_TYPE, 0, vec![42, 0, 0, 0, 0, 0, 0, 0])
    );
}

#[test]
fn a_request_is_answered_in_exact_bytes() {
    let (_app, gw) = conformance(&[]);
    let mut s = gw.connect();
    let mut req = begin(7, false, &get_params("/hi", &[]));
    req.extend(stdin(7, b""));
    s.write_all(&req).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let body = b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nhello from v1 /hi";
    let mut expected = record(STDOUT, 7, &body[..]);
    expected.extend(record(STDOUT, 7, b""));
    expected.extend(record(END_REQUEST, 7, &[0, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(
        String::from_utf8_lossy(&all),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(
        all, expected,
        "the connection is closed after a request without FCGI_KEEP_CONN"
    );
    assert_clean_log(&gw);
}

#[test]
fn a_relative_app_dir_is_the_folder_it_names_from_where_the_gateway_started() {
    // Python changes into the app's folder; a relative sys.path entry made
    // from `--app-dir app` would then name app/app and the import fail.
    let app = app_copy("conformance");
    let parent = app.path().parent().unwrap();
    let name = app.path().file_name().unwrap();
    let gw = Gateway::start_in(
        Some(parent),
        std::path::Path::new(name),
        &[("WSGI_HANDLER", "app.application")],
    );
    let r = gw.get("/hi");
    assert_eq!(
        (r.status, r.text()),
        (200, "hello from v1 /hi".to_owned()),
        "{}",
        gw.log_text()
    );
    assert_clean_log(&gw);
}

#[test]
fn a_body_iterating_a_list_is_sent_whole_and_closed() {
    // Django's HttpResponse: iter() of a list, and close(). Served raw (the
    // validator's wrapper would hide the list iterator): the last chunk
    // leaves with FCGI_END_REQUEST, the others before it, close() after.
    let marks = tempfile::tempdir().unwrap();
    let marks_dir = marks.path().to_str().unwrap().to_owned();
    let app = app_copy("conformance");
    let gw = Gateway::start(
        app.path(),
        &[
            ("WSGI_HANDLER", "app.raw"),
            ("IISWSGI_TEST_MARKS", &marks_dir),
        ],
    );
    for (query, body, closes) in [("", "one two", "x"), ("1", "one", "xx"), ("0", "", "xxx")] {
        let mut s = gw.connect();
        let mut req = begin(3, false, &get_params(&format!("/listed?{query}"), &[]));
        req.extend(stdin(3, b""));
        s.write_all(&req).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let head = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n";
        let text = String::from_utf8_lossy(&all).into_owned();
        let r = read_response(&mut &all[..], 3);
        assert_eq!((r.status, r.text()), (200, body.to_owned()), "{text}");
        assert!(text.contains(head), "{text}");
        assert!(
            all.ends_with(&record(END_REQUEST, 3, &[0; 8])),
            "ends with FCGI_END_REQUEST: {text}"
        );
        assert_eq!(
            std::fs::read_to_string(marks.path().join("closed-listed")).unwrap(),
            closes
        );
    }
    // One write: the first read already holds the end of the request. Were
    // the chunk sent on its own, the end would follow only after close()'s
    // 0.3 s.
    let mut s = gw.connect();
    let mut req = begin(4, false, &get_params("/listed?slow-close", &[]));
    req.extend(stdin(4, b""));
    s.write_all(&req).unwrap();
    let mut first = vec![0u8; 64 * 1024];
    let n = s.read(&mut first).unwrap();
    let end = record(END_REQUEST, 4, &[0; 8]);
    assert!(
        first[..n].ends_with(&end),
        "first read: {}",
        String::from_utf8_lossy(&first[..n])
    );
    assert!(!gw.log_text().contains("Traceback"), "{}", gw.log_text());
}

#[test]
fn kept_connections_serve_request_after_request_and_refuse_a_second_at_once() {
    let (_app, gw) = conformance(&[]);
    let mut s = gw.connect();
    for id in [1u16, 2, 1] {
        let mut req = begin(id, true, &get_params(&format!("/n{id}"), &[]));
        req.extend(stdin(id, b""));
        s.write_all(&req).unwrap();
        let r = read_response(&mut s, id);
        assert_eq!(r.text(), format!("hello from v1 /n{id}"));
    }
    // A second BEGIN_REQUEST while the first is being served: FCGI_CANT_MPX_CONN.
    let mut req = begin(
        1,
        true,
        &[
            ("REQUEST_METHOD", "POST"),
            ("PATH_INFO", "/upload"),
            ("CONTENT_LENGTH", "3"),
        ],
    );
    req.extend(record(BEGIN_REQUEST, 2, &[0, 1, 1, 0, 0, 0, 0, 0]));
    req.extend(stdin(1, b"abc"));
    s.write_all(&req).unwrap();
    assert_eq!(
        read_record(&mut s).unwrap(),
        (END_REQUEST, 2, vec![0, 0, 0, 0, 1, 0, 0, 0])
    );
    let r = read_response(&mut s, 1);
    assert_eq!(
        r.text(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3"
    );
    assert_clean_log(&gw);
}

#[test]
fn environ_follows_pep_3333_and_splits_iis_application_paths() {
    let (app, gw) = conformance(&[]);
    let r = gw.request(
        &get_params(
            "/Shop/environ",
            &[
                ("APPL_MD_PATH", "/LM/W3SVC/1/ROOT/shop"),
                ("APPL_PHYSICAL_PATH", "C:\\ignored"),
                ("SCRIPT_NAME", "/Shop/environ"),
                ("HTTPS", "on"),
                ("HTTP_X_CUSTOM", "caf\u{e9}"),
                ("QUERY_STRING", "a=1"),
            ],
        ),
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let env = json(&r.body);
    assert_eq!(env["SCRIPT_NAME"], "/Shop");
    assert_eq!(env["PATH_INFO"], "/environ");
    assert_eq!(env["QUERY_STRING"], "a=1");
    assert_eq!(env["wsgi.url_scheme"], "https");
    // UTF-8 bytes as latin-1 characters (PEP 3333's "bytes as str").
    assert_eq!(env["HTTP_X_CUSTOM"], "caf\u{c3}\u{a9}");
    assert_eq!(env["wsgi.version"], serde_json::json!([1, 0]));
    // Eight threads serve requests by default (IISWSGI_THREADS).
    assert_eq!(env["wsgi.multithread"], true);
    assert_eq!(env["wsgi.multiprocess"], true);
    assert_eq!(
        env["wsgi.input_terminated"], true,
        "no Content-Length: the app may read to the end"
    );
    let r = gw.request(
        &get_params(
            "/environ",
            &[("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", "3")],
        ),
        b"abc",
    );
    assert_eq!(
        json(&r.body)["wsgi.input_terminated"],
        "absent",
        "with a Content-Length the app reads by it"
    );
    let dir = app.path().canonicalize().unwrap();
    assert_eq!(
        std::path::Path::new(env["cwd"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        dir
    );
    assert_eq!(
        env["os.environ:WSGI_HANDLER"], "app.application",
        "settings are in os.environ"
    );
    assert_clean_log(&gw);
}

/// The gateway keeps the environ's key objects from one request to the
/// next (a bounded cache): each request's environ must still hold exactly
/// the names that request sent, beyond the cache's bound too.
#[test]
fn each_environ_holds_its_own_requests_headers_only() {
    let (_app, gw) = conformance(&[]);
    let names: Vec<String> = (0..300).map(|i| format!("HTTP_X_H{i}")).collect();
    for round in 0..3 {
        let chosen: Vec<&String> = names.iter().skip(round).step_by(3).collect();
        let extra: Vec<(&str, &str)> = chosen.iter().map(|n| (n.as_str(), n.as_str())).collect();
        let r = gw.request(&get_params("/environ", &extra), b"");
        assert_eq!(r.status, 200, "{}", r.text());
        let env = json(&r.body);
        for (i, name) in names.iter().enumerate() {
            let sent = i % 3 == round;
            assert_eq!(
                env.get(name.as_str()).and_then(|v| v.as_str()),
                sent.then_some(name.as_str()),
                "round {round}: {name}"
            );
        }
    }
    assert_clean_log(&gw);
}

#[test]
fn bodies_are_read_as_the_app_asks() {
    let (_app, gw) = conformance(&[]);
    let form = b"name=Ada+Lovelace&lang=py";
    let r = gw.request(
        &get_params(
            "/form",
            &[
                ("REQUEST_METHOD", "POST"),
                ("CONTENT_TYPE", "application/x-www-form-urlencoded"),
                ("CONTENT_LENGTH", "25"),
            ],
        ),
        form,
    );
    assert_eq!(json(&r.body)["name"], "Ada Lovelace");
    let text = b"first line\nsecond\nthird";
    let r = gw.request(
        &get_params(
            "/lines",
            &[("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", "23")],
        ),
        text,
    );
    assert_eq!(r.body, br#"["first line\n", "second\n", "third"]"#);
    assert_clean_log(&gw);
}

#[test]
fn a_100_mb_upload_streams_through_in_bounded_memory() {
    let (_app, gw) = conformance(&[]);
    let before = {
        gw.get("/");
        gw.peak_rss_kib()
    };
    let mb = 100usize;
    let len = (mb << 20).to_string();
    let mut s = gw.connect();
    s.write_all(&begin(
        1,
        false,
        &get_params(
            "/upload",
            &[("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", &len)],
        ),
    ))
    .unwrap();
    // The body in FastCGI's largest records, each a different byte, hashed as sent.
    use sha2_like::Sha256;
    let mut hasher = Sha256::new();
    let chunk = 65535;
    let mut sent = 0usize;
    let mut i = 0u8;
    while sent < mb << 20 {
        let n = chunk.min((mb << 20) - sent);
        let piece = vec![i; n];
        hasher.update(&piece);
        s.write_all(&record(STDIN, 1, &piece)).unwrap();
        sent += n;
        i = i.wrapping_add(1);
    }
    s.write_all(&record(STDIN, 1, b"")).unwrap();
    let r = read_response(&mut s, 1);
    assert_eq!(r.text(), format!("{} {}", hasher.hex(), mb << 20));
    let after = gw.peak_rss_kib();
    assert!(
        after < before + 16 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB for a {mb} MB upload"
    );
    assert_clean_log(&gw);
}

#[test]
fn responses_stream_as_the_app_yields_them() {
    let (app, gw) = conformance(&[]);
    let flag = app.path().join("go");
    let path = format!("/stream?wait={}", flag.display());
    let mut s = gw.connect();
    let mut req = begin(1, false, &get_params(&path, &[]));
    req.extend(stdin(1, b""));
    s.write_all(&req).unwrap();
    // Headers and the first piece arrive while the app still waits for the flag.
    let (kind, _, first) = read_record(&mut s).unwrap();
    assert_eq!(kind, STDOUT);
    assert_eq!(
        first,
        b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\npiece 0\n"
    );
    for n in 1..3 {
        assert_eq!(
            read_record(&mut s).unwrap().2,
            format!("piece {n}\n").into_bytes()
        );
    }
    std::fs::write(&flag, "").unwrap();
    assert_eq!(read_record(&mut s).unwrap().2, b"last\n");
    assert_eq!(read_record(&mut s).unwrap(), (STDOUT, 1, vec![]));
    assert_eq!(read_record(&mut s).unwrap().0, END_REQUEST);

    // A 50 MB body goes out in 1 MiB writes without being gathered.
    let before = gw.peak_rss_kib();
    let r = gw.get("/big?mb=50");
    assert_eq!(r.body.len(), 50 << 20);
    assert!(r.stdout_records.iter().all(|&n| n <= 65535));
    assert!(
        gw.peak_rss_kib() < before + 16 * 1024,
        "peak RSS {} KiB after {before}",
        gw.peak_rss_kib()
    );
    assert_clean_log(&gw);
}

#[test]
fn write_callable_file_wrapper_and_exc_info() {
    let (app, gw) = conformance(&[]);
    assert_eq!(gw.get("/write").text(), "written and returned");
    let source = std::fs::read(app.path().join("app.py")).unwrap();
    let r = gw.get("/file");
    assert_eq!(r.body, source);
    assert!(
        r.stdout_records.len() > 2,
        "file_wrapper blocks of 1000 bytes go out as they are read"
    );
    let r = gw.get("/exc-info");
    assert_eq!((r.status, r.text().as_str()), (503, "replaced"));
    let r = gw.get("/nope");
    assert_eq!((r.status, r.text().as_str()), (404, "no such page"));
    assert_clean_log(&gw);
}

#[test]
fn close_is_always_called_and_a_failing_app_gets_the_500_page() {
    let marks = tempfile::tempdir().unwrap();
    let marks_dir = marks.path().to_str().unwrap().to_owned();
    let (_app, gw) = conformance(&[("IISWSGI_TEST_MARKS", &marks_dir)]);
    assert_eq!(gw.get("/closing").text(), "before after");
    assert_eq!(
        std::fs::read_to_string(marks.path().join("closed")).unwrap(),
        "x"
    );
    // Failing after the headers went out: the response is broken off (the
    // connection closes without FCGI_END_REQUEST, so the web server sees a
    // failed response, not a short whole one); close() still runs.
    let (stdout, ended) =
        records_until_closed(&gw, &get_params("/closing", &[("QUERY_STRING", "fail")]));
    assert!(
        stdout.starts_with(b"Status: 200 OK\r\n"),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    assert!(
        stdout.ends_with(b"\r\n\r\nbefore "),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    assert!(!ended, "no FCGI_END_REQUEST for a broken response");
    assert!(gw.log_text().contains("RuntimeError: failed mid-body"));
    // close() failing after the whole body was given: the response stands,
    // ended as usual; the traceback is logged.
    let r = gw.get("/close-raises");
    assert_eq!((r.status, r.text().as_str()), (200, "whole body"));
    assert!(
        gw.log_text()
            .contains("RuntimeError: close failed after the body")
    );
    assert_eq!(
        std::fs::read_to_string(marks.path().join("closed")).unwrap(),
        "xx"
    );
    // Failing before any byte went out: the 500 page, details only in the log.
    let r = gw.get("/raise");
    assert_eq!(r.status, 500);
    assert!(
        r.text().contains("failed while answering this request")
            && !r.text().contains("on purpose"),
        "{}",
        r.text()
    );
    assert!(
        gw.log_text()
            .contains("ValueError: the app failed on purpose"),
        "{}",
        gw.log_text()
    );
    // The process serves on.
    assert_eq!(gw.get("/").text(), "hello from v1 /");
}

#[test]
fn the_gateway_refuses_what_pep_3333_forbids() {
    let (_app, gw) = conformance(&[
        ("WSGI_HANDLER", "app:raw"),
        ("IISWSGI_SHOW_TRACEBACK", "true"),
    ]);
    let r = gw.get("/bad-header");
    assert_eq!(r.status, 500);
    assert!(
        r.text()
            .contains("TypeError: header names and values must be str"),
        "{}",
        r.text()
    );
    for (query, name) in [
        ("colon", "'X-A:b'"),
        ("space", "'X A'"),
        ("tab", "'X\\tA'"),
        ("empty", "''"),
    ] {
        let r = gw.get(&format!("/bad-header-name?{query}"));
        assert_eq!(r.status, 500, "{query}");
        assert!(
            r.text()
                .contains(&format!("ValueError: invalid header name {name}")),
            "{query}: {}",
            r.text()
        );
    }
    let r = gw.get("/header-injection");
    assert_eq!(r.status, 500);
    assert!(
        r.text()
            .contains("ValueError: header 'X-A' has a line break in its value")
            && r.header("Set-Cookie").is_none(),
        "{}",
        r.text()
    );
    // Response splitting through the status line: a header, a body.
    for query in ["header", "body"] {
        let r = gw.get(&format!("/status-injection?{query}"));
        assert_eq!(r.status, 500, "{query}");
        assert!(
            r.text().contains("ValueError: status '200 OK\\r\\n")
                && r.text().contains("with no control character")
                && r.header("Set-Cookie").is_none()
                && !r.text().starts_with("INJECTED"),
            "{query}: {}",
            r.text()
        );
    }
    // NUL and other control characters in a header's name or value.
    for (query, said) in [
        ("name", "ValueError: invalid header name 'X-A\\x00B'"),
        (
            "value",
            "ValueError: header 'X-A' has control character '\\x00' in its value",
        ),
        (
            "bell",
            "ValueError: header 'X-A' has control character '\\x07' in its value",
        ),
    ] {
        let r = gw.get(&format!("/control-in-header?{query}"));
        assert_eq!(r.status, 500, "{query}");
        assert!(r.text().contains(said), "{query}: {}", r.text());
        assert!(
            !r.body.contains(&0u8)
                && r.headers
                    .iter()
                    .all(|(k, v)| !k.contains('\0') && !v.contains('\0')),
            "{query}: no NUL reaches the web server"
        );
    }
    for (query, said) in [
        (
            "twice",
            "AssertionError: start_response called a second time without exc_info",
        ),
        ("status-bytes", "TypeError: status must be str, not bytes"),
        ("not-a-list", "TypeError: headers must be a list, not tuple"),
        (
            "triple",
            "TypeError: each header must be a (name, value) tuple, not ('X-A', 'v', 'w')",
        ),
        (
            "not-latin-1",
            "UnicodeEncodeError: 'latin-1' codec can't encode character '\\u20ac'",
        ),
    ] {
        let r = gw.get(&format!("/start-response-misuse?{query}"));
        assert_eq!(r.status, 500, "{query}");
        assert!(r.text().contains(said), "{query}: {}", r.text());
    }
    // Once the head went out, exc_info raises the app's error again: the
    // response is broken off, and the log has the app's KeyError.
    let (stdout, ended) = records_until_closed(
        &gw,
        &get_params(
            "/start-response-misuse",
            &[("QUERY_STRING", "late-exc-info")],
        ),
    );
    assert!(
        stdout.ends_with(b"\r\n\r\npart"),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    assert!(!ended, "no FCGI_END_REQUEST for a broken-off response");
    let log = gw.log_text();
    assert!(log.contains("KeyError: 'late'"), "{log}");
}

#[test]
fn every_handler_form_of_wfastcgi_loads() {
    for handler in [
        "app.application",
        "app:application",
        "app.create_app()",
        "app:create_app()",
    ] {
        let (_app, gw) = conformance(&[("WSGI_HANDLER", handler)]);
        let r = gw.get("/");
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, "hello from v1 /"),
            "{handler}: {}",
            gw.log_text()
        );
    }
}

#[test]
fn an_app_that_cannot_be_imported_is_a_page_then_works_once_fixed() {
    let app = app_copy("broken");
    let gw = Gateway::start(
        app.path(),
        &[
            ("WSGI_HANDLER", "app.application"),
            ("WSGI_RESTART_FILE_REGEX", ""),
        ],
    );
    let r = gw.get("/");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("could not be loaded"), "{}", r.text());
    let log = gw.log_text();
    assert!(
        log.contains("ModuleNotFoundError: No module named 'module_that_does_not_exist'"),
        "{log}"
    );
    assert!(log.contains("imported again at the next request"), "{log}");
    // Fixed on disk (no reload watcher): the next request imports it again.
    let fixed = std::fs::read_to_string(app.path().join("app.py"))
        .unwrap()
        .replace("import module_that_does_not_exist", "import os");
    std::fs::write(app.path().join("app.py"), fixed).unwrap();
    let r = gw.get("/");
    assert_eq!((r.status, r.text().as_str()), (200, "fixed"));
}

#[test]
fn settings_errors_are_pages_not_crashes() {
    let app = app_copy("conformance");
    let gw = Gateway::start(app.path(), &[]);
    let r = gw.get("/");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("configuration is wrong"));
    assert!(
        gw.log_text().contains("WSGI_HANDLER is not set"),
        "{}",
        gw.log_text()
    );
    let gw = Gateway::start(
        app.path(),
        &[
            ("WSGI_HANDLER", "app:application"),
            ("IISWSGI_VENV", "no-such-venv"),
        ],
    );
    assert_eq!(gw.get("/").status, 500);
    assert!(
        gw.log_text().contains("no virtual environment at"),
        "{}",
        gw.log_text()
    );
}

#[test]
fn web_config_app_settings_configure_the_gateway() {
    let app = app_copy("conformance");
    std::fs::write(
        app.path().join("web.config"),
        r#"<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="WSGI_HANDLER" value="app.create_app()" />
    <add key="PYTHONPATH" value="lib" />
    <add key="GREETING" value="from web.config" />
  </appSettings>
</configuration>"#,
    )
    .unwrap();
    let gw = Gateway::start(app.path(), &[]);
    let r = gw.get("/environ");
    assert_eq!(r.status, 200, "{}", gw.log_text());
    assert_eq!(
        json(&r.body)["os.environ:GREETING"],
        "from web.config",
        "app settings are in os.environ"
    );
    assert!(
        gw.log_text()
            .contains(&format!("{}", app.path().join("lib").display())),
        "PYTHONPATH is on sys.path: {}",
        gw.log_text()
    );
}

#[test]
fn a_changed_file_reloads_the_app_at_the_next_request() {
    let (app, gw) = conformance(&[]);
    assert_eq!(gw.get("/").text(), "hello from v1 /");
    let code = std::fs::read_to_string(app.path().join("app.py"))
        .unwrap()
        .replace("VERSION = \"v1\"", "VERSION = \"v2\"");
    std::fs::write(app.path().join("app.py"), code).unwrap();
    // inotify is prompt; allow a moment for the watcher thread.
    let mut text = String::new();
    for _ in 0..50 {
        text = gw.get("/").text();
        if text.contains("v2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(text, "hello from v2 /");
    assert!(
        gw.log_text().contains("app.py changed: reloading"),
        "{}",
        gw.log_text()
    );
    // A static file does not match the default pattern: no reload.
    std::fs::write(app.path().join("notes.txt"), "x").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    gw.get("/");
    assert_eq!(gw.log_text().matches("reloading").count(), 1);
}

#[test]
fn sigterm_when_idle_exits_cleanly_and_runs_atexit() {
    let marks = tempfile::tempdir().unwrap();
    let marks_dir = marks.path().to_str().unwrap().to_owned();
    let (_app, mut gw) = conformance(&[("IISWSGI_TEST_MARKS", &marks_dir)]);
    assert_eq!(gw.get("/").status, 200);
    gw.signal("TERM");
    let status = gw.wait_exit(Duration::from_secs(10)).expect("exited");
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(marks.path().join("atexit")).unwrap(),
        "x"
    );
}

#[test]
fn sigterm_while_serving_finishes_the_request_first() {
    let (_app, mut gw) = conformance(&[]);
    assert_eq!(gw.get("/").status, 200);
    let mut s = gw.connect();
    let mut req = begin(1, false, &get_params("/slow?s=2", &[]));
    req.extend(stdin(1, b""));
    s.write_all(&req).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    gw.signal("TERM");
    // Stopping: a request that comes now is not started. Its connection
    // closes unanswered, and the web server tries another process.
    std::thread::sleep(Duration::from_millis(200));
    let mut late = gw.connect();
    let mut req = begin(2, false, &get_params("/", &[]));
    req.extend(stdin(2, b""));
    late.write_all(&req).unwrap();
    late.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = late.read_to_end(&mut answer);
    assert_eq!(answer, b"", "no answer to a request after SIGTERM");
    let r = read_response(&mut s, 1);
    assert_eq!(r.text(), "slept");
    let status = gw
        .wait_exit(Duration::from_secs(10))
        .expect("exited after the request");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn not_started_by_a_host_it_says_how_to_run_it() {
    let out = std::process::Command::new(gateway_exe())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("standard input is not a listening socket") && err.contains("--bind"),
        "{err}"
    );
    let out = std::process::Command::new(gateway_exe())
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("iiswsgi-gateway {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// SHA-256 through the test venv-free route: Python's hashlib is the
/// app's side, so the test side uses the sha2 crate.
mod sha2_like {
    use sha2::Digest;
    pub struct Sha256(sha2::Sha256);
    impl Sha256 {
        pub fn new() -> Self {
            Sha256(sha2::Sha256::new())
        }
        pub fn update(&mut self, b: &[u8]) {
            self.0.update(b)
        }
        pub fn hex(self) -> String {
            self.0
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        }
    }
}

/// While a write blocks (the client does not read), the GIL is released:
/// a thread of the app keeps running. On a gateway that held it through
/// writes below 64 KiB, the thread did not run once while the client waited.
#[test]
fn a_blocked_write_lets_the_apps_other_threads_run() {
    let (_app, gw) = conformance(&[]);
    let mut s = gw.connect();
    let mut bytes = begin(1, false, &get_params("/background", &[]));
    bytes.extend(stdin(1, b""));
    s.write_all(&bytes).unwrap();
    // Not reading for a while: the socket's buffer fills, the writes block.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let r = read_response(&mut s, 1);
    assert_eq!(r.status, 200);
    let text = r.text();
    let tail = text.rsplit('\n').next().unwrap();
    let (ticks, seconds) = tail
        .strip_prefix("ticks=")
        .and_then(|t| t.split_once(" seconds="))
        .map(|(t, s)| (t.parse::<u32>().unwrap(), s.parse::<f64>().unwrap()))
        .unwrap_or_else(|| panic!("{tail}"));
    assert!(seconds >= 1.0, "the writes did block ({seconds} s)");
    // About 200 when it runs freely; a handful when the GIL is held.
    assert!(
        ticks >= 60,
        "the app's thread ticked {ticks} times in {seconds} s of blocked writes"
    );
}

/// Sends one request on a connection of its own; its STDOUT bytes, and
/// whether an FCGI_END_REQUEST came before the gateway closed the
/// connection.
fn records_until_closed(gw: &Gateway, params: &[(&str, &str)]) -> (Vec<u8>, bool) {
    let mut s = gw.connect();
    let mut req = begin(1, true, params);
    req.extend(stdin(1, b""));
    s.write_all(&req).unwrap();
    let mut stdout = Vec::new();
    loop {
        match read_record(&mut s) {
            Ok((STDOUT, 1, content)) => stdout.extend(content),
            Ok((END_REQUEST, 1, _)) => return (stdout, true),
            Ok(other) => panic!("unexpected record {other:?}"),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return (stdout, false),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_begin_request_repeated_for_the_same_id_gets_one_end_request() {
    let (_app, gw) = conformance(&[]);
    let mut s = gw.connect();
    let mut req = begin(
        1,
        true,
        &[
            ("REQUEST_METHOD", "POST"),
            ("PATH_INFO", "/upload"),
            ("CONTENT_LENGTH", "3"),
        ],
    );
    req.extend(record(BEGIN_REQUEST, 1, &[0, 1, 1, 0, 0, 0, 0, 0]));
    req.extend(stdin(1, b"abc"));
    s.write_all(&req).unwrap();
    let r = read_response(&mut s, 1);
    assert_eq!(
        r.text(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3"
    );
    // Nothing more: the next request on the connection is answered next.
    let mut req = begin(2, true, &get_params("/after", &[]));
    req.extend(stdin(2, b""));
    s.write_all(&req).unwrap();
    assert_eq!(read_response(&mut s, 2).text(), "hello from v1 /after");
    assert_clean_log(&gw);
}

#[test]
fn an_abort_while_the_app_reads_the_body_raises_oserror_and_ends_the_request_aborted() {
    let (_app, gw) = conformance(&[]);
    let mut s = gw.connect();
    let mut req = begin(
        1,
        false,
        &[
            ("REQUEST_METHOD", "POST"),
            ("PATH_INFO", "/upload"),
            ("CONTENT_LENGTH", "100000"),
        ],
    );
    req.extend(record(STDIN, 1, &[b'x'; 1000]));
    req.extend(record(ABORT_REQUEST, 1, b""));
    s.write_all(&req).unwrap();
    let mut records = Vec::new();
    loop {
        let (kind, id, content) = read_record(&mut s).expect("a record");
        assert_eq!(id, 1);
        let end = kind == END_REQUEST;
        records.push((kind, content));
        if end {
            break;
        }
    }
    // No page and no short 200: the stream closed, and the request ended
    // with an application status other than 0.
    assert_eq!(
        records,
        [
            (STDOUT, vec![]),
            (END_REQUEST, vec![0, 0, 0, 1, 0, 0, 0, 0])
        ]
    );
    let log = gw.log_text();
    assert!(
        log.contains("OSError") && log.contains("FCGI_ABORT_REQUEST"),
        "{log}"
    );
    assert!(log.contains("/upload: aborted by the web server"), "{log}");
}

#[test]
fn a_parameter_sent_twice_keeps_its_first_value_everywhere() {
    let (_app, gw) = conformance(&[]);
    let r = gw.request(
        &[
            ("REQUEST_METHOD", "GET"),
            ("APPL_MD_PATH", "/LM/W3SVC/1/ROOT/shop"),
            ("PATH_INFO", "/shop/environ"),
            ("PATH_INFO", "/shop/other"),
            ("HTTP_X_TWICE", "first"),
            ("HTTP_X_TWICE", "second"),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let environ = json(&r.body);
    assert_eq!(environ["SCRIPT_NAME"], "/shop");
    assert_eq!(environ["PATH_INFO"], "/environ");
    assert_eq!(environ["HTTP_X_TWICE"], "first");
}
