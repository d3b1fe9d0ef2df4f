//! Which project files `[files]` selects: include and exclude globs, folder
//! globs, and the folders never walked. Read from `build --plan`'s JSON.

mod common;

use assert_cmd::Command;

/// The project files (sources, `/`-separated) the plan of `manifest` packages,
/// given a tree of empty `files`.
fn selected(manifest: &str, files: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("iiswsgi.toml"), manifest).unwrap();
    for f in files {
        let path = dir.path().join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .args(["build", "--plan", "--message-format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sources: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["reason"] == "plan-entry" && v["kind"] == "file")
        .map(|v| v["source"].as_str().unwrap().to_string())
        .filter(|s| !s.starts_with('('))
        .collect();
    sources.sort();
    sources
}

const TREE: &[&str] = &[
    "app.py",
    "setup.cfg",
    "README.txt",
    "app/views.py",
    "app/views.pyc",
    "app/__pycache__/views.cpython-311.pyc",
    "app/tests/test_views.py",
    "app/tests/data/sample.txt",
    "static/site.css",
    "static/img/logo.svg",
    "docs/index.rst",
    ".git/config",
    ".hg/store",
    "dist/Old-1.msdeploy.zip",
];

fn manifest(files: &str) -> String {
    format!("[app]\nname = \"App\"\nversion = \"1\"\n\n[files]\n{files}\n")
}

#[test]
fn default_takes_everything_but_vcs_and_output_folders() {
    assert_eq!(
        selected(&manifest(""), TREE),
        [
            "README.txt",
            "app.py",
            "app/__pycache__/views.cpython-311.pyc",
            "app/tests/data/sample.txt",
            "app/tests/test_views.py",
            "app/views.py",
            "app/views.pyc",
            "docs/index.rst",
            "iiswsgi.toml",
            "setup.cfg",
            "static/img/logo.svg",
            "static/site.css",
        ]
    );
}

#[test]
fn star_stays_in_a_folder_double_star_crosses_folders() {
    let files = r#"include = ["*.py", "*.cfg"]"#;
    assert_eq!(selected(&manifest(files), TREE), ["app.py", "setup.cfg"]);
    let files = r#"include = ["**/*.py"]"#;
    assert_eq!(
        selected(&manifest(files), TREE),
        ["app.py", "app/tests/test_views.py", "app/views.py"]
    );
}

#[test]
fn an_include_glob_naming_a_folder_takes_all_under_it() {
    let files = r#"include = ["static", "app/t*"]"#;
    assert_eq!(
        selected(&manifest(files), TREE),
        [
            "app/tests/data/sample.txt",
            "app/tests/test_views.py",
            "static/img/logo.svg",
            "static/site.css",
        ]
    );
}

#[test]
fn an_exclude_glob_naming_a_folder_leaves_out_all_under_it() {
    // `app/tests` and `**/__pycache__` name folders; `**/*.pyc` names files.
    let files = r#"include = ["app/**", "app/tests/data/sample.txt"]
exclude = ["app/tests", "**/__pycache__", "**/*.pyc"]"#;
    assert_eq!(selected(&manifest(files), TREE), ["app/views.py"]);
    // The `/**` form excludes what is under the folder too.
    let files = r#"include = ["app"]
exclude = ["**/__pycache__/**", "app/tests/**"]"#;
    assert_eq!(
        selected(&manifest(files), TREE),
        ["app/views.py", "app/views.pyc"]
    );
}
