//! The runCommand that runs the gateway's install step on the server, and
//! the two parameters that go with it.
//!
//! Web Deploy runs a runCommand from its own working folder and knows the
//! app only by its IIS path (`Default Web Site/Shop`), which the installer
//! may change. So the command asks IIS where that app's files are
//! (`appcmd list vdir … /text:physicalPath`) and runs the gateway found
//! there; `call` expands a physical path written with `%SystemDrive%`. A
//! hidden parameter rewrites the command with the chosen IIS path
//! (`{ApplicationPath}`), as setAcl paths are rewritten.

use crate::manifest::Project;
use crate::manifest::model::{Python, RunCommand};

/// The hidden parameter that carries the chosen IIS path into the command.
pub const INSTALL_PARAMETER: &str = "InstallCommand";
/// The parameter installers may change: which Python the server uses.
pub const PYTHON_PARAMETER: &str = "PythonInterpreter";

/// What IISWSGI_PYTHON says: `[python] server`, else the py launcher.
pub fn server_python(py: &Python) -> String {
    py.server
        .clone()
        .unwrap_or_else(|| format!("py -{}", py.version))
}

/// The command line for the app at IIS path `iis_app`.
pub fn command(project: &Project, iis_app: &str) -> String {
    let dest = project
        .manifest
        .gateway
        .as_ref()
        .map_or("bin/iiswsgi-gateway.exe", |g| g.dest.as_str())
        .replace('/', "\\");
    let app = iis_app.trim_end_matches('/');
    format!(
        "for /F \"usebackq delims=\" %p in (`%windir%\\system32\\inetsrv\\appcmd.exe list vdir \"{app}/\" /text:physicalPath`) do call \"%p\\{dest}\" install --iis-app \"{app}\""
    )
}

/// The runCommand's settings: wait up to ten minutes (a first venv with
/// many wheels takes a while) plus the set-up commands' timeouts, and fail
/// the deployment unless it exits 0.
pub fn run_command(project: &Project) -> Option<RunCommand> {
    project.manifest.python.as_ref()?;
    project.manifest.gateway.as_ref()?;
    Some(RunCommand {
        command: command(
            project,
            project
                .manifest
                .iis
                .application_path
                .as_deref()
                .unwrap_or_default(),
        ),
        // Set-up commands may take their timeouts on top of the rest.
        wait_attempts: Some(
            120 + u32::try_from(
                crate::render::install_file::total_timeout(&project.manifest).div_ceil(5),
            )
            .unwrap_or(u32::MAX - 120),
        ),
        wait_interval: Some(5000),
        success_return_codes: Some(vec!["0x0".to_string()]),
        dont_use_command_exe: None,
        dont_use_job_object: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_finds_the_app_by_its_iis_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iiswsgi.toml");
        std::fs::write(&path, "[app]\nname = \"Shop\"\nversion = \"1\"\n[gateway]\npath = \"gw.exe\"\narch = \"x64\"\n[python]\nversion = \"3.12\"\n").unwrap();
        let project = crate::manifest::load::load(&path).unwrap();
        assert_eq!(
            command(&project, "Default Web Site/Shop"),
            r#"for /F "usebackq delims=" %p in (`%windir%\system32\inetsrv\appcmd.exe list vdir "Default Web Site/Shop/" /text:physicalPath`) do call "%p\bin\iiswsgi-gateway.exe" install --iis-app "Default Web Site/Shop""#
        );
        let rc = run_command(&project).unwrap();
        assert_eq!(
            rc.success_return_codes.as_deref(),
            Some(&["0x0".to_string()][..])
        );
        assert_eq!(
            server_python(project.manifest.python.as_ref().unwrap()),
            "py -3.12"
        );
    }
}
