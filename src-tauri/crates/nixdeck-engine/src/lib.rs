//! nixdeck's I/O engine on tokio: everything that touches the local machine, a
//! remote machine or a process. No GUI types: the app and the CLI both call it.

pub mod atomic;
pub mod disk_sources;
pub mod disko_file;
pub mod doctor;
pub mod facts_store;
pub mod host_key;
pub mod install;
pub mod jobs;
pub mod nix_eval;
pub mod paths;
pub mod probe;
pub mod recent;
pub mod repo;
pub mod runner;
pub mod safety;
pub mod ssh;
pub mod status;
pub mod tools;
