//! # rtcwire-ice
//!
//! A sans-IO ICE agent: it finds a path between two peers through NATs,
//! keeps checking that the peer still consents to receive, and tells its
//! owner which local and remote address to use. It never opens a socket or
//! reads a clock.
//!
//! Implements:
//! - RFC 8445 (ICE): host, server-reflexive, peer-reflexive and relayed
//!   candidates, priorities and foundations, pairing with redundancy pruning,
//!   the checklist (frozen, waiting, in progress, succeeded, failed),
//!   unfreezing by foundation, Ta pacing, triggered checks, check
//!   retransmission (section 14.3), roles with tie-breaker and 487 conflict
//!   resolution, regular nomination (controlling), USE-CANDIDATE (controlled),
//!   and ICE-lite (section 2.5).
//! - RFC 8838 (trickle ICE): candidates added at any time, end-of-candidates.
//! - RFC 7675 (consent freshness): randomised consent checks, disconnected
//!   and failed states.
//!
//! For servers, [`Demux`] routes datagrams to thousands of (lite) agents on
//! one socket in O(1): STUN requests by the ufrag in USERNAME, everything
//! else by the 5-tuple the owner bound when the agent selected it.
//!
//! Renomination (draft-thatcher-ice-renomination) is available with
//! [`IceConfig::renomination`].
//!
//! Browsers' `.local` host candidates (RFC 6762 mDNS) are resolved by the
//! agent's sans-IO [`MdnsResolver`] ([`IceAgent::add_remote_mdns_candidate`]);
//! with [`IceConfig::mdns_publish`] the agent also hides its own host
//! addresses behind random names, answering queries with [`MdnsPublisher`].
//! The owner carries that traffic on a port-5353 socket.
//!
//! Not yet implemented: TCP candidates. Relayed candidates come from the
//! caller's TURN client through [`IceAgent::add_local_candidate`].
//!
//! ## Example: two agents in memory
//!
//! ```
//! use std::time::Instant;
//! use rtcwire_ice::{IceAgent, IceConfig, IceConnectionState, IceRole};
//!
//! let now = Instant::now();
//! let mut a = IceAgent::new(IceConfig { seed: Some(1), ..IceConfig::default() }, IceRole::Controlling);
//! let mut b = IceAgent::new(IceConfig { seed: Some(2), ..IceConfig::default() }, IceRole::Controlled);
//! let (a_addr, b_addr) = ("192.0.2.1:5000".parse()?, "192.0.2.2:6000".parse()?);
//! let ca = a.add_host_candidate(now, a_addr)?;
//! let cb = b.add_host_candidate(now, b_addr)?;
//! a.set_remote_credentials(now, b.local_credentials().clone())?;
//! b.set_remote_credentials(now, a.local_credentials().clone())?;
//! a.add_remote_candidate(now, cb)?;
//! b.add_remote_candidate(now, ca)?;
//!
//! // A perfect network: deliver every transmit at once, jump to timeouts.
//! let mut now = now;
//! for _ in 0..1000 {
//!     while let Some(t) = a.poll_transmit() { b.handle_receive(now, t.source, t.destination, &t.contents); }
//!     while let Some(t) = b.poll_transmit() { a.handle_receive(now, t.source, t.destination, &t.contents); }
//!     if a.state() == IceConnectionState::Connected && b.state() == IceConnectionState::Connected { break; }
//!     now = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min().unwrap_or(now);
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//! }
//! assert_eq!(a.selected_pair(), Some((a_addr, b_addr)));
//! assert_eq!(b.selected_pair(), Some((b_addr, a_addr)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod agent;
mod candidate;
mod demux;
mod error;
mod event;
mod mdns;
mod pair;

pub use agent::{Credentials, IceAgent, IceConfig, IceStats, Transmit};
pub use candidate::{Candidate, CandidateKind, MAX_FOUNDATION_LEN, candidate_priority, pair_priority};
pub use demux::{Demux, DemuxError};
pub use error::IceError;
pub use event::{IceConnectionState, IceEvent, IceRole};
pub use mdns::{
    DNS_CLASS_IN, DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_ANY, DnsBuilder, DnsMessage, DnsName, DnsQuestion,
    DnsRecord, DnsSection, MAX_CACHE_TTL, MAX_MESSAGE_LEN, MAX_NAME_LEN, MAX_POINTER_HOPS,
    MAX_RECORDS_PER_MESSAGE, MDNS_IPV4, MDNS_IPV6, MDNS_PORT, MdnsConfig, MdnsError, MdnsEvent,
    MdnsPublisher, MdnsPublisherConfig, MdnsResolver, MdnsStats, MdnsTransmit, validate_local_name,
};
pub use pair::{CandidatePair, PairState};
