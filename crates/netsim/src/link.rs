//! Link impairments: latency, jitter, loss, bursts, duplication, reordering,
//! MTU and a rate-limited, bounded queue.

use std::time::{Duration, Instant};

use crate::rng::Rng;

/// The Gilbert-Elliott two-state burst loss model.
///
/// The link is either *good* or *bad*. Each datagram is first lost with the
/// loss probability of the current state, then the state changes: good to bad
/// with probability `p`, bad to good with probability `r`. With
/// `loss_in_bad = 1` and `loss_in_good = 0` (the plain Gilbert model, see
/// [`GilbertElliott::new`]) the mean burst of consecutive losses is `1 / r`
/// datagrams and the long-run loss rate is `p / (p + r)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// Probability of moving from the good to the bad state, per datagram.
    pub p: f64,
    /// Probability of moving from the bad to the good state, per datagram.
    pub r: f64,
    /// Loss probability while in the good state (`1 - k` in the literature).
    pub loss_in_good: f64,
    /// Loss probability while in the bad state (`1 - h` in the literature).
    pub loss_in_bad: f64,
}

impl GilbertElliott {
    /// The Gilbert model: nothing is lost in the good state, everything in the
    /// bad state.
    #[must_use]
    pub fn new(p: f64, r: f64) -> Self {
        Self {
            p,
            r,
            loss_in_good: 0.0,
            loss_in_bad: 1.0,
        }
    }

    /// Sets the loss probability in the good state.
    #[must_use]
    pub fn loss_in_good(mut self, probability: f64) -> Self {
        self.loss_in_good = probability;
        self
    }

    /// Sets the loss probability in the bad state.
    #[must_use]
    pub fn loss_in_bad(mut self, probability: f64) -> Self {
        self.loss_in_bad = probability;
        self
    }

    /// The long-run fraction of datagrams lost.
    #[must_use]
    pub fn expected_loss(&self) -> f64 {
        let total = self.p + self.r;
        if total <= 0.0 {
            return self.loss_in_good;
        }
        let bad = self.p / total;
        bad * self.loss_in_bad + (1.0 - bad) * self.loss_in_good
    }
}

/// The impairments of one direction of a link, built in builder style.
///
/// All probabilities are in `[0, 1]` (values outside are clamped, NaN means
/// 0). A datagram entering a link goes through these stages in order:
///
/// 1. **MTU**: if the IP packet (payload + 28 bytes of IPv4/UDP headers, or
///    48 for IPv6) is larger than [`mtu`](Self::mtu), it is dropped.
/// 2. **Queue**: with a [`bandwidth`](Self::bandwidth) the datagram waits
///    behind earlier ones and takes `size * 8 / rate` to serialise; if the
///    bytes already waiting plus this one exceed the queue size it is
///    tail-dropped (a datagram that finds the queue empty is always accepted).
/// 3. **Loss**: random loss ([`loss`](Self::loss)) and Gilbert-Elliott burst
///    loss ([`gilbert_elliott`](Self::gilbert_elliott)) apply independently.
///    A lost datagram still used its share of bandwidth.
/// 4. **Delay**: `latency + U[0, jitter]` after leaving the queue. Jitter does
///    not reorder: a datagram never arrives before one that entered the link
///    earlier, unless that one was picked for reordering.
/// 5. **Reorder**: with probability [`reorder`](Self::reorder) the datagram
///    gets an extra delay, so later datagrams overtake it.
/// 6. **Duplicate**: with probability [`duplicate`](Self::duplicate) a copy
///    arrives together with it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Fixed one-way delay.
    pub latency: Duration,
    /// Upper bound of the uniformly distributed extra delay.
    pub jitter: Duration,
    /// Probability of losing each datagram independently.
    pub loss: f64,
    /// Optional burst loss model, applied on top of `loss`.
    pub gilbert_elliott: Option<GilbertElliott>,
    /// Probability of delivering a datagram twice.
    pub duplicate: f64,
    /// Probability of delaying a datagram by `reorder_delay` so that later
    /// datagrams overtake it.
    pub reorder: f64,
    /// Extra delay given to reordered datagrams.
    pub reorder_delay: Duration,
    /// Largest IP packet (payload plus IP and UDP headers) the link carries.
    pub mtu: Option<usize>,
    /// Rate in bits per second; `None` means unlimited.
    pub bandwidth_bps: Option<u64>,
    /// Bytes that may wait in the queue when `bandwidth_bps` is set.
    pub queue_bytes: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self::perfect()
    }
}

impl LinkConfig {
    /// A link with no delay, no loss and unlimited bandwidth.
    #[must_use]
    pub fn perfect() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            gilbert_elliott: None,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            mtu: None,
            bandwidth_bps: None,
            queue_bytes: 0,
        }
    }

    /// A wired LAN: 0.5 ms latency, 0.1 ms jitter, 1500-byte MTU, 1 Gbit/s.
    #[must_use]
    pub fn lan() -> Self {
        Self::perfect()
            .latency(Duration::from_micros(500))
            .jitter(Duration::from_micros(100))
            .mtu(1500)
            .bandwidth(1_000_000_000, 1 << 20)
    }

    /// Home Wi-Fi: 3 ms latency, 5 ms jitter, 0.5 % loss, rare reordering,
    /// 1500-byte MTU, 50 Mbit/s with a 256 KiB queue.
    #[must_use]
    pub fn wifi() -> Self {
        Self::perfect()
            .latency(Duration::from_millis(3))
            .jitter(Duration::from_millis(5))
            .loss(0.005)
            .reorder(0.001, Duration::from_millis(10))
            .mtu(1500)
            .bandwidth(50_000_000, 256 << 10)
    }

    /// A mobile network: 40 ms latency, 20 ms jitter, 1 % loss in short
    /// bursts, 1400-byte MTU, 10 Mbit/s with a 128 KiB queue.
    #[must_use]
    pub fn cellular() -> Self {
        Self::perfect()
            .latency(Duration::from_millis(40))
            .jitter(Duration::from_millis(20))
            .gilbert_elliott(GilbertElliott::new(0.005, 0.5))
            .reorder(0.005, Duration::from_millis(30))
            .mtu(1400)
            .bandwidth(10_000_000, 128 << 10)
    }

    /// A geostationary satellite hop: 300 ms latency, 10 ms jitter, 0.5 %
    /// loss, 5 Mbit/s with a 512 KiB queue.
    #[must_use]
    pub fn satellite() -> Self {
        Self::perfect()
            .latency(Duration::from_millis(300))
            .jitter(Duration::from_millis(10))
            .loss(0.005)
            .mtu(1500)
            .bandwidth(5_000_000, 512 << 10)
    }

    /// A perfect link that loses each datagram with probability `loss`
    /// (`lossy(0.1)` loses 10 %).
    #[must_use]
    pub fn lossy(loss: f64) -> Self {
        Self::perfect().loss(loss)
    }

    /// Sets the fixed one-way delay.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the jitter: each datagram is delayed by an extra `U[0, jitter]`.
    #[must_use]
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the independent random loss probability.
    #[must_use]
    pub fn loss(mut self, probability: f64) -> Self {
        self.loss = probability;
        self
    }

    /// Adds Gilbert-Elliott burst loss.
    #[must_use]
    pub fn gilbert_elliott(mut self, model: GilbertElliott) -> Self {
        self.gilbert_elliott = Some(model);
        self
    }

    /// Sets the probability of delivering a datagram twice.
    #[must_use]
    pub fn duplicate(mut self, probability: f64) -> Self {
        self.duplicate = probability;
        self
    }

    /// Sets the probability that a datagram is held back by `extra_delay`, so
    /// that datagrams sent after it arrive first.
    #[must_use]
    pub fn reorder(mut self, probability: f64, extra_delay: Duration) -> Self {
        self.reorder = probability;
        self.reorder_delay = extra_delay;
        self
    }

    /// Sets the MTU: the largest IP packet, headers included, that passes.
    #[must_use]
    pub fn mtu(mut self, bytes: usize) -> Self {
        self.mtu = Some(bytes);
        self
    }

    /// Limits the rate to `bits_per_second` with a tail-drop queue of
    /// `queue_bytes`. A rate of 0 means unlimited.
    #[must_use]
    pub fn bandwidth(mut self, bits_per_second: u64, queue_bytes: usize) -> Self {
        self.bandwidth_bps = (bits_per_second > 0).then_some(bits_per_second);
        self.queue_bytes = queue_bytes;
        self
    }
}

/// Why a link refused a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkDrop {
    Mtu,
    Queue,
    Loss,
}

/// What a link did with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinkOutcome {
    /// When the datagram arrives at the far end.
    pub(crate) arrival: Instant,
    /// Whether a second copy arrives too (at the same instant).
    pub(crate) duplicated: bool,
    /// Whether the datagram was held back to be overtaken.
    pub(crate) reordered: bool,
}

/// The mutable state of one direction of a link.
#[derive(Debug, Clone)]
pub(crate) struct LinkState {
    pub(crate) config: LinkConfig,
    /// When the transmitter finishes serialising everything queued so far.
    busy_until: Option<Instant>,
    /// Latest arrival handed out to an in-order datagram (keeps FIFO order).
    last_arrival: Option<Instant>,
    /// Gilbert-Elliott state: `true` while bad.
    ge_bad: bool,
}

/// Bytes of IP and UDP headers in front of a payload.
pub(crate) fn header_overhead(ipv6: bool) -> usize {
    if ipv6 { 48 } else { 28 }
}

fn nanos_to_send(bytes: usize, bps: u64) -> Duration {
    let nanos = (bytes as u128 * 8 * 1_000_000_000).div_ceil(u128::from(bps));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

impl LinkState {
    pub(crate) fn new(config: LinkConfig) -> Self {
        Self {
            config,
            busy_until: None,
            last_arrival: None,
            ge_bad: false,
        }
    }

    pub(crate) fn set_config(&mut self, config: LinkConfig) {
        self.config = config;
    }

    /// Bytes still waiting (or being serialised) at `now`.
    fn backlog(&self, now: Instant, bps: u64) -> u128 {
        match self.busy_until {
            Some(busy) if busy > now => (busy - now).as_nanos() * u128::from(bps) / 8_000_000_000,
            _ => 0,
        }
    }

    /// Runs one datagram of `ip_len` bytes (headers included) through the link.
    pub(crate) fn transmit(
        &mut self,
        now: Instant,
        ip_len: usize,
        rng: &mut Rng,
    ) -> Result<LinkOutcome, LinkDrop> {
        let c = &self.config;
        if c.mtu.is_some_and(|mtu| ip_len > mtu) {
            return Err(LinkDrop::Mtu);
        }

        let mut departure = now;
        if let Some(bps) = c.bandwidth_bps {
            let backlog = self.backlog(now, bps);
            if backlog > 0 && backlog + ip_len as u128 > c.queue_bytes as u128 {
                return Err(LinkDrop::Queue);
            }
            let start = self.busy_until.map_or(now, |b| b.max(now));
            departure = start + nanos_to_send(ip_len, bps);
            self.busy_until = Some(departure);
        }

        let mut lost = rng.chance(c.loss);
        if let Some(ge) = c.gilbert_elliott {
            let p_loss = if self.ge_bad {
                ge.loss_in_bad
            } else {
                ge.loss_in_good
            };
            // Draw even when already lost, so the burst state evolves per datagram.
            lost |= rng.chance(p_loss);
            let flip = if self.ge_bad { ge.r } else { ge.p };
            if rng.chance(flip) {
                self.ge_bad = !self.ge_bad;
            }
        }
        if lost {
            return Err(LinkDrop::Loss);
        }

        let mut arrival = departure + c.latency;
        if !c.jitter.is_zero() {
            let span = u64::try_from(c.jitter.as_nanos()).unwrap_or(u64::MAX);
            arrival += Duration::from_nanos(rng.below(span.saturating_add(1)));
        }
        let reordered = rng.chance(c.reorder);
        if reordered {
            arrival += c.reorder_delay;
        } else {
            if let Some(last) = self.last_arrival {
                arrival = arrival.max(last);
            }
            self.last_arrival = Some(arrival);
        }
        let duplicated = rng.chance(c.duplicate);
        Ok(LinkOutcome {
            arrival,
            duplicated,
            reordered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_link_is_instant_and_draws_no_randomness() {
        let mut link = LinkState::new(LinkConfig::perfect());
        let mut rng = Rng::new(3);
        let before = rng.clone();
        let now = Instant::now();
        let out = link.transmit(now, 1000, &mut rng).unwrap();
        assert_eq!(out.arrival, now);
        assert!(!out.duplicated && !out.reordered);
        assert_eq!(rng, before);
    }

    #[test]
    fn mtu_counts_headers() {
        let mut link = LinkState::new(LinkConfig::perfect().mtu(1500));
        let mut rng = Rng::new(3);
        let now = Instant::now();
        assert!(link.transmit(now, 1500, &mut rng).is_ok());
        assert_eq!(link.transmit(now, 1501, &mut rng), Err(LinkDrop::Mtu));
    }

    #[test]
    fn serialisation_time_matches_rate() {
        assert_eq!(nanos_to_send(125, 1_000_000), Duration::from_millis(1));
        let mut link = LinkState::new(LinkConfig::perfect().bandwidth(8_000, 10_000));
        let mut rng = Rng::new(3);
        let now = Instant::now();
        let a = link.transmit(now, 1000, &mut rng).unwrap();
        let b = link.transmit(now, 1000, &mut rng).unwrap();
        assert_eq!(a.arrival - now, Duration::from_secs(1));
        assert_eq!(b.arrival - now, Duration::from_secs(2));
    }

    #[test]
    fn gilbert_expected_loss() {
        let ge = GilbertElliott::new(0.01, 0.25);
        assert!((ge.expected_loss() - 0.01 / 0.26).abs() < 1e-12);
    }
}
