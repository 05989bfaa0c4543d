//! Day two: `nixdeck status DIR [--on SEL]` (what each host runs, and whether
//! the flake says so), `nixdeck generations DIR HOST` and `nixdeck rollback
//! DIR HOST [--to N] --confirm HOST`.

use super::jobrun;
use nixdeck_api::repos::repo_dir;
use nixdeck_api::status::{GenerationsView, HostRow};
use nixdeck_api::{Api, SshFiles};
use nixdeck_core::tools::rollback::RollbackTo;
use std::path::PathBuf;
use std::process::ExitCode;

/// Which OpenSSH files nixdeck's own connections read.
#[derive(Debug, Clone, clap::Args)]
pub struct SshFileArgs {
    /// Check host keys against this file instead of ~/.ssh/known_hosts.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Read this ssh_config instead of ~/.ssh/config.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
}

impl SshFileArgs {
    fn api(&self) -> Api {
        jobrun::api().with_ssh_files(SshFiles {
            known_hosts: self.known_hosts.clone(),
            ssh_config: self.ssh_config.clone(),
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The repository (the flake's directory).
    pub dir: PathBuf,
    /// colmena's --on: host names, @tags and globs, comma-separated (default: every host).
    #[arg(long, value_name = "FILTER")]
    pub on: Option<String>,
    /// Print the rows as JSON (and nothing while they come).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ssh: SshFileArgs,
}

#[derive(Debug, clap::Args)]
pub struct GenerationsArgs {
    /// The repository (the flake's directory).
    pub dir: PathBuf,
    /// The host.
    pub host: String,
    /// Print the generations as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ssh: SshFileArgs,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The repository (the flake's directory).
    pub dir: PathBuf,
    /// The host.
    pub host: String,
    /// The generation to switch to (default: the one before the profile's).
    #[arg(long, value_name = "N")]
    pub to: Option<u32>,
    /// The host's name typed again: a rollback switches the running system now.
    #[arg(long, value_name = "HOST", default_value = "")]
    pub confirm: String,
    #[command(flatten)]
    pub ssh: SshFileArgs,
}

fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

/// `12d 3h`, `3h 20m`, `5m`: enough to see a recent reboot.
fn uptime(secs: Option<u64>) -> String {
    let Some(s) = secs else {
        return "-".into();
    };
    let (days, hours, minutes) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else {
        format!("{minutes}m")
    }
}

fn progress_line(row: &HostRow) -> String {
    match &row.error {
        Some(e) => format!("{}: unreachable: {}", row.host, e.message),
        None => format!(
            "{}: {} ({})",
            row.host,
            or_dash(row.nixos_version.as_deref()),
            row.drift.label
        ),
    }
}

fn print_table(rows: &[HostRow]) {
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.host.clone(),
                if r.reachable { "yes" } else { "no" }.into(),
                or_dash(r.nixos_version.as_deref()).into(),
                if r.reboot_pending { "pending" } else { "-" }.into(),
                uptime(r.uptime_secs),
                r.last_job.as_ref().map_or_else(
                    || "-".into(),
                    |j| format!("#{} {} {}", j.id, j.kind.as_str(), j.result.as_str()),
                ),
            ]
        })
        .collect();
    let head = ["HOST", "UP", "NIXOS", "REBOOT", "UPTIME", "LAST JOB"];
    let mut widths = head.map(str::len);
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}  DRIFT", line(&head.map(String::from)));
    for (row, r) in table.iter().zip(rows) {
        println!("{}  {}", line(row), r.drift.label);
    }
    for r in rows {
        if let Some(e) = &r.error {
            let hint = e
                .hint
                .as_deref()
                .map(|h| format!(" {h}"))
                .unwrap_or_default();
            println!("{}: {}{hint}", r.host, e.message);
        }
    }
}

pub async fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let repo = repo_dir(&args.dir)?;
    let api = args.ssh.api();
    let json = args.json;
    let rows = api
        .fleet_status(&repo, args.on.as_deref(), move |row| {
            if !json {
                eprintln!("{}", progress_line(row));
            }
        })
        .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&rows);
    }
    // Unreachable hosts are a finding, not a failure of the command.
    Ok(ExitCode::SUCCESS)
}

fn print_generations(view: &GenerationsView) {
    println!(
        "{}: {}{}",
        view.host,
        or_dash(view.nixos_version.as_deref()),
        if view.reboot_pending {
            " (reboot pending)"
        } else {
            ""
        }
    );
    for g in &view.generations {
        let mut marks = Vec::new();
        if g.current {
            marks.push("current");
        }
        if g.booted {
            marks.push("booted");
        }
        if g.profile {
            marks.push("next boot");
        }
        println!(
            "{:>5}  {}  {}  {}",
            g.number,
            or_dash(g.nixos_version.as_deref()),
            g.store_path,
            marks.join(", ")
        );
    }
    for w in &view.warnings {
        println!("note: {w}");
    }
}

pub async fn generations(args: GenerationsArgs) -> anyhow::Result<ExitCode> {
    let repo = repo_dir(&args.dir)?;
    let view = args.ssh.api().generations(&repo, &args.host).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print_generations(&view);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn rollback(args: RollbackArgs) -> anyhow::Result<ExitCode> {
    let repo = repo_dir(&args.dir)?;
    let api = args.ssh.api();
    let to = args.to.map_or(RollbackTo::Previous, RollbackTo::Generation);
    let started = api
        .start_rollback(
            &repo,
            &args.host,
            to,
            &args.confirm,
            Some(jobrun::terminal_sink()),
        )
        .await?;
    jobrun::follow(&api, started).await
}
