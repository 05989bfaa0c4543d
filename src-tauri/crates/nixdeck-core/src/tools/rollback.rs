//! Rolling a NixOS host back to an earlier system generation, as
//! `nixos-rebuild switch --rollback` does, over OpenSSH: point the system
//! profile at the generation (`nix-env --switch-generation N`, or
//! `--rollback` for the previous one), then activate what the profile now
//! holds with its own `switch-to-configuration switch`.
//!
//! The remote command is a fixed string; the only value in it is the
//! generation number, an integer checked against the host's generations.

use super::plan::{check_host_name, Arg, CommandLine, HostTarget, PlanError};
use crate::status::{HostStatus, SYSTEM_PROFILE};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where to roll back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", content = "generation", rename_all = "snake_case")]
pub enum RollbackTo {
    /// The generation before the profile's (`nix-env --rollback`).
    Previous,
    /// This generation number (`nix-env --switch-generation N`).
    Generation(u32),
}

/// How the OpenSSH client reaches the host, besides its address, port and
/// user (the rest comes from `~/.ssh/config`, as for colmena).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshClientOptions {
    /// `-i FILE`.
    pub identity_file: Option<String>,
    /// `-o UserKnownHostsFile=FILE`.
    pub known_hosts_file: Option<String>,
    /// `-o ConnectTimeout=N` in seconds (15 when not given).
    pub connect_timeout_secs: Option<u32>,
    /// `-F FILE`: the ssh_config nixdeck's own connections read, so the job
    /// reaches the host as the status check before it did.
    #[serde(default)]
    pub config_file: Option<String>,
}

/// Why a rollback cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RollbackError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{host} has no system generation {number}; its generations are {available}")]
    NoSuchGeneration {
        host: String,
        number: u32,
        available: String,
    },
    #[error("{host} already runs generation {number}: there is nothing to roll back to there")]
    AlreadyCurrent { host: String, number: u32 },
    #[error("{host} has no generation older than {profile}: there is nothing to roll back to")]
    NoPrevious { host: String, profile: String },
}

/// Checks the choice against what the host reported, and returns the
/// generation that will run: `to`'s number, or the previous one.
pub fn check_rollback(
    host: &str,
    status: &HostStatus,
    to: RollbackTo,
) -> Result<u32, RollbackError> {
    match to {
        RollbackTo::Previous => status
            .previous_generation()
            .map(|g| g.number)
            .ok_or_else(|| RollbackError::NoPrevious {
                host: host.to_string(),
                profile: status
                    .profile_generation
                    .map_or_else(|| "the profile's".into(), |n| format!("generation {n}")),
            }),
        RollbackTo::Generation(number) => {
            let Some(generation) = status.generations.iter().find(|g| g.number == number) else {
                let available: Vec<String> = status
                    .generations
                    .iter()
                    .map(|g| g.number.to_string())
                    .collect();
                return Err(RollbackError::NoSuchGeneration {
                    host: host.to_string(),
                    number,
                    available: if available.is_empty() {
                        "none".into()
                    } else {
                        available.join(", ")
                    },
                });
            };
            if generation.current && status.profile_generation == Some(number) {
                return Err(RollbackError::AlreadyCurrent {
                    host: host.to_string(),
                    number,
                });
            }
            Ok(number)
        }
    }
}

/// The command the host runs. Root runs it directly; another user through
/// `sudo -n` (as `nixos-rebuild --use-remote-sudo`), which fails at once
/// instead of asking for a password nobody can type.
pub fn remote_command(to: RollbackTo, user: &str) -> String {
    let sudo = if user == "root" { "" } else { "sudo -n " };
    let select = match to {
        RollbackTo::Previous => "--rollback".to_string(),
        RollbackTo::Generation(n) => format!("--switch-generation {n}"),
    };
    format!(
        "{sudo}nix-env -p {SYSTEM_PROFILE} {select} && \
         {sudo}{SYSTEM_PROFILE}/bin/switch-to-configuration switch"
    )
}

fn arg(cmd: &mut CommandLine, value: impl Into<String>) {
    cmd.args.push(Arg {
        value: value.into(),
        secret: false,
    });
}

/// A file path that goes into an `ssh -o KEY=VALUE` option, which ssh splits
/// on spaces and quotes: keep it to plain characters.
fn check_option_path(what: &'static str, value: &str) -> Result<(), PlanError> {
    let bad = |why| PlanError::Invalid {
        what,
        value: value.into(),
        why,
    };
    if value.is_empty() {
        return Err(bad("it is empty"));
    }
    if value.starts_with('-') {
        return Err(bad("it starts with `-`"));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\' | '='))
    {
        return Err(bad("it contains spaces, quotes, `=` or backslashes"));
    }
    Ok(())
}

/// `ssh -o BatchMode=yes -o ConnectTimeout=15 [-p PORT] [-i FILE] [-F FILE]
/// [-o UserKnownHostsFile=FILE] -l USER -- ADDRESS '<remote command>'`.
/// `BatchMode` makes a missing key or an unknown host key fail instead of
/// prompting in a job nobody types into.
pub fn rollback_command(
    host: &HostTarget,
    to: RollbackTo,
    ssh: &SshClientOptions,
) -> Result<CommandLine, PlanError> {
    check_host_name(&host.name)?;
    let word_ok = |what: &'static str, v: &str| -> Result<(), PlanError> {
        let bad = |why| PlanError::Invalid {
            what,
            value: v.into(),
            why,
        };
        if v.is_empty() {
            return Err(bad("it is empty"));
        }
        if v.starts_with('-') {
            return Err(bad("it starts with `-`"));
        }
        if v.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '/' | '\'' | '"'))
        {
            return Err(bad("it contains spaces, `@`, `/` or quotes"));
        }
        Ok(())
    };
    word_ok("address", &host.address)?;
    word_ok("SSH user", &host.user)?;
    if let RollbackTo::Generation(0) = to {
        return Err(PlanError::Invalid {
            what: "generation",
            value: "0".into(),
            why: "generations are numbered from 1",
        });
    }
    let mut cmd = CommandLine {
        program: "ssh".into(),
        args: Vec::new(),
        env: Vec::new(),
    };
    arg(&mut cmd, "-o");
    arg(&mut cmd, "BatchMode=yes");
    arg(&mut cmd, "-o");
    arg(
        &mut cmd,
        format!(
            "ConnectTimeout={}",
            ssh.connect_timeout_secs.unwrap_or(15).max(1)
        ),
    );
    if let Some(port) = host.port {
        arg(&mut cmd, "-p");
        arg(&mut cmd, port.to_string());
    }
    if let Some(file) = &ssh.identity_file {
        check_option_path("identity file", file)?;
        arg(&mut cmd, "-i");
        arg(&mut cmd, file.clone());
    }
    if let Some(file) = &ssh.config_file {
        check_option_path("ssh_config file", file)?;
        arg(&mut cmd, "-F");
        arg(&mut cmd, file.clone());
    }
    if let Some(file) = &ssh.known_hosts_file {
        check_option_path("known_hosts file", file)?;
        arg(&mut cmd, "-o");
        arg(&mut cmd, format!("UserKnownHostsFile={file}"));
    }
    arg(&mut cmd, "-l");
    arg(&mut cmd, host.user.clone());
    arg(&mut cmd, "--");
    arg(&mut cmd, host.address.clone());
    arg(&mut cmd, remote_command(to, &host.user));
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Generation;

    fn host(user: &str) -> HostTarget {
        HostTarget {
            name: "web1".into(),
            address: "203.0.113.7".into(),
            user: user.into(),
            port: Some(2222),
            tags: vec![],
            build_on_target: false,
        }
    }

    #[test]
    fn the_command_is_ssh_with_a_fixed_remote_command() {
        let ssh = SshClientOptions {
            identity_file: Some("/keys/id".into()),
            known_hosts_file: Some("/keys/known_hosts".into()),
            connect_timeout_secs: None,
            config_file: Some("/keys/ssh_config".into()),
        };
        let cmd = rollback_command(&host("root"), RollbackTo::Generation(41), &ssh).unwrap();
        assert_eq!(
            cmd.argv(),
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=15",
                "-p",
                "2222",
                "-i",
                "/keys/id",
                "-F",
                "/keys/ssh_config",
                "-o",
                "UserKnownHostsFile=/keys/known_hosts",
                "-l",
                "root",
                "--",
                "203.0.113.7",
                "nix-env -p /nix/var/nix/profiles/system --switch-generation 41 && \
                 /nix/var/nix/profiles/system/bin/switch-to-configuration switch",
            ]
        );
        let cmd =
            rollback_command(&host("admin"), RollbackTo::Previous, &Default::default()).unwrap();
        let remote = cmd.argv().pop().unwrap();
        assert_eq!(
            remote,
            "sudo -n nix-env -p /nix/var/nix/profiles/system --rollback && \
             sudo -n /nix/var/nix/profiles/system/bin/switch-to-configuration switch"
        );
    }

    #[test]
    fn values_that_would_change_the_command_are_refused() {
        let none = SshClientOptions::default();
        let mut h = host("root");
        h.address = "-oProxyCommand=evil".into();
        assert!(rollback_command(&h, RollbackTo::Previous, &none).is_err());
        let mut h = host("root");
        h.user = "root -oX".into();
        assert!(rollback_command(&h, RollbackTo::Previous, &none).is_err());
        for path in ["/a b", "x\"y", "-i", "/a=b"] {
            let ssh = SshClientOptions {
                known_hosts_file: Some(path.into()),
                ..Default::default()
            };
            assert!(
                rollback_command(&host("root"), RollbackTo::Previous, &ssh).is_err(),
                "{path}"
            );
        }
        assert!(rollback_command(&host("root"), RollbackTo::Generation(0), &none).is_err());
    }

    fn status() -> HostStatus {
        let generation = |number, current| Generation {
            number,
            date: 0,
            store_path: format!("/nix/store/{number}"),
            nixos_version: None,
            current,
            booted: false,
            profile: current,
        };
        HostStatus {
            reachable: true,
            profile_generation: Some(3),
            generations: vec![generation(1, false), generation(3, true)],
            ..Default::default()
        }
    }

    #[test]
    fn the_choice_is_checked_against_the_hosts_generations() {
        let s = status();
        assert_eq!(check_rollback("web1", &s, RollbackTo::Previous), Ok(1));
        assert_eq!(check_rollback("web1", &s, RollbackTo::Generation(1)), Ok(1));
        let err = check_rollback("web1", &s, RollbackTo::Generation(2)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "web1 has no system generation 2; its generations are 1, 3"
        );
        assert!(matches!(
            check_rollback("web1", &s, RollbackTo::Generation(3)),
            Err(RollbackError::AlreadyCurrent { number: 3, .. })
        ));
        let mut only = s.clone();
        only.generations.remove(0);
        assert!(matches!(
            check_rollback("web1", &only, RollbackTo::Previous),
            Err(RollbackError::NoPrevious { .. })
        ));
    }
}
