//! Login: `VER`, `INF`, `CVR`/`CVQ`, `USR` (MD5, CTP, TWN), the Dispatch
//! Server's referral, and what the NS sends right after `USR … OK`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use msn_auth::Audience;
use msn_core::handle::Handle;
use msn_core::{ids, password};
use msn_service::NewEndpoint;
use msn_store::UserRecord;
use msn_wire::dialect::AuthScheme;
use msn_wire::ns::{UsrAuth, render};
use msn_wire::{Dialect, Negotiation};
use tracing::{debug, info, warn};

use super::{Flow, Login, NsSession, Role};
use crate::context::Stats;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl NsSession {
    pub(super) fn on_ver(&mut self, trid: u32, offered: &[String]) -> Flow {
        let n = &self.shared.config.notification;
        match Dialect::negotiate(
            offered.iter().map(String::as_str),
            n.min_dialect..=n.max_dialect,
        ) {
            Negotiation::Chosen { dialect, cvr0 } => {
                self.dialect = dialect;
                self.login = Login::Versioned;
                render::ver(&mut self.conn.out, trid, dialect, cvr0);
                Flow::Continue
            }
            Negotiation::OnlyCvr0 => {
                self.login = Login::Cvr0Only;
                render::ver_cvr0_only(&mut self.conn.out, trid);
                Flow::Continue
            }
            Negotiation::NoMatch => {
                render::ver_no_match(&mut self.conn.out, trid);
                Flow::Close
            }
        }
    }

    pub(super) fn on_inf(&mut self, trid: u32) -> Flow {
        if !self.dialect.has_inf() {
            return Flow::Close;
        }
        let ctp = self.dialect.has_ctp() && self.shared.config.notification.ctp;
        render::inf(&mut self.conn.out, trid, ctp);
        Flow::Continue
    }

    /// `CVR`/`CVQ`: answers with the configured versions, by default the
    /// client's own version three times so no upgrade is ever offered.
    pub(super) fn on_cvr(&mut self, command: &str, trid: u32, args: &[String]) -> Flow {
        let Some(version) = args.get(5) else {
            return Flow::Close;
        };
        let v = &self.shared.config.client_versions;
        let pick = |configured: &str| {
            if configured.is_empty() {
                version.clone()
            } else {
                configured.to_owned()
            }
        };
        let recommended = pick(&v.recommended);
        let minimum = pick(&v.minimum);
        let (download, info) = (&v.download_url, &v.info_url);
        render::cvr(
            &mut self.conn.out,
            command,
            trid,
            &recommended,
            &minimum,
            download,
            info,
        );
        Flow::Continue
    }

    pub(super) async fn on_usr(&mut self, trid: u32, auth: UsrAuth) -> Flow {
        let scheme = self.dialect.auth();
        match (auth, &self.login) {
            (UsrAuth::Md5Initial { handle }, Login::Versioned) if scheme == AuthScheme::Md5 => {
                if self.role == Role::Dispatch {
                    return self.refer(trid);
                }
                let salt = ids::login_salt();
                render::usr_md5_salt(&mut self.conn.out, trid, &salt);
                self.login = Login::Md5 { handle, salt };
                Flow::Continue
            }
            (UsrAuth::Md5Response { hash }, Login::Md5 { handle, salt }) => {
                let (handle, salt) = (handle.clone(), salt.clone());
                let Some(user) = self.find_user(&handle).await else {
                    return self.refuse(trid);
                };
                // Only accounts that opted in keep the password the MD5
                // exchange needs; everyone else is refused like a bad password.
                let ok = user
                    .legacy_password
                    .as_deref()
                    .is_some_and(|pw| password::verify_md5_login(&salt, pw, &hash));
                if !ok {
                    return self.refuse(trid);
                }
                let mspauth = format!("{}$$", ids::token(48));
                self.sign_in(trid, user, &mspauth).await
            }
            (UsrAuth::CtpInitial { handle }, Login::Versioned)
                if self.dialect.has_ctp() && self.shared.config.notification.ctp =>
            {
                if self.role == Role::Dispatch {
                    return self.refer(trid);
                }
                render::usr_ctp_ready(&mut self.conn.out, trid);
                self.login = Login::Ctp { handle };
                Flow::Continue
            }
            (UsrAuth::CtpPassword { password: given }, Login::Ctp { handle }) => {
                let handle = handle.clone();
                let Some(user) = self.find_user(&handle).await else {
                    return self.refuse(trid);
                };
                let hash = user.password_hash.clone();
                // Bounded with the HTTP logins' checks; too many waiting
                // is refused like a wrong password.
                let ok = self
                    .shared
                    .passwords
                    .verify(vec![given], hash)
                    .await
                    .unwrap_or(false);
                if !ok {
                    return self.refuse(trid);
                }
                let mspauth = format!("{}$$", ids::token(48));
                self.sign_in(trid, user, &mspauth).await
            }
            (UsrAuth::TwnInitial { handle }, Login::Versioned) if scheme == AuthScheme::Tweener => {
                if self.role == Role::Dispatch {
                    return self.refer(trid);
                }
                render::usr_twn_params(&mut self.conn.out, trid, &passport_parameters());
                self.login = Login::Twn { handle };
                Flow::Continue
            }
            (UsrAuth::TwnTicket { ticket }, Login::Twn { handle }) => {
                // A ticket presented for another account is refused and
                // stays valid for its owner.
                let grant = Handle::parse(handle).ok().and_then(|claimed| {
                    self.shared
                        .tokens
                        .redeem(&ticket, Audience::Messenger, &claimed)
                });
                let Some(grant) = grant else {
                    debug!("unknown, expired or foreign Passport ticket");
                    return self.refuse(trid);
                };
                let Some(user) = self.find_user(grant.handle.as_str()).await else {
                    return self.refuse(trid);
                };
                let mspauth = ticket
                    .strip_prefix("t=")
                    .and_then(|t| t.split('&').next())
                    .unwrap_or_default()
                    .to_owned();
                self.sign_in(trid, user, &mspauth).await
            }
            // A package this dialect does not have, or steps out of order.
            _ => Flow::Close,
        }
    }

    /// The Dispatch Server's answer to `USR … I`: go to the NS.
    fn refer(&mut self, trid: u32) -> Flow {
        let addrs = &self.shared.addrs;
        render::xfr_ns(&mut self.conn.out, trid, self.dialect, &addrs.ns, &addrs.ds);
        self.login = Login::Referred;
        self.referred_at = Some(Instant::now());
        Flow::Continue
    }

    /// `911` and close: wrong password, unknown account, bad ticket.
    /// Logged with the claimed handle and the client's address (never
    /// the password), so an operator sees guessing.
    fn refuse(&mut self, trid: u32) -> Flow {
        let handle = match &self.login {
            Login::Md5 { handle, .. } | Login::Ctp { handle } | Login::Twn { handle } => {
                handle.as_str()
            }
            _ => "",
        };
        info!(handle, peer = %self.conn.peer().ip(), "login refused");
        self.conn.out.error(911, trid);
        Flow::Close
    }

    async fn find_user(&mut self, raw_handle: &str) -> Option<UserRecord> {
        let handle = Handle::parse(raw_handle).ok()?;
        match self.shared.store.user(handle.as_str()).await {
            Ok(user) => user,
            Err(e) => {
                warn!(error = %e, "account lookup failed");
                None
            }
        }
    }

    /// Completes a login: takes over from an older session of the same
    /// account, then sends `USR … OK` and the profile.
    async fn sign_in(&mut self, trid: u32, record: UserRecord, mspauth: &str) -> Flow {
        let endpoint = NewEndpoint {
            id: self.conn_id,
            dialect: self.dialect,
            machine_guid: None,
            mailbox: self.mailbox.clone(),
        };
        let service = &self.shared.service;
        let actor = match service.sign_in(&record.handle, record.id, endpoint).await {
            Ok(actor) => actor,
            Err(_) => {
                self.conn.out.error(500, trid);
                return Flow::Close;
            }
        };
        let name = actor.state().account.friendly_name.clone();
        self.actor = Some(actor);
        self.login = Login::Done;
        Stats::bump(&self.shared.stats.logins);
        info!(user = %record.handle, dialect = %self.dialect, "signed in");

        let d = self.dialect;
        let peer = self.conn.peer();
        let out = &mut self.conn.out;
        render::usr_ok(out, trid, d, record.handle.as_str(), &name, record.verified);
        if d.sends_sbs() && self.shared.config.notification.send_sbs {
            render::sbs(out);
        }
        let p = &self.shared.config.profile;
        let (member_id_high, member_id_low) = ids::member_id_halves(ids::puid(record.id));
        let profile = render::Profile {
            login_time: unix_now(),
            email_enabled: p.email_enabled,
            member_id_high,
            member_id_low,
            lcid: p.lang_preference,
            preferred_email: record.handle.as_str(),
            country: &p.country,
            flags: 1027,
            kv: 2,
            mspauth,
            client_ip: &peer.ip().to_string(),
            client_port: peer.port(),
        };
        render::hotmail_msg(out, render::profile_payload(d, &profile).as_bytes());
        if p.email_enabled && d.profile_has_passport_fields() {
            let mail = render::initial_mail_payload(&self.shared.config.urls.inbox, &p.post_url);
            render::hotmail_msg(out, mail.as_bytes());
        }
        Flow::Continue
    }
}

/// The Passport site parameters sent in `USR … TWN S` (the 2003 shape).
/// Clients copy them verbatim into their login request; our login service
/// does not depend on them.
fn passport_parameters() -> String {
    let body = format!(
        "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct={},kpp=1,kv=5,ver=2.1.0173.1",
        unix_now()
    );
    let tpf = hex::encode(Md5::digest(body.as_bytes()));
    format!("{body},tpf={tpf}")
}
