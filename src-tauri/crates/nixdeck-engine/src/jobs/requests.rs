//! Building the [`JobRequest`]s of nixdeck's four jobs from the repository's
//! hosts and the user's choices: the same plans `nixdeck plan` prints, plus
//! the secret files they need.

use super::secret::SecretFile;
use super::{AfterSuccess, JobError, JobKind, JobRequest};
use crate::host_key::NewHostKey;
use crate::runner::DEFAULT_GRACE;
use crate::ssh::Secret;
use nixdeck_core::tools::plan::{
    self, DeployOptions, DiskEncryptionKey, HostTarget, InstallOptions, ToolSettings,
};
use nixdeck_core::tools::rollback::{self, RollbackTo, SshClientOptions};
use nixdeck_core::tools::selection::{self, SelectionError};
use nixdeck_core::tools::watchdog::WatchdogConfig;
use std::path::Path;
use std::time::Duration;

/// Silence after which a job reports itself stalled.
pub const STALL_AFTER: Duration = Duration::from_secs(120);

/// A LUKS passphrase for `--disk-encryption-keys`: written to a private temp
/// file whose path (never the passphrase) goes on the command line, once for
/// each place on the target the layout reads it from.
pub struct LuksPassphrase {
    /// Where disko expects it on the target (`/tmp/secret.key`): each LUKS
    /// volume's `passwordFile` or `settings.keyFile`.
    pub remote_paths: Vec<String>,
    pub passphrase: Secret,
}

impl std::fmt::Debug for LuksPassphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LuksPassphrase")
            .field("remote_paths", &self.remote_paths)
            .field("passphrase", &plan::REDACTED)
            .finish()
    }
}

/// The secrets an install carries besides its command line.
#[derive(Debug, Default)]
pub struct InstallSecrets {
    /// Written to a 0600 file, given with `--disk-encryption-keys`.
    pub luks: Option<LuksPassphrase>,
    /// The SSH login password: `SSHPASS` in the tool's environment and
    /// `--env-password`, never an argument.
    pub ssh_password: Option<Secret>,
    /// The new system's host key, given with `--extra-files`; its directory
    /// goes when the job ends.
    pub host_key: Option<NewHostKey>,
    /// What to do once the install succeeded (record the host key).
    pub after_success: Option<AfterSuccess>,
}

fn request(
    kind: JobKind,
    hosts: Vec<String>,
    command: plan::CommandLine,
    repo: &Path,
) -> JobRequest {
    JobRequest {
        kind,
        hosts,
        command,
        cwd: repo.to_path_buf(),
        secret_files: Vec::new(),
        secret_dirs: Vec::new(),
        after_success: None,
        // Installs and deploys have a watchdog with per-step limits; plain
        // nix runs get a plain silence timer.
        stall_after: (!kind.is_exclusive()).then_some(STALL_AFTER),
        grace: DEFAULT_GRACE,
        watchdog: WatchdogConfig::default(),
        tools: Vec::new(),
    }
}

/// How `tool` is described for `repo` now. An unreadable flake.lock gives no
/// description rather than no job: nix reports the damaged lock itself.
fn tool_descriptions(settings: &ToolSettings, repo: &Path, tool: &str) -> Vec<String> {
    crate::tools::tool_versions(settings, repo)
        .map(|tools| {
            tools
                .into_iter()
                .filter(|t| t.tool == tool)
                .map(|t| t.summary)
                .collect()
        })
        .unwrap_or_default()
}

/// `nix flake lock` in `repo`.
pub fn lock_request(settings: &ToolSettings, repo: &Path) -> JobRequest {
    request(
        JobKind::Lock,
        Vec::new(),
        plan::lock_command(settings),
        repo,
    )
}

/// `nix build` of `host`'s toplevel in `repo`.
pub fn validate_request(
    settings: &ToolSettings,
    repo: &Path,
    host: &str,
) -> Result<JobRequest, JobError> {
    let command = plan::validate_command(settings, host)?;
    Ok(request(
        JobKind::Validate,
        vec![host.to_string()],
        command,
        repo,
    ))
}

/// nixos-anywhere for `host` with `secrets`: a LUKS passphrase written to a
/// secret file, the SSH password in the environment, the new system's host key
/// as extra files.
pub fn install_request(
    settings: &ToolSettings,
    repo: &Path,
    host: &HostTarget,
    options: &InstallOptions,
    secrets: Option<InstallSecrets>,
) -> Result<JobRequest, JobError> {
    let secrets = secrets.unwrap_or_default();
    let mut options = options.clone();
    let mut secret_files = Vec::new();
    let mut secret_dirs = Vec::new();
    if let Some(luks) = &secrets.luks {
        let file =
            SecretFile::create(luks.passphrase.expose().as_bytes()).map_err(JobError::Secret)?;
        for remote in &luks.remote_paths {
            options.disk_encryption_keys.push(DiskEncryptionKey {
                remote_path: remote.clone(),
                local_file: file.path().to_string_lossy().into_owned(),
            });
        }
        secret_files.push(file);
    }
    if let Some(key) = secrets.host_key {
        options.extra_files = Some(key.root().to_string_lossy().into_owned());
        secret_dirs.push(key.into_dir());
    }
    options.env_password |= secrets.ssh_password.is_some();
    let mut command = plan::install_command(settings, host, &options)?;
    if let Some(password) = &secrets.ssh_password {
        command.secret_env("SSHPASS", password.expose());
    }
    let mut req = request(JobKind::Install, vec![host.name.clone()], command, repo);
    req.secret_files = secret_files;
    req.tools = tool_descriptions(settings, repo, "nixos-anywhere");
    req.secret_dirs = secret_dirs;
    req.after_success = secrets.after_success;
    Ok(req)
}

/// The hosts `filter` selects among `hosts` (colmena's `--on`; every host when
/// there is no filter), in the repository's order.
pub fn select_hosts(
    hosts: &[HostTarget],
    filter: Option<&str>,
) -> Result<Vec<String>, SelectionError> {
    match filter {
        None => Ok(hosts.iter().map(|h| h.name.clone()).collect()),
        Some(filter) => selection::select(
            filter,
            hosts.iter().map(|h| (h.name.as_str(), h.tags.as_slice())),
        ),
    }
}

/// colmena apply over the hosts `options.on` selects; refuses a filter that
/// selects nothing, since colmena would then do nothing and call it success.
/// A pinned colmena comes from the repository's `colmena` input, or from its
/// pinned nixpkgs when `flake.lock` has no such input.
pub fn deploy_request(
    settings: &ToolSettings,
    repo: &Path,
    hosts: &[HostTarget],
    options: &DeployOptions,
) -> Result<JobRequest, JobError> {
    let pin = crate::tools::colmena_pin(repo);
    let command = plan::deploy_command_for(settings, pin, options)?;
    let selected =
        select_hosts(hosts, options.on.as_deref()).map_err(|e| JobError::DeployPlan(e.into()))?;
    if selected.is_empty() {
        return Err(JobError::NothingSelected(
            options.on.clone().unwrap_or_default(),
        ));
    }
    // colmena reads the settings from the flake itself: a selected host whose
    // settings fail the typed rules is not deployed at all.
    for host in hosts.iter().filter(|h| selected.contains(&h.name)) {
        plan::check_target(host)?;
    }
    let mut req = request(JobKind::Deploy, selected, command, repo);
    req.tools = tool_descriptions(settings, repo, "colmena");
    Ok(req)
}

/// A rollback of `host` to `to` over OpenSSH (see
/// [`nixdeck_core::tools::rollback::rollback_command`]), run in `repo` like
/// every job of that repository. Check the choice first with
/// [`nixdeck_core::tools::rollback::check_rollback`] on a fresh status.
pub fn rollback_request(
    repo: &Path,
    host: &HostTarget,
    to: RollbackTo,
    ssh: &SshClientOptions,
) -> Result<JobRequest, JobError> {
    let command = rollback::rollback_command(host, to, ssh)?;
    let mut req = request(JobKind::Rollback, vec![host.name.clone()], command, repo);
    // switch-to-configuration restarts units and can be quiet for a while.
    req.stall_after = Some(STALL_AFTER);
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, tags: &[&str]) -> HostTarget {
        HostTarget {
            name: name.into(),
            address: format!("{name}.example"),
            user: "root".into(),
            port: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            build_on_target: false,
        }
    }

    #[test]
    fn luks_passphrase_goes_to_a_file_not_the_argv() {
        let luks = LuksPassphrase {
            remote_paths: vec!["/tmp/secret.key".into(), "/tmp/other.key".into()],
            passphrase: Secret::new("s3cret-pass"),
        };
        assert!(!format!("{luks:?}").contains("s3cret"));
        let req = install_request(
            &ToolSettings::default(),
            Path::new("/repo"),
            &host("db1", &[]),
            &InstallOptions::default(),
            Some(InstallSecrets {
                luks: Some(luks),
                ssh_password: Some(Secret::new("pw-for-rescue")),
                ..Default::default()
            }),
        )
        .unwrap();
        let argv = req.command.argv();
        assert!(!argv.iter().any(|a| a.contains("s3cret")));
        assert!(!argv.iter().any(|a| a.contains("pw-for-rescue")));
        assert!(argv.iter().any(|a| a == "--env-password"));
        assert_eq!(req.command.env.len(), 1);
        assert_eq!(req.command.env[0].name, "SSHPASS");
        assert!(!format!("{req:?}").contains("pw-for-rescue"));
        assert!(!req.command.to_string().contains("pw-for-rescue"));
        let at = argv
            .iter()
            .position(|a| a == "--disk-encryption-keys")
            .unwrap();
        assert_eq!(argv[at + 1], "/tmp/secret.key");
        assert_eq!(argv[at + 4], "/tmp/other.key");
        assert_eq!(argv[at + 2], argv[at + 5], "one file for both");
        let file = Path::new(&argv[at + 2]).to_path_buf();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "s3cret-pass");
        drop(req);
        assert!(!file.exists(), "the secret file goes with the request");
    }

    #[test]
    fn deploy_selects_hosts_and_refuses_empty_selections() {
        let hosts = [
            host("web1", &["web"]),
            host("web2", &["web"]),
            host("db1", &["db"]),
        ];
        let repo = Path::new("/repo");
        let s = ToolSettings {
            flakes_enabled: true,
            ..ToolSettings::default()
        };
        let req = deploy_request(
            &s,
            repo,
            &hosts,
            &DeployOptions {
                on: Some("@web".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(req.hosts, ["web1", "web2"]);
        let all = deploy_request(&s, repo, &hosts, &DeployOptions::default()).unwrap();
        assert_eq!(all.hosts.len(), 3);
        let none = deploy_request(
            &s,
            repo,
            &hosts,
            &DeployOptions {
                on: Some("mail*".into()),
                ..Default::default()
            },
        );
        assert!(matches!(none, Err(JobError::NothingSelected(_))));
        let blank = deploy_request(
            &s,
            repo,
            &hosts,
            &DeployOptions {
                on: Some(" ".into()),
                ..Default::default()
            },
        );
        assert!(matches!(blank, Err(JobError::NothingSelected(_))));
        let bad = deploy_request(
            &s,
            repo,
            &hosts,
            &DeployOptions {
                on: Some("web,".into()),
                ..Default::default()
            },
        );
        assert!(matches!(bad, Err(JobError::DeployPlan(_))));
    }

    #[test]
    fn a_pinned_deploy_takes_colmena_from_what_the_lock_holds() {
        let repo = tempfile::tempdir().unwrap();
        let hosts = [host("web1", &[])];
        let s = ToolSettings {
            flakes_enabled: true,
            ..ToolSettings::default()
        };
        let argv = |repo: &Path| {
            deploy_request(&s, repo, &hosts, &DeployOptions::default())
                .unwrap()
                .command
                .argv()
        };
        // No lock yet: the colmena input every new repository has.
        assert_eq!(
            argv(repo.path())[..6],
            ["nix", "run", "--inputs-from", ".", "colmena#colmena", "--"]
        );
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/locks/no-colmena.lock");
        std::fs::copy(fixture, repo.path().join("flake.lock")).unwrap();
        assert_eq!(
            argv(repo.path())[..6],
            ["nix", "run", "--inputs-from", ".", "nixpkgs#colmena", "--"]
        );
        let req = deploy_request(&s, repo.path(), &hosts, &DeployOptions::default()).unwrap();
        assert_eq!(req.tools.len(), 1, "{:?}", req.tools);
        assert!(
            req.tools[0].starts_with("colmena from nixpkgs "),
            "the job says which colmena the lock pins: {:?}",
            req.tools
        );
    }
}
