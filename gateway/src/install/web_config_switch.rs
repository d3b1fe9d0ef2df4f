//! The install step's switch: web.config made to point at the gateway and
//! the venv in the state folder, in one write (IIS starts new FastCGI
//! processes for a changed web.config; the old ones finish and end).
//!
//! Text edits, not a rewrite of the document, so the rest of web.config
//! (comments, the user's own settings, whitespace) is left as it was; the
//! result is parsed before it is written.

use std::path::{Path, PathBuf};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Whether `path` is inside `folder` (either separator, Windows' case rule).
fn under(path: &str, folder: &Path) -> Option<String> {
    let norm = |s: &str| s.replace('\\', "/").to_ascii_lowercase();
    let folder = folder.to_string_lossy();
    let folder = folder.trim_end_matches(['\\', '/']);
    let p = norm(path);
    let f = norm(folder);
    p.strip_prefix(&f)
        .filter(|rest| rest.starts_with('/'))
        .map(|_| path[folder.len() + 1..].to_owned())
}

/// The `scriptProcessor` values in web.config, unescaped, with where each
/// value starts and ends in the text.
fn script_processors(text: &str) -> Vec<(usize, usize, String)> {
    let key = "scriptProcessor=\"";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(key) {
        let start = from + at + key.len();
        let Some(len) = text[start..].find('"') else {
            break;
        };
        out.push((start, start + len, unescape(&text[start..start + len])));
        from = start + len;
    }
    out
}

/// The gateway exe the package brought, as web.config's handler names it
/// inside the app folder (after the path substitution); else the default
/// `bin\iiswsgi-gateway.exe` when it is there.
pub fn packaged_gateway(text: &str, app: &Path) -> Option<PathBuf> {
    let named = script_processors(text)
        .into_iter()
        .find_map(|(_, _, value)| {
            let rest = under(&value, app)?;
            Some(
                rest.split(['\\', '/'])
                    .fold(app.to_owned(), |p, c| p.join(c)),
            )
        });
    named
        .or_else(|| Some(app.join("bin").join("iiswsgi-gateway.exe")))
        .filter(|p| p.is_file())
}

/// web.config pointing at `gateway` (every handler whose scriptProcessor
/// is in the app folder or the state folder) and at `venv` (the
/// IISWSGI_VENV setting, and HttpPlatformHandler's python, which the
/// template puts in the app folder's `.venv`, or a previous venv had).
pub fn point(
    text: &str,
    app: &Path,
    state_root: &Path,
    gateway: Option<&Path>,
    venv: Option<&Path>,
    previous_venv: Option<&Path>,
) -> Result<String, String> {
    let mut out = text.to_owned();
    if let Some(gateway) = gateway {
        let new = escape(&gateway.to_string_lossy());
        for (start, end, value) in script_processors(text).into_iter().rev() {
            if under(&value, app).is_some() || under(&value, state_root).is_some() {
                out.replace_range(start..end, &new);
            }
        }
    }
    if let Some(venv) = venv {
        let venv_text = venv.to_string_lossy().into_owned();
        for old in [
            Some(format!("{}\\.venv", app.to_string_lossy())),
            previous_venv.map(|p| p.to_string_lossy().into_owned()),
        ]
        .into_iter()
        .flatten()
        {
            for sep in ['\\', '/'] {
                out = out.replace(
                    &format!("{}{sep}", escape(&old)),
                    &format!("{}{sep}", escape(&venv_text)),
                );
            }
        }
        out = set_app_setting(&out, "IISWSGI_VENV", &venv_text)?;
    }
    crate::web_config::parse(&out).map_err(|(at, m)| {
        format!("web.config would not parse after pointing it at the new version (byte {at}): {m}")
    })?;
    Ok(out)
}

/// `<add key="KEY" value="VALUE" />` in `<appSettings>`: its value
/// replaced, or the element added (and `<appSettings>` with it).
fn set_app_setting(text: &str, key: &str, value: &str) -> Result<String, String> {
    let value = escape(value);
    let needle = format!("key=\"{key}\"");
    if let Some(at) = text.find(&needle) {
        let element_start = text[..at].rfind('<').ok_or("a malformed <add>")?;
        let element_end = at + text[at..].find('>').ok_or("a malformed <add>")? + 1;
        let element = &text[element_start..element_end];
        let replaced = match element.find("value=\"") {
            Some(v) => {
                let vstart = v + "value=\"".len();
                let vend = vstart + element[vstart..].find('"').ok_or("a malformed value")?;
                format!("{}{value}{}", &element[..vstart], &element[vend..])
            }
            None => element.replacen(&needle, &format!("{needle} value=\"{value}\""), 1),
        };
        return Ok(format!(
            "{}{replaced}{}",
            &text[..element_start],
            &text[element_end..]
        ));
    }
    let add = format!("<add key=\"{key}\" value=\"{value}\" />");
    if let Some(at) = text.find("</appSettings>") {
        return Ok(format!("{}  {add}\n  {}", &text[..at], &text[at..]));
    }
    if let Some(at) = text
        .find("<appSettings />")
        .or_else(|| text.find("<appSettings/>"))
    {
        let len = if text[at..].starts_with("<appSettings />") {
            "<appSettings />".len()
        } else {
            "<appSettings/>".len()
        };
        return Ok(format!(
            "{}<appSettings>\n    {add}\n  </appSettings>{}",
            &text[..at],
            &text[at + len..]
        ));
    }
    let open = text.find("<configuration").ok_or("no <configuration>")?;
    let after = open
        + text[open..]
            .find('>')
            .ok_or("a malformed <configuration>")?
        + 1;
    Ok(format!(
        "{}\n  <appSettings>\n    {add}\n  </appSettings>{}",
        &text[..after],
        &text[after..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<!-- written by iiswsgi -->
<configuration>
  <appSettings>
    <add key="WSGI_HANDLER" value="app:app" />
  </appSettings>
  <system.webServer>
    <handlers>
      <add name="App-wsgi" path="*" verb="*" modules="FastCgiModule"
           scriptProcessor="C:\sites\A &amp; B\bin\iiswsgi-gateway.exe"
           resourceType="Unspecified" requireAccess="Script" />
    </handlers>
  </system.webServer>
</configuration>
"#;

    #[test]
    fn the_handler_and_the_venv_setting_point_at_the_state_folder() {
        let app = Path::new(r"C:\sites\A & B");
        let state = Path::new(r"C:\ProgramData\iiswsgi\apps\Default Web Site_A");
        let gateway = state.join(r"gateway\0123456789abcdef\iiswsgi-gateway.exe");
        let venv =
            Path::new(r"C:\ProgramData\iiswsgi\apps\Default Web Site_A\venvs\fedcba9876543210");
        let out = point(PACKAGED, app, state, Some(&gateway), Some(venv), None).unwrap();
        let expected = PACKAGED
            .replace(
                r"C:\sites\A &amp; B\bin\iiswsgi-gateway.exe",
                &gateway.to_string_lossy(),
            )
            .replace(
                "    <add key=\"WSGI_HANDLER\" value=\"app:app\" />\n",
                &format!(
                    "    <add key=\"WSGI_HANDLER\" value=\"app:app\" />\n    <add key=\"IISWSGI_VENV\" value=\"{}\" />\n",
                    venv.display()
                ),
            );
        assert_eq!(out, expected);
        // Again (an install with nothing new): the same text.
        let again = point(&out, app, state, Some(&gateway), Some(venv), Some(venv)).unwrap();
        assert_eq!(again, out);
        // A newer version replaces the older one's paths.
        let newer = state.join(r"gateway\1111111111111111\iiswsgi-gateway.exe");
        let newer_venv = state.join(r"venvs\2222222222222222");
        let next = point(
            &out,
            app,
            state,
            Some(&newer),
            Some(&newer_venv),
            Some(venv),
        )
        .unwrap();
        assert!(
            next.contains(&format!("scriptProcessor=\"{}\"", newer.display())),
            "{next}"
        );
        assert!(next.contains(&format!(
            "key=\"IISWSGI_VENV\" value=\"{}\"",
            newer_venv.display()
        )));
        assert_eq!(next.matches("IISWSGI_VENV").count(), 1);
    }

    #[test]
    fn http_platform_handlers_python_moves_to_the_state_venv() {
        let text = r#"<configuration><appSettings /><system.webServer>
<httpPlatform processPath="C:\sites\App\.venv\Scripts\python.exe" arguments="-m waitress" /></system.webServer></configuration>"#;
        let venv = Path::new(r"D:\state\venvs\abc");
        let out = point(
            text,
            Path::new(r"C:\sites\App"),
            Path::new(r"D:\state"),
            None,
            Some(venv),
            None,
        )
        .unwrap();
        assert!(
            out.contains(r#"processPath="D:\state\venvs\abc\Scripts\python.exe""#),
            "{out}"
        );
        assert!(
            out.contains(
                r#"<appSettings>
    <add key="IISWSGI_VENV" value="D:\state\venvs\abc" />
  </appSettings>"#
            ),
            "{out}"
        );
    }

    #[test]
    fn the_packaged_gateway_is_found_under_the_app_folder_with_either_separator() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("bin")).unwrap();
        std::fs::write(d.path().join("bin/gw.exe"), "MZ").unwrap();
        let text = format!(
            r#"<configuration><system.webServer><handlers><add name="x" scriptProcessor="{}\bin\gw.exe" /></handlers></system.webServer></configuration>"#,
            d.path().display()
        );
        assert_eq!(
            packaged_gateway(&text, d.path()),
            Some(d.path().join("bin/gw.exe"))
        );
        // Switched already (a second install): the default place, if there.
        assert_eq!(packaged_gateway("<configuration/>", d.path()), None);
        std::fs::write(d.path().join("bin/iiswsgi-gateway.exe"), "MZ").unwrap();
        assert_eq!(
            packaged_gateway("<configuration/>", d.path()),
            Some(d.path().join("bin/iiswsgi-gateway.exe"))
        );
    }
}
