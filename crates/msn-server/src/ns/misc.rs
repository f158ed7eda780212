//! The smaller NS commands: `PNG`, `XFR SB`, `URL`, `FND`, `SND`, `SDC`,
//! `IMS`, `GCF`, `UUM`.

use bytes::Bytes;
use msn_core::handle::Handle;
use msn_service::{ChatRefused, OfflineMessage, OimRefused};
use msn_wire::ns::render;
use tracing::{debug, info};

use super::{Flow, NsSession};
use crate::sb::registry::GrantKind;

/// The permissive `Shields.xml` policy (msnp8-12.md §5.14): no features
/// denied, nothing blocked.
const SHIELDS: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><config><shield><cli maj=\"7\" min=\"0\" minbld=\"0\" maxbld=\"9999\" deny=\" \" /></shield><block></block></config>";

impl NsSession {
    pub(super) fn on_png(&mut self) -> Flow {
        let secs = self.shared.config.notification.ping_interval.as_secs();
        let interval = u32::try_from(secs).unwrap_or(u32::MAX);
        render::qng(&mut self.conn.out, self.dialect, interval);
        Flow::Continue
    }

    /// `XFR TrID SB`: a cookie for a new switchboard session.
    pub(super) fn on_xfr(&mut self, trid: u32, target: &str) -> Flow {
        match target {
            "SB" => {}
            // Not used by clients after the 1.0 betas (msnp2-7.md §10.1).
            "NS" => {
                self.conn.out.error(201, trid);
                return Flow::Continue;
            }
            _ => return Flow::Close,
        }
        let who = match self.shared.service.open_chat(self.actor()) {
            Ok(who) => who,
            Err(refused) => {
                let code = match refused {
                    ChatRefused::NotAvailable => 913,
                    ChatRefused::TooManySessions => 714,
                };
                self.conn.out.error(code, trid);
                return Flow::Continue;
            }
        };
        let (handle, name, caps) = (self.handle(), who.name, who.capabilities);
        let cfg = &self.shared.config.switchboard;
        let cookie = self.shared.switchboards.grant(
            handle,
            name,
            self.dialect,
            caps,
            GrantKind::Create,
            cfg.cookie_ttl,
        );
        let addr = &self.shared.addrs.sb;
        render::xfr_sb(&mut self.conn.out, trid, self.dialect, addr, &cookie);
        Flow::Continue
    }

    /// `URL TrID service [param]`: where the client's web links go.
    pub(super) fn on_url(&mut self, trid: u32, service: &str, _param: Option<&str>) -> Flow {
        let urls = &self.shared.config.urls;
        let redirect = match service {
            "INBOX" | "FOLDERS" | "MESSAGE" => &urls.inbox,
            "COMPOSE" => &urls.compose,
            "PROFILE" | "N2PACCOUNT" | "N2PFUND" => &urls.profile,
            "PERSON" => &urls.person,
            "CHAT" => &urls.chat,
            "MOBILE" | "CHGMOB" => &urls.mobile,
            "PASSWORD" => &urls.password,
            _ => {
                self.conn.out.error(201, trid);
                return Flow::Continue;
            }
        };
        render::url(
            &mut self.conn.out,
            trid,
            self.dialect,
            redirect,
            &urls.login_url,
            urls.site_id,
        );
        Flow::Continue
    }

    /// `FND`: the member directory was switched off by Microsoft in 2003 and
    /// msnd has none either; `502` (command disabled) says so.
    pub(super) fn on_fnd(&mut self, trid: u32, _fields: &[String]) -> Flow {
        self.conn.out.error(502, trid);
        Flow::Continue
    }

    /// `SND TrID address …` (MSNP2–MSNP4): invitation e-mail. Accepted after
    /// checking the address; msnd has no mail service and sends nothing.
    pub(super) fn on_snd(&mut self, trid: u32, args: &[String]) -> Flow {
        if args.len() > 4 || Handle::parse(&args[0]).is_err() {
            self.conn.out.error(503, trid);
            return Flow::Close;
        }
        info!("invitation e-mail requested; no mail service, nothing sent");
        render::snd_ok(&mut self.conn.out, trid);
        Flow::Continue
    }

    /// `SDC TrID address lcid library codebase X X name len` + note (MSNP5+).
    pub(super) fn on_sdc(&mut self, trid: u32, args: &[String], _note: &Bytes) -> Flow {
        if args.len() != 7 || Handle::parse(&args[0]).is_err() || args[4] != "X" || args[5] != "X" {
            self.conn.out.error(503, trid);
            return Flow::Close;
        }
        info!("invitation e-mail requested; no mail service, nothing sent");
        render::sdc_ok(&mut self.conn.out, trid);
        Flow::Continue
    }

    /// `IMS TrID ON|OFF` (MSNP3+): switchboard invitations on or off.
    pub(super) fn on_ims(&mut self, trid: u32, on: bool) -> Flow {
        self.shared.service.set_invitations(self.actor(), on);
        render::ims(&mut self.conn.out, trid, on);
        Flow::Continue
    }

    /// `GCF TrID Shields.xml` (MSNP11+), after `SYN`.
    pub(super) fn on_gcf(&mut self, trid: u32, name: &str) -> Flow {
        if !self.synced {
            self.conn.out.error(715, trid);
            return Flow::Continue;
        }
        // Only Shields.xml is documented; any other file is answered empty
        // (a framed reply, so clients waiting on it are not left hanging).
        let body: &[u8] = if name == "Shields.xml" {
            SHIELDS.as_bytes()
        } else {
            b""
        };
        render::gcf(&mut self.conn.out, trid, name, body);
        Flow::Continue
    }

    /// `UUM TrID email network type len` (MSNP14+): a message sent through
    /// the NS. An instant message (type 1) to a Windows Live contact is
    /// what BitlBee 3.2 sends to a contact shown offline: it is kept as an
    /// offline message, under the same rules as one sent to the OIM store
    /// service (the recipient must admit the sender), and the recipient's
    /// WLM finds it at sign-in. A stored message gets no reply (none is
    /// known); anything msnd cannot deliver — other networks, typing and
    /// nudges, a refusal — is `217`, so the client does not believe it was
    /// delivered.
    pub(super) async fn on_uum(
        &mut self,
        trid: u32,
        target: &str,
        network: u8,
        kind: u16,
        payload: Bytes,
    ) -> Flow {
        let recipient = match Handle::parse(target) {
            Ok(h) if network == 1 && kind == 1 => h,
            _ => {
                debug!(%target, network, kind, "UUM not deliverable");
                self.conn.out.error(217, trid);
                return Flow::Continue;
            }
        };
        // The MIME message: headers, a blank line, the text.
        let text = msn_wire::mime::split(&payload)
            .1
            .and_then(|body| std::str::from_utf8(body).ok());
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            self.conn.out.error(217, trid);
            return Flow::Continue;
        };
        let message = OfflineMessage {
            sender_name: self.state().account.friendly_name.clone(),
            text: text.to_owned(),
            run_id: uuid::Uuid::new_v4(),
            sequence_num: 1,
            origin: self.conn.peer().ip().to_string(),
        };
        let sender = self.handle();
        match self
            .shared
            .service
            .send_offline_message(&sender, &recipient, message)
            .await
        {
            Ok(_) => {}
            Err(OimRefused::Storage) => self.conn.out.error(500, trid),
            Err(refused) => {
                debug!(%recipient, ?refused, "UUM refused");
                self.conn.out.error(217, trid);
            }
        }
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shields_document_is_145_bytes() {
        assert_eq!(super::SHIELDS.len(), 145);
    }
}
