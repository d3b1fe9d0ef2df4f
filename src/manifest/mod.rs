//! iiswsgi.toml: the model users write, how it is found and parsed, and the
//! checks that turn it into a [`Project`] the rest of the pipeline trusts.

pub mod dependency_rules;
pub mod diagnostic;
pub mod duration;
pub mod key_path;
pub mod load;
pub mod model;
pub mod validate;
pub mod workspace;

pub use diagnostic::ConfigError;
pub use key_path::KeyPath;
pub use load::{MANIFEST_FILE, Project, load, locate};
pub use model::Manifest;
pub use workspace::{Loaded, load_all};
