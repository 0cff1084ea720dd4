//! `oxiflux upgrade`: an InfluxDB 1.x installation moved into a new oxiflux
//! data directory, as `influxd upgrade` moves one into 2.x. From the 1.x
//! `meta.db` it makes the org, user and operator token (setup), one bucket
//! per database and retention policy (`db/rp`, with its retention and shard
//! duration), the DBRP mappings (the default policy as default), and v1
//! authorizations for the 1.x users; then it reads every shard's TSM files
//! and WAL (`tsm`, our own readers) into its bucket, and reports what each
//! database brought. Continuous queries are written out to a file, as 2.x
//! does, since they do not run here.
//!
//! It runs with the server stopped, on the data directory the server will
//! then serve. A run stopped part way resumes: see [`progress`].

mod progress;
mod users;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use meta::Id;
use meta::dbrps::{DbrpFilter, NewDbrp};
use meta::onboarding::Setup;
use server::Ingest;
use storage::{Storage, StorageConfig};

use crate::load::{Loaded, ensure_bucket, load};
use progress::Progress;

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct UpgradeArgs {
    /// The 1.x installation's directory, holding meta/, data/ and wal/
    /// [default: ~/.influxdb].
    #[arg(long = "v1-dir")]
    v1_dir: Option<PathBuf>,
    /// A 1.x config file: its [meta] dir, [data] dir and wal-dir say where
    /// the installation is (Debian's is /etc/influxdb/influxdb.conf).
    #[arg(long = "config-file")]
    config_file: Option<PathBuf>,
    #[command(flatten)]
    setup: SetupArgs,
    /// Where to write the 1.x continuous queries [default: <data-dir>/continuous_queries.txt].
    #[arg(long = "continuous-query-export-path")]
    cq_path: Option<PathBuf>,
}

/// The setup a fresh data directory gets (as `influx setup` takes it).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SetupArgs {
    /// The org to make.
    #[arg(short = 'o', long)]
    pub(crate) org: Option<String>,
    /// The first bucket to make (as setup makes one).
    #[arg(short = 'b', long)]
    bucket: Option<String>,
    /// The user to make, owning the org.
    #[arg(short = 'u', long)]
    pub(crate) username: Option<String>,
    /// Its password.
    #[arg(short = 'p', long)]
    password: Option<String>,
    /// The operator token to make (one is generated when left out).
    #[arg(short = 't', long)]
    token: Option<String>,
    /// The first bucket's retention, e.g. 30d [default: forever].
    #[arg(short = 'r', long)]
    retention: Option<String>,
}

impl SetupArgs {
    /// Refuses a setup some flag is missing for, before anything is made.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        for (v, flag) in [(&self.org, "--org"), (&self.bucket, "--bucket"), (&self.username, "--username")] {
            if v.is_none() {
                bail!("{flag} is required to set up a new data directory");
            }
        }
        if self.password.is_none() {
            bail!("--password is required to set up a new data directory");
        }
        Ok(())
    }
}

/// Where the 1.x installation keeps what it has.
struct V1Dirs {
    meta: PathBuf,
    data: PathBuf,
    wal: PathBuf,
}

impl V1Dirs {
    fn resolve(args: &UpgradeArgs) -> anyhow::Result<Self> {
        let root = match &args.v1_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".influxdb"),
        };
        let mut dirs = Self { meta: root.join("meta"), data: root.join("data"), wal: root.join("wal") };
        if let Some(path) = &args.config_file {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let conf: toml::Table = text.parse().with_context(|| format!("parsing {}", path.display()))?;
            let get = |section: &str, key: &str| {
                conf.get(section).and_then(|s| s.get(key)).and_then(|v| v.as_str()).map(PathBuf::from)
            };
            dirs.meta = get("meta", "dir").unwrap_or(dirs.meta);
            dirs.data = get("data", "dir").unwrap_or(dirs.data);
            dirs.wal = get("data", "wal-dir").unwrap_or(dirs.wal);
        }
        Ok(dirs)
    }
}

pub(crate) fn run(args: UpgradeArgs, data_dir: PathBuf) -> anyhow::Result<()> {
    let v1 = V1Dirs::resolve(&args)?;
    let meta_db = v1.meta.join("meta.db");
    let data =
        tsm::meta::Data::read(&meta_db).with_context(|| format!("reading the 1.x metadata {}", meta_db.display()))?;
    if !data_dir.join("meta.sqlite").exists() {
        args.setup.check()?;
    }
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let store = meta::Store::open(&data_dir.join("meta.sqlite")).context("opening the metadata store")?;
    let mut progress = begin(&store, &args, &data_dir)?;
    let (org, owner) = (progress.org_id, progress.user_id);
    let storage = Arc::new(Storage::open(&data_dir, StorageConfig::default()).context("opening the storage engine")?);
    // A fresh directory has no replications, so no queue is opened.
    let ingest = Ingest::new(Arc::clone(&storage), None);

    let mut buckets_by_db: BTreeMap<String, Vec<Id>> = BTreeMap::new();
    let mut report = Vec::new();
    for db in data.databases.iter().filter(|d| d.name != "_internal") {
        let mut total = Loaded::default();
        let mut shards = 0;
        for rp in &db.retention_policies {
            let description = format!("Upgraded from v1 database {} with retention policy {}", db.name, rp.name);
            let name = format!("{}/{}", db.name, rp.name);
            let bucket =
                ensure_bucket(&store, org, &name, &description, &rp.name, rp.duration, rp.shard_group_duration)?;
            ensure_dbrp(&store, org, bucket.id, &db.name, &rp.name, db.default_retention_policy == rp.name)?;
            buckets_by_db.entry(db.name.clone()).or_default().push(bucket.id);
            for shard in rp.shard_groups.iter().filter(|g| g.deleted_at == 0).flat_map(|g| &g.shards) {
                shards += 1;
                let name = format!("{}/{}/{}", db.name, rp.name, shard.id);
                if progress.done.contains(&name) {
                    println!("shard {name}: done by an earlier run");
                    continue;
                }
                let rel = Path::new(&db.name).join(&rp.name).join(shard.id.to_string());
                let read = tsm::Shard::open(&v1.data.join(&rel), Some(&v1.wal.join(&rel)))
                    .with_context(|| format!("reading shard {name}"))?;
                for seg in &read.truncated_segments {
                    println!("shard {name}: {} ends in a cut-short entry; read up to it, as 1.x does", seg.display());
                }
                let loaded = load(&ingest, &bucket, &read).with_context(|| format!("writing shard {name}"))?;
                println!(
                    "shard {name}: {} series, {} values, {} points written, {} dropped",
                    loaded.series, loaded.values, loaded.written, loaded.dropped
                );
                progress.finish(name)?;
                total.add(&loaded);
            }
        }
        report.push((db.name.clone(), db.retention_policies.len(), shards, total));
    }
    let users = users::upgrade(&store, org, owner, &data.users, &buckets_by_db)?;
    let cq_path = args.cq_path.clone().unwrap_or_else(|| data_dir.join("continuous_queries.txt"));
    export_continuous_queries(&data, &cq_path)?;
    storage.flush().context("writing the upgraded data to Parquet")?;

    println!("upgraded into {}:", data_dir.display());
    for (db, rps, shards, t) in &report {
        let drop = t.first_drop.as_deref().map(|r| format!(" (first: {r})")).unwrap_or_default();
        println!(
            "  database {db}: {rps} retention policies, {shards} shards, {} values, {} points written, {} dropped{drop}",
            t.values, t.written, t.dropped
        );
    }
    for (name, outcome) in &users {
        match outcome {
            users::Outcome::Carried => println!("  user {name}: v1 authorization, same password"),
            users::Outcome::AlreadyThere => println!("  user {name}: v1 authorization made by an earlier run"),
            users::Outcome::NeedsPassword(why) => {
                println!(
                    "  user {name}: v1 authorization made, NEEDS A NEW PASSWORD ({why}): influx v1 auth set-password"
                )
            }
            users::Outcome::Skipped(why) => println!("  user {name}: not upgraded, {why}"),
        }
    }
    let cqs: usize = data.databases.iter().map(|d| d.continuous_queries.len()).sum();
    println!("  {cqs} continuous queries written to {} (they do not run here; make tasks of them)", cq_path.display());
    Ok(())
}

/// Sets a fresh data directory up, as `influx setup` would, and says the
/// operator token once when it was generated.
pub(crate) fn set_up(store: &meta::Store, args: &SetupArgs) -> anyhow::Result<meta::onboarding::SetupResult> {
    args.check()?;
    let need = |v: &Option<String>, flag: &str| v.clone().with_context(|| format!("{flag} is required to set up"));
    let retention_seconds = match &args.retention {
        Some(r) => match time::duration::parse_go(r) {
            Ok(ns) if ns >= 0 => ns / time::SECOND,
            _ => bail!("--retention {r:?} is not a duration such as 30d or 720h"),
        },
        None => 0,
    };
    let setup = Setup {
        username: need(&args.username, "--username")?,
        password: Some(need(&args.password, "--password")?),
        org: need(&args.org, "--org")?,
        bucket: need(&args.bucket, "--bucket")?,
        retention_seconds,
        token: args.token.clone(),
    };
    let done = store.setup(&setup).context("setting up")?;
    if args.token.is_none()
        && let Some(token) = &done.auth.token
    {
        println!("operator token (shown once): {token}");
    }
    Ok(done)
}

/// Sets the target up (a fresh directory) or picks up an earlier run's
/// progress; refuses a directory some other setup already owns.
fn begin(store: &meta::Store, args: &UpgradeArgs, data_dir: &Path) -> anyhow::Result<Progress> {
    if let Some(p) = Progress::load(data_dir)? {
        if let Some(org) = &args.setup.org
            && *org != p.org
        {
            bail!("an earlier upgrade into {} made org {:?}, not {org:?}", data_dir.display(), p.org);
        }
        println!("resuming the upgrade into {} ({} shards done)", data_dir.display(), p.done.len());
        return Ok(p);
    }
    if !store.onboarding_allowed()? {
        bail!("{} is already set up; upgrade into a new data directory", data_dir.display());
    }
    let done = set_up(store, &args.setup)?;
    let p = Progress::new(data_dir, &done.org.name, done.org.id, done.user.id);
    p.save()?;
    Ok(p)
}

fn ensure_dbrp(store: &meta::Store, org: Id, bucket: Id, db: &str, rp: &str, default: bool) -> anyhow::Result<()> {
    let filter = DbrpFilter {
        org_id: Some(org),
        database: Some(db.to_owned()),
        retention_policy: Some(rp.to_owned()),
        ..Default::default()
    };
    // A bucket named `db/rp` already answers as a virtual mapping; the real
    // one is what says which policy is the database's default.
    if store.list_dbrps(&filter)?.iter().all(|m| m.virtual_) {
        let new = NewDbrp { org_id: org, bucket_id: bucket, database: db.into(), retention_policy: rp.into(), default };
        store.create_dbrp(&new).with_context(|| format!("mapping {db}/{rp}"))?;
    }
    Ok(())
}

/// The continuous queries, laid out as `influxd upgrade` writes them: per
/// database its name, then a `name query` table.
fn export_continuous_queries(data: &tsm::meta::Data, path: &Path) -> anyhow::Result<()> {
    let mut out = String::new();
    for db in data.databases.iter().filter(|d| d.name != "_internal") {
        out.push_str(&format!("name: {}\n", db.name));
        let width = db.continuous_queries.iter().map(|c| c.name.len()).max().unwrap_or(0).max(4);
        out.push_str(&format!("name{0}query\n----{0}-----\n", " ".repeat(width - 4 + 1)));
        for cq in &db.continuous_queries {
            out.push_str(&format!("{}{}{}\n", cq.name, " ".repeat(width - cq.name.len() + 1), cq.query));
        }
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}
