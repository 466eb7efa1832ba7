//! The public wire-level surface of rtcwire-sctp: data channel types and
//! PPIDs (RFC 8831 section 8, RFC 8832 section 5.1) and error messages.
//! Packets, chunks and parameters are crate-private; their tests live
//! beside them (`src/packet.rs`, `src/chunk.rs`, `src/param.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_sctp::Error;
use rtcwire_sctp::dcep::{ChannelType, DataChannelOpen, ppid};

#[test]
fn ppid_values() {
    // IANA "SCTP Payload Protocol Identifiers", as RFC 8831 section 8 and
    // RFC 8832 section 8.1 register them.
    assert_eq!(ppid::DCEP, 50);
    assert_eq!(ppid::STRING, 51);
    assert_eq!(ppid::BINARY_PARTIAL, 52);
    assert_eq!(ppid::BINARY, 53);
    assert_eq!(ppid::STRING_PARTIAL, 54);
    assert_eq!(ppid::STRING_EMPTY, 56);
    assert_eq!(ppid::BINARY_EMPTY, 57);
}

#[test]
fn channel_types_on_the_wire() {
    let table = [
        (ChannelType::Reliable, 0x00, 0, true),
        (ChannelType::ReliableUnordered, 0x80, 0, false),
        (ChannelType::PartialReliableRexmit(3), 0x01, 3, true),
        (ChannelType::PartialReliableRexmitUnordered(0), 0x81, 0, false),
        (ChannelType::PartialReliableTimed(1500), 0x02, 1500, true),
        (
            ChannelType::PartialReliableTimedUnordered(u32::MAX),
            0x82,
            u32::MAX,
            false,
        ),
    ];
    for (ct, wire, param, ordered) in table {
        assert_eq!(ct.wire_type(), wire);
        assert_eq!(ct.reliability_parameter(), param);
        assert_eq!(ct.is_ordered(), ordered);
        assert_eq!(ChannelType::from_wire(wire, param), Some(ct));
    }
    for undefined in [0x03, 0x7f, 0x83, 0xff] {
        assert_eq!(ChannelType::from_wire(undefined, 0), None);
    }
}

#[test]
fn data_channel_open_is_plain_data() {
    let open = DataChannelOpen {
        channel_type: ChannelType::ReliableUnordered,
        priority: 512,
        label: "file transfer".to_owned(),
        protocol: String::new(),
    };
    let copy = open.clone();
    assert_eq!(open, copy);
    assert!(format!("{open:?}").contains("file transfer"));
}

#[test]
fn error_messages() {
    assert_eq!(
        Error::Decode("SACK chunk: truncated").to_string(),
        "malformed SACK chunk: truncated"
    );
    assert_eq!(Error::BadChecksum.to_string(), "bad checksum");
    assert_eq!(
        Error::TooLarge("chunk over 65 535 bytes").to_string(),
        "too large: chunk over 65 535 bytes"
    );
}
