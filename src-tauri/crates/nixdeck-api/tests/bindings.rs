//! The window's wire types, generated from the Rust types with ts-rs into
//! `ui/src/lib/bindings/` (one file per type, and `index.ts`). The files are
//! committed; this test renders them again, rewrites the ones that differ, and
//! fails when anything was stale, so a change to a Rust type cannot reach the
//! window unnoticed. After a failure, the regenerated files are in the work tree:
//! look at the diff and commit it.
//!
//! Adding a type is one line in [`wire_types`]; the types it uses follow on their own.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use ts_rs::{Config, TypeVisitor, TS};

/// Every type that crosses to the window (answers of commands, events on job
/// channels, arguments sent back as they came).
fn wire_types(r: &mut Render) {
    use nixdeck_core as core;
    use nixdeck_engine as engine;
    // Errors of every command.
    r.visit::<nixdeck_api::ApiError>();
    // Doctor and recent repositories.
    r.visit::<engine::doctor::DoctorReport>();
    r.visit::<engine::recent::RecentRepo>();
    // The repository and its hosts.
    r.visit::<core::repo::RepoView>();
    r.visit::<core::repo::Deployment>();
    r.visit::<core::repo::SystemConfig>();
    r.visit::<core::repo::WritePlan>();
    r.visit::<engine::repo::Applied>();
    // Probe.
    r.visit::<core::facts::HostFacts>();
    // Layout editor.
    r.visit::<core::disko::templates::TemplateInfo>();
    r.visit::<core::disko::edit::LayoutView>();
    r.visit::<core::disko::edit::LayoutEdit>();
    // Review and install checks.
    r.visit::<core::preflight::Preflight>();
    r.visit::<core::preflight::IdentityChange>();
    r.visit::<core::review::ReviewGate>();
    // Jobs.
    r.visit::<engine::jobs::JobRecord>();
    r.visit::<engine::runner::JobEvent>();
    r.visit::<core::tools::explain::Explanation>();
    r.visit::<core::tools::lines::StyledSpan>();
    // The API's own answers and arguments.
    r.visit::<nixdeck_api::hosts::IdentityInput>();
    r.visit::<nixdeck_api::hosts::FieldProblem>();
    r.visit::<nixdeck_api::hosts::ConfigPreview>();
    r.visit::<nixdeck_api::hosts::NewHost>();
    r.visit::<nixdeck_api::hosts::HostReview>();
    r.visit::<nixdeck_api::probe::ProbeRequest>();
    r.visit::<nixdeck_api::probe::ProbeOutcome>();
    r.visit::<nixdeck_api::jobs::StartedJob>();
    r.visit::<nixdeck_api::jobs::LogLines>();
    r.visit::<engine::jobs::log::Direction>();
    r.visit::<nixdeck_api::deploy::DeployPreview>();
    r.visit::<nixdeck_api::install::InstallCheck>();
    r.visit::<nixdeck_api::install_secrets::InstallSecrets>();
    r.visit::<nixdeck_api::host_page::HostFiles>();
    r.visit::<nixdeck_api::host_page::HardwareStatus>();
    r.visit::<nixdeck_api::host_page::HostKeyCheck>();
    r.visit::<nixdeck_api::targets::Untargetable>();
    r.visit::<nixdeck_api::status::HostRow>();
    r.visit::<nixdeck_api::status::GenerationsView>();
    r.visit::<nixdeck_api::status::GoalRisk>();
    r.visit::<nixdeck_api::layouts::LayoutSavePlan>();
    r.visit::<nixdeck_api::layouts::DiskCheckView>();
    r.visit::<nixdeck_api::layouts::LayoutUpdate>();
    r.visit::<nixdeck_api::status::SafetyReport>();
    r.visit::<engine::ssh::keys::LocalKey>();
    r.visit::<core::repo::access::Access>();
}

const STALE: &str = "bindings were stale and have been regenerated: commit ui/src/lib/bindings";

#[test]
fn bindings_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../ui/src/lib/bindings");
    let mut render = Render::new();
    wire_types(&mut render);
    assert!(
        render.problems.is_empty(),
        "some wire types cannot be rendered:\n{}",
        render.problems.join("\n")
    );
    let mut wanted: BTreeMap<PathBuf, String> = render
        .files
        .iter()
        .map(|(path, file)| (path.clone(), file.text.clone()))
        .collect();
    wanted.insert(PathBuf::from("index.ts"), index(&render));

    let mut stale = Vec::new();
    for (path, text) in &wanted {
        let full = dir.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).expect("create the bindings directory");
            }
            std::fs::write(&full, text).expect("write a binding");
            stale.push(format!("rewrote {}", path.display()));
        }
    }
    for path in existing_files(&dir, Path::new("")) {
        if !wanted.contains_key(&path) {
            std::fs::remove_file(dir.join(&path)).expect("remove a stale binding");
            stale.push(format!("removed {}", path.display()));
        }
    }
    assert!(stale.is_empty(), "{STALE}:\n{}", stale.join("\n"));
}

/// Every key serde writes for sample values must be declared in the generated
/// files, so a `rename_all` ts-rs did not follow would show here. Keys under
/// `skip` are data (disko's JSON, map keys), not field names.
#[test]
fn what_serde_writes_is_declared() {
    use nixdeck_core::disko::{edit, templates};
    use nixdeck_core::facts::{BootMode, HostFacts};
    use nixdeck_core::preflight::{Finding, Preflight, Rule, Severity};
    use nixdeck_core::repo::{WritePlan, WrittenRecord};
    use nixdeck_core::tools::watchdog::{Alert, AlertKind};
    use nixdeck_engine::runner::{JobEvent, PhaseEvent, Stream};
    use serde_json::{json, to_value, Value};
    use std::time::Duration;

    let mut render = Render::new();
    wire_types(&mut render);
    let declared: String = render.files.values().map(|f| f.text.as_str()).collect();

    let layout = templates::instantiate("btrfs", &["/dev/vda".to_string()], BootMode::Uefi)
        .expect("the btrfs template");
    let preflight = Preflight {
        findings: vec![Finding {
            rule: Rule::MemoryLow,
            severity: Severity::Warning,
            message: "little memory".into(),
            disk: Some("/dev/vda".into()),
        }],
    };
    let mut plan = WritePlan::default();
    plan.push("a.nix", Some(b"x"), Some("y"), &WrittenRecord::default());
    let samples: Vec<Value> = vec![
        to_value(JobEvent::lines(
            Stream::Stdout,
            0,
            vec!["\x1b[1mbold".into()],
        ))
        .unwrap(),
        to_value(JobEvent::Phase(PhaseEvent {
            node: Some("web".into()),
            phase: "disko".into(),
            label: "Formatting".into(),
            seq: 1,
            at_ms: 2,
            detail: None,
            disks_at_risk: true,
        }))
        .unwrap(),
        to_value(JobEvent::Stalled {
            secs: 60,
            alert: Some(Alert {
                kind: AlertKind::Silent {
                    silent_for: Duration::from_secs(60),
                    limit: Duration::from_secs(30),
                },
                step: "Installing NixOS".into(),
                node: Some("web".into()),
                line: 3,
                message: "quiet".into(),
                usual_causes: "a slow build".into(),
            }),
        })
        .unwrap(),
        to_value(edit::view(&layout, None)).unwrap(),
        to_value(HostFacts::default()).unwrap(),
        to_value(nixdeck_core::review::review_gate(&preflight, &[], &plan)).unwrap(),
        to_value(&plan).unwrap(),
        json!(templates::templates()),
    ];
    let mut missing = Vec::new();
    for sample in &samples {
        undeclared_keys(sample, &declared, &["layout", "value"], &mut missing);
    }
    assert!(
        missing.is_empty(),
        "keys serde writes but no binding declares: {missing:?}"
    );
}

fn undeclared_keys(
    value: &serde_json::Value,
    declared: &str,
    skip: &[&str],
    out: &mut Vec<String>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let forms = [
                    format!("{key}: "),
                    format!("{key}?: "),
                    format!("\"{key}\": "),
                ];
                if !forms.iter().any(|f| declared.contains(f.as_str())) {
                    out.push(key.clone());
                }
                if !skip.contains(&key.as_str()) {
                    undeclared_keys(inner, declared, skip, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                undeclared_keys(item, declared, skip, out);
            }
        }
        _ => {}
    }
}

/// `index.ts`: every type, re-exported under its name.
fn index(render: &Render) -> String {
    let mut out = String::from(
        "// Generated by src-tauri/crates/nixdeck-api/tests/bindings.rs. Do not edit.\n",
    );
    for (path, file) in &render.files {
        let module = path.with_extension("");
        out.push_str(&format!(
            "export type {{ {} }} from \"./{}\";\n",
            file.name,
            module.display()
        ));
    }
    out
}

/// The `.ts` files under `dir`, relative to it.
fn existing_files(root: &Path, rel: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = rel.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(existing_files(root, &path));
        } else if path.extension().is_some_and(|e| e == "ts") {
            out.push(path);
        }
    }
    out
}

struct File {
    type_id: TypeId,
    name: String,
    text: String,
}

/// Renders a type and, through ts-rs's visitor, every type it uses.
struct Render {
    cfg: Config,
    files: BTreeMap<PathBuf, File>,
    problems: Vec<String>,
}

impl Render {
    fn new() -> Self {
        Self {
            // Sizes, times and sequence numbers are u64 in Rust and plain numbers
            // in JSON; all stay far below 2^53 (ts-rs's default would be bigint).
            cfg: Config::new().with_large_int("number"),
            files: BTreeMap::new(),
            problems: Vec::new(),
        }
    }
}

impl TypeVisitor for Render {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        let Some(path) = T::output_path() else {
            return;
        };
        let name = T::ident(&self.cfg);
        if let Some(seen) = self.files.get(&path) {
            // serde_json::Value is declared through ts-rs's own stand-in type:
            // two type ids, one declaration.
            let same = T::export_to_string(&self.cfg).is_ok_and(|text| text == seen.text);
            if seen.type_id != TypeId::of::<T>() && !same {
                self.problems.push(format!(
                    "two types are named {name} ({} and another); give one a #[ts(rename = \"…\")]",
                    std::any::type_name::<T>()
                ));
            }
            return;
        }
        match T::export_to_string(&self.cfg) {
            Ok(text) => {
                self.files.insert(
                    path,
                    File {
                        type_id: TypeId::of::<T>(),
                        name,
                        text,
                    },
                );
                T::visit_dependencies(self);
            }
            Err(e) => self.problems.push(format!("{name}: {e}")),
        }
    }
}
