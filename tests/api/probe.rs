use crate::Scene;
use nixdeck_api::probe::{AuthChoice, ProbeOutcome, ProbeRequest};
use nixdeck_api::{ErrorCode, SshFiles};
use nixdeck_tests::sshd::{Sshd, SshdOptions};

fn request(repo: &std::path::Path, sshd: &Sshd, trust: Option<String>) -> ProbeRequest {
    ProbeRequest {
        repo: repo.to_string_lossy().into_owned(),
        host: "web-1".into(),
        address: "127.0.0.1".into(),
        user: "root".into(),
        port: sshd.port,
        auth: AuthChoice::KeyFile {
            path: sshd.user_key_path.to_string_lossy().into_owned(),
        },
        trust_fingerprint: trust,
    }
}

/// First contact answers with the host key to show; probing again with that
/// fingerprint accepted records it, reads the facts and keeps them with the host.
#[tokio::test]
async fn first_contact_shows_the_key_then_the_accepted_key_is_trusted() {
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::new();
    let known_hosts = scene.path("known_hosts");
    let scene = Scene {
        api: nixdeck_api::Api::open(&scene.path("data")).with_ssh_files(SshFiles {
            known_hosts: Some(known_hosts.clone()),
            ssh_config: Some(sshd.dir.path().join("no-ssh-config")),
        }),
        ..scene
    };
    let root = scene.repo().await;

    let first = scene
        .api
        .probe_host(request(&root, &sshd, None))
        .await
        .expect("first contact");
    let ProbeOutcome::UnknownHostKey { fingerprint, .. } = first else {
        panic!("expected a host key to confirm, got {first:?}");
    };
    assert_eq!(fingerprint, sshd.host_key_fingerprint);
    assert!(scene.api.host_facts(&root, "web-1").unwrap().is_none());

    let second = scene
        .api
        .probe_host(request(&root, &sshd, Some(fingerprint)))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", sshd.log()));
    let ProbeOutcome::Facts { facts, stored_at } = second else {
        panic!("expected facts, got {second:?}");
    };
    assert!(!facts.disks.is_empty() || facts.memory_bytes > 0);
    assert!(std::path::Path::new(&stored_at).is_file());
    assert_eq!(scene.api.host_facts(&root, "web-1").unwrap(), Some(*facts));
    let recorded = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(
        recorded.contains(&format!("[127.0.0.1]:{}", sshd.port)),
        "{recorded}"
    );
}

#[tokio::test]
async fn a_wrong_key_file_fails_as_a_login_failure_with_a_hint() {
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = scene.repo().await;
    let mut req = request(&root, &sshd, None);
    req.auth = AuthChoice::KeyFile {
        path: scene.path("no-such-key").to_string_lossy().into_owned(),
    };
    let err = scene.api.probe_host(req).await.expect_err("no key file");
    assert_eq!(err.code, ErrorCode::AuthFailed, "{err:?}");
    assert!(err.hint.is_some());
    let mut bad = request(&root, &sshd, None);
    bad.host = "not a name".into();
    let err = scene.api.probe_host(bad).await.expect_err("bad host name");
    assert_eq!(err.code, ErrorCode::Validation);
}
