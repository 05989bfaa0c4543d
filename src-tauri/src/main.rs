// No console window on Windows release builds; harmless elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

//! One binary: with a subcommand it works headless (no display needed),
//! otherwise it opens the window.

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if nixdeck_cli::is_headless_invocation(&args) {
        return nixdeck_cli::main();
    }
    nixdeck_app::run()
}
