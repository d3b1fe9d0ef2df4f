//! What Windows (and so IIS and Web Deploy) can store as a file name.
//!
//! Checked before anything is written, because a package that unpacks
//! differently (or not at all) on the server is worse than no package.

use std::borrow::Cow;
use std::fmt;

/// Web Deploy and Win32 without long-path support stop at MAX_PATH = 260
/// UTF-16 units including the terminating NUL.
pub const MAX_PATH: usize = 260;

/// Where a site's files usually live; lengths are checked as if the package
/// folder were placed here (`C:\inetpub\wwwroot\<app folder>\...`).
pub const TYPICAL_SITE_ROOT: &str = r"C:\inetpub\wwwroot\";

/// Names Windows reserves for devices, with or without an extension.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Why a name cannot exist on Windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    DotSegment(String),
    Reserved(String),
    ForbiddenChar(String, char),
    TrailingDotOrSpace(String),
    TooLong { length: usize },
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => write!(f, "it has an empty path component"),
            NameProblem::DotSegment(c) => write!(f, "it has a `{c}` path component"),
            NameProblem::Reserved(c) => {
                write!(f, "`{c}` is a reserved device name on Windows")
            }
            NameProblem::ForbiddenChar(c, ch) if ch.is_control() => {
                write!(
                    f,
                    "`{}` contains control character U+{:04X}",
                    c.escape_debug(),
                    *ch as u32
                )
            }
            NameProblem::ForbiddenChar(c, ch) => {
                write!(
                    f,
                    "`{c}` contains `{ch}`, which Windows does not allow in names"
                )
            }
            NameProblem::TrailingDotOrSpace(c) => {
                write!(f, "`{c}` ends with a dot or space, which Windows strips")
            }
            NameProblem::TooLong { length } => write!(
                f,
                "it is {length} characters long once installed under {TYPICAL_SITE_ROOT}, \
                 over Windows' limit of {} (MAX_PATH)",
                MAX_PATH - 1
            ),
        }
    }
}

/// Checks one file or folder name.
pub fn check_component(name: &str) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name == "." || name == ".." {
        return Err(NameProblem::DotSegment(name.to_string()));
    }
    if let Some(ch) = name.chars().find(|c| {
        c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '\\' | '/')
    }) {
        return Err(NameProblem::ForbiddenChar(name.to_string(), ch));
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Err(NameProblem::TrailingDotOrSpace(name.to_string()));
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    // Every reserved name is 3 or 4 letters: most names are done here.
    if matches!(stem.len(), 3 | 4) && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        return Err(NameProblem::Reserved(name.to_string()));
    }
    Ok(())
}

/// Checks a `/`-separated relative path, component by component.
pub fn check_relative(path: &str) -> Result<(), NameProblem> {
    path.split('/').try_for_each(check_component)
}

/// Checks that a path inside the package fits in MAX_PATH once installed
/// under [`TYPICAL_SITE_ROOT`].
pub fn check_installed_length(path: &str) -> Result<(), NameProblem> {
    let units = |s: &str| match s.is_ascii() {
        true => s.len(),
        false => s.encode_utf16().count(),
    };
    let length = units(TYPICAL_SITE_ROOT) + units(path);
    if length >= MAX_PATH {
        return Err(NameProblem::TooLong { length });
    }
    Ok(())
}

/// The key under which Windows considers two names the same (borrowed when
/// the name is its own key, as most are: no copy per file).
pub fn case_fold(path: &str) -> Cow<'_, str> {
    if path
        .bytes()
        .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
    {
        Cow::Owned(path.to_lowercase())
    } else {
        Cow::Borrowed(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_with_any_extension_or_case() {
        for bad in ["CON", "con", "Nul.txt", "com1.tar.gz", "LPT9", "aux "] {
            assert!(check_component(bad).is_err(), "{bad}");
        }
        for good in ["CONSOLE", "com10", "nul_", "lpt", "app.py", ".env"] {
            assert_eq!(check_component(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn forbidden_characters_and_trailing_dots() {
        for bad in [
            "a<b", "a>b", "a:b", "a\"b", "a|b", "a?b", "a*b", "tab\t", "dot.", "space ",
        ] {
            assert!(check_component(bad).is_err(), "{bad:?}");
        }
        assert!(check_relative("a//b").is_err());
        assert!(check_relative("a/../b").is_err());
    }

    #[test]
    fn length_is_measured_under_the_typical_site_root() {
        let root = TYPICAL_SITE_ROOT.len();
        let ok = "a".repeat(MAX_PATH - 1 - root);
        assert_eq!(check_installed_length(&ok), Ok(()));
        let long = "a".repeat(MAX_PATH - root);
        assert_eq!(
            check_installed_length(&long),
            Err(NameProblem::TooLong { length: MAX_PATH })
        );
    }
}
