//! End-to-end tests: the real app window under Xvfb, driven over WebDriver
//! (tauri-driver + WebKitWebDriver). Run one at a time: `--test-threads=1`.

mod harness;
mod start;
mod wizard;
// fleet
mod fleet;
// day two
mod daytwo;
