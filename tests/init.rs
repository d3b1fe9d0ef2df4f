//! `iiswsgi init` on projects made by the frameworks' own tools (django-admin
//! startproject), Flask's tutorial layout and Pyramid's cookiecutter layout:
//! the written iiswsgi.toml validates against the JSON Schema, uses only
//! keys the README documents, `iiswsgi build` succeeds right after, and
//! `iiswsgi verify` serves the Django and Flask ones. (Pyramid's
//! cookiecutter app is found through its egg's entry point, which only
//! `pip install -e .` makes; verify of it is not attempted.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

fn tools() -> Option<Vec<(&'static str, PathBuf)>> {
    Some(vec![
        ("IISWSGI_UV", common::venv_tool("uv")?),
        ("IISWSGI_PIP_PYTHON", common::venv_tool("python")?),
    ])
}

fn iiswsgi(dir: &Path, args: &[&str], tools: &[(&str, PathBuf)]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
    cmd.current_dir(dir).args(args).env_remove("CI");
    for (k, v) in tools {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The generated file validates against schema/iiswsgi.schema.json
/// (Python's jsonschema, on the TOML read by tomllib).
fn assert_schema_valid(manifest: &Path) {
    let Some(python) = common::venv_python() else {
        return;
    };
    let script = "import json, sys, tomllib, jsonschema\n\
                  schema = json.load(open(sys.argv[1]))\n\
                  jsonschema.validate(tomllib.load(open(sys.argv[2], 'rb')), schema)\n";
    common::run_ok(
        Process::new(python)
            .arg("-c")
            .arg(script)
            .arg(common::repo("schema/iiswsgi.schema.json"))
            .arg(manifest),
    );
}

/// Every key of the generated file appears in the README's iiswsgi.toml docs.
fn assert_keys_documented(manifest: &Path) {
    let readme = std::fs::read_to_string(common::repo("README.md")).unwrap();
    let value: toml::Value = toml::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    fn keys(v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    out.push(k.clone());
                    // app-settings' keys are the app's own names, and
                    // static's are URL paths.
                    if k != "app-settings" && k != "static" {
                        keys(v, out);
                    }
                }
            }
            toml::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    keys(&value, &mut all);
    for k in all {
        assert!(
            readme.contains(&format!("{k} ="))
                || readme.contains(&format!("[{k}]"))
                || readme.contains(&format!("[[{k}]]"))
                || readme.contains(&format!(".{k}]]"))
                || readme.contains(&format!("[[{k}.")),
            "`{k}` is not documented in README.md"
        );
    }
}

fn zip_names(zip: &Path) -> Vec<String> {
    zip::ZipArchive::new(std::fs::File::open(zip).unwrap())
        .unwrap()
        .file_names()
        .map(str::to_string)
        .collect()
}

#[test]
fn django_startproject_then_init_then_build() {
    let (Some(tools), Some(venv)) = (tools(), common::wsgi_test_venv()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    common::run_ok(
        Process::new(venv.join("bin/django-admin"))
            .args(["startproject", "mysite"])
            .current_dir(dir.path()),
    );
    let project = dir.path().join("mysite");
    std::fs::write(project.join("requirements.txt"), "django==5.2.19\n").unwrap();
    let settings = project.join("mysite/settings.py");
    let text = std::fs::read_to_string(&settings).unwrap()
        + "\nSTATIC_ROOT = BASE_DIR / 'staticfiles'\nMEDIA_ROOT = BASE_DIR / 'media'\nDATABASE_PASSWORD = os.environ.get('DB_PASSWORD', '')\n";
    std::fs::write(&settings, format!("import os\n{text}")).unwrap();
    let out = ok(iiswsgi(&project, &["init", "--yes"], &tools));
    assert!(
        out.contains("Django app") && out.contains("next") || out.contains("Next"),
        "{out}"
    );
    let manifest = project.join("iiswsgi.toml");
    let toml = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        toml.contains(r#"wsgi-handler = "mysite.wsgi.application""#),
        "{toml}"
    );
    assert!(
        toml.contains(r#"DJANGO_SETTINGS_MODULE = "mysite.settings""#),
        "{toml}"
    );
    // collectstatic is a build step; IIS serves its output at STATIC_URL.
    assert!(
        toml.contains(r#"static = { "/static" = "staticfiles" }"#)
            && toml.contains("[[build.run]]               # before the files are selected, in a build venv made from the requirements\ncommand = \"python manage.py collectstatic --noinput\"\n"),
        "{toml}"
    );
    // The database password read from the environment is a Password parameter;
    // SECRET_KEY and ALLOWED_HOSTS, written in settings.py, get parameters and a TODO.
    assert!(
        toml.contains("name = \"DB_PASSWORD\"\ndescription")
            && toml.contains("tags = [\"Password\", \"New\"]"),
        "{toml}"
    );
    assert!(
        toml.contains("name = \"DJANGO_ALLOWED_HOSTS\"")
            && toml.contains("TODO: ALLOWED_HOSTS is written in settings.py"),
        "{toml}"
    );
    // startproject's SQLite database: migrate at install, and a TODO to
    // move the file out of the folder redeploys replace; MEDIA_ROOT is a
    // data folder.
    assert!(
        toml.contains("[[install.run]]             # settings.py names a database (django.db.backends.sqlite3); run by the install step in the new venv before its self-test\ncommand = 'python manage.py migrate --noinput'\n"),
        "{toml}"
    );
    assert!(
        toml.contains("TODO: the SQLite database (db.sqlite3) is in the app folder"),
        "{toml}"
    );
    assert!(
        toml.contains("data-folders = [\"media\"]    # written by the app"),
        "{toml}"
    );
    assert_schema_valid(&manifest);
    assert_keys_documented(&manifest);
    ok(iiswsgi(&project, &["build"], &tools));
    let names = zip_names(&project.join("dist/mysite-1.0.0.msdeploy.zip"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("mysite/wheelhouse/django-5.2.19")),
        "{names:?}"
    );
    // Django needs tzdata on Windows only (a sys_platform marker): resolved for the server.
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("mysite/wheelhouse/tzdata-")),
        "{names:?}"
    );
    assert!(
        names.contains(&"mysite/static/web.config".to_string())
            && names
                .iter()
                .any(|n| n.starts_with("mysite/static/admin/css/")),
        "collectstatic ran at build; its output is at /static: {names:?}"
    );
    assert!(
        names.contains(&"mysite/manage.py".to_string())
            && !names.iter().any(|n| n.starts_with("mysite/vendor/")),
        "{names:?}"
    );
    // Installed and served as Web Deploy and IIS would: startproject has
    // only the admin, whose index sends an anonymous visitor to log in.
    if gateway_present() {
        let out = ok(iiswsgi(
            &project,
            &[
                "verify",
                "--set-param",
                "DB_PASSWORD=a-database-password",
                "--set-param",
                "DJANGO_SECRET_KEY=a-long-enough-django-secret",
                "--request",
                "/admin/",
                "--expect-status",
                "302",
            ],
            &tools,
        ));
        assert!(
            out.contains(
                "GET /mysite/admin/ -> 302 (Location: /mysite/admin/login/?next=/mysite/admin/)"
            ),
            "{out}"
        );
        assert!(
            out.contains("set-up: (1/1) python manage.py migrate --noinput")
                && out.contains("set-up: exited with 0"),
            "{out}"
        );
    }
    // Never overwritten; --print shows what it would write.
    let again = iiswsgi(&project, &["init", "--yes"], &tools);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("already exists; iiswsgi init never overwrites it")
    );
    let printed = ok(iiswsgi(&project, &["init", "--print"], &tools));
    assert!(
        printed.starts_with("# iiswsgi.toml for a Django app"),
        "{printed}"
    );
}

/// The gateway's Linux build beside the iiswsgi under test, for verify.
fn gateway_present() -> bool {
    let bin = assert_cmd::cargo::cargo_bin("iiswsgi").with_file_name("iiswsgi-gateway");
    assert!(
        bin.is_file() || !common::ci(),
        "{} is missing: cargo test --workspace builds it",
        bin.display()
    );
    bin.is_file()
}

#[test]
fn flask_tutorial_layout_then_init_then_build() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("flask-tutorial");
    std::fs::create_dir_all(project.join("flaskr/static")).unwrap();
    std::fs::create_dir_all(project.join("flaskr/templates")).unwrap();
    std::fs::write(
        project.join("flaskr/__init__.py"),
        "import os\n\nfrom flask import Flask\n\n\ndef create_app(test_config=None):\n    app = Flask(__name__, instance_relative_config=True)\n    return app\n",
    )
    .unwrap();
    std::fs::write(project.join("flaskr/static/style.css"), "body {}\n").unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        "[project]\nname = \"flaskr\"\nversion = \"1.0.0\"\ndependencies = [\"flask==3.1.3\"]\n",
    )
    .unwrap();
    ok(iiswsgi(
        &project,
        &["init", "--yes", "--hosting", "http-platform"],
        &tools,
    ));
    let manifest = project.join("iiswsgi.toml");
    let toml = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        toml.contains(r#"wsgi-handler = "flaskr:create_app()""#),
        "{toml}"
    );
    assert!(
        toml.contains(r#"requirements = "pyproject.toml""#)
            && toml.contains(r#"name = "flask-tutorial""#),
        "{toml}"
    );
    // Flask serves flaskr/static at /static: so does IIS.
    assert!(
        toml.contains(r#"static = { "/static" = "flaskr/static" }"#)
            && toml.contains(r#"hosting = "http-platform""#),
        "{toml}"
    );
    assert_schema_valid(&manifest);
    assert_keys_documented(&manifest);
    ok(iiswsgi(&project, &["build"], &tools));
    let names = zip_names(&project.join("dist/flask-tutorial-1.0.0.msdeploy.zip"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("flask-tutorial/wheelhouse/waitress-")),
        "{names:?}"
    );
}

#[test]
fn pyramid_cookiecutter_layout_then_init_then_build() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("myproject");
    std::fs::create_dir_all(project.join("myproject/views")).unwrap();
    std::fs::write(
        project.join("myproject/__init__.py"),
        "from pyramid.config import Configurator\n\n\ndef main(global_config, **settings):\n    with Configurator(settings=settings) as config:\n        config.scan()\n    return config.make_wsgi_app()\n",
    )
    .unwrap();
    std::fs::write(project.join("production.ini"), "[app:main]\nuse = egg:myproject\n\n[server:main]\nuse = egg:waitress#main\nlisten = *:6543\n").unwrap();
    std::fs::write(project.join("requirements.txt"), "pyramid==2.1\n").unwrap();
    ok(iiswsgi(&project, &["init", "--yes"], &tools));
    let toml = std::fs::read_to_string(project.join("iiswsgi.toml")).unwrap();
    assert!(
        toml.contains(r#"wsgi-handler = "iiswsgi_wsgi.application""#),
        "{toml}"
    );
    let entry = std::fs::read_to_string(project.join("iiswsgi_wsgi.py")).unwrap();
    assert!(
        entry.contains("get_app(_ini, \"main\")") && entry.contains("production.ini"),
        "{entry}"
    );
    assert_schema_valid(&project.join("iiswsgi.toml"));
    ok(iiswsgi(&project, &["build"], &tools));
}

/// A real app (../shared/fixtures/real-apps), copied unmodified.
/// (Copied into a folder of its own name, which init takes as the app's.)
fn real_app(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join(name);
    common::copy_dir(
        &common::repo("../shared/fixtures/real-apps").join(name),
        &project,
    );
    (dir, project)
}

#[test]
fn flasks_tutorial_as_published_gets_its_instance_folder_and_init_db_and_verifies_green() {
    let Some(tools) = tools() else { return };
    let (_dir, project) = real_app("flaskr");
    let project = project.as_path();
    ok(iiswsgi(project, &["init", "--yes"], &tools));
    let manifest = project.join("iiswsgi.toml");
    let toml = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        toml.contains("data-folders = [\"instance\"]    # written by the app"),
        "{toml}"
    );
    assert!(
        toml.contains("[[install.run]]             # flaskr/db.py registers `flask init-db`; run by the install step in the new venv before its self-test\ncommand = 'flask --app flaskr init-db'\nwhen = \"first-install\""),
        "{toml}"
    );
    // Its SECRET_KEY comes from instance/config.py, which the install
    // writes from a Password parameter (before init-db, at every install).
    assert!(
        toml.contains("[[install.run]]             # flaskr/__init__.py reads SECRET_KEY from instance/config.py: written from the FLASK_SECRET_KEY parameter; run by the install step in the new venv before its self-test\ncommand = 'python -c \"import os; open(\\\"instance/config.py\\\", \\\"w\\\").write(\\\"SECRET_KEY = \\\" + repr(os.environ[\\\"FLASK_SECRET_KEY\\\"]) + chr(10))\"'\n")
            && toml.contains("name = \"FLASK_SECRET_KEY\"")
            && toml.find("instance/config.py") < toml.find("init-db"),
        "{toml}"
    );
    assert_schema_valid(&manifest);
    assert_keys_documented(&manifest);
    let out = ok(iiswsgi(project, &["build"], &tools));
    assert!(
        out.contains(r"-skip:objectName=dirPath,absolutePath=\\instance$"),
        "the redeploy rule is printed: {out}"
    );
    if gateway_present() {
        // init-db made the SQLite database the blog's index reads; the
        // pages are asked under the IIS application (/flaskr), and the
        // stylesheet Flask serves at /static from flaskr/static is IIS's.
        let out = ok(iiswsgi(
            project,
            &[
                "verify",
                "--set-param",
                "FLASK_SECRET_KEY=a-long-enough-flask-secret",
                "--request",
                "/=200:Posts",
                "--request",
                // The page links its stylesheet where IIS serves it.
                "/=200:href=\"/flaskr/static/style.css\"",
                "--request",
                "/auth/register=200:Register",
                "--request",
                "/auth/login=200:Log In",
                "--request",
                "/create=302",
                "--request",
                "/static/style.css=200:nav",
            ],
            &tools,
        ));
        for said in [
            "set-up: (1/2) python -c",
            "set-up: (2/2) flask --app flaskr init-db",
            "set-up: exited with 0",
            "GET /flaskr/ -> 200",
            "GET /flaskr/auth/register -> 200",
            "GET /flaskr/auth/login -> 200",
            "GET /flaskr/create -> 302 (Location: /flaskr/auth/login)",
            "GET /flaskr/static/style.css -> 200 (static: IIS serves it, the app is not asked)",
            "Verified 6 request(s)",
        ] {
            assert!(out.contains(said), "{said:?} in {out}");
        }
        // Not even about the tool's own PythonInterpreter parameter, whose
        // scope also takes the static folder's web.config.
        assert!(!out.contains("warning:"), "{out}");
    }
}

#[test]
fn pyramids_wiki_tutorial_as_published_gets_alembic_and_its_initialize_script() {
    let Some(tools) = tools() else { return };
    let (_dir, project) = real_app("pyramid-wiki2");
    let project = project.as_path();
    ok(iiswsgi(project, &["init", "--yes"], &tools));
    let manifest = project.join("iiswsgi.toml");
    let toml = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        toml.contains("[[install.run]]             # production.ini configures alembic; run by the install step in the new venv before its self-test\ncommand = 'python -m alembic -c production.ini upgrade head'\n"),
        "{toml}"
    );
    assert!(
        toml.contains("command = 'python -c \"from tutorial.scripts.initialize_db import main; main()\" production.ini'\nwhen = \"first-install\""),
        "{toml}"
    );
    // `use = egg:tutorial`: the project is installed; its secret and its
    // SQLite URL (in the app folder, which redeploys replace) become
    // parameters matching the values as the .ini has them.
    for said in [
        "install-project = true",
        "static = { \"/static\" = \"tutorial/static\" }",
        "data-folders = [\"data\"]",
        "name = \"sqlalchemy.url\"\ndescription = \"sqlalchemy.url in production.ini: the database (by default in the data folder, which redeploys keep)\"\ndefault = \"sqlite:///%(here)s/data/tutorial.sqlite\"\ntags = []\nentries = [{ kind = \"text-file\", scope = '\\\\production\\.ini$', match = 'sqlite:///%\\(here\\)s/tutorial\\.sqlite' }]",
        "name = \"auth.secret\"\ndescription = \"auth.secret in production.ini: the value this site signs with\"\ntags = [\"Password\", \"New\"]\nvalidation = { kind = \"regular-expression\", pattern = \".{16,}\" }\nentries = [{ kind = \"text-file\", scope = '\\\\production\\.ini$', match = 'real\\-seekrit' }]",
    ] {
        assert!(toml.contains(said), "{said}\nin\n{toml}");
    }
    assert_schema_valid(&manifest);
    assert_keys_documented(&manifest);
    let out = ok(iiswsgi(project, &["build"], &tools));
    assert!(out.contains("Built "), "{out}");
    let names = zip_names(&project.join("dist/pyramid-wiki2-0.0.msdeploy.zip"));
    assert!(
        names.contains(&"pyramid-wiki2/wheelhouse/tutorial-0.0-py3-none-any.whl".to_string())
            && !names.iter().any(|n| n.starts_with("pyramid-wiki2/tests/")),
        "the project's wheel, not its tests: {names:?}"
    );
    if gateway_present() {
        // alembic made the tables, the initialize script the front page,
        // in the data folder the parameter moved the database to.
        let out = ok(iiswsgi(
            project,
            &[
                "verify",
                "--set-param",
                "auth.secret=a-long-enough-auth-secret",
                "--request",
                "/=303",
                "--request",
                "/FrontPage=200:FrontPage",
                "--request",
                "/login=200:Login",
                "--request",
                "/static/theme.css=200",
            ],
            &tools,
        ));
        for said in [
            "pyramid-wiki2/production.ini: parameter 'sqlalchemy.url' set 1 place(s)",
            "pyramid-wiki2/production.ini: parameter 'auth.secret' set 1 place(s)",
            "set-up: (1/2) python -m alembic -c production.ini upgrade head",
            "set-up: (2/2) python -c \"from tutorial.scripts.initialize_db import main; main()\" production.ini",
            "GET /pyramid-wiki2/ -> 303 (Location: http://localhost/pyramid-wiki2/FrontPage)",
            "GET /pyramid-wiki2/FrontPage -> 200",
            "GET /pyramid-wiki2/static/theme.css -> 200 (static: IIS serves it, the app is not asked)",
            "Verified 4 request(s)",
        ] {
            assert!(out.contains(said), "{said:?} in {out}");
        }
    }
}

#[test]
fn detection_failures_list_what_was_found_and_how_to_choose() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("one.py"),
        "from flask import Flask\napp = Flask(__name__)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("two.py"),
        "from flask import Flask\napi = Flask(__name__)\n",
    )
    .unwrap();
    let out = iiswsgi(dir.path(), &["init", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("more than one app found: one:app (one.py defines the app); two:api (two.py defines the app)"), "{err}");
    assert!(err.contains("--framework"), "{err}");
    assert!(!dir.path().join("iiswsgi.toml").exists());

    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("script.py"), "print('hi')\n").unwrap();
    let out = iiswsgi(empty.path(), &["init", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no Flask, Django or Pyramid app found") && err.contains("manage.py (Django)"),
        "{err}"
    );
    let out = iiswsgi(
        empty.path(),
        &["init", "--yes", "--framework", "django"],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("looked for manage.py naming DJANGO_SETTINGS_MODULE")
    );
}

#[test]
fn the_django_example_builds_with_its_static_files_served_by_iis() {
    let Some(tools) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo("examples/django"), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("staticfiles"));
    // collectstatic is the project's [[build.run]] step, in a build venv.
    let out = ok(iiswsgi(dir.path(), &["build"], &tools));
    assert!(
        out.contains("Running python manage.py collectstatic --noinput"),
        "{out}"
    );
    let names = zip_names(&dir.path().join("dist/DjangoNotes-1.0.0.msdeploy.zip"));
    for want in [
        "DjangoNotes/manage.py",
        "DjangoNotes/notes/templates/notes/index.html",
        // STATIC_ROOT (where a manifest storage reads its manifest), and
        // the same files at STATIC_URL, where IIS serves them.
        "DjangoNotes/staticfiles/notes/site.css",
        "DjangoNotes/static/notes/site.css",
        "DjangoNotes/static/web.config",
        "DjangoNotes/bin/iiswsgi-gateway.exe",
        "DjangoNotes/wheelhouse/requirements.txt",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("DjangoNotes/wheelhouse/django-5.2.19"))
    );
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("DjangoNotes/vendor/") || n.ends_with("iiswsgi.toml")),
        "{names:?}"
    );
}

/// Wagtail's layout: a settings package (`base`, `dev`, `production`),
/// manage.py naming the development module and wsgi.py the production one;
/// STATIC_ROOT, MEDIA_ROOT and the database in `base`, the environment
/// reads in `production`.
#[test]
fn a_django_settings_package_is_read_from_the_module_wsgi_py_names() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("mysite");
    for (path, text) in [
        (
            "manage.py",
            "import os, sys\nif __name__ == '__main__':\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings.dev')\n",
        ),
        (
            "mysite/wsgi.py",
            "import os\nfrom django.core.wsgi import get_wsgi_application\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings.production\")\napplication = get_wsgi_application()\n",
        ),
        ("mysite/__init__.py", ""),
        ("mysite/settings/__init__.py", ""),
        (
            "mysite/settings/base.py",
            "import os\nPROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\nBASE_DIR = os.path.dirname(PROJECT_DIR)\nDATABASES = {\n    \"default\": {\n        \"ENGINE\": \"django.db.backends.sqlite3\",\n        \"NAME\": os.path.join(BASE_DIR, \"db.sqlite3\"),\n    }\n}\nSTATIC_ROOT = os.path.join(BASE_DIR, \"static\")\nSTATIC_URL = \"/static/\"\nMEDIA_ROOT = os.path.join(BASE_DIR, \"media\")\n",
        ),
        (
            "mysite/settings/dev.py",
            "from .base import *\nDEBUG = True\nSECRET_KEY = 'dev'\n",
        ),
        (
            "mysite/settings/production.py",
            "from .base import *\nDEBUG = False\nSECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"]\nALLOWED_HOSTS = os.environ.get(\"DJANGO_ALLOWED_HOSTS\", \"\").split(\",\")\nEMAIL_HOST_PASSWORD = os.environ.get(\"EMAIL_HOST_PASSWORD\")\n",
        ),
    ] {
        let p = project.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = ok(iiswsgi(&project, &["init", "--print"], &tools));
    for said in [
        "wsgi.py sets DJANGO_SETTINGS_MODULE=mysite.settings.production; manage.py's mysite.settings.dev is taken for development",
        "DJANGO_SETTINGS_MODULE = \"mysite.settings.production\"",
        "wsgi-handler = \"mysite.wsgi.application\"",
        "static-folders = [\"static\"]",
        "data-folders = [\"media\"]",
        "command = 'python manage.py migrate --noinput'",
        "name = \"DJANGO_SECRET_KEY\"",
        "name = \"EMAIL_HOST_PASSWORD\"",
        "TODO: the SQLite database (db.sqlite3) is in the app folder",
    ] {
        assert!(out.contains(said), "{said:?} in\n{out}");
    }
    assert!(!out.contains("STATIC_ROOT is not set"), "{out}");
    assert!(!out.contains("SECRET_KEY is written in"), "{out}");
}
