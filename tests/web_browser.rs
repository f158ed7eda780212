//! msnd Web Messenger in a real browser: headless Chromium driven through
//! chromedriver (WebDriver, `fantoccini`), against desktop clients on TCP.
//!
//! A web user signs in, sees an MSNP7 TCP user (whose friendly name looks
//! like HTML) and an msnp11-sdk user come online, exchanges messages both
//! ways with each (non-ASCII text and emoticons), sees typing and a nudge,
//! blocks one (who sees the web user go offline), survives its sockets
//! being cut (it reconnects and chats on), and joins a second web user and
//! the MSNP7 user in a three-way chat.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them). Without `chromedriver` the test says so and passes, unless
//! `MSND_REQUIRE_BROWSER=1`, when it fails. With `MSND_SCREENSHOTS=DIR` it
//! writes screenshots there (`docs/screenshots/` holds the README's).

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use msnp11_sdk::{Event, MsnpStatus, PlainText};
use support::{Client as Tcp, TestServer};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::timeout;

/// How long a page may take to show what the test waits for.
const WAIT: Duration = Duration::from_secs(20);

const XSS: &str = "<img src=x onerror=alert(1)>";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

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

    async fn browser(&self, chromium: &Path, profile: &Path, size: &str) -> Client {
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
                    format!("--window-size={size}"),
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

/// Evaluates `expr` (a JavaScript expression) in the page until it is
/// truthy; fails with `what` and the page's text otherwise.
async fn until(client: &Client, what: &str, expr: &str) {
    let script = format!("try {{ return Boolean({expr}); }} catch (e) {{ return false; }}");
    let deadline = Instant::now() + WAIT;
    loop {
        let v = client.execute(&script, vec![]).await;
        if matches!(v, Ok(serde_json::Value::Bool(true))) {
            return;
        }
        if Instant::now() > deadline {
            let text = client
                .execute("return document.body.innerText", vec![])
                .await
                .unwrap_or_default();
            let state = client
                .execute(
                    "try { return JSON.stringify({ errors: window.msnd.errors, state: window.msnd.app.ns.state, contacts: [...window.msnd.app.ns.list.contacts.values()], groups: [...window.msnd.app.ns.list.groups] }); } catch (e) { return String(e); }",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("never: {what}\nthe page reads:\n{text}\nthe client's state: {state}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn js(client: &Client, script: &str) -> serde_json::Value {
    client.execute(script, vec![]).await.expect(script)
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .click()
        .await
        .unwrap();
}

async fn fill(client: &Client, id: &str, text: &str) {
    let field = client.find(Locator::Id(id)).await.expect(id);
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Types a message in the open conversation and sends it with Enter.
async fn say(client: &Client, text: &str) {
    // Typed through JavaScript: chromedriver's send_keys only takes
    // characters of the Basic Multilingual Plane.
    let set = format!(
        "const i = document.getElementById('input'); i.value = {}; i.dispatchEvent(new Event('input')); \
         document.getElementById('compose').requestSubmit();",
        serde_json::Value::String(text.into())
    );
    js(client, &set).await;
}

async fn screenshot(client: &Client, name: &str) {
    let Some(dir) = std::env::var_os("MSND_SCREENSHOTS") else {
        return;
    };
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(Path::new(&dir).join(name), png).unwrap();
}

async fn sign_in(client: &Client, base: &str, handle: &str, password: &str) {
    client.goto(&format!("{base}/messenger/")).await.unwrap();
    until(
        client,
        "the sign-in form",
        "!document.getElementById('signin').hidden",
    )
    .await;
    fill(client, "signin-handle", handle).await;
    fill(client, "signin-password", password).await;
    click(client, "#signin-button").await;
    until(
        client,
        "signed in",
        "window.msnd.app.ns && window.msnd.app.ns.state === 'online'",
    )
    .await;
}

fn contact(handle: &str) -> String {
    format!("document.querySelector('li.contact[data-handle=\"{handle}\"]')")
}

fn status_is(handle: &str, status: &str) -> String {
    format!("{}.dataset.status === '{status}'", contact(handle))
}

fn log_has(text: &str) -> String {
    format!(
        "[...document.querySelectorAll('#log li')].some(li => {{ const c = li.cloneNode(true); \
         c.querySelectorAll('.emoticon').forEach(e => e.replaceWith(e.dataset.text)); \
         return c.textContent.includes({}); }})",
        serde_json::Value::String(text.into())
    )
}

struct Sdk {
    client: Arc<msnp11_sdk::Client>,
    events: UnboundedReceiver<Event>,
}

/// An msnp11-sdk user signed in through the dispatch server and the nexus.
async fn sdk_sign_in(s: &TestServer, email: &str, password: &str) -> Sdk {
    let t = Duration::from_secs(10);
    let nexus = format!("http://127.0.0.1:{}/rdr/pprdr.asp", s.http.unwrap().port());
    let ds = msnp11_sdk::Client::new("127.0.0.1", s.ds.port())
        .await
        .unwrap();
    let Event::RedirectedTo { server, port } = timeout(
        t,
        ds.login(email.into(), password, &nexus, "msnp11-sdk", "0.13.0"),
    )
    .await
    .unwrap()
    .unwrap() else {
        panic!("no referral")
    };
    drop(ds);
    let client = msnp11_sdk::Client::new(&server, port).await.unwrap();
    let done = timeout(
        t,
        client.login(email.into(), password, &nexus, "msnp11-sdk", "0.13.0"),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(done, Event::Authenticated));
    let (tx, events) = unbounded_channel();
    client.add_event_handler_closure(move |e| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(e);
        }
    });
    Sdk {
        client: Arc::new(client),
        events,
    }
}

async fn next_event(
    events: &mut UnboundedReceiver<Event>,
    what: &str,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    timeout(WAIT, async {
        loop {
            let e = events.recv().await.expect("events");
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what}"))
}

fn plain(s: &str) -> PlainText {
    PlainText {
        bold: false,
        italic: false,
        underline: false,
        strikethrough: false,
        color: "0".into(),
        text: s.into(),
    }
}

/// Answers the next `RNG` on `ns` over TCP; returns the SB connection.
async fn answer(s: &TestServer, ns: &mut Tcp, me: &str) -> Tcp {
    let rng = ns.wait_for("RNG", |f| f.command() == "RNG").await;
    let sid = rng.tokens().nth(1).unwrap().to_owned();
    let cookie = rng.tokens().nth(4).unwrap().to_owned();
    let mut sb = Tcp::connect(s.sb).await;
    sb.send(&format!("ANS 1 {me} {cookie} {sid}")).await;
    sb.wait_for("ANS OK", |f| f.line() == "ANS 1 OK").await;
    sb
}

fn text_of(frame: &msn_wire::Frame) -> String {
    String::from_utf8(frame.payload().unwrap().to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_messenger_in_chromium() {
    let (driver, chromium) = match browser_programs() {
        Ok(found) => found,
        Err(why) => {
            assert!(
                std::env::var("MSND_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "MSND_REQUIRE_BROWSER=1 but {why}"
            );
            eprintln!("SKIPPED: the browser test of the web client: {why}");
            return;
        }
    };
    let s = TestServer::start().await;
    let http: SocketAddr = s.http.unwrap();
    let base = format!("http://{http}");
    s.user("web@example.com", "webpass1", "Wendy Web").await;
    s.user("web2@example.com", "webpass2", "Walter Web").await;
    s.user("dan@example.com", "danpass1", XSS).await;
    s.user("sdk@example.com", "sdkpass1", "Sid SDK").await;
    s.user("eve@example.com", "evepass1", "Eve").await;
    s.seed_friends(("web@example.com", "Wendy Web"), ("dan@example.com", XSS))
        .await;
    s.seed_friends(
        ("web@example.com", "Wendy Web"),
        ("sdk@example.com", "Sid SDK"),
    )
    .await;
    s.seed_friends(
        ("web@example.com", "Wendy Web"),
        ("web2@example.com", "Walter Web"),
    )
    .await;
    s.seed_friends(("web2@example.com", "Walter Web"), ("dan@example.com", XSS))
        .await;

    let driver = Driver::start(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let web = driver.browser(&chromium, profile.path(), "1000,720").await;

    // Sign in: the desktop users are listed, offline.
    sign_in(&web, &base, "web@example.com", "webpass1").await;
    // First paint and page weight, for the README (no assertion on time).
    let paint = js(
        &web,
        "const p = performance.getEntriesByName('first-contentful-paint')[0]; \
         const bytes = performance.getEntriesByType('resource').reduce((n, r) => n + r.transferSize, 0) \
           + performance.getEntriesByType('navigation')[0].transferSize; \
         return [p ? p.startTime : null, bytes]",
    )
    .await;
    eprintln!("first contentful paint (ms), bytes transferred: {paint}");
    until(
        &web,
        "dan listed offline",
        &status_is("dan@example.com", "FLN"),
    )
    .await;
    until(
        &web,
        "sdk listed offline",
        &status_is("sdk@example.com", "FLN"),
    )
    .await;

    // The MSNP7 user comes online; the name that looks like HTML is text.
    let mut dan = s.online(7, "dan@example.com", "danpass1", "NLN").await;
    dan.wait_for("ILN web", |f| {
        f.line().contains(" NLN web@example.com Wendy%20Web")
    })
    .await;
    until(&web, "dan online", &status_is("dan@example.com", "NLN")).await;
    let shown = js(
        &web,
        &format!("return {}.textContent", contact("dan@example.com")),
    )
    .await;
    assert!(shown.as_str().unwrap().contains(XSS), "{shown}");
    let images = js(
        &web,
        "return document.querySelectorAll('#contacts img, #log img').length",
    )
    .await;
    assert_eq!(images, 0);

    // The msnp11-sdk user comes online.
    let mut sdk = sdk_sign_in(&s, "sdk@example.com", "sdkpass1").await;
    timeout(WAIT, sdk.client.set_presence(MsnpStatus::Online))
        .await
        .unwrap()
        .unwrap();
    until(&web, "sdk online", &status_is("sdk@example.com", "NLN")).await;

    // Web → MSNP7: a conversation through a real switchboard.
    click(
        &web,
        "li.contact[data-handle=\"dan@example.com\"] .contact-open",
    )
    .await;
    until(
        &web,
        "the conversation",
        "!document.getElementById('conversation').hidden",
    )
    .await;
    let hello = format!("Grüße, Dan :) {XSS} 日本");
    say(&web, &hello).await;
    let mut dan_sb = answer(&s, &mut dan, "dan@example.com").await;
    let got = dan_sb.wait_for("MSG", |f| f.command() == "MSG").await;
    assert!(got.line().starts_with("MSG web@example.com Wendy%20Web"));
    assert!(text_of(&got).ends_with(&hello), "{}", text_of(&got));
    until(
        &web,
        "the message acknowledged",
        "[...document.querySelectorAll('#log li.msg')].every(li => li.dataset.state === 'sent')",
    )
    .await;

    // MSNP7 → web: typing, then text with an emoticon, then a nudge.
    let typing = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: dan@example.com\r\n\r\n\r\n";
    dan_sb.send_payload("MSG 2 U", typing.as_bytes()).await;
    until(
        &web,
        "dan typing",
        "document.getElementById('typing').textContent.includes('typing')",
    )
    .await;
    let reply = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhej (Y) ñandú <b>bold</b>";
    dan_sb.send_payload("MSG 3 A", reply.as_bytes()).await;
    dan_sb.wait_for("ACK", |f| f.line() == "ACK 3").await;
    until(&web, "dan's message", &log_has("hej (Y) ñandú <b>bold</b>")).await;
    until(
        &web,
        "the emoticon drawn",
        "[...document.querySelectorAll('#log .emoticon')].some(e => e.dataset.text === '(Y)')",
    )
    .await;
    assert_eq!(
        js(
            &web,
            "return document.querySelectorAll('#log b, #log img').length"
        )
        .await,
        0
    );
    screenshot(&web, "web-conversation.png").await;

    // Web → msnp11-sdk, and back.
    click(
        &web,
        "li.contact[data-handle=\"sdk@example.com\"] .contact-open",
    )
    .await;
    say(&web, "Hi Sid (H)").await;
    let answered = next_event(&mut sdk.events, "the invitation", |e| {
        matches!(e, Event::SessionAnswered(_))
    })
    .await;
    let Event::SessionAnswered(sdk_sb) = answered else {
        unreachable!()
    };
    let (tx, mut sdk_sb_events) = unbounded_channel();
    sdk_sb.add_event_handler_closure(move |e| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(e);
        }
    });
    let got = next_event(&mut sdk_sb_events, "the web user's text", |e| {
        matches!(e, Event::TextMessage { .. })
    })
    .await;
    let Event::TextMessage { email, message } = got else {
        unreachable!()
    };
    assert_eq!(
        (email.as_str(), message.text.as_str()),
        ("web@example.com", "Hi Sid (H)")
    );
    timeout(WAIT, sdk_sb.send_typing_user("sdk@example.com"))
        .await
        .unwrap()
        .unwrap();
    until(
        &web,
        "sdk typing",
        "document.getElementById('typing').textContent.includes('typing')",
    )
    .await;
    timeout(
        WAIT,
        sdk_sb.send_text_message(&plain("Hello from the SDK ☺ :D")),
    )
    .await
    .unwrap()
    .unwrap();
    until(
        &web,
        "the SDK's message",
        &log_has("Hello from the SDK ☺ :D"),
    )
    .await;
    click(&web, "#conv-nudge").await;
    next_event(&mut sdk_sb_events, "the nudge", |e| {
        matches!(e, Event::Nudge { .. })
    })
    .await;

    // A personal message (UUX), seen by the SDK user; a new group (ADG)
    // with the MSNP7 user moved into it (ADC … FL C=… group).
    js(
        &web,
        "const p = document.getElementById('me-psm'); p.value = 'Trying the web client (C)'; \
         p.dispatchEvent(new Event('change')); return true",
    )
    .await;
    let psm = next_event(
        &mut sdk.events,
        "the personal message",
        |e| matches!(e, Event::PersonalMessageUpdate { email, .. } if email == "web@example.com"),
    )
    .await;
    let Event::PersonalMessageUpdate {
        personal_message, ..
    } = psm
    else {
        unreachable!()
    };
    assert_eq!(personal_message.psm, "Trying the web client (C)");
    click(&web, "#add-group").await;
    until(
        &web,
        "the group dialog",
        "document.getElementById('dialog').open",
    )
    .await;
    fill(&web, "dlg-name", "Friends").await;
    click(&web, "#dlg-btn-create").await;
    until(
        &web,
        "the new group",
        "[...document.querySelectorAll('.group-head')].some(g => g.textContent.includes('Friends'))",
    )
    .await;
    click(
        &web,
        "li.contact[data-handle=\"dan@example.com\"] .contact-menu",
    )
    .await;
    until(
        &web,
        "the contact menu",
        "document.getElementById('dialog').open",
    )
    .await;
    js(
        &web,
        "const g = document.getElementById('dlg-group'); \
         g.value = [...g.options].find(o => o.textContent === 'Friends').value; return true",
    )
    .await;
    click(&web, "#dlg-btn-move").await;
    until(
        &web,
        "dan in Friends",
        "[...document.querySelectorAll('.group')].some(g => g.querySelector('.group-head').textContent.includes('Friends') \
         && g.querySelector('li.contact[data-handle=\"dan@example.com\"]'))",
    )
    .await;

    // Someone adds the web user: the prompt; "Allow and add" puts them on
    // the allow and forward lists, and the MSNP7 user is told.
    let mut eve = s.online(7, "eve@example.com", "evepass1", "NLN").await;
    let add = eve.call("ADD {} FL web@example.com web@example.com").await;
    assert!(add.line().starts_with("ADD "), "{}", add.line());
    until(
        &web,
        "the added-you prompt",
        "document.querySelector('.prompt[data-handle=\"eve@example.com\"]')",
    )
    .await;
    click(
        &web,
        ".prompt[data-handle=\"eve@example.com\"] .prompt-allow",
    )
    .await;
    eve.wait_for("added back", |f| {
        f.line().starts_with("ADD 0 RL") && f.line().contains("web@example.com")
    })
    .await;
    until(&web, "eve listed", &status_is("eve@example.com", "NLN")).await;
    until(
        &web,
        "the prompt gone",
        "!document.querySelector('.prompt')",
    )
    .await;

    // Unread counts: a message to a conversation in the background.
    let more = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nare you there?";
    dan_sb.send_payload("MSG 4 A", more.as_bytes()).await;
    until(
        &web,
        "an unread count on dan's tab",
        "[...document.querySelectorAll('#tabs .tab')].some(t => t.dataset.participants === 'dan@example.com' && t.querySelector('.badge') && t.querySelector('.badge').textContent === '1')",
    )
    .await;
    screenshot(&web, "web-contacts.png").await;

    // Block the SDK user from the contact menu: it sees the web user go.
    click(
        &web,
        "li.contact[data-handle=\"sdk@example.com\"] .contact-menu",
    )
    .await;
    until(
        &web,
        "the contact menu",
        "document.getElementById('dialog').open",
    )
    .await;
    click(&web, "#dlg-btn-block").await;
    next_event(
        &mut sdk.events,
        "the web user offline",
        |e| matches!(e, Event::ContactOffline { email } if email == "web@example.com"),
    )
    .await;
    until(
        &web,
        "sdk shown blocked",
        &format!(
            "{}.querySelector('.presence.blocked')",
            contact("sdk@example.com")
        ),
    )
    .await;

    // The network drops: the client reconnects, signs in again with a
    // new ticket and chats on.
    js(&web, "window.msnd.dropConnections(); return true").await;
    dan.wait_for("FLN web", |f| f.line() == "FLN web@example.com")
        .await;
    dan.wait_for("NLN web again", |f| {
        f.line().starts_with("NLN NLN web@example.com")
    })
    .await;
    until(
        &web,
        "online again",
        "window.msnd.app.ns.state === 'online'",
    )
    .await;
    until(
        &web,
        "dan online again",
        &status_is("dan@example.com", "NLN"),
    )
    .await;
    js(
        &web,
        "document.querySelector('#tabs .tab[data-participants=\"dan@example.com\"]').click(); return true",
    )
    .await;
    say(&web, "back again").await;
    let mut dan_sb2 = answer(&s, &mut dan, "dan@example.com").await;
    let got = dan_sb2.wait_for("MSG", |f| f.command() == "MSG").await;
    assert!(text_of(&got).ends_with("back again"));

    // A second web user joins: a three-way chat with the MSNP7 user.
    let profile2 = tempfile::tempdir().unwrap();
    let web2 = driver.browser(&chromium, profile2.path(), "420,800").await;
    sign_in(&web2, &base, "web2@example.com", "webpass2").await;
    until(&web2, "dan listed", &status_is("dan@example.com", "NLN")).await;
    screenshot(&web2, "web-phone-list.png").await;
    until(&web, "web2 online", &status_is("web2@example.com", "NLN")).await;
    click(&web, "#conv-invite").await;
    until(
        &web,
        "the invite dialog",
        "document.getElementById('dialog').open",
    )
    .await;
    js(
        &web,
        "document.getElementById('dlg-who').value = 'web2@example.com'; return true",
    )
    .await;
    click(&web, "#dlg-btn-invite").await;
    until(
        &web2,
        "web2 in the conversation",
        "[...window.msnd.app.conversations.values()].some(c => c.sb && c.sb.others.size === 2)",
    )
    .await;
    let three = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello both";
    dan_sb2.send_payload("MSG 2 A", three.as_bytes()).await;
    until(&web, "web sees dan", &log_has("hello both")).await;
    until(
        &web2,
        "web2 sees dan",
        "window.msnd.app.conversations.size === 1",
    )
    .await;
    js(
        &web2,
        "document.querySelector('#tabs .tab').click(); return true",
    )
    .await;
    until(&web2, "web2 sees dan's text", &log_has("hello both")).await;
    say(&web2, "hi from Walter").await;
    until(&web, "web sees web2", &log_has("hi from Walter")).await;
    let got = dan_sb2
        .wait_for("web2's text", |f| {
            f.line().starts_with("MSG web2@example.com") && text_of(f).contains("text/plain")
        })
        .await;
    assert!(text_of(&got).ends_with("hi from Walter"));
    screenshot(&web2, "web-phone-chat.png").await;

    // No command was mishandled by either page.
    for page in [&web, &web2] {
        assert_eq!(
            js(page, "return window.msnd.errors").await,
            serde_json::json!([])
        );
    }

    // Signing out: the desktop user sees the web user leave.
    click(&web, "#signout").await;
    until(
        &web,
        "the sign-in form again",
        "!document.getElementById('signin').hidden",
    )
    .await;
    dan.wait_for("FLN web", |f| f.line() == "FLN web@example.com")
        .await;

    web.close().await.unwrap();
    web2.close().await.unwrap();
    s.stop().await;
}
