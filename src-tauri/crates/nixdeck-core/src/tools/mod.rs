//! The external tools nixdeck drives (nix, nixos-anywhere, colmena): their exact
//! command lines, host selection, and parsers for their output.

// What a run's output means: failures explained, the watchdog's policy.
pub mod explain;
pub mod watchdog;

pub mod colmena;
pub mod lines;
pub mod nixos_anywhere;
pub mod pins;
pub mod plan;
pub mod prompt;
pub mod rollback;
pub mod safety;
pub mod selection;
