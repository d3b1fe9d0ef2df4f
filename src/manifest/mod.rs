//! iiswsgi.toml: the model users write, how it is found and parsed, and the
//! checks that turn it into a [`Project`] the rest of the pipeline trusts.

pub mod diagnostic;
pub mod key_path;
pub mod load;
pub mod model;
pub mod validate;

pub use diagnostic::ConfigError;
pub use key_path::KeyPath;
pub use load::{MANIFEST_FILE, Project, load, locate};
pub use model::Manifest;
