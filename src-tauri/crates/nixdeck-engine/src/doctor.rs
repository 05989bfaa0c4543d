//! The "doctor": what the local machine has for nixdeck's workflow (nix and its
//! version, flakes, git, an ssh-agent and its keys, OS, architecture, memory),
//! each check with what to do when it is missing; for a repository, also which
//! nixos-anywhere and colmena its jobs run ([`run_for_repo`]).

use nixdeck_core::tools::pins::Pinning;
use nixdeck_core::tools::plan::{ToolSettings, ToolSource};
use serde::Serialize;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    /// Works, but something the workflow wants is off (flakes disabled, no keys).
    Warning,
    Missing,
}

/// One line of the doctor panel.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Check {
    /// Stable id for the UI and tests (`nix`, `flakes`, `git`, `ssh_agent`).
    pub id: &'static str,
    pub label: &'static str,
    pub status: CheckStatus,
    /// What was found, e.g. `nix (Nix) 2.8.0` or `2 keys`.
    pub detail: String,
    /// What to do about it, when it is not ok.
    pub fix: Option<String>,
}

/// The local machine as sysinfo sees it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LocalSystem {
    pub os: String,
    pub arch: String,
    pub memory_bytes: u64,
    pub cpus: usize,
}

/// Everything the doctor panel shows.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DoctorReport {
    pub checks: Vec<Check>,
    pub system: LocalSystem,
}

impl DoctorReport {
    /// Whether flakes are enabled in the local nix (false when nix is missing).
    pub fn flakes_enabled(&self) -> bool {
        self.checks
            .iter()
            .any(|c| c.id == "flakes" && c.status == CheckStatus::Ok)
    }
}

/// Runs every check, concurrently; never fails: a check that cannot run reports so.
pub async fn run() -> DoctorReport {
    let (nix, flakes, git, agent) =
        tokio::join!(check_nix(), check_flakes(), check_git(), check_agent());
    DoctorReport {
        checks: vec![nix, flakes, git, agent],
        system: local_system(),
    }
}

/// [`run`], then one check per tool a job in `repo` runs with `settings`: which
/// version, and whether `flake.lock` pins it (`nixos_anywhere`, `colmena`; or
/// `flake_lock` when the lock cannot be read).
pub async fn run_for_repo(settings: &ToolSettings, repo: &Path) -> DoctorReport {
    let mut report = run().await;
    report.checks.extend(tool_checks(settings, repo));
    report
}

/// The doctor's lines for the tools of `repo`.
pub fn tool_checks(settings: &ToolSettings, repo: &Path) -> Vec<Check> {
    let tools = match crate::tools::tool_versions(settings, repo) {
        Ok(tools) => tools,
        Err(e) => {
            return vec![Check {
                id: "flake_lock",
                label: "flake.lock",
                status: CheckStatus::Warning,
                detail: e.to_string(),
                fix: Some(
                    "Run `nix flake lock` in the repository; until then nix decides the tool versions on each run."
                        .into(),
                ),
            }]
        }
    };
    tools
        .into_iter()
        .map(|tool| {
            let found = settings.tool_source() != ToolSource::Path
                || crate::tools::find_on_path(tool.tool).is_some();
            let status = match (found, tool.pinning) {
                (false, _) => CheckStatus::Missing,
                (true, Pinning::Pinned) if tool.note.is_none() => CheckStatus::Ok,
                _ => CheckStatus::Warning,
            };
            let (id, label) = match tool.tool {
                "nixos-anywhere" => ("nixos_anywhere", "nixos-anywhere"),
                _ => ("colmena", "colmena"),
            };
            Check {
                id,
                label,
                status,
                detail: tool.summary,
                fix: tool.note,
            }
        })
        .collect()
}

/// Output of a short command: `Some((exit code, stdout, stderr))`, `None` when it could not start.
async fn capture(program: &str, args: &[&str]) -> Option<(i32, String, String)> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    // A wedged nix daemon or agent must not hang the start screen.
    let output = tokio::time::timeout(Duration::from_secs(10), child)
        .await
        .ok()?
        .ok()?;
    Some((
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    ))
}

async fn check_nix() -> Check {
    match capture("nix", &["--version"]).await {
        Some((0, version, _)) => Check {
            id: "nix",
            label: "Nix",
            status: CheckStatus::Ok,
            detail: version,
            fix: None,
        },
        _ => Check {
            id: "nix",
            label: "Nix",
            status: CheckStatus::Missing,
            detail: "not found on PATH".into(),
            fix: Some(
                "Install Nix (https://nixos.org/download, or `apt install nix-bin` on Debian); nixdeck runs nix, nixos-anywhere and colmena through it."
                    .into(),
            ),
        },
    }
}

/// `builtins.getFlake` exists exactly when the flakes feature is on, in every Nix
/// version, so asking for it avoids parsing `nix.conf` files and `NIX_CONFIG`.
async fn check_flakes() -> Check {
    let probe = capture(
        "nix-instantiate",
        &["--eval", "--expr", "builtins ? getFlake"],
    )
    .await;
    let fix = "Add `experimental-features = nix-command flakes` to ~/.config/nix/nix.conf or /etc/nix/nix.conf. Until then nixdeck passes `--extra-experimental-features 'nix-command flakes'` on every command.";
    match probe {
        Some((0, out, _)) if out == "true" => Check {
            id: "flakes",
            label: "Flakes",
            status: CheckStatus::Ok,
            detail: "enabled".into(),
            fix: None,
        },
        Some((0, _, _)) => Check {
            id: "flakes",
            label: "Flakes",
            status: CheckStatus::Warning,
            detail: "not enabled".into(),
            fix: Some(fix.into()),
        },
        _ => Check {
            id: "flakes",
            label: "Flakes",
            status: CheckStatus::Missing,
            detail: "cannot tell without Nix".into(),
            fix: Some("Install Nix first.".into()),
        },
    }
}

async fn check_git() -> Check {
    match capture("git", &["--version"]).await {
        Some((0, version, _)) => Check {
            id: "git",
            label: "Git",
            status: CheckStatus::Ok,
            detail: version,
            fix: None,
        },
        _ => Check {
            id: "git",
            label: "Git",
            status: CheckStatus::Missing,
            detail: "not found on PATH".into(),
            fix: Some(
                "Install git (`apt install git`): a flake only sees files that git knows.".into(),
            ),
        },
    }
}

async fn check_agent() -> Check {
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Check {
            id: "ssh_agent",
            label: "SSH agent",
            status: CheckStatus::Warning,
            detail: "no agent (SSH_AUTH_SOCK is not set)".into(),
            fix: Some(
                "Start one (`eval $(ssh-agent)`) and add your key (`ssh-add`): colmena never asks for passwords, it needs a key in an agent or a key file."
                    .into(),
            ),
        };
    }
    match capture("ssh-add", &["-l"]).await {
        Some((0, out, _)) => {
            let keys = out.lines().filter(|l| !l.trim().is_empty()).count();
            Check {
                id: "ssh_agent",
                label: "SSH agent",
                status: CheckStatus::Ok,
                detail: format!("{keys} key{}", if keys == 1 { "" } else { "s" }),
                fix: None,
            }
        }
        // ssh-add -l exits 1 when the agent holds no identities.
        Some((1, _, _)) => Check {
            id: "ssh_agent",
            label: "SSH agent",
            status: CheckStatus::Warning,
            detail: "running, no keys".into(),
            fix: Some("Add your key with `ssh-add ~/.ssh/id_ed25519` (or your key's path).".into()),
        },
        Some((_, _, err)) => Check {
            id: "ssh_agent",
            label: "SSH agent",
            status: CheckStatus::Warning,
            detail: if err.is_empty() {
                "not reachable".into()
            } else {
                err
            },
            fix: Some(
                "Restart the agent (`eval $(ssh-agent)`) and add your key with `ssh-add`.".into(),
            ),
        },
        None => Check {
            id: "ssh_agent",
            label: "SSH agent",
            status: CheckStatus::Warning,
            detail: "ssh-add not found".into(),
            fix: Some("Install OpenSSH's client tools (`apt install openssh-client`).".into()),
        },
    }
}

fn local_system() -> LocalSystem {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    let os = sysinfo::System::long_os_version()
        .or_else(sysinfo::System::name)
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    LocalSystem {
        os,
        arch: sysinfo::System::cpu_arch(),
        memory_bytes: sys.total_memory(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/locks")
            .join(name)
    }

    #[test]
    fn tool_checks_say_what_the_lock_pins() {
        let repo = tempfile::tempdir().unwrap();
        let settings = ToolSettings::default();
        std::fs::copy(lock_fixture("article.lock"), repo.path().join("flake.lock")).unwrap();
        let checks = tool_checks(&settings, repo.path());
        let ids: Vec<_> = checks.iter().map(|c| (c.id, c.status)).collect();
        // The article's lock pins both, but its colmena input is the old repository.
        assert_eq!(
            ids,
            [
                ("nixos_anywhere", CheckStatus::Ok),
                ("colmena", CheckStatus::Warning)
            ]
        );
        assert_eq!(
            checks[0].detail,
            "nixos-anywhere from nixpkgs 2025-05-28 (3f0a8ac)"
        );
        assert!(checks[1]
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("nix-community/colmena")));

        let article = ToolSettings {
            source: ToolSource::Article,
            ..ToolSettings::default()
        };
        assert!(tool_checks(&article, repo.path())
            .iter()
            .all(|c| c.status == CheckStatus::Warning));

        std::fs::write(repo.path().join("flake.lock"), r#"{"version": 99}"#).unwrap();
        let damaged = tool_checks(&settings, repo.path());
        assert_eq!(damaged.len(), 1);
        assert_eq!(damaged[0].id, "flake_lock");
        assert!(
            damaged[0].detail.contains("version 99"),
            "{}",
            damaged[0].detail
        );
    }
}
