//! What kind of WSGI project a folder holds, read from its files the way a
//! person would: Django's manage.py and settings, a Flask app or factory,
//! Pyramid's `main(global_config, **settings)` with its .ini.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    Flask,
    Django,
    Pyramid,
}

impl Framework {
    pub fn name(self) -> &'static str {
        match self {
            Framework::Flask => "Flask",
            Framework::Django => "Django",
            Framework::Pyramid => "Pyramid",
        }
    }
}

/// A Web Deploy parameter for a setting the app reads from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvParameter {
    pub variable: String,
    pub secret: bool,
}

/// Everything `init` found.
#[derive(Debug, Clone)]
pub struct Detected {
    pub framework: Framework,
    /// WSGI_HANDLER.
    pub handler: String,
    /// Why: the files and lines that say so.
    pub evidence: Vec<String>,
    pub app_settings: Vec<(String, String)>,
    pub requirements: Option<String>,
    pub static_folders: Vec<String>,
    /// URL path → project folder, where they differ (`[iis] static`).
    pub static_urls: Vec<(String, String)>,
    pub parameters: Vec<EnvParameter>,
    /// Things the user should know or do, written as comments.
    pub notes: Vec<String>,
    /// Files to write besides iiswsgi.toml (Pyramid's WSGI entry point).
    pub extra_files: Vec<(String, String)>,
    /// Folders the app writes at run time (`[iis] data-folders`), each
    /// with why it is thought to be one.
    pub data_folders: Vec<(String, String)>,
    /// The app's set-up commands (`[[install.run]]`).
    pub setup: Vec<SetupGuess>,
    /// `[[build.run]]` commands (Django's collectstatic).
    pub build_steps: Vec<String>,
    /// `[python] install-project`: the app needs its own distribution's
    /// metadata (Pyramid's `use = egg:<project>`).
    pub install_project: bool,
    /// Values in the app's own files (an .ini) that installers must set:
    /// TextFile parameters matching the value as it is.
    pub file_parameters: Vec<FileParameter>,
    pub version: Option<String>,
}

/// A value in one of the app's files that a parameter replaces at install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileParameter {
    pub name: String,
    /// The file, relative to the project (the parameter's scope).
    pub file: String,
    /// The value as the file has it (matched literally).
    pub current: String,
    /// What installers get offered (None: they must give one).
    pub default: Option<String>,
    pub secret: bool,
    pub description: String,
}

/// A set-up command `init` proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupGuess {
    pub command: String,
    /// Once, on the first install (`when = "first-install"`).
    pub first_install: bool,
    /// Where it was found, and what it guesses.
    pub why: String,
    /// Written commented out: a command the app registers whose purpose
    /// `init` cannot tell.
    pub commented: bool,
}

/// Nothing, or more than one candidate, was found.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("no Flask, Django or Pyramid app found in {}; looked for {looked}", dir.display())]
    Nothing { dir: PathBuf, looked: String },
    #[error("more than one app found: {}", .0.join("; "))]
    Ambiguous(Vec<String>),
}

const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".venv",
    "venv",
    "env",
    ".env",
    "node_modules",
    "__pycache__",
    "dist",
    "build",
    "vendor",
    ".tox",
    ".idea",
    ".vscode",
    "site-packages",
];

static FLASK_APP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(\w+)\s*=\s*(?:flask\.)?Flask\(").expect("regex"));
static FLASK_FACTORY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^def (create_app|make_app)\(").expect("regex"));
static PYRAMID_MAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^def main\(\s*global_config\s*,\s*\*\*\w+").expect("regex"));
static DJANGO_SETTINGS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]"#).expect("regex")
});
static ENV_READ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:os\.environ\.get|os\.getenv|environ\.get)\(\s*['"](\w+)['"]|os\.environ\[\s*['"](\w+)['"]\s*\]"#).expect("regex")
});
static STATIC_ROOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^STATIC_ROOT\s*=\s*(?:BASE_DIR\s*/\s*['"]([\w./-]+)['"]|os\.path\.join\(\s*BASE_DIR\s*,\s*['"]([\w./-]+)['"]\s*\)|['"]([\w./-]+)['"])"#)
        .expect("regex")
});

/// Python files at the top and one folder down (packages), skipping
/// environments and build output.
fn python_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_dir() {
            if SKIP_DIRS.contains(&name.as_str())
                || name.starts_with('.')
                || name.ends_with(".egg-info")
            {
                continue;
            }
            if let Ok(inner) = std::fs::read_dir(&p) {
                let mut inner: Vec<_> = inner
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|f| f.extension().is_some_and(|e| e == "py"))
                    .collect();
                inner.sort();
                out.extend(inner);
            }
        } else if name.ends_with(".py") {
            out.push(p);
        }
    }
    out
}

/// `pkg/__init__.py` → `pkg`, `app.py` → `app`, `pkg/app.py` → `pkg.app`.
fn module_of(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "__init__") {
        parts.pop();
    }
    parts.join(".")
}

fn rel(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Finds the app in `dir`; `forced` restricts detection to one framework.
pub fn detect(dir: &Path, forced: Option<Framework>) -> Result<Detected, DetectError> {
    let mut found: Vec<Detected> = Vec::new();
    let want = |f: Framework| forced.is_none_or(|x| x == f);
    if want(Framework::Django)
        && let Some(d) = django(dir)
    {
        found.push(d);
    }
    let files = python_files(dir);
    if want(Framework::Pyramid) {
        found.extend(pyramid(dir, &files));
    }
    if want(Framework::Flask) && !found.iter().any(|d| d.framework == Framework::Django) {
        found.extend(flask(dir, &files));
    }
    match found.len() {
        0 => Err(DetectError::Nothing {
            dir: dir.to_owned(),
            looked: match forced {
                Some(Framework::Django) => "manage.py naming DJANGO_SETTINGS_MODULE".into(),
                Some(Framework::Flask) => "`app = Flask(...)` or `def create_app(` in the top-level .py files and packages".into(),
                Some(Framework::Pyramid) => "`def main(global_config, **settings)` with a production.ini or development.ini".into(),
                None => "manage.py (Django), `app = Flask(...)` or `def create_app(` (Flask), `def main(global_config, **settings)` with an .ini (Pyramid)".into(),
            },
        }),
        1 => {
            let mut d = found.pop().expect("one");
            d.requirements = requirements_file(dir);
            d.version = pyproject_version(dir);
            if d.requirements.is_none() {
                d.notes.push("no requirements.txt or pyproject.toml found: list the app's dependencies in requirements.txt and set [python] requirements".into());
            }
            Ok(d)
        }
        _ => Err(DetectError::Ambiguous(found.iter().map(|d| format!("{} ({})", d.handler, d.evidence.join(", "))).collect())),
    }
}

fn requirements_file(dir: &Path) -> Option<String> {
    [
        "requirements.txt",
        "requirements/production.txt",
        "requirements/prod.txt",
        "pyproject.toml",
    ]
    .into_iter()
    .find(|f| {
        let p = dir.join(f);
        p.is_file()
            && (!f.ends_with(".toml")
                || std::fs::read_to_string(&p).is_ok_and(|t| t.contains("dependencies")))
    })
    .map(str::to_string)
}

fn pyproject_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("pyproject.toml")).ok()?;
    let value: toml::Value = toml::from_str(&text).ok()?;
    value
        .get("project")?
        .get("version")?
        .as_str()
        .map(str::to_string)
}

fn django(dir: &Path) -> Option<Detected> {
    let manage = std::fs::read_to_string(dir.join("manage.py")).ok()?;
    let manage_module = DJANGO_SETTINGS
        .captures(&manage)?
        .get(1)?
        .as_str()
        .to_string();
    let (settings_module, why) = production_settings(dir, &manage_module);
    // wsgi.py sits in the project package: the settings' package, or the
    // one above a settings package (mysite/settings/production.py).
    let mut package = manage_module
        .rsplit_once('.')
        .map_or(String::new(), |(p, _)| p.to_string());
    if !dir
        .join(package.replace('.', "/"))
        .join("wsgi.py")
        .is_file()
        && let Some((up, _)) = package.rsplit_once('.')
    {
        package = up.to_owned();
    }
    let wsgi_file = dir.join(package.replace('.', "/")).join("wsgi.py");
    let handler = if wsgi_file.is_file() {
        format!("{package}.wsgi.application")
    } else {
        "django.core.wsgi.get_wsgi_application()".to_string()
    };
    let settings = settings_text(dir, &settings_module);
    let guessed = why.contains("looks like");
    let mut d = Detected {
        framework: Framework::Django,
        handler,
        evidence: vec![why],
        app_settings: vec![("DJANGO_SETTINGS_MODULE".into(), settings_module.clone())],
        requirements: None,
        static_folders: Vec::new(),
        static_urls: Vec::new(),
        parameters: Vec::new(),
        notes: Vec::new(),
        extra_files: Vec::new(),
        data_folders: Vec::new(),
        setup: Vec::new(),
        install_project: false,
        file_parameters: Vec::new(),
        build_steps: Vec::new(),
        version: None,
    };
    if guessed {
        d.notes.push(format!(
            "DJANGO_SETTINGS_MODULE = {settings_module} is a guess from the module's name: check it ([iis] app-settings)"
        ));
    }
    d.parameters.extend(env_parameters(&settings));
    for (needle, var, why) in [
        (
            "SECRET_KEY",
            "DJANGO_SECRET_KEY",
            "SECRET_KEY is written in settings.py",
        ),
        (
            "ALLOWED_HOSTS",
            "DJANGO_ALLOWED_HOSTS",
            "ALLOWED_HOSTS is written in settings.py",
        ),
    ] {
        if !d.parameters.iter().any(|p| p.variable.contains(needle)) {
            d.parameters.push(EnvParameter {
                variable: var.into(),
                secret: needle == "SECRET_KEY",
            });
            d.notes.push(format!(
                "{why}: read it from the environment, e.g. {needle} = os.environ[\"{var}\"]{} (the {var} parameter sets it at install)",
                if needle == "ALLOWED_HOSTS" { ".split(\",\")" } else { "" }
            ));
        }
    }
    django_database_and_media(&settings, &mut d);
    match STATIC_ROOT.captures(&settings).and_then(|c| c.get(1).or(c.get(2)).or(c.get(3))) {
        Some(m) => {
            let root = m.as_str().trim_matches('/').to_string();
            let url = STATIC_URL
                .captures(&settings)
                .map_or("static", |c| c.get(1).map_or("static", |u| u.as_str()))
                .trim_matches('/')
                .to_owned();
            if url.contains(':') {
                d.notes.push(format!("STATIC_URL is {url:?}, another server: IIS serves nothing of {root}/"));
            } else {
                static_at(&format!("/{url}"), root.clone(), &mut d.static_folders, &mut d.static_urls);
            }
            d.build_steps.push("python manage.py collectstatic --noinput".into());
        }
        None => d.notes.push("STATIC_ROOT is not set: set it (e.g. STATIC_ROOT = BASE_DIR / \"staticfiles\"), run collectstatic, and add the folder to [iis] static-folders".into()),
    }
    Some(d)
}

fn flask(dir: &Path, files: &[PathBuf]) -> Vec<Detected> {
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let module = module_of(dir, f);
        let handler = if let Some(c) = FLASK_APP.captures(&text) {
            format!("{module}:{}", &c[1])
        } else if let Some(c) = FLASK_FACTORY.captures(&text) {
            format!("{module}:{}()", &c[1])
        } else {
            continue;
        };
        let mut static_folders = Vec::new();
        let mut static_urls = Vec::new();
        let base = f.parent().unwrap_or(dir);
        // Flask serves `static_folder` (default `static` beside the app's
        // module or package) at `static_url_path` (default `/static`).
        let folder = FLASK_STATIC_FOLDER
            .captures(&text)
            .map_or("static".to_owned(), |c| c[1].to_owned());
        let url = FLASK_STATIC_URL.captures(&text).map_or_else(
            || format!("/{}", folder.trim_matches('/')),
            |c| c[1].to_owned(),
        );
        if base.join(&folder).is_dir() {
            static_at(
                &url,
                rel(dir, &base.join(&folder)),
                &mut static_folders,
                &mut static_urls,
            );
        }
        let (parameters, notes, secret_setup) = flask_secret(&text, &rel(dir, f));
        out.push(Detected {
            framework: Framework::Flask,
            evidence: vec![format!("{} defines the app", rel(dir, f))],
            handler,
            app_settings: Vec::new(),
            requirements: None,
            static_folders,
            static_urls,
            parameters,
            notes,
            extra_files: Vec::new(),
            data_folders: flask_data_folders(&text),
            setup: secret_setup
                .into_iter()
                .chain(files.iter().flat_map(|g| {
                    let text = std::fs::read_to_string(g).unwrap_or_default();
                    flask_commands(&module, &text, &rel(dir, g))
                }))
                .collect(),
            install_project: false,
            file_parameters: Vec::new(),
            build_steps: Vec::new(),
            version: None,
        });
    }
    out
}

/// Flask's instance folder, when the app keeps anything there.
fn flask_data_folders(text: &str) -> Vec<(String, String)> {
    if text.contains("instance_relative_config=True") || text.contains("instance_path") {
        vec![(
            "instance".into(),
            "Flask's instance folder (the app uses instance_path)".into(),
        )]
    } else {
        Vec::new()
    }
}

static CLI_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^@(?:\w+\.)?(?:cli\.command|click\.command|command)\(\s*(?:["']([\w:-]+)["'])?[^)]*\)\s*(?:\n@.*)*\ndef (\w+)"#)
        .expect("regex")
});

/// The CLI commands the app registers (`@click.command("init-db")`,
/// `@app.cli.command()`): an `init…` one runs on the first install (as
/// flaskr's `init-db`, which drops every table); others are written
/// commented out.
fn flask_commands(module: &str, text: &str, file: &str) -> Vec<SetupGuess> {
    let app = module.split('.').next().unwrap_or(module);
    CLI_COMMAND
        .captures_iter(text)
        .map(|c| {
            // Click names a command after its function, `_` as `-`.
            let name = c
                .get(1)
                .map_or_else(|| c[2].replace('_', "-"), |m| m.as_str().to_owned());
            let init = name.starts_with("init");
            SetupGuess {
                command: format!("flask --app {app} {name}"),
                first_install: init,
                why: format!("{file} registers `flask {name}`"),
                commented: !init,
            }
        })
        .collect()
}

fn pyramid(dir: &Path, files: &[PathBuf]) -> Vec<Detected> {
    let ini = ["production.ini", "development.ini"]
        .into_iter()
        .find(|i| dir.join(i).is_file());
    let Some(ini) = ini else { return Vec::new() };
    let ini_text = std::fs::read_to_string(dir.join(ini)).unwrap_or_default();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        if !PYRAMID_MAIN.is_match(&text) {
            continue;
        }
        let mut data_folders = Vec::new();
        let file_parameters = ini_parameters(ini, &ini_text, &mut data_folders);
        // `use = egg:<name>` needs the project's metadata in the venv: it
        // is built as a wheel when there is something to build it from.
        let egg = ini_text.contains("egg:");
        let buildable = dir.join("setup.py").is_file()
            || std::fs::read_to_string(dir.join("pyproject.toml"))
                .is_ok_and(|t| t.contains("[project]"));
        let install_project = egg && buildable;
        let mut notes = vec![format!(
            "iiswsgi_wsgi.py loads the app from {ini}; edit it to use another .ini"
        )];
        if egg && !buildable {
            notes.push(format!("{ini} says `use = egg:...`, which needs the project installed: add a pyproject.toml with [project] name and version, then set [python] install-project = true"));
        }
        let entry = format!(
            "\"\"\"The WSGI app for IIS, written by `iiswsgi init`: the Pyramid app that\n{ini} configures (the gateway imports `application` from here).\"\"\"\nimport os\n\nfrom pyramid.paster import get_app, setup_logging\n\n_ini = os.path.join(os.path.dirname(os.path.abspath(__file__)), \"{ini}\")\nsetup_logging(_ini)\napplication = get_app(_ini, \"main\")\n"
        );
        out.push(Detected {
            framework: Framework::Pyramid,
            evidence: vec![
                format!("{} has main(global_config, **settings)", rel(dir, f)),
                format!("{ini} configures it"),
            ],
            handler: "iiswsgi_wsgi.application".into(),
            app_settings: Vec::new(),
            requirements: None,
            static_folders: Vec::new(),
            static_urls: pyramid_static(dir, files),
            parameters: Vec::new(),
            notes,
            extra_files: vec![("iiswsgi_wsgi.py".into(), entry)],
            data_folders,
            setup: pyramid_setup(dir, ini),
            install_project,
            file_parameters,
            build_steps: Vec::new(),
            version: None,
        });
    }
    out
}

static DJANGO_ENGINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"['"]ENGINE['"]\s*:\s*['"]([\w.]+)['"]"#).expect("regex"));
static SQLITE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"['"]NAME['"]\s*:\s*(?:BASE_DIR\s*/\s*((?:['"][\w.-]+['"]\s*/\s*)*)['"]([\w.-]+)['"]|os\.path\.join\(\s*BASE_DIR\s*,\s*['"]([\w./-]+)['"]\s*\))"#)
        .expect("regex")
});
static MEDIA_ROOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^MEDIA_ROOT\s*=\s*(?:BASE_DIR\s*/\s*['"]([\w./-]+)['"]|os\.path\.join\(\s*BASE_DIR\s*,\s*['"]([\w./-]+)['"]\s*\)|['"]([\w./-]+)['"])"#)
        .expect("regex")
});

/// Django: `migrate` when settings name a database; the SQLite file's
/// folder and MEDIA_ROOT as data folders.
fn django_database_and_media(settings: &str, d: &mut Detected) {
    if let Some(engine) = DJANGO_ENGINE.captures(settings) {
        d.setup.push(SetupGuess {
            command: "python manage.py migrate --noinput".into(),
            first_install: false,
            why: format!("settings.py names a database ({})", &engine[1]),
            commented: false,
        });
        if engine[1].ends_with("sqlite3") {
            let file = SQLITE_NAME.captures(settings).map(|c| match c.get(3) {
                Some(joined) => joined.as_str().to_owned(),
                None => {
                    let dirs: String = c
                        .get(1)
                        .map_or("", |m| m.as_str())
                        .split('/')
                        .map(|p| p.trim().trim_matches(['\'', '"']))
                        .filter(|p| !p.is_empty())
                        .map(|p| format!("{p}/"))
                        .collect();
                    format!("{dirs}{}", &c[2])
                }
            });
            match file.as_deref().and_then(|f| f.rsplit_once('/')) {
                Some((folder, _)) => d.data_folders.push((
                    folder.to_owned(),
                    "the SQLite database's folder (settings.py DATABASES)".into(),
                )),
                None => d.notes.push(format!(
                    "the SQLite database ({}) is in the app folder, which every redeploy makes equal to the package: move it into a data folder, e.g. NAME = BASE_DIR / \"data\" / \"db.sqlite3\", and add [iis] data-folders = [\"data\"]",
                    file.as_deref().unwrap_or("DATABASES NAME")
                )),
            }
        }
    }
    if let Some(m) = MEDIA_ROOT
        .captures(settings)
        .and_then(|c| c.get(1).or(c.get(2)).or(c.get(3)))
    {
        d.data_folders.push((
            m.as_str().trim_matches('/').to_owned(),
            "MEDIA_ROOT: the files users upload".into(),
        ));
    }
}

/// Pyramid: alembic migrations (an `[alembic]` section in the .ini, or
/// alembic.ini) on every install; the cookiecutter's initialize script,
/// which adds sample data, on the first.
fn pyramid_setup(dir: &Path, ini: &str) -> Vec<SetupGuess> {
    let mut out = Vec::new();
    let ini_text = std::fs::read_to_string(dir.join(ini)).unwrap_or_default();
    if ini_text.contains("[alembic]") {
        out.push(SetupGuess {
            command: format!("python -m alembic -c {ini} upgrade head"),
            first_install: false,
            why: format!("{ini} configures alembic"),
            commented: false,
        });
    } else if dir.join("alembic.ini").is_file() {
        out.push(SetupGuess {
            command: "python -m alembic upgrade head".into(),
            first_install: false,
            why: "alembic.ini configures the migrations".into(),
            commented: false,
        });
    }
    for file in ["setup.py", "pyproject.toml", "setup.cfg"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        if let Some(c) = PYRAMID_INIT_SCRIPT.captures(&text) {
            out.push(SetupGuess {
                // `main(argv=sys.argv)` reads `argv[1:]`, which `-c` makes
                // the arguments after the code.
                command: format!("python -c \"from {} import main; main()\" {ini}", &c[2]),
                first_install: true,
                why: format!("{file} declares the script {}", &c[1]),
                commented: false,
            });
            break;
        }
    }
    out
}

static PYRAMID_INIT_SCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"['"]?(initiali[sz]e_\w+)['"]?\s*=\s*['"]?\s*([\w.]+):main"#).expect("regex")
});

static FLASK_STATIC_FOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"Flask\([^)]*static_folder\s*=\s*['"]([\w./-]+)['"]"#).expect("regex")
});
static FLASK_STATIC_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"Flask\([^)]*static_url_path\s*=\s*['"](/[\w./-]*)['"]"#).expect("regex")
});
static STATIC_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^STATIC_URL\s*=\s*['"]([^'"]*)['"]"#).expect("regex"));
static PYRAMID_STATIC_VIEW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"add_static_view\(\s*(?:name\s*=\s*)?['"]([\w./-]+)['"]\s*,\s*(?:path\s*=\s*)?['"]([\w.:/-]+)['"]"#)
        .expect("regex")
});

/// A folder IIS serves at `url`: a static folder where the URL is its
/// path, else a `[iis] static` entry.
fn static_at(
    url: &str,
    folder: String,
    folders: &mut Vec<String>,
    urls: &mut Vec<(String, String)>,
) {
    if url.trim_matches('/') == folder.trim_matches('/') {
        folders.push(folder);
    } else {
        urls.push((format!("/{}", url.trim_matches('/')), folder));
    }
}

/// Pyramid's `config.add_static_view('static', 'tutorial:static')`: the
/// asset spec's package folder (a spec without `pkg:` is relative to the
/// calling module's package).
fn pyramid_static(dir: &Path, files: &[PathBuf]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for c in PYRAMID_STATIC_VIEW.captures_iter(&text) {
            if c[1].contains(':') {
                continue; // an absolute URL: another server
            }
            let folder = match c[2].split_once(':') {
                Some((package, path)) => format!("{}/{path}", package.replace('.', "/")),
                None => {
                    let base = f.parent().unwrap_or(dir);
                    rel(dir, &base.join(&c[2]))
                }
            };
            if dir.join(&folder).is_dir() {
                let (mut fs, mut us) = (Vec::new(), Vec::new());
                static_at(&c[1], folder, &mut fs, &mut us);
                out.extend(us);
                out.extend(fs.into_iter().map(|f| (format!("/{f}"), f)));
            }
        }
    }
    out
}

static INI_SETTING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^([A-Za-z][\w.]*)[ \t]*=[ \t]*(\S[^\r\n]*?)[ \t]*$").expect("regex")
});

/// Values of the `[app:main]` section that an installer must set: secrets
/// (`auth.secret`, `session.secret`), and a SQLite URL in the app folder,
/// which every redeploy would delete (moved into the data folder `data`).
fn ini_parameters(
    ini: &str,
    text: &str,
    data_folders: &mut Vec<(String, String)>,
) -> Vec<FileParameter> {
    let main = text
        .split("\n[")
        .find(|s| s.starts_with("app:main]") || s.starts_with("[app:main]"))
        .unwrap_or("");
    let mut out = Vec::new();
    for c in INI_SETTING.captures_iter(main) {
        let (key, value) = (&c[1], &c[2]);
        if key.ends_with("secret") {
            out.push(FileParameter {
                name: key.to_owned(),
                file: ini.to_owned(),
                current: value.to_owned(),
                default: None,
                secret: true,
                description: format!("{key} in {ini}: the value this site signs with"),
            });
        } else if let Some(file) = value.strip_prefix("sqlite:///%(here)s/") {
            if !file.contains('/') {
                data_folders.push((
                    "data".into(),
                    format!("the SQLite database ({key} in {ini}, moved here by its parameter)"),
                ));
                out.push(FileParameter {
                    name: key.to_owned(),
                    file: ini.to_owned(),
                    current: value.to_owned(),
                    default: Some(format!("sqlite:///%(here)s/data/{file}")),
                    secret: false,
                    description: format!(
                        "{key} in {ini}: the database (by default in the data folder, which redeploys keep)"
                    ),
                });
            }
        }
    }
    out
}

static STAR_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^from\s+(\.*[\w.]*)\s+import\s+\*").expect("regex"));

/// The file of a settings module: `a/b.py`, or `a/b/__init__.py` for a
/// settings package.
fn module_file(dir: &Path, module: &str) -> Option<PathBuf> {
    let base = dir.join(module.replace('.', "/"));
    [base.with_extension("py"), base.join("__init__.py")]
        .into_iter()
        .find(|p| p.is_file())
}

/// The settings module's text with what it star-imports (`from .base
/// import *`, `from mysite.settings.base import *`), followed within the
/// project, base first: where STATIC_ROOT and the environment reads of a
/// settings package are.
fn settings_text(dir: &Path, module: &str) -> String {
    fn collect(dir: &Path, module: &str, seen: &mut Vec<String>, out: &mut String) {
        if seen.iter().any(|m| m == module) || seen.len() > 16 {
            return;
        }
        seen.push(module.to_owned());
        let Some(file) = module_file(dir, module) else {
            return;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let is_package = file.ends_with("__init__.py");
        for c in STAR_IMPORT.captures_iter(&text) {
            let target = &c[1];
            let dots = target.chars().take_while(|&ch| ch == '.').count();
            let name = &target[dots..];
            let imported = if dots == 0 {
                name.to_owned()
            } else {
                // `.x` from a module is its package's x; from a package, its own.
                let mut parts: Vec<&str> = module.split('.').collect();
                let up = if is_package { dots - 1 } else { dots };
                for _ in 0..up {
                    parts.pop();
                }
                if !name.is_empty() {
                    parts.push(name);
                }
                parts.join(".")
            };
            collect(dir, &imported, seen, out);
        }
        out.push_str(&text);
        out.push('\n');
    }
    let mut out = String::new();
    collect(dir, module, &mut Vec::new(), &mut out);
    out
}

/// The settings a server should run: the module the project's wsgi.py
/// names when it differs from manage.py's (manage.py's is for
/// development), else a `production` module beside a development one;
/// else manage.py's. Which, and why.
fn production_settings(dir: &Path, manage_module: &str) -> (String, String) {
    let package = manage_module.rsplit_once('.').map_or("", |(p, _)| p);
    let wsgi_module = [package, package.rsplit_once('.').map_or("", |(p, _)| p)]
        .iter()
        .filter(|p| !p.is_empty())
        .find_map(|p| {
            let text =
                std::fs::read_to_string(dir.join(p.replace('.', "/")).join("wsgi.py")).ok()?;
            Some(DJANGO_SETTINGS.captures(&text)?.get(1)?.as_str().to_owned())
        });
    if let Some(w) = wsgi_module.filter(|w| w != manage_module && module_file(dir, w).is_some()) {
        return (
            w.clone(),
            format!(
                "wsgi.py sets DJANGO_SETTINGS_MODULE={w}; manage.py's {manage_module} is taken for development"
            ),
        );
    }
    let last = manage_module.rsplit('.').next().unwrap_or("");
    if ["dev", "development", "local", "settings", "base"].contains(&last) {
        let scope = if module_file(dir, manage_module).is_some_and(|f| f.ends_with("__init__.py")) {
            manage_module.to_owned()
        } else {
            package.to_owned()
        };
        for name in ["production", "prod"] {
            let candidate = format!("{scope}.{name}");
            if module_file(dir, &candidate).is_some() {
                return (
                    candidate.clone(),
                    format!(
                        "{candidate} looks like the production settings; manage.py's {manage_module} is taken for development"
                    ),
                );
            }
        }
    }
    (
        manage_module.to_owned(),
        format!("manage.py sets DJANGO_SETTINGS_MODULE={manage_module}"),
    )
}

static FLASK_HARDCODED_SECRET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"SECRET_KEY["']?\]?\s*=\s*["']"#).expect("regex"));

/// Flask's SECRET_KEY: read from `instance/config.py` (flaskr's
/// `from_pyfile("config.py")`): a set-up command writes that file from the
/// FLASK_SECRET_KEY parameter at every install; written in the code: a
/// parameter and a TODO to read it from the environment. Settings the app
/// reads from the environment are parameters. (parameters, notes, set-up)
fn flask_secret(text: &str, file: &str) -> (Vec<EnvParameter>, Vec<String>, Option<SetupGuess>) {
    let mut params = env_parameters(text);
    if params.iter().any(|p| p.variable.contains("SECRET")) {
        return (params, Vec::new(), None);
    }
    let secret = EnvParameter {
        variable: "FLASK_SECRET_KEY".into(),
        secret: true,
    };
    let instance_config = text.contains("instance_relative_config=True")
        && (text.contains("from_pyfile(\"config.py\"") || text.contains("from_pyfile('config.py'"));
    if instance_config {
        // No single quote: cmd.exe does not quote with them (and the TOML
        // reads better as a literal string).
        let command = r#"python -c "import os; open(\"instance/config.py\", \"w\").write(\"SECRET_KEY = \" + repr(os.environ[\"FLASK_SECRET_KEY\"]) + chr(10))""#;
        params.push(secret);
        let setup = SetupGuess {
            command: command.into(),
            first_install: false,
            why: format!(
                "{file} reads SECRET_KEY from instance/config.py: written from the FLASK_SECRET_KEY parameter"
            ),
            commented: false,
        };
        return (params, Vec::new(), Some(setup));
    }
    if FLASK_HARDCODED_SECRET.is_match(text) {
        params.push(secret);
        let note = format!(
            "SECRET_KEY is written in {file}: read it from the environment, e.g. app.config[\"SECRET_KEY\"] = os.environ[\"FLASK_SECRET_KEY\"] (the FLASK_SECRET_KEY parameter sets it at install)"
        );
        return (params, vec![note], None);
    }
    (params, Vec::new(), None)
}

/// The settings `text` reads from the environment (`os.environ.get("X")`,
/// `os.getenv`, `os.environ["X"]`), once each, in order: parameters, the
/// ones named like secrets or passwords as Password parameters.
fn env_parameters(text: &str) -> Vec<EnvParameter> {
    let mut params: Vec<EnvParameter> = Vec::new();
    for c in ENV_READ.captures_iter(text) {
        let Some(variable) = c.get(1).or(c.get(2)).map(|m| m.as_str().to_owned()) else {
            continue;
        };
        if !variable.is_empty() && !params.iter().any(|p| p.variable == variable) {
            params.push(EnvParameter {
                secret: variable.contains("SECRET") || variable.contains("PASSWORD"),
                variable,
            });
        }
    }
    params
}
