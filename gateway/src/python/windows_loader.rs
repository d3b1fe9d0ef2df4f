//! Windows: find python3.dll and bind the delay-loaded imports to it
//! before the first Python call (see build.rs for why it is delayed).
//!
//! Binding is done here, not by the first call's thunk: pyo3 also imports
//! data (`_Py_NoneStruct`, the exception types), read through the same
//! import slots, which a thunk would never fill. So every slot of the
//! python3.dll delay descriptor is filled with `GetProcAddress` at once,
//! and a missing name (a Python older than 3.9) is an error message
//! rather than a crash at some later call.

use std::ffi::{CStr, OsStr, c_void};
use std::os::windows::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use windows_sys::Win32::Foundation::HMODULE;
use windows_sys::Win32::System::LibraryLoader::{
    GetProcAddress, LOAD_WITH_ALTERED_SEARCH_PATH, LoadLibraryExW,
};

/// `ImgDelayDescr` (delayimp.h), with RVAs (`grAttrs` = 1).
#[repr(C)]
struct DelayDescriptor {
    attributes: u32,
    dll_name: u32,
    module_handle: u32,
    iat: u32,
    int: u32,
    bound_iat: u32,
    unload_iat: u32,
    timestamp: u32,
}

unsafe extern "C" {
    /// Written by dlltool --output-delaylib (named after libpython3_delayed.a, see build.rs).
    static __DELAY_IMPORT_DESCRIPTOR_libpython3_delayed_a: DelayDescriptor;
    /// The linker's symbol for this image's base address.
    static __ImageBase: u8;
}

/// Where to look for python3.dll, in order: IISWSGI_PYTHON_HOME, the
/// virtual environment's base Python (pyvenv.cfg `home`).
pub fn candidates(python_home: Option<&Path>, venv: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(h) = python_home {
        dirs.push(h.to_owned());
    }
    if let Some(v) = venv
        && let Ok(cfg) = std::fs::read_to_string(v.join("pyvenv.cfg"))
        && let Some(home) = super::pyvenv_home(&cfg)
    {
        dirs.push(PathBuf::from(home));
    }
    dirs
}

fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(Some(0)).collect()
}

/// Loads python3.dll from the first candidate that has it, or from the
/// DLL search path (the exe's folder, System32, PATH) when none has, and
/// binds the imports. Returns the folder it came from (empty: the search path).
pub fn bind(dirs: &[PathBuf]) -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    let mut found = None;
    for dir in dirs {
        let path = dir.join("python3.dll");
        tried.push(path.display().to_string());
        if !path.is_file() {
            continue;
        }
        // SAFETY: a NUL-terminated wide path; the altered search path makes
        // python3.dll find python3XX.dll beside it.
        let module = unsafe {
            LoadLibraryExW(
                wide(path.as_os_str()).as_ptr(),
                std::ptr::null_mut(),
                LOAD_WITH_ALTERED_SEARCH_PATH,
            )
        };
        if module.is_null() {
            tried.push(format!(
                "(could not load it: {})",
                std::io::Error::last_os_error()
            ));
            continue;
        }
        found = Some((module, dir.clone()));
        break;
    }
    let (module, dir) = match found {
        Some(f) => f,
        None => {
            // SAFETY: as above, by name: the standard DLL search path.
            let module = unsafe {
                LoadLibraryExW(
                    wide(OsStr::new("python3.dll")).as_ptr(),
                    std::ptr::null_mut(),
                    0,
                )
            };
            if module.is_null() {
                tried.push("the DLL search path (this exe's folder, System32, PATH)".to_owned());
                return Err(format!(
                    "python3.dll was not found; looked in: {}. Install Python 3.9 or later for this \
                     architecture and set IISWSGI_PYTHON_HOME to its folder (the one holding python3.dll), \
                     or IISWSGI_VENV to a virtual environment made with it",
                    tried.join(", ")
                ));
            }
            (module, PathBuf::new())
        }
    };
    // SAFETY: the descriptor and its tables are this image's own.
    unsafe { fill_slots(module) }?;
    Ok(dir)
}

unsafe fn fill_slots(module: HMODULE) -> Result<(), String> {
    // SAFETY (whole function): RVAs of this image's delay descriptor point
    // into its own writable import tables, which end with a zero entry.
    unsafe {
        let base = &raw const __ImageBase as usize;
        let descriptor = &raw const __DELAY_IMPORT_DESCRIPTOR_libpython3_delayed_a;
        let d = &*descriptor;
        let names = (base + d.int as usize) as *const u64;
        let slots = (base + d.iat as usize) as *mut *const c_void;
        let mut missing = Vec::new();
        let mut i = 0;
        loop {
            let entry = *names.add(i);
            if entry == 0 {
                break;
            }
            let address = if entry & (1 << 63) != 0 {
                GetProcAddress(module, (entry & 0xFFFF) as usize as *const u8)
            } else {
                // IMAGE_IMPORT_BY_NAME: a 2-byte hint, then the name.
                let name = (base + entry as usize + 2) as *const u8;
                let a = GetProcAddress(module, name);
                if a.is_none() {
                    missing.push(CStr::from_ptr(name.cast()).to_string_lossy().into_owned());
                }
                a
            };
            if let Some(f) = address {
                *slots.add(i) = f as *const c_void;
            }
            i += 1;
        }
        if !missing.is_empty() {
            return Err(format!(
                "the python3.dll found lacks {} (and {} more): it is older than Python 3.9, which this gateway needs",
                missing[0],
                missing.len() - 1
            ));
        }
        // The descriptor's module-handle slot: a thunk reached anyway would
        // reuse this module instead of loading another.
        *((base + d.module_handle as usize) as *mut HMODULE) = module;
        Ok(())
    }
}
