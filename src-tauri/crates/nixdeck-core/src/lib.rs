//! nixdeck's domain core: everything that can be decided without touching a
//! machine, a process or a window. Pure, synchronous, and fast to test.

pub mod disko;
pub mod facts;
pub mod nix;
pub mod preflight;
pub mod repo;
pub mod review;
pub mod status;
pub mod tools;
