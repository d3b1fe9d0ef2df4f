use std::path::{Path, PathBuf};

use crate::cli::BuildArgs;
use crate::error::Error;
use crate::manifest::Project;
use crate::report::Reporter;

/// The output folder: `--out-dir` (relative to the current folder) or
/// `dist/` beside iiswsgi.toml.
pub fn out_dir(project: &Project, arg: Option<&Path>) -> PathBuf {
    match arg {
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
        None => project.root.join(crate::files::DEFAULT_OUT_DIR),
    }
}

pub fn run(project: &Project, args: &BuildArgs, reporter: &Reporter) -> Result<(), Error> {
    let out = out_dir(project, args.out_dir.as_deref());
    let plan = crate::plan::plan(project, &out)?;
    for w in &plan.warnings {
        reporter.warning(w);
    }
    if args.plan {
        reporter.plan(&plan);
        return Ok(());
    }
    let epoch = crate::package::source_date_epoch()?;
    reporter.verbose(&format!("entry timestamps from Unix time {epoch}"));
    let progress = reporter.progress();
    let report = crate::package::write(&plan, &out, epoch, progress.as_ref())?;
    reporter.package(&report);
    Ok(())
}
