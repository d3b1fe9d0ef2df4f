//! What commands tell the user: human lines on stderr (results on stdout),
//! or one JSON object per line on stdout with `--message-format json`.

use std::io::{IsTerminal, Write};

use serde_json::json;

use crate::manifest::ConfigError;
use crate::package::{PackageReport, Progress};
use crate::plan::BuildPlan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
}

/// Where and how messages go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reporter {
    pub format: MessageFormat,
    pub verbosity: Verbosity,
}

impl Reporter {
    pub fn json(&self, value: serde_json::Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
    }

    /// A status line ("Built ...") for people; nothing in JSON mode or with -q.
    pub fn status(&self, verb: &str, message: &str) {
        if self.format == MessageFormat::Human && self.verbosity >= Verbosity::Normal {
            eprintln!("{verb:>12} {message}");
        }
    }

    /// Detail shown with -v.
    pub fn verbose(&self, message: &str) {
        if self.format == MessageFormat::Human && self.verbosity >= Verbosity::Verbose {
            eprintln!("{:>12} {message}", "Note");
        }
    }

    pub fn warning(&self, message: &str) {
        match self.format {
            MessageFormat::Json => {
                self.json(json!({"reason": "diagnostic", "level": "warning", "message": message}))
            }
            MessageFormat::Human if self.verbosity >= Verbosity::Normal => {
                eprintln!("warning: {message}")
            }
            MessageFormat::Human => {}
        }
    }

    /// Every entry of a plan, then its documents, then the files written
    /// beside the package (`beside`).
    pub fn plan(&self, plan: &BuildPlan, beside: &[std::path::PathBuf]) {
        match self.format {
            MessageFormat::Json => {
                for e in &plan.entries {
                    self.json(json!({
                        "reason": "plan-entry",
                        "name": e.name,
                        "source": e.source.describe(),
                        "kind": match e.source {
                            crate::plan::EntrySource::Directory => "folder",
                            crate::plan::EntrySource::File { .. } => "file",
                            crate::plan::EntrySource::Rendered { .. } => "rendered",
                        },
                        "size": e.size,
                    }));
                }
                for (path, why) in &plan.left_out {
                    self.json(json!({"reason": "left-out", "path": path, "why": why}));
                }
                for path in beside {
                    self.json(
                        json!({"reason": "plan-artifact", "kind": "deploy-file", "path": path}),
                    );
                }
                self.json(json!({"reason": "plan", "package": plan.package_file, "entries": plan.entries.len()}));
            }
            MessageFormat::Human => {
                let mut out = std::io::stdout().lock();
                let width = plan
                    .entries
                    .iter()
                    .map(|e| e.source.describe().len())
                    .max()
                    .unwrap_or(0);
                for e in &plan.entries {
                    let _ = writeln!(
                        out,
                        "{:<width$}  ->  {}  ({} bytes)",
                        e.source.describe(),
                        e.name,
                        e.size
                    );
                }
                let _ = writeln!(
                    out,
                    "{} entries in {}",
                    plan.entries.len(),
                    plan.package_file
                );
                self.left_out_to(&mut out, plan);
                for path in beside {
                    let _ = writeln!(out, "beside it: {}", path.display());
                }
            }
        }
    }

    /// What the include globs matched and the build left out, and why
    /// (`--plan`, and `build -v`).
    pub fn left_out(&self, plan: &BuildPlan) {
        if self.format == MessageFormat::Human && self.verbosity >= Verbosity::Verbose {
            self.left_out_to(&mut std::io::stderr().lock(), plan);
        }
    }

    fn left_out_to(&self, out: &mut dyn Write, plan: &BuildPlan) {
        if plan.left_out.is_empty() {
            return;
        }
        let _ = writeln!(out, "left out ({}):", plan.left_out.len());
        let width = plan
            .left_out
            .iter()
            .map(|(p, _)| p.len())
            .max()
            .unwrap_or(0);
        for (path, why) in &plan.left_out {
            let _ = writeln!(out, "  {path:<width$}  {why}");
        }
    }

    /// A file written beside the package for administrators
    /// (deploy_files.rs).
    pub fn deploy_file(&self, path: &std::path::Path) {
        match self.format {
            MessageFormat::Json => self.json(json!({
                "reason": "artifact",
                "kind": "deploy-file",
                "path": path,
            })),
            MessageFormat::Human => self.verbose(&format!("wrote {}", path.display())),
        }
    }

    /// The package written, or found `fresh` (up to date, not rewritten).
    pub fn package(&self, report: &PackageReport, fresh: bool) {
        match self.format {
            MessageFormat::Json => self.json(json!({
                "reason": "artifact",
                "kind": "msdeploy-package",
                "fresh": fresh,
                "path": report.path,
                "sha256-file": report.sha256_path,
                "entries": report.entries,
                "size": report.size,
                "sha1": report.sha1,
                "sha256": report.sha256,
                "gateway": report.gateway,
            })),
            MessageFormat::Human => {
                self.status(
                    if fresh { "Fresh" } else { "Built" },
                    &format!(
                        "{} ({} entries, {} bytes{})",
                        report.path.display(),
                        report.entries,
                        report.size,
                        if fresh {
                            "; up to date, use --force to rebuild"
                        } else {
                            ""
                        }
                    ),
                );
                if self.verbosity >= Verbosity::Normal {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{}", report.path.display());
                    let _ = writeln!(out, "  sha1    {}", report.sha1);
                    let _ = writeln!(out, "  sha256  {}", report.sha256);
                    let _ = writeln!(out, "  size    {}", report.size);
                    if let Some(g) = &report.gateway {
                        let _ = writeln!(out, "  gateway {} (sha256 {})", g.source, g.sha256);
                    }
                }
            }
        }
    }

    /// The feed written. With `local`, its `file:///` URL goes to stdout to
    /// paste into Web Platform Installer (Options → Custom Feeds).
    pub fn feed(&self, report: &crate::feed::FeedReport, local: bool) {
        match self.format {
            MessageFormat::Json => self.json(json!({
                "reason": "artifact",
                "kind": "webpi-feed",
                "path": report.path,
                "url": report.url,
                "entries": report.entries.iter().map(|e| json!({
                    "product-id": e.product_id,
                    "installer-url": e.installer_url,
                    "size": e.package.size,
                    "sha1": e.package.sha1,
                })).collect::<Vec<_>>(),
                "merged": report.merge.as_ref().map(|m| json!({
                    "replaced": m.replaced, "added": m.added, "kept": m.kept,
                })),
            })),
            MessageFormat::Human => {
                let what = match &report.merge {
                    Some(m) => format!(
                        "{} (merged: {} replaced, {} added, {} other entries kept)",
                        report.path.display(),
                        m.replaced.len(),
                        m.added.len(),
                        m.kept
                    ),
                    None => format!(
                        "{} ({} {})",
                        report.path.display(),
                        report.entries.len(),
                        if report.entries.len() == 1 {
                            "entry"
                        } else {
                            "entries"
                        }
                    ),
                };
                self.status("Wrote", &what);
                if self.verbosity >= Verbosity::Normal {
                    let mut out = std::io::stdout().lock();
                    if local {
                        let _ = writeln!(
                            out,
                            "Add this feed in Web Platform Installer (Options > Custom Feeds):"
                        );
                    }
                    let _ = writeln!(out, "{}", report.url);
                }
            }
        }
    }

    /// One object `publish` settled.
    pub fn published(&self, object: &crate::publish::ObjectReport) {
        match self.format {
            MessageFormat::Json => self.json(json!({
                "reason": "published",
                "location": object.location,
                "action": object.action,
                "size": object.size,
                "sha256": object.sha256,
            })),
            MessageFormat::Human => {
                let verb = match object.action {
                    "uploaded" => "Uploaded",
                    "replaced" => "Replaced",
                    "skipped" => "Unchanged",
                    _ => "Would upload",
                };
                self.status(
                    verb,
                    &format!(
                        "{} ({} bytes, sha256 {})",
                        object.location, object.size, object.sha256
                    ),
                );
            }
        }
    }

    /// The closing line of `publish`.
    pub fn publish_summary(&self, objects: &[crate::publish::ObjectReport]) {
        let count = |action: &str| objects.iter().filter(|o| o.action == action).count();
        let line = format!(
            "{} uploaded, {} replaced, {} unchanged{}",
            count("uploaded"),
            count("replaced"),
            count("skipped"),
            match count("would upload") {
                0 => String::new(),
                n => format!(", {n} would be uploaded (dry run)"),
            }
        );
        match self.format {
            MessageFormat::Json => {
                self.json(json!({"reason": "publish-finished", "summary": line}))
            }
            MessageFormat::Human => self.status("Published", &line),
        }
    }

    /// A spinner on a terminal's stderr while uploads run; hidden otherwise.
    pub fn spinner(&self) -> indicatif::ProgressBar {
        if self.format == MessageFormat::Human
            && self.verbosity >= Verbosity::Normal
            && std::io::stderr().is_terminal()
        {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message("publishing");
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        }
    }

    /// An error, as a JSON diagnostic (human errors are rendered by miette in main).
    pub fn json_error(&self, error: &crate::Error) {
        if let crate::Error::Config(config) = error {
            for e in config.all() {
                self.json(config_json(e));
            }
        } else {
            self.json(json!({
                "reason": "diagnostic",
                "level": "error",
                "message": error.to_string(),
                "help": miette::Diagnostic::help(error).map(|h| h.to_string()),
            }));
        }
    }

    /// A progress bar on a terminal's stderr; nothing otherwise.
    pub fn progress(&self) -> Box<dyn Progress> {
        if self.format == MessageFormat::Human
            && self.verbosity >= Verbosity::Normal
            && std::io::stderr().is_terminal()
        {
            Box::new(Bar(indicatif::ProgressBar::hidden()))
        } else {
            Box::new(crate::package::NoProgress)
        }
    }
}

fn config_json(e: &ConfigError) -> serde_json::Value {
    let (line, column) = e.line_column().unzip();
    json!({
        "reason": "diagnostic",
        "level": "error",
        "code": "iiswsgi::config",
        "message": e.message,
        "file": e.file,
        "line": line,
        "column": column,
        "help": e.help,
    })
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
        self.0
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.0.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} zipping [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
