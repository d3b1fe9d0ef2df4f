//! Issue #2: the real Manifest.xml / Parameters.xml files in
//! shared/fixtures/msdeploy/webapp are reproduced in substance when their
//! content is written as iiswsgi.toml (tests/data/webapp/<fixture>/).
//!
//! "In substance" means after the normalisation msdeploy itself applies:
//! element and kind names compared without case, `kind` and `type` as
//! synonyms, tag lists as sets, provider options compared by their decoded
//! settings, and providers as a set (the fixtures order them freely).

mod common;

use std::collections::BTreeMap;

use iiswsgi::plan::EntrySource;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
}

fn parse(text: &str) -> Element {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text.trim_start_matches('\u{feff}'));
    let mut stack = vec![Element {
        name: "#document".into(),
        attrs: BTreeMap::new(),
        children: vec![],
    }];
    let element = |e: &quick_xml::events::BytesStart| Element {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.unescape_value().unwrap().into_owned(),
                )
            })
            .collect(),
        children: vec![],
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(element(&e)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap().children.remove(0)
}

fn tags(value: Option<&String>) -> Vec<String> {
    let mut t: Vec<String> = value
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    t.sort();
    t
}

/// One parameter, normalised.
fn parameter(p: &Element) -> String {
    let a = |k: &str| p.attrs.get(k).cloned().unwrap_or_default();
    // Some SDK packages write `value` instead of `defaultValue`.
    let default = p
        .attrs
        .get("defaultValue")
        .or(p.attrs.get("value"))
        .cloned()
        .unwrap_or_default();
    let mut out = format!(
        "name={:?} friendly={:?} description={:?} default={:?} tags={:?}",
        a("name"),
        a("friendlyName"),
        a("description"),
        default,
        tags(p.attrs.get("tags"))
    );
    for c in &p.children {
        let kind = c
            .attrs
            .get("kind")
            .or(c.attrs.get("type"))
            .cloned()
            .unwrap_or_default()
            .to_lowercase();
        match c.name.as_str() {
            "parameterValidation" => {
                out += &format!(
                    "\n  validation kind={kind:?} string={:?}",
                    c.attrs.get("validationString").cloned().unwrap_or_default()
                )
            }
            "parameterEntry" => {
                out += &format!(
                    "\n  entry kind={kind:?} scope={:?} match={:?} tags={:?}",
                    c.attrs["scope"].to_lowercase(),
                    c.attrs["match"],
                    tags(c.attrs.get("tags"))
                )
            }
            other => panic!("unexpected <{other}>"),
        }
    }
    out
}

/// The providers of a manifest, normalised and sorted.
fn providers(root: &Element) -> Vec<String> {
    let mut out: Vec<String> = root
        .children
        .iter()
        .map(|e| {
            let mut attrs = e.attrs.clone();
            let options = attrs.remove("MSDeploy.MSDeployProviderOptions");
            attrs.remove("MSDeploy.MSDeployKeyAttributeName");
            let settings = options
                .map(|o| {
                    iiswsgi::msdeploy::provider_options::decode(&o)
                        .unwrap()
                        .settings
                })
                .unwrap_or_default();
            // Plain attributes that are provider settings are compared with the blob's.
            let plain: BTreeMap<String, String> = attrs
                .iter()
                .filter(|(k, _)| {
                    iiswsgi::msdeploy::run_command::SETTING_NAMES.contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for k in plain.keys() {
                attrs.remove(k);
            }
            if !plain.is_empty() {
                let blob: BTreeMap<String, String> = settings.iter().cloned().collect();
                assert_eq!(
                    plain, blob,
                    "attributes and provider options of <{}> agree",
                    e.name
                );
            }
            format!(
                "{} {:?} settings={:?}",
                e.name.to_lowercase(),
                attrs,
                settings
            )
        })
        .collect();
    out.sort();
    out
}

fn rendered(project: &iiswsgi::manifest::Project, name: &str) -> String {
    let out = tempfile::tempdir().unwrap();
    let plan = iiswsgi::plan::plan(project, out.path(), 2).unwrap();
    let entry = plan.entries.iter().find(|e| e.name == name).unwrap();
    match &entry.source {
        EntrySource::Rendered { bytes, .. } => String::from_utf8(bytes.to_vec()).unwrap(),
        other => panic!("{name} is {other:?}"),
    }
}

fn check(fixture: &str, manifest_file: &str, parameters_file: &str) {
    let project = iiswsgi::manifest::load(&common::repo(&format!(
        "tests/data/webapp/{fixture}/iiswsgi.toml"
    )))
    .unwrap_or_else(|e| panic!("{fixture}: {e:?}"));
    let dir = common::fixture(&format!("msdeploy/webapp/{fixture}"));

    let theirs = parse(&std::fs::read_to_string(dir.join(parameters_file)).unwrap());
    let ours = parse(&rendered(&project, "Parameters.xml"));
    let theirs: Vec<String> = theirs.children.iter().map(parameter).collect();
    let ours: Vec<String> = ours.children.iter().map(parameter).collect();
    assert_eq!(
        ours.join("\n"),
        theirs.join("\n"),
        "{fixture}: Parameters.xml"
    );

    let theirs = providers(&parse(
        &std::fs::read_to_string(dir.join(manifest_file)).unwrap(),
    ));
    let ours = providers(&parse(&rendered(&project, "Manifest.xml")));
    assert_eq!(
        ours.join("\n"),
        theirs.join("\n"),
        "{fixture}: Manifest.xml"
    );
}

#[test]
fn iisdocs_vacationpics() {
    check("iisdocs-vacationpics", "manifest.xml", "parameters.xml");
}

#[test]
fn iisdocs_wordpress_sample() {
    check("iisdocs-wordpress-sample", "manifest.xml", "parameters.xml");
}

#[test]
fn iiswsgi_sample() {
    check("iiswsgi-sample", "Manifest.xml", "Parameters.xml");
}

#[test]
fn plone_runcommand() {
    // The fixture's runCommands carry no provider options (msdeploy then
    // uses its defaults); ours always do, with no settings: same substance.
    check("plone-runcommand", "Manifest.xml", "Parameters.xml");
}

#[test]
fn every_webapp_fixture_has_a_test() {
    let mut fixtures: Vec<String> = std::fs::read_dir(common::fixture("msdeploy/webapp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    fixtures.sort();
    assert_eq!(
        fixtures,
        [
            "iisdocs-vacationpics",
            "iisdocs-wordpress-sample",
            "iiswsgi-sample",
            "plone-runcommand"
        ]
    );
}
