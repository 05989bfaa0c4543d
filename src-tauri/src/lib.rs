//! The desktop app: Tauri setup, state and the command layer. It only translates
//! between the window and the crates under `src-tauri/crates/`.

mod commands;
mod error;
mod state;

use state::AppState;

/// Opens the main window and runs until it is closed.
pub fn run() -> std::process::ExitCode {
    let data_dir = nixdeck_engine::paths::data_dir();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        // fleet: the window opens where and as large as it was left
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .manage(AppState::new(data_dir))
        .invoke_handler(tauri::generate_handler![
            commands::doctor::doctor_report,
            commands::repo::list_recent_repos,
            commands::repo::forget_recent_repo,
            commands::repo::pick_folder,
            commands::repo::open_repo,
            commands::repo::create_repo,
            // wizard: identity, probe, layout editor, review
            commands::hosts::check_host_identity,
            commands::hosts::plan_remove_host,
            commands::hosts::remove_host,
            commands::hosts::check_host_name,
            commands::hosts::pick_file,
            commands::hosts::list_ssh_keys,
            commands::hosts::preview_configuration,
            commands::hosts::review_new_host,
            commands::hosts::write_new_host,
            commands::probe::probe_host,
            commands::probe::load_facts,
            commands::layout::layout_templates,
            commands::layout::layout_from_template,
            commands::layout::layout_from_repo,
            commands::layout::apply_layout_edit,
            commands::layout::layout_view,
            // fleet: jobs, install, redeploy, host page
            commands::jobs::list_jobs,
            commands::jobs::get_job,
            commands::jobs::attach_job,
            commands::jobs::cancel_job,
            commands::jobs::job_alerts,
            commands::jobs::explain_job,
            commands::jobs::start_validate,
            commands::jobs::preview_deploy,
            commands::jobs::start_deploy,
            commands::jobs::record_host_facts,
            commands::jobs::host_facts,
            commands::jobs::install_check,
            commands::jobs::start_install,
            commands::jobs::hardware_status,
            commands::jobs::commit_hardware_config,
            commands::jobs::reprobe_host,
            commands::jobs::host_files,
            commands::jobs::check_host_key,
            commands::jobs::replace_host_key,
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
