//! The documents rendered from minijinja templates: Manifest.xml, web.config
//! and iis_install.stamp.
//!
//! Built-in templates live in `templates/` and are compiled into the binary;
//! `[templates]` in iiswsgi.toml replaces any of them with a project file.
//! Undefined variables are errors (a typo must not render as an empty
//! string), and every value interpolated into an `.xml` or `.config`
//! document is XML-escaped.

pub mod context;
pub mod install_file;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

use crate::manifest::{ConfigError, KeyPath, Project};

/// A document iiswsgi renders from a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Manifest,
    WebConfig,
    InstallStamp,
}

impl Document {
    pub const ALL: [Document; 3] = [
        Document::Manifest,
        Document::WebConfig,
        Document::InstallStamp,
    ];

    /// The built-in template's name (also its file name under `templates/`).
    pub fn template_name(self) -> &'static str {
        match self {
            Document::Manifest => "Manifest.xml.j2",
            Document::WebConfig => "web.config.j2",
            Document::InstallStamp => "iis_install.stamp.j2",
        }
    }

    /// The file name of the rendered document in the package.
    pub fn file_name(self) -> &'static str {
        match self {
            Document::Manifest => "Manifest.xml",
            Document::WebConfig => "web.config",
            Document::InstallStamp => "iis_install.stamp",
        }
    }

    /// Whether the document sits at the package root (else in the app folder).
    pub fn at_package_root(self) -> bool {
        matches!(self, Document::Manifest)
    }

    fn builtin_source(self) -> &'static str {
        match self {
            Document::Manifest => include_str!("../../templates/Manifest.xml.j2"),
            Document::WebConfig => include_str!("../../templates/web.config.j2"),
            Document::InstallStamp => include_str!("../../templates/iis_install.stamp.j2"),
        }
    }

    fn override_key(self) -> &'static str {
        match self {
            Document::Manifest => "manifest",
            Document::WebConfig => "web-config",
            Document::InstallStamp => "install-stamp",
        }
    }
}

/// Where a template's text came from, for error messages.
#[derive(Debug, Clone)]
struct TemplateSource {
    display: PathBuf,
    text: Arc<str>,
}

/// The template environment of one project.
pub struct Renderer {
    env: Environment<'static>,
    sources: Vec<(String, TemplateSource)>,
}

const XML_ESCAPE: AutoEscape = AutoEscape::Custom("xml");
/// Name under which one-off strings (run-command lines) are compiled.
const INLINE: &str = "<inline>";

impl Renderer {
    /// Loads the built-in templates and the project's overrides.
    pub fn new(project: &Project) -> Result<Renderer, ConfigError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_debug(true);
        env.set_auto_escape_callback(|name| {
            let name = name.strip_suffix(".j2").unwrap_or(name);
            if name.ends_with(".xml") || name.ends_with(".config") {
                XML_ESCAPE
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == XML_ESCAPE && !value.is_safe() {
                let text = value.to_string();
                out.write_str(&crate::xml_escape::escape(&text))
                    .map_err(|e| minijinja::Error::new(ErrorKind::WriteFailure, e.to_string()))
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env.add_filter("windows_path", |s: String| s.replace('/', "\\"));

        let mut renderer = Renderer {
            env,
            sources: Vec::new(),
        };
        let overrides = &project.manifest.templates;
        for doc in Document::ALL {
            let custom = match doc {
                Document::Manifest => &overrides.manifest,
                Document::WebConfig => &overrides.web_config,
                Document::InstallStamp => &overrides.install_stamp,
            };
            let source = match custom {
                Some(path) => {
                    let full = project.root.join(path);
                    let text = std::fs::read_to_string(&full).map_err(|e| {
                        project
                            .error_at(
                                &KeyPath::root().key("templates").key(doc.override_key()),
                                format!("cannot read template `{}`: {e}", path.display()),
                            )
                            .with_help("the path is relative to iiswsgi.toml")
                    })?;
                    TemplateSource {
                        display: display_path(project, path),
                        text: text.into(),
                    }
                }
                None => TemplateSource {
                    display: PathBuf::from(format!("<built-in>/templates/{}", doc.template_name())),
                    text: doc.builtin_source().into(),
                },
            };
            renderer.add(doc.template_name(), source)?;
        }
        Ok(renderer)
    }

    fn add(&mut self, name: &'static str, source: TemplateSource) -> Result<(), ConfigError> {
        self.env
            .add_template_owned(name, source.text.to_string())
            .map_err(|e| template_error(&source, &e))?;
        self.sources.push((name.to_string(), source));
        Ok(())
    }

    /// Renders one document with `ctx`.
    pub fn render(&self, doc: Document, ctx: &Value) -> Result<String, ConfigError> {
        let name = doc.template_name();
        let tmpl = self
            .env
            .get_template(name)
            .expect("all documents are added in new()");
        tmpl.render(ctx).map_err(|e| {
            let source = self
                .sources
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
                .expect("every template has a source");
            template_error(&source, &e)
        })
    }

    /// Renders a template string taken from iiswsgi.toml (e.g. a run-command
    /// line). Errors point at the string in iiswsgi.toml.
    pub fn render_inline(
        &self,
        project: &Project,
        at: &KeyPath,
        text: &str,
        ctx: &Value,
    ) -> Result<String, ConfigError> {
        let mut env = self.env.clone();
        let compiled = env
            .add_template_owned(INLINE, text.to_string())
            .and_then(|_| env.get_template(INLINE)?.render(ctx));
        compiled.map_err(|e| {
            project
                .error_at(
                    at,
                    format!("template error in this string: {}", describe(&e, text)),
                )
                .with_help("values are written as {{ app.name }}; see the README for the variables")
        })
    }
}

fn display_path(project: &Project, path: &Path) -> PathBuf {
    let manifest_dir = project.manifest_path.parent().unwrap_or(Path::new(""));
    manifest_dir.join(path)
}

/// What went wrong, naming the variable for undefined values.
fn describe(e: &minijinja::Error, text: &str) -> String {
    let snippet = e
        .range()
        .and_then(|r| text.get(r))
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (e.kind(), snippet) {
        (ErrorKind::UndefinedError, Some(expr)) => format!("undefined variable `{expr}`"),
        (_, _) => match e.detail() {
            Some(detail) => format!("{}: {detail}", e.kind()),
            None => e.kind().to_string(),
        },
    }
}

fn template_error(source: &TemplateSource, e: &minijinja::Error) -> ConfigError {
    let span = e.range().or_else(|| {
        // Without a range, point at the start of the reported line.
        let line = e.line()?;
        let start: usize = source
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        let len = source.text[start..]
            .find('\n')
            .unwrap_or(source.text.len() - start);
        Some(start..start + len)
    });
    let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
    ConfigError::at(
        &source.display,
        &source.text,
        span,
        format!(
            "template `{}`{line}: {}",
            source.display.display(),
            describe(e, &source.text)
        ),
    )
    .with_help("templates see the validated project: app, files, gateway, iis, parameters, run_command, ...")
}
