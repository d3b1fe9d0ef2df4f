//! The gateway spawned by a real FastCGI host: Apache httpd with mod_fcgid
//! on 127.0.0.1, serving examples/flask, a Django project made by
//! django-admin, and the conformance app, each wrapped in
//! wsgiref.validate.validator, with curl as the client.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::apache::{self, Apache, Mount};
use common::*;

fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A copy of `source` with validated.py, which wraps `import_line`'s
/// `_app` in the validator.
fn validated_copy(source: &Path, import_line: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(source, dir.path());
    std::fs::write(
        dir.path().join("validated.py"),
        format!(
            "from wsgiref.validate import validator\n{import_line}\napplication = validator(_app)\n"
        ),
    )
    .unwrap();
    dir
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A 50 MB file of varied bytes, and its SHA-256.
fn upload_file(dir: &Path) -> (PathBuf, String) {
    let data: Vec<u8> = (0..50u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let path = dir.join("upload.bin");
    std::fs::write(&path, &data).unwrap();
    (path, sha256_hex(&data))
}

fn assert_validator_quiet(apache: &Apache, prefix: &str) {
    let log = apache.gateway_log(prefix);
    assert!(
        !log.contains("AssertionError") && !log.contains("WSGIWarning"),
        "{prefix}: {log}"
    );
}

fn prerequisites() -> Option<PathBuf> {
    if !apache::available() {
        return None;
    }
    let venv = test_venv()?;
    apache::check_gateway_python_is_shared();
    Some(venv)
}

#[test]
fn flask_example_and_conformance_app_under_mod_fcgid() {
    let Some(venv) = prerequisites() else { return };
    let venv = venv.display().to_string();
    let flask = validated_copy(
        &repo().join("examples/flask"),
        "from app import app as _app",
    );
    let conformance = apps_dir().join("conformance");
    let apache = Apache::start(
        &[
            Mount {
                prefix: "/flask".into(),
                source: flask.path().to_owned(),
                app_settings: settings(&[
                    ("WSGI_HANDLER", "validated.application"),
                    ("IISWSGI_VENV", &venv),
                ]),
                static_aliases: vec![],
                data_folders: Vec::new(),
            },
            Mount {
                prefix: "/wsgi".into(),
                source: conformance,
                app_settings: settings(&[("WSGI_HANDLER", "app:application")]),
                static_aliases: vec![],
                data_folders: Vec::new(),
            },
        ],
        2,
    );
    let (status, body) = apache.curl("/flask/", &[]);
    let page = String::from_utf8_lossy(&body);
    assert_eq!(
        status,
        200,
        "{page}\n{}\n{}",
        apache.gateway_log("/flask"),
        apache.error_log()
    );
    assert!(page.contains("<h1>Flask on IIS</h1>"), "{page}");
    // url_for built under the application path (SCRIPT_NAME /flask).
    assert!(page.contains("href=\"/flask/static/style.css\""), "{page}");
    assert_eq!(
        apache.curl("/flask/health", &[]),
        (200, b"{\"status\":\"ok\"}\n".to_vec())
    );
    assert_eq!(apache.curl("/flask/no/such/page", &[]).0, 404);
    let (status, body) = apache.curl("/flask/greet", &["--data", "name=Ada"]);
    assert_eq!(
        (status, String::from_utf8_lossy(&body).trim()),
        (200, r#"{"greeting":"Hello, Ada!"}"#),
        "{}",
        apache.gateway_log("/flask")
    );
    let files = tempfile::tempdir().unwrap();
    let (upload, digest) = upload_file(files.path());
    let (status, body) = apache.curl(
        "/flask/upload",
        &[
            "--data-binary",
            &format!("@{}", upload.display()),
            "-H",
            "Content-Type: application/octet-stream",
        ],
    );
    let reply = json(&body);
    assert_eq!(status, 200);
    assert_eq!(reply["sha256"], digest.as_str());
    assert_eq!(reply["bytes"], 50 << 20);
    assert_eq!(
        apache.curl("/flask/countdown", &[]),
        (200, b"5\n4\n3\n2\n1\n".to_vec())
    );
    assert_validator_quiet(&apache, "/flask");

    // The conformance app: streamed pieces arrive before the app is done.
    let flag = files.path().join("go");
    let mut s = apache.open_get(&format!("/wsgi/stream?wait={}", flag.display()));
    let got = apache::read_until(&mut s, b"piece 2\n");
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(!got.windows(5).any(|w| w == b"last\n"));
    std::fs::write(&flag, "").unwrap();
    apache::read_until(&mut s, b"last\n");
    let (status, body) = apache.curl("/wsgi/environ?x=1", &[]);
    let env = json(&body);
    assert_eq!(status, 200);
    assert_eq!(
        (env["SCRIPT_NAME"].as_str(), env["PATH_INFO"].as_str()),
        (Some("/wsgi"), Some("/environ"))
    );
    assert_eq!(env["QUERY_STRING"], "x=1");
    let (status, body) = apache.curl(
        "/wsgi/upload",
        &["--data-binary", &format!("@{}", upload.display())],
    );
    assert_eq!(
        (status, String::from_utf8_lossy(&body).into_owned()),
        (200, format!("{digest} {}", 50 << 20))
    );
    assert_eq!(apache.curl("/wsgi/raise", &[]).0, 500);
    assert_eq!(
        apache.curl("/wsgi/", &[]),
        (200, b"hello from v1 /".to_vec()),
        "the process lives on after a 500"
    );
    assert!(
        apache
            .gateway_log("/wsgi")
            .contains("ValueError: the app failed on purpose")
    );
    let log = apache.gateway_log("/wsgi");
    assert_eq!(log.matches("AssertionError").count(), 0, "{log}");
}

/// `django-admin startproject`, one app with a view, a template, a form
/// and a static file, collected by collectstatic and served by Apache.
fn django_project(venv: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let run = |args: &[&str]| {
        let out = Command::new(venv.join("bin/python"))
            .args(args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["-m", "django", "startproject", "mysite", "."]);
    run(&["manage.py", "startapp", "pages"]);
    let settings_py = root.join("mysite/settings.py");
    let settings = std::fs::read_to_string(&settings_py)
        .unwrap()
        .replace("DEBUG = True", "DEBUG = False")
        .replace(
            "ALLOWED_HOSTS = []",
            "ALLOWED_HOSTS = ['127.0.0.1', 'localhost']",
        )
        .replace(
            "'django.contrib.staticfiles',",
            "'django.contrib.staticfiles',\n    'pages',",
        )
        + "\nSTATIC_ROOT = BASE_DIR / 'static_root'\n";
    std::fs::write(&settings_py, settings).unwrap();
    std::fs::create_dir_all(root.join("pages/templates/pages")).unwrap();
    std::fs::create_dir_all(root.join("pages/static/pages")).unwrap();
    std::fs::write(
        root.join("pages/static/pages/site.css"),
        "body { color: #123456; }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("pages/templates/pages/home.html"),
        "{% load static %}<!doctype html><title>Django on IIS</title>\
         <link rel=\"stylesheet\" href=\"{% static 'pages/site.css' %}\">\
         <h1>Django on IIS</h1><form method=\"post\" action=\"{% url 'greet' %}\"></form>\n",
    )
    .unwrap();
    std::fs::write(
        root.join("pages/views.py"),
        r#"import hashlib

from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt


def home(request):
    return render(request, "pages/home.html")


@csrf_exempt
def greet(request):
    return JsonResponse({"greeting": "Hello, %s!" % request.POST.get("name", "world")})


@csrf_exempt
def upload(request):
    digest, size = hashlib.sha256(), 0
    while True:
        piece = request.read(65536)
        if not piece:
            break
        size += len(piece)
        digest.update(piece)
    return JsonResponse({"sha256": digest.hexdigest(), "bytes": size})


def countdown(request):
    return StreamingHttpResponse((f"{n}\n" for n in range(3, 0, -1)), content_type="text/plain")
"#,
    )
    .unwrap();
    std::fs::write(
        root.join("mysite/urls.py"),
        r#"from django.urls import path

from pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("greet", views.greet, name="greet"),
    path("upload", views.upload, name="upload"),
    path("countdown", views.countdown, name="countdown"),
]
"#,
    )
    .unwrap();
    run(&["manage.py", "collectstatic", "--noinput", "-v0"]);
    dir
}

#[test]
fn django_project_under_mod_fcgid() {
    let Some(venv) = prerequisites() else { return };
    let project = django_project(&venv);
    let app = validated_copy(
        project.path(),
        "from mysite.wsgi import application as _app",
    );
    let venv_s = venv.display().to_string();
    let apache = Apache::start(
        &[Mount {
            prefix: "/django".into(),
            source: app.path().to_owned(),
            app_settings: settings(&[
                ("WSGI_HANDLER", "validated.application"),
                ("IISWSGI_VENV", &venv_s),
                ("DJANGO_SETTINGS_MODULE", "mysite.settings"),
            ]),
            // The static file rule: Apache serves collectstatic's output itself.
            static_aliases: vec![("/django/static".into(), "static_root".into())],
            data_folders: Vec::new(),
        }],
        2,
    );
    let (status, body) = apache.curl("/django/", &[]);
    let page = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{page}\n{}", apache.gateway_log("/django"));
    assert!(page.contains("<h1>Django on IIS</h1>"));
    // Django builds its URLs under SCRIPT_NAME.
    assert!(page.contains("action=\"/django/greet\""), "{page}");
    assert!(
        page.contains("href=\"/django/static/pages/site.css\""),
        "{page}"
    );
    assert_eq!(
        apache.curl("/django/static/pages/site.css", &[]),
        (200, b"body { color: #123456; }\n".to_vec())
    );
    assert_eq!(apache.curl("/django/no-such-page", &[]).0, 404);
    let (status, body) = apache.curl("/django/greet", &["--data", "name=Grace"]);
    assert_eq!(
        (status, json(&body)["greeting"].as_str().map(str::to_owned)),
        (200, Some("Hello, Grace!".to_owned()))
    );
    let files = tempfile::tempdir().unwrap();
    let (upload, digest) = upload_file(files.path());
    let (status, body) = apache.curl(
        "/django/upload",
        &[
            "--data-binary",
            &format!("@{}", upload.display()),
            "-H",
            "Content-Type: application/octet-stream",
        ],
    );
    assert_eq!(status, 200, "{}", apache.gateway_log("/django"));
    assert_eq!(json(&body)["sha256"], digest.as_str());
    assert_eq!(
        apache.curl("/django/countdown", &[]),
        (200, b"3\n2\n1\n".to_vec())
    );
    assert_validator_quiet(&apache, "/django");
}

/// Apache serving one app at /app, for the tests that need no venv.
fn one_app(source: PathBuf, app_settings: &[(&str, &str)]) -> Option<Apache> {
    if !apache::available() {
        return None;
    }
    apache::check_gateway_python_is_shared();
    Some(Apache::start(
        &[Mount {
            prefix: "/app".into(),
            source,
            app_settings: settings(app_settings),
            static_aliases: vec![],
            data_folders: Vec::new(),
        }],
        1,
    ))
}

#[test]
fn an_import_failure_is_a_500_page_until_fixed_without_restarting_apache() {
    // No reload watcher: the fix is found because a failed import is tried again.
    let Some(apache) = one_app(
        apps_dir().join("broken"),
        &[
            ("WSGI_HANDLER", "app.application"),
            ("WSGI_RESTART_FILE_REGEX", ""),
        ],
    ) else {
        return;
    };
    let (status, body) = apache.curl("/app/", &[]);
    let page = String::from_utf8_lossy(&body);
    assert_eq!(status, 500);
    assert!(
        page.contains("The WSGI application could not be loaded.")
            && !page.contains("module_that_does_not_exist"),
        "{page}"
    );
    assert!(
        apache
            .gateway_log("/app")
            .contains("No module named 'module_that_does_not_exist'")
    );
    let app_py = apache.app_dir("/app").join("app.py");
    let fixed = std::fs::read_to_string(&app_py)
        .unwrap()
        .replace("import module_that_does_not_exist", "import os");
    std::fs::write(&app_py, fixed).unwrap();
    assert_eq!(apache.curl("/app/", &[]), (200, b"fixed".to_vec()));
    assert!(!apache.error_log().contains("exited unexpectedly"));
}

#[test]
fn touching_a_watched_file_makes_the_next_request_use_new_code() {
    let Some(apache) = one_app(
        apps_dir().join("conformance"),
        &[("WSGI_HANDLER", "app.application")],
    ) else {
        return;
    };
    assert_eq!(
        apache.curl("/app/", &[]),
        (200, b"hello from v1 /".to_vec())
    );
    let app_py = apache.app_dir("/app").join("app.py");
    let code = std::fs::read_to_string(&app_py)
        .unwrap()
        .replace("VERSION = \"v1\"", "VERSION = \"v2\"");
    std::fs::write(&app_py, code).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        apache.curl("/app/", &[]),
        (200, b"hello from v2 /".to_vec()),
        "{}",
        apache.gateway_log("/app")
    );
}

#[test]
fn the_django_example_under_mod_fcgid_with_its_form_and_csrf() {
    let Some(venv) = prerequisites() else { return };
    let app = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("examples/django"), app.path());
    let manage = |args: &[&str]| {
        let out = Command::new(venv.join("bin/python"))
            .arg("manage.py")
            .args(args)
            .current_dir(app.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "manage.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    manage(&["collectstatic", "--noinput", "-v0"]);
    // The install step's set-up command (`[[install.run]]`) and data
    // folder, which this test, serving the source folder, does itself.
    std::fs::create_dir_all(app.path().join("data")).unwrap();
    manage(&["migrate", "--noinput", "-v0"]);
    std::fs::write(app.path().join("validated.py"), "from wsgiref.validate import validator\nfrom notesite.wsgi import application as _app\napplication = validator(_app)\n").unwrap();
    let venv_s = venv.display().to_string();
    let apache = Apache::start(
        &[Mount {
            prefix: "/notes".into(),
            source: app.path().to_owned(),
            app_settings: settings(&[
                ("WSGI_HANDLER", "validated.application"),
                ("IISWSGI_VENV", &venv_s),
                ("DJANGO_SETTINGS_MODULE", "notesite.settings"),
                ("DJANGO_SECRET_KEY", "a-test-secret-key-of-some-length"),
                ("DJANGO_ALLOWED_HOSTS", "127.0.0.1"),
            ]),
            static_aliases: vec![("/notes/static".into(), "staticfiles".into())],
            data_folders: vec!["data".into()],
        }],
        1,
    );
    let jar = apache.root.path().join("run/cookies");
    let jar_s = jar.display().to_string();
    let (status, body) = apache.curl("/notes/", &["-c", &jar_s]);
    let page = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 200, "{page}\n{}", apache.gateway_log("/notes"));
    assert!(
        page.contains("<h1>Django on IIS</h1>")
            && page.contains("href=\"/notes/static/notes/site.css\""),
        "{page}"
    );
    let token = page
        .split("name=\"csrfmiddlewaretoken\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token")
        .to_string();
    let (status, body) = apache.curl(
        "/notes/",
        &[
            "-b",
            &jar_s,
            "--data",
            &format!("csrfmiddlewaretoken={token}&text=hello+IIS"),
        ],
    );
    assert_eq!(
        status,
        200,
        "{}\n{}",
        String::from_utf8_lossy(&body),
        apache.gateway_log("/notes")
    );
    assert!(String::from_utf8_lossy(&body).contains("Noted: hello IIS"));
    // Without the token Django refuses, as it should.
    assert_eq!(apache.curl("/notes/", &["--data", "text=x"]).0, 403);
    assert_eq!(apache.curl("/notes/static/notes/site.css", &[]).0, 200);
    assert_eq!(
        apache.curl("/notes/health", &[]),
        (200, b"{\"status\": \"ok\"}".to_vec())
    );
    assert_validator_quiet(&apache, "/notes");
}
