//! A stand-in `bcryptprimitives.dll` for Wine 8, written byte by byte.
//!
//! Rust's standard library (1.78 and later) imports `ProcessPrng` from
//! bcryptprimitives.dll, which every Windows 10 and later has and Wine 8
//! (Debian 12's) lacks: there the gateway exe does not start at all. For
//! `verify --windows` and the tests only, this DLL is put beside the
//! gateway in the temporary install: it holds no code, one export that
//! forwards `ProcessPrng` to `advapi32.SystemFunction036` (RtlGenRandom,
//! the same bytes from the same generator; the standard library ignores
//! the return value, which differs only in width). It is never put in a
//! package: a real Windows has the real one.
//!
//! The layout is a PE32+ DLL with one section (`.rdata`): the export
//! directory with its forwarder string, and an empty base-relocation block
//! so that the loader may place it anywhere.

const FILE_ALIGNMENT: u32 = 0x200;
const SECTION_RVA: u32 = 0x1000;
const IMAGE_BASE: u64 = 0x6_6600_0000;

/// The DLL's bytes.
pub fn bytes() -> Vec<u8> {
    // The section's content, laid out from SECTION_RVA.
    let mut data = vec![0u8; 40]; // the export directory, filled below
    let functions = SECTION_RVA + data.len() as u32;
    data.extend_from_slice(&[0; 4]);
    let names = SECTION_RVA + data.len() as u32;
    data.extend_from_slice(&[0; 4]);
    let ordinals = SECTION_RVA + data.len() as u32;
    data.extend_from_slice(&[0; 4]); // one u16 ordinal (0), padded
    let string = |data: &mut Vec<u8>, s: &str| -> u32 {
        let rva = SECTION_RVA + data.len() as u32;
        data.extend_from_slice(s.as_bytes());
        data.push(0);
        rva
    };
    let dll_name = string(&mut data, "bcryptprimitives.dll");
    let export_name = string(&mut data, "ProcessPrng");
    // A function address inside the export directory's range is a forwarder.
    let forwarder = string(&mut data, "advapi32.SystemFunction036");
    let export_size = data.len() as u32;
    while data.len() % 4 != 0 {
        data.push(0);
    }
    let relocations = SECTION_RVA + data.len() as u32;
    put32(&mut data, SECTION_RVA); // the block's page
    put32(&mut data, 8); // the block's size: its header, no entries
    let directory: [u32; 10] = [
        0,         // Characteristics
        0,         // TimeDateStamp
        0,         // MajorVersion, MinorVersion
        dll_name,  // Name
        1,         // Base (ordinal base)
        1,         // NumberOfFunctions
        1,         // NumberOfNames
        functions, // AddressOfFunctions
        names,     // AddressOfNames
        ordinals,  // AddressOfNameOrdinals
    ];
    for (i, v) in directory.iter().enumerate() {
        data[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    let at = |rva: u32| (rva - SECTION_RVA) as usize;
    data[at(functions)..at(functions) + 4].copy_from_slice(&forwarder.to_le_bytes());
    data[at(names)..at(names) + 4].copy_from_slice(&export_name.to_le_bytes());
    let virtual_size = data.len() as u32;
    let raw_size = virtual_size.div_ceil(FILE_ALIGNMENT) * FILE_ALIGNMENT;

    let mut out = Vec::with_capacity((FILE_ALIGNMENT + raw_size) as usize);
    // DOS header: "MZ", and where the PE header starts.
    out.extend_from_slice(b"MZ");
    out.resize(0x3c, 0);
    put32(&mut out, 0x40);
    // PE signature and COFF header.
    out.extend_from_slice(b"PE\0\0");
    put16(&mut out, 0x8664); // Machine: x64
    put16(&mut out, 1); // NumberOfSections
    put32(&mut out, 0); // TimeDateStamp
    put32(&mut out, 0); // PointerToSymbolTable
    put32(&mut out, 0); // NumberOfSymbols
    put16(&mut out, 240); // SizeOfOptionalHeader (PE32+)
    put16(&mut out, 0x2022); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL
    // Optional header (PE32+).
    put16(&mut out, 0x20b);
    out.extend_from_slice(&[14, 0]); // linker version
    put32(&mut out, 0); // SizeOfCode
    put32(&mut out, raw_size); // SizeOfInitializedData
    put32(&mut out, 0); // SizeOfUninitializedData
    put32(&mut out, 0); // AddressOfEntryPoint: none
    put32(&mut out, SECTION_RVA); // BaseOfCode
    out.extend_from_slice(&IMAGE_BASE.to_le_bytes());
    put32(&mut out, 0x1000); // SectionAlignment
    put32(&mut out, FILE_ALIGNMENT);
    for v in [6u16, 0, 0, 0, 6, 0] {
        put16(&mut out, v); // OS, image and subsystem versions
    }
    put32(&mut out, 0); // Win32VersionValue
    put32(
        &mut out,
        SECTION_RVA + virtual_size.div_ceil(0x1000) * 0x1000,
    ); // SizeOfImage
    put32(&mut out, FILE_ALIGNMENT); // SizeOfHeaders
    put32(&mut out, 0); // CheckSum
    put16(&mut out, 3); // Subsystem: console
    put16(&mut out, 0x0140); // DllCharacteristics: DYNAMIC_BASE | NX_COMPAT
    for v in [0x10_0000u64, 0x1000, 0x10_0000, 0x1000] {
        out.extend_from_slice(&v.to_le_bytes()); // stack and heap sizes
    }
    put32(&mut out, 0); // LoaderFlags
    put32(&mut out, 16); // NumberOfRvaAndSizes
    for i in 0..16 {
        let (rva, size) = match i {
            0 => (SECTION_RVA, export_size),
            5 => (relocations, 8),
            _ => (0, 0),
        };
        put32(&mut out, rva);
        put32(&mut out, size);
    }
    // The section header.
    out.extend_from_slice(b".rdata\0\0");
    put32(&mut out, virtual_size);
    put32(&mut out, SECTION_RVA);
    put32(&mut out, raw_size);
    put32(&mut out, FILE_ALIGNMENT); // PointerToRawData
    put32(&mut out, 0);
    put32(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put32(&mut out, 0x4000_0040); // INITIALIZED_DATA | MEM_READ
    out.resize(FILE_ALIGNMENT as usize, 0);
    out.extend_from_slice(&data);
    out.resize((FILE_ALIGNMENT + raw_size) as usize, 0);
    out
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn c_str(b: &[u8], at: usize) -> &str {
        let end = b[at..].iter().position(|&c| c == 0).unwrap();
        std::str::from_utf8(&b[at..at + end]).unwrap()
    }

    /// Reads the export table back the way a loader does: through the
    /// data directory and the section's RVA-to-file mapping.
    #[test]
    fn its_one_export_forwards_process_prng_to_rtl_gen_random() {
        let b = bytes();
        assert_eq!(b.len(), 0x400);
        let pe = u32_at(&b, 0x3c) as usize;
        assert_eq!(&b[pe..pe + 4], b"PE\0\0");
        assert_eq!(u16_at(&b, pe + 4), 0x8664);
        assert_eq!(u16_at(&b, pe + 22) & 0x2000, 0x2000, "a DLL");
        let opt = pe + 24;
        assert_eq!(u16_at(&b, opt), 0x20b);
        let (export_rva, export_size) = (u32_at(&b, opt + 112), u32_at(&b, opt + 116));
        let (reloc_rva, reloc_size) = (u32_at(&b, opt + 152), u32_at(&b, opt + 156));
        let section = opt + 240;
        assert_eq!(&b[section..section + 8], b".rdata\0\0");
        let (va, raw) = (u32_at(&b, section + 12), u32_at(&b, section + 20));
        let file = |rva: u32| (rva - va + raw) as usize;
        let dir = file(export_rva);
        assert_eq!(
            c_str(&b, file(u32_at(&b, dir + 12))),
            "bcryptprimitives.dll"
        );
        assert_eq!((u32_at(&b, dir + 20), u32_at(&b, dir + 24)), (1, 1));
        let name = u32_at(&b, file(u32_at(&b, dir + 32)));
        assert_eq!(c_str(&b, file(name)), "ProcessPrng");
        assert_eq!(u16_at(&b, file(u32_at(&b, dir + 36))), 0);
        let function = u32_at(&b, file(u32_at(&b, dir + 28)));
        assert!(
            (export_rva..export_rva + export_size).contains(&function),
            "a forwarder lies inside the export directory"
        );
        assert_eq!(c_str(&b, file(function)), "advapi32.SystemFunction036");
        assert_eq!((u32_at(&b, file(reloc_rva) + 4), reloc_size), (8, 8));
    }
}
