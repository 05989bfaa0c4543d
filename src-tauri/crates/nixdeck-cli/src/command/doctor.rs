//! `nixdeck doctor`: the start screen's doctor panel, in a terminal.

use nixdeck_api::jobs::ToolChoice;
use nixdeck_core::tools::plan::ToolSource;
use nixdeck_engine::doctor::CheckStatus;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also say which nixos-anywhere and colmena this repository's jobs run.
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
    /// With --repo: the tool source to report on (as for install and deploy).
    #[arg(long, value_name = "pinned|article|path", default_value = "pinned")]
    tools: ToolSource,
}

pub async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let api = super::jobrun::api();
    let report = match &args.repo {
        Some(dir) => {
            let repo = nixdeck_api::repos::repo_dir(dir)?;
            let choice = ToolChoice {
                source: args.tools,
                ..ToolChoice::default()
            };
            api.doctor_report_for_repo(&repo, &choice).await
        }
        None => api.doctor_report().await,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for check in &report.checks {
            let mark = match check.status {
                CheckStatus::Ok => "ok  ",
                CheckStatus::Warning => "warn",
                CheckStatus::Missing => "MISS",
            };
            println!("[{mark}] {:<14} {}", check.label, check.detail);
            if let Some(fix) = &check.fix {
                println!("       → {fix}");
            }
        }
        let sys = &report.system;
        println!(
            "{} · {} · {:.1} GiB RAM · {} CPUs",
            sys.os,
            sys.arch,
            sys.memory_bytes as f64 / (1u64 << 30) as f64,
            sys.cpus
        );
    }
    // Missing essentials make the doctor fail so scripts can gate on it.
    let missing = report
        .checks
        .iter()
        .any(|c| c.status == CheckStatus::Missing);
    Ok(if missing {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
