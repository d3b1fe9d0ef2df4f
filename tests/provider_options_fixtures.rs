//! Issue #3: every real MSDeployProviderOptions value msdeploy wrote (64 of
//! them, shared/fixtures/msdeploy) decodes, re-encodes byte for byte, and
//! matches the independently decoded table.

mod common;

use iiswsgi::msdeploy::nrbf;
use iiswsgi::msdeploy::provider_options;

#[test]
fn all_64_real_values_reencode_byte_for_byte() {
    let rows = common::tsv(&common::fixture("msdeploy/provider-options.tsv"));
    assert_eq!(rows.len(), 64);
    for (i, row) in rows.iter().enumerate() {
        let raw = provider_options::decompress(&row["base64"])
            .unwrap_or_else(|e| panic!("row {}: {e}", i + 1));
        let record = nrbf::decode(&raw).unwrap_or_else(|e| panic!("row {}: {e}", i + 1));
        assert_eq!(record.provider_name, row["providerName"], "row {}", i + 1);
        assert_eq!(
            nrbf::encode(&record),
            raw,
            "row {} ({})",
            i + 1,
            row["source"]
        );
        // Our own framing round-trips too.
        let ours = provider_options::encode_record(&record);
        assert_eq!(provider_options::decode(&ours).unwrap(), record);
    }
}

#[test]
fn decoded_fields_match_the_decoded_table() {
    let encoded = common::tsv(&common::fixture("msdeploy/provider-options.tsv"));
    let decoded = common::tsv(&common::fixture("msdeploy/provider-options-decoded.tsv"));
    assert_eq!(encoded.len(), decoded.len());
    let split = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split('|').map(str::to_string).collect()
        }
    };
    for (enc, dec) in encoded.iter().zip(&decoded) {
        let row = &dec["row"];
        let record = provider_options::decode(&enc["base64"]).unwrap();
        assert_eq!(record.provider_name, dec["providerName"], "row {row}");
        assert_eq!(record.library, dec["library"], "row {row}");
        assert_eq!(record.path, dec["path"].replace("\\\\", "\\"), "row {row}");
        let (names, values): (Vec<String>, Vec<String>) = record.settings.iter().cloned().unzip();
        assert_eq!(names, split(&dec["names"]), "row {row}");
        assert_eq!(values, split(&dec["values"]), "row {row}");
        let nrbf_bytes: usize = dec["nrbf_bytes"].parse().unwrap();
        assert_eq!(
            provider_options::decompress(&enc["base64"]).unwrap().len(),
            nrbf_bytes,
            "row {row}"
        );
    }
}

#[test]
fn every_library_string_maps_to_a_web_deploy_version() {
    use iiswsgi::msdeploy::WebDeployVersion;
    let decoded = common::tsv(&common::fixture("msdeploy/provider-options-decoded.tsv"));
    let mut counts = std::collections::BTreeMap::new();
    for row in &decoded {
        let v = WebDeployVersion::from_library(&row["library"])
            .unwrap_or_else(|| panic!("unknown library {}", row["library"]));
        *counts.entry(format!("{v:?}")).or_insert(0) += 1;
    }
    // The fixture README: 54 Web Deploy 3.x+, 8 Web Deploy 2.0, 2 Web Deploy 1.0.
    assert_eq!(counts["V3"], 54);
    assert_eq!(counts["V2"], 8);
    assert_eq!(counts["V1"], 2);
}

mod property {
    use iiswsgi::msdeploy::nrbf::{self, ProviderOptionsRecord};
    use iiswsgi::msdeploy::provider_options;
    use proptest::prelude::*;

    fn record() -> impl Strategy<Value = ProviderOptionsRecord> {
        (
            "\\PC{0,120}",
            "\\PC{0,300}",
            proptest::collection::vec(("\\PC{0,40}", "\\PC{0,200}"), 0..8),
        )
            .prop_map(|(provider_name, path, settings)| ProviderOptionsRecord {
                library: iiswsgi::msdeploy::WebDeployVersion::V3
                    .library()
                    .to_string(),
                provider_name,
                path,
                settings,
            })
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(r in record()) {
            prop_assert_eq!(nrbf::decode(&nrbf::encode(&r)).unwrap(), r.clone());
            prop_assert_eq!(provider_options::decode(&provider_options::encode_record(&r)).unwrap(), r);
        }

        #[test]
        fn decoder_never_panics_on_mutations(r in record(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = nrbf::encode(&r);
            let i = at.index(bytes.len());
            bytes[i] = byte;
            let _ = nrbf::decode(&bytes);
            let _ = nrbf::decode(&bytes[..i]);
        }
    }
}
