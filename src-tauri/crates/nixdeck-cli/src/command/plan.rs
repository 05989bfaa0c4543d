//! `nixdeck plan install|deploy`: the exact command an install or deploy would
//! run and the hosts it touches, without running anything.

use super::deploy::DeployChoices;
use super::install::InstallChoices;
use super::jobrun;
use nixdeck_api::repos::repo_dir;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {
    /// The nixos-anywhere command that would install HOST.
    Install {
        /// The repository (the flake's directory).
        dir: PathBuf,
        host: String,
        #[command(flatten)]
        choices: InstallChoices,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The colmena command of a deploy and the hosts it selects.
    Deploy {
        /// The repository (the flake's directory).
        dir: PathBuf,
        #[command(flatten)]
        choices: DeployChoices,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: PlanCommand) -> anyhow::Result<ExitCode> {
    let api = jobrun::api();
    let (kind, argv, command, hosts, json) = match command {
        PlanCommand::Install {
            dir,
            host,
            choices,
            json,
        } => {
            let repo = repo_dir(&dir)?;
            let request = choices.request(&repo, &host, None);
            let plan = api.plan_install(&request).await?;
            ("install", plan.argv, plan.command, vec![plan.target], json)
        }
        PlanCommand::Deploy { dir, choices, json } => {
            let repo = repo_dir(&dir)?;
            let preview = api.preview_deploy(&choices.request(&repo)).await?;
            (
                "deploy",
                preview.argv,
                preview.command,
                preview.targets,
                json,
            )
        }
    };
    if json {
        let hosts: Vec<_> = hosts
            .iter()
            .map(|h| {
                json!({
                    "name": h.name, "address": h.address, "user": h.user,
                    "port": h.port, "tags": h.tags,
                })
            })
            .collect();
        let out = json!({
            "kind": kind,
            "argv": argv,
            "command": command,
            "hosts": hosts,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{command}");
        if hosts.is_empty() {
            println!("hosts: none selected");
        }
        for h in &hosts {
            let tags = h.tags.iter().map(|t| format!(" @{t}")).collect::<String>();
            println!("host: {} ({}@{}){tags}", h.name, h.user, h.address);
        }
    }
    Ok(ExitCode::SUCCESS)
}
