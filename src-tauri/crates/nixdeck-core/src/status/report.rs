//! The status round trip: a POSIX `sh` script that prints the running and
//! booted system, the system profile's generations and the uptime in named
//! sections (the probe's `@@nixdeck:<section>@@` format), and its parser.
//!
//! Every read tolerates a missing file: a section is then empty and the
//! parser leaves the value out. Output is bounded on the target (at most
//! [`MAX_GENERATIONS`] generation lines, versions cut to 200 bytes) and again
//! in the parser, so a strange host cannot flood nixdeck.

use super::{is_store_path, Generation, HostStatus, SYSTEM_PROFILE};
use std::collections::HashMap;
use thiserror::Error;

/// Generations listed at most (NixOS hosts rarely keep more than a few hundred).
pub const MAX_GENERATIONS: usize = 2000;
/// Longest `nixos-version` kept.
const MAX_VERSION: usize = 200;

/// The script, fed to `sh -s`. It only reads.
pub fn script() -> &'static str {
    SCRIPT
}

// `stat -c %Y` of the link itself (no -L): the generation's date, as
// nixos-rebuild list-generations shows it. The profile link is read twice:
// resolved (the store path) and once (`system-N-link`, its generation).
const SCRIPT: &str = r#"LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/bin:/bin:/run/current-system/sw/bin"
sec() { printf '\n@@nixdeck:%s@@\n' "$1"; }
# readlink -f prints a missing last component as it is: only resolve what exists.
res() { if [ -e "$1" ]; then readlink -f "$1" 2>/dev/null; fi; }
ver() { if [ -f "$1/nixos-version" ]; then head -c 200 "$1/nixos-version" 2>/dev/null | head -n 1; fi; }
sec hostname; cat /proc/sys/kernel/hostname 2>/dev/null || hostname 2>/dev/null
sec uptime; head -c 100 /proc/uptime 2>/dev/null
sec current; res /run/current-system
sec current-version; ver /run/current-system
sec booted; res /run/booted-system
sec profile; readlink /nix/var/nix/profiles/system 2>/dev/null
sec generations
for l in /nix/var/nix/profiles/system-*-link; do
  if [ -L "$l" ]; then
    t=$(res "$l")
    m=$(stat -c %Y "$l" 2>/dev/null)
    printf '%s\t%s\t%s\t%s\n' "${l##*/}" "$m" "$t" "$(ver "$t")"
  fi
done | head -n 2000
sec end
"#;

/// Output of the status script that cannot be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StatusReportError {
    /// The script did not run to its end.
    #[error("the status output has no {0:?} section: the script stopped early (is /bin/sh a POSIX shell?)")]
    MissingSection(&'static str),
}

fn sections(output: &str) -> HashMap<&str, Vec<&str>> {
    let mut map: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut current: Option<&str> = None;
    for line in output.lines() {
        if let Some(name) = line
            .strip_prefix("@@nixdeck:")
            .and_then(|rest| rest.strip_suffix("@@"))
        {
            current = Some(name);
            map.entry(name).or_default();
        } else if let Some(name) = current {
            map.entry(name).or_default().push(line);
        }
    }
    map
}

/// The first non-empty line of a section, trimmed.
fn first<'a>(s: &HashMap<&str, Vec<&'a str>>, name: &str) -> Option<&'a str> {
    s.get(name)?
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
}

/// Keeps printable text only, cut to [`MAX_VERSION`] characters.
fn clean_version(text: &str) -> Option<String> {
    let v: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_VERSION)
        .collect();
    (!v.is_empty()).then_some(v)
}

/// `system-42-link` → 42.
fn generation_number(link_name: &str) -> Option<u32> {
    link_name
        .strip_prefix("system-")?
        .strip_suffix("-link")?
        .parse()
        .ok()
}

/// Parses the status script's stdout.
pub fn parse(output: &str) -> Result<HostStatus, StatusReportError> {
    let s = sections(output);
    if !s.contains_key("end") {
        return Err(StatusReportError::MissingSection("end"));
    }
    let mut warnings = Vec::new();
    let mut store_path = |what: &str, raw: Option<&str>| -> Option<String> {
        let raw = raw?;
        if is_store_path(raw) {
            Some(raw.to_string())
        } else {
            warnings.push(format!(
                "{what} resolves to {:?}, which is not a Nix store path",
                raw.chars().take(200).collect::<String>()
            ));
            None
        }
    };
    let current_system = store_path("/run/current-system", first(&s, "current"));
    let booted_system = store_path("/run/booted-system", first(&s, "booted"));
    let profile_generation = first(&s, "profile").and_then(|l| {
        // A relative link (`system-3-link`), or an absolute one to the same place.
        let name = l.rsplit('/').next().unwrap_or(l);
        generation_number(name)
    });

    let mut generations = Vec::new();
    for line in s.get("generations").into_iter().flatten() {
        if generations.len() >= MAX_GENERATIONS {
            break;
        }
        let mut fields = line.splitn(4, '\t');
        let (Some(name), Some(mtime), Some(target)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(number) = generation_number(name.trim()) else {
            continue;
        };
        let target = target.trim();
        if !is_store_path(target) {
            // A dangling link (its system was garbage-collected) or junk.
            warnings.push(format!(
                "generation {number} does not link to a system in the Nix store"
            ));
            continue;
        }
        generations.push(Generation {
            number,
            date: mtime.trim().parse().unwrap_or(0),
            store_path: target.to_string(),
            nixos_version: fields.next().and_then(clean_version),
            current: current_system.as_deref() == Some(target),
            booted: booted_system.as_deref() == Some(target),
            profile: profile_generation == Some(number),
        });
    }
    // The shell's glob sorts `system-10-link` before `system-2-link`.
    generations.sort_by_key(|g| g.number);
    if current_system.is_none() {
        warnings.push(
            "/run/current-system is missing: the host does not look like a running NixOS".into(),
        );
    } else if generations.is_empty() {
        warnings.push(format!(
            "{SYSTEM_PROFILE} has no generations: this system was not installed the NixOS way"
        ));
    }

    let uptime_secs = first(&s, "uptime")
        .and_then(|l| l.split_whitespace().next())
        .and_then(|secs| secs.split('.').next())
        .and_then(|secs| secs.parse().ok());

    Ok(HostStatus {
        reachable: true,
        hostname: first(&s, "hostname")
            .map(|h| h.chars().filter(|c| !c.is_control()).take(253).collect())
            .unwrap_or_default(),
        nixos_version: first(&s, "current-version").and_then(clean_version),
        reboot_pending: matches!((&current_system, &booted_system), (Some(c), Some(b)) if c != b),
        current_system,
        booted_system,
        uptime_secs,
        profile_generation,
        generations,
        warnings,
    })
}
