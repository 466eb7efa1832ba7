//! An ICE agent fed arbitrary operations: raw datagrams, *authenticated*
//! checks and responses built from fuzz data (so the fuzzer reaches the
//! state machine behind MESSAGE-INTEGRITY), candidates, restarts and timer
//! events.
//!
//! Input: one options byte (bit 0: lite, bit 1: controlling, bit 2:
//! renomination, bit 3: publish host candidates over mDNS), then operations until the input ends, each starting with
//! a control byte `c`:
//! - `c % 8 == 0`: the timer fires at `poll_timeout`;
//! - `1`: the clock moves `c >> 3` times 37 ms, then `handle_timeout`;
//! - `2`: a raw datagram: next byte = length, then the bytes (to the mDNS
//!   socket when `c & 0x80`);
//! - `3`: a signed check from the peer: next bytes = source port, priority,
//!   flags (USE-CANDIDATE, role, tie-breaker, bad integrity);
//! - `4`: a signed response to the agent's latest request: success (with a
//!   fuzz-chosen mapped port) or an error code, from the right or wrong
//!   address;
//! - `5`: a remote candidate with a fuzz-chosen address, priority and type
//!   (a `.local` name to resolve when `c & 0x80`);
//! - `6`: end of remote candidates; `7`: ICE restart with fresh peer
//!   credentials.
//!
//! The agent must never panic, and its tables, queues and timers stay
//! within their caps.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcwire_ice::{Candidate, CandidateKind, Credentials, IceAgent, IceConfig, IceRole};
use rtcwire_stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId,
};

const LOCAL: &str = "192.0.2.1:5000";
const MAX_REMOTE: usize = 8;
const MAX_PAIRS: usize = 8;

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn peer_credentials(generation: u32) -> Credentials {
    Credentials {
        ufrag: format!("peer{generation}"),
        pwd: format!("peerpassword0123456789x{generation}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let Some(options) = input.u8() else { return };
    let config = IceConfig {
        lite: options & 1 != 0,
        mdns_publish: options & 8 != 0,
        renomination: options & 4 != 0,
        max_remote_candidates: MAX_REMOTE,
        max_pairs: MAX_PAIRS,
        seed: Some(7),
        ..IceConfig::default()
    };
    let role = if options & 2 != 0 {
        IceRole::Controlling
    } else {
        IceRole::Controlled
    };
    let start = Instant::now();
    let mut now = start;
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut agent = IceAgent::new(config, role);
    agent.add_host_candidate(now, local).unwrap();
    let mut generation = 0;
    let mut peer = peer_credentials(generation);
    agent.set_remote_credentials(now, peer.clone()).unwrap();
    // The agent's latest request (to answer) and its destination.
    let mut last_request: Option<(TransactionId, SocketAddr)> = None;

    while let Some(c) = input.u8() {
        match c % 8 {
            0 => {
                if let Some(at) = agent.poll_timeout() {
                    now = now.max(at);
                    agent.handle_timeout(now);
                }
            }
            1 => {
                now += Duration::from_millis(37 * u64::from(c >> 3));
                agent.handle_timeout(now);
            }
            2 => {
                let len = usize::from(input.u8().unwrap_or(0));
                let packet = input.take(len).to_vec();
                let port = 1024 + u16::from(c >> 3 & 0x0f);
                if c & 0x80 != 0 {
                    // mDNS traffic for the resolver and publisher.
                    agent.handle_mdns_receive(now, SocketAddr::from(([192, 0, 2, 9], 5353)), &packet);
                } else {
                    agent.handle_receive(now, SocketAddr::from(([203, 0, 113, 1], port)), local, &packet);
                }
            }
            3 => {
                let (Some(port), Some(priority), Some(flags)) = (input.u16(), input.u32(), input.u8()) else {
                    break;
                };
                let mut buf = [0u8; 256];
                let tid = TransactionId::new([c; 12]);
                let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, tid).unwrap();
                let me = agent.local_credentials().clone();
                b.add(&Attribute::Username(&format!("{}:{}", me.ufrag, peer.ufrag)))
                    .unwrap();
                b.add(&Attribute::Priority(priority)).unwrap();
                let tie = u64::from(flags >> 4);
                b.add(&if flags & 2 != 0 {
                    Attribute::IceControlling(tie)
                } else {
                    Attribute::IceControlled(tie)
                })
                .unwrap();
                if flags & 1 != 0 {
                    b.add(&Attribute::UseCandidate).unwrap();
                }
                let pwd = if flags & 4 != 0 {
                    "wrong-password-wrong-password"
                } else {
                    me.pwd.as_str()
                };
                b.add_message_integrity(&IntegrityKey::short_term(pwd)).unwrap();
                b.add_fingerprint().unwrap();
                let source = SocketAddr::from(([198, 51, 100, (port % 7) as u8], port));
                agent.handle_receive(now, source, local, b.finish());
            }
            4 => {
                let (Some((tid, to)), Some(kind), Some(port)) = (last_request, input.u8(), input.u16())
                else {
                    continue;
                };
                let mut buf = [0u8; 256];
                let class = if kind & 1 == 0 {
                    Class::Success
                } else {
                    Class::Error
                };
                let mut b = MessageBuilder::new(
                    &mut buf,
                    MessageType::new(rtcwire_stun::Method::BINDING, class),
                    tid,
                )
                .unwrap();
                if class == Class::Success {
                    b.add(&Attribute::XorMappedAddress(SocketAddr::from((
                        [203, 0, 113, 9],
                        port,
                    ))))
                    .unwrap();
                } else {
                    let code = if kind & 2 != 0 {
                        ErrorCode::ROLE_CONFLICT
                    } else {
                        ErrorCode::BAD_REQUEST
                    };
                    b.add(&Attribute::ErrorCode(code)).unwrap();
                }
                b.add_message_integrity(&IntegrityKey::short_term(&peer.pwd))
                    .unwrap();
                b.add_fingerprint().unwrap();
                let source = if kind & 4 != 0 {
                    SocketAddr::from(([198, 51, 100, 99], 9))
                } else {
                    to
                };
                agent.handle_receive(now, source, local, b.finish());
            }
            5 => {
                let (Some(ip), Some(port), Some(priority)) = (input.u8(), input.u16(), input.u32()) else {
                    break;
                };
                let kind = match c >> 3 & 3 {
                    0 => CandidateKind::Host,
                    1 => CandidateKind::ServerReflexive,
                    2 => CandidateKind::PeerReflexive,
                    _ => CandidateKind::Relayed,
                };
                let address = SocketAddr::from(([198, 51, 100, ip % 8], port));
                if c & 0x80 != 0 {
                    let name = format!("host{}.local", ip % 8);
                    let _ = agent.add_remote_mdns_candidate(now, &name, port, kind, priority, "fuzz");
                } else if let Some(candidate) = Candidate::remote(kind, address, priority, "fuzz", None) {
                    let _ = agent.add_remote_candidate(now, candidate);
                }
            }
            6 => agent.end_of_remote_candidates(now),
            _ => {
                agent.restart(now);
                generation += 1;
                peer = peer_credentials(generation);
                let _ = agent.set_remote_credentials(now, peer.clone());
            }
        }
        while let Some(t) = agent.poll_transmit() {
            let msg = Message::parse(&t.contents).expect("the agent writes valid STUN");
            if msg.class() == Class::Request {
                last_request = Some((msg.transaction_id(), t.destination));
            }
        }
        while agent.poll_event().is_some() {}
        while agent.poll_mdns_transmit().is_some() {}
        assert!(agent.remote_candidates().len() <= MAX_REMOTE);
        assert!(agent.pairs().len() <= MAX_PAIRS);
        if let Some(at) = agent.poll_timeout() {
            // Timers never point to the distant past or future.
            assert!(at + Duration::from_secs(3600) > now, "timer far in the past");
            assert!(at < now + Duration::from_secs(3600), "timer far in the future");
        }
    }
});
