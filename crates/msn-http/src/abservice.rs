//! The address book (`/abservice/abservice.asmx`) and sharing
//! (`/abservice/SharingService.asmx`) SOAP services of WLM 8.x and 2009
//! (msnp13-18.md §4, §5; vectors in soap/*.md).
//!
//! There is one contact model. The address book is a *view* of the user's
//! stored lists — the FL entries (and entries kept with a contact id) with
//! their groups — and the sharing roles Allow/Block/Reverse/Pending are the
//! AL/BL/RL/PL bits of the same entries. Every edit goes through the
//! service operations the NS uses (`add_contact`, `remove_contact`,
//! `set_privacy` …) on an [`AccountActor`], so its effects reach other
//! users exactly as an NS command's would (an MSNP7 watcher gets `ADD 0
//! RL`, blocks hide presence everywhere), and a reply is only sent after
//! the store committed the change.
//!
//! Requests are authenticated by the `contacts.msn.com` bearer token in
//! `ABAuthHeader/TicketToken`; its grant names the account, so a request
//! can only read or edit the caller's own book. Delta requests
//! (`deltasOnly` true) get the `FullSyncRequired` fault (msnd keeps no
//! change log), which every client answers with a full request.
//!
//! What the view cannot hold, and how it is mapped:
//! * dates: msnd keeps no per-entry timestamps; `lastChange` is the time of
//!   the answer (it only has to be a date the client may send back, and a
//!   delta request is always answered with a full sync anyway);
//! * the Me contact's id is derived from the PUID (stable, never stored);
//! * CID = the PUID's number, as RST.srf's `CID` (`msn_core::ids::puid`);
//! * `contactType` is `Regular` once the other user has the owner on their
//!   FL (the owner's RL bit), `LivePending` before;
//! * Favorites is the group named `Favorites` (`IsFavorite`);
//! * `MembershipId` is `4 × the member's account id + the role` (an
//!   integer, stable, and resolvable back in `DeleteMember`).

mod circles;

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use msn_auth::{Audience, TokenService};
use msn_core::account::{Contact, ListError, lists};
use msn_core::handle::Handle;
use msn_core::ids::puid;
use msn_core::network::NetworkId;
use msn_core::text;
use msn_service::{AccountActor, OpError, Service};
use msn_wire::vocab::{AddAlert, ListKind, Privacy};
use time::OffsetDateTime;
use tracing::{debug, info, warn};
use uuid::Uuid;

use crate::HttpContext;
use crate::soap_xml::{self, Element, Out};

use crate::soap_xml::SOAP11_NS as SOAP_NS;
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// Namespace of both services' bodies and of their SOAPAction URIs.
pub const AB_NS: &str = "http://www.msn.com/webservices/AddressBook";
/// `groupType` of every Messenger group.
const MESSENGER_GROUP_TYPE: &str = "c8529ce2-6ead-434d-881f-341e17db3ff8";
const NEVER: &str = "0001-01-01T00:00:00";
const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";
/// The group WLM 2009 shows as Favorites (`IsFavorite`).
const FAVORITES: &str = "Favorites";
/// Time allowed for receiving a request body once its head has arrived.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Which of the two services a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoapService {
    AddressBook,
    Sharing,
}

impl SoapService {
    /// The service at `path`; libpurple doubles the leading slash
    /// (`//abservice/abservice.asmx`, msnp13-18.md §4.4), and the clients
    /// differ in the case of the file name.
    pub fn for_path(path: &str) -> Option<SoapService> {
        let path = path.trim_start_matches('/');
        if path.eq_ignore_ascii_case("abservice/abservice.asmx") {
            Some(SoapService::AddressBook)
        } else if path.eq_ignore_ascii_case("abservice/SharingService.asmx") {
            Some(SoapService::Sharing)
        } else {
            None
        }
    }
}

/// A fault reply (soap/findmembership.md "Faults"): HTTP 500, the
/// `soap:Body/soap:Fault/detail/errorcode` path BitlBee matches.
#[derive(Debug)]
pub struct Fault {
    server: bool,
    code: &'static str,
    text: String,
    /// `additionalDetails/conflictObjectId`.
    conflict: Option<String>,
}

impl Fault {
    fn client(code: &'static str, text: impl Into<String>) -> Fault {
        Fault {
            server: false,
            code,
            text: text.into(),
            conflict: None,
        }
    }

    fn conflict(mut self, id: impl ToString) -> Fault {
        self.conflict = Some(id.to_string());
        self
    }

    fn internal() -> Fault {
        Fault {
            server: true,
            code: "InternalError",
            text: "The request could not be completed; nothing was changed".into(),
            conflict: None,
        }
    }

    fn auth() -> Fault {
        Fault::client("PassportAuthFail", "Authentication failed")
    }

    fn bad_request(why: impl std::fmt::Display) -> Fault {
        Fault::client("BadArgument", format!("Malformed request: {why}"))
    }

    /// The error code of a refused list edit, in the address book's words.
    fn from_op(e: OpError, subject: &str) -> Fault {
        match e {
            OpError::Storage => Fault::internal(),
            OpError::UnknownAccount => Fault::client(
                "InvalidPassportUser",
                format!("The Passport user specified is invalid SignInName: {subject}"),
            ),
            OpError::Refused(e) => match e {
                ListError::InvalidName => {
                    Fault::client("BadArgumentLength", "Argument invalid or too long")
                }
                ListError::GroupNameTooLong => Fault::client(
                    "BadArgumentLength",
                    "Argument Exceeded Allowed Length GroupName exceeded length",
                ),
                ListError::ListFull | ListError::TooManyGroups => {
                    Fault::client("QuotaLimitReached", "Too many entries")
                }
                ListError::GroupNameTaken => {
                    Fault::client("GroupAlreadyExists", "Group Already Exists")
                }
                ListError::NoSuchGroup | ListError::CannotRemoveGroupZero => {
                    Fault::client("GroupDoesNotExist", "Group Does Not Exist")
                }
                ListError::AlreadyThere => {
                    Fault::client("ContactAlreadyExists", "Contact Already Exists")
                }
                ListError::NotOnList | ListError::NotInGroup => {
                    Fault::client("ContactDoesNotExist", "Contact Does Not Exist")
                }
                ListError::AlreadyInMode | ListError::OppositeList => {
                    Fault::client("BadArgument", "Conflicting request")
                }
            },
        }
    }

    fn render(&self, action: &str) -> String {
        let mut out = Out::default();
        out.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        envelope_open(&mut out);
        out.open("soap:Body").open("soap:Fault");
        out.leaf(
            "faultcode",
            if self.server {
                "soap:Server"
            } else {
                "soap:Client"
            },
        );
        out.leaf("faultstring", &self.text);
        out.leaf("faultactor", &format!("{AB_NS}/{action}"));
        out.open("detail");
        out.leaf_ns("errorcode", AB_NS, self.code);
        out.leaf_ns("errorstring", AB_NS, &self.text);
        out.leaf_ns("machineName", AB_NS, "MSND");
        if let Some(id) = &self.conflict {
            out.open("additionalDetails")
                .leaf("conflictObjectId", id)
                .close("additionalDetails");
        } else if self.code == "FullSyncRequired" {
            out.open("additionalDetails")
                .leaf("originalExceptionErrorMessage", &self.text)
                .close("additionalDetails");
        }
        out.close("detail").close("soap:Fault").close("soap:Body");
        out.close("soap:Envelope");
        out.into_string()
    }
}

fn envelope_open(out: &mut Out) {
    out.open_with(
        "soap:Envelope",
        &[
            ("xmlns:soap", SOAP_NS),
            ("xmlns:xsi", XSI_NS),
            ("xmlns:xsd", XSD_NS),
        ],
    );
}

pub(crate) fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// Serves one POST to either service: reads and parses the body, finds the
/// action, checks the ticket, acts for its account and answers.
pub async fn handle(
    ctx: &HttpContext,
    service: SoapService,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let header_action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"'))
        .and_then(|v| v.rsplit('/').next())
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    let fault =
        |action: &str, f: Fault| xml_response(StatusCode::INTERNAL_SERVER_ERROR, f.render(action));
    let limit = ctx.config.http.max_soap_request_bytes;
    let bytes = match read_body(headers, body, limit).await {
        Ok(b) => b,
        Err(why) => {
            debug!(%why, "SOAP request body refused");
            return fault(
                header_action.as_deref().unwrap_or("Unknown"),
                Fault::bad_request(why),
            );
        }
    };
    let envelope = match soap_xml::parse_envelope(&bytes) {
        Ok(e) => e,
        Err(why) => {
            debug!(%why, "SOAP request not understood");
            return fault(
                header_action.as_deref().unwrap_or("Unknown"),
                Fault::bad_request(why),
            );
        }
    };
    let request = match envelope.soap_operation().ok_or("empty SOAP body") {
        Ok(r) => r,
        Err(why) => {
            return fault(
                header_action.as_deref().unwrap_or("Unknown"),
                Fault::bad_request(why),
            );
        }
    };
    // The SOAPAction header names the action; without one, the body's
    // element does (soap/README.md). Both present must agree.
    let action = header_action.unwrap_or_else(|| request.name.clone());
    if !request.name.eq_ignore_ascii_case(&action) {
        return fault(
            &action,
            Fault::bad_request(format!("SOAPAction {action} but body {}", request.name)),
        );
    }
    let Some(kind) = Action::parse(service, &action) else {
        info!(?service, %action, "unknown SOAP action");
        return fault(
            &action,
            Fault::client("UnknownAction", format!("Unknown action {action}")),
        );
    };
    let token = envelope
        .text_at(&["Header", "ABAuthHeader", "TicketToken"])
        .unwrap_or("");
    let Some(grant) = ctx.tokens.validate(token, Audience::Contacts) else {
        debug!(%action, "SOAP request without a valid contacts ticket");
        return fault(&action, Fault::auth());
    };
    let actor = match ctx
        .service
        .account_actor(&grant.handle, grant.user_id)
        .await
    {
        Ok(a) => a,
        Err(e) => return fault(&action, Fault::from_op(e, grant.handle.as_str())),
    };
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host))
        .filter(|h| !h.is_empty())
        .unwrap_or("contacts.msn.com")
        .to_owned();
    let call = Call {
        service: &ctx.service,
        tokens: &*ctx.tokens,
        actor: &actor,
        request,
        now: OffsetDateTime::now_utc(),
    };
    match call.run(kind).await {
        Ok(reply) => {
            debug!(user = %grant.handle, %action, "SOAP call answered");
            xml_response(StatusCode::OK, reply.render(&action, &host))
        }
        Err(f) => {
            debug!(user = %grant.handle, %action, code = f.code, "SOAP call refused");
            fault(&action, f)
        }
    }
}

/// The request body, at most `limit` bytes.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, String> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(format!("body larger than {limit} bytes"));
    }
    let collect = Limited::new(body, limit).collect();
    match tokio::time::timeout(BODY_READ_TIMEOUT, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(format!("body larger than {limit} bytes")),
        Ok(Err(e)) => Err(format!("body unreadable: {e}")),
        Err(_) => Err("body not received in time".into()),
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    FindAll,
    FindContactsPaged,
    ContactAdd,
    ContactDelete,
    ContactUpdate,
    GroupAdd,
    GroupUpdate,
    GroupDelete,
    GroupContactAdd,
    GroupContactDelete,
    AbAdd,
    FindMembership,
    AddMember,
    DeleteMember,
    CreateCircle,
    CreateContact,
    ManageWLConnection,
    BreakConnection,
}

impl Action {
    fn parse(service: SoapService, name: &str) -> Option<Action> {
        use Action::*;
        Some(match (service, name) {
            (SoapService::AddressBook, "ABFindAll") => FindAll,
            (SoapService::AddressBook, "ABFindContactsPaged") => FindContactsPaged,
            (SoapService::AddressBook, "ABContactAdd") => ContactAdd,
            (SoapService::AddressBook, "ABContactDelete") => ContactDelete,
            (SoapService::AddressBook, "ABContactUpdate") => ContactUpdate,
            (SoapService::AddressBook, "ABGroupAdd") => GroupAdd,
            (SoapService::AddressBook, "ABGroupUpdate") => GroupUpdate,
            (SoapService::AddressBook, "ABGroupDelete") => GroupDelete,
            (SoapService::AddressBook, "ABGroupContactAdd") => GroupContactAdd,
            (SoapService::AddressBook, "ABGroupContactDelete") => GroupContactDelete,
            (SoapService::AddressBook, "ABAdd") => AbAdd,
            (SoapService::Sharing, "FindMembership") => FindMembership,
            (SoapService::Sharing, "AddMember") => AddMember,
            (SoapService::Sharing, "DeleteMember") => DeleteMember,
            (SoapService::Sharing, "CreateCircle") => CreateCircle,
            (SoapService::AddressBook, "CreateContact") => CreateContact,
            (SoapService::AddressBook, "ManageWLConnection") => ManageWLConnection,
            (SoapService::AddressBook, "BreakConnection") => BreakConnection,
            _ => return None,
        })
    }
}

/// A successful answer: the body element's content (already rendered)
/// inside `<{action}Response xmlns=AB>`.
struct Reply {
    inner: String,
    /// Whether the answer is a (full) read, which changes the cache key.
    read: bool,
}

impl Reply {
    fn empty() -> Reply {
        Reply {
            inner: String::new(),
            read: false,
        }
    }

    /// `<{action}Result><guid>id</guid></{action}Result>`.
    fn guid(action: &str, id: impl ToString) -> Reply {
        let mut out = Out::default();
        let result = format!("{action}Result");
        out.open(&result)
            .leaf("guid", &id.to_string())
            .close(&result);
        Reply {
            inner: out.into_string(),
            read: false,
        }
    }

    fn render(&self, action: &str, host: &str) -> String {
        let mut out = Out::default();
        out.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        envelope_open(&mut out);
        out.open("soap:Header")
            .open_with("ServiceHeader", &[("xmlns", AB_NS)])
            .leaf("Version", "15.01.1408.0000")
            .leaf("CacheKey", &format!("12r1:{}", msn_core::ids::token(32)))
            .leaf("CacheKeyChanged", if self.read { "true" } else { "false" })
            .leaf("PreferredHostName", host)
            .leaf("SessionId", &Uuid::new_v4().to_string())
            .close("ServiceHeader")
            .close("soap:Header");
        out.open("soap:Body");
        let response = format!("{action}Response");
        out.open_with(&response, &[("xmlns", AB_NS)]);
        out.raw(&self.inner);
        out.close(&response)
            .close("soap:Body")
            .close("soap:Envelope");
        out.into_string()
    }
}

/// One authenticated call being served.
struct Call<'a> {
    service: &'a Service,
    /// Signs the circle ticket (`CircleResult`).
    tokens: &'a dyn TokenService,
    actor: &'a AccountActor,
    request: &'a Element,
    now: OffsetDateTime,
}

/// A date as the vectors write them (`YYYY-MM-DDThh:mm:ssZ`).
fn date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The CID of account `user_id`: the PUID's number, signed (as RST.srf's
/// `CID` credential property, in hex there).
fn cid(user_id: i64) -> i64 {
    puid(user_id) as i64
}

/// The Me contact's id: derived from the PUID, so stable without storage.
fn me_guid(user_id: i64) -> Uuid {
    Uuid::from_u128(u128::from(puid(user_id)))
}

/// The sharing roles, in the order FindMembership lists them.
const ROLES: [(&str, u8); 4] = [
    ("Allow", lists::AL),
    ("Block", lists::BL),
    ("Reverse", lists::RL),
    ("Pending", lists::PL),
];

/// `MembershipId` of `handle` (account `user_id` if it has one) in role
/// number `role`: an `xsd:int`, stable, unique per member and role.
fn membership_id(role: usize, user_id: Option<i64>, handle: &str) -> i64 {
    const SPAN: i64 = 1 << 28;
    let base = match user_id.filter(|id| (1..SPAN).contains(id)) {
        Some(id) => id,
        // No account (an e-mail contact, a deleted account): a hash of the
        // address above every account id.
        None => {
            let hash = handle.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            SPAN + (hash % SPAN as u64) as i64
        }
    };
    base * 4 + role as i64
}

/// The parts of a contact the views need, copied out of the state lock.
struct Entry {
    handle: Handle,
    network: NetworkId,
    lists: u8,
    name: String,
    guid: Option<Uuid>,
    groups: Vec<Uuid>,
}

impl Call<'_> {
    async fn run(&self, action: Action) -> Result<Reply, Fault> {
        match action {
            Action::FindAll => self.find(false).await,
            Action::FindContactsPaged => self.find(true).await,
            Action::ContactAdd => self.contact_add().await,
            Action::ContactDelete => self.contact_delete().await,
            Action::ContactUpdate => self.contact_update().await,
            Action::GroupAdd => self.group_add().await,
            Action::GroupUpdate => self.group_update().await,
            Action::GroupDelete => self.group_delete().await,
            Action::GroupContactAdd => self.group_contact(true).await,
            Action::GroupContactDelete => self.group_contact(false).await,
            // Every account has its address book from its creation on (the
            // client only asks after `ABDoesNotExist`, which msnd never
            // sends): it exists, so this is done.
            Action::AbAdd => Ok(Reply::guid("ABAdd", ZERO_GUID)),
            Action::FindMembership => self.find_membership().await,
            Action::AddMember => self.members(true).await,
            Action::DeleteMember => self.members(false).await,
            Action::CreateCircle => self.create_circle().await,
            Action::CreateContact => self.create_contact().await,
            Action::ManageWLConnection => self.manage_wl_connection().await,
            Action::BreakConnection => self.break_connection().await,
        }
    }

    fn user_id(&self) -> i64 {
        self.actor.state().account.user_id
    }

    /// The account ids of `handles` (None: no such account).
    async fn user_ids(&self, handles: &[Handle]) -> Result<HashMap<Handle, i64>, Fault> {
        let mut ids = HashMap::with_capacity(handles.len());
        for h in handles {
            if ids.contains_key(h) {
                continue;
            }
            let record = self.service.store().user(h.as_str()).await.map_err(|e| {
                warn!(error = %e, "store lookup failed");
                Fault::internal()
            })?;
            if let Some(r) = record {
                ids.insert(h.clone(), r.id);
            }
        }
        Ok(ids)
    }

    /// Copies the entries `keep` selects, with their group GUIDs.
    fn entries(&self, keep: impl Fn(&Contact) -> bool) -> Vec<Entry> {
        let st = self.actor.state();
        let account = &st.account;
        account
            .contacts
            .iter()
            .filter(|c| keep(c))
            .map(|c| Entry {
                handle: c.handle.clone(),
                network: c.network,
                lists: c.lists,
                name: c.name.to_string(),
                guid: c.guid,
                groups: c
                    .group_ids()
                    .filter(|id| *id != 0)
                    .filter_map(|id| account.group(id).map(|g| g.guid))
                    .collect(),
            })
            .collect()
    }

    fn deltas_only(&self) -> bool {
        self.request.bool_at(&["deltasOnly"]) == Some(true)
            || self.request.bool_at(&["filterOptions", "DeltasOnly"]) == Some(true)
    }

    fn full_sync_required() -> Fault {
        Fault::client(
            "FullSyncRequired",
            "Full sync required. Details: delta synchronisation is not available.",
        )
    }

    /// ABFindAll (lower-case wrappers) and ABFindContactsPaged (capitalised
    /// wrappers, `CircleResult`).
    async fn find(&self, paged: bool) -> Result<Reply, Fault> {
        if self.deltas_only() {
            return Err(Self::full_sync_required());
        }
        if paged && let Some(abid) = self.request.text_at(&["abHandle", "ABId"]) {
            // A circle's own book (the default book's id is all zeros).
            if abid.trim() != ZERO_GUID {
                return self.find_circle_book(abid).await;
            }
        }
        // Circles are WLM 2009's (ABFindContactsPaged); WLM 8.x's
        // ABFindAll never lists them.
        let circles = if paged {
            self.service
                .circles(self.actor)
                .await
                .map_err(Fault::from_circle)?
        } else {
            Vec::new()
        };
        let (user_id, owner, friendly, privacy, alert, groups) = {
            let st = self.actor.state();
            let a = &st.account;
            let groups: Vec<(Uuid, String)> = a
                .groups
                .iter()
                .filter(|g| g.id != 0)
                .map(|g| (g.guid, text::decode(&g.name)))
                .collect();
            (
                a.user_id,
                a.handle.clone(),
                a.friendly_name.clone(),
                a.privacy,
                a.add_alert,
                groups,
            )
        };
        let entries = self.entries(|c| c.in_address_book() || c.on(ListKind::Forward));
        let handles: Vec<Handle> = entries.iter().map(|e| e.handle.clone()).collect();
        let ids = self.user_ids(&handles).await?;
        let favorites: Option<Uuid> = groups.iter().find(|(_, n)| n == FAVORITES).map(|(g, _)| *g);
        let now = date(self.now);
        let w = |lower: &'static str, upper: &'static str| if paged { upper } else { lower };

        let mut out = Out::default();
        let result = if paged {
            "ABFindContactsPagedResult"
        } else {
            "ABFindAllResult"
        };
        out.open(result);
        out.open(w("groups", "Groups"));
        for (guid, name) in &groups {
            out.open("Group").leaf("groupId", &guid.to_string());
            out.open("groupInfo")
                .open("annotations")
                .open("Annotation")
                .leaf("Name", "MSN.IM.Display")
                .leaf("Value", "1")
                .close("Annotation")
                .close("annotations")
                .leaf("groupType", MESSENGER_GROUP_TYPE)
                .leaf("name", name)
                .leaf("IsNotMobileVisible", "false")
                .leaf("IsPrivate", "false")
                .leaf("IsFavorite", bool_str(Some(*guid) == favorites))
                .close("groupInfo");
            out.leaf("propertiesChanged", "")
                .leaf("fDeleted", "false")
                .leaf("lastChange", &now)
                .close("Group");
        }
        out.close(w("groups", "Groups"));
        out.open(w("contacts", "Contacts"));
        for e in &entries {
            let Some(guid) = e.guid else { continue };
            let on_fl = e.lists & lists::FL != 0;
            out.open("Contact").leaf("contactId", &guid.to_string());
            out.open("contactInfo");
            if !e.groups.is_empty() {
                out.open("groupIds");
                for g in &e.groups {
                    out.leaf("guid", &g.to_string());
                }
                out.close("groupIds");
            }
            // Mutual once the other user has the owner on their FL.
            let regular = e.lists & lists::RL != 0;
            out.leaf(
                "contactType",
                if regular { "Regular" } else { "LivePending" },
            );
            let favorite = favorites.is_some_and(|f| e.groups.contains(&f));
            contact_info_tail(
                &mut out,
                &e.name,
                e.handle.as_str(),
                e.network == NetworkId::Passport,
                ids.get(&e.handle).map_or(0, |id| cid(*id)),
                on_fl,
                favorite,
            );
            out.close("contactInfo");
            out.leaf("propertiesChanged", "")
                .leaf("fDeleted", "false")
                .leaf("lastChange", &now)
                .close("Contact");
        }
        // The Me contact: the display name and privacy settings.
        out.open("Contact")
            .leaf("contactId", &me_guid(user_id).to_string())
            .open("contactInfo")
            .open("annotations");
        let blp = match privacy {
            Privacy::AllowAll => "1",
            Privacy::BlockAll => "2",
        };
        let gtc = match alert {
            AddAlert::Ask => "1",
            AddAlert::DontAsk => "2",
        };
        for (name, value) in [
            ("MSN.IM.MBEA", "0"),
            ("MSN.IM.GTC", gtc),
            ("MSN.IM.BLP", blp),
        ] {
            out.open("Annotation")
                .leaf("Name", name)
                .leaf("Value", value)
                .close("Annotation");
        }
        out.close("annotations").leaf("contactType", "Me");
        contact_info_tail(
            &mut out,
            &friendly,
            owner.as_str(),
            true,
            cid(user_id),
            true,
            false,
        );
        out.close("contactInfo")
            .leaf("propertiesChanged", "")
            .leaf("fDeleted", "false")
            .leaf("lastChange", &now)
            .close("Contact");
        self.circle_contacts(&mut out, &circles);
        out.close(w("contacts", "Contacts"));
        if paged {
            // The user's circles, and the ticket WLM 2009 presents with
            // `USR SHA A` (always sent, as the vector has it).
            let stamp = now.trim_end_matches('Z');
            let ticket = msn_auth::circle_ticket::issue(self.tokens, cid(user_id), stamp);
            out.open("CircleResult");
            self.circle_inverse_infos(&mut out, &circles);
            out.leaf("CircleTicket", &ticket).close("CircleResult");
        }
        out.open(w("ab", "Ab"))
            .leaf("abId", ZERO_GUID)
            .open("abInfo")
            .leaf("ownerPuid", "0")
            .leaf("OwnerCID", &cid(user_id).to_string())
            .leaf("ownerEmail", owner.as_str())
            .leaf("fDefault", "true")
            .leaf("joinedNamespace", "false")
            .leaf("IsBot", "false")
            .leaf("IsParentManaged", "false")
            .leaf("AccountTierLastChanged", NEVER)
            .leaf("ProfileVersion", "0")
            .leaf("SubscribeExternalPartner", "false")
            .leaf("NotifyExternalPartner", "false")
            .leaf("AddressBookType", "Individual")
            .close("abInfo")
            .leaf("lastChange", &now)
            .leaf("DynamicItemLastChanged", NEVER)
            .leaf("createDate", NEVER)
            .leaf("propertiesChanged", "")
            .close(w("ab", "Ab"));
        out.close(result);
        Ok(Reply {
            inner: out.into_string(),
            read: true,
        })
    }

    /// ABContactAdd: the contact joins the FL (its RL owner is told, as for
    /// `ADD FL`), in the groups given, and with `EnableAllowListManagement`
    /// on the AL unless it is already on AL or BL.
    async fn contact_add(&self) -> Result<Reply, Fault> {
        let contact = self
            .request
            .at(&["contacts", "Contact"])
            .ok_or_else(|| Fault::bad_request("no contact"))?;
        let info = contact
            .child("contactInfo")
            .ok_or_else(|| Fault::bad_request("no contactInfo"))?;
        let address = info.text_at(&["passportName"]).unwrap_or("");
        let handle = parse_address(address)?;
        let messenger = info.bool_at(&["isMessengerUser"]).unwrap_or(true);
        let group_guids = guids(info.child("groupIds"))?;
        let existing = {
            let st = self.actor.state();
            st.account
                .contact(handle.as_str())
                .map(|c| (c.on(ListKind::Forward), c.guid))
        };
        if let Some((true, guid)) = existing {
            let f = Fault::client("ContactAlreadyExists", "Contact Already Exists");
            return Err(match guid {
                Some(g) => f.conflict(g),
                None => f,
            });
        }
        let record = self
            .service
            .store()
            .user(handle.as_str())
            .await
            .map_err(|_| Fault::internal())?;
        let Some(record) = record else {
            return Err(Fault::from_op(OpError::UnknownAccount, handle.as_str()));
        };
        if !messenger {
            // An address-book entry only (no list): it gets its contact id.
            if let Some((false, Some(g))) = existing {
                return Err(
                    Fault::client("ContactAlreadyExists", "Contact Already Exists").conflict(g),
                );
            }
            let guid = self
                .service
                .add_ab_contact(self.actor, &handle, &record.friendly_name)
                .await
                .map_err(|e| Fault::from_op(e, handle.as_str()))?;
            return Ok(Reply::guid("ABContactAdd", guid));
        }
        let groups = self.group_ids(&group_guids)?;
        let added = self
            .service
            .add_contact(
                self.actor,
                ListKind::Forward,
                &handle,
                &record.friendly_name,
                None,
            )
            .await
            .map_err(|e| Fault::from_op(e, handle.as_str()))?;
        for g in groups {
            self.service
                .add_to_group(self.actor, &handle, g)
                .await
                .map_err(|e| Fault::from_op(e, handle.as_str()))?;
        }
        if self
            .request
            .bool_at(&["options", "EnableAllowListManagement"])
            == Some(true)
            && self.actor.state().account.bits_of(handle.as_str()) & (lists::AL | lists::BL) == 0
        {
            self.service
                .add_contact(
                    self.actor,
                    ListKind::Allow,
                    &handle,
                    &record.friendly_name,
                    None,
                )
                .await
                .map_err(|e| Fault::from_op(e, handle.as_str()))?;
        }
        let guid = added.contact_id.ok_or_else(Fault::internal)?;
        Ok(Reply::guid("ABContactAdd", guid))
    }

    /// The handle of the address-book contact `id` (on the FL or kept).
    fn contact_by_id(&self, id: &str) -> Result<Handle, Fault> {
        let missing = || {
            Fault::client("ContactDoesNotExist", "Contact Does Not Exist").conflict(id.to_owned())
        };
        let guid = Uuid::parse_str(id.trim_matches(['{', '}'])).map_err(|_| missing())?;
        self.actor
            .state()
            .account
            .ab_contact_by_guid(guid)
            .map(|c| c.handle.clone())
            .ok_or_else(missing)
    }

    /// ABContactDelete: every listed contact leaves the FL and the address
    /// book; the first unknown id is the fault (after the others went).
    async fn contact_delete(&self) -> Result<Reply, Fault> {
        let ids: Vec<String> = contact_ids(self.request);
        if ids.is_empty() {
            return Err(Fault::bad_request("no contactId"));
        }
        let mut missing = None;
        for id in &ids {
            match self.contact_by_id(id) {
                Ok(handle) => {
                    self.service
                        .delete_ab_contact(self.actor, handle.as_str())
                        .await
                        .map_err(|e| Fault::from_op(e, handle.as_str()))?;
                }
                Err(f) => {
                    missing.get_or_insert(f);
                }
            }
        }
        match missing {
            Some(f) => Err(f),
            None => Ok(Reply::empty()),
        }
    }

    /// ABContactUpdate: the Me contact's display name and privacy
    /// annotations, a contact's `isMessengerUser` and display name; only
    /// the properties named in `propertiesChanged` are applied.
    async fn contact_update(&self) -> Result<Reply, Fault> {
        let me = me_guid(self.user_id()).to_string();
        let contacts: Vec<&Element> = self
            .request
            .child("contacts")
            .map(|c| c.children_named("Contact").collect())
            .unwrap_or_default();
        if contacts.is_empty() {
            return Err(Fault::bad_request("no contact"));
        }
        for contact in contacts {
            let info = contact.child("contactInfo");
            let changed: Vec<&str> = contact
                .text_at(&["propertiesChanged"])
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let has = |p: &str| changed.iter().any(|c| c.eq_ignore_ascii_case(p));
            let id = contact.text_at(&["contactId"]).filter(|s| !s.is_empty());
            let is_me = info.and_then(|i| i.text_at(&["contactType"])) == Some("Me")
                || id.is_some_and(|id| id.trim_matches(['{', '}']).eq_ignore_ascii_case(&me));
            if is_me {
                if has("DisplayName") {
                    let name = info.and_then(|i| i.text_at(&["displayName"])).unwrap_or("");
                    self.service
                        .set_friendly_name(self.actor, name)
                        .await
                        .map_err(|e| Fault::from_op(e, name))?;
                }
                if has("Annotation") {
                    self.me_annotations(info).await?;
                }
                continue;
            }
            let handle = self.contact_by_id(id.unwrap_or(""))?;
            let on_fl = self.actor.state().account.bits_of(handle.as_str()) & lists::FL != 0;
            if has("IsMessengerUser") {
                match info.and_then(|i| i.bool_at(&["isMessengerUser"])) {
                    Some(true) if !on_fl => {
                        let name = self
                            .actor
                            .state()
                            .account
                            .contact(handle.as_str())
                            .map(|c| c.name.to_string())
                            .unwrap_or_else(|| handle.to_string());
                        self.service
                            .add_contact(self.actor, ListKind::Forward, &handle, &name, None)
                            .await
                            .map_err(|e| Fault::from_op(e, handle.as_str()))?;
                    }
                    Some(false) if on_fl => {
                        self.service
                            .remove_contact(self.actor, ListKind::Forward, handle.as_str(), None)
                            .await
                            .map_err(|e| Fault::from_op(e, handle.as_str()))?;
                    }
                    Some(_) => {}
                    None => return Err(Fault::bad_request("isMessengerUser missing")),
                }
            }
            if has("DisplayName") {
                let name = info.and_then(|i| i.text_at(&["displayName"])).unwrap_or("");
                self.service
                    .rename_contact(self.actor, handle.as_str(), name)
                    .await
                    .map_err(|e| Fault::from_op(e, handle.as_str()))?;
            }
        }
        Ok(Reply::empty())
    }

    /// `MSN.IM.BLP` (1 = `BLP AL`, 2 = `BLP BL`) and `MSN.IM.GTC` (1 = ask,
    /// 2 = don't) on the Me contact; 0 means "not set" and changes nothing;
    /// the other annotations have no counterpart in msnd and are ignored.
    async fn me_annotations(&self, info: Option<&Element>) -> Result<(), Fault> {
        let Some(annotations) = info.and_then(|i| i.child("annotations")) else {
            return Ok(());
        };
        for a in annotations.children_named("Annotation") {
            let name = a.text_at(&["Name"]).unwrap_or("");
            let value = a.text_at(&["Value"]).unwrap_or("");
            let done = match (name, value) {
                ("MSN.IM.BLP", "1") => {
                    self.service
                        .set_privacy(self.actor, Privacy::AllowAll)
                        .await
                }
                ("MSN.IM.BLP", "2") => {
                    self.service
                        .set_privacy(self.actor, Privacy::BlockAll)
                        .await
                }
                ("MSN.IM.GTC", "1") => self.service.set_add_alert(self.actor, AddAlert::Ask).await,
                ("MSN.IM.GTC", "2") => {
                    self.service
                        .set_add_alert(self.actor, AddAlert::DontAsk)
                        .await
                }
                ("MSN.IM.BLP" | "MSN.IM.GTC", "0") => continue,
                ("MSN.IM.BLP" | "MSN.IM.GTC", _) => {
                    return Err(Fault::bad_request(format!("{name} = {value}")));
                }
                _ => continue,
            };
            match done {
                // Already so: the request's state holds.
                Ok(_) | Err(OpError::Refused(ListError::AlreadyInMode)) => {}
                Err(e) => return Err(Fault::from_op(e, name)),
            }
        }
        Ok(())
    }

    /// Group numbers of `guids` (all must exist; group 0 is not one).
    fn group_ids(&self, guids: &[Uuid]) -> Result<Vec<u32>, Fault> {
        let st = self.actor.state();
        guids
            .iter()
            .map(|g| {
                st.account
                    .group_by_guid(*g)
                    .filter(|g| g.id != 0)
                    .map(|g| g.id)
                    .ok_or_else(|| {
                        Fault::client("GroupDoesNotExist", "Group Does Not Exist").conflict(g)
                    })
            })
            .collect()
    }

    async fn group_add(&self) -> Result<Reply, Fault> {
        let name = self
            .request
            .text_at(&["groupInfo", "GroupInfo", "name"])
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Fault::bad_request("no group name"))?;
        match self
            .service
            .add_group(self.actor, &text::encode(name))
            .await
        {
            Ok((_, group)) => Ok(Reply::guid("ABGroupAdd", group.guid)),
            Err(OpError::Refused(ListError::GroupNameTaken)) => {
                let existing = self
                    .actor
                    .state()
                    .account
                    .groups
                    .iter()
                    .find(|g| text::decode(&g.name).eq_ignore_ascii_case(name))
                    .map(|g| g.guid);
                let f = Fault::client("GroupAlreadyExists", "Group Already Exists");
                Err(match existing {
                    Some(g) => f.conflict(g),
                    None => f,
                })
            }
            Err(e) => Err(Fault::from_op(e, name)),
        }
    }

    async fn group_update(&self) -> Result<Reply, Fault> {
        let groups: Vec<&Element> = self
            .request
            .child("groups")
            .map(|g| g.children_named("Group").collect())
            .unwrap_or_default();
        if groups.is_empty() {
            return Err(Fault::bad_request("no group"));
        }
        for g in groups {
            let changed = g.text_at(&["propertiesChanged"]).unwrap_or("");
            if !changed
                .split_whitespace()
                .any(|p| p.eq_ignore_ascii_case("GroupName"))
            {
                continue;
            }
            let guid = parse_guid(g.text_at(&["groupId"]).unwrap_or(""))?;
            let id = self.group_ids(&[guid])?[0];
            let name = g
                .text_at(&["groupInfo", "name"])
                .filter(|n| !n.is_empty())
                .ok_or_else(|| Fault::bad_request("no group name"))?;
            self.service
                .rename_group(self.actor, id, &text::encode(name))
                .await
                .map_err(|e| Fault::from_op(e, name))?;
        }
        Ok(Reply::empty())
    }

    async fn group_delete(&self) -> Result<Reply, Fault> {
        let guids = guids(self.request.at(&["groupFilter", "groupIds"]))?;
        if guids.is_empty() {
            return Err(Fault::bad_request("no group id"));
        }
        for id in self.group_ids(&guids)? {
            self.service
                .remove_group(self.actor, id)
                .await
                .map_err(|e| Fault::from_op(e, ""))?;
        }
        Ok(Reply::empty())
    }

    /// ABGroupContactAdd / ABGroupContactDelete: contacts into or out of a
    /// group (out of the last one: back to "no group", still on the FL).
    async fn group_contact(&self, add: bool) -> Result<Reply, Fault> {
        let guids = guids(self.request.at(&["groupFilter", "groupIds"]))?;
        let [guid] = guids.as_slice() else {
            return Err(Fault::bad_request("one group id expected"));
        };
        let group = self.group_ids(&[*guid])?[0];
        let ids = contact_ids(self.request);
        if ids.is_empty() {
            return Err(Fault::bad_request("no contactId"));
        }
        let mut first = None;
        for id in &ids {
            let handle = self.contact_by_id(id)?;
            let done = if add {
                self.service.add_to_group(self.actor, &handle, group).await
            } else {
                self.service
                    .remove_from_group(self.actor, handle.as_str(), group)
                    .await
            };
            match done {
                Ok(_) => {}
                // Adding a member again changes nothing and is no error.
                Err(OpError::Refused(ListError::AlreadyThere)) if add => {}
                Err(e) => return Err(Fault::from_op(e, handle.as_str())),
            }
            first.get_or_insert(id.trim_matches(['{', '}']).to_ascii_lowercase());
        }
        Ok(match (add, first) {
            (true, Some(id)) => Reply::guid("ABGroupContactAdd", id),
            _ => Reply::empty(),
        })
    }

    /// FindMembership: the Messenger service with the four roles, each the
    /// entries with that list bit.
    async fn find_membership(&self) -> Result<Reply, Fault> {
        if self.request.bool_at(&["deltasOnly"]) == Some(true) {
            return Err(Self::full_sync_required());
        }
        let (user_id, owner) = {
            let st = self.actor.state();
            (st.account.user_id, st.account.handle.clone())
        };
        let entries = self.entries(|c| {
            c.lists & (lists::AL | lists::BL | lists::RL | lists::PL) != 0
                && matches!(c.network, NetworkId::Passport | NetworkId::Email)
        });
        let handles: Vec<Handle> = entries.iter().map(|e| e.handle.clone()).collect();
        let ids = self.user_ids(&handles).await?;
        let now = date(self.now);
        let mut out = Out::default();
        out.open("FindMembershipResult")
            .open("Services")
            .open("Service")
            .open("Memberships");
        for (role, (role_name, bit)) in ROLES.iter().enumerate() {
            out.open("Membership")
                .leaf("MemberRole", role_name)
                .open("Members");
            for e in entries.iter().filter(|e| e.lists & bit != 0) {
                let user = ids.get(&e.handle).copied();
                let passport = e.network == NetworkId::Passport;
                out.open_with(
                    "Member",
                    &[(
                        "xsi:type",
                        if passport {
                            "PassportMember"
                        } else {
                            "EmailMember"
                        },
                    )],
                );
                out.leaf(
                    "MembershipId",
                    &membership_id(role, user, e.handle.as_str()).to_string(),
                )
                .leaf("Type", if passport { "Passport" } else { "Email" });
                // The adder's name, for people the user has not answered
                // (on none of FL, AL, BL): what the "has added you" dialog
                // shows (soap/findmembership.md).
                if *bit & (lists::RL | lists::PL) != 0
                    && e.lists & (lists::FL | lists::AL | lists::BL) == 0
                {
                    out.leaf("DisplayName", &e.name);
                }
                out.leaf("State", "Accepted");
                if !passport {
                    out.open("Annotations")
                        .open("Annotation")
                        .leaf("Name", "MSN.IM.BuddyType")
                        .leaf("Value", "32:")
                        .close("Annotation")
                        .close("Annotations");
                }
                out.leaf("Deleted", "false")
                    .leaf("LastChanged", &now)
                    .leaf("JoinedDate", &now)
                    .leaf("ExpirationDate", NEVER)
                    .leaf("Changes", "");
                if passport {
                    out.leaf("PassportName", e.handle.as_str())
                        .leaf("IsPassportNameHidden", "false")
                        .leaf("PassportId", "0")
                        .leaf("CID", &user.map_or(0, cid).to_string())
                        .leaf("PassportChanges", "")
                        .leaf("LookedupByCID", "false");
                } else {
                    out.leaf("Email", e.handle.as_str());
                }
                out.close("Member");
            }
            out.close("Members")
                .leaf("MembershipIsComplete", "true")
                .close("Membership");
        }
        out.close("Memberships")
            .open("Info")
            .open("Handle")
            .leaf("Id", "1")
            .leaf("Type", "Messenger")
            .leaf("ForeignId", "")
            .close("Handle")
            .leaf("InverseRequired", "false")
            .leaf("AuthorizationCriteria", "Everyone")
            .leaf("IsBot", "false")
            .close("Info")
            .leaf("Changes", "")
            .leaf("LastChange", &now)
            .leaf("Deleted", "false")
            .close("Service")
            .close("Services");
        out.open("OwnerNamespace")
            .open("Info")
            .open("Handle")
            .leaf("Id", ZERO_GUID)
            .leaf("IsPassportNameHidden", "false")
            .leaf("CID", "0")
            .close("Handle")
            .leaf("CreatorPuid", "0")
            .leaf("CreatorCID", &cid(user_id).to_string())
            .leaf("CreatorPassportName", owner.as_str())
            .open("CircleAttributes")
            .leaf("IsPresenceEnabled", "false")
            .leaf("Domain", "WindowsLive")
            .close("CircleAttributes")
            .leaf("MessengerApplicationServiceCreated", "false")
            .close("Info")
            .leaf("Changes", "")
            .leaf("CreateDate", NEVER)
            .leaf("LastChange", &now)
            .close("OwnerNamespace");
        out.close("FindMembershipResult");
        Ok(Reply {
            inner: out.into_string(),
            read: true,
        })
    }

    /// AddMember / DeleteMember on the Messenger service. Allow and Block
    /// exclude each other here (the new role wins), and either ends a
    /// pending request; Reverse and Pending are the server's own lists:
    /// adding to them changes nothing, and of them only Pending can be
    /// left (declining, or settling, a request).
    async fn members(&self, add: bool) -> Result<Reply, Fault> {
        let service_type = self
            .request
            .text_at(&["serviceHandle", "Type"])
            .unwrap_or("Messenger");
        if service_type != "Messenger" {
            // msnp-sharp shares its storage profile (`Profile`); msnd
            // keeps no such service, so there is nothing to share.
            debug!(
                service_type,
                "membership edit of a service msnd does not keep"
            );
            return Ok(Reply::empty());
        }
        let memberships: Vec<&Element> = self
            .request
            .child("memberships")
            .map(|m| m.children_named("Membership").collect())
            .unwrap_or_default();
        if memberships.is_empty() {
            return Err(Fault::bad_request("no membership"));
        }
        for m in memberships {
            let role_name = m.text_at(&["MemberRole"]).unwrap_or("");
            let role = ROLES
                .iter()
                .position(|(r, _)| *r == role_name)
                .ok_or_else(|| Fault::bad_request(format!("role {role_name}")))?;
            let members: Vec<&Element> = m
                .child("Members")
                .map(|ms| ms.children_named("Member").collect())
                .unwrap_or_default();
            for member in members {
                let handle = self.member_handle(member, role).await?;
                if add {
                    self.add_member(role, &handle).await?;
                } else {
                    self.delete_member(role, &handle).await?;
                }
            }
        }
        Ok(Reply::empty())
    }

    /// The member a request names: by `PassportName` (or `Email`), else by
    /// the `MembershipId` FindMembership gave it in this role.
    async fn member_handle(&self, member: &Element, role: usize) -> Result<Handle, Fault> {
        let no_user = || Fault::client("UserDoesNotExist", "User does not exist");
        let address = member
            .text_at(&["PassportName"])
            .or_else(|| member.text_at(&["Email"]))
            .filter(|a| !a.is_empty());
        if let Some(address) = address {
            return Handle::parse(address).map_err(|_| no_user());
        }
        let id: i64 = member
            .text_at(&["MembershipId"])
            .and_then(|s| s.parse().ok())
            .ok_or_else(no_user)?;
        let gone = || Fault::client("MemberDoesNotExist", "Member does not exist");
        if id.rem_euclid(4) as usize != role {
            return Err(gone());
        }
        let bit = ROLES[role].1;
        let candidates: Vec<Handle> = self
            .entries(|c| c.lists & bit != 0)
            .into_iter()
            .map(|e| e.handle)
            .collect();
        let ids = self.user_ids(&candidates).await?;
        candidates
            .into_iter()
            .find(|h| membership_id(role, ids.get(h).copied(), h.as_str()) == id)
            .ok_or_else(gone)
    }

    async fn add_member(&self, role: usize, handle: &Handle) -> Result<(), Fault> {
        let bits = self.actor.state().account.bits_of(handle.as_str());
        let (list, opposite) = match ROLES[role].1 {
            lists::AL => (ListKind::Allow, ListKind::Block),
            lists::BL => (ListKind::Block, ListKind::Allow),
            // The server's own lists: nothing a client can add.
            _ => return Ok(()),
        };
        let map = |e| match e {
            OpError::UnknownAccount => Fault::client("UserDoesNotExist", "User does not exist"),
            e => Fault::from_op(e, handle.as_str()),
        };
        // Unblocking leaves BL first (on both, a handle counts as
        // blocked); blocking joins BL first, so it is never visible in
        // between.
        if list == ListKind::Allow && bits & lists::BL != 0 {
            self.service
                .remove_contact(self.actor, ListKind::Block, handle.as_str(), None)
                .await
                .map_err(map)?;
        }
        if bits & list.bit() == 0 {
            let name = self
                .actor
                .state()
                .account
                .contact(handle.as_str())
                .map_or_else(|| handle.to_string(), |c| c.name.to_string());
            self.service
                .add_contact(self.actor, list, handle, &name, None)
                .await
                .map_err(map)?;
        } else if bits & lists::PL != 0 {
            // Already in the role: the pending request is settled anyway.
            self.service
                .remove_contact(self.actor, ListKind::Pending, handle.as_str(), None)
                .await
                .map_err(map)?;
        }
        if list == ListKind::Block && bits & opposite.bit() != 0 {
            self.service
                .remove_contact(self.actor, opposite, handle.as_str(), None)
                .await
                .map_err(map)?;
        }
        Ok(())
    }

    async fn delete_member(&self, role: usize, handle: &Handle) -> Result<(), Fault> {
        let list = match ROLES[role].1 {
            lists::AL => ListKind::Allow,
            lists::BL => ListKind::Block,
            lists::PL => ListKind::Pending,
            // The reverse list is the other user's FL: theirs to change.
            _ => {
                return Err(Fault::client(
                    "BadArgument",
                    "The Reverse role follows the other user's list",
                ));
            }
        };
        if self.actor.state().account.bits_of(handle.as_str()) & list.bit() == 0 {
            // WLM answers a "has added you" prompt with AddMember Allow (or
            // Block) and then DeleteMember Pending; the AddMember already
            // dropped the Pending entry (addmember.md), so the second call
            // finds nothing to do, and a fault would show the user an
            // error for an answer that worked (transcripts/msnp15-sso-login.txt).
            if list == ListKind::Pending
                && self.actor.state().account.bits_of(handle.as_str()) & (lists::AL | lists::BL)
                    != 0
            {
                return Ok(());
            }
            let exists = self
                .service
                .store()
                .user_exists(handle.as_str())
                .await
                .map_err(|_| Fault::internal())?;
            return Err(if exists {
                Fault::client("MemberDoesNotExist", "Member does not exist")
            } else {
                Fault::client("UserDoesNotExist", "User does not exist")
            });
        }
        self.service
            .remove_contact(self.actor, list, handle.as_str(), None)
            .await
            .map_err(|e| Fault::from_op(e, handle.as_str()))?;
        Ok(())
    }
}

/// `contactInfo` from `quickName` on, in the schema's order.
fn contact_info_tail(
    out: &mut Out,
    name: &str,
    handle: &str,
    passport: bool,
    cid: i64,
    messenger: bool,
    favorite: bool,
) {
    out.leaf("quickName", name);
    if passport {
        out.leaf("passportName", handle);
    }
    out.leaf("displayName", name)
        .leaf("puid", "0")
        .leaf("CID", &cid.to_string())
        .leaf("isMobileIMEnabled", "false")
        .leaf("isMessengerUser", bool_str(messenger))
        .leaf("isFavorite", bool_str(favorite))
        .leaf("isSmtp", bool_str(!passport))
        .leaf("hasSpace", "false")
        .leaf("spotWatchState", "NoDevice")
        .leaf("birthdate", NEVER)
        .leaf("primaryEmailType", "ContactEmailPersonal")
        .leaf("PrimaryLocation", "ContactLocationPersonal")
        .leaf("PrimaryPhone", "ContactPhonePersonal")
        .leaf("IsPrivate", "false")
        .leaf("Gender", "Unspecified")
        .leaf("TimeZone", "None")
        .leaf("IsPassportNameHidden", "false")
        .leaf("IsNotMobileVisible", "false");
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// `contacts/Contact/contactId` values.
fn contact_ids(request: &Element) -> Vec<String> {
    request
        .child("contacts")
        .map(|c| {
            c.children_named("Contact")
                .filter_map(|c| c.text_at(&["contactId"]))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_guid(s: &str) -> Result<Uuid, Fault> {
    Uuid::parse_str(s.trim().trim_matches(['{', '}']))
        .map_err(|_| Fault::client("GroupDoesNotExist", "Group Does Not Exist").conflict(s))
}

/// The `guid` children of a `groupIds` element.
fn guids(parent: Option<&Element>) -> Result<Vec<Uuid>, Fault> {
    parent
        .map(|p| {
            p.children_named("guid")
                .map(|g| parse_guid(g.text.trim()))
                .collect()
        })
        .unwrap_or(Ok(Vec::new()))
}

/// A Passport address to add (soap/abcontactadd.md faults).
fn parse_address(address: &str) -> Result<Handle, Fault> {
    let Some((_, domain)) = address.split_once('@') else {
        return Err(Fault::client(
            "BadEmailArgument",
            "Malformed email argument: missing '@'",
        ));
    };
    if !domain.contains('.') {
        return Err(Fault::client(
            "BadEmailArgument",
            "Malformed email argument: missing '.'",
        ));
    }
    Handle::parse(address)
        .map_err(|_| Fault::client("BadEmailArgument", "Malformed email argument"))
}
