//! Finding, reading and parsing iiswsgi.toml.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::diagnostic::{ConfigError, did_you_mean};
use super::model::Manifest;
use super::validate;

/// The file name searched for, like Cargo.toml.
pub const MANIFEST_FILE: &str = "iiswsgi.toml";

/// A parsed and validated iiswsgi.toml, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding iiswsgi.toml; every relative path is resolved against it.
    pub root: PathBuf,
    /// iiswsgi.toml itself, as it is shown in messages.
    pub manifest_path: PathBuf,
    /// Its text, for pointing at problems found later.
    pub source: Arc<str>,
    pub manifest: Manifest,
    /// The folder `[[files.map]]` sources must stay inside (unless a map
    /// opts out): this project's, or the workspace root's for a member.
    pub boundary: PathBuf,
}

impl Project {
    /// The `[app]` table. Validation guarantees it for non-workspace manifests.
    pub fn app(&self) -> &super::model::App {
        self.manifest
            .app
            .as_ref()
            .expect("validated manifests have an [app] table")
    }

    /// The folder inside the package holding the app.
    pub fn app_folder(&self) -> &str {
        self.app().folder.as_deref().unwrap_or(&self.app().name)
    }

    /// An error pointing at `path` in iiswsgi.toml.
    pub fn error_at(&self, path: &super::KeyPath, message: impl Into<String>) -> ConfigError {
        ConfigError::at(
            &self.manifest_path,
            &self.source,
            path.span_in(&self.source),
            message,
        )
    }
}

/// The manifest to use: `explicit` if given, else iiswsgi.toml in `start` or
/// the nearest parent folder that has one.
pub fn locate(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, ConfigError> {
    if let Some(path) = explicit {
        if path.is_dir() {
            return Ok(path.join(MANIFEST_FILE));
        }
        return Ok(path.to_path_buf());
    }
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(MANIFEST_FILE);
        if candidate.is_file() {
            // Shown in messages: keep it short when it is right here.
            return Ok(if d == start {
                PathBuf::from(MANIFEST_FILE)
            } else {
                candidate
            });
        }
        dir = d.parent();
    }
    Err(ConfigError::file(
        &start.join(MANIFEST_FILE),
        format!("could not find `{MANIFEST_FILE}` here or in any parent folder"),
    )
    .with_help("run `iiswsgi init` to create one, or pass --manifest-path"))
}

/// Reads, parses and validates the manifest at `path`.
pub fn load(path: &Path) -> Result<Project, ConfigError> {
    let text: Arc<str> = std::fs::read_to_string(path)
        .map_err(|e| {
            ConfigError::file(path, format!("cannot read: {e}"))
                .with_help("check the path given to --manifest-path")
        })?
        .into();
    from_text(path, text)
}

/// Parses and validates manifest text as if read from `path` (the fuzz
/// target's way in: no file is read).
pub fn from_text(path: &Path, text: Arc<str>) -> Result<Project, ConfigError> {
    let manifest = parse(path, &text)?;
    let root = std::path::absolute(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut project = Project {
        boundary: root.clone(),
        root,
        manifest_path: path.to_path_buf(),
        source: text,
        manifest,
    };
    validate::validate(&mut project)?;
    Ok(project)
}

/// Parses manifest text; syntax and type errors point at the text.
pub fn parse(path: &Path, text: &Arc<str>) -> Result<Manifest, ConfigError> {
    toml::from_str::<Manifest>(text).map_err(|e| {
        let (message, help) = explain(e.message());
        let err = ConfigError::at(path, text, e.span(), message);
        match help {
            Some(h) => err.with_help(h),
            None => err,
        }
    })
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a short
/// message and a "did you mean" hint.
fn explain(message: &str) -> (String, Option<String>) {
    static UNKNOWN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^unknown (field|variant) `([^`]*)`, expected (.*)$").expect("valid regex")
    });
    static QUOTED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"`([^`]*)`").expect("valid regex"));
    let message = message.trim();
    let Some(caps) = UNKNOWN.captures(message) else {
        if let Some(field) = message.strip_prefix("missing field ") {
            return (
                format!("missing required key {field}"),
                Some(format!("add {field} to this table")),
            );
        }
        return (message.to_string(), None);
    };
    let what = if &caps[1] == "field" { "key" } else { "value" };
    let word = &caps[2];
    let expected: Vec<&str> = QUOTED
        .captures_iter(&caps[3])
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let help = match did_you_mean(word, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "remove it".to_string(),
        None => format!(
            "expected one of {}",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    (format!("unknown {what} `{word}`"), Some(help))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_unknown_keys_with_the_closest_match() {
        let (msg, help) = explain(
            "unknown field `wait-intervl`, expected one of `command`, `wait-attempts`, `wait-interval`",
        );
        assert_eq!(msg, "unknown key `wait-intervl`");
        assert_eq!(help.as_deref(), Some("did you mean `wait-interval`?"));
        let (_, help) = explain("unknown field `zzz`, expected `name` or `version`");
        assert_eq!(help.as_deref(), Some("expected one of `name`, `version`"));
    }
}
