//! Drift: does a host run what the flake builds now? The answer compares
//! store paths only (equal paths are equal systems, Nix guarantees that):
//! the running system against the flake's toplevel when it could be
//! evaluated, else against the system nixdeck recorded after its last
//! successful deploy or install to that host.

use serde::{Deserialize, Serialize};

/// The verdict in four words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Drift {
    /// The host runs the expected system.
    UpToDate,
    /// The host runs what nixdeck deployed, but the flake builds something
    /// newer: a redeploy would change it.
    BehindFlake,
    /// The host runs a system nixdeck did not deploy (a `nixos-rebuild` on
    /// the host, a rollback, another tool).
    ChangedOutside,
    /// Not known, and why.
    Unknown(String),
}

impl Drift {
    /// How the UI and the CLI say it.
    pub fn label(&self) -> String {
        match self {
            Drift::UpToDate => "up to date".into(),
            Drift::BehindFlake => "behind the flake".into(),
            Drift::ChangedOutside => "changed outside nixdeck".into(),
            Drift::Unknown(why) => format!("unknown ({why})"),
        }
    }
}

/// What the verdict was measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftBasis {
    /// The flake's toplevel, evaluated now.
    Flake,
    /// The system recorded after nixdeck's last successful deploy or install.
    LastDeploy,
}

/// What the drift decision looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftInput<'a> {
    /// The host's `/run/current-system`, when it answered.
    pub current_system: Option<&'a str>,
    /// Why the host's current system is not known (unreachable…), shown in
    /// the verdict when `current_system` is `None`.
    pub current_unknown_because: Option<&'a str>,
    /// The flake's toplevel out path for the host, when it could be evaluated.
    pub flake_toplevel: Option<&'a str>,
    /// Why it could not be (shown when there is no record to fall back on).
    pub flake_unknown_because: Option<&'a str>,
    /// The system recorded after the last successful deploy or install.
    pub last_deployed: Option<&'a str>,
}

/// The verdict, what it was measured against, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftVerdict {
    pub drift: Drift,
    pub basis: Option<DriftBasis>,
    pub explanation: String,
}

/// Decides the drift of one host.
pub fn decide_drift(input: &DriftInput<'_>) -> DriftVerdict {
    let Some(current) = input.current_system else {
        let why = input
            .current_unknown_because
            .unwrap_or("the host's running system could not be read");
        return DriftVerdict {
            drift: Drift::Unknown(why.to_string()),
            basis: None,
            explanation: format!("Drift is unknown: {why}."),
        };
    };
    let recorded_elsewhere = input.last_deployed.is_some_and(|r| r != current);
    if let Some(flake) = input.flake_toplevel {
        let (drift, explanation) = if flake == current {
            (
                Drift::UpToDate,
                "The host runs exactly what the flake builds now.".to_string(),
            )
        } else if recorded_elsewhere {
            (
                Drift::ChangedOutside,
                "The host runs neither what the flake builds nor what nixdeck last deployed: \
                 it was changed outside nixdeck (a nixos-rebuild on the host, a rollback, \
                 another tool)."
                    .to_string(),
            )
        } else {
            (
                Drift::BehindFlake,
                "The flake builds a different system than the one the host runs: a redeploy \
                 would change it."
                    .to_string(),
            )
        };
        return DriftVerdict {
            drift,
            basis: Some(DriftBasis::Flake),
            explanation,
        };
    }
    let flake_why = input
        .flake_unknown_because
        .unwrap_or("the flake was not evaluated");
    match input.last_deployed {
        Some(recorded) if recorded == current => DriftVerdict {
            drift: Drift::UpToDate,
            basis: Some(DriftBasis::LastDeploy),
            explanation: format!(
                "The host runs what nixdeck last deployed; whether the flake has changed \
                 since is not known ({flake_why})."
            ),
        },
        Some(_) => DriftVerdict {
            drift: Drift::ChangedOutside,
            basis: Some(DriftBasis::LastDeploy),
            explanation: "The host runs a different system than the one nixdeck last \
                          deployed: it was changed outside nixdeck (a nixos-rebuild on the \
                          host, a rollback, another tool)."
                .to_string(),
        },
        None => {
            let why = format!(
                "flake not evaluable here: {flake_why}; and nixdeck has no record of a \
                 deploy to this host"
            );
            DriftVerdict {
                explanation: format!("Drift is unknown: {why}."),
                drift: Drift::Unknown(why),
                basis: None,
            }
        }
    }
}
