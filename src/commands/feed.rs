use crate::cli::FeedArgs;
use crate::error::Error;
use crate::feed::FeedRequest;
use crate::manifest::Loaded;
use crate::report::Reporter;

pub fn run(loaded: &Loaded, args: &FeedArgs, reporter: &Reporter) -> Result<(), Error> {
    let request = FeedRequest {
        local: args.local,
        packages_dir: args.out_dir.clone(),
        out: args.out.clone(),
        merge: args.merge.clone(),
        default_urls: None,
    };
    write_and_report(loaded, &request, reporter)
}

/// Writes the feed, dated `SOURCE_DATE_EPOCH` (reproducible) or now.
pub fn write_and_report(
    loaded: &Loaded,
    request: &FeedRequest,
    reporter: &Reporter,
) -> Result<(), Error> {
    let timestamp = crate::package::source_date_epoch_or_now()?;
    let report = crate::feed::write(loaded, request, timestamp)?;
    if let Some(merge) = &report.merge {
        for w in &merge.warnings {
            reporter.warning(w);
        }
    }
    reporter.feed(&report, request.local);
    Ok(())
}
