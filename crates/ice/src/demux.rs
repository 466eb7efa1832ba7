//! Routing datagrams to agents when many share one socket: an SFU or media
//! server answering thousands of peers on one UDP port (ICE-lite).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;

use rtcwire_stun::{AttributeType, Message};

/// Why [`Demux::insert`] or [`Demux::bind`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DemuxError {
    /// The table holds as many entries as configured.
    #[error("demultiplexer full")]
    Full,
    /// The ufrag is already registered for another agent.
    #[error("ufrag already registered")]
    DuplicateUfrag,
}

/// Maps incoming datagrams to the agent (of type `K`, chosen by the caller:
/// an index, a slab key, a connection id) that owns them, in O(1):
///
/// - a STUN request names its agent in USERNAME (`local-ufrag:remote-ufrag`),
///   so it is routed by the local ufrag;
/// - everything else (DTLS, SRTP, STUN responses) is routed by its 5-tuple,
///   which the caller [binds](Demux::bind) once the agent has authenticated
///   the peer on it, for example on
///   [`IceEvent::SelectedPairChanged`](crate::IceEvent::SelectedPairChanged).
///
/// Routing never creates an entry, so an unauthenticated stranger cannot
/// make the table grow: only the agent's owner binds 5-tuples.
#[derive(Debug)]
pub struct Demux<K> {
    by_ufrag: HashMap<Box<str>, K>,
    by_tuple: HashMap<(SocketAddr, SocketAddr), K>,
    max_agents: usize,
    max_tuples: usize,
}

impl<K: Copy + Eq + Hash> Demux<K> {
    /// A demultiplexer for at most `max_agents` agents and `max_tuples`
    /// bound 5-tuples.
    pub fn new(max_agents: usize, max_tuples: usize) -> Demux<K> {
        Demux {
            by_ufrag: HashMap::with_capacity(max_agents.min(1 << 16)),
            by_tuple: HashMap::with_capacity(max_tuples.min(1 << 16)),
            max_agents,
            max_tuples,
        }
    }

    /// Registers an agent by its local ufrag.
    pub fn insert(&mut self, local_ufrag: &str, key: K) -> Result<(), DemuxError> {
        if self.by_ufrag.contains_key(local_ufrag) {
            return Err(DemuxError::DuplicateUfrag);
        }
        if self.by_ufrag.len() >= self.max_agents {
            return Err(DemuxError::Full);
        }
        self.by_ufrag.insert(local_ufrag.into(), key);
        Ok(())
    }

    /// Routes datagrams on `local <-> remote` to `key` from now on.
    pub fn bind(&mut self, local: SocketAddr, remote: SocketAddr, key: K) -> Result<(), DemuxError> {
        if !self.by_tuple.contains_key(&(local, remote)) && self.by_tuple.len() >= self.max_tuples {
            return Err(DemuxError::Full);
        }
        self.by_tuple.insert((local, remote), key);
        Ok(())
    }

    /// Forgets an agent: its ufrag and every 5-tuple bound to it. O(bound
    /// tuples); meant for teardown, not the per-packet path.
    pub fn remove(&mut self, key: K) {
        self.by_ufrag.retain(|_, k| *k != key);
        self.by_tuple.retain(|_, k| *k != key);
    }

    /// Forgets one ufrag (after an ICE restart, say).
    pub fn remove_ufrag(&mut self, local_ufrag: &str) {
        self.by_ufrag.remove(local_ufrag);
    }

    /// Number of registered agents.
    pub fn agents(&self) -> usize {
        self.by_ufrag.len()
    }

    /// Number of bound 5-tuples.
    pub fn tuples(&self) -> usize {
        self.by_tuple.len()
    }

    /// The agent `packet` (from `remote`, on `local`) belongs to, if any.
    pub fn route(&self, local: SocketAddr, remote: SocketAddr, packet: &[u8]) -> Option<K> {
        if let Some(ufrag) = request_ufrag(packet) {
            if let Some(k) = self.by_ufrag.get(ufrag) {
                return Some(*k);
            }
        }
        self.by_tuple.get(&(local, remote)).copied()
    }
}

/// The local ufrag a STUN Binding request is addressed to: USERNAME up to
/// the colon.
fn request_ufrag(packet: &[u8]) -> Option<&str> {
    if !rtcwire_stun::is_stun(packet) {
        return None;
    }
    let msg = Message::parse(packet).ok()?;
    if msg.class() != rtcwire_stun::Class::Request {
        return None;
    }
    let username = std::str::from_utf8(msg.get_raw(AttributeType::USERNAME)?).ok()?;
    Some(username.split_once(':').map_or(username, |(local, _)| local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtcwire_stun::{Attribute, MessageBuilder, MessageType, TransactionId};

    fn request(username: &str) -> Vec<u8> {
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId::new([1; 12]),
        )
        .unwrap();
        b.add(&Attribute::Username(username)).unwrap();
        b.finish().to_vec()
    }

    #[test]
    fn routes_by_ufrag_then_by_tuple() {
        let local: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let peer: SocketAddr = "198.51.100.7:50000".parse().unwrap();
        let mut d = Demux::new(10, 10);
        d.insert("aaaa", 1u32).unwrap();
        d.insert("bbbb", 2u32).unwrap();
        assert_eq!(d.insert("aaaa", 3), Err(DemuxError::DuplicateUfrag));
        assert_eq!(d.route(local, peer, &request("bbbb:remote")), Some(2));
        // DTLS from the peer is unknown until the owner binds the tuple.
        let dtls = [22u8, 0xfe, 0xfd, 0, 0];
        assert_eq!(d.route(local, peer, &dtls), None);
        d.bind(local, peer, 2).unwrap();
        assert_eq!(d.route(local, peer, &dtls), Some(2));
        // Routing a stranger's request creates nothing.
        assert_eq!(
            d.route(local, "203.0.113.1:1".parse().unwrap(), &request("zzzz:x")),
            None
        );
        assert_eq!((d.agents(), d.tuples()), (2, 1));
        d.remove(2);
        assert_eq!(d.route(local, peer, &dtls), None);
        assert_eq!(d.route(local, peer, &request("bbbb:remote")), None);
    }

    #[test]
    fn caps_hold() {
        let mut d = Demux::new(1, 1);
        d.insert("aaaa", 1u8).unwrap();
        assert_eq!(d.insert("bbbb", 2), Err(DemuxError::Full));
        let a: SocketAddr = "192.0.2.1:1".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:1".parse().unwrap();
        d.bind(a, b, 1).unwrap();
        d.bind(a, b, 1).unwrap();
        assert_eq!(d.bind(b, a, 1), Err(DemuxError::Full));
    }
}
