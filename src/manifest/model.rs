//! The `iiswsgi.toml` model: plain data, exactly what users write.
//!
//! Keys are kebab-case when read (like Cargo.toml) and snake_case when the
//! model is handed to templates, where `app.author_url` reads better than
//! `app["author-url"]`. Every struct denies unknown keys so that a typo is an
//! error with a suggestion instead of a silently ignored setting.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::msdeploy::WebDeployVersion;

/// The whole of `iiswsgi.toml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
#[schemars(title = "iiswsgi.toml")]
pub struct Manifest {
    /// The application: its identity and the metadata shown to installers.
    pub app: Option<App>,
    /// Which project files go into the package.
    #[serde(default)]
    pub files: Files,
    /// The prebuilt FastCGI gateway executable to bundle.
    pub gateway: Option<Gateway>,
    /// The Python the app runs on, and its requirements, bundled as wheels
    /// and installed offline by the gateway's install step.
    pub python: Option<Python>,
    /// Where the application lands in IIS and how web.config wires it up.
    #[serde(default)]
    pub iis: Iis,
    /// What the gateway's install step checks on the server before it
    /// switches the site to the new version.
    #[serde(default)]
    pub install: Install,
    /// Commands Web Deploy runs on the server after copying the files.
    #[serde(default, rename(deserialize = "run-command"))]
    pub run_command: Vec<RunCommand>,
    /// Web Deploy parameters, written to Parameters.xml.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// Access-control entries Web Deploy sets on folders or files of the app.
    #[serde(default, rename(deserialize = "set-acl"))]
    pub set_acl: Vec<SetAcl>,
    /// SQL scripts Web Deploy runs (dbFullSql / dbMySql providers).
    #[serde(default)]
    pub sql: Vec<SqlScript>,
    /// Copies of package files placed under another name at install time.
    #[serde(default)]
    pub alias: Vec<Alias>,
    /// Replacements for the built-in templates.
    #[serde(default)]
    pub templates: Templates,
    /// Web Deploy compatibility settings.
    #[serde(default)]
    pub msdeploy: MsDeploy,
    /// Web Platform Installer feed metadata.
    pub feed: Option<Feed>,
    /// Where `iiswsgi publish` uploads packages and the feed.
    pub publish: Option<Publish>,
    /// A root that groups several apps into one feed.
    pub workspace: Option<Workspace>,
    /// What `iiswsgi verify` asks the installed app by default.
    #[serde(default)]
    pub verify: Verify,
    /// Steps `iiswsgi build` runs before it selects the files.
    #[serde(default)]
    pub build: Build,
    /// What `iiswsgi build` writes beside the package for administrators.
    #[serde(default)]
    pub deploy: Deploy,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Deploy {
    /// `<name>-<version>.SetParameters.xml`, `.deploy.cmd` and
    /// `.deploy-readme.txt` beside the package, as Visual Studio writes
    /// them (default true).
    #[serde(default = "yes")]
    pub scripts: bool,
}

impl Default for Deploy {
    fn default() -> Self {
        Deploy { scripts: true }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Build {
    /// Commands run before file selection (Django's `python manage.py
    /// collectstatic --noinput`), in order, from the project folder, in a
    /// build venv made from `[python] requirements` for this machine
    /// (cached), with `[iis] app-settings` in the environment; what they
    /// write is then selected like any file.
    #[serde(default)]
    pub run: Vec<BuildCommand>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct BuildCommand {
    /// The command line (`sh -c`; `cmd /c` on Windows).
    pub command: String,
    /// How long it may run: `90s`, `10m` (default), `1h`.
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Verify {
    /// Requests and what each must answer, `PATH[=STATUS][:TEXT]`: `"/=200:Posts"`,
    /// `"/static/style.css=200"`, `"/admin/=302"` (`--request` replaces them).
    /// Without a status a 2xx passes; a redirect or a 4xx fails.
    #[serde(default)]
    pub requests: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct App {
    /// Product id, package file name and (unless `folder` is set) the folder
    /// of the app inside the package. Letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// Version string, used in the package file name and the feed.
    pub version: String,
    /// Folder inside the package that holds the app (default: `name`).
    pub folder: Option<String>,
    /// Human-readable title (default: `name`).
    pub title: Option<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// Long description, inline.
    pub description: Option<String>,
    /// Long description read from a file, relative to iiswsgi.toml.
    pub description_file: Option<PathBuf>,
    #[serde(default)]
    pub authors: Vec<String>,
    pub author_url: Option<String>,
    pub homepage: Option<String>,
    pub license_url: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub icon_url: Option<String>,
    /// Screenshots shown by Web Platform Installer, as URLs.
    #[serde(default)]
    pub screenshot_urls: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Files {
    /// Globs of files to include, relative to iiswsgi.toml (`*` stays within
    /// one folder, `**` crosses folders).
    #[serde(default = "default_include")]
    pub include: Vec<String>,
    /// Globs of files to leave out, applied after `include`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Explicit placements: one source file to one destination in the app folder.
    #[serde(default)]
    pub map: Vec<FileMap>,
    /// Leave out what git ignores (`.gitignore` files, `.git/info/exclude`,
    /// the global excludes), as git decides it (default true). Files an
    /// include glob names (`staticfiles/**`) are packaged all the same.
    #[serde(default = "yes")]
    pub gitignore: bool,
}

impl Default for Files {
    fn default() -> Self {
        Files {
            include: default_include(),
            exclude: Vec::new(),
            map: Vec::new(),
            gitignore: true,
        }
    }
}

fn default_include() -> Vec<String> {
    vec!["**/*".to_string()]
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct FileMap {
    /// Source file, relative to iiswsgi.toml.
    pub src: PathBuf,
    /// Destination, relative to the app folder, with `/` separators.
    pub dest: String,
    /// Allow a source outside the project folder (the workspace root for a
    /// member). Off by default: a manifest changed in a pull request must
    /// not be able to package a CI machine's files, such as its credentials.
    #[serde(default)]
    pub allow_outside_project: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Python {
    /// `major.minor` of the CPython on the server, e.g. "3.12" (3.9 or later).
    pub version: String,
    /// A pip requirements file (its `-r` and `-c` includes too, relative to
    /// it), a lock file exported as one, or a pyproject.toml (its
    /// `[project] dependencies`), relative to iiswsgi.toml; resolved for
    /// Windows and bundled as wheels.
    pub requirements: Option<PathBuf>,
    /// A pyproject.toml's optional dependency groups to bundle too
    /// (`[project.optional-dependencies]`, by name).
    #[serde(default)]
    pub extras: Vec<String>,
    /// Distributions left out for Windows, with what only they need
    /// (`uwsgi`, `gunicorn`: a Linux server in the requirements).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Build the project itself as a wheel and install it in the venv
    /// (Pyramid's `use = egg:myapp`, entry points, importlib.metadata):
    /// needs a pyproject.toml or setup.py with a name.
    #[serde(default)]
    pub install_project: bool,
    /// How the install step finds Python on the server: `py -3.12` (the
    /// default: the py launcher with `version`) or the path of python.exe.
    /// Installers can change it: it is the `PythonInterpreter` parameter.
    pub server: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Gateway {
    /// Prebuilt gateway executable, relative to iiswsgi.toml.
    pub path: Option<PathBuf>,
    /// Download URL of the gateway executable (requires `sha256`).
    pub url: Option<String>,
    /// Expected SHA-256 of the executable, 64 hex digits.
    pub sha256: Option<String>,
    /// Where the executable goes inside the app folder.
    #[serde(default = "default_gateway_dest")]
    pub dest: String,
    /// The CPU the executable is built for; checked against its PE header.
    pub arch: Arch,
    /// Not written by users: no [gateway] in a Python app on FastCGI
    /// means iiswsgi's own (`gateway::builtin`), filled in at validation.
    #[serde(skip)]
    #[schemars(skip)]
    pub builtin: bool,
}

fn default_gateway_dest() -> String {
    "bin/iiswsgi-gateway.exe".to_string()
}

/// A Windows CPU architecture, as named in PE headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    X86,
    X64,
    Arm64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Iis {
    /// Default IIS site path offered at install (default: `Default Web Site/<name>`).
    pub application_path: Option<String>,
    /// The WSGI callable the gateway serves, as `module:callable`; written to
    /// web.config `<appSettings>` as WSGI_HANDLER when set.
    pub wsgi_handler: Option<String>,
    /// Extra `<appSettings>` written to web.config (e.g. DJANGO_SETTINGS_MODULE).
    #[serde(default)]
    pub app_settings: std::collections::BTreeMap<String, String>,
    /// How IIS runs the app: through the bundled FastCGI gateway, or
    /// HttpPlatformHandler starting waitress (from the wheelhouse) on
    /// `%HTTP_PLATFORM_PORT%`.
    #[serde(default)]
    pub hosting: Hosting,
    /// Folders of the app IIS serves itself, without Python (Flask's
    /// `static`, Django's collectstatic output): each gets a web.config
    /// that removes the Python handler.
    #[serde(default)]
    pub static_folders: Vec<String>,
    /// URL paths IIS serves itself from a project folder, when the folder is
    /// not at that path: `{ "/static" = "flaskr/static" }` (Flask's package
    /// layout), `{ "/static" = "staticfiles" }` (Django's STATIC_URL and
    /// STATIC_ROOT). The folder's files are packaged at the URL's path too,
    /// with a web.config that removes the Python handler; under a sub-path
    /// application the URL is relative to it.
    #[serde(default, rename(deserialize = "static"))]
    pub static_urls: std::collections::BTreeMap<String, String>,
    /// Folders the app writes at run time (Flask's `instance`, Django's
    /// `media`, a SQLite database's folder): made on first install if
    /// missing, given Modify access for the app pool's identity, never
    /// packaged, and kept by redeploys that carry the `-skip` rules
    /// `iiswsgi build` prints.
    #[serde(default)]
    pub data_folders: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Install {
    /// Before web.config is switched to the new version, the new gateway
    /// serves the installed app from the new venv and is asked
    /// `test-requests`; an import error, an exception or a 5xx fails the
    /// installation and nothing is switched (default true). Written to
    /// web.config as IISWSGI_SELF_TEST.
    #[serde(default = "yes")]
    pub test: bool,
    /// The self-test's requests: `PATH` (any status below 500 passes) or
    /// `PATH=STATUS`, such as `"/health=200"` (default `["/"]`).
    #[serde(default)]
    pub test_requests: Vec<String>,
    /// The app's set-up commands (`manage.py migrate`, `flask init-db`),
    /// run by the install step in the new venv before the self-test and
    /// the switch, in order, from the app folder, with the venv's
    /// `python` first on PATH and web.config's app settings in the
    /// environment. A failure fails the installation and nothing is
    /// switched.
    #[serde(default)]
    pub run: Vec<SetupCommand>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct SetupCommand {
    /// The command line, run by `cmd /c` on Windows (`sh -c` where verify
    /// runs it). A template: `{{ app.name }}` and the rest of the project
    /// are available.
    pub command: String,
    /// How long it may run: `90s`, `10m`, `1h` (default `10m`); past it,
    /// it is ended and the installation fails.
    pub timeout: Option<String>,
    /// Exit codes that mean success (default `[0]`).
    #[serde(default = "zero")]
    pub success_codes: Vec<i64>,
    /// `always` (default), or `first-install`: once per server and IIS
    /// application (recorded in the state folder), for steps that must not
    /// run twice (`flask init-db` drops every table).
    #[serde(default)]
    pub when: When,
}

fn zero() -> Vec<i64> {
    vec![0]
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    #[default]
    Always,
    FirstInstall,
}

impl When {
    pub fn as_str(self) -> &'static str {
        match self {
            When::Always => "always",
            When::FirstInstall => "first-install",
        }
    }
}

fn yes() -> bool {
    true
}

impl Default for Install {
    fn default() -> Self {
        Install {
            test: true,
            test_requests: Vec::new(),
            run: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Hosting {
    /// IIS's FastCGI module and the bundled gateway (default).
    #[default]
    Fastcgi,
    /// HttpPlatformHandler and waitress, Microsoft's current recommendation.
    HttpPlatform,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct RunCommand {
    /// The command line. It is a template: `{{ app.name }}` and the rest of
    /// the project are available.
    pub command: String,
    /// How many times Web Deploy polls for the command to finish.
    pub wait_attempts: Option<u32>,
    /// Milliseconds between polls.
    pub wait_interval: Option<u32>,
    /// Exit codes that mean success, e.g. `["0x0", "0x2"]`; any other fails the install.
    pub success_return_codes: Option<Vec<String>>,
    /// Start the program directly instead of through cmd.exe.
    pub dont_use_command_exe: Option<bool>,
    /// Do not put the process in a Windows job object.
    pub dont_use_job_object: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Parameter {
    /// Unique parameter name (what `-setParam:name=...` uses).
    pub name: String,
    pub friendly_name: Option<String>,
    pub description: Option<String>,
    /// Default value; `{OtherName}` refers to another parameter's value.
    pub default: Option<String>,
    /// Web Deploy tags such as `Hidden`, `Password`, `IisApp`.
    #[serde(default)]
    pub tags: Vec<String>,
    pub validation: Option<Validation>,
    /// Where the value is applied.
    #[serde(default)]
    pub entries: Vec<ParameterEntry>,
}

/// How Web Deploy validates a parameter's value.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Validation {
    /// Any value, including the empty string.
    AllowEmpty,
    /// `True` or `False`.
    Boolean,
    /// One of a fixed list.
    Enumeration {
        values: Vec<String>,
        #[serde(default, rename(deserialize = "allow-empty"))]
        allow_empty: bool,
    },
    /// A value matching a regular expression.
    RegularExpression {
        pattern: String,
        #[serde(default, rename(deserialize = "allow-empty"))]
        allow_empty: bool,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct ParameterEntry {
    pub kind: EntryKind,
    /// Provider name (provider-path) or a regex on file paths (text-file, xml-file).
    pub scope: String,
    /// Regex (provider-path, text-file), `line;column;length` (text-file-position)
    /// or XPath (xml-file).
    #[serde(rename = "match")]
    pub r#match: String,
    /// Tags on the entry itself (rare; Web Deploy samples use them on xml-file entries).
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    ProviderPath,
    TextFile,
    TextFilePosition,
    XmlFile,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct SetAcl {
    /// Folder or file relative to the app folder (`""` is the app folder itself).
    #[serde(default)]
    pub path: String,
    /// Rights, e.g. `Read`, `Write, ReadAndExecute`, `Modify`.
    pub access: String,
    /// Account; default is the application pool identity.
    pub user: Option<String>,
    /// `File` or `Directory` (Web Deploy's default).
    pub resource_type: Option<AclResourceType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum AclResourceType {
    File,
    Directory,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct SqlScript {
    pub kind: SqlKind,
    /// Script file relative to iiswsgi.toml; placed at the package root.
    pub src: PathBuf,
    /// dbFullSql: run outside a single transaction when false.
    pub transacted: Option<bool>,
    /// dbMySql: the statement delimiter used in the script.
    pub command_delimiter: Option<String>,
    /// dbMySql: remove the delimiter before sending each statement.
    pub remove_command_delimiter: Option<bool>,
}

impl SqlScript {
    /// The script's name at the package root: its file name.
    pub fn package_path(&self) -> Option<&str> {
        self.src.file_name().and_then(|n| n.to_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SqlKind {
    /// Microsoft SQL Server (dbFullSql).
    FullSql,
    /// MySQL (dbMySql).
    Mysql,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Alias {
    /// Existing file, relative to the app folder.
    pub from: String,
    /// New name, relative to the app folder.
    pub to: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Templates {
    /// Replacement for the built-in Manifest.xml template, relative to iiswsgi.toml.
    pub manifest: Option<PathBuf>,
    /// Replacement for the built-in web.config template.
    pub web_config: Option<PathBuf>,
    /// Replacement for the built-in iis_install.stamp template.
    pub install_stamp: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct MsDeploy {
    /// Web Deploy version whose provider-options format to write: "1", "2" or "3" (3.x and later).
    #[serde(default)]
    pub version: WebDeployVersion,
}

/// `[feed]`: the Web Platform Installer feed. Feed-wide keys (`name`, `title`,
/// `url`, `package-url`, `definitions`, `products`) are read from the root
/// manifest; the per-app keys (`dependencies`, `related`, `start-page`,
/// `depend-on-web-deploy`) from each app's own manifest.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Feed {
    /// Feed file stem: `dist/<name>.webpi.xml` (default: the app name, or the
    /// workspace folder name).
    pub name: Option<String>,
    /// Feed title shown in Web Platform Installer.
    pub title: Option<String>,
    /// Where the feed itself will be published.
    pub url: Option<String>,
    /// Package download URL template with `{name}`, `{version}`, `{file}`, `{sha256}`.
    pub package_url: Option<String>,
    /// Products this app needs, by WebPI product id; nest with `{ all = [...] }`
    /// or `{ any = [...] }`, refer to a shared definition with `{ ref = "Name" }`.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Add Web Deploy (`WDeploy`) to the dependencies (default true), which
    /// avoids "Could not load file or assembly Microsoft.Web.Deployment".
    pub depend_on_web_deploy: Option<bool>,
    /// Products offered alongside this app but not required, by product id.
    #[serde(default)]
    pub related: Vec<String>,
    /// Page WebPI opens after installing, relative to the app (`/setup`).
    pub start_page: Option<String>,
    /// Named dependencies written once under the feed's `<dependencies>` and
    /// referred to with `{ ref = "Name" }` by any app of the feed.
    #[serde(default)]
    pub definitions: std::collections::BTreeMap<String, Dependency>,
    /// Entries for products that are not Web Deploy packages, installed by a
    /// command line (iiswsgi 0.3's `webpi_eggs`, e.g. `pip install` of a library).
    #[serde(default)]
    pub products: Vec<CommandProduct>,
}

/// A WebPI dependency: a product id, a nested group, or a shared definition.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Dependency {
    /// A WebPI product id such as `WDeploy` or `Python27`.
    Product(String),
    /// Every one of these.
    All(AllOf),
    /// Any one of these.
    Any(AnyOf),
    /// A definition from `[feed.definitions]`.
    Ref(RefTo),
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllOf {
    pub all: Vec<Dependency>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnyOf {
    pub any: Vec<Dependency>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefTo {
    /// The name of a `[feed.definitions]` entry.
    #[serde(rename = "ref")]
    pub name: String,
}

/// `[[feed.products]]`: a feed entry WebPI installs by running a command
/// instead of deploying a package.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct CommandProduct {
    /// WebPI product id (letters, digits, `.`, `_`, `-`).
    pub product_id: String,
    pub title: String,
    pub version: String,
    pub summary: Option<String>,
    pub homepage: Option<String>,
    /// Products needed first, as in `[feed] dependencies`.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Program to run, e.g. `%SystemDrive%\Python27\Scripts\pip.exe`.
    pub command: String,
    /// Its arguments, on one line, e.g. `install iiswsgi==0.3`.
    #[serde(default)]
    pub arguments: String,
    /// Treat any exit code as success.
    #[serde(default)]
    pub ignore_exit_code: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Publish {
    /// `file://`, `http(s)://` (WebDAV PUT), `s3://bucket/prefix` or `az://container/prefix`.
    pub target: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct Workspace {
    /// Globs of folders that each hold an app's iiswsgi.toml.
    pub members: Vec<String>,
}
