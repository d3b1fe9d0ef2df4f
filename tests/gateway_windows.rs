//! The gateway's Windows build (gateway/build-windows.sh, run by
//! tests/run.sh): a reproducible PE32+ x64 console exe that `iiswsgi
//! build` bundles, and that under Wine serves FastCGI requests on a named
//! pipe the way IIS's FastCGI module drives it: the transport, the
//! protocol, the shutdown event and the "Python not found" page. With a
//! real Windows CPython the Windows tier (windows_tier.rs) serves apps.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::wine::{pairs, record, records};
use sha2::{Digest, Sha256};

/// The exe tests/run.sh built (IISWSGI_WINDOWS_GATEWAY), or None (skip;
/// a failure when CI=true).
fn built(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(p) if p.is_file() => Some(p),
        other => {
            let msg = format!(
                "{var} ({other:?}) names no file: tests/run.sh builds it with gateway/build-windows.sh"
            );
            assert!(!common::ci(), "{msg}");
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

/// (machine, optional-header magic, subsystem) from a PE file's headers.
fn pe_header(bytes: &[u8]) -> (u16, u16, u16) {
    assert_eq!(&bytes[..2], b"MZ");
    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&bytes[pe..pe + 4], b"PE\0\0");
    let machine = u16::from_le_bytes([bytes[pe + 4], bytes[pe + 5]]);
    let opt = pe + 24;
    let magic = u16::from_le_bytes([bytes[opt], bytes[opt + 1]]);
    let subsystem = u16::from_le_bytes([bytes[opt + 68], bytes[opt + 69]]);
    (machine, magic, subsystem)
}

const AMD64: u16 = 0x8664;
const PE32_PLUS: u16 = 0x20b;
const CONSOLE: u16 = 3;

#[test]
fn the_windows_build_is_a_reproducible_pe32_plus_x64_console_exe() {
    let (Some(first), Some(second)) = (
        built("IISWSGI_WINDOWS_GATEWAY"),
        built("IISWSGI_WINDOWS_GATEWAY_REBUILT"),
    ) else {
        return;
    };
    let a = std::fs::read(&first).unwrap();
    let b = std::fs::read(&second).unwrap();
    assert_eq!(pe_header(&a), (AMD64, PE32_PLUS, CONSOLE));
    assert!(
        a == b,
        "two builds (another checkout path, another target folder) differ: {} vs {}",
        first.display(),
        second.display()
    );
    // python3.dll is delay-loaded: named in the file, absent from the
    // ordinary import table that Windows resolves before main().
    let objdump = common::tool("x86_64-w64-mingw32-objdump").unwrap();
    let imports = common::run_ok(Command::new(objdump).arg("-p").arg(&first));
    let dll_names: Vec<&str> = imports
        .lines()
        .filter(|l| l.contains("DLL Name:"))
        .collect();
    assert!(
        !dll_names
            .iter()
            .any(|l| l.to_ascii_lowercase().contains("python")),
        "{dll_names:?}"
    );
    assert!(a.windows(11).any(|w| w == b"python3.dll"));
}

#[test]
fn iiswsgi_build_bundles_the_windows_gateway_for_x64() {
    let Some(exe) = built("IISWSGI_WINDOWS_GATEWAY") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("vendor")).unwrap();
    std::fs::copy(&exe, dir.path().join("vendor/gw.exe")).unwrap();
    std::fs::write(dir.path().join("app.py"), "application = None\n").unwrap();
    std::fs::write(
        dir.path().join("iiswsgi.toml"),
        "[app]\nname = \"GwApp\"\nversion = \"1.0\"\n[files]\ninclude = [\"app.py\"]\n[gateway]\npath = \"vendor/gw.exe\"\narch = \"x64\"\n",
    )
    .unwrap();
    assert_cmd::Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .arg("build")
        .assert()
        .success();
    let zip = std::fs::File::open(dir.path().join("dist/GwApp-1.0.msdeploy.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(zip).unwrap();
    let mut bundled = Vec::new();
    std::io::Read::read_to_end(
        &mut archive.by_name("GwApp/bin/iiswsgi-gateway.exe").unwrap(),
        &mut bundled,
    )
    .unwrap();
    assert_eq!(
        Sha256::digest(&bundled),
        Sha256::digest(std::fs::read(&exe).unwrap())
    );
    // The same exe declared as x86 is refused: the PE header says x64.
    let toml = std::fs::read_to_string(dir.path().join("iiswsgi.toml"))
        .unwrap()
        .replace("\"x64\"", "\"x86\"");
    std::fs::write(dir.path().join("iiswsgi.toml"), toml).unwrap();
    let out = assert_cmd::Command::cargo_bin("iiswsgi")
        .unwrap()
        .current_dir(dir.path())
        .arg("build")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("x64"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A folder holding the exe (with the stand-in DLL Wine 8 lacks) and the
/// pipe harness, where Wine runs them.
struct Wine {
    wine: &'static common::wine::Wine,
    dir: tempfile::TempDir,
}

impl Wine {
    fn new(exe: &Path) -> Option<Wine> {
        let wine = common::wine::wine()?;
        let dir = tempfile::tempdir().unwrap();
        common::wine::gateway_in(dir.path(), exe);
        std::fs::copy(
            wine.tool("pipe_harness.exe"),
            dir.path().join("pipe_harness.exe"),
        )
        .unwrap();
        Some(Wine { wine, dir })
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut cmd = self.wine.command();
        cmd.args(args).current_dir(self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn get(id: u16, path: &str) -> Vec<u8> {
    let params = [
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", path),
        ("APPL_MD_PATH", "/LM/W3SVC/1/ROOT"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
    ];
    fastcgi::client::request(id, false, &params, b"")
}

#[test]
fn under_wine_the_named_pipe_carries_requests_and_the_shutdown_event_ends_it() {
    let Some(exe) = built("IISWSGI_WINDOWS_GATEWAY") else {
        return;
    };
    let Some(wine) = Wine::new(&exe) else { return };
    let version = wine.run(&["iiswsgi-gateway.exe", "--version"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        concat!("iiswsgi-gateway ", env!("CARGO_PKG_VERSION"))
    );

    let d = wine.dir.path();
    let mut first = record(
        9,
        0,
        &pairs(&[("FCGI_MPXS_CONNS", ""), ("FCGI_MAX_REQS", "")]),
    );
    first.extend(get(1, "/"));
    std::fs::write(d.join("req1"), first).unwrap();
    std::fs::write(d.join("req2"), get(2, "/second")).unwrap();
    let out = wine.run(
        &[
            "pipe_harness.exe",
            "iiswsgi-gateway.exe",
            "req1",
            "resp1",
            "req2",
            "resp2",
        ],
        &[
            ("IISWSGI_SHOW_TRACEBACK", "true"),
            ("IISWSGI_PYTHON_HOME", "C:\\Python312"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the harness or the gateway failed (the harness exits with the gateway's code after the shutdown event): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = records(&std::fs::read(d.join("resp1")).unwrap());
    assert_eq!(
        first[0],
        (
            10,
            0,
            pairs(&[("FCGI_MPXS_CONNS", "0"), ("FCGI_MAX_REQS", "1")])
        )
    );
    for (file, id) in [("resp1", 1u16), ("resp2", 2)] {
        let recs = records(&std::fs::read(d.join(file)).unwrap());
        let stdout: Vec<u8> = recs
            .iter()
            .filter(|r| r.0 == 6 && r.1 == id)
            .flat_map(|r| r.2.clone())
            .collect();
        let text = String::from_utf8_lossy(&stdout);
        assert!(
            text.starts_with("Status: 500 Internal Server Error\r\n"),
            "{text}"
        );
        assert!(
            text.contains("<p>Python could not be started.</p>"),
            "{text}"
        );
        assert!(
            text.contains("python3.dll was not found; looked in: C:\\Python312\\python3.dll"),
            "{text}"
        );
        assert_eq!(
            recs.last().unwrap(),
            &(3, id, vec![0, 0, 0, 0, 0, 0, 0, 0]),
            "FCGI_END_REQUEST, request complete"
        );
    }
}

/// The one copy of the Windows gateway in the tree (prebuilt/), which
/// iiswsgi embeds and bundles: the gateway of this source, byte for byte
/// (tests/run.sh rebuilds it from gateway/), with a note of its SHA-256.
#[test]
fn the_built_in_gateway_is_this_sources_gateway_byte_for_byte() {
    let prebuilt = common::repo("prebuilt/windows-x64/iiswsgi-gateway.exe");
    let exe = std::fs::read(&prebuilt).unwrap();
    let standin = std::fs::read(common::fixture("gateway/gateway-x64.exe")).unwrap();
    assert_ne!(exe, standin, "the stand-in is not the gateway");
    assert_eq!(pe_header(&exe), (AMD64, PE32_PLUS, CONSOLE));
    let digest: String = Sha256::digest(&exe)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let note = std::fs::read_to_string(common::repo("prebuilt/README.md")).unwrap();
    assert!(
        note.contains(&digest),
        "prebuilt/README.md does not record the exe's SHA-256 {digest}"
    );
    assert!(
        note.contains("gateway/build-windows.sh"),
        "the note says how it was built"
    );
    // What `iiswsgi inspect` calls the built-in gateway is this exe.
    let Some(rebuilt) = built("IISWSGI_WINDOWS_GATEWAY") else {
        return;
    };
    assert!(
        std::fs::read(&rebuilt).unwrap() == exe,
        "prebuilt/windows-x64/iiswsgi-gateway.exe is not the gateway of this source ({} differs): \
         run gateway/update-prebuilt.sh and commit the exe",
        rebuilt.display()
    );
    let Some(wine) = Wine::new(&prebuilt) else {
        return;
    };
    let version = wine.run(&["iiswsgi-gateway.exe", "--version"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        concat!("iiswsgi-gateway ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn under_wine_the_install_step_plans_the_iis_registration_with_windows_paths() {
    let Some(exe) = built("IISWSGI_WINDOWS_GATEWAY") else {
        return;
    };
    let Some(wine) = Wine::new(&exe) else { return };
    // An unpacked package: bin\ with the gateway (and the test-only DLL), web.config, a wheelhouse.
    let app = wine.dir.path().join("Shop");
    std::fs::create_dir_all(app.join("bin")).unwrap();
    std::fs::create_dir_all(app.join("wheelhouse")).unwrap();
    std::fs::copy(&exe, app.join("bin/iiswsgi-gateway.exe")).unwrap();
    std::fs::write(
        app.join("bin/bcryptprimitives.dll"),
        iiswsgi::verify::wine_prng_dll::bytes(),
    )
    .unwrap();
    std::fs::write(app.join("wheelhouse/requirements.txt"), "flask==3.1.3\n").unwrap();
    std::fs::write(
        app.join("web.config"),
        "<configuration><appSettings><add key=\"IISWSGI_PYTHON\" value=\"py -3.12\" /></appSettings>\
         <system.webServer><handlers><add name=\"Shop-wsgi\" path=\"*\" verb=\"*\" modules=\"FastCgiModule\" \
         scriptProcessor=\"%APPL_PHYSICAL_PATH%\\bin\\iiswsgi-gateway.exe\" resourceType=\"Unspecified\" /></handlers></system.webServer></configuration>",
    )
    .unwrap();
    let out = wine.run(
        &[
            "Shop/bin/iiswsgi-gateway.exe",
            "install",
            "--dry-run",
            "--iis-app",
            "Default Web Site/Shop",
        ],
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The app folder, as Windows names it (Wine maps / to Z:).
    let line = text
        .lines()
        .find(|l| l.contains("install (dry run"))
        .unwrap_or_else(|| panic!("{text}"));
    // `... into <app folder> (state: <state folder>)`.
    let (folder, state) = line
        .rsplit_once(" into ")
        .unwrap()
        .1
        .trim()
        .trim_end_matches(')')
        .split_once(" (state: ")
        .unwrap();
    assert!(
        folder.starts_with("Z:\\") && folder.ends_with("\\Shop"),
        "{line}"
    );
    // By default the state folder is the machine's, per IIS application.
    assert_eq!(state, r"C:\ProgramData\iiswsgi\apps\Default-Web-Site_Shop");
    assert!(
        text.contains("%APPL_PHYSICAL_PATH% replaced 1 time(s)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("$ py -3.12 -m venv {state}\\venvs\\")),
        "{text}"
    );
    assert!(text.contains(&format!("\\system32\\inetsrv\\appcmd.exe set config -section:system.webServer/fastCgi /+[fullPath='{state}\\gateway\\")), "{text}");
    assert!(text.contains("unlock config \"Default Web Site/Shop\" -section:system.webServer/handlers /commit:apphost"), "{text}");
    for granted in [folder, state] {
        assert!(
            text.contains(&format!(
                "$ icacls {granted} /grant \"IIS AppPool\\DefaultAppPool:(OI)(CI)RX\" /T /Q"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(&format!(
            "would point {folder}\\web.config at gateway {state}\\gateway\\"
        )),
        "{text}"
    );
    // A dry run changes nothing.
    assert!(
        std::fs::read_to_string(app.join("web.config"))
            .unwrap()
            .contains("%APPL_PHYSICAL_PATH%")
    );
    assert!(!app.join("iis_install.stamp").exists());
    assert!(
        !wine
            .wine
            .prefix
            .join("drive_c/ProgramData/iiswsgi")
            .exists()
    );
}

/// Under IIS, a WSGI_LOG the app pool cannot write would lose every
/// diagnostic (nothing may go to standard error there): the log falls
/// back to %TEMP%\iiswsgi-gateway-<pid>.log, and the 500 page names it.
/// (The Windows Application event log entry is written too; Wine's event
/// log keeps nothing to check.)
#[test]
fn under_wine_an_unwritable_wsgi_log_falls_back_to_the_temp_folder_and_the_page_names_it() {
    let Some(exe) = built("IISWSGI_WINDOWS_GATEWAY") else {
        return;
    };
    let Some(wine) = Wine::new(&exe) else { return };
    let d = wine.dir.path();
    // WSGI_LOG's folder cannot be made: its parent is a file.
    std::fs::write(d.join("not-a-folder"), b"").unwrap();
    let wsgi_log = common::wine::windows_path(&d.join("not-a-folder/logs/gateway.log"));
    std::fs::write(d.join("req"), get(1, "/")).unwrap();
    let out = wine.run(
        &["pipe_harness.exe", "iiswsgi-gateway.exe", "req", "resp"],
        &[
            ("WSGI_LOG", wsgi_log.as_str()),
            ("IISWSGI_PYTHON_HOME", "C:\\Python312"),
            // Wine's ReportEventW writes an Error event to its `eventlog`
            // channel (err: for EVENTLOG_ERROR_TYPE): what Event Viewer
            // would show, seen here.
            ("WINEDEBUG", "-all,err+eventlog"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&std::fs::read(d.join("resp")).unwrap());
    let page: Vec<u8> = recs
        .iter()
        .filter(|r| r.0 == 6)
        .flat_map(|r| r.2.clone())
        .collect();
    let page = String::from_utf8_lossy(&page).into_owned();
    assert!(
        page.starts_with("Status: 500 Internal Server Error\r\n"),
        "{page}"
    );
    let named = page
        .split("the details are in ")
        .nth(1)
        .and_then(|rest| rest.split(" on the server").next())
        .unwrap_or_else(|| panic!("the page names no fallback log: {page}"))
        .to_owned();
    let file_name = named.rsplit('\\').next().unwrap();
    assert!(
        file_name.starts_with("iiswsgi-gateway-") && file_name.ends_with(".log"),
        "{named}"
    );
    // C:\users\...\Temp\iiswsgi-gateway-N.log in the Wine prefix.
    let relative = named
        .strip_prefix("C:\\")
        .unwrap_or_else(|| panic!("{named} is not on C:"))
        .replace('\\', "/");
    let fallback = wine.wine.prefix.join("drive_c").join(relative);
    let events = String::from_utf8_lossy(&out.stderr);
    let event = events
        .lines()
        .find(|l| l.contains(":err:eventlog:ReportEventW "))
        .unwrap_or_else(|| panic!("no Error event was reported: {events}"));
    assert!(
        event.contains("L\"iiswsgi-gateway (process ")
            && event.contains("cannot open WSGI_LOG ")
            && event.contains(&format!(
                "Its log is {} instead.",
                named.replace('\\', "\\\\")
            )),
        "the event names the fallback {named}: {event}"
    );
    let text = std::fs::read_to_string(&fallback)
        .unwrap_or_else(|e| panic!("{}: {e}", fallback.display()));
    let _ = std::fs::remove_file(&fallback);
    assert!(text.contains("cannot open WSGI_LOG"), "{text}");
    assert!(
        text.contains("python3.dll was not found; looked in: C:\\Python312\\python3.dll"),
        "the failure's details are in the fallback: {text}"
    );
}
