//! The app's one managed state: where its data lives and the long-lived engine
//! handles the commands share.

use nixdeck_engine::recent::RecentRepos;
use std::path::PathBuf;

pub struct AppState {
    pub recent: RecentRepos,
    // fleet: the job manager, watchdog notices and recorded facts
    pub jobs: crate::commands::jobs::AppJobs,
}

impl AppState {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            recent: RecentRepos::new(&data_dir),
            jobs: crate::commands::jobs::AppJobs::open(&data_dir),
        }
    }
}
