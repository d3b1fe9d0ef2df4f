//! The MS-NRBF (.NET BinaryFormatter) record stream of one
//! `Microsoft.Web.Deployment.DeploymentProviderOptions` object.
//!
//! Web Deploy stores the settings of a provider (`successReturnCodes` of a
//! `runCommand`, `setAclAccess` of a `setAcl`, ...) as this object graph in the
//! `MSDeploy.MSDeployProviderOptions` attribute. Every real value we know of
//! (64 of them, `shared/fixtures/msdeploy/provider-options.tsv`) uses the same
//! nine records; only the array lengths and strings vary. The writer emits
//! exactly that layout and the reader accepts exactly that layout, so that a
//! foreign or corrupt value is reported instead of half-understood.
//!
//! Layout (ids in brackets), from `shared/reference/msdeploy-package.md` §7:
//!
//! ```text
//! SerializationHeader  root=1 header=-1 v1.0
//! BinaryLibrary        [2] <library string>
//! ClassWithMembersAndTypes [1] DeploymentProviderOptions
//!                      providerName:String path:String names:String[] values:String[]  lib=2
//! BinaryObjectString   [3] providerName
//! BinaryObjectString   [4] path
//! MemberReference      -> 5, MemberReference -> 6
//! ArraySingleString    [5] n × BinaryObjectString [7 ..= 6+n]      (names)
//! ArraySingleString    [6] n × BinaryObjectString [7+n ..= 6+2n]   (values)
//! MessageEnd
//! ```

use std::fmt;

/// The .NET type whose instance the stream holds.
pub const CLASS_NAME: &str = "Microsoft.Web.Deployment.DeploymentProviderOptions";
const MEMBER_NAMES: [&str; 4] = ["providerName", "path", "names", "values"];
/// BinaryTypeEnumeration: String, String, StringArray, StringArray.
const MEMBER_TYPES: [u8; 4] = [0x01, 0x01, 0x06, 0x06];

const SERIALIZATION_HEADER: u8 = 0x00;
const CLASS_WITH_MEMBERS_AND_TYPES: u8 = 0x05;
const BINARY_OBJECT_STRING: u8 = 0x06;
const MEMBER_REFERENCE: u8 = 0x09;
const MESSAGE_END: u8 = 0x0B;
const BINARY_LIBRARY: u8 = 0x0C;
const ARRAY_SINGLE_STRING: u8 = 0x11;

const LIBRARY_ID: i32 = 2;
const CLASS_ID: i32 = 1;
const PROVIDER_NAME_ID: i32 = 3;
const PATH_ID: i32 = 4;
const NAMES_ID: i32 = 5;
const VALUES_ID: i32 = 6;
const FIRST_ELEMENT_ID: i32 = 7;

/// The decoded content of one provider-options stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderOptionsRecord {
    /// The BinaryLibrary string (assembly name); it tells which Web Deploy wrote it.
    pub library: String,
    pub provider_name: String,
    pub path: String,
    /// Setting names and values, paired by index, in stream order.
    pub settings: Vec<(String, String)>,
}

/// Why a byte stream is not a provider-options record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NrbfError {
    #[error("input ends at byte {offset} while reading {what}")]
    Truncated { offset: usize, what: &'static str },
    #[error(
        "byte {offset}: expected {expected} record (0x{expected_type:02X}), found 0x{found:02X}"
    )]
    UnexpectedRecord {
        offset: usize,
        expected: &'static str,
        expected_type: u8,
        found: u8,
    },
    #[error("byte {offset}: {what} is {found}, expected {expected}")]
    UnexpectedValue {
        offset: usize,
        what: &'static str,
        expected: String,
        found: String,
    },
    #[error("byte {offset}: string length prefix is malformed (more than 5 bytes or over 2^31-1)")]
    BadLengthPrefix { offset: usize },
    #[error("byte {offset}: string of {len} bytes is longer than the {remaining} bytes left")]
    StringTooLong {
        offset: usize,
        len: usize,
        remaining: usize,
    },
    #[error("byte {offset}: string is not valid UTF-8")]
    NotUtf8 { offset: usize },
    #[error("byte {offset}: array length {len} does not fit in the {remaining} bytes left")]
    ArrayTooLong {
        offset: usize,
        len: i64,
        remaining: usize,
    },
    #[error("{names} setting names but {values} values")]
    MismatchedArrays { names: usize, values: usize },
    #[error("{trailing} bytes after the MessageEnd record")]
    TrailingBytes { trailing: usize },
}

/// Writes the record stream for `record`.
pub fn encode(record: &ProviderOptionsRecord) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(256 + record.path.len()));
    // SerializationHeader: RootId, HeaderId, MajorVersion, MinorVersion.
    w.u8(SERIALIZATION_HEADER);
    w.i32(CLASS_ID);
    w.i32(-1);
    w.i32(1);
    w.i32(0);
    w.u8(BINARY_LIBRARY);
    w.i32(LIBRARY_ID);
    w.string(&record.library);
    w.u8(CLASS_WITH_MEMBERS_AND_TYPES);
    w.i32(CLASS_ID);
    w.string(CLASS_NAME);
    w.i32(MEMBER_NAMES.len() as i32);
    for name in MEMBER_NAMES {
        w.string(name);
    }
    w.0.extend_from_slice(&MEMBER_TYPES);
    w.i32(LIBRARY_ID);
    w.object_string(PROVIDER_NAME_ID, &record.provider_name);
    w.object_string(PATH_ID, &record.path);
    w.u8(MEMBER_REFERENCE);
    w.i32(NAMES_ID);
    w.u8(MEMBER_REFERENCE);
    w.i32(VALUES_ID);
    let n = record.settings.len() as i32;
    w.u8(ARRAY_SINGLE_STRING);
    w.i32(NAMES_ID);
    w.i32(n);
    for (i, (name, _)) in record.settings.iter().enumerate() {
        w.object_string(FIRST_ELEMENT_ID + i as i32, name);
    }
    w.u8(ARRAY_SINGLE_STRING);
    w.i32(VALUES_ID);
    w.i32(n);
    for (i, (_, value)) in record.settings.iter().enumerate() {
        w.object_string(FIRST_ELEMENT_ID + n + i as i32, value);
    }
    w.u8(MESSAGE_END);
    w.0
}

/// Reads a record stream written by Web Deploy (or by [`encode`]).
pub fn decode(bytes: &[u8]) -> Result<ProviderOptionsRecord, NrbfError> {
    let mut r = Reader { bytes, pos: 0 };
    r.record(SERIALIZATION_HEADER, "SerializationHeader")?;
    r.expect_i32("RootId", CLASS_ID)?;
    r.expect_i32("HeaderId", -1)?;
    r.expect_i32("MajorVersion", 1)?;
    r.expect_i32("MinorVersion", 0)?;

    r.record(BINARY_LIBRARY, "BinaryLibrary")?;
    r.expect_i32("LibraryId", LIBRARY_ID)?;
    let library = r.string()?;

    r.record(CLASS_WITH_MEMBERS_AND_TYPES, "ClassWithMembersAndTypes")?;
    r.expect_i32("ObjectId", CLASS_ID)?;
    r.expect_string("class name", CLASS_NAME)?;
    r.expect_i32("MemberCount", MEMBER_NAMES.len() as i32)?;
    for name in MEMBER_NAMES {
        r.expect_string("member name", name)?;
    }
    for expected in MEMBER_TYPES {
        let offset = r.pos;
        let found = r.u8("BinaryTypeEnum")?;
        if found != expected {
            return Err(NrbfError::UnexpectedValue {
                offset,
                what: "member BinaryTypeEnum",
                expected: expected.to_string(),
                found: found.to_string(),
            });
        }
    }
    r.expect_i32("LibraryId", LIBRARY_ID)?;

    let provider_name = r.object_string(PROVIDER_NAME_ID)?;
    let path = r.object_string(PATH_ID)?;
    r.record(MEMBER_REFERENCE, "MemberReference")?;
    r.expect_i32("IdRef", NAMES_ID)?;
    r.record(MEMBER_REFERENCE, "MemberReference")?;
    r.expect_i32("IdRef", VALUES_ID)?;

    let names = r.string_array(NAMES_ID, FIRST_ELEMENT_ID)?;
    let first_value_id = FIRST_ELEMENT_ID + names.len() as i32;
    let values = r.string_array(VALUES_ID, first_value_id)?;
    if names.len() != values.len() {
        return Err(NrbfError::MismatchedArrays {
            names: names.len(),
            values: values.len(),
        });
    }
    r.record(MESSAGE_END, "MessageEnd")?;
    if r.pos != bytes.len() {
        return Err(NrbfError::TrailingBytes {
            trailing: bytes.len() - r.pos,
        });
    }
    Ok(ProviderOptionsRecord {
        library,
        provider_name,
        path,
        settings: names.into_iter().zip(values).collect(),
    })
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, b: u8) {
        self.0.push(b);
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// LengthPrefixedString: the UTF-8 byte count as a 7-bit varint, then the bytes.
    fn string(&mut self, s: &str) {
        let mut len = s.len();
        loop {
            let low = (len & 0x7F) as u8;
            len >>= 7;
            if len == 0 {
                self.0.push(low);
                break;
            }
            self.0.push(low | 0x80);
        }
        self.0.extend_from_slice(s.as_bytes());
    }
    fn object_string(&mut self, id: i32, s: &str) {
        self.u8(BINARY_OBJECT_STRING);
        self.i32(id);
        self.string(s);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], NrbfError> {
        if self.remaining() < n {
            return Err(NrbfError::Truncated {
                offset: self.bytes.len(),
                what,
            });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, NrbfError> {
        Ok(self.take(1, what)?[0])
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, NrbfError> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn record(&mut self, expected_type: u8, expected: &'static str) -> Result<(), NrbfError> {
        let offset = self.pos;
        let found = self.u8(expected)?;
        if found != expected_type {
            return Err(NrbfError::UnexpectedRecord {
                offset,
                expected,
                expected_type,
                found,
            });
        }
        Ok(())
    }

    fn expect_i32(&mut self, what: &'static str, expected: i32) -> Result<(), NrbfError> {
        let offset = self.pos;
        let found = self.i32(what)?;
        if found != expected {
            return Err(NrbfError::UnexpectedValue {
                offset,
                what,
                expected: expected.to_string(),
                found: found.to_string(),
            });
        }
        Ok(())
    }

    fn string(&mut self) -> Result<String, NrbfError> {
        let offset = self.pos;
        let mut len: u64 = 0;
        for i in 0..5 {
            let b = self.u8("string length prefix")?;
            len |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                if len > i32::MAX as u64 {
                    return Err(NrbfError::BadLengthPrefix { offset });
                }
                let len = len as usize;
                if len > self.remaining() {
                    return Err(NrbfError::StringTooLong {
                        offset,
                        len,
                        remaining: self.remaining(),
                    });
                }
                let start = self.pos;
                let raw = self.take(len, "string")?;
                return String::from_utf8(raw.to_vec())
                    .map_err(|_| NrbfError::NotUtf8 { offset: start });
            }
        }
        Err(NrbfError::BadLengthPrefix { offset })
    }

    fn expect_string(&mut self, what: &'static str, expected: &str) -> Result<(), NrbfError> {
        let offset = self.pos;
        let found = self.string()?;
        if found != expected {
            return Err(NrbfError::UnexpectedValue {
                offset,
                what,
                expected: format!("{expected:?}"),
                found: format!("{found:?}"),
            });
        }
        Ok(())
    }

    fn object_string(&mut self, id: i32) -> Result<String, NrbfError> {
        self.record(BINARY_OBJECT_STRING, "BinaryObjectString")?;
        self.expect_i32("ObjectId", id)?;
        self.string()
    }

    fn string_array(&mut self, id: i32, first_element_id: i32) -> Result<Vec<String>, NrbfError> {
        self.record(ARRAY_SINGLE_STRING, "ArraySingleString")?;
        self.expect_i32("ObjectId", id)?;
        let offset = self.pos;
        let len = self.i32("array length")?;
        // Each element is at least 6 bytes (type, id, one-byte length), so a
        // length the input cannot hold is rejected before anything is allocated.
        if len < 0 || len as usize > self.remaining() / 6 {
            return Err(NrbfError::ArrayTooLong {
                offset,
                len: i64::from(len),
                remaining: self.remaining(),
            });
        }
        let mut items = Vec::with_capacity(len as usize);
        for i in 0..len {
            items.push(self.object_string(first_element_id + i)?);
        }
        Ok(items)
    }
}

impl fmt::Display for ProviderOptionsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.provider_name, self.path)?;
        for (name, value) in &self.settings {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProviderOptionsRecord {
        ProviderOptionsRecord {
            library: crate::msdeploy::WebDeployVersion::V3.library().to_string(),
            provider_name: "runCommand".into(),
            path: "x.cmd".into(),
            settings: vec![("waitInterval".into(), "5000".into())],
        }
    }

    #[test]
    fn example_from_the_reference_byte_for_byte() {
        let bytes = encode(&sample());
        // Records 1-3 are a fixed 213-byte prefix for the Web Deploy 3 library string.
        let tail = &bytes[0xd5..];
        let expected: Vec<u8> = [
            "06 03 00 00 00 0a 72 75 6e 43 6f 6d 6d 61 6e 64",
            "06 04 00 00 00 05 78 2e 63 6d 64",
            "09 05 00 00 00 09 06 00 00 00",
            "11 05 00 00 00 01 00 00 00 06 07 00 00 00 0c 77 61 69 74 49 6e 74 65 72 76 61 6c",
            "11 06 00 00 00 01 00 00 00 06 08 00 00 00 04 35 30 30 30",
            "0b",
        ]
        .join(" ")
        .split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
        assert_eq!(tail, &expected[..]);
        assert_eq!(decode(&bytes).unwrap(), sample());
    }

    #[test]
    fn long_paths_use_multi_byte_length_prefixes() {
        let mut record = sample();
        record.path = "é".repeat(100); // 200 UTF-8 bytes
        let bytes = encode(&record);
        let at = bytes
            .windows(3)
            .position(|w| w == [0xC8, 0x01, 0xC3])
            .expect("two-byte prefix 200 = C8 01 followed by the string");
        assert!(at > 0xd5);
        assert_eq!(decode(&bytes).unwrap(), record);
    }

    #[test]
    fn rejects_hostile_input_without_panicking() {
        let good = encode(&sample());
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "prefix of {cut} bytes");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            decode(&trailing),
            Err(NrbfError::TrailingBytes { trailing: 1 })
        );
        // An array claiming 2^31-1 elements must not allocate.
        let mut huge = good.clone();
        let names_at = huge
            .windows(5)
            .position(|w| w == [0x11, 0x05, 0, 0, 0])
            .unwrap();
        huge[names_at + 5..names_at + 9].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge), Err(NrbfError::ArrayTooLong { .. })));
        // A string length far beyond the input.
        let mut long = good.clone();
        long[0xd5 + 5] = 0xFF;
        long[0xd5 + 6] = 0xFF;
        assert!(decode(&long).is_err());
        // Invalid UTF-8 inside a string.
        let mut bad = good.clone();
        bad[0xd5 + 6] = 0xFF;
        assert!(matches!(decode(&bad), Err(NrbfError::NotUtf8 { .. })));
    }

    #[test]
    fn mismatched_array_lengths_are_an_error() {
        let mut record = sample();
        record
            .settings
            .push(("dontUseCommandExe".into(), "true".into()));
        let bytes = encode(&record);
        // Rebuild with the values array cut to one element.
        let values_at = bytes
            .windows(5)
            .position(|w| w == [0x11, 0x06, 0, 0, 0])
            .unwrap();
        let mut cut = bytes[..values_at + 5].to_vec();
        cut.extend_from_slice(&1i32.to_le_bytes());
        let mut w = Writer(Vec::new());
        w.object_string(9, "5000");
        cut.extend_from_slice(&w.0);
        cut.push(MESSAGE_END);
        assert_eq!(
            decode(&cut),
            Err(NrbfError::MismatchedArrays {
                names: 2,
                values: 1
            })
        );
    }
}
