use super::*;
use crate::facts::BootMode;

#[test]
fn preview_flake() {
    println!("{}", render_flake(&FlakeSpec::default()));
    let mut spec = HostSpec::new(HostName::new("web-1").unwrap(), "203.0.113.7");
    spec.config.authorized_keys.push("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me@x".into());
    println!("{}", render_host_data(&spec));
    println!("{}", render_configuration(&spec.config));
    spec.config.boot_mode = BootMode::Bios;
    println!("{}", render_configuration(&spec.config));
    println!("{}", render::render_common());
}
