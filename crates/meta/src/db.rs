use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, Transaction};

use crate::Result;

/// Numbered schema migrations, applied in order at start-up. Never edit a
/// migration that has shipped: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: tenancy, tokens, labels, sessions.
    r#"
    CREATE TABLE orgs (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        status        TEXT NOT NULL DEFAULT 'active',
        password_hash TEXT
    );
    CREATE TABLE buckets (
        id                   INTEGER PRIMARY KEY,
        org_id               INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        kind                 TEXT NOT NULL DEFAULT 'user',
        name                 TEXT NOT NULL,
        description          TEXT NOT NULL DEFAULT '',
        rp                   TEXT NOT NULL DEFAULT '',
        retention_seconds    INTEGER NOT NULL DEFAULT 0,
        shard_group_seconds  INTEGER NOT NULL,
        schema_type          TEXT NOT NULL DEFAULT 'implicit',
        created_at           TEXT NOT NULL,
        updated_at           TEXT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE authorizations (
        id           INTEGER PRIMARY KEY,
        token_hash   BLOB NOT NULL UNIQUE,
        status       TEXT NOT NULL DEFAULT 'active',
        description  TEXT NOT NULL DEFAULT '',
        org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
        permissions  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE INDEX authorizations_user ON authorizations(user_id);
    CREATE INDEX authorizations_org ON authorizations(org_id);
    CREATE TABLE labels (
        id          INTEGER PRIMARY KEY,
        org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        properties  TEXT NOT NULL DEFAULT '{}',
        UNIQUE (org_id, name)
    );
    CREATE TABLE label_mappings (
        label_id      INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
        resource_type TEXT NOT NULL,
        resource_id   INTEGER NOT NULL,
        PRIMARY KEY (label_id, resource_type, resource_id)
    );
    CREATE INDEX label_mappings_resource ON label_mappings(resource_type, resource_id);
    CREATE TABLE members (
        resource_type TEXT NOT NULL,
        resource_id   INTEGER NOT NULL,
        user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role          TEXT NOT NULL CHECK (role IN ('owner', 'member')),
        PRIMARY KEY (resource_type, resource_id, user_id)
    );
    CREATE INDEX members_user ON members(user_id);
    CREATE TABLE sessions (
        key_hash   BLOB PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
    );
    "#,
    // 2: DBRP mappings (v1 database/retention policy → bucket).
    r#"
    CREATE TABLE dbrps (
        id          INTEGER PRIMARY KEY,
        org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        bucket_id   INTEGER NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
        database    TEXT NOT NULL,
        rp          TEXT NOT NULL,
        is_default  INTEGER NOT NULL DEFAULT 0,
        UNIQUE (org_id, database, rp)
    );
    "#,
    // 3: v1 (legacy) authorizations: a username, a bcrypt password, permissions.
    r#"
    CREATE TABLE legacy_authorizations (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        status        TEXT NOT NULL DEFAULT 'active',
        description   TEXT NOT NULL DEFAULT '',
        org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
        permissions   TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX legacy_authorizations_org ON legacy_authorizations(org_id);
    "#,
    // 4: an org's secrets, sealed (AES-256-GCM) with a key kept outside this file.
    r#"
    CREATE TABLE secrets (
        org_id  INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        key     TEXT NOT NULL,
        nonce   BLOB NOT NULL,
        sealed  BLOB NOT NULL,
        PRIMARY KEY (org_id, key)
    );
    "#,
    // 5: tasks, their runs and the runs' logs.
    r#"
    CREATE TABLE tasks (
        id               INTEGER PRIMARY KEY,
        org_id           INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        owner_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
        kind             TEXT NOT NULL DEFAULT 'system',
        name             TEXT NOT NULL,
        description      TEXT NOT NULL DEFAULT '',
        status           TEXT NOT NULL,
        flux             TEXT NOT NULL,
        every            TEXT NOT NULL DEFAULT '',
        cron             TEXT NOT NULL DEFAULT '',
        offset_ns        INTEGER NOT NULL DEFAULT 0,
        latest_completed INTEGER NOT NULL,
        latest_scheduled INTEGER NOT NULL,
        latest_success   INTEGER,
        latest_failure   INTEGER,
        last_run_status  TEXT NOT NULL DEFAULT '',
        last_run_error   TEXT NOT NULL DEFAULT '',
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER
    );
    CREATE INDEX tasks_org ON tasks(org_id);
    CREATE TABLE task_runs (
        id            INTEGER PRIMARY KEY,
        task_id       INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        status        TEXT NOT NULL,
        scheduled_for INTEGER NOT NULL,
        run_at        INTEGER NOT NULL,
        started_at    INTEGER,
        finished_at   INTEGER,
        requested_at  INTEGER
    );
    CREATE INDEX task_runs_task ON task_runs(task_id, scheduled_for);
    CREATE INDEX task_runs_status ON task_runs(status);
    CREATE TABLE task_run_logs (
        task_id  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        run_id   INTEGER NOT NULL REFERENCES task_runs(id) ON DELETE CASCADE,
        time     INTEGER NOT NULL,
        message  TEXT NOT NULL
    );
    CREATE INDEX task_run_logs_run ON task_run_logs(task_id, run_id);
    "#,
    // 6: remote connections (tokens sealed) and replications to them.
    r#"
    CREATE TABLE remotes (
        id                 INTEGER PRIMARY KEY,
        org_id             INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name               TEXT NOT NULL,
        description        TEXT NOT NULL DEFAULT '',
        remote_url         TEXT NOT NULL,
        remote_org_id      TEXT NOT NULL DEFAULT '',
        allow_insecure_tls INTEGER NOT NULL DEFAULT 0,
        token_nonce        BLOB NOT NULL,
        token_sealed       BLOB NOT NULL
    );
    CREATE INDEX remotes_org ON remotes(org_id);
    CREATE TABLE replications (
        id                      INTEGER PRIMARY KEY,
        org_id                  INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name                    TEXT NOT NULL,
        description             TEXT NOT NULL DEFAULT '',
        remote_id               INTEGER NOT NULL REFERENCES remotes(id),
        local_bucket_id         INTEGER NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
        remote_bucket_id        TEXT,
        remote_bucket_name      TEXT,
        max_queue_size_bytes    INTEGER NOT NULL,
        max_age_seconds         INTEGER NOT NULL,
        drop_non_retryable_data INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX replications_bucket ON replications(local_bucket_id);
    "#,
    // 7: data sources (their token, password and shared secret sealed).
    r#"
    CREATE TABLE sources (
        id                   INTEGER PRIMARY KEY,
        org_id               INTEGER NOT NULL,
        is_default           INTEGER NOT NULL DEFAULT 0,
        name                 TEXT NOT NULL,
        kind                 TEXT NOT NULL,
        url                  TEXT NOT NULL DEFAULT '',
        insecure_skip_verify INTEGER NOT NULL DEFAULT 0,
        telegraf             TEXT NOT NULL DEFAULT '',
        username             TEXT NOT NULL DEFAULT '',
        meta_url             TEXT NOT NULL DEFAULT '',
        default_rp           TEXT NOT NULL DEFAULT '',
        secrets_nonce        BLOB NOT NULL,
        secrets_sealed       BLOB NOT NULL
    );
    "#,
    // 8: stored documents: dashboards, views, variables, Telegraf configs, scraper targets.
    r#"
    CREATE TABLE documents (
        kind        TEXT NOT NULL,
        id          INTEGER PRIMARY KEY,
        org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        parent_id   INTEGER,
        name        TEXT NOT NULL,
        body        TEXT NOT NULL,
        owner_id    INTEGER,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX documents_kind_org ON documents(kind, org_id);
    CREATE INDEX documents_parent ON documents(parent_id);
    "#,
    // 9: shard IDs: what 2.x's backup protocol calls a shard is a bucket's shard group here.
    r#"
    CREATE TABLE shards (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        bucket_id    INTEGER NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
        start_ns     INTEGER NOT NULL,
        duration_ns  INTEGER NOT NULL,
        UNIQUE (bucket_id, start_ns)
    );
    "#,
];

/// The metadata store: one SQLite connection behind a mutex.
///
/// SQLite allows one writer at a time anyway, and every call here is short, so a
/// single connection keeps the contract simple. Callers on an async runtime should
/// call in from a blocking task: bcrypt in particular takes tens of milliseconds.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    /// Whole-store replacements so far (a restore changes no row count).
    replaced: std::sync::atomic::AtomicU64,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// A store that lives in memory only; for tests of callers.
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed transaction is on disk before the call returns.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Self { conn: Mutex::new(conn), replaced: Default::default() })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock only means another call panicked mid-way; SQLite rolled
        // its transaction back, so the connection is still sound.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one transaction: all of it commits, or none of it.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// A number that changes whenever anything in the store may have changed
    /// (the rows this connection, the only one, has written); `None` when the
    /// store is busy. A cache of reads stays valid while it stays the same.
    pub fn generation(&self) -> Option<u64> {
        let conn = self.conn.try_lock().ok()?;
        let replaced = self.replaced.load(std::sync::atomic::Ordering::SeqCst);
        Some(conn.total_changes().wrapping_add(replaced << 48))
    }

    /// Copies the whole store, as of one instant, to a new SQLite file at
    /// `path` (SQLite's online backup; other calls wait while it runs).
    pub fn snapshot_to(&self, path: &Path) -> Result<()> {
        self.conn().backup(rusqlite::MAIN_DB, path, None)?;
        Ok(())
    }

    /// Checks that `path` is a sound store of this kind: SQLite's integrity
    /// and foreign-key checks pass, and its schema is not newer than this
    /// build's. Answers its schema version.
    pub fn check_file(path: &Path) -> Result<usize> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| crate::Error::Invalid(format!("not a metadata snapshot: {e}")))?;
        let bad = |what: &str| crate::Error::Invalid(format!("not a sound metadata snapshot: {what}"));
        let verdict: String =
            conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| bad(&e.to_string()))?;
        if verdict != "ok" {
            return Err(bad(&verdict));
        }
        if conn.prepare("PRAGMA foreign_key_check").and_then(|mut s| s.exists([])).map_err(|e| bad(&e.to_string()))? {
            return Err(bad("foreign key check failed"));
        }
        let version: i64 =
            conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| bad(&e.to_string()))?;
        let has_orgs: bool = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'orgs'", [], |r| r.get(0))
            .map_err(|e| bad(&e.to_string()))?;
        if version < 1 || !has_orgs {
            return Err(bad("it holds no oxiflux metadata"));
        }
        if version as usize > MIGRATIONS.len() {
            return Err(crate::Error::Invalid(format!(
                "the metadata snapshot has schema version {version}, newer than this server's {}",
                MIGRATIONS.len()
            )));
        }
        Ok(version as usize)
    }

    /// Replaces the whole store with the one at `path` (checked first with
    /// [`Store::check_file`]), then brings its schema up to date.
    pub fn replace_with(&self, path: &Path) -> Result<()> {
        Self::check_file(path)?;
        let mut conn = self.conn();
        conn.restore(rusqlite::MAIN_DB, path, None::<fn(rusqlite::backup::Progress)>)?;
        migrate(&mut conn)?;
        self.replaced.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// The schema version now in force (the number of applied migrations).
    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self.conn().pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(v as usize)
    }

    /// Runs SQLite's own consistency checks; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<()> {
        let conn = self.conn();
        let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(crate::Error::Internal(format!("integrity check: {verdict}")));
        }
        let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
        if stmt.exists([])? {
            return Err(crate::Error::Internal("foreign key check failed".into()));
        }
        Ok(())
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied metadata migration");
    }
    Ok(())
}

/// One row of a query, its statement prepared once per connection and cached.
pub(crate) fn one<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.sqlite");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len());
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len());
        store.integrity_check().unwrap();
    }
}
