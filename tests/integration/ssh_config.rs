//! Real users' SSH set-ups against real OpenSSH servers on 127.0.0.1 (needs
//! root): `Include`d hosts behind a `ProxyJump` bastion, `ProxyCommand`,
//! `HostKeyAlias`, `IdentitiesOnly`, `Match host`, `@revoked`, and a
//! symlinked known_hosts that stays a symlink. Every test points its config
//! and known_hosts at temporary directories, never at the real `~/.ssh`.

use nixdeck_engine::probe::{probe, ProbeError, ProbeOptions};
use nixdeck_engine::ssh::known_hosts::remove_host;
use nixdeck_engine::ssh::{Auth, ConnectOptions, HostKeyPolicy, SshError, SshTarget};
use nixdeck_tests::sshd::{keygen, public_key, SshAgent, Sshd, SshdOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

fn target(s: &str) -> SshTarget {
    SshTarget::parse(s).expect("target")
}

async fn probe_with(
    host: &str,
    o: &ConnectOptions,
) -> Result<nixdeck_core::facts::HostFacts, ProbeError> {
    probe(&target(host), o, &ProbeOptions::default()).await
}

fn ssh_err(r: Result<nixdeck_core::facts::HostFacts, ProbeError>) -> SshError {
    match r {
        Err(ProbeError::Ssh(e)) => e,
        Err(e) => panic!("expected an SSH error, got {e}"),
        Ok(_) => panic!("expected the probe to fail"),
    }
}

fn is_symlink(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false)
}

/// A bastion and a target sshd; the bastion's user key is authorized on both.
fn bastion_and_target(bastion: SshdOptions) -> (Sshd, Sshd) {
    let bastion = Sshd::start(bastion);
    let target = Sshd::start(SshdOptions::default());
    target.authorize("root", &bastion.user_key_pub);
    (bastion, target)
}

/// `home/ssh/conf.d/fleet.conf` defines the fleet (the target behind the
/// bastion); `home/ssh/config` includes it with a glob and adds the key and
/// a known_hosts that is a symlink into `home/dotfiles`.
fn fleet_config(home: &Path, bastion: &Sshd, target: &Sshd, relative_include: bool) -> PathBuf {
    let ssh = home.join("ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).unwrap();
    std::fs::create_dir_all(home.join("dotfiles")).unwrap();
    std::fs::write(
        home.join("dotfiles/known_hosts"),
        "# kept in the dotfiles repository\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("../dotfiles/known_hosts", ssh.join("known_hosts")).unwrap();
    std::fs::write(
        ssh.join("conf.d/fleet.conf"),
        format!(
            "Host fleet-target\n  HostName 127.0.0.1\n  Port {}\n  User root\n  ProxyJump fleet-bastion\n\
             Host fleet-bastion\n  HostName 127.0.0.1\n  Port {}\n  User root\n",
            target.port, bastion.port
        ),
    )
    .unwrap();
    let include = if relative_include {
        "conf.d/*.conf".to_string()
    } else {
        format!("{}/conf.d/*.conf", ssh.display())
    };
    let config = ssh.join("config");
    std::fs::write(
        &config,
        format!(
            "Include {include}\nHost fleet-*\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n",
            bastion.user_key_path.display(),
            ssh.join("known_hosts").display()
        ),
    )
    .unwrap();
    config
}

#[tokio::test]
async fn probe_reaches_an_included_host_through_a_bastion_and_keeps_known_hosts_a_symlink() {
    let (bastion, target) = bastion_and_target(SshdOptions::default());
    let home = tempfile::tempdir().unwrap();
    let config = fleet_config(home.path(), &bastion, &target, false);
    let link = home.path().join("ssh/known_hosts");
    let real = home.path().join("dotfiles/known_hosts");
    let mut o = ConnectOptions {
        ssh_config: Some(config),
        ..ConnectOptions::default()
    };

    // Strict: the bastion is the first host met, and its key is unknown.
    match ssh_err(probe_with("fleet-target", &o).await) {
        SshError::HostKeyUnknown {
            host, fingerprint, ..
        } => {
            assert_eq!(host, format!("[127.0.0.1]:{}", bastion.port));
            assert_eq!(fingerprint, bastion.host_key_fingerprint);
        }
        e => panic!("expected the bastion's key to be unknown, got {e}"),
    }

    o.host_keys = HostKeyPolicy::AcceptNew;
    let facts = probe_with("fleet-target", &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", bastion.log(), target.log()));
    assert_eq!(facts.user, "root");
    assert_eq!(facts.address, "fleet-target");

    assert!(is_symlink(&link), "known_hosts is still a symlink");
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        format!(
            "# kept in the dotfiles repository\n{}\n{}\n",
            bastion.known_hosts_line(),
            target.known_hosts_line()
        )
    );
    // Both keys known now: strict checking passes through the bastion.
    o.host_keys = HostKeyPolicy::Strict;
    probe_with("fleet-target", &o)
        .await
        .expect("both hosts known");

    // Forgetting the target (as after a reinstall) keeps the link too.
    let known_as = format!("[127.0.0.1]:{}", target.port);
    assert_eq!(remove_host(Some(&link), &known_as).unwrap(), 1);
    assert!(is_symlink(&link));
    match ssh_err(probe_with("fleet-target", &o).await) {
        SshError::HostKeyUnknown { host, .. } => assert_eq!(host, known_as),
        e => panic!("expected the target's key to be unknown again, got {e}"),
    }
}

#[tokio::test]
async fn a_bastion_that_refuses_forwarding_is_named_in_the_error() {
    let (bastion, target) = bastion_and_target(SshdOptions {
        tcp_forwarding: false,
        ..SshdOptions::default()
    });
    let home = tempfile::tempdir().unwrap();
    let o = ConnectOptions {
        ssh_config: Some(fleet_config(home.path(), &bastion, &target, false)),
        host_keys: HostKeyPolicy::AcceptNew,
        ..ConnectOptions::default()
    };
    let err = ssh_err(probe_with("fleet-target", &o).await);
    match &err {
        SshError::Jump { via, to, .. } => {
            assert_eq!(via, &format!("127.0.0.1:{}", bastion.port));
            assert_eq!(to, &format!("127.0.0.1:{}", target.port));
        }
        e => panic!("expected a jump error, got {e}"),
    }
    assert!(err.hint().contains("AllowTcpForwarding"), "{}", err.hint());
}

#[tokio::test]
async fn cli_follows_a_relative_include_in_home_and_records_keys_through_the_symlink() {
    let (bastion, target) = bastion_and_target(SshdOptions::default());
    let home = tempfile::tempdir().unwrap();
    // The real layout: $HOME/.ssh/config, relative Include, default known_hosts.
    fleet_config(home.path(), &bastion, &target, true);
    std::fs::rename(home.path().join("ssh"), home.path().join(".ssh")).unwrap();
    let config = home.path().join(".ssh/config");
    let text = std::fs::read_to_string(&config).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.contains("UserKnownHostsFile"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, text).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_nixdeck-headless"))
        .args(["probe", "fleet-target", "--accept-new-host-key", "--json"])
        .env("HOME", home.path())
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("run nixdeck-headless");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let link = home.path().join(".ssh/known_hosts");
    assert!(is_symlink(&link));
    let recorded = std::fs::read_to_string(home.path().join("dotfiles/known_hosts")).unwrap();
    assert!(recorded.contains(&bastion.known_hosts_line()), "{recorded}");
    assert!(recorded.contains(&target.known_hosts_line()), "{recorded}");
}

#[tokio::test]
async fn proxy_command_runs_through_openssh_and_refuses_shell_tricks() {
    let (bastion, target) = bastion_and_target(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("injected");
    let proxy = format!(
        "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} -i {} -p {} -W %h:%p root@127.0.0.1",
        bastion.known_hosts_path.display(),
        bastion.user_key_path.display(),
        bastion.port
    );
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host via-cmd evil failing\n  Port {port}\n  User root\n  IdentityFile {key}\n\
             Host via-cmd\n  HostName 127.0.0.1\n  ProxyCommand {proxy}\n\
             Host evil\n  HostName x$(touch${{IFS}}{marker})\n  ProxyCommand {proxy}\n\
             Host failing\n  HostName 127.0.0.1\n  ProxyCommand sh -c 'echo no route to the fleet >&2; exit 1'\n",
            port = target.port,
            key = bastion.user_key_path.display(),
            marker = marker.display(),
        ),
    )
    .unwrap();
    let o = ConnectOptions {
        ssh_config: Some(config),
        known_hosts: Some(target.known_hosts_path.clone()),
        ..ConnectOptions::default()
    };
    let facts = probe_with("via-cmd", &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bastion.log()));
    assert_eq!(facts.user, "root");

    match ssh_err(probe_with("evil", &o).await) {
        SshError::ProxyCommand { reason, .. } => assert!(reason.contains("shell"), "{reason}"),
        e => panic!("expected a ProxyCommand error, got {e}"),
    }
    assert!(!marker.exists(), "nothing reached the shell");

    match ssh_err(probe_with("failing", &o).await) {
        SshError::ProxyCommand { reason, .. } => {
            assert!(reason.contains("no route to the fleet"), "{reason}")
        }
        e => panic!("expected a ProxyCommand error, got {e}"),
    }
}

#[tokio::test]
async fn host_key_alias_names_the_key_in_known_hosts() {
    let sshd = Sshd::start(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    std::fs::write(&kh, format!("fleet-node-7 {}\n", sshd.host_key_pub)).unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host aliased plain\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n\
             Host aliased\n  HostKeyAlias fleet-node-7\n",
            sshd.port,
            sshd.user_key_path.display()
        ),
    )
    .unwrap();
    let o = ConnectOptions {
        ssh_config: Some(config),
        known_hosts: Some(kh.clone()),
        ..ConnectOptions::default()
    };
    probe_with("aliased", &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    match ssh_err(probe_with("plain", &o).await) {
        SshError::HostKeyUnknown { host, .. } => {
            assert_eq!(host, format!("[127.0.0.1]:{}", sshd.port))
        }
        e => panic!("expected an unknown key without the alias, got {e}"),
    }
}

#[tokio::test]
async fn identities_only_keeps_the_agents_other_keys_back() {
    let sshd = Sshd::start(SshdOptions::default());
    let agent = SshAgent::start(&[&sshd.user_key_path]);
    let dir = tempfile::tempdir().unwrap();
    let other = keygen(dir.path(), "not_authorized", "ed25519", "");
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host lenient strict\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityAgent {}\n  IdentityFile {}\n\
             Host strict\n  IdentitiesOnly yes\n",
            sshd.port,
            agent.socket.display(),
            other.display()
        ),
    )
    .unwrap();
    let o = ConnectOptions {
        ssh_config: Some(config),
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ..ConnectOptions::default()
    };
    probe_with("lenient", &o)
        .await
        .unwrap_or_else(|e| panic!("the agent's key logs in: {e}"));
    match ssh_err(probe_with("strict", &o).await) {
        SshError::AuthFailed { tried, .. } => {
            assert_eq!(tried.len(), 1, "{tried:?}");
            assert!(tried[0].contains("not_authorized"), "{tried:?}");
        }
        e => panic!("expected the login to fail, got {e}"),
    }
}

#[tokio::test]
async fn match_host_applies_and_unsupported_match_is_reported_with_its_line() {
    let sshd = Sshd::start(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host m\n  HostName 127.0.0.1\nMatch host 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n",
            sshd.port,
            sshd.user_key_path.display()
        ),
    )
    .unwrap();
    let mut o = ConnectOptions {
        ssh_config: Some(config.clone()),
        known_hosts: Some(sshd.known_hosts_path.clone()),
        ..ConnectOptions::default()
    };
    probe_with("m", &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));

    let exec = dir.path().join("config-exec");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &exec,
        format!("Match exec \"test -e /etc\"\n  Port 1\n{text}"),
    )
    .unwrap();
    o.ssh_config = Some(exec.clone());
    let err = ssh_err(probe_with("m", &o).await);
    assert_eq!(err.code(), "ssh_config");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{} line 1", exec.display())), "{msg}");
    assert!(msg.contains("not honoured"), "{msg}");
}

#[tokio::test]
async fn a_revoked_key_is_refused_even_when_new_keys_are_accepted() {
    let sshd = Sshd::start(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    let text = format!(
        "{}\n@revoked * {}\n",
        sshd.known_hosts_line(),
        sshd.host_key_pub
    );
    std::fs::write(&kh, &text).unwrap();
    let o = ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(kh.clone()),
        ssh_config: Some(dir.path().join("no-config")),
        host_keys: HostKeyPolicy::AcceptNew,
        ..ConnectOptions::default()
    };
    match ssh_err(probe_with(&sshd.target("root"), &o).await) {
        SshError::HostKeyRevoked {
            line, fingerprint, ..
        } => {
            assert_eq!(line, 2);
            assert_eq!(fingerprint, sshd.host_key_fingerprint);
        }
        e => panic!("expected a revoked key, got {e}"),
    }
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), text);
}

#[tokio::test]
async fn a_host_known_under_another_key_type_says_so() {
    let sshd = Sshd::start(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let old_rsa = keygen(dir.path(), "old_rsa_host_key", "rsa", "");
    let kh = dir.path().join("known_hosts");
    std::fs::write(
        &kh,
        format!("[127.0.0.1]:{} {}\n", sshd.port, public_key(&old_rsa)),
    )
    .unwrap();
    let o = ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(kh),
        ssh_config: Some(dir.path().join("no-config")),
        ..ConnectOptions::default()
    };
    let err = ssh_err(probe_with(&sshd.target("root"), &o).await);
    match &err {
        SshError::HostKeyUnknown {
            key_type,
            other_types,
            ..
        } => {
            assert_eq!(key_type, "ssh-ed25519");
            assert_eq!(other_types, &vec!["ssh-rsa".to_string()]);
        }
        e => panic!("expected an unknown key, got {e}"),
    }
    assert!(
        err.hint()
            .contains("already known under another key type (ssh-rsa)"),
        "{}",
        err.hint()
    );
}

fn cert_options(sshd: &Sshd, kh: &Path, policy: HostKeyPolicy) -> ConnectOptions {
    ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        known_hosts: Some(kh.to_path_buf()),
        ssh_config: Some(sshd.dir.path().join("no-config")),
        host_keys: policy,
        ..ConnectOptions::default()
    }
}

#[tokio::test]
async fn host_certificates_are_checked_against_cert_authority_lines() {
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");

    // Signed for the name we connect to, by the CA known_hosts trusts.
    let good = Sshd::start(SshdOptions {
        host_certificate_principals: Some(vec!["127.0.0.1".into()]),
        ..SshdOptions::default()
    });
    let ca_line = |sshd: &Sshd| {
        format!(
            "@cert-authority [127.0.0.1]:* {}\n",
            sshd.host_ca_pub.as_deref().expect("a CA")
        )
    };
    std::fs::write(&kh, ca_line(&good)).unwrap();
    probe_with(
        &good.target("root"),
        &cert_options(&good, &kh, HostKeyPolicy::Strict),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", good.log()));
    assert_eq!(
        std::fs::read_to_string(&kh).unwrap(),
        ca_line(&good),
        "a certified key is not recorded"
    );

    // Signed for another name: refused.
    let elsewhere = Sshd::start(SshdOptions {
        host_certificate_principals: Some(vec!["db.example.org".into()]),
        ..SshdOptions::default()
    });
    std::fs::write(&kh, ca_line(&elsewhere)).unwrap();
    let o = cert_options(&elsewhere, &kh, HostKeyPolicy::AcceptNew);
    match ssh_err(probe_with(&elsewhere.target("root"), &o).await) {
        SshError::HostCertificate { reason, .. } => {
            assert!(reason.contains("db.example.org"), "{reason}")
        }
        e => panic!("expected the certificate to be refused, got {e}"),
    }

    // A CA nobody trusts for this host: refused, naming the signer.
    std::fs::write(&kh, ca_line(&good)).unwrap();
    match ssh_err(probe_with(&elsewhere.target("root"), &o).await) {
        SshError::HostCertificate { reason, .. } => {
            assert!(
                reason.contains("no @cert-authority line trusts"),
                "{reason}"
            )
        }
        e => panic!("expected the certificate to be refused, got {e}"),
    }

    // A host the CA covers that shows only a plain key is not taken on trust.
    let plain = Sshd::start(SshdOptions::default());
    let o = cert_options(&plain, &kh, HostKeyPolicy::AcceptNew);
    let err = ssh_err(probe_with(&plain.target("root"), &o).await);
    match &err {
        SshError::HostKeyUnknown { cert_authority, .. } => {
            assert_eq!(cert_authority.as_deref(), Some(&(kh.clone(), 1)))
        }
        e => panic!("expected an unknown key, got {e}"),
    }
    assert!(err.hint().contains("HostCertificate"), "{}", err.hint());
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), ca_line(&good));
}

#[tokio::test]
async fn a_proxy_jump_chain_is_walked_from_its_first_host() {
    let first = Sshd::start(SshdOptions::default());
    let second = Sshd::start(SshdOptions::default());
    let target = Sshd::start(SshdOptions::default());
    second.authorize("root", &first.user_key_pub);
    target.authorize("root", &first.user_key_pub);
    let dir = tempfile::tempdir().unwrap();
    let kh = dir.path().join("known_hosts");
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host chained\n  HostName 127.0.0.1\n  Port {}\n  ProxyJump root@127.0.0.1:{},ssh://second\n\
             Host second\n  HostName 127.0.0.1\n  Port {}\n\
             Host *\n  User root\n  IdentityFile {}\n  UserKnownHostsFile {}\n",
            target.port,
            first.port,
            second.port,
            first.user_key_path.display(),
            kh.display()
        ),
    )
    .unwrap();
    let mut o = ConnectOptions {
        ssh_config: Some(config),
        ..ConnectOptions::default()
    };
    match ssh_err(probe_with("chained", &o).await) {
        SshError::HostKeyUnknown { host, .. } => {
            assert_eq!(host, format!("[127.0.0.1]:{}", first.port))
        }
        e => panic!("expected the first hop's key to be unknown, got {e}"),
    }
    o.host_keys = HostKeyPolicy::AcceptNew;
    probe_with("chained", &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", first.log(), second.log()));
    // Met in chain order: first hop, second hop, target.
    assert_eq!(
        std::fs::read_to_string(&kh).unwrap(),
        format!(
            "{}\n{}\n{}\n",
            first.known_hosts_line(),
            second.known_hosts_line(),
            target.known_hosts_line()
        )
    );
}

#[tokio::test]
async fn a_key_in_the_global_known_hosts_file_is_trusted_and_never_written() {
    let sshd = Sshd::start(SshdOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let (user_kh, global_kh) = (dir.path().join("user"), dir.path().join("global"));
    std::fs::write(&global_kh, format!("{}\n", sshd.known_hosts_line())).unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host *\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile {}\n",
            user_kh.display(),
            global_kh.display()
        ),
    )
    .unwrap();
    let o = ConnectOptions {
        auth: Auth::KeyFile(sshd.user_key_path.clone()),
        ssh_config: Some(config),
        ..ConnectOptions::default()
    };
    probe_with(&sshd.target("root"), &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert!(!user_kh.exists(), "nothing to record");
    assert_eq!(
        std::fs::read_to_string(&global_kh).unwrap(),
        format!("{}\n", sshd.known_hosts_line())
    );
}
