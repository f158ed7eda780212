//! Replays the conformance transcripts (`tests/transcripts/`, copied from the
//! protocol reference) against a real server.
//!
//! File format (protocol README, "Transcript format"): `# >>> connection ID`
//! switches connection, `C:` lines are sent, `S:` lines must arrive, payload
//! lines follow payload commands. Values named by `# VAR` comments may
//! differ: on the server line after the comment, the tokens whose value the
//! comment spells out or whose kind it names (see [`var_allows`]; nothing
//! else on that line); anywhere, the distinctive values (four characters or
//! more, with a digit) that any VAR comment spells out. GUIDs and `SYN`
//! timestamps always may. The replayer then learns the server's value and
//! substitutes it wherever the transcript uses the same value later
//! (cookies, session ids, addresses), so a value must be used consistently. Client lines that
//! depend on server values are recomputed: MD5 login hashes from the salt,
//! `QRY` answers from the challenge. `CHL` is asynchronous and may arrive
//! earlier than the transcript shows it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use md5::{Digest, Md5};
use msn_core::challenge;
use msn_wire::Frame;
use msn_wire::dialect::ChallengeKind;

use super::Client;

/// One line of a transcript.
#[derive(Clone, Debug)]
pub enum Step {
    Switch {
        conn: String,
        description: String,
    },
    Comment(String),
    Client {
        line: String,
        payload: Option<Vec<u8>>,
    },
    Server {
        line: String,
        payload: Option<Vec<u8>>,
    },
}

const CLIENT_PAYLOAD: &[&str] = &[
    "MSG", "QRY", "SDC", "PAG", "UUX", "ADL", "RML", "FQY", "UUN", "UUM",
];
const SERVER_PAYLOAD: &[&str] = &[
    "MSG", "NOT", "IPG", "UBX", "GCF", "ADL", "RML", "FQY", "UBN", "UBM",
];

/// Parses a transcript file.
pub fn parse(text: &str) -> Vec<Step> {
    let lines: Vec<&str> = text.lines().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if let Some(rest) = line.strip_prefix("# >>> connection ") {
            let (conn, description) = rest.split_once(':').unwrap_or((rest, ""));
            steps.push(Step::Switch {
                conn: conn.trim().to_owned(),
                description: description.trim().to_owned(),
            });
        } else if let Some(c) = line.strip_prefix('#') {
            steps.push(Step::Comment(c.trim().to_owned()));
        } else if let Some(body) = line
            .strip_prefix("C: ")
            .or_else(|| line.strip_prefix("S: "))
        {
            let client = line.starts_with("C: ");
            let tokens: Vec<&str> = body.split(' ').collect();
            let set = if client {
                CLIENT_PAYLOAD
            } else {
                SERVER_PAYLOAD
            };
            let len = tokens
                .last()
                .filter(|_| tokens.len() > 1 && set.contains(&tokens[0]))
                .and_then(|t| t.parse::<usize>().ok())
                .unwrap_or(0);
            let payload = if len > 0 {
                let mut joined = String::new();
                let mut first = true;
                while joined.len() < len {
                    assert!(
                        i < lines.len(),
                        "transcript payload of {body:?} runs past the end"
                    );
                    if !first {
                        joined.push_str("\r\n");
                    }
                    joined.push_str(lines[i]);
                    first = false;
                    i += 1;
                }
                assert_eq!(joined.len(), len, "payload length of {body:?}");
                Some(joined.into_bytes())
            } else if set.contains(&tokens[0]) && tokens.last() == Some(&"0") {
                Some(Vec::new())
            } else {
                None
            };
            let line = body.to_owned();
            steps.push(if client {
                Step::Client { line, payload }
            } else {
                Step::Server { line, payload }
            });
        } else if !line.trim().is_empty() {
            panic!("unexpected transcript line {line:?}");
        }
    }
    steps
}

/// Tokens that are fixed protocol words even when a line is variable.
const KEYWORDS: &[&str] = &[
    "MD5", "TWN", "CKI", "NS", "SB", "OK", "S", "I", "RINGING", "CVR0",
];

/// Replays one transcript; scenario code runs it in segments
/// ([`Replay::run_until`]) and acts between them (other users signing in…).
pub struct Replay {
    steps: Vec<Step>,
    pos: usize,
    conns: HashMap<String, Client>,
    current: String,
    /// Where a connection named in the transcript really goes.
    targets: HashMap<String, SocketAddr>,
    /// Transcript value → value the server chose.
    subst: HashMap<String, String>,
    /// Values that VAR comments name anywhere in the file.
    var_tokens: HashSet<String>,
    /// The next server line is covered by a VAR comment: its text (with
    /// the comment lines that follow it).
    var_next: Option<String>,
    /// The previous VAR comment (for "VAR: as above").
    var_prev: String,
    /// Account passwords (for MD5 login hashes).
    passwords: HashMap<String, String>,
    /// Per connection: the handle of `USR … MD5 I`.
    md5_handle: HashMap<String, String>,
    /// Transcript salts and challenges, as seen in server lines.
    salts: Vec<String>,
    challenges: Vec<String>,
    /// The `MBI_KEY_OLD` proof key of the tickets the scenario substitutes
    /// (from its own RST.srf call), and the nonces the server really sent.
    sso_key: Option<Vec<u8>>,
    nonces: HashMap<String, String>,
    /// `CHL` lines that arrived before the transcript expects them.
    early: HashMap<String, Vec<Frame>>,
}

impl Replay {
    pub fn new(text: &str) -> Replay {
        let steps = parse(text);
        let mut var_tokens = HashSet::new();
        let protocol_tokens: HashSet<String> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Client { line, .. } | Step::Server { line, .. } => Some(line),
                _ => None,
            })
            .flat_map(|l| l.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        // A VAR comment may continue over the following comment lines.
        let mut blocks: Vec<String> = Vec::new();
        let mut in_var = false;
        for step in &steps {
            match step {
                Step::Comment(c) if c.starts_with("VAR") => {
                    blocks.push(c.clone());
                    in_var = true;
                }
                Step::Comment(c) if in_var => blocks.last_mut().unwrap().push_str(&format!(" {c}")),
                _ => in_var = false,
            }
        }
        for c in &blocks {
            {
                for word in
                    c.split(|ch: char| ch.is_whitespace() || ch == ',' || ch == '(' || ch == ')')
                {
                    let word = word.trim_end_matches(['.', ':', ';']);
                    if word.len() > 3
                        && protocol_tokens.contains(word)
                        && word.chars().any(|c| c.is_ascii_digit())
                    {
                        var_tokens.insert(word.to_owned());
                    }
                }
            }
        }
        Replay {
            steps,
            pos: 0,
            conns: HashMap::new(),
            current: String::new(),
            targets: HashMap::new(),
            subst: HashMap::new(),
            var_tokens,
            var_next: None,
            var_prev: String::new(),
            passwords: HashMap::new(),
            md5_handle: HashMap::new(),
            salts: Vec::new(),
            challenges: Vec::new(),
            sso_key: None,
            nonces: HashMap::new(),
            early: HashMap::new(),
        }
    }

    /// Maps a transcript address (`192.0.2.10:1863`) to a real one; lines
    /// carrying it must then show the real address exactly.
    pub fn address(&mut self, transcript: &str, real: SocketAddr) -> &mut Self {
        self.targets.insert(transcript.to_owned(), real);
        self.subst.insert(transcript.to_owned(), real.to_string());
        self
    }

    pub fn password(&mut self, handle: &str, password: &str) -> &mut Self {
        self.passwords
            .insert(handle.to_owned(), password.to_owned());
        self
    }

    /// The proof key of the SSO ticket substituted for the transcript's:
    /// `USR … SSO S <ticket> <proof>` lines get a proof over the nonce the
    /// server really sent.
    pub fn sso_key(&mut self, key: Vec<u8>) -> &mut Self {
        self.sso_key = Some(key);
        self
    }

    /// Replaces a transcript value by a real one (e.g. a Passport ticket).
    pub fn substitute(&mut self, transcript: &str, real: &str) -> &mut Self {
        self.subst.insert(transcript.to_owned(), real.to_owned());
        self
    }

    /// Hands an already signed-in connection to the replay.
    pub fn attach(&mut self, conn: &str, client: Client) -> &mut Self {
        self.conns.insert(conn.to_owned(), client);
        self
    }

    /// Lets go of a connection the scenario closes itself (a user signing
    /// out between segments).
    pub fn detach(&mut self, conn: &str) -> Client {
        self.conns
            .remove(conn)
            .unwrap_or_else(|| panic!("no connection {conn}"))
    }

    /// Covers the next server line as a VAR comment with `text` would, for
    /// a line the transcript describes by reference to another file ("as in
    /// msnp15-sso-login.txt") instead of repeating the comment.
    pub fn var_next(&mut self, text: &str) -> &mut Self {
        self.var_next = Some(text.to_owned());
        self
    }

    /// Takes a connection back (e.g. to act on it between segments).
    pub fn client(&mut self, conn: &str) -> &mut Client {
        self.conns
            .get_mut(conn)
            .unwrap_or_else(|| panic!("no connection {conn}"))
    }

    /// The payload of the next protocol line (e.g. an alert the scenario
    /// must make the server send).
    pub fn upcoming_payload(&self) -> Option<Vec<u8>> {
        self.steps[self.pos..].iter().find_map(|s| match s {
            Step::Client { payload, .. } | Step::Server { payload, .. } => Some(payload.clone()),
            _ => None,
        })?
    }

    /// The real value the server chose for a transcript value.
    pub fn learned(&self, transcript: &str) -> Option<&str> {
        self.subst.get(transcript).map(String::as_str)
    }

    /// Runs every step before the first protocol line starting with
    /// `marker` (`"S: …"` or `"C: …"`).
    pub async fn run_until(&mut self, marker: &str) {
        let (side, text) = marker.split_at(3);
        let stop = self.steps[self.pos..].iter().position(|s| match s {
            Step::Client { line, .. } => side == "C: " && line.starts_with(text),
            Step::Server { line, .. } => side == "S: " && line.starts_with(text),
            _ => false,
        });
        let stop = self.pos + stop.unwrap_or_else(|| panic!("marker {marker:?} not found"));
        while self.pos < stop {
            self.step().await;
        }
    }

    /// Runs the rest of the transcript, then checks that no connection got
    /// lines the transcript does not show.
    pub async fn run_to_end(&mut self) {
        while self.pos < self.steps.len() {
            self.step().await;
        }
        for (name, client) in &mut self.conns {
            if let Some(extra) = client.try_recv(std::time::Duration::from_millis(200)).await {
                panic!("[{name}] unexpected extra line {:?}", extra.line());
            }
        }
    }

    /// Replaces learned values: whole tokens, or the parts of tokens such as
    /// `C=<guid>` and comma-separated group lists.
    fn substitute_line(&self, line: &str) -> String {
        line.split(' ')
            .map(|t| match self.subst.get(t) {
                Some(real) => real.clone(),
                None => split_parts(t)
                    .into_iter()
                    .map(|(part, sep)| {
                        format!("{}{sep}", self.subst.get(part).map_or(part, String::as_str))
                    })
                    .collect(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    async fn conn(&mut self) -> &mut Client {
        if !self.conns.contains_key(&self.current) {
            panic!("connection {} is not open", self.current);
        }
        self.conns.get_mut(&self.current).unwrap()
    }

    async fn step(&mut self) {
        let step = self.steps[self.pos].clone();
        self.pos += 1;
        // MSND_REPLAY_TRACE=1 shows where a replay stops.
        if std::env::var_os("MSND_REPLAY_TRACE").is_some() {
            eprintln!("[{}] {step:?}", self.current);
        }
        match step {
            Step::Switch { conn, description } => {
                self.current = conn.clone();
                if !self.conns.contains_key(&conn) {
                    let addr = description.split(' ').find_map(|w| {
                        self.targets
                            .get(w)
                            .copied()
                            .or_else(|| self.subst.get(w).and_then(|real| real.parse().ok()))
                    });
                    if let Some(addr) = addr {
                        let mut client = Client::connect(addr).await;
                        client.label = conn.clone();
                        self.conns.insert(conn, client);
                    }
                }
            }
            Step::Comment(c) => {
                if mentions_var(&c) {
                    let mut text = c.clone();
                    if c.contains("as above") {
                        text = format!("{} {c}", self.var_prev);
                    }
                    self.var_next = Some(text);
                    return;
                }
                if let Some(text) = &mut self.var_next {
                    text.push(' ');
                    text.push_str(&c);
                }
                if c.contains("The client closes this connection") {
                    self.conns.remove(&self.current);
                } else if c.starts_with("The server closes")
                    || c.starts_with("Last participant gone")
                {
                    if let Some(client) = self.conns.get_mut(&self.current) {
                        let rest = client.expect_eof().await;
                        assert!(
                            rest.is_empty(),
                            "[{}] lines before close: {rest:?}",
                            self.current
                        );
                    }
                    self.conns.remove(&self.current);
                }
            }
            Step::Client { line, payload } => {
                // A VAR comment before a request covers the reply to it
                // (`XFR t SB` in msnp15-sso-login.txt: "VAR: address,
                // cookie"): it stays for the next server line.
                self.client_step(&line, payload).await;
            }
            Step::Server { line, payload } => {
                self.server_step(&line, payload).await;
                if let Some(text) = self.var_next.take() {
                    self.var_prev = text;
                }
            }
        }
    }

    async fn client_step(&mut self, line: &str, payload: Option<Vec<u8>>) {
        let mut line = self.substitute_line(line);
        let tokens: Vec<String> = line.split(' ').map(str::to_owned).collect();
        let conn = self.current.clone();
        // USR t MD5 I handle: remember whose password the hash needs.
        if tokens.len() == 5 && tokens[0] == "USR" && tokens[2] == "MD5" && tokens[3] == "I" {
            self.md5_handle.insert(conn.clone(), tokens[4].clone());
        }
        // USR t MD5 S hash: recompute from the salt the server chose.
        if tokens.len() == 5 && tokens[0] == "USR" && tokens[2] == "MD5" && tokens[3] == "S" {
            let handle = &self.md5_handle[&conn];
            let password = &self.passwords[handle];
            let salt = self
                .salts
                .iter()
                .find(|s| hex::encode(Md5::digest(format!("{s}{password}"))) == tokens[4])
                .unwrap_or_else(|| panic!("no transcript salt gives {}", tokens[4]));
            let real = self
                .subst
                .get(salt)
                .cloned()
                .unwrap_or_else(|| salt.clone());
            let hash = hex::encode(Md5::digest(format!("{real}{password}")));
            line = format!("{} {} MD5 S {hash}", tokens[0], tokens[1]);
        }
        // USR t SSO S ticket proof [guid]: prove the key over the real nonce.
        if tokens.len() >= 6 && tokens[0] == "USR" && tokens[2] == "SSO" && tokens[3] == "S" {
            let key = self
                .sso_key
                .as_ref()
                .expect("Replay::sso_key for an SSO login");
            let nonce = &self.nonces[&conn];
            let mut real = tokens.clone();
            real[5] = super::wlm::proof(key, nonce);
            line = real.join(" ");
        }
        let mut payload = payload;
        // QRY t id 32: answer the challenge the server really sent (or the
        // one the transcript answers, if it answers a stale one on purpose).
        if tokens[0] == "QRY"
            && let Some(p) = &payload
        {
            let id = &tokens[2];
            let kind = if challenge::key_for(ChallengeKind::Md5, id).is_some() {
                ChallengeKind::Md5
            } else {
                ChallengeKind::ProductKey
            };
            let answer_for = |c: &str| challenge::expected_answer(kind, id, c).unwrap();
            let given = String::from_utf8(p.clone()).unwrap();
            let chl = self
                .challenges
                .iter()
                .find(|c| answer_for(c) == given)
                .unwrap_or_else(|| panic!("no transcript challenge is answered by {given}"));
            let real = self.subst.get(chl).cloned().unwrap_or_else(|| chl.clone());
            payload = Some(answer_for(&real).into_bytes());
        }
        let client = self.conn().await;
        match payload {
            Some(p) => {
                let head = line.rsplit_once(' ').unwrap().0.to_owned();
                client.send_payload(&head, &p).await;
            }
            None => client.send(&line).await,
        }
    }

    async fn next_frame(&mut self, expected_command: &str) -> Frame {
        let conn = self.current.clone();
        if let Some(early) = self.early.get_mut(&conn)
            && let Some(i) = early.iter().position(|f| f.command() == expected_command)
        {
            return early.remove(i);
        }
        loop {
            let frame = self.conn().await.recv().await;
            if frame.command() == "CHL" && expected_command != "CHL" {
                self.early.entry(conn.clone()).or_default().push(frame);
                continue;
            }
            return frame;
        }
    }

    async fn server_step(&mut self, expected: &str, payload: Option<Vec<u8>>) {
        let exp_tokens: Vec<&str> = expected.split(' ').collect();
        let frame = self.next_frame(exp_tokens[0]).await;
        let actual = frame.line().to_owned();
        let act_tokens: Vec<&str> = actual.split(' ').collect();
        let substituted = self.substitute_line(expected);
        let current = self.current.clone();
        let context = || format!("[{current}] expected {expected:?} got {actual:?}");
        if substituted != actual {
            let var = self.var_next.clone();
            let differing = self
                .compare_tokens(var.as_deref(), expected, &actual, payload.is_some())
                .unwrap_or_else(|e| panic!("{}: {e}", context()));
            let payload_len_pos = payload.as_ref().map(|_| exp_tokens.len() - 1);
            for i in differing {
                if Some(i) != payload_len_pos {
                    self.learn(exp_tokens[i], act_tokens[i], &context());
                }
            }
        }
        // Remember salts and challenges for recomputing client answers.
        if exp_tokens[0] == "USR"
            && exp_tokens.get(2) == Some(&"MD5")
            && exp_tokens.get(3) == Some(&"S")
        {
            self.salts.push(exp_tokens[4].to_owned());
            self.subst
                .insert(exp_tokens[4].to_owned(), act_tokens[4].to_owned());
        }
        if exp_tokens[0] == "USR" && exp_tokens[2..].starts_with(&["SSO", "S", "MBI_KEY_OLD"]) {
            self.nonces
                .insert(current.clone(), act_tokens[5].to_owned());
        }
        if exp_tokens[0] == "CHL" {
            self.challenges.push(exp_tokens[2].to_owned());
            self.subst
                .insert(exp_tokens[2].to_owned(), act_tokens[2].to_owned());
        }
        match (payload, frame.payload()) {
            (None, None) => {}
            (Some(want), Some(got)) => self.compare_payload(&want, got, &context()),
            (want, got) => panic!("{}: payload expected {want:?} got {got:?}", context()),
        }
    }

    /// Compares a server line with the transcript's, token by token. `var`
    /// is the VAR comment covering the line, if any. Returns the positions
    /// whose values differ but may (values to learn), or which token may not.
    pub fn compare_tokens(
        &self,
        var: Option<&str>,
        expected: &str,
        actual: &str,
        has_payload: bool,
    ) -> Result<Vec<usize>, String> {
        let exp_tokens: Vec<&str> = expected.split(' ').collect();
        let act_tokens: Vec<&str> = actual.split(' ').collect();
        if exp_tokens.len() != act_tokens.len() {
            return Err(format!(
                "{} tokens expected, {} arrived",
                exp_tokens.len(),
                act_tokens.len()
            ));
        }
        let payload_len_pos = has_payload.then(|| exp_tokens.len() - 1);
        let mut differing = Vec::new();
        for (i, (e, a)) in exp_tokens.iter().zip(&act_tokens).enumerate() {
            let e_sub = self.subst.get(*e).map_or(*e, String::as_str);
            if e_sub == *a {
                continue;
            }
            // A challenge is always the server's choice.
            let variable = self.var_tokens.contains(*e)
                || (exp_tokens[0] == "CHL" && i == 2)
                || inherently_variable(e)
                || var.is_some_and(|c| {
                    // Token 1 is a TrID, except RNG's session id.
                    (i >= 2 || (i == 1 && exp_tokens[0] == "RNG"))
                        && !KEYWORDS.contains(e)
                        && var_allows(c, e)
                })
                || (Some(i) == payload_len_pos && var.is_some());
            if !variable {
                return Err(format!("token {i} ({e:?}) differs: {a:?}"));
            }
            differing.push(i);
        }
        Ok(differing)
    }

    /// Records that transcript value `e` is `a` on this server, also for the
    /// parts of `C=<guid>`-like and comma-separated tokens.
    fn learn(&mut self, e: &str, a: &str, context: &str) {
        if let Some(prev) = self.subst.get(e) {
            assert_eq!(prev, a, "{context}: {e} was already learned as {prev}");
        }
        self.subst.insert(e.to_owned(), a.to_owned());
        let (pe, pa) = (split_parts(e), split_parts(a));
        if pe.len() > 1 && pe.len() == pa.len() {
            for ((x, sx), (y, sy)) in pe.into_iter().zip(pa) {
                assert_eq!(sx, sy, "{context}: shape of {e} vs {a}");
                if x != y {
                    if let Some(prev) = self.subst.get(x) {
                        assert_eq!(prev, y, "{context}: {x} was already learned as {prev}");
                    }
                    self.subst.insert(x.to_owned(), y.to_owned());
                }
            }
        }
    }

    /// Payloads match byte for byte, or, when VAR-covered, line by line with
    /// `Name: value` headers allowed to differ in value.
    fn compare_payload(&self, want: &[u8], got: &[u8], context: &str) {
        if want == got {
            return;
        }
        assert!(
            self.var_next.is_some(),
            "{context}: payload differs\n--- expected\n{}\n--- got\n{}",
            String::from_utf8_lossy(want),
            String::from_utf8_lossy(got)
        );
        let want = String::from_utf8_lossy(want);
        let got = String::from_utf8_lossy(got);
        let w: Vec<&str> = want.split("\r\n").collect();
        let g: Vec<&str> = got.split("\r\n").collect();
        assert_eq!(
            w.len(),
            g.len(),
            "{context}: payload lines differ\n{want}\n---\n{got}"
        );
        for (a, b) in w.iter().zip(&g) {
            if a == b {
                continue;
            }
            let name_a = a.split_once(':').map(|x| x.0);
            let name_b = b.split_once(':').map(|x| x.0);
            assert!(
                name_a.is_some() && name_a == name_b,
                "{context}: payload line {a:?} vs {b:?}"
            );
        }
    }
}

/// Splits a token at `=` and `,` into (part, separator-after) pairs.
fn split_parts(token: &str) -> Vec<(&str, &str)> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, ch) in token.char_indices() {
        if ch == '=' || ch == ',' {
            parts.push((&token[start..i], &token[i..i + 1]));
            start = i + 1;
        }
    }
    parts.push((&token[start..], ""));
    parts
}

/// Values the server always chooses itself: GUIDs (contact and group ids)
/// and `SYN` timestamps, alone or inside `C=…`/comma lists.
fn inherently_variable(token: &str) -> bool {
    fn guid(s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() == 5
            && [8, 4, 4, 4, 12]
                .iter()
                .zip(&parts)
                .all(|(n, p)| p.len() == *n)
            && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
            && s != "00000000-0000-0000-0000-000000000000"
    }
    fn timestamp(s: &str) -> bool {
        s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T' && s.contains(':')
    }
    let parts = split_parts(token);
    parts.iter().any(|(p, _)| guid(p) || timestamp(p))
        && parts
            .iter()
            .all(|(p, _)| guid(p) || timestamp(p) || p.len() < 3 || *p == "C")
}

/// Whether a VAR comment covers transcript token `token` of the line after
/// it: the comment spells the value out ("(here 2)", "about 50") or names
/// its kind (an address, a URL, versions, a salt, a cookie, the Passport
/// parameter string).
pub fn var_allows(comment: &str, token: &str) -> bool {
    let words: Vec<&str> = comment
        .split(|ch: char| ch.is_whitespace() || ch == ',' || ch == '(' || ch == ')')
        .map(|w| w.trim_end_matches(['.', ':', ';']))
        .collect();
    if words.contains(&token) {
        return true;
    }
    let lower = comment.to_ascii_lowercase();
    let names = |kind: &str| lower.contains(kind);
    let numeric_dotted = |min_dots: usize| {
        token.chars().all(|c| c.is_ascii_digit() || c == '.')
            && token.matches('.').count() >= min_dots
            && !token.starts_with('.')
    };
    (names("address")
        && token.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !port.is_empty() && port.chars().all(|c| c.is_ascii_digit())
        }))
        || (names("url") && (token.contains("://") || token.starts_with('/')))
        || (names("version") && numeric_dotted(2))
        || ((names("salt") || names("cookie")) && numeric_dotted(1))
        || (names("parameter string") && token.contains('='))
        || (names("nonce") && token.len() >= 32)
        || (names("session id") && token.chars().all(|c| c.is_ascii_digit()))
}

/// Whether a comment declares variable values ("VAR: …", "(VAR)", …).
fn mentions_var(comment: &str) -> bool {
    comment
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "VAR")
}
