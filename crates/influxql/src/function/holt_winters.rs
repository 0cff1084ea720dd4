//! `holt_winters()`: forecasts of a series of window aggregates by Holt-Winters'
//! damped, multiplicative-seasonal method, its parameters fitted by a
//! Nelder-Mead search from a small grid of starting guesses — the method
//! InfluxDB uses, step for step, so that its forecasts come out the same.

/// Where the grid of starting guesses for alpha, beta, gamma and phi begins,
/// ends (exclusive) and steps.
const GUESS_FROM: f64 = 0.3;
const GUESS_TO: f64 = 1.0;
const GUESS_STEP: f64 = 0.4;
/// The weight of the first values in the non-seasonal starting level and trend.
const START_WEIGHT: f64 = 0.5;
/// When the simplex's errors are this close, the search stops.
const EPSILON: f64 = 1.0e-4;

/// Forecasts `h` values after the last of `points` (time-ordered window
/// aggregates `every` apart), with seasons of `season` windows (none below
/// 2); with `with_fit`, the fitted values over the points come first.
pub(crate) fn forecast(points: &[(i64, f64)], h: usize, season: usize, with_fit: bool, every: i64) -> Vec<(i64, f64)> {
    let seasonal = season >= 2;
    if points.len() < 2 || (seasonal && points.len() < season) || h == 0 || every <= 0 {
        return Vec::new();
    }
    let Some(model) = Model::new(points, season, every) else { return Vec::new() };

    let mut start = vec![0.0; 6];
    start[4] = model.level0();
    start[5] = model.trend0();
    start.extend(model.seasons0(start[4]));
    let mut best: Option<(f64, Vec<f64>)> = None;
    let mut alpha = GUESS_FROM;
    while alpha < GUESS_TO {
        let mut beta = GUESS_FROM;
        while beta < GUESS_TO {
            let mut gamma = GUESS_FROM;
            while gamma < GUESS_TO {
                let mut phi = GUESS_FROM;
                while phi < GUESS_TO {
                    start[..4].copy_from_slice(&[alpha, beta, gamma, phi]);
                    let (sse, params) = nelder_mead(&mut |p| model.sse(p), &start);
                    if best.as_ref().is_none_or(|(least, _)| sse < *least) {
                        best = Some((sse, params));
                    }
                    phi += GUESS_STEP;
                }
                gamma += GUESS_STEP;
            }
            beta += GUESS_STEP;
        }
        alpha += GUESS_STEP;
    }
    let Some((_, mut params)) = best else { return Vec::new() };

    let values = model.run(h, &mut params);
    let fitted = model.y.len();
    let (first, last) = (points[0].0, points[points.len() - 1].0);
    let timed: Vec<(i64, f64)> = if with_fit {
        values.into_iter().enumerate().map(|(i, v)| (first + every * i as i64, v)).collect()
    } else {
        values.into_iter().skip(fitted).enumerate().map(|(i, v)| (last + every * (i as i64 + 1), v)).collect()
    };
    timed.into_iter().filter(|(_, v)| !v.is_nan()).collect()
}

/// The series on a regular grid (NaN where a window is missing).
struct Model {
    y: Vec<f64>,
    season: usize,
    seasonal: bool,
}

impl Model {
    fn new(points: &[(i64, f64)], season: usize, every: i64) -> Option<Self> {
        let half = every / 2;
        let round = |t: i64| {
            if t % every > half { (t / every + 1) * every } else { (t / every) * every }
        };
        let (from, to) = (round(points[0].0), round(points[points.len() - 1].0));
        if (to - from) / every <= 0 {
            return None;
        }
        let mut y = vec![points[0].1];
        let mut at = from;
        for &(t, v) in &points[1..] {
            let rounded = round(t);
            // A second value in the same window is dropped.
            if rounded <= at {
                continue;
            }
            at += every;
            while rounded != at {
                y.push(f64::NAN);
                at += every;
            }
            y.push(v);
        }
        let seasonal = season >= 2;
        if seasonal && y.len() < season {
            return None;
        }
        Some(Self { y, season, seasonal })
    }

    fn level0(&self) -> f64 {
        if !self.seasonal {
            return START_WEIGHT * self.y[0];
        }
        let m = self.season;
        let mut l0 = 0.0;
        for &v in self.y.iter().take(m).filter(|v| !v.is_nan()) {
            l0 += (1.0 / m as f64) * v;
        }
        l0
    }

    fn trend0(&self) -> f64 {
        let y = &self.y;
        if !self.seasonal {
            return if y[1].is_nan() { 0.0 } else { START_WEIGHT * (y[1] - y[0]) };
        }
        let m = self.season;
        let mut b0 = 0.0;
        for i in 0..m {
            if m + i >= y.len() {
                break;
            }
            if !y[i].is_nan() && !y[m + i].is_nan() {
                b0 += 1.0 / (m * m) as f64 * (y[m + i] - y[i]);
            }
        }
        b0
    }

    fn seasons0(&self, l0: f64) -> Vec<f64> {
        if !self.seasonal {
            return Vec::new();
        }
        self.y.iter().take(self.season).map(|&v| if v.is_nan() { 0.0 } else { v / l0 }).collect()
    }

    /// Runs the recursion over the series and `h` windows past it. As in
    /// InfluxDB, the parameters are clamped and the seasonal factors updated
    /// in place, and each step feeds on the previous step's forecast.
    fn run(&self, h: usize, params: &mut [f64]) -> Vec<f64> {
        // (NaN stays NaN.)
        for p in params.iter_mut().take(4) {
            *p = p.clamp(0.0, 1.0);
        }
        let (alpha, beta, gamma, phi) = (params[0], params[1], params[2], params[3]);
        let mut y_t = self.y[0];
        let mut phi_h = phi;
        let mut level = params[4];
        let mut trend = params[5];
        let seasons = &mut params[6..];
        let m = seasons.len();
        let mut offset = m.saturating_sub(1);
        let total = self.y.len() + h;
        let mut out = Vec::with_capacity(total);
        out.push(y_t);
        let (mut s_tm, mut s_tmh) = (1.0, 1.0);
        for t in 1..total {
            if self.seasonal {
                let hm = t % m;
                s_tm = seasons[(t + offset - m) % m];
                s_tmh = seasons[(t + hm + offset - m) % m];
            }
            let damped = level + phi * trend;
            let new_level = alpha * (y_t / s_tm) + (1.0 - alpha) * damped;
            let new_trend = beta * (new_level - level) + (1.0 - beta) * phi * trend;
            let new_season = gamma * (y_t / damped) + (1.0 - gamma) * s_tm;
            y_t = (new_level + phi_h * new_trend) * s_tmh;
            level = new_level;
            trend = new_trend;
            phi_h += powi(phi, t);
            if self.seasonal {
                seasons[(t + offset) % m] = new_season;
                offset += 1;
            }
            out.push(y_t);
        }
        out
    }

    /// The sum of squared errors of the fit over the known values; a NaN
    /// fitted where a value is known makes it infinite.
    fn sse(&self, params: &mut [f64]) -> f64 {
        let fitted = self.run(0, params);
        let mut sse = 0.0;
        for (f, y) in fitted.iter().zip(&self.y) {
            if y.is_nan() {
                continue;
            }
            if f.is_nan() {
                return f64::INFINITY;
            }
            sse += (f - y) * (f - y);
        }
        sse
    }
}

/// `x` to a non-negative integer power by binary exponentiation, which
/// rounds exactly as Go's `math.Pow` does for integer exponents.
fn powi(x: f64, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if x == 0.0 || x == 1.0 || x.is_nan() {
        return x;
    }
    let (mut acc, mut base, mut n) = (1.0, x, n);
    while n != 0 {
        if n & 1 == 1 {
            acc *= base;
        }
        base *= base;
        n >>= 1;
    }
    acc
}

/// The Nelder-Mead simplex search (reflection 1, contraction ½, expansion 2,
/// at most 1000 iterations) from `start`, with a regular simplex of side 1.
/// The objective may change the vertex it is given, as InfluxDB's does.
fn nelder_mead(objective: &mut dyn FnMut(&mut [f64]) -> f64, start: &[f64]) -> (f64, Vec<f64>) {
    const REFLECT: f64 = 1.0;
    const CONTRACT: f64 = 0.5;
    const EXPAND: f64 = 2.0;
    const MAX_ITERATIONS: usize = 1000;
    let n = start.len();
    let nf = n as f64;
    let pn = ((nf + 1.0).sqrt() - 1.0 + nf) / (nf * std::f64::consts::SQRT_2);
    let qn = ((nf + 1.0).sqrt() - 1.0) / (nf * std::f64::consts::SQRT_2);
    let mut v: Vec<Vec<f64>> = vec![start.to_vec()];
    for i in 1..=n {
        v.push((0..n).map(|j| if i - 1 == j { pn + start[j] } else { qn + start[j] }).collect());
    }
    let mut f: Vec<f64> = v.iter_mut().map(|x| objective(x)).collect();
    let (mut vr, mut ve, mut vc, mut vm) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);

    for _ in 0..MAX_ITERATIONS {
        // The worst, best and second-worst vertices.
        let (mut vg, mut vs) = (0, 0);
        for i in 0..=n {
            if f[i] > f[vg] {
                vg = i;
            }
            if f[i] < f[vs] {
                vs = i;
            }
        }
        let mut vh = vs;
        for i in 0..=n {
            if f[i] > f[vh] && f[i] < f[vg] {
                vh = i;
            }
        }
        for (i, c) in vm.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (m, vertex) in v.iter().enumerate() {
                if m != vg {
                    sum += vertex[i];
                }
            }
            *c = sum / nf;
        }
        for i in 0..n {
            vr[i] = vm[i] + REFLECT * (vm[i] - v[vg][i]);
        }
        let fr = objective(&mut vr);
        if fr < f[vh] && fr >= f[vs] {
            v[vg].copy_from_slice(&vr);
            f[vg] = fr;
        }
        if fr < f[vs] {
            for i in 0..n {
                ve[i] = vm[i] + EXPAND * (vr[i] - vm[i]);
            }
            let fe = objective(&mut ve);
            if fe < fr {
                v[vg].copy_from_slice(&ve);
                f[vg] = fe;
            } else {
                v[vg].copy_from_slice(&vr);
                f[vg] = fr;
            }
        }
        if fr >= f[vh] {
            if fr < f[vg] && fr >= f[vh] {
                for i in 0..n {
                    vc[i] = vm[i] + CONTRACT * (vr[i] - vm[i]);
                }
            } else {
                for i in 0..n {
                    vc[i] = vm[i] - CONTRACT * (vm[i] - v[vg][i]);
                }
            }
            let fc = objective(&mut vc);
            if fc < f[vg] {
                v[vg].copy_from_slice(&vc);
                f[vg] = fc;
            } else {
                // Shrink every vertex halfway towards the best.
                let best = v[vs].clone();
                for (row, vertex) in v.iter_mut().enumerate() {
                    if row != vs {
                        for i in 0..n {
                            vertex[i] = best[i] + (vertex[i] - best[i]) / 2.0;
                        }
                    }
                }
                f[vg] = objective(&mut v[vg]);
                f[vh] = objective(&mut v[vh]);
            }
        }
        let mean = f.iter().sum::<f64>() / (nf + 1.0);
        let spread = f.iter().map(|x| (x - mean) * (x - mean) / nf).sum::<f64>().sqrt();
        if spread < EPSILON {
            break;
        }
    }
    let mut vs = 0;
    for i in 0..=n {
        if f[i] < f[vs] {
            vs = i;
        }
    }
    let params = v[vs].clone();
    let least = objective(&mut v[vs]);
    (least, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let (least, at) = nelder_mead(&mut |p: &mut [f64]| (p[0] - 3.0).powi(2) + (p[1] + 1.0).powi(2), &[0.0, 0.0]);
        // It stops once the simplex's values differ by less than 1e-4.
        assert!(least < 1e-3, "{least}");
        assert!((at[0] - 3.0).abs() < 0.05 && (at[1] + 1.0).abs() < 0.05, "{at:?}");
    }

    #[test]
    fn forecasts_continue_a_linear_trend_at_the_interval() {
        let points: Vec<(i64, f64)> = (0..10).map(|i| (i * 60, 10.0 + 2.0 * i as f64)).collect();
        let out = forecast(&points, 3, 0, false, 60);
        assert_eq!(out.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [600, 660, 720]);
        assert!(out.windows(2).all(|w| w[1].1 > w[0].1), "{out:?}");
        let fit = forecast(&points, 3, 0, true, 60);
        assert_eq!(fit.len(), 13);
        assert_eq!(fit[0], (0, 10.0));
    }

    #[test]
    fn too_few_points_forecast_nothing() {
        assert!(forecast(&[(0, 1.0)], 3, 0, false, 60).is_empty());
        assert!(forecast(&[(0, 1.0), (60, 2.0)], 3, 4, false, 60).is_empty());
        assert!(forecast(&[(0, 1.0), (60, 2.0)], 0, 0, false, 60).is_empty());
    }
}
