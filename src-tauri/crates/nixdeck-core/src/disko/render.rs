//! Writing a layout as `disko.nix` through the project's Nix renderer, and as
//! nixdeck's JSON model.

use super::model::DiskLayout;
use crate::nix::{self, Binding, Nix};
use serde_json::Value;

/// The layout as JSON: the shape of `disko.devices` after evaluation, with only
/// the options that are set.
pub fn to_json(layout: &DiskLayout) -> Value {
    // Serialising these types cannot fail: every map key is a string.
    serde_json::to_value(layout).unwrap_or_default()
}

/// The layout as a Nix expression `{ disko.devices = { … }; }`.
pub fn to_nix(layout: &DiskLayout) -> Nix {
    Nix::Attrs(vec![Binding::Set(
        vec!["disko".into(), "devices".into()],
        Nix::from_json(&to_json(layout)),
    )])
}

/// The text of `disko.nix` for `layout`, in nixfmt's style.
pub fn render(layout: &DiskLayout) -> String {
    nix::render(&to_nix(layout))
}
