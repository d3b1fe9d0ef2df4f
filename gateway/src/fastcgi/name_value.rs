//! FastCGI name-value pairs (section 3.4): the body of `FCGI_PARAMS`,
//! `FCGI_GET_VALUES` and `FCGI_GET_VALUES_RESULT`.

use std::fmt;

/// Decoded pairs, in the order they came.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

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
    let mut at = 0;
    while at < bytes.len() {
        let name_len = read_len(bytes, &mut at)?;
        let value_len = read_len(bytes, &mut at)?;
        let name_end = at.checked_add(name_len).ok_or(Malformed)?;
        let value_end = name_end.checked_add(value_len).ok_or(Malformed)?;
        if value_end > bytes.len() {
            return Err(Malformed);
        }
        each(&bytes[at..name_end], &bytes[name_end..value_end]);
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

    fn pairs(bytes: &[u8]) -> Result<Pairs, Malformed> {
        let mut v = Vec::new();
        decode(bytes, |n, val| v.push((n.to_vec(), val.to_vec())))?;
        Ok(v)
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
    fn empty_values_are_kept() {
        assert_eq!(
            pairs(&[4, 0, b'H', b'T', b'T', b'P']).unwrap(),
            vec![(b"HTTP".to_vec(), vec![])]
        );
    }
}
