//! The iiswsgi.toml `init` writes: every key commented, so the file
//! explains itself and builds as it is.

use super::detect::{Detected, Framework};
use crate::manifest::model::Hosting;

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML literal string when it can be one (regular expressions read
/// better without doubled backslashes), else a basic string.
fn toml_literal(s: &str) -> String {
    if s.contains('\'') || s.contains('\n') {
        toml_str(s)
    } else {
        format!("'{s}'")
    }
}

fn toml_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| toml_str(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A default an installer can keep (secrets and unknown settings get none).
fn default_of(p: &super::detect::EnvParameter) -> Option<&'static str> {
    if p.variable.contains("ALLOWED_HOSTS") {
        Some("localhost")
    } else if p.variable.ends_with("DEBUG") {
        Some("0")
    } else {
        None
    }
}

/// The text of iiswsgi.toml for `name` and what was detected.
pub fn render(name: &str, detected: &Detected, hosting: Hosting, python_version: &str) -> String {
    let mut t = String::new();
    let d = detected;
    t.push_str(&format!(
        "# iiswsgi.toml for a {} app, written by `iiswsgi init` ({}).\n# Every key is described in iiswsgi's README (\"iiswsgi.toml\"); `iiswsgi check`\n# validates this file, `iiswsgi build` writes dist/{name}-<version>.msdeploy.zip.\n",
        d.framework.name(),
        d.evidence.join("; ")
    ));
    for note in &d.notes {
        t.push_str(&format!("#\n# TODO: {note}\n"));
    }
    t.push_str(&format!(
        "\n[app]\nname = {}              # product id, package and folder name\nversion = {}\ntitle = {}\n",
        toml_str(name),
        toml_str(d.version.as_deref().unwrap_or("1.0.0")),
        toml_str(name)
    ));
    t.push_str(
        "\n[files]                     # globs relative to this file; a glob naming a folder takes all under it\ninclude = [\"**/*\"]\nexclude = [\"**/__pycache__\", \"**/*.pyc\", \".venv\", \"venv\", \".git\", \"vendor\", \"node_modules\", \"**/*.sqlite3\", \"iiswsgi.toml\"]\n",
    );
    for step in &d.build_steps {
        t.push_str(&format!(
            "\n[[build.run]]               # before the files are selected, in a build venv made from the requirements\ncommand = {}\n",
            toml_str(step)
        ));
    }
    t.push_str("\n# [gateway]                 # the FastCGI gateway IIS runs: iiswsgi's own by default;\n# path = \"my-gateway.exe\"    # or an exe of your own (path, or url with sha256)\n# arch = \"x64\"\n");
    t.push_str(&format!("\n[python]                    # the server's Python; the requirements are bundled as Windows wheels\nversion = {}\n", toml_str(python_version)));
    match &d.requirements {
        Some(r) => t.push_str(&format!("requirements = {}\n", toml_str(r))),
        None => t.push_str("# requirements = \"requirements.txt\"\n"),
    }
    if d.install_project {
        t.push_str("install-project = true      # the project is built as a wheel and installed: its metadata is needed (`use = egg:...`)\n");
    }
    t.push_str("# server = 'C:\\Python312\\python.exe'   # default: the py launcher; installers may change it\n");
    t.push_str(&format!(
        "\n[iis]\nwsgi-handler = {}      # WSGI_HANDLER, as wfastcgi reads it\n",
        toml_str(&d.handler)
    ));
    if hosting == Hosting::HttpPlatform {
        t.push_str("hosting = \"http-platform\"   # HttpPlatformHandler starts waitress; \"fastcgi\" uses the gateway\n");
    }
    if !d.static_folders.is_empty() {
        t.push_str(&format!(
            "static-folders = {}    # served by IIS itself, without Python\n",
            toml_list(&d.static_folders)
        ));
    }
    if !d.static_urls.is_empty() {
        let pairs: Vec<String> = d
            .static_urls
            .iter()
            .map(|(url, folder)| format!("{} = {}", toml_str(url), toml_str(folder)))
            .collect();
        t.push_str(&format!(
            "static = {{ {} }}    # URL path = folder: IIS serves the folder's files at that URL, without Python\n",
            pairs.join(", ")
        ));
    }
    if !d.data_folders.is_empty() {
        let folders: Vec<String> = d.data_folders.iter().map(|(f, _)| f.clone()).collect();
        let why: Vec<&str> = d.data_folders.iter().map(|(_, w)| w.as_str()).collect();
        t.push_str(&format!(
            "data-folders = {}    # written by the app: made at install, writable by the app pool, kept by redeploys; {}\n",
            toml_list(&folders),
            why.join("; ")
        ));
    }
    if !d.app_settings.is_empty() || !d.parameters.is_empty() {
        let mut pairs: Vec<String> = d
            .app_settings
            .iter()
            .map(|(k, v)| format!("{k} = {}", toml_str(v)))
            .collect();
        for p in &d.parameters {
            pairs.push(format!(
                "{} = {}",
                p.variable,
                toml_str(default_of(p).unwrap_or("__set_at_install__"))
            ));
        }
        t.push_str(&format!(
            "app-settings = {{ {} }}   # web.config appSettings, in os.environ\n",
            pairs.join(", ")
        ));
    }
    for guess in &d.setup {
        let c = if guess.commented { "# " } else { "" };
        t.push_str(&format!(
            "\n{c}[[install.run]]             # {}{}\n{c}command = {}\n",
            guess.why,
            if guess.commented {
                "; uncomment if the install should run it"
            } else {
                "; run by the install step in the new venv before its self-test"
            },
            toml_literal(&guess.command)
        ));
        if guess.first_install {
            t.push_str(&format!(
                "{c}when = \"first-install\"     # once: a guess from its name (it may reset data); \"always\" runs it on every install\n"
            ));
        }
    }
    for p in &d.file_parameters {
        let (tags, validation) = if p.secret {
            (
                "[\"Password\", \"New\"]",
                "\nvalidation = { kind = \"regular-expression\", pattern = \".{16,}\" }",
            )
        } else {
            ("[]", "")
        };
        let scope = format!("\\\\{}$", regex::escape(&p.file).replace('/', "\\\\"));
        t.push_str(&format!(
            "\n[[parameters]]              # asked for at install; replaces {name}'s value in {file} (matched as it is there){secret_note}\nname = {qname}\ndescription = {desc}\n{default}tags = {tags}{validation}\nentries = [{{ kind = \"text-file\", scope = {scope}, match = {matched} }}]\n",
            name = p.name,
            file = p.file,
            secret_note = if p.secret { "; the value in the file ships in the package: rotate it" } else { "" },
            qname = toml_str(&p.name),
            desc = toml_str(&p.description),
            default = p.default.as_deref().map(|d| format!("default = {}\n", toml_str(d))).unwrap_or_default(),
            scope = toml_literal(&scope),
            matched = toml_literal(&regex::escape(&p.current)),
        ));
    }
    for p in &d.parameters {
        let (tags, validation) = if p.secret {
            (
                "[\"Password\", \"New\"]",
                "\nvalidation = { kind = \"regular-expression\", pattern = \".{16,}\" }",
            )
        } else {
            ("[]", "")
        };
        t.push_str(&format!(
            "\n[[parameters]]              # asked for at install; sets {var} in web.config\nname = {name}\ndescription = {desc}\n{default}tags = {tags}{validation}\nentries = [{{ kind = \"xml-file\", scope = '\\\\web\\.config$', match = \"/configuration/appSettings/add[@key='{var}']/@value\" }}]\n",
            var = p.variable,
            name = toml_str(&p.variable),
            default = default_of(p).map(|d| format!("default = {}\n", toml_str(d))).unwrap_or_default(),
            desc = toml_str(&format!("{} ({} reads it from the environment)", p.variable, if d.framework == Framework::Django { "settings.py" } else { "the app" })),
        ));
    }
    t
}
