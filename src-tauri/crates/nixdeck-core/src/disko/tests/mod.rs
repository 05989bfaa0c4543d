//! Tests of the disko module; the ones that evaluate Nix run the real `nix-instantiate`.

mod model;
mod names;
mod nix;
mod roundtrip;
mod space;
mod summary;
mod templates;
mod validate;
