//! The values templates see: the validated manifest (snake_case keys) plus
//! what iiswsgi derives from it (package paths, provider options).

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::manifest::Project;
use crate::msdeploy::parameters_xml::join;

/// One `[[run-command]]` after rendering, as Manifest.xml needs it.
#[derive(Debug, Clone, Serialize)]
pub struct RunCommandView {
    /// The command line with its template expanded.
    pub command: String,
    pub settings: Vec<Setting>,
    /// The `MSDeploy.MSDeployProviderOptions` value.
    pub provider_options: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub name: String,
    pub value: String,
}

/// The context without rendered run-commands: what run-command lines see.
pub fn base(project: &Project) -> Json {
    let mut ctx = serde_json::to_value(&project.manifest).expect("the manifest serializes");
    let folder = project.app_folder().to_string();
    if let Some(app) = ctx.get_mut("app").and_then(Json::as_object_mut) {
        app.insert("folder".into(), Json::String(folder.clone()));
    }
    // Paths as they appear inside the package.
    for acl in array(&mut ctx, "set_acl") {
        let path = acl["path"].as_str().unwrap_or_default().to_string();
        acl["package_path"] = Json::String(join(&folder, &path));
    }
    for alias in array(&mut ctx, "alias") {
        for (key, package_key) in [("from", "package_from"), ("to", "package_to")] {
            let path = alias[key].as_str().unwrap_or_default().to_string();
            alias[package_key] = Json::String(join(&folder, &path));
        }
    }
    for (script, model) in array(&mut ctx, "sql").zip(&project.manifest.sql) {
        script["package_path"] = Json::String(model.package_path().unwrap_or_default().to_string());
    }
    if let Some(py) = &project.manifest.python {
        ctx["python"]["server_command"] =
            Json::String(crate::msdeploy::install_command::server_python(py));
    }
    ctx["iiswsgi"] = json!({ "version": env!("CARGO_PKG_VERSION") });
    ctx
}

/// The full context: `base` plus the rendered run-commands.
pub fn full(mut base: Json, run_commands: &[RunCommandView]) -> minijinja::Value {
    base["run_command"] = serde_json::to_value(run_commands).expect("views serialize");
    minijinja::Value::from_serialize(&base)
}

fn array<'a>(ctx: &'a mut Json, key: &str) -> impl Iterator<Item = &'a mut Json> {
    ctx.get_mut(key)
        .and_then(Json::as_array_mut)
        .into_iter()
        .flatten()
}
