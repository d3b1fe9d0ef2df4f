//! A small XML element tree that round-trips what it read.
//!
//! The feed is built as a tree and written by one writer, and `feed --merge`
//! reads someone else's feed into the same tree, changes a few entries and
//! writes it back. So the tree keeps everything a parser reports (text
//! including whitespace, comments, CDATA, attribute order), and the writer
//! writes parsed elements exactly as their children say, while elements
//! built by iiswsgi (`pretty`) are indented. Foreign entries thus come back
//! out with the same elements, attributes and text.

use crate::xml_escape::{escape, escape_text};

/// A node inside an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    /// Character data, unescaped.
    Text(String),
    Comment(String),
    CData(String),
    /// A processing instruction's content, between `<?` and `?>`.
    Instruction(String),
}

/// An element: its name as written (`prefix:local` stays as is), attributes
/// in document order, and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Built by iiswsgi, so the writer indents it; parsed elements are
    /// written with exactly the whitespace they had.
    pub pretty: bool,
}

/// A whole document: comments and instructions before the root, the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub prolog: Vec<Node>,
    pub root: Element,
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{message} (at byte {position})")]
pub struct ParseError {
    pub message: String,
    pub position: u64,
}

impl Element {
    /// A new element that the writer will indent.
    pub fn new(name: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            attributes: Vec::new(),
            children: Vec::new(),
            pretty: true,
        }
    }

    /// `<name>text</name>`.
    pub fn with_text(name: impl Into<String>, text: impl Into<String>) -> Self {
        let mut e = Element::new(name);
        e.children.push(Node::Text(text.into()));
        e
    }

    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Appends `child` when it is `Some`.
    pub fn maybe(self, child: Option<Element>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element called `name`.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// All text directly inside, concatenated.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) | Node::CData(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The trimmed text of the first child element called `name`.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.find(name).map(|e| e.text().trim().to_string())
    }
}

impl Document {
    /// Reads `text` (a leading byte-order mark is allowed).
    pub fn parse(text: &str) -> Result<Document, ParseError> {
        use quick_xml::events::Event;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        crate::xml_limits::check_size(text.len() as u64).map_err(|message| ParseError {
            message,
            position: 0,
        })?;
        let mut budget = crate::xml_limits::Budget::default();
        let mut reader = quick_xml::Reader::from_str(text);
        reader.config_mut().trim_text(false);
        reader.config_mut().check_end_names = true;
        let fail = |reader: &quick_xml::Reader<&[u8]>, message: String| ParseError {
            message,
            position: reader.buffer_position(),
        };
        let mut prolog = Vec::new();
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| fail(&reader, e.to_string()))?;
            let empty = matches!(event, Event::Empty(_));
            match &event {
                Event::Start(_) | Event::Empty(_) => {
                    budget.open(empty).map_err(|m| fail(&reader, m))?
                }
                Event::End(_) => budget.close(),
                _ => {}
            }
            let node = match event {
                Event::Start(start) | Event::Empty(start) => {
                    let mut element = Element {
                        name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
                        attributes: Vec::new(),
                        children: Vec::new(),
                        pretty: false,
                    };
                    for attr in start.attributes().with_checks(true) {
                        let attr = attr.map_err(|e| fail(&reader, e.to_string()))?;
                        let value = attr
                            .unescape_value()
                            .map_err(|e| fail(&reader, e.to_string()))?;
                        element.attributes.push((
                            String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
                            value.into_owned(),
                        ));
                    }
                    if !empty {
                        stack.push(element);
                        continue;
                    }
                    Node::Element(element)
                }
                Event::End(_) => {
                    let element = stack.pop().expect("check_end_names pairs every end");
                    Node::Element(element)
                }
                Event::Text(t) => Node::Text(
                    t.unescape()
                        .map_err(|e| fail(&reader, e.to_string()))?
                        .into_owned(),
                ),
                Event::CData(c) => Node::CData(String::from_utf8_lossy(&c).into_owned()),
                Event::Comment(c) => Node::Comment(String::from_utf8_lossy(&c).into_owned()),
                Event::PI(p) => Node::Instruction(String::from_utf8_lossy(&p).into_owned()),
                Event::Decl(_) | Event::DocType(_) => continue,
                Event::Eof => break,
            };
            match stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None => match node {
                    Node::Element(e) if root.is_none() => root = Some(e),
                    Node::Element(_) => {
                        return Err(fail(&reader, "a second root element".into()));
                    }
                    Node::Text(t) if t.trim().is_empty() => {}
                    Node::Text(_) | Node::CData(_) => {
                        return Err(fail(&reader, "text outside the root element".into()));
                    }
                    other if root.is_none() => prolog.push(other),
                    _ => {} // comments after the root carry nothing a feed needs
                },
            }
        }
        if let Some(open) = stack.last() {
            return Err(fail(&reader, format!("`<{}>` is never closed", open.name)));
        }
        let root = root.ok_or_else(|| fail(&reader, "no root element".into()))?;
        Ok(Document { prolog, root })
    }

    /// The document as UTF-8 text with an XML declaration and a final newline.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        for node in &self.prolog {
            write_node(&mut out, node, 0);
            out.push('\n');
        }
        write_element(&mut out, &self.root, 0);
        out.push('\n');
        out
    }
}

fn indent(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_node(out: &mut String, node: &Node, depth: usize) {
    match node {
        Node::Element(e) => write_element(out, e, depth),
        Node::Text(t) => out.push_str(&escape_text(t)),
        Node::Comment(c) => {
            out.push_str("<!--");
            out.push_str(c);
            out.push_str("-->");
        }
        Node::CData(c) => {
            out.push_str("<![CDATA[");
            out.push_str(c);
            out.push_str("]]>");
        }
        Node::Instruction(p) => {
            out.push_str("<?");
            out.push_str(p);
            out.push_str("?>");
        }
    }
}

fn write_element(out: &mut String, e: &Element, depth: usize) {
    out.push('<');
    out.push_str(&e.name);
    for (name, value) in &e.attributes {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(&escape(value));
        out.push('"');
    }
    if e.children.is_empty() {
        out.push_str(" />");
        return;
    }
    out.push('>');
    let has_text = e
        .children
        .iter()
        .any(|n| matches!(n, Node::Text(_) | Node::CData(_)));
    if e.pretty && !has_text {
        for child in &e.children {
            indent(out, depth + 1);
            write_node(out, child, depth + 1);
        }
        indent(out, depth);
    } else {
        for child in &e.children {
            write_node(out, child, depth + 1);
        }
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_documents_are_written_back_unchanged_apart_from_the_declaration() {
        let text = "<?xml version=\"1.0\"?>\n<!-- c --><a x=\"1 &amp; 2\">\n  <b>t&lt;</b><c/>\n  <!-- k -->  <![CDATA[<raw>]]></a>";
        let doc = Document::parse(text).unwrap();
        assert_eq!(
            doc.to_xml(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->\n<a x=\"1 &amp; 2\">\n  <b>t&lt;</b><c />\n  <!-- k -->  <![CDATA[<raw>]]></a>\n"
        );
        assert_eq!(Document::parse(&doc.to_xml()).unwrap(), doc);
    }

    #[test]
    fn built_elements_are_indented() {
        let doc = Document {
            prolog: vec![],
            root: Element::new("a").child(Element::new("b").child(Element::with_text("c", "x"))),
        };
        assert_eq!(
            doc.to_xml(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a>\n  <b>\n    <c>x</c>\n  </b>\n</a>\n"
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "</a>",
            "<a></a></b>",
            "<a/><b/>",
            "text",
            "<a x='1' x='2'/>",
        ] {
            assert!(Document::parse(bad).is_err(), "{bad:?}");
        }
    }
}
