//! nixos-anywhere's output: its step markers (`### <text> ###`), its `aborted: …`
//! lines, and a [`StepTracker`] that follows a run line by line.
//!
//! nixos-anywhere's `step` function prints `### $* ###` on stdout for every step;
//! `abort` prints `aborted: $*` on stderr and exits 1. Real captures add noise the
//! tracker must see through: trailing spaces and `\r` (from `ssh -t`), colours,
//! `--debug` shell traces that quote the marker (`+ step Installing NixOS`,
//! `+ echo '### Installing NixOS ###'`: not markers), and a nix progress text
//! glued in front of a marker by a redraw.

use serde::{Deserialize, Serialize};

use super::lines::{strip_ansi, strip_collector_prefix};

/// What a step marker says nixos-anywhere is doing, old and new spellings
/// mapped onto one value.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "AnywherePhase")]
pub enum Phase {
    /// `Uploading install SSH keys` (ssh-copy-id of the temporary key).
    UploadSshKeys,
    /// `Gathering machine facts` (before kexec, and again after it).
    Facts,
    /// `Generating hardware-configuration.nix using nixos-generate-config`,
    /// `Generating facter.json using nixos-facter…`.
    HardwareConfig,
    /// `Switching system into kexec`.
    Kexec,
    /// `Uploading <local> to <remote>`: `--disk-encryption-keys`.
    DiskEncryptionKeys,
    /// `Building disko script` (`--build-on remote`).
    BuildDisko,
    /// `Formatting hard drive with disko`.
    Disko,
    /// `Uploading the system closure` or `Building the system closure`.
    Closure,
    /// `Copying extra files`.
    ExtraFiles,
    /// `Installing NixOS` (nixos-install on the target).
    Install,
    /// `Rebooting`.
    Reboot,
    /// `Waiting for the machine to become unreachable due to reboot`, and the
    /// older `Waiting for the machine to become reachable again`.
    WaitForReboot,
    /// `Done!`.
    Done,
    /// A marker this version of nixdeck does not know.
    Other,
}

impl Phase {
    /// The phase a marker's text names.
    pub fn from_marker_text(text: &str) -> Phase {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "uploading install ssh keys" => Phase::UploadSshKeys,
            "gathering machine facts" => Phase::Facts,
            "switching system into kexec" => Phase::Kexec,
            "building disko script" => Phase::BuildDisko,
            "formatting hard drive with disko" => Phase::Disko,
            "uploading the system closure" | "building the system closure" => Phase::Closure,
            "copying extra files" => Phase::ExtraFiles,
            "installing nixos" => Phase::Install,
            "rebooting" => Phase::Reboot,
            "done!" | "done" => Phase::Done,
            _ if t.starts_with("generating hardware-configuration.nix")
                || t.starts_with("generating facter.json") =>
            {
                Phase::HardwareConfig
            }
            _ if t.starts_with("waiting for the machine to become") => Phase::WaitForReboot,
            _ if t.starts_with("uploading ") && t.contains(" to ") => Phase::DiskEncryptionKeys,
            _ => Phase::Other,
        }
    }

    /// A short stable id (`facts`, `kexec`, `disko`, `install`, `reboot`, `done`…).
    pub fn id(self) -> &'static str {
        match self {
            Phase::UploadSshKeys => "upload_ssh_keys",
            Phase::Facts => "facts",
            Phase::HardwareConfig => "hardware_config",
            Phase::Kexec => "kexec",
            Phase::DiskEncryptionKeys => "disk_encryption_keys",
            Phase::BuildDisko => "build_disko",
            Phase::Disko => "disko",
            Phase::Closure => "closure",
            Phase::ExtraFiles => "extra_files",
            Phase::Install => "install",
            Phase::Reboot => "reboot",
            Phase::WaitForReboot => "wait_for_reboot",
            Phase::Done => "done",
            Phase::Other => "other",
        }
    }

    /// Whether the step writes the target's disks: disko formats them, then the
    /// closure, the extra files and nixos-install write into the new file systems.
    pub fn writes_disks(self) -> bool {
        matches!(
            self,
            Phase::Disko | Phase::Closure | Phase::ExtraFiles | Phase::Install
        )
    }

    /// The `--phases` name this step belongs to (`kexec`, `disko`, `install`,
    /// `reboot`), or `None` for steps every run has (keys, facts, done).
    pub fn run_phase(self) -> Option<&'static str> {
        match self {
            Phase::Kexec => Some("kexec"),
            Phase::DiskEncryptionKeys | Phase::BuildDisko | Phase::Disko => Some("disko"),
            Phase::Closure | Phase::ExtraFiles | Phase::Install => Some("install"),
            Phase::Reboot | Phase::WaitForReboot => Some("reboot"),
            Phase::UploadSshKeys
            | Phase::Facts
            | Phase::HardwareConfig
            | Phase::Done
            | Phase::Other => None,
        }
    }
}

/// A step marker line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The text between the `###`, trimmed.
    pub text: String,
    pub phase: Phase,
    /// Something (a progress redraw) was glued in front of the marker.
    pub glued: bool,
}

/// The step marker on this line, if it is one. Accepts raw terminal lines
/// (colours, `\r`, trailing spaces). Shell-trace lines of `--debug` runs are not
/// markers.
pub fn parse_marker(line: &str) -> Option<Marker> {
    if !line.contains("###") {
        return None;
    }
    let plain = strip_ansi(line);
    let t = strip_collector_prefix(&plain).trim();
    if !t.ends_with("###") || t.len() < 7 {
        return None;
    }
    let (inner, glued) = if let Some(rest) = t.strip_prefix("###") {
        (rest.strip_suffix("###")?, false)
    } else {
        // Something glued in front: take the marker from its opening `### `.
        // A shell trace (`+ echo '### … ###'`) ends with a quote, not here; a
        // line starting with `+` is a trace whatever it ends with.
        if t.starts_with('+') {
            return None;
        }
        let open = t.find("### ")?;
        (t[open + 3..].strip_suffix("###")?, true)
    };
    // `### text ###` needs the spaces: `####` rulers and `###x###` are not markers.
    if !inner.starts_with(' ') || !inner.ends_with(' ') {
        return None;
    }
    let text = inner.trim();
    if text.is_empty() || text.contains("###") {
        return None;
    }
    Some(Marker {
        text: text.to_string(),
        phase: Phase::from_marker_text(text),
        glued,
    })
}

/// The reason of an `aborted: <reason>` line, if this is one.
pub fn parse_abort(line: &str) -> Option<String> {
    if !line.contains("aborted:") {
        return None;
    }
    let plain = strip_ansi(line);
    let reason = strip_collector_prefix(&plain)
        .trim()
        .strip_prefix("aborted:")?;
    Some(reason.trim().to_string())
}

/// One step of a run: from its marker to the line before the next marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "AnywhereStep")]
pub struct Step {
    /// The marker text.
    pub name: String,
    pub phase: Phase,
    /// 1-based line of the marker.
    pub first_line: usize,
    /// 1-based last line that belongs to the step (the marker's line until more comes).
    pub last_line: usize,
    /// How many earlier steps had the same marker text (0 the first time).
    pub repeat: u32,
}

/// What a line changed in the run's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepEvent {
    /// A step ended because the next one started.
    Finished {
        index: usize,
        name: String,
        phase: Phase,
        first_line: usize,
        last_line: usize,
    },
    /// A marker started a step.
    Started {
        index: usize,
        name: String,
        phase: Phase,
        line: usize,
        repeat: u32,
    },
    /// An `aborted: …` line.
    Aborted { reason: String, line: usize },
}

/// Follows a nixos-anywhere run line by line.
///
/// Feed every line in order with its 1-based number; markers start steps, every
/// other line extends the current one. Cheap on ordinary lines (no allocation).
#[derive(Debug, Clone, Default)]
pub struct StepTracker {
    steps: Vec<Step>,
    abort: Option<(usize, String)>,
    lines: usize,
}

impl StepTracker {
    /// A tracker before the first line.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next line; returns what it changed (empty for most lines).
    pub fn feed(&mut self, line_no: usize, line: &str) -> Vec<StepEvent> {
        self.lines = self.lines.max(line_no);
        if let Some(marker) = parse_marker(line) {
            let mut events = Vec::with_capacity(2);
            if let Some((index, prev)) = self.steps.iter().enumerate().next_back() {
                events.push(StepEvent::Finished {
                    index,
                    name: prev.name.clone(),
                    phase: prev.phase,
                    first_line: prev.first_line,
                    last_line: prev.last_line,
                });
            }
            let repeat = self.steps.iter().filter(|s| s.name == marker.text).count() as u32;
            let index = self.steps.len();
            events.push(StepEvent::Started {
                index,
                name: marker.text.clone(),
                phase: marker.phase,
                line: line_no,
                repeat,
            });
            self.steps.push(Step {
                name: marker.text,
                phase: marker.phase,
                first_line: line_no,
                last_line: line_no,
                repeat,
            });
            return events;
        }
        if let Some(step) = self.steps.last_mut() {
            step.last_line = line_no;
        }
        if let Some(reason) = parse_abort(line) {
            if self.abort.is_none() {
                self.abort = Some((line_no, reason.clone()));
            }
            return vec![StepEvent::Aborted {
                reason,
                line: line_no,
            }];
        }
        Vec::new()
    }

    /// Every step so far, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The step running now (the last one).
    pub fn current(&self) -> Option<&Step> {
        self.steps.last()
    }

    /// The first `aborted:` line: its number and reason.
    pub fn aborted(&self) -> Option<(usize, &str)> {
        self.abort.as_ref().map(|(l, r)| (*l, r.as_str()))
    }

    /// Whether cancelling now can leave the target's disks half-written: from
    /// disko's start until the install finished (a reboot or `Done!` came after
    /// the last step that writes the disks).
    pub fn disks_at_risk(&self) -> bool {
        self.steps.iter().fold(false, |at_risk, step| {
            if step.phase.writes_disks() {
                true
            } else if matches!(
                step.phase,
                Phase::Reboot | Phase::WaitForReboot | Phase::Done
            ) {
                false
            } else {
                at_risk
            }
        })
    }

    /// Whether `Done!` was printed.
    pub fn done(&self) -> bool {
        self.steps.iter().any(|s| s.phase == Phase::Done)
    }

    /// The highest line number fed.
    pub fn lines_seen(&self) -> usize {
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_are_at_risk_from_disko_until_the_install_finished() {
        let mut t = StepTracker::new();
        let mut risk = Vec::new();
        for (i, marker) in [
            "Uploading install SSH keys",
            "Gathering machine facts",
            "Switching system into kexec",
            "Building disko script",
            "Formatting hard drive with disko",
            "Uploading the system closure",
            "Copying extra files",
            "Installing NixOS",
            "Rebooting",
            "Done!",
        ]
        .iter()
        .enumerate()
        {
            t.feed(i + 1, &format!("### {marker} ###"));
            risk.push(t.disks_at_risk());
        }
        assert_eq!(
            risk,
            [false, false, false, false, true, true, true, true, false, false]
        );
        // Lines inside a step do not change it; an abort in disko keeps the risk.
        t = StepTracker::new();
        t.feed(1, "### Formatting hard drive with disko ###");
        t.feed(2, "aborted: disko failed");
        assert!(t.disks_at_risk());
    }

    #[test]
    fn marker_with_trailing_spaces_cr_and_colour() {
        let m = parse_marker("### Installing NixOS ###   \r").expect("marker");
        assert_eq!(m.text, "Installing NixOS");
        assert_eq!(m.phase, Phase::Install);
        assert!(!m.glued);
        let m = parse_marker("\x1b[1m### Done! ###\x1b[0m").expect("marker");
        assert_eq!(m.phase, Phase::Done);
    }

    #[test]
    fn shell_traces_are_not_markers() {
        assert_eq!(parse_marker("+ step Installing NixOS"), None);
        assert_eq!(parse_marker("+ echo '### Installing NixOS ###'"), None);
        assert_eq!(
            parse_marker("++ echo '### Gathering machine facts ###'"),
            None
        );
        assert_eq!(parse_marker("+ echo ### Done! ###"), None);
    }

    #[test]
    fn rulers_and_headings_are_not_markers() {
        assert_eq!(parse_marker("##########"), None);
        assert_eq!(parse_marker("###x###"), None);
        assert_eq!(parse_marker("### ###"), None);
        assert_eq!(parse_marker("### Heading"), None);
    }

    #[test]
    fn glued_marker_is_found() {
        let m = parse_marker("[3 copied (12.1 MiB)] copying 2 paths### Installing NixOS ###")
            .expect("marker");
        assert_eq!(m.text, "Installing NixOS");
        assert!(m.glued);
    }

    #[test]
    fn old_and_new_spellings_map_to_phases() {
        let cases = [
            ("Uploading install SSH keys", Phase::UploadSshKeys),
            ("Gathering machine facts", Phase::Facts),
            (
                "Generating hardware-configuration.nix using nixos-generate-config",
                Phase::HardwareConfig,
            ),
            (
                "Generating facter.json using nixos-facter from nixpkgs",
                Phase::HardwareConfig,
            ),
            ("Switching system into kexec", Phase::Kexec),
            (
                "Uploading /tmp/secret.key to /tmp/disk.key",
                Phase::DiskEncryptionKeys,
            ),
            ("Building disko script", Phase::BuildDisko),
            ("Formatting hard drive with disko", Phase::Disko),
            ("Uploading the system closure", Phase::Closure),
            ("Building the system closure", Phase::Closure),
            ("Copying extra files", Phase::ExtraFiles),
            ("Installing NixOS", Phase::Install),
            ("Rebooting", Phase::Reboot),
            (
                "Waiting for the machine to become unreachable due to reboot",
                Phase::WaitForReboot,
            ),
            (
                "Waiting for the machine to become reachable again",
                Phase::WaitForReboot,
            ),
            ("Done!", Phase::Done),
            ("Something new", Phase::Other),
        ];
        for (text, phase) in cases {
            assert_eq!(Phase::from_marker_text(text), phase, "{text}");
        }
        assert_eq!(Phase::Disko.run_phase(), Some("disko"));
        assert_eq!(Phase::Facts.run_phase(), None);
        assert_eq!(Phase::WaitForReboot.run_phase(), Some("reboot"));
    }

    #[test]
    fn abort_lines() {
        assert_eq!(
            parse_abort("aborted: no tar command found, but required to unpack kexec tarball\r")
                .as_deref(),
            Some("no tar command found, but required to unpack kexec tarball")
        );
        assert_eq!(parse_abort("+ abort 'x'"), None);
        assert_eq!(parse_abort("echo aborted: x"), None);
    }

    #[test]
    fn tracker_follows_steps_and_repeats() {
        let lines = [
            "Warning: Permanently added '10.0.0.5' (ED25519) to the list of known hosts.",
            "### Uploading install SSH keys ###",
            "Number of key(s) added: 1",
            "### Gathering machine facts ### ",
            "+ echo '### Switching system into kexec ###'",
            "### Switching system into kexec ###",
            "machine will boot into nixos in 6s...",
            "### Gathering machine facts ###",
            "aborted: Failed to kexec into NixOS installer",
        ];
        let mut t = StepTracker::new();
        let mut events = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            events.extend(t.feed(i + 1, l));
        }
        let names: Vec<_> = t.steps().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Uploading install SSH keys",
                "Gathering machine facts",
                "Switching system into kexec",
                "Gathering machine facts"
            ]
        );
        assert_eq!((t.steps()[0].first_line, t.steps()[0].last_line), (2, 3));
        assert_eq!((t.steps()[1].first_line, t.steps()[1].last_line), (4, 5));
        assert_eq!((t.steps()[3].first_line, t.steps()[3].last_line), (8, 9));
        assert_eq!(t.steps()[3].repeat, 1);
        assert_eq!(
            t.aborted(),
            Some((9, "Failed to kexec into NixOS installer"))
        );
        assert!(!t.done());
        assert!(matches!(
            events.last(),
            Some(StepEvent::Aborted { line: 9, .. })
        ));
        assert!(events.contains(&StepEvent::Finished {
            index: 2,
            name: "Switching system into kexec".into(),
            phase: Phase::Kexec,
            first_line: 6,
            last_line: 7
        }));
    }
}
