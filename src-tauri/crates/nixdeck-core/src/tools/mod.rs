//! The external tools nixdeck drives (nix, nixos-anywhere, colmena): their exact
//! command lines, host selection, and parsers for their output.

pub mod plan;
pub mod selection;
