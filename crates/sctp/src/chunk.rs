//! Chunks: the units inside an SCTP packet (RFC 9260 section 3.3, FORWARD
//! TSN of RFC 3758, RE-CONFIG of RFC 6525, I-DATA and I-FORWARD-TSN of RFC
//! 8260).
//!
//! [`Chunk`] is a zero-copy view: variable parts (payloads, parameters,
//! causes, gap blocks) borrow from the packet. [`Chunk::decode`] checks
//! every length once; after that no accessor can fail. Writing is the
//! mirror image: [`Chunk::write`] appends the chunk with its padding, and
//! every chunk that [`Chunk::validate`] accepts decodes back equal.
#![allow(dead_code)] // used by the association in progress

use crate::Error;
use crate::packet::{CHUNK_HEADER_LEN, MAX_CHUNK_LEN, Reader};
use crate::param::{Params, pad_from};

/// Chunk type: DATA.
pub(crate) const DATA: u8 = 0;
/// Chunk type: INIT.
pub(crate) const INIT: u8 = 1;
/// Chunk type: INIT ACK.
pub(crate) const INIT_ACK: u8 = 2;
/// Chunk type: SACK.
pub(crate) const SACK: u8 = 3;
/// Chunk type: HEARTBEAT.
pub(crate) const HEARTBEAT: u8 = 4;
/// Chunk type: HEARTBEAT ACK.
pub(crate) const HEARTBEAT_ACK: u8 = 5;
/// Chunk type: ABORT.
pub(crate) const ABORT: u8 = 6;
/// Chunk type: SHUTDOWN.
pub(crate) const SHUTDOWN: u8 = 7;
/// Chunk type: SHUTDOWN ACK.
pub(crate) const SHUTDOWN_ACK: u8 = 8;
/// Chunk type: ERROR.
pub(crate) const ERROR: u8 = 9;
/// Chunk type: COOKIE ECHO.
pub(crate) const COOKIE_ECHO: u8 = 10;
/// Chunk type: COOKIE ACK.
pub(crate) const COOKIE_ACK: u8 = 11;
/// Chunk type: SHUTDOWN COMPLETE.
pub(crate) const SHUTDOWN_COMPLETE: u8 = 14;
/// Chunk type: I-DATA (RFC 8260).
pub(crate) const I_DATA: u8 = 64;
/// Chunk type: RE-CONFIG (RFC 6525).
pub(crate) const RE_CONFIG: u8 = 130;
/// Chunk type: FORWARD TSN (RFC 3758).
pub(crate) const FORWARD_TSN: u8 = 192;
/// Chunk type: I-FORWARD-TSN (RFC 8260).
pub(crate) const I_FORWARD_TSN: u8 = 194;

/// The chunk types [`Chunk`] decodes; any other becomes [`Chunk::Unknown`].
pub(crate) const KNOWN_TYPES: [u8; 17] = [
    DATA,
    INIT,
    INIT_ACK,
    SACK,
    HEARTBEAT,
    HEARTBEAT_ACK,
    ABORT,
    SHUTDOWN,
    SHUTDOWN_ACK,
    ERROR,
    COOKIE_ECHO,
    COOKIE_ACK,
    SHUTDOWN_COMPLETE,
    I_DATA,
    RE_CONFIG,
    FORWARD_TSN,
    I_FORWARD_TSN,
];

/// DATA / I-DATA flag: the receiver should SACK at once (RFC 7053).
const FLAG_I: u8 = 0x08;
/// DATA / I-DATA flag: unordered.
const FLAG_U: u8 = 0x04;
/// DATA / I-DATA flag: first fragment of a message.
const FLAG_B: u8 = 0x02;
/// DATA / I-DATA flag: last fragment of a message.
const FLAG_E: u8 = 0x01;
/// ABORT / SHUTDOWN COMPLETE flag: the verification tag is the sender's own
/// (reflected).
const FLAG_T: u8 = 0x01;

/// Size of a DATA chunk without its payload.
pub(crate) const DATA_HEADER_LEN: usize = 16;
/// Size of an I-DATA chunk without its payload.
pub(crate) const I_DATA_HEADER_LEN: usize = 20;

/// What to do with a chunk of a type this endpoint does not know, from the
/// two top bits of the type (RFC 9260 section 3.2): `(skip, report)`.
/// `skip` false (00, 01): stop processing the packet and discard it; true
/// (10, 11): skip this chunk and carry on. `report` (01, 11): send an
/// Unrecognized Chunk Type cause, in an ERROR chunk, quoting the chunk.
pub(crate) const fn unknown_action(chunk_type: u8) -> (bool, bool) {
    (chunk_type & 0x80 != 0, chunk_type & 0x40 != 0)
}

/// A DATA chunk (RFC 9260 section 3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataChunk<'a> {
    /// Transmission Sequence Number.
    pub tsn: u32,
    /// Stream Identifier.
    pub stream_id: u16,
    /// Stream Sequence Number (unused when unordered).
    pub ssn: u16,
    /// Payload Protocol Identifier (see [`crate::dcep::ppid`]).
    pub ppid: u32,
    /// U: unordered delivery.
    pub unordered: bool,
    /// B: first fragment of a user message.
    pub beginning: bool,
    /// E: last fragment of a user message.
    pub ending: bool,
    /// I: the sender asks for a SACK without delay (RFC 7053).
    pub immediate: bool,
    /// User data; never empty (RFC 9260 section 6.2: a protocol violation).
    pub payload: &'a [u8],
}

/// An I-DATA chunk (RFC 8260 section 2.1): DATA with a 32-bit Message
/// Identifier and a Fragment Sequence Number, so that messages of different
/// streams interleave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IDataChunk<'a> {
    /// Transmission Sequence Number.
    pub tsn: u32,
    /// Stream Identifier.
    pub stream_id: u16,
    /// Message Identifier.
    pub mid: u32,
    /// The Payload Protocol Identifier in the first fragment (B set), the
    /// Fragment Sequence Number in the others.
    pub ppid_or_fsn: u32,
    /// U: unordered delivery.
    pub unordered: bool,
    /// B: first fragment of a user message.
    pub beginning: bool,
    /// E: last fragment of a user message.
    pub ending: bool,
    /// I: the sender asks for a SACK without delay.
    pub immediate: bool,
    /// User data; never empty.
    pub payload: &'a [u8],
}

/// The body of INIT and INIT ACK (RFC 9260 sections 3.3.2 and 3.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Init<'a> {
    /// Initiate Tag: the verification tag the peer must put on its packets;
    /// never 0.
    pub initiate_tag: u32,
    /// Advertised Receiver Window Credit.
    pub a_rwnd: u32,
    /// Number of Outbound Streams; never 0.
    pub outbound_streams: u16,
    /// Number of Inbound Streams (the most the sender accepts); never 0.
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// The parameters, encoded; see [`Init::params`].
    pub params: &'a [u8],
}

impl<'a> Init<'a> {
    /// The parameters (state cookie, supported extensions, ...).
    pub(crate) fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }
}

/// A SACK chunk (RFC 9260 section 3.3.4).
///
/// The gap blocks and duplicate TSNs stay in wire form, so a received SACK
/// borrows them and a SACK to send is built from slices the association
/// keeps between packets: fill them with [`encode_gap_blocks`] and
/// [`encode_duplicate_tsns`], then [`Sack::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sack<'a> {
    /// Cumulative TSN Ack.
    pub cumulative_tsn_ack: u32,
    /// Advertised Receiver Window Credit.
    pub a_rwnd: u32,
    gap_blocks: &'a [u8],
    duplicates: &'a [u8],
}

impl<'a> Sack<'a> {
    /// A SACK to send. `gap_blocks` holds 4 bytes per block and
    /// `duplicates` 4 bytes per TSN, as [`encode_gap_blocks`] and
    /// [`encode_duplicate_tsns`] write them; [`Chunk::validate`] rejects
    /// other lengths and lists over 65 535 entries.
    pub(crate) fn new(
        cumulative_tsn_ack: u32,
        a_rwnd: u32,
        gap_blocks: &'a [u8],
        duplicates: &'a [u8],
    ) -> Self {
        Sack {
            cumulative_tsn_ack,
            a_rwnd,
            gap_blocks,
            duplicates,
        }
    }

    /// Gap Ack Blocks: `(start, end)` offsets from the cumulative TSN ack,
    /// both inclusive.
    pub(crate) fn gap_blocks(&self) -> impl Iterator<Item = (u16, u16)> + 'a {
        self.gap_blocks
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(|[a, b, c, d]| (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])))
    }

    /// Number of gap blocks.
    pub(crate) fn gap_block_count(&self) -> usize {
        self.gap_blocks.len() / 4
    }

    /// Duplicate TSNs received since the last SACK.
    pub(crate) fn duplicate_tsns(&self) -> impl Iterator<Item = u32> + 'a {
        self.duplicates
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(u32::from_be_bytes)
    }

    /// Number of duplicate TSNs.
    pub(crate) fn duplicate_count(&self) -> usize {
        self.duplicates.len() / 4
    }
}

/// Appends gap blocks in SACK wire form (4 bytes each).
pub(crate) fn encode_gap_blocks(blocks: &[(u16, u16)], out: &mut Vec<u8>) {
    for (start, end) in blocks {
        out.extend_from_slice(&start.to_be_bytes());
        out.extend_from_slice(&end.to_be_bytes());
    }
}

/// Appends duplicate TSNs in SACK wire form (4 bytes each).
pub(crate) fn encode_duplicate_tsns(tsns: &[u32], out: &mut Vec<u8>) {
    for tsn in tsns {
        out.extend_from_slice(&tsn.to_be_bytes());
    }
}

/// The `(stream, SSN)` pairs of a FORWARD TSN chunk.
pub(crate) fn forward_tsn_streams(streams: &[u8]) -> impl Iterator<Item = (u16, u16)> + '_ {
    streams
        .chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .map(|[a, b, c, d]| (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])))
}

/// Appends `(stream, SSN)` pairs in FORWARD TSN wire form.
pub(crate) fn encode_forward_tsn_streams(streams: &[(u16, u16)], out: &mut Vec<u8>) {
    encode_gap_blocks(streams, out);
}

/// The `(stream, unordered, MID)` entries of an I-FORWARD-TSN chunk.
pub(crate) fn i_forward_tsn_streams(streams: &[u8]) -> impl Iterator<Item = (u16, bool, u32)> + '_ {
    streams
        .chunks_exact(8)
        .filter_map(|c| <[u8; 8]>::try_from(c).ok())
        .map(|[a, b, _, u, m0, m1, m2, m3]| {
            (
                u16::from_be_bytes([a, b]),
                u & 1 != 0,
                u32::from_be_bytes([m0, m1, m2, m3]),
            )
        })
}

/// Appends `(stream, unordered, MID)` entries in I-FORWARD-TSN wire form.
pub(crate) fn encode_i_forward_tsn_streams(streams: &[(u16, bool, u32)], out: &mut Vec<u8>) {
    for (sid, unordered, mid) in streams {
        out.extend_from_slice(&sid.to_be_bytes());
        out.extend_from_slice(&u16::from(*unordered).to_be_bytes());
        out.extend_from_slice(&mid.to_be_bytes());
    }
}

/// One chunk. Variable parts borrow from the packet (or, when writing, from
/// the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chunk<'a> {
    /// DATA (0).
    Data(DataChunk<'a>),
    /// INIT (1).
    Init(Init<'a>),
    /// INIT ACK (2).
    InitAck(Init<'a>),
    /// SACK (3).
    Sack(Sack<'a>),
    /// HEARTBEAT (4): the Heartbeat Info parameter TLV(s), to be echoed
    /// verbatim in the HEARTBEAT ACK.
    Heartbeat(&'a [u8]),
    /// HEARTBEAT ACK (5): the echoed Heartbeat Info.
    HeartbeatAck(&'a [u8]),
    /// ABORT (6).
    Abort {
        /// T: the verification tag is the receiver's own, reflected.
        t_bit: bool,
        /// Error causes; see [`crate::param::causes`].
        causes: &'a [u8],
    },
    /// SHUTDOWN (7).
    Shutdown {
        /// Cumulative TSN Ack.
        cumulative_tsn_ack: u32,
    },
    /// SHUTDOWN ACK (8).
    ShutdownAck,
    /// ERROR (9): error causes.
    Error(&'a [u8]),
    /// COOKIE ECHO (10): the State Cookie from the INIT ACK.
    CookieEcho(&'a [u8]),
    /// COOKIE ACK (11).
    CookieAck,
    /// SHUTDOWN COMPLETE (14).
    ShutdownComplete {
        /// T: the verification tag is the receiver's own, reflected.
        t_bit: bool,
    },
    /// RE-CONFIG (130): one or two parameters; see
    /// [`crate::param::reconfig_params`].
    ReConfig(&'a [u8]),
    /// FORWARD TSN (192).
    ForwardTsn {
        /// New Cumulative TSN.
        new_cumulative_tsn: u32,
        /// `(stream, SSN)` pairs, 4 bytes each; see [`forward_tsn_streams`].
        streams: &'a [u8],
    },
    /// I-DATA (64).
    IData(IDataChunk<'a>),
    /// I-FORWARD-TSN (194).
    IForwardTsn {
        /// New Cumulative TSN.
        new_cumulative_tsn: u32,
        /// `(stream, flags with U in bit 0, MID)` entries, 8 bytes each;
        /// see [`i_forward_tsn_streams`].
        streams: &'a [u8],
    },
    /// Any other type, kept verbatim; see [`unknown_action`].
    Unknown {
        /// The chunk type.
        chunk_type: u8,
        /// The flags.
        flags: u8,
        /// The value, without padding.
        value: &'a [u8],
    },
}

fn no_value(value: &[u8], what: &'static str) -> Result<(), Error> {
    if value.is_empty() {
        Ok(())
    } else {
        Err(Error::Decode(what))
    }
}

fn data_flags(flags: u8) -> (bool, bool, bool, bool) {
    (
        flags & FLAG_U != 0,
        flags & FLAG_B != 0,
        flags & FLAG_E != 0,
        flags & FLAG_I != 0,
    )
}

fn put_data_flags(unordered: bool, beginning: bool, ending: bool, immediate: bool) -> u8 {
    let mut flags = 0;
    for (set, bit) in [
        (unordered, FLAG_U),
        (beginning, FLAG_B),
        (ending, FLAG_E),
        (immediate, FLAG_I),
    ] {
        if set {
            flags |= bit;
        }
    }
    flags
}

impl<'a> Chunk<'a> {
    /// Decodes a chunk from its header fields and value (without padding).
    /// Reserved flag bits are ignored (RFC 9260 section 3.2).
    pub(crate) fn decode(chunk_type: u8, flags: u8, value: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(value);
        let chunk = match chunk_type {
            DATA => {
                const WHAT: &str = "DATA chunk: truncated";
                let tsn = r.u32(WHAT)?;
                let stream_id = r.u16(WHAT)?;
                let ssn = r.u16(WHAT)?;
                let ppid = r.u32(WHAT)?;
                let payload = r.rest();
                if payload.is_empty() {
                    return Err(Error::Decode("DATA chunk: no user data"));
                }
                let (unordered, beginning, ending, immediate) = data_flags(flags);
                Chunk::Data(DataChunk {
                    tsn,
                    stream_id,
                    ssn,
                    ppid,
                    unordered,
                    beginning,
                    ending,
                    immediate,
                    payload,
                })
            }
            I_DATA => {
                const WHAT: &str = "I-DATA chunk: truncated";
                let tsn = r.u32(WHAT)?;
                let stream_id = r.u16(WHAT)?;
                let _reserved = r.u16(WHAT)?;
                let mid = r.u32(WHAT)?;
                let ppid_or_fsn = r.u32(WHAT)?;
                let payload = r.rest();
                if payload.is_empty() {
                    return Err(Error::Decode("I-DATA chunk: no user data"));
                }
                let (unordered, beginning, ending, immediate) = data_flags(flags);
                Chunk::IData(IDataChunk {
                    tsn,
                    stream_id,
                    mid,
                    ppid_or_fsn,
                    unordered,
                    beginning,
                    ending,
                    immediate,
                    payload,
                })
            }
            INIT | INIT_ACK => {
                const WHAT: &str = "INIT chunk: truncated";
                let init = Init {
                    initiate_tag: r.u32(WHAT)?,
                    a_rwnd: r.u32(WHAT)?,
                    outbound_streams: r.u16(WHAT)?,
                    inbound_streams: r.u16(WHAT)?,
                    initial_tsn: r.u32(WHAT)?,
                    params: r.rest(),
                };
                // RFC 9260 sections 3.3.2 and 3.3.3: an INIT with any of
                // these 0 is answered with an ABORT (the association does).
                if init.initiate_tag == 0 {
                    return Err(Error::Decode("INIT chunk: Initiate Tag is 0"));
                }
                if init.outbound_streams == 0 || init.inbound_streams == 0 {
                    return Err(Error::Decode("INIT chunk: 0 streams"));
                }
                if chunk_type == INIT {
                    Chunk::Init(init)
                } else {
                    Chunk::InitAck(init)
                }
            }
            SACK => {
                const WHAT: &str = "SACK chunk: truncated";
                let cumulative_tsn_ack = r.u32(WHAT)?;
                let a_rwnd = r.u32(WHAT)?;
                let gaps = usize::from(r.u16(WHAT)?);
                let dups = usize::from(r.u16(WHAT)?);
                let gap_blocks = r.take(gaps * 4, "SACK chunk: gap blocks run past the chunk")?;
                let duplicates = r.take(dups * 4, "SACK chunk: duplicate TSNs run past the chunk")?;
                r.finish("SACK chunk: trailing bytes")?;
                Chunk::Sack(Sack {
                    cumulative_tsn_ack,
                    a_rwnd,
                    gap_blocks,
                    duplicates,
                })
            }
            HEARTBEAT => Chunk::Heartbeat(value),
            HEARTBEAT_ACK => Chunk::HeartbeatAck(value),
            ABORT => Chunk::Abort {
                t_bit: flags & FLAG_T != 0,
                causes: value,
            },
            SHUTDOWN => {
                const WHAT: &str = "SHUTDOWN chunk: length is not 8";
                let cumulative_tsn_ack = r.u32(WHAT)?;
                r.finish(WHAT)?;
                Chunk::Shutdown { cumulative_tsn_ack }
            }
            SHUTDOWN_ACK => {
                no_value(value, "SHUTDOWN ACK chunk: length is not 4")?;
                Chunk::ShutdownAck
            }
            ERROR => Chunk::Error(value),
            COOKIE_ECHO => Chunk::CookieEcho(value),
            COOKIE_ACK => {
                no_value(value, "COOKIE ACK chunk: length is not 4")?;
                Chunk::CookieAck
            }
            SHUTDOWN_COMPLETE => {
                no_value(value, "SHUTDOWN COMPLETE chunk: length is not 4")?;
                Chunk::ShutdownComplete {
                    t_bit: flags & FLAG_T != 0,
                }
            }
            RE_CONFIG => Chunk::ReConfig(value),
            FORWARD_TSN => {
                let new_cumulative_tsn = r.u32("FORWARD TSN chunk: truncated")?;
                let streams = r.rest();
                if streams.len() % 4 != 0 {
                    return Err(Error::Decode("FORWARD TSN chunk: partial stream entry"));
                }
                Chunk::ForwardTsn {
                    new_cumulative_tsn,
                    streams,
                }
            }
            I_FORWARD_TSN => {
                let new_cumulative_tsn = r.u32("I-FORWARD-TSN chunk: truncated")?;
                let streams = r.rest();
                if streams.len() % 8 != 0 {
                    return Err(Error::Decode("I-FORWARD-TSN chunk: partial stream entry"));
                }
                Chunk::IForwardTsn {
                    new_cumulative_tsn,
                    streams,
                }
            }
            chunk_type => Chunk::Unknown {
                chunk_type,
                flags,
                value,
            },
        };
        Ok(chunk)
    }

    /// The chunk type.
    pub(crate) fn chunk_type(&self) -> u8 {
        match self {
            Chunk::Data(_) => DATA,
            Chunk::Init(_) => INIT,
            Chunk::InitAck(_) => INIT_ACK,
            Chunk::Sack(_) => SACK,
            Chunk::Heartbeat(_) => HEARTBEAT,
            Chunk::HeartbeatAck(_) => HEARTBEAT_ACK,
            Chunk::Abort { .. } => ABORT,
            Chunk::Shutdown { .. } => SHUTDOWN,
            Chunk::ShutdownAck => SHUTDOWN_ACK,
            Chunk::Error(_) => ERROR,
            Chunk::CookieEcho(_) => COOKIE_ECHO,
            Chunk::CookieAck => COOKIE_ACK,
            Chunk::ShutdownComplete { .. } => SHUTDOWN_COMPLETE,
            Chunk::ReConfig(_) => RE_CONFIG,
            Chunk::ForwardTsn { .. } => FORWARD_TSN,
            Chunk::IData(_) => I_DATA,
            Chunk::IForwardTsn { .. } => I_FORWARD_TSN,
            Chunk::Unknown { chunk_type, .. } => *chunk_type,
        }
    }

    fn flags(&self) -> u8 {
        match self {
            Chunk::Data(d) => put_data_flags(d.unordered, d.beginning, d.ending, d.immediate),
            Chunk::IData(d) => put_data_flags(d.unordered, d.beginning, d.ending, d.immediate),
            Chunk::Abort { t_bit, .. } | Chunk::ShutdownComplete { t_bit } => u8::from(*t_bit) * FLAG_T,
            Chunk::Unknown { flags, .. } => *flags,
            _ => 0,
        }
    }

    /// The size of the chunk, header included, padding excluded (the value
    /// of its length field).
    pub(crate) fn encoded_len(&self) -> usize {
        let value = match self {
            Chunk::Data(d) => DATA_HEADER_LEN - CHUNK_HEADER_LEN + d.payload.len(),
            Chunk::IData(d) => I_DATA_HEADER_LEN - CHUNK_HEADER_LEN + d.payload.len(),
            Chunk::Init(i) | Chunk::InitAck(i) => 16 + i.params.len(),
            Chunk::Sack(s) => 12 + s.gap_blocks.len() + s.duplicates.len(),
            Chunk::Heartbeat(v)
            | Chunk::HeartbeatAck(v)
            | Chunk::Error(v)
            | Chunk::CookieEcho(v)
            | Chunk::ReConfig(v)
            | Chunk::Abort { causes: v, .. }
            | Chunk::Unknown { value: v, .. } => v.len(),
            Chunk::Shutdown { .. } => 4,
            Chunk::ShutdownAck | Chunk::CookieAck | Chunk::ShutdownComplete { .. } => 0,
            Chunk::ForwardTsn { streams, .. } | Chunk::IForwardTsn { streams, .. } => 4 + streams.len(),
        };
        CHUNK_HEADER_LEN + value
    }

    /// Checks that the chunk can be written and decodes back equal: it fits
    /// the 16-bit length; DATA and I-DATA carry data; INIT has a non-zero
    /// tag and stream counts; SACK and FORWARD TSN lists are whole entries;
    /// an `Unknown` chunk does not use a known type.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.encoded_len() > MAX_CHUNK_LEN {
            return Err(Error::TooLarge("chunk over 65 535 bytes"));
        }
        match self {
            Chunk::Data(DataChunk { payload, .. }) | Chunk::IData(IDataChunk { payload, .. })
                if payload.is_empty() =>
            {
                Err(Error::Decode("DATA chunk: no user data"))
            }
            Chunk::Init(i) | Chunk::InitAck(i) if i.initiate_tag == 0 => {
                Err(Error::Decode("INIT chunk: Initiate Tag is 0"))
            }
            Chunk::Init(i) | Chunk::InitAck(i) if i.outbound_streams == 0 || i.inbound_streams == 0 => {
                Err(Error::Decode("INIT chunk: 0 streams"))
            }
            Chunk::Sack(s) if s.gap_blocks.len() % 4 != 0 || s.duplicates.len() % 4 != 0 => {
                Err(Error::Decode("SACK chunk: partial gap block or duplicate TSN"))
            }
            Chunk::Sack(s) if s.gap_block_count() > 0xffff || s.duplicate_count() > 0xffff => {
                Err(Error::TooLarge("SACK chunk: over 65 535 entries"))
            }
            Chunk::ForwardTsn { streams, .. } if streams.len() % 4 != 0 => {
                Err(Error::Decode("FORWARD TSN chunk: partial stream entry"))
            }
            Chunk::IForwardTsn { streams, .. } if streams.len() % 8 != 0 => {
                Err(Error::Decode("I-FORWARD-TSN chunk: partial stream entry"))
            }
            Chunk::Unknown { chunk_type, .. } if KNOWN_TYPES.contains(chunk_type) => {
                Err(Error::Decode("unknown chunk: type is a known one"))
            }
            _ => Ok(()),
        }
    }

    /// Appends the chunk and its padding. The chunk should pass
    /// [`Chunk::validate`] ([`crate::packet::PacketWriter::push`] checks);
    /// an invalid one is caught in debug builds and written as given (with
    /// a saturated length field) in release builds.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        debug_assert!(self.validate().is_ok(), "writing an invalid chunk: {self:?}");
        let start = out.len();
        let len = u16::try_from(self.encoded_len()).unwrap_or(u16::MAX);
        out.push(self.chunk_type());
        out.push(self.flags());
        out.extend_from_slice(&len.to_be_bytes());
        match self {
            Chunk::Data(d) => {
                out.extend_from_slice(&d.tsn.to_be_bytes());
                out.extend_from_slice(&d.stream_id.to_be_bytes());
                out.extend_from_slice(&d.ssn.to_be_bytes());
                out.extend_from_slice(&d.ppid.to_be_bytes());
                out.extend_from_slice(d.payload);
            }
            Chunk::IData(d) => {
                out.extend_from_slice(&d.tsn.to_be_bytes());
                out.extend_from_slice(&d.stream_id.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&d.mid.to_be_bytes());
                out.extend_from_slice(&d.ppid_or_fsn.to_be_bytes());
                out.extend_from_slice(d.payload);
            }
            Chunk::Init(i) | Chunk::InitAck(i) => {
                out.extend_from_slice(&i.initiate_tag.to_be_bytes());
                out.extend_from_slice(&i.a_rwnd.to_be_bytes());
                out.extend_from_slice(&i.outbound_streams.to_be_bytes());
                out.extend_from_slice(&i.inbound_streams.to_be_bytes());
                out.extend_from_slice(&i.initial_tsn.to_be_bytes());
                out.extend_from_slice(i.params);
            }
            Chunk::Sack(s) => {
                let gaps = u16::try_from(s.gap_block_count()).unwrap_or(u16::MAX);
                let dups = u16::try_from(s.duplicate_count()).unwrap_or(u16::MAX);
                out.extend_from_slice(&s.cumulative_tsn_ack.to_be_bytes());
                out.extend_from_slice(&s.a_rwnd.to_be_bytes());
                out.extend_from_slice(&gaps.to_be_bytes());
                out.extend_from_slice(&dups.to_be_bytes());
                out.extend_from_slice(s.gap_blocks);
                out.extend_from_slice(s.duplicates);
            }
            Chunk::Heartbeat(v)
            | Chunk::HeartbeatAck(v)
            | Chunk::Error(v)
            | Chunk::CookieEcho(v)
            | Chunk::ReConfig(v)
            | Chunk::Abort { causes: v, .. }
            | Chunk::Unknown { value: v, .. } => out.extend_from_slice(v),
            Chunk::Shutdown { cumulative_tsn_ack } => {
                out.extend_from_slice(&cumulative_tsn_ack.to_be_bytes())
            }
            Chunk::ShutdownAck | Chunk::CookieAck | Chunk::ShutdownComplete { .. } => {}
            Chunk::ForwardTsn {
                new_cumulative_tsn,
                streams,
            }
            | Chunk::IForwardTsn {
                new_cumulative_tsn,
                streams,
            } => {
                out.extend_from_slice(&new_cumulative_tsn.to_be_bytes());
                out.extend_from_slice(streams);
            }
        }
        pad_from(out, start);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::packet::tests::{chunks_of, packet};
    use crate::packet::{COMMON_HEADER_LEN, parse_packet};
    use crate::param::{Param, ReconfigParam, causes, padded, reconfig_params};

    // Hand-built from the figures of RFC 9260 section 3.3, RFC 8260
    // section 2, RFC 6525 section 3.1 and RFC 3758 section 3.2, each with
    // its padding.

    const DATA_BYTES: &[u8] = &[
        0x00, 0x03, 0x00, 0x15, // type 0, flags B|E, length 21
        0x00, 0x00, 0x00, 0x01, // TSN
        0x00, 0x01, 0x00, 0x02, // stream 1, SSN 2
        0x00, 0x00, 0x00, 0x33, // PPID 51
        b'h', b'e', b'l', b'l', b'o', 0, 0, 0,
    ];
    const I_DATA_BYTES: &[u8] = &[
        0x40, 0x0e, 0x00, 0x17, // type 64, flags I|U|B, length 23
        0x01, 0x02, 0x03, 0x04, // TSN
        0x00, 0x02, 0x00, 0x00, // stream 2, reserved
        0x00, 0x00, 0x00, 0x07, // MID
        0x00, 0x00, 0x00, 0x35, // PPID 53 (B set)
        1, 2, 3, 0,
    ];
    const INIT_BYTES: &[u8] = &[
        0x01, 0x00, 0x00, 0x20, // type 1, length 32
        0x0e, 0xdd, 0xca, 0x08, // Initiate Tag
        0x00, 0x02, 0x00, 0x00, // a_rwnd 131072
        0xff, 0xff, 0x00, 0x10, // 65535 outbound, 16 inbound
        0x55, 0x08, 0x36, 0x37, // Initial TSN
        0xc0, 0x00, 0x00, 0x04, // Forward-TSN-Supported
        0x80, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, // Zero Checksum Acceptable, EDMID 1
    ];
    const INIT_ACK_BYTES: &[u8] = &[
        0x02, 0x00, 0x00, 0x1b, // type 2, length 27 (last parameter's padding not counted)
        0x00, 0x00, 0x00, 0x2a, // Initiate Tag
        0x00, 0x00, 0x10, 0x00, // a_rwnd
        0x00, 0x01, 0x00, 0x01, // streams
        0x00, 0x00, 0x00, 0x05, // Initial TSN
        0x00, 0x07, 0x00, 0x07, 0xaa, 0xbb, 0xcc, 0x00, // State Cookie (3 bytes) + chunk padding
    ];
    const SACK_BYTES: &[u8] = &[
        0x03, 0x00, 0x00, 0x1c, // type 3, length 28
        0x00, 0x00, 0x00, 0x10, // cumulative TSN ack
        0x00, 0x00, 0x80, 0x00, // a_rwnd
        0x00, 0x02, 0x00, 0x01, // 2 gap blocks, 1 duplicate
        0x00, 0x02, 0x00, 0x03, // gap 2..=3
        0x00, 0x05, 0x00, 0x05, // gap 5..=5
        0x00, 0x00, 0x00, 0x0e, // duplicate TSN 14
    ];
    const HEARTBEAT_BYTES: &[u8] = &[
        0x04, 0x00, 0x00, 0x0c, // type 4, length 12
        0x00, 0x01, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef, // Heartbeat Info
    ];
    const HEARTBEAT_ACK_BYTES: &[u8] = &[
        0x05, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef,
    ];
    const ABORT_BYTES: &[u8] = &[
        0x06, 0x01, 0x00, 0x0b, // type 6, T, length 11
        0x00, 0x0c, 0x00, 0x07, b'b', b'y', b'e', 0, // User-Initiated Abort "bye"
    ];
    const SHUTDOWN_BYTES: &[u8] = &[0x07, 0x00, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00];
    const SHUTDOWN_ACK_BYTES: &[u8] = &[0x08, 0x00, 0x00, 0x04];
    const ERROR_BYTES: &[u8] = &[
        0x09, 0x00, 0x00, 0x0c, // type 9, length 12
        0x00, 0x06, 0x00, 0x08, 0x4f, 0x00, 0x00, 0x04, // Unrecognized Chunk Type: a chunk of type 0x4f
    ];
    const COOKIE_ECHO_BYTES: &[u8] = &[0x0a, 0x00, 0x00, 0x07, 0xaa, 0xbb, 0xcc, 0];
    const COOKIE_ACK_BYTES: &[u8] = &[0x0b, 0x00, 0x00, 0x04];
    const SHUTDOWN_COMPLETE_BYTES: &[u8] = &[0x0e, 0x01, 0x00, 0x04];
    const RE_CONFIG_BYTES: &[u8] = &[
        0x82, 0x00, 0x00, 0x16, // type 130, length 22
        0x00, 0x0d, 0x00, 0x12, // Outgoing SSN Reset Request, length 18
        0x00, 0x00, 0x00, 0x01, // request seq
        0x00, 0x00, 0x00, 0x00, // response seq
        0x00, 0x00, 0x00, 0x05, // last TSN
        0x00, 0x01, 0, 0, // stream 1 + padding
    ];
    const FORWARD_TSN_BYTES: &[u8] = &[
        0xc0, 0x00, 0x00, 0x0c, // type 192, length 12
        0x00, 0x00, 0x00, 0x10, // new cumulative TSN
        0x00, 0x01, 0x00, 0x02, // stream 1, SSN 2
    ];
    const I_FORWARD_TSN_BYTES: &[u8] = &[
        0xc2, 0x00, 0x00, 0x10, // type 194, length 16
        0x00, 0x00, 0x00, 0x10, // new cumulative TSN
        0x00, 0x03, 0x00, 0x01, // stream 3, U
        0x00, 0x00, 0x00, 0x09, // MID 9
    ];
    const PAD_BYTES: &[u8] = &[0x84, 0x00, 0x00, 0x06, 0, 0, 0, 0]; // PAD (RFC 4820), unknown here

    fn cases() -> Vec<(&'static [u8], Chunk<'static>)> {
        vec![
            (
                DATA_BYTES,
                Chunk::Data(DataChunk {
                    tsn: 1,
                    stream_id: 1,
                    ssn: 2,
                    ppid: 51,
                    unordered: false,
                    beginning: true,
                    ending: true,
                    immediate: false,
                    payload: b"hello",
                }),
            ),
            (
                I_DATA_BYTES,
                Chunk::IData(IDataChunk {
                    tsn: 0x0102_0304,
                    stream_id: 2,
                    mid: 7,
                    ppid_or_fsn: 53,
                    unordered: true,
                    beginning: true,
                    ending: false,
                    immediate: true,
                    payload: &[1, 2, 3],
                }),
            ),
            (
                INIT_BYTES,
                Chunk::Init(Init {
                    initiate_tag: 0x0edd_ca08,
                    a_rwnd: 131_072,
                    outbound_streams: 65535,
                    inbound_streams: 16,
                    initial_tsn: 0x5508_3637,
                    params: &INIT_BYTES[20..],
                }),
            ),
            (
                INIT_ACK_BYTES,
                Chunk::InitAck(Init {
                    initiate_tag: 42,
                    a_rwnd: 4096,
                    outbound_streams: 1,
                    inbound_streams: 1,
                    initial_tsn: 5,
                    params: &INIT_ACK_BYTES[20..27],
                }),
            ),
            (
                SACK_BYTES,
                Chunk::Sack(Sack::new(16, 0x8000, &SACK_BYTES[16..24], &SACK_BYTES[24..28])),
            ),
            (HEARTBEAT_BYTES, Chunk::Heartbeat(&HEARTBEAT_BYTES[4..])),
            (
                HEARTBEAT_ACK_BYTES,
                Chunk::HeartbeatAck(&HEARTBEAT_ACK_BYTES[4..]),
            ),
            (
                ABORT_BYTES,
                Chunk::Abort {
                    t_bit: true,
                    causes: &ABORT_BYTES[4..11],
                },
            ),
            (
                SHUTDOWN_BYTES,
                Chunk::Shutdown {
                    cumulative_tsn_ack: 256,
                },
            ),
            (SHUTDOWN_ACK_BYTES, Chunk::ShutdownAck),
            (ERROR_BYTES, Chunk::Error(&ERROR_BYTES[4..])),
            (COOKIE_ECHO_BYTES, Chunk::CookieEcho(&[0xaa, 0xbb, 0xcc])),
            (COOKIE_ACK_BYTES, Chunk::CookieAck),
            (SHUTDOWN_COMPLETE_BYTES, Chunk::ShutdownComplete { t_bit: true }),
            (RE_CONFIG_BYTES, Chunk::ReConfig(&RE_CONFIG_BYTES[4..22])),
            (
                FORWARD_TSN_BYTES,
                Chunk::ForwardTsn {
                    new_cumulative_tsn: 16,
                    streams: &FORWARD_TSN_BYTES[8..],
                },
            ),
            (
                I_FORWARD_TSN_BYTES,
                Chunk::IForwardTsn {
                    new_cumulative_tsn: 16,
                    streams: &I_FORWARD_TSN_BYTES[8..],
                },
            ),
            (
                PAD_BYTES,
                Chunk::Unknown {
                    chunk_type: 0x84,
                    flags: 0,
                    value: &[0, 0],
                },
            ),
        ]
    }

    #[test]
    fn every_type_covered() {
        let mut types: Vec<u8> = cases().iter().map(|(_, c)| c.chunk_type()).collect();
        types.sort_unstable();
        let mut known = KNOWN_TYPES.to_vec();
        known.push(0x84);
        known.sort_unstable();
        assert_eq!(types, known);
    }

    #[test]
    fn parse_static_chunks() {
        for (bytes, expected) in cases() {
            let p = packet(bytes);
            assert_eq!(chunks_of(&p).unwrap(), [expected], "{bytes:02x?}");
            assert_eq!(
                expected.encoded_len(),
                usize::from(u16::from_be_bytes([bytes[2], bytes[3]]))
            );
        }
    }

    #[test]
    fn emit_static_chunks() {
        for (bytes, chunk) in cases() {
            chunk.validate().unwrap();
            let mut out = vec![0xee]; // writing appends, padding counted from the chunk
            chunk.write(&mut out);
            assert_eq!(&out[1..], bytes, "{chunk:?}");
            assert_eq!(out.len() - 1, padded(chunk.encoded_len()));
        }
    }

    /// Cutting a chunk anywhere before its length field's end is an error;
    /// cutting only (part of) the padding of the last chunk is tolerated.
    #[test]
    fn every_truncation_is_an_error() {
        for (bytes, chunk) in cases() {
            let len = chunk.encoded_len();
            for n in 1..len {
                let p = packet(&bytes[..n]);
                let result = parse_packet(&p, false).and_then(|(_, mut c)| c.next().unwrap());
                assert!(result.is_err(), "{chunk:?} cut at {n}");
            }
            for n in len..=bytes.len() {
                let p = packet(&bytes[..n]);
                assert_eq!(chunks_of(&p).unwrap(), [chunk]);
            }
        }
        // And the packet without its chunks at all.
        let p = packet(&[]);
        assert_eq!(p.len(), COMMON_HEADER_LEN);
        assert!(parse_packet(&p, false).is_err());
    }

    #[test]
    fn all_chunks_bundled() {
        let body: Vec<u8> = cases().iter().flat_map(|(b, _)| b.iter().copied()).collect();
        let p = packet(&body);
        let expected: Vec<Chunk<'_>> = cases().into_iter().map(|(_, c)| c).collect();
        assert_eq!(chunks_of(&p).unwrap(), expected);
    }

    #[test]
    fn nested_lists() {
        let Chunk::Sack(s) = cases()[4].1 else { panic!() };
        assert_eq!(s.gap_blocks().collect::<Vec<_>>(), [(2, 3), (5, 5)]);
        assert_eq!(s.duplicate_tsns().collect::<Vec<_>>(), [14]);
        let mut gaps = Vec::new();
        encode_gap_blocks(&[(2, 3), (5, 5)], &mut gaps);
        let mut dups = Vec::new();
        encode_duplicate_tsns(&[14], &mut dups);
        assert_eq!(Chunk::Sack(Sack::new(16, 0x8000, &gaps, &dups)), Chunk::Sack(s));

        let Chunk::Init(init) = cases()[2].1 else { panic!() };
        let params: Vec<_> = init.params().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            params,
            [
                Param::ForwardTsnSupported,
                Param::ZeroChecksumAcceptable { edmid: 1 }
            ]
        );
        let Chunk::InitAck(ack) = cases()[3].1 else {
            panic!()
        };
        let params: Vec<_> = ack.params().collect::<Result<_, _>>().unwrap();
        assert_eq!(params, [Param::StateCookie(&[0xaa, 0xbb, 0xcc])]);

        assert_eq!(
            causes(&ABORT_BYTES[4..11])
                .collect::<Result<Vec<_>, _>>()
                .unwrap(),
            [(crate::param::USER_INITIATED_ABORT, &b"bye"[..])]
        );
        assert_eq!(
            causes(&ERROR_BYTES[4..]).collect::<Result<Vec<_>, _>>().unwrap(),
            [(crate::param::UNRECOGNIZED_CHUNK, &[0x4f, 0, 0, 4][..])]
        );
        assert_eq!(
            reconfig_params(&RE_CONFIG_BYTES[4..22])
                .collect::<Result<Vec<_>, _>>()
                .unwrap(),
            [ReconfigParam::OutgoingResetRequest {
                request_seq: 1,
                response_seq: 0,
                last_tsn: 5,
                streams: &[0, 1],
            }]
        );
        assert_eq!(
            forward_tsn_streams(&FORWARD_TSN_BYTES[8..]).collect::<Vec<_>>(),
            [(1, 2)]
        );
        assert_eq!(
            i_forward_tsn_streams(&I_FORWARD_TSN_BYTES[8..]).collect::<Vec<_>>(),
            [(3, true, 9)]
        );
        let mut out = Vec::new();
        encode_forward_tsn_streams(&[(1, 2)], &mut out);
        assert_eq!(out, FORWARD_TSN_BYTES[8..]);
        out.clear();
        encode_i_forward_tsn_streams(&[(3, true, 9)], &mut out);
        assert_eq!(out, I_FORWARD_TSN_BYTES[8..]);
    }

    /// RFC 9260 section 3.2: the two top bits of an unknown type.
    #[test]
    fn unknown_chunk_actions() {
        assert_eq!(unknown_action(0x0f), (false, false));
        assert_eq!(unknown_action(0x4f), (false, true));
        assert_eq!(unknown_action(0x84), (true, false));
        assert_eq!(unknown_action(0xc1), (true, true));
        // Unknown chunks are reported to the caller with their place in the
        // packet kept, whatever the action says.
        let p = packet(&[0x3f, 0x5a, 0x00, 0x05, 0x99, 0, 0, 0, 0x0b, 0x00, 0x00, 0x04]);
        assert_eq!(
            chunks_of(&p).unwrap(),
            [
                Chunk::Unknown {
                    chunk_type: 0x3f,
                    flags: 0x5a,
                    value: &[0x99]
                },
                Chunk::CookieAck
            ]
        );
    }

    #[test]
    fn forbidden_values() {
        let mut data = DATA_BYTES[..16].to_vec();
        data[3] = 16;
        assert_eq!(
            chunks_of(&packet(&data)).err(),
            Some(Error::Decode("DATA chunk: no user data"))
        );
        let mut idata = I_DATA_BYTES[..20].to_vec();
        idata[3] = 20;
        assert!(chunks_of(&packet(&idata)).is_err());
        let mut init = INIT_BYTES.to_vec();
        init[4..8].fill(0);
        assert_eq!(
            chunks_of(&packet(&init)).err(),
            Some(Error::Decode("INIT chunk: Initiate Tag is 0"))
        );
        for at in [12, 14] {
            let mut init = INIT_BYTES.to_vec();
            init[at..at + 2].fill(0);
            assert_eq!(
                chunks_of(&packet(&init)).err(),
                Some(Error::Decode("INIT chunk: 0 streams"))
            );
        }
        // SACK counts that disagree with the length.
        for (at, v) in [(13, 3), (15, 0), (13, 1)] {
            let mut sack = SACK_BYTES.to_vec();
            sack[at] = v;
            assert!(chunks_of(&packet(&sack)).is_err(), "SACK byte {at} = {v}");
        }
        // Fixed-size chunks with extra bytes.
        for bytes in [
            &[0x07, 0, 0, 0x0c, 0, 0, 0, 1, 0, 0, 0, 0][..],
            &[0x08, 0, 0, 0x08, 0, 0, 0, 0],
            &[0x0b, 0, 0, 0x05, 0, 0, 0, 0],
            &[0x0e, 0, 0, 0x08, 0, 0, 0, 0],
        ] {
            assert!(chunks_of(&packet(bytes)).is_err(), "{bytes:02x?}");
        }
        // Partial FORWARD TSN entries.
        let mut fwd = FORWARD_TSN_BYTES.to_vec();
        fwd[3] = 10;
        assert!(chunks_of(&packet(&fwd)).is_err());
        let mut ifwd = I_FORWARD_TSN_BYTES.to_vec();
        ifwd[3] = 12;
        assert!(chunks_of(&packet(&ifwd)).is_err());
    }

    #[test]
    fn reserved_flags_ignored() {
        let p = packet(&[0x0e, 0xfe, 0x00, 0x04, 0x06, 0xf0, 0x00, 0x04]);
        assert_eq!(
            chunks_of(&p).unwrap(),
            [
                Chunk::ShutdownComplete { t_bit: false },
                Chunk::Abort {
                    t_bit: false,
                    causes: &[]
                }
            ]
        );
        let mut data = DATA_BYTES.to_vec();
        data[1] = 0xf0;
        let p = packet(&data);
        let Chunk::Data(d) = chunks_of(&p).unwrap()[0] else {
            panic!()
        };
        assert!(!d.unordered && !d.beginning && !d.ending && !d.immediate);
    }

    #[test]
    fn validate_refuses_what_would_not_round_trip() {
        let big = vec![0u8; MAX_CHUNK_LEN];
        assert!(matches!(
            Chunk::CookieEcho(&big).validate(),
            Err(Error::TooLarge(_))
        ));
        assert!(Chunk::CookieEcho(&big[..MAX_CHUNK_LEN - 4]).validate().is_ok());
        assert!(
            Chunk::Unknown {
                chunk_type: SACK,
                flags: 0,
                value: &[]
            }
            .validate()
            .is_err()
        );
        assert!(Chunk::Sack(Sack::new(1, 1, &[0, 1, 0], &[])).validate().is_err());
        assert!(Chunk::Sack(Sack::new(1, 1, &[], &[0, 1])).validate().is_err());
        assert!(
            Chunk::ForwardTsn {
                new_cumulative_tsn: 1,
                streams: &[0, 1]
            }
            .validate()
            .is_err()
        );
        assert!(
            Chunk::IForwardTsn {
                new_cumulative_tsn: 1,
                streams: &[0, 1, 0, 0]
            }
            .validate()
            .is_err()
        );
    }
}
