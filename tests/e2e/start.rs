//! The start screen: it opens, the doctor reports the real machine, and a
//! repository created through the window is on disk.

use crate::harness::{App, AppOptions};
use anyhow::{Context, Result};

#[tokio::test]
async fn window_opens_with_the_start_screen() -> Result<()> {
    let mut app = App::start("start-screen", AppOptions::default()).await?;
    app.find("start-screen").await?;
    let create = app.find("create-repo").await?;
    assert!(create.is_displayed().await?, "the create button is visible");
    assert_eq!(create.text().await?, "Create new repository…");
    assert_eq!(app.text("open-repo").await?, "Open repository…");
    // A fresh data directory remembers nothing yet, and says what will appear there.
    let empty = app.text("recent-empty").await?;
    assert!(
        empty.contains("hosts/<name>/"),
        "empty state explains: {empty}"
    );
    let title = app.client.title().await?;
    assert_eq!(title, "nixdeck");
    app.screenshot("start").await?;
    app.stop().await
}

#[tokio::test]
async fn doctor_shows_the_real_nix_version() -> Result<()> {
    let local = std::process::Command::new("nix")
        .arg("--version")
        .output()
        .context("running `nix --version` (Debian package nix-bin)")?;
    let local = String::from_utf8(local.stdout)?.trim().to_string();
    assert!(
        local.starts_with("nix (Nix) "),
        "unexpected local nix: {local}"
    );

    let mut app = App::start("doctor", AppOptions::default()).await?;
    let shown = app
        .wait_text("doctor-detail-nix", |t| !t.is_empty())
        .await?;
    assert_eq!(shown, local);
    let status = app
        .find("doctor-check-nix")
        .await?
        .attr("data-status")
        .await?;
    assert_eq!(status.as_deref(), Some("ok"));
    // git is installed by the set-up too; the agent is absent in the test's environment.
    assert_eq!(
        app.find("doctor-check-git")
            .await?
            .attr("data-status")
            .await?
            .as_deref(),
        Some("ok")
    );
    let agent = app.find("doctor-check-ssh_agent").await?;
    assert_eq!(agent.attr("data-status").await?.as_deref(), Some("warning"));
    assert!(
        agent.text().await?.contains("ssh-agent"),
        "the agent check says what to do"
    );
    let system = app.text("doctor-system").await?;
    assert!(system.contains(std::env::consts::ARCH), "{system}");
    app.screenshot("doctor").await?;
    app.stop().await
}

#[tokio::test]
async fn creating_a_repository_writes_it_to_disk() -> Result<()> {
    let parent = tempfile::tempdir()?;
    let repo = parent.path().join("my-infra");
    let mut app = App::start(
        "create-repo",
        AppOptions {
            pick_folder: Some(repo.clone()),
            ..Default::default()
        },
    )
    .await?;
    app.click("create-repo").await?;
    app.find("create-dialog").await?;
    app.click("create-choose-folder").await?;
    app.wait_text("create-folder", |t| t == repo.to_string_lossy())
        .await?;
    app.screenshot("create-dialog").await?;
    app.click("create-confirm").await?;

    app.find("repo-screen").await?;
    // The path may be cut with an ellipsis on screen; its title holds it whole.
    let shown = app.find("repo-path").await?.attr("title").await?;
    assert_eq!(shown.as_deref(), Some(&*repo.to_string_lossy()));
    app.find("hosts-empty").await?;
    app.screenshot("repo-empty").await?;

    for file in ["flake.nix", "modules/common.nix", ".gitignore"] {
        assert!(repo.join(file).is_file(), "{file} was written");
    }
    assert!(repo.join(".git").is_dir(), "git init ran");
    let flake = std::fs::read_to_string(repo.join("flake.nix"))?;
    assert!(
        flake.contains("github:NixOS/nixpkgs/nixos-25.05"),
        "{flake}"
    );
    assert!(flake.contains("colmenaHive"), "{flake}");

    // Back on the start screen, the new repository is the most recent one.
    app.click("close-repo").await?;
    let first = app.find("recent-item").await?;
    app.screenshot("recent").await?;
    let first = first.attr("data-path").await?;
    assert_eq!(first.as_deref(), Some(&*repo.to_string_lossy()));
    app.stop().await
}

#[tokio::test]
async fn start_screen_small_and_dark() -> Result<()> {
    let mut app = App::start(
        "start-small-dark",
        AppOptions {
            window: Some((1024, 700)),
            env: vec![("GTK_THEME".into(), "Adwaita:dark".into())],
            ..Default::default()
        },
    )
    .await?;
    app.wait_text("doctor-detail-nix", |t| !t.is_empty())
        .await?;
    // The system's dark preference reaches the page, and the layout fits 1024 wide.
    let dark: bool = serde_json::from_value(
        app.client
            .execute(
                "return window.matchMedia('(prefers-color-scheme: dark)').matches;",
                vec![],
            )
            .await?,
    )?;
    assert!(dark, "GTK_THEME=Adwaita:dark makes the page dark");
    let overflow: bool = serde_json::from_value(
        app.client
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth;",
                vec![],
            )
            .await?,
    )?;
    assert!(!overflow, "no horizontal scrolling at 1024x700");
    app.screenshot("start").await?;
    app.stop().await
}
