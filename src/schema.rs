//! The JSON Schema of iiswsgi.toml, generated from the model so it cannot
//! drift; `schema/iiswsgi.schema.json` is a committed copy checked by a test.

use crate::manifest::Manifest;

/// The schema as pretty-printed JSON with a trailing newline.
pub fn manifest_schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}
