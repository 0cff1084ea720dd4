//! Running a stream: tables flow one at a time from their source (stored
//! tables, a storage scan, a library's source) through per-table operations
//! to the sink; an operation that needs every table gathers its inputs first,
//! counting what it holds against the query's memory budget.

use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::error::{EvalError, EvalResult};
use crate::interp::Interp;
use crate::limits::Reservation;
use crate::profile::Profile;
use crate::scan::ScanSpec;
use crate::stream::{Op, Sink, Stream};
use crate::table::Table;

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message.into()))
}

fn named(name: &str, e: EvalError) -> EvalError {
    if e.message().starts_with(name) && e.message()[name.len()..].starts_with(':') { e } else { e.context(name) }
}

/// Runs a stream, handing each table to `sink` as it is made.
pub fn execute(i: &mut Interp, s: &Stream, sink: &mut Sink<'_>) -> EvalResult<()> {
    match s {
        Stream::Tables(ts) => {
            for t in ts.iter() {
                i.budget.check_time()?;
                sink(i, t.clone())?;
            }
            Ok(())
        }
        Stream::Scan(spec) if i.profile.is_some() => source_timed(i, s, sink, |i, sink| run_scan(i, spec, sink)),
        Stream::Scan(spec) => run_scan(i, spec, sink),
        Stream::Source(source) if i.profile.is_some() => source_timed(i, s, sink, |i, sink| source.execute(i, sink)),
        Stream::Source(source) => source.execute(i, sink),
        Stream::Op { name, inputs, op: Op::PerTable(f), .. } => execute(i, &inputs[0], &mut |i, t| {
            i.budget.check_time()?;
            let started = i.profile.is_some().then(Instant::now);
            let outs = f(i, t).map_err(|e| named(name, e))?;
            record(i, s, started, Duration::ZERO);
            i.budget.check_time()?;
            for out in outs {
                sink(i, out)?;
            }
            Ok(())
        }),
        Stream::Op { name, inputs, op: Op::Whole(f), .. } => {
            let mut all = Vec::with_capacity(inputs.len());
            let mut held = Vec::new();
            for input in inputs {
                all.push(gather(i, input, &mut held)?);
            }
            i.budget.check_time()?;
            let started = i.profile.is_some().then(Instant::now);
            let outs = f(i, all).map_err(|e| named(name, e))?;
            record(i, s, started, Duration::ZERO);
            drop(held);
            let _held = i.budget.reserve(|| outs.iter().map(Table::memory_size).sum())?;
            for out in outs {
                i.budget.check_time()?;
                sink(i, out)?;
            }
            Ok(())
        }
    }
}

/// The profile of a plan: every operation of `results` (the streams a query
/// will run), labelled in the order a walk from the results meets them.
pub fn profile_of(results: &[Rc<Stream>]) -> Rc<Profile> {
    let profile = Profile::default();
    for s in results {
        operation(&profile, s);
    }
    Rc::new(profile)
}

/// The profile's operation for the plan node `s`, added (with its inputs) if new.
fn operation(profile: &Profile, s: &Stream) -> usize {
    let node = s as *const Stream as usize;
    if let Some(n) = profile.index(node) {
        return n;
    }
    let (kind, inputs) = match s {
        Stream::Tables(_) => ("tables".to_owned(), Vec::new()),
        Stream::Scan(spec) => {
            let kind = match (&spec.window, &spec.group) {
                (Some(_), _) => "ReadWindowAggregate",
                (None, Some(_)) => "ReadGroup",
                (None, None) => "ReadRange",
            };
            (kind.to_owned(), Vec::new())
        }
        Stream::Source(source) => (source.describe(), Vec::new()),
        Stream::Op { name, inputs, .. } => {
            ((*name).to_owned(), inputs.iter().map(|input| operation(profile, input)).collect())
        }
    };
    profile.add(node, kind, inputs)
}

/// Counts one call of the operation `s` with the profiler, if one is set:
/// the time since `started`, less `downstream` (spent past the operation).
fn record(i: &Interp, s: &Stream, started: Option<Instant>, downstream: Duration) {
    if let (Some(profile), Some(started)) = (&i.profile, started) {
        profile.record(operation(profile, s), started.elapsed().saturating_sub(downstream));
    }
}

/// Runs a source (a scan, a remote read) for the profiler: its time is what
/// it took less what the operations it feeds took with its tables.
fn source_timed(
    i: &mut Interp,
    s: &Stream,
    sink: &mut Sink<'_>,
    run: impl FnOnce(&mut Interp, &mut Sink<'_>) -> EvalResult<()>,
) -> EvalResult<()> {
    let started = Some(Instant::now());
    let mut downstream = Duration::ZERO;
    let result = run(i, &mut |i, t| {
        let at = Instant::now();
        let r = sink(i, t);
        downstream += at.elapsed();
        r
    });
    record(i, s, started, downstream);
    result
}

/// Runs a stream and gathers its tables.
pub fn collect(i: &mut Interp, s: &Stream) -> EvalResult<Vec<Table>> {
    gather(i, s, &mut Vec::new())
}

/// Gathers a stream's tables, counting each as held by the query until `held` is dropped.
fn gather(i: &mut Interp, s: &Stream, held: &mut Vec<Reservation>) -> EvalResult<Vec<Table>> {
    let mut out = Vec::new();
    execute(i, s, &mut |i, t| {
        held.push(i.budget.reserve(|| t.memory_size())?);
        out.push(t);
        Ok(())
    })?;
    Ok(out)
}

/// Runs a storage scan, one table per series and field.
fn run_scan(i: &mut Interp, spec: &ScanSpec, sink: &mut Sink<'_>) -> EvalResult<()> {
    let Some((start, stop)) = spec.range else {
        return fail(format!(
            "cannot submit unbounded read to {:?}; try bounding 'from' with a call to 'range'",
            spec.bucket_name
        ));
    };
    let source = i.source.clone().ok_or_else(|| EvalError::invalid("no storage in this context"))?;
    let req = storage::ScanRequest::new(spec.bucket, start, stop, spec.predicate.clone());
    if spec.window.is_none() && spec.group.is_none() {
        // A raw read goes to the sink series by series, never held whole.
        let mut failed = None;
        let mut each = |fs: storage::FieldSeries| -> EvalResult<()> {
            let _held = i.budget.reserve(|| crate::table::batch_memory_size(&fs.batch))?;
            if let Some(p) = &i.profile {
                p.scanned(fs.batch.num_rows(), crate::table::batch_memory_size(&fs.batch));
            }
            i.budget.check_time()?;
            let t = crate::table::from_series(&fs, start, stop)?;
            sink(i, t)
        };
        source
            .storage()
            .scan_each(&req, &mut |fs| match each(fs) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    std::ops::ControlFlow::Break(())
                }
            })
            .map_err(|e| EvalError::internal(format!("reading storage: {e}")))?;
        return failed.map_or(Ok(()), Err);
    }
    let series = match &spec.window {
        None => source.storage().scan(&req),
        Some(w) => source.storage().window_aggregate(&storage::WindowRequest {
            scan: req,
            every: w.every,
            offset: w.offset,
            aggregate: w.aggregate,
            create_empty: w.create_empty,
        }),
    }
    .map_err(|e| EvalError::internal(format!("reading storage: {e}")))?;
    let _held = i.budget.reserve(|| series.iter().map(|fs| crate::table::batch_memory_size(&fs.batch)).sum())?;
    if let Some(p) = &i.profile {
        for fs in &series {
            p.scanned(fs.batch.num_rows(), crate::table::batch_memory_size(&fs.batch));
        }
    }
    i.budget.check_time()?;
    match (&spec.group, &spec.window) {
        (None, _) => {
            for fs in &series {
                let t = match &spec.window {
                    None => crate::table::from_series(fs, start, stop)?,
                    Some(w) => crate::pushdown::window_table(fs, w, start, stop)?,
                };
                i.budget.check_time()?;
                sink(i, t)?;
            }
        }
        (Some(g), None) => {
            let tables =
                series.iter().map(|fs| crate::table::from_series(fs, start, stop)).collect::<EvalResult<Vec<_>>>()?;
            for t in crate::group::regroup_by(tables, |t| g.key_of(&t.names()))? {
                i.budget.check_time()?;
                sink(i, t)?;
            }
        }
        (Some(g), Some(w)) => {
            for t in crate::pushdown::grouped_windows(&series, w, g, start, stop)? {
                i.budget.check_time()?;
                sink(i, t)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_labelled_as_the_walk_from_its_results_meets_it() {
        let tables = Rc::new(Stream::Tables(Rc::new(Vec::new())));
        let profile = profile_of(std::slice::from_ref(&tables));
        assert_eq!(profile.plan(), "digraph {\n  \"tables0\"\n\n}\n");
        assert_eq!(profile_of(&[Rc::clone(&tables), tables]).plan(), "digraph {\n  \"tables0\"\n\n}\n");
    }
}
