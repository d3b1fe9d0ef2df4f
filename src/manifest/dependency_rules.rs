//! WebPI's dependency grammar, checked on the manifest so that `iiswsgi check`
//! catches what Web Platform Installer would otherwise reject on a user's
//! machine (reference: webpi-feed.md section 3):
//!
//! - an `<and>`/`<or>` needs two or more children ("An and element must
//!   include two or more child dependency elements");
//! - product ids are single tokens;
//! - every `idref` names a definition of the feed, and definitions do not
//!   refer to themselves (WebPI would loop).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::diagnostic::did_you_mean;
use super::key_path::KeyPath;
use super::model::Dependency;

/// WebPI product ids: Microsoft's own use letters, digits, `.`, `_` and `-`.
pub static PRODUCT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]*$").expect("valid regex"));

/// One grammar violation: where, what, how to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub at: KeyPath,
    pub message: String,
    pub help: String,
}

/// Checks the shape of `deps` (ids and group sizes) and, when `definitions`
/// is given, that every `{ ref = ... }` names one of them.
pub fn check_list(
    deps: &[Dependency],
    at: &KeyPath,
    definitions: Option<&BTreeMap<String, Dependency>>,
    out: &mut Vec<RuleProblem>,
) {
    for (i, dep) in deps.iter().enumerate() {
        check(dep, &at.index(i), definitions, out);
    }
}

/// Checks one dependency tree.
pub fn check(
    dep: &Dependency,
    at: &KeyPath,
    definitions: Option<&BTreeMap<String, Dependency>>,
    out: &mut Vec<RuleProblem>,
) {
    match dep {
        Dependency::Product(id) => {
            if !PRODUCT_ID.is_match(id) {
                out.push(RuleProblem {
                    at: at.clone(),
                    message: format!("`{id}` is not a WebPI product id"),
                    help: "product ids are one word of letters, digits, `.`, `_` and `-`, such as `WDeploy` or `Python27`".into(),
                });
            }
        }
        Dependency::All(group) => check_group("all", &group.all, &at.key("all"), definitions, out),
        Dependency::Any(group) => check_group("any", &group.any, &at.key("any"), definitions, out),
        Dependency::Ref(r) => {
            if let Some(defs) = definitions
                && !defs.contains_key(&r.name)
            {
                let help = match did_you_mean(&r.name, defs.keys().map(String::as_str)) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None if defs.is_empty() => {
                        "define it under [feed.definitions] (in the workspace root for a workspace)"
                            .into()
                    }
                    None => format!(
                        "defined: {}",
                        defs.keys()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                out.push(RuleProblem {
                    at: at.key("ref"),
                    message: format!("no dependency definition named `{}`", r.name),
                    help,
                });
            }
        }
    }
}

fn check_group(
    kind: &str,
    children: &[Dependency],
    at: &KeyPath,
    definitions: Option<&BTreeMap<String, Dependency>>,
    out: &mut Vec<RuleProblem>,
) {
    let element = if kind == "all" { "and" } else { "or" };
    match children.len() {
        0 => out.push(RuleProblem {
            at: at.clone(),
            message: format!("`{kind}` is empty"),
            help: "list two or more dependencies, or remove the group".into(),
        }),
        1 => out.push(RuleProblem {
            at: at.clone(),
            message: format!("`{kind}` has only one dependency"),
            help: format!(
                "WebPI rejects an <{element}> with fewer than two children; write the dependency itself instead of the group"
            ),
        }),
        _ => {}
    }
    check_list(children, at, definitions, out);
}

/// Checks `[feed.definitions]`: names, bodies, and that no definition
/// reaches itself through references.
pub fn check_definitions(
    defs: &BTreeMap<String, Dependency>,
    at: &KeyPath,
    out: &mut Vec<RuleProblem>,
) {
    for (name, dep) in defs {
        let here = at.key(name);
        if !PRODUCT_ID.is_match(name) {
            out.push(RuleProblem {
                at: here.clone(),
                message: format!("`{name}` cannot be a definition id"),
                help: "use one word of letters, digits, `.`, `_` and `-`".into(),
            });
        }
        check(dep, &here, Some(defs), out);
        if reaches(dep, name, defs, &mut Vec::new()) {
            out.push(RuleProblem {
                at: here,
                message: format!("definition `{name}` refers back to itself"),
                help: "WebPI would loop resolving it; break the cycle".into(),
            });
        }
    }
}

fn reaches<'a>(
    dep: &'a Dependency,
    target: &str,
    defs: &'a BTreeMap<String, Dependency>,
    seen: &mut Vec<&'a str>,
) -> bool {
    match dep {
        Dependency::Product(_) => false,
        Dependency::All(g) => g.all.iter().any(|d| reaches(d, target, defs, seen)),
        Dependency::Any(g) => g.any.iter().any(|d| reaches(d, target, defs, seen)),
        Dependency::Ref(r) => {
            if r.name == target {
                return true;
            }
            if seen.contains(&r.name.as_str()) {
                return false;
            }
            match defs.get_key_value(&r.name) {
                Some((name, next)) => {
                    seen.push(name);
                    reaches(next, target, defs, seen)
                }
                None => false,
            }
        }
    }
}

/// Whether `deps` already name Web Deploy anywhere (any of its product ids),
/// so that the default `WDeploy` dependency is not added twice.
pub fn mentions_web_deploy(deps: &[Dependency], defs: &BTreeMap<String, Dependency>) -> bool {
    fn walk(d: &Dependency, defs: &BTreeMap<String, Dependency>, depth: usize) -> bool {
        match d {
            Dependency::Product(id) => id.to_ascii_lowercase().starts_with("wdeploy"),
            Dependency::All(g) => g.all.iter().any(|d| walk(d, defs, depth)),
            Dependency::Any(g) => g.any.iter().any(|d| walk(d, defs, depth)),
            // Definitions are checked for cycles, but stay safe anyway.
            Dependency::Ref(r) => {
                depth < 32 && defs.get(&r.name).is_some_and(|d| walk(d, defs, depth + 1))
            }
        }
    }
    deps.iter().any(|d| walk(d, defs, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{AllOf, RefTo};

    fn product(id: &str) -> Dependency {
        Dependency::Product(id.into())
    }

    #[test]
    fn a_group_of_one_and_a_spaced_id_are_reported_where_they_are() {
        let deps = vec![Dependency::All(AllOf {
            all: vec![product("Python 27")],
        })];
        let mut out = Vec::new();
        check_list(&deps, &KeyPath::root().key("d"), None, &mut out);
        let at: Vec<String> = out.iter().map(|p| p.at.to_string()).collect();
        assert_eq!(at, ["d[0].all", "d[0].all[0]"]);
        assert_eq!(out[0].message, "`all` has only one dependency");
    }

    #[test]
    fn cycles_through_definitions_are_found() {
        let mut defs = BTreeMap::new();
        defs.insert(
            "A".to_string(),
            Dependency::All(AllOf {
                all: vec![product("X"), Dependency::Ref(RefTo { name: "B".into() })],
            }),
        );
        defs.insert("B".to_string(), Dependency::Ref(RefTo { name: "A".into() }));
        let mut out = Vec::new();
        check_definitions(&defs, &KeyPath::root(), &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(mentions_web_deploy(&[product("WDeployNoSMO")], &defs));
        assert!(!mentions_web_deploy(
            &[Dependency::Ref(RefTo { name: "A".into() })],
            &defs
        ));
    }
}
