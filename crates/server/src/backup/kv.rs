//! The `kv` part: a tar of `kv.json` (what it is), `meta.sqlite` (a
//! consistent snapshot of the metadata store) and `secrets.key` (the key the
//! snapshot's secrets are sealed with, so another server can reseal them
//! under its own). Whoever holds a backup can open its secrets, as with a
//! 2.x backup; that is why taking one needs an operator token.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

const FORMAT: &str = "oxiflux-kv";
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct About {
    format: String,
    version: u32,
    schema_version: usize,
}

/// Where a server keeps the key its secrets are sealed with.
pub(super) fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("secrets.key")
}

fn add(tar: &mut tar::Builder<&mut dyn Write>, name: &str, size: u64, data: &mut dyn Read) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_cksum();
    tar.append_data(&mut header, name, data)
}

/// Writes the `kv` part of `meta` (whose secrets key is in `data_dir`) to `out`.
pub(super) fn write(meta: &meta::Store, data_dir: &Path, out: &mut dyn Write) -> ApiResult<()> {
    let internal = |e: std::io::Error| ApiError::internal(format!("writing the kv backup: {e}"));
    let dir = tempfile::tempdir_in(data_dir).map_err(internal)?;
    let snapshot = dir.path().join("meta.sqlite");
    meta.snapshot_to(&snapshot)?;
    let about = About { format: FORMAT.into(), version: VERSION, schema_version: meta.schema_version()? };
    let about = serde_json::to_vec(&about).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut tar = tar::Builder::new(out);
    add(&mut tar, "kv.json", about.len() as u64, &mut about.as_slice()).map_err(internal)?;
    let file = std::fs::File::open(&snapshot).map_err(internal)?;
    let size = file.metadata().map_err(internal)?.len();
    add(&mut tar, "meta.sqlite", size, &mut std::io::BufReader::new(file)).map_err(internal)?;
    match std::fs::read(key_path(data_dir)) {
        Ok(key) => add(&mut tar, "secrets.key", key.len() as u64, &mut key.as_slice()).map_err(internal)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(internal(e)),
    }
    tar.into_inner().map_err(internal)?.flush().map_err(internal)?;
    Ok(())
}

/// A `kv` part read and checked, staged on disk.
pub(super) struct Staged {
    _dir: tempfile::TempDir,
    pub(super) meta: PathBuf,
    pub(super) key: Option<Vec<u8>>,
}

/// Reads a `kv` part into a staging directory under `data_dir`, checking
/// that it is one (a truncated or foreign archive is a 400 that says why).
pub(super) fn read(input: &mut dyn Read, data_dir: &Path) -> ApiResult<Staged> {
    let bad = |why: String| ApiError::invalid(format!("the kv backup is not usable: {why}"));
    let dir = tempfile::tempdir_in(data_dir).map_err(|e| ApiError::internal(e.to_string()))?;
    let meta = dir.path().join("meta.sqlite");
    let (mut about, mut key, mut have_meta) = (None, None, false);
    let mut archive = tar::Archive::new(input);
    let entries = archive.entries().map_err(|e| bad(format!("not an oxiflux kv archive ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("truncated or damaged ({e})")))?;
        let name = entry.path().map_err(|e| bad(e.to_string()))?.display().to_string();
        let declared = entry.size();
        match name.as_str() {
            "kv.json" | "secrets.key" if declared > 1 << 20 => return Err(bad(format!("{name} is too large"))),
            "kv.json" => {
                let mut text = Vec::new();
                entry.read_to_end(&mut text).map_err(|e| bad(format!("truncated ({e})")))?;
                let a: About = serde_json::from_slice(&text).map_err(|e| bad(format!("kv.json: {e}")))?;
                about = Some(a);
            }
            "secrets.key" => {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(|e| bad(format!("truncated ({e})")))?;
                key = Some(bytes);
            }
            "meta.sqlite" => {
                let mut file = std::fs::File::create(&meta).map_err(|e| ApiError::internal(e.to_string()))?;
                let copied = std::io::copy(&mut entry, &mut file).map_err(|e| bad(format!("truncated ({e})")))?;
                if copied != declared {
                    return Err(bad("meta.sqlite is truncated".into()));
                }
                file.sync_all().map_err(|e| ApiError::internal(e.to_string()))?;
                have_meta = true;
            }
            other => return Err(bad(format!("unexpected entry {other:?}"))),
        }
    }
    let about = about.ok_or_else(|| {
        bad("it has no kv.json: a kv part of another server (a 2.x BoltDB file?) or a truncated one".into())
    })?;
    if about.format != FORMAT || about.version != VERSION {
        return Err(bad(format!("format {} version {} is not one this server reads", about.format, about.version)));
    }
    if !have_meta {
        return Err(bad("it has no meta.sqlite (truncated?)".into()));
    }
    meta::Store::check_file(&meta)?;
    Ok(Staged { _dir: dir, meta, key })
}
