//! Any iiswsgi.toml text must load or fail with a diagnostic that renders:
//! never a panic, including in miette's rendering of the error's spans.
#![no_main]

use std::path::Path;

use iiswsgi::manifest::load::from_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = from_text(Path::new("iiswsgi.toml"), text.into()) {
        let _ = format!("{:?}", miette::Report::new(e));
    }
});
