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
    // One byte bar per upload under the spinner, on a terminal only.
    let bars = indicatif::MultiProgress::new();
    let spinner = bars.add(spinner);
    let show = !spinner.is_hidden();
    let progress = |key: &str| {
        if !show {
            return indicatif::ProgressBar::hidden();
        }
        let bar = bars.add(indicatif::ProgressBar::new(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "  {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(key.to_string());
        bar
    };
    let reports = crate::publish::run(
        loaded,
        &request,
        timestamp,
        &mut |object| {
            bars.suspend(|| reporter.published(object));
        },
        &progress,
    );
    spinner.finish_and_clear();
    reporter.publish_summary(&reports?);
    Ok(())
}
