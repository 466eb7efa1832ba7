//! Choosing and reporting the seed of a run.

/// The environment variable [`seed_from_env_or`] reads.
pub const SEED_ENV: &str = "NETSIM_SEED";

/// The seed in `NETSIM_SEED` (decimal, or hex with a `0x` prefix), or
/// `default` when the variable is unset or does not parse.
///
/// Tests use a fixed default so CI is reproducible, and a failing run can be
/// replayed or varied with `NETSIM_SEED=1234 cargo test ...`.
#[must_use]
pub fn seed_from_env_or(default: u64) -> u64 {
    std::env::var(SEED_ENV)
        .ok()
        .and_then(|v| parse_seed(&v))
        .unwrap_or(default)
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Prints the seed to stderr if it is dropped while the thread panics, so a
/// failed assertion always tells how to replay the run.
///
/// ```
/// use rtcwire_netsim::{SeedReporter, Sim, seed_from_env_or};
/// let seed = seed_from_env_or(42);
/// let _report = SeedReporter::new(seed);
/// let sim = Sim::new(seed);
/// // ... if anything below panics, "NETSIM_SEED=42" is printed.
/// # drop(sim);
/// ```
#[derive(Debug)]
pub struct SeedReporter {
    seed: u64,
}

impl SeedReporter {
    /// Reports `seed` on panic.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }
}

impl Drop for SeedReporter {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("rtcwire-netsim: replay this run with {SEED_ENV}={}", self.seed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_seed;

    #[test]
    fn parses_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed(" 0x2a "), Some(42));
        assert_eq!(parse_seed("0XFF"), Some(255));
        assert_eq!(parse_seed("nope"), None);
    }
}
