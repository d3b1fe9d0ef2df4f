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

/// Builds a project whose only content is `[[files.map]]` `maps` (TOML),
/// inside `outer/project`; returns (exit code, stderr, stdout of --plan).
fn map_build(maps: &str, setup: impl FnOnce(&std::path::Path)) -> (i32, String, String) {
    let outer = tempfile::tempdir().unwrap();
    let project = outer.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(outer.path().join("secret.txt"), "outside\n").unwrap();
    std::fs::write(project.join("app.py"), "").unwrap();
    std::fs::write(
        project.join("iiswsgi.toml"),
        format!("{}{maps}", manifest("include = [\"app.py\"]")),
    )
    .unwrap();
    setup(&project);
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(&project)
        .args(["build", "--plan"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_mapped_source_outside_the_project_is_refused_with_its_line() {
    // An absolute path, a `..` path and a link out of the project: each is
    // an error pointing at the src, and nothing is packaged.
    let (code, err, out) = map_build(
        "[[files.map]]\nsrc = \"/etc/hostname\"\ndest = \"h\"\n",
        |_| {},
    );
    assert_eq!(code, 78, "{err}");
    assert!(
        err.contains("mapped file `/etc/hostname` is outside the project: /etc/hostname"),
        "{err}"
    );
    assert!(
        err.contains("iiswsgi.toml:") && err.contains("allow-outside-project = true"),
        "{err}"
    );
    assert!(out.is_empty());

    let (code, err, _) = map_build(
        "[[files.map]]\nsrc = \"../secret.txt\"\ndest = \"s\"\n",
        |_| {},
    );
    assert_eq!(code, 78, "{err}");
    assert!(
        err.contains("mapped file `../secret.txt` is outside the project:"),
        "{err}"
    );
    assert!(!err.contains("symbolic link"), "{err}");

    let (code, err, _) = map_build("[[files.map]]\nsrc = \"link.txt\"\ndest = \"s\"\n", |p| {
        std::os::unix::fs::symlink(p.parent().unwrap().join("secret.txt"), p.join("link.txt"))
            .unwrap();
    });
    assert_eq!(code, 78, "{err}");
    assert!(
        err.contains("mapped file `link.txt` is outside the project (through a symbolic link)"),
        "{err}"
    );
}

#[test]
fn allow_outside_project_packages_it_and_says_so() {
    let (code, err, out) = map_build(
        "[[files.map]]\nsrc = \"../secret.txt\"\ndest = \"s.txt\"\nallow-outside-project = true\n",
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("App/s.txt"), "{out}");
    assert!(err.contains("[[files.map]] src `../secret.txt` is outside the project (allow-outside-project = true)"), "{err}");
    // Inside the project, a map needs no opt-in and warns of nothing.
    let (code, err, _) = map_build(
        "[[files.map]]\nsrc = \"./app.py\"\ndest = \"copy.py\"\n",
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("outside"), "{err}");
}

#[test]
fn a_workspace_member_may_map_files_of_the_workspace() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(
        ws.path().join("iiswsgi.toml"),
        "[workspace]\nmembers = [\"apps/*\"]\n",
    )
    .unwrap();
    std::fs::write(ws.path().join("shared.ini"), "[x]\n").unwrap();
    let member = ws.path().join("apps/one");
    std::fs::create_dir_all(&member).unwrap();
    std::fs::write(member.join("app.py"), "").unwrap();
    std::fs::write(
        member.join("iiswsgi.toml"),
        "[app]\nname = \"One\"\nversion = \"1\"\n[files]\ninclude = [\"app.py\"]\n[[files.map]]\nsrc = \"../../shared.ini\"\ndest = \"shared.ini\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(ws.path())
        .args(["build", "--plan"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("One/shared.ini"));
}
