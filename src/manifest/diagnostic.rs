//! Configuration errors that point into iiswsgi.toml (or a template):
//! file, line, column, a caret under the offending text, and a hint.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// One problem in a configuration file, with where it is and how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub file: PathBuf,
    pub message: String,
    pub help: Option<String>,
    /// Byte range in `text`, when known.
    pub span: Option<Range<usize>>,
    text: Option<Arc<str>>,
    named: Option<NamedSource<Arc<str>>>,
    /// Further problems found in the same pass.
    pub related: Vec<ConfigError>,
}

impl ConfigError {
    /// An error at `span` of the file `file` whose content is `text`.
    pub fn at(
        file: &Path,
        text: &Arc<str>,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            message: message.into(),
            help: None,
            span,
            text: Some(text.clone()),
            named: Some(NamedSource::new(file.display().to_string(), text.clone())),
            related: Vec::new(),
        }
    }

    /// An error about a file as a whole (missing, unreadable, ...).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            message: format!("{}: {}", file.display(), message.into()),
            help: None,
            span: None,
            text: None,
            named: None,
            related: Vec::new(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// 1-based line and column of the start of the span.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let (text, span) = (self.text.as_deref()?, self.span.as_ref()?);
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
            before[nl + 1..].chars().count()
        }) + 1;
        Some((line, column))
    }

    /// Every error in this one, the first included.
    pub fn all(&self) -> impl Iterator<Item = &ConfigError> {
        std::iter::once(self).chain(self.related.iter())
    }

    /// Bundles several errors into one (the first leads).
    pub fn many(mut errors: Vec<ConfigError>) -> Option<ConfigError> {
        if errors.is_empty() {
            return None;
        }
        let mut first = errors.remove(0);
        first.related.extend(errors);
        Some(first)
    }
}

impl Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("iiswsgi::config"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.span.as_ref()?;
        self.named.as_ref().map(|n| n as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        self.named.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".to_string()),
            span,
        ))))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|e| e as &dyn Diagnostic)))
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
