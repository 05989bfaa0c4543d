//! What only a desktop has: native file dialogs, notifications, and the
//! question asked when the window closes while an install or deploy runs.

use nixdeck_engine::runner::{EventSink, JobEvent};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri_plugin_dialog::DialogExt;

/// Jobs shorter than this end without a desktop notification.
const NOTIFY_AFTER: Duration = Duration::from_secs(20);

/// The answer a test gives instead of a native dialog: WebDriver cannot reach a
/// GTK file chooser, so `NIXDECK_E2E_PICK_FOLDER`/`_FILE` answer it. The chosen
/// path then goes through the same commands as a real answer.
fn test_answer(var: &str) -> Option<String> {
    std::env::var_os(var)
        .filter(|p| !p.is_empty())
        .map(|p| p.to_string_lossy().into_owned())
}

/// Asks for a folder with the native dialog; `None` when the user cancels.
#[tauri::command(async)]
pub async fn pick_folder(app: tauri::AppHandle, title: String) -> Option<String> {
    if let Some(answer) = test_answer("NIXDECK_E2E_PICK_FOLDER") {
        return Some(answer);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .pick_folder(move |folder| {
            let _ = tx.send(folder.and_then(|f| f.into_path().ok()));
        });
    rx.await
        .ok()
        .flatten()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Asks for a file with the native dialog (starting in `~/.ssh`); `None` when cancelled.
#[tauri::command(async)]
pub async fn pick_file(app: tauri::AppHandle, title: String) -> Option<String> {
    if let Some(answer) = test_answer("NIXDECK_E2E_PICK_FILE") {
        return Some(answer);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app.dialog().file().set_title(title);
    if let Some(home) = std::env::var_os("HOME") {
        dialog = dialog.set_directory(PathBuf::from(home).join(".ssh"));
    }
    dialog.pick_file(move |file| {
        let _ = tx.send(file.and_then(|f| f.into_path().ok()));
    });
    rx.await
        .ok()
        .flatten()
        .map(|p| p.to_string_lossy().into_owned())
}

/// A job sink that tells the desktop when a long job (`what`) ended while the
/// window was in the background.
pub fn notify_when_done(app: &tauri::AppHandle, what: String) -> Arc<dyn EventSink> {
    let app = app.clone();
    let started = Instant::now();
    Arc::new(move |event: &JobEvent| {
        if let JobEvent::Finished { outcome } = event {
            notify(&app, &what, outcome.result.as_str(), started.elapsed());
        }
        true
    })
}

fn notify(app: &tauri::AppHandle, what: &str, result: &str, took: Duration) {
    use tauri::Manager;
    use tauri_plugin_notification::NotificationExt;
    if took < NOTIFY_AFTER {
        return;
    }
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    if focused {
        return;
    }
    // A desktop without a notification service just gets none.
    let _ = app
        .notification()
        .builder()
        .title(format!("{what}: {result}"))
        .body(format!("nixdeck: the job ran for {} s.", took.as_secs()))
        .show();
}

/// Closing the window while an install, deploy or rollback runs here: the close
/// is held and the window asked (event `close-requested` with the jobs), so the
/// person chooses to cancel them, leave them running, or stay.
pub fn on_window_event(window: &tauri::Window, event: &tauri::WindowEvent) {
    use std::sync::atomic::Ordering;
    use tauri::{Emitter, Manager};
    let tauri::WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let state = window.state::<crate::AppState>();
    if state.closing.load(Ordering::SeqCst) {
        return;
    }
    let running = state.api.jobs_running_here().unwrap_or_default();
    if running.is_empty() {
        return;
    }
    api.prevent_close();
    // Should the window not hear it, it stays open: nothing is left unsupervised.
    let _ = window.emit("close-requested", running);
}

/// The answer to the close dialog: `cancel` stops every job running here and
/// waits for it, `leave` lets them run on without nixdeck (recorded with their
/// pid, hosts kept locked); then the app exits. Another answer is refused.
#[tauri::command(async)]
pub async fn close_app(
    app: tauri::AppHandle,
    state: tauri::State<'_, crate::AppState>,
    choice: String,
) -> nixdeck_api::ApiResult<()> {
    use std::sync::atomic::Ordering;
    match choice.as_str() {
        "cancel" => {
            state.api.cancel_jobs_running_here().await?;
        }
        "leave" => {
            state.api.leave_jobs_running()?;
        }
        other => {
            return Err(nixdeck_api::ApiError::invalid(format!(
                "`{other}` is not an answer to the close dialog: use cancel or leave"
            )))
        }
    }
    state.closing.store(true, Ordering::SeqCst);
    app.exit(0);
    Ok(())
}
