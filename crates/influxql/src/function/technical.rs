//! The technical-analysis transformations: exponential averages (single,
//! double, triple), TRIX, RSI, Chande's momentum oscillator, Kaufman's
//! efficiency ratio and adaptive average, each warming up as InfluxDB's do.

use crate::ast::Expr;
use crate::error::{Error, Result};
use crate::value::V;

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
pub(crate) fn check_technical(name: &str, args: &[Expr], grouped_by_time: bool) -> Result<()> {
    let kaufmans = name.starts_with("kaufmans");
    let most = if kaufmans { 3 } else { 4 };
    if args.len() < 2 || args.len() > most {
        return Err(Error::invalid(format!(
            "invalid number of arguments for {name}, expected at least 2 but no more than {most}, got {}",
            args.len()
        )));
    }
    match args[1] {
        Expr::Integer(n) if n >= 1 => {}
        Expr::Integer(_) => return Err(Error::invalid(format!("{name} period must be greater than or equal to 1"))),
        _ => return Err(Error::invalid(format!("{name} period must be an integer"))),
    }
    match args.get(2) {
        None => {}
        Some(Expr::Integer(h)) if name == "triple_exponential_derivative" && *h < 1 && *h != -1 => {
            return Err(Error::invalid(format!("{name} hold period must be greater than or equal to 1")));
        }
        Some(Expr::Integer(h)) if *h < 0 && *h != -1 => {
            return Err(Error::invalid(format!("{name} hold period must be greater than or equal to 0")));
        }
        Some(Expr::Integer(_)) => {}
        Some(_) => return Err(Error::invalid(format!("{name} hold period must be an integer"))),
    }
    match args.get(3) {
        None => {}
        Some(Expr::String(w)) if name == "chande_momentum_oscillator" && w == "none" => {}
        Some(Expr::String(w))
            if name == "chande_momentum_oscillator" && !matches!(w.as_str(), "exponential" | "simple") =>
        {
            return Err(Error::invalid(format!("{name} warmup type must be one of: 'none' 'exponential' 'simple'")));
        }
        Some(Expr::String(w)) if !matches!(w.as_str(), "exponential" | "simple") => {
            return Err(Error::invalid(format!("{name} warmup type must be one of: 'exponential' 'simple'")));
        }
        Some(Expr::String(_)) => {}
        Some(_) => return Err(Error::invalid(format!("{name} warmup type must be a string"))),
    }
    match (&args[0], grouped_by_time) {
        (Expr::Call { .. }, false) => Err(Error::invalid(format!("{name} aggregate requires a GROUP BY interval"))),
        (Expr::Call { .. }, true) => Ok(()),
        (_, true) => Err(Error::invalid(format!("aggregate function required inside the call to {name}"))),
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
pub(super) fn technical(name: &str, args: &[Expr], seq: &[(i64, V)]) -> Result<Vec<(i64, V)>> {
    let period = match args.get(1) {
        Some(Expr::Integer(n)) if *n >= 1 => *n as usize,
        _ => return Err(Error::invalid(format!("{name} period must be greater than or equal to 1"))),
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
        other => return Err(Error::invalid(format!("undefined function {other}()"))),
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
