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
//! - [`order_like_source`]: put names back in a file's order (Nix sorts them).
//! - [`size`]: the size notations of sgdisk, parted and lvcreate.
//! - [`space`]: partitions and volumes as byte ranges on a disk of known size, and
//!   the free ranges left.
//! - [`validate()`]: findings ([`Diagnostic`]) on the layout and against the probed host.
//! - [`templates`]: ready layouts for the chosen disks and boot mode.
//! - [`summary()`]: the layout in plain words, one line per disk and per group.
//!
//! Inside: `value` reads JSON into the model with option paths for errors, `walk`
//! visits every content node and mountpoint.

#![warn(missing_docs)]

pub mod changes;
pub mod compare;
pub mod edit;
mod error;
mod import;
pub mod model;
pub mod nodes;
mod order;
mod render;
pub mod secrets;
pub mod size;
pub mod space;
mod summary;
pub mod templates;
mod validate;
mod value;
mod walk;

pub use error::{LayoutError, OptionPath};
pub use import::{from_json, from_json_str};
pub use model::*;
pub use order::order_like_source;
pub use render::{render, to_json, to_nix};
pub use summary::{summary, DiskSummary, GroupSummary, LayoutSummary, SummaryKind};
pub use validate::{layout_needs, validate, Diagnostic, Rule, Severity};

#[cfg(test)]
mod tests;
