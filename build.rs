//! The Linux gateway `iiswsgi verify` installs into the venv it makes:
//! the `iiswsgi_gateway` extension-module wheel (gateway/module), built
//! first and embedded here when IISWSGI_BUNDLE_GATEWAY_WHEEL names it
//! (packaging/wheels.sh does, for the wheels and archives users get).
//! Without it (a contributor's `cargo build`), verify runs the gateway's
//! Linux executable from beside this program, as before.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=IISWSGI_BUNDLE_GATEWAY_WHEEL");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let code = match std::env::var_os("IISWSGI_BUNDLE_GATEWAY_WHEEL").filter(|v| !v.is_empty()) {
        Some(wheel) => {
            let wheel = PathBuf::from(wheel);
            println!("cargo:rerun-if-changed={}", wheel.display());
            let name = wheel
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| n.starts_with("iiswsgi_gateway-") && n.ends_with(".whl"))
                .unwrap_or_else(|| {
                    panic!(
                        "IISWSGI_BUNDLE_GATEWAY_WHEEL={} is not an iiswsgi_gateway wheel",
                        wheel.display()
                    )
                })
                .to_owned();
            // Copied in, so the embedded bytes do not depend on where the
            // wheel was built (include_bytes! records no path in the binary).
            std::fs::copy(&wheel, out.join(&name))
                .unwrap_or_else(|e| panic!("{}: {e}", wheel.display()));
            format!(
                "pub const GATEWAY_WHEEL: Option<(&str, &[u8])> = Some(({name:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\"))));\n"
            )
        }
        None => "pub const GATEWAY_WHEEL: Option<(&str, &[u8])> = None;\n".to_string(),
    };
    write_if_changed(&out.join("bundled_gateway_wheel.rs"), &code);
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("OUT_DIR is writable");
    }
}
