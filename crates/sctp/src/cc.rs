//! Congestion control: a model of the path (bottleneck bandwidth and
//! minimum round-trip time) in the manner of BBR (Cardwell et al., "BBR:
//! Congestion-Based Congestion Control", ACM Queue 2016;
//! draft-ietf-ccwg-bbr), instead of the loss-driven Reno of RFC 9260
//! section 7.2.
//!
//! Why: WebRTC data channels run over the open Internet, where a 1 % random
//! loss halves a Reno window every round trip; on a 100 Mbit/s path with a
//! 50 ms RTT Reno settles near 3 Mbit/s while the path has 100. A model of
//! the path keeps the window at twice the bandwidth-delay product and paces
//! packets at the measured delivery rate, so random loss costs only its
//! retransmissions.
//!
//! What is here: delivery-rate sampling per packet, a windowed maximum of
//! the delivery rate over ten rounds, the minimum RTT over ten seconds,
//! the Startup, Drain and ProbeBW phases with their pacing gains, and
//! pacing. Not here: ProbeRTT (the minimum RTT is simply re-measured when
//! its window expires) and BBRv2's loss bounds.
//!
//! Without any time passing between send and acknowledgement (two
//! associations in one process at one `Instant`), no rate can be measured:
//! the window then grows as in slow start and nothing is paced.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Startup's gain, 2/ln 2: doubles the delivery rate every round.
const STARTUP_GAIN: f64 = 2.885;
/// The window holds this many bandwidth-delay products in ProbeBW.
const CWND_GAIN: f64 = 2.0;
/// ProbeBW's eight-phase pacing cycle: probe up, drain the probe's queue,
/// then cruise.
const PROBE_BW_GAINS: [f64; 8] = [1.25, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
/// Rounds over which the delivery-rate maximum is taken.
const BW_WINDOW_ROUNDS: u64 = 10;
/// How long a minimum-RTT sample stays valid.
const MIN_RTT_WINDOW: Duration = Duration::from_secs(10);
/// Rounds without 25 % growth before Startup decides the pipe is full.
const FULL_BW_ROUNDS: u32 = 3;

/// What the congestion controller remembers of a packet when it is sent,
/// to measure the delivery rate when it is acknowledged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendStamp {
    /// Bytes delivered (acknowledged) when the packet was sent.
    delivered: u64,
    /// When `delivered` last grew, as of sending.
    delivered_time: Instant,
    /// Send time of the first packet of the flight this one belongs to.
    first_sent_time: Instant,
    /// When the packet was sent.
    sent_time: Instant,
    /// Sent while the application had nothing more to send.
    app_limited: bool,
}

impl SendStamp {
    /// Whether this packet left after `other`.
    pub(crate) fn sent_after(&self, other: &SendStamp) -> bool {
        self.sent_time > other.sent_time
            || (self.sent_time == other.sent_time && self.delivered > other.delivered)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Startup,
    Drain,
    ProbeBw,
}

/// The initial congestion window, in packets (RFC 9260: min(4 MTU, max(2 MTU, 4380))).
const INITIAL_WINDOW_PACKETS: usize = 4;

/// The congestion controller of one association.
#[derive(Debug)]
pub(crate) struct Controller {
    mtu: usize,
    phase: Phase,
    cwnd: usize,
    /// Per-round delivery-rate maxima in bytes per second, newest last.
    bw_samples: VecDeque<(u64, f64)>,
    btl_bw: f64,
    min_rtt: Option<(Duration, Instant)>,
    delivered: u64,
    delivered_time: Option<Instant>,
    first_sent_time: Option<Instant>,
    app_limited_until: u64,
    round: u64,
    next_round_delivered: u64,
    full_bw: f64,
    full_bw_rounds: u32,
    filled_pipe: bool,
    cycle_index: usize,
    cycle_stamp: Option<Instant>,
    /// Earliest time the next paced packet may leave.
    next_send: Option<Instant>,
}

impl Controller {
    pub(crate) fn new(mtu: usize) -> Controller {
        Controller {
            mtu,
            phase: Phase::Startup,
            cwnd: INITIAL_WINDOW_PACKETS * mtu,
            bw_samples: VecDeque::with_capacity(BW_WINDOW_ROUNDS as usize + 1),
            btl_bw: 0.0,
            min_rtt: None,
            delivered: 0,
            delivered_time: None,
            first_sent_time: None,
            app_limited_until: 0,
            round: 0,
            next_round_delivered: 0,
            full_bw: 0.0,
            full_bw_rounds: 0,
            filled_pipe: false,
            cycle_index: 0,
            cycle_stamp: None,
            next_send: None,
        }
    }

    /// The congestion window in bytes.
    pub(crate) fn cwnd(&self) -> usize {
        self.cwnd
    }

    /// The bottleneck bandwidth estimate, bytes per second (0 before the
    /// first measurement).
    pub(crate) fn bandwidth(&self) -> f64 {
        self.btl_bw
    }

    /// Stamps a packet about to be sent, with `in_flight` bytes already
    /// outstanding.
    pub(crate) fn on_send(&mut self, now: Instant, in_flight: usize, bytes: usize) -> SendStamp {
        if in_flight == 0 {
            self.first_sent_time = Some(now);
            self.delivered_time = Some(now);
        }
        let stamp = SendStamp {
            delivered: self.delivered,
            delivered_time: self.delivered_time.unwrap_or(now),
            first_sent_time: self.first_sent_time.unwrap_or(now),
            sent_time: now,
            app_limited: self.app_limited_until > self.delivered,
        };
        if let Some(rate) = self.pacing_rate() {
            let gap = Duration::from_secs_f64(bytes as f64 / rate);
            let start = self.next_send.map_or(now, |t| t.max(now));
            self.next_send = Some(start + gap);
        }
        stamp
    }

    /// The sender ran out of data with the window not full: rate samples
    /// until what is in flight now is delivered say nothing about the path.
    pub(crate) fn on_app_limited(&mut self, in_flight: usize) {
        self.app_limited_until = (self.delivered + in_flight as u64).max(1);
    }

    /// Whether pacing lets a packet leave at `now`; if not, when it may.
    /// A burst of up to four packets may go ahead of the pacing clock.
    pub(crate) fn pacing_delay(&self, now: Instant) -> Option<Instant> {
        let rate = self.pacing_rate()?;
        let next = self.next_send?;
        let burst = Duration::from_secs_f64(4.0 * self.mtu as f64 / rate);
        (next > now + burst).then(|| next - burst)
    }

    fn pacing_gain(&self) -> f64 {
        match self.phase {
            Phase::Startup => STARTUP_GAIN,
            Phase::Drain => 1.0 / STARTUP_GAIN,
            Phase::ProbeBw => PROBE_BW_GAINS[self.cycle_index],
        }
    }

    /// Bytes per second, once a delivery rate was measured; never below
    /// the initial window per round trip (as Linux starts its pacing).
    /// Without that floor, an estimate made from samples the application
    /// limited (a few small messages: a few hundred bytes per second)
    /// paced a large message that followed at that rate, for minutes.
    fn pacing_rate(&self) -> Option<f64> {
        if self.btl_bw <= 0.0 {
            return None;
        }
        let paced = self.btl_bw * self.pacing_gain();
        let floor = match self.min_rtt {
            Some((rtt, _)) if !rtt.is_zero() => {
                (INITIAL_WINDOW_PACKETS * self.mtu) as f64 / rtt.as_secs_f64()
            }
            _ => 0.0,
        };
        Some(paced.max(floor))
    }

    fn bdp(&self) -> Option<usize> {
        let (rtt, _) = self.min_rtt?;
        (self.btl_bw > 0.0).then_some((self.btl_bw * rtt.as_secs_f64()) as usize)
    }

    /// One SACK's worth of newly acknowledged packets: `acked` bytes in
    /// all, `newest` the stamp of the most recently sent of them, `rtt` a
    /// sample from a packet sent only once, and `in_flight` what remains
    /// outstanding afterwards.
    pub(crate) fn on_ack(
        &mut self,
        now: Instant,
        acked: usize,
        newest: Option<SendStamp>,
        rtt: Option<Duration>,
        in_flight: usize,
    ) {
        if acked == 0 {
            return;
        }
        self.delivered += acked as u64;
        self.delivered_time = Some(now);
        if let Some(rtt) = rtt {
            let expired = self
                .min_rtt
                .is_none_or(|(_, at)| now.saturating_duration_since(at) > MIN_RTT_WINDOW);
            if expired || self.min_rtt.is_some_and(|(m, _)| rtt <= m) {
                self.min_rtt = Some((rtt, now));
            }
        }
        let mut round_start = false;
        if let Some(p) = newest {
            if p.delivered >= self.next_round_delivered {
                self.next_round_delivered = self.delivered;
                self.round += 1;
                round_start = true;
            }
            self.first_sent_time = Some(p.sent_time);
            let send_elapsed = p.sent_time.saturating_duration_since(p.first_sent_time);
            let ack_elapsed = now.saturating_duration_since(p.delivered_time);
            let interval = send_elapsed.max(ack_elapsed);
            // An interval shorter than the minimum RTT cannot be real: the
            // acknowledgement was for an earlier transmission of a chunk
            // sent again (as Linux' tcp_rate.c also rules).
            let plausible = self.min_rtt.is_none_or(|(m, _)| interval >= m);
            if !interval.is_zero() && plausible {
                let rate = (self.delivered - p.delivered) as f64 / interval.as_secs_f64();
                if !p.app_limited || rate > self.btl_bw {
                    self.record_bw(rate);
                }
            }
            if round_start && !p.app_limited {
                self.check_full_pipe();
            }
        }
        self.update_phase(now, in_flight);
        // The window: grows by what was acknowledged up to the target, a
        // multiple of the bandwidth-delay product (2.885 in Startup and
        // Drain, 2 in ProbeBW); once the pipe is full it also shrinks to it.
        let gain = if self.phase == Phase::ProbeBw {
            CWND_GAIN
        } else {
            STARTUP_GAIN
        };
        let target = self
            .bdp()
            .map(|bdp| ((gain * bdp as f64) as usize + 3 * self.mtu).max(4 * self.mtu));
        self.cwnd = match target {
            Some(target) if self.filled_pipe => (self.cwnd + acked).min(target),
            Some(target) if self.cwnd >= target => self.cwnd,
            _ => self.cwnd + acked,
        };
    }

    fn record_bw(&mut self, rate: f64) {
        match self.bw_samples.back_mut() {
            Some((round, max)) if *round == self.round => *max = max.max(rate),
            _ => self.bw_samples.push_back((self.round, rate)),
        }
        while self
            .bw_samples
            .front()
            .is_some_and(|(r, _)| self.round.saturating_sub(*r) >= BW_WINDOW_ROUNDS)
        {
            self.bw_samples.pop_front();
        }
        self.btl_bw = self.bw_samples.iter().map(|&(_, b)| b).fold(0.0, f64::max);
    }

    fn check_full_pipe(&mut self) {
        if self.filled_pipe {
            return;
        }
        if self.btl_bw >= self.full_bw * 1.25 {
            self.full_bw = self.btl_bw;
            self.full_bw_rounds = 0;
            return;
        }
        self.full_bw_rounds += 1;
        if self.full_bw_rounds >= FULL_BW_ROUNDS {
            self.filled_pipe = true;
        }
    }

    fn update_phase(&mut self, now: Instant, in_flight: usize) {
        if self.phase == Phase::Startup && self.filled_pipe {
            self.phase = Phase::Drain;
        }
        if self.phase == Phase::Drain && self.bdp().is_none_or(|bdp| in_flight <= bdp) {
            self.phase = Phase::ProbeBw;
            self.cycle_index = 2;
            self.cycle_stamp = Some(now);
        }
        if self.phase == Phase::ProbeBw {
            let rtt = self.min_rtt.map_or(Duration::from_millis(100), |(r, _)| r);
            if self
                .cycle_stamp
                .is_none_or(|t| now.saturating_duration_since(t) > rtt)
            {
                self.cycle_index = (self.cycle_index + 1) % PROBE_BW_GAINS.len();
                self.cycle_stamp = Some(now);
            }
        }
    }

    /// The retransmission timer expired: the path may have changed
    /// entirely, so the window restarts small and grows back from the
    /// acknowledgements (the model is kept).
    pub(crate) fn on_timeout(&mut self) {
        self.cwnd = 4 * self.mtu;
        self.next_send = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sender on a 10 MB/s path with a 40 ms RTT and a large queue,
    /// simulated in steps of 50 µs: the model finds the rate, the window
    /// settles near twice the bandwidth-delay product.
    #[test]
    fn finds_the_bottleneck_and_caps_the_window() {
        let mtu = 1000;
        let mut cc = Controller::new(mtu);
        let rtt = Duration::from_millis(40);
        let rate = 10_000_000.0; // bytes per second
        let per_packet = Duration::from_secs_f64(mtu as f64 / rate);
        // Virtual time from the simulator: the crate never reads the clock.
        let start = rtcwire_netsim::Sim::new(1).now();
        // Packets in flight: (acknowledgement time, stamp, sent at).
        let mut flight: VecDeque<(Instant, SendStamp, Instant)> = VecDeque::new();
        let mut link_free = start;
        let mut now = start;
        while now < start + Duration::from_secs(3) {
            while flight.front().is_some_and(|(at, _, _)| *at <= now) {
                let Some((_, stamp, sent)) = flight.pop_front() else {
                    break;
                };
                let in_flight = flight.len() * mtu;
                cc.on_ack(now, mtu, Some(stamp), Some(now - sent), in_flight);
            }
            while (flight.len() + 1) * mtu <= cc.cwnd() && cc.pacing_delay(now).is_none() {
                let stamp = cc.on_send(now, flight.len() * mtu, mtu);
                let depart = link_free.max(now) + per_packet;
                link_free = depart;
                flight.push_back((depart + rtt, stamp, now));
            }
            now += Duration::from_micros(50);
        }
        assert!(cc.filled_pipe, "Startup ends");
        let bw = cc.btl_bw;
        assert!((0.9 * rate..1.3 * rate).contains(&bw), "bandwidth estimate {bw}");
        let bdp = rate * rtt.as_secs_f64();
        let cwnd = cc.cwnd() as f64;
        assert!(
            (1.5 * bdp..3.0 * bdp).contains(&cwnd),
            "window {cwnd} for a BDP of {bdp}"
        );
        assert!(cc.pacing_rate().is_some());
    }

    #[test]
    fn without_elapsed_time_it_grows_like_slow_start_and_does_not_pace() {
        let mut cc = Controller::new(1200);
        let now = rtcwire_netsim::Sim::new(1).now();
        for _ in 0..10 {
            let s = cc.on_send(now, 0, 1200);
            cc.on_ack(now, 1200, Some(s), Some(Duration::ZERO), 0);
        }
        assert_eq!(cc.cwnd(), 14 * 1200);
        assert_eq!(cc.pacing_delay(now), None);
    }

    /// A few small messages (50 bytes acknowledged after 35 ms: an estimate
    /// of about 1.4 kB/s) and then a large one: pacing keeps at least the
    /// initial window per round trip, so 50 packets leave within a few
    /// round trips instead of over a minute. (Found through coturn, where
    /// a 60 kB message after a few small ones stalled.)
    #[test]
    fn small_messages_first_do_not_pace_a_large_one_to_a_crawl() {
        let mtu = 1163;
        let mut cc = Controller::new(mtu);
        let rtt = Duration::from_millis(35);
        let mut now = rtcwire_netsim::Sim::new(1).now();
        for _ in 0..3 {
            let s = cc.on_send(now, 0, 50);
            now += rtt;
            cc.on_ack(now, 50, Some(s), Some(rtt), 0);
        }
        let start = now;
        let mut sent = 0;
        while sent < 50 {
            match cc.pacing_delay(now) {
                Some(at) => now = at,
                None => {
                    cc.on_send(now, 0, mtu);
                    sent += 1;
                }
            }
        }
        assert!(now - start < 20 * rtt, "50 packets took {:?}", now - start);
    }
}
