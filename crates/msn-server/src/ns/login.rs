//! Login: `VER`, `INF`, `CVR`/`CVQ`, `USR` (MD5, CTP, TWN, SSO), the
//! Dispatch Server's referral, and what the NS sends right after
//! `USR … OK`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use msn_auth::{Audience, Grant, sso};
use msn_core::handle::{Handle, MAX_HANDLE_LEN};
use msn_core::{endpoint, ids, password};
use msn_service::NewEndpoint;
use msn_store::UserRecord;
use msn_wire::dialect::AuthScheme;
use msn_wire::ns::{UsrAuth, render};
use msn_wire::{Dialect, Negotiation};
use tracing::{debug, info, warn};

use super::{Flow, Login, NsSession, Role};
use crate::context::Stats;

/// What a password login presents.
enum Proof {
    /// `USR … MD5 S`: `md5(salt + password)` in hex.
    Md5 { salt: String, hash: String },
    /// `USR … CTP S`: the password itself.
    Clear(String),
}

/// The store did not answer.
struct StoreDown;

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
                    return self.refer(trid, &handle);
                }
                let salt = ids::login_salt();
                render::usr_md5_salt(&mut self.conn.out, trid, &salt);
                self.login = Login::Md5 { handle, salt };
                Flow::Continue
            }
            (UsrAuth::Md5Response { hash }, Login::Md5 { handle, salt }) => {
                let (handle, salt) = (handle.clone(), salt.clone());
                self.password_login(trid, &handle, Proof::Md5 { salt, hash })
                    .await
            }
            (UsrAuth::CtpInitial { handle }, Login::Versioned)
                if self.dialect.has_ctp() && self.shared.config.notification.ctp =>
            {
                if self.role == Role::Dispatch {
                    return self.refer(trid, &handle);
                }
                render::usr_ctp_ready(&mut self.conn.out, trid);
                self.login = Login::Ctp { handle };
                Flow::Continue
            }
            (UsrAuth::CtpPassword { password: given }, Login::Ctp { handle }) => {
                let handle = handle.clone();
                self.password_login(trid, &handle, Proof::Clear(given))
                    .await
            }
            (UsrAuth::TwnInitial { handle }, Login::Versioned) if scheme == AuthScheme::Tweener => {
                if self.role == Role::Dispatch {
                    return self.refer(trid, &handle);
                }
                self.push_policies();
                render::usr_twn_params(&mut self.conn.out, trid, &passport_parameters());
                self.login = Login::Twn { handle };
                Flow::Continue
            }
            (UsrAuth::TwnTicket { ticket }, Login::Twn { handle }) => {
                // A ticket presented for another account is refused and
                // stays valid for its owner.
                let grant = match Handle::parse(handle) {
                    Ok(claimed) => {
                        let tokens = self.shared.tokens.clone();
                        msn_auth::redeem_arriving(&*tokens, || {
                            tokens.redeem(&ticket, Audience::Messenger, &claimed)
                        })
                        .await
                    }
                    Err(_) => None,
                };
                let Some(grant) = grant else {
                    debug!("unknown, expired or foreign Passport ticket");
                    return self.refuse(trid);
                };
                self.ticket_sign_in(trid, &grant, &ticket, None).await
            }
            (UsrAuth::SsoInitial { handle }, Login::Versioned) if scheme == AuthScheme::Sso => {
                if self.role == Role::Dispatch {
                    return self.refer(trid, &handle);
                }
                // With several nodes, an MSNP16+ user's machines share one
                // node, where their presence is merged: a machine that
                // comes here while the others are on another node is sent
                // there, as the DS would have.
                if self.dialect.has_multiple_endpoints()
                    && !self.pinned
                    && let Some(home) = self
                        .shared
                        .referral
                        .as_ref()
                        .and_then(|r| r.home_of(&handle))
                {
                    return self.refer_to(trid, &home);
                }
                self.push_policies();
                let nonce = sso::new_nonce();
                render::usr_sso_nonce(&mut self.conn.out, trid, &nonce);
                self.login = Login::Sso { handle, nonce };
                Flow::Continue
            }
            (
                UsrAuth::SsoProof {
                    ticket,
                    proof,
                    machine_guid,
                },
                Login::Sso { handle, nonce },
            ) => {
                // MSNP16+ clients name their machine; MPOP needs it.
                let machine_guid = match machine_guid.as_deref().map(endpoint::parse_machine_guid) {
                    Some(Some(guid)) => Some(guid),
                    Some(None) => return self.refuse(trid),
                    None if self.dialect.has_multiple_endpoints() => return self.refuse(trid),
                    None => None,
                };
                // The ticket is used up only by a correct proof: someone who
                // saw the ticket but lacks its key cannot burn it.
                let nonce = nonce.clone();
                let grant = match Handle::parse(handle) {
                    Ok(claimed) => {
                        let tokens = self.shared.tokens.clone();
                        msn_auth::redeem_arriving(&*tokens, || {
                            tokens.redeem_if(&ticket, Audience::Messenger, &claimed, &|grant| {
                                grant
                                    .proof_key
                                    .as_deref()
                                    .is_some_and(|key| sso::verify_proof(key, &nonce, &proof))
                            })
                        })
                        .await
                    }
                    Err(_) => None,
                };
                let Some(grant) = grant else {
                    debug!("SSO ticket unknown, expired, foreign or without a valid proof");
                    return self.refuse(trid);
                };
                self.ticket_sign_in(trid, &grant, &ticket, machine_guid)
                    .await
            }
            // A package this dialect does not have, or steps out of order.
            _ => Flow::Close,
        }
    }

    /// The Dispatch Server's answer to `USR … I`: go to the NS.
    /// With several nodes, the NS is the one the cluster picks for
    /// `handle` (the same node for the same user while it lives).
    fn refer(&mut self, trid: u32, handle: &str) -> Flow {
        let picked = (!self.pinned)
            .then_some(())
            .and(self.shared.referral.as_ref())
            .and_then(|r| r.ns_for(handle));
        let ns = picked.unwrap_or_else(|| self.shared.addrs.ns.clone());
        self.refer_to(trid, &ns)
    }

    /// `XFR NS` to `ns` (`host:port`).
    fn refer_to(&mut self, trid: u32, ns: &str) -> Flow {
        let addrs = &self.shared.addrs;
        render::xfr_ns(&mut self.conn.out, trid, self.dialect, ns, &addrs.ds);
        self.login = Login::Referred;
        self.referred_at = Some(Instant::now());
        Flow::Continue
    }

    /// Signs in the account a redeemed Passport or SSO ticket names; the
    /// ticket's `t=` part is the profile's `MSPAuth`.
    async fn ticket_sign_in(
        &mut self,
        trid: u32,
        grant: &Grant,
        ticket: &str,
        machine_guid: Option<uuid::Uuid>,
    ) -> Flow {
        let user = match self.find_user(grant.handle.as_str()).await {
            Ok(Some(user)) => user,
            Ok(None) => return self.refuse(trid),
            Err(StoreDown) => return self.store_down(trid),
        };
        let mspauth = ticket
            .strip_prefix("t=")
            .and_then(|t| t.split('&').next())
            .unwrap_or_default()
            .to_owned();
        self.sign_in(trid, user, &mspauth, machine_guid).await
    }

    /// MSNP13+: the policy document, pushed as `GCF 0` before the
    /// `USR … S` reply (where the real service and the clients put it).
    fn push_policies(&mut self) {
        if self.dialect.pushes_policies() {
            render::gcf_policies(&mut self.conn.out, POLICIES.as_bytes());
        }
    }

    /// The password logins (MD5, CTP), under the login throttle
    /// (`msn_auth::throttle`): a client over its failures is refused with
    /// `911`, as for a wrong password — the code every dialect with a
    /// password login (MSNP2–7) understands — and its password is not
    /// checked, so that guesses during a cooldown learn nothing.
    async fn password_login(&mut self, trid: u32, claimed: &str, proof: Proof) -> Flow {
        let ip = self.conn.peer().ip();
        // The throttle counts the account as the store names it. A claim
        // that does not parse is no account, but still counts against the
        // address; its key is cut to a handle's length so that junk
        // cannot make the throttle's table large.
        let account = Handle::parse(claimed).map_or_else(
            |_| {
                let mut key: String = claimed.chars().take(MAX_HANDLE_LEN).collect();
                key.make_ascii_lowercase();
                key
            },
            |h| h.as_str().to_owned(),
        );
        let throttle = self.shared.login_throttle.clone();
        if let Err(throttled) = throttle.check(ip, &account) {
            // Not at info: a client hammering during its cooldown would
            // flood the log; the lockout itself was logged when it began.
            debug!(handle = %account, %ip, ?throttled, "login throttled");
            crate::metrics::login_failed(self.login_method());
            self.conn.out.error(911, trid);
            return Flow::Close;
        }
        let user = match self.find_user(claimed).await {
            Ok(user) => user,
            Err(StoreDown) => return self.store_down(trid),
        };
        let ok = match (&user, proof) {
            (None, _) => false,
            // Only accounts that opted in keep the password the MD5
            // exchange needs; everyone else is refused like a bad password.
            (Some(user), Proof::Md5 { salt, hash }) => user
                .legacy_password
                .as_deref()
                .is_some_and(|pw| password::verify_md5_login(&salt, pw, &hash)),
            // Bounded with the HTTP logins' checks; too many waiting is
            // refused like a wrong password.
            (Some(user), Proof::Clear(given)) => {
                let verdict = self
                    .shared
                    .passwords
                    .verify_rehashing(
                        vec![given],
                        user.password_hash.clone(),
                        self.shared.config.hash_cost(),
                    )
                    .await;
                match verdict {
                    Ok(v) => {
                        if let Some(new) = v.rehashed {
                            msn_store::store_rehashed(&*self.shared.store, user, &new).await;
                        }
                        v.matched
                    }
                    Err(_) => false,
                }
            }
        };
        match user.filter(|_| ok) {
            Some(user) => {
                throttle.succeeded(ip, &account);
                let mspauth = format!("{}$$", ids::token(48));
                self.sign_in(trid, user, &mspauth, None).await
            }
            None => {
                throttle.failed(ip, &account);
                self.refuse(trid)
            }
        }
    }

    /// The login method in progress, as the metrics name it.
    fn login_method(&self) -> &'static str {
        match &self.login {
            Login::Md5 { .. } => "md5",
            Login::Ctp { .. } => "ctp",
            Login::Twn { .. } => "twn",
            Login::Sso { .. } => "sso",
            _ => "other",
        }
    }

    /// `911` and close: wrong password, unknown account, bad ticket.
    /// Logged with the claimed handle and the client's address (never
    /// the password), so an operator sees guessing.
    fn refuse(&mut self, trid: u32) -> Flow {
        let handle = match &self.login {
            Login::Md5 { handle, .. }
            | Login::Ctp { handle }
            | Login::Twn { handle }
            | Login::Sso { handle, .. } => handle.as_str(),
            _ => "",
        };
        info!(handle, peer = %self.conn.peer().ip(), "login refused");
        crate::metrics::login_failed(self.login_method());
        self.conn.out.error(911, trid);
        Flow::Close
    }

    /// The account `raw_handle` names; `Err` when the store cannot be
    /// asked (the database is unreachable).
    async fn find_user(&mut self, raw_handle: &str) -> Result<Option<UserRecord>, StoreDown> {
        let Ok(handle) = Handle::parse(raw_handle) else {
            return Ok(None);
        };
        match self.shared.store.user(handle.as_str()).await {
            // A disabled account is refused like an unknown one.
            Ok(user) => Ok(user.filter(|u| !u.disabled)),
            Err(e) => {
                warn!(error = %e, "account lookup failed");
                Err(StoreDown)
            }
        }
    }

    /// `603` (database connect error) and close: the store does not
    /// answer. Not a failed login: nothing was checked.
    fn store_down(&mut self, trid: u32) -> Flow {
        crate::metrics::login_failed(self.login_method());
        self.conn.out.error(603, trid);
        Flow::Close
    }

    /// Completes a login: takes over from an older session of the same
    /// account, then sends `USR … OK` and the profile.
    async fn sign_in(
        &mut self,
        trid: u32,
        record: UserRecord,
        mspauth: &str,
        machine_guid: Option<uuid::Uuid>,
    ) -> Flow {
        let endpoint = NewEndpoint {
            id: self.conn_id,
            dialect: self.dialect,
            machine_guid,
            mailbox: self.mailbox.clone(),
        };
        let service = &self.shared.service;
        let actor = match service.sign_in(&record.handle, record.id, endpoint).await {
            Ok(actor) => actor,
            // The account could not be loaded: the store is down.
            Err(_) => return self.store_down(trid),
        };
        let name = actor.state().account.friendly_name.clone();
        crate::metrics::signed_in(self.login_method(), self.dialect);
        self.actor = Some(actor);
        self.login = Login::Done;
        self.slot.authenticated();
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
        // MSNP16+: an empty self UBX, as the servers WLM 2009 works with
        // sent (transcripts/msnp18-login.txt); the full one follows the
        // first CHG.
        if d.has_multiple_endpoints() {
            render::ubx(out, d, record.handle.as_str(), b"");
        }
        // MSNP13+ get the offline-message summary after their first CHG
        // instead (`write_offline_message_summary`).
        if !d.has_mail_data() && p.email_enabled && d.profile_has_passport_fields() {
            let mail = render::initial_mail_payload(&self.shared.config.urls.inbox, &p.post_url);
            render::hotmail_msg(out, mail.as_bytes());
        }
        Flow::Continue
    }

    /// The offline-message summary (`text/x-msmsgsinitialmdatanotification`,
    /// MSNP13+), once, after the presence dump that answers the first `CHG`:
    /// where the clients were sent it by the revival servers they work with
    /// (transcripts/msnp15-sso-login.txt), not after the profile.
    ///
    /// An offline message stored while this runs is announced live as well
    /// (the endpoint is registered already), so it may be listed twice
    /// (clients ignore a repeated id), but never missed.
    pub(super) async fn write_offline_message_summary(&mut self) {
        if !self.dialect.has_mail_data() {
            return;
        }
        let user_id = self.state().account.user_id;
        let waiting = self.shared.service.offline_messages(user_id).await;
        let threshold = self.shared.config.oim.too_large_threshold;
        let payload = match waiting {
            Ok(oims) if oims.len() <= threshold => {
                let ids: Vec<String> = oims.iter().map(|m| format!("{:X}", m.id)).collect();
                let entries: Vec<_> = oims
                    .iter()
                    .zip(&ids)
                    .map(|(m, id)| super::events::oim_entry(m, id))
                    .collect();
                render::initial_mail_data_payload(render::MailData::List(&entries))
            }
            // Too many, or the store failed: the client asks the RSI
            // service for the list itself.
            _ => render::initial_mail_data_payload(render::MailData::TooLarge),
        };
        render::hotmail_msg(&mut self.conn.out, payload.as_bytes());
    }

    /// `USR TrID SHA A <ticket>` (MSNP18): the client presents the circle
    /// ticket its `ABFindContactsPaged` carried. One this server issued for
    /// this account is `OK`, and lets this endpoint take part in its
    /// circles (`PUT`, `SDG`); anything else `911` (msnp13-18.md §3.12).
    pub(super) fn on_circle_ticket(&mut self, trid: u32, ticket: &str) -> Flow {
        let user_id = self.state().account.user_id;
        let cid = ids::puid(user_id) as i64;
        if msn_auth::circle_ticket::verify(&*self.shared.tokens, ticket, cid) {
            self.shared.service.accept_circle_ticket(self.actor());
            let handle = self.handle();
            render::usr_sha_ok(&mut self.conn.out, trid, handle.as_str());
        } else {
            debug!("circle ticket not issued here or for another account");
            self.conn.out.error(911, trid);
        }
        Flow::Continue
    }
}

/// The policies MSNP13+ clients get at sign-in: a SHIELDS policy that
/// denies no client version (the `<config>` of MSNP11's `Shields.xml`). The
/// checksum is the MD5 of the `<config>` element; no client is known to
/// check it.
const POLICIES: &str = concat!(
    r#"<Policies><Policy type="SHIELDS" checksum="94A347C122C483F8BEAD525832DB2F71">"#,
    r#"<config><shield><cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield>"#,
    r#"<block></block></config></Policy></Policies>"#,
);

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
