//! Two users on (possibly different) dialects watching each other: initial
//! presence, status changes, hiding, renames, privacy changes, blocking,
//! dropped connections and reverse-list notices, each line in the watcher's
//! own dialect.

mod support;

use support::{Client, TestServer};

const OBJ: &str = "%3Cmsnobj%20Creator%3D%22bob%40hotmail.com%22%2F%3E";
const CAPS: &str = "268435492";

/// Signs `email` in with `dialect` and status `status` (with capabilities
/// and an MSNObject where the dialect has them).
async fn sign_in(s: &TestServer, dialect: u8, email: &str, status: &str) -> Client {
    if dialect <= 7 {
        s.online(dialect, email, "pw", status).await
    } else if dialect == 8 {
        s.online_twn(dialect, email, &format!("{status} {CAPS}"))
            .await
    } else {
        s.online_twn(dialect, email, &format!("{status} {CAPS} {OBJ}"))
            .await
    }
}

/// What a watcher on dialect `d` sees for bob (on dialect `t`) with
/// `status` and `name`.
fn presence(d: u8, t: u8, prefix: &str, status: &str, name: &str) -> String {
    let mut line = format!("{prefix}{status} bob@hotmail.com {name}");
    if d >= 8 {
        line.push(' ');
        line.push_str(if t >= 8 { CAPS } else { "0" });
        if d >= 9 && t >= 9 {
            line.push(' ');
            line.push_str(OBJ);
        }
    }
    line
}

/// Changes bob's own friendly name in his dialect's way.
async fn rename(bob: &mut Client, t: u8, name: &str) {
    let reply = if t >= 10 {
        bob.call(&format!("PRP {{}} MFN {name}")).await
    } else {
        bob.call(&format!("REA {{}} bob@hotmail.com {name}")).await
    };
    assert!(matches!(reply.command(), "PRP" | "REA"), "{}", reply.line());
}

async fn list_cmd(c: &mut Client, dialect: u8, add: bool, list: &str, who: &str) {
    let line = match (add, dialect >= 10) {
        (true, true) => format!("ADC {{}} {list} N={who}"),
        (true, false) => format!("ADD {{}} {list} {who} {who}"),
        (false, _) => format!("REM {{}} {list} {who}"),
    };
    let reply = c.call(&line).await;
    assert!(
        matches!(reply.command(), "ADD" | "ADC" | "REM"),
        "{line}: {}",
        reply.line()
    );
}

async fn scenario(d: u8, t: u8) {
    let s = TestServer::start().await;
    for (h, n) in [
        ("alice@hotmail.com", "Alice"),
        ("bob@hotmail.com", "Bob"),
        ("carol@hotmail.com", "Carol"),
    ] {
        s.user(h, "pw", n).await;
    }
    s.seed_friends(("alice@hotmail.com", "Alice"), ("bob@hotmail.com", "Bob"))
        .await;
    let mut bob = sign_in(&s, t, "bob@hotmail.com", "NLN").await;
    let mut alice = if d <= 7 {
        Client::login(s.ns, d, "alice@hotmail.com", "pw").await
    } else {
        Client::login_twn(
            s.ns,
            d,
            "alice@hotmail.com",
            &s.ticket("alice@hotmail.com").await,
        )
        .await
    };
    let label = format!("watcher MSNP{d}, contact MSNP{t}");
    alice.label = label.clone();
    alice.send("CHG 100 NLN").await;
    let echo = alice.recv_line().await;
    assert!(echo.starts_with("CHG 100 NLN"), "{label}: {echo}");
    alice
        .expect(&presence(d, t, "ILN 100 ", "NLN", "Bob"))
        .await;

    let status = |st: &str| {
        if t >= 9 {
            format!("{st} {CAPS} {OBJ}")
        } else if t == 8 {
            format!("{st} {CAPS}")
        } else {
            st.to_owned()
        }
    };
    bob.call(&format!("CHG {{}} {}", status("AWY"))).await;
    alice.expect(&presence(d, t, "NLN ", "AWY", "Bob")).await;
    bob.call(&format!("CHG {{}} {}", status("HDN"))).await;
    alice.expect("FLN bob@hotmail.com").await;
    bob.call(&format!("CHG {{}} {}", status("BSY"))).await;
    alice.expect(&presence(d, t, "NLN ", "BSY", "Bob")).await;

    rename(&mut bob, t, "Bobby").await;
    alice.expect(&presence(d, t, "NLN ", "BSY", "Bobby")).await;

    // Privacy: BLP BL keeps allowed watchers; leaving the AL hides bob.
    let blp = bob.call("BLP {} BL").await;
    assert_eq!(blp.command(), "BLP");
    list_cmd(&mut bob, t, false, "AL", "alice@hotmail.com").await;
    alice.expect("FLN bob@hotmail.com").await;
    list_cmd(&mut bob, t, true, "AL", "alice@hotmail.com").await;
    alice.expect(&presence(d, t, "NLN ", "BSY", "Bobby")).await;
    bob.call("BLP {} AL").await;

    // Blocking and unblocking.
    list_cmd(&mut bob, t, false, "AL", "alice@hotmail.com").await;
    list_cmd(&mut bob, t, true, "BL", "alice@hotmail.com").await;
    alice.expect("FLN bob@hotmail.com").await;
    list_cmd(&mut bob, t, false, "BL", "alice@hotmail.com").await;
    alice.expect(&presence(d, t, "NLN ", "BSY", "Bobby")).await;

    // Reverse-list notices in alice's dialect.
    let mut carol = sign_in(&s, t, "carol@hotmail.com", "NLN").await;
    let added = if t >= 10 {
        carol.call("ADC {} FL N=alice@hotmail.com F=Alice").await
    } else {
        carol.call("ADD {} FL alice@hotmail.com Alice").await
    };
    assert!(matches!(added.command(), "ADD" | "ADC"), "{}", added.line());
    let notice = alice.recv_line().await;
    if d >= 10 {
        assert_eq!(notice, "ADC 0 RL N=carol@hotmail.com F=Carol", "{label}");
    } else {
        assert!(
            notice.starts_with("ADD 0 RL ") && notice.ends_with(" carol@hotmail.com Carol"),
            "{label}: {notice}"
        );
    }
    let remove = if t >= 10 {
        let guid = added
            .tokens()
            .last()
            .unwrap()
            .trim_start_matches("C=")
            .to_owned();
        format!("REM {{}} FL {guid}")
    } else {
        "REM {} FL alice@hotmail.com".to_owned()
    };
    carol.call(&remove).await;
    let notice = alice.recv_line().await;
    if d >= 10 {
        assert_eq!(notice, "REM 0 RL carol@hotmail.com", "{label}");
    } else {
        assert!(
            notice.starts_with("REM 0 RL ") && notice.ends_with(" carol@hotmail.com"),
            "{label}: {notice}"
        );
    }

    // A dropped connection (no OUT) signs bob out.
    drop(bob);
    alice.expect("FLN bob@hotmail.com").await;
    s.stop().await;
}

macro_rules! pairs {
    ($($name:ident: $d:expr, $t:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            scenario($d, $t).await;
        }
    )*};
}

pairs! {
    msnp2_watches_msnp7: 2, 7;
    msnp3_watches_msnp3: 3, 3;
    msnp4_watches_msnp12: 4, 12;
    msnp5_watches_msnp2: 5, 2;
    msnp6_watches_msnp9: 6, 9;
    msnp7_watches_msnp2: 7, 2;
    msnp8_watches_msnp11: 8, 11;
    msnp9_watches_msnp8: 9, 8;
    msnp10_watches_msnp5: 10, 5;
    msnp11_watches_msnp12: 11, 12;
    msnp12_watches_msnp10: 12, 10;
}
