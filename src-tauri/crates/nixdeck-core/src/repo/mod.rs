//! Infrastructure repositories in the article's flake layout: hosts, their
//! configuration and deployment settings, and the files nixdeck writes for them.
//!
//! Everything here is pure: validated names ([`names`]), the host model ([`host`]),
//! the text of every file nixdeck writes ([`render`]), what a repository on disk
//! looks like once scanned ([`view`], [`outline`]), and how a planned write compares
//! with what is on disk ([`change`], [`diff`]). Reading and writing files, git and
//! `nix-instantiate` live in `nixdeck_engine::repo`.

pub mod access;
pub mod change;
pub mod diff;
pub mod host;
pub mod names;
pub mod outline;
pub mod render;
pub mod view;

pub use change::{ChangeAction, FileChange, Ownership, SeenChange, WritePlan, WrittenRecord};
pub use host::{
    Deployment, FlakeSpec, HostSpec, SystemConfig, DEFAULT_NIXPKGS_REF, DEFAULT_SYSTEM,
};
pub use names::{HostName, NameError, Tag};
pub use render::{render_configuration, render_flake, render_host_data};
pub use view::{HostSummary, Problem, RepoView};

#[cfg(test)]
mod tests;
