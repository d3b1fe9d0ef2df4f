//! Issue #2: every kind of bad input is an error with the right exit code
//! and message, and no package is written.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const GOOD: &str = r#"
[app]
name = "App"
version = "1.0"

[files]
include = ["**/*.py"]
"#;

/// A throw-away project folder.
struct Project {
    dir: tempfile::TempDir,
    manifest: String,
}

impl Project {
    fn new(manifest: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("iiswsgi.toml"), manifest).unwrap();
        std::fs::write(dir.path().join("app.py"), "application = None\n").unwrap();
        Project {
            dir,
            manifest: manifest.to_string(),
        }
    }
    /// Where `needle` is in this project's iiswsgi.toml.
    fn loc(&self, needle: &str) -> String {
        loc(&self.manifest, needle)
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn file(&self, rel: &str, content: &[u8]) -> &Self {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
        cmd.current_dir(self.dir.path())
            .args(args)
            .env_remove("SOURCE_DATE_EPOCH");
        cmd
    }
    /// Runs `build`, expects `code`, returns stderr.
    fn build_fails(&self, code: i32) -> String {
        let out = self.cmd(&["build"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "stderr:\n{stderr}");
        assert!(!out.status.success());
        assert_eq!(
            dist_files(&self.path("dist")),
            Vec::<String>::new(),
            "nothing written"
        );
        stderr
    }
}

fn dist_files(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `iiswsgi.toml:LINE:COLUMN` of the first occurrence of `needle` in `text`.
fn loc(text: &str, needle: &str) -> String {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in manifest"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("iiswsgi.toml:{line}:{column}")
}

fn assert_contains(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "expected {n:?} in:\n{haystack}");
    }
}

#[test]
fn good_manifest_builds() {
    let p = Project::new(GOOD);
    p.cmd(&["build"]).assert().success();
    let mut files = dist_files(&p.path("dist"));
    files.sort();
    assert_eq!(
        files,
        [
            ".App-1.0.msdeploy.zip.inputs",
            "App-1.0.SetParameters.xml",
            "App-1.0.deploy-readme.txt",
            "App-1.0.deploy.cmd",
            "App-1.0.msdeploy.zip",
            "App-1.0.msdeploy.zip.sha256"
        ],
        "the zip, its .sha256, the record of its inputs (for no-op rebuilds), and what Visual Studio writes beside a package"
    );
    // [deploy] scripts = false: the zip and its checksum only.
    let p = Project::new(&format!("{GOOD}\n[deploy]\nscripts = false\n"));
    p.cmd(&["build"]).assert().success();
    let mut files = dist_files(&p.path("dist"));
    files.sort();
    assert_eq!(
        files,
        [
            ".App-1.0.msdeploy.zip.inputs",
            "App-1.0.msdeploy.zip",
            "App-1.0.msdeploy.zip.sha256"
        ]
    );
}

#[test]
fn unknown_key_suggests_the_closest() {
    let p = Project::new(&format!(
        "{GOOD}\n[[run-command]]\ncommand = \"x.cmd\"\nwait-intervl = 10\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "unknown key `wait-intervl`",
            "did you mean `wait-interval`?",
            &p.loc("wait-intervl"),
        ],
    );
}

#[test]
fn unknown_top_level_table() {
    let p = Project::new(&format!("{GOOD}\n[gatway]\npath = \"x.exe\"\n"));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "unknown key `gatway`",
            "did you mean `gateway`?",
            &p.loc("gatway"),
        ],
    );
}

#[test]
fn wrong_type() {
    let p = Project::new(&format!(
        "{GOOD}\n[[run-command]]\ncommand = \"x.cmd\"\nwait-attempts = \"ten\"\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "invalid type: string \"ten\", expected u32",
            &p.loc("\"ten\""),
        ],
    );
}

#[test]
fn missing_required_field() {
    let p = Project::new("[app]\nname = \"App\"\n");
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &["missing required key `version`", "iiswsgi.toml:1:1"],
    );
}

#[test]
fn invalid_app_name() {
    let p = Project::new("[app]\nname = \"My App\"\nversion = \"1\"\n");
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "app name `My App` cannot be used as a product id and folder name",
            "iiswsgi.toml:2:8",
        ],
    );
    let p = Project::new("[app]\nname = \"CON\"\nversion = \"1\"\n");
    assert_contains(&p.build_fails(78), &["reserved device name"]);
}

#[test]
fn bad_regex_in_parameter_scope() {
    let p = Project::new(&format!(
        "{GOOD}\n[[parameters]]\nname = \"p\"\nentries = [{{ kind = \"text-file\", scope = '\\\\setup\\.cfg$(', match = \"x\" }}]\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "scope is not a valid regular expression",
            "unclosed group",
            &p.loc("'\\\\setup"),
        ],
    );
}

#[test]
fn enumeration_default_outside_its_values() {
    let p = Project::new(&format!(
        "{GOOD}\n[[parameters]]\nname = \"db\"\ndefault = \"oracle\"\nvalidation = {{ kind = \"enumeration\", values = [\"sqlite\", \"postgres\"] }}\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "default `oracle` is not one of the enumeration values",
            "use one of: sqlite, postgres",
            &p.loc("\"oracle\""),
        ],
    );
}

#[test]
fn unknown_validation_kind() {
    let p = Project::new(&format!(
        "{GOOD}\n[[parameters]]\nname = \"db\"\nvalidation = {{ kind = \"enumration\", values = [\"a\"] }}\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &["unknown value `enumration`", "did you mean `enumeration`?"],
    );
}

#[test]
fn several_problems_are_reported_together() {
    let p = Project::new(
        "[app]\nname = \"bad name\"\nversion = \"1\"\nhomepage = \"example.org\"\n[[parameters]]\nname = \"h\"\ntags = [\"Hidden\"]\n",
    );
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "cannot be used as a product id",
            "`example.org` is not an absolute URL",
            "hidden parameter `h` needs a default",
        ],
    );
}

#[test]
fn missing_map_source() {
    let p = Project::new(&format!(
        "{GOOD}\n[[files.map]]\nsrc = \"deploy/production.ini\"\ndest = \"production.ini\"\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "mapped file `deploy/production.ini` does not exist",
            &p.loc("\"deploy/production.ini\""),
        ],
    );
}

#[test]
fn gateway_arch_mismatch_and_non_pe() {
    let x86 = common::fixture("gateway/gateway-x86.exe");
    let p = Project::new(&format!(
        "{GOOD}\n[gateway]\npath = \"gw.exe\"\narch = \"x64\"\n"
    ));
    p.file("gw.exe", &std::fs::read(x86).unwrap());
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "gateway `gw.exe` is built for x86, but arch = \"x64\"",
            &p.loc("\"x64\""),
        ],
    );

    p.file("gw.exe", b"#!/bin/sh\necho not windows\n");
    let err = p.build_fails(78);
    assert_contains(&err, &["is not a Windows executable", "MZ"]);
}

#[test]
fn windows_reserved_and_forbidden_names_name_the_source() {
    for (name, why) in [
        ("CON.py", "reserved device name"),
        ("lib/aux.py", "reserved device name"),
        ("a:b.py", "contains `:`"),
        ("what?.py", "contains `?`"),
        ("pkg /trailing.py", "`pkg ` ends with a dot or space"),
        ("tab\t.py", "control character U+0009"),
    ] {
        let p = Project::new(GOOD);
        p.file(name, b"x = 1\n");
        let err = p.build_fails(1);
        assert_contains(
            &err,
            &[&format!("cannot package `{name}` as `App/{name}`"), why],
        );
    }
    // A folder with a trailing dot, too.
    let p = Project::new(GOOD);
    p.file("pkg./mod.py", b"");
    assert_contains(&p.build_fails(1), &["`pkg.` ends with a dot or space"]);
}

#[test]
fn names_equal_except_for_case() {
    let p = Project::new(GOOD);
    p.file("Readme.py", b"").file("README.py", b"");
    let err = p.build_fails(1);
    assert_contains(
        &err,
        &[
            "`README.py` (as `App/README.py`) and `Readme.py` (as `App/Readme.py`) would be the same file",
        ],
    );
}

#[test]
fn a_file_and_a_folder_equal_except_for_case() {
    let p = Project::new(GOOD);
    p.file("pkg.py", b"").file("PKG.py/mod.py", b"");
    let err = p.build_fails(1);
    assert_contains(
        &err,
        &[
            "`pkg.py` (as `App/pkg.py`) and `PKG.py/mod.py` (as `App/PKG.py/mod.py`) would be the same file",
        ],
    );
}

#[test]
fn rendered_document_collides_with_a_project_file() {
    let p = Project::new("[app]\nname = \"App\"\nversion = \"1\"\n");
    p.file("Web.Config", b"<configuration/>");
    let err = p.build_fails(1);
    assert_contains(
        &err,
        &[
            "`Web.Config`",
            "(rendered from web.config)",
            "would be the same file",
        ],
    );
}

#[test]
fn over_long_paths() {
    let p = Project::new(GOOD);
    let deep = format!("{}/{}.py", "d".repeat(120), "f".repeat(120));
    p.file(&deep, b"");
    let err = p.build_fails(1);
    assert_contains(
        &err,
        &[
            "characters long once installed under C:\\inetpub\\wwwroot\\",
            "MAX_PATH",
        ],
    );
}

#[test]
fn files_of_two_gib_or_more() {
    let p = Project::new(GOOD);
    let f = std::fs::File::create(p.path("huge.py")).unwrap();
    f.set_len(2 << 30).unwrap(); // sparse: no disk used
    let err = p.build_fails(1);
    assert_contains(&err, &["`huge.py` is 2147483648 bytes", "2 GiB"]);
}

#[test]
fn more_than_65535_entries() {
    let p = Project::new(GOOD);
    let d = p.path("many");
    std::fs::create_dir(&d).unwrap();
    for i in 0..65_535 {
        std::fs::File::create(d.join(format!("{i}.py"))).unwrap();
    }
    let err = p.build_fails(1);
    assert_contains(&err, &["entries; Web Deploy packages hold at most 65,535"]);
}

#[test]
fn template_errors_name_template_line_and_variable() {
    let p = Project::new(&format!(
        "{GOOD}\n[templates]\nweb-config = \"web.config.j2\"\n"
    ));
    p.file(
        "web.config.j2",
        b"<configuration>\n  <x name=\"{{ app.nmae }}\" />\n</configuration>\n",
    );
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "template `web.config.j2` (line 2)",
            "undefined variable `app.nmae`",
            "web.config.j2:2:",
        ],
    );

    let p = Project::new(&format!(
        "{GOOD}\n[[run-command]]\ncommand = \"run {{{{ app.verison }}}}\"\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &["undefined variable `app.verison`", &p.loc("\"run {{")],
    );

    let p = Project::new(&format!("{GOOD}\n[templates]\nmanifest = \"m.j2\"\n"));
    p.file("m.j2", b"<a>{% for x in %}</a>");
    assert_contains(&p.build_fails(78), &["template `m.j2`", "syntax error"]);
}

#[test]
fn interpolated_values_are_xml_escaped() {
    let p = Project::new(
        "[app]\nname = \"App\"\nversion = \"1\"\n[[run-command]]\ncommand = 'a.exe \"<&>\" {{ app.name }}'\n[iis]\nwsgi-handler = \"m:app\\\"/><evil/>\"\n",
    );
    p.cmd(&["build"]).assert().success();
    let zip = p.path("dist/App-1.msdeploy.zip");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("Manifest.xml").unwrap(), &mut text)
        .unwrap();
    assert!(
        text.contains(r#"path="a.exe &quot;&lt;&amp;&gt;&quot; App""#),
        "{text}"
    );
    let mut web = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("App/web.config").unwrap(), &mut web)
        .unwrap();
    assert!(
        web.contains(r#"value="m:app&quot;/&gt;&lt;evil/&gt;""#),
        "{web}"
    );
}

#[test]
fn unmatched_glob_is_a_warning() {
    let p = Project::new(
        "[app]\nname = \"App\"\nversion = \"1\"\n[files]\ninclude = [\"**/*.py\", \"static/**\"]\n",
    );
    p.cmd(&["build"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "warning: [files] include glob `static/**` matches no file",
        ));
}

#[cfg(unix)]
#[test]
fn symlinks_inside_followed_outside_skipped_loops_rejected() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.py"), "").unwrap();
    let p = Project::new(GOOD);
    p.file("real/mod.py", b"");
    std::os::unix::fs::symlink(p.path("real"), p.path("linked")).unwrap();
    std::os::unix::fs::symlink(outside.path(), p.path("escape")).unwrap();
    std::os::unix::fs::symlink(p.path("gone"), p.path("dangling.py")).unwrap();
    let out = p.cmd(&["build", "--plan"]).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("App/linked/mod.py") && stdout.contains("App/real/mod.py"),
        "{stdout}"
    );
    assert!(!stdout.contains("secret.py"), "{stdout}");
    assert!(
        stderr.contains("skipped symlink") && stderr.contains("escape"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dangling.py`: what it points to does not exist"),
        "{stderr}"
    );
    assert!(!stdout.contains("dangling.py"), "{stdout}");

    std::os::unix::fs::symlink(p.path("real"), p.path("real/loop")).unwrap();
    let err = p.build_fails(1);
    assert_contains(&err, &["symlink loop"]);
}

#[test]
fn bad_source_date_epoch() {
    let p = Project::new(GOOD);
    let out = p
        .cmd(&["build"])
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SOURCE_DATE_EPOCH=`yesterday`"));
    assert!(dist_files(&p.path("dist")).is_empty());
}

#[test]
fn no_manifest_found() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("could not find `iiswsgi.toml` here or in any parent folder")
    );
}

#[test]
fn usage_errors_exit_2() {
    let p = Project::new(GOOD);
    p.cmd(&["build", "--no-such-flag"]).assert().code(2);
    p.cmd(&["frobnicate"]).assert().code(2);
}

#[test]
fn manifest_is_found_upward_and_by_path() {
    let p = Project::new(GOOD);
    p.file("sub/deeper/x.txt", b"");
    let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
    cmd.current_dir(p.path("sub/deeper"))
        .arg("check")
        .assert()
        .success();
    let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
    cmd.arg("--manifest-path")
        .arg(p.path("iiswsgi.toml"))
        .arg("check")
        .assert()
        .success();
}

#[test]
fn failed_build_keeps_the_previous_package() {
    let p = Project::new(GOOD);
    p.cmd(&["build"]).assert().success();
    let zip = p.path("dist/App-1.0.msdeploy.zip");
    let before = std::fs::read(&zip).unwrap();
    let sums_before = std::fs::read(p.path("dist/App-1.0.msdeploy.zip.sha256")).unwrap();
    p.file("new.py", b"changed = True\n").file("NUL.py", b"");
    let out = p.cmd(&["build"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&zip).unwrap(), before);
    assert_eq!(
        std::fs::read(p.path("dist/App-1.0.msdeploy.zip.sha256")).unwrap(),
        sums_before
    );
    let mut left = dist_files(&p.path("dist"));
    left.sort();
    assert_eq!(
        left,
        [
            ".App-1.0.msdeploy.zip.inputs",
            "App-1.0.SetParameters.xml",
            "App-1.0.deploy-readme.txt",
            "App-1.0.deploy.cmd",
            "App-1.0.msdeploy.zip",
            "App-1.0.msdeploy.zip.sha256"
        ],
        "no temp files"
    );
}

#[test]
fn leftovers_of_a_killed_build_are_removed() {
    let p = Project::new(GOOD);
    p.file("dist/.App-1.0.msdeploy.zip.Ab12Cd.tmp", b"half a zip")
        .file(
            "dist/.App-1.0.msdeploy.zip.sha256.Xy34Zw.tmp",
            b"half a sum",
        )
        .file("dist/.unrelated.tmp", b"not ours");
    p.cmd(&["build"]).assert().success();
    let mut left = dist_files(&p.path("dist"));
    left.sort();
    assert_eq!(
        left,
        [
            ".App-1.0.msdeploy.zip.inputs",
            ".unrelated.tmp",
            "App-1.0.SetParameters.xml",
            "App-1.0.deploy-readme.txt",
            "App-1.0.deploy.cmd",
            "App-1.0.msdeploy.zip",
            "App-1.0.msdeploy.zip.sha256"
        ]
    );
}

#[test]
fn json_diagnostics_carry_file_line_column() {
    let p = Project::new(&format!(
        "{GOOD}\n[[run-command]]\ncommand = \"x\"\nwait-intervl = 1\n"
    ));
    let out = p
        .cmd(&["--message-format", "json", "build"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let line = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["reason"], "diagnostic");
    assert_eq!(v["level"], "error");
    assert_eq!(v["message"], "unknown key `wait-intervl`");
    assert_eq!(v["file"], "iiswsgi.toml");
    let expected = p.loc("wait-intervl");
    assert_eq!(
        format!("iiswsgi.toml:{}:{}", v["line"], v["column"]),
        expected
    );
    assert_eq!(v["help"], "did you mean `wait-interval`?");
}

#[test]
fn quiet_prints_nothing_and_out_dir_is_honoured() {
    let p = Project::new(GOOD);
    let out = p
        .cmd(&["-q", "build", "--out-dir", "elsewhere/pkgs"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    assert!(p.path("elsewhere/pkgs/App-1.0.msdeploy.zip").is_file());
    assert!(
        p.path("elsewhere/pkgs/App-1.0.msdeploy.zip.sha256")
            .is_file()
    );
    assert!(!p.path("dist").exists());

    // Without -q, the digests go to stdout and a status line to stderr.
    let out = p.cmd(&["build"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  sha1    ")
            && stdout.contains("  sha256  ")
            && stdout.contains("  size    "),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Built "));

    // Neither output folder is ever packaged, whatever the include globs say.
    std::fs::write(
        p.path("iiswsgi.toml"),
        "[app]\nname = \"App\"\nversion = \"1.0\"\n",
    )
    .unwrap();
    let out = p
        .cmd(&["build", "--plan", "--out-dir", "elsewhere/pkgs"])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(plan.contains("App/app.py"), "{plan}");
    assert!(
        !plan.contains("App/elsewhere") && !plan.contains("App/dist"),
        "{plan}"
    );
}

#[test]
fn the_windows_python_variable_does_not_turn_a_plain_verify_into_a_usage_error() {
    // IISWSGI_WINDOWS_PYTHON (and IISWSGI_WINE) belong to --windows; set in
    // a CI job's environment they must leave a plain verify alone.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .args(["verify", "missing.zip"])
        .env("IISWSGI_WINDOWS_PYTHON", dir.path())
        .env("IISWSGI_WINE", "/usr/lib/wine/wine64")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("missing.zip: No such file or directory"),
        "{err}"
    );
}

#[test]
fn a_self_test_request_that_is_no_path_is_refused_where_it_is_written() {
    let p = Project::new(&format!(
        "{GOOD}\n[install]\ntest-requests = [\"/\", \"health=200\", \"/x=20\"]\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "\"health=200\" is not a self-test request",
            &p.loc("\"health=200\""),
            "\"/x=20\" is not a self-test request",
            "\"/health=200\"",
        ],
    );
}

#[test]
fn the_self_test_settings_reach_web_config() {
    for (table, setting) in [
        ("", None),
        ("[install]\ntest = false\n", Some("off")),
        (
            "[install]\ntest-requests = [\"/health=200\", \"/search?q=a&b=1\"]\n",
            Some("/health=200;/search?q=a&amp;b=1"),
        ),
    ] {
        let p = Project::new(&format!(
            "{GOOD}\n[iis]\nwsgi-handler = \"app:app\"\n{table}"
        ));
        p.cmd(&["build"]).assert().success();
        let zip = std::fs::File::open(p.path("dist/App-1.0.msdeploy.zip")).unwrap();
        let mut archive = zip::ZipArchive::new(zip).unwrap();
        let mut web_config = String::new();
        std::io::Read::read_to_string(
            &mut archive.by_name("App/web.config").unwrap(),
            &mut web_config,
        )
        .unwrap();
        match setting {
            None => assert!(!web_config.contains("IISWSGI_SELF_TEST"), "{web_config}"),
            Some(v) => assert!(
                web_config.contains(&format!("<add key=\"IISWSGI_SELF_TEST\" value=\"{v}\" />")),
                "{web_config}"
            ),
        }
    }
}

#[test]
fn set_up_commands_and_data_folders_are_checked_with_their_place() {
    let p = Project::new(&format!(
        "{GOOD}\n[iis]\nstatic-folders = [\"static\"]\ndata-folders = [\"static/uploads\", \"../outside\"]\n\n[[install.run]]\ncommand = \"python manage.py migrate\"\ntimeout = \"10\"\nsuccess-codes = []\n\n[[install.run]]\ncommand = \"  \"\nwhen = \"sometimes\"\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "unknown value `sometimes`",
            "expected one of `always`, `first-install`",
            "iiswsgi.toml:20:8",
        ],
    );
    let p = Project::new(&format!(
        "{GOOD}\n[iis]\nstatic-folders = [\"static\"]\ndata-folders = [\"static/uploads\", \"../outside\"]\n\n[[install.run]]\ncommand = \"python manage.py migrate\"\ntimeout = \"10\"\nsuccess-codes = []\n\n[[install.run]]\ncommand = \"  \"\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "`static/uploads` overlaps static folder `static`: IIS would serve what the app writes there",
            &p.loc("\"static/uploads\""),
            "not a folder of the app: it has a `..` path component",
            &p.loc("\"../outside\""),
            "timeout \"10\": `10` has no unit (s, m or h)",
            "write a number and a unit: \"90s\", \"10m\", \"1h\"",
            &p.loc("\"10\""),
            "no exit code would mean success",
            &p.loc("[]"),
            "the set-up command is empty",
            &p.loc("\"  \""),
        ],
    );
}

#[test]
fn a_set_acl_on_a_folder_the_package_lacks_is_a_warning_naming_data_folders() {
    let p = Project::new(&format!(
        "{GOOD}\n[[set-acl]]\npath = \"instance\"\naccess = \"Modify\"\n"
    ));
    let out = p.cmd(&["check"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_contains(
        &stderr,
        &[
            &format!(
                "warning: {}: [[set-acl]] path `instance` is not in the package",
                p.loc("\"instance\"")
            ),
            "declare it in [iis] data-folders",
        ],
    );
    // Declared as a data folder, it is packaged (empty) and the warning goes.
    let p = Project::new(&format!(
        "{GOOD}\n[iis]\ndata-folders = [\"uploads\"]\n\n[[set-acl]]\npath = \"uploads\"\naccess = \"Modify\"\n"
    ));
    p.file(
        "uploads/photo.py",
        b"# a file the app wrote while run locally\n",
    );
    let out = p.cmd(&["build"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("[[set-acl]]"), "{stderr}");
    assert_contains(
        &stderr,
        &[
            "1 file(s) under data folder `uploads` left out of the package",
            r"Redeploy keep the data folders: msdeploy -verb:sync ... -skip:objectName=dirPath,absolutePath=\\uploads$",
        ],
    );
    let zip = p.path("dist/App-1.0.msdeploy.zip");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    assert!(names.contains(&"App/uploads/".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with("photo.py")), "{names:?}");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("App/bin/iiswsgi-install.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    assert!(xml.contains("<dataFolder path=\"uploads\" />"), "{xml}");
}

#[test]
fn build_steps_run_before_selection_with_the_app_settings_and_a_failure_stops_the_build() {
    let p = Project::new(&format!(
        "{GOOD}\n[iis]\napp-settings = {{ APP_MODE = \"production\" }}\n\n[[build.run]]\ncommand = 'echo \"mode=$APP_MODE\" > generated.py'\n"
    ));
    let out = p.cmd(&["build"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Running echo"), "{stderr}");
    let zip = p.path("dist/App-1.0.msdeploy.zip");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("App/generated.py").unwrap(), &mut text)
        .unwrap();
    assert_eq!(text, "mode=production\n", "made by the step, then selected");

    let p = Project::new(&format!(
        "{GOOD}\n[[build.run]]\ncommand = \"echo compiling assets; exit 3\"\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "compiling assets",
            "the build command failed (exit status: 3); its output is above",
            &p.loc("\"echo compiling"),
        ],
    );
}

#[test]
fn verify_requests_in_the_manifest_are_checked_with_their_place() {
    let p = Project::new(&format!(
        "{GOOD}\n[verify]\nrequests = [\"/=200:Welcome\", \"health=200\", \"/=999\"]\n"
    ));
    let err = p.build_fails(78);
    assert_contains(
        &err,
        &[
            "\"health=200\": a request starts with '/'",
            &p.loc("\"health=200\""),
            "\"/=999\": 999 is not an HTTP status",
            &p.loc("\"/=999\""),
            "write PATH[=STATUS][:TEXT]",
        ],
    );
}
