//! Pieces of `iiswsgi verify` (issue #14): installing a package the way
//! Web Deploy would. So far the parameter engine.

pub mod parameters;
