use super::patterns::wildmatch;
use super::*;

const CONFIG: &str = "\
# global
IdentityFile ~/.ssh/global_key

Host web-? !web-9
    HostName %h.example.org
    User deploy
    Port 2222

Host web-*
    User ignored-because-first-wins
    IdentityFile=/keys/web

Match host foo
    User matched-foo

Host *
    User fallback
    Port=22
";

fn resolve(cfg: &SshConfig, host: &str) -> HostConfig {
    cfg.resolve(host, None).expect("resolves")
}

#[test]
fn first_value_wins_and_identities_accumulate() {
    let cfg = SshConfig::parse(CONFIG);
    let c = resolve(&cfg, "web-1");
    assert_eq!(c.host_name.as_deref(), Some("web-1.example.org"));
    assert_eq!(c.user.as_deref(), Some("deploy"));
    assert_eq!(c.port, Some(2222));
    assert_eq!(c.identity_files.len(), 2);
    assert!(c.identity_files[0].ends_with(".ssh/global_key"));
    assert_eq!(c.identity_files[1], PathBuf::from("/keys/web"));
}

#[test]
fn negation_and_match_host() {
    let cfg = SshConfig::parse(CONFIG);
    let c = resolve(&cfg, "web-9");
    assert_eq!(c.host_name, None);
    assert_eq!(c.user.as_deref(), Some("ignored-because-first-wins"));
    assert_eq!(resolve(&cfg, "foo").user.as_deref(), Some("matched-foo"));
    let other = resolve(&cfg, "bar");
    assert_eq!(other.user.as_deref(), Some("fallback"));
    assert_eq!(other.port, Some(22));
}

#[test]
fn match_host_sees_the_host_name_and_originalhost_the_alias() {
    let cfg = SshConfig::parse(
        "Host alias\n  HostName real.example\nMatch host real.example\n  Port 2200\nMatch originalhost alias user admin\n  IdentityFile /k/admin\nMatch !host real.example\n  Port 1\n",
    );
    let c = resolve(&cfg, "alias");
    assert_eq!(c.port, Some(2200));
    assert!(c.identity_files.is_empty(), "user is not admin");
    let c = cfg.resolve("alias", Some("admin")).unwrap();
    assert_eq!(c.identity_files, vec![PathBuf::from("/k/admin")]);
    assert_eq!(resolve(&cfg, "other").port, Some(1));
}

#[test]
fn unsupported_match_is_an_error_with_file_and_line_when_it_matters() {
    let cfg = SshConfig::parse("Host a\n  User x\nMatch exec \"test -f /x\"\n  Port 2222\n");
    let e = cfg.resolve("a", None).unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.problem.contains("Match exec"), "{}", e.problem);
    assert!(e.problem.contains("not honoured"), "{}", e.problem);
    // A block that sets nothing nixdeck uses changes nothing: no error.
    let cfg = SshConfig::parse("Match exec \"true\"\n  ForwardAgent yes\nHost *\n  Port 7\n");
    assert_eq!(resolve(&cfg, "a").port, Some(7));
}

#[test]
fn things_that_would_connect_elsewhere_are_refused() {
    for text in [
        "Host *\n  CanonicalizeHostname yes\n",
        "Host *\n  ProxyCommand nc %h %p\n  ProxyUseFdpass yes\n",
        "Host *\n  Port twenty-two\n",
        "Host *\n  IdentitiesOnly maybe\n",
        "Host *\n  IdentityFile ~/.ssh/%C\n",
    ] {
        assert!(SshConfig::parse(text).resolve("h", None).is_err(), "{text}");
    }
    // …but not for hosts they do not apply to.
    let cfg = SshConfig::parse("Host other\n  CanonicalizeHostname always\n");
    assert!(cfg.resolve("h", None).is_ok());
}

#[test]
fn proxy_jump_and_proxy_command_compete_first_wins() {
    let cfg = SshConfig::parse(
        "Host a\n  ProxyJump admin@jump1:2222,ssh://jump2\nHost b\n  ProxyCommand ssh -W %h:%p gw\nHost *\n  ProxyJump fallback\n  ProxyCommand never\nHost direct\n",
    );
    let Some(Proxy::Jump(hops)) = resolve(&cfg, "a").proxy else {
        panic!("jump expected")
    };
    assert_eq!(hops.len(), 2);
    assert_eq!(
        (hops[0].user.as_deref(), hops[0].host.as_str(), hops[0].port),
        (Some("admin"), "jump1", Some(2222))
    );
    assert_eq!((hops[1].host.as_str(), hops[1].port), ("jump2", None));
    assert_eq!(
        resolve(&cfg, "b").proxy,
        Some(Proxy::Command("ssh -W %h:%p gw".into()))
    );
    assert!(matches!(resolve(&cfg, "c").proxy, Some(Proxy::Jump(_))));
    let none = SshConfig::parse("Host x\n  ProxyJump none\nHost *\n  ProxyJump j\n");
    assert_eq!(resolve(&none, "x").proxy, Some(Proxy::None));
    assert!(SshConfig::parse("Host *\n  ProxyJump a b\n")
        .resolve("h", None)
        .is_err());
}

#[test]
fn known_hosts_files_alias_and_identity_settings() {
    let cfg = SshConfig::parse(
        "Host box\n  HostName 10.1.2.3\n  UserKnownHostsFile /kh/%h %n_file\n  HostKeyAlias box-key\n  IdentitiesOnly yes\n  IdentityAgent /run/agent.sock\nHost *\n  UserKnownHostsFile /never\n  IdentitiesOnly no\n",
    );
    let c = resolve(&cfg, "box");
    assert_eq!(
        c.user_known_hosts_files,
        vec![PathBuf::from("/kh/10.1.2.3"), PathBuf::from("box_file")]
    );
    assert_eq!(c.host_key_alias.as_deref(), Some("box-key"));
    assert!(c.identities_only);
    assert_eq!(
        c.identity_agent,
        Some(IdentityAgent::Socket(PathBuf::from("/run/agent.sock")))
    );
    assert_eq!(
        c.global_known_hosts_files,
        vec![
            PathBuf::from("/etc/ssh/ssh_known_hosts"),
            PathBuf::from("/etc/ssh/ssh_known_hosts2")
        ]
    );
    let c = resolve(&cfg, "other");
    assert_eq!(c.user_known_hosts_files, vec![PathBuf::from("/never")]);
    assert!(!c.identities_only);
    let none = SshConfig::parse(
        "UserKnownHostsFile none\nIdentityAgent none\nGlobalKnownHostsFile none\n",
    );
    let c = resolve(&none, "x");
    assert!(c.user_known_hosts_files.is_empty());
    assert!(c.global_known_hosts_files.is_empty());
    assert_eq!(c.identity_agent, Some(IdentityAgent::None));
}

#[test]
fn include_globs_relative_to_the_ssh_dir_in_place_and_conditionally() {
    let dir = tempfile::tempdir().unwrap();
    let ssh = dir.path().join("dot-ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).unwrap();
    std::fs::write(
        ssh.join("conf.d/10-fleet.conf"),
        "Host fleet-*\n  User fleet\n  Port 2201\n",
    )
    .unwrap();
    std::fs::write(
        ssh.join("conf.d/20-other.conf"),
        "Host fleet-1\n  Port 9999\n  HostName one.example\n",
    )
    .unwrap();
    std::fs::write(ssh.join("conf.d/notes.txt"), "Host *\n  User wrong\n").unwrap();
    std::fs::write(ssh.join("only-for-db"), "Port 5432\n").unwrap();
    let config = ssh.join("config");
    std::fs::write(
        &config,
        "Include conf.d/*.conf\nHost db\n  Include only-for-db\n  User dba\nHost *\n  User everyone\n  Port 22\n",
    )
    .unwrap();
    let cfg = SshConfig::load_in(&config, &ssh);
    let c = resolve(&cfg, "fleet-1");
    // 10-fleet.conf comes before 20-other.conf; first value wins.
    assert_eq!((c.user.as_deref(), c.port), (Some("fleet"), Some(2201)));
    assert_eq!(c.host_name.as_deref(), Some("one.example"));
    // An Include inside a Host block applies only to that host, and the
    // block goes on after it.
    let db = resolve(&cfg, "db");
    assert_eq!((db.user.as_deref(), db.port), (Some("dba"), Some(5432)));
    let web = resolve(&cfg, "web");
    assert_eq!(
        (web.user.as_deref(), web.port),
        (Some("everyone"), Some(22))
    );
}

#[test]
fn include_loops_and_unreadable_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "Include config\nPort 22\n").unwrap();
    let e = SshConfig::load_in(&config, dir.path())
        .resolve("h", None)
        .unwrap_err();
    assert!(e.problem.contains("nested"), "{}", e.problem);
    // A glob that matches nothing is fine, as for OpenSSH.
    std::fs::write(&config, "Include nothing/*.conf\nPort 2\n").unwrap();
    let c = SshConfig::load_in(&config, dir.path())
        .resolve("h", None)
        .unwrap();
    assert_eq!(c.port, Some(2));
}

#[test]
fn proxy_command_tokens_and_shell_safety() {
    assert_eq!(
        proxy_command_line(
            "ssh -W %h:%p -l %r gw # %n %%",
            "10.0.0.5",
            "box",
            2222,
            "root"
        )
        .unwrap(),
        "ssh -W 10.0.0.5:2222 -l root gw # box %"
    );
    assert_eq!(
        proxy_command_line("nc %h %p", "fe80::1%eth0", "x", 22, "u").unwrap(),
        "nc fe80::1%eth0 22"
    );
    for (host, user) in [
        ("a;reboot", "u"),
        ("$(id)", "u"),
        ("ok", "u`id`"),
        ("a b", "u"),
    ] {
        let e = proxy_command_line("nc %h %p # %r", host, "ok", 22, user).unwrap_err();
        assert!(e.contains("shell"), "{e}");
    }
    assert!(proxy_command_line("nc %h %Z", "h", "h", 22, "u").is_err());
    // A value the command does not use is not checked.
    assert!(proxy_command_line("nc gw 22", "a;b", "a;b", 22, "u").is_ok());
}

#[test]
fn the_targets_own_user_and_port_fill_the_tokens() {
    let cfg =
        SshConfig::parse("Host *\n  User cfg\n  Port 2200\n  UserKnownHostsFile /kh/%r@%h:%p\n");
    let t = SshTarget::parse("ops@box:2222").unwrap();
    assert_eq!(
        cfg.resolve_target(&t).unwrap().user_known_hosts_files,
        vec![PathBuf::from("/kh/ops@box:2222")]
    );
    assert_eq!(
        resolve(&cfg, "box").user_known_hosts_files,
        vec![PathBuf::from("/kh/cfg@box:2200")]
    );
}

#[test]
fn globs() {
    assert!(glob("*.example.org", "a.b.EXAMPLE.org"));
    assert!(glob("h?st", "host"));
    assert!(!glob("h?st", "hoost"));
    assert!(glob("*", ""));
    assert!(!glob("a*b", "acbd"));
    assert!(!wildmatch("*.CONF", "a.conf", false));
}

#[test]
fn quoted_words() {
    assert_eq!(
        words(r#"one "two three" four"#),
        vec!["one", "two three", "four"]
    );
}
