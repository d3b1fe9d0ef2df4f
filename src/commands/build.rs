use std::path::Path;

use crate::cli::BuildArgs;
use crate::error::Error;
use crate::files::Listed;
use crate::manifest::{Loaded, Project};
use crate::package::Outcome;
use crate::plan::BuildPlan;
use crate::report::Reporter;

/// Builds every app (one, or each workspace member in turn), then the feed
/// if asked.
pub fn run(loaded: &Loaded, args: &BuildArgs, reporter: &Reporter) -> Result<(), Error> {
    for project in &loaded.apps {
        build_one(project, args, reporter)?;
    }
    if args.feed {
        let request = crate::feed::FeedRequest {
            local: args.local,
            packages_dir: args.out_dir.clone(),
            ..Default::default()
        };
        super::feed::write_and_report(loaded, &request, reporter)?;
    }
    Ok(())
}

fn build_one(project: &Project, args: &BuildArgs, reporter: &Reporter) -> Result<(), Error> {
    let out = crate::package::out_dir(project, args.out_dir.as_deref());
    let threads = crate::package::ordered_pool::threads(args.jobs);
    // The project's build steps make files the selection then takes; a
    // plan only lists what is there.
    if !args.plan {
        crate::build_steps::run(project, reporter)?;
    }
    let plan = crate::plan::plan(project, &out, threads)?;
    for w in &plan.warnings {
        reporter.warning(w);
    }
    let deploy_files = crate::deploy_files::files(project, &plan.package_file);
    if args.plan {
        let beside: Vec<_> = deploy_files.iter().map(|f| out.join(&f.name)).collect();
        reporter.plan(&plan, &beside);
        return Ok(());
    }
    reporter.left_out(&plan);
    let epoch = crate::package::source_date_epoch()?;
    reporter.verbose(&format!("entry timestamps from Unix time {epoch}"));
    let progress = reporter.progress();
    let options = crate::package::WriteOptions {
        threads: Some(threads),
        force: args.force,
    };
    match crate::package::write(&plan, &out, epoch, options, progress.as_ref())? {
        Outcome::Built { report, copied } => {
            reporter.package(&report, false);
            if copied > 0 {
                reporter.verbose(&format!(
                    "{copied} unchanged files' deflated bytes were copied from the previous package"
                ));
            }
        }
        Outcome::Fresh(report) => reporter.package(&report, true),
    }
    // Beside the package, written anew as the package's checksum is (a few
    // kilobytes; with the permissions of this build's umask).
    for f in &deploy_files {
        let path = out.join(&f.name);
        crate::package::write_atomically(&path, f.text.as_bytes())?;
        reporter.deploy_file(&path);
    }
    let skips = crate::msdeploy::skip_rules::skip_rules(&project.manifest);
    if !skips.is_empty() {
        reporter.status(
            "Redeploy",
            &format!(
                "keep the data folders: msdeploy -verb:sync ... {}",
                skips.join(" ")
            ),
        );
    }
    save_listing(&plan, &out, reporter)?;
    // Freeing a plan entry by entry takes a few milliseconds per 10,000
    // files, a good part of a no-op build: let another thread do it (the
    // process may well exit first, which frees it all at once).
    std::thread::spawn(move || drop(plan));
    Ok(())
}

/// Keeps the walk's listing for the next build (files/listing_cache.rs),
/// or removes a stale one that cannot be replaced, so that the next build
/// does not check it in vain.
fn save_listing(plan: &BuildPlan, out: &Path, reporter: &Reporter) -> Result<(), Error> {
    let path = crate::files::listing_cache::path(out, &plan.package_file);
    match &plan.listed {
        Listed::FromCache => {
            reporter.verbose("no folder changed since the last build: its listing was reused");
            Ok(())
        }
        Listed::Walked(Ok(text)) => {
            reporter.verbose("listed the tree; the listing is kept for the next build");
            crate::package::write_atomically(&path, text.as_bytes())
        }
        Listed::Walked(Err(why)) => {
            reporter.verbose(&format!(
                "listed the tree; not kept for the next build: {why}"
            ));
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::Io { path, source: e })
                }
                _ => Ok(()),
            }
        }
    }
}
