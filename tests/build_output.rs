//! Issue #2: the packages of the bundled examples are deterministic, read
//! by other zip implementations, sorted, and carry the gateway unchanged.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

fn entry_text(zip: &Path, name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn names(zip: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    archive.file_names().map(str::to_string).collect::<Vec<_>>()
}

#[test]
fn same_inputs_same_bytes_and_epoch_changes_them() {
    for example in ["pyramid", "flask", common::LEGACY_PYRAMID] {
        let (_a, zip_a) = common::build_project(example, Some("1700000000"));
        let (_b, zip_b) = common::build_project(example, Some("1700000000"));
        let (_c, zip_c) = common::build_project(example, Some("1800000000"));
        let (a, b, c) = (
            std::fs::read(&zip_a).unwrap(),
            std::fs::read(&zip_b).unwrap(),
            std::fs::read(&zip_c).unwrap(),
        );
        assert_eq!(a, b, "{example}: two builds, same SOURCE_DATE_EPOCH");
        assert_ne!(a, c, "{example}: the epoch is the entry time");
        // Without SOURCE_DATE_EPOCH the documented constant (1980-01-01) is used.
        let (_d, zip_d) = common::build_project(example, None);
        let (_e, zip_e) = common::build_project(example, Some("315532800"));
        assert_eq!(std::fs::read(zip_d).unwrap(), std::fs::read(zip_e).unwrap());
    }
}

#[test]
fn entries_are_sorted_with_manifest_and_parameters_at_the_root() {
    let (_d, zip) = common::build_project(common::LEGACY_PYRAMID, None);
    let names = names(&zip);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(
        names,
        [
            "Manifest.xml",
            "Parameters.xml",
            "PyramidIISApp/",
            "PyramidIISApp/README.rst",
            "PyramidIISApp/bin/",
            "PyramidIISApp/bin/iiswsgi-gateway.exe",
            "PyramidIISApp/iis_install.stamp",
            "PyramidIISApp/setup.cfg",
            "PyramidIISApp/setup.py",
            "PyramidIISApp/web.config",
        ]
    );
}

#[test]
fn the_gateway_is_bundled_byte_for_byte() {
    let (_d, zip) = common::build_project("flask", None);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut bundled = Vec::new();
    archive
        .by_name("FlaskIISApp/bin/iiswsgi-gateway.exe")
        .unwrap()
        .read_to_end(&mut bundled)
        .unwrap();
    let source = std::fs::read(common::repo("prebuilt/windows-x64/iiswsgi-gateway.exe")).unwrap();
    assert_eq!(Sha256::digest(&bundled), Sha256::digest(&source));
}

#[test]
fn sha256_file_and_reported_digests_match_the_zip() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo("examples/flask"), dir.path());
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .args(["--message-format", "json", "build"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let artifact: serde_json::Value = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["reason"] == "artifact")
        .unwrap();
    let zip = dir.path().join("dist/FlaskIISApp-1.0.0.msdeploy.zip");
    let bytes = std::fs::read(&zip).unwrap();
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let sha1 = format!("{:x}", <sha1::Sha1 as Digest>::digest(&bytes));
    assert_eq!(artifact["sha256"], sha256);
    assert_eq!(artifact["sha1"], sha1);
    assert_eq!(artifact["size"], bytes.len());
    // The bundled gateway: no [gateway], so iiswsgi's own, and its digest.
    let prebuilt = std::fs::read(common::repo("prebuilt/windows-x64/iiswsgi-gateway.exe")).unwrap();
    assert_eq!(
        artifact["gateway"],
        serde_json::json!({
            "source": concat!("built-in iiswsgi-gateway ", env!("CARGO_PKG_VERSION")),
            "sha256": format!("{:x}", Sha256::digest(&prebuilt)),
        })
    );
    assert_eq!(
        std::fs::read_to_string(
            dir.path()
                .join("dist/FlaskIISApp-1.0.0.msdeploy.zip.sha256")
        )
        .unwrap(),
        format!("{sha256}  FlaskIISApp-1.0.0.msdeploy.zip\n")
    );
    // sha256sum agrees, reading the file the way users do.
    if let Some(sha256sum) = common::tool("sha256sum") {
        let status = Process::new(sha256sum)
            .current_dir(dir.path().join("dist"))
            .args(["-c", "FlaskIISApp-1.0.0.msdeploy.zip.sha256"])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

#[test]
fn unzip_and_python_zipfile_accept_the_packages() {
    for example in ["pyramid", "flask"] {
        let (_d, zip) = common::build_project(example, Some("1700000000"));
        if let Some(unzip) = common::tool("unzip") {
            let out = Process::new(unzip).arg("-t").arg(&zip).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("No errors detected"));
        }
        if let Some(python) = common::tool("python3") {
            let script = r#"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
assert names == sorted(names), names
for i in z.infolist():
    assert i.extra == b"", i.filename
    assert i.create_system == 0 and i.create_version == 20, i.filename
    assert i.flag_bits & 0x08 == 0, "no data descriptor"
    assert i.date_time == (2023, 11, 14, 22, 13, 20), i.date_time
    assert i.external_attr == (0x10 if i.is_dir() else 0x20), hex(i.external_attr)
print(len(names))
"#;
            common::run_ok(Process::new(python).arg("-c").arg(script).arg(&zip));
        }
    }
}

#[test]
fn plan_writes_nothing_and_lists_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::project(common::LEGACY_PYRAMID), dir.path());
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .args(["--message-format", "json", "build", "--plan"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!dir.path().join("dist").exists());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let entries: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["reason"] == "plan-entry")
        .collect();
    assert_eq!(entries.len(), 10);
    let gateway = entries
        .iter()
        .find(|e| e["name"] == "PyramidIISApp/bin/iiswsgi-gateway.exe")
        .unwrap();
    // No [gateway]: iiswsgi's own.
    assert_eq!(
        gateway["source"],
        concat!("(built-in iiswsgi-gateway ", env!("CARGO_PKG_VERSION"), ")")
    );
    let prebuilt =
        std::fs::metadata(common::repo("prebuilt/windows-x64/iiswsgi-gateway.exe")).unwrap();
    assert_eq!(gateway["size"], prebuilt.len());
    assert_eq!(gateway["kind"], "rendered");
    let rendered: Vec<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "rendered")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        rendered,
        [
            "Manifest.xml",
            "Parameters.xml",
            "PyramidIISApp/bin/iiswsgi-gateway.exe",
            "PyramidIISApp/iis_install.stamp",
            "PyramidIISApp/web.config"
        ]
    );
    // What build would write beside the package, listed (not written).
    let beside: Vec<&str> = lines
        .iter()
        .filter(|l| l["reason"] == "plan-artifact")
        .map(|l| l["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        beside,
        [
            "PyramidIISApp-0.2.SetParameters.xml",
            "PyramidIISApp-0.2.deploy.cmd",
            "PyramidIISApp-0.2.deploy-readme.txt"
        ]
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["reason"], "plan");
    assert_eq!(summary["package"], "PyramidIISApp-0.2.msdeploy.zip");

    // check renders and selects the same way, and writes nothing either.
    Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .arg("check")
        .assert()
        .success();
    assert!(!dir.path().join("dist").exists());
}

/// Every XML document in the package is well-formed.
fn assert_well_formed(name: &str, text: &str) {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(e) => panic!("{name} is not well-formed: {e}\n{text}"),
        }
    }
    assert_eq!(depth, 0, "{name}: unbalanced elements");
}

#[test]
fn rendered_documents_are_well_formed_and_snapshotted() {
    for (example, app) in [
        ("pyramid", "PyramidIISApp"),
        ("flask", "FlaskIISApp"),
        (common::LEGACY_PYRAMID, "PyramidIISApp"),
    ] {
        let (_d, zip) = common::build_project(example, None);
        let mut names = vec![
            "Manifest.xml".to_string(),
            "Parameters.xml".to_string(),
            format!("{app}/web.config"),
        ];
        if example == "flask" {
            // Its data folder and first-install set-up command.
            names.push(format!("{app}/bin/iiswsgi-install.xml"));
        }
        for name in names {
            let text = entry_text(&zip, &name);
            assert_well_formed(&name, &text);
            let snapshot = format!("{example}-{}", name.rsplit('/').next().unwrap());
            insta::assert_snapshot!(snapshot, text);
        }
        if let Some(xmllint) = common::tool("xmllint") {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("Manifest.xml");
            std::fs::write(&path, entry_text(&zip, "Manifest.xml")).unwrap();
            common::run_ok(Process::new(xmllint).arg("--noout").arg(&path));
        }
    }
}

#[test]
fn inspect_decodes_what_build_encoded() {
    let (_d, zip) = common::build_project(common::LEGACY_PYRAMID, None);
    let report = iiswsgi::inspect::inspect(&zip).unwrap();
    assert_eq!(report.sha256_file_matches, Some(true));
    let [rc] = &report.providers[..] else {
        panic!("one runCommand: {:?}", report.providers)
    };
    assert_eq!(rc.provider_name.as_deref(), Some("runCommand"));
    assert_eq!(
        rc.path.as_deref(),
        Some(
            r"%SystemDrive%\Python27\Scripts\iiswsgi_install.exe -v -e -a PyramidIISApp install_pyramid_msdeploy"
        )
    );
    assert_eq!(rc.element_path, rc.path);
    let settings: Vec<(&str, &str)> = rc
        .settings
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        settings,
        [
            ("waitAttempts", "10"),
            ("waitInterval", "60000"),
            ("successReturnCodes", "0x0")
        ]
    );
    assert!(rc.disagreements.is_empty(), "{:?}", rc.disagreements);
    assert_eq!(rc.web_deploy, Some("Web Deploy 3.x and later"));
}

/// Outputs are created as any file is (0666 less the umask), not private
/// like temporary files: web servers must read the packages and feed.
#[cfg(unix)]
#[test]
fn outputs_get_the_umask_permissions_not_private_ones() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo("examples/flask"), dir.path());
    let bin = assert_cmd::cargo::cargo_bin("iiswsgi");
    for (umask, mode) in [("022", 0o644), ("077", 0o600)] {
        let status = Process::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" build --force --feed --local"
            ))
            .arg(&bin)
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(dir.path().join("dist")).unwrap() {
            let path = entry.unwrap().path();
            let got = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "{} under umask {umask}", path.display());
            seen.push(path.extension().unwrap().to_string_lossy().into_owned());
        }
        seen.sort();
        // The listing cache is written only when no folder changed within
        // a second of the build's start: there or not, by timing.
        seen.retain(|e| e != "listing");
        assert_eq!(
            seen,
            ["cmd", "inputs", "sha256", "txt", "xml", "xml", "zip"],
            "the package, its checksum and inputs, the feed, SetParameters.xml, deploy.cmd and its readme, under umask {umask}"
        );
    }
}
