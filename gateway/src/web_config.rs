//! `<appSettings>` of the app's web.config, read as wfastcgi reads it:
//! every `<add key="…" value="…"/>` under `/configuration/appSettings`.

use std::path::{Path, PathBuf};

use quick_xml::Reader;
use quick_xml::events::Event;

#[derive(Debug, thiserror::Error)]
pub enum WebConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not well-formed XML at byte {position}: {message}")]
    Xml {
        path: PathBuf,
        position: u64,
        message: String,
    },
}

/// Largest web.config read (IIS itself refuses files over 250 KB by default).
const MAX_BYTES: u64 = 4 << 20;
/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 256;

/// The web.config in `dir`, whatever the case of its name (IIS's file
/// system is case-insensitive; a package built on Linux may say Web.config).
pub fn find(dir: &Path) -> Option<PathBuf> {
    for name in ["web.config", "Web.config", "Web.Config", "WEB.CONFIG"] {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    None
}

/// The app settings in document order; a missing file has none.
pub fn app_settings(path: &Path) -> Result<Vec<(String, String)>, WebConfigError> {
    let read_err = |source| WebConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > MAX_BYTES {
        return Err(WebConfigError::Xml {
            path: path.to_owned(),
            position: 0,
            message: format!("{len} bytes is more than the {MAX_BYTES} read"),
        });
    }
    let text = std::fs::read_to_string(path).map_err(read_err)?;
    parse(&text).map_err(|(position, message)| WebConfigError::Xml {
        path: path.to_owned(),
        position,
        message,
    })
}

/// Parses web.config text; the error is (byte offset, message).
pub fn parse(text: &str) -> Result<Vec<(String, String)>, (u64, String)> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut settings = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| (reader.buffer_position(), e.to_string()))?;
        let (element, is_start) = match &event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => return Ok(settings),
            _ => continue,
        };
        if in_app_settings(&stack) && element.local_name().as_ref() == b"add" {
            let (mut key, mut value) = (None, None);
            for attr in element.attributes() {
                let attr = attr.map_err(|err| (reader.buffer_position(), err.to_string()))?;
                let v = attr
                    .unescape_value()
                    .map_err(|err| (reader.buffer_position(), err.to_string()))?
                    .into_owned();
                match attr.key.local_name().as_ref() {
                    b"key" => key = Some(v),
                    b"value" => value = Some(v),
                    _ => {}
                }
            }
            if let Some(key) = key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()) {
                // A later <add> of the same key wins, as in IIS's merged view.
                settings.retain(|(k, _): &(String, String)| *k != key);
                settings.push((key, value.unwrap_or_default()));
            }
        }
        if is_start {
            if stack.len() >= MAX_DEPTH {
                return Err((
                    reader.buffer_position(),
                    format!("elements nested deeper than {MAX_DEPTH}"),
                ));
            }
            stack.push(element.local_name().as_ref().to_vec());
        }
    }
}

fn in_app_settings(stack: &[Vec<u8>]) -> bool {
    stack.len() == 2 && stack[0] == b"configuration" && stack[1] == b"appSettings"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_app_settings_only() {
        let text = r#"<?xml version="1.0"?>
<configuration>
  <appSettings>
    <add key="WSGI_HANDLER" value="app:app" />
    <add key=" PYTHONPATH " value="C:\site;%APPL_PHYSICAL_PATH%\lib"></add>
    <clear />
    <add key="WSGI_HANDLER" value="app.create_app()" />
  </appSettings>
  <system.webServer><appSettings><add key="NOT" value="this"/></appSettings></system.webServer>
  <location><appSettings><add key="NOR" value="this"/></appSettings></location>
</configuration>"#;
        assert_eq!(
            parse(text).unwrap(),
            vec![
                (
                    "PYTHONPATH".to_owned(),
                    r"C:\site;%APPL_PHYSICAL_PATH%\lib".to_owned()
                ),
                ("WSGI_HANDLER".to_owned(), "app.create_app()".to_owned()),
            ]
        );
    }

    #[test]
    fn entities_are_unescaped() {
        let text = r#"<configuration><appSettings><add key="A" value="x &amp; &quot;y&quot;"/></appSettings></configuration>"#;
        assert_eq!(
            parse(text).unwrap(),
            vec![("A".to_owned(), "x & \"y\"".to_owned())]
        );
    }

    #[test]
    fn broken_xml_says_where() {
        let (pos, _) = parse("<configuration><appSettings></configuration>").unwrap_err();
        assert!(pos > 0);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "<a>".repeat(10_000);
        let (_, message) = parse(&text).unwrap_err();
        assert!(message.contains("deeper than 256"), "{message}");
    }
}
