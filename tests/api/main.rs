//! nixdeck-api, tested as the window and the command line use it: plain
//! `#[tokio::test]`s against a real sshd on 127.0.0.1, loop disks, real
//! `nix-instantiate` and git, and the stand-in nix/nixos-anywhere/colmena
//! (`tests/fixtures/standins`, first on PATH). One module per API module.
//!
//! The product finds its tools on PATH and every nix it runs records itself in
//! the one `NIXDECK_STANDIN_RECORD` of this process, so the tests run one at a
//! time (`-- --test-threads=1`, as scripts/nixdeck.sh runs them).

mod deploy;
mod host_page;
mod hosts;
mod install;
mod jobs;
mod layouts;
mod probe;
mod repos;
mod status;

use nixdeck_api::hosts::NewHost;
use nixdeck_api::{Api, SshFiles};
use nixdeck_core::disko::templates::instantiate;
use nixdeck_core::facts::BootMode;
use nixdeck_core::repo::{Deployment, HostName, SystemConfig};
use nixdeck_tests::fixture;
use nixdeck_tests::sshd::Sshd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Process-wide settings every test here shares: the stand-ins first on PATH
/// (the product looks tools up on PATH and never knows), quick stand-ins, a
/// git identity for commits, and a HOME whose `~/.ssh` holds the operator's
/// public key (the one the fixture fleets and [`new_host`] authorize, so the
/// check that nobody is locked out finds a way in).
fn environment() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let path = format!(
            "{}:{}",
            fixture("standins").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        std::env::set_var("PATH", path);
        std::env::set_var("NIXDECK_STANDIN_DELAY", "0.01");
        let home = std::env::temp_dir().join(format!("nixdeck-api-home-{}", std::process::id()));
        nixdeck_tests::give_operator_key(&home);
        std::env::set_var("HOME", &home);
        for (k, v) in [
            ("GIT_AUTHOR_NAME", "nixdeck tests"),
            ("GIT_AUTHOR_EMAIL", "tests@nixdeck.invalid"),
            ("GIT_COMMITTER_NAME", "nixdeck tests"),
            ("GIT_COMMITTER_EMAIL", "tests@nixdeck.invalid"),
        ] {
            std::env::set_var(k, v);
        }
    });
}

/// One test's world: a temp dir with nixdeck's data directory and an Api on it.
struct Scene {
    tmp: tempfile::TempDir,
    api: Api,
}

impl Scene {
    fn new() -> Self {
        Self::with_ssh(SshFiles::default())
    }

    /// With nixdeck's connections reading `sshd`'s known_hosts (already trusting
    /// it) and no ssh_config.
    fn trusting(sshd: &Sshd) -> Self {
        Self::with_ssh(SshFiles {
            known_hosts: Some(sshd.known_hosts_path.clone()),
            ssh_config: Some(sshd.dir.path().join("no-ssh-config")),
        })
    }

    fn with_ssh(files: SshFiles) -> Self {
        environment();
        let tmp = tempfile::tempdir().expect("tempdir");
        let api = Api::open(&tmp.path().join("data")).with_ssh_files(files);
        Self { tmp, api }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// A new repository in the article's layout, made through the API.
    async fn repo(&self) -> PathBuf {
        let root = self.path("infra");
        self.api
            .create_repo(&root, "nixos-25.05")
            .await
            .expect("create repository");
        root
    }
}

/// What the wizard sends for a host `name` reached at `sshd` (or a documentation
/// address), with the `ext4` template on `disk`.
fn new_host(repo: &Path, name: &str, sshd: Option<&Sshd>, disk: &str) -> NewHost {
    let mut deployment = Deployment::new(if sshd.is_some() {
        "127.0.0.1"
    } else {
        "192.0.2.7"
    });
    if let Some(sshd) = sshd {
        deployment.target_port = sshd.port;
    }
    let mut config = SystemConfig::new(HostName::new(name).expect("host name"));
    config.boot_mode = BootMode::Bios;
    config.authorized_keys = vec![nixdeck_tests::operator_key()];
    let layout = instantiate("ext4", &[disk.to_string()], BootMode::Bios).expect("template");
    NewHost {
        repo: repo.to_string_lossy().into_owned(),
        deployment,
        config,
        layout: nixdeck_core::disko::to_json(&layout),
        identity_file: sshd.map(|s| s.user_key_path.to_string_lossy().into_owned()),
    }
}

/// Every invocation a stand-in recorded in `record` (program, then arguments),
/// without nix's `show-config` (how nixdeck asks whether flakes are on).
fn invocations(record: &Path) -> Vec<Vec<String>> {
    nixdeck_tests::standin_invocations(record)
        .into_iter()
        .filter(|run| run.get(1).map(String::as_str) != Some("show-config"))
        .collect()
}

/// Tests that point the stand-ins at a record file share the process's
/// environment, so they take turns.
static STANDIN_ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Sets the stand-ins' record file (and scenario) while the returned guard lives.
async fn standins(record: &Path, scenario: &str) -> tokio::sync::MutexGuard<'static, ()> {
    let guard = STANDIN_ENV.lock().await;
    std::env::set_var("NIXDECK_STANDIN_RECORD", record);
    std::env::set_var("NIXDECK_STANDIN_SCENARIO", scenario);
    guard
}
