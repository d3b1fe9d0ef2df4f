//! iiswsgi: build Microsoft Web Deploy (MSDeploy) packages and WebPI feeds
//! for Python WSGI apps on IIS, without any Windows tool.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! iiswsgi.toml ─manifest─▶ Project ─plan─▶ BuildPlan ─package─▶ zip + sums
//!                 (parse,     (files, render,   (deterministic zip,
//!                  validate)   msdeploy, gateway) hashes, atomic write)
//! ```

// Configuration errors carry their source text and span for miette; they are
// created once per failed run, so their size in `Result` costs nothing that
// matters, and boxing them everywhere would only add noise.
#![allow(clippy::result_large_err)]

pub mod build_steps;
pub mod calendar;
pub mod cli;
pub mod commands;
pub mod deploy_files;
pub mod error;
pub mod feed;
pub mod files;
pub mod gateway;
pub mod init;
pub mod inspect;
pub mod manifest;
pub mod msdeploy;
pub mod package;
pub mod plan;
pub mod publish;
pub mod render;
pub mod report;
pub mod schema;
pub mod verify;
pub mod wake_on_panic;
pub mod wheelhouse;
pub mod xml_escape;
pub mod xml_limits;
pub mod xml_tree;

pub use error::Error;
