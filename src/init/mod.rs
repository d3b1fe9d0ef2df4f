//! `iiswsgi init`: from an existing Flask, Django or Pyramid project to an
//! iiswsgi.toml that builds at once.
//!
//! It detects the framework and its WSGI handler (`detect`), asks on a
//! terminal (defaults with `--yes`, in CI, or without a terminal), writes
//! a commented iiswsgi.toml (`manifest_text`) and any files the framework
//! needs, and never overwrites an existing iiswsgi.toml. The gateway is
//! not written: builds bundle iiswsgi's own (`gateway::builtin`).

pub mod detect;
pub mod manifest_text;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::manifest::model::Hosting;
pub use detect::Framework;

#[derive(Debug, Clone)]
pub struct InitRequest {
    pub dir: PathBuf,
    pub framework: Option<Framework>,
    pub hosting: Option<Hosting>,
    pub yes: bool,
    pub print: bool,
    /// `[python] version`: the server's Python.
    pub python_version: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InitError {
    #[error("{} already exists; iiswsgi init never overwrites it", .0.display())]
    #[diagnostic(
        code(iiswsgi::init),
        help(
            "edit it, or remove it and run iiswsgi init again (--print shows what init would write)"
        )
    )]
    Exists(PathBuf),
    #[error(transparent)]
    #[diagnostic(
        code(iiswsgi::init),
        help(
            "choose with --framework flask|django|pyramid, or write iiswsgi.toml by hand (see the README)"
        )
    )]
    Detect(#[from] detect::DetectError),
    #[error("{}: {source}", path.display())]
    #[diagnostic(code(iiswsgi::init))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A name Web Deploy accepts (letters, digits, `.`, `_`, `-`).
fn product_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches(['-', '.', '_']).to_string();
    if name.is_empty() { "App".into() } else { name }
}

fn ask(question: &str, default: &str) -> String {
    eprint!("{question} [{default}]: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let answer = line.trim();
    if answer.is_empty() {
        default.to_string()
    } else {
        answer.to_string()
    }
}

/// What `init` wrote (or would write, with `print`).
pub struct InitReport {
    pub manifest: PathBuf,
    pub text: String,
    pub written: Vec<PathBuf>,
    pub framework: Framework,
    pub notes: Vec<String>,
}

pub fn run(request: &InitRequest) -> Result<InitReport, InitError> {
    let manifest = request.dir.join(crate::manifest::MANIFEST_FILE);
    if manifest.exists() && !request.print {
        return Err(InitError::Exists(manifest));
    }
    let detected = detect::detect(&request.dir, request.framework)?;
    let interactive = !request.yes
        && !request.print
        && std::io::stdin().is_terminal()
        && std::env::var("CI").is_err();
    let mut name = product_name(&request.dir);
    let mut hosting = request.hosting.unwrap_or_default();
    if interactive {
        eprintln!(
            "Found a {} app: {} (WSGI_HANDLER {}).",
            detected.framework.name(),
            detected.evidence.join("; "),
            detected.handler
        );
        name = ask("Package name", &name);
        if request.hosting.is_none() {
            let h = ask(
                "Hosting: fastcgi (the bundled gateway) or http-platform (waitress)",
                "fastcgi",
            );
            hosting = if h == "http-platform" {
                Hosting::HttpPlatform
            } else {
                Hosting::Fastcgi
            };
        }
    }
    let text = manifest_text::render(&name, &detected, hosting, &request.python_version);
    let mut written = Vec::new();
    if !request.print {
        let write =
            |path: PathBuf, bytes: &[u8], written: &mut Vec<PathBuf>| -> Result<(), InitError> {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| InitError::Io {
                        path: parent.to_owned(),
                        source,
                    })?;
                }
                let tmp = path.with_extension("init-tmp");
                std::fs::write(&tmp, bytes)
                    .and_then(|_| std::fs::rename(&tmp, &path))
                    .map_err(|source| InitError::Io {
                        path: path.clone(),
                        source,
                    })?;
                written.push(path);
                Ok(())
            };
        for (file, content) in &detected.extra_files {
            let path = request.dir.join(file);
            if !path.exists() {
                write(path, content.as_bytes(), &mut written)?;
            }
        }
        // Last: iiswsgi.toml exists only once everything it names does.
        write(manifest.clone(), text.as_bytes(), &mut written)?;
    }
    Ok(InitReport {
        manifest,
        text,
        written,
        framework: detected.framework,
        notes: detected.notes,
    })
}
