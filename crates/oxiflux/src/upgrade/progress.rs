//! What an upgrade has finished, kept beside the data it made
//! (`upgrade-progress.json` in the target data directory) so that a run
//! stopped part way (a crash, a kill, a full disk) goes on where it stopped.
//! A shard is marked done only once all its writes are durable; one not
//! marked is loaded again whole, which its points survive unchanged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Progress {
    /// The org the upgrade made (a resumed run must name the same one), and
    /// the user it made to own what it makes.
    pub org: String,
    pub org_id: meta::Id,
    pub user_id: meta::Id,
    /// `db/rp/shard-id` of every shard whose points are all written.
    pub done: BTreeSet<String>,
    #[serde(skip)]
    path: PathBuf,
}

impl Progress {
    pub(crate) fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("upgrade-progress.json")
    }

    /// The progress of an earlier run into `data_dir`, if there was one.
    pub(crate) fn load(data_dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = Self::path_in(data_dir);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mut p: Progress =
                    serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
                p.path = path;
                Ok(Some(p))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub(crate) fn new(data_dir: &Path, org: &str, org_id: meta::Id, user_id: meta::Id) -> Self {
        Self { org: org.to_owned(), org_id, user_id, done: BTreeSet::new(), path: Self::path_in(data_dir) }
    }

    /// Marks a shard done, durably (written aside, synced, then renamed).
    pub(crate) fn finish(&mut self, shard: String) -> anyhow::Result<()> {
        self.done.insert(shard);
        self.save()
    }

    pub(crate) fn save(&self) -> anyhow::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(self)?;
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().with_context(|| format!("writing {}", self.path.display()))
    }
}
