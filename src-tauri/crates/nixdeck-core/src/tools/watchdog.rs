//! The watchdog's policy: when a running nixos-anywhere step or colmena node has
//! been quiet too long, or keeps repeating itself, and what to tell the user.
//!
//! nixos-anywhere mostly fails by going silent (kexec into a machine that never
//! comes back, disko waiting for a device) or by retrying forever (uploading
//! keys). Neither ends the process, so only a clock turns them into an answer.
//! This module is pure: the caller feeds it lines and the time since the job
//! started, and asks [`Watchdog::check`] periodically; it never reads a clock.
//! Limits are per step (generous for `Installing NixOS` and closure copies,
//! short for gathering facts) and configurable, so tests run with tiny ones.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::colmena::{self, ColmenaLine, Label, NodeState, NodeTracker};
use super::explain::Tool;
use super::lines::strip_ansi;
use super::nixos_anywhere::{parse_marker, Phase};

const MIN: u64 = 60;

/// Silence limits and loop thresholds. `Default` holds the values nixdeck uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchdogConfig {
    /// Silence allowed per nixos-anywhere step.
    pub step_silence: BTreeMap<Phase, Duration>,
    /// Silence allowed before the first step (local evaluation and builds).
    pub before_first_step: Duration,
    /// Silence allowed for a step this version does not know.
    pub other_step: Duration,
    /// Silence allowed per colmena node state.
    pub node_silence: BTreeMap<NodeState, Duration>,
    /// How often a step may start before it counts as a loop (`Gathering
    /// machine facts` runs twice in a normal install: before and after kexec).
    pub step_repeats: BTreeMap<Phase, u32>,
    /// Default for [`Self::step_repeats`].
    pub default_step_repeats: u32,
    /// The same line this many times inside one step (or for one node) is a loop.
    pub repeated_line: u32,
    /// Same, for steps where retries are expected while a machine reboots.
    pub repeated_line_while_rebooting: u32,
}

impl Default for WatchdogConfig {
    fn default() -> Self {
        let m = |minutes: u64| Duration::from_secs(minutes * MIN);
        let step_silence = BTreeMap::from([
            (Phase::UploadSshKeys, m(2)),
            (Phase::Facts, m(2)),
            (Phase::HardwareConfig, m(5)),
            (Phase::Kexec, m(10)),
            (Phase::DiskEncryptionKeys, m(2)),
            (Phase::BuildDisko, m(30)),
            (Phase::Disko, m(10)),
            (Phase::Closure, m(45)),
            (Phase::ExtraFiles, m(15)),
            (Phase::Install, m(45)),
            (Phase::Reboot, m(3)),
            (Phase::WaitForReboot, m(5)),
            (Phase::Done, m(2)),
        ]);
        let node_silence = BTreeMap::from([
            (NodeState::Evaluating, m(20)),
            (NodeState::Evaluated, m(10)),
            (NodeState::Building, m(45)),
            (NodeState::Built, m(10)),
            (NodeState::Pushing, m(45)),
            (NodeState::Pushed, m(10)),
            (NodeState::UploadingKeys, m(3)),
            (NodeState::Activating, m(10)),
            (NodeState::Rebooting, m(10)),
        ]);
        Self {
            step_silence,
            before_first_step: m(20),
            other_step: m(15),
            node_silence,
            step_repeats: BTreeMap::from([(Phase::Facts, 2)]),
            default_step_repeats: 1,
            repeated_line: 5,
            repeated_line_while_rebooting: 40,
        }
    }
}

impl WatchdogConfig {
    /// Every limit set to `silence` and every threshold kept: for tests and demos.
    pub fn uniform(silence: Duration) -> Self {
        let mut config = Self::default();
        for v in config.step_silence.values_mut() {
            *v = silence;
        }
        for v in config.node_silence.values_mut() {
            *v = silence;
        }
        config.before_first_step = silence;
        config.other_step = silence;
        config
    }

    /// The silence limit of a nixos-anywhere step (`None`: before the first step).
    pub fn step_limit(&self, phase: Option<Phase>) -> Duration {
        match phase {
            None => self.before_first_step,
            Some(p) => self
                .step_silence
                .get(&p)
                .copied()
                .unwrap_or(self.other_step),
        }
    }

    /// The silence limit of a colmena node in `state` (`None`: final states).
    pub fn node_limit(&self, state: NodeState) -> Option<Duration> {
        self.node_silence.get(&state).copied()
    }

    fn repeats_allowed(&self, phase: Phase) -> u32 {
        self.step_repeats
            .get(&phase)
            .copied()
            .unwrap_or(self.default_step_repeats)
    }
}

/// What the watchdog noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertKind {
    /// No output past the limit.
    Silent {
        #[ts(type = "{ secs: number, nanos: number }")]
        silent_for: Duration,
        #[ts(type = "{ secs: number, nanos: number }")]
        limit: Duration,
    },
    /// The same step started again (`count` times in all).
    RepeatedStep { count: u32 },
    /// The same line came `count` times in this step (or for this node).
    RepeatedLine { count: u32, text: String },
}

/// A message for the install view: which step (or node), what is wrong, what
/// usually causes it there. The user decides: keep waiting or cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "WatchdogAlert")]
pub struct Alert {
    #[serde(flatten)]
    pub kind: AlertKind,
    /// The step's marker text, or a colmena node's state.
    pub step: String,
    /// The colmena node, if about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node: Option<String>,
    /// 1-based line of the step's start (or the repeated line's first).
    pub line: usize,
    /// What to say, in one or two sentences.
    pub message: String,
    /// What usually causes this at this step.
    pub usual_causes: String,
}

#[derive(Debug, Clone)]
struct Watch {
    /// Step name or node state id.
    step: String,
    phase: Option<Phase>,
    state: Option<NodeState>,
    /// Line where the step began.
    line: usize,
    last_output: Duration,
    /// Silence already reported for the current quiet spell.
    silence_reported: bool,
    /// Lines seen in this step, with count and first line number.
    repeats: HashMap<String, (u32, usize)>,
    repeat_reported: bool,
}

impl Watch {
    fn new(
        step: String,
        phase: Option<Phase>,
        state: Option<NodeState>,
        line: usize,
        now: Duration,
    ) -> Self {
        Self {
            step,
            phase,
            state,
            line,
            last_output: now,
            silence_reported: false,
            repeats: HashMap::new(),
            repeat_reported: false,
        }
    }
}

/// Watches one running job.
#[derive(Debug, Clone)]
pub struct Watchdog {
    tool: Tool,
    config: WatchdogConfig,
    /// nixos-anywhere: the current step (before the first marker: a pseudo-step).
    step: Watch,
    step_starts: HashMap<String, u32>,
    /// colmena: one watch per node, fed by a node tracker.
    nodes: BTreeMap<String, Watch>,
    tracker: NodeTracker,
    pending: Vec<Alert>,
    line_no: usize,
}

impl Watchdog {
    /// A watchdog for a job of `tool` that starts at time zero.
    pub fn new(tool: Tool, config: WatchdogConfig) -> Self {
        Self {
            tool,
            config,
            step: Watch::new(
                "before the first step".into(),
                None,
                None,
                1,
                Duration::ZERO,
            ),
            step_starts: HashMap::new(),
            nodes: BTreeMap::new(),
            tracker: NodeTracker::new(),
            pending: Vec::new(),
            line_no: 0,
        }
    }

    /// Takes the next output line at time `now` (since the job started).
    /// Loops are detected here; they come out of the next [`Self::check`].
    pub fn on_line(&mut self, now: Duration, line: &str) {
        self.line_no += 1;
        let n = self.line_no;
        match self.tool {
            Tool::NixosAnywhere => self.anywhere_line(now, n, line),
            Tool::Colmena => self.colmena_line(now, n, line),
        }
    }

    fn anywhere_line(&mut self, now: Duration, n: usize, line: &str) {
        if let Some(marker) = parse_marker(line) {
            let count = self.step_starts.entry(marker.text.clone()).or_insert(0);
            *count += 1;
            let count = *count;
            self.step = Watch::new(marker.text.clone(), Some(marker.phase), None, n, now);
            if count > self.config.repeats_allowed(marker.phase) {
                let causes = step_causes(Some(marker.phase)).to_string();
                self.pending.push(Alert {
                    kind: AlertKind::RepeatedStep { count },
                    message: format!(
                        "`{}` has started {count} times: nixos-anywhere is going round in a loop.",
                        marker.text
                    ),
                    step: marker.text,
                    node: None,
                    line: n,
                    usual_causes: causes,
                });
            }
            return;
        }
        self.step.last_output = now;
        self.step.silence_reported = false;
        let limit = match self.step.phase {
            Some(Phase::Kexec | Phase::Reboot | Phase::WaitForReboot) => {
                self.config.repeated_line_while_rebooting
            }
            _ => self.config.repeated_line,
        };
        let plain = strip_ansi(line);
        let text = plain.trim();
        // `--debug` traces repeat by nature.
        if !text.starts_with('+') {
            if let Some(alert) = count_repeat(&mut self.step, n, text, limit, None) {
                self.pending.push(alert);
            }
        }
    }

    fn colmena_line(&mut self, now: Duration, n: usize, line: &str) {
        let events = self.tracker.feed(n, line);
        // Bring watches in line with the tracker's states (only lines that
        // changed a state need it: keeps big fleets cheap).
        let changed_any = events
            .iter()
            .any(|e| matches!(e, colmena::NodeEvent::State { .. }));
        for (name, status) in self.tracker.nodes().iter().filter(|_| changed_any) {
            let changed = self
                .nodes
                .get(name)
                .is_none_or(|w| w.state != Some(status.state));
            if changed {
                self.nodes.insert(
                    name.clone(),
                    Watch::new(
                        status.state.id().to_string(),
                        None,
                        Some(status.state),
                        n,
                        now,
                    ),
                );
            }
        }
        // Whose output is it: a node, every node of a `(...)` job, or nobody.
        let (who, text): (Vec<String>, String) = match colmena::parse_line(line) {
            ColmenaLine::Labeled {
                label: Label::Node(name),
                text,
            } => (vec![name], text),
            ColmenaLine::Labeled {
                label: Label::Many,
                text,
            } => (
                self.nodes
                    .iter()
                    .filter(|(_, w)| {
                        matches!(w.state, Some(NodeState::Evaluating | NodeState::Building))
                    })
                    .map(|(n, _)| n.clone())
                    .collect(),
                text,
            ),
            _ => (Vec::new(), String::new()),
        };
        let limit = self.config.repeated_line;
        for name in who {
            if let Some(w) = self.nodes.get_mut(&name) {
                w.last_output = now;
                w.silence_reported = false;
                if let Some(alert) = count_repeat(w, n, text.trim(), limit, Some(&name)) {
                    self.pending.push(alert);
                }
            }
        }
    }

    /// Alerts raised since the last call: loops seen in lines, and steps or
    /// nodes quiet past their limit at `now` (each quiet spell reported once).
    pub fn check(&mut self, now: Duration) -> Vec<Alert> {
        let mut out = std::mem::take(&mut self.pending);
        match self.tool {
            Tool::NixosAnywhere => {
                let limit = self.config.step_limit(self.step.phase);
                let quiet = now.saturating_sub(self.step.last_output);
                if quiet > limit
                    && !self.step.silence_reported
                    && self.step.phase != Some(Phase::Done)
                {
                    self.step.silence_reported = true;
                    out.push(silence_alert(&self.step, None, quiet, limit));
                }
            }
            Tool::Colmena => {
                for (name, w) in &mut self.nodes {
                    let Some(limit) = w.state.and_then(|s| self.config.node_limit(s)) else {
                        continue;
                    };
                    let quiet = now.saturating_sub(w.last_output);
                    if quiet > limit && !w.silence_reported {
                        w.silence_reported = true;
                        out.push(silence_alert(w, Some(name), quiet, limit));
                    }
                }
            }
        }
        out
    }

    /// How long the current nixos-anywhere step has been quiet at `now`.
    pub fn quiet_for(&self, now: Duration) -> Duration {
        now.saturating_sub(self.step.last_output)
    }
}

fn count_repeat(
    w: &mut Watch,
    n: usize,
    text: &str,
    limit: u32,
    node: Option<&str>,
) -> Option<Alert> {
    if text.len() < 8 || w.repeat_reported {
        return None;
    }
    let entry = w.repeats.entry(text.to_string()).or_insert((0, n));
    entry.0 += 1;
    let (count, first) = *entry;
    if count < limit {
        return None;
    }
    w.repeat_reported = true;
    let who = match node {
        Some(name) => format!("{name} ({})", w.step),
        None => format!("`{}`", w.step),
    };
    Some(Alert {
        kind: AlertKind::RepeatedLine {
            count,
            text: text.to_string(),
        },
        message: format!(
            "{who} keeps printing the same line ({count} times): it is retrying something that does not work."
        ),
        step: w.step.clone(),
        node: node.map(str::to_string),
        line: first,
        usual_causes: causes_for(w).to_string(),
    })
}

fn silence_alert(w: &Watch, node: Option<&str>, quiet: Duration, limit: Duration) -> Alert {
    let who = match node {
        Some(name) => format!(
            "{name} has printed nothing while {}",
            w.step.replace('_', " ")
        ),
        None => format!("`{}` has printed nothing", w.step),
    };
    Alert {
        kind: AlertKind::Silent {
            silent_for: quiet,
            limit,
        },
        message: format!(
            "{who} for {} (more than the {} this step usually needs). Keep waiting, or cancel.",
            human(quiet),
            human(limit)
        ),
        step: w.step.clone(),
        node: node.map(str::to_string),
        line: w.line,
        usual_causes: causes_for(w).to_string(),
    }
}

fn causes_for(w: &Watch) -> &'static str {
    match w.state {
        Some(state) => node_causes(state),
        None => step_causes(w.phase),
    }
}

/// `90 s`, `12 min`, `1 h 5 min`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

/// What usually makes a nixos-anywhere step hang or loop.
pub fn step_causes(phase: Option<Phase>) -> &'static str {
    match phase {
        None => "nix is evaluating or building on this machine (a first run downloads nixpkgs), or ssh is waiting for an answer (a password or host key question) that nobody sees.",
        Some(Phase::UploadSshKeys) => "ssh-copy-id waits for a password, or retries forever because the target is unreachable or its ~/.ssh is missing or read-only.",
        Some(Phase::Facts) => "the SSH connection hangs (a firewall dropping packets, a wrong port) or the target's login runs something that waits for input.",
        Some(Phase::HardwareConfig) => "nixos-generate-config or nixos-facter is being downloaded or runs slowly on the target.",
        Some(Phase::Kexec) => "the kexec image downloads over a slow link, or the machine rebooted into the installer and cannot be reached: the installer's network differs from the old system's (static IP, another interface), too little RAM, or firmware that does not survive kexec. Look at the machine's console.",
        Some(Phase::DiskEncryptionKeys) => "the SSH upload of the key file stalls.",
        Some(Phase::BuildDisko) => "the disko script is being built on the target; the first build downloads its tools.",
        Some(Phase::Disko) => "disko waits for a disk or partition that never appears (a wrong /dev/disk/by-id name), asks for a LUKS passphrase nobody can type (give a key file), or a RAID resync / large format takes long.",
        Some(Phase::Closure) => "the system closure is large and the link is slow, or the target downloads from a binary cache it reaches slowly.",
        Some(Phase::ExtraFiles) => "the extra files are large, or the SSH stream stalled.",
        Some(Phase::Install) => "nixos-install fetches or builds what was not copied, or the boot loader installation hangs (efibootmgr on some firmware).",
        Some(Phase::Reboot | Phase::WaitForReboot) => "the machine does not go down: reboot waits on a stuck unmount, a ZFS export or a service that does not stop.",
        Some(Phase::Done | Phase::Other) => "nothing specific is known for this step.",
    }
}

/// What usually makes a colmena node hang in a state.
pub fn node_causes(state: NodeState) -> &'static str {
    match state {
        NodeState::Evaluating | NodeState::Evaluated => "evaluating a large hive, import-from-derivation, or fetching flake inputs over a slow link.",
        NodeState::Building | NodeState::Built => "a long local build, or nix waiting for a lock held by another build.",
        NodeState::Pushing | NodeState::Pushed => "a large closure over a slow link, or ssh waiting on a host that dropped off the network.",
        NodeState::UploadingKeys => "a keyCommand waits for input (a password manager prompt nobody sees).",
        NodeState::Activating => "a service takes long to start or stop; switch-to-configuration waits for it.",
        NodeState::Rebooting => "the node does not come back after the reboot: check its console.",
        NodeState::Succeeded | NodeState::Failed => "nothing: the node is done.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn defaults_are_generous_for_install_and_short_for_facts() {
        let c = WatchdogConfig::default();
        assert!(c.step_limit(Some(Phase::Install)) >= secs(30 * 60));
        assert!(c.step_limit(Some(Phase::Closure)) >= secs(30 * 60));
        assert!(c.step_limit(Some(Phase::Facts)) <= secs(5 * 60));
        assert_eq!(c.step_limit(Some(Phase::Other)), c.other_step);
        assert_eq!(c.node_limit(NodeState::Succeeded), None);
    }

    #[test]
    fn a_quiet_step_is_reported_once_per_spell() {
        let mut w = Watchdog::new(Tool::NixosAnywhere, WatchdogConfig::default());
        w.on_line(secs(0), "### Gathering machine facts ###");
        assert!(w.check(secs(100)).is_empty());
        let alerts = w.check(secs(200));
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.step, "Gathering machine facts");
        assert_eq!(a.line, 1);
        assert!(matches!(a.kind, AlertKind::Silent { silent_for, .. } if silent_for == secs(200)));
        assert!(a.message.contains("for 3 min"), "{}", a.message);
        assert!(a.usual_causes.contains("firewall"));
        // Not again for the same spell…
        assert!(w.check(secs(400)).is_empty());
        // …but again after output and a new silence.
        w.on_line(secs(500), "some output");
        assert!(w.check(secs(600)).is_empty());
        assert_eq!(w.check(secs(700)).len(), 1);
    }

    #[test]
    fn the_same_silence_is_fine_during_install() {
        let mut w = Watchdog::new(Tool::NixosAnywhere, WatchdogConfig::default());
        w.on_line(secs(0), "### Installing NixOS ###");
        assert!(w.check(secs(20 * 60)).is_empty());
        assert_eq!(w.check(secs(50 * 60)).len(), 1);
    }

    #[test]
    fn repeated_markers_are_a_loop() {
        let mut w = Watchdog::new(Tool::NixosAnywhere, WatchdogConfig::uniform(secs(60)));
        w.on_line(secs(1), "### Gathering machine facts ###");
        w.on_line(secs(2), "### Switching system into kexec ###");
        // Facts twice is a normal install.
        w.on_line(secs(3), "### Gathering machine facts ###");
        assert!(w.check(secs(4)).is_empty());
        w.on_line(secs(5), "### Gathering machine facts ###");
        let alerts = w.check(secs(6));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::RepeatedStep { count: 3 });
        assert_eq!(alerts[0].line, 4);
        // Any other step twice is a loop at once; shell traces do not count.
        let mut w = Watchdog::new(Tool::NixosAnywhere, WatchdogConfig::default());
        w.on_line(secs(1), "### Installing NixOS ###");
        w.on_line(secs(2), "+ echo '### Installing NixOS ###'");
        assert!(w.check(secs(3)).is_empty());
        w.on_line(secs(4), "### Installing NixOS ###");
        assert_eq!(w.check(secs(5)).len(), 1);
    }

    #[test]
    fn repeated_lines_are_a_loop() {
        let mut w = Watchdog::new(Tool::NixosAnywhere, WatchdogConfig::default());
        w.on_line(secs(0), "### Uploading install SSH keys ###");
        for i in 0..5 {
            w.on_line(
                secs(1 + i * 3),
                "/usr/bin/ssh-copy-id: INFO: attempting to log in",
            );
            w.on_line(
                secs(2 + i * 3),
                "mkdir: cannot create directory '.ssh': Read-only file system",
            );
        }
        let alerts = w.check(secs(20));
        assert_eq!(alerts.len(), 1);
        assert!(matches!(
            &alerts[0].kind,
            AlertKind::RepeatedLine { count: 5, .. }
        ));
        assert_eq!(alerts[0].line, 2);
        assert!(alerts[0].usual_causes.contains("read-only"));
        assert!(w.check(secs(21)).is_empty());
        // Waiting for a rebooting machine retries by design.
        let mut w = Watchdog::new(Tool::NixosAnywhere, WatchdogConfig::default());
        w.on_line(secs(0), "### Switching system into kexec ###");
        for i in 0..10 {
            w.on_line(
                secs(i),
                "ssh: connect to host h port 22: Connection refused",
            );
        }
        assert!(w.check(secs(11)).is_empty());
    }

    #[test]
    fn colmena_nodes_are_watched_one_by_one() {
        let mut w = Watchdog::new(Tool::Colmena, WatchdogConfig::uniform(secs(60)));
        w.on_line(secs(0), "(...) | Evaluating a and b");
        w.on_line(secs(1), "    a | Activating system profile");
        w.on_line(secs(1), "    b | Pushing system closure");
        w.on_line(
            secs(50),
            "    b | copying path '/nix/store/x' to 'ssh://b'...",
        );
        w.on_line(secs(55), "    a | Activation successful");
        // a is done; b printed at 50 s: nothing yet at 100 s.
        assert!(w.check(secs(100)).is_empty());
        let alerts = w.check(secs(115));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].node.as_deref(), Some("b"));
        assert_eq!(alerts[0].step, "pushing");
        assert!(alerts[0]
            .message
            .starts_with("b has printed nothing while pushing"));
        assert!(alerts[0].usual_causes.contains("closure"));
    }

    #[test]
    fn colmena_many_label_keeps_evaluating_nodes_alive() {
        let mut w = Watchdog::new(Tool::Colmena, WatchdogConfig::uniform(secs(60)));
        w.on_line(secs(0), "(...) | Evaluating a and b");
        w.on_line(secs(50), "(...) | trace: evaluating something");
        assert!(w.check(secs(100)).is_empty());
        assert_eq!(w.check(secs(111)).len(), 2);
    }

    #[test]
    fn config_round_trips_as_json() {
        let mut c = WatchdogConfig::default();
        c.step_silence.insert(Phase::Install, secs(7));
        let json = serde_json::to_string(&c).expect("serialise");
        assert!(json.contains("\"install\""), "{json}");
        let back: WatchdogConfig = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, c);
        assert_eq!(back.step_limit(Some(Phase::Install)), secs(7));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(secs(90)), "90 s");
        assert_eq!(human(secs(720)), "12 min");
        assert_eq!(human(secs(3900)), "1 h 5 min");
    }
}
