//! Whether a person can log in to a host after an install or a deploy: NixOS's
//! sshd takes keys only (root: `PermitRootLogin prohibit-password`), so a host
//! whose configuration holds none of the keys this machine has is locked, even
//! for colmena. Read from the configuration's text, so it says when it cannot
//! tell rather than guess (keys fetched at build time, keys in other inputs).

use super::names::KEY_TYPES;
use serde::Serialize;

/// One file of the host's configuration, with its repository-relative path.
pub struct ConfigFile<'a> {
    /// Repository-relative path, for messages.
    pub path: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// What the configuration says about logging in as `user` afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Access {
    /// A key this machine holds is authorized, and sshd is on.
    Open {
        /// The matching key's comment or type, for display.
        key: String,
    },
    /// Nobody this machine can speak for could log in.
    Locked {
        /// Why, in words.
        reason: String,
        /// What to change, and where.
        fix: String,
    },
    /// The text does not settle it (keys from files or fetches nixdeck cannot read).
    Unsure {
        /// What could not be read.
        reason: String,
    },
}

/// The public keys (`type base64`) written anywhere in `text`.
pub fn keys_in(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '[' | ']' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        if KEY_TYPES.contains(&pair[0])
            && pair[1].len() >= 16
            && pair[1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            out.push((pair[0].to_string(), pair[1].to_string()));
        }
    }
    out
}

/// Checks `files` (the host's configuration and the shared modules) for a way in
/// as `user` with one of `local_keys` (authorized_keys lines this machine holds).
pub fn login_after(files: &[ConfigFile<'_>], user: &str, local_keys: &[String]) -> Access {
    let all: String = files.iter().map(|f| f.text).collect::<Vec<_>>().join("\n");
    let where_keys = format!(
        "users.users.{user}.openssh.authorizedKeys.keys in {}",
        files
            .first()
            .map_or("the host's configuration.nix", |f| f.path)
    );
    if !mentions_sshd(&all) {
        return Access::Locked {
            reason: "the configuration does not enable sshd (services.openssh.enable), so nothing could connect after the install".into(),
            fix: format!("set services.openssh.enable = true; and add your public key to {where_keys}"),
        };
    }
    let configured = keys_in(&all);
    let local: Vec<(String, String)> = local_keys.iter().flat_map(|k| keys_in(k)).collect();
    if let Some((kind, _)) = configured.iter().find(|k| local.contains(k)) {
        let comment = local_keys
            .iter()
            .find(|l| keys_in(l).iter().any(|k| configured.contains(k)))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or(kind);
        return Access::Open {
            key: comment.to_string(),
        };
    }
    if indirect_keys(&all) {
        return Access::Unsure {
            reason: "authorized keys come from files or fetches nixdeck does not read; check that one of your keys is among them".into(),
        };
    }
    let password = user != "root"
        && [
            "hashedPassword",
            "initialPassword",
            "initialHashedPassword",
            "passwordFile",
        ]
        .iter()
        .any(|p| all.contains(p));
    if password {
        return Access::Open {
            key: format!("{user}'s password"),
        };
    }
    let reason = if configured.is_empty() {
        format!("no SSH key is authorized for {user}, and NixOS's sshd takes keys only: nobody (not even colmena) could log in afterwards")
    } else {
        format!("{} key(s) are authorized for login, but none of them is held by this machine (~/.ssh/*.pub or the ssh-agent): you could not log in afterwards", configured.len())
    };
    Access::Locked {
        reason,
        fix: format!(
            "add your public key (e.g. the line in ~/.ssh/id_ed25519.pub) to {where_keys}"
        ),
    }
}

/// Keys given other than as literal strings: files, fetches, or a variable.
fn indirect_keys(text: &str) -> bool {
    let compact: String = text.split_whitespace().collect();
    ["keyFiles", "fetchurl", "fetchGit", "readFile"]
        .iter()
        .any(|w| compact.contains(w))
        || compact
            .match_indices("authorizedKeys.keys=")
            .any(|(at, m)| !compact[at + m.len()..].starts_with('['))
}

fn mentions_sshd(text: &str) -> bool {
    // `services.openssh.enable = true;` or `services.openssh = { enable = true; … }`.
    let compact: String = text.split_whitespace().collect();
    compact.contains("services.openssh.enable=true")
        || compact.contains("openssh.enable=true")
        || (compact.contains("services.openssh={") && compact.contains("enable=true"))
        || compact.contains("openssh={enable=true")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop";
    const OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBb9J5f0Q4ZJmYl1kN9X2pV7q8WcYt3eR6uH0sDgLmQa";

    fn config(body: &str) -> String {
        format!("{{ ... }}:\n{{\n  services.openssh.enable = true;\n{body}\n}}\n")
    }

    fn check(text: &str, user: &str) -> Access {
        login_after(
            &[ConfigFile {
                path: "hosts/web/configuration.nix",
                text,
            }],
            user,
            &[MINE.to_string()],
        )
    }

    #[test]
    fn a_local_key_in_the_configuration_opens_the_host() {
        let text = config(&format!(
            "  users.users.root.openssh.authorizedKeys.keys = [ \"{MINE}\" ];"
        ));
        assert_eq!(
            check(&text, "root"),
            Access::Open {
                key: "me@laptop".into()
            }
        );
    }

    #[test]
    fn no_key_or_only_foreign_keys_lock_the_host_with_the_fix() {
        let Access::Locked { reason, fix } = check(&config(""), "root") else {
            panic!("no key must lock");
        };
        assert!(reason.contains("no SSH key"), "{reason}");
        assert!(
            fix.contains(
                "users.users.root.openssh.authorizedKeys.keys in hosts/web/configuration.nix"
            ),
            "{fix}"
        );
        let foreign = config(&format!(
            "  users.users.root.openssh.authorizedKeys.keys = [ \"{OTHER}\" ];"
        ));
        assert!(matches!(check(&foreign, "root"), Access::Locked { .. }));
    }

    #[test]
    fn sshd_off_locks_and_key_files_are_unsure() {
        let text = format!("{{ users.users.root.openssh.authorizedKeys.keys = [ \"{MINE}\" ]; }}");
        assert!(
            matches!(check(&text, "root"), Access::Locked { reason, .. } if reason.contains("sshd"))
        );
        let files = config("  users.users.root.openssh.authorizedKeys.keyFiles = [ ./me.pub ];");
        assert!(matches!(check(&files, "root"), Access::Unsure { .. }));
        let variable = config("  users.users.root.openssh.authorizedKeys.keys = myKeys;");
        assert!(matches!(check(&variable, "root"), Access::Unsure { .. }));
        let empty = config("  users.users.root.openssh.authorizedKeys.keys = [ ];");
        assert!(matches!(check(&empty, "root"), Access::Locked { .. }));
    }

    #[test]
    fn a_password_lets_a_user_in_but_not_root() {
        let text = config("  users.users.admin.hashedPassword = \"$y$j9T$…\";");
        assert!(matches!(check(&text, "admin"), Access::Open { .. }));
        assert!(matches!(check(&text, "root"), Access::Locked { .. }));
    }
}
