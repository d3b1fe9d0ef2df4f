//! The parameter engine of `verify` (issue #14) on the real Parameters.xml
//! files of shared/fixtures/msdeploy: each is read, resolves with a
//! SetParameters.xml that sets every parameter to a valid value (written
//! in Microsoft's format), and with its defaults where the package's
//! authors gave every required parameter one; and Microsoft's own
//! SetParameters.xml files apply to their packages.

mod common;

use iiswsgi::verify::parameters::{
    Declared, ParameterError, parse_declared, parse_set_parameters, resolve,
};

const FIXTURES: &[&str] = &[
    "webapp/iiswsgi-sample/Parameters.xml",
    "webapp/iisdocs-vacationpics/parameters.xml",
    "webapp/iisdocs-wordpress-sample/parameters.xml",
    "webapp/plone-runcommand/Parameters.xml",
    "archive/sitecore-sat-template/single.parameters.xml",
    "archive/webdeploy2-package/parameters.xml",
    "archive/dirpath-package/parameters.xml",
    "archive/iisdocs-controlpanel-wd1/parameters.xml",
    "archive/dotnet-sdk-package/WSD_Project_C2004V_4.Parameters.xml",
    "archive/dotnet-sdk-package/parameters.xml",
    "archive/vs-wpp-package/CSAutoParameterize.parameters.xml",
    "archive/vs-wpp-package/parameters.xml",
];

fn declared(rel: &str) -> Vec<Declared> {
    let text = std::fs::read_to_string(common::fixture(&format!("msdeploy/{rel}"))).unwrap();
    parse_declared(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A value each parameter's validation accepts.
fn valid_value(d: &Declared) -> String {
    let v = &d.validation;
    let has = |k: &str| v.kinds.iter().any(|x| x.eq_ignore_ascii_case(k));
    if has("Boolean") {
        "True".into()
    } else if has("Enumeration") {
        v.string
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .next()
            .unwrap_or_default()
            .to_string()
    } else if has("RegularExpression") {
        // A value long and varied enough for the fixtures' patterns.
        "Abcdefgh1234567890xyz".into()
    } else {
        format!("value-of-{}", d.name)
    }
}

/// A SetParameters.xml (Microsoft's format) setting every parameter.
fn set_parameters_xml(decl: &[Declared]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<parameters>\n");
    for d in decl {
        x.push_str(&format!(
            "  <setParameter name=\"{}\" value=\"{}\" />\n",
            esc(&d.name),
            esc(&valid_value(d))
        ));
    }
    x.push_str("</parameters>\n");
    x
}

#[test]
fn every_fixture_resolves_with_a_set_parameters_file_that_sets_everything() {
    for rel in FIXTURES {
        let decl = declared(rel);
        assert!(!decl.is_empty(), "{rel}: no parameters read");
        let given = parse_set_parameters(&set_parameters_xml(&decl)).unwrap();
        let values = resolve(&decl, &given).unwrap_or_else(|e| panic!("{rel}: {e}"));
        for (d, (name, value)) in decl.iter().zip(&values) {
            assert_eq!(&d.name, name);
            assert_eq!(value, &valid_value(d), "{rel}: {name}");
        }
    }
}

#[test]
fn fixtures_resolve_with_their_defaults_or_name_the_parameter_that_needs_one() {
    let mut with_defaults = 0;
    for rel in FIXTURES {
        let decl = declared(rel);
        match resolve(&decl, &[]) {
            Ok(values) => {
                with_defaults += 1;
                // Every {reference} in a default was expanded.
                for (name, value) in &values {
                    for d in &decl {
                        assert!(
                            !value.contains(&format!("{{{}}}", d.name)),
                            "{rel}: {name} = {value}"
                        );
                    }
                }
            }
            Err(ParameterError::Missing(name)) => {
                let d = decl.iter().find(|d| d.name == name).unwrap();
                assert!(
                    d.default.is_none() || d.default.as_deref() == Some(""),
                    "{rel}: {name} has a default"
                );
            }
            Err(e) => panic!("{rel}: {e}"),
        }
    }
    assert!(
        with_defaults >= 6,
        "most fixtures carry a default for every parameter ({with_defaults})"
    );
}

#[test]
fn references_follow_the_values_given_as_in_the_wordpress_sample() {
    let decl = declared("webapp/iisdocs-wordpress-sample/parameters.xml");
    let given = vec![
        ("ApplicationPath".to_string(), "Contoso/blog".to_string()),
        ("DatabaseServer".to_string(), "db.example".to_string()),
    ];
    let mut all = parse_set_parameters(&set_parameters_xml(&decl)).unwrap();
    all.retain(|(n, _)| {
        !decl
            .iter()
            .any(|d| d.name == *n && d.default.as_deref().is_some_and(|v| v.contains('{')))
    });
    all.extend(given);
    let values = resolve(&decl, &all).unwrap();
    let get = |n: &str| {
        values
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .unwrap()
    };
    assert_eq!(get("SetAclParameter1"), "Contoso/blog/wp-content");
    assert_eq!(
        get("Automatic DatabaseServer"),
        r"define\('DB_HOST', 'db.example'\);"
    );
}

#[test]
fn microsofts_own_set_parameters_files_apply_to_their_packages() {
    for (params, set) in [
        (
            "archive/vs-wpp-package/parameters.xml",
            "archive/vs-wpp-package/project.SetParameters.xml",
        ),
        (
            "archive/dotnet-sdk-package/WSD_Project_C2004V_4.Parameters.xml",
            "archive/dotnet-sdk-package/WSD_Project_C2004V_4.SetParameters.xml",
        ),
    ] {
        let decl = declared(params);
        let text = std::fs::read_to_string(common::fixture(&format!("msdeploy/{set}"))).unwrap();
        let given = parse_set_parameters(&text).unwrap();
        assert!(!given.is_empty(), "{set}");
        let values = resolve(&decl, &given).unwrap_or_else(|e| panic!("{set}: {e}"));
        for (name, value) in &given {
            assert_eq!(
                values.iter().find(|(n, _)| n == name).map(|(_, v)| v),
                Some(value),
                "{set}: {name}"
            );
        }
    }
}
