//! The install gate of the review step: what stops the install outright, which
//! warnings need a person's acknowledgement, and which files a person must agree
//! to replace. Decided here once, so the window only keeps the ticks a person
//! gave and shows these words.

use serde::{Deserialize, Serialize};

use crate::disko::{Diagnostic, Severity as LayoutSeverity};
use crate::preflight::{Finding, Preflight, Severity};
use crate::repo::WritePlan;

/// What stands between the review and the install.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ReviewGate {
    /// What blocks the install whatever the person ticks, one sentence each:
    /// preflight errors, then the layout's errors.
    pub blockers: Vec<String>,
    /// Preflight warnings the person must acknowledge (by `rule`) first.
    pub to_acknowledge: Vec<Finding>,
    /// Files whose new text replaces or deletes text nixdeck did not write (or
    /// that was edited since): each needs the person's go-ahead.
    pub to_confirm: Vec<String>,
}

/// The gate of a review from its preflight, the layout's findings and the files
/// to be written.
pub fn review_gate(preflight: &Preflight, layout: &[Diagnostic], plan: &WritePlan) -> ReviewGate {
    ReviewGate {
        blockers: review_blockers(preflight, layout),
        to_acknowledge: preflight
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .cloned()
            .collect(),
        to_confirm: plan.pending().iter().map(|c| c.path.clone()).collect(),
    }
}

/// What blocks the install whatever the person ticks: every preflight error,
/// then every error of the layout, in words.
pub fn review_blockers(preflight: &Preflight, layout: &[Diagnostic]) -> Vec<String> {
    let preflight_errors = preflight
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message.clone());
    let layout_errors = layout
        .iter()
        .filter(|d| d.severity == LayoutSeverity::Error)
        .map(|d| format!("the layout: {}", d.message));
    preflight_errors.chain(layout_errors).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disko::Rule as LayoutRule;
    use crate::preflight::Rule;
    use crate::repo::WrittenRecord;

    fn finding(rule: Rule, severity: Severity, message: &str) -> Finding {
        Finding {
            rule,
            severity,
            message: message.into(),
            disk: None,
        }
    }

    fn diagnostic(severity: LayoutSeverity, message: &str) -> Diagnostic {
        Diagnostic {
            severity,
            rule: LayoutRule::BadValue,
            path: "disko.devices.disk.main".into(),
            message: message.into(),
        }
    }

    #[test]
    fn errors_block_warnings_ask_and_edited_files_need_a_go_ahead() {
        let preflight = Preflight {
            findings: vec![
                finding(Rule::MemoryLow, Severity::Warning, "little memory"),
                finding(Rule::NoRoot, Severity::Error, "no root"),
            ],
        };
        let layout = [
            diagnostic(LayoutSeverity::Warning, "odd size"),
            diagnostic(LayoutSeverity::Error, "size 20X is not a size"),
        ];
        let mut record = WrittenRecord::default();
        record.wrote("hosts/web/host.nix", b"old\n");
        let mut plan = WritePlan::default();
        plan.push("hosts/web/host.nix", Some(b"old\n"), Some("new\n"), &record);
        plan.push(
            "hosts/web/disko.nix",
            Some(b"mine\n"),
            Some("new\n"),
            &record,
        );
        plan.push("hosts/web/new.nix", None, Some("new\n"), &record);

        let gate = review_gate(&preflight, &layout, &plan);
        assert_eq!(
            gate.blockers,
            ["no root", "the layout: size 20X is not a size"]
        );
        assert_eq!(gate.to_acknowledge, [preflight.findings[0].clone()]);
        assert_eq!(gate.to_confirm, ["hosts/web/disko.nix"]);
    }

    #[test]
    fn a_clean_review_has_nothing_in_the_way() {
        let gate = review_gate(&Preflight::default(), &[], &WritePlan::default());
        assert_eq!(gate, ReviewGate::default());
    }
}
