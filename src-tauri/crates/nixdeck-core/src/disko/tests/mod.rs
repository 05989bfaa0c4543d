//! Tests of the disko module; the ones that evaluate Nix run the real `nix-instantiate`.

mod model;
mod nix;
mod roundtrip;
mod space;
mod templates;
mod validate;
