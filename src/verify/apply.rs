//! Applying resolved parameter values to the laid-out files, as msdeploy
//! does: TextFile (a regex replaced in the files whose path matches the
//! scope) and XmlFile (an XPath into the files whose path matches the
//! scope). ProviderPath entries move providers, not file contents: they
//! are reported by the caller. An XPath or regex that matches nothing is a
//! warning, as in msdeploy.
//!
//! Scopes are matched against the file's path as msdeploy sees it
//! ([`Layout::scope_path`]): inside the package in Windows form
//! (`FlaskIISApp\web.config`) for gallery packages, the source's absolute
//! path for archives.

use crate::verify::package::Unpacked;
use crate::verify::parameters::Declared;
use crate::xml_tree::{Document, Element, Node};

/// What applying did: one line per change, and the warnings.
#[derive(Debug, Default)]
pub struct Applied {
    pub changes: Vec<String>,
    pub warnings: Vec<String>,
}

/// One step of the XPath subset: `name` or `*`, with `[@attr='value']` or
/// `[@attr]` predicates; `descendant` for a step after `//`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    name: String,
    descendant: bool,
    predicates: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Attribute(String),
    Text,
    Element,
}

/// Parses the XPath forms Web Deploy packages use:
/// `/configuration/appSettings/add[@key='X']/@value`, `//connectionStrings/add[@name="X"]/@connectionString`,
/// `/a/b/text()`, `/a/b` (the element's text).
fn parse_xpath(xpath: &str) -> Result<(Vec<Step>, Target), String> {
    let mut rest = xpath.trim();
    if !rest.starts_with('/') {
        return Err(format!(
            "XPath {xpath:?} is not absolute (it must start with /)"
        ));
    }
    let mut steps = Vec::new();
    let mut target = Target::Element;
    while !rest.is_empty() {
        let descendant = rest.starts_with("//");
        rest = rest.trim_start_matches('/');
        // A step runs to the next '/' outside brackets and quotes.
        let mut depth = 0;
        let mut quote = None;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[') => depth += 1,
                (None, ']') => depth -= 1,
                (None, '/') if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let step = &rest[..end];
        rest = &rest[end..];
        if let Some(attr) = step.strip_prefix('@') {
            if !rest.is_empty() {
                return Err(format!(
                    "XPath {xpath:?}: an attribute step must be the last"
                ));
            }
            target = Target::Attribute(attr.to_string());
            break;
        }
        if step == "text()" {
            target = Target::Text;
            break;
        }
        let (name, preds) = match step.find('[') {
            Some(i) => (&step[..i], &step[i..]),
            None => (step, ""),
        };
        let mut predicates = Vec::new();
        let mut p = preds;
        while let Some(inner) = p.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| format!("XPath {xpath:?}: unclosed ["))?;
            let body = inner[..close].trim();
            let attr = body.strip_prefix('@').ok_or_else(|| {
                format!(
                    "XPath {xpath:?}: only [@attr='value'] predicates are supported, not [{body}]"
                )
            })?;
            match attr.split_once('=') {
                Some((a, v)) => {
                    let v = v.trim();
                    let unquoted = v
                        .strip_prefix('\'')
                        .and_then(|v| v.strip_suffix('\''))
                        .or_else(|| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')));
                    let value = unquoted.ok_or_else(|| {
                        format!("XPath {xpath:?}: the value in [{body}] must be quoted")
                    })?;
                    predicates.push((a.trim().to_string(), Some(value.to_string())));
                }
                None => predicates.push((attr.trim().to_string(), None)),
            }
            p = &inner[close + 1..];
        }
        if name.is_empty() {
            return Err(format!("XPath {xpath:?}: an empty step"));
        }
        steps.push(Step {
            name: name.to_string(),
            descendant,
            predicates,
        });
    }
    Ok((steps, target))
}

fn step_matches(step: &Step, e: &Element) -> bool {
    (step.name == "*" || step.name == e.name)
        && step.predicates.iter().all(|(a, v)| match v {
            Some(v) => e.attribute(a) == Some(v.as_str()),
            None => e.attribute(a).is_some(),
        })
}

/// Applies `value` to every node `steps`/`target` select under `e`
/// (which stands at depth `at` of the steps); the number changed.
fn apply_steps(e: &mut Element, steps: &[Step], target: &Target, value: &str) -> usize {
    let Some((first, rest)) = steps.split_first() else {
        return set(e, target, value);
    };
    let mut count = 0;
    for child in e.children.iter_mut() {
        let Node::Element(c) = child else { continue };
        if step_matches(first, c) {
            count += apply_steps(c, rest, target, value);
        }
        if first.descendant {
            count += apply_steps(c, steps, target, value);
        }
    }
    count
}

fn set(e: &mut Element, target: &Target, value: &str) -> usize {
    match target {
        Target::Attribute(a) => match e.attributes.iter_mut().find(|(k, _)| k == a) {
            Some(slot) => {
                slot.1 = value.to_string();
                1
            }
            None => 0,
        },
        Target::Text | Target::Element => {
            e.children = vec![Node::Text(value.to_string())];
            1
        }
    }
}

/// Sets what `xpath` selects in `doc` to `value`; how many nodes changed.
pub fn apply_xpath(doc: &mut Document, xpath: &str, value: &str) -> Result<usize, String> {
    let (steps, target) = parse_xpath(xpath)?;
    let Some((first, rest)) = steps.split_first() else {
        return Err(format!("XPath {xpath:?} selects nothing"));
    };
    let mut count = 0;
    if step_matches(first, &doc.root) {
        count += apply_steps(&mut doc.root, rest, &target, value);
    }
    if first.descendant {
        count += apply_steps(&mut doc.root, &steps, &target, value);
    }
    Ok(count)
}

/// TextFilePosition: `match` is `line;column;length` (1-based line and
/// column, in characters); that span is replaced by `value`.
pub fn replace_at(text: &str, position: &str, value: &str) -> Result<String, String> {
    let parts: Vec<usize> = position
        .split(';')
        .map(|p| p.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("TextFilePosition {position:?} is not line;column;length"))?;
    let [line, column, length] = parts[..] else {
        return Err(format!(
            "TextFilePosition {position:?} is not line;column;length"
        ));
    };
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let chars: Vec<(usize, char)> = l.char_indices().collect();
            let start = chars
                .get(column.saturating_sub(1))
                .map(|(b, _)| *b)
                .ok_or_else(|| {
                    format!("TextFilePosition {position:?}: line {line} has no column {column}")
                })?;
            let end = chars.get(column - 1 + length).map_or(l.len(), |(b, _)| *b);
            return Ok(format!(
                "{}{value}{}",
                &text[..offset + start],
                &text[offset + end..]
            ));
        }
        offset += l.len();
    }
    Err(format!(
        "TextFilePosition {position:?}: the file has no line {line}"
    ))
}

/// Applies every TextFile and XmlFile entry of `declared` with `values`
/// to the files of `site` (a package laid out by [`unpack`] or by hand).
///
/// [`unpack`]: crate::verify::package::unpack
pub fn apply(
    site: &Unpacked,
    declared: &[Declared],
    values: &[(String, String)],
) -> Result<Applied, String> {
    let mut applied = Applied::default();
    for (d, (_, value)) in declared.iter().zip(values) {
        for entry in &d.entries {
            let kind = entry.kind.to_ascii_lowercase();
            if kind != "textfile" && kind != "xmlfile" && kind != "textfileposition" {
                continue;
            }
            let scope = regex::RegexBuilder::new(&entry.scope)
                .case_insensitive(true)
                .build()
                .map_err(|e| {
                    format!(
                        "parameter '{}': scope {:?} is not a regular expression: {e}",
                        d.name, entry.scope
                    )
                })?;
            let targets: Vec<&String> = site
                .files
                .iter()
                .filter(|f| scope.is_match(&site.layout.scope_path(f)))
                .collect();
            if targets.is_empty() {
                applied.warnings.push(format!(
                    "parameter '{}': no file matches scope {:?}",
                    d.name, entry.scope
                ));
                continue;
            }
            // A broad scope (`\\web\.config$`) also takes the web.config
            // of every static folder, where an app setting's XPath has
            // nothing to match: msdeploy says nothing of such a file, and
            // neither does this, unless no file at all had a match.
            let mut missed = Vec::new();
            let mut matched_any = false;
            for rel in targets {
                let path = site.root.join(rel);
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
                let (new, count) = if kind == "textfileposition" {
                    match replace_at(&text, &entry.r#match, value) {
                        Ok(new) => (new, 1),
                        Err(e) => return Err(format!("parameter '{}': {e}", d.name)),
                    }
                } else if kind == "textfile" {
                    let re = regex::Regex::new(&entry.r#match).map_err(|e| {
                        format!(
                            "parameter '{}': match {:?} is not a regular expression: {e}",
                            d.name, entry.r#match
                        )
                    })?;
                    let count = re.find_iter(&text).count();
                    (
                        re.replace_all(&text, regex::NoExpand(value)).into_owned(),
                        count,
                    )
                } else {
                    let mut doc = Document::parse(&text)
                        .map_err(|e| format!("{rel}: not well-formed XML: {e}"))?;
                    let count = apply_xpath(&mut doc, &entry.r#match, value)
                        .map_err(|e| format!("parameter '{}': {e}", d.name))?;
                    (doc.to_xml(), count)
                };
                if count == 0 {
                    missed.push(rel.as_str());
                    continue;
                }
                matched_any = true;
                let tmp = path.with_extension("verify-tmp");
                std::fs::write(&tmp, new)
                    .and_then(|_| std::fs::rename(&tmp, &path))
                    .map_err(|e| format!("{rel}: {e}"))?;
                applied.changes.push(format!(
                    "{rel}: parameter '{}' set {count} place(s)",
                    d.name
                ));
            }
            if !matched_any {
                applied.warnings.push(format!(
                    "parameter '{}': {:?} matches nothing in {}",
                    d.name,
                    entry.r#match,
                    missed.join(", ")
                ));
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_file_positions() {
        assert_eq!(
            replace_at("ab\ncdef\n", "2;2;2", "XY").unwrap(),
            "ab\ncXYf\n"
        );
        assert_eq!(replace_at("é1234", "1;2;3", "-").unwrap(), "é-4");
        assert!(
            replace_at("ab", "3;1;1", "x")
                .unwrap_err()
                .contains("no line 3")
        );
        assert!(
            replace_at("ab", "1;1", "x")
                .unwrap_err()
                .contains("line;column;length")
        );
    }

    #[test]
    fn xpath_forms_of_real_packages() {
        let mut doc = Document::parse(
            r#"<configuration><appSettings><add key="A" value="1"/><add key="B" value="2"/></appSettings>
<connectionStrings><add name="db" connectionString="old"/></connectionStrings><title>t</title></configuration>"#,
        )
        .unwrap();
        assert_eq!(
            apply_xpath(
                &mut doc,
                "/configuration/appSettings/add[@key='B']/@value",
                "two"
            )
            .unwrap(),
            1
        );
        assert_eq!(
            apply_xpath(
                &mut doc,
                r#"//connectionStrings/add[@name="db"]/@connectionString"#,
                "new"
            )
            .unwrap(),
            1
        );
        assert_eq!(
            apply_xpath(&mut doc, "/configuration/title/text()", "T").unwrap(),
            1
        );
        assert_eq!(
            apply_xpath(
                &mut doc,
                "/configuration/appSettings/add[@key='Z']/@value",
                "x"
            )
            .unwrap(),
            0
        );
        let xml = doc.to_xml();
        assert!(
            xml.contains(r#"<add key="A" value="1" />"#)
                && xml.contains(r#"<add key="B" value="two" />"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"connectionString="new""#) && xml.contains("<title>T</title>"),
            "{xml}"
        );
        assert!(
            parse_xpath("configuration/x")
                .unwrap_err()
                .contains("not absolute")
        );
        assert!(
            parse_xpath("/a[position()=1]")
                .unwrap_err()
                .contains("only [@attr='value']")
        );
    }
}
