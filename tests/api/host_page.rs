use crate::{new_host, Scene};
use nixdeck_api::host_page::HostKeyStatus;
use nixdeck_api::{ErrorCode, SshFiles};
use nixdeck_tests::sshd::{keygen, public_key, Sshd, SshdOptions};

#[tokio::test]
async fn the_hardware_configuration_is_made_known_to_git_and_committed_alone() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let host = new_host(&root, "web-1", None, "/dev/vda");
    scene.api.write_new_host(&host, &[]).await.unwrap();
    let before = scene.api.hardware_status(&root, "web-1").await.unwrap();
    assert!(!before.exists && !before.tracked);

    std::fs::write(
        root.join("hosts/web-1/hardware-configuration.nix"),
        "{ ... }: { }\n",
    )
    .unwrap();
    let after = scene.api.hardware_status(&root, "web-1").await.unwrap();
    assert!(
        after.exists && after.tracked && after.uncommitted,
        "{after:?}"
    );
    let files = scene.api.host_files(&root, "web-1").await.unwrap();
    assert_eq!(files.hardware.as_deref(), Some("{ ... }: { }\n"));
    // The host page says what the disk layout holds, in words, mountpoints included.
    let summary = files.summary.expect("disko.nix read").join("\n");
    assert!(summary.contains("/dev/vda"), "{summary}");
    assert!(summary.contains(" /"), "{summary}");

    let committed = scene
        .api
        .commit_hardware_config(&root, "web-1")
        .await
        .unwrap();
    assert!(committed.tracked && !committed.uncommitted, "{committed:?}");
    assert!(committed.diff.is_empty(), "{committed:?}");
    let log = std::process::Command::new("git")
        .args(["log", "--format=%s", "--name-only", "-1"])
        .current_dir(&root)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.contains("add hardware configuration for web-1"),
        "{log}"
    );
    assert!(
        log.contains("hosts/web-1/hardware-configuration.nix"),
        "{log}"
    );
    assert!(
        !log.contains("configuration.nix\nhosts"),
        "only that file: {log}"
    );
}

/// After a reinstall the host presents a new key: both fingerprints are shown,
/// and only the confirmed one replaces the recorded entry (in-process, no
/// ssh-keygen), leaving the file's other lines alone.
#[tokio::test]
async fn a_changed_host_key_is_shown_then_replaced_only_as_confirmed() {
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::new();
    let old = keygen(scene.tmp.path(), "old_host_key", "ed25519", "");
    let known_hosts = scene.path("known_hosts");
    std::fs::write(
        &known_hosts,
        format!(
            "# kept\n[127.0.0.1]:{} {}\nother.example {}\n",
            sshd.port,
            public_key(&old),
            public_key(&old)
        ),
    )
    .unwrap();
    let scene = Scene {
        api: nixdeck_api::Api::open(&scene.path("data")).with_ssh_files(SshFiles {
            known_hosts: Some(known_hosts.clone()),
            ssh_config: Some(sshd.dir.path().join("no-ssh-config")),
        }),
        ..scene
    };
    let root = scene.repo().await;
    let host = new_host(&root, "web-1", Some(&sshd), "/dev/vda");
    scene.api.write_new_host(&host, &[]).await.unwrap();

    let check = scene.api.check_host_key(&root, "web-1").await.unwrap();
    assert_eq!(check.status, HostKeyStatus::Changed, "{check:?}");
    assert_eq!(
        check.new_fingerprint.as_deref(),
        Some(sshd.host_key_fingerprint.as_str())
    );
    assert_ne!(check.old_fingerprint, check.new_fingerprint);

    let err = scene
        .api
        .replace_host_key(&root, "web-1", "SHA256:not-what-it-presents")
        .await
        .expect_err("another fingerprint");
    assert_eq!(err.code, ErrorCode::HostKeyMismatch);

    let replaced = scene
        .api
        .replace_host_key(&root, "web-1", &sshd.host_key_fingerprint)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(replaced.status, HostKeyStatus::Matches, "{replaced:?}");
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(text.starts_with("# kept\n"), "{text}");
    assert!(text.contains("other.example"), "{text}");
    assert!(
        !text.contains(&format!("[127.0.0.1]:{} {}", sshd.port, public_key(&old))),
        "{text}"
    );
}

/// A reinstall rewrites a committed hardware-configuration.nix: the status
/// carries the diff from what is committed, shown before the commit is offered.
#[tokio::test]
async fn a_rewritten_hardware_configuration_comes_with_its_diff() {
    let scene = Scene::new();
    let root = scene.repo().await;
    let host = new_host(&root, "web-1", None, "/dev/vda");
    scene.api.write_new_host(&host, &[]).await.unwrap();
    let file = root.join("hosts/web-1/hardware-configuration.nix");
    std::fs::write(
        &file,
        "{ ... }:\n{\n  boot.kernelModules = [ \"kvm-intel\" ];\n}\n",
    )
    .unwrap();
    scene
        .api
        .commit_hardware_config(&root, "web-1")
        .await
        .unwrap();
    std::fs::write(
        &file,
        "{ ... }:\n{\n  boot.kernelModules = [ \"kvm-amd\" ];\n}\n",
    )
    .unwrap();
    let status = scene.api.hardware_status(&root, "web-1").await.unwrap();
    assert!(status.uncommitted, "{status:?}");
    assert!(
        status
            .diff
            .contains("-  boot.kernelModules = [ \"kvm-intel\" ];")
            && status
                .diff
                .contains("+  boot.kernelModules = [ \"kvm-amd\" ];"),
        "{}",
        status.diff
    );
}
