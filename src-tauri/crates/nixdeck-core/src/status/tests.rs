use super::report::{parse, StatusReportError};
use super::*;

const A: &str =
    "/nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-nixos-system-web1-24.05.20240601.aaaaaaa";
const B: &str =
    "/nix/store/1a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-nixos-system-web1-24.11.20250101.bbbbbbb";
const C: &str =
    "/nix/store/2a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-nixos-system-web1-24.11.20250202.ccccccc";

/// Output as the script prints it on a host that switched to generation 10
/// after booting generation 2 (the glob lists 10 before 2).
fn output() -> String {
    format!(
        "\n@@nixdeck:hostname@@\nweb1\n\
         \n@@nixdeck:uptime@@\n93784.52 180000.11\n\
         \n@@nixdeck:current@@\n{C}\n\
         \n@@nixdeck:current-version@@\n24.11.20250202.ccccccc (Vicuna)\n\
         \n@@nixdeck:booted@@\n{B}\n\
         \n@@nixdeck:profile@@\nsystem-10-link\n\
         \n@@nixdeck:generations@@\n\
         system-1-link\t1717200000\t{A}\t24.05.20240601.aaaaaaa (Uakari)\n\
         system-10-link\t1738454400\t{C}\t24.11.20250202.ccccccc (Vicuna)\n\
         system-2-link\t1735689600\t{B}\t\n\
         \n@@nixdeck:end@@\n"
    )
}

#[test]
fn a_switched_host_reads_as_reboot_pending_with_sorted_generations() {
    let s = parse(&output()).unwrap();
    assert!(s.reachable);
    assert_eq!(s.hostname, "web1");
    assert_eq!(s.uptime_secs, Some(93784));
    assert_eq!(s.current_system.as_deref(), Some(C));
    assert_eq!(s.booted_system.as_deref(), Some(B));
    assert!(s.reboot_pending);
    assert_eq!(
        s.nixos_version.as_deref(),
        Some("24.11.20250202.ccccccc (Vicuna)")
    );
    assert_eq!(s.profile_generation, Some(10));
    let numbers: Vec<u32> = s.generations.iter().map(|g| g.number).collect();
    assert_eq!(numbers, [1, 2, 10]);
    let g1 = &s.generations[0];
    assert_eq!((g1.date, g1.store_path.as_str()), (1717200000, A));
    assert_eq!(
        g1.nixos_version.as_deref(),
        Some("24.05.20240601.aaaaaaa (Uakari)")
    );
    assert!(!g1.current && !g1.booted && !g1.profile);
    let g2 = &s.generations[1];
    assert!(g2.booted && !g2.current);
    assert_eq!(g2.nixos_version, None, "an empty version is no version");
    let g10 = &s.generations[2];
    assert!(g10.current && g10.profile && !g10.booted);
    assert_eq!(s.current_generation().map(|g| g.number), Some(10));
    assert_eq!(s.previous_generation().map(|g| g.number), Some(2));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_host_without_nixos_is_read_without_failing() {
    // Every file missing: sections are empty.
    let out = "\n@@nixdeck:hostname@@\nbox\n\n@@nixdeck:uptime@@\n\n@@nixdeck:current@@\n\
               \n@@nixdeck:current-version@@\n\n@@nixdeck:booted@@\n\n@@nixdeck:profile@@\n\
               \n@@nixdeck:generations@@\n\n@@nixdeck:end@@\n";
    let s = parse(out).unwrap();
    assert_eq!(s.current_system, None);
    assert_eq!(s.uptime_secs, None);
    assert!(!s.reboot_pending);
    assert!(s.generations.is_empty());
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("does not look like a running NixOS")));
}

#[test]
fn a_cut_off_answer_is_an_error() {
    let out = output();
    let cut = &out[..out.find("@@nixdeck:generations@@").unwrap()];
    assert_eq!(parse(cut), Err(StatusReportError::MissingSection("end")));
}

#[test]
fn paths_outside_the_store_and_junk_lines_are_not_kept() {
    let out = format!(
        "\n@@nixdeck:current@@\n/etc/passwd\n\
         \n@@nixdeck:booted@@\n{B}\n\
         \n@@nixdeck:profile@@\n/nix/var/nix/profiles/system-7-link\n\
         \n@@nixdeck:generations@@\n\
         system-5-link\t1\t/nix/store/short-name\t\n\
         system-x-link\t1\t{A}\t\n\
         garbage line\n\
         system-7-link\tnot-a-date\t{B}\t24.11 \u{1b}[31mred\u{1b}[0m\n\
         \n@@nixdeck:end@@\n"
    );
    let s = parse(&out).unwrap();
    assert_eq!(s.current_system, None);
    assert!(s.warnings.iter().any(|w| w.contains("/etc/passwd")));
    assert!(s.warnings.iter().any(|w| w.contains("generation 5")));
    assert_eq!(
        s.profile_generation,
        Some(7),
        "an absolute profile link is understood"
    );
    assert_eq!(s.generations.len(), 1);
    let g = &s.generations[0];
    assert_eq!((g.number, g.date), (7, 0));
    assert!(g.booted && g.profile && !g.current);
    assert_eq!(
        g.nixos_version.as_deref(),
        Some("24.11 [31mred[0m"),
        "no control characters"
    );
    assert!(
        !s.reboot_pending,
        "unknown current system: nothing to compare"
    );
}

#[test]
fn generations_are_bounded() {
    let mut out = String::from("\n@@nixdeck:generations@@\n");
    for n in 0..(report::MAX_GENERATIONS + 50) {
        out.push_str(&format!("system-{n}-link\t1\t{A}\t\n"));
    }
    out.push_str("\n@@nixdeck:end@@\n");
    assert_eq!(
        parse(&out).unwrap().generations.len(),
        report::MAX_GENERATIONS
    );
}

#[test]
fn store_paths() {
    assert!(is_store_path(A));
    for bad in [
        "/nix/store/",
        "/nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r",
        "/nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-",
        "/nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5e-x", // `e` is not base-32
        "/nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-a b",
        "/nix/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-a/../../etc",
        "/gnu/store/0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r-a",
    ] {
        assert!(!is_store_path(bad), "{bad}");
    }
}

fn verdict(current: Option<&str>, flake: Option<&str>, recorded: Option<&str>) -> DriftVerdict {
    decide_drift(&DriftInput {
        current_system: current,
        current_unknown_because: None,
        flake_toplevel: flake,
        flake_unknown_because: flake.is_none().then_some("nixpkgs could not be fetched"),
        last_deployed: recorded,
    })
}

#[test]
fn drift_against_the_flake() {
    let v = verdict(Some(B), Some(B), None);
    assert_eq!(
        (v.drift, v.basis),
        (Drift::UpToDate, Some(DriftBasis::Flake))
    );
    // The host runs what nixdeck deployed; the flake moved on.
    assert_eq!(verdict(Some(B), Some(C), Some(B)).drift, Drift::BehindFlake);
    assert_eq!(verdict(Some(B), Some(C), None).drift, Drift::BehindFlake);
    // Neither the flake's nor nixdeck's: someone else changed it.
    assert_eq!(
        verdict(Some(A), Some(C), Some(B)).drift,
        Drift::ChangedOutside
    );
    // Equal to the flake wins over an older record.
    assert_eq!(verdict(Some(C), Some(C), Some(B)).drift, Drift::UpToDate);
}

#[test]
fn drift_falls_back_to_the_last_deploy() {
    let v = verdict(Some(B), None, Some(B));
    assert_eq!(
        (v.drift, v.basis),
        (Drift::UpToDate, Some(DriftBasis::LastDeploy))
    );
    assert!(v.explanation.contains("nixpkgs could not be fetched"));
    let v = verdict(Some(A), None, Some(B));
    assert_eq!(
        (v.drift, v.basis),
        (Drift::ChangedOutside, Some(DriftBasis::LastDeploy))
    );
    let v = verdict(Some(A), None, None);
    let Drift::Unknown(why) = &v.drift else {
        panic!("{v:?}")
    };
    assert!(why.starts_with("flake not evaluable here: nixpkgs could not be fetched"));
    assert!(v
        .drift
        .label()
        .starts_with("unknown (flake not evaluable here"));
    let v = decide_drift(&DriftInput {
        current_unknown_because: Some("the host did not answer"),
        last_deployed: Some(B),
        ..Default::default()
    });
    assert_eq!(v.drift, Drift::Unknown("the host did not answer".into()));
}

#[test]
fn the_script_reads_every_section_the_parser_needs() {
    let script = report::script();
    for section in [
        "hostname",
        "uptime",
        "current",
        "current-version",
        "booted",
        "profile",
        "generations",
        "end",
    ] {
        assert!(
            script.contains(&format!("sec {section};"))
                || script.contains(&format!("sec {section}\n")),
            "{section}"
        );
    }
}
