//! `oxiflux backup` and `oxiflux restore`: a server's backup API to and from
//! a directory laid out as the 2.x `influx backup` CLI lays it out (a
//! `<time>.manifest`, the `kv` part as `<time>.bolt.gz`, each shard as
//! `<time>.<shardID>.tar.gz`), so either tool restores what the other wrote.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    /// The server's address.
    #[arg(long, default_value = "http://localhost:8086", env = "INFLUX_HOST")]
    host: String,
    /// An operator token.
    #[arg(long, short = 't', env = "INFLUX_TOKEN")]
    token: String,
    /// Only this org's buckets.
    #[arg(long)]
    org: Option<String>,
    /// Only this bucket.
    #[arg(long, short = 'b')]
    bucket: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BackupArgs {
    /// The directory to write the backup into.
    path: PathBuf,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct RestoreArgs {
    /// The directory holding the backup.
    path: PathBuf,
    #[command(flatten)]
    target: Target,
    /// Replace everything on the server with the backup (metadata and data).
    #[arg(long)]
    full: bool,
    /// Restore the bucket (`--bucket`) under this name.
    #[arg(long)]
    new_bucket: Option<String>,
}

struct Api {
    client: Client,
    host: String,
    token: String,
}

impl Api {
    fn new(t: &Target) -> anyhow::Result<Self> {
        let client = Client::builder().timeout(None).build()?;
        Ok(Self { client, host: t.host.trim_end_matches('/').to_owned(), token: t.token.clone() })
    }

    fn send(&self, rb: reqwest::blocking::RequestBuilder, what: &str) -> anyhow::Result<Response> {
        let r = rb.header("Authorization", format!("Token {}", self.token)).send().with_context(|| what.to_owned())?;
        if r.status().is_success() {
            return Ok(r);
        }
        let status = r.status();
        let body: Value = r.json().unwrap_or(Value::Null);
        bail!("{what}: {status}: {}", body["message"].as_str().unwrap_or("no message"))
    }

    fn get(&self, path: &str, what: &str) -> anyhow::Result<Response> {
        let rb = self.client.get(format!("{}{path}", self.host)).header("Accept-Encoding", "gzip");
        self.send(rb, what)
    }

    /// POSTs a gzipped file, as the `influx` CLI sends every part.
    fn upload(&self, path: &str, file: &Path, what: &str) -> anyhow::Result<Response> {
        let body = File::open(file).with_context(|| format!("opening {}", file.display()))?;
        let rb = self
            .client
            .post(format!("{}{path}", self.host))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Encoding", "gzip")
            .body(reqwest::blocking::Body::new(body));
        self.send(rb, what)
    }
}

fn gzipped(r: &Response) -> bool {
    r.headers().get("content-encoding").is_some_and(|v| v == "gzip")
}

/// Splits a `multipart/mixed` body into its parts by Content-Disposition name.
fn parts(body: &[u8], content_type: &str) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let boundary = content_type.split("boundary=").nth(1).context("the metadata answer has no multipart boundary")?;
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let find = |from: usize, what: &[u8]| body[from..].windows(what.len()).position(|w| w == what).map(|i| i + from);
    let mut out = BTreeMap::new();
    let mut at = find(0, &delimiter[2..]).context("the metadata answer has no parts")? + delimiter.len() - 2;
    while !body[at..].starts_with(b"--") {
        let head_end = find(at, b"\r\n\r\n").context("a part without headers")? + 4;
        let head = String::from_utf8_lossy(&body[at..head_end]).into_owned();
        let name = head.split("name=\"").nth(1).and_then(|r| r.split('"').next()).context("a part without a name")?;
        let end = find(head_end, &delimiter).context("a truncated part")?;
        out.insert(name.to_owned(), body[head_end..end].to_vec());
        at = end + delimiter.len();
    }
    Ok(out)
}

fn wanted(t: &Target, b: &Value) -> bool {
    t.org.as_ref().is_none_or(|o| b["organizationName"] == **o)
        && t.bucket.as_ref().is_none_or(|n| b["bucketName"] == **n)
}

/// Writes `from` to `to` gzipped, unless it already is.
fn save(mut from: impl Read, already_gzipped: bool, to: &Path) -> anyhow::Result<u64> {
    let mut file = File::create(to).with_context(|| format!("creating {}", to.display()))?;
    if already_gzipped {
        std::io::copy(&mut from, &mut file)?;
    } else {
        let mut gz = flate2::write::GzEncoder::new(&mut file, flate2::Compression::default());
        std::io::copy(&mut from, &mut gz)?;
        gz.finish()?;
    }
    file.sync_all()?;
    Ok(std::fs::metadata(to)?.len())
}

pub(crate) fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let api = Api::new(&args.target)?;
    std::fs::create_dir_all(&args.path)?;
    let base = time::rfc3339::format(time::now_ns(), time::rfc3339::Fraction::None).replace(['-', ':'], "");
    let r = api.get("/api/v2/backup/metadata", "backing up the metadata")?;
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let gz = gzipped(&r);
    let mut raw = Vec::new();
    if gz {
        flate2::read::GzDecoder::new(r).read_to_end(&mut raw)?
    } else {
        r.take(u64::MAX).read_to_end(&mut raw)?
    };
    let mut parts = parts(&raw, &content_type)?;
    let kv = parts.remove("kv").context("the metadata answer has no kv part")?;
    let buckets: Vec<Value> = serde_json::from_slice(&parts.remove("buckets").context("no buckets part")?)?;
    let kv_name = format!("{base}.bolt.gz");
    let kv_size = save(kv.as_slice(), false, &args.path.join(&kv_name))?;
    let mut kept = Vec::new();
    for mut b in buckets.into_iter().filter(|b| wanted(&args.target, b)) {
        let bucket_name = b["bucketName"].as_str().unwrap_or("").to_owned();
        for rp in b["retentionPolicies"].as_array_mut().into_iter().flatten() {
            for g in rp["shardGroups"].as_array_mut().into_iter().flatten() {
                let mut shards = Vec::new();
                for mut s in g["shards"].as_array().cloned().unwrap_or_default() {
                    let id = s["id"].as_u64().context("a shard without an id")?;
                    let r = match api.get(&format!("/api/v2/backup/shards/{id}"), &format!("backing up shard {id}")) {
                        Ok(r) => r,
                        Err(e) if e.to_string().contains("404") => {
                            eprintln!("shard {id} was removed during the backup");
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    let name = format!("{base}.{id}.tar.gz");
                    let gz = gzipped(&r);
                    let size = save(r, gz, &args.path.join(&name))?;
                    eprintln!("backed up shard {id} of {bucket_name:?}: {size} bytes");
                    s["fileName"] = json!(name);
                    s["size"] = json!(size);
                    s["compression"] = json!(1);
                    shards.push(s);
                }
                g["shards"] = json!(shards);
            }
        }
        kept.push(b);
    }
    let manifest = json!({
        "manifestVersion": 2,
        "kv": { "fileName": kv_name, "size": kv_size, "compression": 1 },
        "buckets": kept,
    });
    let path = args.path.join(format!("{base}.manifest"));
    let mut f = File::create(&path)?;
    serde_json::to_writer_pretty(&mut f, &manifest)?;
    writeln!(f)?;
    f.sync_all()?;
    eprintln!("backed up {} buckets to {}", kept.len(), args.path.display());
    Ok(())
}

/// Every manifest of a backup directory, oldest first, merged as the CLI
/// merges them: the last `kv`, and the last entry of each org/bucket.
pub(crate) fn read_manifests(dir: &Path) -> anyhow::Result<(Option<Value>, Vec<Value>)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "manifest"))
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("no backup manifest in {}", dir.display());
    }
    let (mut kv, mut buckets) = (None, BTreeMap::new());
    for n in names {
        let m: Value = serde_json::from_reader(File::open(&n)?).with_context(|| format!("reading {}", n.display()))?;
        if m["manifestVersion"] != 2 {
            bail!("unsupported version {} found in manifest {}", m["manifestVersion"], n.display());
        }
        if !m["kv"].is_null() {
            kv = Some(m["kv"].clone());
        }
        for b in m["buckets"].as_array().into_iter().flatten() {
            let key =
                format!("{}/{}", b["organizationName"].as_str().unwrap_or(""), b["bucketName"].as_str().unwrap_or(""));
            buckets.insert(key, b.clone());
        }
    }
    Ok((kv, buckets.into_values().collect()))
}

pub(crate) fn shards(b: &Value) -> Vec<(u64, String)> {
    let groups = b["retentionPolicies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rp| rp["shardGroups"].as_array().into_iter().flatten());
    groups
        .flat_map(|g| g["shards"].as_array().into_iter().flatten())
        .filter_map(|s| Some((s["id"].as_u64()?, s["fileName"].as_str()?.to_owned())))
        .collect()
}

pub(crate) fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let mut api = Api::new(&args.target)?;
    let (kv, buckets) = read_manifests(&args.path)?;
    if args.full {
        if args.target.org.is_some() || args.target.bucket.is_some() || args.new_bucket.is_some() {
            bail!("--full restores everything: it takes no --org, --bucket or --new-bucket");
        }
        let kv = kv.context("the backup has no kv part")?;
        let file = args.path.join(kv["fileName"].as_str().context("the kv part has no file")?);
        let answer: Value = api.upload("/api/v2/restore/kv", &file, "restoring the metadata")?.json()?;
        if let Some(token) = answer["token"].as_str().filter(|t| !t.is_empty()) {
            eprintln!("the restore made a new operator token for the restored server: {token}");
            api.token = token.to_owned();
        }
        for b in &buckets {
            for (id, file) in shards(b) {
                api.upload(
                    &format!("/api/v2/restore/shards/{id}"),
                    &args.path.join(&file),
                    &format!("restoring shard {id}"),
                )?;
                eprintln!("restored shard {id} of {:?}", b["bucketName"].as_str().unwrap_or(""));
            }
        }
        return Ok(());
    }
    if args.new_bucket.is_some() && args.target.bucket.is_none() {
        bail!("--new-bucket needs --bucket");
    }
    let chosen: Vec<&Value> = buckets
        .iter()
        .filter(|b| wanted(&args.target, b) && !b["bucketName"].as_str().unwrap_or("").starts_with('_'))
        .collect();
    if chosen.is_empty() {
        bail!("no bucket of the backup matches");
    }
    for b in chosen {
        let org = b["organizationName"].as_str().unwrap_or("");
        let r = api.get(&format!("/api/v2/orgs?org={}", urlencode(org)), "finding the org");
        let found: Option<String> =
            r.ok().and_then(|r| r.json::<Value>().ok()).and_then(|v| v["orgs"][0]["id"].as_str().map(str::to_owned));
        let org_id = match found {
            Some(id) => id,
            None => {
                let rb = api.client.post(format!("{}/api/v2/orgs", api.host)).json(&json!({ "name": org }));
                let made: Value = api.send(rb, "creating the org")?.json()?;
                made["id"].as_str().context("the new org has no id")?.to_owned()
            }
        };
        let mut posted = b.clone();
        posted["organizationID"] = json!(org_id);
        if let Some(name) = &args.new_bucket {
            posted["bucketName"] = json!(name);
        }
        let rb = api.client.post(format!("{}/api/v2/restore/bucketMetadata", api.host)).json(&posted);
        let mapped: Value = api.send(rb, "restoring the bucket's metadata")?.json()?;
        let new_ids: BTreeMap<u64, u64> = mapped["shardMappings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| Some((m["oldId"].as_u64()?, m["newId"].as_u64()?)))
            .collect();
        for (old, file) in shards(b) {
            let Some(new) = new_ids.get(&old) else {
                eprintln!("the server did not map shard {old}; skipping it");
                continue;
            };
            api.upload(
                &format!("/api/v2/restore/shards/{new}"),
                &args.path.join(&file),
                &format!("restoring shard {old}"),
            )?;
            eprintln!("restored shard {old} as {new} into {:?}", posted["bucketName"].as_str().unwrap_or(""));
        }
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
