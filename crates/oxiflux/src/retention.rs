//! The retention service: every `--storage-retention-check-interval`, drop the
//! partitions of each bucket that lie wholly outside its retention period.

use std::sync::Arc;
use std::time::Duration;

pub(crate) async fn run(meta: Arc<meta::Store>, storage: Arc<storage::Storage>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (meta, storage) = (Arc::clone(&meta), Arc::clone(&storage));
        let result = tokio::task::spawn_blocking(move || enforce(&meta, &storage)).await;
        match result {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(partitions = n, "retention dropped expired data"),
            Ok(Err(e)) => tracing::warn!(error = %e, "retention check failed"),
            Err(e) => tracing::warn!(error = %e, "retention task failed"),
        }
    }
}

fn enforce(meta: &meta::Store, storage: &storage::Storage) -> anyhow::Result<usize> {
    let now = time::now_ns();
    let buckets = meta.list_buckets(&meta::buckets::BucketFilter::default(), &meta::FindOptions::all())?;
    Ok(buckets
        .iter()
        .filter(|b| b.retention_seconds > 0)
        .map(|b| storage.enforce_retention(b.id.get(), b.retention_seconds.saturating_mul(1_000_000_000), now))
        .sum())
}
