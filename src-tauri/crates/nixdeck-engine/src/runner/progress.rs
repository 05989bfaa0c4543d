//! Live progress for the runner from core's pure parsers: nixos-anywhere's
//! step markers become phases, colmena's `node | text` lines become per-node
//! states. This module only adapts their events to [`PhaseEvent`]s and words
//! the failure reasons; the parsing itself lives in `nixdeck_core::tools`.

use super::events::{Alert, LineObserver, PhaseEvent, Stream};
use nixdeck_core::tools::colmena::{NodeEvent, NodeState, NodeTracker, RunEnd};
use nixdeck_core::tools::explain::{Explainer, Explanation, Tool};
use nixdeck_core::tools::nixos_anywhere::{Phase, StepEvent, StepTracker};
use nixdeck_core::tools::watchdog::{Watchdog, WatchdogConfig};
use std::time::Duration;

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Follows a nixos-anywhere run: its steps, and a watchdog on quiet or
/// repeating steps.
#[derive(Debug)]
pub struct InstallProgress {
    tracker: StepTracker,
    watchdog: Watchdog,
    explainer: Explainer,
}

impl Default for InstallProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl InstallProgress {
    pub fn new() -> Self {
        Self::with_watchdog(WatchdogConfig::default())
    }

    /// With the watchdog's limits given (tests use tiny ones).
    pub fn with_watchdog(config: WatchdogConfig) -> Self {
        Self {
            tracker: StepTracker::new(),
            watchdog: Watchdog::new(Tool::NixosAnywhere, config),
            explainer: Explainer::new(Tool::NixosAnywhere),
        }
    }

    /// The steps seen so far.
    pub fn tracker(&self) -> &StepTracker {
        &self.tracker
    }

    /// What the run's output means so far (the same analysis as `nixdeck log
    /// explain`); `exit_status` once the process has ended.
    pub fn explanation(&self, exit_status: Option<i32>) -> Explanation {
        self.explainer.explanation(exit_status)
    }
}

impl LineObserver for InstallProgress {
    fn on_line(&mut self, _: Stream, seq: u64, line: &str, elapsed: Duration) -> Vec<PhaseEvent> {
        let line_no = usize::try_from(seq + 1).unwrap_or(usize::MAX);
        self.watchdog.on_line(elapsed, line);
        self.explainer.push(line);
        let mut out = Vec::new();
        for event in self.tracker.feed(line_no, line) {
            let disks_at_risk = self.tracker.disks_at_risk();
            match event {
                StepEvent::Started { name, phase, .. } => out.push(PhaseEvent {
                    node: None,
                    phase: phase.id().to_string(),
                    label: name,
                    seq,
                    at_ms: ms(elapsed),
                    detail: None,
                    disks_at_risk,
                }),
                StepEvent::Aborted { reason, .. } => out.push(PhaseEvent {
                    node: None,
                    phase: "aborted".to_string(),
                    label: "Aborted".to_string(),
                    seq,
                    at_ms: ms(elapsed),
                    detail: Some(reason),
                    disks_at_risk,
                }),
                StepEvent::Finished { .. } => {}
            }
        }
        out
    }

    fn failure_reason(&self) -> Option<String> {
        if let Some((_, reason)) = self.tracker.aborted() {
            return Some(format!("nixos-anywhere aborted: {reason}"));
        }
        self.tracker.current().map(|step| {
            format!(
                "nixos-anywhere stopped during \u{201c}{}\u{201d}",
                step.name
            )
        })
    }

    fn check(&mut self, elapsed: Duration) -> Vec<Alert> {
        self.watchdog.check(elapsed)
    }

    fn cancel_note(&self) -> Option<String> {
        let touched_disks = self.tracker.steps().iter().any(|s| {
            matches!(
                s.phase,
                Phase::Disko | Phase::Closure | Phase::ExtraFiles | Phase::Install
            )
        });
        match self.tracker.current() {
            Some(step) if step.phase == Phase::Done => None,
            _ if touched_disks => Some(
                "the target's disks were already being formatted, so it may be half-installed \
                 and may not boot; run the install again from the start"
                    .to_string(),
            ),
            Some(step) if step.phase == Phase::Kexec => Some(
                "the target was switching into the kexec installer; it may need a reboot \
                 (from its provider's console) before it is reachable again"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

/// Follows a colmena run: each node's state, and a watchdog on quiet nodes.
#[derive(Debug)]
pub struct DeployProgress {
    tracker: NodeTracker,
    watchdog: Watchdog,
    explainer: Explainer,
}

impl Default for DeployProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl DeployProgress {
    pub fn new() -> Self {
        Self::with_watchdog(WatchdogConfig::default())
    }

    /// With the watchdog's limits given (tests use tiny ones).
    pub fn with_watchdog(config: WatchdogConfig) -> Self {
        Self {
            tracker: NodeTracker::new(),
            watchdog: Watchdog::new(Tool::Colmena, config),
            explainer: Explainer::new(Tool::Colmena),
        }
    }

    /// Every node's state so far.
    pub fn tracker(&self) -> &NodeTracker {
        &self.tracker
    }

    /// What the run's output means so far (the same analysis as `nixdeck log
    /// explain`); `exit_status` once the process has ended.
    pub fn explanation(&self, exit_status: Option<i32>) -> Explanation {
        self.explainer.explanation(exit_status)
    }
}

fn state_label(state: NodeState) -> &'static str {
    match state {
        NodeState::Evaluating => "Evaluating",
        NodeState::Evaluated => "Evaluated",
        NodeState::Building => "Building",
        NodeState::Built => "Built",
        NodeState::Pushing => "Pushing",
        NodeState::Pushed => "Pushed",
        NodeState::UploadingKeys => "Uploading keys",
        NodeState::Activating => "Activating",
        NodeState::Rebooting => "Rebooting",
        NodeState::Succeeded => "Succeeded",
        NodeState::Failed => "Failed",
    }
}

impl LineObserver for DeployProgress {
    fn on_line(&mut self, _: Stream, seq: u64, line: &str, elapsed: Duration) -> Vec<PhaseEvent> {
        let line_no = usize::try_from(seq + 1).unwrap_or(usize::MAX);
        self.watchdog.on_line(elapsed, line);
        self.explainer.push(line);
        let mut out = Vec::new();
        for event in self.tracker.feed(line_no, line) {
            let (node, phase, label, detail) = match event {
                NodeEvent::State { node, state, .. } => {
                    let failure = (state == NodeState::Failed)
                        .then(|| {
                            self.tracker
                                .nodes()
                                .get(&node)
                                .and_then(|n| n.failure.clone())
                        })
                        .flatten();
                    (
                        Some(node),
                        state.id().to_string(),
                        state_label(state).to_string(),
                        failure,
                    )
                }
                NodeEvent::End {
                    end: RunEnd::AllDone { .. },
                } => (None, "all_done".to_string(), "All done".to_string(), None),
                NodeEvent::End {
                    end: RunEnd::Failed { message, .. },
                } => (
                    None,
                    "failed".to_string(),
                    "Failed".to_string(),
                    Some(message),
                ),
                NodeEvent::Panic { text, .. } => (
                    None,
                    "panic".to_string(),
                    "colmena panicked".to_string(),
                    Some(text),
                ),
            };
            // colmena switches configurations; it does not format disks.
            out.push(PhaseEvent {
                node,
                phase,
                label,
                seq,
                at_ms: ms(elapsed),
                detail,
                disks_at_risk: false,
            });
        }
        out
    }

    fn check(&mut self, elapsed: Duration) -> Vec<Alert> {
        self.watchdog.check(elapsed)
    }

    fn failure_reason(&self) -> Option<String> {
        if let Some((_, text)) = self.tracker.panic() {
            return Some(format!("colmena panicked: {text}"));
        }
        let failed: Vec<String> = self
            .tracker
            .nodes()
            .iter()
            .filter(|(_, n)| n.state == NodeState::Failed)
            .map(|(name, n)| match (n.failed_step, &n.failure) {
                (Some(step), Some(why)) => format!("{name} ({}: {why})", step.id()),
                (Some(step), None) => format!("{name} ({})", step.id()),
                (None, Some(why)) => format!("{name} ({why})"),
                (None, None) => name.clone(),
            })
            .collect();
        if !failed.is_empty() {
            return Some(format!("colmena failed on {}", failed.join(", ")));
        }
        match self.tracker.end() {
            Some(RunEnd::Failed { message, .. }) => Some(format!("colmena: {message}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(observer: &mut dyn LineObserver, lines: &[&str]) -> Vec<PhaseEvent> {
        let mut out = Vec::new();
        for (seq, line) in (0u64..).zip(lines) {
            out.extend(observer.on_line(
                Stream::Stdout,
                seq,
                line,
                Duration::from_millis(seq * 10),
            ));
        }
        out
    }

    #[test]
    fn install_steps_become_phases() {
        let mut p = InstallProgress::new();
        let events = feed(
            &mut p,
            &[
                "### Gathering machine facts ###",
                "Warning: Permanently added",
                "### Switching system into kexec ###",
                "### Formatting hard drive with disko ###",
                "aborted: Failed to format",
            ],
        );
        let ids: Vec<_> = events.iter().map(|e| e.phase.as_str()).collect();
        assert_eq!(ids, ["facts", "kexec", "disko", "aborted"]);
        let risk: Vec<_> = events.iter().map(|e| e.disks_at_risk).collect();
        assert_eq!(risk, [false, false, true, true]);
        assert_eq!(events[1].seq, 2);
        assert_eq!(events[1].at_ms, 20);
        assert_eq!(events[2].label, "Formatting hard drive with disko");
        assert_eq!(
            p.failure_reason().unwrap(),
            "nixos-anywhere aborted: Failed to format"
        );
        assert!(p.cancel_note().unwrap().contains("half-installed"));
    }

    #[test]
    fn cancel_before_disko_has_no_disk_warning() {
        let mut p = InstallProgress::new();
        feed(&mut p, &["### Gathering machine facts ###"]);
        assert_eq!(p.cancel_note(), None);
    }
}
