//! `nixdeck plan install|deploy`: the exact command an install or deploy would
//! run and the hosts it touches, without running anything.

use super::deploy::DeployChoices;
use super::install::InstallChoices;
use super::jobrun;
use nixdeck_core::tools::plan::{self, DiskEncryptionKey};
use nixdeck_engine::jobs::requests;
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

/// Stands for the private file a passphrase is written to when the job runs.
const SECRET_FILE: &str = "<temporary 0600 file>";

pub async fn run(command: PlanCommand) -> anyhow::Result<ExitCode> {
    let (kind, cmd, hosts, json) = match command {
        PlanCommand::Install {
            dir,
            host,
            choices,
            json,
        } => {
            let repo = jobrun::repo_dir(&dir)?;
            let settings = choices.tools.settings().await;
            let target = choices.target(&repo, &host).await?;
            let mut options = choices.options()?;
            if let Some(remote) = &choices.luks_key_path {
                options.disk_encryption_keys.push(DiskEncryptionKey {
                    remote_path: remote.clone(),
                    local_file: SECRET_FILE.into(),
                });
            }
            let cmd = plan::install_command(&settings, &target, &options)?;
            (
                "install",
                cmd,
                vec![json!({
                    "name": target.name, "address": target.address, "user": target.user,
                    "port": target.port, "tags": target.tags,
                })],
                json,
            )
        }
        PlanCommand::Deploy { dir, choices, json } => {
            let repo = jobrun::repo_dir(&dir)?;
            let settings = choices.tools.settings().await;
            let options = choices.options();
            let cmd = plan::deploy_command(&settings, &options)?;
            let all = jobrun::read_hosts(&repo).await?;
            let selected = requests::select_hosts(&all, options.on.as_deref())?;
            let hosts = all
                .iter()
                .filter(|h| selected.contains(&h.name))
                .map(|h| {
                    json!({
                        "name": h.name, "address": h.address, "user": h.user,
                        "port": h.port, "tags": h.tags,
                    })
                })
                .collect();
            ("deploy", cmd, hosts, json)
        }
    };
    if json {
        let out = json!({
            "kind": kind,
            "argv": cmd.redacted_argv(),
            "command": cmd.to_string(),
            "hosts": hosts,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{cmd}");
        if hosts.is_empty() {
            println!("hosts: none selected");
        }
        for h in &hosts {
            let tags = h["tags"].as_array().map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str())
                    .map(|t| format!("@{t}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            println!(
                "host: {} ({}@{}){}",
                h["name"].as_str().unwrap_or_default(),
                h["user"].as_str().unwrap_or_default(),
                h["address"].as_str().unwrap_or_default(),
                tags.filter(|t| !t.is_empty())
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
