//! Paths to a value inside iiswsgi.toml (`parameters[1].validation.values`),
//! so that checks on the plain model can still point at the source text.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Name(String),
    Index(usize),
}

/// A path from the document root to a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Key>);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path extended by a table key.
    pub fn key(&self, name: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Key::Name(name.to_string()));
        p
    }

    /// This path extended by an array index.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Key::Index(i));
        p
    }

    /// The byte range of the value at this path in `text`, or of the deepest
    /// parent that exists (a missing key points at its table).
    pub fn span_in(&self, text: &str) -> Option<Range<usize>> {
        let root = DeTable::parse(text).ok()?;
        let mut current = DeValue::Table(root.get_ref().clone());
        let mut span = None;
        for key in &self.0 {
            let next = match key {
                Key::Name(name) => current.get(name.as_str()),
                Key::Index(i) => current.get(*i),
            };
            match next {
                Some(value) => {
                    span = Some(value.span());
                    current = value.get_ref().clone();
                }
                None => break,
            }
        }
        span
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            match key {
                Key::Name(name) if i == 0 => write!(f, "{name}")?,
                Key::Name(name) => write!(f, ".{name}")?,
                Key::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}
