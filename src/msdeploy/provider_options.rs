//! `MSDeploy.MSDeployProviderOptions`: `base64(gzip(MS-NRBF))`.
//!
//! msdeploy.exe computed this attribute for iiswsgi 0.3; computing it here is
//! what lets packages be built without Windows. The NRBF records live in
//! [`super::nrbf`]; this module adds the .NET `GZipStream` framing and base64.

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::Compression;
use flate2::write::DeflateEncoder;

use super::WebDeployVersion;
use super::nrbf::{self, NrbfError, ProviderOptionsRecord};

/// The ten header bytes .NET's `GZipStream` writes: no flags, mtime 0,
/// XFL 4, OS 0. flate2's `GzBuilder` would write other XFL/OS bytes.
pub const DOTNET_GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x04, 0x00];

/// Decompressed streams larger than this are refused: real ones are < 1 KiB.
const MAX_NRBF_BYTES: u64 = 1 << 20;

/// Why an attribute value could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ProviderOptionsError {
    #[error("not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("not a gzip stream (it starts with {0:02x?}, expected 1f 8b 08)")]
    NotGzip(Vec<u8>),
    #[error("corrupt gzip stream: {0}")]
    Gzip(std::io::Error),
    #[error("decompressed stream exceeds {MAX_NRBF_BYTES} bytes")]
    TooLarge,
    #[error("not a DeploymentProviderOptions record: {0}")]
    Nrbf(#[from] NrbfError),
}

/// Encodes `provider_name`, `path` and `settings` the way the given Web Deploy
/// version does, ready to put in the XML attribute.
pub fn encode(
    version: WebDeployVersion,
    provider_name: &str,
    path: &str,
    settings: &[(String, String)],
) -> String {
    let record = ProviderOptionsRecord {
        library: version.library().to_string(),
        provider_name: provider_name.to_string(),
        path: path.to_string(),
        settings: settings.to_vec(),
    };
    encode_record(&record)
}

/// Encodes a whole record (including its library string).
pub fn encode_record(record: &ProviderOptionsRecord) -> String {
    BASE64.encode(gzip(&nrbf::encode(record)))
}

/// Decodes an attribute value into its record.
pub fn decode(attribute: &str) -> Result<ProviderOptionsRecord, ProviderOptionsError> {
    Ok(nrbf::decode(&decompress(attribute)?)?)
}

/// base64 → gunzip, giving the raw NRBF bytes.
pub fn decompress(attribute: &str) -> Result<Vec<u8>, ProviderOptionsError> {
    let compressed = BASE64.decode(attribute.trim())?;
    if !compressed.starts_with(&DOTNET_GZIP_HEADER[..3]) {
        return Err(ProviderOptionsError::NotGzip(
            compressed.iter().take(3).copied().collect(),
        ));
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .take(MAX_NRBF_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(ProviderOptionsError::Gzip)?;
    if out.len() as u64 > MAX_NRBF_BYTES {
        return Err(ProviderOptionsError::TooLarge);
    }
    Ok(out)
}

/// gzip framing with .NET's header: header, raw deflate, CRC-32, ISIZE.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = DOTNET_GZIP_HEADER.to_vec();
    let mut deflater = DeflateEncoder::new(out, Compression::default());
    deflater
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    out = deflater.finish().expect("writing to a Vec cannot fail");
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only public runCommand blob, from iiswsgi 0.3's sample Manifest.xml.
    const IISWSGI_SAMPLE: &str = "H4sIAAAAAAAEAOy9B2AcSZYlJi9tynt/SvVK1+B0oQiAYBMk2JBAEOzBiM3mkuwdaUcjKasqgcplVmVdZhZAzO2dvPfee++999577733ujudTif33/8/XGZkAWz2zkrayZ4hgKrIHz9+fB8/In6NX/PX+DV+jf/7//6//2/8xP9+o1/r1/g1fo3vfVFM66qpztvxVT4Zz/JVWV0v8mU7Sn8yr5uiWn72YLw73hnvjNKTddmu6/yzZb5u66wcpS/Xk7KY/l759Zvqbb787N7u5Pzewf1Ps9m9T/fze/d/XfS05zr4LnXw1Hbg/fqyri6LWV5/uWqpw+bX+TV+jV/jN1rpZy+yRf7rrLJ2/usus0Xe/HqXWbnOm1/z1/z1fj2g/+v92r/Gr/FrJPV6eVItFtly9uvh3Wcnj37fl9ftvFruPfh9V/zLOH+Xp9vr1P/m9bQuVm3z+xZFc9VcFL+/jH274Y/Hq+sf+3V/jV/j1/ixX+/X+DV+jd8cv4Fsv96v/2v8Gr/Gb9Gsp9O8aV7lRA3qeJY3vzlaga6/3m/wa/wav8avvfNu5zf8fwIAAP//tTFCT28BAAA=";

    #[test]
    fn decodes_the_iiswsgi_sample() {
        let record = decode(IISWSGI_SAMPLE).unwrap();
        assert_eq!(record.provider_name, "runCommand");
        assert_eq!(
            record.path,
            r"C:\Python27\python.exe -u C:\Python27\Scripts\iiswsgi_deploy-script.py"
        );
        assert_eq!(
            record.settings,
            vec![("successReturnCodes".to_string(), "0x0".to_string())]
        );
        assert_eq!(record.library, WebDeployVersion::V3.library());
    }

    #[test]
    fn encoded_values_start_with_the_dotnet_gzip_header_and_round_trip() {
        let settings = vec![("waitAttempts".to_string(), "10".to_string())];
        let value = encode(WebDeployVersion::V3, "runCommand", "run.cmd", &settings);
        let raw = BASE64.decode(&value).unwrap();
        assert_eq!(raw[..10], DOTNET_GZIP_HEADER);
        let record = decode(&value).unwrap();
        assert_eq!(record.settings, settings);
        assert_eq!(record.path, "run.cmd");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(decode("!!"), Err(ProviderOptionsError::Base64(_))));
        assert!(matches!(
            decode("AAAA"),
            Err(ProviderOptionsError::NotGzip(_))
        ));
        let truncated = &IISWSGI_SAMPLE[..200];
        assert!(decode(truncated).is_err());
    }
}
