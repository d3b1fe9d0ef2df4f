//! What Visual Studio and `dotnet publish` write beside a Web Deploy
//! package, so an administrator deploys with the commands they know:
//!
//! - `<name>-<version>.SetParameters.xml`: every parameter an installer may
//!   set, in Parameters.xml's order, with its default (a `{Reference}`
//!   default as written; a Password parameter empty, never a value from
//!   iiswsgi.toml), for `-setParamFile:` and `verify --set-param-file`;
//! - `<name>-<version>.deploy.cmd`: msdeploy.exe with Visual Studio's
//!   flags (`/T` what-if, `/Y` deploy, `/M:` `/U:` `/P:` `/A:` `/E:` `/I:`
//!   `/G:`, anything else passed through, `_MsDeployAdditionalFlags`,
//!   `_DeploySetParametersFile`), and the `-skip` rules that keep the data
//!   folders;
//! - `<name>-<version>.deploy-readme.txt`: the same, in words.
//!
//! Text only, made from the manifest: the same manifest gives the same
//! bytes. `[deploy] scripts = false` turns them off.

use crate::manifest::Project;
use crate::manifest::model::Parameter;
use crate::msdeploy::parameters_xml::effective_parameters;
use crate::msdeploy::skip_rules::skip_rules;
use crate::xml_escape::escape;

/// One file written beside the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployFile {
    /// The file name (beside the package).
    pub name: String,
    pub text: String,
}

/// What follows `<name>-<version>` in each file's name.
pub const SUFFIXES: [&str; 3] = [".SetParameters.xml", ".deploy.cmd", ".deploy-readme.txt"];

/// `Name-1.0.msdeploy.zip` → `Name-1.0`.
pub fn base_name(package_file: &str) -> &str {
    package_file
        .strip_suffix(".msdeploy.zip")
        .or_else(|| package_file.strip_suffix(".zip"))
        .unwrap_or(package_file)
}

/// The three files for `project`'s package `package_file`; none with
/// `[deploy] scripts = false`.
pub fn files(project: &Project, package_file: &str) -> Vec<DeployFile> {
    if !project.manifest.deploy.scripts {
        return Vec::new();
    }
    let base = base_name(package_file);
    let settable: Vec<Parameter> = effective_parameters(project)
        .into_iter()
        .filter(|p| !p.tags.iter().any(|t| t.eq_ignore_ascii_case("Hidden")))
        .collect();
    let set_parameters = format!("{base}{}", SUFFIXES[0]);
    vec![
        DeployFile {
            name: set_parameters.clone(),
            text: set_parameters_xml(&settable),
        },
        DeployFile {
            name: format!("{base}{}", SUFFIXES[1]),
            text: crlf(&deploy_cmd(project, package_file, &set_parameters)),
        },
        DeployFile {
            name: format!("{base}{}", SUFFIXES[2]),
            text: crlf(&readme(project, package_file, &set_parameters, &settable)),
        },
    ]
}

fn is_password(p: &Parameter) -> bool {
    p.tags.iter().any(|t| t.eq_ignore_ascii_case("Password"))
}

/// Microsoft's SetParameters format (what Visual Studio writes).
fn set_parameters_xml(parameters: &[Parameter]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<parameters>\n");
    for p in parameters {
        if is_password(p) {
            out.push_str(&format!(
                "  <!-- {}: a secret; give it here (keep this file out of source control) or with -setParam:name='{}',value=... -->\n",
                escape_comment(&p.name),
                escape_comment(&p.name)
            ));
            out.push_str(&format!(
                "  <setParameter name=\"{}\" value=\"\" />\n",
                escape(&p.name)
            ));
        } else {
            out.push_str(&format!(
                "  <setParameter name=\"{}\" value=\"{}\" />\n",
                escape(&p.name),
                escape(p.default.as_deref().unwrap_or(""))
            ));
        }
    }
    out.push_str("</parameters>\n");
    out
}

/// `--` cannot be in an XML comment.
fn escape_comment(text: &str) -> String {
    text.replace("--", "- -")
}

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

/// The deploy script. Every value that may hold `&` or spaces (the
/// folder the script is in, a password) is expanded inside quotes, and no
/// path is expanded inside a parenthesized block (a `)` in
/// `C:\Program Files (x86)` would end it).
fn deploy_cmd(project: &Project, package_file: &str, set_parameters: &str) -> String {
    let app = project.app();
    let skips = skip_rules(&project.manifest);
    let mut flags = vec![
        "-disableLink:AppPoolExtension".to_owned(),
        "-disableLink:ContentExtension".to_owned(),
        "-disableLink:CertificateExtension".to_owned(),
    ];
    flags.extend(skips.iter().cloned());
    let flags = flags.join(" ");
    let base = base_name(package_file);
    format!(
        r#"@echo off
rem {base}.deploy.cmd: deploys {package_file} with Web Deploy (msdeploy.exe).
rem Written by iiswsgi {version}, with the flags of Visual Studio's deploy.cmd;
rem run it with no argument for its usage.
setlocal EnableExtensions DisableDelayedExpansion

set "_Package=%~dp0{package_file}"
if not defined _DeploySetParametersFile set "_DeploySetParametersFile=%~dp0{set_parameters}"

rem msdeploy.exe: in MSDeployPath, else where the registry says Web Deploy
rem is installed, else in Program Files.
if defined MSDeployPath goto :found_path
for /F "usebackq tokens=1,2,*" %%a in (`reg query "HKLM\SOFTWARE\Microsoft\IIS Extensions\MSDeploy" /s 2^>nul`) do if /I "%%a"=="InstallPath" if /I "%%b"=="REG_SZ" set "MSDeployPath=%%c"
if not defined MSDeployPath set "MSDeployPath=%ProgramFiles%\IIS\Microsoft Web Deploy V3"
:found_path
if not "%MSDeployPath:~-1%"=="\" set "MSDeployPath=%MSDeployPath%\"
set "_MSDeploy=%MSDeployPath%msdeploy.exe"

set "_Mode="
set "_Computer="
set "_User="
set "_Password="
set "_Auth="
set "_Encrypt="
set "_Acls="
set "_Agent="
set _Extra=

:next_argument
if "%~1"=="" goto :arguments_read
set "_Arg=%~1"
set "_Flag=%_Arg:~0,3%"
set "_Value=%_Arg:~3%"
if /I "%_Arg%"=="/T" set "_Mode=whatif" & goto :argument_done
if /I "%_Arg%"=="/Y" set "_Mode=deploy" & goto :argument_done
if /I "%_Flag%"=="/M:" set "_Computer=%_Value%" & goto :argument_done
if /I "%_Flag%"=="/U:" set "_User=%_Value%" & goto :argument_done
if /I "%_Flag%"=="/P:" set "_Password=%_Value%" & goto :argument_done
if /I "%_Flag%"=="/A:" set "_Auth=%_Value%" & goto :argument_done
if /I "%_Flag%"=="/E:" set "_Encrypt=%_Value%" & goto :argument_done
if /I "%_Flag%"=="/I:" set "_Acls=%_Value%" & goto :argument_done
if /I "%_Flag%"=="/G:" set "_Agent=%_Value%" & goto :argument_done
rem Anything else goes to msdeploy.exe as it was given.
set _Extra=%_Extra% %1
:argument_done
shift
goto :next_argument
:arguments_read

if not defined _Mode goto :usage
if not exist "%_MSDeploy%" goto :no_msdeploy
if not exist "%_Package%" goto :no_package

set "_Dest=auto"
if defined _Computer set "_Dest=%_Dest%,computerName='%_Computer%'"
if defined _User set "_Dest=%_Dest%,userName='%_User%'"
set "_Shown=%_Dest%"
if defined _Password set "_Dest=%_Dest%,password='%_Password%'" & set "_Shown=%_Shown%,password='********'"
set "_Tail="
if defined _Auth set "_Tail=%_Tail%,authType='%_Auth%'"
if defined _Encrypt set "_Tail=%_Tail%,encryptPassword='%_Encrypt%'"
if defined _Acls set "_Tail=%_Tail%,includeAcls='%_Acls%'"
if defined _Agent set "_Tail=%_Tail%,tempAgent='%_Agent%'"
set "_Dest=%_Dest%%_Tail%"
set "_Shown=%_Shown%%_Tail%"
set "_Flags={flags}"
if "%_Mode%"=="whatif" set "_Flags=%_Flags% -whatif"
if defined _MsDeployAdditionalFlags set _Flags=%_Flags% %_MsDeployAdditionalFlags%

if not exist "%_DeploySetParametersFile%" goto :without_parameters
echo Parameters from "%_DeploySetParametersFile%"
echo "%_MSDeploy%" -verb:sync "-source:package='%_Package%'" "-dest:%_Shown%" "-setParamFile:%_DeploySetParametersFile%" %_Flags%%_Extra%
"%_MSDeploy%" -verb:sync "-source:package='%_Package%'" "-dest:%_Dest%" "-setParamFile:%_DeploySetParametersFile%" %_Flags%%_Extra%
exit /b %ERRORLEVEL%

:without_parameters
echo No "%_DeploySetParametersFile%": the parameters' defaults apply.
echo "%_MSDeploy%" -verb:sync "-source:package='%_Package%'" "-dest:%_Shown%" %_Flags%%_Extra%
"%_MSDeploy%" -verb:sync "-source:package='%_Package%'" "-dest:%_Dest%" %_Flags%%_Extra%
exit /b %ERRORLEVEL%

:no_msdeploy
echo msdeploy.exe is not at "%_MSDeploy%".
echo Install Web Deploy 3 or later (https://www.iis.net/downloads/microsoft/web-deploy),
echo or set MSDeployPath to the folder that holds msdeploy.exe.
exit /b 3

:no_package
echo "%_Package%" is not there: keep {package_file} beside this script.
exit /b 2

:usage
echo Deploys {package_file} ({title}) with Web Deploy.
echo.
echo   {base}.deploy.cmd /T ^| /Y [/M:server] [/U:user] [/P:password] [/A:Basic^|NTLM]
echo                     [/E:encryptPassword] [/I:true^|false] [/G:true^|false] [msdeploy flags]
echo.
echo   /T   what-if: show what would change, change nothing (msdeploy -whatif)
echo   /Y   deploy
echo   /M:  the server: a computer name (the Web Deploy agent service),
echo        or https://server:8172/msdeploy.axd (the Web Management Service)
echo   /U:  /P:  the user and password on that server
echo   /A:  Basic or NTLM (Basic for msdeploy.axd with an IIS Manager user)
echo   /E:  encryptPassword    /I: includeAcls    /G: tempAgent
echo   Other arguments, and _MsDeployAdditionalFlags, go to msdeploy.exe as they are,
echo   such as "-setParam:name='{app_path_param}',value='Default Web Site/{name}'".
echo.
echo   The parameters come from {set_parameters} beside this script (another
echo   file: set _DeploySetParametersFile); msdeploy.exe from MSDeployPath, the
echo   registry, or %%ProgramFiles%%\IIS\Microsoft Web Deploy V3.
exit /b 1
"#,
        version = env!("CARGO_PKG_VERSION"),
        title = app
            .title
            .as_deref()
            .unwrap_or(&app.name)
            .replace(['(', ')', '&', '|', '<', '>', '^'], ""),
        name = app.name,
        app_path_param = crate::msdeploy::parameters_xml::APPLICATION_PATH,
    )
}

/// The readme beside the script.
fn readme(
    project: &Project,
    package_file: &str,
    set_parameters: &str,
    parameters: &[Parameter],
) -> String {
    let base = base_name(package_file);
    let app = project.app();
    let mut out = format!(
        "{title} ({package_file})\n\
         Written by iiswsgi {version}.\n\n\
         Deploying with {base}.deploy.cmd\n\
         ---------------------------------\n\
         Edit {set_parameters} (one value per parameter; secrets are empty), then,\n\
         on the server or on a machine that reaches it:\n\n  \
         {base}.deploy.cmd /T                 show what would change\n  \
         {base}.deploy.cmd /Y                 deploy to this machine's IIS\n  \
         {base}.deploy.cmd /Y /M:https://server:8172/msdeploy.axd /U:user /P:password /A:Basic\n\n\
         Other arguments go to msdeploy.exe as they are; _MsDeployAdditionalFlags adds\n\
         flags, _DeploySetParametersFile names another parameters file, MSDeployPath\n\
         the folder of msdeploy.exe. The script exits with msdeploy.exe's code.\n\n\
         Parameters\n\
         ----------\n",
        title = app.title.as_deref().unwrap_or(&app.name),
        version = env!("CARGO_PKG_VERSION"),
    );
    for p in parameters {
        out.push_str(&format!(
            "{}{}\n    {}\n",
            p.name,
            if is_password(p) {
                " (a secret)".to_owned()
            } else {
                p.default
                    .as_deref()
                    .map(|d| format!(" (default: {d})"))
                    .unwrap_or_default()
            },
            p.description.as_deref().unwrap_or("(no description)")
        ));
    }
    let skips = skip_rules(&project.manifest);
    out.push_str(&format!(
        "\nWith msdeploy.exe by hand\n\
         -------------------------\n  \
         msdeploy.exe -verb:sync -source:package='{package_file}' -dest:auto -setParamFile:{set_parameters}{}\n",
        skips.iter().map(|s| format!(" {s}")).collect::<String>()
    ));
    if !skips.is_empty() {
        out.push_str(
            "\nThe -skip rules keep the data folders the app writes ([iis] data-folders):\n\
             without them, a redeploy deletes them, as it deletes whatever the package lacks.\n",
        );
    }
    out.push_str(
        "\nAfter copying the files, Web Deploy runs the app's install step\n\
         (bin\\iiswsgi-gateway.exe install): its output is in msdeploy's, and its log\n\
         is install.log in %ProgramData%\\iiswsgi\\apps\\<Site>_<App>\\.\n",
    );
    out
}
