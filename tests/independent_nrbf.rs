//! Issue #3: an NRBF parser written by someone else (the PyPI package
//! `nrbf`, installed by tests/run.sh into tests/.venv) decodes the provider
//! options that `iiswsgi build` writes to the same provider name, path,
//! setting names and values.

mod common;

use std::io::{Read, Write};
use std::process::{Command as Process, Stdio};

#[test]
fn nrbf_from_pypi_decodes_what_build_writes() {
    let Some(python) = common::venv_python() else {
        return;
    };
    let long = format!(
        r"C:\Python311\python.exe -u C:\apps\{}\manage.py migrate --noinput",
        "x".repeat(150)
    );
    assert!(long.len() >= 200);
    let manifest = format!(
        r#"
[app]
name = "App"
version = "1"

[[run-command]]
command = '{long}'
wait-attempts = 10
wait-interval = 60000
success-return-codes = ["0x0", "0x2"]
dont-use-command-exe = true
dont-use-job-object = false

[[run-command]]
command = 'C:\Pythön\naïve\app — ñ.exe {{{{ app.name }}}}'
success-return-codes = ["0x0"]

[[run-command]]
command = "plain.cmd"
"#
    );
    let dir = common::build_manifest(&manifest);

    let zip = dir.path().join("dist/App-1.msdeploy.zip");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name("Manifest.xml")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let ours = iiswsgi::inspect::providers_in("Manifest.xml", &text).unwrap();
    assert_eq!(ours.len(), 3);
    let blobs: Vec<String> = text
        .split("MSDeploy.MSDeployProviderOptions=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect();

    let mut child = Process::new(python)
        .arg(common::repo("tests/python/decode_provider_options.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(blobs.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(theirs.len(), 3);

    let expected: [(&str, Vec<(&str, &str)>); 3] = [
        (
            long.as_str(),
            vec![
                ("dontUseCommandExe", "true"),
                ("waitAttempts", "10"),
                ("waitInterval", "60000"),
                ("dontUseJobObject", "false"),
                ("successReturnCodes", "0x0;0x2"),
            ],
        ),
        (
            r"C:\Pythön\naïve\app — ñ.exe App",
            vec![("successReturnCodes", "0x0")],
        ),
        ("plain.cmd", vec![]),
    ];
    for ((path, settings), t) in expected.iter().zip(&theirs) {
        assert_eq!(
            t["class"],
            "Microsoft.Web.Deployment.DeploymentProviderOptions"
        );
        assert_eq!(t["providerName"], "runCommand");
        assert_eq!(t["path"], *path);
        let names: Vec<&str> = settings.iter().map(|(n, _)| *n).collect();
        let values: Vec<&str> = settings.iter().map(|(_, v)| *v).collect();
        assert_eq!(t["names"], serde_json::json!(names));
        assert_eq!(t["values"], serde_json::json!(values));
    }
}
