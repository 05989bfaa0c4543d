//! Disk layouts: disko's whole model, lossless import and render, sizes, validation
//! and templates.
//!
//! - [`model`]: the typed layout ([`DiskLayout`]), one struct per disko type.
//! - [`from_json`] / [`from_json_str`]: read disko's evaluated JSON (or nixdeck's JSON
//!   model, the same shape). Evaluating `.nix` files is the engine's job
//!   (`nixdeck_engine::disko_file`).
//! - [`render`] / [`to_json`]: write `disko.nix` / the JSON model. For any layout,
//!   evaluating the rendered file gives back [`to_json`] exactly: unset options stay
//!   unset, unknown ones are kept.
//! - [`space`]: partitions and volumes as byte ranges on a disk of known size.
//! - [`validate`]: findings against the probed host.
//! - [`templates`]: ready layouts for the chosen disks and boot mode.

pub mod edit;
mod error;
mod import;
pub mod model;
mod render;
pub mod size;
pub mod space;
pub mod templates;
mod validate;
mod value;
mod walk;

pub use error::{LayoutError, OptionPath};
pub use import::{from_json, from_json_str};
pub use model::*;
pub use render::{render, to_json, to_nix};
pub use validate::{validate, Diagnostic, Rule, Severity};

#[cfg(test)]
mod tests;
