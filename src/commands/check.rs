use crate::error::Error;
use crate::manifest::Loaded;
use crate::report::Reporter;

/// Validates the manifest (every member of a workspace), renders every
/// template and selects the files, exactly as `build` would, and writes
/// nothing.
pub fn run(loaded: &Loaded, reporter: &Reporter) -> Result<(), Error> {
    for project in &loaded.apps {
        let out = crate::package::out_dir(project, None);
        let plan = crate::plan::plan(project, &out, crate::package::ordered_pool::threads(None))?;
        for w in &plan.warnings {
            reporter.warning(w);
        }
        reporter.status(
            "Checked",
            &format!(
                "{} ({} entries)",
                project.manifest_path.display(),
                plan.entries.len()
            ),
        );
    }
    Ok(())
}
