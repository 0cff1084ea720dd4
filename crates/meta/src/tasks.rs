//! Tasks, their runs and the runs' logs.
//!
//! A task is a Flux script run on a schedule; the schedule itself (`every` or
//! `cron`, `offset`) is read from the script's `option task` by the caller and
//! kept here beside it. `latest_scheduled` is how far the scheduler has got:
//! every run it hands out moves it on in the same transaction that records
//! the run, so after a restart (or `kill -9`) the schedule resumes where it
//! was, nothing run twice and nothing skipped. Times are nanoseconds since
//! the Unix epoch.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Error, Id, Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Active,
    Inactive,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Active => "active",
            TaskStatus::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(TaskStatus::Active),
            "inactive" => Some(TaskStatus::Inactive),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: Id,
    pub org_id: Id,
    pub owner_id: Option<Id>,
    /// `system` for tasks made through the API, as InfluxDB marks them.
    pub kind: String,
    pub name: String,
    pub description: String,
    pub status: TaskStatus,
    pub flux: String,
    /// `every` as the script writes it, or empty.
    pub every: String,
    pub cron: String,
    pub offset_ns: i64,
    /// The latest scheduled time whose run has finished.
    pub latest_completed: i64,
    /// The latest scheduled time handed out to run.
    pub latest_scheduled: i64,
    pub latest_success: Option<i64>,
    pub latest_failure: Option<i64>,
    pub last_run_status: String,
    pub last_run_error: String,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

/// What a new task is made of (the schedule already read from its script).
#[derive(Debug, Clone)]
pub struct NewTask {
    pub org_id: Id,
    pub owner_id: Option<Id>,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub status: TaskStatus,
    pub flux: String,
    pub every: String,
    pub cron: String,
    pub offset_ns: i64,
    /// Creation time: the schedule starts after it.
    pub now: i64,
}

/// A change to a task; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TaskChange {
    /// A new script with the schedule read from it: name, every, cron, offset.
    pub script: Option<(String, String, String, String, i64)>,
    pub description: Option<String>,
    pub status: Option<TaskStatus>,
    pub now: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub org_id: Option<Id>,
    pub owner_id: Option<Id>,
    pub name: Option<String>,
    pub status: Option<TaskStatus>,
    pub kind: Option<String>,
    pub after: Option<Id>,
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Scheduled,
    Started,
    Success,
    Failed,
    Canceled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Scheduled => "scheduled",
            RunStatus::Started => "started",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::Canceled => "canceled",
        }
    }

    fn parse(s: &str) -> RunStatus {
        match s {
            "started" => RunStatus::Started,
            "success" => RunStatus::Success,
            "failed" => RunStatus::Failed,
            "canceled" => RunStatus::Canceled,
            _ => RunStatus::Scheduled,
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Success | RunStatus::Failed | RunStatus::Canceled)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: Id,
    pub task_id: Id,
    pub status: RunStatus,
    pub scheduled_for: i64,
    /// When it is due to run: the scheduled time plus the task's offset.
    pub run_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Set for runs asked for through the API.
    pub requested_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLog {
    pub run_id: Id,
    pub time: i64,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub after: Option<Id>,
    /// Scheduled strictly after / before these times.
    pub after_time: Option<i64>,
    pub before_time: Option<i64>,
    pub limit: usize,
}

const TASK_COLUMNS: &str = "id, org_id, owner_id, kind, name, description, status, flux, every, cron, offset_ns, \
     latest_completed, latest_scheduled, latest_success, latest_failure, last_run_status, last_run_error, \
     created_at, updated_at";

fn task_from_row(r: &Row<'_>) -> rusqlite::Result<Task> {
    let status: String = r.get(6)?;
    Ok(Task {
        id: r.get(0)?,
        org_id: r.get(1)?,
        owner_id: r.get(2)?,
        kind: r.get(3)?,
        name: r.get(4)?,
        description: r.get(5)?,
        status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Inactive),
        flux: r.get(7)?,
        every: r.get(8)?,
        cron: r.get(9)?,
        offset_ns: r.get(10)?,
        latest_completed: r.get(11)?,
        latest_scheduled: r.get(12)?,
        latest_success: r.get(13)?,
        latest_failure: r.get(14)?,
        last_run_status: r.get(15)?,
        last_run_error: r.get(16)?,
        created_at: r.get(17)?,
        updated_at: r.get(18)?,
    })
}

const RUN_COLUMNS: &str = "id, task_id, status, scheduled_for, run_at, started_at, finished_at, requested_at";

fn run_from_row(r: &Row<'_>) -> rusqlite::Result<Run> {
    let status: String = r.get(2)?;
    Ok(Run {
        id: r.get(0)?,
        task_id: r.get(1)?,
        status: RunStatus::parse(&status),
        scheduled_for: r.get(3)?,
        run_at: r.get(4)?,
        started_at: r.get(5)?,
        finished_at: r.get(6)?,
        requested_at: r.get(7)?,
    })
}

/// A time cut to whole seconds, as InfluxDB keeps task times.
fn whole_seconds(t: i64) -> i64 {
    t - t.rem_euclid(1_000_000_000)
}

fn find_task(conn: &Connection, id: Id) -> Result<Task> {
    crate::db::one(conn, &format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"), [id], task_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("task not found"))
}

fn find_run(conn: &Connection, task_id: Id, run_id: Id) -> Result<Run> {
    crate::db::one(
        conn,
        &format!("SELECT {RUN_COLUMNS} FROM task_runs WHERE id = ?1 AND task_id = ?2"),
        params![run_id, task_id],
        run_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("run not found"))
}

fn insert_run(
    conn: &Connection,
    task_id: Id,
    scheduled_for: i64,
    run_at: i64,
    requested_at: Option<i64>,
) -> Result<Run> {
    let run = Run {
        id: Id::generate(),
        task_id,
        status: RunStatus::Scheduled,
        scheduled_for,
        run_at,
        started_at: None,
        finished_at: None,
        requested_at,
    };
    conn.execute(
        "INSERT INTO task_runs (id, task_id, status, scheduled_for, run_at, requested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![run.id, task_id, run.status.as_str(), scheduled_for, run_at, requested_at],
    )?;
    Ok(run)
}

fn add_log(conn: &Connection, task_id: Id, run_id: Id, time: i64, message: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO task_run_logs (task_id, run_id, time, message) VALUES (?1, ?2, ?3, ?4)",
        params![task_id, run_id, time, message],
    )?;
    Ok(())
}

impl Store {
    pub fn create_task(&self, new: &NewTask) -> Result<Task> {
        self.write(|tx| {
            crate::orgs::find_by_id(tx, new.org_id)?;
            let created = whole_seconds(new.now);
            let id = Id::generate();
            tx.execute(
                "INSERT INTO tasks (id, org_id, owner_id, kind, name, description, status, flux, every, cron, offset_ns,
                                    latest_completed, latest_scheduled, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?12)",
                params![
                    id,
                    new.org_id,
                    new.owner_id,
                    new.kind,
                    new.name,
                    new.description,
                    new.status.as_str(),
                    new.flux,
                    new.every,
                    new.cron,
                    new.offset_ns,
                    created
                ],
            )?;
            if let Some(owner) = new.owner_id {
                crate::members::add(tx, crate::members::ResourceKind::Task, id, owner, crate::members::Role::Owner)?;
            }
            find_task(tx, id)
        })
    }

    pub fn find_task_by_id(&self, id: Id) -> Result<Task> {
        find_task(&self.conn(), id)
    }

    /// Tasks in ID order, after `filter.after`, at most `filter.limit`.
    pub fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks
             WHERE (?1 IS NULL OR org_id = ?1) AND (?2 IS NULL OR owner_id = ?2) AND (?3 IS NULL OR name = ?3)
               AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR kind = ?5) AND (?6 IS NULL OR id > ?6)
             ORDER BY id LIMIT ?7"
        ))?;
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(
                params![
                    filter.org_id,
                    filter.owner_id,
                    filter.name,
                    filter.status.map(TaskStatus::as_str),
                    filter.kind,
                    filter.after,
                    limit
                ],
                task_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every active task (for the scheduler).
    pub fn active_tasks(&self) -> Result<Vec<Task>> {
        let filter = TaskFilter { status: Some(TaskStatus::Active), limit: usize::MAX, ..Default::default() };
        self.list_tasks(&filter)
    }

    pub fn update_task(&self, id: Id, change: &TaskChange) -> Result<Task> {
        self.write(|tx| {
            let mut t = find_task(tx, id)?;
            let mut touched = false;
            if let Some((flux, name, every, cron, offset)) = &change.script {
                t.flux.clone_from(flux);
                t.name.clone_from(name);
                t.every.clone_from(every);
                t.cron.clone_from(cron);
                t.offset_ns = *offset;
                touched = true;
            }
            if let Some(d) = &change.description {
                t.description.clone_from(d);
                touched = true;
            }
            if let Some(s) = change.status
                && s != t.status
            {
                t.status = s;
                touched = true;
                // Made active again: the schedule starts from now, not from where it stopped.
                if s == TaskStatus::Active {
                    t.latest_completed = whole_seconds(change.now);
                    t.latest_scheduled = whole_seconds(change.now);
                }
            }
            if touched {
                t.updated_at = Some(change.now);
            }
            tx.execute(
                "UPDATE tasks SET name = ?2, description = ?3, status = ?4, flux = ?5, every = ?6, cron = ?7,
                    offset_ns = ?8, latest_completed = ?9, latest_scheduled = ?10, updated_at = ?11
                 WHERE id = ?1",
                params![
                    id,
                    t.name,
                    t.description,
                    t.status.as_str(),
                    t.flux,
                    t.every,
                    t.cron,
                    t.offset_ns,
                    t.latest_completed,
                    t.latest_scheduled,
                    t.updated_at
                ],
            )?;
            Ok(t)
        })
    }

    /// Deletes a task with its runs, logs, label mappings and members.
    pub fn delete_task(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            find_task(tx, id)?;
            tx.execute("DELETE FROM label_mappings WHERE resource_type = 'tasks' AND resource_id = ?1", [id])?;
            tx.execute("DELETE FROM members WHERE resource_type = 'tasks' AND resource_id = ?1", [id])?;
            tx.execute("DELETE FROM tasks WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// Hands out the scheduled run at `scheduled_for` (due at `run_at`) and
    /// moves the task's schedule past it, in one transaction. `None` if the
    /// schedule was already past it or the task is gone or inactive.
    pub fn schedule_run(&self, task_id: Id, scheduled_for: i64, run_at: i64) -> Result<Option<Run>> {
        self.write(|tx| {
            let t = match find_task(tx, task_id) {
                Ok(t) => t,
                Err(Error::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            if t.status != TaskStatus::Active || scheduled_for <= t.latest_scheduled {
                return Ok(None);
            }
            tx.execute("UPDATE tasks SET latest_scheduled = ?2 WHERE id = ?1", params![task_id, scheduled_for])?;
            insert_run(tx, task_id, scheduled_for, run_at, None).map(Some)
        })
    }

    /// A run asked for through the API (`POST /runs`): at `scheduled_for`, now.
    pub fn request_run(&self, task_id: Id, scheduled_for: i64, now: i64) -> Result<Run> {
        self.write(|tx| {
            find_task(tx, task_id)?;
            let queued: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM task_runs WHERE task_id = ?1 AND scheduled_for = ?2
                                    AND requested_at IS NOT NULL AND status = 'scheduled')",
                    params![task_id, scheduled_for],
                    |r| r.get(0),
                )
                .unwrap_or(false);
            if queued {
                return Err(Error::Conflict("run already queued".into()));
            }
            insert_run(tx, task_id, scheduled_for, now, Some(now))
        })
    }

    /// Runs not yet finished, oldest scheduled first: those waiting and those in flight.
    pub fn unfinished_runs(&self) -> Result<Vec<Run>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM task_runs WHERE status IN ('scheduled', 'started') ORDER BY scheduled_for, id"
        ))?;
        let rows = stmt.query_map([], run_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Marks a run started, with a log line.
    pub fn start_run(&self, task_id: Id, run_id: Id, now: i64, message: &str) -> Result<Run> {
        self.write(|tx| {
            let run = find_run(tx, task_id, run_id)?;
            if run.status != RunStatus::Scheduled {
                return Err(Error::Conflict(format!("run is {}", run.status.as_str())));
            }
            tx.execute(
                "UPDATE task_runs SET status = 'started', started_at = ?3 WHERE id = ?1 AND task_id = ?2",
                params![run_id, task_id, now],
            )?;
            add_log(tx, task_id, run_id, now, message)?;
            find_run(tx, task_id, run_id)
        })
    }

    /// Ends a run (success, failed or canceled) with its closing log lines, and
    /// records the outcome on the task: latest completed (only ever forward),
    /// last status and error. A run already finished (canceled meanwhile) is
    /// left as it is; `None` then.
    pub fn finish_run(
        &self,
        task_id: Id,
        run_id: Id,
        status: RunStatus,
        now: i64,
        logs: &[String],
        error: Option<&str>,
    ) -> Result<Option<Run>> {
        self.write(|tx| {
            let run = match find_run(tx, task_id, run_id) {
                Ok(r) => r,
                Err(Error::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            if run.status.is_finished() {
                return Ok(None);
            }
            tx.execute(
                "UPDATE task_runs SET status = ?3, finished_at = ?4, started_at = COALESCE(started_at, ?4)
                 WHERE id = ?1 AND task_id = ?2",
                params![run_id, task_id, status.as_str(), now],
            )?;
            for line in logs {
                add_log(tx, task_id, run_id, now, line)?;
            }
            let success = (status == RunStatus::Success).then_some(run.scheduled_for);
            let failure = (status == RunStatus::Failed).then_some(run.scheduled_for);
            tx.execute(
                "UPDATE tasks SET latest_completed = MAX(latest_completed, ?2),
                    latest_success = CASE WHEN ?3 IS NULL THEN latest_success ELSE MAX(COALESCE(latest_success, ?3), ?3) END,
                    latest_failure = CASE WHEN ?4 IS NULL THEN latest_failure ELSE MAX(COALESCE(latest_failure, ?4), ?4) END,
                    last_run_status = ?5, last_run_error = ?6
                 WHERE id = ?1",
                params![
                    task_id,
                    run.scheduled_for,
                    success,
                    failure,
                    status.as_str(),
                    if status == RunStatus::Failed { error.unwrap_or_default() } else { "" }
                ],
            )?;
            find_run(tx, task_id, run_id).map(Some)
        })
    }

    /// Cancels a run that has not started yet; its run as it now stands.
    /// A run in flight is stopped by the scheduler instead; a finished one
    /// is not found among those that can be canceled.
    pub fn cancel_run(&self, task_id: Id, run_id: Id, now: i64) -> Result<Run> {
        self.write(|tx| {
            let run = find_run(tx, task_id, run_id)?;
            match run.status {
                RunStatus::Scheduled => {
                    tx.execute(
                        "UPDATE task_runs SET status = 'canceled', finished_at = ?3 WHERE id = ?1 AND task_id = ?2",
                        params![run_id, task_id, now],
                    )?;
                    add_log(tx, task_id, run_id, now, "Run canceled")?;
                    find_run(tx, task_id, run_id)
                }
                RunStatus::Started => Ok(run),
                // A finished run is no longer one that can be canceled (InfluxDB's answer).
                _ => Err(Error::not_found("run not found")),
            }
        })
    }

    pub fn add_run_log(&self, task_id: Id, run_id: Id, time: i64, message: &str) -> Result<()> {
        self.write(|tx| add_log(tx, task_id, run_id, time, message))
    }

    pub fn find_run(&self, task_id: Id, run_id: Id) -> Result<Run> {
        find_run(&self.conn(), task_id, run_id)
    }

    /// A task's runs, newest scheduled first (as InfluxDB lists them).
    pub fn list_runs(&self, task_id: Id, filter: &RunFilter) -> Result<Vec<Run>> {
        let conn = self.conn();
        find_task(&conn, task_id)?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM task_runs
             WHERE task_id = ?1 AND (?2 IS NULL OR id > ?2)
               AND (?3 IS NULL OR scheduled_for > ?3) AND (?4 IS NULL OR scheduled_for < ?4)
             ORDER BY scheduled_for DESC, id DESC LIMIT ?5"
        ))?;
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![task_id, filter.after, filter.after_time, filter.before_time, limit], run_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The log of one run, or of all of a task's runs, oldest first.
    pub fn run_logs(&self, task_id: Id, run_id: Option<Id>) -> Result<Vec<RunLog>> {
        let conn = self.conn();
        find_task(&conn, task_id)?;
        if let Some(r) = run_id {
            find_run(&conn, task_id, r)?;
        }
        let mut stmt = conn.prepare(
            "SELECT run_id, time, message FROM task_run_logs
             WHERE task_id = ?1 AND (?2 IS NULL OR run_id = ?2) ORDER BY time, rowid",
        )?;
        let rows = stmt
            .query_map(params![task_id, run_id], |r| {
                Ok(RunLog { run_id: r.get(0)?, time: r.get(1)?, message: r.get(2)? })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Drops finished runs (and their logs) that finished before `before`.
    pub fn prune_runs(&self, before: i64) -> Result<usize> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM task_run_logs WHERE run_id IN
                   (SELECT id FROM task_runs WHERE finished_at IS NOT NULL AND finished_at < ?1)",
                [before],
            )?;
            Ok(tx.execute("DELETE FROM task_runs WHERE finished_at IS NOT NULL AND finished_at < ?1", [before])?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn store_with_org() -> (Store, Id) {
        let store = Store::open_in_memory().unwrap();
        let org = store.create_org("acme", "", None).unwrap();
        (store, org.id)
    }

    fn new_task(org: Id, now: i64) -> NewTask {
        NewTask {
            org_id: org,
            owner_id: None,
            kind: "system".into(),
            name: "t".into(),
            description: String::new(),
            status: TaskStatus::Active,
            flux: "option task = {name: \"t\", every: 1h}".into(),
            every: "1h".into(),
            cron: String::new(),
            offset_ns: 0,
            now,
        }
    }

    #[test]
    fn runs_are_handed_out_once_and_their_outcome_reaches_the_task() {
        let (store, org) = store_with_org();
        let t = store.create_task(&new_task(org, 1_500_000_000_123)).unwrap();
        assert_eq!((t.latest_completed, t.latest_scheduled), (1_500_000_000_000, 1_500_000_000_000));
        let s = 3_600_000_000_000;
        let run = store.schedule_run(t.id, s, s).unwrap().unwrap();
        assert!(store.schedule_run(t.id, s, s).unwrap().is_none(), "handed out twice");
        store.start_run(t.id, run.id, s + 1, "Started").unwrap();
        let done =
            store.finish_run(t.id, run.id, RunStatus::Failed, s + 2, &["boom".into()], Some("boom")).unwrap().unwrap();
        assert_eq!(done.status, RunStatus::Failed);
        let t = store.find_task_by_id(t.id).unwrap();
        assert_eq!((t.latest_completed, t.last_run_status.as_str(), t.last_run_error.as_str()), (s, "failed", "boom"));
        assert_eq!(store.run_logs(t.id, Some(run.id)).unwrap().len(), 2);
        assert!(store.finish_run(t.id, run.id, RunStatus::Success, s + 3, &[], None).unwrap().is_none());
        store.delete_task(t.id).unwrap();
        assert!(matches!(store.find_run(t.id, run.id), Err(Error::NotFound(_))));
    }
}
