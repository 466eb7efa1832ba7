//! The Data Channel Establishment Protocol (RFC 8832) and the Payload
//! Protocol Identifiers of WebRTC data channels (RFC 8831 section 8).
//!
//! A data channel opens with DATA_CHANNEL_OPEN on the stream it will use,
//! answered by DATA_CHANNEL_ACK; both travel as SCTP user messages with PPID
//! [`ppid::DCEP`].
#![allow(dead_code)] // used by the association in progress

use crate::Error;
use crate::packet::Reader;

/// Payload Protocol Identifiers of WebRTC data channels (RFC 8831 section 8,
/// RFC 8832 section 8.1).
pub mod ppid {
    /// WebRTC DCEP: DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK.
    pub const DCEP: u32 = 50;
    /// WebRTC String: a UTF-8 text message.
    pub const STRING: u32 = 51;
    /// WebRTC Binary Partial (deprecated: a fragment of a binary message,
    /// from old peers; never sent).
    pub const BINARY_PARTIAL: u32 = 52;
    /// WebRTC Binary: a binary message.
    pub const BINARY: u32 = 53;
    /// WebRTC String Partial (deprecated: a fragment of a text message;
    /// never sent).
    pub const STRING_PARTIAL: u32 = 54;
    /// WebRTC String Empty: an empty text message (SCTP cannot carry an
    /// empty payload, so one byte, ignored, is sent).
    pub const STRING_EMPTY: u32 = 56;
    /// WebRTC Binary Empty: an empty binary message.
    pub const BINARY_EMPTY: u32 = 57;
}

/// Message type of DATA_CHANNEL_ACK (RFC 8832 section 8.2.1).
pub(crate) const MESSAGE_ACK: u8 = 0x02;
/// Message type of DATA_CHANNEL_OPEN.
pub(crate) const MESSAGE_OPEN: u8 = 0x03;

/// Size of DATA_CHANNEL_OPEN without its label and protocol.
const OPEN_HEADER_LEN: usize = 12;

/// How a data channel delivers messages (RFC 8832 section 5.1): ordered or
/// not, and how hard it tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelType {
    /// Reliable, ordered (0x00): like TCP.
    Reliable,
    /// Reliable, unordered (0x80).
    ReliableUnordered,
    /// Ordered; each message is retransmitted at most this many times (0x01).
    PartialReliableRexmit(u32),
    /// Unordered; at most this many retransmissions (0x81).
    PartialReliableRexmitUnordered(u32),
    /// Ordered; a message is abandoned this many milliseconds after it was
    /// first sent (0x02).
    PartialReliableTimed(u32),
    /// Unordered; abandoned after this many milliseconds (0x82).
    PartialReliableTimedUnordered(u32),
}

impl ChannelType {
    /// The channel type from the Channel Type and Reliability Parameter
    /// fields of DATA_CHANNEL_OPEN; `None` for an undefined type. The
    /// parameter of a reliable channel is ignored, as RFC 8832 section
    /// 5.1 requires.
    pub fn from_wire(channel_type: u8, reliability_parameter: u32) -> Option<Self> {
        Some(match channel_type {
            0x00 => ChannelType::Reliable,
            0x80 => ChannelType::ReliableUnordered,
            0x01 => ChannelType::PartialReliableRexmit(reliability_parameter),
            0x81 => ChannelType::PartialReliableRexmitUnordered(reliability_parameter),
            0x02 => ChannelType::PartialReliableTimed(reliability_parameter),
            0x82 => ChannelType::PartialReliableTimedUnordered(reliability_parameter),
            _ => return None,
        })
    }

    /// The Channel Type field.
    pub fn wire_type(&self) -> u8 {
        match self {
            ChannelType::Reliable => 0x00,
            ChannelType::ReliableUnordered => 0x80,
            ChannelType::PartialReliableRexmit(_) => 0x01,
            ChannelType::PartialReliableRexmitUnordered(_) => 0x81,
            ChannelType::PartialReliableTimed(_) => 0x02,
            ChannelType::PartialReliableTimedUnordered(_) => 0x82,
        }
    }

    /// The Reliability Parameter field: 0 for reliable channels.
    pub fn reliability_parameter(&self) -> u32 {
        match *self {
            ChannelType::Reliable | ChannelType::ReliableUnordered => 0,
            ChannelType::PartialReliableRexmit(n)
            | ChannelType::PartialReliableRexmitUnordered(n)
            | ChannelType::PartialReliableTimed(n)
            | ChannelType::PartialReliableTimedUnordered(n) => n,
        }
    }

    /// True when messages are delivered in order.
    pub fn is_ordered(&self) -> bool {
        self.wire_type() & 0x80 == 0
    }
}

/// The content of DATA_CHANNEL_OPEN (RFC 8832 section 5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataChannelOpen {
    /// Delivery guarantees.
    pub channel_type: ChannelType,
    /// Priority: browsers send 128 (below normal), 256 (normal), 512
    /// (high) or 1024 (extra high).
    pub priority: u16,
    /// The channel's name (may be empty); at most 65 535 bytes of UTF-8.
    pub label: String,
    /// The sub-protocol (may be empty, usually is); at most 65 535 bytes.
    pub protocol: String,
}

/// A DCEP message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum DcepMessage {
    /// DATA_CHANNEL_OPEN (0x03).
    Open(DataChannelOpen),
    /// DATA_CHANNEL_ACK (0x02).
    Ack,
}

impl DcepMessage {
    /// Parses the user message of a DCEP (PPID 50) message. The label and
    /// protocol must be UTF-8 (RFC 8832 section 5.1) and fill the message
    /// exactly.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "DATA_CHANNEL_OPEN: truncated";
        let mut r = Reader::new(bytes);
        match r.u8("DCEP message: empty")? {
            MESSAGE_ACK => {
                r.finish("DATA_CHANNEL_ACK: trailing bytes")?;
                Ok(DcepMessage::Ack)
            }
            MESSAGE_OPEN => {
                let channel_type = r.u8(WHAT)?;
                let priority = r.u16(WHAT)?;
                let reliability = r.u32(WHAT)?;
                let label_len = usize::from(r.u16(WHAT)?);
                let protocol_len = usize::from(r.u16(WHAT)?);
                let label = r.take(label_len, "DATA_CHANNEL_OPEN: label runs past the message")?;
                let protocol = r.take(protocol_len, "DATA_CHANNEL_OPEN: protocol runs past the message")?;
                r.finish("DATA_CHANNEL_OPEN: trailing bytes")?;
                let channel_type = ChannelType::from_wire(channel_type, reliability)
                    .ok_or(Error::Decode("DATA_CHANNEL_OPEN: unknown channel type"))?;
                let label = std::str::from_utf8(label)
                    .map_err(|_| Error::Decode("DATA_CHANNEL_OPEN: label is not UTF-8"))?;
                let protocol = std::str::from_utf8(protocol)
                    .map_err(|_| Error::Decode("DATA_CHANNEL_OPEN: protocol is not UTF-8"))?;
                Ok(DcepMessage::Open(DataChannelOpen {
                    channel_type,
                    priority,
                    label: label.to_owned(),
                    protocol: protocol.to_owned(),
                }))
            }
            _ => Err(Error::Decode("DCEP message: unknown message type")),
        }
    }

    /// The encoded size.
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            DcepMessage::Ack => 1,
            DcepMessage::Open(o) => OPEN_HEADER_LEN + o.label.len() + o.protocol.len(),
        }
    }

    /// Appends the message; a label or protocol over 65 535 bytes is
    /// [`Error::TooLarge`], with nothing written.
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            DcepMessage::Ack => out.push(MESSAGE_ACK),
            DcepMessage::Open(o) => {
                let label_len = u16::try_from(o.label.len())
                    .map_err(|_| Error::TooLarge("DATA_CHANNEL_OPEN label over 65 535 bytes"))?;
                let protocol_len = u16::try_from(o.protocol.len())
                    .map_err(|_| Error::TooLarge("DATA_CHANNEL_OPEN protocol over 65 535 bytes"))?;
                out.push(MESSAGE_OPEN);
                out.push(o.channel_type.wire_type());
                out.extend_from_slice(&o.priority.to_be_bytes());
                out.extend_from_slice(&o.channel_type.reliability_parameter().to_be_bytes());
                out.extend_from_slice(&label_len.to_be_bytes());
                out.extend_from_slice(&protocol_len.to_be_bytes());
                out.extend_from_slice(o.label.as_bytes());
                out.extend_from_slice(o.protocol.as_bytes());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// RFC 8832 section 5.1 layout: an ordered channel with 3
    /// retransmissions, priority 256, label "chat", protocol "x".
    const OPEN: [u8; 17] = [
        0x03, // DATA_CHANNEL_OPEN
        0x01, // PARTIAL_RELIABLE_REXMIT
        0x01, 0x00, // priority 256
        0x00, 0x00, 0x00, 0x03, // reliability parameter
        0x00, 0x04, // label length
        0x00, 0x01, // protocol length
        b'c', b'h', b'a', b't', b'x',
    ];

    /// Chromium-style open for `createDataChannel("dätä")` with default
    /// options: reliable, ordered, priority 256 (Chromium's default, "low"
    /// in its scale), a UTF-8 label, empty protocol. Built by hand.
    const CHROMIUM_OPEN: [u8; 18] = [
        0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, b'd', 0xc3, 0xa4, b't', 0xc3,
        0xa4,
    ];

    #[test]
    fn open_parse_and_emit() {
        let msg = DcepMessage::parse(&OPEN).unwrap();
        let expected = DcepMessage::Open(DataChannelOpen {
            channel_type: ChannelType::PartialReliableRexmit(3),
            priority: 256,
            label: "chat".into(),
            protocol: "x".into(),
        });
        assert_eq!(msg, expected);
        let mut out = Vec::new();
        msg.write(&mut out).unwrap();
        assert_eq!(out, OPEN);
        assert_eq!(msg.encoded_len(), OPEN.len());
    }

    #[test]
    fn chromium_open_round_trip() {
        let DcepMessage::Open(open) = DcepMessage::parse(&CHROMIUM_OPEN).unwrap() else {
            panic!("not an open")
        };
        assert_eq!(open.channel_type, ChannelType::Reliable);
        assert_eq!(open.label, "dätä");
        assert_eq!(open.protocol, "");
        assert_eq!(open.priority, 256);
        let mut out = Vec::new();
        DcepMessage::Open(open).write(&mut out).unwrap();
        assert_eq!(out, CHROMIUM_OPEN);
    }

    /// RFC 8832 section 5.2: the ACK is one byte.
    #[test]
    fn ack() {
        assert_eq!(DcepMessage::parse(&[0x02]), Ok(DcepMessage::Ack));
        let mut out = Vec::new();
        DcepMessage::Ack.write(&mut out).unwrap();
        assert_eq!(out, [0x02]);
        assert!(DcepMessage::parse(&[0x02, 0]).is_err());
    }

    #[test]
    fn every_channel_type() {
        for (wire, param, ct) in [
            (0x00, 0, ChannelType::Reliable),
            (0x80, 0, ChannelType::ReliableUnordered),
            (0x01, 5, ChannelType::PartialReliableRexmit(5)),
            (0x81, 6, ChannelType::PartialReliableRexmitUnordered(6)),
            (0x02, 700, ChannelType::PartialReliableTimed(700)),
            (0x82, 800, ChannelType::PartialReliableTimedUnordered(800)),
        ] {
            assert_eq!(ChannelType::from_wire(wire, param), Some(ct));
            assert_eq!((ct.wire_type(), ct.reliability_parameter()), (wire, param));
            assert_eq!(ct.is_ordered(), wire & 0x80 == 0);
            let mut open = OPEN;
            open[1] = wire;
            open[4..8].copy_from_slice(&param.to_be_bytes());
            let DcepMessage::Open(o) = DcepMessage::parse(&open).unwrap() else {
                panic!()
            };
            assert_eq!(o.channel_type, ct);
        }
        // RFC 8832 section 5.1: a reliable channel's parameter is ignored.
        assert_eq!(
            ChannelType::from_wire(0x80, 9),
            Some(ChannelType::ReliableUnordered)
        );
        assert_eq!(ChannelType::from_wire(0x03, 0), None);
    }

    #[test]
    fn malformed() {
        for n in 0..OPEN.len() {
            assert!(DcepMessage::parse(&OPEN[..n]).is_err(), "cut at {n}");
        }
        let mut long = OPEN.to_vec();
        long.push(0);
        assert!(DcepMessage::parse(&long).is_err());
        let mut bad_type = OPEN;
        bad_type[1] = 0x7f;
        assert!(DcepMessage::parse(&bad_type).is_err());
        let mut bad_utf8 = OPEN;
        bad_utf8[12] = 0xff;
        assert_eq!(
            DcepMessage::parse(&bad_utf8),
            Err(Error::Decode("DATA_CHANNEL_OPEN: label is not UTF-8"))
        );
        let mut bad_utf8 = OPEN;
        bad_utf8[16] = 0xc3;
        assert!(DcepMessage::parse(&bad_utf8).is_err());
        assert!(DcepMessage::parse(&[0x04]).is_err());
    }

    #[test]
    fn label_too_long() {
        let open = DcepMessage::Open(DataChannelOpen {
            channel_type: ChannelType::Reliable,
            priority: 0,
            label: "a".repeat(65_536),
            protocol: String::new(),
        });
        let mut out = Vec::new();
        assert!(matches!(open.write(&mut out), Err(Error::TooLarge(_))));
        assert!(out.is_empty());
    }
}
