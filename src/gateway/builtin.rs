//! The Windows gateway built into iiswsgi: `gateway/` at this release,
//! cross-built for Windows x64 (prebuilt/README.md says how and when;
//! tests/gateway_windows.rs rebuilds it and compares the bytes). A Python
//! app without a [gateway] table gets it, so no project keeps a copy of
//! the exe in its repository; `[gateway] path` or `url` still bundle an
//! exe of one's own.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

use crate::manifest::model::{Arch, Gateway, Hosting, Manifest};

/// The exe's bytes.
pub const EXE: &[u8] = include_bytes!("../../prebuilt/windows-x64/iiswsgi-gateway.exe");

/// How listings and reports name it.
pub const DISPLAY: &str = concat!("built-in iiswsgi-gateway ", env!("CARGO_PKG_VERSION"));

/// Its SHA-256, in hex (shown by `build` and `inspect`).
pub fn sha256() -> &'static str {
    static SUM: LazyLock<String> =
        LazyLock::new(|| crate::package::zip_writer::hex(&Sha256::digest(EXE)));
    &SUM
}

/// Gives a manifest without [gateway] the built-in gateway when it is a
/// Python app: one with [python] (the gateway's install step makes its
/// environment, whatever the hosting), or a WSGI handler on FastCGI.
pub fn fill_in(manifest: &mut Manifest) {
    let python_app = manifest.python.is_some()
        || (manifest.iis.hosting == Hosting::Fastcgi && manifest.iis.wsgi_handler.is_some());
    if manifest.gateway.is_none() && manifest.app.is_some() && python_app {
        manifest.gateway = Some(Gateway {
            path: None,
            url: None,
            sha256: None,
            dest: "bin/iiswsgi-gateway.exe".to_string(),
            arch: Arch::X64,
            builtin: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_gateway_is_a_windows_x64_console_exe() {
        let pe = crate::gateway::read_pe(EXE).expect("a PE executable");
        assert_eq!(pe.arch(), Some(Arch::X64));
        assert_eq!(sha256().len(), 64);
    }
}
