//! The Web Deploy parameter engine, as msdeploy resolves parameters at
//! install: declared in Parameters.xml, valued from SetParameters.xml and
//! `-setParam` over their defaults, `{OtherParameter}` references
//! expanded, each value validated (AllowEmpty, Boolean, Enumeration,
//! RegularExpression). Reference: shared/reference/msdeploy-package.md §5.
//!
//! Plain data in, plain data out; applying the values to files is
//! elsewhere. Names, kinds, scopes and tags compare without regard to case,
//! as msdeploy does (working packages spell them `iisapp`, `IisApp`, ...).

use crate::xml_tree::{Document, Element};

/// One `<parameterEntry>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// ProviderPath, TextFile, TextFilePosition, XmlFile (as written).
    pub kind: String,
    pub scope: String,
    pub r#match: String,
}

/// One `<parameterValidation>`: its kinds (`RegularExpression,allowEmpty`)
/// and validationString.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Validation {
    pub kinds: Vec<String>,
    pub string: Option<String>,
}

impl Validation {
    fn has(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k.eq_ignore_ascii_case(kind))
    }
}

/// One `<parameter>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub name: String,
    /// `defaultValue`, or `value` as SDK-made packages write it.
    pub default: Option<String>,
    pub tags: Vec<String>,
    pub validation: Validation,
    pub entries: Vec<Entry>,
}

impl Declared {
    pub fn hidden(&self) -> bool {
        self.tags.iter().any(|t| t.eq_ignore_ascii_case("Hidden"))
    }
}

/// A value that cannot be used, with msdeploy's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    #[error("Parameters.xml: {0}")]
    Malformed(String),
    #[error("SetParameters: {0}")]
    MalformedSet(String),
    #[error(
        "the parameter '{0}' is not declared in the package (its Parameters.xml has no such parameter)"
    )]
    Undeclared(String),
    #[error(
        "the parameter '{0}' has no value: it has no default, and none was given (SetParameters.xml or --set-param {0}=VALUE)"
    )]
    Missing(String),
    #[error("the value of parameter '{name}' is not valid: '{value}' {why}")]
    Invalid {
        name: String,
        value: String,
        why: String,
    },
    #[error("the default of parameter '{0}' refers to itself through {{...}} references")]
    Cycle(String),
}

fn attribute<'a>(e: &'a Element, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        e.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    })
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Reads Parameters.xml (a web app's or an archive's `parameters.xml`).
pub fn parse_declared(text: &str) -> Result<Vec<Declared>, ParameterError> {
    let doc = Document::parse(text).map_err(|e| ParameterError::Malformed(e.to_string()))?;
    if !doc.root.name.eq_ignore_ascii_case("parameters") {
        return Err(ParameterError::Malformed(format!(
            "the root element is <{}>, not <parameters>",
            doc.root.name
        )));
    }
    let mut out: Vec<Declared> = Vec::new();
    for p in doc
        .root
        .elements()
        .filter(|e| e.name.eq_ignore_ascii_case("parameter"))
    {
        let name = attribute(p, &["name"])
            .ok_or_else(|| ParameterError::Malformed("a <parameter> has no name".into()))?
            .to_string();
        if out.iter().any(|d| d.name.eq_ignore_ascii_case(&name)) {
            return Err(ParameterError::Malformed(format!(
                "the parameter '{name}' is declared twice"
            )));
        }
        let mut validation = Validation::default();
        let mut entries = Vec::new();
        for child in p.elements() {
            if child.name.eq_ignore_ascii_case("parameterValidation") {
                validation.kinds =
                    split_list(attribute(child, &["kind", "type"]).unwrap_or_default());
                validation.string = attribute(child, &["validationString"]).map(str::to_string);
            } else if child.name.eq_ignore_ascii_case("parameterEntry") {
                entries.push(Entry {
                    kind: attribute(child, &["kind", "type"])
                        .unwrap_or_default()
                        .to_string(),
                    scope: attribute(child, &["scope"]).unwrap_or_default().to_string(),
                    r#match: attribute(child, &["match"]).unwrap_or_default().to_string(),
                });
            }
        }
        out.push(Declared {
            default: attribute(p, &["defaultValue", "value"]).map(str::to_string),
            tags: split_list(attribute(p, &["tags"]).unwrap_or_default()),
            name,
            validation,
            entries,
        });
    }
    Ok(out)
}

/// Reads a SetParameters.xml: `<parameters><setParameter name= value=/>`.
pub fn parse_set_parameters(text: &str) -> Result<Vec<(String, String)>, ParameterError> {
    let doc = Document::parse(text).map_err(|e| ParameterError::MalformedSet(e.to_string()))?;
    let mut out = Vec::new();
    for s in doc
        .root
        .elements()
        .filter(|e| e.name.eq_ignore_ascii_case("setParameter"))
    {
        let name = attribute(s, &["name"])
            .ok_or_else(|| ParameterError::MalformedSet("a <setParameter> has no name".into()))?;
        let value = attribute(s, &["value"]).ok_or_else(|| {
            ParameterError::MalformedSet(format!("<setParameter name=\"{name}\"> has no value"))
        })?;
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

/// Expands `{Name}` from the resolved values; unknown names stay as they are.
fn expand(
    template: &str,
    lookup: &mut dyn FnMut(&str) -> Result<Option<String>, ParameterError>,
) -> Result<String, ParameterError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match lookup(name)? {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks `value` against a parameter's validation.
pub fn validate(d: &Declared, value: &str) -> Result<(), ParameterError> {
    let invalid = |why: String| ParameterError::Invalid {
        name: d.name.clone(),
        value: value.to_string(),
        why,
    };
    let v = &d.validation;
    if value.is_empty() {
        // Empty is allowed by AllowEmpty, and for hidden parameters.
        return if v.has("AllowEmpty") || d.hidden() {
            Ok(())
        } else {
            Err(ParameterError::Missing(d.name.clone()))
        };
    }
    if v.has("Boolean")
        && !value.eq_ignore_ascii_case("true")
        && !value.eq_ignore_ascii_case("false")
    {
        return Err(invalid("is not True or False".into()));
    }
    if v.has("Enumeration") {
        let allowed: Vec<&str> = v.string.as_deref().unwrap_or_default().split(',').collect();
        if !allowed.contains(&value) {
            return Err(invalid(format!("is not one of {}", allowed.join(", "))));
        }
    }
    if v.has("RegularExpression") {
        let pattern = v.string.as_deref().unwrap_or_default();
        let re = regex::Regex::new(pattern).map_err(|e| invalid(format!("cannot be checked: the validation pattern {pattern:?} is not a regular expression ({e})")))?;
        if !re.is_match(value) {
            return Err(invalid(format!(
                "does not match the regular expression {pattern}"
            )));
        }
    }
    Ok(())
}

/// Every declared parameter's value: `given` (SetParameters.xml, then
/// --set-param, later wins) over defaults, references expanded, validated.
pub fn resolve(
    declared: &[Declared],
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, ParameterError> {
    for (name, _) in given {
        if !declared.iter().any(|d| d.name.eq_ignore_ascii_case(name)) {
            return Err(ParameterError::Undeclared(name.clone()));
        }
    }
    let mut values: Vec<Option<String>> = vec![None; declared.len()];
    let mut visiting = vec![false; declared.len()];
    fn value_of(
        i: usize,
        declared: &[Declared],
        given: &[(String, String)],
        values: &mut Vec<Option<String>>,
        visiting: &mut Vec<bool>,
    ) -> Result<String, ParameterError> {
        if let Some(v) = &values[i] {
            return Ok(v.clone());
        }
        let d = &declared[i];
        if let Some((_, v)) = given
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(&d.name))
        {
            values[i] = Some(v.clone());
            return Ok(v.clone());
        }
        if visiting[i] {
            return Err(ParameterError::Cycle(d.name.clone()));
        }
        visiting[i] = true;
        let template = d.default.clone().unwrap_or_default();
        let mut lookup = |name: &str| -> Result<Option<String>, ParameterError> {
            match declared
                .iter()
                .position(|x| x.name.eq_ignore_ascii_case(name))
            {
                Some(j) => value_of(j, declared, given, values, visiting).map(Some),
                None => Ok(None),
            }
        };
        let v = expand(&template, &mut lookup)?;
        visiting[i] = false;
        values[i] = Some(v.clone());
        Ok(v)
    }
    let mut out = Vec::with_capacity(declared.len());
    for i in 0..declared.len() {
        let v = value_of(i, declared, given, &mut values, &mut visiting)?;
        validate(&declared[i], &v)?;
        out.push((declared[i].name.clone(), v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<parameters>
  <parameter name="ApplicationPath" defaultValue="Default Web Site/shop" tags="IisApp">
    <parameterEntry kind="ProviderPath" scope="iisApp" match="^shop$" />
  </parameter>
  <parameter name="Acl" defaultValue="{ApplicationPath}/data" tags="Hidden">
    <parameterEntry type="ProviderPath" scope="setAcl" match="^shop/data$" />
  </parameter>
  <parameter name="Debug" defaultValue="False">
    <parameterValidation type="Boolean" />
  </parameter>
  <parameter name="Scaffold" defaultValue="starter">
    <parameterValidation kind="Enumeration" validationString="starter,zodb, alchemy" />
  </parameter>
  <parameter name="Key">
    <parameterValidation kind="RegularExpression,AllowEmpty" validationString=".{16,}" />
  </parameter>
  <parameter name="Needed" />
</parameters>"#;

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_references_and_overrides() {
        let d = parse_declared(XML).unwrap();
        assert_eq!(
            d[1].entries[0].kind, "ProviderPath",
            "type= is read as kind="
        );
        let v = resolve(
            &d,
            &given(&[
                ("needed", "x"),
                ("ApplicationPath", "Site/a"),
                ("applicationpath", "Site/b"),
            ]),
        )
        .unwrap();
        assert_eq!(
            v[0],
            ("ApplicationPath".into(), "Site/b".into()),
            "names compare without case; the later value wins"
        );
        assert_eq!(
            v[1].1, "Site/b/data",
            "{{ApplicationPath}} follows the value given"
        );
        assert_eq!(v[4].1, "", "AllowEmpty");
    }

    #[test]
    fn each_validation_refuses_what_it_should() {
        let d = parse_declared(XML).unwrap();
        let err = |pairs: &[(&str, &str)]| resolve(&d, &given(pairs)).unwrap_err().to_string();
        assert_eq!(
            err(&[]),
            "the parameter 'Needed' has no value: it has no default, and none was given (SetParameters.xml or --set-param Needed=VALUE)"
        );
        assert!(err(&[("Needed", "x"), ("Debug", "yes")]).ends_with("'yes' is not True or False"));
        assert!(
            err(&[("Needed", "x"), ("Scaffold", "alchemy")])
                .contains("is not one of starter, zodb,  alchemy"),
            "whitespace is kept"
        );
        assert!(
            err(&[("Needed", "x"), ("Key", "short")])
                .contains("does not match the regular expression .{16,}")
        );
        assert_eq!(
            err(&[("Nope", "x")]),
            "the parameter 'Nope' is not declared in the package (its Parameters.xml has no such parameter)"
        );
        assert!(
            resolve(
                &d,
                &given(&[("Needed", "x"), ("Debug", "TRUE"), ("Scaffold", " alchemy")])
            )
            .is_ok()
        );
    }

    #[test]
    fn cycles_are_an_error() {
        let d = parse_declared(r#"<parameters><parameter name="A" defaultValue="{B}"/><parameter name="B" defaultValue="x{A}"/></parameters>"#).unwrap();
        assert!(matches!(
            resolve(&d, &[]).unwrap_err(),
            ParameterError::Cycle(_)
        ));
    }
}
