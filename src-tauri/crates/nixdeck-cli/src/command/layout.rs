//! `nixdeck layout …`: import a `disko.nix` into nixdeck's JSON model, render the
//! model back to `disko.nix`, validate it against a probed host, say in words what
//! it does, print templates.

use anyhow::{bail, Context};
use nixdeck_api::repos::repo_dir;
use nixdeck_core::disko::{self, templates, DiskLayout, Severity};
use nixdeck_core::facts::{BootMode, HostFacts};
use nixdeck_engine::disko_file::{self, LoadOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LayoutCommand {
    /// Print a `disko.nix` (or its evaluated `.json`) as nixdeck's JSON layout model.
    Import {
        /// A `.nix` file, or `.json` from `nix-instantiate --eval --strict --json`.
        file: PathBuf,
        /// A nixpkgs source tree whose `lib` to give files that are functions
        /// (default: the nixpkgs locked by the enclosing flake, when it is in the store).
        #[arg(long)]
        nixpkgs: Option<PathBuf>,
    },
    /// Print `disko.nix` for a layout in nixdeck's JSON model (or a `.nix` file).
    Render {
        /// The layout: `.json` (nixdeck's model or evaluated disko JSON) or `.nix`.
        file: PathBuf,
    },
    /// Check a layout, optionally against a probed host; exits 1 when there are errors.
    Validate {
        /// The layout: `.json` or `.nix`.
        file: PathBuf,
        /// The host's facts as `nixdeck probe` saved them (JSON).
        #[arg(long)]
        facts: Option<PathBuf>,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Say in plain words what a layout will put on each disk, array, volume group
    /// and pool.
    Summary {
        /// The layout: `.json` or `.nix`.
        file: PathBuf,
        /// The host's facts as `nixdeck probe` saved them (JSON): adds each disk's
        /// model and size.
        #[arg(long)]
        facts: Option<PathBuf>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What applying FILE as HOST's layout would mean for the installed host: a
    /// reinstall that erases its disks, or additions disko can make in place.
    Changes {
        /// The repository (the flake's directory).
        dir: PathBuf,
        /// The host whose `hosts/<host>/disko.nix` is the layout it has now.
        host: String,
        /// The edited layout: `.json` or `.nix`.
        file: PathBuf,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The host's disks as probed beside its `disko.nix`, differences called out;
    /// exits 1 when there are any.
    Check {
        /// The repository (the flake's directory).
        dir: PathBuf,
        /// The host.
        host: String,
        /// Probe the host over SSH first (else the last probe is used).
        #[arg(long)]
        reprobe: bool,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a template layout for the given disks (as JSON, or `disko.nix` with --nix).
    Template {
        /// Template name (see --list).
        #[arg(required_unless_present = "list")]
        name: Option<String>,
        /// A disk to use, e.g. /dev/disk/by-id/…; repeat for two-disk templates.
        #[arg(long = "disk", value_name = "DEV")]
        disks: Vec<String>,
        /// The machine's boot mode.
        #[arg(long, value_enum, default_value = "uefi")]
        boot: Boot,
        /// Print `disko.nix` instead of the JSON model.
        #[arg(long)]
        nix: bool,
        /// List the templates.
        #[arg(long)]
        list: bool,
    },
}

/// Boot mode on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Boot {
    Uefi,
    Bios,
}

pub async fn run(command: LayoutCommand) -> anyhow::Result<ExitCode> {
    match command {
        LayoutCommand::Import { file, nixpkgs } => {
            let options = match nixpkgs {
                Some(dir) => LoadOptions { nixpkgs: Some(dir) },
                None => LoadOptions::for_file(&file),
            };
            let layout = disko_file::load(&file, &options).await?;
            print_json(&layout)?;
        }
        LayoutCommand::Render { file } => {
            let layout = load(&file).await?;
            print!("{}", disko::render(&layout));
        }
        LayoutCommand::Validate { file, facts, json } => {
            let layout = load(&file).await?;
            let facts = match facts {
                Some(path) => Some(read_facts(&path)?),
                None => None,
            };
            let findings = disko::validate(&layout, facts.as_ref());
            if json {
                println!("{}", serde_json::to_string_pretty(&findings)?);
            } else if findings.is_empty() {
                println!("no problems found");
            } else {
                for d in &findings {
                    let severity = match d.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    };
                    println!("{severity}: {}: {}", d.path, d.message);
                }
            }
            if findings.iter().any(|d| d.severity == Severity::Error) {
                return Ok(ExitCode::FAILURE);
            }
        }
        LayoutCommand::Summary { file, facts, json } => {
            let layout = load(&file).await?;
            let facts = match facts {
                Some(path) => Some(read_facts(&path)?),
                None => None,
            };
            let summary = disko::summary(&layout, facts.as_ref());
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{summary}");
            }
        }
        LayoutCommand::Changes {
            dir,
            host,
            file,
            json,
        } => {
            let repo = repo_dir(&dir)?;
            let layout = disko::to_json(&load(&file).await?);
            let plan = super::jobrun::api()
                .plan_layout_save(&repo, &host, &layout)
                .await?;
            let changes = plan.changes;
            if json {
                println!("{}", serde_json::to_string_pretty(&changes)?);
            } else {
                println!("{}", changes.statement);
                for c in &changes.changes {
                    println!("  {} {}", if c.erases { "!" } else { "+" }, c.text);
                }
                if let Some(how) = &changes.how {
                    println!("{how}");
                }
            }
        }
        LayoutCommand::Check {
            dir,
            host,
            reprobe,
            json,
        } => {
            let repo = repo_dir(&dir)?;
            let view = super::jobrun::api()
                .disk_check(&repo, &host, reprobe)
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                println!("{}", view.verdict);
                for r in &view.check.rows {
                    let name = match &r.partition {
                        Some(p) => format!("  {p}"),
                        None => r.disk.clone(),
                    };
                    println!("{name:<14} layout: {:<28} found: {}", r.expected, r.found);
                    for d in &r.differences {
                        println!("{:<14} ! {d}", "");
                    }
                }
            }
            if !view.check.differences.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        LayoutCommand::Template {
            name,
            disks,
            boot,
            nix,
            list,
        } => {
            if list {
                for t in templates::templates() {
                    println!("{:<12} {} disk(s)  {}", t.name, t.disks, t.description);
                }
                return Ok(ExitCode::SUCCESS);
            }
            let Some(name) = name else {
                bail!("give a template name, or --list")
            };
            let boot = match boot {
                Boot::Uefi => BootMode::Uefi,
                Boot::Bios => BootMode::Bios,
            };
            let layout = templates::instantiate(&name, &disks, boot)?;
            if nix {
                print!("{}", disko::render(&layout));
            } else {
                print_json(&layout)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn load(file: &Path) -> anyhow::Result<DiskLayout> {
    Ok(disko_file::load(file, &LoadOptions::for_file(file)).await?)
}

fn read_facts(path: &Path) -> anyhow::Result<HostFacts> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the facts", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not host facts as `nixdeck probe` writes them",
            path.display()
        )
    })
}

fn print_json(layout: &DiskLayout) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(layout)?);
    Ok(())
}
