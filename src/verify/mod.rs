//! Pieces of `iiswsgi verify` (issue #14): installing a package the way
//! Web Deploy would. So far: opening a package safely (`package`), the
//! parameter engine (`parameters`), and applying values to the laid-out
//! files (`apply`). The command that ties them to the install step and the
//! gateway is not written yet.

pub mod apply;
pub mod package;
pub mod parameters;
