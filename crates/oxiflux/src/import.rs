//! `oxiflux import-backup DIR`: the data of a 2.x `influx backup` directory
//! read into a data directory. The manifests (merged as the CLI merges them)
//! give the orgs, buckets (retention, shard duration) and shards; each
//! shard's archive (`<time>.<id>.tar.gz`, 2.x's plain tar of a shard's TSM
//! files and tombstones) is unpacked aside and read by `tsm` into the bucket
//! of the same org and name, made when missing. The backup's kv part (2.x's
//! BoltDB: users, tokens, mappings, dashboards) is not read: those are made
//! again, or come from an oxiflux backup by `oxiflux restore`.
//!
//! It runs with the server stopped, like `upgrade`; a directory not set up
//! yet is set up with the same flags.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde_json::Value;
use server::Ingest;
use storage::{Storage, StorageConfig};

use crate::load::{Loaded, ensure_bucket, load};
use crate::upgrade::{SetupArgs, set_up};

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ImportArgs {
    /// The directory `influx backup` wrote.
    path: PathBuf,
    /// Setup for a data directory not set up yet (the user made also owns
    /// the orgs the import makes).
    #[command(flatten)]
    setup: SetupArgs,
}

pub(crate) fn run(args: ImportArgs, data_dir: PathBuf) -> anyhow::Result<()> {
    let (_, buckets) = crate::backup::read_manifests(&args.path)?;
    if !data_dir.join("meta.sqlite").exists() {
        args.setup.check()?;
    }
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let store = meta::Store::open(&data_dir.join("meta.sqlite")).context("opening the metadata store")?;
    let owner = if store.onboarding_allowed()? {
        Some(set_up(&store, &args.setup)?.user.id)
    } else {
        match &args.setup.username {
            Some(name) => Some(store.find_user_by_name(name).with_context(|| format!("user {name}"))?.id),
            None => None,
        }
    };
    let storage = Arc::new(Storage::open(&data_dir, StorageConfig::default()).context("opening the storage engine")?);
    // No replication queue is opened (the server is stopped): a replicated
    // bucket is named below.
    let ingest = Ingest::new(Arc::clone(&storage), None);
    let scratch = data_dir.join("import-scratch");
    let mut report = Vec::new();
    for b in buckets {
        let (org_name, name) = (text(&b, "organizationName")?, text(&b, "bucketName")?);
        // As the CLI's bucket restore: the system buckets stay the server's own.
        if name.starts_with('_') {
            continue;
        }
        let org = match store.find_org_by_name(org_name) {
            Ok(o) => o,
            Err(_) => store.create_org(org_name, "", owner).with_context(|| format!("making org {org_name}"))?,
        };
        let default_rp = b["defaultRetentionPolicy"].as_str().unwrap_or("autogen");
        let rps = b["retentionPolicies"].as_array().map(Vec::as_slice).unwrap_or_default();
        let rp = rps.iter().find(|r| r["name"] == default_rp).or(rps.first()).context("a bucket without a policy")?;
        let bucket = ensure_bucket(
            &store,
            org.id,
            name,
            b["description"].as_str().unwrap_or_default(),
            default_rp,
            rp["duration"].as_i64().unwrap_or(0),
            rp["shardGroupDuration"].as_i64().unwrap_or(0),
        )?;
        let replicated =
            meta::replications::ReplicationFilter { local_bucket_id: Some(bucket.id), ..Default::default() };
        if !store.list_replications(&replicated)?.is_empty() {
            println!("{org_name}/{name}: replicated, but what is imported here is not sent to its remote");
        }
        let mut total = Loaded::default();
        let shards = crate::backup::shards(&b);
        for (id, file) in &shards {
            let dir = scratch.join(id.to_string());
            let _ = std::fs::remove_dir_all(&dir);
            unpack(&args.path.join(file), &dir).with_context(|| format!("unpacking shard {id} ({file})"))?;
            let read = tsm::Shard::open(&dir, None).with_context(|| format!("reading shard {id}"))?;
            let loaded = load(&ingest, &bucket, &read).with_context(|| format!("writing shard {id}"))?;
            println!(
                "{org_name}/{name} shard {id}: {} series, {} values, {} points written, {} dropped",
                loaded.series, loaded.values, loaded.written, loaded.dropped
            );
            total.add(&loaded);
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        report.push((format!("{org_name}/{name}"), shards.len(), total));
    }
    let _ = std::fs::remove_dir(&scratch);
    storage.flush().context("writing the imported data to Parquet")?;
    println!("imported into {}:", data_dir.display());
    for (bucket, shards, t) in &report {
        let drop = t.first_drop.as_deref().map(|r| format!(" (first: {r})")).unwrap_or_default();
        println!(
            "  bucket {bucket}: {shards} shards, {} values, {} points written, {} dropped{drop}",
            t.values, t.written, t.dropped
        );
    }
    Ok(())
}

fn text<'a>(v: &'a Value, key: &str) -> anyhow::Result<&'a str> {
    v[key].as_str().with_context(|| format!("a manifest bucket without {key}"))
}

/// Unpacks a shard archive's TSM files and tombstones (by their base names;
/// whatever else it holds, and any path, is left out) into `dir`.
fn unpack(archive: &Path, dir: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let input: Box<dyn Read> = if archive.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    std::fs::create_dir_all(dir)?;
    let mut tar = tar::Archive::new(input);
    let mut found = 0;
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let Some(base) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        let wanted = base.ends_with(".tsm") || base.ends_with(".tombstone");
        if !wanted || !entry.header().entry_type().is_file() || base.starts_with('.') {
            continue;
        }
        let mut out = std::fs::File::create(dir.join(&base))?;
        std::io::copy(&mut entry, &mut out)?;
        found += base.ends_with(".tsm") as usize;
    }
    if found == 0 {
        bail!("{} holds no TSM file", archive.display());
    }
    Ok(())
}
