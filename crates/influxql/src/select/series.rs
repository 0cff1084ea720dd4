//! A measurement's series as one storage scan reads them: each series' key
//! and its fields aligned on one time axis, grouped by the `GROUP BY` tags,
//! and a group's points in time order.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, TimestampNanosecondArray};
use storage::{ReadApi, ScanRequest, SeriesKey};

use crate::ast::Expr;
use crate::error::{Error, Result};
use crate::value::{V, value_at};

use super::eval::{eval_with, truthy};
use super::window::{GroupKey, Row, group_key};

/// The series a scan read: `keys[i]`'s values of `fields` are `data[i]`.
pub(super) struct Scanned {
    pub(super) keys: Vec<SeriesKey>,
    fields: Vec<String>,
    data: Vec<SeriesData>,
}

/// Reads the series that `req` scans, with their `fields` (in that order,
/// by index from here on) aligned on each series' times.
pub(super) fn read(storage: &dyn ReadApi, mut req: ScanRequest, fields: &[String]) -> Result<Scanned> {
    req.fields = Some(fields.iter().cloned().collect());
    let mut keys: Vec<SeriesKey> = Vec::new();
    let mut parts: Vec<Vec<Option<FieldPart>>> = Vec::new();
    let mut failed = None;
    storage.scan_each(&req, &mut |fs| {
        // Series come grouped: the last one seen is the usual match.
        let idx = match keys.iter().rposition(|s| *s == *fs.series) {
            Some(i) => i,
            None => {
                keys.push((*fs.series).clone());
                parts.push(vec![None; fields.len()]);
                keys.len() - 1
            }
        };
        let Some(fi) = fields.iter().position(|f| *f == fs.field) else { return ControlFlow::Continue(()) };
        match fs.batch.column(0).as_any().downcast_ref::<TimestampNanosecondArray>() {
            Some(t) => {
                parts[idx][fi] = Some((t.values().to_vec(), Arc::clone(fs.batch.column(1))));
                ControlFlow::Continue(())
            }
            None => {
                failed = Some(Error::internal("storage returned times of another type"));
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let data = parts.into_iter().map(SeriesData::align).collect();
    Ok(Scanned { keys, fields: fields.to_vec(), data })
}

impl Scanned {
    /// The series of each group, by the `GROUP BY` tags' values.
    pub(super) fn groups(&self, group_tags: &[String]) -> BTreeMap<GroupKey, Vec<usize>> {
        let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        for (i, s) in self.keys.iter().enumerate() {
            groups.entry(group_key(group_tags, s)).or_default().push(i);
        }
        groups
    }

    /// A group's points `(time, series, row)` in time order (series order
    /// among equal times), those that `cond` keeps.
    pub(super) fn points(&self, members: &[usize], cond: Option<&Expr>) -> Vec<(i64, usize, usize)> {
        let mut at: Vec<(i64, usize, usize)> = Vec::new();
        for &i in members {
            let d = &self.data[i];
            for r in 0..d.times.len() {
                let keep = match cond {
                    Some(cond) => truthy(&eval_with(cond, &|name| self.lookup(name, i, r))),
                    None => true,
                };
                if keep {
                    at.push((d.times[r], i, r));
                }
            }
        }
        at.sort_unstable();
        at
    }

    /// Points as rows of their values of the fields read.
    pub(super) fn rows(&self, points: &[(i64, usize, usize)]) -> Vec<Row> {
        let fields = self.fields.len();
        points
            .iter()
            .map(|&(time, i, r)| Row {
                time,
                series: i,
                values: (0..fields).map(|f| self.data[i].cell(f, r)).collect(),
            })
            .collect()
    }

    /// Whether series `i` has a value of field `f` at row `r`.
    pub(super) fn present(&self, i: usize, f: usize, r: usize) -> bool {
        self.data[i].present(f, r)
    }

    /// A field's value at a row of series `i`, else the series' tag of that name.
    pub(super) fn lookup(&self, name: &str, i: usize, r: usize) -> Option<V> {
        self.data[i].lookup(name, r, &self.fields, &self.keys[i])
    }
}

/// One field of one series as storage gives it: times and values.
type FieldPart = (Vec<i64>, ArrayRef);

/// One series' fields aligned on the union of their times.
struct SeriesData {
    times: Vec<i64>,
    /// Per field read: its values and, when its times differ from the union's,
    /// the value index of each row (`u32::MAX`: none).
    cols: Vec<Option<(ArrayRef, Option<Vec<u32>>)>>,
}

impl SeriesData {
    fn align(parts: Vec<Option<FieldPart>>) -> SeriesData {
        let present: Vec<&Vec<i64>> = parts.iter().flatten().map(|(t, _)| t).collect();
        let same = present.windows(2).all(|w| w[0] == w[1]);
        let times: Vec<i64> = if same {
            present.first().map(|t| (*t).clone()).unwrap_or_default()
        } else {
            let mut all: Vec<i64> = present.iter().flat_map(|t| t.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            all
        };
        let cols = parts
            .into_iter()
            .map(|p| {
                p.map(|(t, values)| {
                    if t == times {
                        return (values, None);
                    }
                    let mut index = vec![u32::MAX; times.len()];
                    let mut j = 0;
                    for (k, &ti) in t.iter().enumerate() {
                        while times[j] < ti {
                            j += 1;
                        }
                        index[j] = k as u32;
                    }
                    (values, Some(index))
                })
            })
            .collect();
        SeriesData { times, cols }
    }

    /// The value index of field `f` at row `r`.
    fn at(&self, f: usize, r: usize) -> Option<(&ArrayRef, usize)> {
        let (values, index) = self.cols.get(f)?.as_ref()?;
        let i = match index {
            None => r,
            Some(ix) => match ix[r] {
                u32::MAX => return None,
                i => i as usize,
            },
        };
        (!values.is_null(i)).then_some((values, i))
    }

    fn present(&self, f: usize, r: usize) -> bool {
        self.at(f, r).is_some()
    }

    fn cell(&self, f: usize, r: usize) -> Option<V> {
        let (values, i) = self.at(f, r)?;
        value_at(values, i)
    }

    /// A field's value at a row, else the series' tag of that name.
    fn lookup(&self, name: &str, r: usize, all: &[String], s: &SeriesKey) -> Option<V> {
        match all.iter().position(|f| f == name) {
            Some(f) => self.cell(f, r),
            None => s.tag(name).map(|v| V::S(v.to_owned())),
        }
    }
}
