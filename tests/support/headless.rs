//! The app binary's command line without the GUI, so CLI tests need no webview build.
fn main() -> std::process::ExitCode {
    nixdeck_cli::main()
}
