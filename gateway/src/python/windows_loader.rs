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
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use windows_sys::Win32::Foundation::HMODULE;
use windows_sys::Win32::System::LibraryLoader::{
    GetModuleFileNameW, GetProcAddress, LOAD_WITH_ALTERED_SEARCH_PATH, LoadLibraryExW,
};

use super::dll_folder;

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

/// The Python that was bound: its folder and version.
#[derive(Debug, Clone)]
pub struct Bound {
    pub folder: PathBuf,
    pub version: (u32, u32),
}

/// Loads the Python of the first candidate folder that has one (or, when
/// none has, the python3.dll of the DLL search path: this exe's folder,
/// System32, PATH), its python3XY.dll first (see dll_folder.rs), and
/// binds the imports.
pub fn bind(dirs: &[PathBuf]) -> Result<Bound, String> {
    let mut tried = Vec::new();
    for dir in dirs {
        match dll_folder::inspect(dir)? {
            Some(dlls) => return load(&dlls),
            None => tried.push(dir.join("python3.dll").display().to_string()),
        }
    }
    // SAFETY: a NUL-terminated wide name; the standard DLL search path.
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
            "python3.dll was not found; looked in: {}. Install Python 3.9 or later (64-bit) and set \
             IISWSGI_PYTHON_HOME to its folder (the one holding python.exe and python3.dll), or \
             IISWSGI_VENV to a virtual environment made with it",
            tried.join(", ")
        ));
    }
    let folder = module_folder(module)
        .ok_or_else(|| "python3.dll was loaded, but its folder cannot be told".to_owned())?;
    match dll_folder::inspect(&folder)? {
        Some(dlls) => load(&dlls),
        None => Err(format!(
            "python3.dll was loaded from {}, which does not hold it",
            folder.display()
        )),
    }
}

/// The folder of a loaded module.
fn module_folder(module: HMODULE) -> Option<PathBuf> {
    let mut buf = vec![0u16; 32768];
    // SAFETY: the buffer's length is passed; the module is loaded.
    let n = unsafe { GetModuleFileNameW(module, buf.as_mut_ptr(), buf.len() as u32) } as usize;
    if n == 0 || n >= buf.len() {
        return None;
    }
    let path = PathBuf::from(std::ffi::OsString::from_wide(&buf[..n]));
    path.parent().map(Path::to_owned)
}

fn load_by_path(path: &Path) -> Result<HMODULE, String> {
    // SAFETY: a NUL-terminated wide path; the altered search path makes
    // the DLL's own dependencies (vcruntime140.dll) come from its folder.
    let module = unsafe {
        LoadLibraryExW(
            wide(path.as_os_str()).as_ptr(),
            std::ptr::null_mut(),
            LOAD_WITH_ALTERED_SEARCH_PATH,
        )
    };
    if module.is_null() {
        let err = std::io::Error::last_os_error();
        return Err(format!(
            "{} could not be loaded: {err}{}",
            path.display(),
            if err.raw_os_error() == Some(126) {
                " (a DLL it needs, such as vcruntime140.dll, is missing: repair that Python \
                 or install the Microsoft Visual C++ Redistributable)"
            } else {
                ""
            }
        ));
    }
    Ok(module)
}

fn load(dlls: &dll_folder::PythonDlls) -> Result<Bound, String> {
    // python3XY.dll first: python3.dll's forwarders then find it loaded.
    load_by_path(&dlls.versioned)?;
    let module = load_by_path(&dlls.stable)?;
    // SAFETY: the descriptor and its tables are this image's own.
    unsafe { fill_slots(module) }?;
    Ok(Bound {
        folder: dlls.folder.clone(),
        version: dlls.version,
    })
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
                "python3.dll lacks {} (and {} more): that Python is older than 3.9, which this gateway needs",
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
