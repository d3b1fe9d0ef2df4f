//! Checks that serde cannot express, and defaults that depend on other
//! values. Every problem is collected (not just the first) and points at the
//! value in iiswsgi.toml that causes it.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::diagnostic::ConfigError;
use super::key_path::KeyPath;
use super::load::Project;
use super::model::{EntryKind, Manifest, Parameter, Validation};
use crate::files::windows_path;

/// Exit codes as msdeploy writes them (`0x0`), or plain decimal.
static RETURN_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(0[xX][0-9A-Fa-f]{1,8}|-?[0-9]{1,10})$").expect("valid regex"));
static SHA256_HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9A-Fa-f]{64}$").expect("valid regex"));
static TEXT_FILE_POSITION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]+;[0-9]+;[0-9]+$").expect("valid regex"));

struct Problem {
    at: KeyPath,
    message: String,
    help: Option<String>,
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, at: KeyPath, message: impl Into<String>, help: impl Into<String>) {
        let help = help.into();
        self.0.push(Problem {
            at,
            message: message.into(),
            help: (!help.is_empty()).then_some(help),
        });
    }
}

/// Validates `project.manifest` and fills in defaults (folder, title,
/// application path, description from its file).
pub fn validate(project: &mut Project) -> Result<(), ConfigError> {
    crate::gateway::builtin::fill_in(&mut project.manifest);
    let mut problems = Problems::default();
    let m = &project.manifest;
    let root = KeyPath::root();

    match (&m.app, &m.workspace) {
        (None, None) => problems.add(
            root.clone(),
            "an [app] table is required",
            "add [app] with `name` and `version`, or a [workspace] with `members`",
        ),
        (Some(_), Some(_)) => problems.add(
            root.key("workspace"),
            "a manifest has either [app] or [workspace], not both",
            "move the app into a member folder listed in `members`",
        ),
        _ => {}
    }
    check_app(m, &mut problems);
    check_gateway(m, &mut problems);
    check_python(m, &mut problems);
    check_hosting(m, &mut problems);
    check_install(m, &mut problems);
    check_verify(m, &mut problems);
    check_build(m, &mut problems);
    check_run_commands(m, &mut problems);
    check_parameters(&m.parameters, &mut problems);
    check_relative_paths(m, &mut problems);
    check_feed_and_publish(m, &mut problems);

    // Defaults that need the values above.
    let mut description_problem = None;
    if let Some(app) = project.manifest.app.as_mut() {
        if app.title.is_none() {
            app.title = Some(app.name.clone());
        }
        if let Some(file) = app.description_file.clone() {
            match std::fs::read_to_string(project.root.join(&file)) {
                Ok(text) => app.description = Some(text),
                Err(e) => {
                    description_problem = Some((file, e));
                }
            }
        }
        if project.manifest.iis.application_path.is_none() {
            let folder = app.folder.clone().unwrap_or_else(|| app.name.clone());
            project.manifest.iis.application_path = Some(format!("Default Web Site/{folder}"));
        }
    }
    if let Some((file, e)) = description_problem {
        problems.add(
            root.key("app").key("description-file"),
            format!("cannot read `{}`: {e}", file.display()),
            "the path is relative to iiswsgi.toml",
        );
    }

    let errors = problems
        .0
        .into_iter()
        .map(|p| {
            let err = project.error_at(&p.at, p.message);
            match p.help {
                Some(h) => err.with_help(h),
                None => err,
            }
        })
        .collect();
    match ConfigError::many(errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn check_app(m: &Manifest, problems: &mut Problems) {
    let Some(app) = &m.app else { return };
    let at = KeyPath::root().key("app");
    if !super::dependency_rules::PRODUCT_ID.is_match(&app.name) || app.name.len() > 100 {
        problems.add(
            at.key("name"),
            format!(
                "app name `{}` cannot be used as a product id and folder name",
                app.name
            ),
            "use letters, digits, `.`, `_` and `-` (at most 100), starting with a letter or digit",
        );
    } else if let Err(p) = windows_path::check_component(&app.name) {
        problems.add(
            at.key("name"),
            format!("app name is not a valid folder name: {p}"),
            "",
        );
    }
    if app.version.trim().is_empty() {
        problems.add(
            at.key("version"),
            "version is empty",
            "set e.g. version = \"1.0\"",
        );
    } else if let Err(p) = windows_path::check_component(&app.version) {
        problems.add(
            at.key("version"),
            format!("version cannot be part of a file name: {p}"),
            "",
        );
    }
    if let Some(folder) = &app.folder
        && let Err(p) = windows_path::check_component(folder)
    {
        problems.add(
            at.key("folder"),
            format!("folder is not a valid Windows folder name: {p}"),
            "",
        );
    }
    if app.description.is_some() && app.description_file.is_some() {
        problems.add(
            at.key("description-file"),
            "`description` and `description-file` are both set",
            "keep one of them",
        );
    }
    for (key, value) in [
        ("author-url", &app.author_url),
        ("homepage", &app.homepage),
        ("license-url", &app.license_url),
        ("icon-url", &app.icon_url),
    ] {
        if let Some(url) = value {
            check_url(url, at.key(key), problems);
        }
    }
    for (i, url) in app.screenshot_urls.iter().enumerate() {
        check_url(url, at.key("screenshot-urls").index(i), problems);
    }
}

fn check_url(url: &str, at: KeyPath, problems: &mut Problems) {
    let ok = url.split_once("://").is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && !url.contains(char::is_whitespace)
            && matches!(scheme, "http" | "https" | "file" | "ftp")
    });
    if !ok {
        problems.add(
            at,
            format!("`{url}` is not an absolute URL"),
            "write a full URL such as https://example.org/ (WebPI rejects anything else)",
        );
    }
}

fn check_hosting(m: &Manifest, problems: &mut Problems) {
    let at = KeyPath::root().key("iis");
    if m.iis.hosting == super::model::Hosting::HttpPlatform {
        if m.python
            .as_ref()
            .and_then(|p| p.requirements.as_ref())
            .is_none()
        {
            problems.add(
                at.key("hosting"),
                "hosting = \"http-platform\" runs waitress from the wheelhouse, which needs [python] requirements",
                "add [python] with version and requirements (waitress is added to them)",
            );
        }
        if m.iis.wsgi_handler.is_none() {
            problems.add(
                at.key("hosting"),
                "hosting = \"http-platform\" needs [iis] wsgi-handler for waitress",
                "add wsgi-handler = \"app:app\"",
            );
        }
    }
    for (i, folder) in m.iis.static_folders.iter().enumerate() {
        if let Err(p) = crate::files::windows_path::check_relative(folder) {
            problems.add(
                at.key("static-folders").index(i),
                format!("not a folder of the app: {p}"),
                "give it relative to the app folder, with `/`",
            );
        }
    }
    for (url, folder) in &m.iis.static_urls {
        let at = at.key("static").key(url);
        let url_rel = url.trim_matches('/');
        if !url.starts_with('/') || url_rel.is_empty() {
            problems.add(
                at.clone(),
                format!("`{url}` is not a URL path below the app's"),
                "write it as the app's URLs start, as \"/static\"",
            );
        } else if let Err(p) = crate::files::windows_path::check_relative(url_rel) {
            problems.add(
                at.clone(),
                format!("`{url}` cannot be a folder: {p}"),
                "use a plain path",
            );
        }
        if let Err(p) = crate::files::windows_path::check_relative(folder.trim_matches('/')) {
            problems.add(
                at,
                format!("`{folder}` is not a folder of the project: {p}"),
                "give it relative to iiswsgi.toml, with `/`",
            );
        }
    }
    check_data_folders(m, problems);
}

fn check_data_folders(m: &Manifest, problems: &mut Problems) {
    let at = KeyPath::root().key("iis").key("data-folders");
    let fold = |f: &str| f.trim_matches('/').to_ascii_lowercase();
    let under =
        |inner: &str, outer: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
    let gateway_folder = m
        .gateway
        .as_ref()
        .and_then(|g| g.dest.rsplit_once('/').map(|(dir, _)| fold(dir)));
    for (i, folder) in m.iis.data_folders.iter().enumerate() {
        let here = fold(folder);
        if let Err(p) = crate::files::windows_path::check_relative(folder.trim_matches('/')) {
            problems.add(
                at.index(i),
                format!("not a folder of the app: {p}"),
                "give it relative to the app folder, with `/`, as \"instance\" or \"media/uploads\"",
            );
        } else if let Some(other) = m.iis.data_folders[..i]
            .iter()
            .find(|o| under(&here, &fold(o)) || under(&fold(o), &here))
        {
            problems.add(
                at.index(i),
                format!("`{folder}` overlaps data folder `{other}`"),
                "name each data folder once",
            );
        } else if let Some(s) = m.iis.static_folders.iter().find(|s| {
            let s = fold(s);
            under(&here, &s) || under(&s, &here)
        }) {
            problems.add(
                at.index(i),
                format!("`{folder}` overlaps static folder `{s}`: IIS would serve what the app writes there"),
                "keep what the app writes apart from what IIS serves",
            );
        } else if gateway_folder
            .as_deref()
            .is_some_and(|g| under(g, &here) || under(&here, g))
        {
            problems.add(
                at.index(i),
                format!(
                    "`{folder}` holds the gateway (`[gateway] dest`), which every deploy replaces"
                ),
                "choose another folder for the app's data",
            );
        }
    }
}

fn check_build(m: &Manifest, problems: &mut Problems) {
    for (i, run) in m.build.run.iter().enumerate() {
        let at = KeyPath::root().key("build").key("run").index(i);
        if run.command.trim().is_empty() {
            problems.add(
                at.key("command"),
                "the build command is empty",
                "write the command line, as command = \"python manage.py collectstatic --noinput\"",
            );
        }
        if let Some(text) = &run.timeout
            && let Err(e) = super::duration::seconds(text)
        {
            problems.add(
                at.key("timeout"),
                format!("timeout {text:?}: {e}"),
                "write a number and a unit: \"90s\", \"10m\", \"1h\"",
            );
        }
    }
}

fn check_verify(m: &Manifest, problems: &mut Problems) {
    for (i, spec) in m.verify.requests.iter().enumerate() {
        if let Err(e) = crate::verify::expectation::Expectation::parse(spec) {
            problems.add(
                KeyPath::root().key("verify").key("requests").index(i),
                e,
                "write PATH[=STATUS][:TEXT], as \"/=200:Welcome\" or \"/static/site.css=200\"",
            );
        }
    }
}

fn check_install(m: &Manifest, problems: &mut Problems) {
    let at = KeyPath::root().key("install");
    for (i, request) in m.install.test_requests.iter().enumerate() {
        let (path, status) = match request.rsplit_once('=') {
            Some((p, s)) if !p.contains('?') => (p, Some(s)),
            _ => (request.as_str(), None),
        };
        let status_ok = status.is_none_or(|s| {
            s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) && ("100".."600").contains(&s)
        });
        if !path.starts_with('/') || !status_ok || request.contains(';') {
            problems.add(
                at.key("test-requests").index(i),
                format!("{request:?} is not a self-test request"),
                "write a path, or a path and the status it must answer: \"/\", \"/health=200\"",
            );
        }
    }
    for (i, run) in m.install.run.iter().enumerate() {
        let at = at.key("run").index(i);
        if run.command.trim().is_empty() {
            problems.add(
                at.key("command"),
                "the set-up command is empty",
                "write the command line, as command = \"python manage.py migrate --noinput\"",
            );
        }
        if let Some(text) = &run.timeout {
            if let Err(e) = super::duration::seconds(text) {
                problems.add(
                    at.key("timeout"),
                    format!("timeout {text:?}: {e}"),
                    "write a number and a unit: \"90s\", \"10m\", \"1h\"",
                );
            }
        }
        if run.success_codes.is_empty() {
            problems.add(
                at.key("success-codes"),
                "no exit code would mean success",
                "list at least one, as success-codes = [0]",
            );
        }
        for (j, code) in run.success_codes.iter().enumerate() {
            if !(i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(code) {
                problems.add(
                    at.key("success-codes").index(j),
                    format!("{code} is not an exit code"),
                    "exit codes fit in 32 bits",
                );
            }
        }
    }
    if !m.install.test && !m.install.test_requests.is_empty() {
        problems.add(
            at.key("test-requests"),
            "test-requests are given, but test = false turns the self-test off",
            "remove one of the two",
        );
    }
}

fn check_python(m: &Manifest, problems: &mut Problems) {
    let Some(py) = &m.python else { return };
    let at = KeyPath::root().key("python");
    let minor = py
        .version
        .strip_prefix("3.")
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|_| py.version.matches('.').count() == 1);
    match minor {
        None => problems.add(
            at.key("version"),
            format!("version {:?} is not a CPython 3 `major.minor`", py.version),
            "write it as version = \"3.12\"",
        ),
        Some(m) if m < 9 => problems.add(
            at.key("version"),
            format!(
                "Python {} is older than 3.9, the oldest the gateway embeds",
                py.version
            ),
            "use 3.9 or later",
        ),
        _ => {}
    }
    // No [gateway] check: a [python] app gets the built-in one (fill_in).
    if let Some(server) = &py.server
        && server.trim().is_empty()
    {
        problems.add(
            at.key("server"),
            "server is empty",
            "leave it out for the py launcher, or give the path of python.exe",
        );
    }
}

fn check_gateway(m: &Manifest, problems: &mut Problems) {
    let Some(g) = m.gateway.as_ref().filter(|g| !g.builtin) else {
        return;
    };
    let at = KeyPath::root().key("gateway");
    match (&g.path, &g.url) {
        (None, None) => problems.add(at.clone(), "[gateway] needs `path` or `url`", ""),
        (Some(_), Some(_)) => problems.add(
            at.key("url"),
            "[gateway] has both `path` and `url`",
            "keep one of them",
        ),
        (None, Some(url)) => {
            check_url(url, at.key("url"), problems);
            if g.sha256.is_none() {
                problems.add(
                    at.key("url"),
                    "a gateway `url` needs `sha256`",
                    "add sha256 = \"<64 hex digits>\" so the download can be verified",
                );
            }
        }
        (Some(_), None) => {}
    }
    if let Some(sum) = &g.sha256
        && !SHA256_HEX.is_match(sum)
    {
        problems.add(at.key("sha256"), "sha256 must be 64 hexadecimal digits", "");
    }
    if let Err(p) = windows_path::check_relative(&g.dest) {
        problems.add(
            at.key("dest"),
            format!("gateway dest is not a valid path: {p}"),
            "",
        );
    } else if !g.dest.to_ascii_lowercase().ends_with(".exe") {
        problems.add(
            at.key("dest"),
            "gateway dest must end in .exe",
            "IIS only starts FastCGI processes from executables",
        );
    }
}

fn check_run_commands(m: &Manifest, problems: &mut Problems) {
    for (i, rc) in m.run_command.iter().enumerate() {
        let at = KeyPath::root().key("run-command").index(i);
        if rc.command.trim().is_empty() {
            problems.add(at.key("command"), "command is empty", "");
        }
        for (j, code) in rc.success_return_codes.iter().flatten().enumerate() {
            if !RETURN_CODE.is_match(code) {
                problems.add(
                    at.key("success-return-codes").index(j),
                    format!("`{code}` is not an exit code"),
                    "write exit codes as msdeploy does, e.g. \"0x0\" or \"0x2\"",
                );
            }
        }
    }
}

fn check_parameters(parameters: &[Parameter], problems: &mut Problems) {
    let mut seen = HashSet::new();
    for (i, p) in parameters.iter().enumerate() {
        let at = KeyPath::root().key("parameters").index(i);
        if p.name.trim().is_empty() {
            problems.add(at.key("name"), "parameter name is empty", "");
        } else if !seen.insert(p.name.to_lowercase()) {
            problems.add(
                at.key("name"),
                format!("parameter `{}` is defined twice", p.name),
                "Web Deploy compares parameter names without regard to case",
            );
        }
        let hidden = p.tags.iter().any(|t| t.eq_ignore_ascii_case("hidden"));
        if hidden && p.default.is_none() {
            problems.add(
                at.key("default"),
                format!("hidden parameter `{}` needs a default", p.name),
                "Web Deploy never asks for hidden parameters; add `default = \"...\"`",
            );
        }
        match &p.validation {
            Some(Validation::Enumeration { values, .. }) => {
                let vat = at.key("validation").key("values");
                if values.is_empty() {
                    problems.add(vat.clone(), "an enumeration needs at least one value", "");
                }
                for (j, v) in values.iter().enumerate() {
                    if v.contains(',') {
                        problems.add(
                            vat.index(j),
                            format!("enumeration value `{v}` contains a comma"),
                            "Web Deploy separates values with commas and has no escape for them",
                        );
                    }
                }
                if let Some(default) = &p.default
                    && !values.contains(default)
                    && !default.contains('{')
                {
                    problems.add(
                        at.key("default"),
                        format!("default `{default}` is not one of the enumeration values"),
                        format!("use one of: {}", values.join(", ")),
                    );
                }
            }
            Some(Validation::RegularExpression { pattern, .. }) => {
                let vat = at.key("validation").key("pattern");
                if let Some(e) = regex_problem(pattern) {
                    problems.add(vat, format!("invalid regular expression: {e}"), "");
                } else if let (Some(default), Ok(re)) = (&p.default, Regex::new(pattern))
                    && !default.contains('{')
                    && !re.is_match(default)
                {
                    problems.add(
                        at.key("default"),
                        format!("default `{default}` does not match the validation pattern"),
                        "",
                    );
                }
            }
            Some(Validation::Boolean) => {
                if let Some(d) = &p.default
                    && !d.eq_ignore_ascii_case("true")
                    && !d.eq_ignore_ascii_case("false")
                {
                    problems.add(
                        at.key("default"),
                        format!("default `{d}` of a boolean parameter is not True or False"),
                        "",
                    );
                }
            }
            Some(Validation::AllowEmpty) | None => {}
        }
        for (j, e) in p.entries.iter().enumerate() {
            let eat = at.key("entries").index(j);
            let scope_is_regex = matches!(
                e.kind,
                EntryKind::TextFile | EntryKind::XmlFile | EntryKind::TextFilePosition
            );
            if e.scope.is_empty() {
                problems.add(eat.key("scope"), "scope is empty", "");
            } else if scope_is_regex && let Some(err) = regex_problem(&e.scope) {
                problems.add(
                    eat.key("scope"),
                    format!("scope is not a valid regular expression: {err}"),
                    "scope is a regex on file paths, e.g. '\\\\web\\.config$'",
                );
            }
            match e.kind {
                EntryKind::ProviderPath | EntryKind::TextFile => {
                    if let Some(err) = regex_problem(&e.r#match) {
                        problems.add(
                            eat.key("match"),
                            format!("match is not a valid regular expression: {err}"),
                            "",
                        );
                    }
                }
                EntryKind::TextFilePosition if !TEXT_FILE_POSITION.is_match(&e.r#match) => problems
                    .add(
                        eat.key("match"),
                        "a text-file-position match is `line;column;length`",
                        "",
                    ),
                _ => {}
            }
        }
    }
}

/// Why `pattern` is not a regex Web Deploy (.NET) would accept, if we can
/// tell. .NET features the `regex` crate lacks (look-around,
/// backreferences) are given the benefit of the doubt.
fn regex_problem(pattern: &str) -> Option<String> {
    match Regex::new(pattern) {
        Ok(_) => None,
        Err(regex::Error::Syntax(msg)) => {
            if msg.contains("look-around") || msg.contains("backreferences") {
                None
            } else {
                // The crate's message is multi-line with its own caret; the
                // last line is the reason.
                Some(
                    msg.lines()
                        .last()
                        .unwrap_or(&msg)
                        .trim()
                        .trim_start_matches("error: ")
                        .to_string(),
                )
            }
        }
        Err(e) => Some(e.to_string()),
    }
}

fn check_relative_paths(m: &Manifest, problems: &mut Problems) {
    let root = KeyPath::root();
    for (i, map) in m.files.map.iter().enumerate() {
        if let Err(p) = windows_path::check_relative(&map.dest) {
            problems.add(
                root.key("files").key("map").index(i).key("dest"),
                format!("dest is not a valid package path: {p}"),
                "dest is relative to the app folder and uses `/`",
            );
        }
    }
    for (i, acl) in m.set_acl.iter().enumerate() {
        if !acl.path.is_empty()
            && let Err(p) = windows_path::check_relative(&acl.path)
        {
            problems.add(
                root.key("set-acl").index(i).key("path"),
                format!("path is not valid: {p}"),
                "path is relative to the app folder; use \"\" for the folder itself",
            );
        }
        if acl.access.trim().is_empty() {
            problems.add(
                root.key("set-acl").index(i).key("access"),
                "access is empty",
                "e.g. access = \"Modify\" or \"Write, ReadAndExecute\"",
            );
        }
    }
    for (i, alias) in m.alias.iter().enumerate() {
        for (key, value) in [("from", &alias.from), ("to", &alias.to)] {
            if let Err(p) = windows_path::check_relative(value) {
                problems.add(
                    root.key("alias").index(i).key(key),
                    format!("{key} is not a valid path: {p}"),
                    "",
                );
            }
        }
    }
    if let Some(path) = &m.iis.application_path
        && (path.trim().is_empty() || path.starts_with('/'))
    {
        problems.add(
            root.key("iis").key("application-path"),
            "application-path must name a site, e.g. \"Default Web Site/MyApp\"",
            "",
        );
    }
}

fn check_feed_and_publish(m: &Manifest, problems: &mut Problems) {
    let root = KeyPath::root();
    if let Some(feed) = &m.feed {
        if let Some(url) = &feed.url {
            check_url(url, root.key("feed").key("url"), problems);
        }
        if let Some(template) = &feed.package_url {
            static PLACEHOLDER: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r"\{([^}]*)\}").expect("valid regex"));
            for caps in PLACEHOLDER.captures_iter(template) {
                if !matches!(&caps[1], "name" | "version" | "file" | "sha256") {
                    problems.add(
                        root.key("feed").key("package-url"),
                        format!("unknown placeholder `{{{}}}` in package-url", &caps[1]),
                        "use {name}, {version}, {file} or {sha256}",
                    );
                }
            }
        }
    }
    if let Some(feed) = &m.feed {
        check_feed_entries(feed, problems);
    }
    if let Some(publish) = &m.publish {
        let scheme = publish.target.split_once("://").map(|(s, _)| s);
        if !matches!(scheme, Some("file" | "http" | "https" | "s3" | "az")) {
            problems.add(
                root.key("publish").key("target"),
                format!("`{}` is not a supported publish target", publish.target),
                "use file://, http(s)://, s3://bucket/prefix or az://container/prefix",
            );
        }
    }
    if let Some(ws) = &m.workspace
        && ws.members.is_empty()
    {
        problems.add(
            root.key("workspace").key("members"),
            "a workspace needs at least one member",
            "",
        );
    }
}

/// Shapes of the feed's dependencies, products and links. Whether every
/// `{ ref = ... }` resolves is checked once the whole workspace is loaded
/// ([`super::workspace`]), because a member refers to its root's definitions.
fn check_feed_entries(feed: &super::model::Feed, problems: &mut Problems) {
    use super::dependency_rules::{self as rules, PRODUCT_ID};
    let at = KeyPath::root().key("feed");
    let mut found = Vec::new();
    rules::check_list(
        &feed.dependencies,
        &at.key("dependencies"),
        None,
        &mut found,
    );
    rules::check_definitions(&feed.definitions, &at.key("definitions"), &mut found);
    for (i, p) in feed.products.iter().enumerate() {
        let here = at.key("products").index(i);
        if !PRODUCT_ID.is_match(&p.product_id) {
            problems.add(
                here.key("product-id"),
                format!("`{}` is not a WebPI product id", p.product_id),
                "use one word of letters, digits, `.`, `_` and `-`",
            );
        }
        if p.command.trim().is_empty() {
            problems.add(
                here.key("command"),
                "command is empty",
                "name the program to run",
            );
        }
        for (key, value) in [("command", &p.command), ("arguments", &p.arguments)] {
            if value.contains(['\n', '\r']) {
                problems.add(
                    here.key(key),
                    format!("{key} spans several lines"),
                    "WebPI runs install commands as one line; join them",
                );
            }
        }
        if let Some(url) = &p.homepage {
            check_url(url, here.key("homepage"), problems);
        }
        rules::check_list(&p.dependencies, &here.key("dependencies"), None, &mut found);
    }
    for (i, id) in feed.related.iter().enumerate() {
        if !PRODUCT_ID.is_match(id) {
            problems.add(
                at.key("related").index(i),
                format!("`{id}` is not a WebPI product id"),
                "use one word of letters, digits, `.`, `_` and `-`",
            );
        }
    }
    if let Some(page) = &feed.start_page
        && (!page.starts_with('/') || page.contains(char::is_whitespace))
    {
        problems.add(
            at.key("start-page"),
            format!("start-page `{page}` is not a path inside the app"),
            "write it from the app's root, e.g. \"/\" or \"/setup\"",
        );
    }
    if let Some(name) = &feed.name
        && (!PRODUCT_ID.is_match(name) || windows_path::check_component(name).is_err())
    {
        problems.add(
            at.key("name"),
            format!("feed name `{name}` cannot be a file name"),
            "use letters, digits, `.`, `_` and `-`",
        );
    }
    for p in found {
        problems.add(p.at, p.message, p.help);
    }
}
