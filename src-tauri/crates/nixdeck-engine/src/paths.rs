//! Where nixdeck keeps its own state (recent repositories, the job store, logs).

use std::path::PathBuf;

/// `$NIXDECK_DATA_DIR` when set (tests and portable setups), else the platform's
/// data directory + `nixdeck` (`~/.local/share/nixdeck` on Linux).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NIXDECK_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("nixdeck-data"))
        .join("nixdeck")
}
