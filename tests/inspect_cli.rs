//! Issue #3: `iiswsgi inspect` decodes provider options in packages and
//! bare documents, and flags settings msdeploy would not honour.

mod common;

use assert_cmd::Command;

fn inspect(path: &std::path::Path) -> (i32, String, String) {
    let out = Command::cargo_bin("iiswsgi")
        .unwrap()
        .arg("inspect")
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_iiswsgi_sample_manifest() {
    let (code, out, _) = inspect(&common::fixture(
        "msdeploy/webapp/iiswsgi-sample/Manifest.xml",
    ));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        concat!(
            "<runCommand> in Manifest.xml, path=\"%SystemDrive%\\Python27\\python.exe -u %SystemDrive%\\Python27\\Scripts\\iiswsgi_deploy-script.py\"\n",
            "  providerName: runCommand\n",
            "  path: C:\\Python27\\python.exe -u C:\\Python27\\Scripts\\iiswsgi_deploy-script.py\n",
            "  library: Microsoft.web.deployment, Version=7.1.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35 (Web Deploy 3.x and later)\n",
            "  successReturnCodes=0x0\n",
        )
    );
}

#[test]
fn settings_only_as_attributes_are_flagged() {
    // iiswsgi 0.3's pyramid Manifest.xml.in: the settings msdeploy ignored (its issue #12).
    let (code, out, _) = inspect(&common::fixture(
        "iiswsgi-0.3-examples/pyramid.msdeploy/Manifest.xml.in",
    ));
    assert_eq!(code, 0);
    assert!(
        out.contains(r#"warning: no MSDeploy.MSDeployProviderOptions: msdeploy ignores waitAttempts="10", waitInterval="60000", successReturnCodes="0x0""#),
        "{out}"
    );
}

#[test]
fn disagreeing_attributes_are_flagged() {
    let blob = iiswsgi::msdeploy::provider_options::encode(
        iiswsgi::msdeploy::WebDeployVersion::V3,
        "runCommand",
        "run.cmd",
        &[("waitAttempts".into(), "10".into())],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Manifest.xml");
    std::fs::write(
        &path,
        format!(
            r#"<MSDeploy.iisApp><runCommand path="run.cmd" waitAttempts="5" waitInterval="100" MSDeploy.MSDeployProviderOptions="{blob}"/></MSDeploy.iisApp>"#
        ),
    )
    .unwrap();
    let (code, out, _) = inspect(&path);
    assert_eq!(code, 0);
    assert!(
        out.contains("warning: waitAttempts: provider options say `10`, the attribute says `5`"),
        "{out}"
    );
    assert!(
        out.contains(r#"warning: waitInterval="100" is only an attribute"#),
        "{out}"
    );
}

#[test]
fn archive_xml_written_by_msdeploy() {
    let (code, out, _) = inspect(&common::fixture(
        "msdeploy/archive/dirpath-package/archive.xml",
    ));
    assert_eq!(code, 0);
    assert!(out.contains("providerName: dirPath"), "{out}");
    assert!(
        out.contains(r"path: C:\Users\rschi\Documents\Visual Studio 2015\Projects"),
        "{out}"
    );
    assert!(!out.contains("warning"), "{out}");
}

#[test]
fn web_deploy_version_selects_the_library_string() {
    let dir = common::build_manifest(
        "[app]\nname = \"App\"\nversion = \"1\"\n[msdeploy]\nversion = \"2\"\n[[run-command]]\ncommand = \"x.cmd\"\nwait-attempts = 3\n",
    );
    let zip = dir.path().join("dist/App-1.msdeploy.zip");
    let (code, out, _) = inspect(&zip);
    assert_eq!(code, 0);
    assert!(
        out.contains("library: Microsoft.Web.Deployment, Version=8.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35 (Web Deploy 2.0)"),
        "{out}"
    );
    assert!(out.contains("matches the .sha256 file"), "{out}");
    assert!(out.contains("  waitAttempts=3\n"), "{out}");
    assert!(
        !out.contains("gateway:"),
        "no gateway in this package: {out}"
    );

    // A package that no longer matches its checksum fails inspection.
    std::fs::write(
        dir.path().join("dist/App-1.msdeploy.zip.sha256"),
        format!("{}  App-1.msdeploy.zip\n", "0".repeat(64)),
    )
    .unwrap();
    let (code, out, err) = inspect(&zip);
    assert_eq!(code, 1);
    assert!(out.contains("DOES NOT match the .sha256 file"), "{out}");
    assert!(err.contains("does not match its .sha256 file"), "{err}");
}

#[test]
fn undecodable_values_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.xml");
    std::fs::write(&path, r#"<sitemanifest><iisApp path="a" MSDeploy.MSDeployProviderOptions="H4sIAAAAAAAEAAAA"/></sitemanifest>"#).unwrap();
    let (code, out, _) = inspect(&path);
    assert_eq!(code, 0);
    assert!(out.contains("<iisApp> in archive.xml"), "{out}");
    assert!(out.contains("warning: corrupt gzip stream"), "{out}");

    let (code, _, err) = inspect(&dir.path().join("missing.zip"));
    assert_eq!(code, 1);
    assert!(err.contains("missing.zip"), "{err}");
}

#[test]
fn a_package_with_the_built_in_gateway_says_so() {
    let dir = common::build_manifest(
        "[app]\nname = \"App\"\nversion = \"1\"\n[iis]\nwsgi-handler = \"app:app\"\n",
    );
    let (code, out, _) = inspect(&dir.path().join("dist/App-1.msdeploy.zip"));
    assert_eq!(code, 0);
    let exe = std::fs::read(common::repo("prebuilt/windows-x64/iiswsgi-gateway.exe")).unwrap();
    let sha256: String = <sha2::Sha256 as sha2::Digest>::digest(&exe)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        out.contains(&format!(
            "gateway: App/bin/iiswsgi-gateway.exe sha256 {sha256} (built-in iiswsgi-gateway {})\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{out}"
    );
}
