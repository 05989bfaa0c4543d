//! One module per subcommand: parse → one core/engine call → print.

pub mod deploy;
pub mod doctor;
pub mod host;
pub mod install;
pub mod jobrun;
pub mod jobs;
pub mod layout;
pub mod log;
pub mod plan;
pub mod probe;
pub mod project;
pub mod secrets;
pub mod status;
pub mod validate;

use crate::args::Command;
use std::process::ExitCode;

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Probe(args) => probe::run(args).await,
        Command::Layout(cmd) => layout::run(cmd).await,
        Command::Project(cmd) => project::run(cmd).await,
        Command::Host(cmd) => host::run(cmd).await,
        Command::Plan(cmd) => plan::run(cmd).await,
        Command::Install(args) => install::run(args).await,
        Command::Deploy(args) => deploy::run(args).await,
        Command::Status(args) => status::status(args).await,
        Command::Generations(args) => status::generations(args).await,
        Command::Rollback(args) => status::rollback(args).await,
        Command::Validate(args) => validate::run(args).await,
        Command::Jobs(cmd) => jobs::run(cmd).await,
        Command::Log(cmd) => log::run(cmd).await,
        Command::Doctor(args) => doctor::run(args).await,
    }
}
