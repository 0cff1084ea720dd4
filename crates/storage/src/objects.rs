//! Where files live: an `object_store`, the local disk by default.
//!
//! Parquet files and catalogs go through here, so the engine can keep them in
//! S3-compatible storage as well. The engine is synchronous (its callers run it
//! on blocking threads) while `object_store` is async: a small runtime of our
//! own drives the futures. Local files are fsynced with their directories.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::TryStreamExt;
use futures::future::BoxFuture;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, MetadataSuffixFetch};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::error::{Error, Result};

pub(crate) struct Objects {
    store: Arc<dyn ObjectStore>,
    runtime: Option<tokio::runtime::Runtime>,
    /// The directory of a local store, to tidy empty directories away.
    local_root: Option<PathBuf>,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects").field("store", &self.store.to_string()).finish_non_exhaustive()
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        // The engine may be dropped on an async thread, where a runtime may not block.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn store_error(e: object_store::Error) -> Error {
    Error::Io(std::io::Error::other(e))
}

impl Objects {
    /// Files under `root` on the local disk, fsynced on write.
    pub(crate) fn local(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root)?;
        let store = LocalFileSystem::new_with_prefix(root).map_err(store_error)?.with_fsync(true);
        Self::new(Arc::new(store), Some(root.to_path_buf()))
    }

    fn new(store: Arc<dyn ObjectStore>, local_root: Option<PathBuf>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("storage-io")
            .enable_all()
            .build()?;
        Ok(Self { store, runtime: Some(runtime), local_root })
    }

    /// Runs a future to completion from synchronous code (never from an async task).
    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        match &self.runtime {
            Some(rt) => rt.handle().block_on(f),
            None => futures::executor::block_on(f),
        }
    }

    /// Runs a read through [`Objects::reader`] to completion: on the calling
    /// thread alone when the files are local (their reads complete at once,
    /// so no runtime is needed, and the caller may be anywhere), else as
    /// [`Objects::block_on`].
    pub(crate) fn block_on_read<F: Future>(&self, f: F) -> F::Output {
        if self.local_root.is_some() { futures::executor::block_on(f) } else { self.block_on(f) }
    }

    pub(crate) fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// A Parquet reader that fetches only the byte ranges it needs.
    pub(crate) fn reader(&self, path: &str) -> ObjectReader {
        ObjectReader {
            store: self.store(),
            path: ObjectPath::from(path),
            local: self.local_root.as_ref().map(|root| root.join(path)),
        }
    }

    /// An upload that appears whole or not at all when it completes.
    pub(crate) fn writer(&self, path: &str) -> BufWriter {
        BufWriter::new(self.store(), ObjectPath::from(path))
    }

    /// Writes a whole object atomically.
    pub(crate) fn put(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        self.block_on(self.store.put(&ObjectPath::from(path), PutPayload::from(bytes))).map_err(store_error)?;
        Ok(())
    }

    /// Reads a whole object; `None` if there is none.
    pub(crate) fn get(&self, path: &str) -> Result<Option<Bytes>> {
        self.block_on(async {
            match self.store.get(&ObjectPath::from(path)).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .map_err(store_error)
    }

    /// Bytes `range` of an object.
    pub(crate) fn get_range(&self, path: &str, range: std::ops::Range<u64>) -> Result<Bytes> {
        self.block_on(self.store.get_range(&ObjectPath::from(path), range)).map_err(store_error)
    }

    /// Writes an object from `input`, a chunk at a time (bounded memory
    /// whatever its size); it appears whole or not at all. Answers what was
    /// read, with `each` called on every chunk.
    pub(crate) fn put_from(
        &self,
        path: &str,
        input: &mut dyn std::io::Read,
        each: &mut dyn FnMut(&[u8]),
    ) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        let mut writer = self.writer(path);
        let mut chunk = vec![0u8; 1 << 20];
        let mut total = 0u64;
        let outcome: Result<()> = loop {
            let n = match input.read(&mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e.into()),
            };
            each(&chunk[..n]);
            total += n as u64;
            if let Err(e) = self.block_on(writer.write_all(&chunk[..n])) {
                break Err(e.into());
            }
        };
        match outcome {
            Ok(()) => {
                self.block_on(writer.shutdown())?;
                Ok(total)
            }
            Err(e) => {
                let _ = self.block_on(writer.abort());
                Err(e)
            }
        }
    }

    pub(crate) fn size(&self, path: &str) -> Result<u64> {
        Ok(self.block_on(self.store.head(&ObjectPath::from(path))).map_err(store_error)?.size)
    }

    /// Deletes an object; a missing one is not an error.
    pub(crate) fn delete(&self, path: &str) -> Result<()> {
        match self.block_on(self.store.delete(&ObjectPath::from(path))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Deletes every object under `prefix` (and, on local disk, its directory).
    pub(crate) fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let paths: Vec<ObjectPath> = self
            .block_on(self.store.list(Some(&ObjectPath::from(prefix))).map_ok(|m| m.location).try_collect())
            .map_err(store_error)?;
        for p in paths {
            self.delete(p.as_ref())?;
        }
        if let Some(root) = &self.local_root {
            match std::fs::remove_dir_all(root.join(prefix)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Every object under `prefix`.
    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let paths: Vec<ObjectPath> = self
            .block_on(self.store.list(Some(&ObjectPath::from(prefix))).map_ok(|m| m.location).try_collect())
            .map_err(store_error)?;
        Ok(paths.into_iter().map(|p| p.as_ref().to_owned()).collect())
    }

    /// The top-level "directories" of the store.
    pub(crate) fn prefixes(&self) -> Result<Vec<String>> {
        let listing = self.block_on(self.store.list_with_delimiter(None)).map_err(store_error)?;
        Ok(listing.common_prefixes.iter().map(|p| p.as_ref().to_owned()).collect())
    }
}

fn parquet_error(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

/// Reads a Parquet object by ranges: the footer by a suffix request, then the
/// column chunks the reader asks for. A file on the local disk is read in
/// place, on the calling thread: its reads are short, and handing each to
/// the store's thread pool costs more than the read.
#[derive(Debug, Clone)]
pub(crate) struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    local: Option<PathBuf>,
}

/// Ranges of a local file closer than this are read as one.
const COALESCE_GAP: u64 = 4 * 1024;

/// The byte ranges of a local file: nearby ranges read together, each range
/// a slice of what was read.
fn read_local(file: &Path, ranges: &[std::ops::Range<u64>]) -> parquet::errors::Result<Vec<Bytes>> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |e: std::io::Error| ParquetError::External(Box::new(e));
    let mut f = std::fs::File::open(file).map_err(io)?;
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i].start);
    let mut out = vec![Bytes::new(); ranges.len()];
    let mut i = 0;
    while i < order.len() {
        // A span of ranges, each starting within the gap of the span's end.
        let start = ranges[order[i]].start;
        let mut end = ranges[order[i]].end;
        let mut j = i + 1;
        while j < order.len() && ranges[order[j]].start <= end.saturating_add(COALESCE_GAP) {
            end = end.max(ranges[order[j]].end);
            j += 1;
        }
        let len = end.saturating_sub(start);
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        (&mut f).take(len).read_to_end(&mut buf).map_err(io)?;
        if (buf.len() as u64) < len {
            return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let span = Bytes::from(buf);
        for &k in &order[i..j] {
            let r = &ranges[k];
            out[k] = span.slice((r.start - start) as usize..(r.end - start) as usize);
        }
        i = j;
    }
    Ok(out)
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: std::ops::Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        if let Some(file) = &self.local {
            let read = read_local(file, std::slice::from_ref(&range)).map(|mut v| v.pop().unwrap_or_default());
            return futures::future::ready(read).boxed();
        }
        async move { self.store.get_range(&self.path, range).await.map_err(parquet_error) }.boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        if let Some(file) = &self.local {
            return futures::future::ready(read_local(file, &ranges)).boxed();
        }
        async move { self.store.get_ranges(&self.path, &ranges).await.map_err(parquet_error) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_via_suffix_and_finish(self)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

impl MetadataSuffixFetch for &mut ObjectReader {
    fn fetch_suffix(&mut self, suffix: usize) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        if let Some(file) = &self.local {
            let read = std::fs::metadata(file).map_err(|e| ParquetError::External(Box::new(e))).and_then(|m| {
                let range = m.len().saturating_sub(suffix as u64)..m.len();
                read_local(file, std::slice::from_ref(&range)).map(|mut v| v.pop().unwrap_or_default())
            });
            return futures::future::ready(read).boxed();
        }
        let options = GetOptions { range: Some(GetRange::Suffix(suffix as u64)), ..Default::default() };
        async move {
            let got = self.store.get_opts(&self.path, options).await.map_err(parquet_error)?;
            got.bytes().await.map_err(parquet_error)
        }
        .boxed()
    }
}
