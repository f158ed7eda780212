//! The sign-up and account pages over plain HTTP, black-box against a real
//! server: an account made on `/signup` signs in over TCP at once (MSNP12
//! with a Passport ticket, MSNP7's MD5 login when opted in); form errors;
//! CSRF refusals; per-address rate limits; invitation codes; changing the
//! password and deleting the account sign the Messenger sessions out.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, ORIGIN, RETRY_AFTER, SET_COOKIE};
use support::{Client, TestServer};

/// A browser in miniature: keeps cookies, sends `Origin`, reads the form's
/// CSRF token from the last page, does not follow redirects.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
    token: Option<String>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Browser {
    fn new(addr: SocketAddr) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{addr}"),
            cookies: HashMap::new(),
            token: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all(SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, v) = pair.split_once('=').unwrap();
            if v.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), v.to_owned());
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        if let Some(token) = csrf_token(&body) {
            self.token = Some(token);
        }
        Page {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// Posts `fields` with the last page's CSRF token.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.token.clone().expect("a form was loaded first");
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        let origin = self.base.clone();
        self.post_raw(path, &all, Some(&origin)).await
    }

    async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    /// Loads the sign-up page and submits it.
    async fn sign_up(&mut self, handle: &str, password: &str, name: &str, md5: bool) -> Page {
        self.get("/signup").await;
        let mut fields = vec![
            ("handle", handle),
            ("name", name),
            ("password", password),
            ("confirm", password),
        ];
        if md5 {
            fields.push(("legacy_md5", "on"));
        }
        self.post("/signup", &fields).await
    }

    /// Signs in to the account page and loads it.
    async fn sign_in(&mut self, handle: &str, password: &str) -> Page {
        self.get("/account").await;
        let page = self
            .post(
                "/account/sign-in",
                &[("handle", handle), ("password", password)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), "/account");
        self.get("/account").await
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The text of HTML with the entities an escaper writes.
fn unescape(html: &str) -> String {
    html.replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

fn csrf_token(html: &str) -> Option<String> {
    let at = html.find(r#"name="csrf" value=""#)? + r#"name="csrf" value=""#.len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_owned())
}

async fn start() -> TestServer {
    TestServer::start_with(|_| {}).await
}

fn http(server: &TestServer) -> SocketAddr {
    server.http.expect("HTTP runs")
}

/// MSNP12 with a Passport ticket from the HTTP service: how MSN 7.5 signs
/// in (msnd probe).
async fn twn_login(server: &TestServer, email: &str, password: &str) -> anyhow::Result<()> {
    msnd::probe::probe(
        server.ns,
        http(server),
        email,
        password,
        Duration::from_secs(10),
    )
    .await
    .map(|_| ())
}

/// MSNP7's MD5 login; the reply to `USR … S` (`USR 3 OK …` or `911 3`).
async fn md5_reply(server: &TestServer, email: &str, password: &str) -> String {
    let mut c = Client::connect(server.ns).await;
    c.send("VER 1 MSNP7").await;
    c.recv().await;
    c.send(&format!("USR 2 MD5 I {email}")).await;
    let salt = c.recv_line().await.rsplit(' ').next().unwrap().to_owned();
    let hash = hex::encode(<md5::Md5 as md5::Digest>::digest(format!(
        "{salt}{password}"
    )));
    c.send(&format!("USR 3 MD5 S {hash}")).await;
    c.recv_line().await
}

#[tokio::test]
async fn signed_up_account_signs_in_over_tcp_at_once() {
    let server = start().await;
    let mut b = Browser::new(http(&server));
    let form = b.get("/signup").await;
    assert_eq!(form.status, StatusCode::OK);
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"));
    assert_eq!(form.headers["x-frame-options"], "DENY");
    assert!(form.body.contains(r#"<html lang="en">"#));
    assert!(form.body.contains(r#"<label for="handle">"#));
    assert!(!form.body.contains("<script"), "no JavaScript");
    assert!(!form.body.contains("https://"), "no outside resources");
    let style = b.get("/account/style.css").await;
    assert_eq!(style.status, StatusCode::OK);
    assert!(!style.body.contains("url("), "no fonts or images");

    // Without the MD5 opt-in: Passport logins only.
    let created = b
        .sign_up("Alice@Example.com", "correct horse", "Alice", false)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body.contains("alice@example.com"));
    let record = server
        .store
        .user("alice@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.friendly_name, "Alice");
    assert!(record.legacy_password.is_none());
    twn_login(&server, "alice@example.com", "correct horse")
        .await
        .expect("MSNP12 login with the new account");
    assert!(
        twn_login(&server, "alice@example.com", "wrong horse")
            .await
            .is_err()
    );
    assert!(
        md5_reply(&server, "alice@example.com", "correct horse")
            .await
            .starts_with("911 3")
    );

    // With it: MSN Messenger 1.0-4.7's MD5 login works too.
    let created = b
        .sign_up("bob@example.com", "battery staple", "", true)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let bob = server.store.user("bob@example.com").await.unwrap().unwrap();
    assert_eq!(
        bob.friendly_name, "bob@example.com",
        "the handle without a name"
    );
    let mut c = Client::login(server.ns, 7, "bob@example.com", "battery staple").await;
    c.barrier().await;
    twn_login(&server, "bob@example.com", "battery staple")
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn form_errors_are_explained_and_nothing_is_created() {
    let server = TestServer::start_with(|c| c.signup.signups_per_address = 0).await;
    let mut b = Browser::new(http(&server));
    b.get("/signup").await;
    let page = b
        .post(
            "/signup",
            &[
                ("handle", "not an address"),
                ("name", "ok"),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("There are 2 problems"), "{}", page.body);
    assert!(page.body.contains("is not a sign-in name"));
    assert!(page.body.contains("at least 8 characters"));
    // Errors are tied to their fields.
    assert!(page.body.contains(r#"id="handle-error""#));
    assert!(
        page.body
            .contains(r#"aria-describedby="handle-hint handle-error""#)
    );
    assert!(page.body.contains(r#"aria-invalid="true""#));
    assert!(page.body.contains(r#"value="not an address""#), "kept");

    let page = b
        .post(
            "/signup",
            &[
                ("handle", "carol@example.com"),
                ("password", "long enough"),
                ("confirm", "long enougH"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("The two passwords are not the same."));
    let page = b
        .post(
            "/signup",
            &[
                ("handle", "carol@example.com"),
                ("name", "bad\u{202e}name"),
                ("password", "long enough"),
                ("confirm", "long enough"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("display name must not be empty or contain"),
        "{}",
        page.body
    );
    assert!(server.store.list_users().await.unwrap().is_empty());

    // A taken handle.
    server.user("dave@example.com", "pw", "Dave").await;
    let page = b
        .sign_up("DAVE@example.com", "long enough", "", false)
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(
        page.body
            .contains("An account named dave@example.com already exists")
    );

    // Markup in what was typed is shown as text.
    let page = b
        .sign_up(
            "\"><script>x</script>@example.com",
            "long enough",
            "",
            false,
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.body.contains("<script>x"), "{}", page.body);
    assert!(unescape(&page.body).contains("\"><script>x</script>@example.com"));
    let page = b
        .sign_up(
            "erin@example.com",
            "long enough",
            "<b>Erin</b> & \"co\"",
            false,
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED);
    assert!(!page.body.contains("<b>Erin"), "{}", page.body);
    assert!(unescape(&page.body).contains("<b>Erin</b> & \"co\""));
    let erin = server
        .store
        .user("erin@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        erin.friendly_name, "<b>Erin</b> & \"co\"",
        "stored as typed"
    );
    server.stop().await;
}

#[tokio::test]
async fn forged_posts_are_refused() {
    let server = start().await;
    let fields = [
        ("handle", "mallory@example.com"),
        ("password", "long enough"),
        ("confirm", "long enough"),
    ];
    // No token, no cookie (a form on another site, or a script).
    let mut b = Browser::new(http(&server));
    let page = b.post_raw("/signup", &fields, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("This form cannot be accepted"));
    // The cookie but no token.
    b.get("/signup").await;
    let page = b.post_raw("/signup", &fields, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A token, but sent from another origin.
    let token = b.token.clone().unwrap();
    let mut with_token = vec![("csrf", token.as_str())];
    with_token.extend_from_slice(&fields);
    let page = b
        .post_raw("/signup", &with_token, Some("http://evil.example"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Another browser's token.
    let mut other = Browser::new(http(&server));
    other.get("/signup").await;
    other.token = Some(token.clone());
    let origin = other.base.clone();
    let page = other.post_raw("/signup", &with_token, Some(&origin)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Same for the account page's forms.
    let page = b
        .post_raw(
            "/account/sign-in",
            &[("handle", "mallory@example.com"), ("password", "x")],
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(server.store.list_users().await.unwrap().is_empty());
    // The real form still works.
    let page = b.post("/signup", &fields).await;
    assert_eq!(page.status, StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test]
async fn sign_ups_and_sign_ins_are_rate_limited_per_address() {
    let server = TestServer::start_with(|c| {
        c.signup.signups_per_address = 2;
        c.signup.sign_ins_per_address = 2;
    })
    .await;
    let mut b = Browser::new(http(&server));
    for name in ["a", "b"] {
        let page = b
            .sign_up(&format!("{name}@example.com"), "long enough", "", false)
            .await;
        assert_eq!(page.status, StatusCode::CREATED);
    }
    let page = b.sign_up("c@example.com", "long enough", "", false).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.body
            .contains("too many attempts from your network address")
    );
    let retry: u64 = page.headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 1800, "{retry}");
    assert!(!server.store.user_exists("c@example.com").await.unwrap());

    b.get("/account").await;
    for _ in 0..2 {
        let page = b
            .post(
                "/account/sign-in",
                &[("handle", "a@example.com"), ("password", "wrong one")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(
            page.body
                .contains("The sign-in name or the password is not right.")
        );
    }
    let page = b
        .post(
            "/account/sign-in",
            &[("handle", "a@example.com"), ("password", "long enough")],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password"
    );
    assert!(page.headers.contains_key(RETRY_AFTER));
    server.stop().await;
}

#[tokio::test]
async fn invite_only_needs_a_fresh_code() {
    let server = TestServer::start_with(|c| c.signup.invite_only = true).await;
    let codes = msnd::accounts::create_invites(&*server.store, 2)
        .await
        .unwrap();
    let mut b = Browser::new(http(&server));
    let form = b.get("/signup").await;
    assert!(form.body.contains(r#"<label for="invite">"#));
    let page = b.sign_up("a@example.com", "long enough", "", false).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Enter the invitation code"));
    let fields = |code: &'static str| {
        [
            ("handle", "a@example.com"),
            ("password", "long enough"),
            ("confirm", "long enough"),
            ("invite", code),
        ]
    };
    let page = b.post("/signup", &fields("WRONG-CODE0")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("unknown or has been used"));
    // Typed in lower case with spaces around: still the code.
    let typed = format!("  {}  ", codes[0].to_lowercase());
    let mut with_code = vec![
        ("handle", "a@example.com"),
        ("password", "long enough"),
        ("confirm", "long enough"),
        ("invite", typed.as_str()),
    ];
    let page = b.post("/signup", &with_code).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    with_code[0] = ("handle", "b@example.com");
    let page = b.post("/signup", &with_code).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "used once only");
    assert!(!server.store.user_exists("b@example.com").await.unwrap());
    let invites = server.store.invites().await.unwrap();
    let used = invites.iter().find(|i| i.code == codes[0]).unwrap();
    assert_eq!(used.used_by.as_deref(), Some("a@example.com"));
    server.stop().await;
}

#[tokio::test]
async fn changing_the_password_signs_messenger_out_and_the_old_one_stops_working() {
    let server = start().await;
    let mut b = Browser::new(http(&server));
    b.sign_up("alice@example.com", "old password", "Alice", true)
        .await;
    let mut md5 = Client::login(server.ns, 7, "alice@example.com", "old password").await;
    md5.call("CHG {} NLN").await;

    let page = b.sign_in("alice@example.com", "old password").await;
    assert!(page.body.contains("Change your password"), "{}", page.body);
    assert!(page.body.contains("allowed to sign in"));
    // The current password is asked again.
    let page = b
        .post(
            "/account/password",
            &[
                ("current", "not it"),
                ("new_password", "new password"),
                ("confirm", "new password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("The current password is not right."));
    let page = b
        .post(
            "/account/password",
            &[
                ("current", "old password"),
                ("new_password", "new password"),
                ("confirm", "new password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    md5.expect("OUT OTH").await;
    let page = b.get(page.location().to_owned().as_str()).await;
    assert!(
        page.body.contains("Your password has been changed."),
        "{}",
        page.body
    );
    // The MD5 opt-in was left unticked: now refused.
    assert!(page.body.contains("not allowed"));
    assert!(
        twn_login(&server, "alice@example.com", "old password")
            .await
            .is_err()
    );
    twn_login(&server, "alice@example.com", "new password")
        .await
        .unwrap();
    assert!(
        md5_reply(&server, "alice@example.com", "new password")
            .await
            .starts_with("911 3")
    );
    server.stop().await;
}

#[tokio::test]
async fn deleting_the_account_signs_messenger_out_and_removes_it() {
    let server = start().await;
    let mut b = Browser::new(http(&server));
    b.sign_up("alice@example.com", "long enough", "Alice", true)
        .await;
    let mut md5 = Client::login(server.ns, 7, "alice@example.com", "long enough").await;
    md5.call("CHG {} NLN").await;
    b.sign_in("alice@example.com", "long enough").await;
    // Without the confirmation box: nothing happens.
    let page = b
        .post("/account/delete", &[("delete_password", "long enough")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Tick the box"));
    assert!(server.store.user_exists("alice@example.com").await.unwrap());
    let page = b
        .post(
            "/account/delete",
            &[("delete_password", "long enough"), ("really", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    md5.expect("OUT OTH").await;
    assert!(!server.store.user_exists("alice@example.com").await.unwrap());
    let page = b.get("/account?done=deleted").await;
    assert!(page.body.contains("Your account has been deleted."));
    assert!(
        page.body.contains("Sign in to your account"),
        "signed out of the page"
    );
    assert!(
        twn_login(&server, "alice@example.com", "long enough")
            .await
            .is_err()
    );
    // The name is free again.
    let page = b
        .sign_up("alice@example.com", "long enough", "", false)
        .await;
    assert_eq!(page.status, StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test]
async fn account_page_sessions_end_when_the_account_changes_elsewhere() {
    let server = start().await;
    server
        .user("alice@example.com", "long enough", "Alice")
        .await;
    let mut b = Browser::new(http(&server));
    let page = b.sign_in("alice@example.com", "long enough").await;
    assert!(page.body.contains("Your account"));
    // `msnd user passwd` elsewhere: the page's sign-in ends.
    msnd::accounts::set_password(
        &*server.store,
        "alice@example.com",
        "changed elsewhere",
        None,
        server.shared().config.hash_cost(),
    )
    .await
    .unwrap();
    let page = b.get("/account").await;
    assert!(
        page.body
            .contains("You were signed out of the account page"),
        "{}",
        page.body
    );
    // Signing out.
    b.sign_in("alice@example.com", "changed elsewhere").await;
    let page = b.post("/account/sign-out", &[]).await;
    assert_eq!(page.location(), "/account?done=signed-out");
    let page = b.get("/account").await;
    assert!(page.body.contains("Sign in to your account"));
    server.stop().await;
}

#[tokio::test]
async fn pages_can_be_turned_off() {
    let server = TestServer::start_with(|c| c.signup.enabled = false).await;
    let mut b = Browser::new(http(&server));
    assert_eq!(b.get("/signup").await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/account").await.status, StatusCode::NOT_FOUND);
    server.stop().await;
}
