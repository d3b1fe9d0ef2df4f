//! Bounds on every XML document iiswsgi reads (feeds to merge, Manifest.xml,
//! archive.xml, Parameters.xml, web.config, packages given to inspect):
//! a hostile or broken file is refused with a message instead of
//! exhausting memory or the stack.

/// Largest document read: real feeds and manifests are a few MiB at most
/// (Microsoft's whole WebApplicationList is about 4 MiB).
pub const MAX_BYTES: u64 = 64 << 20;
/// Deepest element nesting: real ones nest under 20.
pub const MAX_DEPTH: usize = 256;
/// Most elements in one document.
pub const MAX_ELEMENTS: usize = 1_000_000;

/// Counts depth and elements while a document is read.
#[derive(Debug, Default)]
pub struct Budget {
    depth: usize,
    elements: usize,
}

impl Budget {
    /// A start tag (`empty`: `<x/>`, which does not nest).
    pub fn open(&mut self, empty: bool) -> Result<(), String> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(format!("more than {MAX_ELEMENTS} elements"));
        }
        if !empty {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(format!("elements nested deeper than {MAX_DEPTH}"));
            }
        }
        Ok(())
    }

    /// An end tag.
    pub fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Refuses a document of `len` bytes that is larger than [`MAX_BYTES`].
pub fn check_size(len: u64) -> Result<(), String> {
    if len > MAX_BYTES {
        return Err(format!(
            "{len} bytes is larger than the {} MiB an XML document may have",
            MAX_BYTES >> 20
        ));
    }
    Ok(())
}

/// Reads at most [`MAX_BYTES`] of XML from `r` (a zip entry, a file) as
/// text, refusing more without reading it all.
pub fn read_text(r: impl std::io::Read) -> Result<String, String> {
    use std::io::Read as _;
    let mut text = String::new();
    r.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    check_size(text.len() as u64)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_count_are_bounded() {
        let mut b = Budget::default();
        for _ in 0..MAX_DEPTH {
            b.open(false).unwrap();
        }
        assert_eq!(
            b.open(false).unwrap_err(),
            "elements nested deeper than 256"
        );
        let mut b = Budget::default();
        for _ in 0..MAX_ELEMENTS {
            b.open(true).unwrap();
        }
        assert_eq!(b.open(true).unwrap_err(), "more than 1000000 elements");
    }

    #[test]
    fn sizes_are_bounded_without_reading_everything() {
        assert!(check_size(MAX_BYTES).is_ok());
        let endless = std::io::repeat(b'a');
        assert!(
            read_text(endless)
                .unwrap_err()
                .contains("larger than the 64 MiB")
        );
    }
}
