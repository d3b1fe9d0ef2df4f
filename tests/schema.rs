//! schema/iiswsgi.schema.json is generated from the manifest model; this
//! test fails when the committed copy differs, so the schema editors use
//! cannot drift from what iiswsgi accepts. Regenerate with
//! `IISWSGI_BLESS=1 cargo test --test schema` (or `iiswsgi schema`).

mod common;

#[test]
fn committed_schema_matches_the_model() {
    let path = common::repo("schema/iiswsgi.schema.json");
    let generated = iiswsgi::schema::manifest_schema();
    if std::env::var_os("IISWSGI_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == generated,
        "schema/iiswsgi.schema.json is stale: run `IISWSGI_BLESS=1 cargo test --test schema`"
    );
}

#[test]
fn every_table_rejects_unknown_keys() {
    let schema: serde_json::Value =
        serde_json::from_str(&iiswsgi::schema::manifest_schema()).unwrap();
    fn walk(v: &serde_json::Value, path: &str, bad: &mut Vec<String>) {
        if let Some(obj) = v.as_object() {
            if obj.get("type") == Some(&"object".into())
                && obj.contains_key("properties")
                && obj.get("additionalProperties") != Some(&false.into())
                && !obj.contains_key("unevaluatedProperties")
            {
                bad.push(path.to_string());
            }
            for (k, child) in obj {
                walk(child, &format!("{path}/{k}"), bad);
            }
        } else if let Some(arr) = v.as_array() {
            for (i, child) in arr.iter().enumerate() {
                walk(child, &format!("{path}/{i}"), bad);
            }
        }
    }
    let mut bad = Vec::new();
    walk(&schema, "", &mut bad);
    assert!(bad.is_empty(), "objects open to unknown keys: {bad:?}");
}

#[test]
fn examples_use_only_keys_the_schema_knows() {
    // Every key of each example manifest appears in the schema's properties.
    let schema = iiswsgi::schema::manifest_schema();
    for example in ["pyramid", "flask", "django", common::LEGACY_PYRAMID] {
        let text = std::fs::read_to_string(common::project(example).join("iiswsgi.toml")).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        fn keys(v: &toml::Value, out: &mut Vec<String>) {
            match v {
                toml::Value::Table(t) => {
                    for (k, child) in t {
                        out.push(k.clone());
                        // [iis] static's keys are URL paths, user data.
                        if k != "static" {
                            keys(child, out);
                        }
                    }
                }
                toml::Value::Array(a) => a.iter().for_each(|c| keys(c, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        keys(&value, &mut all);
        for k in all {
            if k.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                continue; // app-settings keys are user data
            }
            assert!(
                schema.contains(&format!("\"{k}\"")),
                "{example}: key `{k}` missing from the schema"
            );
        }
    }
}
