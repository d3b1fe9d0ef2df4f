//! Every XML reader iiswsgi has (the feed tree used by --merge, the
//! provider-options scan of Manifest.xml / archive.xml) must accept or
//! refuse any bytes, within its depth, size and count bounds, never crash.
#![no_main]

use iiswsgi::inspect::providers_in;
use iiswsgi::xml_tree::Document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(doc) = Document::parse(&text) {
        // What was read writes back, and reads again to the same tree.
        let again = Document::parse(&doc.to_xml()).expect("written XML reads back");
        assert_eq!(again.root.name, doc.root.name);
    }
    let _ = providers_in("fuzz.xml", &text);
});
