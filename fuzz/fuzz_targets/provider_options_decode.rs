//! The provider-options decoders must never panic or allocate without
//! bound, whatever bytes a package's Manifest.xml or archive.xml carries.
#![no_main]

use iiswsgi::msdeploy::{nrbf, provider_options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The NRBF record stream itself.
    if let Ok(record) = nrbf::decode(data) {
        // Whatever decodes must re-encode to the same bytes.
        assert_eq!(nrbf::encode(&record), data);
    }
    // The attribute value (base64 -> gzip -> NRBF).
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = provider_options::decode(text);
    }
});
