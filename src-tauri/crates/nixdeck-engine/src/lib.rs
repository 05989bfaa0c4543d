//! nixdeck's I/O engine on tokio: everything that touches the local machine, a
//! remote machine or a process. No GUI types: the app and the CLI both call it.

pub mod doctor;
pub mod nix_eval;
pub mod repo;
