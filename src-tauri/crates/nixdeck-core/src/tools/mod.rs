//! The external tools nixdeck drives (nix, nixos-anywhere, colmena): their exact
//! command lines, host selection, and parsers for their output.

pub mod colmena;
pub mod explain;
pub mod lines;
pub mod nixos_anywhere;
pub mod watchdog;
