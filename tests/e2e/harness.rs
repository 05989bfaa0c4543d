//! Starts the real app for a test: a private Xvfb display, `tauri-driver` (which
//! starts WebKitWebDriver, which starts the app), and a WebDriver session over
//! fantoccini. Everything is torn down on drop.
//!
//! The app binary is `target/debug/nixdeck` from `npx tauri build --debug
//! --no-bundle` (override with `NIXDECK_APP_BIN`). Each harness gets its own data
//! directory and HOME, so tests never see each other's (or the user's) state.

use anyhow::{bail, Context, Result};
use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for an element before a test fails.
const WAIT: Duration = Duration::from_secs(20);

pub struct App {
    pub client: Client,
    /// When the WebDriver session that started the app was asked for: the
    /// app's spawn, as near as a client can tell (the window benches).
    #[allow(dead_code)]
    pub session_started: Instant,
    /// Kept for the app's lifetime: its data directory and HOME.
    _data_dir: tempfile::TempDir,
    _home: tempfile::TempDir,
    test_name: String,
    shot: usize,
    driver: Child,
    xvfb: Child,
    /// The X display (`:91`) the app runs on.
    display: String,
}

/// Options the test sets before the app starts.
#[derive(Default)]
pub struct AppOptions {
    /// The answer the folder dialog gives (the app's `NIXDECK_E2E_PICK_FOLDER` hook).
    pub pick_folder: Option<PathBuf>,
    /// Extra environment for the app.
    pub env: Vec<(String, String)>,
    /// Window size; the default is the app's own (1280x820).
    pub window: Option<(u32, u32)>,
}

fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("NIXDECK_APP_BIN") {
        Some(p) => PathBuf::from(p),
        None => nixdeck_tests::repo_root().join("target/debug/nixdeck"),
    };
    if !path.exists() {
        bail!(
            "the app binary {} does not exist: build it first with `npx tauri build --debug --no-bundle` (the README's test command does)",
            path.display()
        );
    }
    Ok(path)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts Xvfb on the first free display number from 90 on.
fn start_xvfb() -> Result<(Child, String)> {
    for n in 90..200 {
        let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
        if lock.exists() {
            if !stale_lock(&lock) {
                continue;
            }
            // Left by an X server that died without cleaning up (killed, crashed).
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
        }
        let mut child = Command::new("Xvfb")
            .args([
                format!(":{n}").as_str(),
                "-screen",
                "0",
                "1600x1000x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb (Debian package `xvfb`)")?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(_status) = child.try_wait()? {
                break; // lost a race for this display; try the next
            }
            if socket.exists() {
                return Ok((child, format!(":{n}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    bail!("no free X display for Xvfb")
}

/// Whether an X lock file names a process that no longer exists.
fn stale_lock(lock: &Path) -> bool {
    std::fs::read_to_string(lock)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let cargo_bin = dirs_home().join(".cargo/bin/tauri-driver");
    if cargo_bin.exists() {
        cargo_bin
    } else {
        PathBuf::from("tauri-driver")
    }
}

fn dirs_home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

impl App {
    pub async fn start(test_name: &str, options: AppOptions) -> Result<App> {
        Self::start_binary(test_name, options, &app_binary()?).await
    }

    // Used by the window benches (benches/window.rs), which share this file.
    #[allow(dead_code)]
    /// [`App::start`] with another binary than the app (the window benches'
    /// blank Tauri window, or a release build).
    pub async fn start_binary(test_name: &str, options: AppOptions, binary: &Path) -> Result<App> {
        let binary = binary.to_path_buf();
        let (xvfb, display) = start_xvfb()?;
        let data_dir = tempfile::tempdir()?;
        let home = tempfile::tempdir()?;
        // The operator's public key, which the test fleets authorize: nixdeck refuses
        // a deploy or install that would leave nobody able to log in.
        nixdeck_tests::give_operator_key(home.path());
        let port = free_port()?;
        let native_port = free_port()?;

        // A private session bus for the app, ended with it: without one, each start
        // autolaunches a dbus-daemon and an xdg-desktop-portal that outlive the test
        // and, run after run, use up the machine's inotify instances.
        let mut cmd = Command::new("dbus-run-session");
        cmd.arg("--")
            .arg(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("NIXDECK_DATA_DIR", data_dir.path())
            // A throw-away HOME keeps the user's ~/.ssh and settings out of the test,
            // while cargo and rustup (used by nothing in the app) stay reachable.
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("XDG_CACHE_HOME", home.path().join(".cache"))
            .env("NO_AT_BRIDGE", "1")
            .env_remove("SSH_AUTH_SOCK")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(folder) = &options.pick_folder {
            cmd.env("NIXDECK_E2E_PICK_FOLDER", folder);
        }
        for (key, value) in &options.env {
            cmd.env(key, value);
        }
        // Its own process group, so that stopping it also stops WebKitWebDriver and the app.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = cmd
            .spawn()
            .context("starting dbus-run-session (Debian package dbus-daemon) with tauri-driver (`cargo install tauri-driver --locked`)")?;

        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "tauri:options": { "application": binary },
                "browserName": "wry",
            }))?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut session_started;
        let client = loop {
            session_started = Instant::now();
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(err) if Instant::now() < deadline => {
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => return Err(err).context("connecting to tauri-driver"),
            }
        };
        let app = App {
            client,
            session_started,
            _data_dir: data_dir,
            _home: home,
            test_name: test_name.to_string(),
            shot: 0,
            driver,
            xvfb,
            display: display.clone(),
        };
        if let Some((w, h)) = options.window {
            app.client.set_window_size(w, h).await?;
        }
        Ok(app)
    }

    fn css(testid: &str) -> String {
        format!("[data-testid=\"{testid}\"]")
    }

    /// Asks the app's window to close as a window manager does when its close
    /// button is pressed (a `WM_DELETE_WINDOW` message): the app decides what
    /// happens, as it would for a person.
    pub fn request_close(&self) -> Result<()> {
        use x11_dl::xlib;
        let x = xlib::Xlib::open().context("libX11 (Debian libx11-6)")?;
        let display = std::ffi::CString::new(self.display.clone())?;
        // SAFETY: Xlib calls on a display this function opens and closes; every
        // pointer passed is to a local that outlives the call.
        unsafe {
            let dpy = (x.XOpenDisplay)(display.as_ptr());
            if dpy.is_null() {
                bail!("cannot open X display {}", self.display);
            }
            let protocols = (x.XInternAtom)(dpy, c"WM_PROTOCOLS".as_ptr(), 0);
            let delete = (x.XInternAtom)(dpy, c"WM_DELETE_WINDOW".as_ptr(), 0);
            let mut stack = vec![(x.XDefaultRootWindow)(dpy)];
            let mut sent = 0;
            while let Some(window) = stack.pop() {
                let mut name: *mut std::os::raw::c_char = std::ptr::null_mut();
                if (x.XFetchName)(dpy, window, &mut name) != 0 && !name.is_null() {
                    let title = std::ffi::CStr::from_ptr(name)
                        .to_string_lossy()
                        .into_owned();
                    (x.XFree)(name.cast());
                    if title == "nixdeck" {
                        let mut event: xlib::XEvent = std::mem::zeroed();
                        event.client_message.type_ = xlib::ClientMessage;
                        event.client_message.window = window;
                        event.client_message.message_type = protocols;
                        event.client_message.format = 32;
                        event.client_message.data.set_long(0, delete as i64);
                        event
                            .client_message
                            .data
                            .set_long(1, xlib::CurrentTime as i64);
                        (x.XSendEvent)(dpy, window, 0, xlib::NoEventMask, &mut event);
                        sent += 1;
                        continue;
                    }
                }
                let (mut root, mut parent) = (0, 0);
                let mut children: *mut xlib::Window = std::ptr::null_mut();
                let mut count = 0u32;
                if (x.XQueryTree)(
                    dpy,
                    window,
                    &mut root,
                    &mut parent,
                    &mut children,
                    &mut count,
                ) != 0
                    && !children.is_null()
                {
                    stack.extend(std::slice::from_raw_parts(children, count as usize));
                    (x.XFree)(children.cast());
                }
            }
            (x.XFlush)(dpy);
            (x.XCloseDisplay)(dpy);
            if sent == 0 {
                bail!("no window titled nixdeck on {}", self.display);
            }
        }
        Ok(())
    }

    /// Attribute `name` of the element at the CSS selector `css` now: an error
    /// when there is no such element, `None` when it lacks the attribute.
    pub async fn attr_css(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self
            .client
            .find(Locator::Css(css))
            .await?
            .attr(name)
            .await?)
    }

    /// Waits up to `secs` seconds until the element at `css` has attribute
    /// `name` equal to `want`.
    pub async fn wait_attr(&self, css: &str, name: &str, want: &str, secs: u64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.attr_css(css, name).await.ok().flatten();
            if got.as_deref() == Some(want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{css} [{name}] never became {want:?}; last {got:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the element at the CSS selector `css`, scrolls it into view and clicks it.
    pub async fn click_css(&self, css: &str) -> Result<()> {
        let el = self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))?;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(&el)?],
            )
            .await?;
        el.click().await?;
        Ok(())
    }

    /// Waits until an element with `data-testid` is present and returns it.
    pub async fn find(&self, testid: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&Self::css(testid)))
            .await
            .with_context(|| format!("waiting for [data-testid={testid}]"))
    }

    /// Every element matching the CSS selector `css` now (no waiting).
    pub async fn find_all_css(&self, css: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// Clicks `testid`, scrolled to the middle of the view first: the wizard's sticky
    /// footer would otherwise cover a button at the bottom edge and take the click.
    pub async fn click(&self, testid: &str) -> Result<()> {
        let element = self.find(testid).await?;
        let arg = serde_json::to_value(&element)?;
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
            .await?;
        element.click().await?;
        Ok(())
    }

    pub async fn text(&self, testid: &str) -> Result<String> {
        Ok(self.find(testid).await?.text().await?)
    }

    /// Waits until `testid`'s text satisfies `pred`, returning the text.
    pub async fn wait_text(&self, testid: &str, pred: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text(testid).await.unwrap_or_default();
            if pred(&text) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                bail!("[data-testid={testid}] never had the expected text; last: {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a screenshot as `target/e2e-screenshots/<test>-<n>-<step>.png`.
    pub async fn screenshot(&mut self, step: &str) -> Result<PathBuf> {
        // WebKitWebDriver captures the last painted frame: let the page paint what the
        // test just waited for before taking it.
        self.client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 150)));",
                vec![],
            )
            .await?;
        let png = self.client.screenshot().await?;
        let dir = nixdeck_tests::repo_root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir)?;
        self.shot += 1;
        let path = dir.join(format!("{}-{:02}-{step}.png", self.test_name, self.shot));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// The process that started tauri-driver (the app runs below it).
    #[allow(dead_code)]
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    /// Ends the session and stops the app, the driver and the display.
    pub async fn stop(mut self) -> Result<()> {
        let _ = self.client.clone().close().await;
        self.kill();
        Ok(())
    }

    fn kill(&mut self) {
        // SAFETY: kill(2) on the process group this harness created; no memory involved.
        unsafe {
            libc::kill(-(self.driver.id() as i32), libc::SIGKILL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // SIGTERM lets Xvfb remove its lock file and socket; SIGKILL only if it hangs.
        // SAFETY: kill(2) on the Xvfb child this harness started.
        unsafe {
            libc::kill(self.xvfb.id() as i32, libc::SIGTERM);
        }
        for _ in 0..50 {
            if matches!(self.xvfb.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.kill();
    }
}
