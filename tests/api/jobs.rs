use crate::install::{installable, request};
use crate::{standins, Scene};
use nixdeck_api::jobs::parse_job_id;
use nixdeck_api::ErrorCode;
use nixdeck_engine::jobs::log::Direction;
use nixdeck_engine::runner::{EventSink, JobEvent, JobResult};
use nixdeck_tests::loopdisk::LoopDisk;
use nixdeck_tests::sshd::{Sshd, SshdOptions};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Collect(Mutex<Vec<JobEvent>>);

impl EventSink for Collect {
    fn send(&self, event: &JobEvent) -> bool {
        self.0.lock().unwrap().push(event.clone());
        true
    }
}

impl Collect {
    fn events(&self) -> Vec<JobEvent> {
        self.0.lock().unwrap().clone()
    }
}

/// The runner's watchdog is the only one: its alert arrives on the job's own
/// events (no polling), and attaching to the finished job later replays its
/// steps from the log; the recogniser explains it.
#[tokio::test]
async fn watchdog_alerts_arrive_on_the_channel_and_finished_jobs_replay_their_steps() {
    let disk = LoopDisk::new(64);
    let sshd = Sshd::start(SshdOptions::default());
    let scene = Scene::trusting(&sshd);
    let root = installable(&scene, &sshd, &disk).await;
    std::fs::write(root.join("flake.lock"), "{}\n").unwrap();
    let record = scene.path("argv.record");
    let _env = standins(&record, "hang-disko").await;
    std::env::set_var("NIXDECK_WATCHDOG_SILENCE_SECS", "1");
    let check = scene
        .api
        .install_check(&request(&root, &sshd), false)
        .await
        .unwrap();
    let warnings: Vec<String> = check
        .preflight
        .findings
        .iter()
        .map(|f| f.rule.id().to_string())
        .collect();
    let live = Arc::new(Collect::default());
    let started = scene
        .api
        .start_install(
            &request(&root, &sshd),
            "web",
            &warnings,
            false,
            Some(live.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    std::env::remove_var("NIXDECK_WATCHDOG_SILENCE_SECS");
    let id = parse_job_id(&started.job_id).unwrap();
    let begin = Instant::now();
    while !live
        .events()
        .iter()
        .any(|e| matches!(e, JobEvent::Stalled { alert: Some(_), .. }))
    {
        assert!(
            begin.elapsed() < Duration::from_secs(30),
            "no watchdog alert: {:?}",
            live.events()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    scene.api.cancel_job(id).expect("cancel");
    let outcome = scene.api.wait_job(id).await.unwrap();
    assert_eq!(outcome.result, JobResult::Cancelled);

    let replay = Arc::new(Collect::default());
    scene.api.attach_job(id, 0, replay.clone()).expect("attach");
    let events = replay.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, JobEvent::Phase(p) if p.phase == "disko")),
        "{events:?}"
    );
    assert!(matches!(events.last(), Some(JobEvent::Finished { .. })));
    // The window's way: counts and steps on the channel, lines paged from the log.
    let watched = Arc::new(Collect::default());
    scene.api.watch_job(id, watched.clone()).expect("watch");
    let events = watched.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, JobEvent::Phase(p) if p.phase == "disko")),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| matches!(e, JobEvent::Lines { .. })));
    let page = scene.api.log_lines(id, 0, 100_000).await.expect("lines");
    assert_eq!(page.first_seq, 0);
    assert!(page.total_lines > 0);
    assert_eq!(page.lines.len() as u64, page.total_lines);
    let escaped: Vec<u64> = (0..)
        .zip(&page.lines)
        .filter(|(_, l)| l.contains('\x1b'))
        .map(|(i, _)| i)
        .collect();
    let styled: Vec<u64> = page.styled.iter().map(|s| s.seq).collect();
    assert_eq!(styled, escaped);
    let disko = scene
        .api
        .log_search(id, "DISKO".into(), 0, Direction::Forward, true)
        .await
        .expect("search");
    let line = disko.expect("a line names disko") as usize;
    assert!(page.lines[line].to_ascii_lowercase().contains("disko"));
    let err = scene
        .api
        .log_search(id, String::new(), 0, Direction::Forward, true)
        .await
        .expect_err("an empty search is refused");
    assert_eq!(err.code, ErrorCode::Validation);

    let explained = scene.api.explain_job(id).expect("explain");
    assert!(!explained.steps.is_empty(), "{explained:?}");

    let err = scene.api.cancel_job(id).expect_err("already over");
    assert_eq!(err.code, ErrorCode::Conflict);
}

#[test]
fn job_ids_are_checked() {
    assert_eq!(parse_job_id(" 42 ").unwrap(), 42);
    assert_eq!(parse_job_id("4x2").unwrap_err().code, ErrorCode::Validation);
}

#[tokio::test]
async fn an_unknown_job_is_not_found() {
    let scene = Scene::new();
    assert_eq!(
        scene.api.get_job(999).unwrap_err().code,
        ErrorCode::NotFound
    );
    assert!(scene.api.list_jobs(None).unwrap().is_empty());
}
