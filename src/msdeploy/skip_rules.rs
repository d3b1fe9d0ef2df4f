//! The `-skip` rules that keep `[iis] data-folders` through a redeploy.
//!
//! `msdeploy -verb:sync` makes the app folder equal to the package and
//! deletes the rest; a `dirPath` skip rule leaves a folder, and all under
//! it, as it is on both sides (Visual Studio's "exclude App_Data", Octopus's
//! "Preserve App_Data"). `absolutePath` is a regular expression matched
//! against the folder's full path, which on the server is the physical path
//! the installer chose: so the rule names the folder's path inside the app,
//! anchored at the end, not the package's folder name.

use crate::manifest::model::Manifest;

/// One `-skip:...` argument per data folder, ready for a msdeploy command
/// line (quoted where cmd.exe needs it: never, since `\`, `$` and the
/// escaped characters are plain to cmd).
pub fn skip_rules(manifest: &Manifest) -> Vec<String> {
    manifest
        .iis
        .data_folders
        .iter()
        .map(|folder| {
            let pattern: Vec<String> = folder
                .trim_matches('/')
                .split('/')
                .map(regex_escape)
                .collect();
            format!(
                "-skip:objectName=dirPath,absolutePath=\\\\{}$",
                pattern.join("\\\\")
            )
        })
        .collect()
}

/// A literal for .NET's regular expressions (what msdeploy uses).
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$# ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_data_folder_gets_an_anchored_dir_path_rule() {
        let mut m: Manifest = toml::from_str(
            "[app]\nname = \"A\"\nversion = \"1\"\n[iis]\ndata-folders = [\"instance\", \"media/up.loads/\"]\n",
        )
        .unwrap();
        assert_eq!(
            skip_rules(&m),
            [
                r"-skip:objectName=dirPath,absolutePath=\\instance$",
                r"-skip:objectName=dirPath,absolutePath=\\media\\up\.loads$",
            ]
        );
        m.iis.data_folders.clear();
        assert!(skip_rules(&m).is_empty());
    }
}
