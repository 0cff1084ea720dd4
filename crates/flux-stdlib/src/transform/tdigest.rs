//! The t-digest `quantile(method: "estimate_tdigest")` and `median()` estimate
//! with: Dunning's merging digest with the arcsine scale function, buffering
//! added points and merging them in sorted order once the buffer fills, so
//! that the estimate is the one InfluxDB's Flux gives for the same input
//! order and `compression`.

use std::f64::consts::PI;

#[derive(Clone, Copy, Debug)]
struct Centroid {
    mean: f64,
    weight: f64,
}

impl Centroid {
    fn absorb(&mut self, other: Centroid) {
        self.weight += other.weight;
        self.mean += other.weight * (other.mean - self.mean) / self.weight;
    }
}

#[derive(Debug)]
pub(crate) struct TDigest {
    compression: f64,
    max_processed: usize,
    max_unprocessed: usize,
    processed: Vec<Centroid>,
    unprocessed: Vec<Centroid>,
    processed_weight: f64,
    unprocessed_weight: f64,
    min: f64,
    max: f64,
}

impl TDigest {
    pub(crate) fn new(compression: f64) -> Self {
        let size = compression.ceil().max(1.0) as usize;
        Self {
            compression,
            max_processed: 2 * size,
            max_unprocessed: 8 * size,
            processed: Vec::new(),
            unprocessed: Vec::new(),
            processed_weight: 0.0,
            unprocessed_weight: 0.0,
            min: f64::MAX,
            max: -f64::MAX,
        }
    }

    /// Adds a value of weight 1.
    pub(crate) fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.unprocessed.push(Centroid { mean: x, weight: 1.0 });
        self.unprocessed_weight += 1.0;
        if self.processed.len() > self.max_processed || self.unprocessed.len() > self.max_unprocessed {
            self.process();
        }
    }

    /// The fraction of the weight up to scale position `k`.
    fn integrated_q(&self, k: f64) -> f64 {
        ((k.min(self.compression) * PI / self.compression - PI / 2.0).sin() + 1.0) / 2.0
    }

    /// The scale position of quantile `q`.
    fn integrated_location(&self, q: f64) -> f64 {
        self.compression * ((2.0 * q - 1.0).asin() + PI / 2.0) / PI
    }

    /// Merges the buffer into the centroids: all of them in order of their
    /// means, each joining the one before while the scale allows its weight.
    fn process(&mut self) {
        if self.unprocessed.is_empty() && self.processed.len() <= self.max_processed {
            return;
        }
        let mut all = std::mem::take(&mut self.unprocessed);
        all.append(&mut self.processed);
        all.sort_by(|a, b| a.mean.total_cmp(&b.mean));
        self.processed_weight += self.unprocessed_weight;
        self.unprocessed_weight = 0.0;
        let mut merged: Vec<Centroid> = Vec::with_capacity(self.max_processed);
        let mut so_far = all[0].weight;
        merged.push(all[0]);
        let mut limit = self.processed_weight * self.integrated_q(1.0);
        for c in &all[1..] {
            let projected = so_far + c.weight;
            if projected <= limit {
                so_far = projected;
                if let Some(last) = merged.last_mut() {
                    last.absorb(*c);
                }
            } else {
                let k1 = self.integrated_location(so_far / self.processed_weight);
                limit = self.processed_weight * self.integrated_q(k1 + 1.0);
                so_far += c.weight;
                merged.push(*c);
            }
        }
        self.min = self.min.min(merged[0].mean);
        self.max = self.max.max(merged[merged.len() - 1].mean);
        self.processed = merged;
        all.clear();
        self.unprocessed = all;
    }

    /// The estimated `q` quantile; `None` without values.
    pub(crate) fn quantile(&mut self, q: f64) -> Option<f64> {
        self.process();
        let c = &self.processed;
        if c.is_empty() || !(0.0..=1.0).contains(&q) {
            return None;
        }
        if c.len() == 1 {
            return Some(c[0].mean);
        }
        let total = self.processed_weight;
        let index = q * total;
        if index <= c[0].weight / 2.0 {
            return Some(self.min + 2.0 * index / c[0].weight * (c[0].mean - self.min));
        }
        // Cumulative weight at each centroid's middle, then the total.
        let mut cumulative = Vec::with_capacity(c.len() + 1);
        let mut before = 0.0;
        for centroid in c {
            cumulative.push(before + centroid.weight / 2.0);
            before += centroid.weight;
        }
        cumulative.push(before);
        let lower = cumulative.partition_point(|&w| w < index);
        if lower + 1 != cumulative.len() {
            let z1 = index - cumulative[lower - 1];
            let z2 = cumulative[lower] - index;
            return Some(weighted_average(c[lower - 1].mean, z2, c[lower].mean, z1));
        }
        let z1 = index - total - c[lower - 1].weight / 2.0;
        let z2 = c[lower - 1].weight / 2.0 - z1;
        Some(weighted_average(c[c.len() - 1].mean, z1, self.max, z2))
    }
}

fn weighted_average(x1: f64, w1: f64, x2: f64, w2: f64) -> f64 {
    let (x1, w1, x2, w2) = if x1 <= x2 { (x1, w1, x2, w2) } else { (x2, w2, x1, w1) };
    let x = (x1 * w1 + x2 * w2) / (w1 + w2);
    x.min(x2).max(x1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(values: &[f64], compression: f64, q: f64) -> Option<f64> {
        let mut d = TDigest::new(compression);
        for v in values {
            d.add(*v);
        }
        d.quantile(q)
    }

    #[test]
    fn few_points_are_each_their_own_centroid() {
        let v = [5.0, 15.0, 25.0, 45.0, 55.0, 105.0];
        assert_eq!(estimate(&v, 1000.0, 0.5), Some(35.0));
        assert_eq!(estimate(&v, 1000.0, 0.0), Some(5.0));
        assert_eq!(estimate(&v, 1000.0, 1.0), Some(105.0));
        assert_eq!(estimate(&[], 1000.0, 0.5), None);
    }

    #[test]
    fn a_small_compression_merges_everything_into_one_centroid() {
        let v = [55.0, 15.0, 25.0, 5.0, 105.0, 45.0];
        let got = estimate(&v, 1.0, 0.5).unwrap();
        assert!((got - 250.0 / 6.0).abs() < 1e-12, "{got}");
    }

    #[test]
    fn many_points_stay_close_to_the_exact_quantile() {
        let v: Vec<f64> = (0..100_000).map(|i| ((i * 7919) % 100_000) as f64).collect();
        for q in [0.01, 0.25, 0.5, 0.9, 0.99] {
            let got = estimate(&v, 1000.0, q).unwrap();
            assert!((got - q * 100_000.0).abs() < 100.0, "q {q}: {got}");
        }
    }
}
