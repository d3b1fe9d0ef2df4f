//! `iiswsgi-install.xml`, which `iiswsgi build` writes beside the gateway
//! when iiswsgi.toml declares data folders or set-up commands (the
//! writer and the format: the tool's src/render/install_file.rs):
//!
//! ```xml
//! <iiswsgiInstall version="1">
//!   <dataFolder path="instance" />
//!   <run command="flask --app flaskr init-db" timeoutSeconds="600" successCodes="0" when="first-install" />
//! </iiswsgiInstall>
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_xml::Reader;
use quick_xml::events::Event;

pub const FILE_NAME: &str = "iiswsgi-install.xml";

/// One `[[install.run]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupCommand {
    pub command: String,
    pub timeout: Duration,
    pub success_codes: Vec<i64>,
    pub first_install_only: bool,
}

/// What the file asks of the install step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallFile {
    /// Where it was read from (None: there is none; the defaults apply).
    pub path: Option<PathBuf>,
    /// `/`-separated, relative to the app folder.
    pub data_folders: Vec<String>,
    pub run: Vec<SetupCommand>,
}

/// The file for the app in `app`: beside the exe running (the runCommand
/// runs the app's own `bin\iiswsgi-gateway.exe`), beside the gateway
/// web.config names, or in `bin\`; none of them: the defaults.
pub fn find(app: &Path, packaged_gateway: Option<&Path>) -> Result<InstallFile, String> {
    let running = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned))
        .filter(|dir| dir.starts_with(app));
    let candidates = running
        .into_iter()
        .chain(packaged_gateway.and_then(Path::parent).map(Path::to_owned))
        .chain([app.join("bin")]);
    for dir in candidates {
        let path = dir.join(FILE_NAME);
        if path.is_file() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut file = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            file.path = Some(path);
            return Ok(file);
        }
    }
    Ok(InstallFile::default())
}

/// Parses the file's text.
pub fn parse(text: &str) -> Result<InstallFile, String> {
    let mut reader = Reader::from_str(text);
    let mut file = InstallFile::default();
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed at byte {}: {e}", reader.buffer_position()))?;
        let (element, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = element.local_name().as_ref().to_vec();
        let mut attrs = Vec::new();
        for attr in element.attributes() {
            let attr = attr.map_err(|e| e.to_string())?;
            let value = attr.unescape_value().map_err(|e| e.to_string())?;
            attrs.push((attr.key.local_name().as_ref().to_vec(), value.into_owned()));
        }
        let get = |key: &[u8]| {
            attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        match (depth, name.as_slice()) {
            (0, b"iiswsgiInstall") => {
                if get(b"version") != Some("1") {
                    return Err(format!(
                        "version {:?} is not one this gateway reads (1); install with the gateway the package bundles",
                        get(b"version").unwrap_or("")
                    ));
                }
                saw_root = true;
            }
            (1, b"dataFolder") => {
                let path = get(b"path")
                    .map(|p| p.trim_matches(['/', '\\']).replace('\\', "/"))
                    .filter(|p| !p.is_empty() && !p.split('/').any(|c| c == ".." || c == "."))
                    .ok_or("a <dataFolder> without a relative path")?;
                file.data_folders.push(path);
            }
            (1, b"run") => {
                let command = get(b"command")
                    .filter(|c| !c.trim().is_empty())
                    .ok_or("a <run> without a command")?
                    .to_owned();
                let timeout = get(b"timeoutSeconds")
                    .unwrap_or("600")
                    .parse::<u64>()
                    .map_err(|_| {
                        format!("<run command={command:?}>: timeoutSeconds is not a number")
                    })?;
                let success_codes = get(b"successCodes")
                    .unwrap_or("0")
                    .split(';')
                    .map(|c| c.trim().parse::<i64>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        format!("<run command={command:?}>: successCodes are not numbers")
                    })?;
                let first_install_only = match get(b"when").unwrap_or("always") {
                    "always" => false,
                    "first-install" => true,
                    other => {
                        return Err(format!(
                            "<run command={command:?}>: when={other:?} is neither \"always\" nor \"first-install\""
                        ));
                    }
                };
                file.run.push(SetupCommand {
                    command,
                    timeout: Duration::from_secs(timeout),
                    success_codes,
                    first_install_only,
                });
            }
            (d, other) => {
                return Err(format!(
                    "unexpected <{}> at depth {d}",
                    String::from_utf8_lossy(other)
                ));
            }
        }
        if !empty {
            depth += 1;
        }
    }
    if !saw_root {
        return Err("no <iiswsgiInstall> element".into());
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_tool_writes() {
        let text = r#"<?xml version="1.0" encoding="utf-8"?>
<!-- a comment -->
<iiswsgiInstall version="1">
  <dataFolder path="instance" />
  <dataFolder path="media/uploads/" />
  <run command="python manage.py migrate --noinput &amp;&amp; echo &quot;done&quot;" timeoutSeconds="90" successCodes="0;2" when="always" />
  <run command="flask init-db" timeoutSeconds="600" successCodes="0" when="first-install" />
</iiswsgiInstall>
"#;
        let file = parse(text).unwrap();
        assert_eq!(file.data_folders, ["instance", "media/uploads"]);
        assert_eq!(
            file.run,
            [
                SetupCommand {
                    command: r#"python manage.py migrate --noinput && echo "done""#.into(),
                    timeout: Duration::from_secs(90),
                    success_codes: vec![0, 2],
                    first_install_only: false,
                },
                SetupCommand {
                    command: "flask init-db".into(),
                    timeout: Duration::from_secs(600),
                    success_codes: vec![0],
                    first_install_only: true,
                }
            ]
        );
    }

    #[test]
    fn what_it_cannot_follow_is_an_error() {
        assert!(
            parse("<iiswsgiInstall version=\"2\"/>")
                .unwrap_err()
                .contains("version \"2\"")
        );
        assert!(
            parse("<other/>")
                .unwrap_err()
                .contains("unexpected <other>")
        );
        assert!(
            parse("<iiswsgiInstall version=\"1\"><dataFolder path=\"../x\"/></iiswsgiInstall>")
                .unwrap_err()
                .contains("relative path")
        );
        assert!(
            parse(
                "<iiswsgiInstall version=\"1\"><run command=\"x\" when=\"later\"/></iiswsgiInstall>"
            )
            .unwrap_err()
            .contains("when=\"later\"")
        );
        assert!(parse("").unwrap_err().contains("no <iiswsgiInstall>"));
    }
}
