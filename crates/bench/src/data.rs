//! Deterministic TSBS-devops-like `cpu` data: 10 tags per host, 10 float fields
//! that random-walk between 0 and 100, one point per host every interval, hosts
//! interleaved in time order as TSBS writes them.

/// Fields per line.
pub(crate) const FIELDS: usize = 10;

pub(crate) const FIELD_NAMES: [&str; FIELDS] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];
const REGIONS: [&str; 9] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];
const OSES: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
const TEAMS: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
const ENVS: [&str; 3] = ["production", "staging", "test"];
/// 2016-01-01T00:00:00Z, TSBS's default start.
pub(crate) const START_NS: i64 = 1_451_606_400_000_000_000;

/// splitmix64: small, fast, and the same on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// The line-protocol requests: `hosts` hosts over `seconds`, every `interval`
/// seconds, `batch` lines each.
pub(crate) fn batches(hosts: usize, seconds: u64, interval: u64, batch: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(42);
    let tags: Vec<String> = (0..hosts)
        .map(|h| {
            let region = rng.pick(&REGIONS);
            format!(
                "cpu,hostname=host_{h},region={region},datacenter={region}{},rack={},os={},arch={},team={},service={},service_version={},service_environment={}",
                ["a", "b", "c"][(rng.next() % 3) as usize],
                rng.next() % 100,
                rng.pick(&OSES),
                ["x64", "x86"][(rng.next() % 2) as usize],
                rng.pick(&TEAMS),
                rng.next() % 20,
                rng.next() % 2,
                rng.pick(&ENVS),
            )
        })
        .collect();
    let mut values: Vec<[f64; FIELDS]> = (0..hosts).map(|_| std::array::from_fn(|_| rng.unit() * 100.0)).collect();
    let steps = seconds / interval;
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(batch * 420);
    let mut in_batch = 0;
    for step in 0..steps {
        let ts = START_NS + (step * interval) as i64 * 1_000_000_000;
        for (h, tag) in tags.iter().enumerate() {
            current.extend_from_slice(tag.as_bytes());
            for (f, name) in FIELD_NAMES.iter().enumerate() {
                let v = &mut values[h][f];
                *v = (*v + (rng.unit() - 0.5) * 2.0).clamp(0.0, 100.0);
                current.push(if f == 0 { b' ' } else { b',' });
                current.extend_from_slice(name.as_bytes());
                current.push(b'=');
                current.extend_from_slice(format!("{v}").as_bytes());
            }
            current.extend_from_slice(format!(" {ts}\n").as_bytes());
            in_batch += 1;
            if in_batch == batch {
                out.push(std::mem::replace(&mut current, Vec::with_capacity(batch * 420)));
                in_batch = 0;
            }
        }
    }
    if in_batch > 0 {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_deterministic_and_shaped_like_tsbs() {
        let a = batches(3, 60, 10, 4);
        assert_eq!(a, batches(3, 60, 10, 4));
        assert_eq!(a.len(), 5, "18 lines in batches of 4");
        let text = String::from_utf8(a.concat()).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("cpu,hostname=host_0,region="), "{first}");
        assert_eq!(first.split(' ').nth(1).unwrap().split(',').count(), FIELDS);
        assert_eq!(first.split(' ').next().unwrap().split(',').count(), 11, "measurement + 10 tags");
        assert!(first.ends_with(" 1451606400000000000"));
    }
}
