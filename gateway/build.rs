//! Linking the embedded CPython.
//!
//! Linux (and macOS): the libpython the build found, with an rpath to it,
//! since pyenv and custom builds keep it outside the loader's path; or, on
//! request, the static libpython linked in (`link_static_libpython`).
//!
//! Windows: python3.dll is *delay-loaded*. A normal import would make
//! Windows refuse to start the exe when python3.dll is not on the DLL
//! search path, which IIS shows as "500.0 The FastCGI process exited
//! unexpectedly", the very failure this gateway exists to avoid. Delayed,
//! the exe starts, finds Python itself (the venv's pyvenv.cfg home,
//! IISWSGI_PYTHON_HOME), loads that python3.dll and binds every import
//! before the first Python call (data imports such as `_Py_NoneStruct`
//! included, which a delay-load thunk cannot bind on first use), or
//! answers with a page saying Python was not found.
//! The delay-import library comes from the same python3.def that pyo3
//! uses (python3-dll-a), through mingw's dlltool; it is linked ahead of
//! pyo3's ordinary import library, so no symbol is left to that one.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" || target_os == "macos" {
        let config = pyo3_build_config::get();
        println!("cargo:rerun-if-env-changed=IISWSGI_GATEWAY_STATIC_LIBPYTHON");
        if let Ok(archive) = std::env::var("IISWSGI_GATEWAY_STATIC_LIBPYTHON") {
            link_static_libpython(&archive);
        } else if let Some(dir) = &config.lib_dir {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
        // `--built-for`: the Python a venv for this build must be made with
        // (iiswsgi verify asks, to install the app for it).
        // (With abi3 pyo3 reports the oldest version served; the linked
        // libpython is the interpreter's own, so ask it.)
        let exe = config
            .executable
            .clone()
            .unwrap_or_else(|| "python3".into());
        let version = Command::new(&exe)
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| format!("{}.{}", config.version.major, config.version.minor));
        println!("cargo:rustc-env=IISWSGI_GATEWAY_BUILT_FOR={version} {exe}");
    } else {
        println!("cargo:rustc-env=IISWSGI_GATEWAY_BUILT_FOR=stable-abi-3.9+ python3.dll");
    }
    if target_os == "windows" && target_env == "gnu" {
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
        let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
        python3_dll_a::ImportLibraryGenerator::new(&arch, "gnu")
            .generate(&out)
            .expect("python3.def and its import library (mingw-w64's dlltool is needed)");
        let dlltool = format!("{arch}-w64-mingw32-dlltool");
        // Run in OUT_DIR with relative names: dlltool names its symbols
        // after the output path, which must not depend on the build folder.
        // windows_loader.rs refers to __DELAY_IMPORT_DESCRIPTOR_libpython3_delayed_a.
        let status = Command::new(&dlltool)
            .current_dir(&out)
            .args([
                "--input-def",
                "python3.def",
                "--dllname",
                "python3.dll",
                "--output-delaylib",
                "libpython3_delayed.a",
            ])
            .status()
            .unwrap_or_else(|e| panic!("{dlltool}: {e}"));
        assert!(status.success(), "{dlltool} failed");
        println!("cargo:rustc-link-search=native={}", out.display());
        println!("cargo:rustc-link-lib=static:+verbatim=libpython3_delayed.a");
    }
}

/// Opt-in, Linux: `IISWSGI_GATEWAY_STATIC_LIBPYTHON=/usr/lib/python3.11/
/// config-3.11-x86_64-linux-gnu/libpython3.11.a` links the interpreter into
/// the gateway the way Debian links it into /usr/bin/python3, instead of
/// loading the shared libpython3.X.so, which Debian builds with -fPIC and
/// whose every internal call may be interposed: it runs Python code
/// 1.1-1.3x slower (bench/README.md). The archive goes in whole, its
/// symbols exported for extension modules (as python3's -export-dynamic);
/// Debian's is not position-independent, hence -no-pie. pyo3's own
/// `-lpython3.X` is then needed for nothing and dropped by --as-needed.
/// Debian's libpython has zlib and pyexpat built in.
fn link_static_libpython(archive: &str) {
    for arg in [
        "-no-pie",
        "-Wl,--whole-archive",
        archive,
        "-Wl,--no-whole-archive",
        "-Wl,--export-dynamic",
        "-l:libexpat.so.1",
        "-l:libz.so.1",
        "-ldl",
        "-lm",
        "-lpthread",
        "-lutil",
    ] {
        println!("cargo:rustc-link-arg={arg}");
    }
}
