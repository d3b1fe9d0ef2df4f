//! FastCGI name-value pairs (section 3.4): the body of `FCGI_PARAMS`,
//! `FCGI_GET_VALUES` and `FCGI_GET_VALUES_RESULT`.

use std::fmt;
use std::ops::Range;

/// Decoded pairs, in the order they came, over the bytes they came in:
/// each name and value is a range of one buffer, so a request's two dozen
/// parameters cost two allocations, not fifty (the bytes are moved here
/// from the records, never copied).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairs {
    bytes: Vec<u8>,
    /// Name start, name end (the value's start), value end.
    spans: Vec<(usize, usize, usize)>,
}

impl Pairs {
    /// Decodes every pair of `bytes`, keeping them.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, Malformed> {
        let mut spans = Vec::with_capacity(32);
        each_span(&bytes, |name, value| {
            spans.push((name.start, name.end, value.end))
        })?;
        Ok(Pairs { bytes, spans })
    }

    /// Pairs as (name, value), in the order they came.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> {
        self.spans
            .iter()
            .map(|&(start, mid, end)| (&self.bytes[start..mid], &self.bytes[mid..end]))
    }

    /// The first value named `name`.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// A malformed pair stream: a length runs past the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed FastCGI name-value pair (a length runs past the end)")
    }
}

impl std::error::Error for Malformed {}

fn read_len(bytes: &[u8], at: &mut usize) -> Result<usize, Malformed> {
    let first = *bytes.get(*at).ok_or(Malformed)?;
    if first < 0x80 {
        *at += 1;
        return Ok(first as usize);
    }
    let four = bytes.get(*at..*at + 4).ok_or(Malformed)?;
    *at += 4;
    Ok((u32::from_be_bytes([four[0] & 0x7F, four[1], four[2], four[3]])) as usize)
}

/// Decodes every pair in `bytes`, calling `each(name, value)`.
pub fn decode(bytes: &[u8], mut each: impl FnMut(&[u8], &[u8])) -> Result<(), Malformed> {
    each_span(bytes, |name, value| each(&bytes[name], &bytes[value]))
}

/// Decodes every pair in `bytes`, calling `each` with the ranges of its
/// name and value.
fn each_span(
    bytes: &[u8],
    mut each: impl FnMut(Range<usize>, Range<usize>),
) -> Result<(), Malformed> {
    let mut at = 0;
    while at < bytes.len() {
        let name_len = read_len(bytes, &mut at)?;
        let value_len = read_len(bytes, &mut at)?;
        let name_end = at.checked_add(name_len).ok_or(Malformed)?;
        let value_end = name_end.checked_add(value_len).ok_or(Malformed)?;
        if value_end > bytes.len() {
            return Err(Malformed);
        }
        each(at..name_end, name_end..value_end);
        at = value_end;
    }
    Ok(())
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.extend_from_slice(&((len as u32) | 0x8000_0000).to_be_bytes());
    }
}

/// Appends one pair.
pub fn encode(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    push_len(out, name.len());
    push_len(out, value.len());
    out.extend_from_slice(name);
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = Vec<(Vec<u8>, Vec<u8>)>;

    /// Decoded both ways, which must agree.
    fn pairs(bytes: &[u8]) -> Result<Owned, Malformed> {
        let mut v = Vec::new();
        let decoded = decode(bytes, |n, val| v.push((n.to_vec(), val.to_vec()))).map(|()| v);
        let kept = Pairs::parse(bytes.to_vec()).map(|kept| {
            kept.iter()
                .map(|(n, val)| (n.to_vec(), val.to_vec()))
                .collect::<Owned>()
        });
        assert_eq!(kept, decoded, "Pairs and decode disagree");
        decoded
    }

    #[test]
    fn short_and_long_lengths_round_trip() {
        let long = vec![b'x'; 300];
        let mut out = Vec::new();
        encode(&mut out, b"SCRIPT_NAME", b"/app");
        encode(&mut out, b"HTTP_COOKIE", &long);
        assert_eq!(&out[..2], &[11, 4]);
        assert_eq!(&out[17..22], &[11, 0x80, 0, 1, 44]);
        assert_eq!(
            pairs(&out).unwrap(),
            vec![
                (b"SCRIPT_NAME".to_vec(), b"/app".to_vec()),
                (b"HTTP_COOKIE".to_vec(), long)
            ]
        );
    }

    #[test]
    fn truncated_streams_are_malformed() {
        assert_eq!(pairs(&[5, 1, b'a']), Err(Malformed));
        assert_eq!(pairs(&[0x80, 0]), Err(Malformed));
        assert_eq!(pairs(&[0xFF, 0xFF, 0xFF, 0xFF, 0]), Err(Malformed));
    }

    #[test]
    fn get_finds_the_first_of_a_name() {
        let mut out = Vec::new();
        encode(&mut out, b"A", b"1");
        encode(&mut out, b"B", b"");
        encode(&mut out, b"A", b"2");
        let kept = Pairs::parse(out).unwrap();
        assert_eq!(kept.len(), 3);
        assert_eq!(kept.get(b"A"), Some(&b"1"[..]));
        assert_eq!(kept.get(b"B"), Some(&b""[..]));
        assert_eq!(kept.get(b"C"), None);
        assert!(Pairs::parse(Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn empty_values_are_kept() {
        assert_eq!(
            pairs(&[4, 0, b'H', b'T', b'T', b'P']).unwrap(),
            vec![(b"HTTP".to_vec(), vec![])]
        );
    }
}
