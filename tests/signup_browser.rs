//! The sign-up and account pages in a real browser: headless Chromium
//! driven through chromedriver (WebDriver, `fantoccini`). A person's path:
//! sign up, sign in over TCP with the new account at once, sign in to the
//! account page and change the password, a cross-site form refused, the
//! sign-up rate limit hit.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them). Without `chromedriver` the test says so and passes, unless
//! `MSND_REQUIRE_BROWSER=1`, when it fails. With `MSND_SCREENSHOTS=DIR` it
//! writes screenshots of the pages there (`docs/screenshots/` holds the
//! README's).

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use support::TestServer;

/// How long a page may take to show what the test waits for.
const WAIT: Duration = Duration::from_secs(20);

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// chromedriver and the browser, or why the test cannot run.
fn browser_programs() -> Result<(PathBuf, PathBuf), String> {
    let driver = std::env::var_os("MSND_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| find_program(&["chromedriver"]))
        .ok_or(
            "chromedriver is not installed (Debian: apt-get install chromium chromium-driver)",
        )?;
    let browser = std::env::var_os("MSND_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find_program(&["chromium", "chromium-browser", "google-chrome"]))
        .ok_or("chromium is not installed (Debian: apt-get install chromium chromium-driver)")?;
    Ok((driver, browser))
}

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(program: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        // Ready when it accepts connections.
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        driver
    }

    async fn browser(&self, chromium: &Path, profile: &Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=900,1100",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a browser session")
    }
}

/// Waits until the page's `h1` reads `heading`; returns the page source.
async fn wait_for_heading(client: &Client, heading: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = match client.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.trim() == heading {
            return client.source().await.unwrap();
        }
        if Instant::now() > deadline {
            let source = client.source().await.unwrap_or_default();
            panic!("no page headed {heading:?}; the page is:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn fill(client: &Client, id: &str, text: &str) {
    let field = client.find(Locator::Id(id)).await.expect(id);
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn submit(client: &Client, form_action: &str) {
    client
        .find(Locator::Css(&format!(
            "form[action=\"{form_action}\"] button[type=submit]"
        )))
        .await
        .expect("the form's button")
        .click()
        .await
        .unwrap();
}

/// Writes a screenshot when `MSND_SCREENSHOTS` names a directory.
async fn screenshot(client: &Client, name: &str) {
    let Some(dir) = std::env::var_os("MSND_SCREENSHOTS") else {
        return;
    };
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(Path::new(&dir).join(name), png).unwrap();
}

async fn probe(server: &TestServer, email: &str, password: &str) -> anyhow::Result<()> {
    msnd::probe::probe(
        server.ns,
        server.http.unwrap(),
        email,
        password,
        Duration::from_secs(10),
    )
    .await
    .map(|_| ())
}

#[tokio::test]
async fn sign_up_change_password_and_limits_in_chromium() {
    let (driver, chromium) = match browser_programs() {
        Ok(found) => found,
        Err(why) => {
            assert!(
                std::env::var("MSND_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "MSND_REQUIRE_BROWSER=1 but {why}"
            );
            eprintln!("SKIPPED: the browser test of the sign-up pages: {why}");
            return;
        }
    };
    let server = TestServer::start_with(|c| c.signup.signups_per_address = 2).await;
    let http: SocketAddr = server.http.unwrap();
    let base = format!("http://{http}");
    let driver = Driver::start(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let client = driver.browser(&chromium, profile.path()).await;

    // Sign up.
    client.goto(&format!("{base}/signup")).await.unwrap();
    wait_for_heading(&client, "Create an account").await;
    screenshot(&client, "signup.png").await;
    fill(&client, "handle", "alice@example.com").await;
    fill(&client, "name", "Alice").await;
    fill(&client, "password", "correct horse").await;
    fill(&client, "confirm", "correct horse").await;
    submit(&client, "/signup").await;
    let page = wait_for_heading(&client, "Your account is ready").await;
    assert!(page.contains("alice@example.com"));
    screenshot(&client, "signup-done.png").await;
    // Messenger signs in with it at once.
    probe(&server, "alice@example.com", "correct horse")
        .await
        .expect("MSNP12 sign-in with the new account");

    // A form with problems (the second sign-up attempt from this address).
    client.goto(&format!("{base}/signup")).await.unwrap();
    wait_for_heading(&client, "Create an account").await;
    fill(&client, "handle", "not an address").await;
    fill(&client, "password", "short").await;
    fill(&client, "confirm", "short").await;
    submit(&client, "/signup").await;
    let deadline = Instant::now() + WAIT;
    while !client
        .source()
        .await
        .unwrap()
        .contains("There are 2 problems")
    {
        assert!(Instant::now() < deadline, "no error summary");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    screenshot(&client, "signup-errors.png").await;

    // The account page: sign in, change the password.
    client.goto(&format!("{base}/account")).await.unwrap();
    wait_for_heading(&client, "Sign in to your account").await;
    fill(&client, "handle", "alice@example.com").await;
    fill(&client, "password", "correct horse").await;
    submit(&client, "/account/sign-in").await;
    wait_for_heading(&client, "Your account").await;
    screenshot(&client, "account.png").await;
    fill(&client, "current", "correct horse").await;
    fill(&client, "new_password", "battery staple").await;
    fill(&client, "confirm", "battery staple").await;
    submit(&client, "/account/password").await;
    let deadline = Instant::now() + WAIT;
    while !client
        .source()
        .await
        .unwrap()
        .contains("Your password has been changed.")
    {
        assert!(Instant::now() < deadline, "no confirmation of the change");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        probe(&server, "alice@example.com", "correct horse")
            .await
            .is_err()
    );
    probe(&server, "alice@example.com", "battery staple")
        .await
        .expect("the new password works");

    // A form on another site (here a data: page, origin "null") posting to
    // the sign-up page: refused, nothing created.
    let forged = format!(
        "data:text/html,<form method=post action='{base}/signup'>\
         <input name=handle value=mallory@example.com>\
         <input name=password value=long-enough><input name=confirm value=long-enough>\
         <button type=submit>go</button></form>"
    );
    client.goto(&forged).await.unwrap();
    client
        .find(Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_heading(&client, "This form cannot be accepted").await;
    assert!(
        !server
            .store
            .user_exists("mallory@example.com")
            .await
            .unwrap()
    );

    // The third sign-up attempt from this address: over the limit.
    client.goto(&format!("{base}/signup")).await.unwrap();
    wait_for_heading(&client, "Create an account").await;
    fill(&client, "handle", "bob@example.com").await;
    fill(&client, "password", "long enough").await;
    fill(&client, "confirm", "long enough").await;
    submit(&client, "/signup").await;
    let page = wait_for_heading(&client, "Too many attempts").await;
    assert!(page.contains("Please wait"));
    screenshot(&client, "rate-limited.png").await;
    assert!(!server.store.user_exists("bob@example.com").await.unwrap());

    client.close().await.unwrap();
    drop(driver);
    server.stop().await;
}
