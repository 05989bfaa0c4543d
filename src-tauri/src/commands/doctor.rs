use nixdeck_engine::doctor::{self, DoctorReport};

/// The doctor panel's checks of the local machine.
#[tauri::command(async)]
pub async fn doctor_report() -> DoctorReport {
    doctor::run().await
}
