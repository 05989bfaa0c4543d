//! A blank Tauri window: the baseline of `launch_vs_blank_tauri` and
//! `idle_pss_vs_blank_tauri` (tests/benches/window.rs). It is built from the
//! same package as nixdeck, so it has the same Tauri version, features and
//! `tauri.conf.json` (window size, CSP, freezePrototype): only the page is a
//! few bytes of HTML instead of nixdeck's front end, and it has no plugins and
//! no commands. What nixdeck costs beyond it is nixdeck's own.
//!
//! `cargo build --example blank --features tauri/custom-protocol` (the
//! bench builds it beside the app, in the same profile).

use std::borrow::Cow;
use tauri::utils::assets::{AssetKey, AssetsIter, CspHash};

/// The page: one element for a WebDriver client to find once it is drawn.
const PAGE: &[u8] =
    b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>blank</title></head>\
<body><main data-testid=\"blank-screen\">blank</main></body></html>\n";

/// Serves [`PAGE`] for every path.
struct Blank;

impl tauri::Assets<tauri::Wry> for Blank {
    fn get(&self, _key: &AssetKey) -> Option<Cow<'_, [u8]>> {
        Some(Cow::Borrowed(PAGE))
    }

    fn iter(&self) -> Box<AssetsIter<'_>> {
        Box::new(std::iter::once((
            Cow::Borrowed("/index.html"),
            Cow::Borrowed(PAGE),
        )))
    }

    fn csp_hashes(&self, _html_path: &AssetKey) -> Box<dyn Iterator<Item = CspHash<'_>> + '_> {
        Box::new(std::iter::empty())
    }
}

fn main() {
    let mut context = tauri::generate_context!();
    context.set_assets(Box::new(Blank));
    if let Err(err) = tauri::Builder::default().run(context) {
        eprintln!("blank: could not start the window: {err}");
        std::process::exit(1);
    }
}
