//! Names for exported resources, as 2.7 makes them: an adjective, a
//! scientist's name and six hex digits (`vibrant-hopper-a0c001`).

use rand::Rng;

const ADJECTIVES: [&str; 40] = [
    "amazing",
    "awesome",
    "blissful",
    "bold",
    "brave",
    "charming",
    "clever",
    "cool",
    "dazzling",
    "determined",
    "eager",
    "ecstatic",
    "elastic",
    "elegant",
    "epic",
    "exciting",
    "fervent",
    "festive",
    "flamboyant",
    "focused",
    "friendly",
    "gallant",
    "gifted",
    "goofy",
    "gracious",
    "happy",
    "hopeful",
    "infallible",
    "inspiring",
    "jolly",
    "keen",
    "kind",
    "laughing",
    "loving",
    "lucid",
    "magical",
    "modest",
    "nifty",
    "optimistic",
    "vibrant",
];

const SCIENTISTS: [&str; 40] = [
    "agnesi",
    "albattani",
    "allen",
    "archimedes",
    "babbage",
    "bardeen",
    "bell",
    "blackwell",
    "bohr",
    "boole",
    "brahmagupta",
    "carson",
    "cori",
    "curie",
    "darwin",
    "dijkstra",
    "einstein",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "feynman",
    "franklin",
    "galileo",
    "gauss",
    "goodall",
    "hamilton",
    "hawking",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "knuth",
    "lamarr",
    "lovelace",
    "meitner",
    "newton",
    "noether",
    "pascal",
    "turing",
];

/// A fresh name for an exported resource.
pub fn generated_name() -> String {
    let mut rng = rand::rng();
    let adjective = ADJECTIVES[rng.random_range(0..ADJECTIVES.len())];
    let scientist = SCIENTISTS[rng.random_range(0..SCIENTISTS.len())];
    let suffix: u32 = rng.random_range(0..0x100_0000);
    format!("{adjective}-{scientist}-{suffix:06x}")
}
