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
fn default_takes_everything_but_vcs_and_output_folders_caches_and_tests() {
    assert_eq!(
        selected(&manifest(""), TREE),
        [
            "README.txt",
            "app.py",
            "app/views.py",
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
    assert_eq!(selected(&manifest(files), TREE), ["app.py", "app/views.py"]);
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

/// `build --plan --message-format json` in `dir`: (packaged sources,
/// left-out (path, why)).
fn plan_of(dir: &std::path::Path) -> (Vec<String>, Vec<(String, String)>, String) {
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir)
        .args(["build", "--plan", "--message-format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let packaged = lines
        .iter()
        .filter(|v| v["reason"] == "plan-entry" && v["kind"] == "file")
        .map(|v| v["source"].as_str().unwrap().to_string())
        .collect();
    let left_out = lines
        .iter()
        .filter(|v| v["reason"] == "left-out")
        .map(|v| {
            (
                v["path"].as_str().unwrap().to_string(),
                v["why"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let warnings = lines
        .iter()
        .filter(|v| v["level"] == "warning")
        .map(|v| v["message"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    (packaged, left_out, warnings)
}

#[test]
fn local_data_and_secrets_stay_out_and_the_plan_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A project in a git repository, run once locally: a gitignored dev
    // database, Flask's instance/ with the dev secret, a .env, a test suite.
    common::run_ok(
        std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(root),
    );
    for (path, text) in [
        ("iiswsgi.toml", "[app]\nname = \"App\"\nversion = \"1\"\n"),
        (".gitignore", "*.log\nbuild-output/\n!keep.log\n"),
        ("app.py", "app = None\n"),
        ("app.log", "a log\n"),
        ("keep.log", "re-included by !keep.log\n"),
        ("build-output/x.txt", "generated\n"),
        ("pkg/.gitignore", "local.txt\n"),
        ("pkg/local.txt", "ignored by the folder's own .gitignore\n"),
        ("pkg/mod.py", "\n"),
        ("instance/config.py", "SECRET_KEY = 'dev'\n"),
        ("dev.sqlite3", "SQLite format 3\n"),
        (".env", "TOKEN=1\n"),
        ("tests/test_app.py", "\n"),
    ] {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let (packaged, left_out, _) = plan_of(root);
    assert_eq!(
        packaged,
        ["app.py", "iiswsgi.toml", "keep.log", "pkg/mod.py"]
    );
    let never = "never packaged unless named";
    assert_eq!(
        left_out,
        [
            (".env".to_string(), format!("{never}: a secret (.env)")),
            (".gitignore".into(), format!("{never}: repository metadata")),
            (
                "app.log".into(),
                "ignored by git (`*.log` in .gitignore)".into()
            ),
            (
                "build-output/".into(),
                "ignored by git (`build-output/` in .gitignore)".into()
            ),
            (
                "dev.sqlite3".into(),
                format!("{never}: local data (a SQLite database)")
            ),
            (
                "instance/".into(),
                format!("{never}: local data (Flask's instance folder)")
            ),
            (
                "pkg/.gitignore".into(),
                format!("{never}: repository metadata")
            ),
            (
                "pkg/local.txt".into(),
                "ignored by git (`local.txt` in pkg/.gitignore)".into()
            ),
            ("tests/".into(), format!("{never}: the test suite")),
        ]
    );
    // Named, they are packaged; a named secret is a warning naming it.
    std::fs::write(
        root.join("iiswsgi.toml"),
        "[app]\nname = \"App\"\nversion = \"1\"\n[files]\ninclude = [\"*.py\", \"tests/**\", \".env\", \"build-output/**\"]\n",
    )
    .unwrap();
    let (packaged, _, warnings) = plan_of(root);
    assert_eq!(
        packaged,
        [".env", "app.py", "build-output/x.txt", "tests/test_app.py"]
    );
    assert!(
        warnings
            .contains("`.env` looks like a secret (.env) and is packaged because [files] names it"),
        "{warnings}"
    );
    // `gitignore = false`: git's rules are not read; the built-in list stays.
    std::fs::write(
        root.join("iiswsgi.toml"),
        "[app]\nname = \"App\"\nversion = \"1\"\n[files]\ngitignore = false\n",
    )
    .unwrap();
    let (packaged, ..) = plan_of(root);
    assert_eq!(
        packaged,
        [
            "app.log",
            "app.py",
            "build-output/x.txt",
            "iiswsgi.toml",
            "keep.log",
            "pkg/local.txt",
            "pkg/mod.py"
        ]
    );
}

/// A change to a `.gitignore` is seen by the next build even when the
/// listing of the tree is reused (no folder changed).
#[test]
fn editing_a_gitignore_changes_the_next_selection() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("iiswsgi.toml"),
        "[app]\nname = \"App\"\nversion = \"1\"\n",
    )
    .unwrap();
    std::fs::write(root.join("app.py"), "app = None\n").unwrap();
    std::fs::write(root.join("notes.txt"), "notes\n").unwrap();
    std::fs::write(root.join(".gitignore"), "*.md\n").unwrap();
    // Old enough that the listing may be cached.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let build = || {
        Command::cargo_bin("iiswsgi")
            .unwrap()
            .current_dir(root)
            .args(["build", "-v"])
            .output()
            .unwrap()
    };
    let out = build();
    assert!(out.status.success());
    assert!(root.join("dist/.App-1.msdeploy.zip.listing").is_file());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(root.join(".gitignore"), "*.txt\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = build();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.trim_start().starts_with("notes.txt ")
                && l.ends_with("ignored by git (`*.txt` in .gitignore)")),
        "{stderr}"
    );
    assert!(
        stderr.contains("listed the tree"),
        "the edit made the listing stale: {stderr}"
    );
}
