//! Integration tests: real sshd, real nix, stand-in nixos-anywhere/colmena.
//! One module per area.

mod disko;
mod explain;
mod jobs;
mod package_flake;
mod preflight;
mod probe;
mod repo;
mod watchdog;
