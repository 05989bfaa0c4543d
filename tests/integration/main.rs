//! Integration tests: real sshd, real nix, stand-in nixos-anywhere/colmena.
//! One module per area.
mod disko;
mod jobs;
mod probe;
mod repo;

mod disko;
mod explain;
mod preflight;
mod probe;
