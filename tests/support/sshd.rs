//! Real OpenSSH servers for tests: `Sshd::start` runs Debian's `sshd` as root
//! on 127.0.0.1 on a free port with throw-away host and user keys and its own
//! `sshd_config`; it is killed when dropped. Also a real `ssh-agent`
//! ([`SshAgent`]), test users ([`ensure_user`]) and a temporary sudo right
//! ([`SudoGrant`]), each undone on drop.
//!
//! Needs root and the Debian packages `openssh-server`, `openssh-client`
//! (ssh-keygen, ssh-agent, ssh-add) and, for the sudo tests, `sudo`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to configure a test sshd.
#[derive(Debug, Clone)]
pub struct SshdOptions {
    /// `PasswordAuthentication`.
    pub password_auth: bool,
    /// Passwords through PAM's keyboard-interactive instead of the
    /// `password` method (`UsePAM yes`, `PasswordAuthentication no`), as
    /// many rescue systems are set up.
    pub keyboard_interactive: bool,
    /// Users the throw-away user key is authorized for (besides what
    /// [`Sshd::authorize`] adds later).
    pub key_users: Vec<String>,
    /// Host key type for `ssh-keygen -t` (`ed25519`, `ecdsa`, `rsa`).
    pub host_key_type: String,
    /// `ChrootDirectory`: sessions see this directory as `/` (a
    /// [`crate::nixos_tree::NixosTree`]). Every component of the path must
    /// be root-owned and not writable by others, as sshd demands.
    pub chroot: Option<PathBuf>,
    /// `AllowTcpForwarding`: whether it serves as a jump host (`ssh -J`).
    pub tcp_forwarding: bool,
    /// When set, a throw-away CA signs the host key for these principals
    /// (none: any name) and sshd presents that `HostCertificate`.
    pub host_certificate_principals: Option<Vec<String>>,
}

impl Default for SshdOptions {
    fn default() -> Self {
        Self {
            password_auth: true,
            keyboard_interactive: false,
            key_users: vec!["root".into()],
            host_key_type: "ed25519".into(),
            chroot: None,
            tcp_forwarding: true,
            host_certificate_principals: None,
        }
    }
}

/// A running sshd; killed on drop.
pub struct Sshd {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The host public key, `ssh-ed25519 AAAA…` (no comment).
    pub host_key_pub: String,
    /// The host key's `SHA256:…` fingerprint, as `ssh-keygen -l` prints it.
    pub host_key_fingerprint: String,
    /// The public key of the CA that signed the host certificate, if any.
    pub host_ca_pub: Option<String>,
    /// A private key (no passphrase) authorized for `key_users`.
    pub user_key_path: PathBuf,
    /// Its public half.
    pub user_key_pub: String,
    /// A `known_hosts` file that already trusts this server (for tests that
    /// are not about host keys).
    pub known_hosts_path: PathBuf,
    /// Scratch directory (config, keys, logs); removed on drop.
    pub dir: tempfile::TempDir,
    config: PathBuf,
    child: Child,
}

/// Runs a command and returns its stdout, panicking with its stderr on failure.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Generates a key pair with ssh-keygen; returns the private key path.
pub fn keygen(dir: &Path, name: &str, kind: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", passphrase, "-C", name, "-f"])
        .arg(&path));
    path
}

/// `type base64` of a public key file, without its comment.
pub fn public_key(private: &Path) -> String {
    let text = std::fs::read_to_string(private.with_extension("pub"))
        .or_else(|_| std::fs::read_to_string(format!("{}.pub", private.display())))
        .expect("public key file");
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `SHA256:…` fingerprint of a key file (public or private).
pub fn fingerprint(key: &Path) -> String {
    let out = run(Command::new("ssh-keygen").arg("-lf").arg(key));
    out.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// A port on 127.0.0.1 nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn sshd_binary() -> PathBuf {
    ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("sshd not found: apt-get install openssh-server")
}

impl Sshd {
    /// Starts an sshd and waits until it accepts connections.
    pub fn start(opts: SshdOptions) -> Sshd {
        // Privilege separation needs this directory (systemd makes it at boot).
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::Builder::new()
            .prefix("nixdeck-sshd-")
            .tempdir()
            .expect("temp dir");
        // Non-root users read their authorized_keys through this directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let auth_dir = dir.path().join("authorized_keys");
        std::fs::create_dir(&auth_dir).expect("mkdir");
        std::fs::set_permissions(&auth_dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");

        let host_key = keygen(dir.path(), "host_key", &opts.host_key_type, "");
        let user_key = keygen(dir.path(), "user_key", "ed25519", "");
        let host_key_pub = public_key(&host_key);
        let user_key_pub = public_key(&user_key);

        let mut host_ca_pub = None;
        let mut host_cert_line = String::new();
        if let Some(principals) = &opts.host_certificate_principals {
            let ca = keygen(dir.path(), "host_ca", "ed25519", "");
            let mut sign = Command::new("ssh-keygen");
            sign.arg("-q")
                .arg("-s")
                .arg(&ca)
                .args(["-I", "nixdeck-test-host", "-h"]);
            if !principals.is_empty() {
                sign.arg("-n").arg(principals.join(","));
            }
            run(sign.arg(host_key.with_extension("pub")));
            host_ca_pub = Some(public_key(&ca));
            host_cert_line = format!(
                "HostCertificate {}\n",
                dir.path().join("host_key-cert.pub").display()
            );
        }
        let config = dir.path().join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\n\
                 HostKey {host}\n\
                 PidFile none\n\
                 UsePAM {pam}\n\
                 StrictModes no\n\
                 PermitRootLogin yes\n\
                 PubkeyAuthentication yes\n\
                 AuthorizedKeysFile {auth}/%u\n\
                 PasswordAuthentication {pw}\n\
                 KbdInteractiveAuthentication {pam}\n\
                 MaxStartups 100:30:200\n\
                 AllowTcpForwarding {fwd}\n\
                 LogLevel ERROR\n\
                 {host_cert_line}{chroot}",
                host = host_key.display(),
                auth = auth_dir.display(),
                pw = if opts.password_auth && !opts.keyboard_interactive {
                    "yes"
                } else {
                    "no"
                },
                fwd = if opts.tcp_forwarding { "yes" } else { "no" },
                pam = if opts.keyboard_interactive {
                    "yes"
                } else {
                    "no"
                },
                chroot = opts
                    .chroot
                    .as_ref()
                    .map(|d| format!("ChrootDirectory {}\n", d.display()))
                    .unwrap_or_default(),
            ),
        )
        .expect("write sshd_config");

        let log_path = dir.path().join("sshd.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        for user in &opts.key_users {
            authorize_in(dir.path(), user, &user_key_pub);
        }
        let mut last_err = String::new();
        // A port found free can be taken before sshd binds it: retry a few times.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(sshd_binary())
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .args(["-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log.try_clone().expect("dup log"))
                .spawn()
                .expect("start sshd");
            match wait_ready(&mut child, port, &log_path) {
                Ok(()) => {
                    let sshd = Sshd {
                        port,
                        host_key_fingerprint: fingerprint(&host_key),
                        host_ca_pub: host_ca_pub.clone(),
                        host_key_pub,
                        user_key_path: user_key,
                        user_key_pub,
                        known_hosts_path: dir.path().join("known_hosts"),
                        dir,
                        config: config.clone(),
                        child,
                    };
                    std::fs::write(
                        &sshd.known_hosts_path,
                        format!("{}\n", sshd.known_hosts_line()),
                    )
                    .expect("write known_hosts");
                    return sshd;
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_err = e;
                }
            }
        }
        panic!("sshd did not start: {last_err}");
    }

    /// Kills the server: the port refuses connections until [`Sshd::restart`].
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port with the same keys after
    /// `delay` (a machine coming back from a reboot), without waiting.
    pub fn restart(&mut self, delay: Duration) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("sshd.log"))
            .expect("log file");
        // `exec` keeps the pid, so dropping the Sshd still kills the server.
        self.child = Command::new("sh")
            .args(["-c", "sleep \"$1\"; shift; exec \"$@\"", "sh"])
            .arg(format!("{:.3}", delay.as_secs_f64()))
            .arg(sshd_binary())
            .args(["-D", "-e", "-f"])
            .arg(&self.config)
            .args(["-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("restart sshd");
    }

    /// The listening sshd's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the per-connection sshd processes (and what they ran) have
    /// used so far: the listener's reaped children, from /proc.
    pub fn children_cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the parenthesised command name; cutime and cstime are 16 and 17.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let ticks: u64 = rest
            .split_whitespace()
            .skip(13)
            .take(2)
            .filter_map(|t| t.parse::<u64>().ok())
            .sum();
        Duration::from_millis(ticks * 10)
    }

    /// sshd's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Adds `public_key` (`type base64`) to `user`'s authorized keys.
    pub fn authorize(&self, user: &str, public_key: &str) {
        authorize_in(self.dir.path(), user, public_key);
    }

    /// `[127.0.0.1]:port <host key>`: the line OpenSSH would record.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key_pub)
    }

    /// `user@127.0.0.1:port`.
    pub fn target(&self, user: &str) -> String {
        format!("{user}@127.0.0.1:{}", self.port)
    }
}

fn wait_ready(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let read_log = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(10);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("sshd exited with {status}: {}", read_log()));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("sshd did not listen within 10 s: {}", read_log()))
}

fn authorize_in(dir: &Path, user: &str, public_key: &str) {
    let path = dir.join("authorized_keys").join(user);
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(public_key);
    text.push('\n');
    std::fs::write(&path, text).expect("write authorized_keys");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real `ssh-agent` on its own socket, killed on drop.
pub struct SshAgent {
    /// Its socket (give it as `SSH_AUTH_SOCK`).
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
    child: Child,
}

impl SshAgent {
    /// Starts an agent and adds `keys` to it.
    pub fn start(keys: &[&Path]) -> SshAgent {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent (apt-get install openssh-client)");
        let mut agent = SshAgent {
            socket,
            _dir: dir,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !agent.socket.exists() {
            assert!(
                Instant::now() < deadline,
                "ssh-agent did not create its socket"
            );
            if let Ok(Some(s)) = agent.child.try_wait() {
                panic!("ssh-agent exited with {s}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for key in keys {
            run(Command::new("ssh-add")
                .arg("-q")
                .arg(key)
                .env("SSH_AUTH_SOCK", &agent.socket));
        }
        agent
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes sure a local user exists (`useradd -m -s /bin/sh`), sets its
/// password, and returns its name. Users are left in place (named
/// `nixdeck-*`): removing them while another test logs in would race.
pub fn ensure_user(name: &str, password: &str) -> String {
    let exists = |n: &str| {
        Command::new("id")
            .arg(n)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !exists(name) {
        let out = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", name])
            .output()
            .expect("run useradd");
        // Another test may have created it meanwhile.
        assert!(
            out.status.success() || exists(name),
            "useradd {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut child = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("run chpasswd");
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{name}:{password}").expect("write chpasswd");
    }
    assert!(child.wait().expect("chpasswd").success(), "chpasswd failed");
    name.to_string()
}

/// A password-less sudo right for one user, in `/etc/sudoers.d/`; removed on drop.
pub struct SudoGrant {
    path: PathBuf,
}

impl SudoGrant {
    /// Grants `user` `NOPASSWD: ALL`. Panics when sudo is not installed.
    pub fn new(user: &str) -> SudoGrant {
        assert!(
            Path::new("/usr/bin/sudo").exists(),
            "sudo is not installed: apt-get install sudo"
        );
        let path = PathBuf::from(format!("/etc/sudoers.d/nixdeck-test-{user}"));
        std::fs::write(&path, format!("{user} ALL=(ALL) NOPASSWD: ALL\n")).expect("write sudoers");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o440)).expect("chmod");
        SudoGrant { path }
    }
}

impl Drop for SudoGrant {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
