//! Terminal prompts in a tool's output. nixdeck runs every tool without a
//! terminal (stdin is `/dev/null`, no controlling tty), so a question asked on
//! one is never answered: ssh asking for a password makes nixos-anywhere retry
//! `ssh-copy-id` forever, disko asking for a LUKS passphrase reads nothing and
//! formats with an empty one or loops. The runner ends the job when it sees one
//! (a whole line, or an unfinished line the tool has been waiting on) and says
//! what to do instead, here.

use super::lines::strip_ansi;
use serde::Serialize;

/// What a prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// An SSH login password or key passphrase (or ssh failing to ask for one).
    SshLogin,
    /// A disk encryption passphrase (disko, cryptsetup).
    DiskPassphrase,
    /// Whether to trust a host key (`(yes/no…)`).
    HostKey,
    /// Anything else waiting for an answer.
    Other,
}

/// A prompt seen in the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prompt {
    pub kind: PromptKind,
    /// The line as printed (escapes removed, trimmed).
    pub text: String,
}

/// The prompt `line` shows, if it is one. Reads shapes, not one tool's words:
/// a line ending in `password:`/`passphrase:`, disko's `Enter password for …`,
/// `Verify password`, `(yes/no`, `Please enter`, and ssh's own failures to ask
/// (`read_passphrase: can't open /dev/tty`, `ssh_askpass: exec(`).
pub fn prompt_in(line: &str) -> Option<Prompt> {
    // Cheap test first: every shape below holds one of these bytes' words.
    let plain = strip_ansi(line);
    let text = plain.trim();
    if text.is_empty() || text.len() > 400 || text.starts_with('+') {
        // `--debug` traces (`+ echo …`) quote commands, they do not ask.
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let kind = if lower.contains("enter password for /dev/")
        || lower.contains("enter passphrase for /dev/")
        || lower.contains("verify password")
        || lower.contains("verify passphrase")
        || (lower.starts_with("enter password for") && lower.ends_with(':'))
        || lower.starts_with("enter luks passphrase")
    {
        PromptKind::DiskPassphrase
    } else if lower.contains("read_passphrase: can't open /dev/tty")
        || lower.contains("ssh_askpass: exec(")
        || lower.starts_with("enter passphrase for key")
        || lower.starts_with("enter passphrase for")
        || lower.ends_with("password:")
        || lower.ends_with("passphrase:")
        || lower.ends_with("password for root:")
        || lower.ends_with("'s password:")
    {
        PromptKind::SshLogin
    } else if lower.contains("(yes/no") {
        PromptKind::HostKey
    } else if lower.starts_with("please enter")
        || lower.starts_with("press enter")
        || lower.ends_with("[y/n]")
        || lower.ends_with("[y/n]:")
    {
        PromptKind::Other
    } else {
        return None;
    };
    Some(Prompt {
        kind,
        text: text.to_string(),
    })
}

impl Prompt {
    /// Why the job was ended, and what to do, in words.
    pub fn explanation(&self) -> String {
        format!(
            "stopped: the tool waited for an answer nobody could give (nixdeck runs it without a terminal): \u{201c}{}\u{201d}. {}.",
            self.text,
            self.advice()
        )
    }

    /// What to do instead of answering, in words.
    pub fn advice(&self) -> &'static str {
        match self.kind {
            PromptKind::SshLogin => {
                "ssh asked for a password or passphrase. Log in with a key (the SSH agent, or a key \
                 file without a passphrase), or for a rescue system that only takes a password, \
                 enter the SSH password in the install form (the command line: --ask-ssh-password, \
                 --ssh-password-file or NIXDECK_SSH_PASSWORD): nixdeck then passes it to nixos-anywhere with \
                 --env-password"
            }
            PromptKind::DiskPassphrase => {
                "disko asked for a disk encryption passphrase: a LUKS volume of the layout has no \
                 passwordFile. Set passwordFile = \"/tmp/secret.key\"; on it and enter the \
                 passphrase in the install form; the partition table may already have been \
                 written, so run the install again from the start"
            }
            PromptKind::HostKey => {
                "ssh asked whether to trust a host key. nixdeck checks host keys over its own \
                 connection first: probe the host again and confirm its fingerprint"
            }
            PromptKind::Other => {
                "the tool asked a question on a terminal. Answer it beforehand in its \
                 configuration, or run the command in a terminal yourself"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_prompts_of_ssh_disko_and_friends() {
        let cases = [
            ("Enter password for /dev/vda2: ", PromptKind::DiskPassphrase),
            (
                "Enter password for /dev/disk/by-partlabel/disk-main-luks again to be safe: ",
                PromptKind::DiskPassphrase,
            ),
            ("Verify passphrase: ", PromptKind::DiskPassphrase),
            ("root@203.0.113.7's password: ", PromptKind::SshLogin),
            ("Password:", PromptKind::SshLogin),
            (
                "Enter passphrase for key '/home/me/.ssh/id_ed25519': ",
                PromptKind::SshLogin,
            ),
            (
                "ssh_askpass: exec(/usr/bin/ssh-askpass): No such file or directory",
                PromptKind::SshLogin,
            ),
            (
                "read_passphrase: can't open /dev/tty: No such device or address",
                PromptKind::SshLogin,
            ),
            (
                "Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
                PromptKind::HostKey,
            ),
            ("Please enter the new password", PromptKind::Other),
            ("\x1b[1mroot@h's password:\x1b[0m ", PromptKind::SshLogin),
        ];
        for (line, kind) in cases {
            let p = prompt_in(line).unwrap_or_else(|| panic!("not seen: {line:?}"));
            assert_eq!(p.kind, kind, "{line:?}");
            assert!(p.explanation().contains(p.text.as_str()));
        }
    }

    #[test]
    fn ordinary_output_is_no_prompt() {
        for line in [
            "### Formatting hard drive with disko ###",
            "root@127.0.0.1: Permission denied (publickey,password).",
            "nixos-install --no-root-passwd --no-channel-copy --system /nix/store/x",
            "+ echo 'Enter password for /dev/vda2: '",
            "installation finished!",
            "copying path '/nix/store/abc-password-store-1.7' from 'https://cache.nixos.org'...",
            "",
        ] {
            assert_eq!(prompt_in(line), None, "{line:?}");
        }
    }
}
