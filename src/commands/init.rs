use crate::cli::{InitArgs, InitFramework, InitHosting};
use crate::error::Error;
use crate::init::{Framework, InitRequest};
use crate::manifest::model::Hosting;
use crate::report::Reporter;

pub fn run(args: &InitArgs, reporter: &Reporter) -> Result<(), Error> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().map_err(|source| Error::Io {
            path: ".".into(),
            source,
        })?,
    };
    let request = InitRequest {
        dir,
        framework: args.framework.map(|f| match f {
            InitFramework::Flask => Framework::Flask,
            InitFramework::Django => Framework::Django,
            InitFramework::Pyramid => Framework::Pyramid,
        }),
        hosting: args.hosting.map(|h| match h {
            InitHosting::Fastcgi => Hosting::Fastcgi,
            InitHosting::HttpPlatform => Hosting::HttpPlatform,
        }),
        yes: args.yes,
        print: args.print,
        python_version: args.python_version.clone(),
    };
    let report = crate::init::run(&request)?;
    if args.print {
        print!("{}", report.text);
        return Ok(());
    }
    let written: Vec<String> = report
        .written
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    reporter.status(
        "Wrote",
        &format!("{} ({} app)", written.join(", "), report.framework.name()),
    );
    for note in &report.notes {
        reporter.warning(&format!("todo: {note}"));
    }
    reporter.status("Next", "iiswsgi build");
    Ok(())
}
