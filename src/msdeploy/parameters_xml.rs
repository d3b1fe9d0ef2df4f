//! Parameters.xml: the parameters Web Deploy asks for at install time.
//!
//! The user's `[[parameters]]` are written as given. Two kinds are generated
//! when the user did not write them, because a package without them installs
//! in the wrong place: the IisApp parameter that lets the installer choose the
//! site path, and one hidden parameter per `[[set-acl]]` so that the ACL
//! follows the app to wherever it was installed.

use std::fmt::Write as _;

use crate::manifest::Project;
use crate::manifest::model::{EntryKind, Parameter, ParameterEntry, Validation};
use crate::xml_escape::escape;

/// Name of the generated IisApp parameter (iiswsgi 0.3's name).
pub const APPLICATION_PATH: &str = "ApplicationPath";

/// The user's parameters plus the generated ones, in output order.
pub fn effective_parameters(project: &Project) -> Vec<Parameter> {
    let m = &project.manifest;
    let folder = project.app_folder();
    let mut out = Vec::new();
    let user_iis_app = m.parameters.iter().find(|p| targets_provider(p, "iisApp"));
    let iis_app_name = match user_iis_app {
        Some(p) => p.name.clone(),
        None => {
            let default = m.iis.application_path.clone().unwrap_or_default();
            out.push(Parameter {
                name: APPLICATION_PATH.to_string(),
                friendly_name: Some("Application Path".to_string()),
                description: Some(format!(
                    "Full site path where you would like to install your application (i.e., {default})"
                )),
                default: Some(default),
                tags: vec!["IisApp".to_string()],
                validation: None,
                entries: vec![ParameterEntry {
                    kind: EntryKind::ProviderPath,
                    scope: "iisApp".to_string(),
                    r#match: format!("^{}$", regex::escape(folder)),
                    tags: Vec::new(),
                }],
            });
            APPLICATION_PATH.to_string()
        }
    };
    out.extend(m.parameters.iter().cloned());
    if let (Some(py), Some(_)) = (&m.python, &m.gateway) {
        use crate::msdeploy::install_command::{self, INSTALL_PARAMETER, PYTHON_PARAMETER};
        if !m.parameters.iter().any(|p| p.name == PYTHON_PARAMETER) {
            out.push(Parameter {
                name: PYTHON_PARAMETER.to_string(),
                friendly_name: Some("Python on the server".to_string()),
                description: Some(format!(
                    "The Python {} the app runs on: `py -{}` (the py launcher) or the path of python.exe",
                    py.version, py.version
                )),
                default: Some(install_command::server_python(py)),
                tags: Vec::new(),
                validation: None,
                entries: vec![ParameterEntry {
                    kind: EntryKind::XmlFile,
                    scope: r"\\web\.config$".to_string(),
                    r#match: "/configuration/appSettings/add[@key='IISWSGI_PYTHON']/@value".to_string(),
                    tags: Vec::new(),
                }],
            });
        }
        let default_app = m.iis.application_path.clone().unwrap_or_default();
        let literal = install_command::command(project, &default_app);
        out.push(Parameter {
            name: INSTALL_PARAMETER.to_string(),
            friendly_name: None,
            description: Some(
                "Hidden - runs the gateway's install step for the application path chosen"
                    .to_string(),
            ),
            default: Some(install_command::command(
                project,
                &format!("{{{iis_app_name}}}"),
            )),
            tags: vec!["Hidden".to_string()],
            validation: None,
            entries: vec![ParameterEntry {
                kind: EntryKind::ProviderPath,
                scope: "runCommand".to_string(),
                r#match: format!("^{}$", regex::escape(&literal)),
                tags: Vec::new(),
            }],
        });
    }
    let user_set_acl = m.parameters.iter().any(|p| targets_provider(p, "setAcl"));
    if !user_set_acl {
        for (i, acl) in m.set_acl.iter().enumerate() {
            let package_path = join(folder, &acl.path);
            let relative = if acl.path.is_empty() {
                String::new()
            } else {
                format!("/{}", acl.path)
            };
            out.push(Parameter {
                name: format!("SetAclParameter{}", i + 1),
                friendly_name: None,
                description: Some(format!(
                    "Hidden - sets {} access on {}",
                    acl.access,
                    if acl.path.is_empty() {
                        "the application"
                    } else {
                        &acl.path
                    }
                )),
                default: Some(format!("{{{iis_app_name}}}{relative}")),
                tags: vec!["Hidden".to_string()],
                validation: None,
                entries: vec![ParameterEntry {
                    kind: EntryKind::ProviderPath,
                    scope: "setAcl".to_string(),
                    r#match: format!("^{}$", regex::escape(&package_path)),
                    tags: Vec::new(),
                }],
            });
        }
    }
    out
}

/// `folder/path`, or `folder` for an empty path.
pub fn join(folder: &str, path: &str) -> String {
    if path.is_empty() {
        folder.to_string()
    } else {
        format!("{folder}/{path}")
    }
}

/// Whether `p` relocates the given provider (by tag or by a ProviderPath entry).
fn targets_provider(p: &Parameter, provider: &str) -> bool {
    p.tags.iter().any(|t| t.eq_ignore_ascii_case(provider))
        || p.entries
            .iter()
            .any(|e| e.kind == EntryKind::ProviderPath && e.scope.eq_ignore_ascii_case(provider))
}

/// Renders Parameters.xml.
pub fn render(parameters: &[Parameter]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<parameters>\n");
    for p in parameters {
        out.push_str("  <parameter");
        attr(&mut out, "name", &p.name);
        opt_attr(&mut out, "friendlyName", p.friendly_name.as_deref());
        opt_attr(&mut out, "description", p.description.as_deref());
        opt_attr(&mut out, "defaultValue", p.default.as_deref());
        if !p.tags.is_empty() {
            attr(&mut out, "tags", &p.tags.join(","));
        }
        if p.validation.is_none() && p.entries.is_empty() {
            out.push_str(" />\n");
            continue;
        }
        out.push_str(">\n");
        if let Some(v) = &p.validation {
            let (kind, string) = validation(v);
            out.push_str("    <parameterValidation");
            attr(&mut out, "kind", &kind);
            opt_attr(&mut out, "validationString", string.as_deref());
            out.push_str(" />\n");
        }
        for e in &p.entries {
            out.push_str("    <parameterEntry");
            attr(&mut out, "kind", entry_kind(e.kind));
            attr(&mut out, "scope", &e.scope);
            attr(&mut out, "match", &e.r#match);
            if !e.tags.is_empty() {
                attr(&mut out, "tags", &e.tags.join(","));
            }
            out.push_str(" />\n");
        }
        out.push_str("  </parameter>\n");
    }
    out.push_str("</parameters>\n");
    out
}

fn validation(v: &Validation) -> (String, Option<String>) {
    let with_empty = |kind: &str, allow: bool| {
        if allow {
            format!("{kind},AllowEmpty")
        } else {
            kind.to_string()
        }
    };
    match v {
        Validation::AllowEmpty => ("AllowEmpty".to_string(), None),
        Validation::Boolean => ("Boolean".to_string(), None),
        Validation::Enumeration {
            values,
            allow_empty,
        } => (
            with_empty("Enumeration", *allow_empty),
            Some(values.join(",")),
        ),
        Validation::RegularExpression {
            pattern,
            allow_empty,
        } => (
            with_empty("RegularExpression", *allow_empty),
            Some(pattern.clone()),
        ),
    }
}

/// The name Web Deploy uses for an entry kind.
pub fn entry_kind(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::ProviderPath => "ProviderPath",
        EntryKind::TextFile => "TextFile",
        EntryKind::TextFilePosition => "TextFilePosition",
        EntryKind::XmlFile => "XmlFile",
    }
}

fn attr(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, " {name}=\"{}\"", escape(value));
}

fn opt_attr(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        attr(out, name, v);
    }
}
