//! The prebuilt FastCGI gateway executable bundled into the app folder.
//!
//! Bundling a file that is not a Windows executable, or one built for another
//! CPU, would only fail on the server when IIS starts the app; the PE header
//! tells us at build time.

pub mod builtin;
pub mod download;

use crate::manifest::model::Arch;

/// What a PE header says about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeInfo {
    /// IMAGE_FILE_HEADER.Machine.
    pub machine: u16,
}

impl PeInfo {
    /// The architecture of the machine type, if it is one iiswsgi knows.
    pub fn arch(&self) -> Option<Arch> {
        match self.machine {
            0x014c => Some(Arch::X86),
            0x8664 => Some(Arch::X64),
            0xaa64 => Some(Arch::Arm64),
            _ => None,
        }
    }
}

/// Why a file is not a usable Windows executable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeError {
    #[error("it does not start with the `MZ` signature of a Windows executable")]
    NoMz,
    #[error("its PE header offset points outside the file")]
    BadOffset,
    #[error("it has no `PE\\0\\0` signature where its DOS header says")]
    NoPeSignature,
    #[error("it is a DLL, not an executable")]
    Dll,
}

/// Reads the DOS and COFF headers of `bytes`.
pub fn read_pe(bytes: &[u8]) -> Result<PeInfo, PeError> {
    if bytes.len() < 0x40 || &bytes[..2] != b"MZ" {
        return Err(PeError::NoMz);
    }
    let e_lfanew =
        u32::from_le_bytes([bytes[0x3c], bytes[0x3d], bytes[0x3e], bytes[0x3f]]) as usize;
    // Signature (4) + COFF header (20).
    let header = bytes
        .get(e_lfanew..e_lfanew.checked_add(24).ok_or(PeError::BadOffset)?)
        .ok_or(PeError::BadOffset)?;
    if &header[..4] != b"PE\0\0" {
        return Err(PeError::NoPeSignature);
    }
    let machine = u16::from_le_bytes([header[4], header[5]]);
    let characteristics = u16::from_le_bytes([header[22], header[23]]);
    if characteristics & 0x2000 != 0 {
        return Err(PeError::Dll);
    }
    Ok(PeInfo { machine })
}

/// The architecture's name as written in iiswsgi.toml.
pub fn arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86 => "x86",
        Arch::X64 => "x64",
        Arch::Arm64 => "arm64",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_pe_input() {
        assert_eq!(read_pe(b"#!/bin/sh\n"), Err(PeError::NoMz));
        let mut fake = vec![0u8; 0x40];
        fake[..2].copy_from_slice(b"MZ");
        fake[0x3c..0x40].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert_eq!(read_pe(&fake), Err(PeError::BadOffset));
    }
}
