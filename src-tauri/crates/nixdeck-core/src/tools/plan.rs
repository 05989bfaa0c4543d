//! The exact command lines nixdeck runs: `nix flake lock`, `nix build` of a
//! host's toplevel, nixos-anywhere for the first install and colmena for every
//! later change, as argument vectors (never shell strings), in the spelling of
//! the workflow article, and shown to the user before they run.
//!
//! Which nixos-anywhere and colmena run is a [`ToolSource`]: by default the
//! versions the repository's `flake.lock` pins (`nix run --inputs-from . …`),
//! so two runs a month apart run the same tools; the article's exact commands
//! and tools from PATH are the other choices.
//!
//! A [`CommandLine`] keeps each argument with a flag saying whether it is a
//! secret, so what is displayed or stored can be redacted while the process
//! still gets the real value.

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// The placeholder shown instead of a secret argument or environment value.
pub const REDACTED: &str = "<redacted>";

/// A machine as the command builders need it: how to reach it and how to select it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HostTarget {
    /// The host's name: its directory under `hosts/` and its flake attribute.
    pub name: String,
    /// DNS name or IP address (colmena's `deployment.targetHost`).
    pub address: String,
    /// SSH user (`deployment.targetUser`, `root` by default).
    pub user: String,
    /// SSH port when not 22 (`deployment.targetPort`).
    pub port: Option<u16>,
    /// `deployment.tags`.
    pub tags: Vec<String>,
    /// `deployment.buildOnTarget`.
    pub build_on_target: bool,
}

/// What the local machine's nix and the user's settings say about how to run the tools.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSettings {
    /// The local nix has `nix-command` and `flakes` enabled; when false every
    /// `nix` invocation gets `--extra-experimental-features 'nix-command flakes'`.
    pub flakes_enabled: bool,
    /// Run `nixos-anywhere` and `colmena` found on PATH instead of `nix run`
    /// (the same as [`ToolSource::Path`], which it overrides).
    pub tools_from_path: bool,
    /// Which nixos-anywhere and colmena run.
    #[serde(default)]
    pub source: ToolSource,
}

impl ToolSettings {
    /// The source in effect: `tools_from_path`, the older switch, still wins.
    pub fn tool_source(&self) -> ToolSource {
        if self.tools_from_path {
            ToolSource::Path
        } else {
            self.source
        }
    }
}

/// Where nixos-anywhere and colmena come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolSource {
    /// The versions the repository's `flake.lock` pins: `nix run --inputs-from .
    /// nixpkgs#nixos-anywhere` and `nix run --inputs-from . colmena#colmena`.
    /// `--inputs-from .` makes each input of the flake in the working directory
    /// a registry entry at its locked revision.
    #[default]
    Pinned,
    /// The article's exact commands: `nix run nixpkgs#nixos-anywhere` (whatever
    /// the user's registry says nixpkgs is today) and `nix run
    /// github:zhaofengli/colmena` (that repository's head).
    Article,
    /// `nixos-anywhere` and `colmena` found on PATH.
    Path,
}

impl ToolSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pinned => "pinned",
            Self::Article => "article",
            Self::Path => "path",
        }
    }
}

impl std::str::FromStr for ToolSource {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Self, PlanError> {
        Ok(match s {
            "pinned" => Self::Pinned,
            "article" => Self::Article,
            "path" => Self::Path,
            _ => {
                return Err(PlanError::Invalid {
                    what: "tool source",
                    value: s.into(),
                    why: "use pinned, article or path",
                })
            }
        })
    }
}

/// Which flake gives the pinned colmena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColmenaPin {
    /// The repository's own `colmena` input: the one whose `lib.makeHive` built
    /// `colmenaHive`, so the command line and the hive agree on colmena's version.
    #[default]
    Input,
    /// The pinned nixpkgs' colmena, for repositories whose lock has no
    /// `colmena` input (their flake has a plain `colmena` output).
    Nixpkgs,
}

/// The flake reference of the article's colmena: the repository development has
/// since moved away from (to [`COLMENA_REPOSITORY`]).
pub const ARTICLE_COLMENA: &str = "github:zhaofengli/colmena";
/// Where colmena is maintained now; new repositories' `colmena` input.
pub const COLMENA_REPOSITORY: &str = "github:nix-community/colmena";

/// Why a command could not be built from what the user gave.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error("{what} {value:?} is not usable: {why}")]
    Invalid {
        what: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("--parallel must be a number of hosts (0 for no limit), not {0}")]
    Parallel(String),
    #[error("no install phase was chosen: pick at least one of kexec, disko, install, reboot")]
    NoPhases,
    /// A host's setting (typed, or read from its repository) fails the rule the
    /// wizard applies to typed input.
    #[error("host {host}: deployment.{field} is not usable: {reason}; correct it in the host's host.nix (or flake.nix)")]
    Setting {
        host: String,
        field: &'static str,
        reason: String,
    },
}

/// One argument, with whether it must be hidden when displayed or stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arg {
    pub value: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// One environment variable set for the command.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

// Debug output ends up in logs and panic messages: a secret shows as REDACTED.
impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.secret { REDACTED } else { &self.value };
        f.debug_struct("Arg").field("value", &value).finish()
    }
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.secret { REDACTED } else { &self.value };
        f.debug_struct("EnvVar")
            .field("name", &self.name)
            .field("value", &value)
            .finish()
    }
}

/// A command to run: program, arguments and extra environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLine {
    pub program: String,
    pub args: Vec<Arg>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

impl CommandLine {
    fn new(program: &str) -> Self {
        Self {
            program: program.to_string(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    fn arg(&mut self, value: impl Into<String>) -> &mut Self {
        self.args.push(Arg {
            value: value.into(),
            secret: false,
        });
        self
    }

    /// Adds an argument that is shown as [`REDACTED`].
    pub fn secret_arg(&mut self, value: impl Into<String>) -> &mut Self {
        self.args.push(Arg {
            value: value.into(),
            secret: true,
        });
        self
    }

    /// Sets an environment variable whose value is shown as [`REDACTED`].
    pub fn secret_env(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.env.push(EnvVar {
            name: name.to_string(),
            value: value.into(),
            secret: true,
        });
        self
    }

    /// The real argument vector, program first: what the process gets.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().map(|a| a.value.clone()))
            .collect()
    }

    /// The argument vector with secrets replaced: what is shown and stored.
    pub fn redacted_argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().map(|a| {
                if a.secret {
                    REDACTED.to_string()
                } else {
                    a.value.clone()
                }
            }))
            .collect()
    }

    /// Every secret value this command carries, for scrubbing output.
    pub fn secrets(&self) -> Vec<&str> {
        self.args
            .iter()
            .filter(|a| a.secret)
            .map(|a| a.value.as_str())
            .chain(
                self.env
                    .iter()
                    .filter(|e| e.secret)
                    .map(|e| e.value.as_str()),
            )
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// The redacted command line, quoted for a POSIX shell so a user can paste it.
impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for env in &self.env {
            let value = if env.secret {
                REDACTED
            } else {
                env.value.as_str()
            };
            write!(
                f,
                "{}{}={}",
                if first { "" } else { " " },
                env.name,
                shell_quote(value)
            )?;
            first = false;
        }
        for word in self.redacted_argv() {
            write!(f, "{}{}", if first { "" } else { " " }, shell_quote(&word))?;
            first = false;
        }
        Ok(())
    }
}

/// Quotes `word` for a POSIX shell, leaving plain words as they are.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@#%+=,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The `nix` program with the flags every invocation needs.
fn nix(settings: &ToolSettings) -> CommandLine {
    let mut cmd = CommandLine::new("nix");
    if !settings.flakes_enabled {
        cmd.arg("--extra-experimental-features")
            .arg("nix-command flakes");
    }
    cmd
}

/// Host names become flake attributes and paths: keep them to the characters
/// NixOS allows in `networking.hostName`, plus `_`.
pub fn check_host_name(name: &str) -> Result<(), PlanError> {
    let invalid = |why| {
        Err(PlanError::Invalid {
            what: "host name",
            value: name.into(),
            why,
        })
    };
    if name.is_empty() || name.len() > 63 {
        return invalid("it must have 1 to 63 characters");
    }
    if name.starts_with('-') || name.starts_with('.') {
        return invalid("it must start with a letter or digit");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid("use only letters, digits, `-` and `_`");
    }
    Ok(())
}

/// A value that becomes its own argument must not look like an option to the tool.
fn check_word(what: &'static str, value: &str) -> Result<(), PlanError> {
    if value.is_empty() {
        return Err(PlanError::Invalid {
            what,
            value: value.into(),
            why: "it is empty",
        });
    }
    if value.starts_with('-') {
        return Err(PlanError::Invalid {
            what,
            value: value.into(),
            why: "it starts with `-`",
        });
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PlanError::Invalid {
            what,
            value: value.into(),
            why: "it contains spaces",
        });
    }
    Ok(())
}

/// Checks everything about `host` that reaches a command line, with the rules
/// typed input passes ([`crate::repo::names`]): values read from a repository
/// (a `host.nix`, a hand-written flake) get no easier treatment.
pub fn check_target(host: &HostTarget) -> Result<(), PlanError> {
    check_host_name(&host.name)?;
    let setting = |field, err: crate::repo::NameError| PlanError::Setting {
        host: host.name.clone(),
        field,
        reason: err.to_string(),
    };
    crate::repo::names::check_address(&host.address).map_err(|e| setting("targetHost", e))?;
    crate::repo::names::check_user(&host.user).map_err(|e| setting("targetUser", e))?;
    if host.port == Some(0) {
        return Err(setting("targetPort", crate::repo::NameError::Port));
    }
    for tag in &host.tags {
        crate::repo::Tag::new(tag).map_err(|e| setting("tags", e))?;
    }
    check_word("address", &host.address)?;
    if host.address.contains('@') || host.address.contains('/') {
        return Err(PlanError::Invalid {
            what: "address",
            value: host.address.clone(),
            why: "give only the host name or IP address; the user goes in its own field",
        });
    }
    check_word("SSH user", &host.user)?;
    if host.user.contains('@') {
        return Err(PlanError::Invalid {
            what: "SSH user",
            value: host.user.clone(),
            why: "it contains `@`",
        });
    }
    Ok(())
}

/// `nix flake lock`, run in the repository when `flake.lock` is missing.
pub fn lock_command(settings: &ToolSettings) -> CommandLine {
    let mut cmd = nix(settings);
    cmd.arg("flake").arg("lock");
    cmd
}

/// `nix build .#nixosConfigurations.<host>.config.system.build.toplevel`.
pub fn validate_command(settings: &ToolSettings, host: &str) -> Result<CommandLine, PlanError> {
    check_host_name(host)?;
    let mut cmd = nix(settings);
    cmd.arg("build").arg(format!(
        ".#nixosConfigurations.{host}.config.system.build.toplevel"
    ));
    Ok(cmd)
}

/// How nixos-anywhere records the target's hardware into the repository.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HardwareBackend {
    /// `nixos-generate-config` → `hosts/<host>/hardware-configuration.nix` (the article's way).
    #[default]
    NixosGenerateConfig,
    /// `nixos-facter` → `hosts/<host>/facter.json`, read by the configuration.
    NixosFacter,
}

impl HardwareBackend {
    /// The generator's name as nixos-anywhere spells it.
    pub fn tool(self) -> &'static str {
        match self {
            Self::NixosGenerateConfig => "nixos-generate-config",
            Self::NixosFacter => "nixos-facter",
        }
    }

    /// The file, relative to the repository, that the install writes.
    pub fn output_path(self, host: &str) -> String {
        match self {
            Self::NixosGenerateConfig => format!("./hosts/{host}/hardware-configuration.nix"),
            Self::NixosFacter => format!("./hosts/{host}/facter.json"),
        }
    }
}

/// nixos-anywhere's phases (`--phases`), in the order it runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallPhase {
    Kexec,
    Disko,
    Install,
    Reboot,
}

impl InstallPhase {
    /// All phases: nixos-anywhere's default.
    pub const ALL: [InstallPhase; 4] = [Self::Kexec, Self::Disko, Self::Install, Self::Reboot];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kexec => "kexec",
            Self::Disko => "disko",
            Self::Install => "install",
            Self::Reboot => "reboot",
        }
    }
}

/// A `--disk-encryption-keys <remote path> <local file>` pair: the file is
/// copied to the target after kexec, before disko reads it (e.g. for LUKS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskEncryptionKey {
    /// Where disko's `passwordFile`/`keyFile` expects it on the target (`/tmp/secret.key`).
    pub remote_path: String,
    /// The local file holding the key (nixdeck writes passphrases to a 0600 temp file).
    pub local_file: String,
}

/// The install choices beyond the article's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallOptions {
    pub hardware: HardwareBackend,
    /// `-i <identity file>`.
    pub identity_file: Option<String>,
    /// `--build-on remote`: build the system on the target instead of locally.
    pub build_on_remote: bool,
    /// `--phases a,b,…`; `None` keeps nixos-anywhere's default (all four).
    pub phases: Option<Vec<InstallPhase>>,
    /// `--copy-host-keys`: keep the installer's SSH host keys.
    pub copy_host_keys: bool,
    /// `--extra-files <dir>`: a directory copied into the new system's root.
    pub extra_files: Option<String>,
    pub disk_encryption_keys: Vec<DiskEncryptionKey>,
    /// `--env-password`: log in with the password in the `SSHPASS`
    /// environment variable (set by the job, never on the command line).
    #[serde(default)]
    pub env_password: bool,
}

/// `nix run [--inputs-from .] <installable> --`: the start of a tool's command line.
fn nix_run(settings: &ToolSettings, pinned: bool, installable: &str) -> CommandLine {
    let mut cmd = nix(settings);
    cmd.arg("run");
    if pinned {
        cmd.arg("--inputs-from").arg(".");
    }
    cmd.arg(installable).arg("--");
    cmd
}

/// `nix run nixpkgs#nixos-anywhere -- --generate-hardware-config … --flake .#<host>
/// --target-host <user>@<address>` and the chosen options. The SSH port comes
/// from the host (`-p`).
pub fn install_command(
    settings: &ToolSettings,
    host: &HostTarget,
    options: &InstallOptions,
) -> Result<CommandLine, PlanError> {
    check_target(host)?;
    let mut cmd = match settings.tool_source() {
        ToolSource::Path => CommandLine::new("nixos-anywhere"),
        ToolSource::Article => nix_run(settings, false, "nixpkgs#nixos-anywhere"),
        ToolSource::Pinned => nix_run(settings, true, "nixpkgs#nixos-anywhere"),
    };
    cmd.arg("--generate-hardware-config")
        .arg(options.hardware.tool())
        .arg(options.hardware.output_path(&host.name))
        .arg("--flake")
        .arg(format!(".#{}", host.name))
        .arg("--target-host")
        .arg(format!("{}@{}", host.user, host.address));
    if let Some(port) = host.port {
        cmd.arg("-p").arg(port.to_string());
    }
    if let Some(identity) = &options.identity_file {
        check_path("identity file", identity)?;
        cmd.arg("-i").arg(identity.clone());
    }
    if options.build_on_remote {
        cmd.arg("--build-on").arg("remote");
    }
    if let Some(phases) = &options.phases {
        let mut phases = phases.clone();
        phases.sort();
        phases.dedup();
        if phases.is_empty() {
            return Err(PlanError::NoPhases);
        }
        let list: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
        cmd.arg("--phases").arg(list.join(","));
    }
    if options.copy_host_keys {
        cmd.arg("--copy-host-keys");
    }
    if let Some(dir) = &options.extra_files {
        check_path("extra files directory", dir)?;
        cmd.arg("--extra-files").arg(dir.clone());
    }
    if options.env_password {
        cmd.arg("--env-password");
    }
    for key in &options.disk_encryption_keys {
        check_path("remote key path", &key.remote_path)?;
        if !key.remote_path.starts_with('/') {
            return Err(PlanError::Invalid {
                what: "remote key path",
                value: key.remote_path.clone(),
                why: "it must be absolute, as disko's passwordFile",
            });
        }
        check_path("local key file", &key.local_file)?;
        cmd.arg("--disk-encryption-keys")
            .arg(key.remote_path.clone())
            .arg(key.local_file.clone());
    }
    Ok(cmd)
}

fn check_path(what: &'static str, value: &str) -> Result<(), PlanError> {
    if value.is_empty() {
        return Err(PlanError::Invalid {
            what,
            value: value.into(),
            why: "it is empty",
        });
    }
    if value.starts_with('-') {
        return Err(PlanError::Invalid {
            what,
            value: value.into(),
            why: "it starts with `-`; write it as ./…",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(PlanError::Invalid {
            what,
            value: value.into(),
            why: "it has control characters",
        });
    }
    Ok(())
}

/// colmena's deployment goal (`colmena apply <goal>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployGoal {
    Switch,
    Boot,
    Test,
    DryActivate,
    Build,
    Push,
}

impl DeployGoal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Switch => "switch",
            Self::Boot => "boot",
            Self::Test => "test",
            Self::DryActivate => "dry-activate",
            Self::Build => "build",
            Self::Push => "push",
        }
    }
}

impl std::str::FromStr for DeployGoal {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Self, PlanError> {
        Ok(match s {
            "switch" => Self::Switch,
            "boot" => Self::Boot,
            "test" => Self::Test,
            "dry-activate" => Self::DryActivate,
            "build" => Self::Build,
            "push" => Self::Push,
            _ => {
                return Err(PlanError::Invalid {
                    what: "goal",
                    value: s.into(),
                    why: "use switch, boot, test, dry-activate, build or push",
                })
            }
        })
    }
}

/// The redeploy choices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployOptions {
    /// `None` leaves the goal to colmena (switch, or boot with `--reboot`).
    pub goal: Option<DeployGoal>,
    /// The `--on` filter as the user typed it; `None` deploys every node.
    pub on: Option<String>,
    pub build_on_target: bool,
    pub reboot: bool,
    /// `--parallel N` (0 = no limit); `None` keeps colmena's default of 10.
    pub parallel: Option<u32>,
}

/// `nix run --inputs-from . colmena#colmena -- apply [goal] --on <filter>
/// [--build-on-target] [--reboot] [--parallel N]` (or the article's `nix run
/// github:zhaofengli/colmena`, or `colmena`, by the settings' [`ToolSource`]).
/// The filter is checked with [`super::selection::NodeFilter`] first, so a bad
/// glob never reaches colmena. A pinned colmena comes from the repository's
/// `colmena` input; see [`deploy_command_for`] for repositories without one.
pub fn deploy_command(
    settings: &ToolSettings,
    options: &DeployOptions,
) -> Result<CommandLine, DeployPlanError> {
    deploy_command_for(settings, ColmenaPin::Input, options)
}

/// [`deploy_command`] with the pinned colmena taken from `pin` (what the
/// repository's `flake.lock` has: see `super::pins::colmena_pin`).
pub fn deploy_command_for(
    settings: &ToolSettings,
    pin: ColmenaPin,
    options: &DeployOptions,
) -> Result<CommandLine, DeployPlanError> {
    let mut cmd = match (settings.tool_source(), pin) {
        (ToolSource::Path, _) => CommandLine::new("colmena"),
        (ToolSource::Article, _) => nix_run(settings, false, ARTICLE_COLMENA),
        (ToolSource::Pinned, ColmenaPin::Input) => nix_run(settings, true, "colmena#colmena"),
        (ToolSource::Pinned, ColmenaPin::Nixpkgs) => nix_run(settings, true, "nixpkgs#colmena"),
    };
    cmd.arg("apply");
    if let Some(goal) = options.goal {
        cmd.arg(goal.as_str());
    }
    if let Some(on) = &options.on {
        super::selection::NodeFilter::parse(on)?;
        // One word with `=`: a filter can never be read as an option of its own.
        cmd.arg(format!("--on={}", on.trim()));
    }
    if options.build_on_target {
        cmd.arg("--build-on-target");
    }
    if options.reboot {
        cmd.arg("--reboot");
    }
    if let Some(n) = options.parallel {
        cmd.arg("--parallel").arg(n.to_string());
    }
    Ok(cmd)
}

/// Why a deploy command could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeployPlanError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Selection(#[from] super::selection::SelectionError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostTarget {
        HostTarget {
            name: "my-server".into(),
            address: "203.0.113.7".into(),
            user: "root".into(),
            port: None,
            tags: vec![],
            build_on_target: false,
        }
    }

    const FLAKES: ToolSettings = ToolSettings {
        flakes_enabled: true,
        tools_from_path: false,
        source: ToolSource::Pinned,
    };

    const ARTICLE: ToolSettings = ToolSettings {
        flakes_enabled: true,
        tools_from_path: false,
        source: ToolSource::Article,
    };

    #[test]
    fn lock_and_validate_match_the_article() {
        assert_eq!(lock_command(&FLAKES).argv(), ["nix", "flake", "lock"]);
        assert_eq!(
            validate_command(&FLAKES, "my-server").unwrap().argv(),
            [
                "nix",
                "build",
                ".#nixosConfigurations.my-server.config.system.build.toplevel"
            ]
        );
    }

    #[test]
    fn experimental_features_are_two_arguments_when_flakes_are_off() {
        let off = ToolSettings::default();
        assert_eq!(
            lock_command(&off).argv(),
            [
                "nix",
                "--extra-experimental-features",
                "nix-command flakes",
                "flake",
                "lock"
            ]
        );
        let install = install_command(&off, &host(), &InstallOptions::default()).unwrap();
        assert_eq!(
            &install.argv()[..4],
            [
                "nix",
                "--extra-experimental-features",
                "nix-command flakes",
                "run"
            ]
        );
        let deploy = deploy_command(&off, &DeployOptions::default()).unwrap();
        assert_eq!(
            &deploy.argv()[1..3],
            ["--extra-experimental-features", "nix-command flakes"]
        );
        assert_eq!(
            deploy.to_string(),
            "nix --extra-experimental-features 'nix-command flakes' run --inputs-from . colmena#colmena -- apply"
        );
    }

    #[test]
    fn the_default_runs_the_tools_the_lock_pins() {
        assert_eq!(ToolSettings::default().tool_source(), ToolSource::Pinned);
        let install = install_command(&FLAKES, &host(), &InstallOptions::default()).unwrap();
        assert_eq!(
            &install.argv()[..6],
            [
                "nix",
                "run",
                "--inputs-from",
                ".",
                "nixpkgs#nixos-anywhere",
                "--"
            ]
        );
        let on = DeployOptions {
            on: Some("my-server".into()),
            ..Default::default()
        };
        assert_eq!(
            deploy_command(&FLAKES, &on).unwrap().to_string(),
            "nix run --inputs-from . colmena#colmena -- apply --on=my-server"
        );
        assert_eq!(
            deploy_command_for(&FLAKES, ColmenaPin::Nixpkgs, &on)
                .unwrap()
                .to_string(),
            "nix run --inputs-from . nixpkgs#colmena -- apply --on=my-server"
        );
    }

    #[test]
    fn each_source_names_its_tools() {
        let on = DeployOptions {
            on: Some("my-server".into()),
            ..Default::default()
        };
        let path = ToolSettings {
            source: ToolSource::Path,
            ..FLAKES
        };
        // The older switch still means PATH whatever the source says.
        let switch = ToolSettings {
            tools_from_path: true,
            ..ARTICLE
        };
        for (settings, install, deploy) in [
            (
                &FLAKES,
                "nix run --inputs-from . nixpkgs#nixos-anywhere --",
                "nix run --inputs-from . colmena#colmena -- apply --on=my-server",
            ),
            (
                &ARTICLE,
                "nix run nixpkgs#nixos-anywhere --",
                "nix run github:zhaofengli/colmena -- apply --on=my-server",
            ),
            (&path, "nixos-anywhere", "colmena apply --on=my-server"),
            (&switch, "nixos-anywhere", "colmena apply --on=my-server"),
        ] {
            let shown = install_command(settings, &host(), &InstallOptions::default())
                .unwrap()
                .to_string();
            assert!(
                shown.starts_with(&format!("{install} --generate-hardware-config ")),
                "{shown}"
            );
            // Only a pinned colmena depends on what the lock holds.
            for pin in [ColmenaPin::Input, ColmenaPin::Nixpkgs] {
                if settings.tool_source() == ToolSource::Pinned && pin == ColmenaPin::Nixpkgs {
                    continue;
                }
                let cmd = deploy_command_for(settings, pin, &on).unwrap().to_string();
                assert_eq!(cmd, deploy);
            }
        }
        for source in [ToolSource::Pinned, ToolSource::Article, ToolSource::Path] {
            assert_eq!(source.as_str().parse::<ToolSource>(), Ok(source));
        }
        assert!("latest".parse::<ToolSource>().is_err());
    }

    #[test]
    fn settings_stored_without_a_source_read_as_pinned() {
        let old: ToolSettings =
            serde_json::from_str(r#"{"flakes_enabled":true,"tools_from_path":false}"#).unwrap();
        assert_eq!(old.tool_source(), ToolSource::Pinned);
    }

    #[test]
    fn install_article_is_the_article_command() {
        let cmd = install_command(&ARTICLE, &host(), &InstallOptions::default()).unwrap();
        assert_eq!(
            cmd.argv(),
            [
                "nix",
                "run",
                "nixpkgs#nixos-anywhere",
                "--",
                "--generate-hardware-config",
                "nixos-generate-config",
                "./hosts/my-server/hardware-configuration.nix",
                "--flake",
                ".#my-server",
                "--target-host",
                "root@203.0.113.7",
            ]
        );
    }

    #[test]
    fn install_with_every_option() {
        let mut h = host();
        h.port = Some(2222);
        h.user = "admin".into();
        let options = InstallOptions {
            hardware: HardwareBackend::NixosFacter,
            identity_file: Some("/home/me/.ssh/id_ed25519".into()),
            build_on_remote: true,
            phases: Some(vec![
                InstallPhase::Install,
                InstallPhase::Kexec,
                InstallPhase::Disko,
            ]),
            copy_host_keys: true,
            extra_files: Some("./extra".into()),
            disk_encryption_keys: vec![DiskEncryptionKey {
                remote_path: "/tmp/secret.key".into(),
                local_file: "/run/user/0/nixdeck-key".into(),
            }],
            env_password: true,
        };
        let tools = ToolSettings {
            tools_from_path: true,
            ..FLAKES
        };
        assert_eq!(
            install_command(&tools, &h, &options).unwrap().argv(),
            [
                "nixos-anywhere",
                "--generate-hardware-config",
                "nixos-facter",
                "./hosts/my-server/facter.json",
                "--flake",
                ".#my-server",
                "--target-host",
                "admin@203.0.113.7",
                "-p",
                "2222",
                "-i",
                "/home/me/.ssh/id_ed25519",
                "--build-on",
                "remote",
                "--phases",
                "kexec,disko,install",
                "--copy-host-keys",
                "--extra-files",
                "./extra",
                "--env-password",
                "--disk-encryption-keys",
                "/tmp/secret.key",
                "/run/user/0/nixdeck-key",
            ]
        );
    }

    #[test]
    fn settings_pass_the_typed_rules_wherever_they_come_from() {
        let field_of = |h: &HostTarget| match check_target(h) {
            Err(PlanError::Setting { field, .. }) => field,
            other => panic!("expected a refused setting, got {other:?}"),
        };
        let mut h = host();
        h.address = "h$(id)&x=1".into();
        assert_eq!(field_of(&h), "targetHost");
        let err = install_command(&FLAKES, &h, &InstallOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("host my-server: deployment.targetHost"),
            "{err}"
        );
        let mut h = host();
        h.user = "root;id".into();
        assert_eq!(field_of(&h), "targetUser");
        let mut h = host();
        h.port = Some(0);
        assert_eq!(field_of(&h), "targetPort");
        let mut h = host();
        h.tags = vec!["web".into(), "a b".into()];
        assert_eq!(field_of(&h), "tags");
        assert!(check_target(&host()).is_ok());
    }

    #[test]
    fn install_refuses_bad_input() {
        let mut h = host();
        h.name = "a;rm -rf".into();
        assert!(install_command(&FLAKES, &h, &InstallOptions::default()).is_err());
        let mut h = host();
        h.address = "-oProxyCommand=x".into();
        assert!(install_command(&FLAKES, &h, &InstallOptions::default()).is_err());
        let mut h = host();
        h.address = "root@x".into();
        assert!(install_command(&FLAKES, &h, &InstallOptions::default()).is_err());
        let no_phases = InstallOptions {
            phases: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            install_command(&FLAKES, &host(), &no_phases),
            Err(PlanError::NoPhases)
        );
        let relative = InstallOptions {
            disk_encryption_keys: vec![DiskEncryptionKey {
                remote_path: "tmp/k".into(),
                local_file: "/k".into(),
            }],
            ..Default::default()
        };
        assert!(install_command(&FLAKES, &host(), &relative).is_err());
    }

    #[test]
    fn deploy_matches_the_article_and_options() {
        let on = DeployOptions {
            on: Some("my-server".into()),
            ..Default::default()
        };
        assert_eq!(
            deploy_command(&ARTICLE, &on).unwrap().argv(),
            [
                "nix",
                "run",
                "github:zhaofengli/colmena",
                "--",
                "apply",
                "--on=my-server"
            ]
        );
        let all = DeployOptions {
            goal: Some(DeployGoal::DryActivate),
            on: Some(" @web,db-* ".into()),
            build_on_target: true,
            reboot: true,
            parallel: Some(0),
        };
        let tools = ToolSettings {
            tools_from_path: true,
            ..FLAKES
        };
        assert_eq!(
            deploy_command(&tools, &all).unwrap().argv(),
            [
                "colmena",
                "apply",
                "dry-activate",
                "--on=@web,db-*",
                "--build-on-target",
                "--reboot",
                "--parallel",
                "0"
            ]
        );
        for goal in ["switch", "boot", "test", "dry-activate", "build", "push"] {
            let g: DeployGoal = goal.parse().unwrap();
            assert_eq!(g.as_str(), goal);
        }
        assert!("keys".parse::<DeployGoal>().is_err());
    }

    #[test]
    fn deploy_refuses_filters_colmena_would_choke_on() {
        let bad = DeployOptions {
            on: Some("web[".into()),
            ..Default::default()
        };
        assert!(matches!(
            deploy_command(&FLAKES, &bad),
            Err(DeployPlanError::Selection(_))
        ));
        let empty = DeployOptions {
            on: Some("a,,b".into()),
            ..Default::default()
        };
        assert!(deploy_command(&FLAKES, &empty).is_err());
    }

    #[test]
    fn secrets_are_redacted_in_display_and_stored_argv() {
        let mut cmd = lock_command(&FLAKES);
        cmd.secret_arg("hunter2").secret_env("SSHPASS", "pw0rd");
        assert_eq!(cmd.argv().last().unwrap(), "hunter2");
        assert_eq!(cmd.redacted_argv(), ["nix", "flake", "lock", REDACTED]);
        let shown = cmd.to_string();
        assert!(
            !shown.contains("hunter2") && !shown.contains("pw0rd"),
            "{shown}"
        );
        assert_eq!(shown, "SSHPASS='<redacted>' nix flake lock '<redacted>'");
        assert_eq!(cmd.secrets(), ["hunter2", "pw0rd"]);
        let json = serde_json::to_string(&cmd.redacted_argv()).unwrap();
        assert!(!json.contains("hunter2"));
        let debug = format!("{cmd:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("pw0rd"),
            "{debug}"
        );
    }

    #[test]
    fn shell_quoting_round_trips_awkward_words() {
        assert_eq!(shell_quote("plain-word"), "plain-word");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a b"), "'a b'");
    }
}
