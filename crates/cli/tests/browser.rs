//! The web application in a real browser: `airisk demo` serves it on a free loopback port and
//! headless Chromium, driven through chromedriver (WebDriver), signs in, reads the dashboard,
//! creates a risk through the form (first with an error shown inline), finds it in the
//! register, walks from ISO/IEC 42001 A.6.2.4 to a verified ledger proof, checks that the
//! auditor may not write, and signs out. A PNG screenshot of each step goes to
//! `target/ui-screenshots/` (or `AIRISK_SCREENSHOTS`).
//!
//! Needs `chromium` and `chromedriver` (Debian: `chromium`, `chromium-driver`) at /usr/bin or
//! named by `AIRISK_CHROMIUM` / `AIRISK_CHROMEDRIVER`. Without them the test prints a notice
//! and passes, unless `AIRISK_REQUIRE_BROWSER=1` (as scripts/test sets it) makes that a failure.

use anyhow::{anyhow, bail, Context as _, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any one element or page may take to appear.
const WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

const RISK_ID: &str = "R-BROWSER-1";
const RISK_TITLE: &str = "Browser-made risk: stale credit features";

/// A binary from an environment variable or its Debian path, if it exists.
fn find_binary(var: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    path.is_file().then_some(path)
}

/// A child process killed (SIGTERM, then SIGKILL) and reaped when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // SIGTERM first: chromedriver then ends the browsers it started.
        unsafe {
            libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(POLL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts `airisk demo` on a free port (a fresh database in `dir`); returns it and its URL.
fn start_demo(dir: &Path) -> Result<(Guard, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airisk"))
        .args(["demo", "--listen", "127.0.0.1:0", "--keep"])
        .arg(dir.join("demo.db"))
        .env("AIRISK_TODAY", "2026-11-22")
        .env("AIRISK_USER", "demo-loader")
        .env("NO_COLOR", "1")
        .env_remove("AIRISK_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting airisk demo")?;
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = Guard(child);
    let (tx, rx) = mpsc::channel();
    // Keep draining stdout after the URL so the demo never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("The web application is at ") {
                let _ = tx.send(url.trim().trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .context("airisk demo did not print \"The web application is at …\"")?;
    Ok((guard, url))
}

/// Starts chromedriver on a free loopback port and waits until it accepts connections.
fn start_chromedriver(binary: &Path, log: &Path) -> Result<(Guard, String)> {
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut guard = Guard(child);
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if let Some(status) = guard.0.try_wait()? {
            bail!(
                "chromedriver exited early ({status}); log: {}",
                log.display()
            );
        }
        if Instant::now() > deadline {
            bail!("chromedriver did not listen on {address}");
        }
        std::thread::sleep(POLL);
    }
    Ok((guard, format!("http://{address}")))
}

/// The browser session and where its screenshots go.
struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
    taken: Vec<PathBuf>,
}

impl Browser {
    async fn open(&self, path: &str) -> Result<()> {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .with_context(|| format!("opening {path}"))
    }

    async fn path(&self) -> Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        })
    }

    /// The first element matching `css`, waiting for it to appear.
    async fn wait(&self, css: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for `{css}`"))
    }

    /// Waits until the first element matching `css` contains `needle`; returns its text.
    async fn wait_text(&self, css: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = el.text().await {
                    if text.contains(needle) {
                        return Ok(text);
                    }
                    last = text;
                }
            }
            if Instant::now() > deadline {
                bail!("`{css}` never contained {needle:?}; last text: {last:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the page's path (with query) satisfies `ok`.
    async fn wait_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let path = self.path().await?;
            if ok(&path) {
                return Ok(path);
            }
            if Instant::now() > deadline {
                bail!("expected to be at {what}, still at {path}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn exists(&self, css: &str) -> Result<bool> {
        Ok(!self.client.find_all(Locator::Css(css)).await?.is_empty())
    }

    async fn click(&self, css: &str) -> Result<()> {
        self.wait(css)
            .await?
            .click()
            .await
            .with_context(|| format!("clicking `{css}`"))
    }

    async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let el = self.wait(css).await?;
        el.clear().await?;
        el.send_keys(text)
            .await
            .with_context(|| format!("typing into `{css}`"))
    }

    async fn select(&self, css: &str, value: &str) -> Result<()> {
        self.wait(css)
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("choosing {value} in `{css}`"))
    }

    async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self.wait(css).await?.attr(name).await?)
    }

    async fn prop(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self.wait(css).await?.prop(name).await?)
    }

    /// Brings `element` into the middle of the viewport (for the screenshot).
    async fn scroll_to(&self, element: &Element) -> Result<()> {
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(element)?],
            )
            .await?;
        Ok(())
    }

    async fn shot(&mut self, name: &str) -> Result<()> {
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let path = self
            .shots
            .join(format!("{:02}-{name}.png", self.taken.len() + 1));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        self.taken.push(path);
        Ok(())
    }

    async fn sign_in(&self, username: &str, password: &str) -> Result<()> {
        self.type_into("input[name=username]", username).await?;
        self.type_into("input[name=password]", password).await?;
        self.click("form.edit button[type=submit]").await
    }

    async fn sign_out(&self) -> Result<()> {
        self.click("form.signout button[type=submit]").await?;
        self.wait_path("/login", |p| p.starts_with("/login"))
            .await?;
        self.wait_text("h1", "Sign in").await?;
        Ok(())
    }

    /// Fills the new-risk form; `title` empty leaves the title out.
    async fn fill_risk_form(&self, title: &str) -> Result<()> {
        self.type_into("#id", RISK_ID).await?;
        self.type_into("#title", title).await?;
        self.type_into(
            "#event",
            "The scoring model keeps using features computed before a data fix.",
        )
        .await?;
        self.type_into("#cause", "The feature store cache is not invalidated.")
            .await?;
        self.type_into(
            "#consequence",
            "Applicants are scored on wrong data and wrongly refused.",
        )
        .await?;
        self.select("#category", "operational").await?;
        self.select("#systems", "credit-scoring").await?;
        self.select("#owner", "a.khan").await?;
        self.select("#status", "identified").await?;
        Ok(())
    }

    /// The value in the row headed `name` of the page's table (the proof page's entry).
    async fn row(&self, name: &str) -> Result<String> {
        let cell = self
            .client
            .find(Locator::XPath(&format!(
                "//main//tr[th[normalize-space()='{name}']]/td"
            )))
            .await
            .with_context(|| format!("the table row `{name}`"))?;
        Ok(cell.text().await?.trim().to_string())
    }

    /// The "N risks." count on the register page.
    async fn register_count(&self) -> Result<usize> {
        let text = self.wait_text("main p.muted", " risks").await?;
        text.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow!("no count in {text:?}"))
    }
}

/// Everything the browser does; any failure names the step and the page it was on.
async fn scenario(b: &mut Browser) -> Result<()> {
    // (a) An anonymous visit is sent to the sign-in page, which keeps where it came from.
    b.open("/").await?;
    b.wait_path("/login?next=…", |p| p.starts_with("/login?next="))
        .await?;
    b.wait_text("h1", "Sign in").await?;
    b.sign_in("risk", "not-the-password").await?;
    b.wait_text("p.error[role=alert]", "Wrong username or password")
        .await?;
    b.shot("login-wrong-password").await?;
    b.sign_in("risk", "risk-demo-pass").await?;

    // (b) The dashboard: both heat maps, the trend and the top risks.
    b.wait_path("/", |p| p == "/").await?;
    b.wait_text("main h1", "Dashboard").await?;
    b.wait_text("header .who", "(risk_manager)").await?;
    b.wait("svg[role=img][aria-label='Inherent risk heat map'] rect")
        .await?;
    b.wait("svg[role=img][aria-label='Residual risk heat map'] rect")
        .await?;
    b.wait("svg[aria-label='Open risks by level over time']")
        .await?;
    b.client
        .find(Locator::XPath(
            "//section[h2[normalize-space()='Top risks']]//tbody/tr/td/a[starts-with(@href,'/risks/')]",
        ))
        .await
        .context("the Top risks section listing at least one risk")?;
    b.shot("dashboard").await?;

    // (c) A risk through the form: first without a title, which is refused inline.
    b.click("nav a[href='/risks']").await?;
    b.wait_text("main h1", "Risk register").await?;
    let before = b.register_count().await?;
    if b.exists(&format!("a[href='/risks/{RISK_ID}']")).await? {
        bail!("{RISK_ID} exists before the test made it");
    }
    b.click("a.button[href='/risks/new']").await?;
    b.wait_text("main h1", "New risk").await?;
    b.fill_risk_form("").await?;
    b.shot("risk-form-filled").await?;
    b.click("form.edit button[type=submit]").await?;
    let error = b.wait("#title-error.field-error").await?.text().await?;
    if error.trim().is_empty() {
        bail!("the title's inline error has no text");
    }
    if b.attr("#title", "aria-invalid").await?.as_deref() != Some("true") {
        bail!("#title is not marked aria-invalid=\"true\"");
    }
    b.wait_text("div.error[role=alert]", "Nothing was saved")
        .await?;
    // What was typed is still there.
    let kept = b.prop("#event", "value").await?.unwrap_or_default();
    if !kept.contains("features computed before a data fix") {
        bail!("the event typed before the error was lost: {kept:?}");
    }
    b.shot("risk-form-error").await?;
    b.open("/risks").await?;
    if b.register_count().await? != before
        || b.exists(&format!("a[href='/risks/{RISK_ID}']")).await?
    {
        bail!("the refused form saved {RISK_ID} anyway");
    }
    // Then filled in properly.
    b.open("/risks/new").await?;
    b.wait_text("main h1", "New risk").await?;
    b.fill_risk_form(RISK_TITLE).await?;
    b.click("form.edit button[type=submit]").await?;
    b.wait_path(&format!("/risks/{RISK_ID}"), |p| {
        p == format!("/risks/{RISK_ID}")
    })
    .await?;
    b.wait_text("main h1", RISK_TITLE).await?;

    // (d) It is in the register, and its page shows the creation by `risk`.
    b.click("nav a[href='/risks']").await?;
    b.wait_text("main h1", "Risk register").await?;
    if b.register_count().await? != before + 1 {
        bail!("the register did not grow by one risk");
    }
    let row = b
        .client
        .find(Locator::XPath(&format!(
            "//tbody/tr[td/a[@href='/risks/{RISK_ID}']]"
        )))
        .await
        .with_context(|| format!("{RISK_ID}'s row in the register"))?;
    let row_text = row.text().await?;
    for needle in [
        RISK_TITLE,
        "credit-scoring",
        "operational",
        "identified",
        "a.khan",
    ] {
        if !row_text.contains(needle) {
            bail!("{RISK_ID}'s register row lacks {needle:?}: {row_text:?}");
        }
    }
    b.scroll_to(&row).await?;
    b.shot("risk-register").await?;
    b.click(&format!("tbody a[href='/risks/{RISK_ID}']"))
        .await?;
    b.wait_text("main h1", RISK_TITLE).await?;
    let created = b.wait_text("ol.timeline > li", " · risk · create").await?;
    if !created.contains("revision 1") || !created.contains(RISK_TITLE) {
        bail!("the history does not show the creation: {created:?}");
    }
    b.scroll_to(&b.wait("ol.timeline").await?).await?;
    b.shot("risk-page-history").await?;
    // The creation's ledger entry verifies and names the account.
    b.click("ol.timeline > li a[href^='/proof/']").await?;
    b.wait_text("#proof-status", "Verified").await?;
    let actor = b.row("actor").await?;
    let subject = b.row("subject").await?;
    if actor != "risk" || !subject.contains(RISK_ID) {
        bail!("the creation's ledger entry is by {actor:?} for {subject:?}");
    }

    // (e) The auditor's walk: framework → item → control evidence → verified proof.
    b.click("nav a[href='/walk']").await?;
    b.wait_text("main h1", "The auditor's walk").await?;
    b.click("a[href='/walk/iso42001-2023']").await?;
    b.wait("a[href='/walk/iso42001-2023/A.6.2.4']").await?;
    b.shot("walk-iso42001").await?;
    b.click("a[href='/walk/iso42001-2023/A.6.2.4']").await?;
    b.wait_text("main h1", "A.6.2.4").await?;
    let link = b
        .client
        .wait()
        .at_most(WAIT)
        .every(POLL)
        .for_element(Locator::XPath(
            "//section[contains(@class,'card')]//a[starts-with(@href,'/proof/') and contains(., 'verify ledger proof')]",
        ))
        .await
        .context("a control's \"verify ledger proof\" link under A.6.2.4")?;
    let href = link.attr("href").await?.unwrap_or_default();
    b.shot("walk-item-A.6.2.4").await?;
    link.click().await?;
    b.wait_path(&href, |p| p == href).await?;
    let status = b.wait_text("#proof-status", "Verified").await?;
    if !status.contains("signed by") {
        bail!("the proof status does not name the signer: {status:?}");
    }
    if b.row("kind").await? != "evidence" || !b.row("subject").await?.starts_with("control:") {
        bail!("the walk's proof is not a control's evidence entry");
    }
    b.shot("proof-verified").await?;

    // (g) Signing out ends the session: the dashboard asks to sign in again.
    b.sign_out().await?;
    b.open("/").await?;
    b.wait_path("/login?next=…", |p| p.starts_with("/login?next="))
        .await?;
    b.shot("signed-out").await?;

    // (f) A fresh session as the auditor: reading works, writing is forbidden.
    b.sign_in("auditor", "auditor-demo-pass").await?;
    b.wait_text("main h1", "Dashboard").await?;
    b.wait_text("header .who", "(auditor)").await?;
    b.open("/risks").await?;
    b.wait_text("main h1", "Risk register").await?;
    if b.exists("a[href='/risks/new']").await? {
        bail!("the auditor is offered a New risk button");
    }
    b.open("/risks/new").await?;
    b.wait_text("main h1", "Forbidden").await?;
    b.wait_text("p.error", "may not create risks").await?;
    if !b.client.title().await?.starts_with("Forbidden") {
        bail!("the 403 page's title is not Forbidden");
    }
    b.shot("auditor-forbidden").await?;
    b.sign_out().await?;
    b.open("/risks").await?;
    b.wait_path("/login?next=…", |p| p.starts_with("/login?next="))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_signs_in_creates_a_risk_and_walks_to_a_verified_proof() {
    let required = std::env::var("AIRISK_REQUIRE_BROWSER").as_deref() == Ok("1");
    let chromium = find_binary("AIRISK_CHROMIUM", "/usr/bin/chromium");
    let chromedriver = find_binary("AIRISK_CHROMEDRIVER", "/usr/bin/chromedriver");
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let message = "chromium and chromedriver not found \
                       (apt-get install chromium chromium-driver, or set AIRISK_CHROMIUM / AIRISK_CHROMEDRIVER)";
        if required {
            panic!("AIRISK_REQUIRE_BROWSER=1 but {message}");
        }
        eprintln!("browser test skipped: {message}");
        return;
    };

    let started = Instant::now();
    let shots = std::env::var_os("AIRISK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots")
        });
    std::fs::create_dir_all(&shots).expect("creating the screenshot folder");
    let shots = shots.canonicalize().unwrap_or(shots);
    // Only this test's files from an earlier run, so a stale FAILED.png cannot mislead.
    for entry in std::fs::read_dir(&shots).expect("reading the screenshot folder") {
        let path = entry.expect("a folder entry").path();
        if path.extension().is_some_and(|e| e == "png")
            || path.file_name().is_some_and(|n| n == "FAILED.html")
        {
            std::fs::remove_file(&path).expect("removing an old screenshot");
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let (_demo, base) = start_demo(dir.path()).expect("airisk demo serving");
    let log = dir.path().join("chromedriver.log");
    let (_driver, driver_url) =
        start_chromedriver(&chromedriver, &log).expect("chromedriver running");

    let profile = dir.path().join("chromium-profile");
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                "--password-store=basic",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "starting headless Chromium through chromedriver: {e}\nchromedriver log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });

    let mut browser = Browser {
        client,
        base,
        shots: shots.clone(),
        taken: Vec::new(),
    };
    let outcome = scenario(&mut browser).await;
    if outcome.is_err() {
        // Leave the page as it was for whoever reads the failure.
        let _ = browser.shot("FAILED").await;
        if let Ok(source) = browser.client.source().await {
            let _ = std::fs::write(shots.join("FAILED.html"), source);
        }
    }
    let at = browser.path().await.unwrap_or_default();
    let taken = std::mem::take(&mut browser.taken);
    let _ = browser.client.close().await;
    if let Err(e) = outcome {
        panic!(
            "browser test failed at {at}: {e:#}\nscreenshots and FAILED.html in {}",
            shots.display()
        );
    }
    eprintln!(
        "browser test passed in {:.1}s; {} screenshots in {}",
        started.elapsed().as_secs_f64(),
        taken.len(),
        shots.display()
    );
}
