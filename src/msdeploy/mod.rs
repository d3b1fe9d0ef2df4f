//! Microsoft Web Deploy (MSDeploy) formats: the provider-options attribute,
//! Parameters.xml, and the runCommand settings.

pub mod install_command;
pub mod nrbf;
pub mod parameters_xml;
pub mod provider_options;
pub mod run_command;
pub mod skip_rules;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which Web Deploy release the package targets. It only changes the assembly
/// name written into provider-options values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum WebDeployVersion {
    /// Web Deploy 1.0 (msdeploy build 7.1.600).
    #[serde(rename = "1")]
    V1,
    /// Web Deploy 2.0 (msdeploy build 7.1.1070).
    #[serde(rename = "2")]
    V2,
    /// Web Deploy 3.x and later, including 4.0: what every current msdeploy writes.
    #[default]
    #[serde(rename = "3")]
    V3,
}

impl WebDeployVersion {
    /// The BinaryLibrary string that version writes, exactly (note the
    /// lower-case "web" of 3.x and later, seen in 54 of 64 real values).
    pub fn library(self) -> &'static str {
        match self {
            WebDeployVersion::V1 => {
                "Microsoft.Web.Deployment, Version=7.1.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35"
            }
            WebDeployVersion::V2 => {
                "Microsoft.Web.Deployment, Version=8.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35"
            }
            WebDeployVersion::V3 => {
                "Microsoft.web.deployment, Version=7.1.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35"
            }
        }
    }

    /// The version whose library string this is, if any.
    pub fn from_library(library: &str) -> Option<Self> {
        [Self::V1, Self::V2, Self::V3]
            .into_iter()
            .find(|v| v.library() == library)
    }
}
