//! Where a peer sits, for NAT matrices: on the open internet, behind one of
//! RFC 4787's NAT behaviours, or behind a firewall that blocks UDP.

use crate::nat::NatConfig;

/// A peer's placement in a NAT matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// A public address, no NAT.
    Public,
    /// Endpoint-independent mapping and filtering ("full cone").
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering.
    RestrictedCone,
    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    PortRestrictedCone,
    /// Address-and-port-dependent mapping and filtering ("symmetric").
    Symmetric,
    /// No UDP gets through.
    UdpBlocked,
}

impl Placement {
    /// Every placement, in table order.
    pub const ALL: [Placement; 6] = [
        Placement::Public,
        Placement::FullCone,
        Placement::RestrictedCone,
        Placement::PortRestrictedCone,
        Placement::Symmetric,
        Placement::UdpBlocked,
    ];

    /// The column heading: RFC 4787's mapping/filtering abbreviations.
    pub fn name(self) -> &'static str {
        match self {
            Placement::Public => "no NAT",
            Placement::FullCone => "EIM/EIF",
            Placement::RestrictedCone => "EIM/ADF",
            Placement::PortRestrictedCone => "EIM/APDF",
            Placement::Symmetric => "APDM/APDF",
            Placement::UdpBlocked => "UDP blocked",
        }
    }

    /// The NAT in front of the peer, if any.
    pub fn nat(self) -> Option<NatConfig> {
        match self {
            Placement::Public => None,
            Placement::FullCone => Some(NatConfig::full_cone()),
            Placement::RestrictedCone => Some(NatConfig::restricted_cone()),
            Placement::PortRestrictedCone => Some(NatConfig::port_restricted_cone()),
            Placement::Symmetric => Some(NatConfig::symmetric()),
            Placement::UdpBlocked => Some(NatConfig::udp_blocked()),
        }
    }

    /// Whether ICE connects peers placed at `a` and `b` without a relay,
    /// with (`stun`) or without a STUN server, by RFC 4787 reasoning.
    pub fn connects_directly(a: Placement, b: Placement, stun: bool) -> bool {
        use Placement::*;
        if a == UdpBlocked || b == UdpBlocked {
            return false;
        }
        if a == Public || b == Public {
            // The NATed side's checks reach the public one, which learns a
            // peer-reflexive candidate and answers through the open mapping.
            return true;
        }
        if !stun {
            // Private host addresses are unreachable and nobody learns a
            // public one.
            return false;
        }
        match (a == Symmetric, b == Symmetric) {
            (false, false) => true,
            (true, true) => false,
            // The symmetric side's checks come from a new mapping; only a
            // peer that filters by address at most lets them (and the
            // answers) in.
            (true, false) => matches!(b, FullCone | RestrictedCone),
            (false, true) => matches!(a, FullCone | RestrictedCone),
        }
    }
}
