//! nixdeck's workflows: one async function per user action, shared by the window
//! (the Tauri commands only translate) and the command line (`nixdeck <sub>`), so
//! the two can never disagree about a rule. No Tauri types here.
//!
//! [`Api`] holds what lives as long as the program: the data directory, the
//! remembered repositories and the job manager. Each module adds the actions of
//! one area to it; errors are [`ApiError`]s with a hint written once.
#![deny(missing_docs)]

pub mod access;
pub mod delta;
pub mod deploy;
pub mod doctor;
pub mod error;
pub mod host_page;
pub mod hosts;
pub mod install;
pub mod install_secrets;
pub mod jobs;
pub mod layouts;
pub mod probe;
pub mod repos;
pub mod status;
pub mod targets;

pub use error::{ApiError, ApiResult, ErrorCode};

use nixdeck_engine::jobs::JobManager;
use nixdeck_engine::recent::RecentRepos;
use std::path::{Path, PathBuf};

/// The workflows of one nixdeck: its data directory, recent repositories and jobs.
pub struct Api {
    data_dir: PathBuf,
    recent: RecentRepos,
    jobs: Result<JobManager, String>,
    ssh: SshFiles,
    /// New systems' host keys made for a review, until their install starts.
    prepared_host_keys: install_secrets::PreparedHostKeys,
    /// The layout editor's last views, for answers that carry what changed.
    sent_views: layouts::SentViews,
}

/// The OpenSSH files nixdeck's own connections read; `None` is OpenSSH's
/// default (`~/.ssh/known_hosts`, `~/.ssh/config`).
#[derive(Debug, Clone, Default)]
pub struct SshFiles {
    /// known_hosts to check and record host keys in.
    pub known_hosts: Option<PathBuf>,
    /// ssh_config to resolve host aliases with.
    pub ssh_config: Option<PathBuf>,
}

impl SshFiles {
    /// The files named by `NIXDECK_KNOWN_HOSTS` and `NIXDECK_SSH_CONFIG`, as
    /// `NIXDECK_DATA_DIR` names the data directory: the window has no
    /// `--known-hosts`, and OpenSSH's `ssh` (rollback) finds `~/.ssh` through
    /// the password database, not `$HOME`, so a separate setup needs these.
    pub fn from_env() -> Self {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            known_hosts: path("NIXDECK_KNOWN_HOSTS"),
            ssh_config: path("NIXDECK_SSH_CONFIG"),
        }
    }
}

impl Api {
    /// Opens nixdeck's state in `data_dir`. A job store that cannot be opened is
    /// reported on first use, so the rest of the app still works.
    pub fn open(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            recent: RecentRepos::new(data_dir),
            jobs: JobManager::open(data_dir).map_err(|e| e.to_string()),
            ssh: SshFiles::default(),
            prepared_host_keys: Default::default(),
            sent_views: Default::default(),
        }
    }

    /// The same, with nixdeck's SSH connections reading `files` (a command line's
    /// `--known-hosts`, tests' throw-away files).
    pub fn with_ssh_files(mut self, files: SshFiles) -> Self {
        self.ssh = files;
        self
    }

    /// Connection options for nixdeck's own SSH: `auth` and `host_keys` as given,
    /// the files as configured.
    pub(crate) fn connect_options(
        &self,
        auth: nixdeck_engine::ssh::Auth,
        host_keys: nixdeck_engine::ssh::HostKeyPolicy,
    ) -> nixdeck_engine::ssh::ConnectOptions {
        nixdeck_engine::ssh::ConnectOptions {
            auth,
            host_keys,
            known_hosts: self.ssh.known_hosts.clone(),
            ssh_config: self.ssh.ssh_config.clone(),
            ..Default::default()
        }
    }

    /// The known_hosts file nixdeck's connections use.
    pub(crate) fn known_hosts_path(&self) -> Option<PathBuf> {
        self.ssh
            .known_hosts
            .clone()
            .or_else(nixdeck_engine::ssh::known_hosts::KnownHosts::default_path)
    }

    /// Opens the state in nixdeck's one data directory
    /// ([`nixdeck_engine::paths::data_dir`]).
    /// The SSH files come from the environment ([`SshFiles::from_env`]).
    pub fn open_default() -> Self {
        Self::open(&nixdeck_engine::paths::data_dir()).with_ssh_files(SshFiles::from_env())
    }

    /// Where this nixdeck keeps its state.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The job manager, or why it is unavailable.
    pub fn jobs(&self) -> ApiResult<&JobManager> {
        self.jobs.as_ref().map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("the job history is unavailable: {e}"),
            )
            .with_hint("Check that nixdeck's data directory is writable (NIXDECK_DATA_DIR).")
        })
    }
}
