//! The deploy safety net's decisions: which nodes of a colmena run changed
//! their running system (and so must be checked to still answer over SSH),
//! and what each goal risks, in a sentence for the deploy dialog.

use super::colmena::{NodeState, NodeStatus, NodeStep};
use super::plan::{DeployGoal, DeployOptions};
use std::collections::BTreeMap;

/// The goal colmena runs for `options`: the given one, else `switch`
/// (`boot` with `--reboot`), as colmena decides.
pub fn effective_goal(options: &DeployOptions) -> DeployGoal {
    options.goal.unwrap_or(if options.reboot {
        DeployGoal::Boot
    } else {
        DeployGoal::Switch
    })
}

/// Whether a run with these options touches what runs on the nodes (and
/// could cut nixdeck off): `switch` and `test` activate now, `boot` with
/// `--reboot` restarts into the new system.
pub fn changes_running_system(options: &DeployOptions) -> bool {
    match effective_goal(options) {
        DeployGoal::Switch | DeployGoal::Test => true,
        DeployGoal::Boot => options.reboot,
        DeployGoal::DryActivate | DeployGoal::Build | DeployGoal::Push => false,
    }
}

/// The nodes to check after a colmena run: those that reached activation
/// (or a reboot), whether colmena then called it a success or a failure. A
/// node that failed earlier (evaluation, build, push) runs what it ran.
pub fn nodes_to_check(
    nodes: &BTreeMap<String, NodeStatus>,
    options: &DeployOptions,
) -> Vec<String> {
    if !changes_running_system(options) {
        return Vec::new();
    }
    nodes
        .iter()
        .filter(|(_, n)| match n.state {
            NodeState::Activating | NodeState::Rebooting | NodeState::Succeeded => true,
            NodeState::Failed => matches!(
                n.failed_step,
                Some(NodeStep::Activate) | Some(NodeStep::Reboot)
            ),
            _ => false,
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// The goal and `--reboot` of a recorded colmena command line (the job
/// history keeps the argv, not the options): what [`nodes_to_check`] needs.
pub fn options_from_argv(argv: &[String]) -> DeployOptions {
    let mut options = DeployOptions::default();
    let Some(apply) = argv.iter().position(|a| a == "apply") else {
        return options;
    };
    let rest = &argv[apply + 1..];
    options.goal = rest.first().and_then(|g| g.parse().ok());
    options.reboot = rest.iter().any(|a| a == "--reboot");
    options
}

/// What a goal risks, for the deploy dialog.
pub fn goal_risk(goal: DeployGoal) -> &'static str {
    match goal {
        DeployGoal::Switch => {
            "Activates the new system now and makes it the boot default: a broken network or \
             SSH setting cuts the host off until someone rolls back from its console."
        }
        DeployGoal::Test => {
            "Activates the new system now but keeps the old one as the boot default: if it \
             cuts the host off, a reboot (from the provider's console or a power cycle) \
             brings the old system back."
        }
        DeployGoal::Boot => {
            "Changes nothing that runs: the new system starts at the next reboot. Safe now, \
             but the risk moves to that reboot, when a broken system can leave the host \
             unreachable and a console is needed to pick the old generation."
        }
        DeployGoal::DryActivate => {
            "Changes nothing: prints what activating would restart, stop and start."
        }
        DeployGoal::Build => "Changes nothing on the hosts: only builds their systems.",
        DeployGoal::Push => {
            "Copies the systems to the hosts without activating them; costs disk space only."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::colmena::NodeTracker;

    /// A colmena run where `a` activated, `b` failed to build and `c` failed
    /// while activating (lines in colmena 0.4's format).
    fn tracker() -> NodeTracker {
        let mut t = NodeTracker::new();
        let lines = [
            "[INFO ] Enumerating nodes...",
            "[INFO ] Selected all 3 nodes.",
            "      a | Evaluated a",
            "      b | Evaluated b",
            "      c | Evaluated c",
            "      a | Built \"/nix/store/aaaa-nixos-system-a\"",
            "      b | Build failed: Child process exited with error code: 1",
            "      c | Built \"/nix/store/cccc-nixos-system-c\"",
            "      a | Pushed system closure",
            "      c | Pushed system closure",
            "      a | Activating system profile",
            "      c | Activating system profile",
            "      a | Activation successful",
            "      c | Activation failed: Child process exited with error code: 4",
        ];
        for (i, line) in lines.iter().enumerate() {
            t.feed(i + 1, line);
        }
        t
    }

    #[test]
    fn nodes_that_reached_activation_are_checked() {
        let t = tracker();
        let switch = DeployOptions::default();
        assert_eq!(
            nodes_to_check(t.nodes(), &switch),
            ["a", "c"],
            "{:#?}",
            t.nodes()
        );
        let test = DeployOptions {
            goal: Some(DeployGoal::Test),
            ..Default::default()
        };
        assert_eq!(nodes_to_check(t.nodes(), &test), ["a", "c"]);
        let boot = DeployOptions {
            goal: Some(DeployGoal::Boot),
            ..Default::default()
        };
        assert!(nodes_to_check(t.nodes(), &boot).is_empty());
        let reboot = DeployOptions {
            reboot: true,
            ..Default::default()
        };
        assert_eq!(effective_goal(&reboot), DeployGoal::Boot);
        assert_eq!(nodes_to_check(t.nodes(), &reboot), ["a", "c"]);
    }

    #[test]
    fn the_goal_is_read_back_from_a_recorded_command() {
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let o = options_from_argv(&argv(
            "nix run github:zhaofengli/colmena -- apply test --on web1",
        ));
        assert_eq!(o.goal, Some(DeployGoal::Test));
        let o = options_from_argv(&argv("colmena apply --on @web --reboot"));
        assert_eq!((o.goal, o.reboot), (None, true));
        assert_eq!(effective_goal(&o), DeployGoal::Boot);
        assert_eq!(
            options_from_argv(&argv("nix build .#x")),
            DeployOptions::default()
        );
    }

    #[test]
    fn every_goal_says_what_it_risks() {
        assert!(goal_risk(DeployGoal::Test).contains("reboot"));
        assert!(goal_risk(DeployGoal::Boot).contains("next reboot"));
        assert_ne!(goal_risk(DeployGoal::Switch), goal_risk(DeployGoal::Test));
    }
}
