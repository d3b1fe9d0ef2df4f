use std::io::Write;
use std::path::Path;

use serde_json::json;

use crate::error::Error;
use crate::report::{MessageFormat, Reporter};

pub fn run(path: &Path, reporter: &Reporter) -> Result<(), Error> {
    let report = crate::inspect::inspect(path)?;
    if reporter.format == MessageFormat::Json {
        let mut out = std::io::stdout().lock();
        for e in &report.entries {
            let _ = writeln!(out, "{}", json!({"reason": "zip-entry", "entry": e}));
        }
        for p in &report.providers {
            let _ = writeln!(
                out,
                "{}",
                json!({"reason": "provider-options", "provider": p})
            );
        }
        let _ = writeln!(
            out,
            "{}",
            json!({"reason": "inspected", "path": path, "sha256": report.sha256, "sha256-file-matches": report.sha256_file_matches, "gateway": report.gateway})
        );
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    if !report.entries.is_empty() {
        let _ = writeln!(
            out,
            "{} entries in {}:",
            report.entries.len(),
            path.display()
        );
        for e in &report.entries {
            let _ = writeln!(
                out,
                "  {:<8} {:>10} {:>10}  {}",
                e.method, e.size, e.compressed_size, e.name
            );
        }
    }
    if let Some(sum) = &report.sha256 {
        let verdict = match report.sha256_file_matches {
            Some(true) => " (matches the .sha256 file)",
            Some(false) => " (DOES NOT match the .sha256 file)",
            None => "",
        };
        let _ = writeln!(out, "sha256: {sum}{verdict}");
    }
    if let Some(g) = &report.gateway {
        let _ = writeln!(
            out,
            "gateway: {} sha256 {}{}",
            g.name,
            g.sha256,
            if g.built_in {
                format!(" ({})", crate::gateway::builtin::DISPLAY)
            } else {
                String::new()
            }
        );
    }
    for p in &report.providers {
        let _ = writeln!(
            out,
            "<{}> in {}{}",
            p.element,
            p.document,
            p.element_path
                .as_ref()
                .map(|v| format!(", path=\"{v}\""))
                .unwrap_or_default()
        );
        if let Some(err) = &p.error {
            let _ = writeln!(out, "  warning: {err}");
            continue;
        }
        let _ = writeln!(
            out,
            "  providerName: {}",
            p.provider_name.as_deref().unwrap_or("")
        );
        let _ = writeln!(out, "  path: {}", p.path.as_deref().unwrap_or(""));
        let _ = writeln!(
            out,
            "  library: {}{}",
            p.library.as_deref().unwrap_or(""),
            p.web_deploy.map(|w| format!(" ({w})")).unwrap_or_default()
        );
        if p.settings.is_empty() {
            let _ = writeln!(out, "  settings: (none)");
        }
        for (name, value) in &p.settings {
            let _ = writeln!(out, "  {name}={value}");
        }
        for d in &p.disagreements {
            let _ = writeln!(out, "  warning: {d}");
        }
    }
    if report.sha256_file_matches == Some(false) {
        return Err(Error::Inspect(format!(
            "{} does not match its .sha256 file",
            path.display()
        )));
    }
    Ok(())
}
