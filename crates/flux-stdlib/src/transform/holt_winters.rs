//! `holtWinters()`: forecasts by Holt-Winters' damped, multiplicative-seasonal
//! method. The parameters are fitted as Flux fits them — a Nelder-Mead search
//! (the adaptive variant, with the dimension-dependent coefficients of Gao and
//! Han) from each point of a small grid of starting guesses, stopping when the
//! best error has not improved by 1e-4 over 100 iterations — so that the
//! forecasts come out as InfluxDB 2.x's do.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, TimestampNanosecondArray};
use arrow::datatypes::DataType;

use super::series::numbers;
use crate::args::{Def, bool_arg, fail, input, int_arg, out, str_arg};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, cell};
use flux_runtime::value::Value;

/// The weight of the first values in the non-seasonal starting level and trend.
const START_WEIGHT: f64 = 0.5;
/// The grid of starting guesses for alpha, beta, gamma and phi: from, to (exclusive), step.
const GUESS: (f64, f64, f64) = (0.3, 1.0, 0.4);
/// The search stops once the best error has improved by no more than this ...
const CONVERGED_BY: f64 = 1.0e-4;
/// ... over this many iterations.
const CONVERGED_AFTER: usize = 100;
/// The size of the starting simplex along each axis.
const SIMPLEX_SIZE: f64 = 0.05;

pub(super) fn install(def: Def<'_>) {
    def(
        "holtWinters",
        &["n", "interval", "seasonality", "withFit", "column", "timeColumn", "withMinSSE"],
        Some("tables"),
        holt_winters,
    );
}

fn holt_winters(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let n = int_arg(a, "n", None)?;
    let interval = match a.required("interval")? {
        Value::Duration(d) if d.months == 0 && !d.negative => d.nanos,
        v => return fail(format!("holtWinters: interval must be a duration of fixed length, got {v}")),
    };
    let season = int_arg(a, "seasonality", Some(0))?;
    let with_fit = bool_arg(a, "withFit", false)?;
    let with_min_sse = bool_arg(a, "withMinSSE", false)?;
    let column = str_arg(a, "column", "_value")?;
    let time_column = str_arg(a, "timeColumn", "_time")?;
    let season = usize::try_from(season).unwrap_or(0);
    let n = usize::try_from(n).unwrap_or(0);
    out(Stream::per_table("holtWinters", input(a)?, move |_, t| {
        let times = t
            .column(&time_column)
            .ok_or_else(|| EvalError::invalid(format!("cannot find time column {time_column}")))?;
        let values = t.column(&column).ok_or_else(|| EvalError::invalid(format!("cannot find column {column}")))?;
        if !matches!(values.data_type(), DataType::Int64 | DataType::UInt64 | DataType::Float64) {
            return fail(format!(
                "holtWinters can work only on numerical types, got {}",
                flux_runtime::table::type_label(values.data_type())
            ));
        }
        let series = Series::clean(times, values, interval)?;
        let (forecast, min_sse) = match &series {
            Some(s) => Fit::new(&s.values, season, n, with_fit).run(),
            None => (Vec::new(), 0.0),
        };
        let from = match &series {
            Some(s) if with_fit => s.start,
            Some(s) => s.stop + interval,
            None => 0,
        };
        let len = forecast.len();
        let mut columns: Vec<(String, ArrayRef)> = t
            .key
            .0
            .iter()
            .map(|(k, v)| {
                let dt = t.column(k).map_or(DataType::Utf8, |c| c.data_type().clone());
                (k.clone(), flux_runtime::table::repeat(v, &dt, len))
            })
            .collect();
        let stamps: Vec<i64> = (0..len as i64).map(|i| from + i * interval).collect();
        columns.push(("_time".into(), Arc::new(TimestampNanosecondArray::from(stamps).with_timezone("UTC"))));
        columns.push(("_value".into(), Arc::new(Float64Array::from(forecast))));
        if with_min_sse {
            columns.push(("minSSE".into(), Arc::new(Float64Array::from(vec![min_sse; len]))));
        }
        Ok(vec![Table::with_key(t.key.clone(), columns)?])
    }))
}

/// The values on a regular grid of `interval`: the first of each bucket,
/// `None` for a bucket without one; and the first and last times kept.
struct Series {
    values: Vec<Option<f64>>,
    start: i64,
    stop: i64,
}

impl Series {
    fn clean(times: &ArrayRef, values: &ArrayRef, interval: i64) -> EvalResult<Option<Series>> {
        let vs = numbers(values)?;
        let round = |t: i64| {
            if interval <= 0 {
                return t;
            }
            let r = t.rem_euclid(interval);
            if r + r < interval { t - r } else { t + (interval - r) }
        };
        let mut out: Vec<Option<f64>> = Vec::new();
        let (mut start, mut stop) = (0, 0);
        let mut bucket_end: Option<i64> = None;
        let mut filled = false;
        for (i, v) in vs.iter().enumerate() {
            let Value::Time(t) = cell(times.as_ref(), i) else { continue };
            if v.is_some_and(|x| !x.is_finite()) {
                return fail("NaN/Inf in input");
            }
            let rounded = round(t);
            let Some(end) = bucket_end.as_mut() else {
                // The first value must be there; rows before it are skipped.
                if v.is_none() {
                    continue;
                }
                start = t;
                bucket_end = Some(rounded);
                out.push(*v);
                filled = true;
                continue;
            };
            if rounded <= *end && filled {
                continue;
            }
            *end += interval;
            while rounded > *end {
                out.push(None);
                *end += interval;
            }
            out.push(*v);
            filled = true;
            stop = t;
        }
        Ok(bucket_end.map(|_| Series { values: out, start, stop }))
    }
}

/// One table's fit: the series, the season length (0: none) and how many
/// values to forecast.
struct Fit<'a> {
    y: &'a [Option<f64>],
    season: usize,
    seasonal: bool,
    horizon: usize,
    with_fit: bool,
}

impl<'a> Fit<'a> {
    fn new(y: &'a [Option<f64>], season: usize, horizon: usize, with_fit: bool) -> Self {
        Fit { y, season, seasonal: season >= 2, horizon, with_fit }
    }

    fn at(&self, i: usize) -> f64 {
        self.y[i].unwrap_or(0.0)
    }

    /// The forecast (with the fitted values first when asked) and the least error found.
    fn run(&self) -> (Vec<f64>, f64) {
        let len = self.y.len();
        if len < 2 || (self.seasonal && len < self.season) || self.horizon == 0 {
            return (Vec::new(), 0.0);
        }
        let m = self.season;
        let (mut level, mut trend) = (0.0, 0.0);
        if self.seasonal {
            for v in self.y[..m].iter().flatten() {
                level += (1.0 / m as f64) * v;
            }
            for i in 0..m {
                if m + i >= len {
                    break;
                }
                if let (Some(a), Some(b)) = (self.y[i], self.y[m + i]) {
                    trend += 1.0 / (m * m) as f64 * (b - a);
                }
            }
        } else {
            level += START_WEIGHT * self.at(0);
            if let Some(second) = self.y[1] {
                trend = START_WEIGHT * (second - self.at(0));
            }
        }
        let mut start = vec![0.0; 6];
        start[4] = level;
        start[5] = trend;
        if self.seasonal {
            start.extend(self.y[..m].iter().map(|v| v.map_or(1.0, |v| v / level)));
        }
        let mut best: Option<(f64, Vec<f64>)> = None;
        let steps = |from: f64| std::iter::successors(Some(from), |x| Some(x + GUESS.2)).take_while(|x| *x < GUESS.1);
        for alpha in steps(GUESS.0) {
            for beta in steps(GUESS.0) {
                for gamma in steps(GUESS.0) {
                    for phi in steps(GUESS.0) {
                        start[..4].copy_from_slice(&[alpha, beta, gamma, phi]);
                        let (x, sse) = minimize(&mut |p| self.sse(p), &start);
                        if best.as_ref().is_none_or(|(least, _)| sse < *least) {
                            best = Some((sse, x));
                        }
                    }
                }
            }
        }
        let Some((least, mut params)) = best else { return (Vec::new(), 0.0) };
        (self.forecast(&mut params, false), least)
    }

    fn sse(&self, params: &[f64]) -> f64 {
        let mut p = params.to_vec();
        let fitted = self.forecast(&mut p, true);
        fitted.iter().zip(self.y).filter_map(|(f, y)| y.map(|y| (f - y) * (f - y))).sum()
    }

    /// The fitted values over the series (`only_fit`), or the forecast after
    /// it (with the fitted values first when `with_fit`). The seasonal
    /// factors in `params` are updated as the model runs.
    fn forecast(&self, params: &mut [f64], only_fit: bool) -> Vec<f64> {
        for p in &mut params[..4] {
            *p = p.clamp(0.0, 1.0);
        }
        let h = if only_fit { 0 } else { self.horizon };
        let len = self.y.len();
        let (alpha, beta, gamma, phi) = (params[0], params[1], params[2], params[3]);
        let mut phi_h = phi;
        let (mut level, mut trend) = (params[4], params[5]);
        let mut y = self.at(0);
        const SEASONS: usize = 6;
        let (mut m, mut offset) = (0, 0);
        if self.seasonal {
            m = params.len() - SEASONS;
            if m == 1 {
                params[SEASONS] = 1.0;
            }
            offset = m - 1;
        }
        let keep_fit = only_fit || self.with_fit;
        let mut out = Vec::with_capacity(h + if keep_fit { len } else { 0 });
        if keep_fit {
            out.push(y);
        }
        let (mut s_tm, mut s_tmh) = (1.0, 1.0);
        for t in 1..len + h {
            if self.seasonal {
                let hm = t % m;
                s_tm = params[SEASONS + (t + offset - m) % m];
                s_tmh = params[SEASONS + (t + hm + offset - m) % m];
            }
            let (level_before, trend_before) = (level, trend);
            level = alpha * (y / s_tm) + (1.0 - alpha) * (level_before + phi * trend_before);
            trend = beta * (level - level_before) + (1.0 - beta) * phi * trend_before;
            let season = gamma * (y / (level_before + phi * trend_before)) + (1.0 - gamma) * s_tm;
            y = (level + phi_h * trend) * s_tmh;
            phi_h += whole_power(phi, t);
            if self.seasonal {
                params[SEASONS + (t + offset) % m] = season;
                offset += 1;
            }
            if keep_fit || t >= len {
                out.push(y);
            }
        }
        out
    }
}

/// `x` to the power `n` (n ≥ 1) by repeated squaring of its mantissa, as Go's
/// `math.Pow` computes a whole power, so that the damping sums agree to the bit.
fn whole_power(x: f64, n: usize) -> f64 {
    if n == 0 || x == 1.0 {
        return 1.0;
    }
    if n == 1 || x == 0.0 || !x.is_finite() {
        return x.powi(n as i32);
    }
    let (mut mantissa, mut exp) = libm::frexp(x);
    let (mut acc, mut acc_exp) = (1.0, 0i32);
    let mut i = n;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&exp) {
            acc_exp += exp;
            break;
        }
        if i & 1 == 1 {
            acc *= mantissa;
            acc_exp += exp;
        }
        mantissa *= mantissa;
        exp <<= 1;
        if mantissa < 0.5 {
            mantissa += mantissa;
            exp -= 1;
        }
        i >>= 1;
    }
    libm::ldexp(acc, acc_exp)
}

/// Nelder-Mead from `x0`: the best point found and its value. The starting
/// simplex is `x0` and a step of [`SIMPLEX_SIZE`] along each axis; the
/// coefficients follow the dimension (reflection 1, expansion 1 + 2/n,
/// contraction 3/4 - 1/(2n), shrink 1 - 1/n); it stops once the best value
/// has not fallen by more than [`CONVERGED_BY`] for [`CONVERGED_AFTER`] rounds.
fn minimize(f: &mut dyn FnMut(&[f64]) -> f64, x0: &[f64]) -> (Vec<f64>, f64) {
    let dim = x0.len();
    let n = dim as f64;
    let (expansion, contraction, shrink) =
        if dim == 1 { (2.0, 0.5, 0.5) } else { (1.0 + 2.0 / n, 0.75 - 1.0 / (2.0 * n), 1.0 - 1.0 / n) };
    let mut converged = Convergence { best: f(x0), rounds: 0 };

    let mut simplex =
        Simplex { points: vec![Vec::new(); dim + 1], values: vec![0.0; dim + 1], centroid: vec![0.0; dim] };
    simplex.points[dim] = x0.to_vec();
    simplex.values[dim] = converged.best;
    for i in 0..dim {
        let mut x = x0.to_vec();
        x[i] += SIMPLEX_SIZE;
        simplex.values[i] = f(&x);
        simplex.points[i] = x;
    }
    simplex.sort();
    loop {
        if converged.done(simplex.values[0]) {
            break;
        }
        let reflected = simplex.toward(1.0);
        let fr = f(&reflected);
        if fr >= simplex.values[0] && fr < simplex.values[dim - 1] {
            simplex.replace_worst(&reflected, fr);
            continue;
        }
        if fr < simplex.values[0] {
            let expanded = simplex.toward(expansion);
            let fe = f(&expanded);
            if fe < fr {
                simplex.replace_worst(&expanded, fe);
            } else {
                simplex.replace_worst(&reflected, fr);
            }
            continue;
        }
        let (contracted, outside) = if fr < simplex.values[dim] {
            (simplex.toward(contraction), true)
        } else {
            (simplex.toward(-contraction), false)
        };
        let fc = f(&contracted);
        if (outside && fc <= fr) || (!outside && fc < simplex.values[dim]) {
            simplex.replace_worst(&contracted, fc);
            continue;
        }
        // Shrink every point toward the best.
        for i in 1..=dim {
            let x: Vec<f64> =
                simplex.points[i].iter().zip(&simplex.points[0]).map(|(v, best)| shrink * (v - best) + best).collect();
            simplex.values[i] = f(&x);
            simplex.points[i] = x;
        }
        simplex.sort();
    }
    (simplex.points.swap_remove(0), simplex.values[0])
}

/// The stopping rule: rounds since the best value last fell by more than [`CONVERGED_BY`].
struct Convergence {
    best: f64,
    rounds: usize,
}

impl Convergence {
    fn done(&mut self, f: f64) -> bool {
        if f < self.best && self.best - f > CONVERGED_BY {
            self.best = f;
            self.rounds = 0;
            return false;
        }
        self.rounds += 1;
        self.rounds >= CONVERGED_AFTER
    }
}

/// Points sorted by value (best first) and the centroid of all but the worst.
struct Simplex {
    points: Vec<Vec<f64>>,
    values: Vec<f64>,
    centroid: Vec<f64>,
}

impl Simplex {
    /// Stable insertion sort by value, then the centroid afresh.
    fn sort(&mut self) {
        for i in 1..self.values.len() {
            let mut j = i;
            while j > 0 && self.values[j] < self.values[j - 1] {
                self.values.swap(j, j - 1);
                self.points.swap(j, j - 1);
                j -= 1;
            }
        }
        let dim = self.centroid.len();
        self.centroid.iter_mut().for_each(|c| *c = 0.0);
        for p in &self.points[..dim] {
            for (c, v) in self.centroid.iter_mut().zip(p) {
                *c += v;
            }
        }
        self.centroid.iter_mut().for_each(|c| *c /= dim as f64);
    }

    /// The centroid plus `scale` times the way from the worst point to it.
    fn toward(&self, scale: f64) -> Vec<f64> {
        let worst = &self.points[self.centroid.len()];
        self.centroid.iter().zip(worst).map(|(c, w)| (c - w) * scale + c).collect()
    }

    /// Puts `x` in place of the worst point, keeping the order, and moves the centroid.
    fn replace_worst(&mut self, x: &[f64], f: f64) {
        let dim = self.centroid.len();
        self.points[dim].copy_from_slice(x);
        self.values[dim] = f;
        let mut i = dim;
        while i > 0 && self.values[i - 1] >= f {
            self.values.swap(i, i - 1);
            self.points.swap(i, i - 1);
            i -= 1;
        }
        let share = 1.0 / dim as f64;
        for (c, w) in self.centroid.iter_mut().zip(&self.points[dim]) {
            *c += -share * w;
        }
        for (c, v) in self.centroid.iter_mut().zip(x) {
            *c += share * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_a_bowls_bottom() {
        let (x, f) = minimize(&mut |p| (p[0] - 3.0).powi(2) + (p[1] + 1.0).powi(2) + 2.0, &[0.0, 0.0]);
        assert!((x[0] - 3.0).abs() < 0.05 && (x[1] + 1.0).abs() < 0.05, "{x:?}");
        assert!((f - 2.0).abs() < 1e-3, "{f}");
    }

    #[test]
    fn whole_powers_match_repeated_multiplication() {
        for (x, n) in [(0.7, 1), (0.7, 5), (0.3, 13), (0.999, 40), (0.5, 3)] {
            let direct: f64 = (0..n).fold(1.0, |acc, _| acc * x);
            assert!((whole_power(x, n) - direct).abs() <= direct * 1e-14, "{x}^{n}");
        }
    }
}
