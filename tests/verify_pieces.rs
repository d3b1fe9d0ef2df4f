//! The pieces of `verify` built so far (issue #14): packages opened
//! safely, and parameter values applied to the laid-out files as msdeploy
//! applies them, with SetParameters.xml files in Microsoft's format.

mod common;

use std::io::Write;
use std::path::Path;

use iiswsgi::verify::apply::apply;
use iiswsgi::verify::package::{Layout, PackageError, Unpacked, unpack};
use iiswsgi::verify::parameters::{parse_declared, parse_set_parameters, resolve};

fn zip_with(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(file.path()).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    file
}

fn nothing_in(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn unsafe_names_bombs_and_missing_manifests_are_refused_before_anything_is_written() {
    let deflated = zip::CompressionMethod::Deflated;
    for (bad, why) in [
        ("../evil.txt", "climbs out of the package"),
        ("App/../../evil.txt", "climbs out of the package"),
        ("/etc/evil", "is an absolute path"),
        ("C:/Windows/evil.dll", "names a drive"),
        ("C:\\Windows\\evil.dll", "names a drive"),
        ("..\\evil.txt", "climbs out of the package"),
    ] {
        // The bad entry last: nothing before it may have been written either.
        let zip = zip_with(
            &[
                ("Manifest.xml", b"<MSDeploy.iisApp/>"),
                ("App/ok.txt", b"ok"),
                (bad, b"x"),
            ],
            deflated,
        );
        let into = tempfile::tempdir().unwrap();
        let err = unpack(zip.path(), into.path()).unwrap_err();
        assert!(
            matches!(err, PackageError::UnsafeName { .. }),
            "{bad}: {err}"
        );
        assert!(
            err.to_string().contains(why)
                && err.to_string().contains("before anything is extracted"),
            "{bad}: {err}"
        );
        assert!(nothing_in(into.path()), "{bad}: something was extracted");
    }
    // A bomb: 64 MiB of zeros stored in about 64 KiB.
    let zeros = vec![0u8; 64 << 20];
    let zip = zip_with(
        &[
            ("Manifest.xml", b"<MSDeploy.iisApp/>"),
            ("App/zeros.bin", &zeros),
        ],
        deflated,
    );
    let into = tempfile::tempdir().unwrap();
    let err = unpack(zip.path(), into.path()).unwrap_err();
    assert!(matches!(err, PackageError::Bomb { .. }), "{err}");
    assert!(nothing_in(into.path()));
    // No Manifest.xml.
    let zip = zip_with(&[("App/app.py", b"")], deflated);
    let into = tempfile::tempdir().unwrap();
    assert!(matches!(
        unpack(zip.path(), into.path()).unwrap_err(),
        PackageError::NoManifest { .. }
    ));
    // A file that is no zip.
    let not_zip = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_zip.path(), b"hello").unwrap();
    assert!(matches!(
        unpack(not_zip.path(), into.path()).unwrap_err(),
        PackageError::NotZip(..)
    ));
}

/// One file laid out by hand as a gallery package's.
fn laid_out(root: &Path, file: &str) -> Unpacked {
    Unpacked {
        root: root.to_owned(),
        files: vec![file.to_string()],
        layout: Layout::Gallery,
    }
}

#[test]
fn a_set_parameters_file_changes_the_files_as_msdeploy_would() {
    let (_dir, zip) = common::build_project(common::LEGACY_PYRAMID, None);
    let site = tempfile::tempdir().unwrap();
    let unpacked = unpack(&zip, site.path()).unwrap();
    assert!(unpacked.files.contains(&"Parameters.xml".to_string()));
    let declared =
        parse_declared(&std::fs::read_to_string(site.path().join("Parameters.xml")).unwrap())
            .unwrap();
    let set = r#"<?xml version="1.0" encoding="utf-8"?>
<parameters>
  <setParameter name="ApplicationPath" value="Contoso/pyramid" />
  <setParameter name="scaffold" value="alchemy" />
</parameters>"#;
    let values = resolve(&declared, &parse_set_parameters(set).unwrap()).unwrap();
    let applied = apply(&unpacked, &declared, &values).unwrap();
    assert!(!applied.changes.is_empty(), "{applied:?}");
    let setup_cfg = std::fs::read_to_string(site.path().join("PyramidIISApp/setup.cfg")).unwrap();
    assert!(
        setup_cfg.contains("alchemy") && !setup_cfg.contains("__msdeploy_scaffold__"),
        "{setup_cfg}"
    );
    // An enumeration value the package does not offer is refused.
    let bad = parse_set_parameters(
        r#"<parameters><setParameter name="scaffold" value="nope" /></parameters>"#,
    )
    .unwrap();
    let err = resolve(&declared, &bad).unwrap_err().to_string();
    assert!(
        err.contains("'nope' is not one of starter, zodb, alchemy"),
        "{err}"
    );
}

#[test]
fn the_iiswsgi_sample_fixture_parameterizes_its_ini_file() {
    let text = std::fs::read_to_string(common::fixture(
        "msdeploy/webapp/iiswsgi-sample/Parameters.xml",
    ))
    .unwrap();
    let declared = parse_declared(&text).unwrap();
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("IISWSGISampleApp")).unwrap();
    std::fs::write(
        site.path().join("IISWSGISampleApp/iis_fcgi.ini"),
        "[app:main]\ndevel = __msdeploy_devel_mode__\ndb = __msdeploy_db_type__\n",
    )
    .unwrap();
    let values = resolve(
        &declared,
        &parse_set_parameters(
            r#"<parameters><setParameter name="DBType" value="MySQL"/></parameters>"#,
        )
        .unwrap(),
    )
    .unwrap();
    let applied = apply(
        &laid_out(site.path(), "IISWSGISampleApp/iis_fcgi.ini"),
        &declared,
        &values,
    )
    .unwrap();
    assert_eq!(applied.changes.len(), 2, "{applied:?}");
    assert_eq!(
        std::fs::read_to_string(site.path().join("IISWSGISampleApp/iis_fcgi.ini")).unwrap(),
        "[app:main]\ndevel = True\ndb = MySQL\n"
    );
}

#[test]
fn an_xpath_that_matches_nothing_is_a_warning_as_in_msdeploy() {
    let declared = parse_declared(
        r#"<parameters><parameter name="Key" defaultValue="v"><parameterEntry kind="XmlFile" scope="\\web\.config$" match="/configuration/appSettings/add[@key='MISSING']/@value"/></parameter></parameters>"#,
    )
    .unwrap();
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("App")).unwrap();
    let original =
        "<configuration><appSettings><add key=\"A\" value=\"1\" /></appSettings></configuration>";
    std::fs::write(site.path().join("App/web.config"), original).unwrap();
    let values = resolve(&declared, &[]).unwrap();
    let applied = apply(&laid_out(site.path(), "App/web.config"), &declared, &values).unwrap();
    assert!(applied.changes.is_empty());
    assert_eq!(
        applied.warnings,
        [
            "parameter 'Key': \"/configuration/appSettings/add[@key='MISSING']/@value\" matches nothing in App/web.config"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(site.path().join("App/web.config")).unwrap(),
        original,
        "unchanged"
    );
}

/// Visual Studio's Web Publishing Pipeline package (archive.xml,
/// parameters.xml and SetParameters.xml as Visual Studio wrote them),
/// with the content laid out where msdeploy puts a `D:\` source:
/// `Content/D_C/...`. Its connection-string parameter scopes the source's
/// absolute path (`D:\\First\ Asp\ ...\\Web\.config$`); applying
/// Microsoft's SetParameters.xml sets the attribute its XPath names to the
/// value that file gives, and nothing else in Web.config.
#[test]
fn visual_studios_archive_package_takes_its_set_parameters_file() {
    let dir = "msdeploy/archive/vs-wpp-package";
    let read = |name: &str| std::fs::read(common::fixture(&format!("{dir}/{name}"))).unwrap();
    let content = "Content/D_C/First Asp Web App/Design and Supervion Issue Tracking/obj/Release/Package/PackageTmp";
    let web_config = r#"<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <connectionStrings>
    <add name="design" connectionString="data source=.;database=dev" providerName="System.Data.SqlClient" />
    <add name="other" connectionString="untouched" />
  </connectionStrings>
  <system.web>
    <compilation targetFramework="4.7.2" />
  </system.web>
</configuration>
"#;
    let (archive, parameters, system_info) = (
        read("archive.xml"),
        read("parameters.xml"),
        read("systemInfo.xml"),
    );
    let zip = zip_with(
        &[
            ("archive.xml", &archive),
            ("parameters.xml", &parameters),
            ("systemInfo.xml", &system_info),
            (&format!("{content}/Web.config"), web_config.as_bytes()),
            (&format!("{content}/Default.aspx"), b"<%@ Page %>"),
        ],
        zip::CompressionMethod::Deflated,
    );
    let site = tempfile::tempdir().unwrap();
    let unpacked = unpack(zip.path(), site.path()).unwrap();
    assert_eq!(unpacked.layout, Layout::Archive);
    let declared =
        parse_declared(&std::fs::read_to_string(unpacked.parameters_file().unwrap()).unwrap())
            .unwrap();
    let set = std::fs::read_to_string(common::fixture(&format!("{dir}/project.SetParameters.xml")))
        .unwrap();
    let mut given = parse_set_parameters(&set).unwrap();
    let values = resolve(&declared, &given).unwrap();
    let applied = apply(&unpacked, &declared, &values).unwrap();
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
    assert_eq!(
        applied.changes,
        [format!(
            "{content}/Web.config: parameter 'design-Web.config Connection String' set 1 place(s)"
        )]
    );
    let expected =
        r#"data source=DESKTOP-4NEQ4OR\SQLEXPRESS; database=CERP_BUDSWS;integrated security=true"#;
    assert_eq!(
        web_config.replace("data source=.;database=dev", expected),
        std::fs::read_to_string(site.path().join(content).join("Web.config")).unwrap(),
        "only the attribute the XPath names changes"
    );

    // A value given on the command line wins over the file's, as -setParam.
    given.push((
        "design-Web.config Connection String".to_string(),
        "Server=db;Database=prod".to_string(),
    ));
    let values = resolve(&declared, &given).unwrap();
    apply(&unpacked, &declared, &values).unwrap();
    let text = std::fs::read_to_string(site.path().join(content).join("Web.config")).unwrap();
    assert!(
        text.contains(r#"<add name="design" connectionString="Server=db;Database=prod" providerName="System.Data.SqlClient" />"#)
            && text.contains(r#"<add name="other" connectionString="untouched" />"#),
        "{text}"
    );
}
