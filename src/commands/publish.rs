use crate::cli::PublishArgs;
use crate::error::Error;
use crate::manifest::Loaded;
use crate::publish::PublishRequest;
use crate::report::Reporter;

pub fn run(loaded: &Loaded, args: &PublishArgs, reporter: &Reporter) -> Result<(), Error> {
    let request = PublishRequest {
        target: args.target.clone(),
        dry_run: args.dry_run,
        force: args.force,
        packages_dir: args.out_dir.clone(),
        merge: args.merge.clone(),
    };
    let timestamp = crate::package::source_date_epoch_or_now()?;
    let spinner = reporter.spinner();
    let reports = crate::publish::run(loaded, &request, timestamp, &mut |object| {
        spinner.suspend(|| reporter.published(object));
    });
    spinner.finish_and_clear();
    reporter.publish_summary(&reports?);
    Ok(())
}
