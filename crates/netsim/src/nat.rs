//! NAT behaviour per RFC 4787: mapping, filtering, timeouts, hairpinning and
//! port allocation.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::rng::Rng;

/// How the NAT reuses an external mapping (RFC 4787 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MappingBehavior {
    /// One external address per internal address, whatever the destination
    /// ("full cone" and both "restricted cone" NATs; RFC 4787 REQ-1).
    EndpointIndependent,
    /// A new mapping per destination IP address.
    AddressDependent,
    /// A new mapping per destination IP address and port ("symmetric" NAT).
    AddressAndPortDependent,
}

/// Which inbound datagrams the NAT lets through a mapping (RFC 4787
/// section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilteringBehavior {
    /// Anyone may send to the mapped address ("full cone").
    EndpointIndependent,
    /// Only IP addresses the internal endpoint has sent to, from any port
    /// ("restricted cone").
    AddressDependent,
    /// Only the exact IP address and port pairs the internal endpoint has
    /// sent to ("port-restricted cone", and symmetric NATs).
    AddressAndPortDependent,
}

/// How the NAT picks the external port of a new mapping (RFC 4787
/// section 4.2). Ranges are inclusive; port 0 is never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortAllocation {
    /// A random free port from the range, drawn from the simulation's seeded
    /// generator. A port freed by an expired mapping is not handed out again
    /// until 64 other ports have been freed, so a fresh mapping is visibly
    /// new.
    Random {
        /// Lowest port.
        first: u16,
        /// Highest port.
        last: u16,
    },
    /// The next free port after the previous allocation, wrapping in the range.
    Sequential {
        /// Lowest port.
        first: u16,
        /// Highest port.
        last: u16,
    },
    /// The internal port when it is free on the external address (RFC 4787
    /// section 4.2.1 "port preservation"), otherwise a random free port from
    /// the range.
    Preserving {
        /// Lowest port for the random fallback.
        first: u16,
        /// Highest port for the random fallback.
        last: u16,
    },
}

impl Default for PortAllocation {
    fn default() -> Self {
        Self::Random {
            first: 49152,
            last: 65535,
        }
    }
}

impl PortAllocation {
    pub(crate) fn range(&self) -> (u16, u16) {
        let (first, last) = match *self {
            Self::Random { first, last }
            | Self::Sequential { first, last }
            | Self::Preserving { first, last } => (first, last),
        };
        let first = first.max(1);
        (first.min(last.max(1)), last.max(first))
    }
}

/// Default cap on live mappings per NAT.
pub const DEFAULT_MAX_MAPPINGS: usize = 4096;
/// Cap on the remote addresses remembered per mapping for filtering; the
/// oldest is forgotten first.
pub const MAX_PERMISSIONS_PER_MAPPING: usize = 256;
const QUARANTINE: usize = 64;

/// The behaviour of a NAT (or of a UDP-blocking firewall), builder style.
///
/// ```
/// use std::time::Duration;
/// use rtcwire_netsim::{FilteringBehavior, NatConfig};
/// let nat = NatConfig::port_restricted_cone()
///     .mapping_timeout(Duration::from_secs(30))
///     .hairpinning(false);
/// assert_eq!(nat.filtering, FilteringBehavior::AddressAndPortDependent);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NatConfig {
    /// Mapping behaviour.
    pub mapping: MappingBehavior,
    /// Filtering behaviour.
    pub filtering: FilteringBehavior,
    /// Idle time after which a mapping expires (RFC 4787 REQ-5 asks for at
    /// least 2 minutes; real NATs often use 30 s). Outbound traffic refreshes
    /// it (REQ-6).
    pub mapping_timeout: Duration,
    /// Whether inbound traffic refreshes the mapping too (RFC 4787 4.3 allows
    /// either).
    pub refresh_on_inbound: bool,
    /// Whether hosts behind this NAT can reach each other through its
    /// external address (RFC 4787 REQ-9).
    pub hairpinning: bool,
    /// How external ports are chosen.
    pub port_allocation: PortAllocation,
    /// Drop every UDP datagram crossing this device in either direction,
    /// like a firewall that blocks UDP.
    pub block_udp: bool,
    /// Cap on live mappings; outbound datagrams that would need one more are
    /// dropped.
    pub max_mappings: usize,
}

impl Default for NatConfig {
    fn default() -> Self {
        Self::port_restricted_cone()
    }
}

impl NatConfig {
    /// A NAT with the given behaviours, a 120 s mapping timeout, hairpinning
    /// and random port allocation.
    #[must_use]
    pub fn new(mapping: MappingBehavior, filtering: FilteringBehavior) -> Self {
        Self {
            mapping,
            filtering,
            mapping_timeout: Duration::from_secs(120),
            refresh_on_inbound: false,
            hairpinning: true,
            port_allocation: PortAllocation::default(),
            block_udp: false,
            max_mappings: DEFAULT_MAX_MAPPINGS,
        }
    }

    /// Endpoint-independent mapping and filtering ("full cone").
    #[must_use]
    pub fn full_cone() -> Self {
        Self::new(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::EndpointIndependent,
        )
    }

    /// Endpoint-independent mapping, address-dependent filtering
    /// ("restricted cone").
    #[must_use]
    pub fn restricted_cone() -> Self {
        Self::new(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressDependent,
        )
    }

    /// Endpoint-independent mapping, address-and-port-dependent filtering
    /// ("port-restricted cone", the most common home NAT).
    #[must_use]
    pub fn port_restricted_cone() -> Self {
        Self::new(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressAndPortDependent,
        )
    }

    /// Address-and-port-dependent mapping and filtering ("symmetric").
    #[must_use]
    pub fn symmetric() -> Self {
        Self::new(
            MappingBehavior::AddressAndPortDependent,
            FilteringBehavior::AddressAndPortDependent,
        )
    }

    /// A firewall that drops all UDP in both directions.
    #[must_use]
    pub fn udp_blocked() -> Self {
        Self::port_restricted_cone().block_udp(true)
    }

    /// Sets the mapping behaviour.
    #[must_use]
    pub fn mapping(mut self, mapping: MappingBehavior) -> Self {
        self.mapping = mapping;
        self
    }

    /// Sets the filtering behaviour.
    #[must_use]
    pub fn filtering(mut self, filtering: FilteringBehavior) -> Self {
        self.filtering = filtering;
        self
    }

    /// Sets the idle timeout of mappings.
    #[must_use]
    pub fn mapping_timeout(mut self, timeout: Duration) -> Self {
        self.mapping_timeout = timeout;
        self
    }

    /// Sets whether inbound datagrams refresh a mapping.
    #[must_use]
    pub fn refresh_on_inbound(mut self, refresh: bool) -> Self {
        self.refresh_on_inbound = refresh;
        self
    }

    /// Turns hairpinning on or off.
    #[must_use]
    pub fn hairpinning(mut self, hairpinning: bool) -> Self {
        self.hairpinning = hairpinning;
        self
    }

    /// Sets the port allocation strategy.
    #[must_use]
    pub fn port_allocation(mut self, allocation: PortAllocation) -> Self {
        self.port_allocation = allocation;
        self
    }

    /// Blocks (or unblocks) all UDP through this device.
    #[must_use]
    pub fn block_udp(mut self, block: bool) -> Self {
        self.block_udp = block;
        self
    }

    /// Sets the cap on live mappings.
    #[must_use]
    pub fn max_mappings(mut self, max: usize) -> Self {
        self.max_mappings = max;
        self
    }
}

/// A live NAT mapping, as returned by [`Sim::nat_mappings`](crate::Sim::nat_mappings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatMapping {
    /// The internal transport address.
    pub internal: SocketAddr,
    /// The external transport address the NAT translates it to.
    pub external: SocketAddr,
    /// The destination IP this mapping is bound to (address-dependent and
    /// address-and-port-dependent mapping only).
    pub remote_ip: Option<IpAddr>,
    /// The destination port this mapping is bound to
    /// (address-and-port-dependent mapping only).
    pub remote_port: Option<u16>,
    /// When the mapping expires unless refreshed.
    pub expires: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct MappingKey {
    internal: SocketAddr,
    remote_ip: Option<IpAddr>,
    remote_port: Option<u16>,
}

#[derive(Debug, Clone)]
struct Mapping {
    key: MappingKey,
    expires: Instant,
    /// Remote addresses the internal endpoint sent to through this mapping.
    permissions: VecDeque<SocketAddr>,
}

/// Why the NAT refused a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NatDrop {
    /// Outbound: the mapping table is full or no port is free.
    TableFull,
    /// Inbound: no mapping for the destination port.
    NoMapping,
    /// Inbound: a mapping exists but its filter rejects the source.
    Filtered,
}

/// An event worth counting or tracing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MappingChange {
    pub(crate) internal: SocketAddr,
    pub(crate) external: SocketAddr,
}

#[derive(Debug, Clone)]
pub(crate) struct NatState {
    pub(crate) config: NatConfig,
    pub(crate) external_ip: IpAddr,
    /// Live mappings by external port (external ports are unique).
    mappings: BTreeMap<u16, Mapping>,
    by_key: BTreeMap<MappingKey, u16>,
    /// Recently freed ports, kept out of random allocation for a while.
    quarantine: VecDeque<u16>,
    next_sequential: u16,
}

impl NatState {
    pub(crate) fn new(config: NatConfig, external_ip: IpAddr) -> Self {
        let next_sequential = config.port_allocation.range().0;
        Self {
            config,
            external_ip,
            mappings: BTreeMap::new(),
            by_key: BTreeMap::new(),
            quarantine: VecDeque::new(),
            next_sequential,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.mappings.len()
    }

    pub(crate) fn mappings(&self) -> impl Iterator<Item = NatMapping> + '_ {
        self.mappings.iter().map(|(port, m)| NatMapping {
            internal: m.key.internal,
            external: SocketAddr::new(self.external_ip, *port),
            remote_ip: m.key.remote_ip,
            remote_port: m.key.remote_port,
            expires: m.expires,
        })
    }

    /// Removes mappings idle past their timeout and reports them.
    pub(crate) fn purge(&mut self, now: Instant, expired: &mut Vec<MappingChange>) {
        // Cheap check first: most calls find nothing to remove.
        if !self.mappings.values().any(|m| m.expires <= now) {
            return;
        }
        let ports: Vec<u16> = self
            .mappings
            .iter()
            .filter(|(_, m)| m.expires <= now)
            .map(|(p, _)| *p)
            .collect();
        for port in ports {
            if let Some(m) = self.mappings.remove(&port) {
                self.by_key.remove(&m.key);
                self.quarantine.push_back(port);
                if self.quarantine.len() > QUARANTINE {
                    self.quarantine.pop_front();
                }
                expired.push(MappingChange {
                    internal: m.key.internal,
                    external: SocketAddr::new(self.external_ip, port),
                });
            }
        }
    }

    fn key_for(&self, internal: SocketAddr, remote: SocketAddr) -> MappingKey {
        let (remote_ip, remote_port) = match self.config.mapping {
            MappingBehavior::EndpointIndependent => (None, None),
            MappingBehavior::AddressDependent => (Some(remote.ip()), None),
            MappingBehavior::AddressAndPortDependent => (Some(remote.ip()), Some(remote.port())),
        };
        MappingKey {
            internal,
            remote_ip,
            remote_port,
        }
    }

    /// Translates an outbound datagram's source, creating or refreshing the
    /// mapping. Returns the external source and, if one was created, the new
    /// mapping. Call [`purge`](Self::purge) first.
    pub(crate) fn outbound(
        &mut self,
        now: Instant,
        internal: SocketAddr,
        remote: SocketAddr,
        rng: &mut Rng,
    ) -> Result<(SocketAddr, Option<MappingChange>), NatDrop> {
        let key = self.key_for(internal, remote);
        let expires = now + self.config.mapping_timeout;
        let mut created = None;
        let port = match self.by_key.get(&key) {
            Some(port) => *port,
            None => {
                if self.mappings.len() >= self.config.max_mappings {
                    return Err(NatDrop::TableFull);
                }
                let port = self.allocate(internal.port(), rng).ok_or(NatDrop::TableFull)?;
                self.mappings.insert(
                    port,
                    Mapping {
                        key,
                        expires,
                        permissions: VecDeque::new(),
                    },
                );
                self.by_key.insert(key, port);
                created = Some(MappingChange {
                    internal,
                    external: SocketAddr::new(self.external_ip, port),
                });
                port
            }
        };
        if let Some(m) = self.mappings.get_mut(&port) {
            m.expires = expires;
            if !m.permissions.contains(&remote) {
                if m.permissions.len() >= MAX_PERMISSIONS_PER_MAPPING {
                    m.permissions.pop_front();
                }
                m.permissions.push_back(remote);
            }
        }
        Ok((SocketAddr::new(self.external_ip, port), created))
    }

    /// Translates an inbound datagram from `remote` to external port `port`
    /// into the internal destination. Call [`purge`](Self::purge) first.
    pub(crate) fn inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        port: u16,
    ) -> Result<SocketAddr, NatDrop> {
        let timeout = self.config.mapping_timeout;
        let refresh = self.config.refresh_on_inbound;
        let filtering = self.config.filtering;
        let m = self.mappings.get_mut(&port).ok_or(NatDrop::NoMapping)?;
        let allowed = match filtering {
            FilteringBehavior::EndpointIndependent => true,
            FilteringBehavior::AddressDependent => m.permissions.iter().any(|p| p.ip() == remote.ip()),
            FilteringBehavior::AddressAndPortDependent => m.permissions.contains(&remote),
        };
        if !allowed {
            return Err(NatDrop::Filtered);
        }
        if refresh {
            m.expires = now + timeout;
        }
        Ok(m.key.internal)
    }

    fn is_free(&self, port: u16) -> bool {
        port != 0 && !self.mappings.contains_key(&port)
    }

    fn allocate(&mut self, internal_port: u16, rng: &mut Rng) -> Option<u16> {
        let (first, last) = self.config.port_allocation.range();
        match self.config.port_allocation {
            PortAllocation::Preserving { .. } if self.is_free(internal_port) => Some(internal_port),
            PortAllocation::Sequential { .. } => {
                let span = u32::from(last - first) + 1;
                let start = self.next_sequential.clamp(first, last);
                let port = (0..span)
                    .map(|i| first + ((u32::from(start - first) + i) % span) as u16)
                    .find(|p| self.is_free(*p))?;
                self.next_sequential = if port == last { first } else { port + 1 };
                Some(port)
            }
            PortAllocation::Random { .. } | PortAllocation::Preserving { .. } => {
                let span = u64::from(last - first) + 1;
                for _ in 0..32 {
                    let port = first + rng.below(span) as u16;
                    if self.is_free(port) && !self.quarantine.contains(&port) {
                        return Some(port);
                    }
                }
                // Nearly full: scan from a random point, quarantine or not.
                let start = rng.below(span);
                (0..span)
                    .map(|i| first + ((start + i) % span) as u16)
                    .find(|p| self.is_free(*p))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sequential_allocation_wraps_and_skips_used() {
        let cfg = NatConfig::symmetric().port_allocation(PortAllocation::Sequential {
            first: 1000,
            last: 1002,
        });
        let mut nat = NatState::new(cfg, "203.0.113.1".parse().unwrap());
        let mut rng = Rng::new(1);
        let now = Instant::now();
        let src = addr("10.0.0.1:5000");
        let ports: Vec<u16> = (0..3)
            .map(|i| {
                let dst = SocketAddr::new("198.51.100.1".parse().unwrap(), 7000 + i);
                nat.outbound(now, src, dst, &mut rng).unwrap().0.port()
            })
            .collect();
        assert_eq!(ports, vec![1000, 1001, 1002]);
        assert_eq!(
            nat.outbound(now, src, addr("198.51.100.1:9999"), &mut rng),
            Err(NatDrop::TableFull)
        );
    }

    #[test]
    fn preserving_keeps_port_when_free() {
        let cfg = NatConfig::full_cone().port_allocation(PortAllocation::Preserving {
            first: 40000,
            last: 40010,
        });
        let mut nat = NatState::new(cfg, "203.0.113.1".parse().unwrap());
        let mut rng = Rng::new(1);
        let now = Instant::now();
        let dst = addr("198.51.100.1:3478");
        let a = nat.outbound(now, addr("10.0.0.1:5000"), dst, &mut rng).unwrap();
        assert_eq!(a.0.port(), 5000);
        // Same internal port on another host: taken, so it falls back.
        let b = nat.outbound(now, addr("10.0.0.2:5000"), dst, &mut rng).unwrap();
        assert!((40000..=40010).contains(&b.0.port()));
    }

    #[test]
    fn expired_port_is_not_handed_out_again_at_once() {
        let cfg = NatConfig::full_cone()
            .mapping_timeout(Duration::from_secs(30))
            .port_allocation(PortAllocation::Random {
                first: 1000,
                last: 1001,
            });
        let src = addr("10.0.0.1:5000");
        let dst = addr("198.51.100.1:3478");
        for seed in 0..20 {
            let mut nat = NatState::new(cfg.clone(), "203.0.113.1".parse().unwrap());
            let mut rng = Rng::new(seed);
            let t0 = Instant::now();
            let (first, _) = nat.outbound(t0, src, dst, &mut rng).unwrap();
            let later = t0 + Duration::from_secs(30);
            let mut expired = Vec::new();
            nat.purge(later, &mut expired);
            assert_eq!(expired.len(), 1);
            assert_eq!(nat.inbound(later, dst, first.port()), Err(NatDrop::NoMapping));
            let (second, created) = nat.outbound(later, src, dst, &mut rng).unwrap();
            assert!(created.is_some());
            assert_ne!(first.port(), second.port(), "seed {seed}");
        }
    }

    #[test]
    fn max_mappings_is_enforced() {
        let cfg = NatConfig::symmetric().max_mappings(2);
        let mut nat = NatState::new(cfg, "203.0.113.1".parse().unwrap());
        let mut rng = Rng::new(1);
        let now = Instant::now();
        let src = addr("10.0.0.1:5000");
        assert!(nat.outbound(now, src, addr("1.1.1.1:1"), &mut rng).is_ok());
        assert!(nat.outbound(now, src, addr("1.1.1.1:2"), &mut rng).is_ok());
        assert_eq!(
            nat.outbound(now, src, addr("1.1.1.1:3"), &mut rng),
            Err(NatDrop::TableFull)
        );
        assert_eq!(nat.len(), 2);
    }
}
