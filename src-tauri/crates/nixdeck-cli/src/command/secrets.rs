//! Secrets for `nixdeck install`: from a file or an environment variable (for
//! scripts), or typed on the terminal without echo. Never from an argument's
//! value, which `ps` shows every user and shells keep in their history.

use super::install::SecretArgs;
use anyhow::Context;
use nixdeck_engine::ssh::Secret;
use std::io::{BufRead, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// The SSH password, when asked for (`--ask-ssh-password`, the file or the variable).
pub fn ssh_password(args: &SecretArgs) -> anyhow::Result<Option<Secret>> {
    if let Some(file) = &args.ssh_password_file {
        return Ok(Some(first_line(file, "the SSH password")?));
    }
    if let Some(value) = std::env::var_os("NIXDECK_SSH_PASSWORD") {
        let value = value
            .into_string()
            .map_err(|_| anyhow::anyhow!("NIXDECK_SSH_PASSWORD is not valid UTF-8"))?;
        return Ok(Some(Secret::new(value)));
    }
    if args.ask_ssh_password {
        return Ok(Some(ask("SSH password: ")?));
    }
    Ok(None)
}

/// The LUKS passphrase for `volumes`: the file, the variable, or typed twice.
pub fn luks_passphrase(args: &SecretArgs, volumes: &str) -> anyhow::Result<Secret> {
    if let Some(file) = &args.luks_passphrase_file {
        return first_line(file, "the LUKS passphrase");
    }
    if let Some(value) = std::env::var_os("NIXDECK_LUKS_PASSPHRASE") {
        let value = value
            .into_string()
            .map_err(|_| anyhow::anyhow!("NIXDECK_LUKS_PASSPHRASE is not valid UTF-8"))?;
        return Ok(Secret::new(value));
    }
    let first = ask(&format!("LUKS passphrase for {volumes}: "))?;
    let again = ask("The same passphrase again: ")?;
    if first != again {
        anyhow::bail!("the two passphrases differ; nothing was started");
    }
    Ok(first)
}

/// The first line of `file` (`-`: standard input), without its line end.
fn first_line(file: &Path, what: &str) -> anyhow::Result<Secret> {
    let mut line = String::new();
    if file == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .with_context(|| format!("could not read {what} from standard input"))?;
    } else {
        let f = std::fs::File::open(file)
            .with_context(|| format!("could not open {} to read {what}", file.display()))?;
        std::io::BufReader::new(f)
            .read_line(&mut line)
            .with_context(|| format!("could not read {what} from {}", file.display()))?;
    }
    let secret = Secret::new(line.trim_end_matches(['\n', '\r']));
    line.clear();
    Ok(secret)
}

/// Asks on the controlling terminal with echo off, as ssh and sudo do.
fn ask(prompt: &str) -> anyhow::Result<Secret> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("there is no terminal to type a secret on: give it with a file option or an environment variable (see --help)")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for a descriptor we own.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        anyhow::bail!("could not read the terminal's settings to turn echo off");
    }
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: as above, on the same descriptor.
    if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) } != 0 {
        anyhow::bail!("could not turn the terminal's echo off");
    }
    let mut out = &tty;
    let read = out
        .write_all(prompt.as_bytes())
        .and_then(|()| out.flush())
        .and_then(|()| {
            let mut line = String::new();
            std::io::BufReader::new(&tty).read_line(&mut line)?;
            Ok(line)
        });
    // Echo comes back whatever happened.
    // SAFETY: restores the settings read above.
    unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &saved) };
    let mut line = read.context("could not read from the terminal")?;
    let secret = Secret::new(line.trim_end_matches(['\n', '\r']));
    line.clear();
    Ok(secret)
}
