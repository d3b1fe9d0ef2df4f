//! `iiswsgi inspect`: what is inside a package (or a Manifest.xml /
//! archive.xml), with every provider-options value decoded and checked.

use std::path::Path;

use quick_xml::events::Event;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::msdeploy::nrbf::ProviderOptionsRecord;
use crate::msdeploy::{WebDeployVersion, provider_options, run_command};
use crate::package::zip_writer::hex;

/// One zip entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ZipEntry {
    pub name: String,
    pub method: &'static str,
    pub size: u64,
    pub compressed_size: u64,
    pub crc32: String,
}

/// One element that carries `MSDeploy.MSDeployProviderOptions`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderElement {
    /// The document it was found in (`Manifest.xml`, `archive.xml`, ...).
    pub document: String,
    /// The XML element name.
    pub element: String,
    /// The element's own `path` attribute.
    pub element_path: Option<String>,
    pub provider_name: Option<String>,
    pub path: Option<String>,
    pub library: Option<String>,
    /// Which Web Deploy writes that library string.
    pub web_deploy: Option<&'static str>,
    pub settings: Vec<(String, String)>,
    /// Why the value could not be decoded.
    pub error: Option<String>,
    /// Where the options and the element's attributes disagree.
    pub disagreements: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InspectReport {
    pub entries: Vec<ZipEntry>,
    pub providers: Vec<ProviderElement>,
    /// `Some(true)` when a `.sha256` file beside the package matches it.
    pub sha256_file_matches: Option<bool>,
    pub sha256: Option<String>,
    /// The gateway exe inside (`…/iiswsgi-gateway.exe`), if any.
    pub gateway: Option<InspectedGateway>,
}

/// The gateway exe a package carries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectedGateway {
    pub name: String,
    pub sha256: String,
    /// It is this iiswsgi's built-in gateway, byte for byte.
    pub built_in: bool,
}

/// More than any gateway exe needs: a bigger entry is hashed this far.
const MAX_GATEWAY_SIZE: u64 = 256 << 20;

/// Inspects a zip package or a single XML document.
pub fn inspect(path: &Path) -> Result<InspectReport, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !bytes.starts_with(b"PK") {
        crate::xml_limits::check_size(bytes.len() as u64)
            .map_err(|e| Error::Inspect(format!("{}: {e}", path.display())))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        return Ok(InspectReport {
            providers: providers_in(&name, &text)?,
            ..InspectReport::default()
        });
    }
    let mut report = InspectReport::default();
    let sha256 = hex(&Sha256::digest(&bytes));
    let sidecar = path.with_file_name(format!(
        "{}.sha256",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    if let Ok(sums) = std::fs::read_to_string(&sidecar) {
        report.sha256_file_matches = Some(sums.split_whitespace().next() == Some(sha256.as_str()));
    }
    report.sha256 = Some(sha256);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes))
        .map_err(|e| Error::Inspect(format!("{}: not a readable zip: {e}", path.display())))?;
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| Error::Inspect(format!("{}: entry {i}: {e}", path.display())))?;
        let name = file.name().to_string();
        report.entries.push(ZipEntry {
            name: name.clone(),
            method: match file.compression() {
                zip::CompressionMethod::Stored => "stored",
                zip::CompressionMethod::Deflated => "deflated",
                _ => "other",
            },
            size: file.size(),
            compressed_size: file.compressed_size(),
            crc32: format!("{:08x}", file.crc32()),
        });
        let lower = name.to_ascii_lowercase();
        if lower.ends_with("/iiswsgi-gateway.exe") && report.gateway.is_none() {
            let mut exe = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(&mut file, MAX_GATEWAY_SIZE),
                &mut exe,
            )
            .map_err(|e| Error::Inspect(format!("{}: {name}: {e}", path.display())))?;
            let sha256 = hex(&Sha256::digest(&exe));
            report.gateway = Some(InspectedGateway {
                name: name.clone(),
                built_in: sha256 == crate::gateway::builtin::sha256(),
                sha256,
            });
        }
        if lower == "manifest.xml" || lower == "archive.xml" {
            // Sizes are checked as the entry inflates (a zip bomb stops at
            // the limit, whatever its header claims).
            let text = crate::xml_limits::read_text(&mut file)
                .map_err(|e| Error::Inspect(format!("{}: {name}: {e}", path.display())))?;
            report.providers.extend(providers_in(&name, &text)?);
        }
    }
    Ok(report)
}

/// Every element of `text` with a provider-options attribute.
pub fn providers_in(document: &str, text: &str) -> Result<Vec<ProviderElement>, Error> {
    crate::xml_limits::check_size(text.len() as u64)
        .map_err(|e| Error::Inspect(format!("{document}: {e}")))?;
    let mut reader = quick_xml::Reader::from_str(text.trim_start_matches('\u{feff}'));
    let mut budget = crate::xml_limits::Budget::default();
    let mut out = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            Error::Inspect(format!(
                "{document}: not well-formed XML at byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        let counted = match &event {
            Event::Start(_) => budget.open(false),
            Event::Empty(_) => budget.open(true),
            Event::End(_) => {
                budget.close();
                Ok(())
            }
            _ => Ok(()),
        };
        counted.map_err(|e| {
            Error::Inspect(format!(
                "{document}: {e} (at byte {})",
                reader.buffer_position()
            ))
        })?;
        let element = match &event {
            Event::Start(e) | Event::Empty(e) => e,
            Event::Eof => break,
            _ => continue,
        };
        let mut attributes = Vec::new();
        for attr in element.attributes() {
            let attr =
                attr.map_err(|e| Error::Inspect(format!("{document}: bad attribute: {e}")))?;
            let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
            let value = attr
                .unescape_value()
                .map_err(|e| Error::Inspect(format!("{document}: bad attribute value: {e}")))?
                .into_owned();
            attributes.push((key, value));
        }
        let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
        match attributes
            .iter()
            .find(|(k, _)| k == "MSDeploy.MSDeployProviderOptions")
        {
            Some((_, options)) => out.push(describe(document, &name, &attributes, options)),
            // iiswsgi 0.3's issue #12: settings written only as attributes are
            // silently ignored by msdeploy inside a package.
            None if name.eq_ignore_ascii_case("runCommand") => {
                let ignored: Vec<String> = attributes
                    .iter()
                    .filter(|(k, _)| run_command::SETTING_NAMES.contains(&k.as_str()))
                    .map(|(k, v)| format!("{k}=\"{v}\""))
                    .collect();
                if !ignored.is_empty() {
                    let mut element = describe_without_options(document, &name, &attributes);
                    element.error = Some(format!(
                        "no MSDeploy.MSDeployProviderOptions: msdeploy ignores {}",
                        ignored.join(", ")
                    ));
                    out.push(element);
                }
            }
            None => {}
        }
    }
    Ok(out)
}

fn describe_without_options(
    document: &str,
    element: &str,
    attributes: &[(String, String)],
) -> ProviderElement {
    ProviderElement {
        document: document.to_string(),
        element: element.to_string(),
        element_path: attributes
            .iter()
            .find(|(k, _)| k == "path")
            .map(|(_, v)| v.clone()),
        provider_name: None,
        path: None,
        library: None,
        web_deploy: None,
        settings: Vec::new(),
        error: None,
        disagreements: Vec::new(),
    }
}

fn describe(
    document: &str,
    element: &str,
    attributes: &[(String, String)],
    options: &str,
) -> ProviderElement {
    let mut out = describe_without_options(document, element, attributes);
    match provider_options::decode(options) {
        Ok(record) => {
            out.disagreements = disagreements(element, attributes, &record);
            out.web_deploy = WebDeployVersion::from_library(&record.library).map(|v| match v {
                WebDeployVersion::V1 => "Web Deploy 1.0",
                WebDeployVersion::V2 => "Web Deploy 2.0",
                WebDeployVersion::V3 => "Web Deploy 3.x and later",
            });
            out.provider_name = Some(record.provider_name);
            out.path = Some(record.path);
            out.library = Some(record.library);
            out.settings = record.settings;
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

/// Settings whose value differs from the element's attribute of the same
/// name, and runCommand settings written only as attributes (which msdeploy
/// ignores inside a package).
fn disagreements(
    element: &str,
    attributes: &[(String, String)],
    record: &ProviderOptionsRecord,
) -> Vec<String> {
    let mut out = Vec::new();
    if !element.eq_ignore_ascii_case(&record.provider_name) && !element.starts_with("MSDeploy.") {
        out.push(format!(
            "element <{element}> carries options of provider `{}`",
            record.provider_name
        ));
    }
    for (name, value) in &record.settings {
        if let Some((_, attr)) = attributes.iter().find(|(k, _)| k == name)
            && attr != value
        {
            out.push(format!(
                "{name}: provider options say `{value}`, the attribute says `{attr}`"
            ));
        }
    }
    if record.provider_name == "runCommand" {
        for (key, value) in attributes {
            if run_command::SETTING_NAMES.contains(&key.as_str())
                && !record.settings.iter().any(|(n, _)| n == key)
            {
                out.push(format!(
                    "{key}=\"{value}\" is only an attribute: msdeploy ignores it unless it is in the provider options"
                ));
            }
        }
    }
    out
}
