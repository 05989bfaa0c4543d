//! Tauri commands: typed arguments in, one `nixdeck_api` call, its result out.
//! Each is listed in build.rs and allowed in `capabilities/main.json`.

pub mod hosts;
pub mod jobs;
pub mod layout;
pub mod repo;
pub mod status;
