// The package root is the repository root, so capabilities are found under
// src-tauri/ explicitly, and every app command is listed so that each needs an
// explicit `allow-*` permission in a capability.
fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(nixdeck_commands()));
    tauri_build::try_build(attributes).expect("tauri build configuration is valid");
}

fn nixdeck_commands() -> &'static [&'static str] {
    &[
        "doctor_report",
        "list_recent_repos",
        "forget_recent_repo",
        "pick_folder",
        "plan_remove_host",
        "remove_host",
        "open_repo",
        "create_repo",
        // wizard
        "check_host_identity",
        "check_host_name",
        "pick_file",
        "list_ssh_keys",
        "preview_configuration",
        "review_new_host",
        "write_new_host",
        "probe_host",
        "layout_templates",
        "layout_from_template",
        "layout_from_repo",
        "apply_layout_edit",
        "layout_view",
        // fleet: jobs, install, redeploy, host page
        "list_jobs",
        "get_job",
        "attach_job",
        "log_lines",
        "log_search",
        "cancel_job",
        "explain_job",
        "start_validate",
        "preview_deploy",
        "start_deploy",
        "record_host_facts",
        "host_facts",
        "install_check",
        "start_install",
        "close_app",
        "hardware_status",
        "commit_hardware_config",
        "reprobe_host",
        "host_files",
        "check_host_key",
        "replace_host_key",
        // day two: status, generations, rollback
        "fleet_status",
        "host_generations",
        "start_rollback",
        "deploy_goal_risks",
        "deploy_safety",
        "recheck_node",
        "plan_layout_save",
        "save_layout",
        "disk_check",
        "disk_check_after_install",
    ]
}
