use super::render::{host_files, render_common};
use super::*;
use crate::facts::BootMode;

fn web() -> HostSpec {
    let mut spec = HostSpec::new(HostName::new("web-1").unwrap(), "203.0.113.7");
    spec.config
        .authorized_keys
        .push("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me@x".into());
    spec
}

#[test]
fn configuration_is_the_articles() {
    let text = render_configuration(&web().config);
    assert_eq!(
        text,
        r#"{ pkgs, ... }:

{
  imports = [ ./disko.nix ];
  boot.loader.grub = {
    enable = true;
    efiSupport = true;
    efiInstallAsRemovable = true;
  };
  networking.hostName = "web-1";
  services.openssh = {
    enable = true;
    settings.PermitRootLogin = "prohibit-password";
  };
  users.users.root.openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me@x" ];
  environment.systemPackages = with pkgs; [
    git
    vim
  ];
  system.stateVersion = "25.05";
}
"#
    );
}

#[test]
fn bios_hosts_get_grub_without_efi() {
    let mut config = web().config;
    config.boot_mode = BootMode::Bios;
    let text = render_configuration(&config);
    assert!(
        text.contains("boot.loader.grub = {\n    # BIOS boot"),
        "{text}"
    );
    assert!(!text.contains("efi"), "{text}");
}

#[test]
fn host_data_escapes_what_it_is_given() {
    let mut spec = web();
    spec.deployment.tags = vec![Tag::new("web").unwrap()];
    spec.deployment.target_port = 2222;
    let text = render_host_data(&spec);
    assert!(
        text.contains("targetHost = \"203.0.113.7\";\n    targetPort = 2222;"),
        "{text}"
    );
    assert!(text.contains("tags = [ \"web\" ];"));
}

#[test]
fn flake_follows_the_chosen_branch_and_never_lists_hosts() {
    let spec = FlakeSpec {
        nixpkgs_ref: "nixos-24.11".into(),
        ..FlakeSpec::default()
    };
    assert_eq!(spec.release(), Some("24.11"));
    let text = render_flake(&spec);
    assert!(text.contains("nixpkgs.url = \"github:NixOS/nixpkgs/nixos-24.11\";"));
    assert!(text.contains("colmenaHive = colmena.lib.makeHive self.outputs.colmena;"));
    // The maintained colmena, not the article's github:zhaofengli/colmena.
    assert!(
        text.contains("colmena = {\n      url = \"github:nix-community/colmena\";"),
        "{text}"
    );
    assert!(!text.contains("zhaofengli"));
    assert_eq!(
        text.matches("inputs.nixpkgs.follows = \"nixpkgs\";")
            .count(),
        2
    );
    assert!(!text.contains("web-1"));
}

#[test]
fn host_files_include_disko_only_when_given() {
    let mut spec = web();
    let paths: Vec<String> = host_files(&spec).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        ["hosts/web-1/host.nix", "hosts/web-1/configuration.nix"]
    );
    spec.disko = Some("{ }\n".into());
    assert_eq!(host_files(&spec).len(), 3);
    assert!(render_common().contains("experimental-features"));
}

#[test]
fn validation_reports_the_first_bad_field() {
    let mut spec = web();
    spec.validate().unwrap();
    spec.system = "riscv64-linux".into();
    assert!(matches!(spec.validate(), Err(NameError::System(_))));
    spec.system = DEFAULT_SYSTEM.into();
    spec.config.state_version = "25.5".into();
    assert!(matches!(spec.validate(), Err(NameError::StateVersion(_))));
    spec.config.state_version = "25.05".into();
    spec.deployment.target_port = 0;
    assert!(matches!(spec.validate(), Err(NameError::Port)));
    spec.deployment.target_port = 22;
    spec.deployment.target_host = "-oProxyCommand=x".into();
    assert!(matches!(spec.validate(), Err(NameError::Address(_))));
}

#[test]
fn view_keeps_hosts_it_cannot_read_and_says_why() {
    use super::outline::{FlakeOutline, ReadDeployment};
    use super::view::{assemble, FlakeReading, HostDir};
    let dirs = vec![
        HostDir {
            name: "Bad.Name".into(),
            has_configuration: true,
            ..HostDir::default()
        },
        HostDir {
            name: "web".into(),
            has_configuration: true,
            has_disko: true,
            ..HostDir::default()
        },
    ];
    let mut reading = FlakeReading {
        outline: Some(FlakeOutline {
            inputs: vec!["nixpkgs".into()],
            nixpkgs_url: None,
            nixos_configurations: vec!["web".into(), "edge".into()],
            colmena_nodes: vec!["web".into(), "edge".into()],
        }),
        ..FlakeReading::default()
    };
    reading
        .details
        .deployments
        .insert("web".into(), ReadDeployment::default());
    reading
        .detail_errors
        .push(("edge".into(), "error: attribute 'x' missing".into()));
    let view = assemble("/r".into(), true, dirs, reading);
    let names: Vec<&str> = view.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["Bad.Name", "edge", "web"]);
    assert!(!view.hosts[0].valid_name);
    assert_eq!(view.hosts[0].in_colmena, Some(false));
    assert!(!view.hosts[1].has_directory && !view.hosts[1].deployment_read);
    assert_eq!(view.problems.len(), 1);
    assert!(view.problems[0].message.contains("attribute 'x' missing"));
    // No targetHost: colmena connects to the node name.
    assert_eq!(view.hosts[2].address.as_deref(), Some("web"));

    let unread = assemble(
        "/r".into(),
        true,
        vec![],
        FlakeReading {
            outline_error: Some("syntax error".into()),
            ..FlakeReading::default()
        },
    );
    assert!(unread.problems[0]
        .message
        .contains("hosts/ only: syntax error"));
}

#[test]
fn state_version_follows_the_nixpkgs_release() {
    use super::host::release_of_nixpkgs_url;
    assert_eq!(
        release_of_nixpkgs_url("github:NixOS/nixpkgs/nixos-24.11").as_deref(),
        Some("24.11")
    );
    assert_eq!(
        release_of_nixpkgs_url("github:nixos/nixpkgs/nixos-25.05?shallow=1").as_deref(),
        Some("25.05")
    );
    assert_eq!(
        release_of_nixpkgs_url("github:NixOS/nixpkgs/nixos-unstable"),
        None
    );
    assert_eq!(release_of_nixpkgs_url("github:NixOS/nixpkgs"), None);
}
