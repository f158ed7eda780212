//! `seed`: creates the benchmark accounts straight in the server's SQLite
//! database through `msn_store`, with ring-shaped contact lists.
//!
//! Account `i` is `<prefix><i>@bench.invalid`, MD5 password `pw<i>`. It has
//! the `K` next accounts `i+1 … i+K (mod N)` on its forward and allow lists,
//! and each of those has `i` on its reverse list, so `i` is watched by
//! `i-1 … i-K`. The argon2id hash is computed once (of `--passport-password`)
//! and stored for every account: its cost only matters for account creation
//! and for the Passport (TWN) login, never for the MD5 login, which checks
//! `md5(salt ‖ pw<i>)` against the stored clear password.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Args;
use msn_core::account::{Change, ContactUpdate, lists};
use msn_core::handle::Handle;
use msn_core::password::{HashCost, hash_password};
use msn_store::{NewUser, Store, StoreOptions, Synchronous};
use tokio::task::JoinSet;

use crate::client::Accounts;
use crate::report::Report;
use crate::sys::Machine;

#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    /// The server's data directory (the database is DIR/msnd.db).
    #[arg(
        long,
        required_unless_present = "database_url",
        conflicts_with = "database_url"
    )]
    pub data_dir: Option<PathBuf>,
    /// The server's database instead (`[database] url`), e.g. the
    /// PostgreSQL database of a cluster: postgres://user@host/db.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Accounts to create.
    #[arg(long)]
    pub users: usize,
    /// Forward-list contacts per account (ring neighbours i+1..i+K).
    #[arg(long, default_value_t = 20)]
    pub contacts: usize,
    /// Handle prefix: <prefix><i>@bench.invalid.
    #[arg(long, default_value = "load")]
    pub prefix: String,
    /// argon2id memory cost in KiB of the one shared hash (default: the
    /// cheap test cost; the server's production default is 19456).
    #[arg(long, default_value_t = HashCost::insecure_for_tests().memory_kib)]
    pub hash_memory_kib: u32,
    /// argon2id passes.
    #[arg(long, default_value_t = HashCost::insecure_for_tests().iterations)]
    pub hash_iterations: u32,
    /// The Passport (TWN) password of every account: the argon2id hash is
    /// computed once, so all accounts share it. MD5 passwords are pw<i>.
    #[arg(long, default_value = "passport-pw")]
    pub passport_password: String,
    /// Store operations in flight at once (SQLite has one writer; a few
    /// keep it busy while the next statements are prepared).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

pub async fn run(args: SeedArgs, machine: Machine) -> anyhow::Result<Report> {
    let n = args.users;
    let k = args.contacts;
    if n < 2 {
        bail!("--users must be at least 2");
    }
    if k >= n {
        bail!("--contacts must be below --users");
    }
    let (url, db) = match (&args.database_url, &args.data_dir) {
        (Some(url), _) => (url.clone(), "the database".to_owned()),
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let db = dir.join("msnd.db");
            (
                format!("sqlite://{}", db.display()),
                db.display().to_string(),
            )
        }
        (None, None) => bail!("--data-dir or --database-url is required"),
    };
    let mut options = StoreOptions::default();
    // Seeding is repeatable; an fsync per transaction would only slow it.
    options.synchronous = Synchronous::Normal;
    // PostgreSQL: a connection per store operation in flight.
    options.max_connections = u32::try_from(args.concurrency.max(1)).unwrap_or(u32::MAX);
    let store: Arc<dyn Store> = msn_store::open(&url, &options)
        .await
        .with_context(|| format!("cannot open {db}"))?;
    let accounts = Accounts::new(&args.prefix);
    if store.user_exists(&accounts.handle(0)).await? {
        bail!(
            "{} already holds {}: seed into an empty --data-dir",
            db,
            accounts.handle(0)
        );
    }

    let cost = HashCost {
        memory_kib: args.hash_memory_kib,
        iterations: args.hash_iterations,
        parallelism: 1,
    };
    let t_hash = Instant::now();
    let pw = args.passport_password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw, cost))
        .await?
        .map_err(anyhow::Error::msg)?;
    let hash_secs = t_hash.elapsed().as_secs_f64();

    // Accounts.
    let conc = args.concurrency.max(1);
    let t_users = Instant::now();
    let ids = {
        let store = store.clone();
        let accounts = accounts.clone();
        let hash = hash.clone();
        for_each_bounded(n, conc, move |i| {
            let store = store.clone();
            let handle = accounts.handle(i);
            let user = Handle::parse(&handle).map(|h| NewUser {
                handle: h,
                friendly_name: accounts.name(i),
                password_hash: hash.clone(),
                legacy_password: Some(Accounts::password(i)),
            });
            async move {
                let user = user.map_err(|e| anyhow::anyhow!("{handle}: {e}"))?;
                store
                    .create_user(user)
                    .await
                    .with_context(|| format!("creating {handle}"))
            }
        })
        .await?
    };
    let users_secs = t_users.elapsed().as_secs_f64();

    // Contact lists: one committed change per account carrying its FL+AL
    // entries and its RL entries.
    let t_lists = Instant::now();
    let handles: Arc<Vec<Handle>> = Arc::new(
        (0..n)
            .map(|i| Handle::parse(&accounts.handle(i)).expect("validated above"))
            .collect(),
    );
    let names: Arc<Vec<String>> = Arc::new((0..n).map(|i| accounts.name(i)).collect());
    let ids = Arc::new(ids);
    let entries = {
        let store = store.clone();
        for_each_bounded(n, conc, move |i| {
            let change = ring_change(i, n, k, &handles, &names);
            let (store, id, handle) = (store.clone(), ids[i], handles[i].clone());
            async move {
                store
                    .commit(id, &change)
                    .await
                    .with_context(|| format!("writing the lists of {handle}"))?;
                Ok(change.contacts.len() as u64)
            }
        })
        .await?
        .into_iter()
        .sum::<u64>()
    };
    let lists_secs = t_lists.elapsed().as_secs_f64();
    store.close().await;

    let total = hash_secs + users_secs + lists_secs;
    let mut r = Report::new("seed", machine);
    r.param(
        "database",
        match &args.data_dir {
            Some(dir) => dir.display().to_string(),
            None => "--database-url".to_owned(),
        },
    )
    .param("users", n as u64)
    .param("contacts", k as u64)
    .param("prefix", args.prefix.clone())
    .param(
        "handles",
        format!("{}..{}", accounts.handle(0), accounts.handle(n - 1)),
    )
    .param("md5_passwords", "pw<i>")
    .param("passport_password", args.passport_password.clone())
    .param("hash_memory_kib", u64::from(cost.memory_kib))
    .param("hash_iterations", u64::from(cost.iterations))
    .param("concurrency", conc as u64);
    r.result("accounts_created", n as u64)
        .result("list_entries_written", entries)
        .result("hash_secs", crate::report::round(hash_secs, 4))
        .result("accounts_secs", crate::report::round(users_secs, 2))
        .rate("accounts_per_sec", n as u64, users_secs)
        .result("lists_secs", crate::report::round(lists_secs, 2))
        .rate("list_entries_per_sec", entries, lists_secs)
        .result("total_secs", crate::report::round(total, 2));
    r.note("each account is one Store::create_user transaction and one Store::commit transaction (the Store API has no multi-account batch)");
    r.note(
        "the argon2id cost affects only account creation and Passport (TWN) logins, not MD5 logins",
    );
    Ok(r)
}

/// Runs `job(0..n)` with at most `limit` jobs in flight; results in order.
async fn for_each_bounded<T, F, Fut>(n: usize, limit: usize, mut job: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let mut set = JoinSet::new();
    let mut next = 0;
    while next < n || !set.is_empty() {
        while next < n && set.len() < limit {
            let fut = job(next);
            let i = next;
            set.spawn(async move { (i, fut.await) });
            next += 1;
        }
        if let Some(done) = set.join_next().await {
            let (i, r) = done?;
            out[i] = Some(r?);
        }
    }
    Ok(out.into_iter().map(|v| v.expect("every job ran")).collect())
}

/// The list entries of account `i`: FL+AL for `i+1..=i+k`, RL for
/// `i-k..=i-1` (mod `n`); both directions meet on one entry when `2k ≥ n`.
pub fn ring_change(i: usize, n: usize, k: usize, handles: &[Handle], names: &[String]) -> Change {
    let mut contacts = Vec::with_capacity(2 * k);
    for d in 1..=k {
        let j = (i + d) % n;
        contacts.push(ContactUpdate {
            set: lists::FL | lists::AL,
            name: Some(names[j].clone()),
            guid: Some(Some(uuid::Uuid::new_v4())),
            add_groups: vec![0],
            ..ContactUpdate::new(handles[j].clone())
        });
    }
    for d in 1..=k {
        let j = (i + n - d) % n;
        contacts.push(ContactUpdate {
            set: lists::RL,
            name: Some(names[j].clone()),
            ..ContactUpdate::new(handles[j].clone())
        });
    }
    Change {
        contacts,
        bump_version: true,
        ..Change::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_neighbours() {
        let a = Accounts::new("load");
        let n = 5;
        let handles: Vec<Handle> = (0..n)
            .map(|i| Handle::parse(&a.handle(i)).unwrap())
            .collect();
        let names: Vec<String> = (0..n).map(|i| a.name(i)).collect();
        let c = ring_change(4, n, 2, &handles, &names);
        let fl: Vec<_> = c
            .contacts
            .iter()
            .filter(|u| u.set & lists::FL != 0)
            .map(|u| u.handle.as_str())
            .collect();
        let rl: Vec<_> = c
            .contacts
            .iter()
            .filter(|u| u.set == lists::RL)
            .map(|u| u.handle.as_str())
            .collect();
        assert_eq!(fl, ["load0@bench.invalid", "load1@bench.invalid"]);
        assert_eq!(rl, ["load3@bench.invalid", "load2@bench.invalid"]);
        assert!(c.bump_version);
        assert!(
            c.contacts
                .iter()
                .all(|u| u.set & lists::FL == 0 || u.add_groups == [0])
        );
    }
}
