//! What `iiswsgi build` writes beside a package for administrators
//! (src/deploy_files.rs): SetParameters.xml in Microsoft's format, read as
//! the fixtures' files are read; and deploy.cmd run by Wine's cmd.exe with
//! a recording stand-in for msdeploy.exe (there is no msdeploy.exe here:
//! the stand-in, gateway/tests/wine/recording_standin.c, records the
//! command line it was given and exits with IISWSGI_STANDIN_EXIT).

mod common;

use std::path::{Path, PathBuf};

use iiswsgi::deploy_files::files;
use iiswsgi::verify::parameters::{parse_declared, parse_set_parameters};

fn example_files(name: &str) -> Vec<iiswsgi::deploy_files::DeployFile> {
    let project = iiswsgi::manifest::load(&common::project(name).join("iiswsgi.toml")).unwrap();
    let package = iiswsgi::plan::package_file_name(&project.app().name, &project.app().version);
    files(&project, &package)
}

#[test]
fn set_parameters_files_are_microsofts_format_with_every_settable_parameter() {
    for example in ["flask", "django", "pyramid"] {
        let written = example_files(example);
        let names: Vec<&str> = written.iter().map(|f| f.name.as_str()).collect();
        assert!(names[0].ends_with(".SetParameters.xml"), "{names:?}");
        assert!(names[1].ends_with(".deploy.cmd") && names[2].ends_with(".deploy-readme.txt"));
        let text = &written[0].text;
        insta::assert_snapshot!(format!("{example}-SetParameters.xml"), text);
        // Read back by verify's engine: one value per parameter the
        // package declares that is not hidden, in Parameters.xml's order.
        let values = parse_set_parameters(text).unwrap();
        let project =
            iiswsgi::manifest::load(&common::project(example).join("iiswsgi.toml")).unwrap();
        let declared = parse_declared(&iiswsgi::msdeploy::parameters_xml::render(
            &iiswsgi::msdeploy::parameters_xml::effective_parameters(&project),
        ))
        .unwrap();
        let visible: Vec<&str> = declared
            .iter()
            .filter(|d| !d.tags.iter().any(|t| t == "Hidden"))
            .map(|d| d.name.as_str())
            .collect();
        let set: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(set, visible, "{example}");
    }
    // The Password parameter is empty, never a value from iiswsgi.toml.
    let flask = &example_files("flask")[0].text;
    assert!(
        flask.contains("<setParameter name=\"SecretKey\" value=\"\" />"),
        "{flask}"
    );
    // The fixtures' SetParameters files (Visual Studio, dotnet SDK,
    // Sitecore) parse the same way.
    for fixture in [
        "msdeploy/archive/vs-wpp-package/project.SetParameters.xml",
        "msdeploy/archive/dotnet-sdk-package/WSD_Project_C2004V_4.SetParameters.xml",
        "msdeploy/archive/sitecore-sat-template/singlerole.setparameters.xml",
    ] {
        let text =
            std::fs::read_to_string(common::shared().join("fixtures").join(fixture)).unwrap();
        assert!(
            !parse_set_parameters(&text).unwrap().is_empty(),
            "{fixture}"
        );
    }
}

#[test]
fn the_readme_has_the_usage_the_parameters_and_the_msdeploy_line() {
    let written = example_files("flask");
    let readme = &written[2].text;
    for said in [
        "FlaskIISApp-1.0.0.deploy.cmd /T                 show what would change\r\n",
        "SecretKey (a secret)\r\n    Flask's SECRET_KEY, used to sign session cookies.\r\n",
        "msdeploy.exe -verb:sync -source:package='FlaskIISApp-1.0.0.msdeploy.zip' -dest:auto -setParamFile:FlaskIISApp-1.0.0.SetParameters.xml -skip:objectName=dirPath,absolutePath=\\\\instance$\r\n",
    ] {
        assert!(readme.contains(said), "{said:?} in {readme}");
    }
}

/// A built package in a folder named `A & B` (cmd's special character),
/// its deploy files beside it; and msdeploy.exe's stand-in in `Web Deploy`.
struct Site {
    dir: tempfile::TempDir,
    wine: &'static common::wine::Wine,
}

impl Site {
    fn new() -> Option<Site> {
        let wine = common::wine::wine()?;
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("A & B");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            project.join("iiswsgi.toml"),
            "[app]\nname = \"Shop\"\nversion = \"2.0\"\n[files]\ninclude = [\"*.py\"]\n[iis]\ndata-folders = [\"media\"]\n",
        )
        .unwrap();
        std::fs::write(project.join("app.py"), "app = None\n").unwrap();
        let out = assert_cmd::Command::cargo_bin("iiswsgi")
            .unwrap()
            .current_dir(&project)
            .arg("build")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tools = dir.path().join("Web Deploy");
        std::fs::create_dir_all(&tools).unwrap();
        std::fs::copy(
            wine.tool("recording_standin.exe"),
            tools.join("msdeploy.exe"),
        )
        .unwrap();
        Some(Site { dir, wine })
    }

    fn dist(&self) -> PathBuf {
        self.dir.path().join("A & B/dist")
    }

    fn win(&self, path: &Path) -> String {
        common::wine::windows_path(path)
    }

    /// Runs `<dist>\Shop-2.0.deploy.cmd ARGS`, typed as at a prompt (a
    /// runner batch file holds the line: Wine's argument quoting would
    /// otherwise escape the quotes a user types). Wine 8's cmd.exe gives a
    /// `call`ed script's `exit /b N` back as 1, so the exit code is
    /// checked by `run_direct`. (output, recorded command lines)
    fn run(&self, args: &str, env: &[(&str, &str)]) -> (String, Vec<String>) {
        let runner = self.dir.path().join("runner.cmd");
        std::fs::write(
            &runner,
            format!(
                "@echo off\r\ncall \"{}\" {args}\r\n",
                self.win(&self.dist().join("Shop-2.0.deploy.cmd"))
            ),
        )
        .unwrap();
        let (_, out, recorded) = self.wine_cmd(&self.win(&runner), &[], env);
        (out, recorded)
    }

    /// Runs a deploy.cmd directly (`cmd /c SCRIPT ARGS`; its folder must
    /// have no special character): (exit code, output, recorded).
    fn run_direct(
        &self,
        script: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String, Vec<String>) {
        self.wine_cmd(&self.win(script), args, env)
    }

    fn wine_cmd(
        &self,
        script: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String, Vec<String>) {
        let log = self.dir.path().join("msdeploy.log");
        let _ = std::fs::remove_file(&log);
        let mut cmd = self.wine.command();
        cmd.args(["cmd", "/c", script])
            .args(args)
            .env("IISWSGI_STANDIN_LOG", self.win(&log))
            .env_remove("MSDeployPath")
            .env_remove("_MsDeployAdditionalFlags")
            .env_remove("_DeploySetParametersFile");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let recorded = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
            recorded,
        )
    }

    fn reg(&self, args: &[&str]) {
        let out = self.wine.command().arg("reg").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "reg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn deploy_cmd_runs_msdeploy_with_visual_studios_flags_under_wine() {
    let Some(site) = Site::new() else { return };
    let dist = site.win(&site.dist());
    let tools = site.win(&site.dir.path().join("Web Deploy"));
    let with_tools = [("MSDeployPath", tools.as_str())];
    let package = format!("\"-source:package='{dist}\\Shop-2.0.msdeploy.zip'\"");
    let params = format!("\"-setParamFile:{dist}\\Shop-2.0.SetParameters.xml\"");
    let fixed = "-disableLink:AppPoolExtension -disableLink:ContentExtension -disableLink:CertificateExtension -skip:objectName=dirPath,absolutePath=\\\\media$";

    // No /T or /Y: the usage, and msdeploy is not run.
    let (out, recorded) = site.run("", &with_tools);
    assert!(
        out.contains("Shop-2.0.deploy.cmd /T ^| /Y") || out.contains("Shop-2.0.deploy.cmd /T | /Y"),
        "{out}"
    );
    assert!(recorded.is_empty(), "{recorded:?}");

    // /T: what-if, with the SetParameters.xml beside it.
    let (out, recorded) = site.run("/T", &with_tools);
    assert_eq!(
        recorded,
        [format!(
            "msdeploy.exe|-verb:sync {package} \"-dest:auto\" {params} {fixed} -whatif"
        )],
        "{out}"
    );
    // /Y to a remote server with Basic authentication, the password
    // masked in what is printed; an extra msdeploy flag passed as typed;
    // _MsDeployAdditionalFlags too.
    let (out, recorded) = site.run(
        "/Y /M:https://host:8172/msdeploy.axd /U:u \"/P:p&ss\" /A:Basic \"-skip:objectName=setAcl\"",
        &[("MSDeployPath", tools.as_str()), ("_MsDeployAdditionalFlags", "-retryAttempts:5")],
    );
    let dest = "\"-dest:auto,computerName='https://host:8172/msdeploy.axd',userName='u',password='p&ss',authType='Basic'\"";
    assert_eq!(
        recorded,
        [format!(
            "msdeploy.exe|-verb:sync {package} {dest} {params} {fixed} -retryAttempts:5 \"-skip:objectName=setAcl\""
        )],
        "{out}"
    );
    assert!(
        out.contains("password='********'") && !out.contains("p&ss"),
        "{out}"
    );

    // No SetParameters.xml: the defaults apply; /E: /I: /G: reach -dest.
    std::fs::rename(
        site.dist().join("Shop-2.0.SetParameters.xml"),
        site.dist().join("moved.xml"),
    )
    .unwrap();
    let (out, recorded) = site.run("/Y /I:true /G:true /E:false", &with_tools);
    assert_eq!(
        recorded,
        [format!(
            "msdeploy.exe|-verb:sync {package} \"-dest:auto,encryptPassword='false',includeAcls='true',tempAgent='true'\" {fixed}"
        )],
        "{out}"
    );
    assert!(out.contains("the parameters' defaults apply"), "{out}");
    // _DeploySetParametersFile names another file.
    let other = format!("{dist}\\moved.xml");
    let (out, recorded) = site.run(
        "/Y",
        &[
            ("MSDeployPath", tools.as_str()),
            ("_DeploySetParametersFile", other.as_str()),
        ],
    );
    assert_eq!(
        recorded,
        [format!(
            "msdeploy.exe|-verb:sync {package} \"-dest:auto\" \"-setParamFile:{other}\" {fixed}"
        )],
        "{out}"
    );

    // msdeploy.exe found through the registry, as Web Deploy's installer
    // records it.
    let key = r"HKLM\SOFTWARE\Microsoft\IIS Extensions\MSDeploy\3";
    site.reg(&[
        "add",
        key,
        "/v",
        "InstallPath",
        "/t",
        "REG_SZ",
        "/d",
        &format!("{tools}\\"),
        "/f",
    ]);
    let (out, recorded) = site.run("/Y", &[]);
    site.reg(&[
        "delete",
        r"HKLM\SOFTWARE\Microsoft\IIS Extensions\MSDeploy",
        "/f",
    ]);
    assert_eq!(recorded.len(), 1, "{out}");
    assert!(
        out.contains(&format!("\"{tools}\\msdeploy.exe\" -verb:sync")),
        "{out}"
    );

    // Run directly (a folder with no special character): msdeploy's exit
    // code comes back; with no msdeploy.exe anywhere, a message and 3.
    let plain = site.dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    for name in ["Shop-2.0.msdeploy.zip", "Shop-2.0.deploy.cmd"] {
        std::fs::copy(site.dist().join(name), plain.join(name)).unwrap();
    }
    let script = plain.join("Shop-2.0.deploy.cmd");
    let (code, out, recorded) = site.run_direct(
        &script,
        &["/Y"],
        &[
            ("MSDeployPath", tools.as_str()),
            ("IISWSGI_STANDIN_EXIT", "7"),
        ],
    );
    assert_eq!((code, recorded.len()), (7, 1), "{out}");
    let (code, out, recorded) = site.run_direct(&script, &["/Y"], &[]);
    assert_eq!(code, 3, "{out}");
    assert!(recorded.is_empty());
    assert!(
        out.contains("msdeploy.exe is not at \"C:\\Program Files\\IIS\\Microsoft Web Deploy V3\\msdeploy.exe\"")
            && out.contains("set MSDeployPath"),
        "{out}"
    );
}
