//! `iiswsgi verify` end to end (issue #14): packages built from the
//! examples, installed the way Web Deploy would (parameters, the install
//! step's Linux form, the gateway), and asked for pages; and the packages
//! it must refuse.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::iiswsgi;

fn tools() -> Option<Vec<(&'static str, PathBuf)>> {
    Some(vec![
        ("IISWSGI_UV", common::venv_tool("uv")?),
        ("IISWSGI_PIP_PYTHON", common::venv_tool("python")?),
    ])
}

/// The gateway's Linux build beside the iiswsgi under test (cargo test
/// --workspace builds both); a failure under CI=true when it is missing.
fn gateway_present() -> bool {
    let bin = assert_cmd::cargo::cargo_bin("iiswsgi").with_file_name("iiswsgi-gateway");
    if bin.is_file() {
        return true;
    }
    assert!(
        !common::ci(),
        "{} is missing: cargo test --workspace builds it",
        bin.display()
    );
    eprintln!(
        "SKIPPED: {} is missing (cargo build -p iiswsgi-gateway)",
        bin.display()
    );
    false
}

fn example(name: &str, tools: &[(&str, PathBuf)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::project(name), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("dist"));
    // (examples/django's collectstatic is its own [[build.run]] step.)
    let (code, out) = iiswsgi(dir.path(), &["build"], tools);
    assert_eq!(code, 0, "{out}");
    dir
}

#[test]
fn the_flask_example_verifies_green() {
    let Some(tools) = tools() else { return };
    if !gateway_present() {
        return;
    }
    let dir = example("flask", &tools);
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "verify",
            "--set-param",
            "SecretKey=0123456789abcdef-secret",
            "--request",
            "/",
            "--expect-text",
            "Flask on IIS",
        ],
        &tools,
    );
    assert_eq!(code, 0, "{out}");
    // Asked as IIS asks the application Web Deploy makes.
    assert!(out.contains("GET /FlaskIISApp/ -> 200"), "{out}");
    // The data folder is made, the first-install set-up command runs in
    // the new venv before the self-test, and the self-test passes.
    assert!(
        out.contains("data folder: instance: there (0 entries), left as it is"),
        "{out}"
    );
    assert!(
        out.contains("set-up: (1/1) flask --app app init-visits\n")
            && out.contains("set-up: exited with 0"),
        "{out}"
    );
    assert!(
        out.contains("self-test: GET / -> 200") && out.contains("self-test: GET /health -> 200"),
        "{out}"
    );
    assert!(
        out.contains("FlaskIISApp/web.config: parameter 'SecretKey' set 1 place(s)"),
        "{out}"
    );
    assert!(
        out.contains("fetched for this machine at the same versions"),
        "MarkupSafe's Windows wheel was replaced: {out}"
    );
    assert!(
        out.contains("runCommand: Web Deploy would run") && out.contains("successReturnCodes=0x0"),
        "{out}"
    );
    assert!(
        out.contains("setAcl: Modify access on Default Web Site/FlaskIISApp/instance"),
        "{out}"
    );
    assert!(
        out.contains("appcmd.exe set config -section:system.webServer/fastCgi"),
        "the IIS commands are shown: {out}"
    );
    // The installer's choice of IIS path reaches the runCommand and setAcl
    // paths through their ProviderPath parameters, as in Web Deploy.
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "verify",
            "--set-param",
            "SecretKey=0123456789abcdef-secret",
            "--set-param",
            "ApplicationPath=Contoso/shop",
        ],
        &tools,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(r#"install --iis-app \"Contoso/shop\""#),
        "{out}"
    );
    assert!(
        out.contains("setAcl: Modify access on Contoso/shop/instance"),
        "{out}"
    );
    assert!(out.contains("as the IIS application Contoso/shop"), "{out}");
    // JSON for CI: one object per request.
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "--message-format",
            "json",
            "verify",
            "--set-param",
            "SecretKey=0123456789abcdef-secret",
            "--request",
            "/health",
        ],
        &tools,
    );
    assert_eq!(code, 0, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("verify-request"))
        .unwrap_or_else(|| panic!("{out}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        (v["path"].as_str(), v["status"].as_u64()),
        (Some("/FlaskIISApp/health"), Some(200))
    );
    assert_eq!(v["body_start"], "{\"status\":\"ok\"}\n");
}

/// examples/pyramid: production.ini through PasteDeploy, a TextFile
/// parameter into it, zope.interface's Windows wheel replaced by this
/// machine's, static files through Pyramid's static view.
#[test]
fn the_pyramid_example_verifies_green() {
    let Some(tools) = tools() else { return };
    if !gateway_present() {
        return;
    }
    let dir = example("pyramid", &tools);
    let (code, out) = iiswsgi(
        dir.path(),
        &["verify", "--expect-text", "<h1>Pyramid on IIS</h1>"],
        &tools,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("GET /PyramidIISApp/ -> 200"), "{out}");
    assert!(
        out.contains("PyramidIISApp/production.ini: parameter 'SiteTitle' set 1 place(s)"),
        "{out}"
    );
    assert!(
        out.contains("wheelhouse: zope_interface-") && out.contains("fetched for this machine"),
        "{out}"
    );
    // The installer's title reaches the page (escaped by the view).
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "verify",
            "--set-param",
            "SiteTitle=Pyramid & IIS $1",
            "--expect-text",
            "<h1>Pyramid &amp; IIS $1</h1>",
        ],
        &tools,
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "verify",
            "--request",
            "/health",
            "--request",
            "/static/style.css",
            "--expect-status",
            "200",
        ],
        &tools,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(r#"GET /PyramidIISApp/health -> 200"#), "{out}");
    // Pyramid serves its own static view (no [iis] static here).
    assert!(
        out.contains("GET /PyramidIISApp/static/style.css -> 200 in"),
        "{out}"
    );
    // A title the parameter's validation refuses: msdeploy's error, exit 78.
    let (code, out) = iiswsgi(dir.path(), &["verify", "--set-param", "SiteTitle="], &tools);
    assert_eq!(code, 78, "{out}");
    assert!(out.contains("SiteTitle"), "{out}");
}

#[test]
fn the_django_example_verifies_green_with_a_set_parameters_file() {
    let Some(tools) = tools() else { return };
    if !gateway_present() {
        return;
    }
    if std::env::var_os("IISWSGI_TEST_VENV").is_none() {
        assert!(
            !common::ci(),
            "IISWSGI_TEST_VENV (Django, for collectstatic) is needed: tests/run.sh sets it"
        );
        eprintln!("SKIPPED: IISWSGI_TEST_VENV is not set; run tests/run.sh");
        return;
    }
    let dir = example("django", &tools);
    let set = dir.path().join("SetParameters.xml");
    std::fs::write(
        &set,
        r#"<?xml version="1.0" encoding="utf-8"?>
<parameters>
  <setParameter name="DJANGO_SECRET_KEY" value="a-long-enough-django-secret-key" />
  <setParameter name="DJANGO_ALLOWED_HOSTS" value="localhost" />
</parameters>"#,
    )
    .unwrap();
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "verify",
            "--set-param-file",
            "SetParameters.xml",
            "--expect-text",
            "0 notes saved",
        ],
        &tools,
    );
    assert_eq!(code, 0, "{out}");
    // The page reads the database the set-up command migrated, in the
    // data folder, before the self-test asked for it.
    assert!(out.contains("GET /DjangoNotes/ -> 200"), "{out}");
    assert!(
        out.contains("data folder: data: there (0 entries), left as it is")
            && out.contains("set-up: (1/1) python manage.py migrate --noinput\n")
            && out.contains("set-up: exited with 0")
            && out.contains("self-test: GET / -> 200"),
        "{out}"
    );
}

#[test]
fn a_misspelled_handler_fails_with_the_gateways_error_and_bad_parameters_exit_78() {
    let Some(tools) = tools() else { return };
    if !gateway_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo("examples/flask"), dir.path());
    let toml = std::fs::read_to_string(dir.path().join("iiswsgi.toml"))
        .unwrap()
        .replace("wsgi-handler = \"app:app\"", "wsgi-handler = \"ap:app\"");
    std::fs::write(dir.path().join("iiswsgi.toml"), toml).unwrap();
    let (code, out) = iiswsgi(dir.path(), &["build"], &tools);
    assert_eq!(code, 0, "{out}");
    let (code, out) = iiswsgi(
        dir.path(),
        &["verify", "--set-param", "SecretKey=0123456789abcdef-secret"],
        &tools,
    );
    assert_eq!(code, 1, "{out}");
    // The install step's self-test finds it, as it would on the server.
    assert!(
        out.contains("install step \"self-test\" failed: GET / answered 500")
            && out.contains("ModuleNotFoundError: No module named 'ap'"),
        "{out}"
    );
    // A value the parameter's validation refuses: exit 78.
    let (code, out) = iiswsgi(
        dir.path(),
        &["verify", "--set-param", "SecretKey=short"],
        &tools,
    );
    assert_eq!(code, 78, "{out}");
    assert!(out.contains("the value of parameter 'SecretKey' is not valid: 'short' does not match the regular expression .{16,}"), "{out}");
    let (code, out) = iiswsgi(dir.path(), &["verify", "--set-param", "Nope=1"], &tools);
    assert_eq!(code, 78, "{out}");
    assert!(
        out.contains("the parameter 'Nope' is not declared"),
        "{out}"
    );
}

/// The built package with Manifest.xml replaced by `edit` of it.
fn repacked(zip: &Path, edit: impl Fn(String) -> String) -> tempfile::NamedTempFile {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let out = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out.path()).unwrap());
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        if name == "Manifest.xml" {
            bytes = edit(String::from_utf8(bytes).unwrap()).into_bytes();
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap();
    out
}

#[test]
fn bad_packages_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::project(common::LEGACY_PYRAMID), dir.path());
    let (code, out) = iiswsgi(dir.path(), &["build"], &[]);
    assert_eq!(code, 0, "{out}");
    let zip = dir.path().join("dist/PyramidIISApp-0.2.msdeploy.zip");
    // A runCommand whose attributes say other than its provider options.
    let tampered = repacked(&zip, |m| {
        m.replacen("waitAttempts=\"", "waitAttempts=\"9", 1)
    });
    let (code, out) = iiswsgi(
        dir.path(),
        &["verify", tampered.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("provider options disagree with its attributes"),
        "{out}"
    );
    // No Manifest.xml; an entry climbing out.
    let empty = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(empty.path()).unwrap());
    w.start_file("../x", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.finish().unwrap();
    let (code, out) = iiswsgi(dir.path(), &["verify", empty.path().to_str().unwrap()], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("climbs out of the package"), "{out}");
}

/// Anybody's msdeploy package: an archive package as Visual Studio writes
/// it (archive.xml, parameters.xml, content under Content/D_C/...). verify
/// lays it out, applies Microsoft's SetParameters.xml to its Web.config,
/// reports its providers, then says why it cannot serve an ASP.NET app,
/// with exit 1.
#[test]
fn an_archive_package_is_laid_out_and_parameterized_then_refused_as_no_wsgi_app() {
    let fixture = common::fixture("msdeploy/archive/vs-wpp-package");
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("site.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for name in ["archive.xml", "parameters.xml", "systemInfo.xml"] {
        zip.start_file(name, options).unwrap();
        zip.write_all(&std::fs::read(fixture.join(name)).unwrap())
            .unwrap();
    }
    let content = "Content/D_C/First Asp Web App/Design and Supervion Issue Tracking/obj/Release/Package/PackageTmp";
    zip.start_file(format!("{content}/Web.config"), options)
        .unwrap();
    zip.write_all(br#"<configuration><connectionStrings><add name="design" connectionString="old" /></connectionStrings></configuration>"#)
        .unwrap();
    zip.finish().unwrap();
    let set = fixture.join("project.SetParameters.xml");
    let (code, out) = iiswsgi(
        dir.path(),
        &[
            "verify",
            "site.zip",
            "--set-param-file",
            set.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    for want in [
        &format!(
            "{content}/Web.config: parameter 'design-Web.config Connection String' set 1 place(s)"
        ) as &str,
        "would be installed as the IIS application Default Web Site/Design and Supervion Issue Tracking_deploy",
        "setAcl: Read access on Default Web Site/Design and Supervion Issue Tracking_deploy",
        "names no WSGI_HANDLER and no iiswsgi-gateway: this is not a WSGI app",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
}
