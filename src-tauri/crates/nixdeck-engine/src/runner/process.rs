//! Starting a child in its own session and process group, and signalling that
//! group as a whole, so a tool and everything it started (ssh, nix builders)
//! stop together and none is left behind.

use std::io;
use std::process::Stdio;
use tokio::process::{Child, Command};

/// What to start: program, arguments, extra environment, working directory.
pub struct Spawn<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: &'a std::path::Path,
}

/// Starts the child with stdin closed and stdout/stderr piped, as the leader of
/// a new session: no controlling terminal, so ssh cannot stop to ask on a tty
/// nobody sees, and its process group id is its pid.
pub fn spawn(spec: &Spawn<'_>) -> io::Result<(Child, i32)> {
    let mut cmd = Command::new(spec.program);
    cmd.args(spec.args)
        .current_dir(spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    for (name, value) in spec.env {
        cmd.env(name, value);
    }
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    let pid = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .ok_or_else(|| io::Error::other("the child exited before its pid was read"))?;
    Ok((child, pid))
}

/// Sends `signal` to every process of the group; false when none is left.
pub fn signal_group(pgid: i32, signal: i32) -> bool {
    if pgid <= 1 {
        return false; // never signal init or "every process"
    }
    // SAFETY: plain syscall on integers.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// Whether any process (zombies included) still belongs to the group.
pub fn group_exists(pgid: i32) -> bool {
    signal_group(pgid, 0)
}

/// Asks the kernel for a bigger pipe buffer (Linux `F_SETPIPE_SZ`); a refusal
/// (over `/proc/sys/fs/pipe-max-size`) only costs speed.
pub fn grow_pipe(fd: i32, bytes: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on a descriptor we own; no memory is passed.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, bytes);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (fd, bytes);
}
