//! Tauri commands: typed arguments in, one engine/core call, mapped errors out.
//! Each is listed in build.rs and allowed in `capabilities/main.json`.

pub mod doctor;
pub mod jobs;
pub mod repo;
// wizard
pub mod hosts;
pub mod layout;
pub mod probe;
