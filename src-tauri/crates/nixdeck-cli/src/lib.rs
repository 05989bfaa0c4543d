//! nixdeck's headless command line. The app binary hands over to [`main`] when
//! its first argument is a subcommand (or `--help`/`--version`), so scripting and
//! tests use the same core as the window, and no display is ever needed here.

mod args;
mod command;

use clap::{CommandFactory, Parser};
use std::ffi::OsString;
use std::process::ExitCode;

pub use args::Cli;

/// Whether `args` (without the program name) ask for the command line rather than the window.
pub fn is_headless_invocation(args: &[OsString]) -> bool {
    let Some(first) = args.first().and_then(|a| a.to_str()) else {
        return false;
    };
    if matches!(first, "-h" | "--help" | "-V" | "--version" | "help") {
        return true;
    }
    Cli::command()
        .get_subcommands()
        .any(|sub| sub.get_name() == first || sub.get_all_aliases().any(|a| a == first))
}

/// Runs the command line with the process's arguments and returns its exit status.
pub fn main() -> ExitCode {
    main_with(std::env::args_os())
}

/// Runs the command line with `args` (including the program name).
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command::run(cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            // The same hint the window shows, written once in nixdeck-api.
            if let Some(hint) = err
                .chain()
                .find_map(|e| e.downcast_ref::<nixdeck_api::ApiError>())
                .and_then(|e| e.hint.as_deref())
            {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
