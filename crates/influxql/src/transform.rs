//! InfluxQL's transformations (a series of values in, a series out) and its
//! math functions (a value in, a value out).

use crate::ast::Expr;
use crate::value::V;

type Run<T> = Result<T, String>;

const SECOND: i64 = 1_000_000_000;

/// Whether a function transforms a series of values.
pub(crate) fn is_transformation(name: &str) -> bool {
    matches!(
        name,
        "derivative"
            | "non_negative_derivative"
            | "difference"
            | "non_negative_difference"
            | "moving_average"
            | "cumulative_sum"
            | "elapsed"
            | "holt_winters"
            | "holt_winters_with_fit"
    ) || is_technical(name)
}

/// Checks a `holt_winters[_with_fit](aggregate, N, S)` call as InfluxQL's compiler does.
pub(crate) fn check_holt_winters(name: &str, args: &[Expr], grouped_by_time: bool) -> Run<()> {
    if args.len() != 3 {
        return Err(format!("invalid number of arguments for {name}, expected 3, got {}", args.len()));
    }
    match args[1] {
        Expr::Integer(n) if n > 0 => {}
        Expr::Integer(n) => return Err(format!("second arg to {name} must be greater than 0, got {n}")),
        _ => return Err(format!("expected integer argument as second arg in {name}")),
    }
    match args[2] {
        Expr::Integer(s) if s >= 0 => {}
        Expr::Integer(s) => return Err(format!("third arg to {name} cannot be negative, got {s}")),
        _ => return Err(format!("expected integer argument as third arg in {name}")),
    }
    match &args[0] {
        Expr::Call { .. } if grouped_by_time => Ok(()),
        Expr::Call { .. } => Err(format!("{name} aggregate requires a GROUP BY interval")),
        _ => Err(format!("must use aggregate function with {name}")),
    }
}

/// Whether a transformation of window aggregates also reads the window
/// before a `GROUP BY time` range (all but `cumulative_sum`).
pub(crate) fn looks_back(name: &str) -> bool {
    !matches!(name, "cumulative_sum" | "holt_winters" | "holt_winters_with_fit")
}

/// Whether a function is one of the technical-analysis transformations.
pub(crate) fn is_technical(name: &str) -> bool {
    matches!(
        name,
        "exponential_moving_average"
            | "double_exponential_moving_average"
            | "triple_exponential_moving_average"
            | "relative_strength_index"
            | "triple_exponential_derivative"
            | "kaufmans_efficiency_ratio"
            | "kaufmans_adaptive_moving_average"
            | "chande_momentum_oscillator"
    )
}

/// Checks a technical-analysis call's arguments as InfluxQL's compiler does:
/// `(field or aggregate, period[, hold period[, warmup type]])`.
pub(crate) fn check_technical(name: &str, args: &[Expr], grouped_by_time: bool) -> Run<()> {
    let kaufmans = name.starts_with("kaufmans");
    let most = if kaufmans { 3 } else { 4 };
    if args.len() < 2 || args.len() > most {
        return Err(format!(
            "invalid number of arguments for {name}, expected at least 2 but no more than {most}, got {}",
            args.len()
        ));
    }
    match args[1] {
        Expr::Integer(n) if n >= 1 => {}
        Expr::Integer(_) => return Err(format!("{name} period must be greater than or equal to 1")),
        _ => return Err(format!("{name} period must be an integer")),
    }
    match args.get(2) {
        None => {}
        Some(Expr::Integer(h)) if name == "triple_exponential_derivative" && *h < 1 && *h != -1 => {
            return Err(format!("{name} hold period must be greater than or equal to 1"));
        }
        Some(Expr::Integer(h)) if *h < 0 && *h != -1 => {
            return Err(format!("{name} hold period must be greater than or equal to 0"));
        }
        Some(Expr::Integer(_)) => {}
        Some(_) => return Err(format!("{name} hold period must be an integer")),
    }
    match args.get(3) {
        None => {}
        Some(Expr::String(w)) if name == "chande_momentum_oscillator" && w == "none" => {}
        Some(Expr::String(w))
            if name == "chande_momentum_oscillator" && !matches!(w.as_str(), "exponential" | "simple") =>
        {
            return Err(format!("{name} warmup type must be one of: 'none' 'exponential' 'simple'"));
        }
        Some(Expr::String(w)) if !matches!(w.as_str(), "exponential" | "simple") => {
            return Err(format!("{name} warmup type must be one of: 'exponential' 'simple'"));
        }
        Some(Expr::String(_)) => {}
        Some(_) => return Err(format!("{name} warmup type must be a string")),
    }
    match (&args[0], grouped_by_time) {
        (Expr::Call { .. }, false) => Err(format!("{name} aggregate requires a GROUP BY interval")),
        (Expr::Call { .. }, true) => Ok(()),
        (_, true) => Err(format!("aggregate function required inside the call to {name}")),
        (_, false) => Ok(()),
    }
}

/// How the exponential averages start, before they have seen `period` values.
#[derive(Clone, Copy, PartialEq)]
enum Warmup {
    /// A running simple average of the values so far.
    Simple,
    /// An exponential average whose weight grows with the values seen.
    Exponential,
}

/// An exponential moving average with weight `alpha` once warmed.
#[derive(Clone)]
struct Ema {
    period: usize,
    alpha: f64,
    warmup: Warmup,
    seen: usize,
    last: f64,
}

impl Ema {
    fn new(period: usize, warmup: Warmup) -> Self {
        Self { period, alpha: 2.0 / (period as f64 + 1.0), warmup, seen: 0, last: 0.0 }
    }

    fn warmed(&self) -> bool {
        self.seen == self.period
    }

    /// Values needed before the average is fully warmed.
    fn warm_count(&self) -> usize {
        self.period - 1
    }

    /// Whether a later stage of a cascade takes this one's output.
    fn feeds(&self) -> bool {
        self.warmed() || self.warmup == Warmup::Exponential
    }

    fn add(&mut self, v: f64) -> f64 {
        self.last = if self.seen == 0 {
            v
        } else if self.warmed() {
            (v - self.last) * self.alpha + self.last
        } else if self.warmup == Warmup::Simple {
            (self.last * self.seen as f64 + v) / (self.seen as f64 + 1.0)
        } else {
            (v - self.last) * (2.0 / (self.seen as f64 + 2.0)) + self.last
        };
        if self.seen < self.period {
            self.seen += 1;
        }
        self.last
    }
}

/// A technical-analysis algorithm: values in, one output per value.
trait Indicator {
    fn add(&mut self, v: f64) -> f64;
    /// Values to hold back before emitting, when the query does not say.
    fn default_hold(&self) -> usize;
}

struct Single(Ema);

impl Indicator for Single {
    fn add(&mut self, v: f64) -> f64 {
        self.0.add(v)
    }
    fn default_hold(&self) -> usize {
        self.0.warm_count()
    }
}

/// Double and triple exponential averages: each stage averages the one
/// before (once it is warmed, for simple warmup), combined to cancel lag.
struct Cascade {
    stages: Vec<Ema>,
}

impl Indicator for Cascade {
    fn add(&mut self, v: f64) -> f64 {
        let mut outs = Vec::with_capacity(self.stages.len());
        let mut cur = v;
        for i in 0..self.stages.len() {
            if i == 0 || self.stages[i - 1].feeds() {
                cur = self.stages[i].add(cur);
            }
            outs.push(cur);
        }
        match outs.as_slice() {
            [a, b] => 2.0 * a - b,
            [a, b, c] => 3.0 * a - 3.0 * b + c,
            _ => cur,
        }
    }
    fn default_hold(&self) -> usize {
        let first = &self.stages[0];
        if first.warmup == Warmup::Exponential { first.warm_count() } else { first.warm_count() * self.stages.len() }
    }
}

/// TRIX: the rate of change (percent) of a triple exponential average.
struct Trix {
    stages: [Ema; 3],
    last: f64,
}

impl Indicator for Trix {
    fn add(&mut self, v: f64) -> f64 {
        let mut cur = self.stages[0].add(v);
        if self.stages[0].feeds() {
            cur = self.stages[1].add(cur);
            if self.stages[1].feeds() {
                cur = self.stages[2].add(cur);
            }
        }
        let rate = (cur / self.last - 1.0) * 100.0;
        self.last = cur;
        rate
    }
    fn default_hold(&self) -> usize {
        let first = &self.stages[0];
        if first.warmup == Warmup::Exponential { first.warm_count() + 1 } else { first.warm_count() * 3 + 1 }
    }
}

/// Averages of the ups and the downs between successive values (Wilder's
/// smoothing), as RSI and the smoothed Chande oscillator use them.
struct UpsAndDowns {
    up: Ema,
    down: Ema,
    previous: f64,
    /// RSI: 100 - 100 / (1 + up/down); else Chande: 100 (up - down) / (up + down).
    rsi: bool,
}

impl UpsAndDowns {
    fn new(period: usize, warmup: Warmup, rsi: bool) -> Self {
        let mut ema = Ema::new(period + 1, warmup);
        ema.alpha = 1.0 / period as f64;
        Self { up: ema.clone(), down: ema, previous: 0.0, rsi }
    }
}

impl Indicator for UpsAndDowns {
    fn add(&mut self, v: f64) -> f64 {
        let (up, down) = if v > self.previous {
            (v - self.previous, 0.0)
        } else if v < self.previous {
            (0.0, self.previous - v)
        } else {
            (0.0, 0.0)
        };
        self.up.add(up);
        self.down.add(down);
        self.previous = v;
        let (u, d) = (self.up.last, self.down.last);
        if self.rsi { 100.0 - 100.0 / (1.0 + u / d) } else { 100.0 * ((u - d) / (u + d)) }
    }
    fn default_hold(&self) -> usize {
        self.up.warm_count()
    }
}

/// The Chande momentum oscillator over a window of `period` changes, unsmoothed.
struct Chande {
    /// The window's (value, change from the one before), oldest first.
    window: std::collections::VecDeque<(f64, f64)>,
    capacity: usize,
    ups: f64,
    downs: f64,
    previous: Option<f64>,
}

impl Indicator for Chande {
    fn add(&mut self, v: f64) -> f64 {
        let change = match self.previous {
            Some(p) => v - p,
            None => 0.0,
        };
        if change > 0.0 {
            self.ups += change;
        } else {
            self.downs -= change;
        }
        let out = if self.ups != 0.0 || self.downs != 0.0 {
            100.0 * ((self.ups - self.downs) / (self.ups + self.downs))
        } else {
            0.0
        };
        // The oldest change leaves the window once it is full.
        if self.window.len() == self.capacity
            && let Some((_, old)) = self.window.pop_front()
        {
            if old > 0.0 {
                self.ups -= old;
            } else {
                self.downs += old;
            }
        }
        if self.capacity > 0 {
            self.window.push_back((v, change));
        }
        self.previous = Some(v);
        out
    }
    fn default_hold(&self) -> usize {
        self.capacity
    }
}

/// Kaufman's efficiency ratio (net change over the sum of changes across
/// `period` values) and his adaptive moving average, which it steers.
struct Kaufman {
    /// The last `period` (value, |change|), oldest first; zeros until filled.
    window: std::collections::VecDeque<(f64, f64)>,
    noise: f64,
    newest: f64,
    seen: usize,
    /// The adaptive average, when asked for.
    average: Option<f64>,
}

impl Kaufman {
    fn new(period: usize, adaptive: bool) -> Self {
        Self {
            window: std::iter::repeat_n((0.0, 0.0), period).collect(),
            noise: 0.0,
            newest: 0.0,
            seen: 0,
            average: adaptive.then_some(0.0),
        }
    }

    fn ratio(&mut self, v: f64) -> f64 {
        let (oldest, oldest_change) = self.window.pop_front().unwrap_or((0.0, 0.0));
        let signal = (v - oldest).abs();
        let change = (v - self.newest).abs();
        self.noise += change - oldest_change;
        self.window.push_back((v, change));
        self.newest = v;
        if self.seen <= self.window.len() {
            self.seen += 1;
        }
        if signal == 0.0 || self.noise == 0.0 { 0.0 } else { signal / self.noise }
    }
}

impl Indicator for Kaufman {
    fn add(&mut self, v: f64) -> f64 {
        let warmed = self.seen == self.window.len() + 1;
        let newest = self.newest;
        let er = self.ratio(v);
        match &mut self.average {
            None => er,
            Some(avg) => {
                // Until warmed, the average restarts from the latest value.
                if !warmed {
                    *avg = newest;
                }
                let (fast, slow) = (2.0 / 3.0, 2.0 / 31.0);
                let sc = (er * (fast - slow) + slow).powi(2);
                *avg += sc * (v - *avg);
                *avg
            }
        }
    }
    fn default_hold(&self) -> usize {
        self.window.len()
    }
}

/// Runs a technical-analysis function over a series' values: one output per
/// input after the hold period, dropping infinite ratios as InfluxDB does.
fn technical(name: &str, args: &[Expr], seq: &[(i64, V)]) -> Run<Vec<(i64, V)>> {
    let period = match args.get(1) {
        Some(Expr::Integer(n)) if *n >= 1 => *n as usize,
        _ => return Err(format!("{name} period must be greater than or equal to 1")),
    };
    let hold = match args.get(2) {
        Some(Expr::Integer(h)) if *h >= 0 => Some(*h as usize),
        _ => None,
    };
    let warmup_name = match args.get(3) {
        Some(Expr::String(w)) => w.as_str(),
        _ => "",
    };
    let warmup = if warmup_name == "simple" { Warmup::Simple } else { Warmup::Exponential };
    let ema = || Ema::new(period, warmup);
    let mut alg: Box<dyn Indicator> = match name {
        "exponential_moving_average" => Box::new(Single(ema())),
        "double_exponential_moving_average" => Box::new(Cascade { stages: vec![ema(), ema()] }),
        "triple_exponential_moving_average" => Box::new(Cascade { stages: vec![ema(), ema(), ema()] }),
        "triple_exponential_derivative" => Box::new(Trix { stages: [ema(), ema(), ema()], last: 0.0 }),
        "relative_strength_index" => Box::new(UpsAndDowns::new(period, warmup, true)),
        "chande_momentum_oscillator" if warmup_name.is_empty() || warmup_name == "none" => Box::new(Chande {
            window: std::collections::VecDeque::new(),
            capacity: period - 1,
            ups: 0.0,
            downs: 0.0,
            previous: None,
        }),
        "chande_momentum_oscillator" => Box::new(UpsAndDowns::new(period, warmup, false)),
        "kaufmans_efficiency_ratio" => Box::new(Kaufman::new(period, false)),
        "kaufmans_adaptive_moving_average" => Box::new(Kaufman::new(period, true)),
        other => return Err(format!("undefined function {other}()")),
    };
    let hold = hold.unwrap_or_else(|| alg.default_hold());
    let kaufmans = name.starts_with("kaufmans");
    let mut out = Vec::new();
    for (i, (t, v)) in seq.iter().enumerate() {
        let Some(x) = v.num() else { continue };
        let y = alg.add(x);
        if i + 1 > hold && !(kaufmans && y.is_infinite()) {
            out.push((*t, V::F(y)));
        }
    }
    Ok(out)
}

/// Whether a function maps one value (or two) to one.
pub(crate) fn is_math(name: &str) -> bool {
    matches!(
        name,
        "abs"
            | "ceil"
            | "floor"
            | "round"
            | "sqrt"
            | "pow"
            | "exp"
            | "ln"
            | "log"
            | "log2"
            | "log10"
            | "sin"
            | "cos"
            | "tan"
            | "asin"
            | "acos"
            | "atan"
            | "atan2"
    )
}

fn duration_arg(args: &[Expr], at: usize, default: i64, name: &str) -> Run<i64> {
    match args.get(at) {
        None => Ok(default),
        Some(Expr::Duration(d)) if *d > 0 => Ok(*d),
        Some(_) => Err(format!("second argument to {name} must be a duration, got a different type")),
    }
}

/// Applies a transformation to (time, value) points in time order.
/// `every` is the `GROUP BY time` interval over window aggregates: the
/// default unit of the derivatives there.
pub(crate) fn transform(name: &str, args: &[Expr], seq: &[(i64, V)], every: Option<i64>) -> Run<Vec<(i64, V)>> {
    let mut out = Vec::new();
    match name {
        "derivative" | "non_negative_derivative" => {
            let unit = duration_arg(args, 1, every.unwrap_or(SECOND), name)? as f64;
            for w in seq.windows(2) {
                let ((t1, v1), (t2, v2)) = (&w[0], &w[1]);
                let (Some(a), Some(b)) = (v1.num(), v2.num()) else { continue };
                if t2 == t1 {
                    continue;
                }
                let d = (b - a) / ((t2 - t1) as f64 / unit);
                if name == "derivative" || d >= 0.0 {
                    out.push((*t2, V::F(d)));
                }
            }
        }
        "difference" | "non_negative_difference" => {
            for w in seq.windows(2) {
                let ((_, v1), (t2, v2)) = (&w[0], &w[1]);
                let d = match (v1, v2) {
                    (V::I(a), V::I(b)) => V::I(b.wrapping_sub(*a)),
                    (V::U(a), V::U(b)) => {
                        if b < a && name == "non_negative_difference" {
                            continue;
                        }
                        V::U(b.wrapping_sub(*a))
                    }
                    _ => match (v1.num(), v2.num()) {
                        (Some(a), Some(b)) => V::F(b - a),
                        _ => continue,
                    },
                };
                if name == "difference" || d.num().is_some_and(|x| x >= 0.0) {
                    out.push((*t2, d));
                }
            }
        }
        "moving_average" => {
            let n = match args.get(1) {
                Some(Expr::Integer(n)) if *n > 0 => *n as usize,
                _ => return Err("moving_average window must be greater than 1".into()),
            };
            let nums: Vec<(i64, f64)> = seq.iter().filter_map(|(t, v)| v.num().map(|x| (*t, x))).collect();
            for i in n.saturating_sub(1)..nums.len() {
                let window = &nums[i + 1 - n..=i];
                out.push((nums[i].0, V::F(window.iter().map(|(_, x)| x).sum::<f64>() / n as f64)));
            }
        }
        "cumulative_sum" => {
            let mut acc: Option<V> = None;
            for (t, v) in seq {
                acc = Some(match (&acc, v) {
                    (None, v) => v.clone(),
                    (Some(V::I(a)), V::I(b)) => V::I(a.wrapping_add(*b)),
                    (Some(V::U(a)), V::U(b)) => V::U(a.wrapping_add(*b)),
                    (Some(a), b) => V::F(a.num().unwrap_or(0.0) + b.num().unwrap_or(0.0)),
                });
                if let Some(a) = &acc {
                    out.push((*t, a.clone()));
                }
            }
        }
        "elapsed" => {
            let unit = duration_arg(args, 1, 1, name)?;
            for w in seq.windows(2) {
                out.push((w[1].0, V::I((w[1].0 - w[0].0) / unit)));
            }
        }
        "holt_winters" | "holt_winters_with_fit" => {
            let (Some(Expr::Integer(h)), Some(Expr::Integer(m)), Some(every)) = (args.get(1), args.get(2), every)
            else {
                return Err(format!("{name} aggregate requires a GROUP BY interval"));
            };
            let points: Vec<(i64, f64)> = seq.iter().filter_map(|(t, v)| v.num().map(|x| (*t, x))).collect();
            let season = usize::try_from(*m).unwrap_or(0);
            let forecast = crate::holt_winters::forecast(&points, *h as usize, season, name.ends_with("fit"), every);
            return Ok(forecast.into_iter().map(|(t, x)| (t, V::F(x))).collect());
        }
        other if is_technical(other) => return technical(other, args, seq),
        other => return Err(format!("undefined function {other}()")),
    }
    Ok(out)
}

/// Applies a math function to its evaluated arguments.
pub(crate) fn math(name: &str, args: &[Option<V>]) -> Option<V> {
    let x = args.first()?.as_ref()?;
    let f = x.num()?;
    let integral = matches!(x, V::I(_) | V::U(_));
    let second = || args.get(1).and_then(|a| a.as_ref()).and_then(V::num);
    Some(match name {
        "abs" => match x {
            V::I(i) => V::I(i.wrapping_abs()),
            V::U(u) => V::U(*u),
            _ => V::F(f.abs()),
        },
        "ceil" | "floor" | "round" if integral => x.clone(),
        "ceil" => V::F(f.ceil()),
        "floor" => V::F(f.floor()),
        // Go rounds half away from zero, as Rust's `round` does.
        "round" => V::F(f.round()),
        "sqrt" => V::F(f.sqrt()),
        "pow" => V::F(f.powf(second()?)),
        "exp" => V::F(f.exp()),
        "ln" => V::F(f.ln()),
        "log" => V::F(f.ln() / second()?.ln()),
        "log2" => V::F(f.log2()),
        "log10" => V::F(f.log10()),
        "sin" => V::F(f.sin()),
        "cos" => V::F(f.cos()),
        "tan" => V::F(f.tan()),
        "asin" => V::F(f.asin()),
        "acos" => V::F(f.acos()),
        "atan" => V::F(f.atan()),
        "atan2" => V::F(f.atan2(second()?)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x() -> Expr {
        Expr::VarRef { name: "x".into(), ty: None }
    }

    fn f(seq: &[(i64, f64)]) -> Vec<(i64, V)> {
        seq.iter().map(|(t, x)| (*t, V::F(*x))).collect()
    }

    #[test]
    fn transformations_follow_influxql() {
        let s = f(&[(0, 1.0), (10 * SECOND, 3.0), (20 * SECOND, 2.0)]);
        assert_eq!(transform("derivative", &[], &s, None).unwrap(), f(&[(10 * SECOND, 0.2), (20 * SECOND, -0.1)]));
        assert_eq!(transform("non_negative_derivative", &[], &s, None).unwrap(), f(&[(10 * SECOND, 0.2)]));
        assert_eq!(transform("difference", &[], &s, None).unwrap(), f(&[(10 * SECOND, 2.0), (20 * SECOND, -1.0)]));
        let avg = transform("moving_average", &[x(), Expr::Integer(2)], &s, None).unwrap();
        assert_eq!(avg, f(&[(10 * SECOND, 2.0), (20 * SECOND, 2.5)]));
        assert_eq!(
            transform("cumulative_sum", &[], &s, None).unwrap(),
            f(&[(0, 1.0), (10 * SECOND, 4.0), (20 * SECOND, 6.0)])
        );
        let el = transform("elapsed", &[x(), Expr::Duration(SECOND)], &s, None).unwrap();
        assert_eq!(el, vec![(10 * SECOND, V::I(10)), (20 * SECOND, V::I(10))]);
        let ints = vec![(0, V::I(5)), (1, V::I(3))];
        assert_eq!(transform("difference", &[], &ints, None).unwrap(), vec![(1, V::I(-2))]);
    }

    #[test]
    fn math_keeps_integers_integral_where_influxql_does() {
        assert_eq!(math("abs", &[Some(V::I(-3))]), Some(V::I(3)));
        assert_eq!(math("round", &[Some(V::F(2.5))]), Some(V::F(3.0)));
        assert_eq!(math("log", &[Some(V::F(100.0)), Some(V::I(10))]), Some(V::F(2.0)));
        assert_eq!(math("sqrt", &[None]), None);
    }
}
