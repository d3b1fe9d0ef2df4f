//! `feed --merge`: put this project's entries into someone else's feed and
//! keep everything else as it was (Microsoft's gallery did the same with its
//! MergeFeed tool).
//!
//! Entries are matched by `productId`. A matched entry is replaced where it
//! stands; a new one goes after the last entry. Keywords the feed does not
//! define yet are added (redefining one makes WebPI reject the whole feed);
//! dependency definitions of ours replace those with the same id. The
//! feed's `updated` takes the new time. Nothing else is touched: foreign
//! entries and definitions keep their elements, attributes, text, comments
//! and whitespace.

use crate::xml_tree::{Document, Element, Node};

/// What changed, for the report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MergeReport {
    pub replaced: Vec<String>,
    pub added: Vec<String>,
    pub kept: usize,
    pub warnings: Vec<String>,
}

/// Merges the entries and definitions of `ours` into `existing`.
pub fn merge(existing: &mut Document, ours: &Document) -> Result<MergeReport, String> {
    if local_name(&existing.root.name) != "feed" {
        return Err(format!(
            "the root element is `<{}>`, not a WebPI `<feed>`",
            existing.root.name
        ));
    }
    let mut report = MergeReport::default();
    let root = &mut existing.root;
    if let Some(updated) = ours.root.find("updated") {
        if let Some(i) = position(root, |e| e.name == "updated") {
            root.children[i] = Node::Element(updated.clone());
        }
    }
    let our_ids: Vec<String> = ours
        .root
        .elements()
        .filter(|e| e.name == "entry")
        .filter_map(|e| e.child_text("productId"))
        .collect();
    report.kept = root
        .elements()
        .filter(|e| e.name == "entry")
        .filter(|e| {
            e.child_text("productId")
                .is_none_or(|id| !our_ids.contains(&id))
        })
        .count();
    for entry in ours.root.elements().filter(|e| e.name == "entry") {
        let id = entry.child_text("productId").unwrap_or_default();
        match position(root, |e| {
            e.name == "entry" && e.child_text("productId").as_deref() == Some(id.as_str())
        }) {
            Some(i) => {
                root.children[i] = Node::Element(entry.clone());
                report.replaced.push(id);
            }
            None => {
                let after = last_position(root, &["entry"]).or_else(|| {
                    last_position(
                        root,
                        &["languages", "resourcesList", "id", "author", "updated"],
                    )
                });
                insert_after(root, after, entry.clone());
                report.added.push(id);
            }
        }
    }
    if let Some(keywords) = ours.root.find("keywords") {
        merge_definitions(
            root,
            keywords,
            &["entry", "tabs"],
            |e| e.attribute("id").map(str::to_string),
            |_, id, report| {
                report.warnings.push(format!(
                    "keyword `{id}` is already defined in the feed; kept its definition"
                ));
                false
            },
            &mut report,
        );
    }
    if let Some(dependencies) = ours.root.find("dependencies") {
        merge_definitions(
            root,
            dependencies,
            &["entry", "tabs", "keywords", "oses", "osLists"],
            |e| e.attribute("id").map(str::to_string),
            |same, id, report| {
                if !same {
                    report.warnings.push(format!(
                        "dependency definition `{id}` differed in the feed; replaced it with this project's"
                    ));
                }
                true
            },
            &mut report,
        );
    }
    Ok(report)
}

/// Adds the children of `ours` (a `keywords` or `dependencies` list) to the
/// feed's list of the same name, creating it after the last of `after`.
/// `on_clash(same, id)` says whether ours replaces a definition with the same id.
fn merge_definitions(
    root: &mut Element,
    ours: &Element,
    after: &[&str],
    id_of: impl Fn(&Element) -> Option<String>,
    on_clash: impl Fn(bool, &str, &mut MergeReport) -> bool,
    report: &mut MergeReport,
) {
    let list = match position(root, |e| e.name == ours.name) {
        Some(i) => i,
        None => {
            let anchor = last_position(root, after);
            let mut empty = ours.clone();
            empty.children.clear();
            insert_after(root, anchor, empty)
        }
    };
    let Node::Element(list) = &mut root.children[list] else {
        unreachable!("position() finds elements");
    };
    for definition in ours.elements() {
        let Some(id) = id_of(definition) else {
            continue;
        };
        match position(list, |e| id_of(e).as_deref() == Some(id.as_str())) {
            Some(i) => {
                let Node::Element(theirs) = &list.children[i] else {
                    unreachable!()
                };
                let same = equivalent(theirs, definition);
                if on_clash(same, &id, report) && !same {
                    list.children[i] = Node::Element(definition.clone());
                }
            }
            None => {
                let last = last_position(list, &[definition.name.as_str()]);
                insert_after(list, last, definition.clone());
            }
        }
    }
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn position(parent: &Element, pred: impl Fn(&Element) -> bool) -> Option<usize> {
    parent
        .children
        .iter()
        .position(|n| matches!(n, Node::Element(e) if pred(e)))
}

/// The index of the last child element named one of `names`.
fn last_position(parent: &Element, names: &[&str]) -> Option<usize> {
    parent
        .children
        .iter()
        .rposition(|n| matches!(n, Node::Element(e) if names.contains(&e.name.as_str())))
}

/// Inserts `new` after child `after` (or first), preceded by the same
/// whitespace that precedes its neighbour, and returns its index.
fn insert_after(parent: &mut Element, after: Option<usize>, new: Element) -> usize {
    let whitespace = after
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| match &parent.children[i] {
            Node::Text(t) if t.trim().is_empty() => Some(t.clone()),
            _ => None,
        });
    let at = after.map_or(0, |i| i + 1);
    match whitespace {
        // A parsed parent: copy its indentation.
        Some(ws) => {
            parent.children.insert(at, Node::Text(ws));
            parent.children.insert(at + 1, Node::Element(new));
            at + 1
        }
        // A built parent is indented by the writer; a compact parsed one
        // stays compact.
        None => {
            parent.children.insert(at, Node::Element(new));
            at
        }
    }
}

/// Same elements, attributes and non-whitespace text, ignoring layout.
pub fn equivalent(a: &Element, b: &Element) -> bool {
    fn significant(e: &Element) -> Vec<&Node> {
        e.children
            .iter()
            .filter(|n| match n {
                Node::Text(t) => !t.trim().is_empty(),
                Node::Comment(_) | Node::Instruction(_) => false,
                _ => true,
            })
            .collect()
    }
    if a.name != b.name || a.attributes != b.attributes {
        return false;
    }
    let (ca, cb) = (significant(a), significant(b));
    ca.len() == cb.len()
        && ca.iter().zip(&cb).all(|(x, y)| match (x, y) {
            (Node::Element(x), Node::Element(y)) => equivalent(x, y),
            (Node::Text(x) | Node::CData(x), Node::Text(y) | Node::CData(y)) => {
                x.trim() == y.trim()
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text).unwrap()
    }

    #[test]
    fn replaces_by_product_id_adds_new_ones_and_keeps_the_rest() {
        let mut existing = doc(
            "<feed>\n  <updated>old</updated>\n  <entry><productId>A</productId><v>1</v></entry>\n  <entry><productId>B</productId></entry>\n  <keywords>\n    <keyword id=\"K\">k</keyword>\n  </keywords>\n</feed>",
        );
        let ours = doc(
            "<feed><updated>new</updated><entry><productId>B</productId><v>2</v></entry><entry><productId>C</productId></entry><keywords><keyword id=\"K\">other</keyword><keyword id=\"L\">l</keyword></keywords></feed>",
        );
        let report = merge(&mut existing, &ours).unwrap();
        assert_eq!(report.replaced, ["B"]);
        assert_eq!(report.added, ["C"]);
        assert_eq!(report.kept, 1);
        assert_eq!(report.warnings.len(), 1);
        let out = existing.to_xml();
        assert!(out.contains("<updated>new</updated>"), "{out}");
        assert!(out.contains("<entry><productId>A</productId><v>1</v></entry>\n  <entry><productId>B</productId><v>2</v></entry>\n  <entry><productId>C</productId></entry>"), "{out}");
        assert!(
            out.contains("<keyword id=\"K\">k</keyword>\n    <keyword id=\"L\">l</keyword>"),
            "{out}"
        );
    }

    #[test]
    fn refuses_a_document_that_is_not_a_feed() {
        let mut existing = doc("<rss/>");
        assert!(merge(&mut existing, &doc("<feed/>")).is_err());
    }
}
