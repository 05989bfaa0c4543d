//! Integration tests: real sshd, real nix, stand-in nixos-anywhere/colmena.
//! One module per area.

mod disko;
mod edges;
mod explain;
mod jobs;
mod latency_proxy;
mod package_flake;
mod preflight;
mod probe;
mod real_logs;
mod replays;
mod repo;
mod ssh_config;
mod status;
mod watchdog;
