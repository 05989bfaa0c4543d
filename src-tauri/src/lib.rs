//! The desktop app: Tauri setup, state and the command layer. It only translates
//! between the window and the crates under `src-tauri/crates/`.

/// Opens the main window and runs until it is closed.
pub fn run() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
