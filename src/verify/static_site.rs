//! What IIS answers itself: a URL in a folder whose web.config removes the
//! Python handler (`[iis] static-folders`, `[iis] static`) is served by
//! IIS's static file handler from the app's files, never by the app. Verify
//! answers those requests the same way, from the laid-out package, so a
//! static URL that IIS would not find fails here too (404), however the
//! app would have answered it.

use std::path::{Component, Path};

use super::fastcgi_client::Response;

/// IIS's answer for `url` (relative to the app, with its query) when a
/// static folder holds it; None when the request goes to the app.
pub fn answer(app: &Path, url: &str) -> Option<Response> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let file = app.join(rel);
    let mut folder = file.parent()?;
    let mut served = false;
    while folder.starts_with(app) && folder != app {
        if removes_the_handler(folder) {
            served = true;
            break;
        }
        folder = folder.parent()?;
    }
    // A folder URL itself (`/static/`) is the folder's, too.
    if !served && file.is_dir() && removes_the_handler(&file) {
        served = true;
    }
    if !served {
        return None;
    }
    Some(match std::fs::read(&file) {
        Ok(body) if file.is_file() => Response {
            status: 200,
            headers: vec![("Content-Length".to_owned(), body.len().to_string())],
            body,
        },
        // IIS's static handler: no listing, no file.
        _ => Response {
            status: 404,
            headers: Vec::new(),
            body: b"404 - File or directory not found (IIS's static file handler)".to_vec(),
        },
    })
}

/// Whether `folder`'s web.config takes the app's handler away.
fn removes_the_handler(folder: &Path) -> bool {
    ["web.config", "Web.config"].iter().any(|name| {
        std::fs::read_to_string(folder.join(name))
            .is_ok_and(|t| t.contains("<handlers>") && t.contains("<remove name="))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_under_a_static_folder_are_iis_s_and_the_rest_the_app_s() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        std::fs::create_dir_all(app.join("static/img")).unwrap();
        std::fs::write(
            app.join("static/web.config"),
            "<configuration><system.webServer><handlers><remove name=\"A-wsgi\" /></handlers></system.webServer></configuration>",
        )
        .unwrap();
        std::fs::write(app.join("static/img/logo.svg"), "<svg/>").unwrap();
        std::fs::write(app.join("app.py"), "").unwrap();
        let logo = answer(app, "/static/img/logo.svg?v=2").unwrap();
        assert_eq!((logo.status, logo.body.as_slice()), (200, &b"<svg/>"[..]));
        assert_eq!(answer(app, "/static/missing.css").unwrap().status, 404);
        assert!(answer(app, "/app.py").is_none(), "the app's");
        assert!(answer(app, "/").is_none());
        assert!(answer(app, "/static/../app.py").is_none());
    }
}
