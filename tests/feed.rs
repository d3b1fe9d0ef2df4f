//! Issue #4: `iiswsgi feed` writes a WebPI feed that validates against
//! schema/webpi-feed.xsd, describes the packages exactly (checked with
//! Python's hashlib and ElementTree), merges into real feeds without
//! touching foreign entries, and refuses what WebPI would refuse.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

const EPOCH: &str = "1700000000";

const APP: &str = r#"
[app]
name = "Shop"
version = "1.2"
summary = "A shop."
authors = ["Ann Example <ann@example.org>"]
homepage = "https://shop.example.org/"
license-url = "https://shop.example.org/license"
keywords = ["Python", "Flask", "Python"]
icon-url = "https://shop.example.org/icon.png"
screenshot-urls = ["https://shop.example.org/1.png"]

[files]
include = ["*.py"]

[feed]
title = "Shop feed"
url = "https://downloads.example.org/shop.webpi.xml"
package-url = "https://downloads.example.org/{name}/{version}/{file}?sha256={sha256}"
dependencies = ["Python27", { any = ["CGI", "IISManagementConsole"] }]
related = ["PythonToolsForVS"]
start-page = "/setup"

[[feed.products]]
product-id = "iiswsgi_egg"
title = "iiswsgi library"
version = "0.3"
command = '%SystemDrive%\Python27\Scripts\pip.exe'
arguments = "install iiswsgi==0.3"
dependencies = ["Python27"]
"#;

fn schema() -> PathBuf {
    common::repo("schema/webpi-feed.xsd")
}

fn iiswsgi(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("iiswsgi").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env("SOURCE_DATE_EPOCH", EPOCH);
    cmd
}

fn project(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "iiswsgi.toml", manifest);
    write(dir.path(), "app.py", "application = None\n");
    dir
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn assert_valid(feed: &Path) {
    if let Some(verdict) = common::xmllint_schema(&schema(), feed) {
        verdict.unwrap_or_else(|e| {
            panic!("{} does not validate:\n{e}\n{}", feed.display(), read(feed))
        });
    }
}

/// `check_feed.py facts`: what the feed says and what the package is.
fn facts(feed: &Path, package_dirs: &[&Path]) -> Vec<serde_json::Value> {
    let Some(python) = common::venv_python() else {
        return Vec::new();
    };
    let mut cmd = Process::new(python);
    cmd.arg(common::repo("tests/python/check_feed.py"))
        .arg("facts")
        .arg(feed);
    cmd.args(package_dirs);
    common::run_ok(&mut cmd)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn feed_describes_the_packages_exactly_and_validates() {
    let dir = project(APP);
    iiswsgi(dir.path(), &["build", "--feed"]).assert().success();
    let feed = dir.path().join("dist/Shop.webpi.xml");
    assert_valid(&feed);
    let text = read(&feed);
    // The package bytes are deterministic, so even its sums are exact here.
    insta::assert_snapshot!("shop_feed", text);
    let dist = dir.path().join("dist");
    for f in facts(&feed, &[&dist]) {
        assert_eq!(f["feed_sha1"], f["real_sha1"], "{f}");
        assert_eq!(f["feed_fileSize"], f["real_size_kb"], "{f}");
        let sha256 = read(&dist.join("Shop-1.2.msdeploy.zip.sha256"));
        let url = f["installerURL"].as_str().unwrap();
        assert_eq!(
            url,
            format!(
                "https://downloads.example.org/Shop/1.2/Shop-1.2.msdeploy.zip?sha256={}",
                &sha256[..64]
            )
        );
    }
}

#[test]
fn same_epoch_same_bytes_and_dates_come_from_it() {
    let dir = project(APP);
    iiswsgi(dir.path(), &["build", "--feed"]).assert().success();
    let first = read(&dir.path().join("dist/Shop.webpi.xml"));
    iiswsgi(dir.path(), &["feed"]).assert().success();
    assert_eq!(first, read(&dir.path().join("dist/Shop.webpi.xml")));
    assert!(first.contains("<updated>2023-11-14T22:13:20Z</updated>"));
    iiswsgi(dir.path(), &["feed"])
        .env("SOURCE_DATE_EPOCH", "1700000001")
        .assert()
        .success();
    let later = read(&dir.path().join("dist/Shop.webpi.xml"));
    assert!(later.contains("<updated>2023-11-14T22:13:21Z</updated>"));
}

#[test]
fn local_feed_points_at_the_zips_and_prints_its_own_url() {
    // A space and a non-ASCII letter in the path must be percent-encoded.
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("my café");
    write(&dir, "iiswsgi.toml", APP);
    write(&dir, "app.py", "application = None\n");
    let out = iiswsgi(&dir, &["build", "--feed", "--local"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let feed = dir.join("dist/Shop.webpi.xml");
    let feed_url = stdout.lines().last().unwrap();
    assert!(feed_url.starts_with("file:///"), "{stdout}");
    assert!(
        feed_url.contains("my%20caf%C3%A9/dist/Shop.webpi.xml"),
        "{feed_url}"
    );
    assert_valid(&feed);
    let found = facts(&feed, &[]);
    if common::venv_python().is_some() {
        assert_eq!(found.len(), 1, "one package entry");
    }
    for f in found {
        let path = Path::new(f["path"].as_str().unwrap());
        assert_eq!(
            std::fs::canonicalize(path).unwrap(),
            std::fs::canonicalize(dir.join("dist/Shop-1.2.msdeploy.zip")).unwrap()
        );
        assert_eq!(f["feed_sha1"], f["real_sha1"]);
    }
}

#[test]
fn workspace_writes_one_feed_with_an_entry_per_app_and_shared_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "iiswsgi.toml",
        r#"
[workspace]
members = ["apps/*"]

[feed]
name = "suite"
title = "Suite"
url = "https://dl.example.org/suite.webpi.xml"
package-url = "https://dl.example.org/{file}"

[feed.definitions]
PythonRuntime = { any = ["Python27", "Python276"] }
IISForPython = { all = ["CGI", { ref = "PythonRuntime" }] }
"#,
    );
    for (name, deps) in [
        ("Alpha", r#"[{ ref = "IISForPython" }]"#),
        ("Beta", r#"[{ ref = "PythonRuntime" }, "UrlRewrite2"]"#),
    ] {
        let member = root.join("apps").join(name.to_lowercase());
        write(
            &member,
            "iiswsgi.toml",
            &format!(
                "[app]\nname = \"{name}\"\nversion = \"1.0\"\n[files]\ninclude = [\"*.py\"]\n[feed]\ndependencies = {deps}\n"
            ),
        );
        write(&member, "app.py", "application = None\n");
    }
    iiswsgi(root, &["check"]).assert().success();
    iiswsgi(root, &["build", "--feed"]).assert().success();
    assert!(
        root.join("apps/alpha/dist/Alpha-1.0.msdeploy.zip")
            .is_file()
    );
    assert!(root.join("apps/beta/dist/Beta-1.0.msdeploy.zip").is_file());
    let feed = root.join("dist/suite.webpi.xml");
    assert_valid(&feed);
    let doc = iiswsgi::xml_tree::Document::parse(&read(&feed)).unwrap();
    let entries: Vec<_> = doc.root.elements().filter(|e| e.name == "entry").collect();
    let ids: Vec<_> = entries
        .iter()
        .map(|e| e.child_text("productId").unwrap())
        .collect();
    assert_eq!(ids, ["Alpha", "Beta"]);
    let defs = doc.root.find("dependencies").unwrap();
    let def_ids: Vec<_> = defs
        .elements()
        .map(|d| d.attribute("id").unwrap())
        .collect();
    assert_eq!(def_ids, ["IISForPython", "PythonRuntime"]);
    // Alpha: its ref and the default WDeploy, in an <and>.
    let alpha = entries[0].find("dependency").unwrap().find("and").unwrap();
    let refs: Vec<_> = alpha
        .elements()
        .map(|d| {
            d.attribute("idref")
                .map(str::to_string)
                .or_else(|| d.child_text("productId"))
                .unwrap()
        })
        .collect();
    assert_eq!(refs, ["IISForPython", "WDeploy"]);
    // Both apps' sizes and sums are right.
    let found = facts(
        &feed,
        &[&root.join("apps/alpha/dist"), &root.join("apps/beta/dist")],
    );
    if common::venv_python().is_some() {
        assert_eq!(found.len(), 2);
    }
    for f in found {
        assert_eq!(f["feed_sha1"], f["real_sha1"], "{f}");
        assert_eq!(f["feed_fileSize"], f["real_size_kb"], "{f}");
    }
}

#[test]
fn merge_into_each_fixture_feed_keeps_every_foreign_entry() {
    let dir = project(APP);
    iiswsgi(dir.path(), &["build"]).assert().success();
    let fixtures = [
        "iiswsgi-web-pi.xml",
        "plone-unifiedinstaller-web-pi.xml",
        "ms-webapplicationlist-excerpt.xml",
        "kudu-setup-custom-feed.xml",
        "iisdocs-sample-custom-apps-feed.xml",
    ];
    for name in fixtures {
        let original = common::fixture(&format!("webpi/{name}"));
        let merged = dir.path().join(format!("merged-{name}"));
        iiswsgi(
            dir.path(),
            &[
                "feed",
                "--merge",
                original.to_str().unwrap(),
                "--out",
                merged.to_str().unwrap(),
            ],
        )
        .assert()
        .success();
        // Merging again replaces our entry instead of adding a second one.
        iiswsgi(
            dir.path(),
            &[
                "feed",
                "--merge",
                merged.to_str().unwrap(),
                "--out",
                merged.to_str().unwrap(),
            ],
        )
        .assert()
        .success();
        if let Some(python) = common::venv_python() {
            let out = common::run_ok(
                Process::new(python)
                    .arg(common::repo("tests/python/check_feed.py"))
                    .arg("foreign")
                    .arg(&original)
                    .arg(&merged)
                    .args(["Shop", "iiswsgi_egg"]),
            );
            assert!(out.starts_with("ok "), "{name}: {out}");
            let kept: usize = out.split_whitespace().nth(1).unwrap().parse().unwrap();
            let original_entries = read(&original).matches("<entry").count();
            assert_eq!(kept, original_entries, "{name}: every foreign entry kept");
        }
        // The WebPI 3+ fixtures still validate after the merge.
        if !name.starts_with("kudu") && !name.starts_with("iisdocs") {
            assert_valid(&merged);
        }
    }
}

#[test]
fn every_webpi3_fixture_validates_against_the_schema() {
    // WebPI 2 feeds (root <version> instead of <webpiFile>) are not WebPI 3+
    // feeds and are not covered by the schema:
    //   kudu-setup-custom-feed.xml          — <version>1.0.1</version>, entries wrapped in <metadata>
    //   iisdocs-sample-custom-apps-feed.xml — <version>1.0.0</version>, several languageIds per installer
    let not_webpi3 = [
        "kudu-setup-custom-feed.xml",
        "iisdocs-sample-custom-apps-feed.xml",
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir(common::fixture("webpi")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".xml") {
            continue;
        }
        let Some(verdict) = common::xmllint_schema(&schema(), &path) else {
            return;
        };
        if not_webpi3.contains(&name.as_str()) {
            assert!(
                read(&path).contains("<version>"),
                "{name} is listed as a WebPI 2 feed"
            );
            assert!(
                verdict.is_err(),
                "{name}: expected the WebPI 3+ schema to refuse it"
            );
        } else {
            verdict.unwrap_or_else(|e| panic!("{name}: {e}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
}

#[test]
fn the_schema_refuses_what_webpi_refuses() {
    let good = read(&common::fixture("webpi/iiswsgi-web-pi.xml")).replace("\r\n", "\n");
    let cases = [
        (
            "an and with one child",
            good.replacen(
                "<dependency>\n          <productId>PyDistributeModule</productId>\n        </dependency>\n        <dependency>\n          <productId>WDeploy</productId>\n        </dependency>",
                "",
                1,
            ),
        ),
        (
            "a product id with a space",
            good.replace("<productId>IISWSGISampleApp</productId>", "<productId>IISWSGI Sample</productId>"),
        ),
        (
            "a short sha1",
            good.replace("eb36e73bcf3d5e6bdfe2e78fd68cf14fc3a45c7d", "eb36e73bcf3d5e6bdfe2e78fd68cf14fc3a45c7"),
        ),
        (
            "a keyword defined twice",
            good.replace(
                "<keyword id=\"Python\" resourceName=\"Keyword_Python\">Python</keyword>",
                "<keyword id=\"Python\">Python</keyword><keyword id=\"Python\">Py</keyword>",
            ),
        ),
        (
            "a fileSize in words",
            good.replace("<fileSize>3</fileSize>", "<fileSize>three</fileSize>"),
        ),
        (
            "a dependency with two children",
            good.replace(
                "<productId>Python27</productId>",
                "<productId>Python27</productId><productId>Python26</productId>",
            ),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, text) in cases {
        assert_ne!(text, good, "{what}: the edit must apply");
        let path = dir.path().join("bad.xml");
        std::fs::write(&path, text).unwrap();
        if let Some(verdict) = common::xmllint_schema(&schema(), &path) {
            assert!(verdict.is_err(), "{what}: the schema accepted it");
        }
    }
}

#[test]
fn a_missing_or_changed_package_says_to_build() {
    let dir = project(APP);
    let out = iiswsgi(dir.path(), &["feed"]).assert().failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("run `iiswsgi build`"), "{stderr}");

    iiswsgi(dir.path(), &["build"]).assert().success();
    let zip = dir.path().join("dist/Shop-1.2.msdeploy.zip");
    let mut bytes = std::fs::read(&zip).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&zip, bytes).unwrap();
    let out = iiswsgi(dir.path(), &["feed"]).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("changed since it was built"), "{stderr}");
    assert!(!dir.path().join("dist/Shop.webpi.xml").exists());
}

#[test]
fn a_feed_without_urls_needs_package_url_or_local() {
    let manifest = APP.replace("package-url = ", "# package-url = ");
    let dir = project(&manifest);
    iiswsgi(dir.path(), &["build"]).assert().success();
    let out = iiswsgi(dir.path(), &["feed"]).assert().code(78);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("[feed] package-url is not set"), "{stderr}");
    assert!(stderr.contains("--local"), "{stderr}");
    iiswsgi(dir.path(), &["feed", "--local"]).assert().success();
}

/// Each of WebPI's rules, broken, is an error at `check` time that points
/// at the value in iiswsgi.toml.
#[test]
fn bad_feed_input_is_an_error_at_check_time() {
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            r#"dependencies = ["Python27", { any = ["CGI", "IISManagementConsole"] }]"#,
            r#"dependencies = [{ all = ["Python27"] }]"#,
            "`all` has only one dependency",
            "[\"Python27\"] }",
        ),
        (
            r#"dependencies = ["Python27", { any = ["CGI", "IISManagementConsole"] }]"#,
            r#"dependencies = [{ ref = "IISForPyton" }]"#,
            "no dependency definition named `IISForPyton`",
            "\"IISForPyton\"",
        ),
        (
            r#"dependencies = ["Python27", { any = ["CGI", "IISManagementConsole"] }]"#,
            r#"dependencies = ["Python 27"]"#,
            "`Python 27` is not a WebPI product id",
            "\"Python 27\"",
        ),
        (
            r#"license-url = "https://shop.example.org/license""#,
            r#"license-url = "see LICENSE.txt""#,
            "`see LICENSE.txt` is not an absolute URL",
            "\"see LICENSE.txt\"",
        ),
        (
            r#"product-id = "iiswsgi_egg""#,
            r#"product-id = "iiswsgi egg""#,
            "`iiswsgi egg` is not a WebPI product id",
            "\"iiswsgi egg\"",
        ),
    ];
    for (from, to, message, at) in cases {
        let manifest = APP.replace(from, to);
        assert_ne!(manifest, APP);
        let dir = project(&manifest);
        let out = iiswsgi(dir.path(), &["check"]).assert().code(78);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{message}:\n{stderr}");
        let offset = manifest.find(at).unwrap();
        let line = manifest[..offset].matches('\n').count() + 1;
        let column = offset - manifest[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
        assert!(
            stderr.contains(&format!("iiswsgi.toml:{line}:{column}")),
            "{message}: expected iiswsgi.toml:{line}:{column} in\n{stderr}"
        );
    }
}

#[test]
fn web_deploy_dependency_can_be_turned_off_and_is_not_doubled() {
    let dir = project(&APP.replace(
        "start-page = \"/setup\"",
        "start-page = \"/setup\"\ndepend-on-web-deploy = false",
    ));
    iiswsgi(dir.path(), &["build", "--feed"]).assert().success();
    let text = read(&dir.path().join("dist/Shop.webpi.xml"));
    assert!(!text.contains("WDeploy"), "{text}");

    let dir = project(&APP.replace("\"Python27\", { any", "\"WDeployNoSMO\", { any"));
    iiswsgi(dir.path(), &["build", "--feed"]).assert().success();
    let text = read(&dir.path().join("dist/Shop.webpi.xml"));
    assert_eq!(text.matches("WDeploy").count(), 1, "{text}");

    // A single dependency is written unwrapped, not in an <and>.
    let dir = project(&APP.replace(
        r#"dependencies = ["Python27", { any = ["CGI", "IISManagementConsole"] }]"#,
        "dependencies = [\"WDeploy\"]",
    ));
    iiswsgi(dir.path(), &["build", "--feed"]).assert().success();
    let doc =
        iiswsgi::xml_tree::Document::parse(&read(&dir.path().join("dist/Shop.webpi.xml"))).unwrap();
    let entry = doc.root.find("entry").unwrap();
    let dep = entry.find("dependency").unwrap();
    assert_eq!(dep.child_text("productId").as_deref(), Some("WDeploy"));
    assert!(dep.find("and").is_none());
}

#[test]
fn workspace_members_keep_to_their_own_feed_keys() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "iiswsgi.toml",
        "[workspace]\nmembers = [\"apps/*\", \"nothing/*\"]\n[feed]\ndependencies = [\"CGI\"]\n",
    );
    let member = "[app]\nname = \"A\"\nversion = \"1\"\n[feed]\ntitle = \"Mine\"\n";
    write(root, "apps/a/iiswsgi.toml", member);
    let out = iiswsgi(root, &["check"]).assert().code(78);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    for needle in [
        "`dependencies` describes one app, not the workspace",
        "iiswsgi.toml:4:16",
        "`nothing/*` matches no folder with an iiswsgi.toml",
        "`title` describes the whole feed of the workspace",
        "apps/a/iiswsgi.toml:5:9",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in\n{stderr}");
    }
}

#[test]
fn a_product_id_used_twice_in_one_feed_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "iiswsgi.toml",
        "[workspace]\nmembers = [\"apps/*\"]\n[[feed.products]]\nproduct-id = \"shop\"\ntitle = \"t\"\nversion = \"1\"\ncommand = \"pip.exe\"\n",
    );
    write(
        root,
        "apps/a/iiswsgi.toml",
        "[app]\nname = \"Shop\"\nversion = \"1\"\n",
    );
    write(
        root,
        "apps/b/iiswsgi.toml",
        "[app]\nname = \"SHOP\"\nversion = \"2\"\n",
    );
    let out = iiswsgi(root, &["check"]).assert().code(78);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(
        stderr.matches("is used twice in this feed").count(),
        2,
        "the second app and the product clash with the first app:\n{stderr}"
    );
    assert!(
        stderr.contains("product id `SHOP` is used twice"),
        "{stderr}"
    );
    assert!(stderr.contains("apps/b/iiswsgi.toml:2:8"), "{stderr}");
    assert!(
        stderr.contains("product id `shop` is used twice"),
        "{stderr}"
    );
    assert!(
        stderr.contains("it is also the product id of apps/a/iiswsgi.toml"),
        "{stderr}"
    );
}
