//! The desktop app: Tauri setup and the command layer. Every workflow lives in
//! `nixdeck_api`; this crate only adds what needs a desktop (dialogs,
//! notifications, window state) and translates commands into API calls.

mod commands;
mod desktop;

use nixdeck_api::Api;

/// The app's one managed state.
pub struct AppState {
    api: Api,
    /// Set once the person has answered the close dialog: the next close
    /// request goes through.
    closing: std::sync::atomic::AtomicBool,
}

/// Opens the main window and runs until it is closed.
pub fn run() -> std::process::ExitCode {
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        // the window opens where and as large as it was left
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .manage(AppState {
            api: Api::open_default(),
            closing: std::sync::atomic::AtomicBool::new(false),
        })
        .on_window_event(desktop::on_window_event)
        .invoke_handler(tauri::generate_handler![
            desktop::pick_folder,
            desktop::pick_file,
            commands::repo::doctor_report,
            commands::repo::list_recent_repos,
            commands::repo::forget_recent_repo,
            commands::repo::open_repo,
            commands::repo::create_repo,
            commands::hosts::check_host_identity,
            commands::hosts::check_host_name,
            commands::hosts::list_ssh_keys,
            commands::hosts::preview_configuration,
            commands::hosts::review_new_host,
            commands::hosts::write_new_host,
            commands::hosts::plan_remove_host,
            commands::hosts::remove_host,
            commands::hosts::probe_host,
            commands::hosts::host_facts,
            commands::hosts::record_host_facts,
            commands::hosts::reprobe_host,
            commands::hosts::host_files,
            commands::hosts::hardware_status,
            commands::hosts::commit_hardware_config,
            commands::hosts::check_host_key,
            commands::hosts::replace_host_key,
            commands::layout::layout_templates,
            commands::layout::layout_from_template,
            commands::layout::layout_from_repo,
            commands::layout::apply_layout_edit,
            commands::layout::layout_view,
            commands::jobs::list_jobs,
            commands::jobs::get_job,
            commands::jobs::attach_job,
            commands::jobs::log_lines,
            commands::jobs::log_search,
            commands::jobs::cancel_job,
            commands::jobs::explain_job,
            commands::jobs::start_validate,
            commands::jobs::preview_deploy,
            commands::jobs::start_deploy,
            commands::jobs::install_check,
            commands::jobs::start_install,
            commands::status::fleet_status,
            commands::status::host_generations,
            commands::status::start_rollback,
            commands::status::deploy_goal_risks,
            commands::status::deploy_safety,
            commands::status::recheck_node,
            commands::layout::plan_layout_save,
            commands::layout::save_layout,
            commands::layout::disk_check,
            commands::layout::disk_check_after_install,
            desktop::close_app,
        ])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("nixdeck: could not start the window: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
